/*
 * discovery.c: DNS-SD announce and browse on a libuv loop.
 *
 * Every DNSServiceRef lives in a "watch": the ref, a uv_poll_t on
 * DNSServiceRefSockFD() and a "dead" flag.  Avahi's compatibility library
 * runs a helper thread per ref that writes a byte to that socket when it has
 * results; DNSServiceProcessResult(), called from the poll callback, then
 * runs our DNSService* callback on the loop thread.  Nothing else here ever
 * touches a ref from another thread.
 *
 * Closing a watch marks it dead, stops the poll before the library closes
 * the socket, deallocates the ref, and frees the watch in the poll handle's
 * close callback.  A ref may be deallocated from inside its own callback
 * (Avahi and Bonjour both allow it); any further callback from the same
 * DNSServiceProcessResult() call still finds the watch in memory, sees
 * "dead" and returns.  This is why no object that a callback can reach is
 * freed anywhere but in a close callback.
 *
 * Browsing.  DNSServiceBrowse reports instances.  Each one that the caller's
 * filter accepts becomes a lookup: DNSServiceResolve for the host target,
 * port and TXT, then DNSServiceQueryRecord for its A and AAAA records (Avahi
 * has no DNSServiceGetAddrInfo).  Each address found is one call of the
 * caller's callback.  A lookup ends LOOKUP_GRACE_MS after its first address
 * (other addresses of the host come in that window), after LOOKUP_TIMEOUT_MS
 * in any case, or when its refs fail.  At most LOOKUPS_MAX lookups run at
 * once, since each costs helper threads, a D-Bus connection and a handful of
 * file descriptors; accepted instances beyond that wait in a queue of at
 * most PENDING_MAX, and beyond that are dropped.  A crowded network slows
 * discovery down but cannot exhaust the process.
 *
 * The daemon going away.  The library then reports an error on every ref.
 * Lookups just end.  The browse and the announcement drop their ref and try
 * again every RETRY_MS, so a restarted avahi-daemon is picked up without the
 * caller seeing anything.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <assert.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <dns_sd.h>
#include <uv.h>

#include "kith_err.h"

#include "discovery.h"

#define LOOKUPS_MAX		32	/* lookups running at once */
#define PENDING_MAX		512	/* accepted instances waiting for a slot */
#define LOOKUP_TIMEOUT_MS	5000
#define LOOKUP_GRACE_MS		500	/* after the first address */
#define RETRY_MS		5000	/* daemon gone: try again this often */

/*
 * One DNSServiceRef and the poll handle that watches its socket.  ${owner}
 * is what the DNSService* callbacks work on; ${nopen} is the count of open
 * handles of the object that must outlive the watch, decremented in the
 * close callback, after which ${closed}(${closed_arg}) runs.
 */
struct watch {
	DNSServiceRef ref;
	uv_poll_t poll;
	int dead;
	void *owner;
	void (*fail)(struct watch *);	/* DNSServiceProcessResult failed */
	unsigned *nopen;
	void (*closed)(void *);
	void *closed_arg;
};

enum lookup_state { L_PENDING, L_RUNNING, L_DONE };

struct lookup {
	struct discovery_browse *b;
	struct lookup *prev, *next;	/* in b->pending or b->running */
	enum lookup_state state;
	uint32_t ifindex;		/* from the browse, then the resolve */
	char *instance;
	char *domain;
	char *host;			/* host target, from the resolve */
	uint16_t port;			/* host order */
	uint8_t *txt;
	size_t txtlen;
	struct watch *rw;		/* the resolve, until it answers */
	struct watch *qw[2];		/* the A and AAAA queries */
	uv_timer_t timer;		/* initialised once running */
	unsigned nfound;
};

struct lookup_list {
	struct lookup *head, *tail;
	size_t n;
};

struct discovery_browse {
	uv_loop_t *loop;
	int (*filter)(void *, const char *);
	discovery_found_cb *cb;
	void *arg;
	struct watch *w;		/* NULL while waiting to retry */
	uv_timer_t retry;
	struct lookup_list pending;
	struct lookup_list running;
	unsigned nopen;
	int closing;
	int pumping;
};

struct discovery_announce {
	uv_loop_t *loop;
	char *instance;
	uint16_t port;
	uint8_t *txt;
	size_t txtlen;
	struct watch *w;		/* NULL while waiting to retry */
	uv_timer_t retry;
	unsigned nopen;
	int closing;
};

static int
map_err(DNSServiceErrorType e)
{

	switch (e) {
	case kDNSServiceErr_NoError:
		return 0;
	case kDNSServiceErr_NoMemory:
		return KITH_ENOMEM;
	case kDNSServiceErr_BadParam:
	case kDNSServiceErr_Invalid:
		return KITH_EINVAL;
	default:
		return KITH_EDNSSD;
	}
}

static char *
dupstr(const char *s)
{
	size_t len = strlen(s) + 1;
	char *p;

	if ((p = malloc(len)) != NULL)
		memcpy(p, s, len);
	return p;
}

/* --- watches ----------------------------------------------------------- */

static struct watch *
watch_new(void *owner, void (*fail)(struct watch *), unsigned *nopen,
    void (*closed)(void *), void *closed_arg)
{
	struct watch *w;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->owner = owner;
	w->fail = fail;
	w->nopen = nopen;
	w->closed = closed;
	w->closed_arg = closed_arg;
	return w;
}

static void
watch_closed(uv_handle_t *h)
{
	struct watch *w = h->data;
	unsigned *nopen = w->nopen;
	void (*closed)(void *) = w->closed;
	void *arg = w->closed_arg;

	free(w);
	(*nopen)--;
	closed(arg);
}

/*
 * watch_close(w): no more callbacks through ${w}; the ref is gone when this
 * returns (or, inside its own callback, when DNSServiceProcessResult
 * returns) and ${w} is freed in the close callback.  NULL does nothing.
 */
static void
watch_close(struct watch *w)
{

	if (w == NULL || w->dead)
		return;
	w->dead = 1;

	/* Stop watching the socket before the library closes it. */
	uv_poll_stop(&w->poll);
	DNSServiceRefDeallocate(w->ref);
	w->ref = NULL;
	uv_close((uv_handle_t *)&w->poll, watch_closed);
}

/* Is ${fd} readable now?  uv_poll_t may wake up spuriously, and
 * DNSServiceProcessResult() would then block the loop on a read. */
static int
readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && p.revents != 0;
}

static void
watch_poll_cb(uv_poll_t *h, int status, int events)
{
	struct watch *w = h->data;
	DNSServiceErrorType e;

	(void)events;
	if (w->dead)
		return;
	if (status == 0) {
		if (!readable(DNSServiceRefSockFD(w->ref)))
			return;
		e = DNSServiceProcessResult(w->ref);

		/* The callback may have closed us; that is not a failure. */
		if (w->dead || e == kDNSServiceErr_NoError)
			return;
	}
	w->fail(w);
}

/*
 * watch_start(w, loop, ref): watch ${ref}'s socket on ${loop}; ${w} owns
 * ${ref} from now on.  Returns 0, after which ${w} counts in *nopen until
 * its close callback, or KITH_EDNSSD, after which ${ref} is deallocated and
 * ${w} is freed (through its close callback, and so counted in *nopen
 * until then, if the poll handle had been opened) and never calls back.
 */
static int
watch_start(struct watch *w, uv_loop_t *loop, DNSServiceRef ref)
{
	int fd;

	if ((fd = DNSServiceRefSockFD(ref)) < 0)
		goto fail0;
	if (uv_poll_init(loop, &w->poll, fd) != 0)
		goto fail0;
	w->poll.data = w;
	w->ref = ref;
	(*w->nopen)++;
	if (uv_poll_start(&w->poll, UV_READABLE, watch_poll_cb) != 0)
		goto fail1;

	/* Success! */
	return 0;

fail1:
	/* The handle is open: it must go through its close callback. */
	watch_close(w);
	return KITH_EDNSSD;
fail0:
	DNSServiceRefDeallocate(ref);
	free(w);

	/* Failure! */
	return KITH_EDNSSD;
}

/* --- lookups ------------------------------------------------------------ */

static void
list_append(struct lookup_list *list, struct lookup *l)
{

	l->next = NULL;
	l->prev = list->tail;
	if (list->tail != NULL)
		list->tail->next = l;
	else
		list->head = l;
	list->tail = l;
	list->n++;
}

static void
list_remove(struct lookup_list *list, struct lookup *l)
{

	if (l->prev != NULL)
		l->prev->next = l->next;
	else
		list->head = l->next;
	if (l->next != NULL)
		l->next->prev = l->prev;
	else
		list->tail = l->prev;
	l->prev = l->next = NULL;
	list->n--;
}

static struct lookup *
list_find(struct lookup_list *list, const char *instance, uint32_t ifindex,
    const char *domain)
{
	struct lookup *l;

	for (l = list->head; l != NULL; l = l->next) {
		if (l->ifindex == ifindex && strcmp(l->instance, instance) == 0 &&
		    strcasecmp(l->domain, domain) == 0)
			return l;
	}
	return NULL;
}

static void
lookup_free(struct lookup *l)
{

	free(l->instance);
	free(l->domain);
	free(l->host);
	free(l->txt);
	free(l);
}

static void browse_handle_closed(void *);
static void browse_pump(struct discovery_browse *);

static void
lookup_timer_closed(uv_handle_t *h)
{
	struct lookup *l = h->data;
	struct discovery_browse *b = l->b;

	lookup_free(l);
	b->nopen--;
	browse_handle_closed(b);
}

/*
 * lookup_end(l): stop a running lookup and free it (in a close callback),
 * then let a waiting one run.  Idempotent.
 */
static void
lookup_end(struct lookup *l)
{
	struct discovery_browse *b = l->b;

	if (l->state != L_RUNNING)
		return;
	l->state = L_DONE;
	list_remove(&b->running, l);
	watch_close(l->rw);
	watch_close(l->qw[0]);
	watch_close(l->qw[1]);
	l->rw = l->qw[0] = l->qw[1] = NULL;
	uv_close((uv_handle_t *)&l->timer, lookup_timer_closed);
	browse_pump(b);
}

static void
lookup_timer_cb(uv_timer_t *t)
{

	lookup_end(t->data);
}

static void
lookup_watch_fail(struct watch *w)
{

	lookup_end(w->owner);
}

/* Tell the caller about one address of the host of ${l}. */
static void
lookup_report(struct lookup *l, uint32_t ifindex, uint16_t rrtype,
    uint16_t rdlen, const void *rdata)
{
	struct discovery_found f;
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;

	memset(&f, 0, sizeof(f));
	if (rrtype == kDNSServiceType_A && rdlen == 4) {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons(l->port);
		memcpy(&sin.sin_addr, rdata, 4);
		f.addr = (const struct sockaddr *)&sin;
		f.addrlen = sizeof(sin);
	} else if (rrtype == kDNSServiceType_AAAA && rdlen == 16) {
		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_family = AF_INET6;
		sin6.sin6_port = htons(l->port);
		memcpy(&sin6.sin6_addr, rdata, 16);
		if (IN6_IS_ADDR_LINKLOCAL(&sin6.sin6_addr))
			sin6.sin6_scope_id = ifindex;
		f.addr = (const struct sockaddr *)&sin6;
		f.addrlen = sizeof(sin6);
	} else {
		/* Not an address we can use. */
		return;
	}
	f.instance = l->instance;
	f.txt = l->txt;
	f.txtlen = l->txtlen;
	f.port = l->port;
	f.ifindex = ifindex;

	/* Give the other addresses of the host a moment, then stop. */
	if (l->nfound++ == 0)
		uv_timer_start(&l->timer, lookup_timer_cb, LOOKUP_GRACE_MS, 0);

	l->b->cb(l->b->arg, &f);
}

static void DNSSD_API
query_cb(DNSServiceRef ref, DNSServiceFlags flags, uint32_t ifindex,
    DNSServiceErrorType err, const char *fullname, uint16_t rrtype,
    uint16_t rrclass, uint16_t rdlen, const void *rdata, uint32_t ttl,
    void *ctx)
{
	struct watch *w = ctx;
	struct lookup *l;
	int i;

	(void)ref;
	(void)fullname;
	(void)ttl;
	if (w->dead)
		return;
	l = w->owner;

	if (err != kDNSServiceErr_NoError) {
		/* This query is over; the lookup is too if it was the last. */
		i = (l->qw[0] == w) ? 0 : 1;
		watch_close(w);
		l->qw[i] = NULL;
		if (l->qw[0] == NULL && l->qw[1] == NULL)
			lookup_end(l);
		return;
	}

	/* Records going away are of no interest to a one-shot lookup. */
	if (!(flags & kDNSServiceFlagsAdd) || rrclass != kDNSServiceClass_IN ||
	    rdata == NULL)
		return;
	lookup_report(l, ifindex, rrtype, rdlen, rdata);
}

/* Start a query for ${rrtype} records of the host of ${l} in slot ${i}. */
static void
lookup_query(struct lookup *l, int i, uint16_t rrtype)
{
	struct discovery_browse *b = l->b;
	DNSServiceRef ref;
	struct watch *w;

	if ((w = watch_new(l, lookup_watch_fail, &b->nopen,
	    browse_handle_closed, b)) == NULL)
		return;
	if (DNSServiceQueryRecord(&ref, 0, l->ifindex, l->host, rrtype,
	    kDNSServiceClass_IN, query_cb, w) != kDNSServiceErr_NoError) {
		free(w);
		return;
	}
	if (watch_start(w, b->loop, ref) != 0)
		return;
	l->qw[i] = w;
}

static void DNSSD_API
resolve_cb(DNSServiceRef ref, DNSServiceFlags flags, uint32_t ifindex,
    DNSServiceErrorType err, const char *fullname, const char *host,
    uint16_t port, uint16_t txtlen, const unsigned char *txt, void *ctx)
{
	struct watch *w = ctx;
	struct lookup *l;

	(void)ref;
	(void)flags;
	(void)fullname;
	if (w->dead)
		return;
	l = w->owner;

	/* One answer is all we want from the resolve. */
	watch_close(w);
	l->rw = NULL;
	if (err != kDNSServiceErr_NoError || host == NULL || host[0] == '\0')
		goto fail;

	if ((l->host = dupstr(host)) == NULL)
		goto fail;
	if (txtlen > 0) {
		if (txt == NULL || (l->txt = malloc(txtlen)) == NULL)
			goto fail;
		memcpy(l->txt, txt, txtlen);
		l->txtlen = txtlen;
	}
	l->port = ntohs(port);
	if (ifindex != 0)
		l->ifindex = ifindex;

	lookup_query(l, 0, kDNSServiceType_A);
	lookup_query(l, 1, kDNSServiceType_AAAA);
	if (l->qw[0] == NULL && l->qw[1] == NULL)
		goto fail;
	return;

fail:
	lookup_end(l);
}

/* Run the lookup ${l}, which the caller has just moved to b->running. */
static void
lookup_start(struct lookup *l)
{
	struct discovery_browse *b = l->b;
	DNSServiceRef ref;
	struct watch *w;

	uv_timer_init(b->loop, &l->timer);
	l->timer.data = l;
	b->nopen++;
	uv_timer_start(&l->timer, lookup_timer_cb, LOOKUP_TIMEOUT_MS, 0);

	if ((w = watch_new(l, lookup_watch_fail, &b->nopen,
	    browse_handle_closed, b)) == NULL)
		goto fail;
	if (DNSServiceResolve(&ref, 0, l->ifindex, l->instance,
	    DISCOVERY_SERVICE_TYPE, l->domain, resolve_cb, w) !=
	    kDNSServiceErr_NoError) {
		free(w);
		goto fail;
	}
	if (watch_start(w, b->loop, ref) != 0)
		goto fail;
	l->rw = w;
	return;

fail:
	lookup_end(l);
}

/* Run waiting lookups while there is room. */
static void
browse_pump(struct discovery_browse *b)
{
	struct lookup *l;

	/* lookup_start can end a lookup, which calls us again. */
	if (b->pumping)
		return;
	b->pumping = 1;
	while (!b->closing && b->running.n < LOOKUPS_MAX &&
	    (l = b->pending.head) != NULL) {
		list_remove(&b->pending, l);
		list_append(&b->running, l);
		l->state = L_RUNNING;
		lookup_start(l);
	}
	b->pumping = 0;
}

/* --- browsing ----------------------------------------------------------- */

static void
browse_handle_closed(void *arg)
{
	struct discovery_browse *b = arg;

	if (b->closing && b->nopen == 0)
		free(b);
}

static void
browse_retry_closed(uv_handle_t *h)
{
	struct discovery_browse *b = h->data;

	b->nopen--;
	browse_handle_closed(b);
}

static void browse_watch_fail(struct watch *);

static void DNSSD_API
browse_cb(DNSServiceRef ref, DNSServiceFlags flags, uint32_t ifindex,
    DNSServiceErrorType err, const char *instance, const char *type,
    const char *domain, void *ctx)
{
	struct watch *w = ctx;
	struct discovery_browse *b;
	struct lookup *l;

	(void)ref;
	(void)type;
	if (w->dead)
		return;
	b = w->owner;

	if (err != kDNSServiceErr_NoError) {
		browse_watch_fail(w);
		return;
	}
	if (instance == NULL || domain == NULL)
		return;

	/* A departure only matters to an instance still waiting its turn. */
	if (!(flags & kDNSServiceFlagsAdd)) {
		if ((l = list_find(&b->pending, instance, ifindex, domain)) !=
		    NULL) {
			list_remove(&b->pending, l);
			lookup_free(l);
		}
		return;
	}

	/* Already being looked up (Avahi reports IPv4 and IPv6 apart). */
	if (list_find(&b->running, instance, ifindex, domain) != NULL ||
	    list_find(&b->pending, instance, ifindex, domain) != NULL)
		return;

	if (b->filter != NULL && !b->filter(b->arg, instance))
		return;
	if (b->closing || b->pending.n >= PENDING_MAX)
		return;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return;
	l->b = b;
	l->state = L_PENDING;
	l->ifindex = ifindex;
	if ((l->instance = dupstr(instance)) == NULL ||
	    (l->domain = dupstr(domain)) == NULL) {
		lookup_free(l);
		return;
	}
	list_append(&b->pending, l);
	browse_pump(b);
}

/* Start the DNSServiceBrowse of ${b}. */
static int
browse_open(struct discovery_browse *b)
{
	DNSServiceRef ref;
	struct watch *w;
	int rc;

	if ((w = watch_new(b, browse_watch_fail, &b->nopen,
	    browse_handle_closed, b)) == NULL)
		return KITH_ENOMEM;
	if ((rc = map_err(DNSServiceBrowse(&ref, 0, 0, DISCOVERY_SERVICE_TYPE,
	    "", browse_cb, w))) != 0) {
		free(w);
		return rc;
	}
	if ((rc = watch_start(w, b->loop, ref)) != 0)
		return rc;
	b->w = w;
	return 0;
}

static void
browse_retry_cb(uv_timer_t *t)
{
	struct discovery_browse *b = t->data;

	if (browse_open(b) != 0)
		uv_timer_start(&b->retry, browse_retry_cb, RETRY_MS, 0);
}

static void
browse_watch_fail(struct watch *w)
{
	struct discovery_browse *b = w->owner;

	/* Most likely the daemon went away: try again later. */
	watch_close(w);
	b->w = NULL;
	uv_timer_start(&b->retry, browse_retry_cb, RETRY_MS, 0);
}

/* Stop everything ${b} does; it is freed when its last handle closes. */
static void
browse_shut(struct discovery_browse *b)
{
	struct lookup *l;

	b->closing = 1;
	watch_close(b->w);
	b->w = NULL;
	while ((l = b->pending.head) != NULL) {
		/* The head has no prev: list_remove moves the head on. */
		/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc) */
		list_remove(&b->pending, l);
		lookup_free(l);
	}
	while ((l = b->running.head) != NULL)
		lookup_end(l);
	uv_close((uv_handle_t *)&b->retry, browse_retry_closed);
}

/**
 * discovery_browse_start(loop, out, filter, cb, arg): browse for _kith._tcp
 * services; for each instance that ${filter} accepts (NULL accepts all;
 * ${filter}(arg, instance) returns non-zero to accept), resolve it, look up
 * its addresses and call ${cb}(arg, found).  Rejected instances are never
 * resolved.  Returns 0, KITH_EDNSSD or KITH_ENOMEM; on failure ${cb} is
 * never called.
 */
int
discovery_browse_start(uv_loop_t *loop, discovery_browse **out,
    int (*filter)(void *arg, const char *instance), discovery_found_cb *cb,
    void *arg)
{
	discovery_browse *b;
	int rc;

	assert(loop != NULL && out != NULL && cb != NULL);
	*out = NULL;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		goto fail0;
	b->loop = loop;
	b->filter = filter;
	b->cb = cb;
	b->arg = arg;
	uv_timer_init(loop, &b->retry);
	b->retry.data = b;
	b->nopen = 1;

	if ((rc = browse_open(b)) != 0)
		goto fail1;

	/* Success! */
	*out = b;
	return 0;

fail1:
	/* The retry timer is open: free through the close callbacks. */
	browse_shut(b);
	return rc;
fail0:
	/* Failure! */
	return KITH_ENOMEM;
}

/**
 * discovery_browse_close(b): stop browsing and free it (in a close
 * callback).  NULL does nothing.
 */
void
discovery_browse_close(discovery_browse *b)
{

	if (b == NULL || b->closing)
		return;
	browse_shut(b);
}

/* --- announcing --------------------------------------------------------- */

static void
announce_handle_closed(void *arg)
{
	struct discovery_announce *a = arg;

	if (!a->closing || a->nopen != 0)
		return;
	free(a->instance);
	free(a->txt);
	free(a);
}

static void
announce_retry_closed(uv_handle_t *h)
{
	struct discovery_announce *a = h->data;

	a->nopen--;
	announce_handle_closed(a);
}

static void announce_watch_fail(struct watch *);

static void DNSSD_API
register_cb(DNSServiceRef ref, DNSServiceFlags flags,
    DNSServiceErrorType err, const char *name, const char *type,
    const char *domain, void *ctx)
{
	struct watch *w = ctx;

	(void)ref;
	(void)flags;
	(void)name;
	(void)type;
	(void)domain;
	if (w->dead)
		return;

	/*
	 * Success needs nothing from us: if the name was taken, the daemon
	 * has already picked another.  An error means the daemon is gone or
	 * gave up on us.
	 */
	if (err != kDNSServiceErr_NoError)
		announce_watch_fail(w);
}

static int
announce_open(struct discovery_announce *a)
{
	DNSServiceRef ref;
	struct watch *w;
	int rc;

	if ((w = watch_new(a, announce_watch_fail, &a->nopen,
	    announce_handle_closed, a)) == NULL)
		return KITH_ENOMEM;
	if ((rc = map_err(DNSServiceRegister(&ref, 0, 0, a->instance,
	    DISCOVERY_SERVICE_TYPE, NULL, NULL, htons(a->port),
	    (uint16_t)a->txtlen, a->txtlen > 0 ? a->txt : NULL, register_cb,
	    w))) != 0) {
		free(w);
		return rc;
	}
	if ((rc = watch_start(w, a->loop, ref)) != 0)
		return rc;
	a->w = w;
	return 0;
}

static void
announce_retry_cb(uv_timer_t *t)
{
	struct discovery_announce *a = t->data;

	if (announce_open(a) != 0)
		uv_timer_start(&a->retry, announce_retry_cb, RETRY_MS, 0);
}

static void
announce_watch_fail(struct watch *w)
{
	struct discovery_announce *a = w->owner;

	watch_close(w);
	a->w = NULL;
	uv_timer_start(&a->retry, announce_retry_cb, RETRY_MS, 0);
}

static void
announce_shut(struct discovery_announce *a)
{

	a->closing = 1;
	watch_close(a->w);
	a->w = NULL;
	uv_close((uv_handle_t *)&a->retry, announce_retry_closed);
}

/**
 * discovery_announce_start(loop, out, instance, port, txt, txtlen):
 * register service ${instance} of type _kith._tcp on ${port} (host byte
 * order) with the raw DNS-SD TXT record ${txt} (${txtlen} bytes, may be 0).
 * Returns 0, KITH_EDNSSD (no daemon answers), KITH_EINVAL (an instance name
 * of 0 or more than 63 bytes, or a TXT record too long or malformed) or
 * KITH_ENOMEM.
 */
int
discovery_announce_start(uv_loop_t *loop, discovery_announce **out,
    const char *instance, uint16_t port, const uint8_t *txt, size_t txtlen)
{
	discovery_announce *a;
	size_t len;
	int rc;

	assert(loop != NULL && out != NULL && instance != NULL);
	assert(txtlen == 0 || txt != NULL);
	*out = NULL;

	/* DNS-SD's limits: one label for the name, 16 bits for the TXT. */
	len = strlen(instance);
	if (len == 0 || len > kDNSServiceMaxServiceName - 1 || txtlen > 65535)
		goto fail0;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		goto fail1;
	a->loop = loop;
	a->port = port;
	if ((a->instance = dupstr(instance)) == NULL)
		goto fail2;
	if (txtlen > 0) {
		if ((a->txt = malloc(txtlen)) == NULL)
			goto fail2;
		memcpy(a->txt, txt, txtlen);
		a->txtlen = txtlen;
	}
	uv_timer_init(loop, &a->retry);
	a->retry.data = a;
	a->nopen = 1;

	if ((rc = announce_open(a)) != 0)
		goto fail3;

	/* Success! */
	*out = a;
	return 0;

fail3:
	/* The retry timer is open: free through the close callbacks. */
	announce_shut(a);
	return rc;
fail2:
	free(a->instance);
	free(a);
fail1:
	return KITH_ENOMEM;
fail0:
	/* Failure! */
	return KITH_EINVAL;
}

/**
 * discovery_announce_close(a): withdraw the announcement and free it (in a
 * close callback).  NULL does nothing.
 */
void
discovery_announce_close(discovery_announce *a)
{

	if (a == NULL || a->closing)
		return;
	announce_shut(a);
}

/* --- TXT records -------------------------------------------------------- */

/* ASCII case-insensitive compare of ${n} bytes, whatever the locale. */
static int
key_eq(const uint8_t *a, const char *b, size_t n)
{
	size_t i;
	int x, y;

	for (i = 0; i < n; i++) {
		x = a[i];
		y = (unsigned char)b[i];
		if (x >= 'A' && x <= 'Z')
			x += 'a' - 'A';
		if (y >= 'A' && y <= 'Z')
			y += 'a' - 'A';
		if (x != y)
			return 0;
	}
	return 1;
}

/**
 * discovery_txt_get(txt, txtlen, key, val, vallen): find ${key} in a raw
 * TXT record.  Returns 0 and points ${val}/${vallen} into ${txt}, or
 * KITH_ENOENT.  Never reads outside ${txt}; a malformed record gives
 * KITH_EFORMAT.
 *
 * The rules are RFC 6763's, section 6: the record is a sequence of strings,
 * each a length byte then that many bytes; a string is key=value, or a bare
 * key (present, with an empty value here); keys compare case-insensitively
 * in ASCII; only the first string with a given key counts; strings with an
 * empty key are ignored.  The whole record is checked before the search, so
 * a malformed record is refused whatever it holds.  A ${key} that is empty
 * or holds '=' cannot be in any record: KITH_ENOENT.
 */
int
discovery_txt_get(const uint8_t *txt, size_t txtlen, const char *key,
    const uint8_t **val, size_t *vallen)
{
	const uint8_t *s, *eq;
	size_t keylen, pos, slen;

	assert(key != NULL && val != NULL && vallen != NULL);
	assert(txtlen == 0 || txt != NULL);
	*val = NULL;
	*vallen = 0;

	/* Every length byte must keep its string inside the record. */
	for (pos = 0; pos < txtlen; pos += 1 + slen) {
		slen = txt[pos];
		if (slen > txtlen - pos - 1)
			return KITH_EFORMAT;
	}

	keylen = strlen(key);
	if (keylen == 0 || strchr(key, '=') != NULL)
		return KITH_ENOENT;

	for (pos = 0; pos < txtlen; pos += 1 + slen) {
		slen = txt[pos];
		s = &txt[pos + 1];
		eq = (slen > 0) ? memchr(s, '=', slen) : NULL;

		/* The key is what comes before the first '=', if any. */
		if ((eq != NULL ? (size_t)(eq - s) : slen) != keylen)
			continue;
		if (!key_eq(s, key, keylen))
			continue;

		/* First occurrence wins. */
		if (eq != NULL) {
			*val = eq + 1;
			*vallen = slen - keylen - 1;
		} else {
			*val = s + slen;
			*vallen = 0;
		}
		return 0;
	}
	return KITH_ENOENT;
}
