/*
 * bk.c: automatic backups.  Each second the agent looks at the mount
 * table; when it changed (at once), when history changed (at most every
 * KITHD_BACKUP_INTERVAL s, default 30), or every 60 s, a job on
 * libuv's thread pool looks for this account's backup targets (the
 * mount points and the directories known), and `kith backup --to DIR`
 * backs up to each one found, in a child process: sync never waits for
 * it.  Results go to the home's meta (kith status), the log and the
 * "backup" event.
 */
#include <errno.h>
#include <signal.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "agent.h"
#include "bkhome.h"
#include "kith_err.h"
#include "kith_util.h"

#define BK_PERIOD_MS 60000
#define BK_MAXFOUND 16

struct bk {
	struct agent *ag;
	uv_work_t work;
	int busy;
	int poked;
	uint64_t next;		/* ms: next periodic look */
	uint8_t mounts[32];	/* hash of the mount table last seen */
	uint64_t nrec;		/* records held at the last look */
	uint64_t last;		/* ms: the last look */
	uint8_t rosterhash[32];
	/* The look: filled on the loop thread, run on a worker. */
	uint8_t bpk[32];
	struct bk_target *known;
	size_t nknown;
	struct bk_target found[BK_MAXFOUND];
	size_t nfound, cur;
	/* The backups: one `kith backup --to` child at a time. */
	uv_process_t proc;
	uv_pipe_t out;
	int child, pipe_open;
	char *obuf;
	size_t olen;
	int64_t status;
	char exe[PATH_MAX];
};

/* The mount table, hashed; and its mount points. */
static int
mounts_read(uint8_t h[32], char ***points, size_t *n)
{
	FILE *f;
	char *line = NULL, mp[PATH_MAX], **v = NULL, **nv;
	size_t cap = 0, i, o;
	crypto_generichash_state st;

	if (points != NULL) {
		*points = NULL;
		*n = 0;
	}
	if ((f = fopen("/proc/self/mountinfo", "r")) == NULL)
		return (-1);
	crypto_generichash_init(&st, NULL, 0, 32);
	while (getline(&line, &cap, f) != -1) {
		crypto_generichash_update(&st, (const uint8_t *)line,
		    strlen(line));
		/* id parent major:minor root MOUNTPOINT ... */
		if (points == NULL || sscanf(line, "%*s %*s %*s %*s %4095s",
		    mp) != 1)
			continue;
		/* Undo the octal escapes of mountinfo (\040 is a space). */
		for (i = o = 0; mp[i] != '\0'; i++, o++) {
			if (mp[i] == '\\' && mp[i + 1] >= '0' &&
			    mp[i + 1] <= '3' && mp[i + 2] >= '0' &&
			    mp[i + 2] <= '7' && mp[i + 3] >= '0' &&
			    mp[i + 3] <= '7') {
				mp[o] = (char)((mp[i + 1] - '0') * 64 +
				    (mp[i + 2] - '0') * 8 + (mp[i + 3] - '0'));
				i += 3;
			} else
				mp[o] = mp[i];
		}
		mp[o] = '\0';
		/* The kernel's own trees hold no backup volume. */
		if (strncmp(mp, "/proc", 5) == 0 || strncmp(mp, "/sys", 4) ==
		    0 || strncmp(mp, "/dev", 4) == 0 || strcmp(mp, "/") == 0)
			continue;
		if ((nv = realloc(v, (*n + 1) * sizeof(*v))) == NULL)
			break;
		v = nv;
		if ((v[*n] = strdup(mp)) != NULL)
			(*n)++;
	}
	free(line);
	(void)fclose(f);	/* read only */
	crypto_generichash_final(&st, h, 32);
	if (points != NULL)
		*points = v;
	return (0);
}

static void
found_one(struct bk *b, const char *dir)
{
	uint8_t id[BACKUP_IDLEN];
	size_t i;

	if (b->nfound == BK_MAXFOUND || backup_probe(dir, b->bpk, id) != 0)
		return;
	for (i = 0; i < b->nfound; i++)
		if (memcmp(b->found[i].id, id, BACKUP_IDLEN) == 0)	/* not secret */
			return;		/* the same target by two paths */
	memcpy(b->found[b->nfound].id, id, BACKUP_IDLEN);
	snprintf(b->found[b->nfound].path, sizeof(b->found[0].path),
	    "%s", dir);
	b->nfound++;
}

/*
 * On a worker thread: which targets of this account are there now (a
 * marker read on each known path and mount point; a hung mount stalls
 * the worker, never the loop).  A target another device of the account
 * marked is ours too.
 */
static void
bk_work(uv_work_t *w)
{
	struct bk *b = w->data;
	char **points;
	uint8_t h[32];
	size_t i, n;

	for (i = 0; i < b->nknown; i++)
		found_one(b, b->known[i].path);
	if (mounts_read(h, &points, &n) == 0) {
		for (i = 0; i < n; i++) {
			found_one(b, points[i]);
			free(points[i]);
		}
		free(points);
	}
}

static void spawn_next(struct bk *b);
static void on_child_closed(uv_handle_t *h);

static void
on_out_alloc(uv_handle_t *h, size_t want, uv_buf_t *buf)
{
	struct bk *b = h->data;
	char *nb;

	(void)want;
	if (b->olen > 65536 || (nb = realloc(b->obuf, b->olen + 4097)) ==
	    NULL) {
		*buf = uv_buf_init(NULL, 0);
		return;
	}
	b->obuf = nb;
	*buf = uv_buf_init(b->obuf + b->olen, 4096);
}

static void
on_out_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
	struct bk *b = st->data;

	(void)buf;
	if (n > 0)
		b->olen += (size_t)n;
	else if (n < 0) {
		/* EOF: all it said is here; close when the exit is too. */
		uv_read_stop(st);
		uv_close((uv_handle_t *)st, on_child_closed);
	}
}

/* What the child said, told to the log and to subscribers. */
static void
report(struct bk *b)
{
	struct agent *ag = b->ag;
	const char *path = b->found[b->cur].path, *err, *code;
	json_t *o = NULL, *r, *ev;

	if (b->obuf != NULL) {
		b->obuf[b->olen] = '\0';
		o = json_loads(b->obuf, 0, NULL);
	}
	r = json_array_get(json_object_get(o, "backups"), 0);
	if (b->status == 0 && r != NULL) {
		if (json_is_true(json_object_get(r, "uptodate"))) {
			if (ag->verbose)
				ag_log("backup to %s: up to date", path);
			json_decref(o);
			return;
		}
		ag_log("backup to %s: backup %lld, %lld new records (%s),"
		    " %lld in all", path, (long long)json_integer_value(
		    json_object_get(r, "number")), (long long)
		    json_integer_value(json_object_get(r, "records")),
		    json_is_true(json_object_get(r, "full")) ? "full" :
		    "incremental", (long long)json_integer_value(
		    json_object_get(r, "total")));
		ev = json_pack("{s:s, s:b, s:O, s:O, s:O, s:O}", "path", path,
		    "ok", 1, "number", json_object_get(r, "number"), "records",
		    json_object_get(r, "records"), "total",
		    json_object_get(r, "total"), "full",
		    json_object_get(r, "full"));
	} else {
		err = json_string_value(json_object_get(o, "error"));
		if (err == NULL)
			err = "the backup process failed";
		else if (strstr(err, " failed: ") != NULL)
			err = strstr(err, " failed: ") + 9;	/* no path twice */
		code = json_string_value(json_object_get(o, "code"));
		if (code != NULL && strcmp(code, kith_strerror(KITH_EBUSY)) ==
		    0)
			b->poked = 1;	/* a `kith backup` ran: again later */
		ag_log("backup to %s failed: %s", path, err);
		ev = json_pack("{s:s, s:b, s:s}", "path", path, "ok", 0,
		    "error", err);
	}
	ctl_publish(ag, "backup", ev);
	json_decref(o);
}

static void
on_spawn_failed(uv_handle_t *h)
{
	struct bk *b = h->data;

	if (++b->child == 0) {
		b->busy = 0;
		b->next = ag_now_ms() + BK_PERIOD_MS;	/* not every second */
	}
}

static void
on_child_closed(uv_handle_t *h)
{
	struct bk *b = h->data;

	if (--b->child > 0)
		return;
	if (!b->ag->stopping)
		report(b);
	free(b->obuf);
	b->obuf = NULL;
	b->olen = 0;
	b->cur++;
	spawn_next(b);
}

static void
on_exit_cb(uv_process_t *p, int64_t status, int sig)
{
	struct bk *b = p->data;

	b->status = sig != 0 ? -1 : status;
	/*
	 * Killed (or crashed) before it could say why: nothing on the
	 * medium changed, so look again after the interval rather than at
	 * the next period, or the history it missed waits a minute.
	 */
	if (sig != 0 && b->next > ag_now_ms() + (uint64_t)b->ag->bk_interval *
	    1000)
		b->next = ag_now_ms() + (uint64_t)b->ag->bk_interval * 1000;
	/* The pipe closes at its EOF (on_out_read), which may come later. */
	uv_close((uv_handle_t *)&b->proc, on_child_closed);
}

/*
 * One target at a time, by `kith backup --to DIR` in a child process: it
 * borrows this agent's lock key, reads the store with its own
 * connection, and records the outcome in the home's meta.  Sync goes on
 * meanwhile.
 */
static void
spawn_next(struct bk *b)
{
	struct agent *ag = b->ag;
	uv_process_options_t po;
	uv_stdio_container_t io[3];
	char *args[9];
	int r;

	if (ag->stopping || b->cur >= b->nfound) {
		b->busy = 0;
		return;
	}
	args[0] = b->exe;
	args[1] = "--home";
	args[2] = ag->homedir;
	args[3] = "--json";
	args[4] = "backup";
	args[5] = "--to";
	args[6] = b->found[b->cur].path;
	args[7] = NULL;
	memset(&po, 0, sizeof(po));
	uv_pipe_init(ag->loop, &b->out, 0);
	b->out.data = b;
	io[0].flags = UV_IGNORE;
	io[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	io[1].data.stream = (uv_stream_t *)&b->out;
	io[2].flags = UV_INHERIT_FD;
	io[2].data.fd = 2;
	po.file = b->exe;
	po.args = args;
	po.exit_cb = on_exit_cb;
	po.stdio = io;
	po.stdio_count = 3;
	b->proc.data = b;
	if ((r = uv_spawn(ag->loop, &b->proc, &po)) != 0) {
		ag_log("backup: cannot start %s: %s", b->exe, uv_strerror(r));
		/* libuv wants both closed; busy ends when they are. */
		b->child = -2;
		uv_close((uv_handle_t *)&b->proc, on_spawn_failed);
		uv_close((uv_handle_t *)&b->out, on_spawn_failed);
		return;
	}
	b->child = 2;
	uv_read_start((uv_stream_t *)&b->out, on_out_alloc, on_out_read);
}

static void
bk_done(uv_work_t *w, int status)
{
	struct bk *b = w->data;

	(void)status;
	free(b->known);
	b->known = NULL;
	b->nknown = 0;
	b->cur = 0;
	spawn_next(b);
}

static void
bk_launch(struct agent *ag, struct bk *b)
{
	ssize_t n;

	/* No backup key here yet, or not enrolled: nothing to do. */
	if (home_backup_pk(ag->hm, b->bpk) != 0 || ag->hm->roster == NULL)
		return;
	if (b->exe[0] == '\0') {
		/* `kith` lives beside `kithd`. */
		if ((n = readlink("/proc/self/exe", b->exe,
		    sizeof(b->exe) - 8)) <= 0)
			return;
		b->exe[n] = '\0';
		if (strrchr(b->exe, '/') == NULL)
			return;
		strcpy(strrchr(b->exe, '/') + 1, "kith");
	}
	if (bk_targets(ag->hm, &b->known, &b->nknown) != 0)
		return;
	b->nfound = 0;
	b->work.data = b;
	b->ag = ag;
	if (uv_queue_work(ag->loop, &b->work, bk_work, bk_done) != 0) {
		free(b->known);
		b->known = NULL;
		return;
	}
	b->busy = 1;
}

void
bk_tick(struct agent *ag)
{
	struct bk *b;
	uint8_t h[32];
	int changed = 0;
	uint64_t now = ag_now_ms();

	if (!ag->running || ag->hm->dk->locked || ag->stopping)
		return;
	if ((b = ag->bk) == NULL) {
		if ((b = calloc(1, sizeof(*b))) == NULL)
			return;
		ag->bk = b;
		changed = 1;
	}
	if (b->busy)
		return;
	if (mounts_read(h, NULL, NULL) == 0 &&
	    sodium_memcmp(h, b->mounts, 32) != 0) {
		memcpy(b->mounts, h, 32);
		changed = 1;
	}
	/*
	 * New history waits for the interval since the last look: a busy
	 * conversation makes one segment a while, not one per message
	 * (each segment brings the next full backup nearer).
	 */
	if (now >= b->last + (uint64_t)ag->bk_interval * 1000) {
		if (ag->nrec != b->nrec) {
			b->nrec = ag->nrec;
			changed = 1;
		}
		if (ag->hm->roster != NULL &&
		    memcmp(ag->hm->roster->hash, b->rosterhash, 32) != 0) {	/* not secret */
			memcpy(b->rosterhash, ag->hm->roster->hash, 32);
			changed = 1;
		}
	}
	if (!changed && !b->poked && now < b->next)
		return;
	b->poked = 0;
	b->next = now + BK_PERIOD_MS;
	b->last = now;
	bk_launch(ag, b);
}

void
bk_poke(struct agent *ag)
{

	if (ag->bk != NULL)
		ag->bk->poked = 1;
	bk_tick(ag);
}

json_t *
bk_status_json(struct agent *ag)
{
	json_t *a = bk_results_json(ag->hm), *o;
	size_t i;

	json_array_foreach(a, i, o)
		json_object_set_new(o, "running", json_boolean(ag->bk !=
		    NULL && ag->bk->busy));
	return (a);
}

void
bk_stop(struct agent *ag)
{

	/* A child backing up stops; what it wrote stays whole (atomic). */
	if (ag->bk != NULL && ag->bk->child > 0)
		(void)uv_process_kill(&ag->bk->proc, SIGTERM);
}

void
bk_free(struct agent *ag)
{

	if (ag->bk != NULL) {
		free(ag->bk->known);
		free(ag->bk->obuf);
		free(ag->bk);
		ag->bk = NULL;
	}
}
