/*
 * fuzz_store.c: what kith reads back from a home's store (kith.db): the
 * file is the device's own, but a backup restored, another process, a
 * damaged disk or whoever could write the directory may have made any of
 * it.  The first byte of an input says what the rest is:
 *
 *  0. a whole kith.db: home_open must open it or fail with an error code,
 *     never crash;
 *  1. edits to the real kith.db of fuzz_home.h (an account, its roster
 *     and history keys, FH_RECS records), made with SQLite before
 *     home_open: each edit is an op byte, then what it needs:
 *       op % 4 == 0: put a row: a table (meta, epochs, origins, vv, rec)
 *           and a value for each of its columns;
 *       op % 4 == 1: delete the n-th row of a table;
 *       op % 4 == 2: flip one bit of a blob held (meta v, epochs wrapped,
 *           origins dev, rec rid or box) at a 16-bit offset;
 *       op % 4 == 3: cut such a blob to a 16-bit length;
 *     a value is a type byte (null, integer, real, text, blob) and its
 *     bytes: 8 (big endian) for numbers, a length byte and that many for
 *     text and blobs (a meta key given as text or blob of length 1 is
 *     the key kith reads that its byte picks, of metakeys[]).
 *
 * What opens is read as kith reads it: the roster, the version vector,
 * counts and scans of records (each opened with hist_open_rec), records
 * by (service, id), backup targets and results, announced invitation
 * tags, the backup key and the passphrase seal, and a backup's hold.  A
 * scan that ends without error must have seen exactly as many records as
 * store_count counts.  Then a new record is written: if stored, it must
 * read back as exactly its text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bkhome.h"
#include "invx.h"

#include "fuzz_home.h"

#include "fuzz.h"

#define NTABLES 5

static const char *const tables[NTABLES] = { "meta", "epochs", "origins",
    "vv", "rec" };
static const char *const put_sql[NTABLES] = {
	"INSERT OR REPLACE INTO meta(k, v) VALUES(?, ?)",
	"INSERT OR REPLACE INTO epochs(epoch, wrapped) VALUES(?, ?)",
	"INSERT OR REPLACE INTO origins(idx, dev) VALUES(?, ?)",
	"INSERT OR REPLACE INTO vv(idx, seq) VALUES(?, ?)",
	("INSERT OR REPLACE INTO rec(k, epoch, rid, box, dup)"
	    " VALUES(?, ?, ?, ?, ?)"),
};
static const int ncols[NTABLES] = { 2, 2, 2, 2, 5 };
static const char *const blobs[5][2] = { { "meta", "v" },
    { "epochs", "wrapped" }, { "origins", "dev" }, { "rec", "rid" },
    { "rec", "box" } };
static const char *const metakeys[] = { "name", "account_pk", "roster",
    "sealed_pass", "sealed_recovery", "backup_pk", "backup_targets",
    "cert", "invite_tags", "pending_ticket", "restored_roster" };

struct in {
	const uint8_t *p;
	size_t n;
};

static int
take(struct in *in, size_t k, const uint8_t **out)
{

	if (in->n < k)
		return (-1);
	*out = in->p;
	in->p += k;
	in->n -= k;
	return (0);
}

static int64_t
be64(const uint8_t *b)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | b[i];
	return ((int64_t)v);
}

/* Bind the next value of ${in} as parameter ${i}: 0, or -1 (input ends). */
static int
bind_value(sqlite3_stmt *s, int i, struct in *in, int metakey)
{
	const uint8_t *t, *b;
	double d;
	int64_t v;
	int ty;

	if (take(in, 1, &t) != 0)
		return (-1);
	ty = t[0] % 5;
	switch (ty) {
	case 0:
		sqlite3_bind_null(s, i);
		return (0);
	case 1:
	case 2:
		if (take(in, 8, &b) != 0)
			return (-1);
		v = be64(b);
		if (ty == 1) {
			sqlite3_bind_int64(s, i, v);
		} else {
			memcpy(&d, &v, sizeof(d));
			sqlite3_bind_double(s, i, d);
		}
		return (0);
	default:
		if (take(in, 1, &b) != 0 || take(in, b[0], &t) != 0)
			return (-1);
		if (metakey && b[0] == 1)
			sqlite3_bind_text(s, i, metakeys[t[0] %
			    (sizeof(metakeys) / sizeof(metakeys[0]))], -1,
			    SQLITE_STATIC);
		else if (ty == 3)
			sqlite3_bind_text(s, i, (const char *)t, b[0],
			    SQLITE_TRANSIENT);
		else
			sqlite3_bind_blob(s, i, t, b[0], SQLITE_TRANSIENT);
		return (0);
	}
}

static int
op_put(sqlite3 *db, struct in *in)
{
	const uint8_t *t;
	sqlite3_stmt *s;
	int i, tb;

	if (take(in, 1, &t) != 0)
		return (-1);
	tb = t[0] % NTABLES;
	if (sqlite3_prepare_v2(db, put_sql[tb], -1, &s, NULL) != SQLITE_OK)
		fh_fail(sqlite3_errmsg(db), KITH_EDB);
	for (i = 0; i < ncols[tb]; i++)
		if (bind_value(s, i + 1, in, tb == 0 && i == 0) != 0) {
			sqlite3_finalize(s);
			return (-1);
		}
	(void)sqlite3_step(s);	/* a constraint may refuse it */
	sqlite3_finalize(s);
	return (0);
}

static int
op_del(sqlite3 *db, struct in *in)
{
	const uint8_t *t;
	char sql[128];

	if (take(in, 2, &t) != 0)
		return (-1);
	snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE rowid IN (SELECT"
	    " rowid FROM %s ORDER BY rowid LIMIT 1 OFFSET %d)",
	    tables[t[0] % NTABLES], tables[t[0] % NTABLES], t[1]);
	(void)sqlite3_exec(db, sql, NULL, NULL, NULL);
	return (0);
}

/* Flip a bit of, or cut, the n-th blob of a column. */
static int
op_blob(sqlite3 *db, struct in *in, int cut)
{
	const uint8_t *t;
	sqlite3_stmt *s;
	const char *const *c;
	char sql[160];
	uint8_t *b;
	int64_t rowid;
	size_t len, off;

	if (take(in, 5, &t) != 0)
		return (-1);
	c = blobs[t[0] % 5];
	off = (size_t)t[2] << 8 | t[3];
	snprintf(sql, sizeof(sql), "SELECT rowid, %s FROM %s ORDER BY rowid"
	    " LIMIT 1 OFFSET %d", c[1], c[0], t[1]);
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		fh_fail(sqlite3_errmsg(db), KITH_EDB);
	if (sqlite3_step(s) != SQLITE_ROW ||
	    sqlite3_column_type(s, 1) != SQLITE_BLOB) {
		sqlite3_finalize(s);
		return (0);
	}
	rowid = sqlite3_column_int64(s, 0);
	len = (size_t)sqlite3_column_bytes(s, 1);
	FUZZ_MUST((b = malloc(len + 1)) != NULL);
	if (len > 0)
		memcpy(b, sqlite3_column_blob(s, 1), len);
	sqlite3_finalize(s);
	if (cut && off < len)
		len = off;
	else if (!cut && len > 0)
		b[off % len] ^= (uint8_t)(1u << (t[4] % 8));
	snprintf(sql, sizeof(sql), "UPDATE %s SET %s = ? WHERE rowid = ?",
	    c[0], c[1]);
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		fh_fail(sqlite3_errmsg(db), KITH_EDB);
	sqlite3_bind_blob(s, 1, b, (int)len, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 2, rowid);
	(void)sqlite3_step(s);
	sqlite3_finalize(s);
	free(b);
	return (0);
}

static void
edit(const char *dir, const uint8_t *p, size_t n)
{
	struct in in = { p, n };
	const uint8_t *op;
	char path[512];
	sqlite3 *db;
	int rc = 0;

	snprintf(path, sizeof(path), "%s/kith.db", dir);
	if (sqlite3_open(path, &db) != SQLITE_OK)
		fh_fail(path, KITH_EDB);
	while (rc == 0 && take(&in, 1, &op) == 0) {
		switch (op[0] % 4) {
		case 0:
			rc = op_put(db, &in);
			break;
		case 1:
			rc = op_del(db, &in);
			break;
		default:
			rc = op_blob(db, &in, op[0] % 4 == 3);
			break;
		}
	}
	FUZZ_MUST(sqlite3_close(db) == SQLITE_OK);
}

struct scan {
	struct home *hm;
	uint64_t n;
	uint8_t rid[STORE_RIDLEN];
	int have_rid;
};

static int
scan_cb(void *arg, const struct store_rec *rec)
{
	struct scan *sc = arg;
	char *txt;
	size_t len;
	int rc;

	sc->n++;
	FUZZ_MUST(rec->box != NULL || rec->boxlen == 0);
	memcpy(sc->rid, rec->rid, STORE_RIDLEN);
	sc->have_rid = 1;
	if (sc->hm->h == NULL)
		return (0);
	rc = hist_open_rec(sc->hm->h, rec, &txt, &len);
	FUZZ_MUST(rc == 0 || rc == KITH_ENOENT || rc == KITH_ECORRUPT);
	if (rc == 0) {
		FUZZ_MUST(txt[len] == '\0' && len + HIST_BOXOVER ==
		    rec->boxlen);
		free(txt);
	}
	return (0);
}

static int
get_cb(void *arg, const struct store_rec *rec)
{

	(void)arg;
	FUZZ_MUST(rec->box != NULL || rec->boxlen == 0);
	return (0);
}

/* Read what opened as kith does; write one record and read it back. */
static void
exercise(struct home *hm)
{
	static const char rec[] = "{\"service\":\"fuzz\",\"id\":\"new\"}";
	struct store_vv *vv;
	struct bk_target *t;
	struct bk_hold hold;
	struct scan sc;
	char tags[INVX_MAXANNOUNCE][17], *txt;
	uint8_t bpk[32], seal[ACCOUNT_SEALED_LEN];
	uint64_t n, bytes, seq;
	size_t i, nt, len;
	json_t *j;
	int flags, rc, added;

	if (hm->roster != NULL)
		FUZZ_MUST(memcmp(hm->roster->account_pk, hm->account_pk,
		    32) == 0);
	(void)home_self(hm);
	FUZZ_MUST(strlen(hm->name) <= ROSTER_NAMEMAX);

	if (store_vv_get(hm->st, &vv) == 0) {
		for (i = 0; i < vv->n; i++)
			(void)store_vv_seq(vv, vv->e[i].origin);
		memset(&sc, 0, sizeof(sc));
		sc.hm = hm;
		(void)store_scan(hm->st, vv, 0, scan_cb, &sc);
		free(vv);
	}
	for (flags = 0; flags <= STORE_UNIQUE; flags++) {
		memset(&sc, 0, sizeof(sc));
		sc.hm = hm;
		rc = store_count(hm->st, NULL, flags, &n, &bytes);
		if (store_scan(hm->st, NULL, flags, scan_cb, &sc) == 0 &&
		    rc == 0)
			FUZZ_MUST(sc.n == n);
		if (sc.have_rid)
			(void)store_rec_get(hm->st, sc.rid, get_cb, NULL);
	}
	if (hm->h != NULL) {
		if (hist_get(hm->h, "mail", "m0", &txt, &len) == 0) {
			FUZZ_MUST(txt[len] == '\0');
			free(txt);
		}
		(void)hist_held(hm->h, "mail", "m1");
	}
	if (bk_targets(hm, &t, &nt) == 0) {
		FUZZ_MUST(nt == 0 || t != NULL);
		for (i = 0; i < nt; i++)
			FUZZ_MUST(strlen(t[i].path) < PATH_MAX);
		free(t);
	}
	j = bk_results_json(hm);
	FUZZ_MUST(json_is_array(j));
	json_decref(j);
	nt = invx_announced(hm, kith_now(), tags, INVX_MAXANNOUNCE);
	FUZZ_MUST(nt <= INVX_MAXANNOUNCE);
	for (i = 0; i < nt; i++)
		FUZZ_MUST(strlen(tags[i]) <= 16);
	(void)home_backup_pk(hm, bpk);
	(void)home_seal(hm, seal);
	if (!hm->dk->locked && bk_hold_fill(hm, hm->st, &hold) == 0)
		bk_hold_free(&hold);

	/* A record written now reads back as written. */
	if (hm->h == NULL || store_begin(hm->st) != 0)
		return;
	rc = hist_append(hm->h, rec, sizeof(rec) - 1, &added, &seq, NULL);
	if (rc != 0 || store_commit(hm->st) != 0) {
		store_rollback(hm->st);
		return;
	}
	if (added) {
		FUZZ_MUST(seq >= 1);
		FUZZ_MUST(hist_get(hm->h, "fuzz", "new", &txt, &len) == 0);
		FUZZ_MUST(len == sizeof(rec) - 1 && memcmp(txt, rec, len) == 0);
		free(txt);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *dir = fh_template();
	struct home *hm;
	int rc;

	if (size < 1)
		return (0);
	if (data[0] % 2 == 0) {
		fh_reset(dir, data + 1, size - 1);
	} else {
		fh_reset(dir, NULL, 0);
		edit(dir, data + 1, size - 1);
	}
	rc = home_open(dir, 0, &hm);
	FUZZ_MUST(rc <= 0);
	if (rc == 0) {
		exercise(hm);
		home_close(hm);
	} else
		FUZZ_MUST(kith_strerror(rc) != NULL);
	return (0);
}
