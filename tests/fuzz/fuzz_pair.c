/*
 * fuzz_pair.c: the shower's side of pairing (syncd/pair.c, pair_serve)
 * fed by a joiner that says what the input says.  The shower is a real
 * home (under /dev/shm or /tmp, removed at exit) with an account, "carol",
 * and a ticket of fixed secret; the joiner, a thread of this harness,
 * holds the ticket and fixed keys, and runs the handshake for real over a
 * socketpair (a chan).  An input is
 *     flags (1) || n (1) || payload (n) || rest
 * The payload is what message 1 carries (version 1 || name length (1) ||
 * name || sign_pk (32) when well formed).  Then, with flag 1, the joiner
 * sends the genuine JOIN_PROOF (its signature of the handshake hash);
 * without it, the rest sealed as the first transport message.  The
 * shower's person declines every request, so that no input changes the
 * home.
 *
 * Properties: pair_serve asks its person to confirm exactly when the
 * payload is well formed (version, exact length, a name of at most
 * ROSTER_NAMEMAX bytes without NUL that roster_name_ok takes) and the
 * proof is genuine, for the key the payload named; then with that name and
 * that key's fingerprint, once, and it returns KITH_EDECLINED after
 * sending WAIT and REFUSE (declined).  Any other input ends in
 * KITH_EHANDSHAKE (KITH_ECLOSED when the joiner hangs up before a proof),
 * before anything is asked or sent: a forged proof never passes.
 */
#include <sys/socket.h>

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
#include "ticket.h"
#include "xfer.h"

#include "fuzz.h"

#define FP_PASS "fuzz pair passphrase"
#define FP_TIMEOUT_MS 20000

static struct home *carol;
static struct ticket tk;
static uint8_t jkx_sk[32], jsign_pk[32], jsign_sk[64];
static char base[64];

static void
fp_cleanup(void)
{
	char cmd[128];

	if (carol != NULL)
		home_close(carol);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	if (base[0] != '\0' && system(cmd) != 0)
		fprintf(stderr, "fuzz_pair: cannot remove %s\n", base);
}

/* The joiner's keys: fixed, so that seeds_pair.c knows sign_pk. */
static void
fp_keys(void)
{
	uint8_t seed[32];

	memset(jkx_sk, 0x3c, 32);
	memset(seed, 0x3d, 32);
	crypto_sign_seed_keypair(jsign_pk, jsign_sk, seed);
}

static void
fp_setup(void)
{
	static int done;
	char dir[128], rec[RECOVERY_TEXTLEN];

	if (done)
		return;
	done = 1;
	if (sodium_init() < 0)
		abort();
	fp_keys();
	snprintf(base, sizeof(base), "/dev/shm/kith-fuzz-pair.XXXXXX");
	if (mkdtemp(base) == NULL) {
		snprintf(base, sizeof(base), "/tmp/kith-fuzz-pair.XXXXXX");
		FUZZ_MUST(mkdtemp(base) != NULL);
	}
	atexit(fp_cleanup);
	snprintf(dir, sizeof(dir), "%s/carol", base);
	FUZZ_MUST(home_open(dir, 1, &carol) == 0);
	FUZZ_MUST(home_init_account(carol, "carol", (const uint8_t *)FP_PASS,
	    sizeof(FP_PASS) - 1, rec) == 0);
	sodium_memzero(rec, sizeof(rec));
	memset(&tk, 0, sizeof(tk));
	tk.expiry = (uint32_t)(kith_now() + 3600);
	memcpy(tk.static_pk, carol->dk->kx_pk, 32);
	memset(tk.secret, 0x5e, 32);
	tk.port = 45679;
}

struct joiner {
	int fd;
	const uint8_t *payload, *rest;
	size_t plen, restlen;
	int genuine;
	int got_wait, refused;
	uint8_t why;
};

/* The joiner: message 1, message 2, the proof, then what comes back. */
static void *
fp_join(void *arg)
{
	static const char ctx[] = "kith join proof v1";
	static uint8_t body[CHAN_MAXBODY];
	struct joiner *j = arg;
	uint8_t m[sizeof(ctx) - 1 + NOISE_HASHLEN], sig[64], type;
	noise_hs *hs = NULL;
	chan *c = NULL;
	size_t len;

	if (chan_new(j->fd, FP_TIMEOUT_MS, &c) != 0)
		return (NULL);
	FUZZ_MUST(noise_hs_new(&hs, PAIR_PROTOCOL, 1,
	    (const uint8_t *)"kith pairing v1", 15, jkx_sk, tk.static_pk,
	    tk.secret) == 0);
	if (chan_hs_send(c, hs, j->payload, j->plen) != 0 ||
	    chan_hs_recv(c, hs, body, sizeof(body), &len) != 0)
		goto done;
	FUZZ_MUST(noise_hs_done(hs));
	if (j->genuine) {
		memcpy(m, ctx, sizeof(ctx) - 1);
		noise_hs_hash(hs, m + sizeof(ctx) - 1);
		crypto_sign_detached(sig, NULL, m, sizeof(m), jsign_sk);
		if (chan_send(c, MSG_JOIN_PROOF, sig, sizeof(sig)) != 0)
			goto done;
	} else if (j->restlen < 1 || j->restlen - 1 > CHAN_MAXBODY ||
	    chan_send(c, j->rest[0], j->rest + 1, j->restlen - 1) != 0)
		goto done;
	while (chan_recv(c, &type, body, &len) == 0) {
		if (type == MSG_WAIT && len == 0)
			j->got_wait++;
		else if (type == MSG_REFUSE && len == 1) {
			j->refused++;
			j->why = body[0];
		}
	}
done:
	noise_hs_free(hs);
	chan_free(c);
	return (NULL);
}

struct asked {
	int n;
	char name[ROSTER_NAMEMAX + 1];
	char fp[15];
};

static int
fp_confirm(void *arg, const char *name, const char *fp)
{
	struct asked *a = arg;

	a->n++;
	FUZZ_MUST(strlen(name) <= ROSTER_NAMEMAX && strlen(fp) == 14);
	snprintf(a->name, sizeof(a->name), "%s", name);
	snprintf(a->fp, sizeof(a->fp), "%s", fp);
	return (0);
}

/* The model: is ${p} a well-formed message 1 payload? */
static int
fp_wellformed(const uint8_t *p, size_t n, char name[ROSTER_NAMEMAX + 1])
{
	size_t nl;

	if (n < 2 + 32 || p[0] != 1)
		return (0);
	nl = p[1];
	if (nl > ROSTER_NAMEMAX || n != 2 + nl + 32 ||
	    memchr(p + 2, '\0', nl) != NULL)
		return (0);
	memcpy(name, p + 2, nl);
	name[nl] = '\0';
	return (roster_name_ok(name));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pair_state ps;
	struct pair_ui ui;
	struct joiner j;
	struct asked a;
	pthread_t th;
	char name[ROSTER_NAMEMAX + 1], fp[15];
	int sv[2], rc, ok, want;

	if (size < 2 || (size_t)data[1] > size - 2)
		return (0);
	fp_setup();
	memset(&j, 0, sizeof(j));
	j.genuine = data[0] & 1;
	j.plen = data[1];
	j.payload = data + 2;
	j.rest = data + 2 + j.plen;
	j.restlen = size - 2 - j.plen;
	memset(&a, 0, sizeof(a));
	memset(&ui, 0, sizeof(ui));
	ui.arg = &a;
	ui.confirm = fp_confirm;
	memset(&ps, 0, sizeof(ps));

	FUZZ_MUST(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	j.fd = sv[1];
	FUZZ_MUST(pthread_create(&th, NULL, fp_join, &j) == 0);
	rc = pair_serve(carol, &tk, &ps, sv[0], &ui);
	FUZZ_MUST(pthread_join(th, NULL) == 0);

	ok = fp_wellformed(j.payload, j.plen, name);
	if (ok && !j.genuine && j.restlen == 0)
		want = KITH_ECLOSED;	/* the joiner hung up: no proof */
	else if (!ok || !j.genuine ||
	    memcmp(j.payload + 2 + j.payload[1], jsign_pk, 32) != 0)
		want = KITH_EHANDSHAKE;
	else
		want = KITH_EDECLINED;
	FUZZ_MUST(rc == want);
	if (want != KITH_EDECLINED) {
		FUZZ_MUST(a.n == 0 && j.got_wait == 0 && j.refused == 0);
		return (0);
	}
	FUZZ_MUST(rc == KITH_EDECLINED && a.n == 1);
	FUZZ_MUST(strcmp(a.name, name) == 0);
	pair_fingerprint(jsign_pk, fp);
	FUZZ_MUST(strcmp(a.fp, fp) == 0);
	FUZZ_MUST(j.got_wait == 1 && j.refused == 1 &&
	    j.why == PAIR_REFUSE_DECLINED);
	FUZZ_MUST(ps.used && strcmp(ps.joiner, name) == 0 && !ps.done);
	return (0);
}
