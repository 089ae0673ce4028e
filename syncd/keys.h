/*
 * keys.h: this device's keys, and the account signing key sealed under the
 * account passphrase and under the recovery code.
 *
 * A device holds two key pairs: Ed25519 (it signs as the device: invitation
 * answers, join proofs) and X25519 (its Noise static key).  They live in
 * device.key (0600), sealed under a lock key derived from the account key
 * once the device belongs to an account, and, once opened, in
 * sodium_malloc memory.
 *
 * The account key is an Ed25519 key whose 32-byte seed never rests in
 * clear: it is sealed twice, with XChaCha20-Poly1305 under keys stretched by
 * Argon2id from the passphrase and from the recovery code.
 */
#ifndef KITH_KEYS_H
#define KITH_KEYS_H

#include <stddef.h>
#include <stdint.h>

struct devkey {
	uint8_t sign_pk[32];
	uint8_t sign_sk[64];
	uint8_t kx_pk[32];
	uint8_t kx_sk[32];
	uint8_t store_key[32];	/* wraps the history keys in the store */
	int sealed;		/* device.key is sealed (format 2) */
	int locked;		/* sealed and not opened: only the public
				   keys are known, the rest is zero */
	int unsaved;		/* new, in memory only: no device.key yet */
};

#define DEVKEY_LOCKLEN 32

/**
 * devkey_load(dir, create, out): load ${dir}/device.key, or with ${create}
 * make new keys when it does not exist: kept in memory only (unsaved)
 * until devkey_seal or devkey_save_clear writes them.
 * *${out} is in sodium_malloc memory; free with devkey_free().  Returns 0,
 * KITH_ENOENT, KITH_ECORRUPT, KITH_EIO or KITH_ENOMEM.
 */
int devkey_load(const char *dir, int create, struct devkey **out);

/**
 * devkey_save_clear(dir, k): write new keys (unsaved) to device.key in
 * clear (format 1), as a join needs before it first connects, so that a
 * cut join resumes with the same keys.  Returns 0 (also when saved
 * already), KITH_EEXIST or KITH_EIO.
 */
int devkey_save_clear(const char *dir, struct devkey *k);

/**
 * devkey_renew(k): replace ${k} with new keys in memory (unsaved).
 */
void devkey_renew(struct devkey *k);

/**
 * devkey_unlock(dir, k, lock): open the sealed device.key with the lock
 * key ${lock} (devkey_lockkey) into the locked ${k}.  Returns 0 (also when
 * ${k} is not locked), KITH_EBADPASS (not this device's lock key),
 * KITH_ECORRUPT or KITH_EIO.
 */
int devkey_unlock(const char *dir, struct devkey *k,
    const uint8_t lock[static DEVKEY_LOCKLEN]);

/**
 * devkey_seal(dir, k, lock): rewrite device.key sealed under ${lock}
 * (atomically, 0600); ${k} must be open.  Returns 0, KITH_EINVAL (locked)
 * or KITH_EIO.
 */
int devkey_seal(const char *dir, struct devkey *k,
    const uint8_t lock[static DEVKEY_LOCKLEN]);

/**
 * devkey_lockkey(seed, sign_pk, lock): the key that seals a device's
 * device.key: BLAKE2b-256 keyed by the account ${seed} over "kith device
 * lock v1" || ${sign_pk}.  Whoever can open the account key (passphrase
 * or recovery code) can open any device's keys, and a passphrase change
 * leaves every device.key as it is.
 */
void devkey_lockkey(const uint8_t seed[static 32],
    const uint8_t sign_pk[static 32], uint8_t lock[static DEVKEY_LOCKLEN]);

/**
 * devkey_free(k): wipe and free; NULL does nothing.
 */
void devkey_free(struct devkey *k);

/*
 * Sealed account key: salt 16 | opslimit 8 | memlimit 8 | nonce 24 |
 * ciphertext of the seed 32 + tag 16.
 */
#define ACCOUNT_SEALED_LEN (16 + 8 + 8 + 24 + 32 + 16)

/*
 * Recovery codes: 18 random bytes and 2 check bytes (a mistyped code is
 * told apart from a wrong one), base32 in groups of four.  The account
 * key is derived from the code, so the code alone rebuilds the account.
 */
#define RECOVERY_BYTES 20
#define RECOVERY_RANDOM 18
#define RECOVERY_TEXTLEN 40	/* 32 characters and 7 dashes, NUL */

/**
 * account_seal(seed, secret, len, out): seal the account ${seed} under
 * ${secret} (a passphrase or a recovery code's bytes).  Returns 0 or
 * KITH_ENOMEM (Argon2id could not get its memory).
 */
int account_seal(const uint8_t seed[static 32], const uint8_t *secret,
    size_t len, uint8_t out[static ACCOUNT_SEALED_LEN]);

/**
 * account_unseal(sealed, secret, len, seed): recover the seed.  Returns 0,
 * KITH_EBADPASS, KITH_EFORMAT or KITH_ENOMEM.  This takes about a second
 * by design.
 */
int account_unseal(const uint8_t sealed[static ACCOUNT_SEALED_LEN],
    const uint8_t *secret, size_t len, uint8_t seed[static 32]);

/**
 * recovery_new(bytes, text): a new recovery code, as bytes and as text
 * (for example "ABCD-EFGH-..."), both secrets.
 */
void recovery_new(uint8_t bytes[static RECOVERY_BYTES],
    char text[static RECOVERY_TEXTLEN]);

/**
 * recovery_parse(text, bytes): read a recovery code as typed (any case,
 * dashes and spaces optional).  Returns 0, KITH_EFORMAT (not a code) or
 * KITH_EBADPASS (its check bytes do not match: a typo).
 */
int recovery_parse(const char *text, uint8_t bytes[static RECOVERY_BYTES]);

/**
 * recovery_seed(bytes, seed): the account key's seed, derived from a
 * recovery code: BLAKE2b-256 keyed by the code over "kith account seed v1".
 */
void recovery_seed(const uint8_t bytes[static RECOVERY_BYTES],
    uint8_t seed[static 32]);

/**
 * account_idkey(seed, idkey): the account's record id key, derived from
 * the account seed, so that a recovered device names records as the lost
 * ones did.
 */
void account_idkey(const uint8_t seed[static 32], uint8_t idkey[static 32]);

#endif
