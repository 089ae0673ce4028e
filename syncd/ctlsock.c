#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "ctlsock.h"
#include "home.h"
#include "kith_err.h"
#include "kith_util.h"

/* A directory of ours that nobody else may enter, made if asked. */
static int
private_dir(const char *dir, int create)
{
	struct stat sb;

	if (lstat(dir, &sb) == -1) {
		if (errno != ENOENT || !create)
			return (KITH_EIO);
		if (mkdir(dir, 0700) == -1 && errno != EEXIST)
			return (KITH_EIO);
		if (lstat(dir, &sb) == -1)
			return (KITH_EIO);
	}
	if (!S_ISDIR(sb.st_mode) || sb.st_uid != geteuid() ||
	    (sb.st_mode & 077) != 0)
		return (KITH_EPERM);
	return (0);
}

static int
run_dir(int create, char *out, size_t cap)
{
	const char *x = getenv("XDG_RUNTIME_DIR");
	struct stat sb;
	int n;

	if (x != NULL && x[0] == '/')
		n = snprintf(out, cap, "%s", x);
	else {
		n = snprintf(out, cap, "/run/user/%u", (unsigned)geteuid());
		if (n > 0 && (size_t)n < cap && (stat(out, &sb) == -1 ||
		    sb.st_uid != geteuid())) {
			n = snprintf(out, cap, "/tmp/kith-%u",
			    (unsigned)geteuid());
			if (n > 0 && (size_t)n < cap)
				return (private_dir(out, create));
		}
	}
	return (n > 0 && (size_t)n < cap ? 0 : KITH_ETOOBIG);
}

int
ctl_socket_path(const char *homedir, int create, char *out, size_t cap)
{
	const char *env = getenv("KITH_SOCKET");
	char rd[PATH_MAX], abs[PATH_MAX], def[PATH_MAX], defabs[PATH_MAX];
	char dir[PATH_MAX + 8], hex[17];
	uint8_t h[32];
	int n, rc, isdef;

	if (env != NULL && env[0] != '\0') {
		n = snprintf(out, cap, "%s", env);
		return (n > 0 && (size_t)n < cap &&
		    (size_t)n < sizeof(((struct sockaddr_un *)0)->sun_path) ?
		    0 : KITH_ETOOBIG);
	}
	if ((rc = run_dir(create, rd, sizeof(rd))) != 0)
		return (rc);
	n = snprintf(dir, sizeof(dir), "%s/kith", rd);
	if (n < 0 || (size_t)n >= sizeof(dir))
		return (KITH_ETOOBIG);
	if ((rc = private_dir(dir, create)) != 0 && (create || rc != KITH_EIO))
		return (rc);
	if (realpath(homedir, abs) == NULL)
		snprintf(abs, sizeof(abs), "%s", homedir);
	/* The default home has the plain name; others a hash of their path. */
	isdef = 0;
	if (home_path_default(def, sizeof(def)) == 0 &&
	    realpath(def, defabs) != NULL)
		isdef = strcmp(defabs, abs) == 0;
	if (isdef)
		n = snprintf(out, cap, "%s/kithd.sock", dir);
	else {
		crypto_generichash(h, sizeof(h), (const uint8_t *)abs,
		    strlen(abs), NULL, 0);
		kith_hex(h, 8, hex);
		n = snprintf(out, cap, "%s/kithd-%s.sock", dir, hex);
	}
	if (n < 0 || (size_t)n >= cap ||
	    (size_t)n >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return (KITH_ETOOBIG);
	return (0);
}

struct ctl_client {
	int fd;
	long long next_id;
	char *buf;		/* bytes read, not yet consumed */
	size_t len, cap;
};

int
ctl_dial(const char *path, int *fd)
{
	struct sockaddr_un sa;
	int rc;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path))
		return (KITH_ETOOBIG);
	strcpy(sa.sun_path, path);
	if ((*fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return (KITH_EIO);
	if (connect(*fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		rc = errno == EACCES || errno == EPERM ? KITH_EPERM :
		    KITH_ENOENT;
		close(*fd);
		*fd = -1;
		return (rc);
	}
	return (0);
}

int
ctl_connect(const char *path, ctl_client **out)
{
	ctl_client *c;
	int fd, rc;

	if ((rc = ctl_dial(path, &fd)) != 0)
		return (rc == KITH_EPERM ? KITH_ENOENT : rc);
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		close(fd);
		return (KITH_ENOMEM);
	}
	c->fd = fd;
	c->next_id = 1;
	*out = c;
	return (0);
}

static int
write_all(int fd, const char *p, size_t len)
{
	ssize_t k;

	while (len > 0) {
		if ((k = send(fd, p, len, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				continue;
			return (KITH_ECLOSED);
		}
		p += k;
		len -= (size_t)k;
	}
	return (0);
}

/* The next line (without its newline) as a JSON object. */
static int
read_obj(ctl_client *c, json_t **out)
{
	char *nl, *nb;
	size_t used, ncap;
	ssize_t k;
	json_t *o;

	for (;;) {
		if (c->len > 0 && (nl = memchr(c->buf, '\n', c->len)) != NULL) {
			used = (size_t)(nl - c->buf);
			o = json_loadb(c->buf, used, 0, NULL);
			memmove(c->buf, nl + 1, c->len - used - 1);
			c->len -= used + 1;
			if (!json_is_object(o)) {
				json_decref(o);
				return (KITH_EPROTO);
			}
			*out = o;
			return (0);
		}
		if (c->len == c->cap) {
			if (c->cap >= CTL_MAXLINE * 2)
				return (KITH_EPROTO);
			ncap = c->cap == 0 ? 65536 : c->cap * 2;
			if ((nb = realloc(c->buf, ncap)) == NULL)
				return (KITH_ENOMEM);
			c->buf = nb;
			c->cap = ncap;
		}
		k = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
		if (k == -1 && errno == EINTR)
			continue;
		if (k <= 0)
			return (KITH_ECLOSED);
		c->len += (size_t)k;
	}
}

int
ctl_call(ctl_client *c, json_t *req, json_t **resp)
{
	json_t *o, *id;
	long long want = c->next_id++;
	char *line;
	size_t len;
	int rc;

	if (req == NULL)
		return (KITH_ENOMEM);
	json_object_set_new(req, "id", json_integer(want));
	line = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (line == NULL)
		return (KITH_ENOMEM);
	len = strlen(line);
	line[len] = '\n';	/* json_dumps left room: the NUL */
	rc = write_all(c->fd, line, len + 1);
	free(line);
	if (rc != 0)
		return (rc);
	for (;;) {
		if ((rc = read_obj(c, &o)) != 0)
			return (rc);
		id = json_object_get(o, "id");
		if (json_is_integer(id) && json_integer_value(id) == want) {
			*resp = o;
			return (0);
		}
		json_decref(o);	/* an event, or an answer to nobody */
	}
}

void
ctl_close(ctl_client *c)
{

	if (c == NULL)
		return;
	close(c->fd);
	free(c->buf);
	free(c);
}
