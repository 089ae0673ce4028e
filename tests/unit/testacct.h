/*
 * testacct.h: accounts and devices for unit tests, made through the
 * library as kith makes them: a temporary directory per home (removed by
 * acct_cleanup), a new account, and a further device enrolled as pair.c
 * enrols one (roster, certificate, history keys, seals, in one
 * transaction on the new device).  Include check.h first.
 */
#ifndef KITH_TEST_TESTACCT_H
#define KITH_TEST_TESTACCT_H

#include <stdio.h>
#include <stdlib.h>

#include <sodium.h>

#include "home.h"
#include "store.h"

static const uint8_t ACCT_PASS[] = "correct horse battery staple";

static char *acct_dirs[32];
static size_t acct_ndirs;

/* A new directory /tmp/kith-test-PREFIX-TAG-XXXXXX, removed at cleanup. */
static inline char *
acct_tmpdir(const char *prefix, const char *tag)
{
	char *d = malloc(96);

	if (d == NULL || acct_ndirs == sizeof(acct_dirs) / sizeof(*acct_dirs))
		abort();
	snprintf(d, 96, "/tmp/kith-test-%s-%s-XXXXXX", prefix, tag);
	if (mkdtemp(d) == NULL)
		abort();
	acct_dirs[acct_ndirs++] = d;
	return (d);
}

static inline void
acct_cleanup(void)
{
	char cmd[160];
	size_t i;

	for (i = 0; i < acct_ndirs; i++) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", acct_dirs[i]);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", acct_dirs[i]);
		free(acct_dirs[i]);
	}
	acct_ndirs = 0;
}

/* A new account whose first device is named ${name}; exits on failure. */
static inline struct home *
acct_new(const char *prefix, const char *name)
{
	struct home *hm;
	char rec[RECOVERY_TEXTLEN];

	if (home_open(acct_tmpdir(prefix, name), 1, &hm) != 0 ||
	    home_init_account(hm, name, ACCT_PASS, sizeof(ACCT_PASS) - 1,
	    rec) != 0) {
		fprintf(stderr, "cannot make the account %s\n", name);
		exit(1);
	}
	sodium_memzero(rec, sizeof(rec));
	return (hm);
}

/*
 * A device named ${name} enrolled into ${owner}'s account by ${owner}
 * (whose account key is ${sk}): added to the roster, then given what
 * pair.c's joiner takes in.  NULL on failure (checks report why).
 */
static inline struct home *
acct_enrol(const char *prefix, struct home *owner, const uint8_t *sk,
    const char *name)
{
	uint8_t cert[CERT_MAXLEN], sp[ACCOUNT_SEALED_LEN], *sr = NULL;
	uint8_t *keys = NULL;
	struct roster *r;
	struct home *hm;
	size_t certlen, srlen = 0, klen;

	if (home_open(acct_tmpdir(prefix, name), 1, &hm) != 0)
		return (NULL);
	CHECK_RC(roster_next(owner->roster, &r), 0);
	CHECK_RC(roster_add(r, hm->dk->sign_pk, hm->dk->kx_pk, name,
	    owner->dk->sign_pk), 0);
	CHECK_RC(home_roster_commit(owner, r, sk, 0, NULL), 0);
	CHECK_RC(cert_make(sk, roster_find_sign(owner->roster,
	    hm->dk->sign_pk), cert, &certlen), 0);
	CHECK_RC(hist_keys_export(owner->h, &keys, &klen), 0);
	CHECK_RC(home_seal(owner, sp), 0);
	CHECK_RC(store_meta_get(owner->st, "sealed_recovery", &sr, &srlen),
	    0);
	CHECK(srlen == ACCOUNT_SEALED_LEN);
	CHECK_RC(roster_decode(owner->roster->blob, owner->roster->bloblen,
	    owner->account_pk, &r), 0);
	CHECK_RC(store_begin(hm->st), 0);
	CHECK_RC(store_meta_put(hm->st, "cert", cert, certlen), 0);
	CHECK_RC(hist_keys_import(hm->st, hm->dk, keys, klen), 0);
	CHECK_RC(home_adopt_account(hm, owner->account_pk, sp, sr), 0);
	CHECK_RC(home_set_name(hm, name), 0);
	CHECK_RC(home_roster_install(hm, r, sp), 0);
	CHECK_RC(store_commit(hm->st), 0);
	CHECK_RC(home_load_hist(hm), 0);
	sodium_free(keys);
	free(sr);
	CHECK(hm->roster != NULL && hm->h != NULL);
	return (hm);
}

#endif
