/*
 * seeds_noise.c: the seed corpus of fuzz_noise, written to CORPUS-DIR/fuzz_noise
 * (seeds.h), with libsodium's random bytes a fixed stream:
 *
 *     seeds_noise tests/fuzz/corpus
 *
 * For each mode of fuzz_noise, the genuine peer's side of a whole
 * handshake with the harness's fixed keys, then three transport frames
 * (an empty, a short and a long plaintext); and of each, a copy cut in
 * the last frame, one with a byte of the first message flipped, one with a
 * transport frame flipped, one with a frame's length one too long, and one
 * with the first transport frame replayed.  It includes the harness for
 * its keys and patterns; the harness's entry point is unused here.
 */
#include <stdio.h>

#include "fuzz_noise.c"
#include "seeds.h"

#define SN_MAX (64 * 1024)


/* Append frame ${m} (${n} bytes) to ${b} (holding *${len}). */
static void
sn_frame(uint8_t *b, size_t *len, const uint8_t *m, size_t n)
{

	FUZZ_MUST(*len + 2 + n <= SN_MAX);
	kith_be16enc(b + *len, (uint16_t)n);
	memcpy(b + *len + 2, m, n);
	*len += 2 + n;
}

/*
 * The transcript of mode ${mode} into ${b}: its length.  *${first} is the
 * offset of the first peer message's bytes, *${tr} of the first transport
 * frame (its length prefix).
 */
static size_t
sn_transcript(int mode, uint8_t *b, size_t *first, size_t *tr)
{
	static uint8_t m[NOISE_MAXMSG], pl[NOISE_MAXMSG];
	const struct nf_pat *p = &nf_pats[mode / 2];
	int li = mode & 1, i;
	struct nf_keys k;
	noise_hs *L, *P;
	noise_cs *ltx, *lrx, *ptx, *prx;
	size_t len = 1, n, plen;
	static const size_t tlen[3] = { 0, 5, 900 };

	b[0] = (uint8_t)mode;
	*first = 0;
	nf_keys(&k);
	L = nf_side(p, li, &k);
	P = nf_side(p, !li, &k);
	if (li && p->late_psk)
		noise_hs_set_psk(P, k.psk);
	for (i = 0; i < p->nmsg; i++) {
		if ((i % 2 == 0) == li) {
			n = nf_payload(i, pl);
			FUZZ_MUST(noise_hs_write(L, pl, n, m, sizeof(m),
			    &plen) == 0);
			FUZZ_MUST(noise_hs_read(P, m, plen, pl, sizeof(pl),
			    &n) == 0);
			continue;
		}
		/* The peer's payload: as kith's (a token, a roster), any. */
		n = (size_t)(16 + 40 * i);
		memset(pl, 'P' + i, n);
		FUZZ_MUST(noise_hs_write(P, pl, n, m, sizeof(m), &plen) == 0);
		if (*first == 0)
			*first = len + 2;
		sn_frame(b, &len, m, plen);
		FUZZ_MUST(noise_hs_read(L, m, plen, pl, sizeof(pl), &n) == 0);
		if (!li && p->late_psk && i == 0)
			noise_hs_set_psk(L, k.psk);
	}
	FUZZ_MUST(noise_hs_split(L, &ltx, &lrx) == 0);
	FUZZ_MUST(noise_hs_split(P, &ptx, &prx) == 0);
	*tr = len;
	for (i = 0; i < 3; i++) {
		memset(pl, 't' + i, tlen[i]);
		FUZZ_MUST(noise_cs_encrypt(ptx, NULL, 0, pl, tlen[i], m) == 0);
		sn_frame(b, &len, m, tlen[i] + NOISE_TAGLEN);
	}
	noise_cs_free(ltx);
	noise_cs_free(lrx);
	noise_cs_free(ptx);
	noise_cs_free(prx);
	noise_hs_free(L);
	noise_hs_free(P);
	return (len);
}

int
main(int argc, char *argv[])
{
	static uint8_t b[SN_MAX], c[SN_MAX];
	char name[64];
	size_t len, first, tr, tl;
	int mode;

	seeds_init(argc, argv, "fuzz_noise");
	for (mode = 0; mode < (int)NF_MODES; mode++) {
		len = sn_transcript(mode, b, &first, &tr);
		snprintf(name, sizeof(name), "m%d-valid", mode);
		seeds_put(name, -1, b, len);
		snprintf(name, sizeof(name), "m%d-cut", mode);
		seeds_put(name, -1, b, len - 1);

		memcpy(c, b, len);
		c[first + 7] ^= 0x01;
		snprintf(name, sizeof(name), "m%d-flip-hs", mode);
		seeds_put(name, -1, c, len);

		memcpy(c, b, len);
		c[tr + 2 + 3] ^= 0x80;	/* the first transport frame */
		snprintf(name, sizeof(name), "m%d-flip-tr", mode);
		seeds_put(name, -1, c, len);

		memcpy(c, b, len);
		c[first - 1]++;		/* the first message one too long */
		snprintf(name, sizeof(name), "m%d-long", mode);
		seeds_put(name, -1, c, len);

		/* The first transport frame again after the others. */
		tl = 2 + (size_t)kith_be16dec(b + tr);
		memcpy(c, b, len);
		memcpy(c + len, b + tr, tl);
		snprintf(name, sizeof(name), "m%d-replay", mode);
		seeds_put(name, -1, c, len + tl);
	}
	return (0);
}
