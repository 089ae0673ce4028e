#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "keys.h"
#include "kith_err.h"
#include "kith_util.h"

#define DEVKEY_MAGIC "KITHDK1"	/* with its NUL: 8 bytes */
#define DEVKEY_FILELEN (8 + 64 + 32)
/*
 * Format 2, sealed: magic 8 | sign_pk 32 | kx_pk 32 | nonce 24 |
 * XAEAD(lock, nonce, ad = bytes 0..71, sign_sk 64 || kx_sk 32) 96 + 16.
 */
#define DEVKEY_MAGIC2 "KITHDK2"
#define DEVKEY2_AD (8 + 32 + 32)
#define DEVKEY2_FILELEN (DEVKEY2_AD + 24 + 96 + 16)

/*
 * Argon2id cost of the account key seals: 32 MiB and 16 passes, about a
 * quarter of a second here.  Stored in every seal, so it can grow without a format
 * change.  Kept below 64 MiB so that `kith pair` stays in its memory
 * budget while it signs.
 */
#define SEAL_OPSLIMIT 16
#define SEAL_MEMLIMIT (32u << 20)

static void
devkey_derive(struct devkey *k)
{
	static const uint8_t ctx[] = "kith store key v1";

	crypto_sign_ed25519_sk_to_pk(k->sign_pk, k->sign_sk);
	crypto_scalarmult_base(k->kx_pk, k->kx_sk);
	crypto_generichash(k->store_key, 32, ctx, sizeof(ctx) - 1,
	    k->kx_sk, 32);
}

static void
devkey_fresh(struct devkey *k)
{
	uint8_t seed[32];

	memset(k, 0, sizeof(*k));
	randombytes_buf(seed, sizeof(seed));
	crypto_sign_seed_keypair(k->sign_pk, k->sign_sk, seed);
	sodium_memzero(seed, sizeof(seed));
	randombytes_buf(k->kx_sk, 32);
	devkey_derive(k);
	k->unsaved = 1;
}

void
devkey_renew(struct devkey *k)
{

	devkey_fresh(k);
}

int
devkey_save_clear(const char *dir, struct devkey *k)
{
	char path[PATH_MAX];
	uint8_t *file;
	ssize_t w;
	int fd, rc = 0;

	if (!k->unsaved)
		return (0);
	if (snprintf(path, sizeof(path), "%s/device.key", dir) >=
	    (int)sizeof(path))
		return (KITH_EINVAL);
	if ((file = sodium_malloc(DEVKEY_FILELEN)) == NULL)
		return (KITH_ENOMEM);
	memcpy(file, DEVKEY_MAGIC, 8);
	memcpy(file + 8, k->sign_sk, 64);
	memcpy(file + 72, k->kx_sk, 32);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) == -1) {
		sodium_free(file);
		return (errno == EEXIST ? KITH_EEXIST : KITH_EIO);
	}
	w = write(fd, file, DEVKEY_FILELEN);
	sodium_free(file);
	if (w != (ssize_t)DEVKEY_FILELEN || fsync(fd) != 0) {
		(void)unlink(path);
		rc = KITH_EIO;
	}
	close(fd);
	if (rc == 0)
		k->unsaved = 0;
	return (rc);
}

int
devkey_load(const char *dir, int create, struct devkey **out)
{
	char path[PATH_MAX];
	struct devkey *k;
	uint8_t *buf = NULL;
	size_t len;
	int rc;

	if (snprintf(path, sizeof(path), "%s/device.key", dir) >=
	    (int)sizeof(path))
		return (KITH_EINVAL);
	if ((k = sodium_malloc(sizeof(*k))) == NULL)
		return (KITH_ENOMEM);

	rc = kith_file_read(path, 4096, &buf, &len);
	if (rc == KITH_ENOENT && create) {
		/*
		 * New keys stay in memory until they are sealed (or, for a
		 * join, saved for a resume): keys written in clear would
		 * outlive their sealed copy in the file system's free blocks.
		 */
		devkey_fresh(k);
		*out = k;
		return (0);
	} else if (rc != 0) {
		if (rc == KITH_ETOOBIG)
			rc = KITH_ECORRUPT;
		goto fail;
	} else if (len == DEVKEY2_FILELEN &&
	    memcmp(buf, DEVKEY_MAGIC2, 8) == 0) {	/* not secret: magic */
		/* Sealed: only the public keys until devkey_unlock. */
		memset(k, 0, sizeof(*k));
		memcpy(k->sign_pk, buf + 8, 32);
		memcpy(k->kx_pk, buf + 40, 32);
		k->sealed = k->locked = 1;
		free(buf);
		*out = k;
		return (0);
	} else {
		if (len != DEVKEY_FILELEN ||
		    memcmp(buf, DEVKEY_MAGIC, 8)) {	/* not secret: magic */
			rc = KITH_ECORRUPT;
			goto fail;
		}
		memcpy(k->sign_sk, buf + 8, 64);
		memcpy(k->kx_sk, buf + 72, 32);
		sodium_memzero(buf, len);
		free(buf);
		buf = NULL;
	}
	k->sealed = k->locked = k->unsaved = 0;
	devkey_derive(k);
	*out = k;
	return (0);

fail:
	if (buf != NULL) {
		sodium_memzero(buf, len);
		free(buf);
	}
	sodium_free(k);
	return (rc);
}

static int
devkey_path(const char *dir, char path[static PATH_MAX])
{

	return (snprintf(path, PATH_MAX, "%s/device.key", dir) >= PATH_MAX ?
	    KITH_EINVAL : 0);
}

int
devkey_unlock(const char *dir, struct devkey *k,
    const uint8_t lock[static DEVKEY_LOCKLEN])
{
	char path[PATH_MAX];
	uint8_t *buf = NULL, *plain;
	uint8_t spk[32], xpk[32];
	size_t len;
	int rc;

	if (!k->locked)
		return (0);
	if ((rc = devkey_path(dir, path)) != 0 ||
	    (rc = kith_file_read(path, 4096, &buf, &len)) != 0)
		return (rc == KITH_ETOOBIG ? KITH_ECORRUPT : rc);
	if (len != DEVKEY2_FILELEN || memcmp(buf, DEVKEY_MAGIC2, 8) != 0 || /* not secret */
	    memcmp(buf + 8, k->sign_pk, 32) != 0 ||	/* not secret */
	    memcmp(buf + 40, k->kx_pk, 32) != 0) {	/* not secret */
		free(buf);
		return (KITH_ECORRUPT);
	}
	if ((plain = sodium_malloc(96)) == NULL) {
		free(buf);
		return (KITH_ENOMEM);
	}
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(plain, NULL, NULL,
	    buf + DEVKEY2_AD + 24, 96 + 16, buf, DEVKEY2_AD,
	    buf + DEVKEY2_AD, lock) != 0) {
		rc = KITH_EBADPASS;
		goto done;
	}
	/* The public keys in the header must be those of the secrets. */
	crypto_sign_ed25519_sk_to_pk(spk, plain);
	crypto_scalarmult_base(xpk, plain + 64);
	if (memcmp(spk, k->sign_pk, 32) != 0 ||	/* not secret: public */
	    memcmp(xpk, k->kx_pk, 32) != 0) {		/* not secret: public */
		rc = KITH_ECORRUPT;
		goto done;
	}
	memcpy(k->sign_sk, plain, 64);
	memcpy(k->kx_sk, plain + 64, 32);
	devkey_derive(k);
	k->locked = 0;
done:
	sodium_free(plain);
	free(buf);
	return (rc);
}

int
devkey_seal(const char *dir, struct devkey *k,
    const uint8_t lock[static DEVKEY_LOCKLEN])
{
	char path[PATH_MAX];
	uint8_t *file;
	int rc;

	if (k->locked)
		return (KITH_EINVAL);
	if ((rc = devkey_path(dir, path)) != 0)
		return (rc);
	if ((file = sodium_malloc(DEVKEY2_FILELEN)) == NULL)
		return (KITH_ENOMEM);
	memcpy(file, DEVKEY_MAGIC2, 8);
	memcpy(file + 8, k->sign_pk, 32);
	memcpy(file + 40, k->kx_pk, 32);
	randombytes_buf(file + DEVKEY2_AD, 24);
	memcpy(file + DEVKEY2_AD + 24, k->sign_sk, 64);
	memcpy(file + DEVKEY2_AD + 24 + 64, k->kx_sk, 32);
	crypto_aead_xchacha20poly1305_ietf_encrypt(file + DEVKEY2_AD + 24,
	    NULL, file + DEVKEY2_AD + 24, 96, file, DEVKEY2_AD, NULL,
	    file + DEVKEY2_AD, lock);
	/* Atomic: a crash leaves the old file or the new one, whole. */
	rc = kith_file_write(path, file, DEVKEY2_FILELEN, 0600);
	sodium_free(file);
	if (rc == 0) {
		k->sealed = 1;
		k->unsaved = 0;
	}
	return (rc);
}

void
devkey_lockkey(const uint8_t seed[static 32],
    const uint8_t sign_pk[static 32], uint8_t lock[static DEVKEY_LOCKLEN])
{
	static const uint8_t ctx[] = "kith device lock v1";
	crypto_generichash_state st;

	crypto_generichash_init(&st, seed, 32, DEVKEY_LOCKLEN);
	crypto_generichash_update(&st, ctx, sizeof(ctx) - 1);
	crypto_generichash_update(&st, sign_pk, 32);
	crypto_generichash_final(&st, lock, DEVKEY_LOCKLEN);
	sodium_memzero(&st, sizeof(st));
}

void
devkey_free(struct devkey *k)
{

	if (k != NULL)
		sodium_free(k);	/* sodium_free wipes */
}

static int
seal_key(uint8_t key[32], const uint8_t *secret, size_t len,
    const uint8_t salt[16], uint64_t ops, uint64_t mem)
{

	if (crypto_pwhash(key, 32, (const char *)secret, len, salt, ops,
	    (size_t)mem, crypto_pwhash_ALG_ARGON2ID13) != 0)
		return (KITH_ENOMEM);
	return (0);
}

int
account_seal(const uint8_t seed[static 32], const uint8_t *secret,
    size_t len, uint8_t out[static ACCOUNT_SEALED_LEN])
{
	uint8_t *key;
	int rc;

	if ((key = sodium_malloc(32)) == NULL)
		return (KITH_ENOMEM);
	randombytes_buf(out, 16);
	kith_be64enc(out + 16, SEAL_OPSLIMIT);
	kith_be64enc(out + 24, SEAL_MEMLIMIT);
	randombytes_buf(out + 32, 24);
	if ((rc = seal_key(key, secret, len, out, SEAL_OPSLIMIT,
	    SEAL_MEMLIMIT)) != 0)
		goto done;
	/* The header (salt and costs) is bound as associated data. */
	crypto_aead_xchacha20poly1305_ietf_encrypt(out + 56, NULL, seed, 32,
	    out, 32, NULL, out + 32, key);
done:
	sodium_free(key);
	return (rc);
}

int
account_unseal(const uint8_t sealed[static ACCOUNT_SEALED_LEN],
    const uint8_t *secret, size_t len, uint8_t seed[static 32])
{
	uint8_t *key;
	uint64_t ops, mem;
	int rc;

	ops = kith_be64dec(sealed + 16);
	mem = kith_be64dec(sealed + 24);
	/* Refuse costs that would hang or exhaust the machine. */
	if (ops < 1 || ops > 64 || mem < 8192 || mem > (256ull << 20))
		return (KITH_EFORMAT);
	if ((key = sodium_malloc(32)) == NULL)
		return (KITH_ENOMEM);
	if ((rc = seal_key(key, secret, len, sealed, ops, mem)) != 0)
		goto done;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(seed, NULL, NULL,
	    sealed + 56, 48, sealed, 32, sealed + 32, key) != 0)
		rc = KITH_EBADPASS;
done:
	sodium_free(key);
	return (rc);
}

static void
recovery_check(const uint8_t *rnd, uint8_t check[RECOVERY_BYTES -
    RECOVERY_RANDOM])
{
	static const uint8_t ctx[] = "kith recovery check v1";
	uint8_t h[16];

	crypto_generichash(h, sizeof(h), rnd, RECOVERY_RANDOM, ctx,
	    sizeof(ctx) - 1);
	memcpy(check, h, RECOVERY_BYTES - RECOVERY_RANDOM);
	sodium_memzero(h, sizeof(h));
}

void
recovery_seed(const uint8_t bytes[static RECOVERY_BYTES],
    uint8_t seed[static 32])
{
	static const uint8_t ctx[] = "kith account seed v1";

	crypto_generichash(seed, 32, ctx, sizeof(ctx) - 1, bytes,
	    RECOVERY_BYTES);
}

void
account_idkey(const uint8_t seed[static 32], uint8_t idkey[static 32])
{
	static const uint8_t ctx[] = "kith id key v1";

	crypto_generichash(idkey, 32, ctx, sizeof(ctx) - 1, seed, 32);
}

void
recovery_new(uint8_t bytes[static RECOVERY_BYTES],
    char text[static RECOVERY_TEXTLEN])
{
	char b[KITH_BASE32_LEN(RECOVERY_BYTES) + 1];
	size_t i, o = 0;

	randombytes_buf(bytes, RECOVERY_RANDOM);
	recovery_check(bytes, bytes + RECOVERY_RANDOM);
	kith_base32_enc(bytes, RECOVERY_BYTES, b);
	for (i = 0; b[i] != '\0'; i++) {
		if (i > 0 && i % 4 == 0)
			text[o++] = '-';
		text[o++] = b[i];
	}
	text[o] = '\0';
	sodium_memzero(b, sizeof(b));
}

int
recovery_parse(const char *text, uint8_t bytes[static RECOVERY_BYTES])
{
	uint8_t b[RECOVERY_BYTES + 1], c[RECOVERY_BYTES - RECOVERY_RANDOM];
	size_t n;
	int rc = 0;

	if (kith_base32_dec(text, strlen(text), b, sizeof(b), &n) != 0 ||
	    n != RECOVERY_BYTES) {
		sodium_memzero(b, sizeof(b));
		return (KITH_EFORMAT);
	}
	recovery_check(b, c);
	if (sodium_memcmp(c, b + RECOVERY_RANDOM, sizeof(c)) != 0)
		rc = KITH_EBADPASS;
	else
		memcpy(bytes, b, RECOVERY_BYTES);
	sodium_memzero(b, sizeof(b));
	sodium_memzero(c, sizeof(c));
	return (rc);
}
