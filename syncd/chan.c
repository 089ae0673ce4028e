#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "chan.h"
#include "kith_err.h"
#include "kith_util.h"

struct chan {
	int fd;
	int timeout_ms;
	noise_cs *tx;
	noise_cs *rx;
	uint8_t frame[2 + NOISE_MAXMSG];	/* one frame in either way */
};

static int
wait_fd(int fd, short ev, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = ev };
	int r;

	do
		r = poll(&p, 1, timeout_ms);
	while (r == -1 && errno == EINTR);
	if (r == 0)
		return (KITH_ETIMEOUT);
	return (r < 0 ? KITH_EIO : 0);
}

int
chan_connect(const struct sockaddr *addr, socklen_t addrlen, int timeout_ms,
    int *fdp)
{
	socklen_t el = sizeof(int);
	int fd, err = 0, rc, one = 1;

	if ((fd = socket(addr->sa_family, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) == -1)
		return (KITH_ECONN);
	if (connect(fd, addr, addrlen) == -1) {
		if (errno != EINPROGRESS) {
			close(fd);
			return (KITH_ECONN);
		}
		if ((rc = wait_fd(fd, POLLOUT, timeout_ms)) != 0) {
			close(fd);
			return (rc == KITH_ETIMEOUT ? rc : KITH_ECONN);
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) == -1 ||
		    err != 0) {
			close(fd);
			return (KITH_ECONN);
		}
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	*fdp = fd;
	return (0);
}

int
chan_new(int fd, int timeout_ms, chan **out)
{
	chan *c;
	int fl;

	if ((c = malloc(sizeof(*c))) == NULL) {
		close(fd);
		return (KITH_ENOMEM);
	}
	c->fd = fd;
	c->timeout_ms = timeout_ms;
	c->tx = c->rx = NULL;
	/* Non-blocking, so that poll() bounds every wait. */
	if ((fl = fcntl(fd, F_GETFL)) != -1)
		(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	*out = c;
	return (0);
}

void
chan_set_timeout(chan *c, int ms)
{

	c->timeout_ms = ms;
}

static int
put_all(chan *c, const uint8_t *p, size_t len)
{
	ssize_t w;
	int rc;

	while (len > 0) {
		w = send(c->fd, p, len, MSG_NOSIGNAL);
		if (w > 0) {
			p += w;
			len -= (size_t)w;
			continue;
		}
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if ((rc = wait_fd(c->fd, POLLOUT, c->timeout_ms)) != 0)
				return (rc);
			continue;
		}
		return (errno == EPIPE || errno == ECONNRESET ? KITH_ECLOSED :
		    KITH_EIO);
	}
	return (0);
}

/* Read exactly ${len} bytes; ${first} says whether none was read yet. */
static int
get_all(chan *c, uint8_t *p, size_t len, int first)
{
	size_t got = 0;
	ssize_t r;
	int rc;

	while (got < len) {
		r = recv(c->fd, p + got, len - got, 0);
		if (r > 0) {
			got += (size_t)r;
			continue;
		}
		if (r == 0)
			return (first && got == 0 ? KITH_ECLOSED : KITH_ETRUNC);
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if ((rc = wait_fd(c->fd, POLLIN, c->timeout_ms)) != 0)
				return (rc);
			continue;
		}
		return (errno == ECONNRESET ? KITH_ETRUNC : KITH_EIO);
	}
	return (0);
}

static int
read_frame(chan *c, size_t *len)
{
	int rc;

	if ((rc = get_all(c, c->frame, 2, 1)) != 0)
		return (rc);
	*len = kith_be16dec(c->frame);
	return (get_all(c, c->frame + 2, *len, 0));
}

int
chan_hs_send(chan *c, noise_hs *hs, const uint8_t *payload, size_t len)
{
	size_t n;
	int rc;

	if ((rc = noise_hs_write(hs, payload, len, c->frame + 2, NOISE_MAXMSG,
	    &n)) != 0)
		return (rc);
	kith_be16enc(c->frame, (uint16_t)n);
	if ((rc = put_all(c, c->frame, n + 2)) != 0)
		return (rc);
	if (noise_hs_done(hs))
		return (noise_hs_split(hs, &c->tx, &c->rx));
	return (0);
}

int
chan_hs_recv(chan *c, noise_hs *hs, uint8_t *buf, size_t cap, size_t *len)
{
	size_t n;
	int rc;

	if ((rc = read_frame(c, &n)) != 0)
		return (rc);
	if (noise_hs_read(hs, c->frame + 2, n, buf, cap, len) != 0)
		return (KITH_EHANDSHAKE);
	if (noise_hs_done(hs))
		return (noise_hs_split(hs, &c->tx, &c->rx));
	return (0);
}

int
chan_send(chan *c, uint8_t type, const uint8_t *body, size_t len)
{

	if (c->tx == NULL || len > CHAN_MAXBODY)
		return (KITH_EINVAL);
	c->frame[2] = type;
	if (len > 0 && body != c->frame + 3)
		memcpy(c->frame + 3, body, len);
	if (noise_cs_encrypt(c->tx, NULL, 0, c->frame + 2, len + 1,
	    c->frame + 2) != 0)
		return (KITH_EINVAL);
	kith_be16enc(c->frame, (uint16_t)(len + 1 + NOISE_TAGLEN));
	return (put_all(c, c->frame, len + 3 + NOISE_TAGLEN));
}

uint8_t *
chan_sendbuf(chan *c)
{

	return (c->frame + 3);
}

int
chan_recv(chan *c, uint8_t *type, uint8_t *body, size_t *len)
{
	const uint8_t *p;
	int rc;

	if ((rc = chan_recv_ref(c, type, &p, len)) != 0)
		return (rc);
	memcpy(body, p, *len);
	return (0);
}

int
chan_recv_ref(chan *c, uint8_t *type, const uint8_t **body, size_t *len)
{
	size_t n;
	int rc;

	if (c->rx == NULL)
		return (KITH_EINVAL);
	if ((rc = read_frame(c, &n)) != 0)
		return (rc);
	if (n < 1 + NOISE_TAGLEN)
		return (KITH_ECRYPTO);
	if (noise_cs_decrypt(c->rx, NULL, 0, c->frame + 2, n, c->frame + 2))
		return (KITH_ECRYPTO);
	*type = c->frame[2];
	*len = n - 1 - NOISE_TAGLEN;
	*body = c->frame + 3;
	return (0);
}

void
chan_free(chan *c)
{

	if (c == NULL)
		return;
	close(c->fd);
	noise_cs_free(c->tx);
	noise_cs_free(c->rx);
	sodium_memzero(c->frame, sizeof(c->frame));
	free(c);
}
