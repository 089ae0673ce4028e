/*
 * seeds_roster.c: the seed corpus of fuzz_roster: rosters of the fixed
 * account A signed here (a chain 1 -> 2 -> 3 with an addition and a
 * revocation, a reset roster), pairs of them, and certificates, in each
 * mode of the harness (see fuzz_roster.c):
 *
 *     seeds_roster tests/fuzz/corpus
 */
#include <string.h>

#include "roster.h"

#include "seeds.h"

#define FR_SEED_A 0xa1		/* as in fuzz_roster.c */

static uint8_t ask[64], apk[32];

/* Fixed times, so that the bytes are the same on every run. */
static void
fix_times(struct roster *r, uint64_t t)
{
	size_t i;

	r->time = t;
	for (i = 0; i < r->ndev; i++) {
		r->dev[i].added = t - 1000 + i;
		if (r->dev[i].status == ROSTER_REVOKED)
			r->dev[i].revoked = t - 10;
	}
}

static void
dev(struct roster *r, int c, const char *name, int by)
{
	uint8_t s[32], k[32], b[32];

	memset(s, c, 32);
	memset(k, c + 1, 32);
	memset(b, by, 32);
	seeds_must(roster_add(r, s, k, name, b), "roster_add");
}

static void
finish(struct roster *r, uint64_t t)
{
	uint8_t key[32];

	memset(key, 0x30 + (int)r->epoch, sizeof(key));
	fix_times(r, t);
	seeds_must(roster_grant_all(r, key), "roster_grant_all");
	seeds_must(roster_sign(r, ask), "roster_sign");
}

static void
pair(const char *name, const struct roster *a, const struct roster *b)
{
	uint8_t *p;
	size_t n = 2 + a->bloblen + b->bloblen;

	if ((p = malloc(n)) == NULL)
		exit(1);
	p[0] = (uint8_t)(a->bloblen >> 8);
	p[1] = (uint8_t)a->bloblen;
	memcpy(p + 2, a->blob, a->bloblen);
	memcpy(p + 2 + a->bloblen, b->blob, b->bloblen);
	seeds_put(name, 2, p, n);
	free(p);
}

int
main(int argc, char **argv)
{
	struct roster *r1, *r2, *r3, *rs, *rf;
	uint8_t seed[32], out[CERT_MAXLEN], s[32];
	char name[64];
	size_t len, i;

	seeds_init(argc, argv, "fuzz_roster");
	memset(seed, FR_SEED_A, sizeof(seed));
	crypto_sign_seed_keypair(apk, ask, seed);

	seeds_must(roster_new(apk, &r1), "roster_new");
	dev(r1, 0x10, "one", 0x10);
	finish(r1, 1700000000);
	seeds_must(roster_next(r1, &r2), "roster_next");
	dev(r2, 0x20, "two \xc3\xa9", 0x10);
	finish(r2, 1700000100);
	seeds_must(roster_next(r2, &r3), "roster_next");
	memset(s, 0x20, 32);
	seeds_must(roster_revoke(r3, s, s), "roster_revoke");
	r3->epoch = 2;
	dev(r3, 0x40, "three", 0x10);
	finish(r3, 1700000200);
	seeds_must(roster_new(apk, &rs), "roster_new");
	rs->version = (uint64_t)1700000300 << 20;
	rs->flags = ROSTER_F_RESET;
	rs->epoch = 3;
	dev(rs, 0x50, "reset", 0x50);
	finish(rs, 1700000300);
	/* The largest roster: every slot used, long names. */
	seeds_must(roster_new(apk, &rf), "roster_new");
	for (i = 0; i < ROSTER_MAXDEV; i++) {
		snprintf(name, sizeof(name), "device %03zu %s", i,
		    "................................................");
		dev(rf, (int)(2 * i + 2) & 0xff, name, 2);
		if (i % 2)
			rf->dev[i].status = ROSTER_REVOKED;
	}
	finish(rf, 1700000400);

	seeds_put("raw-v1", 0, r1->blob, r1->bloblen);
	seeds_put("raw-v3", 0, r3->blob, r3->bloblen);
	seeds_put("signed-v1", 1, r1->blob, r1->bloblen);
	seeds_put("signed-v2", 1, r2->blob, r2->bloblen);
	seeds_put("signed-v3", 1, r3->blob, r3->bloblen);
	seeds_put("signed-reset", 1, rs->blob, rs->bloblen);
	seeds_put("signed-full", 1, rf->blob, rf->bloblen);
	seeds_put("signed-cut", 1, r2->blob, r2->bloblen - 65);
	pair("pair-v1-v2", r1, r2);
	pair("pair-v2-v3", r2, r3);
	pair("pair-v1-v3", r1, r3);
	pair("pair-v3-reset", r3, rs);
	pair("pair-v2-v2", r2, r2);

	for (i = 0; i < r3->ndev; i++) {
		seeds_must(cert_make(ask, &r3->dev[i], out, &len), "cert_make");
		snprintf(name, sizeof(name), "cert-%zu", i);
		seeds_put(name, 3, out, len);
	}
	seeds_put("cert-raw", 0, out, len);
	roster_free(r1);
	roster_free(r2);
	roster_free(r3);
	roster_free(rs);
	roster_free(rf);
	return (0);
}
