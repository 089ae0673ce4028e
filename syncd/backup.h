/*
 * backup.h: encrypted, incremental backups of a kith home to a directory
 * (typically the root of a removable volume), and restore from them.
 *
 * A target is a directory holding kith-backup/TARGET, a marker that only
 * devices of the account recognise.  Each device writes its own set,
 * kith-backup/<set>/, as numbered segment files (the records new since
 * the last backup) and manifests (what a restore needs besides records,
 * and the list of segments), each written to a temporary name, synced and
 * renamed: a cut at any moment leaves the previous manifest and all it
 * names whole.  Every file is encrypted to the account's backup key, a
 * key pair derived from the account key: devices hold only its public
 * half, so a device (or a thief of one) reads no backup, and the recovery
 * code or the passphrase reads them all.  Manifests are signed by the
 * device that wrote them.  The formats are in docs/PROTOCOL.md §14.
 */
#ifndef KITH_BACKUP_H
#define KITH_BACKUP_H

#include <stddef.h>
#include <stdint.h>

#include "keys.h"
#include "store.h"

#define BACKUP_DIRNAME "kith-backup"
#define BACKUP_IDLEN 16
#define BACKUP_KEEP 2		/* manifests kept: the last and the one before */
#define BACKUP_MAXSEG 32	/* segments before the next backup is full */

/* A segment named by a manifest. */
struct backup_seg {
	uint32_t num;
	uint64_t size, recs;
	uint8_t hash[32];	/* BLAKE2b-256 of the file */
};

/*
 * What this device knows of its set on one target (kept in the home's
 * meta as "backup:<hex id>"): the last manifest it wrote, and what that
 * manifest covers.
 */
struct backup_state {
	uint64_t number;	/* 0: none yet */
	uint64_t time;
	uint8_t manhash[32];
	uint8_t rosterhash[32];
	struct store_vv *vv;	/* malloc'd; NULL: nothing */
	size_t nseg;
	struct backup_seg *seg;	/* malloc'd */
};

/* What a backup carries besides the records, from the home. */
struct backup_src {
	store *st;
	const uint8_t *sign_sk;		/* 64: signs the manifest */
	const uint8_t *sign_pk;
	const uint8_t *account_pk;
	const uint8_t *bpk;		/* the account's backup public key */
	const uint8_t *cert;		/* this device's certificate */
	size_t certlen;
	const uint8_t *roster;		/* the signed roster blob */
	size_t rosterlen;
	const uint8_t *sealed_pass;	/* ACCOUNT_SEALED_LEN each */
	const uint8_t *sealed_rec;
	const uint8_t *keys;		/* hist_keys_export */
	size_t keyslen;
	const char *name;		/* this device's name */
	void (*progress)(void *arg, uint64_t n, uint64_t tot);
	void *arg;
};

struct backup_result {
	uint64_t number;	/* the manifest written (or held, if none) */
	uint64_t records;	/* records written this time */
	uint64_t bytes;		/* bytes written this time */
	uint64_t total;		/* records the backup holds */
	int full;		/* 1: a full backup (first, or compaction) */
	int uptodate;		/* 1: nothing new, nothing written */
	char set[17];
};

/**
 * backup_keypair(seed, bsk, bpk): the account's backup key pair, from the
 * account seed: bsk = BLAKE2b-256(key = seed, "kith backup key v1"),
 * bpk = X25519(bsk, 9).  ${bsk} may be NULL.
 */
void backup_keypair(const uint8_t seed[static 32], uint8_t *bsk,
    uint8_t bpk[static 32]);

/**
 * backup_init(dir, bpk, id): mark ${dir} as a target of the account of
 * ${bpk} (creates DIR/kith-backup/TARGET).  Returns 0, KITH_EEXIST (it
 * is one already; *${id} is its id), KITH_EPERM (marked for another
 * account), KITH_ENOENT (no such directory), KITH_ENOSPACE or KITH_EIO.
 */
int backup_init(const char *dir, const uint8_t bpk[static 32],
    uint8_t id[static BACKUP_IDLEN]);

/**
 * backup_probe(dir, bpk, id): whether ${dir} is a target of this account.
 * Returns 0 (*${id} set), KITH_ENOENT (no marker), KITH_EPERM (another
 * account's) or KITH_ECORRUPT.
 */
int backup_probe(const char *dir, const uint8_t bpk[static 32],
    uint8_t id[static BACKUP_IDLEN]);

/**
 * backup_run(src, dir, state, res): back up to the target ${dir}: the
 * records beyond ${state} in a new segment and a new manifest, or
 * everything when ${state} does not match what the target holds (or at
 * BACKUP_MAXSEG segments); then remove what the last BACKUP_KEEP
 * manifests do not name.  ${state} is updated on success only.  Returns
 * 0, KITH_ENOSPACE (the medium is full: nothing of this run is left on
 * it), KITH_BUSY (another process backs up to this set), KITH_EIO, or a
 * store error.
 */
int backup_run(const struct backup_src *src, const char *dir,
    struct backup_state *state, struct backup_result *res);

/**
 * backup_state_enc(s, out, len) / backup_state_dec(b, len, s) /
 * backup_state_free(s): the state as kept in meta.
 */
int backup_state_enc(const struct backup_state *s, uint8_t **out,
    size_t *len);
int backup_state_dec(const uint8_t *b, size_t len, struct backup_state *s);
void backup_state_free(struct backup_state *s);

/* A manifest, opened. */
struct backup_manifest {
	char set[17];
	uint64_t number, time;
	uint8_t account_pk[32], sign_pk[32];
	char name[65];
	uint8_t *roster;
	size_t rosterlen;
	uint8_t sealed_pass[ACCOUNT_SEALED_LEN];
	uint8_t sealed_rec[ACCOUNT_SEALED_LEN];
	uint8_t *keys;			/* sodium_malloc */
	size_t keyslen;
	struct store_vv *vv;
	size_t nseg;
	struct backup_seg *seg;
	uint64_t total;			/* records named by its segments */
};

/**
 * backup_find(dir, set, sealed_pass, number): the newest manifest on the
 * target (or in the set ${set}, when not NULL): its set and number and
 * its passphrase seal (read in clear: it is what a passphrase opens).
 * ${dir} may be the target, its kith-backup directory, or a set.
 * Returns 0, KITH_ENOENT (no backup there) or KITH_EIO.
 */
int backup_find(const char *dir, const char *set, char outset[static 17],
    uint8_t sealed_pass[static ACCOUNT_SEALED_LEN], uint64_t *number);

/**
 * backup_sets(dir, sets, max, n): the sets on a target (or ${dir} itself,
 * when it is a set) that hold a manifest.  Returns 0 or KITH_ENOENT.
 * backup_newest(dir, set): the number of the set's newest manifest (0:
 * none).
 */
int backup_sets(const char *dir, char (*sets)[17], size_t max, size_t *n);
uint64_t backup_newest(const char *dir, const char *set);

/**
 * backup_open(dir, set, number, seed, m): decrypt and verify manifest
 * ${number} of ${set} with the account ${seed}: the signature, the
 * device's certificate and the roster, all against the account key.
 * Returns 0, KITH_EBADPASS (the seed does not open it: another account's
 * backup, or a wrong code), KITH_ECORRUPT (damaged or altered), KITH_EIO.
 */
int backup_open(const char *dir, const char *set, uint64_t number,
    const uint8_t seed[static 32], struct backup_manifest *m);

/**
 * backup_manifest_free(m): wipe and free its parts.
 */
void backup_manifest_free(struct backup_manifest *m);

/**
 * backup_read(dir, m, seed, cb, arg): check each segment of ${m} (size,
 * hash), decrypt it and hand every record to ${cb}.  Returns 0,
 * KITH_ECORRUPT (a segment missing, altered or cut: which one is logged
 * by nothing, the caller says so), or what ${cb} returned.
 */
int backup_read(const char *dir, const struct backup_manifest *m,
    const uint8_t seed[static 32],
    int (*cb)(void *arg, const struct store_rec *rec), void *arg);

/**
 * backup_setname(bpk, sign_pk, out): the set directory of a device:
 * hex of BLAKE2b-64(key = bpk, sign_pk).
 */
void backup_setname(const uint8_t bpk[static 32],
    const uint8_t sign_pk[static 32], char out[static 17]);

#endif
