/*
 * fuzz_noise.c: the Noise handshake and transport (syncd/noise.c) fed a
 * hostile peer, for each pattern kith speaks: IKpsk2 (pairing, prologue
 * "kith pairing v1", and invitation answers, "kith invite v1", whose
 * responder learns the psk only after message 1), KK and XK (sync, "kith
 * sync v1").  The first byte of an input picks the pattern and the side
 * under test (NF_MODES modes); the rest is frames as on the wire,
 * length (2, big endian) || bytes, a short last one taken as it is.
 *
 * The side under test (L) has fixed static and ephemeral keys; so has a
 * shadow of the genuine peer (P), which reads every message L writes.  The
 * frames are the peer's handshake messages in turn, then transport
 * ciphertexts for L to decrypt.  Properties:
 *
 *  - a handshake message L accepts is byte for byte the one P writes for
 *    the payload L read out of it: without the peer's secrets nothing else
 *    gets through (a forged, cut, padded or replayed message is refused);
 *  - the payload read is exactly the message less its fixed overhead;
 *  - after a refused message the handshake is dead: no read, no write, no
 *    split, never done;
 *  - a completed handshake knows P's static key and has P's handshake hash;
 *  - a transport frame decrypts only if it is exactly what P's sending
 *    state makes of that plaintext at that nonce; a refused one leaves the
 *    output buffer as it was or zeroed (no plaintext on an authentication
 *    failure) and the nonce where it was (the next genuine frame opens).
 *
 * seeds_noise.c includes this file for its keys and writes genuine
 * transcripts (P's messages, then P's transport frames), cut and flipped.
 */
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "kith_err.h"
#include "kith_util.h"
#include "noise.h"

#include "fuzz.h"

#define NF_IK "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b"
#define NF_KK "Noise_KK_25519_ChaChaPoly_BLAKE2b"
#define NF_XK "Noise_XK_25519_ChaChaPoly_BLAKE2b"

/* A pattern as kith uses it. */
struct nf_pat {
	const char *proto;
	const char *prologue;
	int nmsg;
	int pre_i;		/* the responder knows the initiator's static */
	int psk;
	int late_psk;		/* the responder sets it after message 1 */
};

static const struct nf_pat nf_pats[] = {
	{ NF_IK, "kith pairing v1", 2, 0, 1, 0 },
	{ NF_IK, "kith invite v1", 2, 0, 1, 1 },
	{ NF_KK, "kith sync v1", 2, 1, 0, 0 },
	{ NF_XK, "kith sync v1", 3, 0, 0, 0 },
};
#define NF_NPAT (sizeof(nf_pats) / sizeof(nf_pats[0]))
#define NF_MODES (2 * NF_NPAT)	/* mode = 2 * pattern + (L initiates) */

/* The fixed keys: X25519 secrets of the initiator and the responder. */
struct nf_keys {
	uint8_t is[32], ie[32], rs[32], re[32], psk[32];
	uint8_t is_pk[32], rs_pk[32];
};

static void
nf_keys(struct nf_keys *k)
{

	memset(k->is, 0x11, 32);
	memset(k->ie, 0x22, 32);
	memset(k->rs, 0x33, 32);
	memset(k->re, 0x44, 32);
	memset(k->psk, 0x55, 32);
	crypto_scalarmult_base(k->is_pk, k->is);
	crypto_scalarmult_base(k->rs_pk, k->rs);
}

/*
 * One side of pattern ${p}: ${ini} initiates.  Keys are fixed, as is the
 * ephemeral; a late psk is left out.
 */
static noise_hs *
nf_side(const struct nf_pat *p, int ini, const struct nf_keys *k)
{
	noise_hs *hs;
	const uint8_t *rs;
	const uint8_t *psk = p->psk ? k->psk : NULL;

	if (ini)
		rs = k->rs_pk;
	else
		rs = p->pre_i ? k->is_pk : NULL;
	if (!ini && p->late_psk)
		psk = NULL;
	FUZZ_MUST(noise_hs_new(&hs, p->proto, ini,
	    (const uint8_t *)p->prologue, strlen(p->prologue),
	    ini ? k->is : k->rs, rs, psk) == 0);
	noise_hs_set_ephemeral(hs, ini ? k->ie : k->re);
	return (hs);
}

/* The payload L sends in message ${i}: fixed, of a size that varies. */
static size_t
nf_payload(int i, uint8_t *b)
{
	size_t n = (size_t)(3 + 13 * i);

	memset(b, 'a' + i, n);
	return (n);
}

/* The next frame of ${d} (*${off} into ${n}): 0, or -1 when none is left. */
static int
nf_frame(const uint8_t *d, size_t n, size_t *off, const uint8_t **f,
    size_t *flen)
{
	size_t left = n - *off, l;

	if (left == 0)
		return (-1);
	if (left < 2) {
		*f = d + *off;
		*flen = left;
		*off = n;
		return (0);
	}
	l = kith_be16dec(d + *off);
	if (l > left - 2)
		l = left - 2;
	*f = d + *off + 2;
	*flen = l;
	*off += 2 + l;
	return (0);
}

/* A handshake that refused a message: good for nothing but free. */
static void
nf_dead(noise_hs *hs)
{
	uint8_t m[256], pl[64];
	size_t n;
	noise_cs *a = NULL, *b = NULL;

	memset(m, 0, sizeof(m));
	FUZZ_MUST(!noise_hs_done(hs));
	FUZZ_MUST(noise_hs_write(hs, NULL, 0, m, sizeof(m), &n) != 0);
	FUZZ_MUST(noise_hs_read(hs, m, sizeof(m), pl, sizeof(pl), &n) != 0);
	FUZZ_MUST(noise_hs_split(hs, &a, &b) != 0);
	FUZZ_MUST(a == NULL && b == NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t msg[NOISE_MAXMSG], pl[NOISE_MAXMSG], out[NOISE_MAXMSG];
	static uint8_t back[NOISE_MAXMSG];
	const struct nf_pat *p;
	struct nf_keys k;
	noise_hs *L, *P;
	noise_cs *ltx = NULL, *lrx = NULL, *ptx = NULL, *prx = NULL;
	uint8_t hl[NOISE_HASHLEN], hp[NOISE_HASHLEN];
	const uint8_t *f, *rs;
	size_t off = 1, flen, n, plen, bn;
	int li, i, rc;

	if (sodium_init() < 0)
		abort();
	if (size < 1)
		return (0);
	p = &nf_pats[(data[0] % NF_MODES) / 2];
	li = (data[0] % NF_MODES) & 1;
	nf_keys(&k);
	L = nf_side(p, li, &k);
	P = nf_side(p, !li, &k);
	if (li && p->late_psk)
		noise_hs_set_psk(P, k.psk);	/* the genuine one knows it */

	for (i = 0; i < p->nmsg; i++) {
		if ((i % 2 == 0) == li) {
			/* L's turn: P, the genuine peer, must take it. */
			n = nf_payload(i, pl);
			FUZZ_MUST(noise_hs_write(L, pl, n, msg, sizeof(msg),
			    &bn) == 0);
			FUZZ_MUST(noise_hs_read(P, msg, bn, out, sizeof(out),
			    &plen) == 0);
			FUZZ_MUST(plen == n && memcmp(out, pl, n) == 0);
			continue;
		}
		if (nf_frame(data, size, &off, &f, &flen) != 0)
			goto done;
		memset(pl, 0xa5, sizeof(pl));
		rc = noise_hs_read(L, f, flen, pl, sizeof(pl), &plen);
		if (rc != 0) {
			FUZZ_MUST(rc == KITH_EFORMAT || rc == KITH_EHANDSHAKE);
			/* A wrong length is refused before any state changes. */
			if (rc == KITH_EHANDSHAKE)
				nf_dead(L);
			goto done;
		}
		FUZZ_MUST(plen <= flen);
		/* What the genuine peer writes for that payload. */
		FUZZ_MUST(noise_hs_write(P, pl, plen, msg, sizeof(msg), &bn) ==
		    0);
		FUZZ_MUST(bn == flen && memcmp(msg, f, flen) == 0);
		if (!li && p->late_psk && i == 0)
			noise_hs_set_psk(L, k.psk);
	}

	/* The handshake is through, with the genuine peer. */
	FUZZ_MUST(noise_hs_done(L) && noise_hs_done(P));
	FUZZ_MUST((rs = noise_hs_remote_static(L)) != NULL);
	FUZZ_MUST(memcmp(rs, li ? k.rs_pk : k.is_pk, 32) == 0);
	noise_hs_hash(L, hl);
	noise_hs_hash(P, hp);
	FUZZ_MUST(memcmp(hl, hp, sizeof(hl)) == 0);
	FUZZ_MUST(noise_hs_split(L, &ltx, &lrx) == 0);
	FUZZ_MUST(noise_hs_split(P, &ptx, &prx) == 0);
	FUZZ_MUST(ltx != NULL && lrx != NULL && ptx != NULL && prx != NULL);

	/* Transport: each further frame is a ciphertext from the peer. */
	while (nf_frame(data, size, &off, &f, &flen) == 0) {
		memset(out, 0xa5, sizeof(out));
		rc = noise_cs_decrypt(lrx, NULL, 0, f, flen, out);
		if (rc != 0) {
			FUZZ_MUST(rc == (flen < NOISE_TAGLEN ? KITH_EFORMAT :
			    KITH_ECRYPTO));
			/* libsodium zeroes what it would have written. */
			for (n = 0; n < flen; n++)
				FUZZ_MUST(out[n] == 0xa5 || out[n] == 0);
			continue;
		}
		FUZZ_MUST(flen >= NOISE_TAGLEN);
		FUZZ_MUST(noise_cs_encrypt(ptx, NULL, 0, out, flen -
		    NOISE_TAGLEN, back) == 0);
		FUZZ_MUST(memcmp(back, f, flen) == 0);
	}

done:
	noise_cs_free(ltx);
	noise_cs_free(lrx);
	noise_cs_free(ptx);
	noise_cs_free(prx);
	noise_hs_free(L);
	noise_hs_free(P);
	return (0);
}
