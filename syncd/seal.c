/*
 * seal.c: envelopes for verified contacts, and group keys
 * (docs/PROTOCOL.md §15).
 */
/* fopencookie: */
#define _GNU_SOURCE /* NOLINT(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "contacts.h"
#include "kith_err.h"
#include "kith_util.h"
#include "pair.h"
#include "seal.h"

#define SVC_CONTACT "kith:contact"
#define SVC_CROSTER "kith:contact-roster"
#define SVC_GROUP "kith:group"

static const uint8_t MAGIC[8] = { 'K', 'I', 'T', 'H', 'S', 'E', 'A', 'L' };
#define VERSION 1
#define HDRLEN 12
#define SSHDR crypto_secretstream_xchacha20poly1305_HEADERBYTES
#define SSA crypto_secretstream_xchacha20poly1305_ABYTES
#define TAG_MSG crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
#define TAG_FINAL crypto_secretstream_xchacha20poly1305_TAG_FINAL
#define FRAMEMAX (SEAL_CHUNK + SSA)
#define ARMOUR_BEGIN "-----BEGIN KITH SEALED MESSAGE-----"
#define ARMOUR_END "-----END KITH SEALED MESSAGE-----"
#define ARMOUR_RAW 48			/* bytes per armour line (64 columns) */
#define ARMOUR_LINEMAX 128
#define ARMOUR_WIDEST 76		/* columns read at most */

static const char CTX_HEADER[] = "kith seal header v1";
static const char CTX_PAYLOAD[] = "kith seal payload v1";
static const char CTX_STANZA[] = "kith seal stanza v1";
static const char CTX_WRAP[] = "kith seal wrap v1";
static const char CTX_GROUP[] = "kith seal group v1";
static const char CTX_GID[] = "kith seal gid v1";
static const char CTX_SIG[] = "kith seal v1";

/* Public keys and hashes are not secret: a plain comparison. */
static int
same32(const uint8_t *a, const uint8_t *b)
{

	return (memcmp(a, b, 32) == 0);	/* not secret */
}

/* ---- the address book: contacts, rosters learned, groups ------------ */

struct book {
	json_t *contacts;	/* account hex -> newest kith:contact */
	json_t *rosters;	/* account hex -> [ {roster, at} ] */
	json_t *groups;		/* gid hex -> kith:group */
};

static int group_of(json_t *o, struct seal_group **out);

static int
book_cb(void *arg, json_t *o)
{
	struct book *b = arg;
	const char *svc = json_string_value(json_object_get(o, "service"));
	const char *a = json_string_value(json_object_get(o, "account"));
	json_t *have, *list;
	json_int_t at;

	if (svc == NULL)
		return (0);
	if (strcmp(svc, SVC_GROUP) == 0) {
		const char *gid = json_string_value(json_object_get(o, "gid"));
		struct seal_group *g;

		/* A record that is not a group (made before ids were bound
		 * to key and creator, or by a device that took it
		 * unchecked) is never used: it names no group, opens no
		 * stanza, and does not shadow the genuine one. */
		if (gid == NULL || group_of(o, &g) != 0)
			return (0);
		seal_group_free(g);
		json_object_set(b->groups, gid, o);
		return (0);
	}
	if (a == NULL || (strcmp(svc, SVC_CONTACT) != 0 &&
	    strcmp(svc, SVC_CROSTER) != 0))
		return (0);
	if (json_is_string(json_object_get(o, "roster"))) {
		at = json_integer_value(json_object_get(o, strcmp(svc,
		    SVC_CONTACT) == 0 ? "met" : "at"));
		if ((list = json_object_get(b->rosters, a)) == NULL) {
			list = json_array();
			json_object_set_new(b->rosters, a, list);
		}
		json_array_append_new(list, json_pack("{s:O, s:I}", "roster",
		    json_object_get(o, "roster"), "at", at));
	}
	if (strcmp(svc, SVC_CONTACT) != 0)
		return (0);
	have = json_object_get(b->contacts, a);
	if (have == NULL || json_integer_value(json_object_get(o, "met")) >=
	    json_integer_value(json_object_get(have, "met")))
		json_object_set(b->contacts, a, o);
	return (0);
}

/*
 * Reading the book means reading every record (their services are inside
 * the encryption): about a microsecond a record.  So it is kept, for the
 * home it was read from, with the version vector it was read at; the next
 * reading scans only the records beyond it (records are only ever added).
 * The agent, which seals and opens for clients of a long history, gains
 * most.  The vector is taken before the scan: a record that arrives
 * during one is read again by the next, which the book takes twice
 * without harm (the newest contact wins, a roster held twice is one).
 */
static struct {
	char dir[PATH_MAX];
	uint8_t account[32];
	struct store_vv *vv;
	struct book b;
} cache;

static void
book_drop(struct book *b)
{

	json_decref(b->contacts);
	json_decref(b->rosters);
	json_decref(b->groups);
	memset(b, 0, sizeof(*b));
}

/* Does ${now} lack what ${was} held (an origin, or its later records)? */
static int
went_back(const struct store_vv *was, const struct store_vv *now)
{
	size_t i;

	for (i = 0; i < was->n; i++)
		if (store_vv_seq(now, was->e[i].origin) < was->e[i].seq)
			return (1);
	return (0);
}

static int
book_load(struct home *hm, struct book *b)
{
	struct store_vv *now = NULL;
	int rc, fresh;

	fresh = cache.vv == NULL || strcmp(cache.dir, hm->dir) != 0 ||
	    !same32(cache.account, hm->account_pk);
	if (fresh) {
		book_drop(&cache.b);
		free(cache.vv);
		cache.vv = NULL;
		cache.b.contacts = json_object();
		cache.b.rosters = json_object();
		cache.b.groups = json_object();
		if (cache.b.contacts == NULL || cache.b.rosters == NULL ||
		    cache.b.groups == NULL) {
			book_drop(&cache.b);
			return (KITH_ENOMEM);
		}
	}
	if ((rc = store_vv_get(hm->st, &now)) == 0 && !fresh &&
	    went_back(cache.vv, now)) {
		/* Not the store read last time (replaced): read it all. */
		free(now);
		free(cache.vv);
		cache.vv = NULL;
		return (book_load(hm, b));
	}
	if (rc == 0)
		rc = contacts_each_since(hm, cache.vv, book_cb, &cache.b);
	if (rc != 0) {
		free(now);
		book_drop(&cache.b);
		free(cache.vv);
		cache.vv = NULL;
		return (rc);
	}
	free(cache.vv);
	cache.vv = now;
	snprintf(cache.dir, sizeof(cache.dir), "%s", hm->dir);
	memcpy(cache.account, hm->account_pk, 32);
	/* The caller's references; the book stays here. */
	b->contacts = json_incref(cache.b.contacts);
	b->rosters = json_incref(cache.b.rosters);
	b->groups = json_incref(cache.b.groups);
	return (0);
}

static void
book_free(struct book *b)
{

	book_drop(b);
}

/* Decode a hex roster of ${acct}; NULL if it does not verify. */
static struct roster *
roster_hex(const char *hex, const uint8_t acct[32])
{
	struct roster *r = NULL;
	uint8_t *blob;
	size_t len;

	if (hex == NULL || (len = strlen(hex)) == 0 || len % 2 != 0 ||
	    (blob = malloc(len / 2)) == NULL)
		return (NULL);
	if (kith_unhex(hex, len, blob, len / 2) != 0 ||
	    roster_decode(blob, len / 2, acct, &r) != 0)
		r = NULL;
	free(blob);
	return (r);
}

/*
 * The newest roster of ${acct} among ${list} ([{roster, at}], may be
 * NULL) and ${extra} (a hex roster, may be NULL).  Two of the newest
 * version that differ: KITH_EFORK.
 */
static int
newest_roster(const uint8_t acct[32], json_t *list, const char *extra,
    uint64_t extra_at, struct roster **out, uint64_t *at)
{
	struct roster *best = NULL, *r;
	uint64_t bat = 0, rat;
	size_t i, n = json_array_size(list);
	int fork = 0;

	for (i = 0; i <= n; i++) {
		if (i < n) {
			json_t *e = json_array_get(list, i);

			r = roster_hex(json_string_value(json_object_get(e,
			    "roster")), acct);
			rat = (uint64_t)json_integer_value(json_object_get(e,
			    "at"));
		} else {
			r = extra != NULL ? roster_hex(extra, acct) : NULL;
			rat = extra_at;
		}
		if (r == NULL)
			continue;
		if (best == NULL || r->version > best->version) {
			roster_free(best);
			best = r;
			bat = rat;
			fork = 0;
			continue;
		}
		if (r->version == best->version &&
		    !same32(r->hash, best->hash))
			fork = 1;
		else if (r->version == best->version && rat < bat)
			bat = rat;	/* learned first then */
		roster_free(r);
	}
	if (fork) {
		roster_free(best);
		return (KITH_EFORK);
	}
	*out = best;
	*at = bat;
	return (0);
}

/* A device from a kith:contact record's "device" member. */
static int
dev_of(json_t *o, struct roster_dev *d)
{
	json_t *dv = json_object_get(o, "device");
	const char *s = json_string_value(json_object_get(dv, "sign"));
	const char *k = json_string_value(json_object_get(dv, "kx"));
	const char *nm = json_string_value(json_object_get(dv, "name"));

	memset(d, 0, sizeof(*d));
	if (s == NULL || k == NULL || kith_unhex(s, strlen(s), d->sign_pk,
	    32) != 0 || kith_unhex(k, strlen(k), d->kx_pk, 32) != 0)
		return (KITH_ECORRUPT);
	d->status = ROSTER_ACTIVE;
	snprintf(d->name, sizeof(d->name), "%s", nm != NULL ? nm : "");
	return (0);
}

/* Fill ${p} for the contact ${acct} of ${b}. */
static int
peer_contact(struct book *b, const char *acct, struct seal_peer *p)
{
	json_t *c = json_object_get(b->contacts, acct);
	int rc;

	memset(p, 0, sizeof(*p));
	if (c == NULL)
		return (KITH_ENOENT);
	if (kith_unhex(acct, strlen(acct), p->account_pk, 32) != 0)
		return (KITH_ECORRUPT);
	p->how = SEAL_CONTACT;
	snprintf(p->alias, sizeof(p->alias), "%s",
	    json_string_value(json_object_get(c, "alias")) != NULL ?
	    json_string_value(json_object_get(c, "alias")) : "");
	if ((rc = newest_roster(p->account_pk, json_object_get(b->rosters,
	    acct), NULL, 0, &p->roster, &p->roster_at)) != 0)
		return (rc);
	if (p->roster == NULL) {
		if ((rc = dev_of(c, &p->dev)) != 0)
			return (rc);
		p->has_dev = 1;
		p->roster_at = (uint64_t)json_integer_value(json_object_get(c,
		    "met"));
	}
	return (0);
}

/* Does ${name} name the contact ${acct} (hex) with record ${c}? */
static int
names(const char *name, const char *acct, json_t *c)
{
	const char *alias = json_string_value(json_object_get(c, "alias"));
	uint8_t pk[32];
	char fp[15];
	size_t n = strlen(name), i;

	if (alias != NULL && strcmp(alias, name) == 0)
		return (1);
	if (kith_unhex(acct, strlen(acct), pk, 32) != 0)
		return (0);
	pair_fingerprint(pk, fp);
	if (strcmp(fp, name) == 0)
		return (1);
	if (n < 8 || n > 64)
		return (0);
	for (i = 0; i < n; i++)
		if (name[i] != acct[i] && !(name[i] >= 'A' && name[i] <= 'F' &&
		    name[i] - 'A' + 'a' == acct[i]))
			return (0);
	return (1);
}

int
seal_peer_find(struct home *hm, const char *name, struct seal_peer *p)
{
	struct book b;
	const char *k, *found = NULL;
	json_t *c;
	int rc;

	memset(p, 0, sizeof(*p));
	if ((rc = book_load(hm, &b)) != 0)
		return (rc);
	json_object_foreach(b.contacts, k, c) {
		if (!names(name, k, c))
			continue;
		if (found != NULL) {
			book_free(&b);
			return (KITH_EAMBIGUOUS);
		}
		found = k;
	}
	rc = found != NULL ? peer_contact(&b, found, p) : KITH_ENOENT;
	book_free(&b);
	if (rc != 0)
		seal_peer_free(p);
	return (rc);
}

void
seal_peer_free(struct seal_peer *p)
{

	roster_free(p->roster);
	p->roster = NULL;
}

void
seal_peers_free(struct seal_peer *p, size_t n)
{
	size_t i;

	for (i = 0; p != NULL && i < n; i++)
		seal_peer_free(&p[i]);
	free(p);
}

/* ---- groups ------------------------------------------------------------ */

void
seal_group_free(struct seal_group *g)
{

	if (g == NULL)
		return;
	if (g->key != NULL)
		sodium_free(g->key);
	free(g);
}

static void group_id(const uint8_t gk[32], const uint8_t creator[32],
    uint8_t gid[SEAL_GIDLEN]);

/* Is ${s} a group id as written: 32 lower-case hex digits? */
static int
is_gid_hex(const char *s)
{

	return (strlen(s) == 2 * SEAL_GIDLEN &&
	    strspn(s, "0123456789abcdef") == 2 * SEAL_GIDLEN);
}

/* A group from its record: KITH_ECORRUPT unless its id is the one its
 * key and creator make (§15.10). */
static int
group_of(json_t *o, struct seal_group **out)
{
	struct seal_group *g;
	const char *gid = json_string_value(json_object_get(o, "gid"));
	const char *key = json_string_value(json_object_get(o, "key"));
	const char *cr = json_string_value(json_object_get(o, "creator"));
	const char *nm = json_string_value(json_object_get(o, "name"));
	const char *prev;
	json_t *mem = json_object_get(o, "members"), *m, *gen;
	uint8_t id[SEAL_GIDLEN];
	size_t i;

	if (gid == NULL || key == NULL || cr == NULL || nm == NULL ||
	    !json_is_array(mem) || json_array_size(mem) > SEAL_GROUPMAX ||
	    strlen(nm) == 0 || strlen(nm) > SEAL_ALIASMAX ||
	    !kith_text_ok(nm, strlen(nm)) || !is_gid_hex(gid) ||
	    is_gid_hex(nm))
		return (KITH_ECORRUPT);
	if ((g = calloc(1, sizeof(*g))) == NULL)
		return (KITH_ENOMEM);
	if ((g->key = sodium_malloc(32)) == NULL) {
		free(g);
		return (KITH_ENOMEM);
	}
	snprintf(g->name, sizeof(g->name), "%s", nm);
	if (kith_unhex(gid, strlen(gid), g->gid, SEAL_GIDLEN) != 0 ||
	    kith_unhex(key, strlen(key), g->key, 32) != 0 ||
	    kith_unhex(cr, strlen(cr), g->creator, 32) != 0)
		goto bad;
	group_id(g->key, g->creator, id);
	if (sodium_memcmp(id, g->gid, SEAL_GIDLEN) != 0)
		goto bad;
	json_array_foreach(mem, i, m) {
		const char *a = json_string_value(json_object_get(m,
		    "account"));
		const char *al = json_string_value(json_object_get(m,
		    "alias"));

		if (a == NULL || kith_unhex(a, strlen(a),
		    g->mem[i].account_pk, 32) != 0 || (al != NULL &&
		    (strlen(al) > SEAL_ALIASMAX || !kith_text_ok(al,
		    strlen(al)))))
			goto bad;
		snprintf(g->mem[i].alias, sizeof(g->mem[i].alias), "%s",
		    al != NULL ? al : "");
	}
	g->nmem = json_array_size(mem);
	gen = json_object_get(o, "generation");
	prev = json_string_value(json_object_get(o, "replaces"));
	if (gen != NULL && (!json_is_integer(gen) ||
	    json_integer_value(gen) < 1 || json_integer_value(gen) > 1000000))
		goto bad;
	g->generation = gen != NULL ? (uint32_t)json_integer_value(gen) : 1;
	if (prev != NULL && (!is_gid_hex(prev) || kith_unhex(prev,
	    strlen(prev), g->prev, SEAL_GIDLEN) != 0))
		goto bad;
	g->has_prev = prev != NULL;
	*out = g;
	return (0);
bad:
	seal_group_free(g);
	return (KITH_ECORRUPT);
}

static json_int_t
generation_of(json_t *o)
{
	json_t *g = json_object_get(o, "generation");

	return (json_is_integer(g) ? json_integer_value(g) : 1);
}

/*
 * The newest generation held of the group ${gid} (hex): of the records of
 * groups with its creator and name, the one of the highest generation (a
 * member added late holds only some generations; a creator cannot make a
 * second group of a name it holds).  NULL when ${gid} is not held.
 */
static json_t *
newest(const struct book *b, const char *gid)
{
	json_t *o = json_object_get(b->groups, gid), *x, *best = o;
	const char *cr = json_string_value(json_object_get(o, "creator"));
	const char *nm = json_string_value(json_object_get(o, "name")), *k;

	if (cr == NULL || nm == NULL)
		return (o);
	json_object_foreach(b->groups, k, x) {
		const char *c = json_string_value(json_object_get(x,
		    "creator"));
		const char *n = json_string_value(json_object_get(x, "name"));

		if (c != NULL && n != NULL && strcmp(c, cr) == 0 &&
		    strcmp(n, nm) == 0 && generation_of(x) >
		    generation_of(best))
			best = x;
	}
	return (best);
}

/* Is the group ${gid} (hex) an older generation of one held? */
static int
superseded(const struct book *b, const char *gid)
{

	return (newest(b, gid) != json_object_get(b->groups, gid));
}

static int
group_has(const struct seal_group *g, const uint8_t acct[32])
{
	size_t i;

	for (i = 0; i < g->nmem; i++)
		if (same32(g->mem[i].account_pk, acct))
			return (1);
	return (0);
}

/*
 * The group ${name} (its name, or its id in hex: no name is an id), of
 * the newest generation; with ${mine}, among the groups this account
 * created only (a member's group of the same name does not stand in the
 * way of the creator's changes).
 */
static int
group_find(struct home *hm, const char *name, int mine,
    struct seal_group **g)
{
	struct book b;
	const char *k;
	json_t *o, *found = NULL;
	char me[65];
	int rc;

	*g = NULL;
	if ((rc = book_load(hm, &b)) != 0)
		return (rc);
	kith_hex(hm->account_pk, 32, me);
	json_object_foreach(b.groups, k, o) {
		const char *nm = json_string_value(json_object_get(o,
		    "name"));
		const char *cr = json_string_value(json_object_get(o,
		    "creator"));

		if ((nm == NULL || strcmp(nm, name) != 0) &&
		    strcmp(k, name) != 0)
			continue;
		if (mine && (cr == NULL || strcmp(cr, me) != 0))
			continue;
		if (superseded(&b, k))
			continue;	/* an older generation */
		if (found != NULL) {
			book_free(&b);
			return (KITH_EAMBIGUOUS);
		}
		found = o;
	}
	rc = found != NULL ? group_of(found, g) : KITH_ENOENT;
	book_free(&b);
	return (rc);
}

int
seal_group_find(struct home *hm, const char *name, struct seal_group **g)
{

	return (group_find(hm, name, 0, g));
}

int
seal_groups(struct home *hm, json_t **out)
{
	struct book b;
	const char *k;
	json_t *o, *arr, *mem, *m, *e;
	char me[65];
	size_t i;
	int rc;

	if ((rc = book_load(hm, &b)) != 0)
		return (rc);
	kith_hex(hm->account_pk, 32, me);
	arr = json_array();
	json_object_foreach(b.groups, k, o) {
		if (superseded(&b, k))
			continue;	/* an older generation */
		mem = json_array();
		json_array_foreach(json_object_get(o, "members"), i, m) {
			const char *a = json_string_value(json_object_get(m,
			    "account"));
			json_t *c = a != NULL ? json_object_get(b.contacts,
			    a) : NULL, *al;

			/* Named as this account knows them: "you", a
			 * contact's alias, else the creator's name. */
			if (a != NULL && strcmp(a, me) == 0)
				al = json_string("you");
			else if (json_is_string(json_object_get(c, "alias")))
				al = json_incref(json_object_get(c, "alias"));
			else
				al = json_incref(json_object_get(m, "alias"));
			json_array_append_new(mem, json_pack("{s:O, s:o,"
			    " s:b}", "account", json_object_get(m,
			    "account"), "alias", al, "contact", c != NULL));
		}
		e = json_pack("{s:O, s:s, s:I, s:O, s:o, s:O}", "name",
		    json_object_get(o, "name"), "id", k, "generation",
		    generation_of(o), "creator", json_object_get(o, "creator"),
		    "members", mem, "at", json_object_get(o, "at"));
		if (e != NULL)
			json_array_append_new(arr, e);
	}
	book_free(&b);
	*out = arr;
	return (arr != NULL ? 0 : KITH_ENOMEM);
}

/* ---- armoured and binary streams ---------------------------------------- */

struct out {
	FILE *f;
	int armour;
	uint8_t pend[ARMOUR_RAW];
	size_t np;
	int err;
};

static void
out_raw(struct out *o, const void *p, size_t n)
{

	if (!o->err && n > 0 && fwrite(p, 1, n, o->f) != n)
		o->err = KITH_EIO;
}

static void
out_line(struct out *o)
{
	char b64[ARMOUR_LINEMAX];

	sodium_bin2base64(b64, sizeof(b64), o->pend, o->np,
	    sodium_base64_VARIANT_ORIGINAL);
	out_raw(o, b64, strlen(b64));
	out_raw(o, "\n", 1);
	o->np = 0;
}

static void
out_put(struct out *o, const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t k;

	if (!o->armour) {
		out_raw(o, p, n);
		return;
	}
	while (n > 0) {
		k = ARMOUR_RAW - o->np < n ? ARMOUR_RAW - o->np : n;
		memcpy(o->pend + o->np, b, k);
		o->np += k;
		b += k;
		n -= k;
		if (o->np == ARMOUR_RAW)
			out_line(o);
	}
}

static int
out_end(struct out *o)
{

	if (o->armour) {
		if (o->np > 0)
			out_line(o);
		out_raw(o, ARMOUR_END "\n", strlen(ARMOUR_END) + 1);
	}
	if (!o->err && fflush(o->f) != 0)
		o->err = KITH_EIO;
	return (o->err);
}

struct in {
	FILE *f;
	int armour;
	int ended;		/* armour: a short line was the last */
	uint8_t buf[ARMOUR_LINEMAX];	/* bytes decoded, not yet taken */
	size_t off, len;
	char raw[16384];	/* armour: text read, not yet taken */
	size_t roff, rlen;
};

/* Read a line of at most ARMOUR_LINEMAX bytes, without its end and
 * trailing blanks; 1 at EOF with nothing, KITH_EFORMAT for a longer one
 * (consumed whole).  Text is read a block at a time and split with
 * memchr: a character at a time held armoured open to half the speed of
 * its base64 decode. */
static int
in_line(struct in *r, char *line, size_t cap, size_t *len)
{
	const char *nl;
	size_t n = 0, k, take;
	int toolong = 0, seen = 0;

	for (;;) {
		if (r->roff == r->rlen) {
			r->roff = 0;
			r->rlen = fread(r->raw, 1, sizeof(r->raw), r->f);
			if (r->rlen == 0) {
				if (ferror(r->f))
					return (KITH_EIO);
				if (!seen)
					return (1);
				break;	/* a last line with no end */
			}
		}
		seen = 1;
		k = r->rlen - r->roff;
		nl = memchr(r->raw + r->roff, '\n', k);
		take = nl != NULL ? (size_t)(nl - (r->raw + r->roff)) : k;
		if (!toolong && n + take < cap) {
			memcpy(line + n, r->raw + r->roff, take);
			n += take;
		} else
			toolong = 1;
		r->roff += take;
		if (nl != NULL) {
			r->roff++;
			break;
		}
	}
	if (toolong)
		return (KITH_EFORMAT);
	while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == ' ' ||
	    line[n - 1] == '\t'))
		n--;
	line[n] = '\0';
	*len = n;
	return (0);
}

static int
in_init(struct in *r, FILE *f)
{
	char line[ARMOUR_LINEMAX];
	size_t n;
	int rc, lines;

	memset(r, 0, sizeof(*r));
	r->f = f;
	n = fread(r->buf, 1, sizeof(MAGIC), f);
	if (seal_is_binary(r->buf, n)) {
		r->len = n;
		return (0);
	}
	if (ferror(f))
		return (KITH_EIO);
	/* Armour: text may come before its first line (a mail's). */
	r->armour = 1;
	memcpy(r->raw, r->buf, n);
	r->rlen = n;
	for (lines = 0; lines < 4096; lines++) {
		rc = in_line(r, line, sizeof(line), &n);
		if (rc == KITH_EFORMAT)
			continue;
		if (rc != 0)
			return (rc == 1 ? KITH_ENOTKITH : rc);
		if (strcmp(line, ARMOUR_BEGIN) == 0)
			return (0);
	}
	return (KITH_ENOTKITH);
}

/* Refill an armoured reader with the next line. */
static int
in_fill(struct in *r)
{
	char line[ARMOUR_LINEMAX];
	size_t n, got;
	int rc;

	if (r->ended)
		return (KITH_ETRUNC);
	if ((rc = in_line(r, line, sizeof(line), &n)) != 0)
		return (rc == 1 ? KITH_ETRUNC : rc);
	if (strcmp(line, ARMOUR_END) == 0)
		return (KITH_ETRUNC);
	/* Any width in whole base64 groups (64 columns are written, 76 are
	 * common); padding ends the data. */
	if (n == 0 || n % 4 != 0 || n > ARMOUR_WIDEST ||
	    sodium_base642bin(r->buf, sizeof(r->buf), line, n, NULL, &got,
	    NULL, sodium_base64_VARIANT_ORIGINAL) != 0 || got == 0)
		return (KITH_EFORMAT);
	if (line[n - 1] == '=')
		r->ended = 1;
	r->off = 0;
	r->len = got;
	return (0);
}

static int
in_read(struct in *r, void *p, size_t n)
{
	uint8_t *b = p;
	size_t k;
	int rc;

	while (n > 0) {
		if (r->off < r->len) {
			k = r->len - r->off < n ? r->len - r->off : n;
			memcpy(b, r->buf + r->off, k);
			r->off += k;
			b += k;
			n -= k;
			continue;
		}
		if (r->armour) {
			if ((rc = in_fill(r)) != 0)
				return (rc);
			continue;
		}
		k = fread(b, 1, n, r->f);
		b += k;
		n -= k;
		if (n > 0)
			return (ferror(r->f) ? KITH_EIO : KITH_ETRUNC);
	}
	return (0);
}

/* Nothing may follow the last frame (but the armour's end). */
static int
in_end(struct in *r)
{
	char line[ARMOUR_LINEMAX];
	size_t n;
	int rc;

	if (r->off < r->len)
		return (KITH_EFORMAT);
	if (!r->armour)
		return (getc(r->f) == EOF ? (ferror(r->f) ? KITH_EIO : 0) :
		    KITH_EFORMAT);
	if ((rc = in_line(r, line, sizeof(line), &n)) != 0)
		return (rc == 1 ? KITH_ETRUNC : rc);
	if (strcmp(line, ARMOUR_END) != 0)
		return (KITH_EFORMAT);
	while ((rc = in_line(r, line, sizeof(line), &n)) == 0)
		if (n != 0)
			return (KITH_EFORMAT);
	return (rc == 1 ? 0 : rc);
}

/* ---- keys --------------------------------------------------------------- */

/*
 * The one derivation of the format: BLAKE2b-256, keyed by ${key} (NULL:
 * unkeyed), over the context string ${ctx} || ${a} || ${b} (${b} may be
 * NULL).
 */
static void
derive(const uint8_t *key, const char *ctx, const uint8_t *a, size_t alen,
    const uint8_t *b, size_t blen, uint8_t out[32])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, key, key != NULL ? 32 : 0, 32);
	crypto_generichash_update(&st, (const uint8_t *)ctx, strlen(ctx));
	crypto_generichash_update(&st, a, alen);
	if (b != NULL)
		crypto_generichash_update(&st, b, blen);
	crypto_generichash_final(&st, out, 32);
	sodium_memzero(&st, sizeof(st));
}

/* wk for a device stanza: BLAKE2b-256(key = X25519(sk, peer),
 * "kith seal wrap v1" || r || pk), pk the recipient device's kx key: the
 * sealer passes (esk, pk), the opener (kx_sk, r). */
static int
wrap_key(const uint8_t sk[32], const uint8_t peer[32], const uint8_t r[32],
    const uint8_t pk[32], uint8_t wk[32])
{
	uint8_t ss[32];

	if (crypto_scalarmult(ss, sk, peer) != 0)
		return (KITH_ECRYPTO);
	derive(ss, CTX_WRAP, r, 32, pk, 32, wk);
	sodium_memzero(ss, sizeof(ss));
	return (0);
}

/* wk for a group stanza: BLAKE2b-256(key = group key,
 * "kith seal group v1" || r || gid): a stanza opens as one group only,
 * even where another group (of another creator) has the same key. */
static void
group_wrap_key(const uint8_t gk[32], const uint8_t gid[SEAL_GIDLEN],
    const uint8_t r[32], uint8_t wk[32])
{

	derive(gk, CTX_GROUP, r, 32, gid, SEAL_GIDLEN, wk);
}

/* A group's id: the first 16 bytes of BLAKE2b-256(key = group key,
 * "kith seal gid v1" || creator), so that an id names one creator and
 * one key, and nobody else can make a group under another's id. */
static void
group_id(const uint8_t gk[32], const uint8_t creator[32],
    uint8_t gid[SEAL_GIDLEN])
{
	uint8_t h[32];

	derive(gk, CTX_GID, creator, 32, NULL, 0, h);
	memcpy(gid, h, SEAL_GIDLEN);
	sodium_memzero(h, sizeof(h));
}

static const uint8_t ZNONCE[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];

static void
stanza_box(const uint8_t wk[32], const uint8_t fk[32], uint8_t box[48])
{

	crypto_aead_xchacha20poly1305_ietf_encrypt(box, NULL, fk, 32,
	    (const uint8_t *)CTX_STANZA, sizeof(CTX_STANZA) - 1, NULL, ZNONCE,
	    wk);
}

static int
stanza_unbox(const uint8_t wk[32], const uint8_t box[48], uint8_t fk[32])
{

	return (crypto_aead_xchacha20poly1305_ietf_decrypt(fk, NULL, NULL,
	    box, 48, (const uint8_t *)CTX_STANZA, sizeof(CTX_STANZA) - 1,
	    ZNONCE, wk) == 0 ? 0 : KITH_ECRYPTO);
}

/* H = BLAKE2b-256("kith seal header v1" || header and stanzas). */
static void
header_hash(const uint8_t *hdr, size_t len, uint8_t h[32])
{

	derive(NULL, CTX_HEADER, hdr, len, NULL, 0, h);
}

/* The payload key: BLAKE2b-256(key = fk, "kith seal payload v1" || H). */
static void
payload_key(const uint8_t fk[32], const uint8_t h[32], uint8_t pk[32])
{

	derive(fk, CTX_PAYLOAD, h, 32, NULL, 0, pk);
}

/* The message the sender's device signs: "kith seal v1" || H || D. */
static void
sig_msg(const uint8_t h[32], const uint8_t d[64], uint8_t m[12 + 32 + 64])
{

	memcpy(m, CTX_SIG, sizeof(CTX_SIG) - 1);
	memcpy(m + 12, h, 32);
	memcpy(m + 44, d, 64);
}

/* ---- sealing ------------------------------------------------------------ */

/* Working memory of one seal or open, in sodium_malloc memory. */
struct work {
	uint8_t fk[32];
	uint8_t pk[32];
	uint8_t wk[32];
	uint8_t esk[32];
	crypto_secretstream_xchacha20poly1305_state ss;
	crypto_generichash_state dh;
	uint8_t pt[SEAL_MAXBLOCK > SEAL_CHUNK ? SEAL_MAXBLOCK : SEAL_CHUNK];
	uint8_t ct[FRAMEMAX + 4];
};

static struct work *
work_new(void)
{
	struct work *w = sodium_malloc(sizeof(*w));

	if (w != NULL)
		sodium_memzero(w, sizeof(*w));
	return (w);
}

/* Add the active devices of ${p} to ${kx}. */
static int
targets(const struct seal_peer *p, uint8_t (*kx)[32], size_t *n)
{
	size_t i, before = *n;

	if (p->roster == NULL) {
		if (!p->has_dev)
			return (KITH_EINVAL);
		if (*n >= SEAL_MAXSTANZA)
			return (KITH_ETOOBIG);
		memcpy(kx[(*n)++], p->dev.kx_pk, 32);
		return (0);
	}
	for (i = 0; i < p->roster->ndev; i++) {
		if (p->roster->dev[i].status != ROSTER_ACTIVE)
			continue;
		if (*n >= SEAL_MAXSTANZA)
			return (KITH_ETOOBIG);
		memcpy(kx[(*n)++], p->roster->dev[i].kx_pk, 32);
	}
	return (*n > before ? 0 : KITH_EREVOKED);
}

/* The sender block (§15.4) into ${b}; its length in *${len}. */
static int
sender_block(struct home *hm, int kind, const uint8_t (*to)[32], size_t nto,
    const struct seal_group *g, const char *name, uint8_t *b, size_t *len)
{
	uint8_t *cert = NULL;
	size_t certlen = 0, fl = name != NULL ? strlen(name) : 0, off, i;

	if (store_meta_get(hm->st, "cert", &cert, &certlen) != 0 ||
	    certlen == 0 || certlen > CERT_MAXLEN) {
		free(cert);
		return (KITH_ENOENT);
	}
	off = 2 + 8 + 32 + 2 + certlen + 4 + hm->roster->bloblen + 1 +
	    32 * nto + 1 + (g != NULL ? SEAL_GIDLEN : 0) + 1 + fl;
	if (off > SEAL_MAXBLOCK || nto > SEAL_MAXTO || fl > SEAL_NAMEMAX) {
		free(cert);
		return (KITH_ETOOBIG);
	}
	b[0] = VERSION;
	b[1] = (uint8_t)kind;
	kith_be64enc(b + 2, kith_now());
	memcpy(b + 10, hm->account_pk, 32);
	kith_be16enc(b + 42, (uint16_t)certlen);
	memcpy(b + 44, cert, certlen);
	free(cert);
	off = 44 + certlen;
	kith_be32enc(b + off, (uint32_t)hm->roster->bloblen);
	memcpy(b + off + 4, hm->roster->blob, hm->roster->bloblen);
	off += 4 + hm->roster->bloblen;
	b[off++] = (uint8_t)nto;
	for (i = 0; i < nto; i++, off += 32)
		memcpy(b + off, to[i], 32);
	b[off++] = g != NULL ? SEAL_GIDLEN : 0;
	if (g != NULL) {
		memcpy(b + off, g->gid, SEAL_GIDLEN);
		off += SEAL_GIDLEN;
	}
	b[off++] = (uint8_t)fl;
	if (fl > 0)
		memcpy(b + off, name, fl);
	*len = off + fl;
	return (0);
}

/* Push one frame of ${mlen} bytes of w->pt. */
static void
push(struct work *w, struct out *o, size_t mlen, uint8_t tag)
{
	unsigned long long clen;

	crypto_secretstream_xchacha20poly1305_push(&w->ss, w->ct + 4, &clen,
	    w->pt, mlen, NULL, 0, tag);
	kith_be32enc(w->ct, (uint32_t)clen);
	out_put(o, w->ct, (size_t)clen + 4);
}

/* A name carried must be a plain file name. */
static int
name_ok(const char *name)
{

	return (name == NULL || (strlen(name) <= SEAL_NAMEMAX &&
	    strchr(name, '/') == NULL && strcmp(name, ".") != 0 &&
	    strcmp(name, "..") != 0 && kith_text_ok(name, strlen(name))));
}

/* seal_write with a payload in memory (${mem}) or from ${in}. */
static int
seal_any(struct home *hm, const struct seal_opts *o, int kind,
    const uint8_t *mem, size_t memlen, FILE *in, FILE *outf, uint64_t *bytes)
{
	uint8_t (*kx)[32] = NULL, (*to)[32] = NULL, *hdr = NULL, h[32],
	    d[64], m[108], ssh[SSHDR];
	size_t nkx = 0, nto = 0, i, j, n, blen, hlen, used = 0;
	struct out out = { outf, o->armour, { 0 }, 0, 0 };
	struct work *w = NULL;
	uint64_t total = 0;
	int rc;

	if (hm->dk->locked)
		return (KITH_ELOCKED);
	if (!hm->has_account || hm->roster == NULL || hm->h == NULL)
		return (KITH_ENOACCOUNT);
	if ((o->nto == 0 && !o->self && o->group == NULL) ||
	    o->nto + 1 > SEAL_MAXTO || !name_ok(o->name))
		return (KITH_EINVAL);
	if ((kx = malloc(SEAL_MAXSTANZA * 32)) == NULL ||
	    (to = malloc((SEAL_MAXTO + 1) * 32)) == NULL ||
	    (w = work_new()) == NULL) {
		rc = KITH_ENOMEM;
		goto out;
	}
	/* Accounts named, and the devices wrapped to. */
	for (i = 0; i < o->nto; i++) {
		/* This account comes below. */
		if (same32(o->to[i].account_pk, hm->account_pk))
			continue;
		for (j = 0; j < nto; j++)
			if (same32(to[j], o->to[i].account_pk))
				break;
		if (j < nto)
			continue;
		if ((rc = targets(&o->to[i], kx, &nkx)) != 0)
			goto out;
		memcpy(to[nto++], o->to[i].account_pk, 32);
	}
	if (o->self || o->group != NULL) {
		struct seal_peer me;

		memset(&me, 0, sizeof(me));
		me.roster = hm->roster;
		if ((rc = targets(&me, kx, &nkx)) != 0)
			goto out;
		memcpy(to[nto++], hm->account_pk, 32);
	}
	n = nkx + (o->group != NULL ? 1 : 0);
	if (n == 0 || n > SEAL_MAXSTANZA || nto > SEAL_MAXTO) {
		rc = n == 0 ? KITH_EINVAL : KITH_ETOOBIG;
		goto out;
	}
	/* Header and stanzas, in random order. */
	hlen = HDRLEN + SEAL_STANZALEN * n;
	if ((hdr = malloc(hlen)) == NULL) {
		rc = KITH_ENOMEM;
		goto out;
	}
	memcpy(hdr, MAGIC, 8);
	hdr[8] = VERSION;
	hdr[9] = 0;
	kith_be16enc(hdr + 10, (uint16_t)n);
	randombytes_buf(w->fk, 32);
	for (i = 0; i < n; i++) {
		uint8_t *s = hdr + HDRLEN + SEAL_STANZALEN * i;

		if (i < nkx) {
			crypto_box_keypair(s, w->esk);
			if ((rc = wrap_key(w->esk, kx[i], s, kx[i],
			    w->wk)) != 0)
				goto out;
		} else {
			/* r a public key too, of a key pair thrown away, so
			 * that a group's stanza looks like any other. */
			crypto_box_keypair(s, w->esk);
			group_wrap_key(o->group->key, o->group->gid, s,
			    w->wk);
		}
		stanza_box(w->wk, w->fk, s + 32);
	}
	for (i = n - 1; i > 0; i--) {
		uint8_t t[SEAL_STANZALEN];

		j = randombytes_uniform((uint32_t)(i + 1));
		memcpy(t, hdr + HDRLEN + SEAL_STANZALEN * i, sizeof(t));
		memmove(hdr + HDRLEN + SEAL_STANZALEN * i,
		    hdr + HDRLEN + SEAL_STANZALEN * j, sizeof(t));
		memcpy(hdr + HDRLEN + SEAL_STANZALEN * j, t, sizeof(t));
	}
	header_hash(hdr, hlen, h);
	payload_key(w->fk, h, w->pk);
	crypto_secretstream_xchacha20poly1305_init_push(&w->ss, ssh, w->pk);
	if (o->armour)
		out_raw(&out, ARMOUR_BEGIN "\n", strlen(ARMOUR_BEGIN) + 1);
	out_put(&out, hdr, hlen);
	out_put(&out, ssh, sizeof(ssh));
	/* Frame 0: the sender block. */
	if ((rc = sender_block(hm, kind, (const uint8_t (*)[32])to, nto,
	    o->group, o->name, w->pt, &blen)) != 0)
		goto out;
	crypto_generichash_init(&w->dh, NULL, 0, 64);
	crypto_generichash_update(&w->dh, w->pt, blen);
	push(w, &out, blen, TAG_MSG);
	/* The body, 64 KiB a frame. */
	for (;;) {
		if (mem != NULL) {
			blen = memlen - used < SEAL_CHUNK ? memlen - used :
			    SEAL_CHUNK;
			memcpy(w->pt, mem + used, blen);
			used += blen;
		} else {
			blen = fread(w->pt, 1, SEAL_CHUNK, in);
			if (blen < SEAL_CHUNK && ferror(in)) {
				rc = KITH_EIO;
				goto out;
			}
		}
		if (blen == 0)
			break;
		crypto_generichash_update(&w->dh, w->pt, blen);
		push(w, &out, blen, TAG_MSG);
		total += blen;
		if (out.err) {
			rc = out.err;
			goto out;
		}
		if (blen < SEAL_CHUNK)
			break;
	}
	/* The signature, in the final frame. */
	crypto_generichash_final(&w->dh, d, 64);
	sig_msg(h, d, m);
	crypto_sign_detached(w->pt, NULL, m, sizeof(m), hm->dk->sign_sk);
	push(w, &out, 64, TAG_FINAL);
	if ((rc = out_end(&out)) == 0 && bytes != NULL)
		*bytes = total;
out:
	if (w != NULL)
		sodium_free(w);
	free(kx);
	free(to);
	free(hdr);
	return (rc);
}

int
seal_write(struct home *hm, const struct seal_opts *o, FILE *in, FILE *out,
    uint64_t *bytes)
{

	return (seal_any(hm, o, SEAL_KIND_DATA, NULL, 0, in, out, bytes));
}

/* ---- group creation ------------------------------------------------------- */

static json_t *
hexstr(const uint8_t *b, size_t len)
{
	char *s = malloc(2 * len + 1);
	json_t *j;

	if (s == NULL)
		return (NULL);
	kith_hex(b, len, s);
	j = json_string(s);
	sodium_memzero(s, 2 * len + 1);
	free(s);
	return (j);
}

/* A member entry: account, alias, and the roster (or device) known. */
static json_t *
member_json(const struct seal_peer *p)
{
	json_t *m = json_pack("{s:o, s:s}", "account", hexstr(p->account_pk,
	    32), "alias", p->alias);

	if (m != NULL && p->roster != NULL)
		json_object_set_new(m, "roster", hexstr(p->roster->blob,
		    p->roster->bloblen));
	return (m);
}

/* Add the kith record ${o} (the reference taken) in a transaction. */
static int
record_one(struct home *hm, json_t *o, int *added)
{
	int rc;

	if ((rc = store_begin(hm->st)) != 0) {
		json_decref(o);
		return (rc);
	}
	if ((rc = contacts_put(hm, o, added)) != 0) {
		store_rollback(hm->st);
		return (rc);
	}
	return (store_commit(hm->st));
}

/* Record the group ${doc} (from the creator ${from}), unless held. */
static int
group_store(struct home *hm, json_t *doc, const char *from, int *added)
{
	json_t *rec = json_deep_copy(doc);

	if (rec == NULL)
		return (KITH_ENOMEM);
	json_object_del(rec, "v");
	json_object_set_new(rec, "service", json_string(SVC_GROUP));
	json_object_set(rec, "id", json_object_get(doc, "gid"));
	json_object_set_new(rec, "at", json_integer((json_int_t)kith_now()));
	json_object_set_new(rec, "from", json_string(from));
	return (record_one(hm, rec, added));
}

/*
 * A group of ${name}, this account and ${members}, that replaces ${prev}
 * (NULL: a new group): its envelope to ${out}, ${commit}, then the
 * record.
 */
static int
group_make(struct home *hm, const char *name,
    const struct seal_peer *members, size_t n, const struct seal_group *prev,
    FILE *out, int armour, int (*commit)(void *arg), void *arg,
    struct seal_group **gout)
{
	struct seal_peer me;
	struct seal_opts o;
	json_t *doc, *mem;
	uint8_t gid[SEAL_GIDLEN], *key;
	char *txt = NULL;
	size_t i;
	int rc, added;

	if ((key = sodium_malloc(32)) == NULL)
		return (KITH_ENOMEM);
	randombytes_buf(key, 32);
	group_id(key, hm->account_pk, gid);
	memset(&me, 0, sizeof(me));
	memcpy(me.account_pk, hm->account_pk, 32);
	snprintf(me.alias, sizeof(me.alias), "%s", hm->name);
	me.roster = hm->roster;
	mem = json_array();
	json_array_append_new(mem, member_json(&me));
	for (i = 0; i < n; i++)
		json_array_append_new(mem, member_json(&members[i]));
	doc = json_pack("{s:i, s:o, s:s, s:o, s:o, s:o, s:i}", "v", 1, "gid",
	    hexstr(gid, sizeof(gid)), "name", name, "key", hexstr(key, 32),
	    "creator", hexstr(hm->account_pk, 32), "members", mem,
	    "generation", prev != NULL ? (int)prev->generation + 1 : 1);
	sodium_free(key);
	if (doc != NULL && prev != NULL)
		json_object_set_new(doc, "replaces", hexstr(prev->gid,
		    SEAL_GIDLEN));
	if (doc == NULL || json_array_size(mem) != n + 1 ||
	    (txt = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS)) == NULL) {
		json_decref(doc);
		return (KITH_ENOMEM);
	}
	if (strlen(txt) > SEAL_GROUPDOCMAX) {
		rc = KITH_ETOOBIG;
		goto out;
	}
	memset(&o, 0, sizeof(o));
	o.to = members;
	o.nto = n;
	o.self = 1;
	o.armour = armour;
	if ((rc = seal_any(hm, &o, SEAL_KIND_GROUP, (const uint8_t *)txt,
	    strlen(txt), NULL, out, NULL)) != 0 ||
	    (commit != NULL && (rc = commit(arg)) != 0))
		goto out;
	if ((rc = group_store(hm, doc, json_string_value(json_object_get(doc,
	    "creator")), &added)) != 0)
		goto out;
	if (gout != NULL)
		rc = group_of(doc, gout);
out:
	sodium_memzero(txt, strlen(txt));
	free(txt);
	json_decref(doc);
	return (rc);
}

/* What a group may be made with: a name, 1..SEAL_GROUPMAX - 1 members. */
static int
group_ready(struct home *hm, const char *name, size_t n)
{

	if (name == NULL || strlen(name) == 0 || strlen(name) > SEAL_ALIASMAX ||
	    !kith_text_ok(name, strlen(name)) || is_gid_hex(name) || n == 0 ||
	    n + 1 > SEAL_GROUPMAX)
		return (KITH_EINVAL);
	if (hm->dk->locked)
		return (KITH_ELOCKED);
	if (!hm->has_account || hm->roster == NULL || hm->h == NULL)
		return (KITH_ENOACCOUNT);
	return (0);
}

int
seal_group_create(struct home *hm, const char *name,
    const struct seal_peer *members, size_t n, FILE *out, int armour,
    int (*commit)(void *arg), void *arg, struct seal_group **gout)
{
	struct seal_group *g = NULL;
	int rc;

	if (gout != NULL)
		*gout = NULL;
	if ((rc = group_ready(hm, name, n)) != 0)
		return (rc);
	if ((rc = seal_group_find(hm, name, &g)) != KITH_ENOENT) {
		seal_group_free(g);
		return (rc == 0 || rc == KITH_EAMBIGUOUS ? KITH_EEXIST : rc);
	}
	return (group_make(hm, name, members, n, NULL, out, armour, commit,
	    arg, gout));
}

/* Is the account ${acct} among the ${n} peers ${p}? */
static int
peer_in(const struct seal_peer *p, size_t n, const uint8_t acct[32])
{
	size_t i;

	for (i = 0; i < n; i++)
		if (same32(p[i].account_pk, acct))
			return (1);
	return (0);
}

int
seal_group_change(struct home *hm, const char *name,
    const struct seal_peer *add, size_t nadd, const struct seal_peer *remove,
    size_t nrem, FILE *out, int armour, int (*commit)(void *arg), void *arg,
    struct seal_group **gout)
{
	struct seal_group *g = NULL;
	struct seal_peer *mem = NULL;
	char hex[65];
	size_t i, n = 0;
	int rc;

	if (gout != NULL)
		*gout = NULL;
	/* Only the creator changes a group: one held but made by another
	 * is KITH_EPERM; of several of the name, this account's. */
	if ((rc = group_find(hm, name, 1, &g)) == KITH_ENOENT &&
	    (rc = seal_group_find(hm, name, &g)) == 0) {
		seal_group_free(g);
		return (KITH_EPERM);
	}
	if (rc != 0)
		return (rc);
	if ((mem = calloc(g->nmem + nadd + 1, sizeof(*mem))) == NULL) {
		seal_group_free(g);
		return (KITH_ENOMEM);
	}
	/* The members kept, as the contacts they are; then those added
	 * (found again: mem owns what it holds). */
	for (i = 0; i < g->nmem + nadd; i++) {
		const uint8_t *a = i < g->nmem ? g->mem[i].account_pk :
		    add[i - g->nmem].account_pk;

		if (same32(a, hm->account_pk) ||
		    (i < g->nmem && peer_in(remove, nrem, a)) ||
		    peer_in(mem, n, a))
			continue;
		kith_hex(a, 32, hex);
		if ((rc = seal_peer_find(hm, hex, &mem[n])) != 0)
			goto out;
		n++;
	}
	if ((rc = group_ready(hm, g->name, n)) == 0)
		rc = group_make(hm, g->name, mem, n, g, out, armour, commit,
		    arg, gout);
out:
	seal_peers_free(mem, n);
	seal_group_free(g);
	return (rc);
}

/* ---- opening -------------------------------------------------------------- */

/* The parsed sender block (pointers into the plaintext). */
struct sblock {
	int kind;
	uint64_t time;
	const uint8_t *account;
	const uint8_t *cert;
	size_t certlen;
	const uint8_t *roster;
	size_t rosterlen;
	size_t nto;
	const uint8_t *to;
	int has_gid;
	const uint8_t *gid;
	size_t namelen;
	const uint8_t *name;
};

static int
sblock_parse(const uint8_t *b, size_t len, struct sblock *s)
{
	size_t off;

	memset(s, 0, sizeof(*s));
	if (len < 44)
		return (KITH_EFORMAT);
	if (b[0] != VERSION || b[1] > SEAL_KIND_GROUP)
		return (KITH_EVERSION);
	s->kind = b[1];
	s->time = kith_be64dec(b + 2);
	s->account = b + 10;
	s->certlen = kith_be16dec(b + 42);
	off = 44;
	if (s->certlen == 0 || s->certlen > CERT_MAXLEN ||
	    len - off < s->certlen + 4)
		return (KITH_EFORMAT);
	s->cert = b + off;
	off += s->certlen;
	s->rosterlen = kith_be32dec(b + off);
	off += 4;
	if (s->rosterlen == 0 || len - off < s->rosterlen + 1)
		return (KITH_EFORMAT);
	s->roster = b + off;
	off += s->rosterlen;
	s->nto = b[off++];
	if (s->nto == 0 || len - off < 32 * s->nto + 1)
		return (KITH_EFORMAT);
	s->to = b + off;
	off += 32 * s->nto;
	if (b[off] != 0 && b[off] != SEAL_GIDLEN)
		return (KITH_EFORMAT);
	s->has_gid = b[off++] != 0;
	if (s->has_gid) {
		if (len - off < SEAL_GIDLEN + 1)
			return (KITH_EFORMAT);
		s->gid = b + off;
		off += SEAL_GIDLEN;
	} else if (len - off < 1)
		return (KITH_EFORMAT);
	s->namelen = b[off++];
	if (len - off != s->namelen)
		return (KITH_EFORMAT);
	s->name = b + off;
	return (0);
}

/* Does the sender block name this account among its recipients? */
static int
names_us(const struct home *hm, const struct sblock *sb)
{
	size_t i;

	for (i = 0; i < sb->nto; i++)
		if (same32(sb->to + 32 * i, hm->account_pk))
			return (1);
	return (0);
}

/* Try every stanza with every key held; the file key to w->fk. */
static int
find_stanza(struct home *hm, struct book *b, const uint8_t *hdr, size_t n,
    struct work *w, struct seal_group **gopen)
{
	const char *k;
	json_t *o;
	size_t i;

	*gopen = NULL;
	for (i = 0; i < n; i++) {
		const uint8_t *s = hdr + HDRLEN + SEAL_STANZALEN * i;

		if (wrap_key(hm->dk->kx_sk, s, s, hm->dk->kx_pk, w->wk) == 0 &&
		    stanza_unbox(w->wk, s + 32, w->fk) == 0)
			return (0);
		json_object_foreach(b->groups, k, o) {
			struct seal_group *g;

			if (group_of(o, &g) != 0)
				continue;
			group_wrap_key(g->key, g->gid, s, w->wk);
			if (stanza_unbox(w->wk, s + 32, w->fk) == 0) {
				*gopen = g;
				return (0);
			}
			seal_group_free(g);
		}
	}
	return (KITH_ENOTFORME);
}

/*
 * Who sealed it: this account, a contact, or (for an envelope sealed to
 * a group) a member the group's creator introduced.  Fills res->sender
 * and res->dev; *${newer} is the carried roster when it supersedes the
 * one held (the caller records it once the envelope opened).
 */
static int
check_sender(struct home *hm, struct book *b, const struct sblock *sb,
    const struct seal_group *g, struct seal_opened *res,
    struct roster **newer)
{
	struct seal_peer *p = &res->sender;
	struct roster *carried = NULL, *held;
	const struct roster_dev *d;
	char acct[65];
	json_t *grec, *m;
	size_t i;
	int rc;

	*newer = NULL;
	memcpy(p->account_pk, sb->account, 32);
	kith_hex(sb->account, 32, acct);
	if (same32(sb->account, hm->account_pk)) {
		p->how = SEAL_SELF;
		snprintf(p->alias, sizeof(p->alias), "%s", "(this account)");
	} else if (json_object_get(b->contacts, acct) != NULL) {
		if ((rc = peer_contact(b, acct, p)) != 0)
			return (rc);
	} else if (g != NULL) {
		char gid[2 * SEAL_GIDLEN + 1];

		kith_hex(g->gid, SEAL_GIDLEN, gid);
		grec = json_object_get(b->groups, gid);
		json_array_foreach(json_object_get(grec, "members"), i, m) {
			const char *a = json_string_value(json_object_get(m,
			    "account"));

			if (a == NULL || strcmp(a, acct) != 0)
				continue;
			p->how = SEAL_INTRODUCED;
			snprintf(p->alias, sizeof(p->alias), "%s",
			    json_string_value(json_object_get(m, "alias")) ?
			    json_string_value(json_object_get(m, "alias")) :
			    "");
			if ((rc = newest_roster(p->account_pk,
			    json_object_get(b->rosters, acct),
			    json_string_value(json_object_get(m, "roster")),
			    0, &p->roster, &p->roster_at)) != 0)
				return (rc);
			break;
		}
		if (p->how != SEAL_INTRODUCED)
			return (KITH_ENOTCONTACT);
		/* The creator, by the alias this account knows them by. */
		kith_hex(g->creator, 32, acct);
		m = json_object_get(b->contacts, acct);
		snprintf(p->introduced_by, sizeof(p->introduced_by), "%s",
		    json_string_value(json_object_get(m, "alias")) != NULL ?
		    json_string_value(json_object_get(m, "alias")) : acct);
		kith_hex(sb->account, 32, acct);
	} else
		return (KITH_ENOTCONTACT);
	/* Sealed to a group: by one of its members, whoever they are. */
	if (g != NULL && !group_has(g, sb->account))
		return (KITH_EPERM);
	/* Sealed with an older generation: by one still a member of the
	 * newest held (a removed member keeps the older keys). */
	if (g != NULL) {
		struct seal_group *ng;
		char gh[2 * SEAL_GIDLEN + 1];
		json_t *nw;

		kith_hex(g->gid, SEAL_GIDLEN, gh);
		nw = newest(b, gh);
		if (nw != NULL && nw != json_object_get(b->groups, gh)) {
			if (group_of(nw, &ng) != 0)
				return (KITH_ECORRUPT);
			rc = group_has(ng, sb->account) ? 0 : KITH_EREVOKED;
			seal_group_free(ng);
			if (rc != 0)
				return (rc);
		}
	}
	/* The device, certified by the account. */
	if (cert_verify(sb->cert, sb->certlen, sb->account, &res->dev) != 0)
		return (KITH_ECRYPTO);
	if (roster_decode(sb->roster, sb->rosterlen, sb->account, &carried) !=
	    0)
		return (KITH_ECRYPTO);
	held = p->how == SEAL_SELF ? hm->roster : p->roster;
	if (held == NULL)
		rc = 0;
	else if ((rc = roster_supersedes(held, carried)) == KITH_ESTALE)
		rc = 1;		/* the held one is as new or newer */
	if (rc < 0) {
		roster_free(carried);
		return (rc);
	}
	if (rc == 0) {
		*newer = carried;
		held = carried;
	} else
		roster_free(carried);
	d = roster_find_sign(held, res->dev.sign_pk);
	if (d == NULL || !same32(d->kx_pk, res->dev.kx_pk))
		rc = KITH_ENOTMEMBER;
	else if (d->status != ROSTER_ACTIVE)
		rc = KITH_EREVOKED;
	else
		rc = 0;
	if (rc != 0) {
		roster_free(*newer);
		*newer = NULL;
	}
	return (rc);
}

/* Keep ${r}, a newer roster of the contact ${acct}. */
static int
roster_keep(struct home *hm, const struct roster *r, const char *from)
{
	char id[65 + 1 + 65], hh[65];
	json_t *o;

	kith_hex(r->account_pk, 32, id);
	kith_hex(r->hash, 32, hh);
	o = json_pack("{s:s, s:s, s:s, s:o, s:I, s:s, s:I}", "service",
	    SVC_CROSTER, "id", "", "account", id, "roster", hexstr(r->blob,
	    r->bloblen), "version", (json_int_t)r->version, "from", from, "at",
	    (json_int_t)kith_now());
	if (o == NULL)
		return (KITH_ENOMEM);
	snprintf(id + 64, sizeof(id) - 64, "/%s", hh);
	json_object_set_new(o, "id", json_string(id));
	return (record_one(hm, o, NULL));
}

int
seal_peer_learn(struct home *hm, struct seal_peer *p, const uint8_t *blob,
    size_t len, int *updated)
{
	struct roster *r;
	int rc;

	*updated = 0;
	if (p->how != SEAL_CONTACT)
		return (KITH_EINVAL);
	if ((rc = roster_decode(blob, len, p->account_pk, &r)) != 0)
		return (rc == KITH_ENOMEM ? rc : KITH_ECRYPTO);
	if (p->roster != NULL && (rc = roster_supersedes(p->roster, r)) !=
	    0) {
		/* The very roster held is no news; an older one is. */
		if (rc == KITH_ESTALE && r->version == p->roster->version)
			rc = 0;
		roster_free(r);
		return (rc);
	}
	if ((rc = roster_keep(hm, r, "import")) != 0) {
		roster_free(r);
		return (rc);
	}
	roster_free(p->roster);
	p->roster = r;
	p->roster_at = kith_now();
	p->has_dev = 0;
	*updated = 1;
	return (0);
}

/* A generation that replaces a group held: by its creator, and later. */
static int
replaces_ok(const struct book *b, const struct seal_group *g)
{
	struct seal_group *p;
	char gh[2 * SEAL_GIDLEN + 1];
	json_t *o;
	int ok;

	kith_hex(g->prev, SEAL_GIDLEN, gh);
	if ((o = json_object_get(b->groups, gh)) == NULL)
		return (1);	/* added now: the earlier one never held */
	if (group_of(o, &p) != 0)
		return (0);
	ok = same32(p->creator, g->creator) &&
	    g->generation > p->generation;
	seal_group_free(p);
	return (ok);
}

/* A group envelope's plaintext: checked and recorded. */
static int
take_group(struct home *hm, struct book *b, const uint8_t *txt, size_t len,
    const struct sblock *sb, struct seal_opened *res)
{
	struct seal_group *g = NULL;
	json_t *doc;
	const char *cr, *gid;
	char acct[65];
	int rc, added = 0;

	if ((doc = json_loadb((const char *)txt, len, JSON_REJECT_DUPLICATES,
	    NULL)) == NULL || json_integer_value(json_object_get(doc, "v")) !=
	    1 || (rc = group_of(doc, &g)) != 0) {
		json_decref(doc);
		return (KITH_EFORMAT);
	}
	kith_hex(sb->account, 32, acct);
	cr = json_string_value(json_object_get(doc, "creator"));
	gid = json_string_value(json_object_get(doc, "gid"));
	memcpy(res->gid, g->gid, SEAL_GIDLEN);
	res->has_group = 1;
	snprintf(res->group, sizeof(res->group), "%s", g->name);
	/* Only its creator hands a group out, and only once; it lists the
	 * creator and this account among its members. */
	if (strcmp(cr, acct) != 0 || res->sender.how == SEAL_INTRODUCED ||
	    !group_has(g, sb->account) || !group_has(g, hm->account_pk))
		rc = KITH_ECRYPTO;
	else if (json_object_get(b->groups, gid) != NULL)
		rc = 0;
	else if (g->has_prev && !replaces_ok(b, g))
		rc = KITH_ECRYPTO;
	else if ((rc = group_store(hm, doc, acct, &added)) == 0)
		res->group_stored = added;
	seal_group_free(g);
	json_decref(doc);
	return (rc);
}

int
seal_is_binary(const void *b, size_t len)
{

	return (len >= sizeof(MAGIC) &&
	    memcmp(b, MAGIC, sizeof(MAGIC)) == 0);	/* not secret */
}

int
seal_open(struct home *hm, FILE *in, FILE *out, struct seal_opened *res)
{
	struct in rd;
	struct book b = { NULL, NULL, NULL };
	struct seal_group *g = NULL;
	struct roster *newer = NULL;
	struct sblock sb;
	struct work *w = NULL;
	uint8_t pre[HDRLEN], *hdr = NULL, h[32], ssh[SSHDR], d[64], m[108],
	    sig[64], *blk = NULL, *gdoc = NULL, tag;
	size_t n, hlen, clen, blen = 0, gdlen = 0, gdcap = 0, i;
	unsigned long long mlen;
	int rc, shortseen = 0, final = 0;

	memset(res, 0, sizeof(*res));
	if (hm->dk->locked)
		return (KITH_ELOCKED);
	if (!hm->has_account || hm->roster == NULL || hm->h == NULL)
		return (KITH_ENOACCOUNT);
	if ((rc = in_init(&rd, in)) != 0)
		return (rc);
	if ((rc = in_read(&rd, pre, HDRLEN)) != 0)
		return (rc);
	if (!seal_is_binary(pre, sizeof(pre)))
		return (KITH_ENOTKITH);
	if (pre[8] != VERSION || pre[9] != 0)
		return (KITH_EVERSION);
	n = kith_be16dec(pre + 10);
	if (n == 0 || n > SEAL_MAXSTANZA)
		return (KITH_EFORMAT);
	res->nstanza = (unsigned)n;
	hlen = HDRLEN + SEAL_STANZALEN * n;
	if ((hdr = malloc(hlen)) == NULL || (w = work_new()) == NULL ||
	    (blk = malloc(SEAL_MAXBLOCK)) == NULL) {
		rc = KITH_ENOMEM;
		goto out;
	}
	memcpy(hdr, pre, HDRLEN);
	if ((rc = in_read(&rd, hdr + HDRLEN, hlen - HDRLEN)) != 0 ||
	    (rc = in_read(&rd, ssh, sizeof(ssh))) != 0)
		goto out;
	if ((rc = book_load(hm, &b)) != 0 ||
	    (rc = find_stanza(hm, &b, hdr, n, w, &g)) != 0)
		goto out;
	header_hash(hdr, hlen, h);
	payload_key(w->fk, h, w->pk);
	if (crypto_secretstream_xchacha20poly1305_init_pull(&w->ss, ssh,
	    w->pk) != 0) {
		rc = KITH_ECRYPTO;
		goto out;
	}
	crypto_generichash_init(&w->dh, NULL, 0, 64);
	for (i = 0; !final; i++) {
		if ((rc = in_read(&rd, w->ct, 4)) != 0)
			goto out;
		clen = kith_be32dec(w->ct);
		if (clen < SSA || clen > FRAMEMAX) {
			rc = KITH_EFORMAT;
			goto out;
		}
		if ((rc = in_read(&rd, w->ct + 4, clen)) != 0)
			goto out;
		if (crypto_secretstream_xchacha20poly1305_pull(&w->ss, w->pt,
		    &mlen, &tag, w->ct + 4, clen, NULL, 0) != 0) {
			rc = KITH_ECRYPTO;
			goto out;
		}
		if (tag == TAG_FINAL) {
			if (i == 0 || mlen != 64) {
				rc = KITH_EFORMAT;
				goto out;
			}
			memcpy(sig, w->pt, 64);
			final = 1;
			continue;
		}
		if (tag != TAG_MSG) {
			rc = KITH_EFORMAT;
			goto out;
		}
		crypto_generichash_update(&w->dh, w->pt, (size_t)mlen);
		if (i == 0) {
			/* The sender block: who, checked before the body. */
			memcpy(blk, w->pt, (size_t)mlen);
			blen = (size_t)mlen;
			if ((rc = sblock_parse(blk, blen, &sb)) != 0)
				goto out;
			res->kind = sb.kind;
			res->time = sb.time;
			if ((rc = check_sender(hm, &b, &sb, g, res,
			    &newer)) != 0)
				goto out;
			if (g != NULL ? !sb.has_gid || sodium_memcmp(sb.gid,
			    g->gid, SEAL_GIDLEN) != 0 || sb.kind !=
			    SEAL_KIND_DATA : !names_us(hm, &sb) ||
			    (sb.has_gid && res->sender.how != SEAL_SELF)) {
				/* Opened for us, but names others (re-wrapped),
				 * or a group by the stanza of a device: only
				 * this account's own devices open a group's
				 * message so, else anyone could label what it
				 * seals as a group's. */
				rc = KITH_ECRYPTO;
				goto out;
			}
			continue;
		}
		if (mlen == 0 || mlen > SEAL_CHUNK || shortseen) {
			rc = KITH_EFORMAT;
			goto out;
		}
		shortseen = mlen < SEAL_CHUNK;
		res->bytes += mlen;
		if (sb.kind == SEAL_KIND_GROUP) {
			uint8_t *ng;

			/* It holds a group's key: grown by copy, the old
			 * block wiped (realloc would leave it behind). */
			if (gdlen + mlen > SEAL_GROUPDOCMAX) {
				rc = KITH_ETOOBIG;
				goto out;
			}
			if (gdlen + mlen > gdcap) {
				gdcap = gdcap * 2 > gdlen + mlen ? gdcap * 2 :
				    gdlen + (size_t)mlen;
				if ((ng = malloc(gdcap)) == NULL) {
					rc = KITH_ENOMEM;
					goto out;
				}
				if (gdlen > 0)
					memcpy(ng, gdoc, gdlen);
				if (gdoc != NULL) {
					sodium_memzero(gdoc, gdlen);
					free(gdoc);
				}
				gdoc = ng;
			}
			memcpy(gdoc + gdlen, w->pt, (size_t)mlen);
			gdlen += (size_t)mlen;
		} else if (out != NULL && fwrite(w->pt, 1, (size_t)mlen,
		    out) != mlen) {
			rc = errno == ENOSPC ? KITH_ENOSPACE : KITH_EIO;
			goto out;
		}
	}
	if ((rc = in_end(&rd)) != 0)
		goto out;
	crypto_generichash_final(&w->dh, d, 64);
	sig_msg(h, d, m);
	if (crypto_sign_verify_detached(sig, m, sizeof(m),
	    res->dev.sign_pk) != 0) {
		rc = KITH_ECRYPTO;
		goto out;
	}
	/* Authentic from here on. */
	res->nto = sb.nto;
	memcpy(res->to, sb.to, 32 * sb.nto);
	if (sb.has_gid) {
		char gh[2 * SEAL_GIDLEN + 1];
		const char *gn;

		res->has_group = 1;
		memcpy(res->gid, sb.gid, SEAL_GIDLEN);
		/* Opened by the device stanza of the sender's own account,
		 * the group is found by its id. */
		kith_hex(sb.gid, SEAL_GIDLEN, gh);
		gn = json_string_value(json_object_get(json_object_get(
		    b.groups, gh), "name"));
		snprintf(res->group, sizeof(res->group), "%s", g != NULL ?
		    g->name : gn != NULL ? gn : "");
	}
	memcpy(res->name, sb.name, sb.namelen);
	res->name[sb.namelen] = '\0';
	if (!name_ok(res->name))
		res->name[0] = '\0';
	if (sb.kind == SEAL_KIND_GROUP &&
	    (rc = take_group(hm, &b, gdoc, gdlen, &sb, res)) != 0)
		goto out;
	if (newer != NULL && res->sender.how != SEAL_SELF &&
	    roster_keep(hm, newer, "envelope") == 0) {
		res->roster_updated = 1;
		roster_free(res->sender.roster);
		res->sender.roster = newer;
		res->sender.roster_at = kith_now();
		newer = NULL;
	}
	rc = 0;
out:
	roster_free(newer);
	seal_group_free(g);
	book_free(&b);
	if (w != NULL)
		sodium_free(w);
	if (blk != NULL)
		sodium_memzero(blk, SEAL_MAXBLOCK);
	free(blk);
	if (gdoc != NULL)
		sodium_memzero(gdoc, gdlen);
	free(gdoc);
	free(hdr);
	return (rc);
}

void
seal_open_free(struct seal_opened *res)
{

	seal_peer_free(&res->sender);
}

/* ---- descriptions and sinks ---------------------------------------------- */

static void
seal_sink_free_buf(struct seal_sink *s)
{

	if (s->b != NULL) {
		sodium_memzero(s->b, s->cap);
		free(s->b);
	}
	s->b = NULL;
	s->cap = 0;
}

static json_t *
fp_json(const uint8_t pk[32])
{
	char fp[15];

	pair_fingerprint(pk, fp);
	return (json_string(fp));
}

json_t *
seal_peer_json(const struct seal_peer *p, uint64_t now)
{
	size_t ndev = 0, i;

	if (p->roster != NULL) {
		for (i = 0; i < p->roster->ndev; i++)
			ndev += p->roster->dev[i].status == ROSTER_ACTIVE;
	} else
		ndev = (size_t)p->has_dev;
	return (json_pack("{s:s, s:o, s:o, s:s, s:I, s:I, s:I}", "alias",
	    p->alias, "fingerprint", fp_json(p->account_pk), "account",
	    hexstr(p->account_pk, 32), "key", p->roster != NULL ? "roster" :
	    "device", "devices", (json_int_t)ndev, "roster_version",
	    (json_int_t)(p->roster != NULL ? p->roster->version : 0),
	    "roster_age", (json_int_t)(p->roster_at != 0 && now >
	    p->roster_at ? now - p->roster_at : 0)));
}

static const char *
how_str(int how)
{

	switch (how) {
	case SEAL_SELF:
		return ("self");
	case SEAL_CONTACT:
		return ("contact");
	default:
		return ("introduced");
	}
}

json_t *
seal_opened_json(const struct seal_opened *r)
{
	json_t *doc, *to;
	size_t i;

	to = json_array();
	for (i = 0; i < r->nto; i++)
		json_array_append_new(to, hexstr(r->to[i], 32));
	doc = json_pack("{s:s, s:I, s:I, s:{s:s, s:o, s:o, s:o, s:s, s:b,"
	    " s:s}, s:o, s:s?, s:b}", "kind", r->kind == SEAL_KIND_GROUP ?
	    "group" : "data", "bytes", (json_int_t)(r->kind ==
	    SEAL_KIND_GROUP ? 0 : r->bytes), "time", (json_int_t)r->time,
	    "sender", "alias", r->sender.alias, "fingerprint",
	    fp_json(r->sender.account_pk), "account",
	    hexstr(r->sender.account_pk, 32), "device", hexstr(r->dev.sign_pk,
	    32), "device_name", r->dev.name, "verified", r->sender.how !=
	    SEAL_INTRODUCED, "how", how_str(r->sender.how), "recipients", to,
	    "name", r->name[0] != '\0' ? r->name : NULL, "roster_updated",
	    r->roster_updated);
	if (doc != NULL && r->sender.how == SEAL_INTRODUCED)
		json_object_set_new(json_object_get(doc, "sender"),
		    "introduced_by", json_string(r->sender.introduced_by));
	if (doc != NULL && r->has_group)
		json_object_set_new(doc, "group", json_pack("{s:s, s:o, s:b}",
		    "name", r->group, "id", hexstr(r->gid, SEAL_GIDLEN),
		    "stored", r->group_stored));
	return (doc);
}

json_t *
seal_b64_json(const void *b, size_t len)
{
	size_t cap = sodium_base64_ENCODED_LEN(len,
	    sodium_base64_VARIANT_ORIGINAL);
	char *t = malloc(cap);
	json_t *j;

	if (t == NULL)
		return (NULL);
	sodium_bin2base64(t, cap, len > 0 ? b : (const void *)"", len,
	    sodium_base64_VARIANT_ORIGINAL);
	j = json_string(t);
	sodium_memzero(t, cap);
	free(t);
	return (j);
}

int
seal_unb64(const char *s, size_t max, uint8_t **out, size_t *len)
{
	size_t sl = strlen(s), cap = sl / 4 * 3 + 3;
	uint8_t *b;

	*out = NULL;
	*len = 0;
	if (cap > max + 3 + sl / 64 * 3)	/* line ends take no bytes */
		return (KITH_ETOOBIG);
	if ((b = malloc(cap + 1)) == NULL)
		return (KITH_ENOMEM);
	if (sodium_base642bin(b, cap + 1, s, sl, "\n\r", len, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0 || *len > max) {
		sodium_memzero(b, cap + 1);
		free(b);
		return (*len > max ? KITH_ETOOBIG : KITH_EFORMAT);
	}
	*out = b;
	return (0);
}

static ssize_t
sink_write(void *arg, const char *p, size_t n)
{
	struct seal_sink *s = arg;
	size_t ncap;
	uint8_t *nb;

	if (n > s->max - s->len) {
		s->over = 1;
		errno = EFBIG;
		return (-1);
	}
	if (s->len + n > s->cap) {
		ncap = s->cap == 0 ? 65536 : s->cap;
		while (ncap < s->len + n)
			ncap *= 2;
		if (ncap > s->max)
			ncap = s->max;
		if ((nb = malloc(ncap)) == NULL) {
			errno = ENOMEM;
			return (-1);
		}
		/* No copy of the plaintext left behind in freed memory. */
		if (s->len > 0)
			memcpy(nb, s->b, s->len);
		seal_sink_free_buf(s);
		s->b = nb;
		s->cap = ncap;
	}
	memcpy(s->b + s->len, p, n);
	s->len += n;
	return ((ssize_t)n);
}

FILE *
seal_sink_open(struct seal_sink *s, size_t max)
{
	cookie_io_functions_t io = { NULL, sink_write, NULL, NULL };
	FILE *f;

	memset(s, 0, sizeof(*s));
	s->max = max;
	if ((f = fopencookie(s, "w", io)) != NULL)
		(void)setvbuf(f, NULL, _IONBF, 0);
	return (f);
}

void
seal_sink_free(struct seal_sink *s)
{

	seal_sink_free_buf(s);
	memset(s, 0, sizeof(*s));
}
