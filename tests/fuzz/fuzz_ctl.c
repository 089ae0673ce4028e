/*
 * fuzz_ctl.c: kithd's control socket (syncd/kithd/ctl.c, docs/API.md):
 * whatever a local client writes to it.  The input is what one client
 * sends, request lines and all; kithd's own control socket (ctl_start, on
 * a libuv loop, of an agent over the real home of fuzz_home.h, unlocked
 * and not running: no listener, no mDNS) takes it from a real Unix socket
 * in pieces, and the harness reads what comes back:
 *
 *  - every line of the input that ends with a newline and is not empty
 *    gets exactly one answer, in order, and an answer is one JSON object
 *    on one line, with "ok" true, or false and an "error" of string
 *    "code" and "message"; the "id" of a request that is a JSON object is
 *    given back unchanged;
 *  - events ("event": the kind) come only to a client that subscribed;
 *  - nothing written back holds a secret the input did not: not the
 *    device's secret keys, its store key, the history keys, the
 *    passphrase, nor the lock key but in an answer to "lockkey".
 *
 * The agent holds the lock key (as after an unlock), so that "unlock"
 * answers at once instead of spending an Argon2 derivation per input.
 * The home is put back as it was before each input.  kithd's sources but
 * main.c are built with the harness (tests/fuzz/CMakeLists.txt), main.c
 * through kithd_main.c; ctl.c is included here, for its list of clients
 * (the harness waits until the agent has let go of its client).
 */
#include "../../syncd/kithd/ctl.c"

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "ctlsock.h"

#include "fuzz_home.h"

#include "fuzz.h"

#define MAXIN (1 << 20)
#define MAXSECRETS 16
#define WAIT_MS 10000		/* for all the answers of one input */

static struct agent fz_ag;
static uv_loop_t loop;
static char secrets[MAXSECRETS][2 * 64 + 1];
static size_t nsecrets;
static char lockhex[2 * DEVKEY_LOCKLEN + 1];

static void
secret(const uint8_t *b, size_t n)
{

	FUZZ_MUST(nsecrets < MAXSECRETS && n <= 64);
	kith_hex(b, n, secrets[nsecrets++]);
}

static void
open_home(const char *dir)
{
	const uint32_t *ep;
	size_t n, i;

	fh_reset(dir, NULL, 0);
	FUZZ_MUST(home_open(dir, 0, &fz_ag.hm) == 0 && fz_ag.hm->h != NULL);
	ag_recount(&fz_ag);
	FUZZ_MUST(store_data_version(fz_ag.hm->st, &fz_ag.data_version) == 0);
	if (nsecrets > 0)
		return;
	secret(fz_ag.hm->dk->sign_sk, 64);
	secret(fz_ag.hm->dk->sign_sk, 32);		/* its seed */
	secret(fz_ag.hm->dk->kx_sk, 32);
	secret(fz_ag.hm->dk->store_key, 32);
	hist_epochs(fz_ag.hm->h, &ep, &n);
	for (i = 0; i < n; i++)
		secret(hist_key(fz_ag.hm->h, ep[i]), 32);
}

static void
init(void)
{
	static int done;
	const char *dir;

	if (done)
		return;
	done = 1;
	dir = fh_template();
	FUZZ_MUST(uv_loop_init(&loop) == 0);
	fz_ag.loop = &loop;
	fz_ag.tagwin = 900;
	fz_ag.keepalive = 30;
	snprintf(fz_ag.homedir, sizeof(fz_ag.homedir), "%s", dir);
	snprintf(fz_ag.sockpath, sizeof(fz_ag.sockpath), "%s/ctl.sock", fh_base);
	FUZZ_MUST(uv_timer_init(&loop, &fz_ag.tick) == 0);
	FUZZ_MUST(uv_timer_init(&loop, &fz_ag.commit_tm) == 0);
	FUZZ_MUST((fz_ag.lock = sodium_malloc(DEVKEY_LOCKLEN)) != NULL);
	memset(fz_ag.lock, 0x4c, DEVKEY_LOCKLEN);
	kith_hex(fz_ag.lock, DEVKEY_LOCKLEN, lockhex);
	open_home(dir);
	FUZZ_MUST(ctl_start(&fz_ag) == 0);
}

struct out {
	char *b;
	size_t n, cap;
};

static void
drain(int fd, struct out *o, int *eof)
{
	ssize_t r;

	for (;;) {
		if (o->cap - o->n < 65536) {
			o->cap = o->cap ? 2 * o->cap : 131072;
			FUZZ_MUST((o->b = realloc(o->b, o->cap)) != NULL);
		}
		r = read(fd, o->b + o->n, o->cap - o->n - 1);
		if (r > 0) {
			o->n += (size_t)r;
			continue;
		}
		if (r == 0)
			*eof = 1;
		else
			FUZZ_MUST(errno == EAGAIN || errno == EWOULDBLOCK);
		break;
	}
	o->b[o->n] = '\0';
}

/* The lines of ${o} that are answers, not events. */
static size_t
answers(const struct out *o)
{
	const char *p = o->b, *nl;
	size_t n = 0;
	json_t *j;

	while ((nl = memchr(p, '\n', (size_t)(o->b + o->n - p))) != NULL) {
		FUZZ_MUST((j = json_loadb(p, (size_t)(nl - p), 0, NULL)) !=
		    NULL);
		if (json_object_get(j, "event") == NULL)
			n++;
		json_decref(j);
		p = nl + 1;
	}
	return (n);
}

/* Does ${hay} (length ${n}) hold ${s}? */
static int
holds(const char *hay, size_t n, const char *s)
{
	size_t k = strlen(s), i;

	for (i = 0; i + k <= n; i++)
		if ((hay[i] == s[0] || ((hay[i] | 32) == s[0])) &&
		    strncasecmp(hay + i, s, k) == 0)
			return (1);
	return (0);
}

/* The answer ${a} (a line) to the request ${req} (a line). */
static void
check_answer(const char *req, size_t rlen, const char *a, size_t alen,
    unsigned *subs)
{
	json_t *r, *j, *ok, *err, *id, *op, *ev;
	size_t i;

	FUZZ_MUST(memchr(a, '\n', alen) == NULL);
	FUZZ_MUST((j = json_loadb(a, alen, JSON_REJECT_DUPLICATES, NULL)) !=
	    NULL && json_is_object(j));
	ok = json_object_get(j, "ok");
	FUZZ_MUST(json_is_boolean(ok));
	if (json_is_false(ok)) {
		err = json_object_get(j, "error");
		FUZZ_MUST(json_is_object(err) &&
		    json_is_string(json_object_get(err, "code")) &&
		    json_is_string(json_object_get(err, "message")));
	}
	r = json_loadb(req, rlen, JSON_REJECT_DUPLICATES, NULL);
	if (json_is_object(r) && (id = json_object_get(r, "id")) != NULL)
		FUZZ_MUST(json_equal(id, json_object_get(j, "id")));
	else
		FUZZ_MUST(json_object_get(j, "id") == NULL);
	op = json_is_object(r) ? json_object_get(r, "op") : NULL;
	/* What a subscription took. */
	if (json_is_true(ok) && json_is_string(op) &&
	    strcmp(json_string_value(op), "subscribe") == 0) {
		json_array_foreach(json_object_get(j, "events"), i, ev)
			*subs |= json_is_string(ev) ? 1u : 0u;
	}
	/* The lock key goes to "lockkey" alone. */
	if (!(json_is_true(ok) && json_is_string(op) &&
	    strcmp(json_string_value(op), "lockkey") == 0))
		FUZZ_MUST(!holds(a, alen, lockhex) || holds(req, rlen,
		    lockhex));
	json_decref(r);
	json_decref(j);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_un sun;
	struct out o = { NULL, 0, 0 };
	const uint8_t *p, *nl;
	const char *a, *anl;
	size_t want = 0, off = 0, i, got;
	unsigned subs = 0;
	int fd, eof = 0, waited = 0, flags;
	ssize_t w;

	init();
	if (size > MAXIN)
		return (0);
	/* The answers to wait for: one a non-empty line. */
	for (p = data; (nl = memchr(p, '\n', size - (size_t)(p - data))) !=
	    NULL; p = nl + 1)
		want += nl > p;

	FUZZ_MUST((fd = socket(AF_UNIX, SOCK_STREAM, 0)) != -1);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	FUZZ_MUST(strlen(fz_ag.sockpath) < sizeof(sun.sun_path));
	memcpy(sun.sun_path, fz_ag.sockpath, strlen(fz_ag.sockpath) + 1);
	FUZZ_MUST(connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0);
	flags = fcntl(fd, F_GETFL);
	FUZZ_MUST(fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0);
	for (;;) {
		if (off < size) {
			w = write(fd, data + off, size - off);
			if (w > 0)
				off += (size_t)w;
			else
				FUZZ_MUST(errno == EAGAIN);
		}
		(void)uv_run(&loop, UV_RUN_NOWAIT);
		drain(fd, &o, &eof);
		FUZZ_MUST(!eof);
		if (off == size && (got = answers(&o)) >= want)
			break;
		if (off == size) {
			struct pollfd pf = { fd, POLLIN, 0 };

			/* Let the loop's own clock and poll run. */
			(void)poll(&pf, 1, 1);
			FUZZ_MUST(++waited < WAIT_MS);
		}
	}
	FUZZ_MUST(answers(&o) == want);

	/* Pair each request line with its answer; events between. */
	a = o.b;
	for (p = data; (nl = memchr(p, '\n', size - (size_t)(p - data))) !=
	    NULL; p = nl + 1) {
		json_t *j;

		if (nl == p)
			continue;
		for (;;) {
			FUZZ_MUST((anl = strchr(a, '\n')) != NULL);
			j = json_loadb(a, (size_t)(anl - a), 0, NULL);
			if (json_object_get(j, "event") == NULL)
				break;
			FUZZ_MUST(subs != 0);
			json_decref(j);
			a = anl + 1;
		}
		json_decref(j);
		check_answer((const char *)p, (size_t)(nl - p), a,
		    (size_t)(anl - a), &subs);
		a = anl + 1;
	}
	/* No secret the input did not hold. */
	for (i = 0; i < nsecrets; i++)
		FUZZ_MUST(!holds(o.b, o.n, secrets[i]) ||
		    holds((const char *)data, size, secrets[i]));
	FUZZ_MUST(!holds(o.b, o.n, FH_PASS) ||
	    holds((const char *)data, size, FH_PASS));

	close(fd);
	/* The agent sees the end and frees the client. */
	for (waited = 0; fz_ag.ctl->clients != NULL; waited++) {
		(void)uv_run(&loop, UV_RUN_NOWAIT);
		FUZZ_MUST(waited < WAIT_MS);
		if (fz_ag.ctl->clients != NULL)
			(void)poll(NULL, 0, 1);
	}
	free(o.b);
	home_close(fz_ag.hm);
	fz_ag.hm = NULL;
	open_home(fz_ag.homedir);
	return (0);
}
