/*
 * reach.c: finding a device that showed a code (a pairing ticket or an
 * invitation): mDNS first, then the addresses the code carries, or
 * --peer HOST:PORT; and reading the code itself from an image, the
 * camera or text.
 */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <uv.h>

#include "chan.h"
#include "cli.h"
#include "discovery.h"
#include "kith_err.h"
#include "qr.h"

void
reach_hints_fill(struct ticket_hint *h, uint8_t *n, int max, int loopback)
{
	struct ifaddrs *ifa, *i;
	struct sockaddr_in *sin;

	*n = 0;
	if (getifaddrs(&ifa) == 0) {
		for (i = ifa; i != NULL && *n < max; i = i->ifa_next) {
			if (i->ifa_addr == NULL ||
			    i->ifa_addr->sa_family != AF_INET ||
			    !(i->ifa_flags & IFF_UP) ||
			    (i->ifa_flags & IFF_LOOPBACK))
				continue;
			sin = (struct sockaddr_in *)i->ifa_addr;
			memset(&h[*n], 0, sizeof(h[*n]));
			h[*n].family = 4;
			memcpy(h[*n].addr, &sin->sin_addr, 4);
			(*n)++;
		}
		freeifaddrs(ifa);
	}
	if (*n < max && loopback) {
		memset(&h[*n], 0, sizeof(h[*n]));
		h[*n].family = 4;
		h[*n].addr[0] = 127;
		h[*n].addr[3] = 1;
		(*n)++;
	}
}

struct browse_arg {
	struct reach *r;
	const char *tag;
	uv_loop_t *loop;
};

static int
find_filter(void *arg, const char *instance)
{
	struct browse_arg *b = arg;

	return (strcmp(instance, b->tag) == 0);
}

static void
find_found(void *arg, const struct discovery_found *d)
{
	struct browse_arg *b = arg;
	struct reach *r = b->r;

	if (r->n < REACH_MAX && d->addrlen <= sizeof(r->addrs[0])) {
		memcpy(&r->addrs[r->n], d->addr, d->addrlen);
		r->lens[r->n] = d->addrlen;
		r->n++;
	}
	uv_stop(b->loop);
}

static void
find_timeout(uv_timer_t *t)
{

	uv_stop(t->loop);
}

static void
close_cb(uv_handle_t *h)
{

	(void)h;
}

void
reach_mdns(struct reach *r, const char *tag, int ms)
{
	struct browse_arg b = { r, tag, NULL };
	discovery_browse *br;
	uv_loop_t loop;
	uv_timer_t timer;

	uv_loop_init(&loop);
	b.loop = &loop;
	if (discovery_browse_start(&loop, &br, find_filter, find_found,
	    &b) == 0) {
		uv_timer_init(&loop, &timer);
		uv_timer_start(&timer, find_timeout, (uint64_t)ms, 0);
		uv_run(&loop, UV_RUN_DEFAULT);
		discovery_browse_close(br);
		uv_close((uv_handle_t *)&timer, close_cb);
	}
	/* Let close callbacks run, on failure too, before the loop goes. */
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	r->nmdns = r->n;
}

void
reach_hints(struct reach *r, const struct ticket_hint *h, int n,
    uint16_t port)
{
	struct sockaddr_in *sin;
	struct sockaddr_in6 *sin6;
	int i;

	for (i = 0; i < n && r->n < REACH_MAX && port != 0; i++) {
		memset(&r->addrs[r->n], 0, sizeof(r->addrs[0]));
		if (h[i].family == 4) {
			sin = (struct sockaddr_in *)&r->addrs[r->n];
			sin->sin_family = AF_INET;
			sin->sin_port = htons(port);
			memcpy(&sin->sin_addr, h[i].addr, 4);
			r->lens[r->n] = sizeof(*sin);
		} else {
			sin6 = (struct sockaddr_in6 *)&r->addrs[r->n];
			sin6->sin6_family = AF_INET6;
			sin6->sin6_port = htons(port);
			memcpy(&sin6->sin6_addr, h[i].addr, 16);
			r->lens[r->n] = sizeof(*sin6);
		}
		r->n++;
	}
}

int
reach_peer(struct reach *r, const char *peer)
{
	struct addrinfo hints, *res, *ai;
	char host[256], *colon;

	snprintf(host, sizeof(host), "%s", peer);
	if ((colon = strrchr(host, ':')) == NULL)
		return (KITH_EINVAL);
	*colon = '\0';
	if (host[0] == '[' && colon[-1] == ']') {
		colon[-1] = '\0';
		memmove(host, host + 1, strlen(host));
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if (getaddrinfo(host, colon + 1, &hints, &res) != 0)
		return (KITH_EINVAL);
	for (ai = res; ai != NULL && r->n < REACH_MAX; ai = ai->ai_next) {
		memcpy(&r->addrs[r->n], ai->ai_addr, ai->ai_addrlen);
		r->lens[r->n] = ai->ai_addrlen;
		r->n++;
	}
	freeaddrinfo(res);
	r->manual = 1;
	return (0);
}

int
reach_connect(const struct reach *r, int *i, int ms, int *fd)
{

	for (; *i < r->n; (*i)++) {
		if (chan_connect((const struct sockaddr *)&r->addrs[*i],
		    r->lens[*i], ms, fd) != 0)
			continue;
		if (!cli.json) {
			char a[INET6_ADDRSTRLEN] = "?";
			const struct sockaddr *sa =
			    (const struct sockaddr *)&r->addrs[*i];

			if (sa->sa_family == AF_INET)
				inet_ntop(AF_INET, &((const struct sockaddr_in *)
				    sa)->sin_addr, a, sizeof(a));
			else
				inet_ntop(AF_INET6, &((const struct
				    sockaddr_in6 *)sa)->sin6_addr, a, sizeof(a));
			fprintf(stderr, "Connected to %s (%s).\n", a,
			    r->manual ? "--peer" : *i < r->nmdns ?
			    "found on the local network by mDNS" :
			    "address carried in the code");
		}
		return (0);
	}
	return (KITH_ECONN);
}

int
cli_read_code(const char *image, const char *code, int camera, char **text)
{
	size_t len;
	int rc;

	if (code != NULL) {
		*text = strdup(code);
		return (*text ? 0 : KITH_ENOMEM);
	}
	if (image != NULL) {
		if ((rc = qr_scan_file(image, text, &len)) == KITH_EIMAGE)
			return (cli_fail(rc, "cannot read %s as a PNG or JPEG"
			    " image; give a photo or screenshot of the code,"
			    " or --code TEXT", image), rc);
		if (rc == KITH_ENOQR)
			return (cli_fail(rc, "no QR code found in %s; take a"
			    " sharper, closer picture or use --code TEXT",
			    image), rc);
		return (rc);
	}
	if (camera) {
		if (!cli.json)
			fprintf(stderr, "Hold the code in front of the"
			    " camera...\n");
		rc = qr_scan_camera(NULL, 60000, text, &len);
		if (rc == KITH_ENOCAMERA)
			return (cli_fail(rc, "no camera found; give a photo of"
			    " the code or --code TEXT"), rc);
		if (rc == KITH_ETIMEOUT)
			return (cli_fail(rc, "no code seen by the camera in a"
			    " minute"), rc);
		return (rc);
	}
	return (KITH_ENOENT);
}
