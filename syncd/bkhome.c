#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "bkhome.h"
#include "hist.h"
#include "kith_err.h"
#include "kith_util.h"

#define TARGETS_MAX 64

static int
meta_copy(store *st, const char *key, uint8_t **out, size_t *len)
{
	int rc = store_meta_get(st, key, out, len);

	return (rc == KITH_ENOENT ? KITH_ENOACCOUNT : rc);
}

static int
meta_fixed(store *st, const char *key, uint8_t *out, size_t want)
{
	uint8_t *v;
	size_t len;
	int rc;

	if ((rc = meta_copy(st, key, &v, &len)) != 0)
		return (rc);
	if (len == want)
		memcpy(out, v, want);
	else
		rc = KITH_ECORRUPT;
	free(v);
	return (rc);
}

int
bk_hold_fill(struct home *hm, store *st, struct bk_hold *h)
{
	int rc;

	memset(h, 0, sizeof(*h));
	if (hm->dk->locked)
		return (KITH_ELOCKED);
	if (!hm->has_account || hm->roster == NULL || hm->h == NULL)
		return (KITH_ENOACCOUNT);
	if ((rc = home_backup_pk(hm, h->bpk)) != 0)
		return (rc);
	if ((h->sign_sk = sodium_malloc(64)) == NULL)
		return (KITH_ENOMEM);
	memcpy(h->sign_sk, hm->dk->sign_sk, 64);
	memcpy(h->sign_pk, hm->dk->sign_pk, 32);
	memcpy(h->account_pk, hm->account_pk, 32);
	snprintf(h->name, sizeof(h->name), "%s", hm->name);
	if ((rc = meta_copy(hm->st, "cert", &h->cert,
	    &h->src.certlen)) != 0 ||
	    (rc = meta_fixed(hm->st, "sealed_pass", h->sealed_pass,
	    ACCOUNT_SEALED_LEN)) != 0 ||
	    (rc = meta_fixed(hm->st, "sealed_recovery", h->sealed_rec,
	    ACCOUNT_SEALED_LEN)) != 0 ||
	    (rc = hist_keys_export(hm->h, &h->keys, &h->src.keyslen)) != 0)
		goto fail;
	if ((h->roster = malloc(hm->roster->bloblen)) == NULL) {
		rc = KITH_ENOMEM;
		goto fail;
	}
	memcpy(h->roster, hm->roster->blob, hm->roster->bloblen);
	h->src.st = st;
	h->src.sign_sk = h->sign_sk;
	h->src.sign_pk = h->sign_pk;
	h->src.account_pk = h->account_pk;
	h->src.bpk = h->bpk;
	h->src.cert = h->cert;
	h->src.roster = h->roster;
	h->src.rosterlen = hm->roster->bloblen;
	h->src.sealed_pass = h->sealed_pass;
	h->src.sealed_rec = h->sealed_rec;
	h->src.keys = h->keys;
	h->src.name = h->name;
	return (0);
fail:
	bk_hold_free(h);
	return (rc);
}

void
bk_hold_free(struct bk_hold *h)
{

	if (h->sign_sk != NULL)
		sodium_free(h->sign_sk);
	if (h->keys != NULL)
		sodium_free(h->keys);
	free(h->cert);
	free(h->roster);
	memset(h, 0, sizeof(*h));
}

/* meta "backup_targets": n * (id 16 || u16 len || path) */
int
bk_targets(struct home *hm, struct bk_target **out, size_t *n)
{
	uint8_t *v;
	size_t len, off = 0, pl;
	struct bk_target *t;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = store_meta_get(hm->st, "backup_targets", &v, &len)) != 0)
		return (rc == KITH_ENOENT ? 0 : rc);
	if ((t = calloc(TARGETS_MAX, sizeof(*t))) == NULL) {
		free(v);
		return (KITH_ENOMEM);
	}
	while (off + BACKUP_IDLEN + 2 <= len && *n < TARGETS_MAX) {
		pl = kith_be16dec(v + off + BACKUP_IDLEN);
		if (pl >= PATH_MAX || off + BACKUP_IDLEN + 2 + pl > len)
			break;
		memcpy(t[*n].id, v + off, BACKUP_IDLEN);
		memcpy(t[*n].path, v + off + BACKUP_IDLEN + 2, pl);
		t[*n].path[pl] = '\0';
		(*n)++;
		off += BACKUP_IDLEN + 2 + pl;
	}
	free(v);
	*out = t;
	return (0);
}

int
bk_target_add(struct home *hm, const uint8_t id[static BACKUP_IDLEN],
    const char *path)
{
	struct bk_target *t;
	uint8_t *b;
	size_t n, i, len = 0, pl;
	int rc, found = 0;

	if ((rc = bk_targets(hm, &t, &n)) != 0)
		return (rc);
	if ((b = malloc((n + 1) * (BACKUP_IDLEN + 2 + PATH_MAX))) == NULL) {
		free(t);
		return (KITH_ENOMEM);
	}
	for (i = 0; i <= n; i++) {
		const uint8_t *tid = i < n ? t[i].id : id;
		const char *p = i < n ? t[i].path : path;

		if (i == n && found)
			break;
		if (i < n && memcmp(t[i].id, id, BACKUP_IDLEN) == 0) {	/* not secret */
			p = path;
			found = 1;
		}
		pl = strlen(p);
		memcpy(b + len, tid, BACKUP_IDLEN);
		kith_be16enc(b + len + BACKUP_IDLEN, (uint16_t)pl);
		memcpy(b + len + BACKUP_IDLEN + 2, p, pl);
		len += BACKUP_IDLEN + 2 + pl;
	}
	rc = (!found && n >= TARGETS_MAX) ? KITH_ETOOBIG :
	    store_meta_put(hm->st, "backup_targets", b, len);
	free(b);
	free(t);
	return (rc);
}

static void
meta_key(char key[64], const char *what, const uint8_t id[BACKUP_IDLEN])
{
	char hx[2 * BACKUP_IDLEN + 1];

	kith_hex(id, BACKUP_IDLEN, hx);
	snprintf(key, 64, "%s:%s", what, hx);
}

int
bk_state_load(store *st, const uint8_t id[static BACKUP_IDLEN],
    struct backup_state *s)
{
	char key[64];
	uint8_t *v;
	size_t len;
	int rc;

	memset(s, 0, sizeof(*s));
	meta_key(key, "backup", id);
	if ((rc = store_meta_get(st, key, &v, &len)) != 0)
		return (rc == KITH_ENOENT ? 0 : rc);
	/* A state that does not parse only costs a full backup. */
	if (backup_state_dec(v, len, s) != 0)
		memset(s, 0, sizeof(*s));
	free(v);
	return (0);
}

int
bk_state_save(store *st, const uint8_t id[static BACKUP_IDLEN],
    const struct backup_state *s)
{
	char key[64];
	uint8_t *b;
	size_t len;
	int rc;

	meta_key(key, "backup", id);
	if ((rc = backup_state_enc(s, &b, &len)) != 0)
		return (rc);
	rc = store_meta_put(st, key, b, len);
	free(b);
	return (rc);
}

const char *
bk_error_text(int rc)
{

	switch (rc) {
	case KITH_ENOSPACE:
		return ("the backup medium is full: free some space on it"
		    " (or use a larger one); the previous backup is intact");
	case KITH_EBUSY:
		return ("another backup to this medium is running; try again"
		    " when it ends");
	case KITH_EIO:
		return ("cannot write to the backup medium (removed, or"
		    " read-only?); the previous backup is intact");
	case KITH_ENOENT:
		return ("the backup medium is not there (not mounted?)");
	case KITH_ELOCKED:
		return ("this device is locked: run 'kith unlock'");
	default:
		return (kith_strerror(rc));
	}
}

int
bk_result_save(store *st, const uint8_t id[static BACKUP_IDLEN],
    const char *path, int rc, const struct backup_result *res)
{
	char key[64], hx[2 * BACKUP_IDLEN + 1], *text;
	json_t *o;
	int r;

	meta_key(key, "backup_last", id);
	kith_hex(id, BACKUP_IDLEN, hx);
	o = json_pack("{s:s, s:s, s:I, s:b}", "target", hx, "path", path,
	    "time", (json_int_t)kith_now(), "ok", rc == 0);
	if (o == NULL)
		return (KITH_ENOMEM);
	if (rc == 0) {
		json_object_set_new(o, "records",
		    json_integer((json_int_t)res->records));
		json_object_set_new(o, "total",
		    json_integer((json_int_t)res->total));
		json_object_set_new(o, "number",
		    json_integer((json_int_t)res->number));
		json_object_set_new(o, "full", json_boolean(res->full));
	} else {
		json_object_set_new(o, "error",
		    json_string(bk_error_text(rc)));
		json_object_set_new(o, "code", json_string(kith_strerror(rc)));
	}
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (text == NULL)
		return (KITH_ENOMEM);
	r = store_meta_put(st, key, text, strlen(text));
	free(text);
	return (r);
}

char *
bk_result_text(store *st, const uint8_t id[static BACKUP_IDLEN])
{
	char key[64], *t;
	uint8_t *v;
	size_t len;

	meta_key(key, "backup_last", id);
	if (store_meta_get(st, key, &v, &len) != 0)
		return (NULL);
	if ((t = malloc(len + 1)) != NULL) {
		memcpy(t, v, len);
		t[len] = '\0';
	}
	free(v);
	return (t);
}

json_t *
bk_results_json(struct home *hm)
{
	struct bk_target *t;
	json_t *a = json_array(), *o;
	size_t n, i;
	char *text;

	if (bk_targets(hm, &t, &n) != 0)
		return (a);
	for (i = 0; i < n; i++) {
		text = bk_result_text(hm->st, t[i].id);
		if (text == NULL || (o = json_loads(text, 0, NULL)) == NULL)
			o = json_pack("{s:s, s:n}", "path", t[i].path, "time");
		free(text);
		json_array_append_new(a, o);
	}
	free(t);
	return (a);
}

struct rs_arg {
	struct home *hm;
	void (*progress)(void *, uint64_t, uint64_t);
	void *arg;
	uint64_t n, tot, stored, unread;
};

static int
rs_one(void *arg, const struct store_rec *rec)
{
	struct rs_arg *a = arg;
	char *json;
	size_t len;
	int rc, added;

	/*
	 * Each record is tried with the backup's keys.  The segment is
	 * already pinned by the signed manifest, so one that does not open
	 * (an epoch whose key the writer never had, as sync may store) is
	 * kept as it was, encrypted, and counted: one such record must not
	 * make every backup unrestorable.
	 */
	if (hist_open_rec(a->hm->h, rec, &json, &len) == 0) {
		sodium_memzero(json, len);
		free(json);
	} else
		a->unread++;
	if ((rc = store_rec_put(a->hm->st, rec, &added)) != 0)
		return (rc);
	a->stored += added != 0;
	if (a->progress != NULL && (++a->n & 4095) == 0)
		a->progress(a->arg, a->n, a->tot);
	return (0);
}

int
bk_restore(struct home *hm, const char *dir,
    const struct backup_manifest *m, const uint8_t seed[static 32],
    void (*progress)(void *arg, uint64_t n, uint64_t tot), void *arg,
    uint64_t *stored, uint64_t *unread)
{
	struct rs_arg a;
	uint8_t lock[DEVKEY_LOCKLEN], bpk[32];
	int rc;

	*stored = *unread = 0;
	if (hm->has_account)
		return (KITH_EHAVEACCOUNT);
	if (hm->dk->locked)
		return (KITH_ELOCKED);
	memset(&a, 0, sizeof(a));
	a.hm = hm;
	a.progress = progress;
	a.arg = arg;
	a.tot = m->total;
	backup_keypair(seed, NULL, bpk);
	if ((rc = store_begin(hm->st)) != 0)
		return (rc);
	if ((rc = home_adopt_account(hm, m->account_pk, m->sealed_pass,
	    m->sealed_rec)) != 0 ||
	    (rc = store_meta_put(hm->st, "restored_roster", m->roster,
	    m->rosterlen)) != 0 ||
	    (rc = store_meta_put(hm->st, "backup_pk", bpk, 32)) != 0 ||
	    (rc = hist_keys_import(hm->st, hm->dk, m->keys, m->keyslen)) != 0 ||
	    (rc = home_load_hist(hm)) != 0)
		goto fail;
	if (hm->h == NULL) {
		rc = KITH_ECORRUPT;
		goto fail;
	}
	if ((rc = backup_read(dir, m, seed, rs_one, &a)) != 0)
		goto fail;
	/* Sealed keys first, then the commit (as for a new account). */
	devkey_lockkey(seed, hm->dk->sign_pk, lock);
	rc = home_seal_device(hm, lock);
	sodium_memzero(lock, sizeof(lock));
	if (rc != 0 || (rc = store_commit(hm->st)) != 0)
		goto fail;
	*stored = a.stored;
	*unread = a.unread;
	if (progress != NULL)
		progress(arg, a.n, a.tot);
	return (0);
fail:
	store_rollback(hm->st);
	hm->has_account = 0;
	hist_free(hm->h);
	hm->h = NULL;
	return (rc);
}

/* The newest manifest of ${set} that opens, from ${number} down. */
static int
open_newest(const char *dir, const char *set, uint64_t number,
    const uint8_t seed[32], struct backup_manifest *m)
{
	int rc = KITH_ENOENT;

	for (; number > 0; number--)
		if ((rc = backup_open(dir, set, number, seed, m)) == 0 ||
		    rc == KITH_ENOMEM)
			break;
	return (rc);
}

int
bk_choose_set(const char *dir, const uint8_t seed[static 32],
    char set[static 17], uint64_t *number)
{
	char (*sets)[17];
	struct backup_manifest m;
	struct roster *newest = NULL, *r;
	struct cand {
		uint64_t number, version, time;
		uint8_t writer[32];
	} *c;
	const struct roster_dev *d;
	size_t n, i, best = SIZE_MAX;
	int rc, opened = 0;

	if ((sets = calloc(64, sizeof(*sets))) == NULL ||
	    (c = calloc(64, sizeof(*c))) == NULL) {
		free(sets);
		return (KITH_ENOMEM);
	}
	if ((rc = backup_sets(dir, sets, 64, &n)) != 0)
		goto out;
	/* Open every set; keep the newest roster any of them holds. */
	for (i = 0; i < n; i++) {
		if (open_newest(dir, sets[i], backup_newest(dir, sets[i]),
		    seed, &m) != 0)
			continue;
		opened++;
		c[i].number = m.number;
		c[i].time = m.time;
		memcpy(c[i].writer, m.sign_pk, 32);
		if (roster_decode(m.roster, m.rosterlen, m.account_pk,
		    &r) == 0) {
			c[i].version = r->version;
			if (newest == NULL || r->version > newest->version) {
				roster_free(newest);
				newest = r;
			} else
				roster_free(r);
		}
		backup_manifest_free(&m);
	}
	if (opened == 0) {
		rc = KITH_EBADPASS;
		goto out;
	}
	/*
	 * Only a set written by a device still active in the newest roster
	 * on the medium: a revoked device (or a thief of one) that writes a
	 * set, even a newer-looking one, is passed over.  Among those, the
	 * newest roster, then the newest manifest.
	 */
	for (i = 0; i < n; i++) {
		if (c[i].number == 0 || newest == NULL ||
		    (d = roster_find_sign(newest, c[i].writer)) == NULL ||
		    d->status != ROSTER_ACTIVE)
			continue;
		if (best == SIZE_MAX || c[i].version > c[best].version ||
		    (c[i].version == c[best].version &&
		    c[i].time > c[best].time))
			best = i;
	}
	if (best == SIZE_MAX) {
		rc = KITH_EREVOKED;
		goto out;
	}
	snprintf(set, 17, "%s", sets[best]);
	*number = c[best].number;
	rc = 0;
out:
	roster_free(newest);
	free(sets);
	free(c);
	return (rc);
}
