/*
 * test_home: the account operations of home.c on real homes (SQLite files
 * in a temporary directory):
 *
 *  1. a commit built on a roster another handle has since replaced fails
 *     with KITH_ESTALE and leaves the newer roster on disk;
 *  2. a revocation starts a new epoch: its key is held here, new records
 *     go under it, and the revoked device has no grant;
 *  3. a passphrase change: the new passphrase opens, the old does not,
 *     and the old seal put back is refused (KITH_ESTALE);
 *  4. recovery from the code with the old roster and --revoke-others:
 *     same account key, next version, every earlier device revoked, a new
 *     epoch; another account's code is refused (KITH_EBADPASS).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "check.h"
#include "home.h"
#include "testhome.h"
#include "kith_err.h"

static const uint8_t PASS[] = "correct horse battery staple";
static const uint8_t PASS2[] = "another passphrase entirely";

static char *
tmpdir(const char *tag)
{
	static char buf[4][64];
	static int n;
	char *d = buf[n++ % 4];

	snprintf(d, 64, "/tmp/kith-test-home-%s-XXXXXX", tag);
	if (mkdtemp(d) == NULL)
		abort();
	return (d);
}

static void
rmhome(const char *dir)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

/* A made-up device for the roster. */
static void
fake_dev(struct roster *r, const char *name, uint8_t sign_pk[32])
{
	uint8_t kx_pk[32], kx_sk[32];

	randombytes_buf(sign_pk, 32);
	crypto_box_keypair(kx_pk, kx_sk);
	CHECK_RC(roster_add(r, sign_pk, kx_pk, name, r->dev[0].sign_pk), 0);
}

static uint64_t
disk_version(const char *dir)
{
	struct home *hm;
	uint64_t v = 0;

	if (home_open(dir, 0, &hm) == 0) {
		v = hm->roster != NULL ? hm->roster->version : 0;
		home_close(hm);
	}
	return (v);
}

int
main(void)
{
	struct home *h1, *h2, *h3;
	struct roster *r;
	uint8_t *sk, dev2[32], dev3[32], code[RECOVERY_BYTES];
	uint8_t sealed_old[ACCOUNT_SEALED_LEN], sealed_new[ACCOUNT_SEALED_LEN];
	uint8_t *seed;
	char text[RECOVERY_TEXTLEN], *dir, *rdir;
	size_t i;

	if (sodium_init() < 0)
		return (1);
	dir = tmpdir("a");
	rmdir(dir);
	CHECK_RC(home_open(dir, 1, &h1), 0);
	CHECK_RC(home_init_account(h1, "a", PASS, sizeof(PASS) - 1, text), 0);
	CHECK_RC(home_open_pass(dir, PASS, sizeof(PASS) - 1, &h2), 0);
	CHECK_RC(home_account_sk(h1, PASS, sizeof(PASS) - 1, &sk), 0);

	/* 1. h1 enrols a device; h2, still at version 1, tries the same. */
	CHECK_RC(roster_next(h1->roster, &r), 0);
	fake_dev(r, "two", dev2);
	CHECK_RC(home_roster_commit(h1, r, sk, 0, NULL), 0);
	CHECK(h1->roster->version == 2);
	CHECK(h2->roster->version == 1);
	CHECK_RC(roster_next(h2->roster, &r), 0);
	fake_dev(r, "three", dev3);
	CHECK_RC(home_roster_commit(h2, r, sk, 0, NULL), KITH_ESTALE);
	CHECK(disk_version(dir) == 2);
	CHECK(h2->roster->version == 1);	/* unchanged in memory too */
	home_close(h2);

	/* 2. Revoke "two": epoch 2, held here, no grant for it. */
	CHECK(hist_epoch(h1->h) == 1);
	CHECK_RC(roster_next(h1->roster, &r), 0);
	CHECK_RC(roster_revoke(r, dev2, h1->dk->sign_pk), 0);
	CHECK_RC(home_roster_commit(h1, r, sk, 1, NULL), 0);
	CHECK(h1->roster->version == 3 && h1->roster->epoch == 2);
	CHECK(hist_epoch(h1->h) == 2);
	CHECK(hist_key(h1->h, 1) != NULL && hist_key(h1->h, 2) != NULL);
	CHECK(h1->roster->ngrant == 1);
	for (i = 0; i < h1->roster->ngrant; i++)
		CHECK(memcmp(h1->roster->grant[i].sign_pk, dev2, 32) != 0);
	CHECK(disk_version(dir) == 3);

	/* 3. A new passphrase. */
	CHECK_RC(home_seal(h1, sealed_old), 0);
	seed = sodium_malloc(32);
	crypto_sign_ed25519_sk_to_seed(seed, sk);
	CHECK_RC(account_seal(seed, PASS2, sizeof(PASS2) - 1, sealed_new), 0);
	sodium_free(seed);
	CHECK_RC(roster_next(h1->roster, &r), 0);
	CHECK_RC(home_roster_commit(h1, r, sk, 0, sealed_new), 0);
	sodium_free(sk);
	CHECK_RC(home_account_sk(h1, PASS, sizeof(PASS) - 1, &sk),
	    KITH_EBADPASS);
	CHECK_RC(home_account_sk(h1, PASS2, sizeof(PASS2) - 1, &sk), 0);
	sodium_free(sk);
	CHECK_RC(store_meta_put(h1->st, "sealed_pass", sealed_old,
	    sizeof(sealed_old)), 0);
	CHECK_RC(home_account_sk(h1, PASS, sizeof(PASS) - 1, &sk),
	    KITH_ESTALE);
	CHECK_RC(store_meta_put(h1->st, "sealed_pass", sealed_new,
	    sizeof(sealed_new)), 0);

	/* 4. Recovery on a fresh home from the code and roster 4. */
	CHECK_RC(recovery_parse(text, code), 0);
	sodium_memzero(text, sizeof(text));
	rdir = tmpdir("r");
	CHECK_RC(home_open(rdir, 1, &h3), 0);
	{
		uint8_t other[RECOVERY_BYTES];
		char ot[RECOVERY_TEXTLEN];

		recovery_new(other, ot);
		CHECK_RC(home_recover(h3, "r", other, PASS, sizeof(PASS) - 1,
		    h1->roster, 1), KITH_EBADPASS);
		CHECK(!h3->has_account);
	}
	CHECK_RC(home_recover(h3, "r", code, PASS, sizeof(PASS) - 1, NULL,
	    0), KITH_EINVAL);
	CHECK_RC(home_recover(h3, "r", code, PASS, sizeof(PASS) - 1,
	    h1->roster, 1), 0);
	CHECK(memcmp(h3->account_pk, h1->account_pk, 32) == 0);
	CHECK(h3->roster->version == h1->roster->version + 1);
	CHECK(h3->roster->epoch == h1->roster->epoch + 1);
	CHECK(roster_active(h3->roster) == 1);
	CHECK(roster_status(h3->roster, h1->dk->sign_pk) == ROSTER_REVOKED);
	CHECK(roster_status(h3->roster, h3->dk->sign_pk) == ROSTER_ACTIVE);
	CHECK_RC(roster_supersedes(h1->roster, h3->roster), 0);
	CHECK(hist_epoch(h3->h) == h3->roster->epoch);
	CHECK_RC(home_account_sk(h3, PASS, sizeof(PASS) - 1, &sk), 0);
	sodium_free(sk);
	sodium_memzero(code, sizeof(code));

	home_close(h3);
	home_close(h1);
	rmhome(rdir);
	rmhome(dir);
	printf("home: %d checks passed, %d failed\n", npass, nfail);
	return (nfail == 0 ? 0 : 1);
}
