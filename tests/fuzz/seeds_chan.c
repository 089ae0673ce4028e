/*
 * seeds_chan.c: the seed corpus of fuzz_chan, written to CORPUS-DIR/fuzz_chan
 * (seeds.h), with libsodium's random bytes a fixed stream:
 *
 *     seeds_chan tests/fuzz/corpus
 *
 * Mode 0: the genuine initiator's message 1 with the harness's keys, then
 * transport frames of bodies of 0, 1, 300 and CHAN_MAXBODY bytes; copies
 * cut in a frame and in a length, with a length that lies (too long, too
 * short, zero, 0xffff), with a frame flipped, and the first message alone.
 * Mode 1: chunks of 0, 1, 2, 500 and 65519 bytes.  It includes the harness
 * for its keys; the harness's entry point is unused here.
 */
#include <stdio.h>

#include "fuzz_chan.c"
#include "seeds.h"

static uint8_t sb[FC_STREAMMAX], sc[FC_STREAMMAX];

/* ${b}[0] = mode 0, then the genuine stream: its length. */
static size_t
sc_genuine(size_t *tr, size_t *big)
{
	static uint8_t m[NOISE_MAXMSG], pt[NOISE_MAXMSG];
	static const size_t blen[4] = { 0, 1, 300, CHAN_MAXBODY };
	noise_hs *I, *R;
	noise_cs *itx, *irx, *rtx, *rrx;
	size_t len = 1, n, l, i;

	sb[0] = 0;
	I = fc_init();
	R = fc_resp();
	FUZZ_MUST(noise_hs_write(I, NULL, 0, sb + 3, NOISE_MAXMSG, &n) == 0);
	kith_be16enc(sb + 1, (uint16_t)n);
	len += 2 + n;
	FUZZ_MUST(noise_hs_read(R, sb + 3, n, m, sizeof(m), &l) == 0);
	FUZZ_MUST(noise_hs_write(R, NULL, 0, m, sizeof(m), &n) == 0);
	FUZZ_MUST(noise_hs_read(I, m, n, m, sizeof(m), &l) == 0);
	FUZZ_MUST(noise_hs_split(I, &itx, &irx) == 0);
	FUZZ_MUST(noise_hs_split(R, &rtx, &rrx) == 0);
	*tr = len;
	for (i = 0; i < 4; i++) {
		if (blen[i] == CHAN_MAXBODY)
			*big = len;
		pt[0] = (uint8_t)(0x20 + i);
		memset(pt + 1, 'b' + (int)i, blen[i]);
		n = 1 + blen[i] + NOISE_TAGLEN;
		kith_be16enc(sb + len, (uint16_t)n);
		FUZZ_MUST(noise_cs_encrypt(itx, NULL, 0, pt, 1 + blen[i],
		    sb + len + 2) == 0);
		len += 2 + n;
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
main(int argc, char *argv[])
{
	static const size_t chunk[5] = { 1, 2, 500, 0, 65519 };
	size_t len, tr = 0, big = 0, l, i, n;

	seeds_init(argc, argv, "fuzz_chan");
	fc_keys();
	len = sc_genuine(&tr, &big);
	seeds_put("m0-valid", -1, sb, len);
	seeds_put("m0-small", -1, sb, big);		/* without the largest */
	seeds_put("m0-hs-only", -1, sb, tr);
	seeds_put("m0-cut-hs", -1, sb, tr - 5);
	seeds_put("m0-cut-len", -1, sb, tr + 1);
	seeds_put("m0-cut-frame", -1, sb, tr + 9);
	seeds_put("m0-cut-last", -1, sb, len - 1);
	memcpy(sc, sb, big);
	l = kith_be16dec(sc + tr);
	kith_be16enc(sc + tr, (uint16_t)(l + 1));
	seeds_put("m0-len-long", -1, sc, big);
	kith_be16enc(sc + tr, (uint16_t)(l - 1));
	seeds_put("m0-len-short", -1, sc, big);
	kith_be16enc(sc + tr, 0);
	seeds_put("m0-len-zero", -1, sc, big);
	kith_be16enc(sc + tr, 0xffff);
	seeds_put("m0-len-max", -1, sc, big);
	memcpy(sc, sb, big);
	sc[tr + 2 + l - 1] ^= 0x04;		/* the first frame's tag */
	seeds_put("m0-flip-tag", -1, sc, big);
	memcpy(sc, sb, big);
	sc[4] ^= 0x10;				/* message 1's ephemeral */
	seeds_put("m0-flip-hs", -1, sc, big);

	/* Mode 1: chunks of plaintext. */
	sc[0] = 1;
	for (n = 1, i = 0; i < 5; i++) {
		kith_be16enc(sc + n, (uint16_t)chunk[i]);
		memset(sc + n + 2, 0x30 + (int)i, chunk[i]);
		n += 2 + chunk[i];
		if (i == 2)
			seeds_put("m1-three", -1, sc, n);
		if (i == 3)
			seeds_put("m1-empty", -1, sc, n);
	}
	sc[n++] = 0x7f;				/* a raw tail */
	seeds_put("m1-tail", -1, sc, n - 65519 - 2 - 2 - 2);
	kith_be16enc(sc + 1 + 2 + 1 + 2 + 2 + 2 + 500, 65519);
	seeds_put("m1-big", -1, sc, 1 + 2 + 1 + 2 + 2 + 2 + 500 + 2 + 65519);
	return (0);
}
