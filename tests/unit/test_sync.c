/*
 * test_sync.c: the store as sync uses it, on real SQLite files: records
 * relayed between stores by version vector, the same message arriving
 * under two numberings, and sessions cut at the worst moment.
 *
 *  1. the same rid under a second (origin, seq) is stored once: the second
 *     becomes a pointer row; a full scan shows it (with the first one's
 *     epoch, rid and box), a STORE_UNIQUE scan and count do not; the vv
 *     of the second origin still rises;
 *  2. relaying a store's scan into an empty store gives the same scan and
 *     the same vv (pointer rows travel as whole records);
 *  3. the cut-session case that would lose a message if duplicates left
 *     gaps in an origin's numbering: Q takes A's records from R (where A5
 *     is the pointer), is cut before R's B records, then syncs with S
 *     (where B3 is the pointer): Q must end holding the message X;
 *  4. a relay chain A -> B -> C by vv scans converges, and a second pass
 *     sends nothing (work proportional to what is missing);
 *  5. one (service, id) stored with different texts by two devices: each
 *     store keeps the box that sorts lowest, whatever the order of
 *     arrival, so relays converge on the same text;
 *  6. a version 1 store file (before pointer rows) opens, keeps its
 *     records, and is upgraded.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>
#include <sodium.h>

#include "check.h"
#include "kith_err.h"
#include "store.h"

static char dir[] = "/tmp/kith-test-sync-XXXXXX";

static store *
open_store(const char *name)
{
	char path[256];
	store *st;

	snprintf(path, sizeof(path), "%s/%s.db", dir, name);
	if (store_open(path, &st) != 0) {
		fprintf(stderr, "cannot open %s\n", path);
		exit(1);
	}
	return (st);
}

static void
origin(uint8_t o[32], char c)
{

	memset(o, c, 32);
}

static void
rid(uint8_t r[STORE_RIDLEN], const char *name)
{

	crypto_generichash(r, STORE_RIDLEN, (const uint8_t *)name,
	    strlen(name), NULL, 0);
}

/* Put record (o, seq) with message ${msg} (rid and box derived from it). */
static int
put(store *st, char o, uint64_t seq, const char *msg, int *added)
{
	struct store_rec r;
	uint8_t box[64];

	origin(r.origin, o);
	r.seq = seq;
	r.epoch = 1;
	rid(r.rid, msg);
	memset(box, 0, sizeof(box));
	snprintf((char *)box, sizeof(box), "box of %s from %c%llu", msg, o,
	    (unsigned long long)seq);
	r.box = box;
	r.boxlen = sizeof(box);
	return (store_rec_put(st, &r, added));
}

struct rows {
	size_t n;
	char line[64][160];
};

static int
row_cb(void *arg, const struct store_rec *r)
{
	struct rows *rw = arg;

	if (rw->n < 64)
		snprintf(rw->line[rw->n++], sizeof(rw->line[0]),
		    "%c%llu e%u %02x%02x %.*s", r->origin[0] >= 'A' &&
		    r->origin[0] <= 'Z' ? r->origin[0] : '?',
		    (unsigned long long)r->seq, r->epoch, r->rid[0], r->rid[1],
		    (int)strnlen((const char *)r->box, r->boxlen), r->box);
	return (0);
}

static void
rows_of(store *st, const struct store_vv *have, int flags, struct rows *rw)
{

	memset(rw, 0, sizeof(*rw));
	CHECK_RC(store_scan(st, have, flags, row_cb, rw), 0);
}

/* Send everything ${from} holds beyond ${to}'s vv into ${to}. */
struct relay {
	store *to;
	size_t n;
	int cut;	/* the session is cut when this origin comes up */
};

static int
relay_cb(void *arg, const struct store_rec *r)
{
	struct relay *rl = arg;
	int added;

	if (r->origin[0] == rl->cut)
		return (1);	/* the session is cut here */
	if (store_rec_put(rl->to, r, &added) != 0)
		return (-1);
	rl->n++;
	return (0);
}

static size_t
relay(store *from, store *to, int cut)
{
	struct store_vv *vv;
	struct relay rl = { to, 0, cut };
	int rc;

	if (store_vv_get(to, &vv) != 0)
		return (0);
	CHECK_RC(store_begin(to), 0);
	rc = store_scan(from, vv, 0, relay_cb, &rl);
	CHECK(rc == 0 || (rc == 1 && cut != 0));
	CHECK_RC(store_commit(to), 0);
	free(vv);
	return (rl.n);
}

static uint64_t
count(store *st, int flags)
{
	uint64_t n = 0;

	CHECK_RC(store_count(st, NULL, flags, &n, NULL), 0);
	return (n);
}

static void
test_pointer_rows(void)
{
	store *st = open_store("ptr");
	struct store_vv *vv;
	struct rows all, uniq;
	uint8_t o[32], r[STORE_RIDLEN];
	int added;

	CHECK_RC(put(st, 'A', 1, "X", &added), 0);
	CHECK(added == 1);
	CHECK_RC(put(st, 'B', 1, "X", &added), 0);
	CHECK(added == 0);
	CHECK_RC(put(st, 'B', 1, "X", &added), 0);	/* again: nothing */
	CHECK(added == 0);
	CHECK_RC(put(st, 'B', 2, "Y", &added), 0);
	CHECK(added == 1);
	CHECK(count(st, 0) == 3);
	CHECK(count(st, STORE_UNIQUE) == 2);
	rows_of(st, NULL, 0, &all);
	rows_of(st, NULL, STORE_UNIQUE, &uniq);
	CHECK(all.n == 3 && uniq.n == 2);
	/* B1 travels as X, with A1's box. */
	CHECK(all.n == 3 && strstr(all.line[1], "B1 ") == all.line[1] &&
	    strstr(all.line[1], "box of X from A1") != NULL);
	CHECK(uniq.n == 2 && strstr(uniq.line[1], "B2 ") == uniq.line[1]);
	CHECK_RC(store_vv_get(st, &vv), 0);
	origin(o, 'B');
	CHECK(store_vv_seq(vv, o) == 2);
	free(vv);
	rid(r, "X");
	CHECK(store_rid_exists(st, r) == 1);
	store_close(st);
}

static void
test_relay_same(void)
{
	store *a = open_store("ra"), *b = open_store("rb");
	struct rows ra, rb;
	struct store_vv *va, *vb;
	size_t i;
	int added;

	CHECK_RC(put(a, 'A', 1, "m1", &added), 0);
	CHECK_RC(put(a, 'A', 2, "m2", &added), 0);
	CHECK_RC(put(a, 'C', 1, "m2", &added), 0);	/* pointer row */
	CHECK_RC(put(a, 'C', 2, "m3", &added), 0);
	CHECK(relay(a, b, 0) == 4);
	rows_of(a, NULL, 0, &ra);
	rows_of(b, NULL, 0, &rb);
	CHECK(ra.n == rb.n);
	for (i = 0; i < ra.n && i < rb.n; i++)
		CHECK(strcmp(ra.line[i], rb.line[i]) == 0);
	CHECK(count(b, STORE_UNIQUE) == 3);
	CHECK_RC(store_vv_get(a, &va), 0);
	CHECK_RC(store_vv_get(b, &vb), 0);
	CHECK(va->n == vb->n && memcmp(va->e, vb->e, va->n *
	    sizeof(va->e[0])) == 0);
	free(va);
	free(vb);
	store_close(a);
	store_close(b);
}

/*
 * R: A1..A4, A5 = X (pointer to B3), A6; B1..B3 (B3 = X).
 * S: A1..A5 (A5 = X), B1, B2, B3 = X (pointer to A5), B4.
 * Q: A1..A4, B1, B2.  Q syncs with R, cut after A5 and A6; then with S.
 */
static void
test_cut_session(void)
{
	store *r = open_store("R"), *s = open_store("S"), *q = open_store("Q");
	uint8_t x[STORE_RIDLEN];
	int a, i;
	char m[16];

	for (i = 1; i <= 4; i++) {
		snprintf(m, sizeof(m), "a%d", i);
		CHECK_RC(put(r, 'A', (uint64_t)i, m, &a), 0);
		CHECK_RC(put(s, 'A', (uint64_t)i, m, &a), 0);
		CHECK_RC(put(q, 'A', (uint64_t)i, m, &a), 0);
	}
	for (i = 1; i <= 2; i++) {
		snprintf(m, sizeof(m), "b%d", i);
		CHECK_RC(put(r, 'B', (uint64_t)i, m, &a), 0);
		CHECK_RC(put(s, 'B', (uint64_t)i, m, &a), 0);
		CHECK_RC(put(q, 'B', (uint64_t)i, m, &a), 0);
	}
	CHECK_RC(put(r, 'B', 3, "X", &a), 0);
	CHECK_RC(put(r, 'A', 5, "X", &a), 0);
	CHECK(a == 0);
	CHECK_RC(put(r, 'A', 6, "a6", &a), 0);
	CHECK_RC(put(s, 'A', 5, "X", &a), 0);
	CHECK_RC(put(s, 'B', 3, "X", &a), 0);
	CHECK(a == 0);
	CHECK_RC(put(s, 'B', 4, "b4", &a), 0);
	CHECK_RC(put(s, 'A', 6, "a6", &a), 0);

	/* From R: A's records (origins sort A before B), then cut. */
	CHECK(relay(r, q, 'B') == 2);
	/* From S: B3 and B4 (Q holds A up to 6). */
	CHECK(relay(s, q, 0) == 2);
	rid(x, "X");
	CHECK(store_rid_exists(q, x) == 1);
	CHECK(count(q, STORE_UNIQUE) == 9);	/* a1-a6, b1, b2, b4, X */
	CHECK(count(q, STORE_UNIQUE) == count(r, STORE_UNIQUE) + 1);
	store_close(r);
	store_close(s);
	store_close(q);
}

static void
test_chain(void)
{
	store *a = open_store("ca"), *b = open_store("cb"), *c = open_store("cc");
	int added, i;
	char m[16];

	for (i = 1; i <= 100; i++) {
		snprintf(m, sizeof(m), "ca%d", i);
		CHECK_RC(put(a, 'A', (uint64_t)i, m, &added), 0);
	}
	for (i = 1; i <= 50; i++) {
		snprintf(m, sizeof(m), "cc%d", i);
		CHECK_RC(put(c, 'C', (uint64_t)i, m, &added), 0);
	}
	CHECK(relay(a, b, 0) == 100);
	CHECK(relay(b, c, 0) == 100);
	CHECK(relay(c, b, 0) == 50);
	CHECK(relay(b, a, 0) == 50);
	CHECK(count(a, 0) == 150 && count(b, 0) == 150 && count(c, 0) == 150);
	/* Nothing more to send, either way. */
	CHECK(relay(a, b, 0) == 0);
	CHECK(relay(b, c, 0) == 0);
	CHECK(relay(c, a, 0) == 0);
	/* Three new on A: three cross, not 153. */
	for (i = 101; i <= 103; i++) {
		snprintf(m, sizeof(m), "ca%d", i);
		CHECK_RC(put(a, 'A', (uint64_t)i, m, &added), 0);
	}
	CHECK(relay(a, b, 0) == 3);
	CHECK(relay(b, c, 0) == 3);
	store_close(a);
	store_close(b);
	store_close(c);
}

static void
put_box(store *st, char o, uint64_t seq, const char *msg, uint8_t first)
{
	struct store_rec r;
	uint8_t box[48];
	int added;

	origin(r.origin, o);
	r.seq = seq;
	r.epoch = 1;
	rid(r.rid, msg);
	memset(box, first, sizeof(box));
	r.box = box;
	r.boxlen = sizeof(box);
	CHECK_RC(store_rec_put(st, &r, &added), 0);
}

static int
first_byte_cb(void *arg, const struct store_rec *r)
{

	*(int *)arg = r->box[0];
	return (0);
}

static int
first_byte(store *st)
{
	int b = -1;

	CHECK_RC(store_scan(st, NULL, STORE_UNIQUE, first_byte_cb, &b), 0);
	return (b);
}

static void
test_conflict(void)
{
	store *p = open_store("p"), *q = open_store("q"), *r = open_store("r");

	/* p: B's text (0x77) first, then D's (0x22); q: the other order. */
	put_box(p, 'B', 1, "same", 0x77);
	put_box(p, 'D', 1, "same", 0x22);
	put_box(q, 'D', 1, "same", 0x22);
	put_box(q, 'B', 1, "same", 0x77);
	CHECK(first_byte(p) == 0x22 && first_byte(q) == 0x22);
	CHECK(count(p, STORE_UNIQUE) == 1 && count(p, 0) == 2);
	/* r had B's text alone; it meets D's through a relay from q. */
	put_box(r, 'B', 1, "same", 0x77);
	CHECK(first_byte(r) == 0x77);
	CHECK(relay(q, r, 0) == 1);
	CHECK(first_byte(r) == 0x22);
	/* And the other way: the lower text held stays. */
	CHECK(relay(r, p, 0) == 0);
	CHECK(first_byte(p) == 0x22);
	store_close(p);
	store_close(q);
	store_close(r);
}

static void
test_upgrade_v1(void)
{
	char path[256];
	sqlite3 *db;
	store *st;
	struct rows rw;
	uint8_t r[STORE_RIDLEN];
	char sql[1024];
	int added;

	snprintf(path, sizeof(path), "%s/v1.db", dir);
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	rid(r, "old");
	snprintf(sql, sizeof(sql),
	    "CREATE TABLE meta(k TEXT PRIMARY KEY, v BLOB NOT NULL);"
	    "CREATE TABLE epochs(epoch INTEGER PRIMARY KEY,"
	    "  wrapped BLOB NOT NULL);"
	    "CREATE TABLE origins(idx INTEGER PRIMARY KEY,"
	    "  dev BLOB NOT NULL UNIQUE);"
	    "CREATE TABLE vv(idx INTEGER PRIMARY KEY, seq INTEGER NOT NULL);"
	    "CREATE TABLE rec(k INTEGER PRIMARY KEY, epoch INTEGER NOT NULL,"
	    "  rid BLOB NOT NULL UNIQUE, box BLOB NOT NULL);"
	    "INSERT INTO origins VALUES(1, zeroblob(32));"
	    "INSERT INTO vv VALUES(1, 1);"
	    "INSERT INTO rec VALUES((1 << 40) + 1, 1, x'%02x%02x%02x%02x"
	    "%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x',"
	    " CAST('an old box, forty bytes or more long....' AS BLOB));"
	    "PRAGMA user_version=1;", r[0], r[1], r[2], r[3], r[4], r[5],
	    r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14], r[15]);
	CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	if (!CHECK_RC(store_open(path, &st), 0))
		return;
	rows_of(st, NULL, 0, &rw);
	CHECK(rw.n == 1 && strstr(rw.line[0], "an old box") != NULL);
	CHECK(store_rid_exists(st, r) == 1);
	/* And it takes pointer rows now. */
	memset(r, 0, sizeof(r));
	CHECK_RC(put(st, 'B', 1, "old", &added), 0);
	CHECK(added == 0 && count(st, 0) == 2 && count(st, STORE_UNIQUE) == 1);
	store_close(st);
}

int
main(void)
{
	char cmd[64];

	if (sodium_init() < 0 || mkdtemp(dir) == NULL)
		return (1);
	test_pointer_rows();
	test_relay_same();
	test_cut_session();
	test_chain();
	test_conflict();
	test_upgrade_v1();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	(void)system(cmd);
	printf("sync: %d checks passed, %d failed\n", npass, nfail);
	return (nfail != 0);
}
