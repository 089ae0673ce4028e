/*
 * fuzz_roster.c: rosters and device certificates (syncd/roster.c), which
 * arrive from other devices and from services.  The first byte of an input
 * says what the rest is:
 *
 *  0. raw bytes: roster_decode (with the pinned account key and without)
 *     and cert_verify; random bytes never verify;
 *  1. a roster body, signed here by the fixed account A (the last 64 bytes
 *     are replaced by A's signature), so that the checks behind the
 *     signature are reached.  It must decode unless malformed (never
 *     KITH_ECRYPTO but for another account_pk); what decodes must encode
 *     again (roster_sign) to exactly the input, keep every bound, fail to
 *     verify under another key or with any one bit flipped, and be judged
 *     by roster_supersedes against two held rosters of A only as the
 *     rules of docs/PROTOCOL.md 4.3 allow (checked again here), with
 *     roster_verify agreeing;
 *  2. two roster bodies (a 2-byte big-endian length of the first, then
 *     both), each signed as in 1: the second against the first as held,
 *     and never both ways;
 *  3. a certificate body, signed here by A: cert_verify, then cert_make
 *     of what it gives must be exactly the input; a flipped bit or another
 *     key fails.
 *
 * Keys come from fixed seeds (seeds_roster.c uses the same ones).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "kith_err.h"
#include "kith_sign.h"
#include "roster.h"

#include "fuzz.h"

#define FR_SEED_A 0xa1
#define FR_SEED_B 0xb2
#define FR_MAXIN (1 << 16)
#define FR_PKOFF (4 + 1 + 8 + 32)	/* account_pk in a roster */

static const uint8_t roster_ctx[] = "kith roster v1";
static const uint8_t cert_ctx[] = "kith device certificate v1";

static uint8_t ask[64], apk[32], bsk[64], bpk[32];
static struct roster *held[2];

static void
keypair(int c, uint8_t pk[32], uint8_t sk[64])
{
	uint8_t seed[32];

	memset(seed, c, sizeof(seed));
	FUZZ_MUST(crypto_sign_seed_keypair(pk, sk, seed) == 0);
}

static void
dev_keys(int c, uint8_t sign_pk[32], uint8_t kx_pk[32])
{

	memset(sign_pk, c, 32);
	memset(kx_pk, c + 1, 32);
}

/* H1: version 1, one device; H2: its successor, a second device added. */
static void
init(void)
{
	static int done;
	struct roster *r;
	uint8_t s1[32], k1[32], s2[32], k2[32], key[32];

	if (done)
		return;
	done = 1;
	FUZZ_MUST(sodium_init() >= 0);
	keypair(FR_SEED_A, apk, ask);
	keypair(FR_SEED_B, bpk, bsk);
	dev_keys(0x10, s1, k1);
	dev_keys(0x20, s2, k2);
	memset(key, 0x33, sizeof(key));
	FUZZ_MUST(roster_new(apk, &r) == 0);
	FUZZ_MUST(roster_add(r, s1, k1, "one", s1) == 0);
	FUZZ_MUST(roster_grant_all(r, key) == 0);
	FUZZ_MUST(roster_sign(r, ask) == 0);
	held[0] = r;
	FUZZ_MUST(roster_next(held[0], &r) == 0);
	FUZZ_MUST(roster_add(r, s2, k2, "two", s1) == 0);
	FUZZ_MUST(roster_grant_all(r, key) == 0);
	FUZZ_MUST(roster_sign(r, ask) == 0);
	held[1] = r;
}

/* Sign ${b} (its last 64 bytes become the signature) with ${sk}. */
static void
resign(uint8_t *b, size_t n, const uint8_t *ctx, size_t ctxlen,
    const uint8_t sk[64])
{

	if (n >= 64)
		FUZZ_MUST(kith_sign_ctx(b + n - 64, ctx, ctxlen, NULL, b, n - 64,
		    sk) == 0);
}

/* A byte of the input picked by its hash: where to flip a bit. */
static size_t
pick(const uint8_t *b, size_t n, unsigned *bit)
{
	uint8_t h[8];
	uint64_t v = 0;
	size_t i;

	crypto_generichash(h, sizeof(h), b, n, NULL, 0);
	for (i = 0; i < 8; i++)
		v = v << 8 | h[i];
	*bit = (unsigned)(v >> 61);
	return ((size_t)(v % n));
}

/* The rules a successor must keep (docs/PROTOCOL.md 4.3), again. */
static void
check_successor(const struct roster *h, const struct roster *c)
{
	const struct roster_dev *hd, *cd;
	size_t i;
	int revokes = 0;

	FUZZ_MUST(memcmp(h->account_pk, c->account_pk, 32) == 0);
	FUZZ_MUST(c->version > h->version);
	if (c->flags & ROSTER_F_RESET) {
		for (i = 0; i < h->ndev; i++) {
			hd = &h->dev[i];
			if (hd->status != ROSTER_REVOKED)
				continue;
			cd = roster_find_sign(c, hd->sign_pk);
			FUZZ_MUST(cd == NULL || cd->status != ROSTER_ACTIVE);
			cd = roster_find_kx(c, hd->kx_pk);
			FUZZ_MUST(cd == NULL || cd->status != ROSTER_ACTIVE);
		}
		return;
	}
	if (c->version == h->version + 1)
		FUZZ_MUST(memcmp(c->prev, h->hash, 32) == 0);
	FUZZ_MUST(c->epoch >= h->epoch);
	for (i = 0; i < h->ndev; i++) {
		hd = &h->dev[i];
		FUZZ_MUST((cd = roster_find_sign(c, hd->sign_pk)) != NULL);
		FUZZ_MUST(memcmp(cd->kx_pk, hd->kx_pk, 32) == 0 &&
		    memcmp(cd->added_by, hd->added_by, 32) == 0 &&
		    cd->added == hd->added && strcmp(cd->name, hd->name) == 0);
		if (hd->status == ROSTER_REVOKED)
			FUZZ_MUST(cd->status == ROSTER_REVOKED &&
			    cd->revoked == hd->revoked &&
			    memcmp(cd->revoked_by, hd->revoked_by, 32) == 0);
		revokes |= hd->status == ROSTER_ACTIVE &&
		    cd->status == ROSTER_REVOKED;
	}
	if (revokes)
		FUZZ_MUST(c->epoch > h->epoch);
}

/* ${c} against the held ${h}: roster_supersedes and roster_verify. */
static void
check_against(const struct roster *h, const struct roster *c)
{
	struct roster *o = NULL;
	int rc, rv;

	rc = roster_supersedes(h, c);
	FUZZ_MUST(rc == 0 || rc == KITH_ESTALE || rc == KITH_EFORK ||
	    rc == KITH_ECRYPTO || rc == KITH_EROSTER);
	if (rc == 0)
		check_successor(h, c);
	if (rc == KITH_EFORK)
		FUZZ_MUST(c->version == h->version &&
		    memcmp(c->hash, h->hash, 32) != 0);
	if (rc == KITH_ESTALE)
		FUZZ_MUST(c->version <= h->version);
	rv = roster_verify(c->blob, c->bloblen, apk, h->blob, h->bloblen, &o);
	if (rc == KITH_ESTALE && c->version == h->version)
		FUZZ_MUST(rv == 0 && memcmp(c->hash, h->hash, 32) == 0);
	else
		FUZZ_MUST(rv == rc);
	if (rv == 0)
		FUZZ_MUST(o != NULL && o->bloblen == c->bloblen &&
		    memcmp(o->blob, c->blob, c->bloblen) == 0);
	roster_free(o);
}

/* A roster that decoded from ${b}: bounds, one encoding, no forgery. */
static void
check_roster(const struct roster *r, const uint8_t *b, size_t n)
{
	struct roster *c, *o;
	uint8_t hash[32], *f;
	unsigned bit;
	size_t i, pos;

	FUZZ_MUST(r->bloblen == n && memcmp(r->blob, b, n) == 0);
	crypto_generichash(hash, 32, b, n, NULL, 0);
	FUZZ_MUST(memcmp(hash, r->hash, 32) == 0);
	FUZZ_MUST(r->version >= 1 && r->epoch >= 1);
	FUZZ_MUST(r->ndev <= ROSTER_MAXDEV && r->ngrant == roster_active(r));
	for (i = 0; i < r->ndev; i++) {
		FUZZ_MUST(r->dev[i].status == ROSTER_ACTIVE ||
		    r->dev[i].status == ROSTER_REVOKED);
		FUZZ_MUST(roster_name_ok(r->dev[i].name));
		FUZZ_MUST(roster_find_sign(r, r->dev[i].sign_pk) == &r->dev[i]);
		FUZZ_MUST(roster_find_kx(r, r->dev[i].kx_pk) == &r->dev[i]);
		FUZZ_MUST(roster_status(r, r->dev[i].sign_pk) ==
		    r->dev[i].status);
	}
	FUZZ_MUST(roster_supersedes(r, r) == KITH_ESTALE);

	/* One encoding: signing what was read writes the same bytes. */
	FUZZ_MUST((c = malloc(sizeof(*c))) != NULL);
	memcpy(c, r, sizeof(*c));
	c->blob = NULL;
	if (memcmp(r->account_pk, apk, 32) == 0) {
		FUZZ_MUST(roster_sign(c, ask) == 0);
		FUZZ_MUST(c->bloblen == n && memcmp(c->blob, b, n) == 0);
	}
	roster_free(c);

	/* No other key, and no bit of it, may change. */
	FUZZ_MUST(roster_decode(b, n, bpk, &o) == KITH_ECRYPTO);
	FUZZ_MUST((f = malloc(n)) != NULL);
	memcpy(f, b, n);
	pos = pick(b, n, &bit);
	f[pos] ^= (uint8_t)(1u << bit);
	FUZZ_MUST(roster_decode(f, n, r->account_pk, &o) != 0);
	FUZZ_MUST(roster_decode(f, n, NULL, &o) != 0);
	free(f);
	FUZZ_MUST(roster_decode(b, n - 1, NULL, &o) != 0);
}

/* Decode a body signed by A; 0 and *${out}, or the error. */
static int
signed_roster(const uint8_t *in, size_t n, struct roster **out)
{
	struct roster *r2 = NULL;
	uint8_t *b;
	int rc, rc2;

	*out = NULL;
	FUZZ_MUST((b = malloc(n ? n : 1)) != NULL);
	memcpy(b, in, n);
	resign(b, n, roster_ctx, sizeof(roster_ctx) - 1, ask);
	rc = roster_decode(b, n, apk, out);
	FUZZ_MUST(rc == 0 || rc == KITH_EFORMAT || rc == KITH_EVERSION ||
	    rc == KITH_ECRYPTO);
	/* Signed by A: only another account named in it fails so. */
	if (rc == KITH_ECRYPTO)
		FUZZ_MUST(memcmp(b + FR_PKOFF, apk, 32) != 0);
	rc2 = roster_decode(b, n, NULL, &r2);
	if (rc == 0) {
		FUZZ_MUST(rc2 == 0);
		check_roster(*out, b, n);
	} else if (rc == KITH_ECRYPTO)
		FUZZ_MUST(rc2 == KITH_ECRYPTO);
	else
		FUZZ_MUST(rc2 == rc);
	roster_free(r2);
	free(b);
	return (rc);
}

static void
one_roster(const uint8_t *p, size_t n)
{
	struct roster *r;
	size_t i;

	if (signed_roster(p, n, &r) != 0)
		return;
	for (i = 0; i < 2; i++)
		check_against(held[i], r);
	roster_free(r);
}

static void
two_rosters(const uint8_t *p, size_t n)
{
	struct roster *a, *b;
	size_t la;

	if (n < 2)
		return;
	la = (size_t)p[0] << 8 | p[1];
	if (la > n - 2)
		return;
	if (signed_roster(p + 2, la, &a) != 0)
		return;
	if (signed_roster(p + 2 + la, n - 2 - la, &b) == 0) {
		check_against(a, b);
		check_against(b, a);
		FUZZ_MUST(roster_supersedes(a, b) != 0 ||
		    roster_supersedes(b, a) != 0);
		roster_free(b);
	}
	roster_free(a);
}

static void
cert(const uint8_t *in, size_t n)
{
	struct roster_dev d, e;
	uint8_t *b, out[CERT_MAXLEN];
	unsigned bit;
	size_t len, pos;
	int rc;

	FUZZ_MUST((b = malloc(n ? n : 1)) != NULL);
	memcpy(b, in, n);
	resign(b, n, cert_ctx, sizeof(cert_ctx) - 1, ask);
	rc = cert_verify(b, n, apk, &d);
	FUZZ_MUST(rc == 0 || rc == KITH_EFORMAT || rc == KITH_EVERSION ||
	    rc == KITH_ECRYPTO);
	if (rc == KITH_ECRYPTO)
		FUZZ_MUST(memcmp(b + 5, apk, 32) != 0);
	if (rc == 0) {
		FUZZ_MUST(n <= CERT_MAXLEN && d.status == ROSTER_ACTIVE &&
		    roster_name_ok(d.name));
		FUZZ_MUST(cert_make(ask, &d, out, &len) == 0);
		FUZZ_MUST(len == n && memcmp(out, b, n) == 0);
		FUZZ_MUST(cert_verify(b, n, bpk, &e) == KITH_ECRYPTO);
		pos = pick(b, n, &bit);
		b[pos] ^= (uint8_t)(1u << bit);
		FUZZ_MUST(cert_verify(b, n, apk, &e) != 0);
	}
	free(b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct roster_dev d;
	struct roster *r;
	int rc;

	init();
	if (size < 1 || size > FR_MAXIN)
		return (0);
	switch (data[0] % 4) {
	case 0:
		rc = roster_decode(data + 1, size - 1, NULL, &r);
		if (rc == 0) {
			check_roster(r, data + 1, size - 1);
			roster_free(r);
		}
		if (roster_decode(data + 1, size - 1, apk, &r) == 0) {
			check_roster(r, data + 1, size - 1);
			roster_free(r);
		}
		(void)cert_verify(data + 1, size - 1, apk, &d);
		break;
	case 1:
		one_roster(data + 1, size - 1);
		break;
	case 2:
		two_rosters(data + 1, size - 1);
		break;
	case 3:
		cert(data + 1, size - 1);
		break;
	}
	return (0);
}
