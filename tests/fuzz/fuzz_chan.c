/*
 * fuzz_chan.c: the framing of syncd/chan.c (length (2) || bytes, at most
 * NOISE_MAXMSG) read from a socket carrying hostile bytes.  A thread
 * writes a byte stream into one end of a socketpair and shuts it; on the
 * other end a chan, as the KK responder of sync with fixed keys, runs
 * chan_hs_recv, chan_hs_send, then chan_recv and chan_recv_ref in turn
 * until one fails.  The first byte of an input says what the stream is:
 *
 *  0. the rest of the input as it is (the seeds: a genuine initiator's
 *     message 1 and transport frames, cut, with lengths that lie);
 *  1. a genuine message 1, then the rest of the input as chunks
 *     length (2) || plaintext (type || body) that the harness seals as
 *     the genuine peer would, each into one frame, a short last chunk
 *     going raw; so that frames of every size, empty ones too, open.
 *
 * A model reads the same stream apart: it cuts it into frames and runs an
 * in-memory twin of the chan's handshake (same keys, same ephemeral).
 * Properties: every call returns what the model says (KITH_ECLOSED at a
 * clean end between frames, KITH_ETRUNC for a stream cut in a frame or its
 * length, KITH_EHANDSHAKE / KITH_ECRYPTO exactly when the twin refuses the
 * message); the chan's message 2 is byte for byte the twin's; a message
 * received is the twin's plaintext, with len <= CHAN_MAXBODY; and in
 * mode 1 every whole sealed chunk that is not empty comes through intact.
 */
#include <sys/socket.h>

#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "chan.h"
#include "kith_err.h"
#include "kith_util.h"
#include "noise.h"

#include "fuzz.h"

#define FC_PROTO "Noise_KK_25519_ChaChaPoly_BLAKE2b"
#define FC_PROLOGUE "kith sync v1"
#define FC_STREAMMAX (1024 * 1024)
#define FC_TIMEOUT_MS 20000	/* never reached: the writer shuts its end */

static uint8_t is[32], ie[32], rs[32], re[32], is_pk[32], rs_pk[32];

static void
fc_keys(void)
{

	memset(is, 0x61, 32);
	memset(ie, 0x62, 32);
	memset(rs, 0x63, 32);
	memset(re, 0x64, 32);
	crypto_scalarmult_base(is_pk, is);
	crypto_scalarmult_base(rs_pk, rs);
}

/* The chan's side (or its twin): the responder. */
static noise_hs *
fc_resp(void)
{
	noise_hs *hs;

	FUZZ_MUST(noise_hs_new(&hs, FC_PROTO, 0, (const uint8_t *)FC_PROLOGUE,
	    sizeof(FC_PROLOGUE) - 1, rs, is_pk, NULL) == 0);
	noise_hs_set_ephemeral(hs, re);
	return (hs);
}

/* The genuine initiator. */
static noise_hs *
fc_init(void)
{
	noise_hs *hs;

	FUZZ_MUST(noise_hs_new(&hs, FC_PROTO, 1, (const uint8_t *)FC_PROLOGUE,
	    sizeof(FC_PROLOGUE) - 1, is, rs_pk, NULL) == 0);
	noise_hs_set_ephemeral(hs, ie);
	return (hs);
}

struct fc_writer {
	int fd;
	const uint8_t *b;
	size_t n;
};

static void *
fc_write(void *arg)
{
	struct fc_writer *w = arg;
	size_t off = 0;
	ssize_t k;

	while (off < w->n) {
		/* Stops once the chan is freed and its end closed. */
		if ((k = send(w->fd, w->b + off, w->n - off, MSG_NOSIGNAL)) <=
		    0)
			break;
		off += (size_t)k;
	}
	(void)shutdown(w->fd, SHUT_WR);
	return (NULL);
}

/* Read exactly ${n} bytes of what the chan sent. */
static void
fc_read(int fd, uint8_t *b, size_t n)
{
	size_t got = 0;
	ssize_t k;

	while (got < n) {
		FUZZ_MUST((k = recv(fd, b + got, n - got, 0)) > 0);
		got += (size_t)k;
	}
}

/*
 * The model's next frame of ${s} (*${off} into ${n}): 0 with *${f},
 * *${flen}; or what the chan must return: KITH_ECLOSED, KITH_ETRUNC.
 */
static int
fc_frame(const uint8_t *s, size_t n, size_t *off, const uint8_t **f,
    size_t *flen)
{
	size_t left = n - *off, l;

	if (left == 0)
		return (KITH_ECLOSED);
	if (left < 2)
		return (KITH_ETRUNC);
	l = kith_be16dec(s + *off);
	if (l > left - 2)
		return (KITH_ETRUNC);
	*f = s + *off + 2;
	*flen = l;
	*off += 2 + l;
	return (0);
}

/* Mode 1: a genuine message 1, then the input's chunks sealed. */
static size_t
fc_sealed(const uint8_t *d, size_t size, uint8_t *s)
{
	static uint8_t m[NOISE_MAXMSG];
	noise_hs *I, *R;
	noise_cs *itx, *irx, *rtx, *rrx;
	size_t len, n, off = 0, l;

	I = fc_init();
	R = fc_resp();
	FUZZ_MUST(noise_hs_write(I, NULL, 0, s + 2, NOISE_MAXMSG, &n) == 0);
	kith_be16enc(s, (uint16_t)n);
	len = 2 + n;
	FUZZ_MUST(noise_hs_read(R, s + 2, n, m, sizeof(m), &l) == 0);
	FUZZ_MUST(noise_hs_write(R, NULL, 0, m, sizeof(m), &n) == 0);
	FUZZ_MUST(noise_hs_read(I, m, n, m, sizeof(m), &l) == 0);
	FUZZ_MUST(noise_hs_split(I, &itx, &irx) == 0);
	FUZZ_MUST(noise_hs_split(R, &rtx, &rrx) == 0);
	while (size - off >= 2) {
		l = kith_be16dec(d + off);
		if (l > size - off - 2)
			break;
		if (l > NOISE_MAXMSG - NOISE_TAGLEN)
			l = NOISE_MAXMSG - NOISE_TAGLEN;
		if (len + 2 + l + NOISE_TAGLEN > FC_STREAMMAX)
			break;
		kith_be16enc(s + len, (uint16_t)(l + NOISE_TAGLEN));
		FUZZ_MUST(noise_cs_encrypt(itx, NULL, 0, d + off + 2, l,
		    s + len + 2) == 0);
		len += 2 + l + NOISE_TAGLEN;
		off += 2 + kith_be16dec(d + off);
	}
	if (size - off <= FC_STREAMMAX - len) {
		memcpy(s + len, d + off, size - off);
		len += size - off;
	}
	noise_cs_free(itx);
	noise_cs_free(irx);
	noise_cs_free(rtx);
	noise_cs_free(rrx);
	noise_hs_free(I);
	noise_hs_free(R);
	return (len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t s[FC_STREAMMAX];
	static uint8_t buf[NOISE_MAXMSG], tw[NOISE_MAXMSG], m2[2 + NOISE_MAXMSG];
	static uint8_t body[CHAN_MAXBODY];
	struct fc_writer w;
	pthread_t th;
	noise_hs *hs, *twin;
	noise_cs *ttx = NULL, *trx = NULL;
	chan *c;
	const uint8_t *f, *ref;
	size_t n, off = 0, flen, len, tlen, i;
	uint8_t type;
	int sv[2], mode, rc, want, k;

	if (sodium_init() < 0)
		abort();
	if (size < 1 || size - 1 > FC_STREAMMAX)
		return (0);
	fc_keys();
	mode = data[0] & 1;
	if (mode == 1 && size > 64 * 1024)
		return (0);	/* sealed, it would outgrow the stream */
	if (mode == 0) {
		memcpy(s, data + 1, size - 1);
		n = size - 1;
	} else
		n = fc_sealed(data + 1, size - 1, s);

	FUZZ_MUST(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	FUZZ_MUST(chan_new(sv[0], FC_TIMEOUT_MS, &c) == 0);
	w.fd = sv[1];
	w.b = s;
	w.n = n;
	FUZZ_MUST(pthread_create(&th, NULL, fc_write, &w) == 0);
	hs = fc_resp();
	twin = fc_resp();

	/* Message 1. */
	rc = chan_hs_recv(c, hs, buf, sizeof(buf), &len);
	if ((want = fc_frame(s, n, &off, &f, &flen)) == 0)
		want = noise_hs_read(twin, f, flen, tw, sizeof(tw), &tlen) ==
		    0 ? 0 : KITH_EHANDSHAKE;
	FUZZ_MUST(rc == want);
	if (rc != 0)
		goto done;
	FUZZ_MUST(len == tlen && memcmp(buf, tw, len) == 0);
	FUZZ_MUST(!noise_hs_done(hs));

	/* Message 2: the chan frames what its twin writes. */
	FUZZ_MUST(chan_hs_send(c, hs, NULL, 0) == 0);
	FUZZ_MUST(noise_hs_write(twin, NULL, 0, tw, sizeof(tw), &tlen) == 0);
	fc_read(sv[1], m2, 2);
	FUZZ_MUST(kith_be16dec(m2) == tlen);
	fc_read(sv[1], m2 + 2, tlen);
	FUZZ_MUST(memcmp(m2 + 2, tw, tlen) == 0);
	FUZZ_MUST(noise_hs_done(hs) && noise_hs_split(twin, &ttx, &trx) == 0);

	/* Transport, until the first failure, as every caller stops there. */
	for (k = 0; ; k++) {
		if (k % 2 == 0)
			rc = chan_recv(c, &type, body, &len);
		else if ((rc = chan_recv_ref(c, &type, &ref, &len)) == 0)
			memcpy(body, ref, len);
		if ((want = fc_frame(s, n, &off, &f, &flen)) == 0) {
			if (flen < 1 + NOISE_TAGLEN || noise_cs_decrypt(trx,
			    NULL, 0, f, flen, tw) != 0)
				want = KITH_ECRYPTO;
		}
		FUZZ_MUST(rc == want);
		if (rc != 0)
			break;
		FUZZ_MUST(len == flen - 1 - NOISE_TAGLEN && len <= CHAN_MAXBODY);
		FUZZ_MUST(type == tw[0] && memcmp(body, tw + 1, len) == 0);
	}
	/* Mode 1: each whole chunk, unless empty, came through. */
	if (mode == 1) {
		for (i = 0, off = 1; size - off >= 2; i++) {
			flen = kith_be16dec(data + off);
			if (flen > size - off - 2 || flen == 0)
				break;
			off += 2 + flen;
		}
		FUZZ_MUST(i == (size_t)k);
	}

done:
	chan_free(c);
	FUZZ_MUST(pthread_join(th, NULL) == 0);
	close(sv[1]);
	noise_cs_free(ttx);
	noise_cs_free(trx);
	noise_hs_free(hs);
	noise_hs_free(twin);
	return (0);
}
