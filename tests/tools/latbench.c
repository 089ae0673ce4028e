/*
 * latbench [-n N] [-w W] [-r OP] SOCKET_A SOCKET_B: how long a record appended on
 * one device takes to reach another device's client, next to the round
 * trip of a trivial request on the local socket, measured in the same run.
 *
 * It subscribes to "record" events on agent B, then N times appends a
 * record (service "bench", an id unique to this run) on agent A and waits
 * both for A's answer and for the record's event on B.  Each sample runs
 * from just before the append is written to A until the read on B that
 * completes the event's line returns.  Both agents run on this machine
 * (in different network namespaces), so one CLOCK_MONOTONIC serves.
 *
 * The reference: N round trips of {"op":"count"} (or -r OP, any request
 * without fields) on A's socket, from just before the write until the
 * response's line has been read.  Mind that "count" scans the history
 * (about 0.14 us a record here): its round trip grows with the history.
 *
 * W warm-up iterations of each (default 10) are run first and not counted.
 * Percentiles are nearest-rank.  Prints, in milliseconds:
 *
 *   propagation_ms n=N median=.. p90=.. p99=.. max=..
 *   count_rtt_ms n=N median=.. p90=.. p99=.. max=..     (OP_rtt_ms)
 *   ratio median=.. p90=.. p99=.. max=..
 *
 * Fails (exit 1) with a message if an answer or an event takes more than
 * 10 s, or if an agent refuses a request.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#define TIMEOUT_NS	(10 * 1000000000ull)
#define MAX_LINE	(64u << 20)

struct conn {
	const char *name;	/* "A" or "B", for messages */
	const char *path;
	int fd;
	char *buf;		/* buf[off..len): received, not yet used */
	size_t off, len, cap, scanned;
	uint64_t t_read;	/* when the last recv() returned */
};

static void
die(const char *fmt, ...)
{
	va_list ap;

	fputs("latbench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
}

static void
conn_open(struct conn *c, const char *name, const char *path)
{
	struct sockaddr_un sun;

	memset(c, 0, sizeof(*c));
	c->name = name;
	c->path = path;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		die("%s: socket path too long", path);
	memcpy(sun.sun_path, path, strlen(path));
	if ((c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(c->fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		die("cannot connect to agent %s at %s: %s", name, path,
		    strerror(errno));
}

static void
conn_write(struct conn *c, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = send(c->fd, p, n, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				continue;
			die("writing to agent %s: %s", c->name,
			    strerror(errno));
		}
		p += w;
		n -= (size_t)w;
	}
}

/*
 * The next complete line already received on ${c}, NUL-terminated in place
 * (valid until the next conn_fill), or NULL.
 */
static char *
conn_line(struct conn *c)
{
	char *nl, *line;

	if (c->len == c->scanned || (nl = memchr(c->buf + c->scanned, '\n',
	    c->len - c->scanned)) == NULL) {
		c->scanned = c->len;
		return (NULL);
	}
	*nl = '\0';
	line = c->buf + c->off;
	c->off = c->scanned = (size_t)(nl - c->buf) + 1;
	return (line);
}

/* One recv() into ${c}'s buffer; stamps c->t_read.  Dies at EOF. */
static void
conn_fill(struct conn *c)
{
	ssize_t n;
	char *nb;

	if (c->off > 0) {
		memmove(c->buf, c->buf + c->off, c->len - c->off);
		c->len -= c->off;
		c->scanned -= c->off;
		c->off = 0;
	}
	if (c->len > MAX_LINE)
		die("agent %s sent a line longer than %u bytes", c->name,
		    MAX_LINE);
	if (c->cap - c->len < 65536) {
		c->cap = c->cap == 0 ? 262144 : c->cap * 2;
		if ((nb = realloc(c->buf, c->cap)) == NULL)
			die("out of memory");
		c->buf = nb;
	}
	do
		n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
	while (n == -1 && errno == EINTR);
	c->t_read = now_ns();
	if (n == -1)
		die("reading from agent %s: %s", c->name, strerror(errno));
	if (n == 0)
		die("agent %s closed the connection", c->name);
	c->len += (size_t)n;
}

/*
 * Wait until one of ${c}[0..n) has data, or ${deadline} passes; returns
 * the index of a readable one, or -1 on timeout.
 */
static int
wait_any(struct conn **c, int n, uint64_t deadline)
{
	struct pollfd pfd[2];
	uint64_t t;
	int i, r;

	for (;;) {
		if ((t = now_ns()) >= deadline)
			return (-1);
		for (i = 0; i < n; i++) {
			pfd[i].fd = c[i]->fd;
			pfd[i].events = POLLIN;
		}
		r = poll(pfd, (nfds_t)n, (int)((deadline - t) / 1000000 + 1));
		if (r == -1 && errno != EINTR)
			die("poll: %s", strerror(errno));
		for (i = 0; r > 0 && i < n; i++)
			if (pfd[i].revents != 0)
				return (i);
	}
}

static json_t *
parse(struct conn *c, const char *line)
{
	json_error_t err;
	json_t *o;

	if ((o = json_loads(line, 0, &err)) == NULL || !json_is_object(o))
		die("agent %s sent a line that is not a JSON object: %.200s",
		    c->name, line);
	return (o);
}

/* Is ${o} the answer to request ${id}?  Dies if it is a refusal. */
static int
is_answer(struct conn *c, json_t *o, json_int_t id, const char *op)
{
	json_t *e;

	if (json_object_get(o, "event") != NULL)
		return (0);
	if (json_integer_value(json_object_get(o, "id")) != id)
		die("agent %s answered request %" JSON_INTEGER_FORMAT
		    " while %" JSON_INTEGER_FORMAT " was expected", c->name,
		    json_integer_value(json_object_get(o, "id")), id);
	if (!json_is_true(json_object_get(o, "ok"))) {
		e = json_object_get(o, "error");
		die("agent %s refused %s: %s: %s", c->name, op,
		    json_string_value(json_object_get(e, "code")),
		    json_string_value(json_object_get(e, "message")));
	}
	return (1);
}

/* Send ${req} on ${c} and wait for its answer (events are dropped). */
static void
call(struct conn *c, const char *req, json_int_t id, const char *op)
{
	uint64_t deadline = now_ns() + TIMEOUT_NS;
	struct conn *one[1] = { c };
	char *line;
	json_t *o;
	int done = 0;

	conn_write(c, req, strlen(req));
	while (!done) {
		while (!done && (line = conn_line(c)) != NULL) {
			o = parse(c, line);
			done = is_answer(c, o, id, op);
			json_decref(o);
		}
		if (done)
			break;
		if (wait_any(one, 1, deadline) < 0)
			die("agent %s did not answer %s within 10 s", c->name,
			    op);
		conn_fill(c);
	}
}

/*
 * One propagation sample: append record ${seq} of run ${run} on ${a}, and
 * wait for A's answer and B's event.  Returns the time from just before
 * the write to the read that completed the event's line, in ns.
 */
static uint64_t
propagate(struct conn *a, struct conn *b, const char *run, json_int_t seq,
    json_int_t reqid)
{
	struct conn *both[2] = { a, b };
	char id[64], req[256], *line;
	const char *rs, *ri;
	uint64_t t0, t_event = 0, deadline;
	struct timespec rt;
	json_t *o, *rec;
	int answered = 0, i;

	snprintf(id, sizeof(id), "%s-%" JSON_INTEGER_FORMAT, run, seq);
	clock_gettime(CLOCK_REALTIME, &rt);
	snprintf(req, sizeof(req), "{\"id\":%" JSON_INTEGER_FORMAT ",\"op\":"
	    "\"append\",\"record\":{\"service\":\"bench\",\"id\":\"%s\","
	    "\"time\":%lld}}\n", reqid, id,
	    (long long)rt.tv_sec * 1000 + rt.tv_nsec / 1000000);

	t0 = now_ns();
	conn_write(a, req, strlen(req));
	deadline = t0 + TIMEOUT_NS;
	while (!answered || t_event == 0) {
		if ((i = wait_any(both, 2, deadline)) < 0)
			die("record %s: %s within 10 s of the append", id,
			    answered ? "no event on B" :
			    t_event != 0 ? "no answer from A" :
			    "no answer from A and no event on B");
		conn_fill(both[i]);
		while ((line = conn_line(both[i])) != NULL) {
			o = parse(both[i], line);
			if (i == 0) {
				answered |= is_answer(a, o, reqid, "append");
			} else if ((rec = json_object_get(o, "record")) !=
			    NULL && (rs = json_string_value(json_object_get(
			    rec, "service"))) != NULL &&
			    (ri = json_string_value(json_object_get(rec,
			    "id"))) != NULL && strcmp(rs, "bench") == 0 &&
			    strcmp(ri, id) == 0) {
				/* Not a line read earlier: our own read. */
				t_event = b->t_read;
			}
			json_decref(o);
		}
	}
	return (t_event - t0);
}

/* One reference sample: a round trip of request ${op} on ${a}, in ns. */
static uint64_t
ref_rtt(struct conn *a, const char *op, json_int_t reqid)
{
	char req[128];
	uint64_t t0;

	snprintf(req, sizeof(req), "{\"id\":%" JSON_INTEGER_FORMAT
	    ",\"op\":\"%s\"}\n", reqid, op);
	t0 = now_ns();
	call(a, req, reqid, op);
	return (a->t_read - t0);
}

static int
cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return (a < b ? -1 : a > b);
}

/* Nearest-rank percentile ${p} (0 < p <= 100) of sorted ${v}[0..n). */
static double
pct_ms(const uint64_t *v, size_t n, unsigned p)
{
	size_t k = (n * p + 99) / 100;

	return ((double)v[k > 0 ? k - 1 : 0] / 1e6);
}

static void
report(const char *label, uint64_t *v, size_t n, double out[4])
{

	qsort(v, n, sizeof(*v), cmp_u64);
	out[0] = pct_ms(v, n, 50);
	out[1] = pct_ms(v, n, 90);
	out[2] = pct_ms(v, n, 99);
	out[3] = pct_ms(v, n, 100);
	printf("%s n=%zu median=%.3f p90=%.3f p99=%.3f max=%.3f\n", label, n,
	    out[0], out[1], out[2], out[3]);
}

int
main(int argc, char **argv)
{
	struct conn a, b;
	uint64_t *prop, *rtt;
	double sp[4], sr[4];
	char run[64], req[128], label[64];
	const char *op = "count";
	json_int_t reqid = 1;
	long n = 1000, w = 10, i;
	int opt;

	while ((opt = getopt(argc, argv, "n:w:r:")) != -1) {
		if (opt == 'n')
			n = strtol(optarg, NULL, 10);
		else if (opt == 'w')
			w = strtol(optarg, NULL, 10);
		else if (opt == 'r')
			op = optarg;
		else
			goto usage;
	}
	if (argc - optind != 2 || n < 1 || w < 0 ||
	    strspn(op, "abcdefghijklmnopqrstuvwxyz_") != strlen(op))
		goto usage;
	if ((prop = calloc((size_t)n, sizeof(*prop))) == NULL ||
	    (rtt = calloc((size_t)n, sizeof(*rtt))) == NULL)
		die("out of memory");
	conn_open(&a, "A", argv[optind]);
	conn_open(&b, "B", argv[optind + 1]);

	/* An id that no earlier run used: the records stay in the history. */
	snprintf(run, sizeof(run), "lat-%jx-%ld", (uintmax_t)now_ns(),
	    (long)getpid());

	snprintf(req, sizeof(req), "{\"id\":%" JSON_INTEGER_FORMAT ",\"op\":"
	    "\"subscribe\",\"events\":[\"record\"]}\n", reqid);
	call(&b, req, reqid, "subscribe");
	reqid++;

	/* Record ids run-0 .. run-(W-1) warm up; the next N are measured. */
	for (i = 0; i < w; i++, reqid++)
		(void)propagate(&a, &b, run, i, reqid);
	for (i = 0; i < n; i++, reqid++)
		prop[i] = propagate(&a, &b, run, w + i, reqid);
	for (i = 0; i < w; i++, reqid++)
		(void)ref_rtt(&a, op, reqid);
	for (i = 0; i < n; i++, reqid++)
		rtt[i] = ref_rtt(&a, op, reqid);

	printf("run=%s appends=%ld warmup=%ld\n", run, n, w);
	report("propagation_ms", prop, (size_t)n, sp);
	snprintf(label, sizeof(label), "%s_rtt_ms", op);
	report(label, rtt, (size_t)n, sr);
	printf("ratio median=%.1f p90=%.1f p99=%.1f max=%.1f\n",
	    sp[0] / sr[0], sp[1] / sr[1], sp[2] / sr[2], sp[3] / sr[3]);
	free(prop);
	free(rtt);
	close(a.fd);
	close(b.fd);
	free(a.buf);
	free(b.buf);
	return (0);

usage:
	fprintf(stderr, "usage: latbench [-n N] [-w WARMUP] [-r OP] SOCKET_A"
	    " SOCKET_B\n");
	return (2);
}
