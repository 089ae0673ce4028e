/*
 * noise.c: the Noise Protocol Framework, revision 34, for the one suite
 * 25519_ChaChaPoly_BLAKE2b.
 *
 * The objects of the specification map onto this file as follows.
 *
 *   CipherState     struct cstate: a 32-byte key k, a 64-bit counter n and
 *                   whether k is set.  The AEAD nonce is 4 zero bytes and
 *                   n in little endian; n = 2^64-1 is reserved, so a state
 *                   whose counter reaches it refuses to encrypt.  A failed
 *                   decryption leaves n alone.
 *   SymmetricState  ck and h in struct noise_hs, plus its cstate.  HASH is
 *                   BLAKE2b with 64 bytes of output, HMAC is built on it with
 *                   a 128-byte block, and HKDF is the chained HMAC of the
 *                   specification (section 4.3).
 *   HandshakeState  struct noise_hs: the local s and e, the remote rs and re,
 *                   the psk, and the index of the next message of the
 *                   pattern.
 *
 * A handshake runs as follows.  noise_hs_new() parses the protocol name
 * into a base pattern (table below) and a set of psk positions, sets
 * h = protocol name (padded with zeros, or hashed if longer than 64 bytes),
 * ck = h, mixes the prologue into h, then the pre-message public keys,
 * initiator's first.  Message i (from 0) is sent by the initiator when i is
 * even.  Writing a message walks its tokens:
 *
 *   e    write e.pub, MixHash(e.pub), and MixKey(e.pub) if a psk is in use
 *   s    EncryptAndHash(s.pub): 32 bytes, or 48 once a key is set
 *   ee, es, se, ss
 *        MixKey(DH(...)), the initiator's key named by the first letter
 *   psk  MixKeyAndHash(psk)
 *
 * then EncryptAndHash(payload).  Reading mirrors it.  pskN puts a psk token
 * at the end of message N (1-based); psk0 at the start of the first one.
 * Since the lengths of all tokens are fixed once the pattern and whether a
 * key is set are known, the exact length of a message is computed before
 * any state changes: a message of the wrong length is refused without
 * touching the handshake, and a write never stops half-way for want of room.
 *
 * Any X25519 output of all zeros (a low-order point from the peer) fails
 * the handshake.  Any failure in a read, or a cryptographic failure in a
 * write, wipes every secret of the handshake and leaves it good only for
 * noise_hs_free().
 *
 * After the last message, noise_hs_split() derives the two transport keys
 * with HKDF(ck, empty) and wipes the handshake's secrets; only h (the
 * channel binding) and rs stay.  It may be called once, so that no two
 * cipher states ever share a key and a nonce.  In a one-way pattern only
 * the initiator sends, so the initiator gets no receiving state and the
 * responder no sending state (NULL).
 *
 * Memory: the handshake and each cipher state live whole in sodium_malloc
 * memory (guard pages, locked, zeroed by sodium_free).  Temporaries on the
 * stack are wiped with sodium_memzero before return, on every path.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "kith_err.h"
#include "noise.h"

#define DHLEN 32
#define BLOCKLEN 128

/* Suite part of every protocol name we accept. */
#define SUITE "_25519_ChaChaPoly_BLAKE2b"
#define PREFIX "Noise_"

/* Handshake tokens; TOK_END ends a message's list. */
enum {
	TOK_END = 0,
	TOK_E,
	TOK_S,
	TOK_EE,
	TOK_ES,
	TOK_SE,
	TOK_SS,
	TOK_PSK
};

/* At most 3 messages, at most 5 tokens each (KX, IX), plus the end. */
#define MAXMSGS 3
#define MAXTOKS 6

/* A message's tokens after the psk tokens are inserted: 5 + 2. */
#define MAXRUNTOKS (MAXTOKS + 2)

/*
 * A base pattern of section 7.  pre_i: the pre-message "-> s"; pre_r: the
 * pre-message "<- s".  (No base pattern pre-shares an ephemeral.)
 */
struct pattern {
	const char *name;
	int pre_i;
	int pre_r;
	size_t nmsgs;
	uint8_t msgs[MAXMSGS][MAXTOKS];
};

static const struct pattern patterns[] = {
	/* One-way (7.4). */
	{ "N", 0, 1, 1, { { TOK_E, TOK_ES } } },
	{ "K", 1, 1, 1, { { TOK_E, TOK_ES, TOK_SS } } },
	{ "X", 0, 1, 1, { { TOK_E, TOK_ES, TOK_S, TOK_SS } } },
	/* Interactive (7.5). */
	{ "NN", 0, 0, 2, { { TOK_E }, { TOK_E, TOK_EE } } },
	{ "NK", 0, 1, 2, { { TOK_E, TOK_ES }, { TOK_E, TOK_EE } } },
	{ "NX", 0, 0, 2, { { TOK_E }, { TOK_E, TOK_EE, TOK_S, TOK_ES } } },
	{ "KN", 1, 0, 2, { { TOK_E }, { TOK_E, TOK_EE, TOK_SE } } },
	{ "KK", 1, 1, 2,
	    { { TOK_E, TOK_ES, TOK_SS }, { TOK_E, TOK_EE, TOK_SE } } },
	{ "KX", 1, 0, 2,
	    { { TOK_E }, { TOK_E, TOK_EE, TOK_SE, TOK_S, TOK_ES } } },
	{ "XN", 0, 0, 3,
	    { { TOK_E }, { TOK_E, TOK_EE }, { TOK_S, TOK_SE } } },
	{ "XK", 0, 1, 3,
	    { { TOK_E, TOK_ES }, { TOK_E, TOK_EE }, { TOK_S, TOK_SE } } },
	{ "XX", 0, 0, 3,
	    { { TOK_E }, { TOK_E, TOK_EE, TOK_S, TOK_ES }, { TOK_S, TOK_SE } } },
	{ "IN", 0, 0, 2, { { TOK_E, TOK_S }, { TOK_E, TOK_EE, TOK_SE } } },
	{ "IK", 0, 1, 2,
	    { { TOK_E, TOK_ES, TOK_S, TOK_SS }, { TOK_E, TOK_EE, TOK_SE } } },
	{ "IX", 0, 0, 2,
	    { { TOK_E, TOK_S }, { TOK_E, TOK_EE, TOK_SE, TOK_S, TOK_ES } } },
};

/* CipherState (section 5.1). */
struct cstate {
	uint8_t k[NOISE_KEYLEN];
	uint64_t n;
	int haskey;
};

/* A transport cipher state; the whole struct is in sodium_malloc memory. */
struct noise_cs {
	struct cstate c;
};

/*
 * The handshake; the whole struct is in sodium_malloc memory (its size is
 * a multiple of its alignment, so the pointer sodium_malloc returns, which
 * ends the allocation at a page boundary, is suitably aligned).
 */
struct noise_hs {
	/* Secrets. */
	uint8_t ck[NOISE_HASHLEN];
	struct cstate cs;
	uint8_t s_sk[DHLEN];
	uint8_t e_sk[DHLEN];
	uint8_t psk[NOISE_KEYLEN];

	/* Public values. */
	uint8_t h[NOISE_HASHLEN];
	uint8_t s_pk[DHLEN];
	uint8_t e_pk[DHLEN];
	uint8_t rs[DHLEN];
	uint8_t re[DHLEN];

	const struct pattern *pat;
	unsigned int psks;	/* Bit N set: modifier pskN. */
	size_t msgi;		/* Index of the next message. */
	int initiator;
	int has_s;
	int has_e;
	int e_sent;
	int has_rs;
	int has_psk;
	int has_re;
	int failed;
	int split;
};

/* Store ${x} little-endian in 8 bytes. */
static void
le64enc(uint8_t p[8], uint64_t x)
{
	size_t i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(x >> (8 * i));
}

/* ENCRYPT(k, n, ad, pt) with the cipher state's counter; advance it. */
static int
cs_encrypt(struct cstate *c, const uint8_t *ad, size_t adlen,
    const uint8_t *pt, size_t len, uint8_t *out)
{
	uint8_t nonce[crypto_aead_chacha20poly1305_ietf_NPUBBYTES];

	/* 2^64-1 is reserved (section 5.1). */
	if (c->n == UINT64_MAX)
		return (KITH_EINVAL);

	memset(nonce, 0, 4);
	le64enc(&nonce[4], c->n);

	/* libsodium allows out == pt: it reads each block before writing. */
	crypto_aead_chacha20poly1305_ietf_encrypt(out, NULL, pt, len,
	    ad, adlen, NULL, nonce, c->k);
	c->n++;

	return (0);
}

/* DECRYPT(k, n, ad, ct); the counter advances only on success. */
static int
cs_decrypt(struct cstate *c, const uint8_t *ad, size_t adlen,
    const uint8_t *ct, size_t len, uint8_t *out)
{
	uint8_t nonce[crypto_aead_chacha20poly1305_ietf_NPUBBYTES];

	if (len < NOISE_TAGLEN)
		return (KITH_EFORMAT);
	if (c->n == UINT64_MAX)
		return (KITH_ECRYPTO);

	memset(nonce, 0, 4);
	le64enc(&nonce[4], c->n);

	/* The tag is checked before anything is written to ${out}. */
	if (crypto_aead_chacha20poly1305_ietf_decrypt(out, NULL, NULL, ct, len,
	    ad, adlen, nonce, c->k) != 0)
		return (KITH_ECRYPTO);
	c->n++;

	return (0);
}

/* InitializeKey(k). */
static void
cs_setkey(struct cstate *c, const uint8_t k[NOISE_KEYLEN])
{

	memcpy(c->k, k, NOISE_KEYLEN);
	c->n = 0;
	c->haskey = 1;
}

/*
 * HMAC-BLAKE2b(key, d1 || d2) (RFC 2104 with a 128-byte block) to ${out}.
 * ${out} may alias ${key}: the key is used up before the output is written.
 */
static void
hmac(uint8_t out[NOISE_HASHLEN], const uint8_t key[NOISE_HASHLEN],
    const uint8_t *d1, size_t l1, const uint8_t *d2, size_t l2)
{
	crypto_generichash_blake2b_state st;
	uint8_t pad[BLOCKLEN];
	uint8_t inner[NOISE_HASHLEN];
	size_t i;

	/* Inner hash: H((K ^ ipad) || data). */
	for (i = 0; i < BLOCKLEN; i++)
		pad[i] = (uint8_t)((i < NOISE_HASHLEN ? key[i] : 0) ^ 0x36);
	crypto_generichash_blake2b_init(&st, NULL, 0, NOISE_HASHLEN);
	crypto_generichash_blake2b_update(&st, pad, sizeof(pad));
	if (l1 > 0)
		crypto_generichash_blake2b_update(&st, d1, l1);
	if (l2 > 0)
		crypto_generichash_blake2b_update(&st, d2, l2);
	crypto_generichash_blake2b_final(&st, inner, sizeof(inner));

	/* Outer hash: H((K ^ opad) || inner). */
	for (i = 0; i < BLOCKLEN; i++)
		pad[i] = (uint8_t)((i < NOISE_HASHLEN ? key[i] : 0) ^ 0x5c);
	crypto_generichash_blake2b_init(&st, NULL, 0, NOISE_HASHLEN);
	crypto_generichash_blake2b_update(&st, pad, sizeof(pad));
	crypto_generichash_blake2b_update(&st, inner, sizeof(inner));
	crypto_generichash_blake2b_final(&st, out, NOISE_HASHLEN);

	sodium_memzero(&st, sizeof(st));
	sodium_memzero(pad, sizeof(pad));
	sodium_memzero(inner, sizeof(inner));
}

/*
 * HKDF(ck, ikm) with two outputs, or three when ${o3} is not NULL
 * (section 4.3).  ${o1} may alias ${ck}.
 */
static void
hkdf(const uint8_t ck[NOISE_HASHLEN], const uint8_t *ikm, size_t ikmlen,
    uint8_t o1[NOISE_HASHLEN], uint8_t o2[NOISE_HASHLEN],
    uint8_t o3[NOISE_HASHLEN])
{
	uint8_t tk[NOISE_HASHLEN];
	const uint8_t one = 0x01, two = 0x02, three = 0x03;

	hmac(tk, ck, ikm, ikmlen, NULL, 0);
	hmac(o1, tk, &one, 1, NULL, 0);
	hmac(o2, tk, o1, NOISE_HASHLEN, &two, 1);
	if (o3 != NULL)
		hmac(o3, tk, o2, NOISE_HASHLEN, &three, 1);

	sodium_memzero(tk, sizeof(tk));
}

/* HASH(h || data) to ${out} (which may be h). */
static void
hash2(uint8_t out[NOISE_HASHLEN], const uint8_t h[NOISE_HASHLEN],
    const uint8_t *data, size_t len)
{
	crypto_generichash_blake2b_state st;

	crypto_generichash_blake2b_init(&st, NULL, 0, NOISE_HASHLEN);
	crypto_generichash_blake2b_update(&st, h, NOISE_HASHLEN);
	if (len > 0)
		crypto_generichash_blake2b_update(&st, data, len);
	crypto_generichash_blake2b_final(&st, out, NOISE_HASHLEN);
	sodium_memzero(&st, sizeof(st));
}

/* MixHash(data). */
static void
mix_hash(noise_hs *hs, const uint8_t *data, size_t len)
{

	hash2(hs->h, hs->h, data, len);
}

/* MixKey(ikm). */
static void
mix_key(noise_hs *hs, const uint8_t *ikm, size_t len)
{
	uint8_t tk[NOISE_HASHLEN];

	hkdf(hs->ck, ikm, len, hs->ck, tk, NULL);
	cs_setkey(&hs->cs, tk);	/* Truncated to 32 bytes. */
	sodium_memzero(tk, sizeof(tk));
}

/* MixKeyAndHash(ikm). */
static void
mix_key_and_hash(noise_hs *hs, const uint8_t *ikm, size_t len)
{
	uint8_t th[NOISE_HASHLEN];
	uint8_t tk[NOISE_HASHLEN];

	hkdf(hs->ck, ikm, len, hs->ck, th, tk);
	mix_hash(hs, th, sizeof(th));
	cs_setkey(&hs->cs, tk);
	sodium_memzero(th, sizeof(th));
	sodium_memzero(tk, sizeof(tk));
}

/* EncryptAndHash(pt) to ${out}, which gets len (+ 16 once keyed) bytes. */
static int
encrypt_and_hash(noise_hs *hs, const uint8_t *pt, size_t len, uint8_t *out)
{
	int rc;

	if (hs->cs.haskey) {
		if ((rc = cs_encrypt(&hs->cs, hs->h, NOISE_HASHLEN, pt, len,
		    out)) != 0)
			return (rc);
		len += NOISE_TAGLEN;
	} else if (len > 0) {
		memmove(out, pt, len);
	}
	mix_hash(hs, out, len);

	return (0);
}

/*
 * DecryptAndHash(ct) to ${out}.  The new h is computed from the ciphertext
 * before decrypting, so that ${out} may overlap ${ct}; it is kept only if
 * the ciphertext authenticates.
 */
static int
decrypt_and_hash(noise_hs *hs, const uint8_t *ct, size_t len, uint8_t *out)
{
	uint8_t nh[NOISE_HASHLEN];
	int rc;

	hash2(nh, hs->h, ct, len);
	if (hs->cs.haskey) {
		if ((rc = cs_decrypt(&hs->cs, hs->h, NOISE_HASHLEN, ct, len,
		    out)) != 0)
			return (rc);
	} else if (len > 0) {
		memmove(out, ct, len);
	}
	memcpy(hs->h, nh, NOISE_HASHLEN);

	return (0);
}

/* MixKey(DH(sk, pk)); fails on an all-zero result (low-order pk). */
static int
mix_dh(noise_hs *hs, const uint8_t sk[DHLEN], const uint8_t pk[DHLEN])
{
	uint8_t shared[DHLEN];

	if (crypto_scalarmult(shared, sk, pk) != 0)
		goto fail0;
	mix_key(hs, shared, sizeof(shared));

	/* Success! */
	sodium_memzero(shared, sizeof(shared));
	return (0);

fail0:
	sodium_memzero(shared, sizeof(shared));
	return (-1);
}

/* The DH of token ${tok}, from our point of view. */
static int
token_dh(noise_hs *hs, int tok)
{

	switch (tok) {
	case TOK_EE:
		assert(hs->has_e && hs->has_re);
		return (mix_dh(hs, hs->e_sk, hs->re));
	case TOK_ES:
		/* Initiator's e with responder's s. */
		if (hs->initiator) {
			assert(hs->has_e && hs->has_rs);
			return (mix_dh(hs, hs->e_sk, hs->rs));
		}
		assert(hs->has_s && hs->has_re);
		return (mix_dh(hs, hs->s_sk, hs->re));
	case TOK_SE:
		/* Initiator's s with responder's e. */
		if (hs->initiator) {
			assert(hs->has_s && hs->has_re);
			return (mix_dh(hs, hs->s_sk, hs->re));
		}
		assert(hs->has_e && hs->has_rs);
		return (mix_dh(hs, hs->e_sk, hs->rs));
	case TOK_SS:
		assert(hs->has_s && hs->has_rs);
		return (mix_dh(hs, hs->s_sk, hs->rs));
	default:
		assert(0);
		return (-1);
	}
}

/* The tokens of message ${i}, psk tokens included; returns their count. */
static size_t
msg_tokens(const noise_hs *hs, size_t i, uint8_t toks[MAXRUNTOKS])
{
	const uint8_t *t = hs->pat->msgs[i];
	size_t n = 0;
	size_t j;

	if (i == 0 && (hs->psks & 1U))
		toks[n++] = TOK_PSK;
	for (j = 0; j < MAXTOKS && t[j] != TOK_END; j++)
		toks[n++] = t[j];
	if (hs->psks & (1U << (i + 1)))
		toks[n++] = TOK_PSK;

	return (n);
}

/*
 * Bytes a message with tokens ${toks} adds to its payload: public keys,
 * the tag of an encrypted s, the tag of the payload.  Follows whether a
 * key is set exactly as the processing of the tokens will.
 */
static size_t
msg_overhead(const noise_hs *hs, const uint8_t *toks, size_t n)
{
	int haskey = hs->cs.haskey;
	size_t sz = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		switch (toks[i]) {
		case TOK_E:
			sz += DHLEN;
			if (hs->psks != 0)
				haskey = 1;
			break;
		case TOK_S:
			sz += DHLEN + (haskey ? NOISE_TAGLEN : 0);
			break;
		default:
			haskey = 1;
			break;
		}
	}

	return (sz + (haskey ? NOISE_TAGLEN : 0));
}

/* Is the next message ours to send? */
static int
our_turn(const noise_hs *hs)
{

	return ((hs->msgi % 2 == 0) == (hs->initiator != 0));
}

/* Wipe every secret and mark the handshake dead. */
static void
hs_wipe(noise_hs *hs)
{

	sodium_memzero(hs->ck, sizeof(hs->ck));
	sodium_memzero(&hs->cs, sizeof(hs->cs));
	sodium_memzero(hs->s_sk, sizeof(hs->s_sk));
	sodium_memzero(hs->e_sk, sizeof(hs->e_sk));
	sodium_memzero(hs->psk, sizeof(hs->psk));
}

/*
 * Parse "Noise_<PATTERN><modifiers>_25519_ChaChaPoly_BLAKE2b": the base
 * pattern goes to ${pat}, the psk positions to ${psks}.
 */
static int
parse_name(const char *name, const struct pattern **pat, unsigned int *psks)
{
	const char *p;
	size_t n, i;
	unsigned int d;

	if (strncmp(name, PREFIX, strlen(PREFIX)) != 0)
		goto fail0;
	p = name + strlen(PREFIX);

	/* The base name: capitals (and digits, so "NK1" is not "NK"). */
	for (n = 0; (p[n] >= 'A' && p[n] <= 'Z') ||
	    (p[n] >= '0' && p[n] <= '9'); n++)
		continue;
	*pat = NULL;
	for (i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
		if (strlen(patterns[i].name) == n &&
		    memcmp(patterns[i].name, p, n) == 0)	/* not secret */
			*pat = &patterns[i];
	}
	if (*pat == NULL)
		goto fail0;
	p += n;

	/* Modifiers: "pskN" joined by '+'; nothing else is supported. */
	*psks = 0;
	while (*p != '_') {
		if (strncmp(p, "psk", 3) != 0)
			goto fail0;
		p += 3;
		if (*p < '0' || *p > '9')
			goto fail0;
		d = (unsigned int)(*p - '0');
		p++;
		if (d > (*pat)->nmsgs || (*psks & (1U << d)))
			goto fail0;
		*psks |= 1U << d;
		if (*p == '+' && p[1] == 'p')
			p++;
		else if (*p != '_')
			goto fail0;
	}

	/* One DH, one cipher, one hash. */
	if (strcmp(p, SUITE) != 0)
		goto fail0;

	/* Success! */
	return (0);

fail0:
	return (KITH_EINVAL);
}

/* Does ${initiator}'s side of ${pat} have a static key? */
static int
side_has_static(const struct pattern *pat, int initiator)
{
	size_t i, j;

	if (initiator ? pat->pre_i : pat->pre_r)
		return (1);
	for (i = initiator ? 0 : 1; i < pat->nmsgs; i += 2) {
		for (j = 0; j < MAXTOKS && pat->msgs[i][j] != TOK_END; j++) {
			if (pat->msgs[i][j] == TOK_S)
				return (1);
		}
	}
	return (0);
}

/**
 * noise_hs_new(out, protocol, initiator, prologue, prologue_len, s_sk,
 *     rs_pk, psk):
 * Start a handshake for ${protocol}.  A key the pattern does not use must
 * be NULL, as one it needs must be given; either mistake is KITH_EINVAL.
 */
int
noise_hs_new(noise_hs **out, const char *protocol, int initiator,
    const uint8_t *prologue, size_t prologue_len, const uint8_t *s_sk,
    const uint8_t *rs_pk, const uint8_t *psk)
{
	const struct pattern *pat;
	unsigned int psks;
	noise_hs *hs;
	size_t nlen;
	int rc;

	assert(out != NULL);
	assert(prologue != NULL || prologue_len == 0);

	/* The name, and exactly the keys it calls for. */
	if (protocol == NULL || parse_name(protocol, &pat, &psks) != 0) {
		rc = KITH_EINVAL;
		goto fail0;
	}
	if ((s_sk != NULL) != side_has_static(pat, initiator) ||
	    (rs_pk != NULL) != (initiator ? pat->pre_r : pat->pre_i) ||
	    (psk != NULL && psks == 0) || (psk == NULL && psks != 0 &&
	    initiator)) {
		rc = KITH_EINVAL;
		goto fail0;
	}

	/* sodium_malloc needs the library initialized. */
	if (sodium_init() < 0) {
		rc = KITH_ENOMEM;
		goto fail0;
	}
	if ((hs = sodium_malloc(sizeof(*hs))) == NULL) {
		rc = KITH_ENOMEM;
		goto fail0;
	}
	memset(hs, 0, sizeof(*hs));
	hs->pat = pat;
	hs->psks = psks;
	hs->initiator = initiator ? 1 : 0;

	/* Keys. */
	if (s_sk != NULL) {
		memcpy(hs->s_sk, s_sk, DHLEN);
		if (crypto_scalarmult_base(hs->s_pk, hs->s_sk) != 0) {
			rc = KITH_EINVAL;
			goto fail1;
		}
		hs->has_s = 1;
	}
	if (rs_pk != NULL) {
		memcpy(hs->rs, rs_pk, DHLEN);
		hs->has_rs = 1;
	}
	if (psk != NULL) {
		memcpy(hs->psk, psk, NOISE_KEYLEN);
		hs->has_psk = 1;
	}

	/* InitializeSymmetric(protocol_name). */
	nlen = strlen(protocol);
	if (nlen <= NOISE_HASHLEN)
		memcpy(hs->h, protocol, nlen);	/* The rest is zero. */
	else
		crypto_generichash_blake2b(hs->h, NOISE_HASHLEN,
		    (const uint8_t *)protocol, nlen, NULL, 0);
	memcpy(hs->ck, hs->h, NOISE_HASHLEN);

	/* MixHash(prologue), then the pre-messages, initiator's first. */
	mix_hash(hs, prologue, prologue_len);
	if (pat->pre_i)
		mix_hash(hs, initiator ? hs->s_pk : hs->rs, DHLEN);
	if (pat->pre_r)
		mix_hash(hs, initiator ? hs->rs : hs->s_pk, DHLEN);

	/* Success! */
	*out = hs;
	return (0);

fail1:
	sodium_free(hs);
fail0:
	return (rc);
}

/**
 * noise_hs_set_psk(hs, psk): the psk of a responder that learns it from
 * the first message.
 */
void
noise_hs_set_psk(noise_hs *hs, const uint8_t psk[static NOISE_KEYLEN])
{

	memcpy(hs->psk, psk, NOISE_KEYLEN);
	hs->has_psk = 1;
}

/**
 * noise_hs_set_ephemeral(hs, e_sk): use ${e_sk} as the local ephemeral
 * secret key (test vectors only).  Must come before "e" is written.
 */
void
noise_hs_set_ephemeral(noise_hs *hs, const uint8_t e_sk[static 32])
{

	assert(hs != NULL);
	assert(!hs->e_sent);

	memcpy(hs->e_sk, e_sk, DHLEN);
	crypto_scalarmult_base(hs->e_pk, hs->e_sk);
	hs->has_e = 1;
}

/**
 * noise_hs_write(hs, payload, len, out, outcap, outlen): write the next
 * handshake message.  KITH_EINVAL leaves the handshake as it was;
 * KITH_ECRYPTO (a DH with a low-order point) ends it.
 */
int
noise_hs_write(noise_hs *hs, const uint8_t *payload, size_t len,
    uint8_t *out, size_t outcap, size_t *outlen)
{
	uint8_t toks[MAXRUNTOKS];
	size_t ntoks, need, i;
	uint8_t *p = out;
	int rc;

	assert(hs != NULL);
	assert(payload != NULL || len == 0);
	assert(outlen != NULL);

	/* Ours to send, and room for all of it: checked before any change. */
	if (hs->failed || hs->msgi >= hs->pat->nmsgs || !our_turn(hs))
		return (KITH_EINVAL);
	ntoks = msg_tokens(hs, hs->msgi, toks);
	need = msg_overhead(hs, toks, ntoks);
	if (len > NOISE_MAXMSG - need || need + len > outcap)
		return (KITH_EINVAL);
	assert(out != NULL);

	for (i = 0; i < ntoks; i++) {
		switch (toks[i]) {
		case TOK_E:
			if (!hs->has_e) {
				randombytes_buf(hs->e_sk, DHLEN);
				crypto_scalarmult_base(hs->e_pk, hs->e_sk);
				hs->has_e = 1;
			}
			hs->e_sent = 1;
			memcpy(p, hs->e_pk, DHLEN);
			mix_hash(hs, hs->e_pk, DHLEN);
			if (hs->psks != 0)
				mix_key(hs, hs->e_pk, DHLEN);
			p += DHLEN;
			break;
		case TOK_S:
			assert(hs->has_s);
			if ((rc = encrypt_and_hash(hs, hs->s_pk, DHLEN, p)) != 0)
				goto fail0;
			p += DHLEN + (hs->cs.haskey ? NOISE_TAGLEN : 0);
			break;
		case TOK_PSK:
			if (!hs->has_psk) {
				rc = KITH_EINVAL;
				goto fail0;
			}
			mix_key_and_hash(hs, hs->psk, NOISE_KEYLEN);
			break;
		default:
			if (token_dh(hs, toks[i]) != 0) {
				rc = KITH_ECRYPTO;
				goto fail0;
			}
			break;
		}
	}
	if ((rc = encrypt_and_hash(hs, payload, len, p)) != 0)
		goto fail0;
	/* Read by the assert alone (none under NDEBUG). */
	/* NOLINTNEXTLINE(clang-analyzer-deadcode.DeadStores) */
	p += len + (hs->cs.haskey ? NOISE_TAGLEN : 0);
	assert((size_t)(p - out) == need + len);

	/* Success! */
	hs->msgi++;
	*outlen = need + len;
	return (0);

fail0:
	/* Nothing half-written goes out. */
	sodium_memzero(out, need + len);
	hs_wipe(hs);
	hs->failed = 1;
	return (rc);
}

/**
 * noise_hs_read(hs, msg, len, payload, cap, plen): read the next handshake
 * message.  A payload longer than ${cap} is KITH_EFORMAT, like any other
 * message of a length we do not accept.  Every failure ends the handshake.
 */
int
noise_hs_read(noise_hs *hs, const uint8_t *msg, size_t len,
    uint8_t *payload, size_t cap, size_t *plen)
{
	uint8_t toks[MAXRUNTOKS];
	size_t ntoks, over, slen, i;
	const uint8_t *p = msg;
	int rc;

	assert(hs != NULL);
	assert(msg != NULL || len == 0);
	assert(plen != NULL);

	if (hs->failed || hs->msgi >= hs->pat->nmsgs || our_turn(hs)) {
		rc = KITH_EINVAL;
		goto fail0;
	}

	/* The length is fixed by the tokens, up to the payload's. */
	ntoks = msg_tokens(hs, hs->msgi, toks);
	over = msg_overhead(hs, toks, ntoks);
	if (len > NOISE_MAXMSG || len < over || len - over > cap) {
		rc = KITH_EFORMAT;
		goto fail0;
	}
	assert(payload != NULL || len == over);

	for (i = 0; i < ntoks; i++) {
		switch (toks[i]) {
		case TOK_E:
			memcpy(hs->re, p, DHLEN);
			hs->has_re = 1;
			mix_hash(hs, hs->re, DHLEN);
			if (hs->psks != 0)
				mix_key(hs, hs->re, DHLEN);
			p += DHLEN;
			break;
		case TOK_S:
			slen = DHLEN + (hs->cs.haskey ? NOISE_TAGLEN : 0);
			if (decrypt_and_hash(hs, p, slen, hs->rs) != 0) {
				rc = KITH_EHANDSHAKE;
				goto fail0;
			}
			hs->has_rs = 1;
			p += slen;
			break;
		case TOK_PSK:
			if (!hs->has_psk) {
				rc = KITH_EINVAL;
				goto fail0;
			}
			mix_key_and_hash(hs, hs->psk, NOISE_KEYLEN);
			break;
		default:
			if (token_dh(hs, toks[i]) != 0) {
				rc = KITH_EHANDSHAKE;
				goto fail0;
			}
			break;
		}
	}
	if (decrypt_and_hash(hs, p, len - (size_t)(p - msg), payload) != 0) {
		rc = KITH_EHANDSHAKE;
		goto fail0;
	}

	/* Success! */
	hs->msgi++;
	*plen = len - over;
	return (0);

fail0:
	hs_wipe(hs);
	hs->failed = 1;
	return (rc);
}

/**
 * noise_hs_done(hs): non-zero once every message of the pattern is through.
 */
int
noise_hs_done(const noise_hs *hs)
{

	assert(hs != NULL);
	return (!hs->failed && hs->msgi == hs->pat->nmsgs);
}

/**
 * noise_hs_remote_static(hs): the peer's static public key once known,
 * else NULL.
 */
const uint8_t *
noise_hs_remote_static(const noise_hs *hs)
{

	assert(hs != NULL);
	return (hs->has_rs && !hs->failed ? hs->rs : NULL);
}

/**
 * noise_hs_hash(hs, h): copy the handshake hash to ${h}.
 */
void
noise_hs_hash(const noise_hs *hs, uint8_t h[static NOISE_HASHLEN])
{

	assert(hs != NULL);
	memcpy(h, hs->h, NOISE_HASHLEN);
}

/* A transport cipher state keyed with the first 32 bytes of ${k}. */
static int
cs_new(noise_cs **out, const uint8_t k[NOISE_HASHLEN])
{
	noise_cs *cs;

	if ((cs = sodium_malloc(sizeof(*cs))) == NULL)
		return (KITH_ENOMEM);
	memset(cs, 0, sizeof(*cs));
	cs_setkey(&cs->c, k);
	*out = cs;
	return (0);
}

/**
 * noise_hs_split(hs, send, recv): once done, derive the two transport
 * cipher states and wipe the handshake's secrets.  Once only.  In a one-way
 * pattern, the direction that carries nothing is NULL (the initiator's
 * ${recv}, the responder's ${send}).  Returns 0, KITH_EINVAL (not done,
 * failed, or already split) or KITH_ENOMEM.
 */
int
noise_hs_split(noise_hs *hs, noise_cs **send, noise_cs **recv)
{
	uint8_t k1[NOISE_HASHLEN];
	uint8_t k2[NOISE_HASHLEN];
	noise_cs *c1 = NULL, *c2 = NULL;
	int oneway;
	int rc;

	assert(hs != NULL);
	assert(send != NULL && recv != NULL);

	if (!noise_hs_done(hs) || hs->split)
		return (KITH_EINVAL);
	oneway = (hs->pat->nmsgs == 1);

	/*
	 * c1 carries initiator to responder, c2 the other way; a one-way
	 * pattern has no use for c2.
	 */
	hkdf(hs->ck, NULL, 0, k1, k2, NULL);
	if ((rc = cs_new(&c1, k1)) != 0)
		goto fail1;
	if (!oneway && (rc = cs_new(&c2, k2)) != 0)
		goto fail2;

	/* The handshake's secrets have done their work. */
	hs_wipe(hs);
	hs->split = 1;
	sodium_memzero(k1, sizeof(k1));
	sodium_memzero(k2, sizeof(k2));

	/* Success! */
	*send = hs->initiator ? c1 : c2;
	*recv = hs->initiator ? c2 : c1;
	return (0);

fail2:
	noise_cs_free(c1);
fail1:
	sodium_memzero(k1, sizeof(k1));
	sodium_memzero(k2, sizeof(k2));
	return (rc);
}

/**
 * noise_hs_free(hs): wipe and free; NULL does nothing.
 */
void
noise_hs_free(noise_hs *hs)
{

	if (hs == NULL)
		return;

	/* sodium_free zeroes the memory before releasing it. */
	sodium_free(hs);
}

/**
 * noise_cs_encrypt(cs, ad, adlen, pt, len, out): encrypt ${len} bytes to
 * ${out} (len + 16 bytes); ${out} may equal ${pt}.  Returns 0 or
 * KITH_EINVAL (nonce exhausted, or len + 16 > NOISE_MAXMSG).
 */
int
noise_cs_encrypt(noise_cs *cs, const uint8_t *ad, size_t adlen,
    const uint8_t *pt, size_t len, uint8_t *out)
{

	assert(cs != NULL);
	assert(ad != NULL || adlen == 0);
	assert(pt != NULL || len == 0);

	if (len > NOISE_MAXMSG - NOISE_TAGLEN)
		return (KITH_EINVAL);
	return (cs_encrypt(&cs->c, ad, adlen, pt, len, out));
}

/**
 * noise_cs_decrypt(cs, ad, adlen, ct, len, out): decrypt ${len} bytes (tag
 * included) to ${out}; the nonce advances only on success.  Returns 0,
 * KITH_EFORMAT (shorter than a tag, or longer than NOISE_MAXMSG) or
 * KITH_ECRYPTO.
 */
int
noise_cs_decrypt(noise_cs *cs, const uint8_t *ad, size_t adlen,
    const uint8_t *ct, size_t len, uint8_t *out)
{

	assert(cs != NULL);
	assert(ad != NULL || adlen == 0);
	assert(ct != NULL || len == 0);

	if (len > NOISE_MAXMSG)
		return (KITH_EFORMAT);
	return (cs_decrypt(&cs->c, ad, adlen, ct, len, out));
}

/**
 * noise_cs_free(cs): wipe and free; NULL does nothing.
 */
void
noise_cs_free(noise_cs *cs)
{

	if (cs == NULL)
		return;

	/* sodium_free zeroes the memory before releasing it. */
	sodium_free(cs);
}
