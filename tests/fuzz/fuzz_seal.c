/*
 * fuzz_seal: the envelope decoder of kith open (syncd/seal.c, seal_open)
 * on a real home (fuzz_home.h: an account of one device whose keys are
 * fixed).  The first byte selects a mode:
 *
 *   0  the rest is an envelope, binary or armoured, as a file would
 *      bring it: header, stanzas, armour, frame lengths.
 *   1  the rest describes the frames of an envelope that the harness
 *      seals for real to this device: a flags byte (bit 0: sign), then
 *      frames of u8 tag || u16 length (big endian) || plaintext, each
 *      pushed with that secretstream tag.  With bit 0, a FINAL frame of
 *      64 bytes is replaced by the device's true signature over what came
 *      before, so that the checks after the stream (the sender, its
 *      device, the roster it carries, a group's key document) are reached
 *      with any sender block the fuzzer makes.  A frame that holds
 *      "key":"<64 hex>", "creator":"<64 hex>" and "gid":"<32 chars>" gets
 *      the gid that key and creator make (PROTOCOL §15.10), so that group
 *      documents get past that check to the ones after it.
 *
 * Properties: seal_open returns 0 or one of its documented errors; what
 * it accepts names this account as the sender (the only one the home
 * knows) and the home's own device, active in the roster.
 */
#define _GNU_SOURCE		/* memmem */

#include "fuzz.h"
#include "fuzz_home.h"

#include <sodium.h>

#include "seal.h"

static struct home *hm;

static void
open_home(void)
{
	const char *dir = fh_template();

	fh_reset(dir, NULL, 0);
	FUZZ_MUST(home_open(dir, 0, &hm) == 0 && hm->h != NULL &&
	    !hm->dk->locked);
}

static void
kdf(const uint8_t *key, const char *ctx, const uint8_t *a, size_t alen,
    const uint8_t *b, size_t blen, uint8_t out[32])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, key, key != NULL ? 32 : 0, 32);
	crypto_generichash_update(&st, (const uint8_t *)ctx, strlen(ctx));
	crypto_generichash_update(&st, a, alen);
	if (b != NULL)
		crypto_generichash_update(&st, b, blen);
	crypto_generichash_final(&st, out, 32);
}

/* The value of "${name}":" in ${p}, if ${want} characters follow. */
static uint8_t *
value_of(uint8_t *p, size_t len, const char *name, size_t want)
{
	char pat[16];
	uint8_t *v;

	snprintf(pat, sizeof(pat), "\"%s\":\"", name);
	v = memmem(p, len, pat, strlen(pat));
	if (v == NULL || (size_t)(v - p) + strlen(pat) + want > len)
		return (NULL);
	return (v + strlen(pat));
}

/* A group document's gid made the one its key and creator make. */
static void
fix_gid(uint8_t *p, size_t len)
{
	uint8_t *k = value_of(p, len, "key", 64), *c = value_of(p, len,
	    "creator", 64), *g = value_of(p, len, "gid", 32);
	uint8_t key[32], cr[32], h[32];
	char hex[65];

	if (k == NULL || c == NULL || g == NULL ||
	    kith_unhex((const char *)k, 64, key, 32) != 0 ||
	    kith_unhex((const char *)c, 64, cr, 32) != 0)
		return;
	kdf(key, "kith seal gid v1", cr, 32, NULL, 0, h);
	kith_hex(h, 16, hex);
	memcpy(g, hex, 32);
}

/*
 * Mode 1: seal the frames ${d} describes to this device's kx key; keys
 * and nonces from a hash of the input, so that a crash replays.
 */
static int
build(const uint8_t *d, size_t n, uint8_t **env, size_t *envlen)
{
	static const uint8_t zn[24];
	crypto_secretstream_xchacha20poly1305_state ss;
	crypto_generichash_state dh;
	uint8_t seed[32], esk[32], fk[32], sh[32], wk[32], h[32], pk[32],
	    hdr[12 + 80 + 24], dg[64], m[108], sig[64], *ct, *pt, tag;
	unsigned long long clen;
	size_t off, len;
	int sign;
	FILE *f;

	if (n < 1)
		return (-1);
	sign = d[0] & 1;
	crypto_generichash(seed, 32, d, n, NULL, 0);
	crypto_generichash(esk, 32, seed, 32, (const uint8_t *)"esk", 3);
	crypto_generichash(fk, 32, seed, 32, (const uint8_t *)"fk", 2);
	memcpy(hdr, "KITHSEAL\x01\x00\x00\x01", 12);
	crypto_scalarmult_base(hdr + 12, esk);
	if (crypto_scalarmult(sh, esk, hm->dk->kx_pk) != 0)
		return (-1);
	kdf(sh, "kith seal wrap v1", hdr + 12, 32, hm->dk->kx_pk, 32, wk);
	crypto_aead_xchacha20poly1305_ietf_encrypt(hdr + 44, NULL, fk, 32,
	    (const uint8_t *)"kith seal stanza v1", 19, NULL, zn, wk);
	kdf(NULL, "kith seal header v1", hdr, 92, NULL, 0, h);
	kdf(fk, "kith seal payload v1", h, 32, NULL, 0, pk);
	crypto_secretstream_xchacha20poly1305_init_push(&ss, hdr + 92, pk);
	crypto_generichash_init(&dh, NULL, 0, 64);
	if ((f = open_memstream((char **)env, envlen)) == NULL ||
	    (ct = malloc(65536 + 64)) == NULL || (pt = malloc(65536)) == NULL)
		abort();
	fwrite(hdr, 1, sizeof(hdr), f);
	for (off = 1; off + 3 <= n; off += 3 + len) {
		tag = d[off];
		len = kith_be16dec(d + off + 1);
		if (len > n - off - 3)
			len = n - off - 3;
		if (sign && tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL
		    && len == 64) {
			crypto_generichash_final(&dh, dg, 64);
			memcpy(m, "kith seal v1", 12);
			memcpy(m + 12, h, 32);
			memcpy(m + 44, dg, 64);
			crypto_sign_detached(sig, NULL, m, sizeof(m),
			    hm->dk->sign_sk);
			crypto_secretstream_xchacha20poly1305_push(&ss, ct + 4,
			    &clen, sig, 64, NULL, 0, tag);
		} else {
			memcpy(pt, d + off + 3, len);
			fix_gid(pt, len);
			crypto_generichash_update(&dh, pt, len);
			crypto_secretstream_xchacha20poly1305_push(&ss, ct + 4,
			    &clen, pt, len, NULL, 0, tag);
		}
		kith_be32enc(ct, (uint32_t)clen);
		fwrite(ct, 1, (size_t)clen + 4, f);
	}
	free(ct);
	free(pt);
	fclose(f);
	sodium_memzero(esk, sizeof(esk));
	sodium_memzero(fk, sizeof(fk));
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seal_opened r;
	uint8_t *env = NULL;
	size_t envlen = 0;
	char *pt = NULL;
	size_t ptlen = 0;
	FILE *in, *out;
	int rc;

	if (size < 1 || size > (1 << 20))
		return (0);
	if (hm == NULL)
		open_home();
	if (data[0] == 1) {
		if (build(data + 1, size - 1, &env, &envlen) != 0)
			return (0);
	} else {
		if ((env = malloc(size)) == NULL)
			abort();
		memcpy(env, data + 1, size - 1);
		envlen = size - 1;
	}
	in = envlen > 0 ? fmemopen(env, envlen, "r") : fopen("/dev/null",
	    "r");
	out = open_memstream(&pt, &ptlen);
	FUZZ_MUST(in != NULL && out != NULL);
	rc = seal_open(hm, in, out, &r);
	fclose(in);
	fclose(out);
	if (getenv("KITH_FUZZ_VERBOSE") != NULL)
		fprintf(stderr, "fuzz_seal: mode %d: %s\n", data[0],
		    rc == 0 ? "opened" : kith_strerror(rc));
	switch (rc) {
	case 0:
		FUZZ_MUST(r.sender.how == SEAL_SELF);
		FUZZ_MUST(memcmp(r.sender.account_pk, hm->account_pk, 32) == 0);
		FUZZ_MUST(memcmp(r.dev.sign_pk, hm->dk->sign_pk, 32) == 0);
		FUZZ_MUST(roster_status(hm->roster, r.dev.sign_pk) ==
		    ROSTER_ACTIVE);
		FUZZ_MUST(r.kind == SEAL_KIND_GROUP || r.bytes == ptlen);
		break;
	case KITH_ENOTKITH: case KITH_EVERSION: case KITH_EFORMAT:
	case KITH_ETRUNC: case KITH_ENOTFORME: case KITH_ENOTCONTACT:
	case KITH_ECRYPTO: case KITH_EFORK: case KITH_EREVOKED:
	case KITH_ENOTMEMBER: case KITH_EROSTER: case KITH_ETOOBIG:
	case KITH_EPERM:
		break;
	default:
		fprintf(stderr, "seal_open: %s\n", kith_strerror(rc));
		FUZZ_MUST(!"an undocumented error");
	}
	seal_open_free(&r);
	free(pt);
	free(env);
	return (0);
}
