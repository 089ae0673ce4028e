/*
 * check.c: the offline checks of libkith, on roster_verify (roster.c) and
 * invite_check (contacts.c), with what they found as JSON text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "contacts.h"
#include "invitation.h"
#include "kith.h"
#include "kith_err.h"
#include "kith_util.h"
#include "libkith_int.h"
#include "pair.h"
#include "roster.h"

/* What a roster may weigh here; one is far smaller (ROSTER_MAXDEV). */
#define LIB_ROSTERMAX ((size_t)1 << 20)

/* 64 hex digits to 32 bytes; 0 or KITH_LIB_EINVAL. */
static int
hex32(const char *s, uint8_t out[static 32])
{

	return (strlen(s) == 64 && kith_unhex(s, 64, out, 32) == 0 ? 0 :
	    KITH_LIB_EINVAL);
}

static json_t *
hexj(const uint8_t *b, size_t len)
{
	char h[65];

	kith_hex(b, len, h);
	return (json_string(h));
}

static json_t *
fpj(const uint8_t pk[static 32])
{
	char fp[15];

	pair_fingerprint(pk, fp);
	return (json_string(fp));
}

/* Hand ${o} (its reference taken) to the caller as text. */
static int
give(json_t *o, char **out)
{

	if (o == NULL)
		return (KITH_LIB_ENOMEM);
	*out = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return (*out == NULL ? KITH_LIB_ENOMEM : 0);
}

static json_t *
roster_json(const struct roster *r)
{
	const struct roster_dev *d;
	json_t *o, *devs, *dj;
	size_t i;

	devs = json_array();
	for (i = 0; i < r->ndev; i++) {
		d = &r->dev[i];
		dj = json_pack("{s:o, s:s, s:s, s:I, s:o}", "id",
		    hexj(d->sign_pk, 32), "name", d->name, "status",
		    d->status == ROSTER_REVOKED ? "revoked" : "active", "added",
		    (json_int_t)d->added, "added_by", hexj(d->added_by, 32));
		if (dj != NULL && d->status == ROSTER_REVOKED) {
			json_object_set_new(dj, "revoked",
			    json_integer((json_int_t)d->revoked));
			json_object_set_new(dj, "revoked_by",
			    hexj(d->revoked_by, 32));
		}
		json_array_append_new(devs, dj);
	}
	o = json_pack("{s:I, s:o, s:o, s:I, s:I, s:b, s:o, s:o}", "version",
	    (json_int_t)r->version, "account", hexj(r->account_pk, 32),
	    "fingerprint", fpj(r->account_pk), "time", (json_int_t)r->time,
	    "epoch", (json_int_t)r->epoch, "reset",
	    (r->flags & ROSTER_F_RESET) != 0, "hash", hexj(r->hash, 32),
	    "devices", devs);
	return (o);
}

int
kith_roster_check(const void *roster, size_t len, const char *account_hex,
    const void *held, size_t heldlen, const char *device_hex, char **info_json)
{
	uint8_t acct[32], dev[32];
	struct roster *r;
	json_t *o;
	int rc, st;

	if (info_json != NULL)
		*info_json = NULL;
	if (roster == NULL || len == 0 || (held == NULL && heldlen != 0) ||
	    (held != NULL && heldlen == 0) ||
	    (account_hex != NULL && hex32(account_hex, acct) != 0) ||
	    (device_hex != NULL && hex32(device_hex, dev) != 0))
		return (KITH_LIB_EINVAL);
	if (len > LIB_ROSTERMAX || heldlen > LIB_ROSTERMAX)
		return (KITH_LIB_ETOOBIG);
	if (sodium_init() < 0)
		return (KITH_LIB_EINTERNAL);
	if ((rc = roster_verify(roster, len, account_hex != NULL ? acct : NULL,
	    held, heldlen, &r)) != 0)
		return (lib_err(rc));
	rc = 0;
	o = NULL;
	if (info_json != NULL)
		o = roster_json(r);
	if (device_hex != NULL) {
		st = roster_status(r, dev);
		rc = st == ROSTER_ACTIVE ? 0 : st == ROSTER_REVOKED ?
		    KITH_LIB_EREVOKED : KITH_LIB_ENOTMEMBER;
		if (o != NULL)
			json_object_set_new(o, "device", json_pack("{s:s, s:s}",
			    "id", device_hex, "status", st == ROSTER_ACTIVE ?
			    "active" : st == ROSTER_REVOKED ? "revoked" :
			    "absent"));
	}
	roster_free(r);
	if (info_json != NULL && give(o, info_json) != 0)
		return (KITH_LIB_ENOMEM);
	return (rc);
}

static json_t *
invitation_json(const struct invitation *inv, int roster_checked)
{

	/* Never inv->secret: it keys the channel of the answer. */
	return (json_pack("{s:o, s:s, s:s, s:s, s:s, s:o, s:o, s:s, s:o,"
	    " s:I, s:i, s:b}", "id", hexj(inv->token, INVITE_TOKENLEN),
	    "service", inv->uri, "service_name", inv->service, "alias",
	    inv->alias, "note", inv->note, "account", hexj(inv->account_pk, 32),
	    "fingerprint", fpj(inv->account_pk), "device", inv->dev.name,
	    "device_id", hexj(inv->dev.sign_pk, 32), "expires",
	    (json_int_t)inv->expiry, "uses", (int)inv->uses, "roster_checked",
	    roster_checked));
}

int
kith_invitation_check(const char *text, const void *roster, size_t rlen,
    const char *service, int64_t now, char **info_json)
{
	struct invitation inv;
	json_t *o = NULL;
	size_t len;
	int rc;

	if (info_json != NULL)
		*info_json = NULL;
	if (text == NULL || now < 0 || (roster == NULL) != (rlen == 0))
		return (KITH_LIB_EINVAL);
	/* An invitation is short (INVITE_MAXTEXT); room for white space. */
	if ((len = strlen(text)) > 4 * INVITE_MAXTEXT ||
	    rlen > LIB_ROSTERMAX)
		return (KITH_LIB_ETOOBIG);
	if (sodium_init() < 0)
		return (KITH_LIB_EINTERNAL);
	memset(&inv, 0, sizeof(inv));
	if ((rc = invitation_decode(text, len, &inv)) != 0)
		return (lib_err(rc));
	rc = invite_check(&inv, now == 0 ? kith_now() : (uint64_t)now,
	    roster, rlen);
	if (rc == 0 && service != NULL && strcmp(service, inv.uri) != 0)
		rc = KITH_EWRONGKIND;
	if (info_json != NULL)
		o = invitation_json(&inv, roster != NULL);
	invitation_wipe(&inv);
	if (info_json != NULL && give(o, info_json) != 0)
		return (KITH_LIB_ENOMEM);
	return (lib_err(rc));
}
