/*
 * store.h: the SQLite database of a kith home (kith.db).
 *
 * One file, WAL mode, synchronous=NORMAL: a crash or power cut loses at
 * most the last transactions and never leaves the file inconsistent.
 * History records are stored as the ciphertext they travel as; the store
 * never sees a plaintext message.  Each record is identified by its origin
 * device and that device's sequence number (for sync), and by a keyed hash
 * of its (service, id) (for deduplication).
 */
#ifndef KITH_STORE_H
#define KITH_STORE_H

#include <stddef.h>
#include <stdint.h>

#define STORE_RIDLEN 16
#define STORE_MAXBOX ((size_t)16 * 1024 * 1024 + 4096)

typedef struct store store;

/* A record as stored and as sent. */
struct store_rec {
	uint8_t origin[32];	/* the sign_pk of the device that wrote it */
	uint64_t seq;
	uint32_t epoch;
	uint8_t rid[STORE_RIDLEN];
	const uint8_t *box;
	size_t boxlen;
};

/* What a device holds: the highest sequence number seen per origin. */
struct store_vv {
	size_t n;
	struct {
		uint8_t origin[32];
		uint64_t seq;
	} e[];
};

/**
 * store_open(path, out): open or create the database at ${path} (0600).
 * Returns 0, KITH_EDB or KITH_ECORRUPT.
 */
int store_open(const char *path, store **out);

/**
 * store_check(st): 0 if SQLite's quick_check finds the file sound, else
 * KITH_ECORRUPT (a damaged page can misplace records without any read
 * failing: a rowid out of order moves a record to another seq).
 */
int store_check(store *st);

/**
 * store_close(st): NULL does nothing.
 */
void store_close(store *st);

/**
 * store_begin(st) / store_commit(st) / store_rollback(st): transactions.
 */
int store_begin(store *st);

/**
 * store_begin_read(st): a read transaction: every read until
 * store_rollback sees one snapshot, and takes no lock that would make a
 * writer (another process, or kithd) wait.
 */
int store_begin_read(store *st);
int store_commit(store *st);
void store_rollback(store *st);

/**
 * store_data_version(st, v): a number that changes whenever another
 * connection (another process) commits to the file.
 */
int store_data_version(store *st, int64_t *v);

/**
 * store_in_tx(st): non-zero inside a transaction.
 */
int store_in_tx(store *st);

/**
 * store_meta_get(st, key, val, len): a malloc'd copy of a meta value.
 * Returns 0, KITH_ENOENT or KITH_EDB.
 */
int store_meta_get(store *st, const char *key, uint8_t **val, size_t *len);

/**
 * store_meta_put(st, key, val, len): set a meta value.
 */
int store_meta_put(store *st, const char *key, const void *val, size_t len);

/**
 * store_meta_del(st, key): remove a meta value (absent is fine).
 */
int store_meta_del(store *st, const char *key);

/**
 * store_epoch_put(st, epoch, wrapped, len) / store_epoch_each(st, cb, arg):
 * the wrapped history keys, one per epoch.
 */
int store_epoch_put(store *st, uint32_t epoch, const uint8_t *wrapped,
    size_t len);
int store_epoch_each(store *st,
    int (*cb)(void *arg, uint32_t epoch, const uint8_t *w, size_t len),
    void *arg);

/**
 * store_rec_put(st, rec, added): store ${rec} unless a record with the same
 * (origin, seq) or the same rid is held (then *${added} is 0; for the
 * same rid under a new (origin, seq), a pointer row is kept, see
 * STORE_UNIQUE).  Also
 * raises the origin's version vector entry to rec->seq, at the end of a
 * run of one origin or at store_commit (at once outside a transaction).
 */
int store_rec_put(store *st, const struct store_rec *rec, int *added);

/**
 * store_next_seq(st, origin, seq): one more than the highest sequence
 * number held from ${origin} (1 when none).  Read it inside the
 * transaction that will use it.
 */
int store_next_seq(store *st, const uint8_t origin[static 32],
    uint64_t *seq);

/**
 * store_rid_exists(st, rid): 1 if a record with ${rid} is held, 0 if not,
 * or a negative error.
 */
int store_rid_exists(store *st, const uint8_t rid[static STORE_RIDLEN]);

/**
 * store_rec_get(st, rid, cb, arg): call ${cb} with the record whose rid is
 * ${rid} (valid during the call only).  Returns what ${cb} returns,
 * KITH_ENOENT (not held) or a store error.
 */
int store_rec_get(store *st, const uint8_t rid[static STORE_RIDLEN],
    int (*cb)(void *arg, const struct store_rec *rec), void *arg);

/**
 * store_vv_get(st, vv): the version vector (malloc'd; free()).
 */
int store_vv_get(store *st, struct store_vv **vv);

/**
 * store_vv_seq(vv, origin): the entry for ${origin}, 0 when absent.
 */
uint64_t store_vv_seq(const struct store_vv *vv,
    const uint8_t origin[static 32]);

/*
 * A record that arrives under a second numbering (the same rid from another
 * origin: the same message, stored independently by two devices) is stored
 * once; its second (origin, seq) is kept as a row that points at the first,
 * so that every origin's numbering stays without gaps on every device.
 * Scans and counts see such rows as the record they point at, unless
 * STORE_UNIQUE asks for each record once.
 */
#define STORE_UNIQUE 1

/**
 * store_count(st, have, flags, n, bytes): how many records, and how many
 * bytes of ciphertext, are held beyond ${have} (NULL: all of them).
 */
int store_count(store *st, const struct store_vv *have, int flags,
    uint64_t *n, uint64_t *bytes);

/**
 * store_scan(st, have, flags, cb, arg): call ${cb} for each record held
 * beyond ${have} (NULL: all), in (origin, seq) order, origins in byte
 * order.  The record is valid during the call only.  A non-zero return
 * from ${cb} stops the scan and is returned.
 */
int store_scan(store *st, const struct store_vv *have, int flags,
    int (*cb)(void *arg, const struct store_rec *rec), void *arg);

#endif
