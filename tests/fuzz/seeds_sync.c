/*
 * seeds_sync.c: the seed corpus of fuzz_sync, written to CORPUS-DIR/fuzz_sync
 * (seeds.h), with libsodium's random bytes a fixed stream:
 *
 *     seeds_sync tests/fuzz/corpus
 *
 * HELLO bodies as kithd writes them (vv of 0, 1 and 3 entries), one of
 * another version, one cut; HAVE bodies; EPOCHS and KEYS bodies; record
 * streams of whole records (boxes of HIST_BOXOVER, 41 and 1000 bytes),
 * cut in a header and in a box, and with headers to refuse (seq 0, a box
 * too short, one too long) and one announcing the largest box.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hist.h"
#include "kith_util.h"
#include "store.h"
#include "xfer.h"
#include "seeds.h"

static uint8_t b[1 << 16];

/* A vv of ${n} entries at ${p}: its length. */
static size_t
vv(uint8_t *p, size_t n)
{
	struct store_vv *v;
	size_t i, len;

	if ((v = malloc(sizeof(*v) + (n + 1) * sizeof(v->e[0]))) == NULL)
		abort();
	v->n = n;
	for (i = 0; i < n; i++) {
		memset(v->e[i].origin, 0xa0 + (int)i, 32);
		v->e[i].seq = 1 + 1000 * i;
	}
	xfer_vv_enc(v, p);
	len = xfer_vv_len(v);
	free(v);
	return (len);
}

/* A record of ${boxlen} bytes at ${p} (seq ${seq}): its length. */
static size_t
rec(uint8_t *p, uint64_t seq, uint32_t boxlen, size_t room)
{
	struct store_rec r;

	memset(r.origin, 0x5a, 32);
	r.seq = seq;
	r.epoch = 1;
	memset(r.rid, (int)(seq & 0xff), STORE_RIDLEN);
	r.box = NULL;
	r.boxlen = boxlen;
	xfer_rechdr(p, &r);
	if (room > boxlen)
		room = boxlen;
	memset(p + XFER_RECHDR, 0xb0, room);
	return (XFER_RECHDR + room);
}

int
main(int argc, char *argv[])
{
	static const size_t nv[3] = { 0, 1, 3 };
	char name[64];
	size_t len, i, r1;

	seeds_init(argc, argv, "fuzz_sync");

	/* 0: HELLO. */
	for (i = 0; i < 3; i++) {
		b[0] = 0;
		b[1] = XFER_SYNC_VERSION;
		kith_be64enc(b + 2, 7 + i);
		memset(b + 10, 0xc0, 32);
		len = 1 + XFER_HELLO_HDR + vv(b + 1 + XFER_HELLO_HDR, nv[i]);
		snprintf(name, sizeof(name), "hello-%zu", nv[i]);
		seeds_put(name, -1, b, len);
	}
	seeds_put("hello-cut", -1, b, len - 1);
	b[1] = XFER_SYNC_VERSION + 1;
	seeds_put("hello-v3", -1, b, len);

	/* 1: HAVE. */
	b[0] = 1;
	seeds_put("vv-0", -1, b, 1 + vv(b + 1, 0));
	seeds_put("vv-2", -1, b, 1 + vv(b + 1, 2));
	len = 1 + vv(b + 1, 4);
	seeds_put("vv-4-long", -1, b, len + 1);

	/* 2: EPOCHS (n = 2) and KEYS (n = 1). */
	b[0] = 2;
	kith_be16enc(b + 1, 2);
	kith_be32enc(b + 3, 1);
	kith_be32enc(b + 7, 2);
	seeds_put("epochs-2", -1, b, 11);
	kith_be16enc(b + 1, 1);
	memset(b + 7, 0x77, 32);
	seeds_put("keys-1", -1, b, 3 + 36);

	/* 3: record streams. */
	b[0] = 3;
	len = 1;
	len += rec(b + len, 1, HIST_BOXOVER, (size_t)-1);
	r1 = len;
	len += rec(b + len, 2, 41, (size_t)-1);
	len += rec(b + len, 3, 1000, (size_t)-1);
	seeds_put("recs-3", -1, b, len);
	seeds_put("recs-cut-box", -1, b, len - 10);
	seeds_put("recs-cut-hdr", -1, b, r1 + 30);
	len = r1 + rec(b + r1, 0, 100, (size_t)-1);
	seeds_put("recs-seq0", -1, b, len);
	len = r1 + rec(b + r1, 9, HIST_BOXOVER - 1, (size_t)-1);
	seeds_put("recs-box-short", -1, b, len);
	len = r1 + rec(b + r1, 9, (uint32_t)STORE_MAXBOX + 1, 8);
	seeds_put("recs-box-long", -1, b, len);
	len = r1 + rec(b + r1, 9, (uint32_t)STORE_MAXBOX, 8);
	seeds_put("recs-box-max", -1, b, len);
	return (0);
}
