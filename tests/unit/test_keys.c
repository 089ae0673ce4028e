/*
 * test_keys.c: syncd/keys.c, device keys on disk, the sealed account key
 * and recovery codes.
 *
 *  1. devkey_load: new keys stay in memory (no file: nothing in clear
 *     on disk) until devkey_save_clear writes them (0600, O_EXCL, once);
 *     reloaded with the same keys; the public keys match the secret ones; a missing file without
 *     create is KITH_ENOENT; a corrupt file (too short, too long, empty,
 *     bad magic, far too long) is KITH_ECORRUPT and is never replaced;
 *  2. account_seal / account_unseal: round trip with a passphrase and with
 *     a recovery code; a wrong passphrase is KITH_EBADPASS; a change to the
 *     salt, either cost, the nonce, the ciphertext or the tag is an error;
 *  3. absurd cost fields (ops 0, ops 2^63, mem 0, mem 2^40) are
 *     KITH_EFORMAT at once (run in a child under alarm(), so that a hang
 *     is a failure, not a stuck test);
 *  4. recovery_new / recovery_parse: the text is the base32 of the bytes
 *     (checked with this file's own encoder) in groups of four; parsed back
 *     in upper and lower case, with and without dashes, with spaces; bad
 *     codes are KITH_EFORMAT; two codes differ in their random part;
 *  5. recovery codes carry check bytes: a fixed code parses to its bytes;
 *     every one-character typo of it (each position, each other base32
 *     character) is KITH_EBADPASS, as are typos in the random part of
 *     fresh codes and changed check bytes;
 *  6. recovery_seed: as keys.h defines it, deterministic, different for
 *     different codes, the same from the code as typed; account_idkey:
 *     deterministic, not the seed, different for different seeds; both
 *     pinned by the fixed code (an account must rebuild from a code on
 *     paper for ever).
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "keys.h"
#include "kith_err.h"

#include "check.h"
#include "testlib.h"

static char dir[] = "/tmp/kith-test-keys.XXXXXX";
static char keypath[256];

static int
keys_eq(const struct devkey *a, const struct devkey *b)
{

	return (memcmp(a->sign_pk, b->sign_pk, 32) == 0 &&
	    memcmp(a->sign_sk, b->sign_sk, 64) == 0 &&
	    memcmp(a->kx_pk, b->kx_pk, 32) == 0 &&
	    memcmp(a->kx_sk, b->kx_sk, 32) == 0 &&
	    memcmp(a->store_key, b->store_key, 32) == 0);
}

/* Load ${content} as device.key; the file must survive unchanged. */
static void
expect_corrupt(const uint8_t *content, size_t n, int line)
{
	struct devkey *k = NULL;
	uint8_t *after;
	size_t an = 0;
	int rc;

	if (write_file(keypath, content, n) != 0) {
		check(0, "write device.key", line);
		return;
	}
	rc = devkey_load(dir, 0, &k);
	check_rc(rc, KITH_ECORRUPT, "devkey_load(dir, 0, &k)", line);
	if (rc == 0)
		devkey_free(k);
	k = NULL;
	rc = devkey_load(dir, 1, &k);
	check_rc(rc, KITH_ECORRUPT, "devkey_load(dir, 1, &k)", line);
	if (rc == 0)
		devkey_free(k);
	after = read_file(keypath, &an);
	check(after != NULL && an == n && memcmp(after, content, n) == 0,
	    "a corrupt device.key is left as it was", line);
	free(after);
}

static void
test_devkey(void)
{
	struct devkey *k1 = NULL, *k2 = NULL, *k3 = NULL;
	struct stat sb;
	uint8_t pk[32], *file, *bad;
	size_t n = 0;

	CHECK_RC(devkey_load(dir, 0, &k1), KITH_ENOENT);
	CHECK(access(keypath, F_OK) != 0);
	if (!CHECK_RC(devkey_load(dir, 1, &k1), 0))
		return;
	CHECK(k1->unsaved && access(keypath, F_OK) != 0);
	CHECK_RC(devkey_save_clear(dir, k1), 0);
	CHECK(!k1->unsaved);
	CHECK_RC(devkey_save_clear(dir, k1), 0);	/* saved: nothing to do */
	if (CHECK(stat(keypath, &sb) == 0)) {
		CHECK(S_ISREG(sb.st_mode));
		CHECK((sb.st_mode & 07777) == 0600);
	}

	/* The public keys belong to the secret ones. */
	crypto_sign_ed25519_sk_to_pk(pk, k1->sign_sk);
	CHECK(memcmp(pk, k1->sign_pk, 32) == 0);
	CHECK(crypto_scalarmult_base(pk, k1->kx_sk) == 0);
	CHECK(memcmp(pk, k1->kx_pk, 32) == 0);
	CHECK(!sodium_is_zero(k1->store_key, 32));
	CHECK(memcmp(k1->store_key, k1->kx_sk, 32) != 0);

	/* Reload, with and without create: the same keys, file untouched. */
	file = read_file(keypath, &n);
	CHECK(file != NULL && n > 0);
	if (CHECK_RC(devkey_load(dir, 0, &k2), 0)) {
		CHECK(keys_eq(k1, k2));
		devkey_free(k2);
	}
	if (CHECK_RC(devkey_load(dir, 1, &k3), 0)) {
		CHECK(keys_eq(k1, k3));
		devkey_free(k3);
	}
	{
		size_t n2 = 0;
		uint8_t *again = read_file(keypath, &n2);

		CHECK(again != NULL && n2 == n && memcmp(again, file, n) == 0);
		free(again);
	}

	/* Another directory gets other keys. */
	{
		char d2[300];
		char p2[320];

		snprintf(d2, sizeof(d2), "%s/other", dir);
		snprintf(p2, sizeof(p2), "%s/device.key", d2);
		if (CHECK(mkdir(d2, 0700) == 0) &&
		    CHECK_RC(devkey_load(d2, 1, &k2), 0)) {
			CHECK(memcmp(k1->sign_pk, k2->sign_pk, 32) != 0);
			CHECK(memcmp(k1->kx_sk, k2->kx_sk, 32) != 0);
			devkey_free(k2);
		}
		unlink(p2);
		rmdir(d2);
	}

	if (file == NULL || n < 8)
		goto done;

	/* Corrupt files: one byte short, one byte long, empty, bad magic. */
	expect_corrupt(file, n - 1, __LINE__);
	if ((bad = malloc(n + 5000)) == NULL)
		abort();
	memcpy(bad, file, n);
	bad[n] = 0;
	expect_corrupt(bad, n + 1, __LINE__);
	expect_corrupt(bad, 0, __LINE__);
	memcpy(bad, file, n);
	bad[0] ^= 0x20;
	expect_corrupt(bad, n, __LINE__);
	memcpy(bad, file, n);
	bad[7] ^= 0x01;
	expect_corrupt(bad, n, __LINE__);
	/*
	 * Regression (found by this test, since fixed): a device.key of
	 * more than 4096 bytes came back as KITH_ETOOBIG (from
	 * kith_file_read), which keys.h does not list; it is as corrupt as
	 * any other length.
	 */
	memcpy(bad, file, n);
	memset(bad + n, 0x55, 5000);
	expect_corrupt(bad, n + 5000, __LINE__);
	free(bad);

	/* The original file loads again. */
	if (CHECK(write_file(keypath, file, n) == 0) &&
	    CHECK_RC(devkey_load(dir, 0, &k2), 0)) {
		CHECK(keys_eq(k1, k2));
		devkey_free(k2);
	}
done:
	free(file);
	devkey_free(k1);
	devkey_free(NULL);
	unlink(keypath);
}

static void
test_seal(void)
{
	static const char pass[] = "correct horse battery staple";
	static const char wrong[] = "correct horse battery stapler";
	uint8_t seed[32], out[32], s1[ACCOUNT_SEALED_LEN],
	    s2[ACCOUNT_SEALED_LEN], t[ACCOUNT_SEALED_LEN];
	struct {
		size_t off;
		uint8_t x;
		const char *what;
	} tamper[] = {
		{ 0, 0x01, "salt, first byte" },
		{ 15, 0x80, "salt, last byte" },
		{ 23, 0x01, "opslimit 4 -> 5" },
		{ 29, 0x10, "memlimit + 1 MiB" },
		{ 31, 0x01, "memlimit + 1 byte (same Argon2 cost)" },
		{ 32, 0x01, "nonce" },
		{ 56, 0x01, "ciphertext" },
		{ 87, 0x01, "ciphertext, last byte" },
		{ 88, 0x01, "tag" },
		{ ACCOUNT_SEALED_LEN - 1, 0x80, "tag, last byte" },
	};
	size_t i;
	int rc;

	randombytes_buf(seed, 32);
	if (!CHECK_RC(account_seal(seed, (const uint8_t *)pass,
	    strlen(pass), s1), 0))
		return;
	/* The seed is not in the clear, and two seals differ. */
	for (i = 0; i + 32 <= ACCOUNT_SEALED_LEN; i++)
		if (memcmp(s1 + i, seed, 32) == 0)
			break;
	CHECK(i + 32 > ACCOUNT_SEALED_LEN);
	CHECK_RC(account_seal(seed, (const uint8_t *)pass, strlen(pass), s2),
	    0);
	CHECK(memcmp(s1, s2, ACCOUNT_SEALED_LEN) != 0);

	memset(out, 0, sizeof(out));
	CHECK_RC(account_unseal(s1, (const uint8_t *)pass, strlen(pass), out),
	    0);
	CHECK(memcmp(out, seed, 32) == 0);

	CHECK_RC(account_unseal(s1, (const uint8_t *)wrong, strlen(wrong),
	    out), KITH_EBADPASS);
	CHECK_RC(account_unseal(s1, (const uint8_t *)pass, strlen(pass) - 1,
	    out), KITH_EBADPASS);
	CHECK_RC(account_unseal(s1, (const uint8_t *)"", 0, out),
	    KITH_EBADPASS);

	for (i = 0; i < sizeof(tamper) / sizeof(tamper[0]); i++) {
		memcpy(t, s1, sizeof(t));
		t[tamper[i].off] ^= tamper[i].x;
		memset(out, 0, sizeof(out));
		rc = account_unseal(t, (const uint8_t *)pass, strlen(pass),
		    out);
		if (!check(rc != 0, tamper[i].what, __LINE__))
			continue;
		CHECK(memcmp(out, seed, 32) != 0);
	}

	/* An empty passphrase is a passphrase like any other. */
	CHECK_RC(account_seal(seed, (const uint8_t *)"", 0, s2), 0);
	CHECK_RC(account_unseal(s2, (const uint8_t *)"", 0, out), 0);
	CHECK(memcmp(out, seed, 32) == 0);
	CHECK_RC(account_unseal(s2, (const uint8_t *)"x", 1, out),
	    KITH_EBADPASS);
}

static void
put64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

/* Child body: returns the number of failed checks. */
static int
absurd_costs(void)
{
	static const struct {
		uint64_t ops, mem;
	} c[] = {
		{ 0, 32u << 20 },
		{ (uint64_t)1 << 63, 32u << 20 },
		{ UINT64_MAX, 32u << 20 },
		{ 4, 0 },
		{ 4, (uint64_t)1 << 40 },
		{ 4, UINT64_MAX },
		{ 0, 0 },
	};
	uint8_t s[ACCOUNT_SEALED_LEN], seed[32], out[32];
	struct timespec t0, t1;
	double dt;
	size_t i;
	int rc, bad = 0;

	randombytes_buf(seed, 32);
	if (account_seal(seed, (const uint8_t *)"pw", 2, s) != 0)
		return (1);
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		put64(s + 16, c[i].ops);
		put64(s + 24, c[i].mem);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		rc = account_unseal(s, (const uint8_t *)"pw", 2, out);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		dt = (double)(t1.tv_sec - t0.tv_sec) +
		    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
		if (rc != KITH_EFORMAT || dt > 1.0) {
			fprintf(stderr, "test_keys.c: costs ops %llu mem %llu:"
			    " rc %d (%s) after %.2f s, want KITH_EFORMAT"
			    " at once\n", (unsigned long long)c[i].ops,
			    (unsigned long long)c[i].mem, rc,
			    kith_strerror(rc), dt);
			bad++;
		}
	}
	return (bad);
}

static void
test_absurd_costs(void)
{
	pid_t pid;
	int st;

	fflush(stderr);
	if ((pid = fork()) == -1) {
		CHECK(!"fork");
		return;
	}
	if (pid == 0) {
		int bad;

		alarm(15);
		bad = absurd_costs();
		_exit(bad > 100 ? 100 : bad);
	}
	if (!CHECK(waitpid(pid, &st, 0) == pid))
		return;
	if (WIFSIGNALED(st))
		fprintf(stderr, "test_keys.c: absurd costs: child killed by"
		    " signal %d (a hang?)\n", WTERMSIG(st));
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void
test_recovery(void)
{
	uint8_t b1[RECOVERY_BYTES], b2[RECOVERY_BYTES], p[RECOVERY_BYTES];
	uint8_t seed[32], out[32], sealed[ACCOUNT_SEALED_LEN];
	char t1[RECOVERY_TEXTLEN], t2[RECOVERY_TEXTLEN], m[128], want[64];
	size_t i, o;
	int shape = 1;

	b32((const uint8_t *)"foobar", 6, want);
	CHECK(strcmp(want, "MZXW6YTBOI") == 0);	/* RFC 4648 */

	memset(t1, 'x', sizeof(t1));
	recovery_new(b1, t1);
	recovery_new(b2, t2);
	/* 18 random bytes, then 2 check bytes: the random parts differ. */
	CHECK(memcmp(b1, b2, RECOVERY_RANDOM) != 0);
	CHECK(strcmp(t1, t2) != 0);

	/* XXXX-XXXX-...: 8 groups of 4 base32 characters. */
	CHECK(strlen(t1) == RECOVERY_TEXTLEN - 1);
	for (i = 0; t1[i] != '\0'; i++) {
		if (i % 5 == 4)
			shape &= t1[i] == '-';
		else
			shape &= strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567",
			    t1[i]) != NULL;
	}
	CHECK(shape);

	/* The characters are the base32 of the bytes. */
	for (i = o = 0; t1[i] != '\0'; i++)
		if (t1[i] != '-')
			m[o++] = t1[i];
	m[o] = '\0';
	b32(b1, RECOVERY_BYTES, want);
	CHECK(strcmp(m, want) == 0);

	/* Parsed back as shown, without dashes, in lower case, spaced. */
	memset(p, 0, sizeof(p));
	CHECK_RC(recovery_parse(t1, p), 0);
	CHECK(memcmp(p, b1, RECOVERY_BYTES) == 0);
	memset(p, 0, sizeof(p));
	CHECK_RC(recovery_parse(m, p), 0);
	CHECK(memcmp(p, b1, RECOVERY_BYTES) == 0);
	for (i = 0; t1[i] != '\0'; i++)
		m[i] = (t1[i] >= 'A' && t1[i] <= 'Z') ?
		    (char)(t1[i] - 'A' + 'a') : t1[i];
	m[i] = '\0';
	memset(p, 0, sizeof(p));
	CHECK_RC(recovery_parse(m, p), 0);
	CHECK(memcmp(p, b1, RECOVERY_BYTES) == 0);
	for (i = 0; m[i] != '\0'; i++)
		if (m[i] == '-')
			m[i] = ' ';
	memset(p, 0, sizeof(p));
	CHECK_RC(recovery_parse(m, p), 0);
	CHECK(memcmp(p, b1, RECOVERY_BYTES) == 0);

	/* Bad codes. */
	CHECK_RC(recovery_parse("", p), KITH_EFORMAT);
	snprintf(m, sizeof(m), "%.34s", t1);	/* one group short */
	CHECK_RC(recovery_parse(m, p), KITH_EFORMAT);
	snprintf(m, sizeof(m), "%.38s", t1);	/* one character short */
	CHECK_RC(recovery_parse(m, p), KITH_EFORMAT);
	snprintf(m, sizeof(m), "%sA", t1);	/* one character more */
	CHECK_RC(recovery_parse(m, p), KITH_EFORMAT);
	snprintf(m, sizeof(m), "%s-AAAA", t1);	/* one group more */
	CHECK_RC(recovery_parse(m, p), KITH_EFORMAT);
	snprintf(m, sizeof(m), "%s", t1);
	m[0] = '0';
	CHECK_RC(recovery_parse(m, p), KITH_EFORMAT);
	m[0] = '1';
	CHECK_RC(recovery_parse(m, p), KITH_EFORMAT);
	snprintf(m, sizeof(m), "%s", t1);
	m[10] = '8';
	CHECK_RC(recovery_parse(m, p), KITH_EFORMAT);
	m[10] = '_';
	CHECK_RC(recovery_parse(m, p), KITH_EFORMAT);
	snprintf(m, sizeof(m), "%s", t1);
	m[4] = '/';
	CHECK_RC(recovery_parse(m, p), KITH_EFORMAT);

	/* A recovery code unseals what it sealed. */
	randombytes_buf(seed, 32);
	CHECK_RC(account_seal(seed, b1, RECOVERY_BYTES, sealed), 0);
	for (i = 0; t1[i] != '\0'; i++)
		m[i] = (t1[i] >= 'A' && t1[i] <= 'Z') ?
		    (char)(t1[i] - 'A' + 'a') : t1[i];
	m[i] = '\0';
	CHECK_RC(recovery_parse(m, p), 0);
	memset(out, 0, sizeof(out));
	CHECK_RC(account_unseal(sealed, p, RECOVERY_BYTES, out), 0);
	CHECK(memcmp(out, seed, 32) == 0);
	CHECK_RC(account_unseal(sealed, b2, RECOVERY_BYTES, out),
	    KITH_EBADPASS);
}

/*
 * A recovery code made from fixed bytes: 01 10 1f ... f1 00 (i * 0x0f + 1)
 * and the check bytes 91 e9; the account seed and id key it gives.  Codes
 * are written on paper and the account key is derived from them, so none
 * of these may ever change.
 */
static const char kat_code[] = "AEIB-6LR5-JRNW-U6MI-S6TL-LRGT-4LYQ-BEPJ";
static const uint8_t kat_check[2] = { 0x91, 0xe9 };
static const char kat_seed[] =
    "2591203c0628e8a4f0a41032bf7c0470c26942d49de6cef66db52171147a6e73";
static const char kat_idkey[] =
    "ac907044ab397c36ad586c40a657f62242df3aae55b6bd80b984fad392cb914f";
static const char b32al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

static void
kat_bytes(uint8_t b[RECOVERY_BYTES])
{
	size_t i;

	for (i = 0; i < RECOVERY_RANDOM; i++)
		b[i] = (uint8_t)(i * 0x0f + 1);
	memcpy(b + RECOVERY_RANDOM, kat_check, sizeof(kat_check));
}

/*
 * A mistyped code is told apart from a wrong one: recovery_parse gives
 * KITH_EBADPASS, not KITH_EFORMAT (it is a code) and not 0 (it would
 * unseal nothing and derive another account).
 */
static void
test_recovery_typo(void)
{
	uint8_t want[RECOVERY_BYTES], p[RECOVERY_BYTES], b[RECOVERY_BYTES];
	char m[RECOVERY_TEXTLEN + 8], t[RECOVERY_TEXTLEN];
	size_t i, j, k;
	int rc, wrong = 0, accepted = 0;

	/* The fixed code, as shown, and with its bytes. */
	kat_bytes(want);
	b32(want, RECOVERY_BYTES, m);
	for (i = j = 0; kat_code[i] != '\0'; i++)
		if (kat_code[i] != '-' && kat_code[i] != m[j++])
			break;
	CHECK(kat_code[i] == '\0' && m[j] == '\0');
	memset(p, 0, sizeof(p));
	CHECK_RC(recovery_parse(kat_code, p), 0);
	CHECK(memcmp(p, want, RECOVERY_BYTES) == 0);

	/*
	 * Every character of it changed to each other base32 character.
	 * (20 bytes are exactly 32 characters, so no change falls in
	 * padding bits; all 992 are fixed, so this cannot be flaky.)
	 */
	for (i = 0; kat_code[i] != '\0'; i++) {
		if (kat_code[i] == '-')
			continue;
		for (k = 0; k < 32; k++) {
			if (b32al[k] == kat_code[i])
				continue;
			snprintf(m, sizeof(m), "%s", kat_code);
			m[i] = b32al[k];
			if ((rc = recovery_parse(m, p)) != KITH_EBADPASS) {
				wrong++;
				fprintf(stderr, "test_keys.c: %s: rc %d (%s),"
				    " want KITH_EBADPASS\n", m, rc,
				    kith_strerror(rc));
			}
		}
	}
	CHECK(wrong == 0);
	/* Typed in lower case, without dashes, with a typo. */
	CHECK_RC(recovery_parse("aeib6lr5jrnwu6mis6tllrgt4lyqbepj", p), 0);
	CHECK_RC(recovery_parse("aeib6lr5jrnwu6mis6tllrgt4lyqbepk", p),
	    KITH_EBADPASS);
	CHECK_RC(recovery_parse("aeib6lr5jrnwu6mjs6tllrgt4lyqbepj", p),
	    KITH_EBADPASS);

	/*
	 * Fresh codes: typos in the random part (the first 28 characters)
	 * at several positions, every replacement.  A 2-byte check lets one
	 * typo in 65536 through, so over these 217 a stray acceptance or
	 * two is possible (about 1 run in 300 sees one); without check bytes
	 * all would pass.
	 */
	recovery_new(b, t);
	wrong = 0;
	for (i = 0; i < 28; i += 4) {
		size_t at = i + i / 4;	/* past the dashes */

		for (k = 0; k < 32; k++) {
			if (b32al[k] == t[at])
				continue;
			snprintf(m, sizeof(m), "%s", t);
			m[at] = b32al[k];
			rc = recovery_parse(m, p);
			if (rc == 0)
				accepted++;
			else if (rc != KITH_EBADPASS)
				wrong++;
		}
	}
	CHECK(wrong == 0);
	CHECK(accepted <= 2);

	/* Changed check bytes are always caught. */
	wrong = 0;
	for (i = RECOVERY_RANDOM; i < RECOVERY_BYTES; i++) {
		for (k = 0; k < 8; k++) {
			memcpy(want, b, sizeof(want));
			want[i] ^= (uint8_t)(1u << k);
			b32(want, RECOVERY_BYTES, m);
			if (recovery_parse(m, p) != KITH_EBADPASS)
				wrong++;
		}
	}
	CHECK(wrong == 0);
	/* And the code itself parses. */
	CHECK_RC(recovery_parse(t, p), 0);
	CHECK(memcmp(p, b, RECOVERY_BYTES) == 0);
}

static void
test_recovery_seed(void)
{
	static const uint8_t ctx[] = "kith account seed v1";
	uint8_t b1[RECOVERY_BYTES], b2[RECOVERY_BYTES], p[RECOVERY_BYTES];
	uint8_t s1[32], s1b[32], s2[32], w[32], i1[32], i1b[32], i2[32];
	char t1[RECOVERY_TEXTLEN], t2[RECOVERY_TEXTLEN], hex[65];

	recovery_new(b1, t1);
	recovery_new(b2, t2);
	recovery_seed(b1, s1);
	recovery_seed(b1, s1b);
	recovery_seed(b2, s2);
	CHECK(memcmp(s1, s1b, 32) == 0);
	CHECK(memcmp(s1, s2, 32) != 0);
	CHECK(!sodium_is_zero(s1, 32));

	/* keys.h: BLAKE2b-256 keyed by the code over "kith account seed v1". */
	crypto_generichash(w, 32, ctx, sizeof(ctx) - 1, b1, RECOVERY_BYTES);
	CHECK(memcmp(w, s1, 32) == 0);

	/* The code as typed gives the same seed: the code alone rebuilds. */
	if (CHECK_RC(recovery_parse(t1, p), 0)) {
		recovery_seed(p, w);
		CHECK(memcmp(w, s1, 32) == 0);
	}

	/* The id key: fixed by the seed, neither the seed nor another's. */
	account_idkey(s1, i1);
	account_idkey(s1, i1b);
	account_idkey(s2, i2);
	CHECK(memcmp(i1, i1b, 32) == 0);
	CHECK(memcmp(i1, s1, 32) != 0);
	CHECK(memcmp(i1, i2, 32) != 0);
	CHECK(!sodium_is_zero(i1, 32));

	/* The fixed code's seed and id key. */
	if (CHECK_RC(recovery_parse(kat_code, p), 0)) {
		recovery_seed(p, w);
		sodium_bin2hex(hex, sizeof(hex), w, 32);
		CHECK(strcmp(hex, kat_seed) == 0);
		account_idkey(w, i1);
		sodium_bin2hex(hex, sizeof(hex), i1, 32);
		CHECK(strcmp(hex, kat_idkey) == 0);
	}
}

int
main(void)
{

	if (sodium_init() < 0) {
		fprintf(stderr, "test_keys: sodium_init failed\n");
		return (1);
	}
	if (mkdtemp(dir) == NULL) {
		fprintf(stderr, "test_keys: mkdtemp: %s\n", strerror(errno));
		return (1);
	}
	snprintf(keypath, sizeof(keypath), "%s/device.key", dir);

	test_devkey();
	test_seal();
	test_absurd_costs();
	test_recovery();
	test_recovery_typo();
	test_recovery_seed();

	unlink(keypath);
	if (rmdir(dir) != 0) {
		fprintf(stderr, "test_keys: rmdir %s: %s\n", dir,
		    strerror(errno));
		nfail++;
	}
	printf("keys: %d checks passed, %d failed\n", npass, nfail);
	return (nfail == 0 ? 0 : 1);
}
