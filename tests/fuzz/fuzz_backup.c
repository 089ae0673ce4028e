/*
 * fuzz_backup.c: the decoders of backup data, which read what a removable
 * medium holds (syncd/backup.c, and device.key of syncd/keys.c): whoever
 * had the medium, or the device, may have written any of it.  The first
 * byte of an input says what the rest is:
 *
 *  0. a backup state as kept in meta: backup_state_dec; whatever decodes
 *     must encode back to exactly the input;
 *  1. a manifest file, man-00000001.kbm of a set on a target: backup_find
 *     (which must name that set and number and give the file's clear
 *     passphrase seal, or say KITH_ECORRUPT exactly when there is none),
 *     backup_sets, backup_newest, and backup_open with a fixed account
 *     seed; what opens is read with backup_read (its segments are not
 *     there: KITH_ECORRUPT);
 *  2. a segment file, seg-00000001.kbs: backup_read of a manifest made
 *     here that names it with its own size and hash, so that the checks
 *     pass and decryption is reached;
 *  3. device.key: devkey_load, which must accept exactly the two file
 *     sizes with their magic, then devkey_unlock with the lock key of the
 *     fixed seed when it is sealed; keys opened must match the public keys;
 *  4. a manifest body in clear: man_parse against the account of the
 *     fixed seed;
 *  5. the same body, sealed here as manifest 1 of the fixed account:
 *     backup_open must answer exactly as man_parse does (and
 *     KITH_ECORRUPT for a body that says another number);
 *  6. a segment's plaintext (the record stream), sealed here as segment 1:
 *     backup_read, which parses it a chunk at a time, must hand over the
 *     records one recparse_feed of the whole stream finds, and succeed
 *     exactly when that stream ends on a whole record.
 *
 * Authenticated encryption stops random bytes in 1 and 2 at the first
 * chunk; 4 to 6 reach the parsers behind it.  They need backup.c's static
 * functions (man_parse, sf_open, sf_write, sf_close), so backup.c is
 * included here.  The harness then defines every external symbol of
 * backup.c itself, and the linker, which takes an object out of a static
 * library (kith_core, kith_fuzzcore) only for a symbol still undefined,
 * never takes backup.c's: nothing is defined twice.  gen_seeds.c does the
 * same to decrypt the seeds of 4 to 6 from a real backup.
 *
 * The files live in a directory of this process under /dev/shm (tmpfs:
 * sf_close's fsyncs cost nothing) or /tmp, removed at exit.  The seed is
 * that of the recovery code FB_CODE, as in gen_seeds.c, whose real backup
 * (of a home holding FB_RECS records) it opens.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "../../syncd/backup.c"

#include "hist.h"
#include "keys.h"
#include "kith_err.h"
#include "xfer.h"

#include "fuzz.h"

#define FB_CODE 0x6b		/* every byte of the recovery code */
#define FB_RECS 2		/* records of gen_seeds' backup */
#define FB_SET "0123456789abcdef"
#define FB_MAN "man-00000001.kbm"
#define FB_SEG "seg-00000001.kbs"

enum { M_STATE, M_MANFILE, M_SEGFILE, M_DEVKEY, M_MANBODY, M_MANSEALED,
    M_SEGSEALED, M_COUNT };

static uint8_t seed[32], apk[32], bpk[32];
static char base[64];			/* this process's directory */
static char target[128];		/* base/t: the target */
static char setdir[192];		/* target/kith-backup/FB_SET */
static char keydir[128];		/* base/d: holds device.key */

static void
path_in(char *out, size_t cap, const char *dir, const char *name)
{

	FUZZ_MUST((size_t)snprintf(out, cap, "%s/%s", dir, name) < cap);
}

static void
put(const char *dir, const char *name, const uint8_t *p, size_t n)
{
	char path[256];
	FILE *f;
	int ok;

	path_in(path, sizeof(path), dir, name);
	FUZZ_MUST((f = fopen(path, "wb")) != NULL);
	ok = fwrite(p, 1, n, f) == n;
	FUZZ_MUST(fclose(f) == 0 && ok);
}

/* Remove every file an input may have left in the set. */
static void
clear_set(void)
{
	static const char *const names[] = { FB_MAN, FB_SEG, ".tmp-" FB_MAN,
	    ".tmp-" FB_SEG };
	char path[256];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		path_in(path, sizeof(path), setdir, names[i]);
		FUZZ_MUST(unlink(path) == 0 || errno == ENOENT);
	}
}

static void
cleanup(void)
{
	char path[256];

	clear_set();
	path_in(path, sizeof(path), keydir, "device.key");
	(void)unlink(path);
	(void)rmdir(setdir);
	path_in(path, sizeof(path), target, BACKUP_DIRNAME);
	(void)rmdir(path);
	(void)rmdir(target);
	(void)rmdir(keydir);
	(void)rmdir(base);
}

static void
setup(void)
{
	static int done;
	uint8_t code[RECOVERY_BYTES], ask[64];
	char path[256];

	if (done)
		return;
	if (sodium_init() < 0)
		abort();
	memset(code, FB_CODE, sizeof(code));
	recovery_seed(code, seed);
	crypto_sign_seed_keypair(apk, ask, seed);
	sodium_memzero(ask, sizeof(ask));
	backup_keypair(seed, NULL, bpk);

	snprintf(base, sizeof(base), "/dev/shm/kith-fuzz-backup.XXXXXX");
	if (mkdtemp(base) == NULL) {
		snprintf(base, sizeof(base), "/tmp/kith-fuzz-backup.XXXXXX");
		FUZZ_MUST(mkdtemp(base) != NULL);
	}
	path_in(target, sizeof(target), base, "t");
	path_in(keydir, sizeof(keydir), base, "d");
	path_in(path, sizeof(path), target, BACKUP_DIRNAME);
	path_in(setdir, sizeof(setdir), path, FB_SET);
	FUZZ_MUST(kith_mkdirs(setdir, 0700) == 0);
	FUZZ_MUST(kith_mkdirs(keydir, 0700) == 0);
	atexit(cleanup);
	done = 1;
}

/* What a decoded manifest must be, whatever it came from. */
static void
check_manifest(const struct backup_manifest *m)
{
	uint64_t total = 0;
	size_t i;

	FUZZ_MUST(memchr(m->name, '\0', sizeof(m->name)) != NULL);
	FUZZ_MUST(memcmp(m->account_pk, apk, 32) == 0);
	FUZZ_MUST(m->roster != NULL && m->rosterlen > 0);
	FUZZ_MUST(m->keys != NULL && m->keyslen > 0);
	FUZZ_MUST(m->vv != NULL);
	FUZZ_MUST(m->nseg <= 4096 && (m->nseg == 0) == (m->seg == NULL));
	for (i = 0; i < m->nseg; i++)
		total += m->seg[i].recs;
	FUZZ_MUST(total == m->total);
}

static volatile uint8_t sink;	/* the bytes read, kept from the optimiser */

/* A record handed over: read all of it, so that ASan checks it. */
static int
rec_cb(void *arg, const struct store_rec *rec)
{
	uint64_t *n = arg;
	uint8_t x = 0;
	size_t i;

	FUZZ_MUST(rec->seq != 0);
	FUZZ_MUST(rec->boxlen >= HIST_BOXOVER && rec->boxlen <= STORE_MAXBOX);
	for (i = 0; i < rec->boxlen; i++)
		x ^= rec->box[i];
	sink = x;
	(*n)++;
	return (0);
}

/* A manifest struct that names only segment 1, as it is. */
static void
one_seg(struct backup_manifest *m, struct backup_seg *s,
    const uint8_t hash[32], uint64_t size, uint64_t recs)
{

	memset(m, 0, sizeof(*m));
	snprintf(m->set, sizeof(m->set), "%s", FB_SET);
	memset(s, 0, sizeof(*s));
	s->num = 1;
	s->size = size;
	s->recs = recs;
	memcpy(s->hash, hash, 32);
	m->nseg = 1;
	m->seg = s;
	m->total = recs;
}

/* Seal ${p} as file ${name} (number 1) of the set, as backup_run does. */
static void
seal(const char *name, const char *magic, const uint8_t *clear,
    size_t clen, const uint8_t *p, size_t n, uint8_t hash[32],
    uint64_t *size)
{
	struct sfile f;

	FUZZ_MUST(sf_open(&f, setdir, name, magic, clear, clen, bpk, 1) == 0);
	FUZZ_MUST(sf_write(&f, p, n) == 0);
	FUZZ_MUST(sf_close(&f, hash, size) == 0);
}

static void
do_state(const uint8_t *p, size_t n)
{
	struct backup_state s;
	uint8_t *b;
	size_t len;
	int rc;

	rc = backup_state_dec(p, n, &s);
	FUZZ_MUST(rc == 0 || rc == KITH_EFORMAT);
	if (rc == 0) {
		FUZZ_MUST(backup_state_enc(&s, &b, &len) == 0);
		FUZZ_MUST(len == n && memcmp(b, p, n) == 0);
		free(b);
	}
	backup_state_free(&s);
}

static void
do_manfile(const uint8_t *p, size_t n)
{
	struct backup_manifest m;
	uint8_t sp[ACCOUNT_SEALED_LEN];
	uint64_t num, k = 0;
	char set[17], sets[4][17];
	size_t nsets;
	int rc, want;

	clear_set();
	put(setdir, FB_MAN, p, n);

	FUZZ_MUST(backup_sets(target, sets, 4, &nsets) == 0);
	FUZZ_MUST(nsets == 1 && strcmp(sets[0], FB_SET) == 0);
	FUZZ_MUST(backup_newest(target, FB_SET) == 1);
	want = n >= 8 + ACCOUNT_SEALED_LEN && memcmp(p, MAGIC_MAN, 8) == 0 ?
	    0 : KITH_ECORRUPT;
	rc = backup_find(target, NULL, set, sp, &num);
	FUZZ_MUST(rc == want);
	if (rc == 0) {
		FUZZ_MUST(strcmp(set, FB_SET) == 0 && num == 1);
		FUZZ_MUST(memcmp(sp, p + 8, ACCOUNT_SEALED_LEN) == 0);
	}
	FUZZ_MUST(backup_find(setdir, NULL, set, sp, &num) == want);

	rc = backup_open(target, FB_SET, 1, seed, &m);
	FUZZ_MUST(rc == 0 || rc == KITH_EBADPASS || rc == KITH_ECORRUPT ||
	    rc == KITH_EVERSION);
	if (rc == 0) {
		check_manifest(&m);
		FUZZ_MUST(m.number == 1 && strcmp(m.set, FB_SET) == 0);
		rc = backup_read(target, &m, seed, rec_cb, &k);
		FUZZ_MUST(m.nseg == 0 ? rc == 0 : rc == KITH_ECORRUPT);
	}
	backup_manifest_free(&m);
}

static void
do_segfile(const uint8_t *p, size_t n)
{
	struct backup_manifest m;
	struct backup_seg s;
	uint8_t hash[32];
	uint64_t k = 0;
	int rc;

	clear_set();
	put(setdir, FB_MAN, p, 0);	/* a set holds a manifest */
	put(setdir, FB_SEG, p, n);
	crypto_generichash(hash, 32, p, n, NULL, 0);
	one_seg(&m, &s, hash, n, FB_RECS);
	rc = backup_read(target, &m, seed, rec_cb, &k);
	FUZZ_MUST(rc == 0 || rc == KITH_ECORRUPT);
	FUZZ_MUST(rc != 0 || k == FB_RECS);
}

static void
do_devkey(const uint8_t *p, size_t n)
{
	struct devkey *k;
	uint8_t lock[DEVKEY_LOCKLEN], pk[32];
	int rc, v1, v2;

	put(keydir, "device.key", p, n);
	v1 = n == 8 + 64 + 32 && memcmp(p, "KITHDK1", 8) == 0;
	v2 = n == 8 + 32 + 32 + 24 + 96 + 16 && memcmp(p, "KITHDK2", 8) == 0;
	rc = devkey_load(keydir, 0, &k);
	FUZZ_MUST(rc == ((v1 || v2) ? 0 : KITH_ECORRUPT));
	if (rc != 0)
		return;
	FUZZ_MUST(k->locked == v2 && k->sealed == v2 && !k->unsaved);
	FUZZ_MUST(memcmp(k->sign_pk, p + (v2 ? 8 : 8 + 32), 32) == 0);
	devkey_lockkey(seed, k->sign_pk, lock);
	rc = devkey_unlock(keydir, k, lock);
	FUZZ_MUST(rc == 0 || (v2 && (rc == KITH_EBADPASS ||
	    rc == KITH_ECORRUPT)));
	FUZZ_MUST(k->locked == (rc != 0));
	if (rc == 0) {
		crypto_sign_ed25519_sk_to_pk(pk, k->sign_sk);
		FUZZ_MUST(memcmp(pk, k->sign_pk, 32) == 0);
		crypto_scalarmult_base(pk, k->kx_sk);
		FUZZ_MUST(memcmp(pk, k->kx_pk, 32) == 0);
	}
	devkey_free(k);
}

/* man_parse of ${p}: its answer, and *${number} when it accepts. */
static int
manbody(const uint8_t *p, size_t n, uint64_t *number)
{
	struct backup_manifest m;
	int rc;

	memset(&m, 0, sizeof(m));
	rc = man_parse(p, n, apk, &m);
	FUZZ_MUST(rc == 0 || rc == KITH_ECORRUPT || rc == KITH_EVERSION ||
	    rc == KITH_EBADPASS);
	if (rc == 0) {
		check_manifest(&m);
		*number = m.number;
	}
	backup_manifest_free(&m);
	return (rc);
}

static void
do_mansealed(const uint8_t *p, size_t n)
{
	struct backup_manifest m;
	uint8_t clear[ACCOUNT_SEALED_LEN], sp[ACCOUNT_SEALED_LEN], hash[32];
	uint64_t number = 0, size;
	char set[17];
	int rc, want;

	want = manbody(p, n, &number);
	if (want == 0 && number != 1)
		want = KITH_ECORRUPT;
	clear_set();
	memset(clear, 0x5a, sizeof(clear));
	seal(FB_MAN, MAGIC_MAN, clear, sizeof(clear), p, n, hash, &size);
	FUZZ_MUST(backup_find(target, NULL, set, sp, &number) == 0);
	FUZZ_MUST(number == 1 && memcmp(sp, clear, sizeof(sp)) == 0);
	rc = backup_open(target, FB_SET, 1, seed, &m);
	FUZZ_MUST(rc == want);
	if (rc == 0)
		check_manifest(&m);
	backup_manifest_free(&m);
}

static void
do_segsealed(const uint8_t *p, size_t n)
{
	struct backup_manifest m;
	struct backup_seg s;
	struct recparse rp;
	uint8_t hash[32];
	uint64_t size, n0 = 0, k = 0;
	int rc, rc0, whole;

	/* The stream in one piece. */
	memset(&rp, 0, sizeof(rp));
	rc0 = recparse_feed(&rp, p, n, rec_cb, &n0);
	FUZZ_MUST(rc0 == 0 || rc0 == KITH_EPROTO);
	whole = rc0 == 0 && !recparse_partial(&rp);
	recparse_free(&rp);

	/* The same stream sealed, read back a chunk at a time. */
	clear_set();
	put(setdir, FB_MAN, p, 0);
	seal(FB_SEG, MAGIC_SEG, NULL, 0, p, n, hash, &size);
	FUZZ_MUST(size == 8 + 32 + SS_HDR + n +
	    (n / CHUNK + (n % CHUNK != 0 || n == 0)) * SS_ABYTES);
	one_seg(&m, &s, hash, size, n0);
	rc = backup_read(target, &m, seed, rec_cb, &k);
	FUZZ_MUST(rc == (whole ? 0 : KITH_ECORRUPT));
	FUZZ_MUST(k == n0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t number;

	setup();
	if (size == 0)
		return (0);
	switch (data[0] % M_COUNT) {
	case M_STATE:
		do_state(data + 1, size - 1);
		break;
	case M_MANFILE:
		do_manfile(data + 1, size - 1);
		break;
	case M_SEGFILE:
		do_segfile(data + 1, size - 1);
		break;
	case M_DEVKEY:
		do_devkey(data + 1, size - 1);
		break;
	case M_MANBODY:
		(void)manbody(data + 1, size - 1, &number);
		break;
	case M_MANSEALED:
		do_mansealed(data + 1, size - 1);
		break;
	default:
		do_segsealed(data + 1, size - 1);
		break;
	}
	return (0);
}
