/*
 * test_noise.c: syncd/noise.c against the cacophony vectors, plus the
 * failures it must report.
 *
 *  1. Every vector of noise/cacophony.txt for the suite
 *     25519_ChaChaPoly_BLAKE2b whose pattern is a base pattern (with any psk
 *     modifiers) is played with both sides: every handshake and transport
 *     ciphertext byte for byte, every decrypted payload, the handshake hash
 *     of both sides and the remote static keys they learnt.  The other
 *     patterns of the suite (deferred, fallback) are counted as skipped and
 *     must be refused by noise_hs_new().
 *  2. For every vector played, a bit flipped in any handshake message makes
 *     a read fail: that very read, or, when the message is not encrypted
 *     (a first message with no DH and no psk0), the reply to it.
 *  3. IKpsk2 with a wrong psk at the responder: the first message goes
 *     through, the reply fails at the initiator.
 *  4. Transport: a tampered tag or body fails, and the nonce stays put: the
 *     genuine ciphertext still decrypts afterwards.
 *  5. Argument checks, message length checks, low-order points, split
 *     rules, and round trips with random ephemerals.
 *
 * The vectors are found in $KITH_VECTORS/noise/cacophony.txt, else
 * $KITH_SOURCE_DIR/../shared/vectors, else /work/shared/vectors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "kith_err.h"
#include "noise.h"

#define SUITE "_25519_ChaChaPoly_BLAKE2b"
#define BUFLEN (NOISE_MAXMSG + 64)

#define FAILF(...) do {							\
	fprintf(stderr, "noise: %s:%d: ", __func__, __LINE__);		\
	fprintf(stderr, __VA_ARGS__);					\
	fputc('\n', stderr);						\
} while (0)

/* Every CHECK counts one check; a failed one jumps to the cleanup. */
#define CHECK(c, ...) do {						\
	nchecks++;							\
	if (!(c)) {							\
		FAILF(__VA_ARGS__);					\
		goto fail;						\
	}								\
} while (0)

static unsigned long nchecks;
static int nneg_pass, nneg_fail;

/* Scratch buffers (a handshake or transport message, and a payload). */
static uint8_t buf[BUFLEN], buf2[BUFLEN], pbuf[BUFLEN];

struct key {
	uint8_t b[32];
	int set;
};

struct msg {
	uint8_t *pt;
	size_t ptlen;
	uint8_t *ct;
	size_t ctlen;
};

struct vec {
	const char *name;
	uint8_t *ipro, *rpro;
	size_t iprolen, rprolen;
	struct key is, ie, irs, ipsk;
	struct key rs, re, rrs, rpsk;
	uint8_t hh[NOISE_HASHLEN];
	struct msg *msgs;
	size_t nmsgs;
	int oneway;
};

/* Decode hex string ${s} into a new buffer (one spare byte). */
static int
hexdup(const char *s, uint8_t **out, size_t *len)
{
	size_t slen = strlen(s);

	if ((*out = malloc(slen / 2 + 1)) == NULL)
		return (-1);
	if (sodium_hex2bin(*out, slen / 2 + 1, s, slen, NULL, len, NULL) != 0 ||
	    *len * 2 != slen) {
		free(*out);
		*out = NULL;
		return (-1);
	}
	return (0);
}

/* Decode the string field ${f} of ${o} (if present) to ${out}. */
static int
hexfield(json_t *o, const char *f, uint8_t **out, size_t *len)
{
	json_t *s = json_object_get(o, f);

	*out = NULL;
	*len = 0;
	if (s == NULL)
		return (hexdup("", out, len));
	if (!json_is_string(s))
		return (-1);
	return (hexdup(json_string_value(s), out, len));
}

/* A 32-byte key field; absent is fine. */
static int
keyfield(json_t *o, const char *f, struct key *k)
{
	uint8_t *b;
	size_t len;

	k->set = 0;
	if (json_object_get(o, f) == NULL)
		return (0);
	if (hexfield(o, f, &b, &len) != 0)
		return (-1);
	if (len != 32) {
		free(b);
		return (-1);
	}
	memcpy(k->b, b, 32);
	free(b);
	k->set = 1;
	return (0);
}

/* The psk list: absent, or exactly one 32-byte psk. */
static int
pskfield(json_t *o, const char *f, struct key *k)
{
	json_t *a = json_object_get(o, f);
	json_t *s;
	uint8_t *b;
	size_t len;

	k->set = 0;
	if (a == NULL)
		return (0);
	if (!json_is_array(a) || json_array_size(a) > 1)
		return (-1);
	if (json_array_size(a) == 0)
		return (0);
	s = json_array_get(a, 0);
	if (!json_is_string(s) || hexdup(json_string_value(s), &b, &len) != 0)
		return (-1);
	if (len != 32) {
		free(b);
		return (-1);
	}
	memcpy(k->b, b, 32);
	free(b);
	k->set = 1;
	return (0);
}

static void
vec_free(struct vec *v)
{
	size_t i;

	free(v->ipro);
	free(v->rpro);
	for (i = 0; i < v->nmsgs; i++) {
		free(v->msgs[i].pt);
		free(v->msgs[i].ct);
	}
	free(v->msgs);
	memset(v, 0, sizeof(*v));
}

static int
vec_load(json_t *o, struct vec *v)
{
	json_t *name, *msgs, *m;
	uint8_t *hh = NULL;
	size_t hhlen, i;

	memset(v, 0, sizeof(*v));
	if ((name = json_object_get(o, "protocol_name")) == NULL ||
	    !json_is_string(name))
		goto fail;
	v->name = json_string_value(name);
	v->oneway = (strlen(v->name) > 7 && v->name[7] >= 'a' &&
	    v->name[7] <= 'z') || v->name[7] == '_';

	if (hexfield(o, "init_prologue", &v->ipro, &v->iprolen) ||
	    hexfield(o, "resp_prologue", &v->rpro, &v->rprolen) ||
	    keyfield(o, "init_static", &v->is) ||
	    keyfield(o, "init_ephemeral", &v->ie) ||
	    keyfield(o, "init_remote_static", &v->irs) ||
	    pskfield(o, "init_psks", &v->ipsk) ||
	    keyfield(o, "resp_static", &v->rs) ||
	    keyfield(o, "resp_ephemeral", &v->re) ||
	    keyfield(o, "resp_remote_static", &v->rrs) ||
	    pskfield(o, "resp_psks", &v->rpsk))
		goto fail;
	if (hexfield(o, "handshake_hash", &hh, &hhlen) || hhlen != 64)
		goto fail;
	memcpy(v->hh, hh, 64);
	free(hh);
	hh = NULL;

	if ((msgs = json_object_get(o, "messages")) == NULL ||
	    !json_is_array(msgs) || json_array_size(msgs) == 0)
		goto fail;
	if ((v->msgs = calloc(json_array_size(msgs), sizeof(*v->msgs))) ==
	    NULL)
		goto fail;
	for (i = 0; i < json_array_size(msgs); i++) {
		m = json_array_get(msgs, i);
		v->nmsgs++;
		if (!json_is_object(m) ||
		    hexfield(m, "payload", &v->msgs[i].pt, &v->msgs[i].ptlen) ||
		    hexfield(m, "ciphertext", &v->msgs[i].ct,
		    &v->msgs[i].ctlen))
			goto fail;
	}
	return (0);

fail:
	free(hh);
	vec_free(v);
	return (-1);
}

/*
 * Does the test expect noise.c to take ${name}: a base pattern of the
 * specification, then nothing or psk modifiers "pskN(+pskN)*".
 */
static int
expect_supported(const char *name)
{
	static const char *bases[] = { "N", "K", "X", "NN", "NK", "NX", "KN",
	    "KK", "KX", "XN", "XK", "XX", "IN", "IK", "IX" };
	const char *p, *end;
	size_t n, i;
	int found = 0;

	if (strncmp(name, "Noise_", 6) != 0)
		return (0);
	p = name + 6;
	if ((end = strchr(p, '_')) == NULL || strcmp(end, SUITE) != 0)
		return (0);
	for (n = 0; &p[n] < end && !(p[n] >= 'a' && p[n] <= 'z'); n++)
		continue;
	for (i = 0; i < sizeof(bases) / sizeof(bases[0]); i++)
		if (strlen(bases[i]) == n && memcmp(bases[i], p, n) == 0)
			found = 1;
	if (!found)
		return (0);
	p += n;
	while (p < end) {
		if (end - p < 4 || strncmp(p, "psk", 3) != 0 ||
		    p[3] < '0' || p[3] > '9')
			return (0);
		p += 4;
		if (p < end && *p++ != '+')
			return (0);
		if (p == end && p[-1] == '+')
			return (0);
	}
	return (1);
}

/* The two sides of ${v}; ${rpsk} replaces the responder's psk if given. */
static int
make_pair(const struct vec *v, const uint8_t *rpsk, noise_hs **ini,
    noise_hs **res)
{
	int rc;

	*ini = *res = NULL;
	if ((rc = noise_hs_new(ini, v->name, 1, v->ipro, v->iprolen,
	    v->is.set ? v->is.b : NULL, v->irs.set ? v->irs.b : NULL,
	    v->ipsk.set ? v->ipsk.b : NULL)) != 0) {
		FAILF("%s: initiator: %s", v->name, kith_strerror(rc));
		goto fail;
	}
	if ((rc = noise_hs_new(res, v->name, 0, v->rpro, v->rprolen,
	    v->rs.set ? v->rs.b : NULL, v->rrs.set ? v->rrs.b : NULL,
	    rpsk != NULL ? rpsk : v->rpsk.set ? v->rpsk.b : NULL)) != 0) {
		FAILF("%s: responder: %s", v->name, kith_strerror(rc));
		goto fail;
	}
	if (v->ie.set)
		noise_hs_set_ephemeral(*ini, v->ie.b);
	if (v->re.set)
		noise_hs_set_ephemeral(*res, v->re.b);
	return (0);

fail:
	noise_hs_free(*ini);
	*ini = NULL;
	return (-1);
}

/* Does remote static ${got} match the public key of ${k} (or both none)? */
static int
static_matches(const uint8_t *got, const struct key *k)
{
	uint8_t pk[32];

	if (!k->set)
		return (got == NULL);
	if (got == NULL)
		return (0);
	crypto_scalarmult_base(pk, k->b);
	return (memcmp(pk, got, 32) == 0);
}

/*
 * Play ${v} on both sides, checking everything; the number of handshake
 * messages goes to ${nhs}.
 */
static int
run_vector(const struct vec *v, size_t *nhs)
{
	noise_hs *ini = NULL, *res = NULL;
	noise_cs *isend = NULL, *irecv = NULL, *rsend = NULL, *rrecv = NULL;
	noise_cs *tx, *rx;
	uint8_t h[NOISE_HASHLEN];
	size_t i, n, plen;
	int rc, from_ini;
	int ret = -1;

	if (make_pair(v, NULL, &ini, &res) != 0)
		goto fail;

	/* The handshake: the initiator sends the even messages. */
	for (i = 0; !noise_hs_done(ini) || !noise_hs_done(res); i++) {
		const struct msg *m = &v->msgs[i];
		noise_hs *snd = (i % 2 == 0) ? ini : res;
		noise_hs *rcv = (i % 2 == 0) ? res : ini;

		CHECK(i < v->nmsgs, "%s: out of messages", v->name);
		rc = noise_hs_write(snd, m->pt, m->ptlen, buf, BUFLEN, &n);
		CHECK(rc == 0, "%s: write %zu: %s", v->name, i,
		    kith_strerror(rc));
		CHECK(n == m->ctlen && memcmp(buf, m->ct, n) == 0,
		    "%s: handshake message %zu differs", v->name, i);
		rc = noise_hs_read(rcv, buf, n, pbuf, BUFLEN, &plen);
		CHECK(rc == 0, "%s: read %zu: %s", v->name, i,
		    kith_strerror(rc));
		CHECK(plen == m->ptlen && memcmp(pbuf, m->pt, plen) == 0,
		    "%s: handshake payload %zu differs", v->name, i);
	}
	*nhs = i;
	CHECK(!v->oneway || i == 1, "%s: one-way in %zu", v->name, i);

	/* Channel binding and who is who. */
	noise_hs_hash(ini, h);
	CHECK(memcmp(h, v->hh, sizeof(h)) == 0, "%s: initiator hash",
	    v->name);
	noise_hs_hash(res, h);
	CHECK(memcmp(h, v->hh, sizeof(h)) == 0, "%s: responder hash",
	    v->name);
	CHECK(static_matches(noise_hs_remote_static(ini), &v->rs),
	    "%s: initiator's view of the responder", v->name);
	CHECK(static_matches(noise_hs_remote_static(res), &v->is),
	    "%s: responder's view of the initiator", v->name);

	/* Split; a one-way pattern has a single direction. */
	CHECK(noise_hs_split(ini, &isend, &irecv) == 0, "%s: split", v->name);
	CHECK(noise_hs_split(res, &rsend, &rrecv) == 0, "%s: split", v->name);
	if (v->oneway)
		CHECK(isend && !irecv && !rsend && rrecv,
		    "%s: one-way split", v->name);
	else
		CHECK(isend && irecv && rsend && rrecv, "%s: split", v->name);
	noise_hs_hash(ini, h);
	CHECK(memcmp(h, v->hh, sizeof(h)) == 0, "%s: hash after split",
	    v->name);
	CHECK(noise_hs_split(ini, &tx, &rx) == KITH_EINVAL,
	    "%s: second split", v->name);

	/* Transport: alternate on, or all from the initiator if one-way. */
	for (; i < v->nmsgs; i++) {
		const struct msg *m = &v->msgs[i];

		from_ini = v->oneway || i % 2 == 0;
		tx = from_ini ? isend : rsend;
		rx = from_ini ? rrecv : irecv;

		/* In place. */
		memcpy(buf, m->pt, m->ptlen);
		rc = noise_cs_encrypt(tx, NULL, 0, buf, m->ptlen, buf);
		CHECK(rc == 0, "%s: encrypt %zu", v->name, i);
		CHECK(m->ctlen == m->ptlen + NOISE_TAGLEN &&
		    memcmp(buf, m->ct, m->ctlen) == 0,
		    "%s: transport message %zu differs", v->name, i);
		rc = noise_cs_decrypt(rx, NULL, 0, buf, m->ctlen, pbuf);
		CHECK(rc == 0, "%s: decrypt %zu", v->name, i);
		CHECK(memcmp(pbuf, m->pt, m->ptlen) == 0,
		    "%s: transport payload %zu differs", v->name, i);
	}

	ret = 0;
fail:
	noise_cs_free(isend);
	noise_cs_free(irecv);
	noise_cs_free(rsend);
	noise_cs_free(rrecv);
	noise_hs_free(ini);
	noise_hs_free(res);
	return (ret);
}

/*
 * Run ${v}'s handshake with bit ${bit} of byte ${byte} of message ${fm}
 * flipped in transit.  The message whose read failed goes to ${at} (-1 if
 * none did), its error to ${err}.
 */
static int
run_flipped(const struct vec *v, size_t fm, size_t byte, int bit, long *at,
    int *err)
{
	noise_hs *ini, *res;
	size_t i, n, plen;
	int rc;

	*at = -1;
	*err = 0;
	if (make_pair(v, NULL, &ini, &res) != 0)
		return (-1);
	for (i = 0; !noise_hs_done(ini) || !noise_hs_done(res); i++) {
		const struct msg *m = &v->msgs[i];
		noise_hs *snd = (i % 2 == 0) ? ini : res;
		noise_hs *rcv = (i % 2 == 0) ? res : ini;

		if ((rc = noise_hs_write(snd, m->pt, m->ptlen, buf, BUFLEN,
		    &n)) != 0) {
			*at = (long)i;
			*err = rc;
			break;
		}
		if (i == fm)
			buf[byte % n] ^= (uint8_t)(1U << bit);
		if ((rc = noise_hs_read(rcv, buf, n, pbuf, BUFLEN,
		    &plen)) != 0) {
			*at = (long)i;
			*err = rc;
			break;
		}
	}
	noise_hs_free(ini);
	noise_hs_free(res);
	return (0);
}

/* Section 2: bit flips in every handshake message of ${v}. */
static int
check_flips(const struct vec *v, size_t nhs)
{
	size_t fm, k, len;
	size_t pos[4];
	int bits[4] = { 0, 7, 3, 0 };
	long at;
	int err;

	for (fm = 0; fm < nhs; fm++) {
		len = v->msgs[fm].ctlen;
		pos[0] = 0;		/* First byte of e (or s). */
		pos[1] = 31;		/* The bit X25519 ignores. */
		pos[2] = len / 2;
		pos[3] = len - 1;	/* Tag, or the payload's last byte. */
		for (k = 0; k < 4; k++) {
			if (run_flipped(v, fm, pos[k], bits[k], &at, &err))
				return (-1);
			if (err == KITH_EHANDSHAKE && ((size_t)at == fm ||
			    (fm == 0 && at == 1))) {
				nneg_pass++;
				continue;
			}
			FAILF("%s: flip in message %zu byte %zu: failed at %ld "
			    "with %s", v->name, fm, pos[k] % len, at,
			    err ? kith_strerror(err) : "nothing");
			nneg_fail++;
			return (-1);
		}
	}
	return (0);
}

/* Section 3: IKpsk2 with the responder holding another psk. */
static int
check_wrong_psk(const struct vec *v)
{
	noise_hs *ini = NULL, *res = NULL;
	uint8_t psk[32];
	size_t n, plen;
	int rc, ret = -1;

	memcpy(psk, v->rpsk.b, 32);
	psk[0] ^= 1;
	if (make_pair(v, psk, &ini, &res) != 0)
		goto fail;
	CHECK(noise_hs_write(ini, v->msgs[0].pt, v->msgs[0].ptlen, buf,
	    BUFLEN, &n) == 0, "write 0");
	CHECK(noise_hs_read(res, buf, n, pbuf, BUFLEN, &plen) == 0,
	    "psk2 does not touch the first message");
	CHECK(noise_hs_write(res, v->msgs[1].pt, v->msgs[1].ptlen, buf,
	    BUFLEN, &n) == 0, "write 1");
	rc = noise_hs_read(ini, buf, n, pbuf, BUFLEN, &plen);
	CHECK(rc == KITH_EHANDSHAKE, "wrong psk accepted (%s)",
	    kith_strerror(rc));
	CHECK(!noise_hs_done(ini) && noise_hs_remote_static(ini) == NULL,
	    "failed handshake still usable");
	CHECK(noise_hs_write(ini, NULL, 0, buf, BUFLEN, &n) == KITH_EINVAL,
	    "write after failure");

	ret = 0;
fail:
	noise_hs_free(ini);
	noise_hs_free(res);
	return (ret);
}

/* Section 4: tampered transport messages, on ${v} (an interactive one). */
static int
check_tamper(const struct vec *v, size_t nhs)
{
	noise_hs *ini = NULL, *res = NULL;
	noise_cs *isend = NULL, *irecv = NULL, *rsend = NULL, *rrecv = NULL;
	const struct msg *m;
	size_t i, n, plen;
	int ret = -1;

	if (make_pair(v, NULL, &ini, &res) != 0)
		goto fail;
	for (i = 0; i < nhs; i++) {
		m = &v->msgs[i];
		CHECK(noise_hs_write(i % 2 ? res : ini, m->pt, m->ptlen, buf,
		    BUFLEN, &n) == 0, "write %zu", i);
		CHECK(noise_hs_read(i % 2 ? ini : res, buf, n, pbuf, BUFLEN,
		    &plen) == 0, "read %zu", i);
	}
	CHECK(noise_hs_split(ini, &isend, &irecv) == 0, "split");
	CHECK(noise_hs_split(res, &rsend, &rrecv) == 0, "split");

	/* The first transport message of the vector, and its receiver. */
	CHECK(nhs < v->nmsgs, "no transport message");
	m = &v->msgs[nhs];
	n = m->ctlen;
	memcpy(buf, m->ct, n);
	buf[n - 1] ^= 0x80;
	CHECK(noise_cs_decrypt(nhs % 2 ? irecv : rrecv, NULL, 0, buf, n,
	    pbuf) == KITH_ECRYPTO, "tampered tag accepted");
	buf[n - 1] ^= 0x80;
	buf[0] ^= 0x01;
	CHECK(noise_cs_decrypt(nhs % 2 ? irecv : rrecv, NULL, 0, buf, n,
	    pbuf) == KITH_ECRYPTO, "tampered body accepted");
	CHECK(noise_cs_decrypt(nhs % 2 ? irecv : rrecv, NULL, 0, buf,
	    NOISE_TAGLEN - 1, pbuf) == KITH_EFORMAT, "short message");
	CHECK(noise_cs_decrypt(nhs % 2 ? irecv : rrecv, NULL, 0, m->ct, n,
	    pbuf) == 0 && memcmp(pbuf, m->pt, m->ptlen) == 0,
	    "nonce moved on a failed decryption");
	/* Replay: the nonce has moved on now. */
	CHECK(noise_cs_decrypt(nhs % 2 ? irecv : rrecv, NULL, 0, m->ct, n,
	    pbuf) == KITH_ECRYPTO, "replay accepted");
	/* Additional data is authenticated (both states still at nonce 0). */
	memcpy(buf, "hello", 5);
	CHECK(noise_cs_encrypt(rsend, (const uint8_t *)"ad", 2, buf, 5,
	    buf) == 0, "encrypt");
	CHECK(noise_cs_decrypt(irecv, (const uint8_t *)"AD", 2, buf, 21,
	    pbuf) == KITH_ECRYPTO, "wrong ad accepted");
	CHECK(noise_cs_decrypt(irecv, (const uint8_t *)"ad", 2, buf, 21,
	    pbuf) == 0 && memcmp(pbuf, "hello", 5) == 0, "right ad refused");

	ret = 0;
fail:
	noise_cs_free(isend);
	noise_cs_free(irecv);
	noise_cs_free(rsend);
	noise_cs_free(rrecv);
	noise_hs_free(ini);
	noise_hs_free(res);
	return (ret);
}

/*
 * A full exchange on ${proto} with random ephemerals; fresh static keys
 * and psk where the pattern has them (${si}, ${sr}: static of initiator,
 * responder; ${pi}, ${pr}: pre-shared to the other side; ${psk}).
 */
static int
round_trip(const char *proto, int si, int sr, int pi, int pr, int psk)
{
	uint8_t isk[32], ipk[32], rsk[32], rpk[32], k[32];
	uint8_t h1[NOISE_HASHLEN], h2[NOISE_HASHLEN];
	noise_hs *ini = NULL, *res = NULL;
	noise_cs *isend = NULL, *irecv = NULL, *rsend = NULL, *rrecv = NULL;
	size_t i, n, plen;
	int rc, ret = -1;

	crypto_box_keypair(ipk, isk);
	crypto_box_keypair(rpk, rsk);
	randombytes_buf(k, sizeof(k));

	rc = noise_hs_new(&ini, proto, 1, (const uint8_t *)"kith", 4,
	    si ? isk : NULL, pr ? rpk : NULL, psk ? k : NULL);
	CHECK(rc == 0, "%s: new: %s", proto, kith_strerror(rc));
	rc = noise_hs_new(&res, proto, 0, (const uint8_t *)"kith", 4,
	    sr ? rsk : NULL, pi ? ipk : NULL, psk ? k : NULL);
	CHECK(rc == 0, "%s: new: %s", proto, kith_strerror(rc));

	for (i = 0; !noise_hs_done(ini); i++) {
		noise_hs *snd = (i % 2 == 0) ? ini : res;
		noise_hs *rcv = (i % 2 == 0) ? res : ini;

		/* Not the other side's turn. */
		CHECK(noise_hs_write(rcv, NULL, 0, buf, BUFLEN, &n) ==
		    KITH_EINVAL, "%s: out of turn", proto);
		/* No room: refused, and nothing changes. */
		CHECK(noise_hs_write(snd, pbuf, 100, buf, 100, &n) ==
		    KITH_EINVAL, "%s: outcap", proto);
		randombytes_buf(pbuf, 100);
		memcpy(buf2, pbuf, 100);
		CHECK(noise_hs_write(snd, pbuf, 100, buf, BUFLEN, &n) == 0,
		    "%s: write %zu", proto, i);
		CHECK(noise_hs_read(rcv, buf, n, pbuf, BUFLEN, &plen) == 0 &&
		    plen == 100 && memcmp(pbuf, buf2, 100) == 0,
		    "%s: read %zu", proto, i);
	}
	CHECK(noise_hs_done(res), "%s: responder not done", proto);
	CHECK(noise_hs_write(ini, NULL, 0, buf, BUFLEN, &n) == KITH_EINVAL &&
	    noise_hs_write(res, NULL, 0, buf, BUFLEN, &n) == KITH_EINVAL,
	    "%s: write after the end", proto);
	noise_hs_hash(ini, h1);
	noise_hs_hash(res, h2);
	CHECK(memcmp(h1, h2, sizeof(h1)) == 0, "%s: hashes differ", proto);
	CHECK((si ? noise_hs_remote_static(res) != NULL &&
	    memcmp(noise_hs_remote_static(res), ipk, 32) == 0 :
	    noise_hs_remote_static(res) == NULL) &&
	    (sr ? noise_hs_remote_static(ini) != NULL &&
	    memcmp(noise_hs_remote_static(ini), rpk, 32) == 0 :
	    noise_hs_remote_static(ini) == NULL), "%s: remote static", proto);

	CHECK(noise_hs_split(ini, &isend, &irecv) == 0 &&
	    noise_hs_split(res, &rsend, &rrecv) == 0, "%s: split", proto);

	/* The largest transport message, in place, both ways. */
	n = NOISE_MAXMSG - NOISE_TAGLEN;
	randombytes_buf(buf, n);
	memcpy(buf2, buf, n);
	CHECK(noise_cs_encrypt(isend, NULL, 0, buf, n, buf) == 0, "%s: big",
	    proto);
	CHECK(noise_cs_decrypt(rrecv, NULL, 0, buf, n + NOISE_TAGLEN, pbuf) ==
	    0 && memcmp(pbuf, buf2, n) == 0, "%s: big decrypt", proto);
	CHECK(noise_cs_encrypt(isend, NULL, 0, buf, n + 1, buf) ==
	    KITH_EINVAL, "%s: too big", proto);
	CHECK(noise_cs_decrypt(rrecv, NULL, 0, buf, NOISE_MAXMSG + 1,
	    pbuf) == KITH_EFORMAT, "%s: too big decrypt", proto);
	if (rsend != NULL) {
		CHECK(noise_cs_encrypt(rsend, NULL, 0, buf2, n, buf) == 0 &&
		    noise_cs_decrypt(irecv, NULL, 0, buf, n + NOISE_TAGLEN,
		    pbuf) == 0 && memcmp(pbuf, buf2, n) == 0,
		    "%s: reply", proto);
	}

	ret = 0;
fail:
	sodium_memzero(isk, sizeof(isk));
	sodium_memzero(rsk, sizeof(rsk));
	sodium_memzero(k, sizeof(k));
	noise_cs_free(isend);
	noise_cs_free(irecv);
	noise_cs_free(rsend);
	noise_cs_free(rrecv);
	noise_hs_free(ini);
	noise_hs_free(res);
	return (ret);
}

/* Section 5: what the API must refuse. */
static int
check_api(void)
{
	static const char *bad[] = {
		"Noise_NN_25519_AESGCM_BLAKE2b",
		"Noise_NN_25519_ChaChaPoly_BLAKE2s",
		"Noise_NN_25519_ChaChaPoly_SHA256",
		"Noise_NN_448_ChaChaPoly_BLAKE2b",
		"Noise_NN_25519_ChaChaPoly_BLAKE2b_",
		"Noise_NN_25519_ChaChaPoly_BLAKE2",
		"Noise_XXfallback_25519_ChaChaPoly_BLAKE2b",
		"Noise_XXfallback+psk0_25519_ChaChaPoly_BLAKE2b",
		"Noise_NNhfs_25519_ChaChaPoly_BLAKE2b",
		"Noise_NK1_25519_ChaChaPoly_BLAKE2b",
		"Noise_X1X1_25519_ChaChaPoly_BLAKE2b",
		"Noise_NNpsk3_25519_ChaChaPoly_BLAKE2b",
		"Noise_Npsk2_25519_ChaChaPoly_BLAKE2b",
		"Noise_NNpsk0+psk0_25519_ChaChaPoly_BLAKE2b",
		"Noise_NNpsk0+_25519_ChaChaPoly_BLAKE2b",
		"Noise_NNpsk_25519_ChaChaPoly_BLAKE2b",
		"Noise_NNpsk00_25519_ChaChaPoly_BLAKE2b",
		"Noise_NNpsk0psk2_25519_ChaChaPoly_BLAKE2b",
		"Noise_25519_ChaChaPoly_BLAKE2b",
		"Noise__25519_ChaChaPoly_BLAKE2b",
		"Noise_YY_25519_ChaChaPoly_BLAKE2b",
		"Noise_nn_25519_ChaChaPoly_BLAKE2b",
		"noise_NN_25519_ChaChaPoly_BLAKE2b",
		"Noise_NN",
		"",
	};
	uint8_t sk[32], pk[32], psk[32], zero[32];
	noise_hs *a = NULL, *b = NULL;
	noise_cs *c1 = NULL, *c2 = NULL;
	size_t i, n, plen;
	int ret = -1;

	crypto_box_keypair(pk, sk);
	randombytes_buf(psk, sizeof(psk));
	memset(zero, 0, sizeof(zero));

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(noise_hs_new(&a, bad[i], 1, NULL, 0, NULL, NULL, NULL) ==
		    KITH_EINVAL, "accepted \"%s\"", bad[i]);
		CHECK(noise_hs_new(&a, bad[i], 0, NULL, 0, sk, pk, psk) ==
		    KITH_EINVAL, "accepted \"%s\"", bad[i]);
	}
	CHECK(noise_hs_new(&a, NULL, 1, NULL, 0, NULL, NULL, NULL) ==
	    KITH_EINVAL, "NULL protocol");

	/* Exactly the keys the pattern calls for. */
#define KEYS(proto, ini, s, rs, p) CHECK(noise_hs_new(&a, proto, ini,	\
	NULL, 0, s, rs, p) == KITH_EINVAL, "%s: keys accepted", proto)
	KEYS("Noise_KK_25519_ChaChaPoly_BLAKE2b", 1, NULL, pk, NULL);
	KEYS("Noise_KK_25519_ChaChaPoly_BLAKE2b", 1, sk, NULL, NULL);
	KEYS("Noise_KK_25519_ChaChaPoly_BLAKE2b", 0, sk, NULL, NULL);
	KEYS("Noise_KK_25519_ChaChaPoly_BLAKE2b", 1, sk, pk, psk);
	KEYS("Noise_NN_25519_ChaChaPoly_BLAKE2b", 1, sk, NULL, NULL);
	KEYS("Noise_NN_25519_ChaChaPoly_BLAKE2b", 1, NULL, NULL, psk);
	KEYS("Noise_XX_25519_ChaChaPoly_BLAKE2b", 1, sk, pk, NULL);
	KEYS("Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b", 1, sk, pk, NULL);
	KEYS("Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b", 1, sk, NULL, psk);
	KEYS("Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b", 0, sk, pk, psk);
	KEYS("Noise_NK_25519_ChaChaPoly_BLAKE2b", 0, NULL, NULL, NULL);
	KEYS("Noise_N_25519_ChaChaPoly_BLAKE2b", 0, sk, pk, NULL);
#undef KEYS

	/* Reading out of turn ends the handshake. */
	CHECK(noise_hs_new(&a, "Noise_NN_25519_ChaChaPoly_BLAKE2b", 1, NULL, 0,
	    NULL, NULL, NULL) == 0, "new");
	CHECK(noise_hs_read(a, zero, 32, pbuf, BUFLEN, &plen) == KITH_EINVAL,
	    "read out of turn");
	CHECK(noise_hs_write(a, NULL, 0, buf, BUFLEN, &n) == KITH_EINVAL,
	    "usable after a failure");
	noise_hs_free(a);
	a = NULL;

	/* Lengths, and a low-order point, on NN. */
	CHECK(noise_hs_new(&a, "Noise_NN_25519_ChaChaPoly_BLAKE2b", 1, NULL, 0,
	    NULL, NULL, NULL) == 0, "new");
	CHECK(noise_hs_new(&b, "Noise_NN_25519_ChaChaPoly_BLAKE2b", 0, NULL, 0,
	    NULL, NULL, NULL) == 0, "new");
	CHECK(noise_hs_split(a, &c1, &c2) == KITH_EINVAL, "split too soon");
	CHECK(noise_hs_write(a, (const uint8_t *)"hi", 2, buf, BUFLEN,
	    &n) == 0 && n == 34, "write");
	CHECK(noise_hs_read(b, buf, 31, pbuf, BUFLEN, &plen) == KITH_EFORMAT,
	    "short message");
	noise_hs_free(b);
	CHECK(noise_hs_new(&b, "Noise_NN_25519_ChaChaPoly_BLAKE2b", 0, NULL, 0,
	    NULL, NULL, NULL) == 0, "new");
	CHECK(noise_hs_read(b, buf, n, pbuf, 1, &plen) == KITH_EFORMAT,
	    "payload over cap");
	noise_hs_free(b);
	CHECK(noise_hs_new(&b, "Noise_NN_25519_ChaChaPoly_BLAKE2b", 0, NULL, 0,
	    NULL, NULL, NULL) == 0, "new");
	memset(buf2, 0, 32);	/* e = 0, a low-order point. */
	memcpy(buf2 + 32, "hi", 2);
	CHECK(noise_hs_read(b, buf2, 34, pbuf, BUFLEN, &plen) == 0,
	    "no DH in message 1 yet");
	CHECK(noise_hs_write(b, NULL, 0, buf2, BUFLEN, &n) == KITH_ECRYPTO,
	    "DH with a low-order point");
	memset(buf2, 0, 48);
	CHECK(noise_hs_read(a, buf2, 48, pbuf, BUFLEN, &plen) ==
	    KITH_EHANDSHAKE, "low-order reply accepted");
	CHECK(noise_hs_read(a, buf2, 48, pbuf, BUFLEN, &plen) == KITH_EINVAL,
	    "usable after a failure");
	CHECK(noise_hs_split(a, &c1, &c2) == KITH_EINVAL, "split failed");
	noise_hs_free(a);
	noise_hs_free(b);
	a = b = NULL;

	/*
	 * IKpsk2, the responder learning its psk after message 1 (as kithd
	 * does for invitations): it completes with the right psk set late,
	 * fails with a wrong one, and fails (no psk at all) without one.
	 */
	{
		uint8_t isk[32], ipk[32], psk2[32];
		const char *ik = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b";
		int round;

		crypto_box_keypair(ipk, isk);
		for (round = 0; round < 3; round++) {
			CHECK(noise_hs_new(&a, ik, 1, NULL, 0, isk, pk, psk) ==
			    0, "IKpsk2 initiator");
			CHECK(noise_hs_new(&b, ik, 0, NULL, 0, sk, NULL,
			    NULL) == 0, "IKpsk2 responder without a psk");
			CHECK(noise_hs_write(a, (const uint8_t *)"tok", 3, buf,
			    BUFLEN, &n) == 0, "IKpsk2 msg1");
			CHECK(noise_hs_read(b, buf, n, pbuf, BUFLEN, &plen) ==
			    0 && plen == 3 && memcmp(pbuf, "tok", 3) == 0,
			    "IKpsk2 msg1 read without the psk");
			memcpy(psk2, psk, 32);
			psk2[0] ^= (uint8_t)(round == 1);
			if (round < 2)
				noise_hs_set_psk(b, psk2);
			CHECK(noise_hs_write(b, NULL, 0, buf, BUFLEN, &n) ==
			    (round < 2 ? 0 : KITH_EINVAL),
			    "IKpsk2 msg2, round %d", round);
			if (round < 2)
				CHECK(noise_hs_read(a, buf, n, pbuf, BUFLEN,
				    &plen) == (round == 0 ? 0 :
				    KITH_EHANDSHAKE), "IKpsk2 psk, round %d",
				    round);
			CHECK(noise_hs_done(a) == (round == 0),
			    "IKpsk2 done, round %d", round);
			noise_hs_free(a);
			noise_hs_free(b);
			a = b = NULL;
		}
		sodium_memzero(isk, sizeof(isk));
	}

	/* Over-long handshake payloads. */
	CHECK(noise_hs_new(&a, "Noise_NN_25519_ChaChaPoly_BLAKE2b", 1, NULL, 0,
	    NULL, NULL, NULL) == 0, "new");
	CHECK(noise_hs_write(a, buf2, NOISE_MAXMSG - 31, buf, BUFLEN, &n) ==
	    KITH_EINVAL, "over-long handshake message");
	CHECK(noise_hs_write(a, buf2, NOISE_MAXMSG - 32, buf, BUFLEN, &n) ==
	    0 && n == NOISE_MAXMSG, "longest handshake message");
	noise_hs_free(a);
	a = NULL;

	noise_hs_free(NULL);
	noise_cs_free(NULL);
	ret = 0;
fail:
	sodium_memzero(sk, sizeof(sk));
	noise_hs_free(a);
	noise_hs_free(b);
	return (ret);
}

/* Open the vectors file as the header comment says. */
static json_t *
load_vectors(char *path, size_t pathlen)
{
	const char *env;
	json_error_t jerr;
	json_t *root;
	FILE *f;

	if ((env = getenv("KITH_VECTORS")) != NULL) {
		snprintf(path, pathlen, "%s/noise/cacophony.txt", env);
	} else {
		path[0] = '\0';
		if ((env = getenv("KITH_SOURCE_DIR")) != NULL) {
			snprintf(path, pathlen,
			    "%s/../shared/vectors/noise/cacophony.txt", env);
			if ((f = fopen(path, "r")) == NULL)
				path[0] = '\0';
			else
				fclose(f);
		}
		if (path[0] == '\0')
			snprintf(path, pathlen,
			    "/work/shared/vectors/noise/cacophony.txt");
	}
	if ((root = json_load_file(path, 0, &jerr)) == NULL)
		fprintf(stderr, "noise: %s: %s (line %d)\n", path, jerr.text,
		    jerr.line);
	return (root);
}

int
main(void)
{
	char path[4096];
	char skipped[4096] = "";
	json_t *root, *vectors;
	struct vec v;
	size_t i, nhs;
	int npass = 0, nfail = 0, nskip = 0;
	int ran_ikpsk2 = 0, ran_kk = 0;
	noise_hs *hs;

	if (sodium_init() < 0) {
		fprintf(stderr, "noise: sodium_init failed\n");
		return (1);
	}
	if ((root = load_vectors(path, sizeof(path))) == NULL)
		return (1);
	vectors = json_object_get(root, "vectors");
	if (!json_is_array(vectors)) {
		fprintf(stderr, "noise: %s: no \"vectors\" list\n", path);
		json_decref(root);
		return (1);
	}

	for (i = 0; i < json_array_size(vectors); i++) {
		json_t *o = json_array_get(vectors, i);
		json_t *jn = json_object_get(o, "protocol_name");
		const char *name = json_string_value(jn);
		size_t nl;

		if (name == NULL) {
			fprintf(stderr, "noise: vector %zu has no name\n", i);
			nfail++;
			continue;
		}
		nl = strlen(name);
		if (nl < strlen(SUITE) ||
		    strcmp(name + nl - strlen(SUITE), SUITE) != 0)
			continue;

		/* Not a base pattern: skip it, but it must be refused. */
		if (!expect_supported(name)) {
			nskip++;
			if (strlen(skipped) + nl + 3 < sizeof(skipped)) {
				if (skipped[0] != '\0')
					strcat(skipped, " ");
				strncat(skipped, name + 6,
				    nl - 6 - strlen(SUITE));
			}
			if (noise_hs_new(&hs, name, 1, NULL, 0, NULL, NULL,
			    NULL) == KITH_EINVAL) {
				nneg_pass++;
			} else {
				FAILF("%s: not refused", name);
				nneg_fail++;
				noise_hs_free(hs);
			}
			continue;
		}

		if (vec_load(o, &v) != 0) {
			FAILF("%s: cannot parse the vector", name);
			nfail++;
			continue;
		}
		if (run_vector(&v, &nhs) != 0 || check_flips(&v, nhs) != 0) {
			nfail++;
			vec_free(&v);
			continue;
		}
		if (strcmp(name, "Noise_IKpsk2" SUITE) == 0) {
			if (check_wrong_psk(&v) == 0) {
				nneg_pass++;
				ran_ikpsk2 = 1;
			} else {
				nneg_fail++;
			}
		}
		if (strcmp(name, "Noise_KK" SUITE) == 0) {
			if (check_tamper(&v, nhs) == 0) {
				nneg_pass++;
				ran_kk = 1;
			} else {
				nneg_fail++;
			}
		}
		npass++;
		vec_free(&v);
	}
	json_decref(root);

	/* Random keys, the two kith patterns and a few more. */
#define RT(p, si, sr, pi, pr, k) do {					\
	if (round_trip("Noise_" p SUITE, si, sr, pi, pr, k) == 0)	\
		nneg_pass++;						\
	else								\
		nneg_fail++;						\
} while (0)
	RT("KK", 1, 1, 1, 1, 0);
	RT("IKpsk2", 1, 1, 0, 1, 1);
	RT("XX", 1, 1, 0, 0, 0);
	RT("NN", 0, 0, 0, 0, 0);
	RT("NNpsk0+psk2", 0, 0, 0, 0, 1);
	RT("XXpsk0+psk1+psk2+psk3", 1, 1, 0, 0, 1);
	RT("IXpsk2+psk0", 1, 1, 0, 0, 1);
	RT("Npsk0+psk1", 0, 1, 0, 1, 1);
	RT("X", 1, 1, 0, 1, 0);
#undef RT
	if (check_api() == 0)
		nneg_pass++;
	else
		nneg_fail++;

	if (nskip > 0)
		printf("noise: skipped (not base patterns): %s\n", skipped);
	printf("noise: %d vectors passed, %d failed, %d skipped; "
	    "%d negative checks passed, %d failed; %lu checks\n",
	    npass, nfail, nskip, nneg_pass, nneg_fail, nchecks);
	if (npass == 0)
		fprintf(stderr, "noise: no vector ran\n");
	if (!ran_ikpsk2 || !ran_kk)
		fprintf(stderr, "noise: the IKpsk2 and KK vectors must run\n");
	return (nfail == 0 && nneg_fail == 0 && npass > 0 && ran_ikpsk2 &&
	    ran_kk ? 0 : 1);
}
