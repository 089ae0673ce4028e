#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "kith_err.h"
#include "store.h"

#define SCHEMA_VERSION 2

struct store {
	sqlite3 *db;
	sqlite3_stmt *rec_ins;
	sqlite3_stmt *origin_get;
	sqlite3_stmt *origin_ins;
	sqlite3_stmt *vv_bump;
	sqlite3_stmt *rid_get;
	sqlite3_stmt *seq_max;
	sqlite3_stmt *k_get;
	sqlite3_stmt *box_set;
	sqlite3_stmt *dup_ins;
	/* Last origin looked up: a transfer sends long runs of one origin. */
	uint8_t last_origin[32];
	int64_t last_idx;
	/* The vv raise owed for the current run of records. */
	int64_t pend_idx;
	uint64_t pend_seq;
};

static int vv_flush(store *st);

/*
 * A failed SQLite write as a kith error: a full disk and a damaged file
 * are told apart from other failures, so that the user learns what to do.
 */
static int
sqlerr(int r)
{

	switch (r & 0xff) {
	case SQLITE_FULL:
		return (KITH_ENOSPACE);
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return (KITH_ECORRUPT);
	case SQLITE_IOERR:
		return (KITH_EIO);
	default:
		return (KITH_EDB);
	}
}

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS epochs(epoch INTEGER PRIMARY KEY,"
    "  wrapped BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS origins(idx INTEGER PRIMARY KEY,"
    "  dev BLOB NOT NULL UNIQUE);"
    "CREATE TABLE IF NOT EXISTS vv(idx INTEGER PRIMARY KEY,"
    "  seq INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS rec(k INTEGER PRIMARY KEY,"
    "  epoch INTEGER, rid BLOB UNIQUE, box BLOB, dup INTEGER);";

/*
 * Version 1 had no dup column and NOT NULL epoch, rid and box; its rows are
 * all whole records, so they move across unchanged.
 */
static const char upgrade1[] =
    "ALTER TABLE rec RENAME TO rec1;"
    "CREATE TABLE rec(k INTEGER PRIMARY KEY,"
    "  epoch INTEGER, rid BLOB UNIQUE, box BLOB, dup INTEGER);"
    "INSERT INTO rec(k, epoch, rid, box) SELECT k, epoch, rid, box FROM rec1;"
    "DROP TABLE rec1;";

/*
 * A record's key packs its origin's local index and its sequence number,
 * k = idx << SEQBITS | seq, so that the table's own b-tree orders records
 * by (origin, seq) and no second index is needed for sync.
 */
#define SEQBITS 40
#define SEQMAX ((1ull << SEQBITS) - 1)
#define IDXMAX (((int64_t)1 << (63 - SEQBITS)) - 1)

static int
prep(store *st, const char *sql, sqlite3_stmt **s)
{

	return (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
	    s, NULL) == SQLITE_OK ? 0 : KITH_EDB);
}

int
store_open(const char *path, store **out)
{
	store *st;
	sqlite3_stmt *s;
	int fd, uv = -1, rc = KITH_EDB;

	/*
	 * Create the file ourselves so that it is 0600 from the start; an
	 * existing one is not opened here: closing a descriptor of it
	 * drops every POSIX lock this process holds on it, including those
	 * of its other connections.
	 */
	if ((fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) != -1)
		close(fd);
	else if (errno != EEXIST)
		return (KITH_EIO);

	if ((st = calloc(1, sizeof(*st))) == NULL)
		return (KITH_ENOMEM);
	st->last_idx = -1;
	st->pend_idx = -1;
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_busy_timeout(st->db, 10000);
	if (sqlite3_exec(st->db,
	    "PRAGMA page_size=16384;"
	    "PRAGMA journal_mode=WAL;"
	    "PRAGMA synchronous=NORMAL;"
	    "PRAGMA foreign_keys=OFF;"
	    "PRAGMA cache_size=-16384;"
	    "PRAGMA secure_delete=ON;"
	    "PRAGMA wal_autocheckpoint=4096;", NULL, NULL, NULL) != SQLITE_OK) {
		rc = KITH_ECORRUPT;
		goto fail;
	}
	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s,
	    NULL) != SQLITE_OK) {
		rc = KITH_ECORRUPT;
		goto fail;
	}
	if (sqlite3_step(s) == SQLITE_ROW)
		uv = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	if (uv > SCHEMA_VERSION) {
		rc = KITH_EVERSION;
		goto fail;
	}
	/* Only a new or older file is written to here. */
	if (uv < SCHEMA_VERSION && (sqlite3_exec(st->db, "BEGIN IMMEDIATE",
	    NULL, NULL, NULL) != SQLITE_OK ||
	    (uv == 1 && sqlite3_exec(st->db, upgrade1, NULL, NULL, NULL) !=
	    SQLITE_OK) ||
	    sqlite3_exec(st->db, schema, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(st->db, "PRAGMA user_version=2", NULL, NULL,
	    NULL) != SQLITE_OK ||
	    sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)) {
		(void)sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		rc = KITH_ECORRUPT;
		goto fail;
	}
	if (prep(st, "INSERT OR IGNORE INTO rec(k, epoch, rid, box)"
	    " VALUES(?, ?, ?, ?)", &st->rec_ins) ||
	    prep(st, "SELECT idx FROM origins WHERE dev = ?",
	    &st->origin_get) ||
	    prep(st, "INSERT INTO origins(dev) VALUES(?)", &st->origin_ins) ||
	    prep(st, "INSERT INTO vv(idx, seq) VALUES(?1, ?2) ON CONFLICT(idx)"
	    " DO UPDATE SET seq = max(seq, ?2)", &st->vv_bump) ||
	    prep(st, "SELECT 1 FROM rec WHERE rid = ?", &st->rid_get) ||
	    prep(st, "SELECT max(k) FROM rec WHERE k > (?1 << 40) AND"
	    " k < (?1 + 1) << 40", &st->seq_max) ||
	    prep(st, "SELECT k, box FROM rec WHERE rid = ?", &st->k_get) ||
	    prep(st, "UPDATE rec SET epoch = ?, box = ? WHERE k = ?",
	    &st->box_set) ||
	    prep(st, "INSERT OR IGNORE INTO rec(k, dup) VALUES(?, ?)",
	    &st->dup_ins))
		goto fail;
	*out = st;
	return (0);

fail:
	store_close(st);
	return (rc);
}

int
store_check(store *st)
{
	sqlite3_stmt *s;
	const unsigned char *t;
	int rc = KITH_ECORRUPT, r;

	if ((r = sqlite3_prepare_v2(st->db, "PRAGMA quick_check(1)", -1, &s,
	    NULL)) != SQLITE_OK)
		return (sqlerr(r));
	if (sqlite3_step(s) == SQLITE_ROW &&
	    (t = sqlite3_column_text(s, 0)) != NULL &&
	    strcmp((const char *)t, "ok") == 0)
		rc = 0;
	sqlite3_finalize(s);
	return (rc);
}

void
store_close(store *st)
{

	if (st == NULL)
		return;
	sqlite3_finalize(st->rec_ins);
	sqlite3_finalize(st->origin_get);
	sqlite3_finalize(st->origin_ins);
	sqlite3_finalize(st->vv_bump);
	sqlite3_finalize(st->rid_get);
	sqlite3_finalize(st->seq_max);
	sqlite3_finalize(st->k_get);
	sqlite3_finalize(st->box_set);
	sqlite3_finalize(st->dup_ins);
	sqlite3_close(st->db);
	free(st);
}

int
store_data_version(store *st, int64_t *v)
{
	sqlite3_stmt *s;
	int rc = KITH_EDB;

	if (sqlite3_prepare_v2(st->db, "PRAGMA data_version", -1, &s,
	    NULL) != SQLITE_OK)
		return (KITH_EDB);
	if (sqlite3_step(s) == SQLITE_ROW) {
		*v = sqlite3_column_int64(s, 0);
		rc = 0;
	}
	sqlite3_finalize(s);
	return (rc);
}

int
store_in_tx(store *st)
{

	return (!sqlite3_get_autocommit(st->db));
}

int
store_begin(store *st)
{

	int r = sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);

	return (r == SQLITE_OK ? 0 : sqlerr(r));
}

int
store_begin_read(store *st)
{

	/* Deferred: a snapshot at the first read; writers go on (WAL). */
	return (sqlite3_exec(st->db, "BEGIN DEFERRED", NULL, NULL, NULL) ==
	    SQLITE_OK ? 0 : KITH_EDB);
}

int
store_commit(store *st)
{

	int r;

	if ((r = vv_flush(st)) != 0) {
		store_rollback(st);
		return (r);
	}
	if ((r = sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL)) !=
	    SQLITE_OK) {
		store_rollback(st);
		return (sqlerr(r));
	}
	return (0);
}

void
store_rollback(store *st)
{

	(void)sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	st->last_idx = -1;
	st->pend_idx = -1;
	st->pend_seq = 0;
}

int
store_meta_get(store *st, const char *key, uint8_t **val, size_t *len)
{
	sqlite3_stmt *s;
	const void *b;
	int n, rc = KITH_EDB;

	if (sqlite3_prepare_v2(st->db, "SELECT v FROM meta WHERE k = ?", -1,
	    &s, NULL) != SQLITE_OK)
		return (KITH_EDB);
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	switch (sqlite3_step(s)) {
	case SQLITE_ROW:
		b = sqlite3_column_blob(s, 0);
		n = sqlite3_column_bytes(s, 0);
		if ((*val = malloc((size_t)n + 1)) == NULL) {
			rc = KITH_ENOMEM;
			break;
		}
		if (n > 0)
			memcpy(*val, b, (size_t)n);
		(*val)[n] = '\0';
		*len = (size_t)n;
		rc = 0;
		break;
	case SQLITE_DONE:
		rc = KITH_ENOENT;
		break;
	}
	sqlite3_finalize(s);
	return (rc);
}

int
store_meta_put(store *st, const char *key, const void *val, size_t len)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(st->db,
	    "INSERT OR REPLACE INTO meta(k, v) VALUES(?, ?)", -1, &s,
	    NULL) != SQLITE_OK)
		return (KITH_EDB);
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, val, (int)len, SQLITE_STATIC);
	rc = sqlite3_step(s);
	rc = rc == SQLITE_DONE ? 0 : sqlerr(rc);
	sqlite3_finalize(s);
	return (rc);
}

int
store_meta_del(store *st, const char *key)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(st->db, "DELETE FROM meta WHERE k = ?", -1, &s,
	    NULL) != SQLITE_OK)
		return (KITH_EDB);
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	rc = rc == SQLITE_DONE ? 0 : sqlerr(rc);
	sqlite3_finalize(s);
	return (rc);
}

int
store_epoch_put(store *st, uint32_t epoch, const uint8_t *wrapped,
    size_t len)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(st->db,
	    "INSERT OR REPLACE INTO epochs(epoch, wrapped) VALUES(?, ?)", -1,
	    &s, NULL) != SQLITE_OK)
		return (KITH_EDB);
	sqlite3_bind_int64(s, 1, epoch);
	sqlite3_bind_blob(s, 2, wrapped, (int)len, SQLITE_STATIC);
	rc = sqlite3_step(s);
	rc = rc == SQLITE_DONE ? 0 : sqlerr(rc);
	sqlite3_finalize(s);
	return (rc);
}

int
store_epoch_each(store *st,
    int (*cb)(void *arg, uint32_t epoch, const uint8_t *w, size_t len),
    void *arg)
{
	sqlite3_stmt *s;
	int rc = 0, r;

	if (sqlite3_prepare_v2(st->db,
	    "SELECT epoch, wrapped FROM epochs ORDER BY epoch", -1, &s,
	    NULL) != SQLITE_OK)
		return (KITH_EDB);
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		if ((rc = cb(arg, (uint32_t)sqlite3_column_int64(s, 0),
		    sqlite3_column_blob(s, 1),
		    (size_t)sqlite3_column_bytes(s, 1))) != 0)
			break;
	}
	if (rc == 0 && r != SQLITE_DONE)
		rc = KITH_EDB;
	sqlite3_finalize(s);
	return (rc);
}

/* The local index of an origin device, created on first sight. */
static int
origin_idx(store *st, const uint8_t dev[32], int64_t *idx)
{
	int r;

	/* not secret: a public key */
	if (st->last_idx >= 0 && memcmp(st->last_origin, dev, 32) == 0) {	/* not secret */
		*idx = st->last_idx;
		return (0);
	}
	sqlite3_reset(st->origin_get);
	sqlite3_bind_blob(st->origin_get, 1, dev, 32, SQLITE_STATIC);
	r = sqlite3_step(st->origin_get);
	if (r == SQLITE_ROW) {
		*idx = sqlite3_column_int64(st->origin_get, 0);
	} else if (r == SQLITE_DONE) {
		sqlite3_reset(st->origin_ins);
		sqlite3_bind_blob(st->origin_ins, 1, dev, 32, SQLITE_STATIC);
		if ((r = sqlite3_step(st->origin_ins)) != SQLITE_DONE) {
			sqlite3_reset(st->origin_ins);
			return (sqlerr(r));
		}
		sqlite3_reset(st->origin_ins);
		*idx = sqlite3_last_insert_rowid(st->db);
	} else {
		sqlite3_reset(st->origin_get);
		return (KITH_EDB);
	}
	sqlite3_reset(st->origin_get);
	/* A record's key holds the index in its top bits (see SEQBITS). */
	if (*idx < 1 || *idx > IDXMAX)
		return (KITH_ECORRUPT);
	memcpy(st->last_origin, dev, 32);
	st->last_idx = *idx;
	return (0);
}

/* Write the pending version vector raise, if any. */
static int
vv_flush(store *st)
{
	int rc;

	if (st->pend_idx < 0)
		return (0);
	sqlite3_reset(st->vv_bump);
	sqlite3_bind_int64(st->vv_bump, 1, st->pend_idx);
	sqlite3_bind_int64(st->vv_bump, 2, (int64_t)st->pend_seq);
	rc = sqlite3_step(st->vv_bump);
	rc = rc == SQLITE_DONE ? 0 : sqlerr(rc);
	sqlite3_reset(st->vv_bump);
	st->pend_idx = -1;
	st->pend_seq = 0;
	return (rc);
}

/* Order of boxes for one rid: bytewise, then the shorter first. */
static int
box_lower(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);	/* not secret */

	return (c < 0 || (c == 0 && alen < blen));
}

/*
 * The record ${rec} at ${k} was not inserted: either that key is held
 * already, or its rid is, under another origin's numbering.  In the second
 * case keep a row at ${k} that points at the record held, so that every
 * origin's sequence stays without gaps here and the record is sent on
 * under this numbering too.
 *
 * Two devices may also have stored different texts under one (service,
 * id).  Every device keeps, for a rid, the box that sorts lowest of those
 * it has seen; boxes travel unchanged, so the lowest one reaches every
 * device and all end holding the same (docs/PROTOCOL.md §11.5).
 */
static int
put_dup(store *st, int64_t k, const struct store_rec *rec)
{
	int64_t held;
	int r, swap = 0;

	sqlite3_reset(st->k_get);
	sqlite3_bind_blob(st->k_get, 1, rec->rid, STORE_RIDLEN, SQLITE_STATIC);
	r = sqlite3_step(st->k_get);
	held = r == SQLITE_ROW ? sqlite3_column_int64(st->k_get, 0) : k;
	if (r == SQLITE_ROW && held != k)
		swap = box_lower(rec->box, rec->boxlen,
		    sqlite3_column_blob(st->k_get, 1),
		    (size_t)sqlite3_column_bytes(st->k_get, 1));
	sqlite3_reset(st->k_get);
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		return (KITH_EDB);
	if (held == k)
		return (0);
	sqlite3_reset(st->dup_ins);
	sqlite3_bind_int64(st->dup_ins, 1, k);
	sqlite3_bind_int64(st->dup_ins, 2, held);
	r = sqlite3_step(st->dup_ins);
	sqlite3_reset(st->dup_ins);
	if (r != SQLITE_DONE)
		return (sqlerr(r));
	/* A row at k was there already: nothing new arrived. */
	if (sqlite3_changes(st->db) == 0 || !swap)
		return (0);
	sqlite3_reset(st->box_set);
	sqlite3_bind_int64(st->box_set, 1, rec->epoch);
	sqlite3_bind_blob(st->box_set, 2, rec->box, (int)rec->boxlen,
	    SQLITE_STATIC);
	sqlite3_bind_int64(st->box_set, 3, held);
	r = sqlite3_step(st->box_set);
	sqlite3_reset(st->box_set);
	return (r == SQLITE_DONE ? 0 : sqlerr(r));
}

int
store_rec_put(store *st, const struct store_rec *rec, int *added)
{
	int64_t idx, k;
	int rc;

	if (rec->seq == 0 || rec->seq > SEQMAX || rec->boxlen > STORE_MAXBOX)
		return (KITH_EINVAL);
	if ((rc = origin_idx(st, rec->origin, &idx)) != 0)
		return (rc);
	/* A run of one origin raises its vv entry once, at its end. */
	if (st->pend_idx != idx && (rc = vv_flush(st)) != 0)
		return (rc);
	k = (int64_t)((uint64_t)idx << SEQBITS | rec->seq);
	sqlite3_reset(st->rec_ins);
	sqlite3_bind_int64(st->rec_ins, 1, k);
	sqlite3_bind_int64(st->rec_ins, 2, rec->epoch);
	sqlite3_bind_blob(st->rec_ins, 3, rec->rid, STORE_RIDLEN,
	    SQLITE_STATIC);
	sqlite3_bind_blob(st->rec_ins, 4, rec->box, (int)rec->boxlen,
	    SQLITE_STATIC);
	if ((rc = sqlite3_step(st->rec_ins)) != SQLITE_DONE) {
		sqlite3_reset(st->rec_ins);
		return (sqlerr(rc));
	}
	sqlite3_reset(st->rec_ins);
	*added = sqlite3_changes(st->db) > 0;
	if (!*added && (rc = put_dup(st, k, rec)) != 0)
		return (rc);
	st->pend_idx = idx;
	if (rec->seq > st->pend_seq)
		st->pend_seq = rec->seq;
	/* Outside a transaction there is no commit to do it later. */
	if (sqlite3_get_autocommit(st->db))
		return (vv_flush(st));
	return (0);
}

int
store_next_seq(store *st, const uint8_t origin[static 32], uint64_t *seq)
{
	int64_t idx;
	int rc;

	if ((rc = origin_idx(st, origin, &idx)) != 0)
		return (rc);
	sqlite3_reset(st->seq_max);
	sqlite3_bind_int64(st->seq_max, 1, idx);
	if (sqlite3_step(st->seq_max) != SQLITE_ROW) {
		sqlite3_reset(st->seq_max);
		return (KITH_EDB);
	}
	*seq = ((uint64_t)sqlite3_column_int64(st->seq_max, 0) & SEQMAX) + 1;
	sqlite3_reset(st->seq_max);
	return (0);
}

int
store_rid_exists(store *st, const uint8_t rid[static STORE_RIDLEN])
{
	int r;

	sqlite3_reset(st->rid_get);
	sqlite3_bind_blob(st->rid_get, 1, rid, STORE_RIDLEN, SQLITE_STATIC);
	r = sqlite3_step(st->rid_get);
	sqlite3_reset(st->rid_get);
	if (r == SQLITE_ROW)
		return (1);
	return (r == SQLITE_DONE ? 0 : KITH_EDB);
}

int
store_rec_get(store *st, const uint8_t rid[static STORE_RIDLEN],
    int (*cb)(void *arg, const struct store_rec *rec), void *arg)
{
	struct store_rec rec;
	sqlite3_stmt *s;
	int r, rc;

	if (sqlite3_prepare_v2(st->db, "SELECT r.k, r.epoch, r.box, o.dev"
	    " FROM rec r JOIN origins o ON o.idx = (r.k >> 40)"
	    " WHERE r.rid = ?1", -1, &s, NULL) != SQLITE_OK)
		return (KITH_EDB);
	sqlite3_bind_blob(s, 1, rid, STORE_RIDLEN, SQLITE_STATIC);
	if ((r = sqlite3_step(s)) != SQLITE_ROW) {
		sqlite3_finalize(s);
		return (r == SQLITE_DONE ? KITH_ENOENT : KITH_EDB);
	}
	if (sqlite3_column_type(s, 2) != SQLITE_BLOB ||
	    sqlite3_column_bytes(s, 3) != 32) {
		sqlite3_finalize(s);
		return (KITH_ECORRUPT);
	}
	memcpy(rec.origin, sqlite3_column_blob(s, 3), 32);
	rec.seq = (uint64_t)sqlite3_column_int64(s, 0) & SEQMAX;
	rec.epoch = (uint32_t)sqlite3_column_int64(s, 1);
	memcpy(rec.rid, rid, STORE_RIDLEN);
	rec.box = sqlite3_column_blob(s, 2);
	rec.boxlen = (size_t)sqlite3_column_bytes(s, 2);
	rc = cb(arg, &rec);
	sqlite3_finalize(s);
	return (rc);
}

int
store_vv_get(store *st, struct store_vv **vvp)
{
	sqlite3_stmt *s;
	struct store_vv *vv, *nv;
	size_t cap = 8;
	int r;

	if ((vv = malloc(sizeof(*vv) + cap * sizeof(vv->e[0]))) == NULL)
		return (KITH_ENOMEM);
	vv->n = 0;
	if (sqlite3_prepare_v2(st->db, "SELECT origins.dev, vv.seq FROM vv"
	    " JOIN origins USING(idx) ORDER BY origins.dev", -1, &s,
	    NULL) != SQLITE_OK) {
		free(vv);
		return (KITH_EDB);
	}
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(s, 0) != 32)
			continue;
		if (vv->n == cap) {
			cap *= 2;
			nv = realloc(vv, sizeof(*vv) + cap * sizeof(vv->e[0]));
			if (nv == NULL) {
				sqlite3_finalize(s);
				free(vv);
				return (KITH_ENOMEM);
			}
			vv = nv;
		}
		memcpy(vv->e[vv->n].origin, sqlite3_column_blob(s, 0), 32);
		vv->e[vv->n].seq = (uint64_t)sqlite3_column_int64(s, 1);
		vv->n++;
	}
	sqlite3_finalize(s);
	if (r != SQLITE_DONE) {
		free(vv);
		return (KITH_EDB);
	}
	*vvp = vv;
	return (0);
}

uint64_t
store_vv_seq(const struct store_vv *vv, const uint8_t origin[static 32])
{
	size_t i;

	if (vv == NULL)
		return (0);
	for (i = 0; i < vv->n; i++)
		if (memcmp(vv->e[i].origin, origin, 32) == 0) /* not secret */
			return (vv->e[i].seq);
	return (0);
}

/* Run ${sql} once per origin with ?1 = origin index, ?2 = the seq held. */
static int
per_origin(store *st, const struct store_vv *have, const char *sql,
    int (*row)(void *arg, sqlite3_stmt *s, const uint8_t *dev), void *arg)
{
	sqlite3_stmt *o, *s;
	uint8_t dev[32];
	uint64_t seq;
	int r = SQLITE_DONE, rc = 0;

	if (sqlite3_prepare_v2(st->db,
	    "SELECT idx, dev FROM origins ORDER BY dev", -1, &o,
	    NULL) != SQLITE_OK)
		return (KITH_EDB);
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
		sqlite3_finalize(o);
		return (KITH_EDB);
	}
	while (rc == 0 && (r = sqlite3_step(o)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(o, 1) != 32)
			continue;
		memcpy(dev, sqlite3_column_blob(o, 1), 32);
		sqlite3_reset(s);
		sqlite3_bind_int64(s, 1, sqlite3_column_int64(o, 0));
		seq = store_vv_seq(have, dev);
		sqlite3_bind_int64(s, 2, (int64_t)(seq > SEQMAX ? SEQMAX : seq));
		while ((r = sqlite3_step(s)) == SQLITE_ROW)
			if ((rc = row(arg, s, dev)) != 0)
				break;
		if (rc == 0 && r != SQLITE_DONE)
			rc = sqlerr(r);
	}
	/* A step of the origins that fails must not read as their end. */
	if (rc == 0 && r != SQLITE_DONE)
		rc = sqlerr(r);
	sqlite3_finalize(s);
	sqlite3_finalize(o);
	return (rc);
}

struct count_arg {
	uint64_t n, bytes;
};

static int
count_row(void *arg, sqlite3_stmt *s, const uint8_t *dev)
{
	struct count_arg *c = arg;

	(void)dev;
	c->n += (uint64_t)sqlite3_column_int64(s, 0);
	c->bytes += (uint64_t)sqlite3_column_int64(s, 1);
	return (0);
}

int
store_count(store *st, const struct store_vv *have, int flags, uint64_t *n,
    uint64_t *bytes)
{
	struct count_arg c = { 0, 0 };
	int rc;

	rc = per_origin(st, have, (flags & STORE_UNIQUE) ?
	    "SELECT count(*), coalesce(sum(length(box)), 0) FROM rec"
	    " WHERE k > (?1 << 40) + ?2 AND k < (?1 + 1) << 40"
	    " AND dup IS NULL" :
	    "SELECT count(*), coalesce(sum(length(coalesce(r.box, c.box))), 0)"
	    " FROM rec r LEFT JOIN rec c ON c.k = r.dup"
	    " WHERE r.k > (?1 << 40) + ?2 AND r.k < (?1 + 1) << 40",
	    count_row, &c);
	*n = c.n;
	if (bytes != NULL)
		*bytes = c.bytes;
	return (rc);
}

struct scan_arg {
	int (*cb)(void *arg, const struct store_rec *rec);
	void *arg;
};

static int
scan_row(void *arg, sqlite3_stmt *s, const uint8_t *dev)
{
	struct scan_arg *a = arg;
	struct store_rec rec;

	memcpy(rec.origin, dev, 32);
	rec.seq = (uint64_t)sqlite3_column_int64(s, 0) & SEQMAX;
	rec.epoch = (uint32_t)sqlite3_column_int64(s, 1);
	if (sqlite3_column_bytes(s, 2) != STORE_RIDLEN ||
	    sqlite3_column_type(s, 3) != SQLITE_BLOB)
		return (KITH_ECORRUPT);
	memcpy(rec.rid, sqlite3_column_blob(s, 2), STORE_RIDLEN);
	rec.box = sqlite3_column_blob(s, 3);
	rec.boxlen = (size_t)sqlite3_column_bytes(s, 3);
	return (a->cb(a->arg, &rec));
}

int
store_scan(store *st, const struct store_vv *have, int flags,
    int (*cb)(void *arg, const struct store_rec *rec), void *arg)
{
	struct scan_arg a = { cb, arg };

	return (per_origin(st, have, (flags & STORE_UNIQUE) ?
	    "SELECT k, epoch, rid, box FROM rec"
	    " WHERE k > (?1 << 40) + ?2 AND k < (?1 + 1) << 40"
	    " AND dup IS NULL ORDER BY k" :
	    "SELECT r.k, coalesce(c.epoch, r.epoch), coalesce(c.rid, r.rid),"
	    " coalesce(c.box, r.box) FROM rec r LEFT JOIN rec c ON c.k = r.dup"
	    " WHERE r.k > (?1 << 40) + ?2 AND r.k < (?1 + 1) << 40"
	    " ORDER BY r.k", scan_row, &a));
}
