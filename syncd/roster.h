/*
 * roster.h: the signed, versioned, hash-chained list of an account's
 * devices, and device certificates.
 *
 * Every roster version is signed by the account key and names the hash of
 * the version before it; a device holds the newest valid version it has
 * seen and refuses any older one.  A revoked device stays on the roster,
 * marked revoked, forever.  Byte layouts are in docs/PROTOCOL.md.
 */
#ifndef KITH_ROSTER_H
#define KITH_ROSTER_H

#include <stddef.h>
#include <stdint.h>

#define ROSTER_MAXDEV 256
#define ROSTER_NAMEMAX 64

enum { ROSTER_ACTIVE = 1, ROSTER_REVOKED = 2 };

struct roster_dev {
	uint8_t sign_pk[32];	/* the device's id */
	uint8_t kx_pk[32];	/* its Noise static key */
	uint8_t status;
	uint64_t added;
	uint8_t added_by[32];	/* sign_pk of the device that enrolled it */
	uint64_t revoked;
	uint8_t revoked_by[32];
	char name[ROSTER_NAMEMAX + 1];
};

struct roster {
	uint64_t version;
	uint8_t prev[32];	/* hash of version - 1; zero for version 1 */
	uint8_t account_pk[32];
	uint64_t time;
	size_t ndev;
	struct roster_dev dev[ROSTER_MAXDEV];
	/* Set by roster_sign and roster_decode: */
	uint8_t *blob;
	size_t bloblen;
	uint8_t hash[32];
};

/**
 * roster_new(account_pk, out): an empty, unsigned roster of version 1.
 */
int roster_new(const uint8_t account_pk[static 32], struct roster **out);

/**
 * roster_next(cur, out): an unsigned copy of ${cur} with the version one
 * higher and ${cur}'s hash as prev.
 */
int roster_next(const struct roster *cur, struct roster **out);

/**
 * roster_add(r, sign_pk, kx_pk, name, added_by): add an active device,
 * enrolled now by the device ${added_by} (its own key for the first one).  Returns 0,
 * KITH_EEXIST (key already listed), KITH_EINVAL (bad name) or KITH_ETOOBIG.
 */
int roster_add(struct roster *r, const uint8_t sign_pk[static 32],
    const uint8_t kx_pk[static 32], const char *name,
    const uint8_t added_by[static 32]);

/**
 * roster_sign(r, account_sk): encode and sign ${r} with the 64-byte
 * Ed25519 account secret key; sets blob, bloblen and hash.
 */
int roster_sign(struct roster *r, const uint8_t account_sk[static 64]);

/**
 * roster_decode(blob, len, account_pk, out): parse and verify a roster.
 * With ${account_pk} NULL, the key named in the roster is used (the caller
 * must then check it).  Returns 0, KITH_EFORMAT, KITH_EVERSION,
 * KITH_ECRYPTO (bad signature) or KITH_ENOMEM.
 */
int roster_decode(const uint8_t *blob, size_t len, const uint8_t *account_pk,
    struct roster **out);

/**
 * roster_supersedes(held, cand): 0 if ${cand} may replace ${held}: same
 * account, higher version, and when the versions are consecutive, its prev
 * is ${held}'s hash.  KITH_ESTALE for an equal or older version,
 * KITH_ECRYPTO for a broken chain or another account.
 */
int roster_supersedes(const struct roster *held, const struct roster *cand);

/**
 * roster_find_kx(r, kx_pk) / roster_find_sign(r, sign_pk): the device with
 * that key, or NULL.
 */
const struct roster_dev *roster_find_kx(const struct roster *r,
    const uint8_t kx_pk[static 32]);
const struct roster_dev *roster_find_sign(const struct roster *r,
    const uint8_t sign_pk[static 32]);

/**
 * roster_free(r): NULL does nothing.
 */
void roster_free(struct roster *r);

/**
 * roster_name_ok(name): non-zero if ${name} is a valid device name: 1 to
 * 64 bytes of well-formed UTF-8 without control characters (C0, DEL, C1).
 */
int roster_name_ok(const char *name);

/*
 * Device certificate: the account's statement that a device with these
 * keys and name belongs to it; what a service checks.
 */
#define CERT_MAXLEN (4 + 1 + 32 + 32 + 32 + 8 + 1 + ROSTER_NAMEMAX + 64)

/**
 * cert_make(account_sk, dev, out, len): sign a certificate for ${dev}.
 */
int cert_make(const uint8_t account_sk[static 64],
    const struct roster_dev *dev, uint8_t out[static CERT_MAXLEN],
    size_t *len);

/**
 * cert_verify(blob, len, account_pk, dev): check a certificate against
 * ${account_pk} and fill ${dev} (status ACTIVE).  Returns 0, KITH_EFORMAT
 * or KITH_ECRYPTO.
 */
int cert_verify(const uint8_t *blob, size_t len,
    const uint8_t account_pk[static 32], struct roster_dev *dev);

#endif
