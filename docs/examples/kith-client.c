/*
 * kith-client: a small client of the kithd control socket, as an example
 * for docs/API.md.
 *
 *   kith-client [-s SOCKET] [--json] status
 *   kith-client [-s SOCKET] [--json] append JSON | -
 *   kith-client [-s SOCKET] read [--service S] [--since MS] [--until MS]
 *                                [--limit N]
 *   kith-client [-s SOCKET] subscribe [EVENT...]
 *
 * The socket is -s SOCKET, else $KITH_SOCKET, else the socket of the
 * default home (docs/API.md, section 1).
 *
 * The protocol is JSON lines over a Unix stream socket: the client writes
 * one JSON object and a newline per request, and the agent answers each
 * request, in order, with one line that echoes the request's "id".  After
 * "subscribe", event lines (with "event" and no "id") come on the same
 * connection as things happen.  Everything below is plain POSIX sockets and
 * jansson; the client does not need any part of kith to build:
 *
 *   cc -std=c11 -o kith-client kith-client.c $(pkg-config --cflags --libs jansson)
 *
 * What a real client must get right, and this one shows:
 *   - a line can arrive in many pieces, or several lines in one read(): keep
 *     a buffer and cut it at newlines;
 *   - lines can be long (a record is up to 16 MiB), so the buffer grows, up
 *     to a bound that protects the client from a broken agent;
 *   - write() can be partial too, and a closed socket must give an error,
 *     not kill the process with SIGPIPE;
 *   - every response says "ok"; when it is false, "error" holds a "code" a
 *     program can test and a "message" a person can read.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

/*
 * The longest line we accept from the agent.  Requests are bounded by the
 * API (32 MiB), and an event carries one record (at most 16 MiB); but a
 * "read" page holds up to "limit" records, so we ask for small pages
 * (READ_PAGE) and still allow for large ones.
 */
#define MAX_LINE	((size_t)1 << 30)
#define READ_PAGE	100

/* One connection to the agent, with its receive buffer. */
struct conn {
	int fd;
	char *buf;		/* received bytes; buf[off..len) not yet used */
	size_t off;
	size_t len;
	size_t cap;
	size_t scanned;		/* buf[off..scanned) holds no newline */
	json_int_t next_id;	/* id of our next request */
};

static int json_out;		/* --json: print responses as JSON */

static _Noreturn void
die(const char *fmt, ...)
{
	va_list ap;

	fputs("kith-client: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void
usage(void)
{

	fprintf(stderr,
	    "usage: kith-client [-s SOCKET] [--json] status\n"
	    "       kith-client [-s SOCKET] [--json] append JSON | -\n"
	    "       kith-client [-s SOCKET] read [--service S] [--since MS]"
	    " [--until MS] [--limit N]\n"
	    "       kith-client [-s SOCKET] subscribe [EVENT...]\n"
	    "The socket is -s SOCKET, else $KITH_SOCKET, else the default"
	    " home's.\n");
	exit(2);
}

/*
 * The socket of the default home, following docs/API.md section 1:
 * RUNDIR/kith/kithd.sock, where RUNDIR is $XDG_RUNTIME_DIR, else
 * /run/user/UID if it is ours, else /tmp/kith-UID.  (The socket of any
 * other home is named after a BLAKE2b hash of its path; for those, take
 * the path from 'kith --home DIR status --json', "agent.socket".)
 */
static char *
default_socket(void)
{
	static char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char rundir[256];
	const char *x;
	struct stat sb;
	int n;

	if (getenv("KITH_HOME") != NULL)
		die("KITH_HOME names a home of its own, whose socket this"
		    " client cannot work out: pass -s with the path that"
		    " 'kith status --json' prints as agent.socket");
	if ((x = getenv("XDG_RUNTIME_DIR")) != NULL && x[0] != '\0')
		n = snprintf(rundir, sizeof(rundir), "%s", x);
	else {
		n = snprintf(rundir, sizeof(rundir), "/run/user/%ju",
		    (uintmax_t)getuid());
		if (stat(rundir, &sb) != 0 || !S_ISDIR(sb.st_mode) ||
		    sb.st_uid != getuid())
			n = snprintf(rundir, sizeof(rundir), "/tmp/kith-%ju",
			    (uintmax_t)getuid());
	}
	if (n < 0 || (size_t)n >= sizeof(rundir) ||
	    (size_t)snprintf(path, sizeof(path), "%s/kith/kithd.sock",
	    rundir) >= sizeof(path))
		die("the socket path under %s is too long; use -s SOCKET",
		    rundir);
	return (path);
}

static void
conn_open(struct conn *c, const char *path)
{
	struct sockaddr_un sun;

	memset(c, 0, sizeof(*c));
	c->next_id = 1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		die("socket path too long (at most %zu bytes): %s",
		    sizeof(sun.sun_path) - 1, path);
	strcpy(sun.sun_path, path);
	if ((c->fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		die("socket: %s", strerror(errno));
	if (connect(c->fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
		return;
	if (errno == ENOENT || errno == ECONNREFUSED)
		die("no agent answers at %s: is kithd running for this home?"
		    " ('kith status' shows the agent and its socket)", path);
	die("cannot connect to %s: %s", path, strerror(errno));
}

static void
conn_close(struct conn *c)
{

	close(c->fd);
	free(c->buf);
}

/* Write all of buf[0..len), however many calls it takes. */
static void
conn_write(struct conn *c, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		/* MSG_NOSIGNAL: a closed socket is EPIPE, not SIGPIPE. */
		n = send(c->fd, buf, len, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			die("cannot write to the agent: %s", strerror(errno));
		buf += n;
		len -= (size_t)n;
	}
}

/*
 * The next line from the agent, without its newline and NUL-terminated, in
 * *line (valid until the next call) and *len.  Returns 0 at a clean end of
 * the connection (between lines); anything else that goes wrong is fatal.
 */
static int
conn_read_line(struct conn *c, char **line, size_t *len)
{
	char *nl, *nb;
	size_t ncap;
	ssize_t n;

	for (;;) {
		/* A whole line in the buffer?  Look only at new bytes. */
		nl = c->len > c->scanned ? memchr(c->buf + c->scanned, '\n',
		    c->len - c->scanned) : NULL;
		if (nl != NULL) {
			*nl = '\0';
			*line = c->buf + c->off;
			*len = (size_t)(nl - *line);
			c->off = c->scanned = (size_t)(nl - c->buf) + 1;
			return (1);
		}
		c->scanned = c->len;
		if (c->len - c->off > MAX_LINE)
			die("the agent sent a line longer than %zu bytes",
			    MAX_LINE);

		/* Make room: move the partial line to the front, or grow. */
		if (c->off > 0) {
			memmove(c->buf, c->buf + c->off, c->len - c->off);
			c->len -= c->off;
			c->scanned -= c->off;
			c->off = 0;
		}
		if (c->cap - c->len < 4096) {
			ncap = c->cap == 0 ? 65536 : c->cap * 2;
			if ((nb = realloc(c->buf, ncap)) == NULL)
				die("out of memory for a line of %zu bytes",
				    c->len);
			c->buf = nb;
			c->cap = ncap;
		}

		/* One read: whatever has arrived, perhaps part of a line. */
		n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			die("cannot read from the agent: %s", strerror(errno));
		if (n == 0) {
			if (c->len > c->off)
				die("the agent closed the connection in the"
				    " middle of a line");
			return (0);
		}
		c->len += (size_t)n;
	}
}

/* Member ${key} of ${o} as a string, or "?" if it is not one. */
static const char *
str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return (s != NULL ? s : "?");
}

/* Member ${key} of ${o} as an integer, or 0. */
static json_int_t
num(json_t *o, const char *key)
{

	return (json_integer_value(json_object_get(o, key)));
}

/* Parse one line; every line from the agent is one JSON object. */
static json_t *
parse_line(const char *line, size_t len)
{
	json_error_t err;
	json_t *o;

	if ((o = json_loadb(line, len, 0, &err)) == NULL ||
	    !json_is_object(o))
		die("the agent sent a line that is not a JSON object (%s)",
		    o == NULL ? err.text : "another JSON value");
	return (o);
}

/*
 * Send the request ${req} (which this function takes over: the caller
 * must not use it afterwards) and return its response.  Event lines that
 * come before the response are printed, so that nothing is lost.  A
 * response with "ok": false ends the program with its error.
 */
static json_t *
conn_call(struct conn *c, json_t *req)
{
	json_int_t id = c->next_id++;
	json_t *resp, *err;
	char *text, *line, op[32];
	size_t len;

	snprintf(op, sizeof(op), "%s", str(req, "op"));

	/* Compact JSON never holds a raw newline: one request, one line. */
	json_object_set_new(req, "id", json_integer(id));
	if ((text = json_dumps(req, JSON_COMPACT)) == NULL)
		die("out of memory");
	conn_write(c, text, strlen(text));
	conn_write(c, "\n", 1);
	free(text);
	json_decref(req);

	for (;;) {
		if (conn_read_line(c, &line, &len) == 0)
			die("the agent closed the connection before"
			    " answering");
		resp = parse_line(line, len);
		if (json_object_get(resp, "event") != NULL) {
			printf("%s\n", line);
			json_decref(resp);
			continue;
		}
		if (json_integer_value(json_object_get(resp, "id")) == id)
			break;
		die("the agent answered a request we did not send");
	}
	if (!json_is_true(json_object_get(resp, "ok"))) {
		err = json_object_get(resp, "error");
		die("%s refused: %s [%s]", op, str(err, "message"),
		    str(err, "code"));
	}
	return (resp);
}

/* Print ${o} on one line, as the agent sent it. */
static void
print_json(json_t *o)
{

	if (json_dumpf(o, stdout, JSON_COMPACT) != 0 || putchar('\n') == EOF)
		die("cannot write to standard output");
}

static int
cmd_status(struct conn *c, int argc, char **argv)
{
	json_t *r, *dev, *peers, *p;
	size_t i;

	(void)argv;
	if (argc != 1)
		usage();
	r = conn_call(c, json_pack("{s:s}", "op", "status"));
	if (json_out) {
		print_json(r);
		json_decref(r);
		return (0);
	}
	dev = json_object_get(r, "device");
	printf("device   %s (%s)\n", str(dev, "name"), str(dev, "id"));
	printf("account  %s\n", str(r, "account"));
	printf("roster   version %" JSON_INTEGER_FORMAT "\n",
	    num(r, "roster_version"));
	printf("history  %" JSON_INTEGER_FORMAT " records, %"
	    JSON_INTEGER_FORMAT " bytes\n", num(r, "records"), num(r, "bytes"));
	printf("socket   %s\n", str(r, "socket"));
	peers = json_object_get(r, "peers");
	printf("peers    %zu\n", json_array_size(peers));
	json_array_foreach(peers, i, p)
		printf("  %-16s %-22s %-3s %-9s sent %" JSON_INTEGER_FORMAT
		    ", received %" JSON_INTEGER_FORMAT "\n", str(p, "name"),
		    str(p, "addr"), str(p, "direction"), str(p, "state"),
		    num(p, "sent"), num(p, "received"));
	json_decref(r);
	return (0);
}

/*
 * append JSON: one record (an object) or several (an array, stored all or
 * nothing).  "-" reads the JSON from standard input, which is the way to
 * append a record longer than a command-line argument may be.
 */
static int
cmd_append(struct conn *c, int argc, char **argv)
{
	json_error_t err;
	json_t *v, *r;

	if (argc != 2)
		usage();
	if (strcmp(argv[1], "-") == 0)
		v = json_loadf(stdin, 0, &err);
	else
		v = json_loads(argv[1], 0, &err);
	if (v == NULL)
		die("append: not JSON: %s (line %d, column %d)", err.text,
		    err.line, err.column);
	if (!json_is_object(v) && !json_is_array(v))
		die("append: a record is a JSON object, several an array");

	/* "O": the request takes a reference of its own to v. */
	r = conn_call(c, json_pack("{s:s, s:O}", "op", "append",
	    json_is_object(v) ? "record" : "records", v));
	if (json_out)
		print_json(r);
	else if (json_is_object(v) && json_is_true(json_object_get(r, "added")))
		printf("added: origin %s, seq %" JSON_INTEGER_FORMAT "\n",
		    str(r, "origin"), num(r, "seq"));
	else if (json_is_object(v))
		printf("already held\n");
	else
		printf("%" JSON_INTEGER_FORMAT " added, %" JSON_INTEGER_FORMAT
		    " already held\n", num(r, "stored"), num(r, "held"));
	json_decref(r);
	json_decref(v);
	return (0);
}

/* The value of option ${opt}: a number from 0 up. */
static long long
opt_num(const char *opt, const char *s)
{
	long long v;
	char *end;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 0)
		die("%s wants a number from 0 up, not '%s'", opt, s);
	return (v);
}

/*
 * read: print records, one JSON object per line (as 'kith history export'
 * does), following the cursor from page to page until --limit records are
 * printed or the history ends.
 */
static int
cmd_read(struct conn *c, int argc, char **argv)
{
	const char *service = NULL, *cursor_arg;
	json_int_t since = -1, until = -1;
	long long limit = -1, done = 0, page;
	json_t *req, *r, *recs, *rec, *cursor = json_null();
	size_t i;
	int k;

	for (k = 1; k + 1 < argc; k += 2) {
		if (strcmp(argv[k], "--service") == 0)
			service = argv[k + 1];
		else if (strcmp(argv[k], "--since") == 0)
			since = opt_num(argv[k], argv[k + 1]);
		else if (strcmp(argv[k], "--until") == 0)
			until = opt_num(argv[k], argv[k + 1]);
		else if (strcmp(argv[k], "--limit") == 0)
			limit = opt_num(argv[k], argv[k + 1]);
		else
			usage();
	}
	if (k != argc)
		usage();

	while (limit < 0 || done < limit) {
		page = limit < 0 || limit - done > READ_PAGE ? READ_PAGE :
		    limit - done;
		req = json_pack("{s:s, s:I}", "op", "read", "limit",
		    (json_int_t)page);
		if (service != NULL)
			json_object_set_new(req, "service",
			    json_string(service));
		if (since >= 0)
			json_object_set_new(req, "since", json_integer(since));
		if (until >= 0)
			json_object_set_new(req, "until", json_integer(until));
		if (!json_is_null(cursor))
			json_object_set(req, "cursor", cursor);
		json_decref(cursor);

		r = conn_call(c, req);
		recs = json_object_get(r, "records");
		json_array_foreach(recs, i, rec)
			print_json(json_object_get(rec, "record"));
		done += (long long)json_array_size(recs);

		/* The cursor of the last page is null. */
		cursor = json_incref(json_object_get(r, "cursor"));
		cursor_arg = json_string_value(cursor);
		json_decref(r);
		if (cursor_arg == NULL)
			break;
	}
	json_decref(cursor);
	if (fflush(stdout) != 0)
		die("cannot write to standard output");
	return (0);
}

/*
 * subscribe [EVENT...]: print every event line as it comes, until the agent
 * goes away (or we are interrupted).  Events are printed as the agent sent
 * them, and flushed at once, so that a pipe sees each one when it happens.
 */
static int
cmd_subscribe(struct conn *c, int argc, char **argv)
{
	json_t *req, *names, *r;
	char *line, *list;
	size_t len;
	int k;

	req = json_pack("{s:s}", "op", "subscribe");
	if (argc > 1) {
		names = json_array();
		for (k = 1; k < argc; k++)
			json_array_append_new(names, json_string(argv[k]));
		json_object_set_new(req, "events", names);
	}
	r = conn_call(c, req);
	list = json_dumps(json_object_get(r, "events"), JSON_COMPACT |
	    JSON_ENCODE_ANY);
	fprintf(stderr, "kith-client: subscribed to %s\n",
	    list != NULL ? list : "?");
	free(list);
	json_decref(r);
	fflush(stdout);

	while (conn_read_line(c, &line, &len) == 1) {
		if (fwrite(line, 1, len, stdout) != len ||
		    putchar('\n') == EOF || fflush(stdout) != 0)
			die("cannot write to standard output");
	}
	die("the agent closed the connection (did kithd stop?)");
	return (1);
}

static const struct {
	const char *name;
	int (*fn)(struct conn *, int, char **);
} commands[] = {
	{ "status", cmd_status },
	{ "append", cmd_append },
	{ "read", cmd_read },
	{ "subscribe", cmd_subscribe },
};

int
main(int argc, char **argv)
{
	const char *path = NULL;
	struct conn c;
	size_t i;
	int k, rc;

	for (k = 1; k < argc && argv[k][0] == '-'; k++) {
		if ((strcmp(argv[k], "-s") == 0 ||
		    strcmp(argv[k], "--socket") == 0) && k + 1 < argc)
			path = argv[++k];
		else if (strcmp(argv[k], "--json") == 0)
			json_out = 1;
		else
			usage();
	}
	if (k == argc)
		usage();
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[k], commands[i].name) == 0)
			break;
	if (i == sizeof(commands) / sizeof(commands[0]))
		usage();

	if (path == NULL && (path = getenv("KITH_SOCKET")) == NULL)
		path = default_socket();
	conn_open(&c, path);
	rc = commands[i].fn(&c, argc - k, argv + k);
	conn_close(&c);
	return (rc);
}
