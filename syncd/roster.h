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

/*
 * Devices never leave a roster (revoked ones stay, marked), so this bounds
 * the enrolments of an account; it keeps the largest roster, with its
 * grants, inside one Noise message.
 */
#define ROSTER_MAXDEV 128
#define ROSTER_NAMEMAX 64

enum { ROSTER_ACTIVE = 1, ROSTER_REVOKED = 2 };

/* Flags. */
#define ROSTER_F_RESET 0x01	/* made by recovery: devices of any
				   earlier version not listed are revoked */

/* A grant: the key of the roster's epoch, sealed to one active device
 * (crypto_box_seal to its kx key). */
#define ROSTER_GRANTLEN (32 + 48)

struct roster_grant {
	uint8_t sign_pk[32];
	uint8_t box[ROSTER_GRANTLEN];
};

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
	uint8_t flags;
	uint32_t epoch;		/* the history epoch new records are under */
	uint8_t seal[32];	/* BLAKE2b-256 of the passphrase seal */
	size_t ndev;
	struct roster_dev dev[ROSTER_MAXDEV];
	size_t ngrant;
	struct roster_grant grant[ROSTER_MAXDEV];
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
 * roster_revoke(r, sign_pk, by): mark the device ${sign_pk} revoked now,
 * by the device ${by}.  Returns 0, KITH_ENOENT or KITH_EREVOKED (already).
 */
int roster_revoke(struct roster *r, const uint8_t sign_pk[static 32],
    const uint8_t by[static 32]);

/**
 * roster_grant_all(r, key): replace the grants with ${key} (the key of
 * r->epoch) sealed to every active device.
 */
int roster_grant_all(struct roster *r, const uint8_t key[static 32]);

/**
 * roster_grant_open(r, sign_pk, kx_pk, kx_sk, key): open the grant made to
 * the device ${sign_pk}.  Returns 0, KITH_ENOENT (none for it) or
 * KITH_ECRYPTO.
 */
int roster_grant_open(const struct roster *r, const uint8_t sign_pk[static 32],
    const uint8_t kx_pk[static 32], const uint8_t kx_sk[static 32],
    uint8_t key[static 32]);

/**
 * roster_active(r): the number of active devices.
 */
size_t roster_active(const struct roster *r);

/**
 * roster_sign(r, account_sk): encode and sign ${r} with the 64-byte
 * Ed25519 account secret key; sets blob, bloblen and hash.  The grants
 * must name exactly the active devices (KITH_EINVAL otherwise).
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
 * roster_supersedes(held, cand): 0 if ${cand} may replace ${held}.  The
 * rules (docs/PROTOCOL.md §4.3): the same account; a higher version; when
 * the versions are consecutive, cand's prev is held's hash; every device
 * of held is in cand with the same keys, name and enrolment, and one
 * revoked in held is revoked in cand, at the same time by the same device;
 * the epoch never goes down, and goes up when cand revokes a device active
 * in held.  A reset roster (ROSTER_F_RESET, from recovery) need only be
 * of a higher version and must not list as active a device (sign_pk or
 * kx_pk) revoked in held.  Returns 0; KITH_ESTALE (equal or older version); KITH_EFORK (the
 * same version, other contents); KITH_ECRYPTO (another account, or a
 * broken chain); KITH_EROSTER (a rule above broken).
 */
int roster_supersedes(const struct roster *held, const struct roster *cand);

/**
 * roster_verify(blob, len, account_pk, held, heldlen, out): what a service
 * runs on a roster a member hands it: decode and verify ${blob} against
 * the account key it pinned (${account_pk}; NULL takes the key the roster
 * names, for a first contact), and when it holds an earlier roster of the
 * account (${held}, NULL if none), check that the new one may replace it.
 * On success *${out} is the roster (roster_free it); judge a device with
 * roster_status.  Returns what roster_decode and roster_supersedes return.
 */
int roster_verify(const uint8_t *blob, size_t len, const uint8_t *account_pk,
    const uint8_t *held, size_t heldlen, struct roster **out);

/**
 * roster_status(r, sign_pk): ROSTER_ACTIVE, ROSTER_REVOKED, or 0 when the
 * roster does not list the device (a device a service saw before but a
 * reset roster does not list was revoked by the recovery).
 */
int roster_status(const struct roster *r, const uint8_t sign_pk[static 32]);

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
