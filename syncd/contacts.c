/*
 * contacts.c: invitations and verified contacts as history records.
 *
 * Every decision that must hold across the account's devices rests on a
 * record's (service, id), which every device maps to the same rid: an
 * invitation's n-th answer is the record (kith:invite-use, token/n), so
 * however many devices record answers, at most ${uses} slots exist.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "contacts.h"
#include "kith_err.h"
#include "kith_util.h"
#include "roster.h"

#define SVC_INVITE "kith:invite"
#define SVC_USE "kith:invite-use"
#define SVC_REVOKE "kith:invite-revoke"
#define SVC_RECEIVED "kith:invitation"
#define SVC_CONTACT "kith:contact"
#define SVC_MEMBER "kith:member"
#define CARD_V1 1

int
contacts_reserved(const char *service, size_t len)
{

	return (len >= 5 && memcmp(service, "kith:", 5) == 0);	/* not secret */
}

/* ---- checks ------------------------------------------------------- */

static int
cert_ok(const uint8_t account_pk[32], const struct invite_cert *c)
{
	uint8_t blob[INVITE_FULLCERTMAX];
	struct roster_dev d;
	size_t len;

	if (invite_cert_blob(account_pk, c, blob, sizeof(blob), &len) != 0 ||
	    cert_verify(blob, len, account_pk, &d) != 0)
		return (KITH_ECRYPTO);
	return (0);
}

int
invite_check(const struct invitation *inv, uint64_t now,
    const uint8_t *roster, size_t rlen)
{
	const struct roster_dev *d;
	struct roster *r;
	int rc;

	if (invitation_verify_sig(inv) != 0 ||
	    cert_ok(inv->account_pk, &inv->dev) != 0)
		return (KITH_ECRYPTO);
	if (now != 0 && invite_expired(inv->expiry, now))
		return (KITH_EEXPIRED);
	if (roster == NULL)
		return (0);
	if (roster_decode(roster, rlen, inv->account_pk, &r) != 0)
		return (KITH_EROSTER);
	d = roster_find_sign(r, inv->dev.sign_pk);
	if (d == NULL || memcmp(d->kx_pk, inv->dev.kx_pk, 32) != 0) /* not secret */
		rc = KITH_ENOTMEMBER;
	else if (d->status != ROSTER_ACTIVE)
		rc = KITH_EREVOKED;
	else
		rc = 0;
	roster_free(r);
	return (rc);
}

int
reply_check(const struct invite_reply *r, const struct invitation *inv)
{
	uint8_t h[32];

	if (memcmp(r->token, inv->token, INVITE_TOKENLEN) != 0) /* not secret */
		return (KITH_ENOENT);
	if (invitation_hash(inv, h) != 0 || reply_verify_sig(r, h) != 0 ||
	    cert_ok(r->account_pk, &r->dev) != 0)
		return (KITH_ECRYPTO);
	return (0);
}

/* ---- records -------------------------------------------------------- */

int
contacts_put(struct home *hm, json_t *o, int *added)
{
	char *txt;
	int rc, a;

	if (o == NULL)
		return (KITH_ENOMEM);
	txt = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	if (txt == NULL)
		return (KITH_ENOMEM);
	hist_allow_kith(hm->h, 1);
	rc = hist_add(hm->h, txt, strlen(txt), &a);
	hist_allow_kith(hm->h, 0);
	sodium_memzero(txt, strlen(txt));
	free(txt);
	if (rc == 0 && added != NULL)
		*added = a;
	return (rc);
}

/* The record (service, id) as JSON, or NULL (*rc says why). */
static json_t *
get(struct home *hm, const char *svc, const char *id, int *rc)
{
	json_t *o;
	char *txt;
	size_t len;

	if ((*rc = hist_get(hm->h, svc, id, &txt, &len)) != 0)
		return (NULL);
	o = json_loadb(txt, len, 0, NULL);
	sodium_memzero(txt, len);
	free(txt);
	if (o == NULL || !json_is_object(o)) {
		json_decref(o);
		*rc = KITH_ECORRUPT;
		return (NULL);
	}
	return (o);
}

static json_t *
dev_json(const struct invite_cert *c)
{
	char s[65], k[65];

	kith_hex(c->sign_pk, 32, s);
	kith_hex(c->kx_pk, 32, k);
	return (json_pack("{s:s, s:s, s:s}", "sign", s, "kx", k, "name",
	    c->name));
}

/* A contact record: who ${c} is, met through ${inv}. */
static json_t *
contact_json(const struct invitation *inv, const struct contact_card *c,
    const char *role, const char *how, uint64_t now)
{
	char acct[65], tok[33], id[65 + 1 + 33], *rh = NULL;
	uint8_t blob[INVITE_FULLCERTMAX];
	char certhex[2 * INVITE_FULLCERTMAX + 1];
	size_t blen;
	json_t *o;

	kith_hex(c->account_pk, 32, acct);
	kith_hex(inv->token, INVITE_TOKENLEN, tok);
	snprintf(id, sizeof(id), "%s/%s", acct, tok);
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s,"
	    " s:o}", "service", SVC_CONTACT, "id", id, "account", acct,
	    "alias", c->alias, "uri", inv->uri, "service_name", inv->service,
	    "invite", tok, "met", (json_int_t)now, "how", how, "role", role,
	    "device", dev_json(&c->dev));
	if (o == NULL)
		return (NULL);
	/* A card from a reply code carries a certificate; one from the LAN
	 * the roster that lists the device. */
	if (c->roster == NULL && invite_cert_blob(c->account_pk, &c->dev,
	    blob, sizeof(blob), &blen) == 0) {
		kith_hex(blob, blen, certhex);
		json_object_set_new(o, "cert", json_string(certhex));
	}
	if (c->roster != NULL && (rh = malloc(2 * c->rosterlen + 1)) != NULL) {
		kith_hex(c->roster, c->rosterlen, rh);
		json_object_set_new(o, "roster", json_string(rh));
		free(rh);
	}
	return (o);
}

static int
member_put(struct home *hm, const char *uri, const char *via, uint64_t now)
{

	return (contacts_put(hm, json_pack("{s:s, s:s, s:s, s:I}", "service",
	    SVC_MEMBER, "id", uri, "via", via, "since", (json_int_t)now),
	    NULL));
}

/* Record membership of ${uri} unless it is held already. */
static int
member_ensure(struct home *hm, const char *uri, const char *via,
    uint64_t now)
{
	int rc;

	if ((rc = hist_held(hm->h, SVC_MEMBER, uri)) < 0)
		return (rc);
	return (rc ? 0 : member_put(hm, uri, via, now));
}

int
contacts_member(struct home *hm, const char *uri, uint64_t *since)
{
	json_t *o;
	int rc;

	if (hm->h == NULL)
		return (KITH_ENOACCOUNT);
	if ((o = get(hm, SVC_MEMBER, uri, &rc)) == NULL)
		return (rc == KITH_ENOENT ? 0 : rc);
	if (since != NULL)
		*since = (uint64_t)json_integer_value(json_object_get(o,
		    "since"));
	json_decref(o);
	return (1);
}

int
contacts_sign(struct home *hm, struct invitation *inv, char *text, size_t cap)
{
	uint8_t *cert = NULL;
	size_t certlen;
	int rc;

	if (hm->roster == NULL || hm->h == NULL)
		return (KITH_ENOACCOUNT);
	if (store_meta_get(hm->st, "cert", &cert, &certlen) != 0)
		return (KITH_ENOENT);
	rc = invite_cert_parse(cert, certlen, inv->account_pk, &inv->dev);
	free(cert);
	if (rc != 0 || memcmp(inv->account_pk, hm->account_pk, 32) != 0 || /* not secret */
	    memcmp(inv->dev.sign_pk, hm->dk->sign_pk, 32) != 0) /* not secret */
		return (KITH_ECORRUPT);
	randombytes_buf(inv->token, sizeof(inv->token));
	randombytes_buf(inv->secret, sizeof(inv->secret));
	if ((rc = invitation_sign(inv, hm->dk->sign_sk)) != 0 ||
	    (rc = invitation_encode(inv, text, cap)) != 0)
		return (rc);
	return (0);
}

int
contacts_issue(struct home *hm, const struct invitation *inv,
    const char *text)
{
	char tok[33], by[65];
	int rc;

	kith_hex(inv->token, INVITE_TOKENLEN, tok);
	kith_hex(inv->dev.sign_pk, 32, by);
	if ((rc = store_begin(hm->st)) != 0)
		return (rc);
	if ((rc = contacts_put(hm, json_pack("{s:s, s:s, s:s, s:I, s:I, s:i, s:s,"
	    " s:s, s:s}", "service", SVC_INVITE, "id", tok, "code", text,
	    "created", (json_int_t)kith_now(), "expires",
	    (json_int_t)inv->expiry, "uses", (int)inv->uses, "uri", inv->uri,
	    "alias", inv->alias, "by", by), NULL)) != 0 ||
	    (rc = member_ensure(hm, inv->uri, "own", kith_now())) != 0)
		goto fail;
	return (store_commit(hm->st));
fail:
	store_rollback(hm->st);
	return (rc);
}

/* The code kept in a kith:invite or kith:invitation record. */
static int
code_of(json_t *o, struct invitation *inv)
{
	const char *code = json_string_value(json_object_get(o, "code"));

	if (code == NULL || invitation_decode(code, strlen(code), inv) != 0)
		return (KITH_ECORRUPT);
	return (0);
}

int
contacts_issued(struct home *hm, const uint8_t token[static 16],
    struct invitation *inv)
{
	char tok[33];
	json_t *o;
	int rc;

	if (hm->h == NULL)
		return (KITH_ENOACCOUNT);
	kith_hex(token, INVITE_TOKENLEN, tok);
	if ((o = get(hm, SVC_INVITE, tok, &rc)) == NULL)
		return (rc);
	rc = code_of(o, inv);
	json_decref(o);
	if (rc == 0 && memcmp(inv->token, token, 16) != 0) /* not secret */
		rc = KITH_ECORRUPT;
	return (rc);
}

/* The account that took slot ${n} of ${tok}, into ${acct} (65). */
static int
slot(struct home *hm, const char *tok, unsigned n, char acct[65])
{
	char id[33 + 12];
	const char *a;
	json_t *o;
	int rc;

	snprintf(id, sizeof(id), "%s/%u", tok, n);
	/* Free only if absent: a slot this device cannot read is taken. */
	if ((rc = hist_held(hm->h, SVC_USE, id)) <= 0)
		return (rc == 0 ? KITH_ENOENT : rc);
	if ((o = get(hm, SVC_USE, id, &rc)) == NULL) {
		acct[0] = '\0';
		return (rc == KITH_ENOENT ? 0 : rc);
	}
	a = json_string_value(json_object_get(o, "account"));
	snprintf(acct, 65, "%s", a != NULL ? a : "");
	json_decref(o);
	return (0);
}

int
contacts_state(struct home *hm, const struct invitation *inv, uint64_t now,
    struct invite_state *st)
{
	char tok[33], id[33 + 12];
	unsigned n;
	int rc;

	memset(st, 0, sizeof(*st));
	kith_hex(inv->token, INVITE_TOKENLEN, tok);
	/* Slots fill in order: count until the first absent one. */
	for (n = 1; n <= inv->uses; n++) {
		snprintf(id, sizeof(id), "%s/%u", tok, n);
		if ((rc = hist_held(hm->h, SVC_USE, id)) < 0)
			return (rc);
		if (rc == 0)
			break;
		st->used++;
	}
	if ((rc = hist_held(hm->h, SVC_REVOKE, tok)) < 0)
		return (rc);
	st->withdrawn = rc;
	st->expired = invite_expired(inv->expiry, now);
	return (0);
}

int
contacts_withdraw(struct home *hm, const uint8_t token[static 16])
{
	struct invitation inv;
	char tok[33];
	int rc, added = 0;

	if ((rc = contacts_issued(hm, token, &inv)) != 0)
		return (rc);
	invitation_wipe(&inv);
	kith_hex(token, INVITE_TOKENLEN, tok);
	if ((rc = store_begin(hm->st)) != 0)
		return (rc);
	if ((rc = contacts_put(hm, json_pack("{s:s, s:s, s:I}", "service", SVC_REVOKE,
	    "id", tok, "at", (json_int_t)kith_now()), &added)) != 0) {
		store_rollback(hm->st);
		return (rc);
	}
	if ((rc = store_commit(hm->st)) != 0)
		return (rc);
	return (added ? 0 : KITH_EEXIST);
}

int
contacts_take_answer(struct home *hm, const struct invitation *inv,
    const struct contact_card *c, const char *how, uint64_t now,
    int *fresh)
{
	char tok[33], acct[65], have[65], id[33 + 12];
	const struct roster_dev *d;
	unsigned n;
	int rc, added = 0;

	*fresh = 0;
	if (hm->h == NULL || hm->roster == NULL)
		return (KITH_ENOACCOUNT);
	if (memcmp(c->account_pk, hm->account_pk, 32) == 0) /* not secret */
		return (KITH_EINVAL);
	d = roster_find_sign(hm->roster, inv->dev.sign_pk);
	if (d == NULL || d->status != ROSTER_ACTIVE)
		return (KITH_EREVOKED);
	kith_hex(inv->token, INVITE_TOKENLEN, tok);
	kith_hex(c->account_pk, 32, acct);
	/* Checked and written in one transaction: one slot per answer. */
	if ((rc = store_begin(hm->st)) != 0)
		return (rc);
	if ((rc = hist_held(hm->h, SVC_REVOKE, tok)) != 0) {
		rc = rc < 0 ? rc : KITH_EWITHDRAWN;
		goto fail;
	}
	for (n = 1; n <= inv->uses; n++) {
		if ((rc = slot(hm, tok, n, have)) == KITH_ENOENT)
			break;
		if (rc != 0)
			goto fail;
		if (strcmp(have, acct) == 0)
			break;		/* this invitee, again */
	}
	if (n <= inv->uses && rc == 0) {
		/* Answered already by the same account: nothing is used. */
		store_rollback(hm->st);
		return (0);
	}
	if (invite_expired(inv->expiry, now)) {
		rc = KITH_EEXPIRED;
		goto fail;
	}
	if (n > inv->uses) {
		rc = KITH_EUSED;
		goto fail;
	}
	snprintf(id, sizeof(id), "%s/%u", tok, n);
	if ((rc = contacts_put(hm, json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}",
	    "service", SVC_USE, "id", id, "account", acct, "alias", c->alias,
	    "how", how, "at", (json_int_t)now), &added)) != 0 ||
	    /* cppcheck-suppress knownConditionTrueFalse ; sets rc, then fails */
	    (!added && (rc = KITH_EUSED) != 0) ||
	    (rc = contacts_put(hm, contact_json(inv, c, "invitee", how, now),
	    NULL)) != 0)
		goto fail;
	if ((rc = store_commit(hm->st)) != 0)
		return (rc);
	*fresh = 1;
	return (0);
fail:
	store_rollback(hm->st);
	return (rc);
}

int
contacts_take_invitation(struct home *hm, const struct invitation *inv,
    const char *text, const struct contact_card *c, const char *how,
    uint64_t now)
{
	char tok[33];
	int rc;

	if (hm->h == NULL)
		return (KITH_ENOACCOUNT);
	kith_hex(inv->token, INVITE_TOKENLEN, tok);
	if ((rc = store_begin(hm->st)) != 0)
		return (rc);
	if ((rc = contacts_put(hm, json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:s}",
	    "service", SVC_RECEIVED, "id", tok, "code", text, "scanned",
	    (json_int_t)now, "how", how, "uri", inv->uri, "alias",
	    inv->alias), NULL)) != 0 ||
	    (rc = contacts_put(hm, contact_json(inv, c, "inviter", how, now),
	    NULL)) != 0)
		goto fail;
	/* A member once the inviter's side took the answer (the LAN). */
	if (strcmp(how, "lan") == 0 &&
	    (rc = member_ensure(hm, inv->uri, tok, now)) != 0)
		goto fail;
	return (store_commit(hm->st));
fail:
	store_rollback(hm->st);
	return (rc);
}

int
contacts_received(struct home *hm, const uint8_t token[static 16],
    char **how)
{
	const char *h;
	char tok[33];
	json_t *o;
	int rc;

	if (hm->h == NULL)
		return (KITH_ENOACCOUNT);
	kith_hex(token, INVITE_TOKENLEN, tok);
	if ((o = get(hm, SVC_RECEIVED, tok, &rc)) == NULL)
		return (rc == KITH_ENOENT ? 0 : rc);
	if (how != NULL) {
		h = json_string_value(json_object_get(o, "how"));
		*how = strdup(h != NULL ? h : "?");
	}
	json_decref(o);
	return (1);
}

struct each_arg {
	struct home *hm;
	int (*cb)(void *arg, json_t *rec);
	void *arg;
};

static int
each_one(void *arg, const struct store_rec *rec)
{
	struct each_arg *e = arg;
	const char *svc;
	json_t *o;
	char *txt;
	size_t len;
	int rc;

	if (hist_open_rec(e->hm->h, rec, &txt, &len) != 0)
		return (0);		/* not ours to read */
	if (strstr(txt, "\"kith:") == NULL) {
		sodium_memzero(txt, len);
		free(txt);
		return (0);
	}
	o = json_loadb(txt, len, 0, NULL);
	sodium_memzero(txt, len);
	free(txt);
	svc = json_string_value(json_object_get(o, "service"));
	rc = 0;
	if (svc != NULL && contacts_reserved(svc, strlen(svc)))
		rc = e->cb(e->arg, o);
	json_decref(o);
	return (rc);
}

int
contacts_each(struct home *hm, int (*cb)(void *arg, json_t *rec), void *arg)
{

	return (contacts_each_since(hm, NULL, cb, arg));
}

int
contacts_each_since(struct home *hm, const struct store_vv *have,
    int (*cb)(void *arg, json_t *rec), void *arg)
{
	struct each_arg e = { hm, cb, arg };

	if (hm->h == NULL)
		return (KITH_ENOACCOUNT);
	return (store_scan(hm->st, have, STORE_UNIQUE, each_one, &e));
}

/* ---- cards ------------------------------------------------------------ */

int
contacts_card_mine(struct home *hm, const char *alias,
    struct contact_card *c)
{
	uint8_t *cert;
	size_t certlen;
	int rc;

	memset(c, 0, sizeof(*c));
	if (hm->roster == NULL)
		return (KITH_ENOACCOUNT);
	if (strlen(alias) == 0 || strlen(alias) > INVITE_NAMEMAX ||
	    !kith_text_ok(alias, strlen(alias)))
		return (KITH_EINVAL);
	if (store_meta_get(hm->st, "cert", &cert, &certlen) != 0)
		return (KITH_ENOENT);
	rc = invite_cert_parse(cert, certlen, c->account_pk, &c->dev);
	free(cert);
	if (rc != 0)
		return (KITH_ECORRUPT);
	snprintf(c->alias, sizeof(c->alias), "%s", alias);
	c->roster = hm->roster->blob;
	c->rosterlen = hm->roster->bloblen;
	return (0);
}

int
contacts_card_enc(const struct contact_card *c, uint8_t **out, size_t *len)
{
	size_t al = strlen(c->alias), n;
	uint8_t *b;

	if (al == 0 || al > INVITE_NAMEMAX || c->roster == NULL)
		return (KITH_EINVAL);
	n = 1 + 1 + al + c->rosterlen;
	if ((b = malloc(n)) == NULL)
		return (KITH_ENOMEM);
	b[0] = CARD_V1;
	b[1] = (uint8_t)al;
	memcpy(b + 2, c->alias, al);
	memcpy(b + 2 + al, c->roster, c->rosterlen);
	*out = b;
	*len = n;
	return (0);
}

int
contacts_card_dec(const uint8_t *b, size_t len,
    const uint8_t expect_kx[static 32], struct contact_card *c)
{
	const struct roster_dev *d;
	struct roster *r;
	size_t al;
	int rc;

	memset(c, 0, sizeof(*c));
	if (len < 2)
		return (KITH_EFORMAT);
	if (b[0] != CARD_V1)
		return (KITH_EVERSION);
	al = b[1];
	if (al == 0 || al > INVITE_NAMEMAX || len < 2 + al + 1 ||
	    !kith_text_ok((const char *)b + 2, al))
		return (KITH_EFORMAT);
	if ((rc = roster_decode(b + 2 + al, len - 2 - al, NULL, &r)) != 0)
		return (rc == KITH_ECRYPTO ? rc : KITH_EFORMAT);
	if ((d = roster_find_kx(r, expect_kx)) == NULL) {
		roster_free(r);
		return (KITH_ENOTMEMBER);
	}
	if (d->status != ROSTER_ACTIVE) {
		roster_free(r);
		return (KITH_EREVOKED);
	}
	memcpy(c->alias, b + 2, al);
	c->alias[al] = '\0';
	memcpy(c->account_pk, r->account_pk, 32);
	memcpy(c->dev.sign_pk, d->sign_pk, 32);
	memcpy(c->dev.kx_pk, d->kx_pk, 32);
	c->dev.added = d->added;
	snprintf(c->dev.name, sizeof(c->dev.name), "%s", d->name);
	roster_free(r);
	if ((c->roster = malloc(len - 2 - al)) == NULL)
		return (KITH_ENOMEM);
	memcpy(c->roster, b + 2 + al, len - 2 - al);
	c->rosterlen = len - 2 - al;
	return (0);
}

void
contacts_card_free(struct contact_card *c)
{

	free(c->roster);
	c->roster = NULL;
}
