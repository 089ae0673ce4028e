/*
 * fuzz_join.c: the joiner's side of pairing (syncd/pair.c, pair_join) fed
 * by a shower that says what the input says.  The joiner is a real, fresh
 * home (an empty store and device.key of fuzz_home.h's fixed keys, under
 * /dev/shm or /tmp, removed at exit) holding a ticket of fixed secret for
 * the shower's fixed static key.  The shower, a thread of this harness,
 * runs the genuine Noise IKpsk2 handshake as responder over a socketpair
 * (a chan), reads the joiner's JOIN_PROOF, then sends each frame of the
 * input (fuzz_join.h) as a sealed transport message, shuts its side and
 * reads what the joiner sends until it hangs up.
 *
 * Properties: pair_join returns (ASan: no crash, no leak); whatever it
 * returns, an account in the store (account_pk) comes with a roster that
 * verifies under that key and lists the shower (the ticket's static key)
 * and this device (its kx and sign keys) as active; the home in memory
 * agrees with the store; with no account in the store nothing of one is
 * there either (no roster, seal, cert or name); and a return of 0 means an
 * account is held.  The joiner's proof is checked against the handshake
 * hash, so a broken joiner is seen too.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "chan.h"
#include "home.h"
#include "kith_err.h"
#include "noise.h"
#include "pair.h"
#include "roster.h"
#include "store.h"
#include "ticket.h"
#include "xfer.h"

#include "fuzz.h"
#include "fuzz_home.h"
#include "fuzz_join.h"

#define FJ_TIMEOUT_MS 20000

static struct ticket tk;
static uint8_t shower_kx_sk[32], joiner_sign_pk[32], joiner_kx_pk[32];
static uint8_t *empty_db;
static size_t empty_dblen;
static char work[128];

static void
fj_setup(void)
{
	static int done;
	uint8_t seed[32], sk[64];
	char dir[128], path[192];
	store *st;

	if (done)
		return;
	done = 1;
	if (sodium_init() < 0)
		abort();
	snprintf(fh_base, sizeof(fh_base), "/dev/shm/kith-fuzz-join-%ld",
	    (long)getpid());
	if (mkdir(fh_base, 0700) != 0) {
		snprintf(fh_base, sizeof(fh_base), "/tmp/kith-fuzz-join-%ld",
		    (long)getpid());
		FUZZ_MUST(mkdir(fh_base, 0700) == 0);
	}
	atexit(fh_cleanup);
	/* An empty store, made once: each input starts from its bytes. */
	snprintf(dir, sizeof(dir), "%s/tpl", fh_base);
	FUZZ_MUST(mkdir(dir, 0700) == 0);
	snprintf(path, sizeof(path), "%s/kith.db", dir);
	FUZZ_MUST(store_open(path, &st) == 0);
	store_close(st);
	FUZZ_MUST(kith_file_read(path, 1 << 24, &empty_db, &empty_dblen) == 0);
	snprintf(work, sizeof(work), "%s/h", fh_base);
	FUZZ_MUST(mkdir(work, 0700) == 0);

	memset(seed, FH_SIGN, 32);
	crypto_sign_seed_keypair(joiner_sign_pk, sk, seed);
	sodium_memzero(sk, sizeof(sk));
	memset(seed, FH_KX, 32);
	crypto_scalarmult_base(joiner_kx_pk, seed);
	memset(shower_kx_sk, FJ_SHOWER_KX, 32);
	memset(&tk, 0, sizeof(tk));
	tk.expiry = (uint32_t)(kith_now() + 3600);
	crypto_scalarmult_base(tk.static_pk, shower_kx_sk);
	memset(tk.secret, FJ_SECRET, 32);
	tk.port = 45680;
}

struct shower {
	int fd;
	const uint8_t *data;
	size_t size;
	int proof_ok;
};

/* The shower: the handshake, the proof, the input's frames, then drain. */
static void *
fj_show(void *arg)
{
	static const char ctx[] = "kith join proof v1";
	static uint8_t body[CHAN_MAXBODY];
	struct shower *s = arg;
	uint8_t m[sizeof(ctx) - 1 + NOISE_HASHLEN], type, pk[32];
	noise_hs *hs = NULL;
	chan *c = NULL;
	size_t len, off, n;
	uint8_t nl;

	FUZZ_MUST(chan_new(s->fd, FJ_TIMEOUT_MS, &c) == 0);
	FUZZ_MUST(noise_hs_new(&hs, PAIR_PROTOCOL, 0,
	    (const uint8_t *)"kith pairing v1", 15, shower_kx_sk, NULL,
	    tk.secret) == 0);
	/* The joiner's first message: version, name, sign_pk. */
	FUZZ_MUST(chan_hs_recv(c, hs, body, sizeof(body), &len) == 0);
	nl = sizeof(FJ_NAME) - 1;
	FUZZ_MUST(len == 2 + (size_t)nl + 32 && body[0] == 1 &&
	    body[1] == nl && memcmp(body + 2, FJ_NAME, nl) == 0 &&
	    memcmp(body + 2 + nl, joiner_sign_pk, 32) == 0);
	memcpy(pk, body + 2 + nl, 32);
	FUZZ_MUST(memcmp(noise_hs_remote_static(hs), joiner_kx_pk, 32) == 0);
	FUZZ_MUST(chan_hs_send(c, hs, NULL, 0) == 0);
	FUZZ_MUST(noise_hs_done(hs));
	memcpy(m, ctx, sizeof(ctx) - 1);
	noise_hs_hash(hs, m + sizeof(ctx) - 1);
	FUZZ_MUST(chan_recv(c, &type, body, &len) == 0);
	s->proof_ok = type == MSG_JOIN_PROOF && len == 64 &&
	    crypto_sign_verify_detached(body, m, sizeof(m), pk) == 0;

	for (off = 0; off + 3 <= s->size; off += 3 + n) {
		n = (size_t)s->data[off + 1] << 8 | s->data[off + 2];
		if (n > s->size - off - 3)
			n = s->size - off - 3;
		if (chan_send(c, s->data[off], s->data + off + 3, n) != 0)
			break;
	}
	(void)shutdown(s->fd, SHUT_WR);
	while (chan_recv(c, &type, body, &len) == 0)
		;
	noise_hs_free(hs);
	chan_free(c);
	return (NULL);
}

static int
fj_has(store *st, const char *key)
{
	uint8_t *v;
	size_t len;
	int rc;

	rc = store_meta_get(st, key, &v, &len);
	FUZZ_MUST(rc == 0 || rc == KITH_ENOENT);
	if (rc == 0)
		free(v);
	return (rc == 0);
}

/* What the store holds after the join, whatever it returned. */
static int
fj_check(struct home *hm)
{
	const struct roster_dev *d;
	struct roster *r;
	uint8_t *apk, *blob;
	size_t alen, blen;
	int rc;

	rc = store_meta_get(hm->st, "account_pk", &apk, &alen);
	FUZZ_MUST(rc == 0 || rc == KITH_ENOENT);
	if (rc == KITH_ENOENT) {
		FUZZ_MUST(!hm->has_account);
		FUZZ_MUST(!fj_has(hm->st, "roster"));
		FUZZ_MUST(!fj_has(hm->st, "sealed_pass"));
		FUZZ_MUST(!fj_has(hm->st, "sealed_recovery"));
		FUZZ_MUST(!fj_has(hm->st, "cert"));
		FUZZ_MUST(!fj_has(hm->st, "name"));
		return (0);
	}
	FUZZ_MUST(alen == 32);
	FUZZ_MUST(hm->has_account && memcmp(hm->account_pk, apk, 32) == 0);
	FUZZ_MUST(store_meta_get(hm->st, "roster", &blob, &blen) == 0);
	FUZZ_MUST(roster_decode(blob, blen, apk, &r) == 0);
	FUZZ_MUST(memcmp(r->account_pk, apk, 32) == 0);
	d = roster_find_kx(r, tk.static_pk);
	FUZZ_MUST(d != NULL && d->status == ROSTER_ACTIVE);
	d = roster_find_kx(r, joiner_kx_pk);
	FUZZ_MUST(d != NULL && d->status == ROSTER_ACTIVE &&
	    memcmp(d->sign_pk, joiner_sign_pk, 32) == 0);
	FUZZ_MUST(hm->roster != NULL && hm->roster->bloblen == blen &&
	    memcmp(hm->roster->blob, blob, blen) == 0);
	FUZZ_MUST(fj_has(hm->st, "sealed_pass") &&
	    fj_has(hm->st, "sealed_recovery") && fj_has(hm->st, "name"));
	roster_free(r);
	free(blob);
	free(apk);
	return (1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct shower s;
	struct home *hm;
	pthread_t th;
	uint64_t stored;
	int sv[2], rc, acct;

	if (size > 4 * CHAN_MAXBODY)
		return (0);
	fj_setup();
	fh_clear(work);
	fh_write(work, "kith.db", empty_db, empty_dblen);
	fh_devkey(work);
	FUZZ_MUST(home_open(work, 0, &hm) == 0);
	FUZZ_MUST(!hm->has_account);

	memset(&s, 0, sizeof(s));
	s.data = data;
	s.size = size;
	FUZZ_MUST(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	s.fd = sv[1];
	FUZZ_MUST(pthread_create(&th, NULL, fj_show, &s) == 0);
	rc = pair_join(hm, &tk, sv[0], FJ_NAME, NULL, &stored);
	FUZZ_MUST(pthread_join(th, NULL) == 0);

	FUZZ_MUST(s.proof_ok);
	acct = fj_check(hm);
	if (rc == 0)
		FUZZ_MUST(acct);
	if (!acct)
		FUZZ_MUST(stored == 0);
	home_close(hm);
	return (0);
}
