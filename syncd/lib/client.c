/*
 * client.c: the public client of the agent's control socket (docs/API.md).
 *
 * Unlike ctlsock.c's ctl_call (the kith command's, which drops events), a
 * kith_client keeps the events that come while it waits for a reply, so
 * that an app that subscribed loses none.  The request goes out as the
 * caller wrote it (re-serialised only when it spans lines) and the reply
 * comes back as the agent wrote it: replies come in the order of the
 * requests and carry "ok", events carry "event" and no "ok", so the next
 * line with "ok" is the reply to the one request in flight.
 *
 * Everything is bounded: one line at most KITH_CLIENT_MAXLINE, the events
 * held at most KITH_CLIENT_MAXQUEUE bytes (the agent itself drops a client
 * that lets 64 MiB pile up).  Nothing here logs: replies may hold keys
 * ("lockkey") and records.
 */
#include <sys/socket.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "ctlsock.h"
#include "home.h"
#include "kith.h"
#include "kith_err.h"
#include "kith_util.h"
#include "libkith_int.h"

struct evq {
	char *line;
	struct evq *next;
};

struct kith_client {
	int fd;			/* -1 once closed */
	char *buf;		/* bytes read, not yet consumed */
	size_t len, cap;
	struct evq *head, *tail;
	size_t qbytes;
};

int
kith_client_open(const char *home, kith_client **out)
{
	char dir[PATH_MAX], path[PATH_MAX];
	kith_client *c;
	int rc, fd;

	if (out == NULL)
		return (KITH_LIB_EINVAL);
	*out = NULL;
	if (sodium_init() < 0)
		return (KITH_LIB_EINTERNAL);
	/* Without create, a missing runtime directory is KITH_EIO: then
	 * no agent made its socket there. */
	if ((rc = home_path(home, dir, sizeof(dir))) != 0 ||
	    (rc = ctl_socket_path(dir, 0, path, sizeof(path))) != 0)
		return (rc == KITH_EIO ? KITH_LIB_ENOTRUNNING : lib_err(rc));
	if ((rc = ctl_dial(path, &fd)) != 0)
		return (lib_err(rc));
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		close(fd);
		return (KITH_LIB_ENOMEM);
	}
	c->fd = fd;
	*out = c;
	return (0);
}

/* The connection is unusable from here on; held events stay readable. */
static void
shut(kith_client *c)
{

	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	free(c->buf);
	c->buf = NULL;
	c->len = c->cap = 0;
}

/* Deadlines are signed: -1 is "forever". */
static int64_t
mono_ms(void)
{

	return ((int64_t)kith_mono_ms());
}

/*
 * The next line, NUL-terminated, without its newline (*${out}, the
 * caller's to free), waiting until ${deadline} (mono_ms; -1: forever).
 * Returns 0, KITH_LIB_ETIMEOUT, or an error after which the connection is
 * shut.
 */
static int
read_line(kith_client *c, int64_t deadline, char **out)
{
	char *nl, *nb, *line;
	size_t used, ncap;
	struct pollfd pfd;
	int64_t left;
	ssize_t k;
	int n;

	for (;;) {
		if (c->fd == -1)
			return (KITH_LIB_ECLOSED);
		if (c->len > 0 && (nl = memchr(c->buf, '\n', c->len)) != NULL) {
			used = (size_t)(nl - c->buf);
			if ((line = malloc(used + 1)) == NULL)
				return (KITH_LIB_ENOMEM);
			memcpy(line, c->buf, used);
			line[used] = '\0';
			memmove(c->buf, nl + 1, c->len - used - 1);
			c->len -= used + 1;
			*out = line;
			return (0);
		}
		if (c->len > KITH_CLIENT_MAXLINE) {
			/* Refuse it: where the next line starts is unknown. */
			shut(c);
			return (KITH_LIB_ETOOBIG);
		}
		if (c->len == c->cap) {
			ncap = c->cap == 0 ? 65536 : c->cap * 2;
			if ((nb = realloc(c->buf, ncap)) == NULL)
				return (KITH_LIB_ENOMEM);
			c->buf = nb;
			c->cap = ncap;
		}
		pfd.fd = c->fd;
		pfd.events = POLLIN;
		left = deadline < 0 ? -1 : deadline - mono_ms();
		if (deadline >= 0 && left < 0)
			left = 0;
		n = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			shut(c);
			return (KITH_LIB_EIO);
		}
		if (n == 0) {
			if (deadline >= 0 && mono_ms() >= deadline)
				return (KITH_LIB_ETIMEOUT);
			continue;
		}
		/* At most one line past the limit is ever read in. */
		ncap = c->cap - c->len;
		if (ncap > KITH_CLIENT_MAXLINE + 1 - c->len)
			ncap = KITH_CLIENT_MAXLINE + 1 - c->len;
		k = recv(c->fd, c->buf + c->len, ncap, 0);
		if (k == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (k <= 0) {
			shut(c);
			return (KITH_LIB_ECLOSED);
		}
		c->len += (size_t)k;
	}
}

/* Is ${line} an event (1), a reply (0), or neither (KITH_LIB_EPROTO)?
 * A reply's "ok" and its error code go to *${ok}, ${code}. */
static int
classify(const char *line, int *ok, char *code, size_t cap)
{
	json_t *o, *v;
	int kind;

	o = json_loads(line, 0, NULL);
	if (!json_is_object(o)) {
		json_decref(o);
		return (KITH_LIB_EPROTO);
	}
	code[0] = '\0';
	if ((v = json_object_get(o, "ok")) != NULL) {
		kind = json_is_boolean(v) ? 0 : KITH_LIB_EPROTO;
		*ok = json_is_true(v);
		v = json_object_get(json_object_get(o, "error"), "code");
		if (json_is_string(v) && strlen(json_string_value(v)) < cap)
			memcpy(code, json_string_value(v),
			    strlen(json_string_value(v)) + 1);
	} else
		kind = json_is_string(json_object_get(o, "event")) ? 1 :
		    KITH_LIB_EPROTO;
	json_decref(o);
	return (kind);
}

static int
enqueue(kith_client *c, char *line)
{
	struct evq *e;
	size_t n = strlen(line) + 1;

	if (c->qbytes + n > KITH_CLIENT_MAXQUEUE) {
		free(line);
		shut(c);
		return (KITH_LIB_ETOOBIG);
	}
	if ((e = malloc(sizeof(*e))) == NULL) {
		free(line);
		return (KITH_LIB_ENOMEM);
	}
	e->line = line;
	e->next = NULL;
	if (c->tail != NULL)
		c->tail->next = e;
	else
		c->head = e;
	c->tail = e;
	c->qbytes += n;
	return (0);
}

static int
send_all(kith_client *c, const char *p, size_t len)
{
	ssize_t k;

	while (len > 0) {
		if ((k = send(c->fd, p, len, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				continue;
			shut(c);
			return (KITH_LIB_ECLOSED);
		}
		p += k;
		len -= (size_t)k;
	}
	return (0);
}

/* The code of a refusal, by the agent's error code (docs/API.md §2). */
static int
refusal(const char *code)
{

	if (strcmp(code, "locked") == 0)
		return (KITH_LIB_ELOCKED);
	if (strcmp(code, "busy") == 0)
		return (KITH_LIB_EBUSY);
	if (strcmp(code, "too_big") == 0)
		return (KITH_LIB_ETOOBIG);
	return (KITH_LIB_EREFUSED);
}

int
kith_client_call(kith_client *c, const char *request_json, char **reply_json)
{
	char *flat = NULL, *line, code[64];
	const char *req;
	size_t len;
	json_t *o;
	int rc, ok;

	if (reply_json != NULL)
		*reply_json = NULL;
	if (c == NULL || request_json == NULL || reply_json == NULL)
		return (KITH_LIB_EINVAL);
	if (c->fd == -1)
		return (KITH_LIB_ECLOSED);
	len = strlen(request_json);
	if (len > KITH_CLIENT_MAXLINE)
		return (KITH_LIB_ETOOBIG);
	/* One JSON object, nothing after it; on one line. */
	o = json_loadb(request_json, len, 0, NULL);
	if (!json_is_object(o)) {
		json_decref(o);
		return (KITH_LIB_EINVAL);
	}
	req = request_json;
	if (memchr(request_json, '\n', len) != NULL ||
	    memchr(request_json, '\r', len) != NULL) {
		flat = json_dumps(o, JSON_COMPACT);
		if (flat == NULL) {
			json_decref(o);
			return (KITH_LIB_ENOMEM);
		}
		req = flat;
		len = strlen(flat);
	}
	json_decref(o);
	if (len > KITH_CLIENT_MAXLINE) {
		free(flat);
		return (KITH_LIB_ETOOBIG);
	}
	rc = send_all(c, req, len);
	if (rc == 0)
		rc = send_all(c, "\n", 1);
	free(flat);
	if (rc != 0)
		return (rc);
	for (;;) {
		if ((rc = read_line(c, -1, &line)) != 0)
			return (rc);
		rc = classify(line, &ok, code, sizeof(code));
		if (rc == 1) {
			if ((rc = enqueue(c, line)) != 0)
				return (rc);
			continue;
		}
		if (rc != 0) {
			free(line);
			shut(c);
			return (rc);
		}
		*reply_json = line;
		return (ok ? 0 : refusal(code));
	}
}

int
kith_client_next_event(kith_client *c, int timeout_ms, char **event_json)
{
	struct evq *e;
	char *line, code[64];
	int64_t deadline;
	int rc, ok;

	if (event_json != NULL)
		*event_json = NULL;
	if (c == NULL || event_json == NULL || timeout_ms < -1)
		return (KITH_LIB_EINVAL);
	if ((e = c->head) != NULL) {
		if ((c->head = e->next) == NULL)
			c->tail = NULL;
		c->qbytes -= strlen(e->line) + 1;
		*event_json = e->line;
		free(e);
		return (0);
	}
	deadline = timeout_ms < 0 ? -1 : mono_ms() + timeout_ms;
	if ((rc = read_line(c, deadline, &line)) != 0)
		return (rc);
	rc = classify(line, &ok, code, sizeof(code));
	if (rc != 1) {
		/* A reply with no request in flight. */
		free(line);
		shut(c);
		return (KITH_LIB_EPROTO);
	}
	*event_json = line;
	return (0);
}

int
kith_client_fd(const kith_client *c)
{

	return (c == NULL ? -1 : c->fd);
}

void
kith_client_close(kith_client *c)
{
	struct evq *e;

	if (c == NULL)
		return;
	shut(c);
	while ((e = c->head) != NULL) {
		c->head = e->next;
		free(e->line);
		free(e);
	}
	free(c);
}
