/*
 * test_backup.c: encrypted, incremental backups (syncd/backup.c) and
 * restore into a fresh home (syncd/bkhome.c), with real homes and real
 * target directories under a temporary directory.
 *
 *  1. round trip: an account with N records (some of a few KB, so that
 *     the segment spans several 64 KiB chunks) is backed up in full to a
 *     new target; no record's text is in clear in the segment;
 *     backup_find finds it (given the target, its kith-backup directory
 *     or the set itself); backup_open opens it with the account seed
 *     (from the recovery code) and says what was written; backup_read
 *     hands back every record; bk_restore puts it into a fresh home,
 *     where every record opens to exactly what was added, (origin, seq,
 *     epoch, rid) kept; a second restore into that home is
 *     KITH_EHAVEACCOUNT;
 *  2. incremental: M more records make a backup that is not full and
 *     holds exactly the M (the state kept in meta with bk_state_save /
 *     bk_state_load); a run with nothing new is "up to date" and changes
 *     no file; a restore of the second backup gives N + M records;
 *  3. a wrong seed (random, or another account's) opens no manifest
 *     (KITH_EBADPASS), reads no segment, and restores nothing;
 *     a segment that is whole but holds a record that does not open (as
 *     sync may store one) is restored with that record kept encrypted
 *     and counted as unread, and every other record readable;
 *     manifests written with a key that is not the device's (a new key
 *     pair with A's certificate, or A's public key with another secret
 *     key) do not open (KITH_ECORRUPT);
 *  4. tamper: one bit flipped at every byte of a manifest makes
 *     backup_open fail (KITH_ECORRUPT or KITH_EBADPASS), and so does the
 *     manifest cut or one byte longer, or copied under another number;
 *     one bit flipped in a segment (its first and last 100 bytes, around
 *     each chunk boundary, and every SEGSTRIDE-th byte), the segment cut
 *     at many lengths (0, 7, its header less one, its header, each chunk
 *     boundary, every 10000 bytes, its size less one), a byte appended,
 *     the file removed, swapped with another segment of the set, or
 *     replaced by a segment of the same account, number and record count
 *     from another target: backup_read fails, and bk_restore (on a
 *     sample) fails leaving the home with no account and no record (all
 *     or nothing); that same home then restores the intact backup;
 *  5. a cut backup: leftover .tmp- files and a segment no manifest names
 *     do not hide the last backup, and the next run removes them;
 *  6. a write that fails half way (RLIMIT_FSIZE, in the segment and then
 *     in the manifest) leaves the set exactly as it was and the state
 *     unchanged; another writer holding the set's lock gives KITH_EBUSY;
 *  7. retention: incremental backups of one record each until
 *     BACKUP_MAXSEG segments, then a full one, then one more; at every
 *     step at most BACKUP_KEEP manifests are left, each opens and reads
 *     whole, and no segment is left that none names; a restore of the
 *     newest gives every record;
 *  8. the target marker: backup_init twice is KITH_EEXIST with the same
 *     id; another account's key is KITH_EPERM (probe and init); no marker
 *     (or no such directory) is KITH_ENOENT; a cut marker is
 *     KITH_ECORRUPT and an altered one KITH_EPERM.
 *
 * Not covered: KITH_ENOSPACE itself (a full medium needs a mount, and
 * chmod does not stop root); the write failure of 6 takes the same path
 * with KITH_EIO.
 *
 * (The tamper checks found the manifest's clear header unauthenticated;
 * backup.c now binds it into the file key.)
 */
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "backup.h"
#include "bkhome.h"
#include "hist.h"
#include "home.h"
#include "keys.h"
#include "kith_err.h"
#include "store.h"

#include "check.h"
#include "testlib.h"

#define PASS "correct horse battery"
#define NAME_A "laptop-a"
#define NAME_B "phone-b"
#define N 300			/* records of the first backup */
#define M 25			/* records of the incremental one */
#define CHUNK 65536		/* backup.c's plaintext chunk */
#define SEGHDR (8 + 32 + 24)	/* magic, ephemeral key, stream header */
#define WIRECHUNK (CHUNK + 17)	/* a chunk as written */
#define SEGSTRIDE 127		/* segment bytes flipped: every 127th */

static char tmp[] = "/tmp/kith-test-backup.XXXXXX";

/* An account made here, and what a backup of it takes. */
struct acct {
	struct home *hm;
	uint8_t seed[32], bpk[32];
	struct bk_hold hold;
};

static struct acct A, B;
static size_t nadded;		/* records of A: rec_json(0 .. nadded - 1) */
static char t1[256], t2[256], t3[256], t4[256];
static uint8_t id1[BACKUP_IDLEN], id2[BACKUP_IDLEN];
static char set1[17];

/* --- helpers ------------------------------------------------------------ */

static void
path_of(char *out, size_t cap, const char *name)
{

	snprintf(out, cap, "%s/%s", tmp, name);
}

/*
 * Record ${i} of A: every tenth has a body of 5 to 9 KB, the others a
 * short one; the letters follow from ${i}.
 */
static char *
rec_json(size_t i, size_t *len)
{
	size_t blen = i % 10 == 3 ? 5000 + (i * 37) % 4000 : 20 + i % 50, k;
	uint32_t x = (uint32_t)i * 2654435761u + 1;
	char *b, *j;

	if ((b = malloc(blen + 1)) == NULL ||
	    (j = malloc(blen + 128)) == NULL)
		abort();
	for (k = 0; k < blen; k++) {
		x = x * 1103515245u + 12345u;
		b[k] = (char)('a' + (x >> 16) % 26);
	}
	b[blen] = '\0';
	*len = (size_t)snprintf(j, blen + 128,
	    "{\"service\":\"mail\",\"id\":\"r%06zu\",\"subject\":\"s%zu\","
	    "\"body\":\"%s\"}", i, i, b);
	free(b);
	return (j);
}

/* Add ${n} more records to A, in one transaction. */
static int
add_recs(size_t n)
{
	struct home *hm = A.hm;
	size_t k, len;
	char *j;
	int a, rc;

	if ((rc = store_begin(hm->st)) != 0)
		return (rc);
	for (k = 0; k < n; k++) {
		j = rec_json(nadded + k, &len);
		a = -1;
		rc = hist_add(hm->h, j, len, &a);
		free(j);
		if (rc == 0 && a != 1)
			rc = KITH_EEXIST;
		if (rc != 0) {
			store_rollback(hm->st);
			return (rc);
		}
	}
	if ((rc = store_commit(hm->st)) == 0)
		nadded += n;
	return (rc);
}

static uint64_t
count_of(struct home *hm)
{
	uint64_t n = UINT64_MAX;

	if (store_count(hm->st, NULL, 0, &n, NULL) != 0)
		return (UINT64_MAX);
	return (n);
}

/* Does ${hm} hold exactly A's records, each opening to what was added? */
static int
holds_all(struct home *hm, size_t want, int line)
{
	char id[32], *got, *exp;
	size_t i, glen, elen;
	int ok = 1;

	if (count_of(hm) != want) {
		fprintf(stderr, "test_backup.c:%d: %llu records, want %zu\n",
		    line, (unsigned long long)count_of(hm), want);
		ok = 0;
	}
	for (i = 0; ok && i < want; i++) {
		snprintf(id, sizeof(id), "r%06zu", i);
		exp = rec_json(i, &elen);
		got = NULL;
		if (hist_get(hm->h, "mail", id, &got, &glen) != 0 ||
		    glen != elen || memcmp(got, exp, elen) != 0) {
			fprintf(stderr, "test_backup.c:%d: record %s missing"
			    " or different\n", line, id);
			ok = 0;
		}
		free(got);
		free(exp);
	}
	return (check(ok, "home holds every record added, as added", line));
}

/* Every record of a home, opened, in store order. */
struct item {
	uint8_t origin[32], rid[STORE_RIDLEN];
	uint64_t seq;
	uint32_t epoch;
	int rc;
	char *pt;
	size_t len;
};

struct snap {
	hist *h;
	struct item *v;
	size_t n, cap;
};

static int
snap_cb(void *arg, const struct store_rec *rec)
{
	struct snap *s = arg;
	struct item *it;

	if (s->n == s->cap) {
		s->cap = s->cap == 0 ? 256 : 2 * s->cap;
		if ((s->v = realloc(s->v, s->cap * sizeof(*s->v))) == NULL)
			abort();
	}
	it = &s->v[s->n++];
	memcpy(it->origin, rec->origin, 32);
	memcpy(it->rid, rec->rid, STORE_RIDLEN);
	it->seq = rec->seq;
	it->epoch = rec->epoch;
	it->pt = NULL;
	it->len = 0;
	it->rc = hist_open_rec(s->h, rec, &it->pt, &it->len);
	return (0);
}

static void
snap_free(struct snap *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i].pt);
	free(s->v);
}

/* Do ${a} and ${b} hold the same records, each opening the same? */
static int
homes_equal(struct home *a, struct home *b, int line)
{
	struct snap sa = { a->h, NULL, 0, 0 }, sb = { b->h, NULL, 0, 0 };
	size_t i;
	int ok = 1;

	if (a->h == NULL || b->h == NULL ||
	    store_scan(a->st, NULL, 0, snap_cb, &sa) != 0 ||
	    store_scan(b->st, NULL, 0, snap_cb, &sb) != 0 || sa.n != sb.n ||
	    sa.n == 0) {
		fprintf(stderr, "test_backup.c:%d: %zu records and %zu\n",
		    line, sa.n, sb.n);
		ok = 0;
	}
	for (i = 0; ok && i < sa.n; i++) {
		struct item *x = &sa.v[i], *y = &sb.v[i];

		if (x->rc != 0 || y->rc != 0 || x->seq != y->seq ||
		    x->epoch != y->epoch || x->len != y->len ||
		    memcmp(x->origin, y->origin, 32) != 0 ||
		    memcmp(x->rid, y->rid, STORE_RIDLEN) != 0 ||
		    memcmp(x->pt, y->pt, x->len) != 0) {
			fprintf(stderr, "test_backup.c:%d: record %zu (seq"
			    " %llu) differs (rc %d / %d)\n", line, i,
			    (unsigned long long)x->seq, x->rc, y->rc);
			ok = 0;
		}
	}
	snap_free(&sa);
	snap_free(&sb);
	return (check(ok, "restored home equals the original", line));
}

/* A home with no account at all: in memory, in meta, in records. */
static int
home_empty(struct home *hm)
{
	uint8_t *v;
	size_t len;
	int rc;

	rc = store_meta_get(hm->st, "account_pk", &v, &len);
	if (rc == 0)
		free(v);
	return (!hm->has_account && hm->h == NULL && rc == KITH_ENOENT &&
	    count_of(hm) == 0);
}

static struct home *
fresh_home(const char *name)
{
	struct home *hm;
	char p[300];

	path_of(p, sizeof(p), name);
	if (!CHECK_RC(home_open(p, 1, &hm), 0))
		exit(1);
	CHECK(!hm->has_account);
	return (hm);
}

static void
make_account(struct acct *a, const char *home, const char *name)
{
	char p[300], rtext[RECOVERY_TEXTLEN];
	uint8_t code[RECOVERY_BYTES], held[32];

	path_of(p, sizeof(p), home);
	if (!CHECK_RC(home_open(p, 1, &a->hm), 0) ||
	    !CHECK_RC(home_init_account(a->hm, name, (const uint8_t *)PASS,
	    strlen(PASS), rtext), 0) ||
	    !CHECK_RC(recovery_parse(rtext, code), 0))
		exit(1);
	recovery_seed(code, a->seed);
	backup_keypair(a->seed, NULL, a->bpk);
	/* The seed is the account's: the home recorded the same key. */
	CHECK(home_backup_pk(a->hm, held) == 0 &&
	    memcmp(held, a->bpk, 32) == 0);
	if (!CHECK_RC(bk_hold_fill(a->hm, a->hm->st, &a->hold), 0))
		exit(1);
	sodium_memzero(rtext, sizeof(rtext));
	sodium_memzero(code, sizeof(code));
}

static void
setdir_of(char *out, size_t cap, const char *target, const char *set)
{

	snprintf(out, cap, "%s/%s/%s", target, BACKUP_DIRNAME, set);
}

static int
exists(const char *dir, const char *name)
{
	char p[1024];
	struct stat sb;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return (stat(p, &sb) == 0);
}

/* How many names in ${dir} begin with ${prefix} (and end with ${ext}). */
static int
count_names(const char *dir, const char *prefix, const char *ext)
{
	struct dirent *e;
	size_t pl = strlen(prefix), el = ext != NULL ? strlen(ext) : 0, l;
	DIR *d;
	int n = 0;

	if ((d = opendir(dir)) == NULL)
		return (-1);
	while ((e = readdir(d)) != NULL) {
		l = strlen(e->d_name);
		if (strncmp(e->d_name, prefix, pl) == 0 && l >= pl + el &&
		    (ext == NULL || strcmp(e->d_name + l - el, ext) == 0))
			n++;
	}
	closedir(d);
	return (n);
}

/* The names, sizes and contents' hashes in ${dir}, as one string. */
static char *
listing(const char *dir)
{
	struct dirent **nl;
	struct stat sb;
	char *out, p[1024], line[400];
	uint8_t *b, h[8];
	size_t cap = 1 << 16, len = 0, sz;
	int n, i;

	if ((out = calloc(1, cap)) == NULL)
		abort();
	if ((n = scandir(dir, &nl, NULL, alphasort)) < 0)
		return (out);
	for (i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, nl[i]->d_name);
		memset(h, 0, sizeof(h));
		sz = 0;
		if (stat(p, &sb) == 0 && S_ISREG(sb.st_mode) &&
		    (b = read_file(p, &sz)) != NULL) {
			crypto_generichash(h, sizeof(h), b, sz, NULL, 0);
			free(b);
		}
		snprintf(line, sizeof(line), "%s %zu %02x%02x%02x%02x\n",
		    nl[i]->d_name, sz, h[0], h[1], h[2], h[3]);
		if (len + strlen(line) < cap) {
			memcpy(out + len, line, strlen(line) + 1);
			len += strlen(line);
		}
		free(nl[i]);
	}
	free(nl);
	return (out);
}

/* Flip bit ${bit} of byte ${off} of ${path} (twice puts it back). */
static int
flip(const char *path, size_t off, int bit)
{
	uint8_t c;
	int fd, ok;

	if ((fd = open(path, O_RDWR)) == -1)
		return (-1);
	ok = pread(fd, &c, 1, (off_t)off) == 1;
	c ^= (uint8_t)(1u << bit);
	ok = ok && pwrite(fd, &c, 1, (off_t)off) == 1;
	close(fd);
	return (ok ? 0 : -1);
}

static int
count_cb(void *arg, const struct store_rec *rec)
{
	uint64_t *n = arg;

	(void)rec;
	(*n)++;
	return (0);
}

/* backup_read of ${m}: its result; *${n}: the records handed over. */
static int
read_all(const char *target, const struct backup_manifest *m,
    const uint8_t seed[32], uint64_t *n)
{
	uint64_t k = 0;
	int rc;

	rc = backup_read(target, m, seed, count_cb, &k);
	if (n != NULL)
		*n = k;
	return (rc);
}

/* Records the last bk_restore could not open (kept encrypted). */
static uint64_t last_unread;

/* Find, open and restore the newest backup on ${target} into ${hm}. */
static int
restore_newest(struct home *hm, const char *target, const uint8_t seed[32],
    uint64_t *stored)
{
	struct backup_manifest m;
	uint8_t sp[ACCOUNT_SEALED_LEN];
	char set[17];
	uint64_t num;
	int rc;

	*stored = 0;
	if ((rc = backup_find(target, NULL, set, sp, &num)) != 0 ||
	    (rc = backup_open(target, set, num, seed, &m)) != 0)
		return (rc);
	rc = bk_restore(hm, target, &m, seed, NULL, NULL, stored,
	    &last_unread);
	backup_manifest_free(&m);
	return (rc);
}

/* A's state for target ${id}, from meta. */
static void
state_get(const uint8_t id[BACKUP_IDLEN], struct backup_state *s)
{

	if (!CHECK_RC(bk_state_load(A.hm->st, id, s), 0))
		memset(s, 0, sizeof(*s));
}

static void
state_put(const uint8_t id[BACKUP_IDLEN], struct backup_state *s)
{

	CHECK_RC(bk_state_save(A.hm->st, id, s), 0);
	backup_state_free(s);
}

struct prog {
	uint64_t calls, n, tot;
};

static void
prog_cb(void *arg, uint64_t n, uint64_t tot)
{
	struct prog *p = arg;

	p->calls++;
	p->n = n;
	p->tot = tot;
}

/* --- 1. round trip ------------------------------------------------------ */

static void
test_roundtrip(void)
{
	struct backup_result res;
	struct backup_state st;
	struct backup_manifest m;
	struct home *h2;
	struct prog pr = { 0, 0, 0 };
	uint8_t sp[ACCOUNT_SEALED_LEN], rbpk[32];
	char set[17], sd[700], kb[800], name[17];
	uint64_t num, n, stored;
	size_t sz;
	uint8_t *b;

	if (!CHECK_RC(add_recs(N), 0))
		exit(1);
	CHECK(mkdir(t1, 0700) == 0);
	CHECK_RC(backup_init(t1, A.bpk, id1), 0);
	state_get(id1, &st);
	CHECK(st.number == 0 && st.nseg == 0);

	if (!CHECK_RC(backup_run(&A.hold.src, t1, &st, &res), 0))
		exit(1);
	CHECK(res.full == 1);
	CHECK(res.uptodate == 0);
	CHECK(res.number == 1);
	CHECK(res.records == N);
	CHECK(res.total == N);
	backup_setname(A.bpk, A.hm->dk->sign_pk, name);
	CHECK(strcmp(res.set, name) == 0);
	snprintf(set1, sizeof(set1), "%s", res.set);
	CHECK(st.number == 1 && st.nseg == 1 && st.seg[0].recs == N);
	state_put(id1, &st);

	setdir_of(sd, sizeof(sd), t1, set1);
	CHECK(exists(sd, "seg-00000001.kbs"));
	CHECK(exists(sd, "man-00000001.kbm"));
	CHECK(count_names(sd, ".tmp-", NULL) == 0);
	/* Several chunks: the framing across chunks is exercised. */
	snprintf(kb, sizeof(kb), "%s/seg-00000001.kbs", sd);
	b = read_file(kb, &sz);
	CHECK(b != NULL && sz > SEGHDR + 3 * WIRECHUNK);
	/* Encrypted: no record's text in clear. */
	if (b != NULL) {
		size_t i, hit = 0;

		for (i = 0; i + 7 <= sz; i++)
			if (memcmp(b + i, "r000042", 7) == 0)
				hit = 1;
		CHECK(!hit);
	}
	free(b);

	/* Found from the target, its kith-backup directory, or the set. */
	CHECK_RC(backup_find(t1, NULL, set, sp, &num), 0);
	CHECK(num == 1 && strcmp(set, set1) == 0);
	CHECK(memcmp(sp, A.hold.sealed_pass, ACCOUNT_SEALED_LEN) == 0);
	snprintf(kb, sizeof(kb), "%s/%s", t1, BACKUP_DIRNAME);
	CHECK_RC(backup_find(kb, NULL, set, sp, &num), 0);
	CHECK(num == 1 && strcmp(set, set1) == 0);
	CHECK_RC(backup_find(sd, NULL, set, sp, &num), 0);
	CHECK(num == 1 && strcmp(set, set1) == 0);
	CHECK_RC(backup_find(t1, set1, set, sp, &num), 0);
	CHECK_RC(backup_find(t1, "0123456789abcdef", set, sp, &num),
	    KITH_ENOENT);

	if (!CHECK_RC(backup_open(t1, set1, 1, A.seed, &m), 0))
		exit(1);
	CHECK(m.number == 1);
	CHECK(m.total == N);
	CHECK(m.nseg == 1 && m.seg[0].num == 1 && m.seg[0].recs == N);
	CHECK(strcmp(m.set, set1) == 0);
	CHECK(strcmp(m.name, NAME_A) == 0);
	CHECK(memcmp(m.account_pk, A.hm->account_pk, 32) == 0);
	CHECK(memcmp(m.sign_pk, A.hm->dk->sign_pk, 32) == 0);
	CHECK(memcmp(m.sealed_pass, A.hold.sealed_pass,
	    ACCOUNT_SEALED_LEN) == 0);
	CHECK(memcmp(m.sealed_rec, A.hold.sealed_rec,
	    ACCOUNT_SEALED_LEN) == 0);
	CHECK(m.rosterlen == A.hold.src.rosterlen &&
	    memcmp(m.roster, A.hold.roster, m.rosterlen) == 0);
	CHECK(m.vv != NULL && m.vv->n == 1 && m.vv->e[0].seq == N);
	CHECK_RC(read_all(t1, &m, A.seed, &n), 0);
	CHECK(n == N);

	/* Into a fresh home: the account and every record. */
	h2 = fresh_home("restore1");
	CHECK_RC(bk_restore(h2, t1, &m, A.seed, prog_cb, &pr, &stored,
	    &last_unread), 0);
	CHECK(stored == N);
	CHECK(pr.calls >= 1 && pr.n == N && pr.tot == N);
	CHECK(h2->has_account);
	CHECK(memcmp(h2->account_pk, A.hm->account_pk, 32) == 0);
	CHECK(home_backup_pk(h2, rbpk) == 0 &&
	    memcmp(rbpk, A.bpk, 32) == 0);
	CHECK(h2->h != NULL);
	if (h2->h != NULL) {
		holds_all(h2, N, __LINE__);
		homes_equal(A.hm, h2, __LINE__);
	}
	CHECK_RC(bk_restore(h2, t1, &m, A.seed, NULL, NULL, &stored,
	    &last_unread),
	    KITH_EHAVEACCOUNT);
	CHECK(count_of(h2) == N);
	backup_manifest_free(&m);
	home_close(h2);
}

/* --- 3. wrong seed ------------------------------------------------------ */

static void
test_wrong_seed(void)
{
	struct backup_manifest m, mb;
	struct backup_result res;
	struct backup_state st;
	struct home *h;
	uint8_t rnd[32], id3[BACKUP_IDLEN];
	uint64_t stored, n;

	randombytes_buf(rnd, sizeof(rnd));
	CHECK_RC(backup_open(t1, set1, 1, rnd, &m), KITH_EBADPASS);
	CHECK_RC(backup_open(t1, set1, 1, B.seed, &m), KITH_EBADPASS);

	/* B's own backup, on its own target: A's seed does not open it. */
	CHECK(mkdir(t3, 0700) == 0);
	CHECK_RC(backup_init(t3, B.bpk, id3), 0);
	memset(&st, 0, sizeof(st));
	CHECK_RC(backup_run(&B.hold.src, t3, &st, &res), 0);
	CHECK(res.full == 1 && res.records == 0 && res.number == 1);
	CHECK_RC(backup_open(t3, res.set, 1, A.seed, &mb), KITH_EBADPASS);
	if (CHECK_RC(backup_open(t3, res.set, 1, B.seed, &mb), 0)) {
		CHECK(mb.total == 0);
		backup_manifest_free(&mb);
	}
	backup_state_free(&st);

	/* A good manifest, its segments read with another key: nothing. */
	if (!CHECK_RC(backup_open(t1, set1, 1, A.seed, &m), 0))
		return;
	n = 0;
	CHECK(read_all(t1, &m, rnd, &n) != 0);
	CHECK(n == 0);
	h = fresh_home("wrongseed");
	CHECK(bk_restore(h, t1, &m, B.seed, NULL, NULL, &stored,
	    &last_unread) != 0);
	CHECK(stored == 0);
	CHECK(home_empty(h));
	CHECK(bk_restore(h, t1, &m, rnd, NULL, NULL, &stored,
	    &last_unread) != 0);
	CHECK(home_empty(h));
	backup_manifest_free(&m);
	home_close(h);
}

/* --- 3b. what a restore and an open must also refuse --------------------- */

/*
 * A record that does not open (its box is noise), in a segment that is
 * otherwise whole (the signed manifest pins it): bk_restore keeps it as
 * it was and counts it, so that one such record never makes every backup
 * unrestorable.
 */
static void
test_bad_record(void)
{
	struct backup_result res;
	struct backup_state st;
	struct store_rec rec;
	struct home *h;
	uint8_t box[200], id3[BACKUP_IDLEN];
	uint64_t stored;
	int added = 0;

	memset(&rec, 0, sizeof(rec));
	memcpy(rec.origin, B.hm->dk->sign_pk, 32);
	rec.seq = 1;
	rec.epoch = B.hm->roster->epoch;
	randombytes_buf(rec.rid, sizeof(rec.rid));
	randombytes_buf(box, sizeof(box));
	rec.box = box;
	rec.boxlen = sizeof(box);
	CHECK_RC(store_rec_put(B.hm->st, &rec, &added), 0);
	CHECK(added == 1);

	CHECK_RC(backup_probe(t3, B.bpk, id3), 0);
	memset(&st, 0, sizeof(st));
	CHECK_RC(backup_run(&B.hold.src, t3, &st, &res), 0);
	CHECK(res.full == 1 && res.records == 1 && res.total == 1);
	backup_state_free(&st);

	h = fresh_home("badrecord");
	CHECK_RC(restore_newest(h, t3, B.seed, &stored), 0);
	CHECK(stored == 1 && last_unread == 1);
	CHECK_RC(store_rid_exists(h->st, rec.rid), 1);
	home_close(h);
}

/*
 * Manifests not signed by a device of the account: anyone may encrypt to
 * the backup public key (every device holds it), so the signature and
 * the certificate are what make a manifest the account's.
 *  a. a new key pair, A's certificate and roster: the certificate names
 *     another device;
 *  b. A's device public key, signed with another secret key.
 */
static void
test_forged(void)
{
	struct backup_src fs;
	struct backup_result res;
	struct backup_state st;
	struct backup_manifest m;
	uint8_t *osk, opk[32], id4[BACKUP_IDLEN];
	char set[17];
	int rc;

	if ((osk = sodium_malloc(64)) == NULL)
		abort();
	crypto_sign_keypair(opk, osk);
	CHECK(mkdir(t4, 0700) == 0);
	CHECK_RC(backup_init(t4, A.bpk, id4), 0);

	fs = A.hold.src;
	fs.sign_pk = opk;
	fs.sign_sk = osk;
	memset(&st, 0, sizeof(st));
	CHECK_RC(backup_run(&fs, t4, &st, &res), 0);
	snprintf(set, sizeof(set), "%s", res.set);
	rc = backup_open(t4, set, res.number, A.seed, &m);
	if (!CHECK_RC(rc, KITH_ECORRUPT) && rc == 0)
		backup_manifest_free(&m);
	backup_state_free(&st);

	fs = A.hold.src;
	fs.sign_sk = osk;
	memset(&st, 0, sizeof(st));
	CHECK_RC(backup_run(&fs, t4, &st, &res), 0);
	CHECK(strcmp(res.set, set1) == 0);
	rc = backup_open(t4, res.set, res.number, A.seed, &m);
	if (!CHECK_RC(rc, KITH_ECORRUPT) && rc == 0)
		backup_manifest_free(&m);
	backup_state_free(&st);
	sodium_free(osk);
}

/*
 * A segment replaced by another of the same account, the same number and
 * as many records (from target 2, written by A's own device): it opens
 * with the same key, so only the manifest's hash and size refuse it.
 */
static uint32_t
substitute_num(void)
{
	struct backup_manifest m;
	uint32_t num = 0;

	/* Manifest 4 of target 1: segments 1, 2, then one record each. */
	if (CHECK_RC(backup_open(t1, set1, 4, A.seed, &m), 0)) {
		if (CHECK(m.nseg == 4 && m.seg[2].recs == 1))
			num = m.seg[2].num;
		backup_manifest_free(&m);
	}
	return (num);
}

static void
test_substitute(const char *sd2, uint32_t num)
{
	struct backup_manifest m;
	char sd[700], p1[800], p2[800];
	uint8_t *orig, *other;
	size_t l1, l2;
	uint64_t n;

	setdir_of(sd, sizeof(sd), t1, set1);
	snprintf(p1, sizeof(p1), "%s/seg-%08u.kbs", sd, num);
	snprintf(p2, sizeof(p2), "%s/seg-%08u.kbs", sd2, num);
	orig = read_file(p1, &l1);
	other = read_file(p2, &l2);
	if (CHECK(orig != NULL && other != NULL) &&
	    CHECK_RC(backup_open(t1, set1, 4, A.seed, &m), 0)) {
		CHECK(memcmp(orig, other, l1 < l2 ? l1 : l2) != 0);
		CHECK(write_file(p1, other, l2) == 0);
		CHECK_RC(read_all(t1, &m, A.seed, &n), KITH_ECORRUPT);
		CHECK(write_file(p1, orig, l1) == 0);
		CHECK_RC(read_all(t1, &m, A.seed, &n), 0);
		CHECK(n == m.total);
		backup_manifest_free(&m);
	}
	free(orig);
	free(other);
}

/* --- 4. tamper ---------------------------------------------------------- */

/*
 * One bit flipped at every byte of manifest 1: backup_open must fail,
 * KITH_ECORRUPT or KITH_EBADPASS.
 *
 * The clear header (bytes 8 .. 8 + ACCOUNT_SEALED_LEN - 1, the passphrase
 * seal backup_find hands out) is bound into the file key: a manifest
 * altered there must not open either (found by this test, then fixed).
 */
static void
test_tamper_manifest(void)
{
	struct backup_manifest m;
	char sd[700], p[800], q[800];
	uint8_t *orig, *b;
	size_t sz, qsz, i, body_ok = 0, clear_ok = 0, first_body = 0,
	    first_clear = 0, badrc = 0;
	int rc;

	setdir_of(sd, sizeof(sd), t1, set1);
	snprintf(p, sizeof(p), "%s/man-00000001.kbm", sd);
	if ((orig = read_file(p, &sz)) == NULL) {
		CHECK(!"manifest 1 readable");
		return;
	}
	for (i = 0; i < sz; i++) {
		if (flip(p, i, (int)(i % 8)) != 0)
			abort();
		rc = backup_open(t1, set1, 1, A.seed, &m);
		if (rc == 0) {
			backup_manifest_free(&m);
			if (i >= 8 && i < 8 + ACCOUNT_SEALED_LEN) {
				if (clear_ok++ == 0)
					first_clear = i;
			} else if (body_ok++ == 0)
				first_body = i;
		} else if (rc != KITH_ECORRUPT && rc != KITH_EBADPASS)
			badrc++;
		if (flip(p, i, (int)(i % 8)) != 0)
			abort();
	}
	if (!CHECK(body_ok == 0))
		fprintf(stderr, "  %zu flipped bytes opened, the first at"
		    " %zu of %zu\n", body_ok, first_body, sz);
	CHECK(badrc == 0);
	/* The clear seal is authenticated too. */
	if (!CHECK(clear_ok == 0))
		fprintf(stderr, "  %zu of %d flipped bytes of the clear"
		    " passphrase seal (first at offset %zu) still open\n",
		    clear_ok, ACCOUNT_SEALED_LEN, first_clear);
	b = read_file(p, &qsz);
	CHECK(b != NULL && qsz == sz && memcmp(b, orig, sz) == 0);
	free(b);

	/* Cut, or one byte more: fails. */
	CHECK(truncate(p, (off_t)sz - 1) == 0);
	CHECK(backup_open(t1, set1, 1, A.seed, &m) != 0);
	CHECK(truncate(p, (off_t)sz + 1) == 0);
	CHECK(backup_open(t1, set1, 1, A.seed, &m) != 0);
	CHECK(truncate(p, 0) == 0);
	CHECK(backup_open(t1, set1, 1, A.seed, &m) != 0);
	CHECK(write_file(p, orig, sz) == 0);

	/*
	 * The same manifest under another number does not open as that
	 * (the number is in the file key: the first chunk fails, which
	 * backup_open reports as KITH_EBADPASS).
	 */
	snprintf(q, sizeof(q), "%s/man-00000007.kbm", sd);
	CHECK(write_file(q, orig, sz) == 0);
	rc = backup_open(t1, set1, 7, A.seed, &m);
	CHECK(rc == KITH_ECORRUPT || rc == KITH_EBADPASS);
	CHECK(unlink(q) == 0);

	if (CHECK_RC(backup_open(t1, set1, 1, A.seed, &m), 0))
		backup_manifest_free(&m);
	free(orig);
}

static int
in_list(const size_t *v, size_t n, size_t x)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i] == x)
			return (1);
	return (0);
}

static void
test_tamper_segment(void)
{
	struct backup_manifest m;
	struct home *h;
	char sd[700], p[800];
	uint8_t *orig, *b;
	size_t sz, qsz, i, k, nchunks, *cuts, ncuts = 0, opened = 0,
	    first = 0, tried = 0, restores = 0, rsbad = 0;
	uint64_t n, stored;
	int rc;

	if (!CHECK_RC(backup_open(t1, set1, 1, A.seed, &m), 0))
		return;
	setdir_of(sd, sizeof(sd), t1, set1);
	snprintf(p, sizeof(p), "%s/seg-00000001.kbs", sd);
	if ((orig = read_file(p, &sz)) == NULL || sz < SEGHDR + 300) {
		CHECK(!"segment 1 readable");
		free(orig);
		backup_manifest_free(&m);
		return;
	}
	nchunks = (sz - SEGHDR + WIRECHUNK - 1) / WIRECHUNK;
	CHECK(nchunks >= 4);
	h = fresh_home("tamper");

	/* One bit flipped: backup_read fails; some also through a restore. */
	for (i = 0; i < sz; i++) {
		size_t rel = i >= SEGHDR ? (i - SEGHDR) % WIRECHUNK : 0;
		int edge = i < 100 || i >= sz - 100 || i % SEGSTRIDE == 0 ||
		    (i >= SEGHDR && (rel < 3 || rel >= WIRECHUNK - 3));

		if (!edge)
			continue;
		tried++;
		if (flip(p, i, (int)(i % 8)) != 0)
			abort();
		if ((rc = read_all(t1, &m, A.seed, &n)) == 0) {
			if (opened++ == 0)
				first = i;
		}
		/*
		 * Restores are dearer: the first bytes, each chunk's head,
		 * the last bytes, and every 20000th byte.
		 */
		if (i == 0 || i == 9 || i == 40 || i == SEGHDR - 1 ||
		    (i >= SEGHDR && rel == 1) || i == sz - 1 ||
		    i == sz - 17 || i % 20000 == 0) {
			restores++;
			rc = bk_restore(h, t1, &m, A.seed, NULL, NULL,
			    &stored, &last_unread);
			if (rc == 0 || !home_empty(h))
				rsbad++;
		}
		if (flip(p, i, (int)(i % 8)) != 0)
			abort();
		if (rsbad > 0 && h->has_account)
			break;		/* a restore took it: stop */
	}
	if (!CHECK(opened == 0))
		fprintf(stderr, "  %zu of %zu flipped bytes read, the first at"
		    " %zu of %zu\n", opened, tried, first, sz);
	if (!CHECK(rsbad == 0))
		fprintf(stderr, "  %zu of %zu restores of an altered segment"
		    " kept something\n", rsbad, restores);
	CHECK(restores >= 8);
	b = read_file(p, &qsz);
	CHECK(b != NULL && qsz == sz && memcmp(b, orig, sz) == 0);
	free(b);

	/* Cut short at many lengths, each chunk boundary included. */
	if ((cuts = calloc(sz / 10000 + nchunks + 8, sizeof(*cuts))) == NULL)
		abort();
	cuts[ncuts++] = 0;
	cuts[ncuts++] = 7;
	cuts[ncuts++] = SEGHDR - 1;
	cuts[ncuts++] = SEGHDR;
	for (k = 1; SEGHDR + k * WIRECHUNK < sz; k++)
		cuts[ncuts++] = SEGHDR + k * WIRECHUNK;
	for (k = 10000; k < sz; k += 10000)
		if (!in_list(cuts, ncuts, k))
			cuts[ncuts++] = k;
	if (!in_list(cuts, ncuts, sz - 1))
		cuts[ncuts++] = sz - 1;
	opened = 0;
	rsbad = 0;
	for (k = 0; k < ncuts; k++) {
		CHECK(truncate(p, (off_t)cuts[k]) == 0);
		if (read_all(t1, &m, A.seed, &n) == 0) {
			fprintf(stderr, "  segment cut at %zu of %zu reads\n",
			    cuts[k], sz);
			opened++;
		}
		/* Restores: empty, at the first chunk boundary, and last. */
		if (k == 0 || k == 4 || k == ncuts - 1) {
			rc = bk_restore(h, t1, &m, A.seed, NULL, NULL,
			    &stored, &last_unread);
			if (rc == 0 || !home_empty(h))
				rsbad++;
		}
		CHECK(write_file(p, orig, sz) == 0);
		if (h->has_account)
			break;
	}
	CHECK(opened == 0);
	CHECK(rsbad == 0);
	free(cuts);

	/* A byte more. */
	{
		uint8_t *x;

		if ((x = malloc(sz + 1)) == NULL)
			abort();
		memcpy(x, orig, sz);
		x[sz] = 0;
		CHECK(write_file(p, x, sz + 1) == 0);
		CHECK(read_all(t1, &m, A.seed, &n) != 0);
		if (!h->has_account) {
			CHECK(bk_restore(h, t1, &m, A.seed, NULL, NULL,
			    &stored, &last_unread) != 0);
			CHECK(home_empty(h));
		}
		free(x);
	}

	/* Gone. */
	CHECK(unlink(p) == 0);
	CHECK_RC(read_all(t1, &m, A.seed, &n), KITH_ECORRUPT);
	if (!h->has_account) {
		CHECK(bk_restore(h, t1, &m, A.seed, NULL, NULL,
		    &stored, &last_unread) != 0);
		CHECK(home_empty(h));
	}

	/* Put back whole: the home that refused them all takes it. */
	CHECK(write_file(p, orig, sz) == 0);
	CHECK_RC(read_all(t1, &m, A.seed, &n), 0);
	CHECK(n == N);
	if (!h->has_account) {
		CHECK_RC(bk_restore(h, t1, &m, A.seed, NULL, NULL,
		    &stored, &last_unread),
		    0);
		CHECK(stored == N);
		if (h->h != NULL)
			holds_all(h, N, __LINE__);
	}
	home_close(h);
	free(orig);
	backup_manifest_free(&m);
}

/* --- 2. incremental ----------------------------------------------------- */

static void
test_incremental(void)
{
	struct backup_result res;
	struct backup_state st;
	struct backup_manifest m;
	struct home *h3;
	char sd[700], *before, *after;
	uint64_t n, stored;

	if (!CHECK_RC(add_recs(M), 0))
		exit(1);
	state_get(id1, &st);
	CHECK(st.number == 1 && st.nseg == 1 && st.vv != NULL);
	if (!CHECK_RC(backup_run(&A.hold.src, t1, &st, &res), 0))
		exit(1);
	CHECK(res.full == 0);
	CHECK(res.uptodate == 0);
	CHECK(res.records == M);
	CHECK(res.number == 2);
	CHECK(res.total == N + M);
	CHECK(st.number == 2 && st.nseg == 2 && st.seg[1].recs == M);
	state_put(id1, &st);
	setdir_of(sd, sizeof(sd), t1, set1);
	CHECK(exists(sd, "seg-00000002.kbs"));
	CHECK(exists(sd, "man-00000002.kbm"));
	/* Retention keeps the one before, and all it names. */
	CHECK(exists(sd, "man-00000001.kbm"));
	CHECK(exists(sd, "seg-00000001.kbs"));

	if (CHECK_RC(backup_open(t1, set1, 2, A.seed, &m), 0)) {
		CHECK(m.total == N + M && m.nseg == 2);
		CHECK(m.nseg == 2 && m.seg[0].num == 1 && m.seg[1].num == 2 &&
		    m.seg[1].recs == M);
		CHECK_RC(read_all(t1, &m, A.seed, &n), 0);
		CHECK(n == N + M);
		backup_manifest_free(&m);
	}
	if (CHECK_RC(backup_open(t1, set1, 1, A.seed, &m), 0)) {
		CHECK(m.total == N);
		backup_manifest_free(&m);
	}

	/* Nothing new: nothing written. */
	before = listing(sd);
	state_get(id1, &st);
	CHECK_RC(backup_run(&A.hold.src, t1, &st, &res), 0);
	CHECK(res.uptodate == 1);
	CHECK(res.full == 0);
	CHECK(res.records == 0);
	CHECK(res.number == 2);
	CHECK(res.total == N + M);
	CHECK(st.number == 2);
	state_put(id1, &st);
	after = listing(sd);
	CHECK(strcmp(before, after) == 0);
	CHECK(!exists(sd, "man-00000003.kbm"));
	free(before);
	free(after);

	h3 = fresh_home("restore2");
	CHECK_RC(restore_newest(h3, t1, A.seed, &stored), 0);
	CHECK(stored == N + M);
	if (h3->h != NULL) {
		holds_all(h3, N + M, __LINE__);
		homes_equal(A.hm, h3, __LINE__);
	}
	home_close(h3);
}

/* A segment swapped for another: the manifest's hash refuses it. */
static void
test_swap(void)
{
	struct backup_manifest m;
	char sd[700], p1[800], p2[800];
	uint8_t *s1, *s2;
	size_t l1, l2;
	uint64_t n;

	setdir_of(sd, sizeof(sd), t1, set1);
	snprintf(p1, sizeof(p1), "%s/seg-00000001.kbs", sd);
	snprintf(p2, sizeof(p2), "%s/seg-00000002.kbs", sd);
	s1 = read_file(p1, &l1);
	s2 = read_file(p2, &l2);
	if (!CHECK(s1 != NULL && s2 != NULL) ||
	    !CHECK_RC(backup_open(t1, set1, 2, A.seed, &m), 0)) {
		free(s1);
		free(s2);
		return;
	}
	CHECK(write_file(p2, s1, l1) == 0);
	CHECK_RC(read_all(t1, &m, A.seed, &n), KITH_ECORRUPT);
	CHECK(write_file(p1, s2, l2) == 0);
	CHECK_RC(read_all(t1, &m, A.seed, &n), KITH_ECORRUPT);
	CHECK(write_file(p1, s1, l1) == 0);
	CHECK(write_file(p2, s2, l2) == 0);
	CHECK_RC(read_all(t1, &m, A.seed, &n), 0);
	CHECK(n == N + M);
	backup_manifest_free(&m);
	free(s1);
	free(s2);
}

/* --- 5. a cut backup ---------------------------------------------------- */

static void
test_cut(void)
{
	struct backup_result res;
	struct backup_state st;
	struct backup_manifest m;
	uint8_t sp[ACCOUNT_SEALED_LEN], junk[5000];
	char sd[700], p[800], set[17];
	uint64_t num, n;

	setdir_of(sd, sizeof(sd), t1, set1);
	randombytes_buf(junk, sizeof(junk));
	/* Cut while writing, and between segment and manifest. */
	snprintf(p, sizeof(p), "%s/.tmp-seg-00000009.kbs", sd);
	CHECK(write_file(p, junk, sizeof(junk)) == 0);
	snprintf(p, sizeof(p), "%s/.tmp-man-00000009.kbm", sd);
	CHECK(write_file(p, junk, 100) == 0);
	snprintf(p, sizeof(p), "%s/seg-00000009.kbs", sd);
	CHECK(write_file(p, junk, sizeof(junk)) == 0);

	CHECK_RC(backup_find(t1, NULL, set, sp, &num), 0);
	CHECK(num == 2 && strcmp(set, set1) == 0);
	if (CHECK_RC(backup_open(t1, set1, num, A.seed, &m), 0)) {
		CHECK_RC(read_all(t1, &m, A.seed, &n), 0);
		CHECK(n == N + M);
		backup_manifest_free(&m);
	}

	if (!CHECK_RC(add_recs(1), 0))
		exit(1);
	state_get(id1, &st);
	CHECK_RC(backup_run(&A.hold.src, t1, &st, &res), 0);
	CHECK(res.full == 0 && res.records == 1 && res.number == 3);
	state_put(id1, &st);
	CHECK(count_names(sd, ".tmp-", NULL) == 0);
	CHECK(!exists(sd, "seg-00000009.kbs"));
	CHECK(exists(sd, "man-00000003.kbm"));
	CHECK(exists(sd, "man-00000002.kbm"));
	CHECK(!exists(sd, "man-00000001.kbm"));
	CHECK(count_names(sd, "man-", ".kbm") == BACKUP_KEEP);
	if (CHECK_RC(backup_open(t1, set1, 3, A.seed, &m), 0)) {
		CHECK(m.total == nadded);
		CHECK_RC(read_all(t1, &m, A.seed, &n), 0);
		CHECK(n == nadded);
		backup_manifest_free(&m);
	}
}

/* --- 6. a write that fails; a busy set ----------------------------------- */

static void
test_fail_write(void)
{
	struct backup_result res;
	struct backup_state st;
	struct backup_manifest m;
	struct rlimit old, lim;
	struct stat sb;
	char sd[700], p[800], *before, *after;
	uint64_t n;
	int fd, rc;

	setdir_of(sd, sizeof(sd), t1, set1);
	if (!CHECK_RC(add_recs(1), 0))
		exit(1);
	before = listing(sd);

	/*
	 * Files may not grow beyond 150 bytes: the segment's header (64
	 * bytes) is written, its one chunk (over 200) fails.  Then not
	 * beyond the size of manifest 3: the one-record segment (about 300
	 * bytes) is written and renamed, and the manifest, which names one
	 * segment more than manifest 3, fails.
	 */
	snprintf(p, sizeof(p), "%s/man-00000003.kbm", sd);
	if (getrlimit(RLIMIT_FSIZE, &old) != 0 || stat(p, &sb) != 0)
		abort();
	CHECK(sb.st_size > 1000);
	signal(SIGXFSZ, SIG_IGN);
	lim = old;
	lim.rlim_cur = 150;
	state_get(id1, &st);
	CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);
	rc = backup_run(&A.hold.src, t1, &st, &res);
	(void)setrlimit(RLIMIT_FSIZE, &old);
	CHECK(rc == KITH_EIO || rc == KITH_ENOSPACE);
	CHECK(st.number == 3);
	after = listing(sd);
	if (!CHECK(strcmp(before, after) == 0))
		fprintf(stderr, "  before:\n%s  after:\n%s", before, after);
	free(after);

	lim.rlim_cur = (rlim_t)sb.st_size;
	CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);
	rc = backup_run(&A.hold.src, t1, &st, &res);
	(void)setrlimit(RLIMIT_FSIZE, &old);
	CHECK(rc == KITH_EIO || rc == KITH_ENOSPACE);
	CHECK(st.number == 3);
	after = listing(sd);
	if (!CHECK(strcmp(before, after) == 0))
		fprintf(stderr, "  before:\n%s  after:\n%s", before, after);
	free(after);
	free(before);
	signal(SIGXFSZ, SIG_DFL);

	/* Another writer holds the set. */
	snprintf(p, sizeof(p), "%s/LOCK", sd);
	if ((fd = open(p, O_RDWR | O_CREAT, 0600)) != -1 &&
	    CHECK(flock(fd, LOCK_EX | LOCK_NB) == 0)) {
		CHECK_RC(backup_run(&A.hold.src, t1, &st, &res), KITH_EBUSY);
		CHECK(st.number == 3);
		close(fd);
	} else
		CHECK(!"LOCK opened");

	/* The last backup is whole; the next run writes the record. */
	if (CHECK_RC(backup_open(t1, set1, 3, A.seed, &m), 0)) {
		CHECK_RC(read_all(t1, &m, A.seed, &n), 0);
		CHECK(n == nadded - 1);
		backup_manifest_free(&m);
	}
	CHECK_RC(backup_run(&A.hold.src, t1, &st, &res), 0);
	CHECK(res.number == 4 && res.records == 1 && res.full == 0);
	CHECK(res.total == nadded);
	state_put(id1, &st);
}

/* --- 7. retention ------------------------------------------------------- */

/*
 * The set is as retention leaves it: at most BACKUP_KEEP manifests, each
 * opening and reading whole, and no segment that none of them names.
 */
static int
set_ok(const char *target, const char *set, uint64_t newest, int line)
{
	struct backup_manifest m;
	struct dirent *e;
	char sd[700];
	uint32_t named[256];
	size_t nnamed = 0, i;
	unsigned long long v;
	uint64_t n;
	int nman = 0, ok = 1, found;
	DIR *d;

	setdir_of(sd, sizeof(sd), target, set);
	if ((d = opendir(sd)) == NULL)
		return (check(0, "set directory opens", line));
	while ((e = readdir(d)) != NULL) {
		if (sscanf(e->d_name, "man-%8llu.kbm", &v) != 1)
			continue;
		nman++;
		if (backup_open(target, set, v, A.seed, &m) != 0) {
			fprintf(stderr, "test_backup.c:%d: manifest %llu does"
			    " not open\n", line, v);
			ok = 0;
			continue;
		}
		if (read_all(target, &m, A.seed, &n) != 0 || n != m.total) {
			fprintf(stderr, "test_backup.c:%d: manifest %llu does"
			    " not read whole\n", line, v);
			ok = 0;
		}
		for (i = 0; i < m.nseg && nnamed < 256; i++)
			named[nnamed++] = m.seg[i].num;
		backup_manifest_free(&m);
	}
	closedir(d);
	if (nman > BACKUP_KEEP) {
		fprintf(stderr, "test_backup.c:%d: %d manifests\n", line,
		    nman);
		ok = 0;
	}
	{
		char nm[32];

		snprintf(nm, sizeof(nm), "man-%08llu.kbm",
		    (unsigned long long)newest);
		if (!exists(sd, nm)) {
			fprintf(stderr, "test_backup.c:%d: no %s\n", line, nm);
			ok = 0;
		}
	}
	if ((d = opendir(sd)) == NULL)
		return (check(0, "set directory opens", line));
	while ((e = readdir(d)) != NULL) {
		if (sscanf(e->d_name, "seg-%8llu.kbs", &v) != 1)
			continue;
		for (i = 0, found = 0; i < nnamed; i++)
			found |= named[i] == v;
		if (!found) {
			fprintf(stderr, "test_backup.c:%d: %s is named by no"
			    " manifest\n", line, e->d_name);
			ok = 0;
		}
	}
	closedir(d);
	return (check(ok, "the set holds what retention keeps", line));
}

static void
test_retention(void)
{
	struct backup_result res;
	struct backup_state st;
	struct home *h4;
	char sd[700];
	uint64_t stored, full_at = 0, k;
	int bad_full = 0, bad_rec = 0, bad_set = 0, subst = 0;
	uint32_t subnum = substitute_num();

	CHECK(mkdir(t2, 0700) == 0);
	CHECK_RC(backup_init(t2, A.bpk, id2), 0);
	state_get(id2, &st);
	if (!CHECK_RC(backup_run(&A.hold.src, t2, &st, &res), 0))
		return;
	CHECK(res.full == 1 && res.number == 1 && res.records == nadded);
	state_put(id2, &st);
	setdir_of(sd, sizeof(sd), t2, res.set);

	/* One record each time, until a full backup, and one more. */
	for (k = 2; k < 2 + BACKUP_MAXSEG + 4; k++) {
		int want_full;

		if (!CHECK_RC(add_recs(1), 0))
			break;
		state_get(id2, &st);
		want_full = st.nseg >= BACKUP_MAXSEG;
		if (!CHECK_RC(backup_run(&A.hold.src, t2, &st, &res), 0)) {
			backup_state_free(&st);
			break;
		}
		if (res.full != want_full || res.number != k) {
			fprintf(stderr, "  run %llu: full %d, number %llu\n",
			    (unsigned long long)k, res.full,
			    (unsigned long long)res.number);
			bad_full++;
		}
		if (res.records != (res.full ? nadded : 1) ||
		    res.total != nadded)
			bad_rec++;
		if (!set_ok(t2, res.set, res.number, __LINE__))
			bad_set++;
		if (res.full && full_at == 0)
			full_at = k;
		if (k == subnum) {
			test_substitute(sd, subnum);
			subst = 1;
		}
		state_put(id2, &st);
		if (full_at != 0 && k == full_at + 1)
			break;
	}
	CHECK(bad_full == 0);
	CHECK(bad_rec == 0);
	CHECK(bad_set == 0);
	CHECK(subst);
	/* Runs 1 .. 32 wrote segments 1 .. 32: run 33 is full. */
	CHECK(full_at == BACKUP_MAXSEG + 1);
	/* After one more: the full backup's segment and the new one. */
	CHECK(count_names(sd, "man-", ".kbm") == BACKUP_KEEP);
	CHECK(count_names(sd, "seg-", ".kbs") == 2);
	CHECK(count_names(sd, ".tmp-", NULL) == 0);

	h4 = fresh_home("restore3");
	CHECK_RC(restore_newest(h4, t2, A.seed, &stored), 0);
	CHECK(stored == nadded);
	if (h4->h != NULL) {
		holds_all(h4, nadded, __LINE__);
		homes_equal(A.hm, h4, __LINE__);
	}
	home_close(h4);
}

/* --- 8. the target marker ----------------------------------------------- */

static void
test_marker(void)
{
	uint8_t id[BACKUP_IDLEN], rnd[32], obpk[32], *orig;
	char p[300], kb[400];
	size_t sz;

	memset(id, 0, sizeof(id));
	CHECK_RC(backup_init(t1, A.bpk, id), KITH_EEXIST);
	CHECK(memcmp(id, id1, BACKUP_IDLEN) == 0);
	memset(id, 0, sizeof(id));
	CHECK_RC(backup_probe(t1, A.bpk, id), 0);
	CHECK(memcmp(id, id1, BACKUP_IDLEN) == 0);
	snprintf(kb, sizeof(kb), "%s/%s", t1, BACKUP_DIRNAME);
	CHECK_RC(backup_probe(kb, A.bpk, id), 0);
	CHECK(memcmp(id, id1, BACKUP_IDLEN) == 0);
	CHECK(memcmp(id1, id2, BACKUP_IDLEN) != 0);

	/* Another account: B's real key, and one from a random seed. */
	CHECK_RC(backup_probe(t1, B.bpk, id), KITH_EPERM);
	CHECK_RC(backup_init(t1, B.bpk, id), KITH_EPERM);
	CHECK_RC(backup_probe(t3, A.bpk, id), KITH_EPERM);
	CHECK_RC(backup_probe(t3, B.bpk, id), 0);
	randombytes_buf(rnd, sizeof(rnd));
	backup_keypair(rnd, NULL, obpk);
	CHECK_RC(backup_probe(t1, obpk, id), KITH_EPERM);

	/* No marker. */
	path_of(p, sizeof(p), "plain");
	CHECK(mkdir(p, 0700) == 0);
	CHECK_RC(backup_probe(p, A.bpk, id), KITH_ENOENT);
	snprintf(kb, sizeof(kb), "%s/%s", p, BACKUP_DIRNAME);
	CHECK(mkdir(kb, 0700) == 0);
	CHECK_RC(backup_probe(p, A.bpk, id), KITH_ENOENT);
	path_of(p, sizeof(p), "no-such-dir");
	CHECK_RC(backup_probe(p, A.bpk, id), KITH_ENOENT);
	CHECK_RC(backup_init(p, A.bpk, id), KITH_ENOENT);

	/* Damaged. */
	snprintf(p, sizeof(p), "%s/%s/TARGET", t1, BACKUP_DIRNAME);
	if ((orig = read_file(p, &sz)) != NULL) {
		CHECK(write_file(p, orig, sz - 1) == 0);
		CHECK_RC(backup_probe(t1, A.bpk, id), KITH_ECORRUPT);
		CHECK(flip(p, 0, 0) == 0);
		CHECK(write_file(p, orig, sz) == 0);
		CHECK(flip(p, sz - 1, 3) == 0);
		CHECK_RC(backup_probe(t1, A.bpk, id), KITH_EPERM);
		CHECK(flip(p, 9, 0) == 0 && flip(p, sz - 1, 3) == 0);
		CHECK_RC(backup_probe(t1, A.bpk, id), KITH_EPERM);
		CHECK(write_file(p, orig, sz) == 0);
		CHECK_RC(backup_probe(t1, A.bpk, id), 0);
		free(orig);
	} else
		CHECK(!"TARGET readable");
}

int
main(void)
{
	char cmd[400];
	struct timespec t0, t9;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (sodium_init() < 0) {
		fprintf(stderr, "test_backup: sodium_init failed\n");
		return (1);
	}
	if (mkdtemp(tmp) == NULL) {
		fprintf(stderr, "test_backup: mkdtemp: %s\n", strerror(errno));
		return (1);
	}
	path_of(t1, sizeof(t1), "vol1");
	path_of(t2, sizeof(t2), "vol2");
	path_of(t3, sizeof(t3), "vol3");
	path_of(t4, sizeof(t4), "vol4");

	make_account(&A, "home-a", NAME_A);
	make_account(&B, "home-b", NAME_B);

	test_roundtrip();
	test_wrong_seed();
	test_bad_record();
	test_forged();
	test_tamper_manifest();
	test_tamper_segment();
	test_incremental();
	test_swap();
	test_cut();
	test_fail_write();
	test_retention();
	test_marker();

	bk_hold_free(&A.hold);
	bk_hold_free(&B.hold);
	home_close(A.hm);
	home_close(B.hm);
	sodium_memzero(A.seed, sizeof(A.seed));
	sodium_memzero(B.seed, sizeof(B.seed));
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	if (system(cmd) != 0 || access(tmp, F_OK) == 0) {
		fprintf(stderr, "test_backup: cannot remove %s\n", tmp);
		nfail++;
	}
	clock_gettime(CLOCK_MONOTONIC, &t9);
	printf("backup: %d checks passed, %d failed (%.1f s)\n", npass, nfail,
	    (double)(t9.tv_sec - t0.tv_sec) +
	    (double)(t9.tv_nsec - t0.tv_nsec) / 1e9);
	return (nfail == 0 ? 0 : 1);
}
