/*
 * seeds_join.c: the seed corpus of fuzz_join, written to the directory
 * named (tests/fuzz/corpus/fuzz_join):
 *
 *     seeds_join DIR
 *
 * A real shower home (fuzz_join.h's fixed keys, an account "shower" with
 * SJ_RECS records) enrols the joiner as pair_serve's enrol() does, and
 * the messages pair_serve would send are written as frames: WAIT, ACCOUNT,
 * ROSTER, CERT, KEYS, BEGIN, RECS, END.  Seeds: that whole sequence
 * ("genuine"), the same without CERT's certificate, without records, cut
 * after each message, REFUSE of each reason, a roster of another account,
 * one that does not list the joiner, a flipped signature byte, and an
 * ACCOUNT whose passphrase seal is not the roster's.
 */
#include "fuzz_home.h"
#include "fuzz_join.h"
#include "seeds.h"

#include "backup.h"
#include "pair.h"
#include "roster.h"
#include "xfer.h"

#define SJ_PASS "seeds join"
#define SJ_RECS 3
#define SJ_MAX (1 << 20)

static uint8_t out[SJ_MAX];
static size_t outlen;

static void
frame(uint8_t type, const uint8_t *p, size_t n)
{

	if (outlen + 3 + n > sizeof(out) || n > 0xffff) {
		fprintf(stderr, "seeds_join: frame too big\n");
		exit(1);
	}
	out[outlen] = type;
	out[outlen + 1] = (uint8_t)(n >> 8);
	out[outlen + 2] = (uint8_t)n;
	if (n > 0)
		memcpy(out + outlen + 3, p, n);
	outlen += 3 + n;
}

static uint8_t recs[SJ_MAX];
static size_t recslen;

static int
add_rec(void *arg, const struct store_rec *rec)
{
	uint64_t *n = arg;

	if (recslen + XFER_RECHDR + rec->boxlen > sizeof(recs))
		return (KITH_ETOOBIG);
	xfer_rechdr(recs + recslen, rec);
	memcpy(recs + recslen + XFER_RECHDR, rec->box, rec->boxlen);
	recslen += XFER_RECHDR + rec->boxlen;
	(*n)++;
	return (0);
}

/* A device.key in clear (format 1) of the given key bytes. */
static void
devkey(const char *dir, uint8_t sign, uint8_t kx)
{
	uint8_t file[8 + 64 + 32], seed[32], pk[32];

	memcpy(file, "KITHDK1", 8);
	memset(seed, sign, sizeof(seed));
	crypto_sign_seed_keypair(pk, file + 8, seed);
	memset(file + 72, kx, 32);
	fh_write(dir, "device.key", file, sizeof(file));
}

struct msgs {
	uint8_t acct[32 + 2 * ACCOUNT_SEALED_LEN];
	uint8_t *roster;
	size_t rosterlen;
	uint8_t cert[CERT_MAXLEN + DEVKEY_LOCKLEN + 32];
	size_t certlen;
	uint8_t *keys;
	size_t keyslen;
	uint8_t begin[16];
};

/* An account home in ${dir} of shower keys ${sign}/${kx}, the joiner in. */
static struct home *
shower(const char *dir, uint8_t sign, uint8_t kx, int recs_too,
    int list_joiner, struct msgs *m)
{
	uint8_t jsign_pk[32], jsign_sk[64], jkx_pk[32], seed[32], *sk, *v;
	char path[512], rec[RECOVERY_TEXTLEN], json[256];
	struct roster *r;
	struct home *hm;
	store *st;
	size_t len;
	uint64_t n = 0;
	int i, added;

	fh_rmdir(dir);
	if (mkdir(dir, 0700) != 0)
		fh_fail(dir, 0);
	snprintf(path, sizeof(path), "%s/kith.db", dir);
	seeds_must(store_open(path, &st), "store_open");
	store_close(st);
	devkey(dir, sign, kx);
	seeds_must(home_open(dir, 0, &hm), "home_open");
	seeds_must(home_init_account(hm, "shower", (const uint8_t *)SJ_PASS,
	    strlen(SJ_PASS), rec), "home_init_account");
	sodium_memzero(rec, sizeof(rec));
	if (recs_too) {
		seeds_must(store_begin(hm->st), "store_begin");
		for (i = 0; i < SJ_RECS; i++) {
			snprintf(json, sizeof(json), "{\"service\":\"mail\","
			    "\"id\":\"j%d\",\"time\":%d,\"subject\":\"s%d\"}",
			    i, 1000 + i, i);
			seeds_must(hist_add(hm->h, json, strlen(json),
			    &added), "hist_add");
		}
		seeds_must(store_commit(hm->st), "store_commit");
	}

	memset(seed, FH_SIGN, 32);
	crypto_sign_seed_keypair(jsign_pk, jsign_sk, seed);
	memset(seed, FH_KX, 32);
	crypto_scalarmult_base(jkx_pk, seed);
	seeds_must(home_account_sk(hm, (const uint8_t *)SJ_PASS,
	    strlen(SJ_PASS), &sk), "home_account_sk");
	if (list_joiner) {
		seeds_must(roster_next(hm->roster, &r), "roster_next");
		seeds_must(roster_add(r, jsign_pk, jkx_pk, FJ_NAME,
		    hm->dk->sign_pk), "roster_add");
		seeds_must(home_roster_commit(hm, r, sk, 0, NULL),
		    "home_roster_commit");
		seeds_must(cert_make(sk, roster_find_sign(hm->roster,
		    jsign_pk), m->cert, &m->certlen), "cert_make");
	} else {
		struct roster_dev d;

		memset(&d, 0, sizeof(d));
		memcpy(d.sign_pk, jsign_pk, 32);
		memcpy(d.kx_pk, jkx_pk, 32);
		d.status = ROSTER_ACTIVE;
		snprintf(d.name, sizeof(d.name), "%s", FJ_NAME);
		seeds_must(cert_make(sk, &d, m->cert, &m->certlen),
		    "cert_make");
	}
	devkey_lockkey(sk, jsign_pk, m->cert + m->certlen);
	backup_keypair(sk, NULL, m->cert + m->certlen + DEVKEY_LOCKLEN);
	m->certlen += DEVKEY_LOCKLEN + 32;
	sodium_free(sk);

	memcpy(m->acct, hm->account_pk, 32);
	seeds_must(store_meta_get(hm->st, "sealed_pass", &v, &len), "meta");
	memcpy(m->acct + 32, v, ACCOUNT_SEALED_LEN);
	free(v);
	seeds_must(store_meta_get(hm->st, "sealed_recovery", &v, &len),
	    "meta");
	memcpy(m->acct + 32 + ACCOUNT_SEALED_LEN, v, ACCOUNT_SEALED_LEN);
	free(v);
	m->roster = malloc(hm->roster->bloblen);
	memcpy(m->roster, hm->roster->blob, hm->roster->bloblen);
	m->rosterlen = hm->roster->bloblen;
	seeds_must(hist_keys_export(hm->h, &m->keys, &m->keyslen),
	    "hist_keys_export");
	recslen = 0;
	seeds_must(store_scan(hm->st, NULL, 0, add_rec, &n), "store_scan");
	kith_be64enc(m->begin, n);
	kith_be64enc(m->begin + 8, recslen - n * XFER_RECHDR);
	return (hm);
}

/* WAIT, then the four account messages up to ${upto}, then the stream. */
static void
sequence(const struct msgs *m, int upto, int with_cert, int stream)
{

	outlen = 0;
	frame(MSG_WAIT, NULL, 0);
	if (upto >= 1)
		frame(MSG_ACCOUNT, m->acct, sizeof(m->acct));
	if (upto >= 2)
		frame(MSG_ROSTER, m->roster, m->rosterlen);
	if (upto >= 3)
		frame(MSG_CERT, m->cert, with_cert ? m->certlen : 0);
	if (upto >= 4)
		frame(MSG_KEYS, m->keys, m->keyslen);
	if (upto >= 5 && stream) {
		frame(MSG_BEGIN, m->begin, 16);
		if (recslen > 0)
			frame(MSG_RECS, recs, recslen);
		frame(MSG_END, m->begin, 16);
	}
}

int
main(int argc, char **argv)
{
	struct msgs m, other;
	struct home *hm, *ho;
	char base[64], dir[128], name[64];
	uint8_t b[1];
	int i;

	seeds_init(argc, argv, "fuzz_join");
	snprintf(base, sizeof(base), "/dev/shm/kith-seeds-join-%ld",
	    (long)getpid());
	if (mkdir(base, 0700) != 0) {
		snprintf(base, sizeof(base), "/tmp/kith-seeds-join-%ld",
		    (long)getpid());
		if (mkdir(base, 0700) != 0)
			fh_fail(base, 0);
	}
	memset(&m, 0, sizeof(m));
	memset(&other, 0, sizeof(other));
	snprintf(dir, sizeof(dir), "%s/shower", base);
	hm = shower(dir, FJ_SHOWER_SIGN, FJ_SHOWER_KX, 1, 1, &m);

	sequence(&m, 5, 1, 1);
	seeds_put("genuine", -1, out, outlen);
	sequence(&m, 5, 0, 1);
	seeds_put("nocert", -1, out, outlen);
	for (i = 0; i <= 4; i++) {
		sequence(&m, i, 1, 0);
		snprintf(name, sizeof(name), "cut-%d", i);
		seeds_put(name, -1, out, outlen);
	}
	/* BEGIN and END only: a stream without its records. */
	sequence(&m, 4, 1, 0);
	frame(MSG_BEGIN, m.begin, 16);
	frame(MSG_END, m.begin, 16);
	seeds_put("norecs", -1, out, outlen);
	/* A flipped byte in the roster's signature (its last bytes). */
	sequence(&m, 1, 1, 0);
	m.roster[m.rosterlen - 1] ^= 1;
	frame(MSG_ROSTER, m.roster, m.rosterlen);
	m.roster[m.rosterlen - 1] ^= 1;
	frame(MSG_CERT, m.cert, m.certlen);
	frame(MSG_KEYS, m.keys, m.keyslen);
	seeds_put("badsig", -1, out, outlen);
	/* ACCOUNT's passphrase seal not the one the roster names. */
	m.acct[32] ^= 1;
	sequence(&m, 5, 1, 1);
	m.acct[32] ^= 1;
	seeds_put("badseal", -1, out, outlen);
	for (i = PAIR_REFUSE_DECLINED; i <= PAIR_REFUSE_NAME + 1; i++) {
		outlen = 0;
		frame(MSG_WAIT, NULL, 0);
		b[0] = (uint8_t)i;
		frame(MSG_REFUSE, b, 1);
		snprintf(name, sizeof(name), "refuse-%d", i);
		seeds_put(name, -1, out, outlen);
	}

	/* Another account's roster (and ACCOUNT) under the same shower key. */
	snprintf(dir, sizeof(dir), "%s/other", base);
	ho = shower(dir, FJ_SHOWER_SIGN, FJ_SHOWER_KX, 0, 1, &other);
	sequence(&m, 1, 1, 0);
	frame(MSG_ROSTER, other.roster, other.rosterlen);
	frame(MSG_CERT, m.cert, m.certlen);
	frame(MSG_KEYS, m.keys, m.keyslen);
	seeds_put("otheraccount", -1, out, outlen);
	home_close(ho);
	free(other.roster);
	sodium_free(other.keys);

	/* A roster that lists the shower only. */
	snprintf(dir, sizeof(dir), "%s/alone", base);
	memset(&other, 0, sizeof(other));
	ho = shower(dir, FJ_SHOWER_SIGN, FJ_SHOWER_KX, 0, 0, &other);
	sequence(&other, 5, 1, 1);
	seeds_put("notlisted", -1, out, outlen);
	home_close(ho);
	free(other.roster);
	sodium_free(other.keys);

	home_close(hm);
	free(m.roster);
	sodium_free(m.keys);
	for (i = 0; i < 3; i++) {
		snprintf(dir, sizeof(dir), "%s/%s", base,
		    i == 0 ? "shower" : i == 1 ? "other" : "alone");
		fh_rmdir(dir);
	}
	(void)rmdir(base);
	return (0);
}
