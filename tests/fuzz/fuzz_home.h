/*
 * fuzz_home.h: a real kith home for the harnesses that need one (fuzz_store,
 * fuzz_import, fuzz_ctl) and for seeds_store.c, which writes its kith.db
 * into the corpus.
 *
 * The device keys are fixed (device.key in clear, format 1, from the
 * bytes FH_SIGN and FH_KX), and the account is that of the recovery code
 * of bytes FH_CODE, so that a kith.db made by one process opens in
 * another: its history keys are wrapped under the store key that the
 * device key gives.  The home holds FH_RECS records {"service":"mail",
 * "id":"m<i>",...}.
 *
 * fh_template() builds it once a process in a directory of its own under
 * /dev/shm (or /tmp), removed at exit, and keeps kith.db's bytes;
 * fh_reset(dir) puts a fresh copy of them (or any bytes) in ${dir}.
 */
#ifndef KITH_FUZZ_HOME_H
#define KITH_FUZZ_HOME_H

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "hist.h"
#include "home.h"
#include "keys.h"
#include "kith_err.h"
#include "kith_util.h"
#include "store.h"

#define FH_SIGN 0xd1
#define FH_KX 0xd2
#define FH_CODE 0x6b
#define FH_PASS "fuzz home"
#define FH_RECS 3

static char fh_base[64];		/* this process's directory */
static uint8_t *fh_db;			/* the template kith.db */
static size_t fh_dblen;

static inline void
fh_fail(const char *what, int rc)
{

	fprintf(stderr, "fuzz_home: %s: %s\n", what, rc ? kith_strerror(rc) :
	    strerror(errno));
	abort();
}

static inline void
fh_write(const char *dir, const char *name, const void *p, size_t n)
{
	char path[512];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	(void)unlink(path);
	if ((f = fopen(path, "wb")) == NULL)
		fh_fail(path, 0);
	ok = n == 0 || fwrite(p, 1, n, f) == n;
	if (fclose(f) != 0 || !ok)
		fh_fail(path, 0);
	(void)chmod(path, 0600);
}

/* device.key in clear, of the fixed keys. */
static inline void
fh_devkey(const char *dir)
{
	uint8_t file[8 + 64 + 32], seed[32], pk[32];

	memcpy(file, "KITHDK1", 8);
	memset(seed, FH_SIGN, sizeof(seed));
	crypto_sign_seed_keypair(pk, file + 8, seed);
	memset(file + 72, FH_KX, 32);
	fh_write(dir, "device.key", file, sizeof(file));
}

/* Remove kith.db and what SQLite keeps beside it. */
static inline void
fh_clear(const char *dir)
{
	static const char *const names[] = { "kith.db", "kith.db-wal",
	    "kith.db-shm", "kith.db-journal" };
	char path[512];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (unlink(path) != 0 && errno != ENOENT)
			fh_fail(path, 0);
	}
}

static inline void
fh_rmdir(const char *dir)
{
	char path[512];
	struct dirent *e;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		(void)unlink(path);
	}
	closedir(d);
	(void)rmdir(dir);
}

/* Build the home in ${dir}: account, roster, FH_RECS records. */
static inline void
fh_build(const char *dir)
{
	uint8_t code[RECOVERY_BYTES];
	struct home *hm;
	store *st;
	char json[512];
	int i, added, rc;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		fh_fail(dir, 0);
	/*
	 * The store first: a device.key beside no store is a lost store
	 * (home_open refuses it), and the fixed keys go in before any
	 * account does.
	 */
	snprintf(json, sizeof(json), "%s/kith.db", dir);
	if ((rc = store_open(json, &st)) != 0)
		fh_fail("store_open", rc);
	store_close(st);
	fh_devkey(dir);
	memset(code, FH_CODE, sizeof(code));
	if ((rc = home_open(dir, 1, &hm)) != 0)
		fh_fail("home_open", rc);
	if ((rc = home_recover(hm, "fuzz-device", code,
	    (const uint8_t *)FH_PASS, strlen(FH_PASS), NULL, 1)) != 0)
		fh_fail("home_recover", rc);
	if ((rc = store_begin(hm->st)) != 0)
		fh_fail("store_begin", rc);
	for (i = 0; i < FH_RECS; i++) {
		snprintf(json, sizeof(json), "{\"service\":\"mail\","
		    "\"id\":\"m%d\",\"time\":%d,\"subject\":\"seed %d\"}",
		    i, 1000 * i, i);
		if ((rc = hist_add(hm->h, json, strlen(json), &added)) != 0)
			fh_fail("hist_add", rc);
	}
	if ((rc = store_commit(hm->st)) != 0)
		fh_fail("store_commit", rc);
	home_close(hm);
	/* home_recover sealed device.key: the same keys, in clear. */
	fh_devkey(dir);
}

/* Small pages and no WAL: a seed of a few kilobytes. */
static inline void
fh_compact(const char *dir)
{
	char path[512];
	sqlite3 *db;

	snprintf(path, sizeof(path), "%s/kith.db", dir);
	if (sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA journal_mode=DELETE;"
	    "PRAGMA page_size=512; VACUUM;", NULL, NULL, NULL) != SQLITE_OK)
		fh_fail(sqlite3_errmsg(db), KITH_EDB);
	sqlite3_close(db);
}

static inline void
fh_cleanup(void)
{
	char dir[128];

	snprintf(dir, sizeof(dir), "%s/tpl", fh_base);
	fh_rmdir(dir);
	snprintf(dir, sizeof(dir), "%s/h", fh_base);
	fh_rmdir(dir);
	fh_rmdir(fh_base);	/* and what else a harness made there */
}

/* The template, once; the directory the harness works in is fh_base/h. */
static inline const char *
fh_template(void)
{
	static char work[128];
	char dir[128], path[192];
	int rc;

	if (fh_db != NULL)
		return (work);
	if (sodium_init() < 0)
		abort();
	hist_json_wipe();
	snprintf(fh_base, sizeof(fh_base), "/dev/shm/kith-fuzz-%ld",
	    (long)getpid());
	if (mkdir(fh_base, 0700) != 0) {
		snprintf(fh_base, sizeof(fh_base), "/tmp/kith-fuzz-%ld",
		    (long)getpid());
		if (mkdir(fh_base, 0700) != 0)
			fh_fail(fh_base, 0);
	}
	atexit(fh_cleanup);
	snprintf(dir, sizeof(dir), "%s/tpl", fh_base);
	fh_build(dir);
	fh_compact(dir);
	snprintf(path, sizeof(path), "%s/kith.db", dir);
	if ((rc = kith_file_read(path, 1 << 24, &fh_db, &fh_dblen)) != 0)
		fh_fail(path, rc);
	snprintf(work, sizeof(work), "%s/h", fh_base);
	if (mkdir(work, 0700) != 0)
		fh_fail(work, 0);
	fh_devkey(work);
	return (work);
}

/* ${dir}/kith.db: ${db} (NULL: the template), nothing beside it. */
static inline void
fh_reset(const char *dir, const uint8_t *db, size_t n)
{

	fh_clear(dir);
	if (db == NULL) {
		db = fh_db;
		n = fh_dblen;
	}
	fh_write(dir, "kith.db", db, n);
}

#endif
