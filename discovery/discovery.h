/*
 * discovery.h: DNS-SD announce and browse on a libuv loop, through the
 * dns_sd.h API (Avahi's compatibility library on Linux, Bonjour on macOS).
 *
 * All kith devices use one service type, "_kith._tcp".  What a device puts
 * in its instance name and TXT record is the caller's business (syncd makes
 * them unlinkable to strangers); this module only moves them.
 *
 * The dns_sd sockets are watched with uv_poll_t and every DNSService*
 * callback runs on the loop thread.  Objects that own uv handles are freed
 * in their close callbacks, after *_close() returns; callbacks stop at once
 * on *_close().  Nothing here prints or exits.
 */
#ifndef KITH_DISCOVERY_H
#define KITH_DISCOVERY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <uv.h>

#define DISCOVERY_SERVICE_TYPE "_kith._tcp"

typedef struct discovery_announce discovery_announce;
typedef struct discovery_browse discovery_browse;

/**
 * discovery_announce_start(loop, out, instance, port, txt, txtlen):
 * register service ${instance} of type _kith._tcp on ${port} (host byte
 * order) with the raw DNS-SD TXT record ${txt} (${txtlen} bytes, may be 0).
 * Returns 0, KITH_EDNSSD (no daemon answers), KITH_EINVAL (an instance name
 * of 0 or more than 63 bytes, or a TXT record too long or malformed) or
 * KITH_ENOMEM.
 */
int discovery_announce_start(uv_loop_t *loop, discovery_announce **out,
    const char *instance, uint16_t port, const uint8_t *txt, size_t txtlen);

/**
 * discovery_announce_close(a): withdraw the announcement and free it (in a
 * close callback).  NULL does nothing.
 */
void discovery_announce_close(discovery_announce *a);

/*
 * One resolved service: its instance name, TXT record (raw), port (host
 * order) and one IPv4 or IPv6 address.  All pointers are valid only during
 * the callback.  The same service may be reported more than once (one call
 * per address found).
 */
struct discovery_found {
	const char *instance;
	const uint8_t *txt;
	size_t txtlen;
	uint16_t port;
	const struct sockaddr *addr;	/* port already set in it */
	socklen_t addrlen;
	uint32_t ifindex;
};

typedef void discovery_found_cb(void *arg, const struct discovery_found *f);

/**
 * discovery_browse_start(loop, out, filter, cb, arg): browse for _kith._tcp
 * services; for each instance that ${filter} accepts (NULL accepts all;
 * ${filter}(arg, instance) returns non-zero to accept), resolve it, look up
 * its addresses and call ${cb}(arg, found).  Rejected instances are never
 * resolved.  Returns 0, KITH_EDNSSD or KITH_ENOMEM; on failure ${cb} is
 * never called.
 */
int discovery_browse_start(uv_loop_t *loop, discovery_browse **out,
    int (*filter)(void *arg, const char *instance), discovery_found_cb *cb,
    void *arg);

/**
 * discovery_browse_close(b): stop browsing and free it (in a close
 * callback).  NULL does nothing.
 */
void discovery_browse_close(discovery_browse *b);

/**
 * discovery_txt_get(txt, txtlen, key, val, vallen): find ${key} in a raw
 * TXT record.  Returns 0 and points ${val}/${vallen} into ${txt}, or
 * KITH_ENOENT.  Never reads outside ${txt}; a malformed record gives
 * KITH_EFORMAT.
 */
int discovery_txt_get(const uint8_t *txt, size_t txtlen, const char *key,
    const uint8_t **val, size_t *vallen);

#endif
