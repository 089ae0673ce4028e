/*
 * seeds_store.c: the seed corpus of fuzz_store: the real kith.db of
 * fuzz_home.h (whole, cut, of an older and a newer schema) and edits of
 * each kind to it (see fuzz_store.c for the modes):
 *
 *     seeds_store tests/fuzz/corpus
 */
#include "seeds.h"

#include "fuzz_home.h"

/* kith.db of the template, changed by ${sql} (NULL: as it is). */
static void
db_seed(const char *name, const char *sql)
{
	char path[512];
	uint8_t *b;
	sqlite3 *db;
	size_t n;

	fh_reset(fh_template(), NULL, 0);
	snprintf(path, sizeof(path), "%s/kith.db", fh_template());
	if (sql != NULL) {
		if (sqlite3_open(path, &db) != SQLITE_OK ||
		    sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
			fh_fail(sqlite3_errmsg(db), KITH_EDB);
		sqlite3_close(db);
	}
	seeds_must(kith_file_read(path, 1 << 24, &b, &n), path);
	seeds_put(name, 0, b, n);
	free(b);
}

#define EDIT(name, lit) seeds_put(name, 1, lit, sizeof(lit) - 1)

int
main(int argc, char **argv)
{

	seeds_init(argc, argv, "fuzz_store");
	(void)fh_template();
	db_seed("db", NULL);
	seeds_put("db-cut", 0, fh_db, fh_dblen / 2);
	seeds_put("db-header", 0, fh_db, 100);
	seeds_put("db-empty", 0, "", 0);
	db_seed("db-newer", "PRAGMA user_version=3");
	db_seed("db-v1", "DROP TABLE rec; CREATE TABLE rec(k INTEGER PRIMARY"
	    " KEY, epoch INTEGER NOT NULL, rid BLOB NOT NULL UNIQUE, box BLOB"
	    " NOT NULL); PRAGMA user_version=1");
	db_seed("db-no-meta", "DROP TABLE meta");
	db_seed("db-rec-view", "DROP TABLE rec; CREATE VIEW rec AS SELECT 1");

	/* Edits: op, then its bytes (fuzz_store.c). */
	EDIT("edit-none", "");
	/* put meta "roster" = blob "KRST" */
	EDIT("edit-meta-roster", "\x00\x00\x03\x01\x02\x04\x04KRST");
	/* put meta "name" = text of 70 bytes */
	EDIT("edit-meta-name", "\x00\x00\x03\x01\x00\x03\x46"
	    "0123456789012345678901234567890123456789012345678901234567890123456789");
	/* put meta "account_pk" = integer */
	EDIT("edit-meta-pk-int", "\x00\x00\x03\x01\x01\x01\x00\x00\x00\x00"
	    "\x00\x00\x00\x07");
	/* put meta "backup_targets" = a target of a long path */
	EDIT("edit-meta-targets", "\x00\x00\x03\x01\x06\x04\x18"
	    "0123456789abcdef\x00\x06/a/b/c");
	/* put meta "invite_tags" = one tag, far future */
	EDIT("edit-meta-tags", "\x00\x00\x03\x01\x08\x04\x14"
	    "0123456789abcdef\xff\xff\xff\xff");
	/* put epochs (7, 72-byte blob of zeros) */
	EDIT("edit-epoch", "\x00\x01\x01\x00\x00\x00\x00\x00\x00\x00\x07"
	    "\x04\x48" "000000000000000000000000000000000000000000000000000000000000000000000000");
	/* put origins (5, 31-byte dev) */
	EDIT("edit-origin-short", "\x00\x02\x01\x00\x00\x00\x00\x00\x00\x00"
	    "\x05\x04\x1f" "0000000000000000000000000000000");
	/* put vv (1, huge seq) */
	EDIT("edit-vv-huge", "\x00\x03\x01\x00\x00\x00\x00\x00\x00\x00\x01"
	    "\x01\x7f\xff\xff\xff\xff\xff\xff\xff");
	/* put rec (k = 1<<40 | 9, epoch 1, rid null, box null, dup 12345) */
	EDIT("edit-rec-dup", "\x00\x04\x01\x00\x00\x01\x00\x00\x00\x00\x09"
	    "\x01\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x01\x00\x00\x00\x00"
	    "\x00\x00\x30\x39");
	/* put rec (k = 1<<40 | 2, epoch text, rid 16, box 10) */
	EDIT("edit-rec-short-box", "\x00\x04\x01\x00\x00\x01\x00\x00\x00\x00"
	    "\x02\x03\x01" "1" "\x04\x10" "0123456789abcdef" "\x04\x0a"
	    "0123456789" "\x00");
	/* delete the first origin; the second record */
	EDIT("edit-del-origin", "\x01\x02\x00");
	EDIT("edit-del-rec", "\x01\x04\x01");
	/* flip a bit of the first box, of the first wrapped key */
	EDIT("edit-flip-box", "\x02\x04\x00\x00\x30\x03");
	EDIT("edit-flip-wrapped", "\x02\x01\x00\x00\x05\x00");
	/* cut the roster (meta, the nth row), a rid, the id key */
	EDIT("edit-cut-meta", "\x03\x00\x02\x00\x20\x00");
	EDIT("edit-cut-rid", "\x03\x03\x00\x00\x08\x00");
	EDIT("edit-cut-wrapped", "\x03\x01\x00\x00\x10\x00");
	return (0);
}
