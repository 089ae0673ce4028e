/*
 * fuzz_sync.c: the decoders of the sync and transfer messages a peer sends
 * once a channel is up (syncd/xfer.c, as used by syncd/kithd/sess.c and
 * syncd/pair.c).  The first byte of an input says what the rest is:
 *
 *  0. a HELLO body: xfer_hello_dec;
 *  1. a version vector, the body of HAVE: xfer_vv_dec;
 *  2. an EPOCHS or KEYS body: xfer_list_dec with items of 4 and of 36
 *     bytes;
 *  3. a record stream, the bodies of RECS put end to end: recparse_feed.
 *
 * Properties: in 0 to 2, a body decodes exactly when its length is the one
 * its count gives (docs/PROTOCOL.md 11, xfer.h), and what decodes encodes
 * back to exactly the input (one form per message).  In 3, a model of the
 * stream format says where each record starts and whether its header is
 * refused (seq 0, box shorter than HIST_BOXOVER or longer than
 * STORE_MAXBOX) before anything is allocated for it; recparse_feed must
 * hand over exactly the model's records, in order, each re-encoding to
 * its bytes of the input, and end as the model says: KITH_EPROTO at a
 * refused header, otherwise 0 with recparse_partial exactly when the
 * input stops inside a record.  The same must come of the input fed in
 * slices of sizes drawn from the input (empty ones included) and one byte
 * at a time, and a callback's non-zero answer must stop the parse at once
 * and be returned.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hist.h"
#include "kith_err.h"
#include "kith_util.h"
#include "store.h"
#include "xfer.h"

#include "fuzz.h"

enum { S_HELLO, S_VV, S_LIST, S_RECS, S_COUNT };

/* The records a parse handed over, re-encoded end to end. */
struct sink {
	uint8_t *b;
	size_t len, cap;
	size_t n;
	size_t stop_at;		/* answer non-zero at this record (from 1) */
};

static int
on_rec(void *arg, const struct store_rec *rec)
{
	struct sink *k = arg;
	size_t need = XFER_RECHDR + rec->boxlen;

	FUZZ_MUST(rec->seq != 0);
	FUZZ_MUST(rec->boxlen >= HIST_BOXOVER && rec->boxlen <= STORE_MAXBOX);
	if (k->len + need > k->cap) {
		k->cap = (k->len + need) * 2;
		FUZZ_MUST((k->b = realloc(k->b, k->cap)) != NULL);
	}
	xfer_rechdr(k->b + k->len, rec);
	memcpy(k->b + k->len + XFER_RECHDR, rec->box, rec->boxlen);
	k->len += need;
	k->n++;
	return (k->n == k->stop_at ? 7 : 0);
}

static void
check_vv(const uint8_t *b, size_t len)
{
	struct store_vv *vv;
	uint8_t *e;
	int rc;
	int ok = len >= 2 && len == 2 + 40 * (size_t)kith_be16dec(b);

	rc = xfer_vv_dec(b, len, &vv);
	FUZZ_MUST(rc == (ok ? 0 : KITH_EPROTO));
	if (rc != 0)
		return;
	FUZZ_MUST(vv->n == kith_be16dec(b) && xfer_vv_len(vv) == len);
	FUZZ_MUST((e = malloc(len)) != NULL);
	xfer_vv_enc(vv, e);
	FUZZ_MUST(memcmp(e, b, len) == 0);
	free(e);
	free(vv);
}

static void
check_hello(const uint8_t *b, size_t len)
{
	struct xfer_hello h;
	uint8_t *e;
	size_t n;
	int rc, ok;

	ok = len >= XFER_HELLO_HDR + 2 && b[0] == XFER_SYNC_VERSION;
	if (ok) {
		n = kith_be16dec(b + XFER_HELLO_HDR);
		ok = len == XFER_HELLO_HDR + 2 + 40 * n;
	}
	rc = xfer_hello_dec(b, len, &h);
	FUZZ_MUST(rc == (ok ? 0 : KITH_EPROTO));
	if (rc != 0)
		return;
	/* As kithd's send_hello writes it. */
	FUZZ_MUST(XFER_HELLO_HDR + xfer_vv_len(h.vv) == len);
	FUZZ_MUST((e = malloc(len)) != NULL);
	e[0] = XFER_SYNC_VERSION;
	kith_be64enc(e + 1, h.roster_version);
	memcpy(e + 9, h.roster_hash, 32);
	xfer_vv_enc(h.vv, e + XFER_HELLO_HDR);
	FUZZ_MUST(memcmp(e, b, len) == 0);
	free(e);
	free(h.vv);
}

static void
check_list(const uint8_t *b, size_t len)
{
	static const size_t item[2] = { 4, 36 };
	size_t i, n;
	int rc, ok;

	for (i = 0; i < 2; i++) {
		ok = len >= 2 && len == 2 + item[i] * kith_be16dec(b);
		n = 0xdead;
		rc = xfer_list_dec(b, len, item[i], &n);
		FUZZ_MUST(rc == (ok ? 0 : KITH_EPROTO));
		FUZZ_MUST(rc != 0 || n == kith_be16dec(b));
		FUZZ_MUST(rc == 0 || n == 0xdead);
	}
}

/*
 * The model: how many records ${b} holds whole, where they end (*${end}),
 * and what the parse must return (*${rc}) and say of a part (*${partial}).
 */
static size_t
model(const uint8_t *b, size_t len, size_t *end, int *rc, int *partial)
{
	size_t off = 0, n = 0;
	uint64_t bl;

	*rc = 0;
	*partial = 0;
	while (off < len) {
		if (len - off < XFER_RECHDR) {
			*partial = 1;
			break;
		}
		bl = kith_be32dec(b + off + XFER_RECHDR - 4);
		if (kith_be64dec(b + off + 32) == 0 || bl < HIST_BOXOVER ||
		    bl > STORE_MAXBOX) {
			*rc = KITH_EPROTO;
			break;
		}
		if (len - off - XFER_RECHDR < bl) {
			*partial = 1;
			break;
		}
		off += XFER_RECHDR + bl;
		n++;
	}
	*end = off;
	return (n);
}

/* xorshift32: slice sizes drawn from the input, the same every run. */
static uint32_t
next(uint32_t *x)
{

	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return (*x);
}

/*
 * Feed ${b} to a fresh parser: whole (how 0), in drawn slices (1), a byte
 * at a time (2).  Returns what the last feed returned; *${partial}.
 */
static int
feed(const uint8_t *b, size_t len, int how, uint32_t seed, struct sink *k,
    int *partial)
{
	struct recparse rp;
	size_t off = 0, s;
	int rc = 0;

	memset(&rp, 0, sizeof(rp));
	if (how == 0)
		rc = recparse_feed(&rp, b, len, on_rec, k);
	while (how != 0 && off < len) {
		if (how == 2)
			s = 1;
		else if ((s = next(&seed) % 97) > 80)
			s = next(&seed) % 4096;	/* now and then a big one */
		if (s > len - off)
			s = len - off;
		if ((rc = recparse_feed(&rp, b + off, s, on_rec, k)) != 0)
			break;
		off += s;
	}
	*partial = recparse_partial(&rp);
	recparse_free(&rp);
	return (rc);
}

static void
check_recs(const uint8_t *b, size_t len)
{
	struct sink k[3];
	size_t nrec, end, i;
	uint32_t seed = 2166136261u;
	int want, wpart, rc, part, how;

	for (i = 0; i < len; i++)
		seed = (seed ^ b[i]) * 16777619u;
	if (seed == 0)
		seed = 1;
	nrec = model(b, len, &end, &want, &wpart);
	memset(k, 0, sizeof(k));
	for (how = 0; how < 3; how++) {
		if (how == 2 && len > 16384)
			break;		/* a byte at a time: small inputs */
		rc = feed(b, len, how, seed, &k[how], &part);
		FUZZ_MUST(rc == want);
		FUZZ_MUST(rc != 0 || part == wpart);
		FUZZ_MUST(k[how].n == nrec && k[how].len == end);
		FUZZ_MUST(end == 0 || memcmp(k[how].b, b, end) == 0);
		free(k[how].b);
	}

	/* Stopped by the callback at record stop_at, when there is one. */
	if (nrec == 0)
		return;
	memset(&k[0], 0, sizeof(k[0]));
	k[0].stop_at = 1 + seed % nrec;
	rc = feed(b, len, 1, seed, &k[0], &part);
	FUZZ_MUST(rc == 7 && k[0].n == k[0].stop_at);
	free(k[0].b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *b = data + 1;
	size_t len = size - 1;

	if (size < 1)
		return (0);
	switch (data[0] % S_COUNT) {
	case S_HELLO:
		check_hello(b, len);
		break;
	case S_VV:
		check_vv(b, len);
		break;
	case S_LIST:
		check_list(b, len);
		break;
	case S_RECS:
		check_recs(b, len);
		break;
	}
	return (0);
}
