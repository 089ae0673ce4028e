/*
 * netem: an impaired link in userspace, for machines whose kernel has no
 * sch_netem.  It forwards Ethernet frames between two interfaces with
 * AF_PACKET raw sockets, unmodified (multicast and ARP included), and
 * impairs each direction on the way:
 *
 *   netem [--conf FILE] [--stats FILE] IF_HOST IF_LAN [SETTING...]
 *   netem --no-offload IFACE...
 *
 * Direction "up" is IF_HOST -> IF_LAN, "down" is IF_LAN -> IF_HOST.  A
 * SETTING is KEY=VALUE for both directions, or up.KEY=VALUE / down.KEY=VALUE
 * for one:
 *   loss=P      drop P percent of frames at random
 *   delay=MS    hold every frame MS milliseconds...
 *   jitter=MS   ...plus or minus up to MS (uniform); frames leave in the
 *               order of their due times, so jitter reorders, as in netem
 *   reorder=P   send P percent of frames at once, ahead of the delayed ones
 *   dup=P       send P percent of frames twice (each copy its own delay)
 *   flap=D/T    every T seconds, the link is down for D seconds (the last D
 *               of each period): nothing forwarded, frames in flight lost
 *   rate=KBIT   a link of KBIT kbit/s: frames leave one after the other,
 *               each taking its length's time on the wire (0: unlimited)
 *   limit=N     at most N frames queued a direction (default 10000); more
 *               are dropped (counted as overflow)
 *   seed=N      random seed (default: from the clock; always printed)
 * The settings are the command line's, then FILE's (whitespace-separated
 * SETTINGs) on top; SIGHUP reads FILE again, from the defaults, and starts
 * a new flap period.  SIGUSR1 prints the counters, also to --stats FILE
 * (written whole, then renamed into place); SIGTERM or SIGINT prints them
 * and exits 0.
 *
 * Frames must be of the link's MTU: segmentation and checksum offloads
 * would hand us 64 KiB TCP super-frames with checksums left undone.
 * --no-offload turns tx checksumming, TSO, GSO and GRO off on each IFACE
 * (the interfaces that transmit into IF_HOST and IF_LAN), then exits.
 */
#define _GNU_SOURCE
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/if_packet.h>
#include <linux/sockios.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

#define FRAME_MAX 65536

struct conf {
	double loss, reorder, dup;	/* percent */
	long delay_ms, jitter_ms;
	long flap_down_ms, flap_period_ms;
	long rate_kbit;
	size_t limit;
};

struct frame {
	uint64_t due;		/* CLOCK_MONOTONIC, ns */
	uint64_t seq;		/* arrival order, for ties and reordering */
	size_t len;
	unsigned char *buf;
};

struct counts {
	uint64_t in, out, bytes_in, bytes_out;
	uint64_t lost, flapped, overflow, duplicated, early, out_of_order;
	uint64_t txerr;
};

struct dir {
	const char *name;
	int rfd, wfd;		/* read from rfd, write to wfd */
	struct conf c;
	struct frame *heap;
	size_t n, cap;
	uint64_t seq, max_sent_seq;
	uint64_t busy_until;	/* the wire is busy until then (rate) */
	int sent_any;
	struct counts k;
};

static volatile sig_atomic_t got_term, got_usr1, got_hup;
static uint64_t rng;
static uint64_t flap_t0;

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		got_hup = 1;
	else if (sig == SIGUSR1)
		got_usr1 = 1;
	else
		got_term = 1;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
}

/* xorshift64*: enough for choosing frames, reproducible from the seed. */
static uint64_t
rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (rng * 2685821657736338717ull);
}

/* A number in [0, 100). */
static double
rnd_pct(void)
{
	return ((double)(rnd() >> 11) / 9007199254740992.0 * 100.0);
}

static void
conf_default(struct conf *c)
{
	memset(c, 0, sizeof(*c));
	c->limit = 10000;
}

static int
parse_pct(const char *v, double *out)
{
	char *end;
	double d;

	d = strtod(v, &end);
	if (end == v || *end != '\0' || !(d >= 0 && d <= 100))
		return (-1);
	*out = d;
	return (0);
}

static int
parse_ms(const char *v, long *out)
{
	char *end;
	long l;

	errno = 0;
	l = strtol(v, &end, 10);
	if (end == v || *end != '\0' || errno || l < 0 || l > 3600000)
		return (-1);
	*out = l;
	return (0);
}

/* Apply one SETTING to d[0] (up) and/or d[1] (down). */
static int
setting(struct dir d[2], const char *s)
{
	char key[32], *v, *slash;
	const char *k = s;
	int first = 0, last = 1, i, rc = 0;
	double f;
	long a, b;

	if (strncmp(k, "up.", 3) == 0) {
		last = 0;
		k += 3;
	} else if (strncmp(k, "down.", 5) == 0) {
		first = 1;
		k += 5;
	}
	if ((v = strchr(k, '=')) == NULL || (size_t)(v - k) >= sizeof(key))
		return (-1);
	memcpy(key, k, (size_t)(v - k));
	key[v - k] = '\0';
	v++;
	if (strcmp(key, "seed") == 0) {
		if (first != 0 || last != 1)
			return (-1);
		rng = strtoull(v, NULL, 10);
		if (rng == 0)
			rng = 1;
		printf("netem: seed=%llu\n", (unsigned long long)rng);
		return (0);
	}
	for (i = first; i <= last && rc == 0; i++) {
		struct conf *c = &d[i].c;

		if (strcmp(key, "loss") == 0)
			rc = parse_pct(v, &c->loss);
		else if (strcmp(key, "reorder") == 0)
			rc = parse_pct(v, &c->reorder);
		else if (strcmp(key, "dup") == 0)
			rc = parse_pct(v, &c->dup);
		else if (strcmp(key, "delay") == 0)
			rc = parse_ms(v, &c->delay_ms);
		else if (strcmp(key, "jitter") == 0)
			rc = parse_ms(v, &c->jitter_ms);
		else if (strcmp(key, "rate") == 0)
			rc = parse_ms(v, &c->rate_kbit);
		else if (strcmp(key, "limit") == 0) {
			if ((rc = parse_ms(v, &a)) == 0 && a > 0)
				c->limit = (size_t)a;
			else
				rc = -1;
		} else if (strcmp(key, "flap") == 0) {
			/* D/T in seconds, fractions allowed. */
			if ((slash = strchr(v, '/')) == NULL)
				return (-1);
			f = strtod(v, NULL);
			a = (long)(f * 1000);
			f = strtod(slash + 1, NULL);
			b = (long)(f * 1000);
			if (a < 0 || b <= 0 || a > b)
				return (-1);
			c->flap_down_ms = a;
			c->flap_period_ms = b;
		} else
			rc = -1;
	}
	return (rc);
}

static int
load(struct dir d[2], int argc, char **argv, const char *conf)
{
	char tok[256];
	FILE *f;
	int i, rc = 0;

	for (i = 0; i < 2; i++)
		conf_default(&d[i].c);
	for (i = 0; i < argc; i++) {
		if (setting(d, argv[i]) != 0) {
			fprintf(stderr, "netem: bad setting '%s'\n", argv[i]);
			return (-1);
		}
	}
	if (conf == NULL)
		return (0);
	if ((f = fopen(conf, "r")) == NULL) {
		if (errno == ENOENT)
			return (0);
		fprintf(stderr, "netem: %s: %s\n", conf, strerror(errno));
		return (-1);
	}
	while (fscanf(f, "%255s", tok) == 1) {
		if (setting(d, tok) != 0) {
			fprintf(stderr, "netem: %s: bad setting '%s'\n", conf,
			    tok);
			rc = -1;
		}
	}
	fclose(f);
	return (rc);
}

static void
show_conf(const struct dir *d)
{
	const struct conf *c = &d->c;

	printf("netem: %s: loss=%g delay=%ld jitter=%ld reorder=%g dup=%g "
	    "flap=%ld/%ld ms rate=%ld kbit limit=%zu\n", d->name, c->loss,
	    c->delay_ms, c->jitter_ms, c->reorder, c->dup, c->flap_down_ms,
	    c->flap_period_ms, c->rate_kbit, c->limit);
}

/* Is the direction's link down at time T (flapping)? */
static int
flap_down(const struct conf *c, uint64_t t)
{
	uint64_t ph;

	if (c->flap_period_ms == 0 || c->flap_down_ms == 0)
		return (0);
	ph = ((t - flap_t0) / 1000000u) % (uint64_t)c->flap_period_ms;
	return (ph >= (uint64_t)(c->flap_period_ms - c->flap_down_ms));
}

static int
before(const struct frame *a, const struct frame *b)
{
	return (a->due < b->due || (a->due == b->due && a->seq < b->seq));
}

static int
heap_push(struct dir *d, struct frame *fr)
{
	struct frame *nh, t;
	size_t i, p;

	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 256;
		if ((nh = realloc(d->heap, d->cap * sizeof(*nh))) == NULL)
			return (-1);
		d->heap = nh;
	}
	i = d->n++;
	d->heap[i] = *fr;
	while (i > 0) {
		p = (i - 1) / 2;
		if (!before(&d->heap[i], &d->heap[p]))
			break;
		t = d->heap[p];
		d->heap[p] = d->heap[i];
		d->heap[i] = t;
		i = p;
	}
	return (0);
}

static void
heap_pop(struct dir *d, struct frame *out)
{
	struct frame t;
	size_t i = 0, l, r, m;

	*out = d->heap[0];
	d->heap[0] = d->heap[--d->n];
	for (;;) {
		l = 2 * i + 1;
		r = l + 1;
		m = i;
		if (l < d->n && before(&d->heap[l], &d->heap[m]))
			m = l;
		if (r < d->n && before(&d->heap[r], &d->heap[m]))
			m = r;
		if (m == i)
			break;
		t = d->heap[m];
		d->heap[m] = d->heap[i];
		d->heap[i] = t;
		i = m;
	}
}

static void
enqueue(struct dir *d, const unsigned char *buf, size_t len, uint64_t t,
    int copy)
{
	const struct conf *c = &d->c;
	struct frame fr;
	long ms;

	if (d->n >= c->limit) {
		d->k.overflow++;
		return;
	}
	fr.seq = d->seq++;
	fr.len = len;
	if (c->reorder > 0 && rnd_pct() < c->reorder) {
		fr.due = t;
		d->k.early++;
	} else {
		ms = c->delay_ms;
		if (c->jitter_ms > 0)
			ms += (long)(rnd() % (uint64_t)(2 * c->jitter_ms + 1)) -
			    c->jitter_ms;
		if (ms < 0)
			ms = 0;
		fr.due = t + (uint64_t)ms * 1000000u;
	}
	if ((fr.buf = malloc(len)) == NULL) {
		d->k.overflow++;
		return;
	}
	memcpy(fr.buf, buf, len);
	if (heap_push(d, &fr) != 0) {
		free(fr.buf);
		d->k.overflow++;
		return;
	}
	if (copy)
		d->k.duplicated++;
}

static void
arrive(struct dir *d, const unsigned char *buf, size_t len, uint64_t t)
{
	const struct conf *c = &d->c;

	d->k.in++;
	d->k.bytes_in += len;
	if (flap_down(c, t)) {
		d->k.flapped++;
		return;
	}
	if (c->loss > 0 && rnd_pct() < c->loss) {
		d->k.lost++;
		return;
	}
	enqueue(d, buf, len, t, 0);
	if (c->dup > 0 && rnd_pct() < c->dup)
		enqueue(d, buf, len, t, 1);
}

static void
dispatch(struct dir *d, uint64_t t)
{
	struct frame fr;

	while (d->n > 0 && d->heap[0].due <= t && d->busy_until <= t) {
		heap_pop(d, &fr);
		if (d->c.rate_kbit > 0) {
			/*
			 * Back to back from the end of the last frame (or
			 * from its due time, on an idle wire), so that late
			 * wake-ups do not slow the link; bits / (kbit/s) =
			 * ms, in ns bits * 1e6 / kbit.
			 */
			if (d->busy_until < fr.due)
				d->busy_until = fr.due;
			d->busy_until += (uint64_t)fr.len * 8 * 1000000u /
			    (uint64_t)d->c.rate_kbit;
		}
		if (flap_down(&d->c, t)) {
			/* The cable is out: what was on it is gone. */
			d->k.flapped++;
		} else if (send(d->wfd, fr.buf, fr.len, 0) != (ssize_t)fr.len) {
			d->k.txerr++;
		} else {
			d->k.out++;
			d->k.bytes_out += fr.len;
			if (d->sent_any && fr.seq < d->max_sent_seq)
				d->k.out_of_order++;
			if (!d->sent_any || fr.seq > d->max_sent_seq)
				d->max_sent_seq = fr.seq;
			d->sent_any = 1;
		}
		free(fr.buf);
	}
}

static void
report(FILE *f, const struct dir d[2])
{
	int i;

	for (i = 0; i < 2; i++) {
		const struct counts *k = &d[i].k;

		fprintf(f, "netem %s: in=%llu out=%llu lost=%llu flapped=%llu "
		    "overflow=%llu duplicated=%llu early=%llu "
		    "out_of_order=%llu txerr=%llu bytes_in=%llu "
		    "bytes_out=%llu queued=%zu\n", d[i].name,
		    (unsigned long long)k->in, (unsigned long long)k->out,
		    (unsigned long long)k->lost,
		    (unsigned long long)k->flapped,
		    (unsigned long long)k->overflow,
		    (unsigned long long)k->duplicated,
		    (unsigned long long)k->early,
		    (unsigned long long)k->out_of_order,
		    (unsigned long long)k->txerr,
		    (unsigned long long)k->bytes_in,
		    (unsigned long long)k->bytes_out, d[i].n);
	}
}

static void
report_all(const struct dir d[2], const char *stats)
{
	char tmp[4096];
	FILE *f;

	report(stdout, d);
	fflush(stdout);
	if (stats == NULL)
		return;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", stats) >= (int)sizeof(tmp))
		return;
	if ((f = fopen(tmp, "w")) == NULL)
		return;
	report(f, d);
	if (fclose(f) == 0)
		(void)rename(tmp, stats);
}

/* A raw socket that sees every frame arriving on IFACE, and sends on it. */
static int
open_if(const char *iface)
{
	struct sockaddr_ll sll;
	struct packet_mreq mr;
	unsigned int idx;
	int fd, one = 1, sz = 4 << 20;

	if ((idx = if_nametoindex(iface)) == 0) {
		fprintf(stderr, "netem: %s: %s\n", iface, strerror(errno));
		return (-1);
	}
	/*
	 * Protocol 0 at first, so that nothing from other interfaces is
	 * queued before bind() narrows the socket to IFACE.
	 */
	if ((fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK, 0)) == -1) {
		fprintf(stderr, "netem: socket: %s\n", strerror(errno));
		return (-1);
	}
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = (int)idx;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) == -1) {
		fprintf(stderr, "netem: bind %s: %s\n", iface, strerror(errno));
		close(fd);
		return (-1);
	}
	/* Our own sends on IFACE must not come back to us. */
	(void)setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one,
	    sizeof(one));
	memset(&mr, 0, sizeof(mr));
	mr.mr_ifindex = (int)idx;
	mr.mr_type = PACKET_MR_PROMISC;
	if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr,
	    sizeof(mr)) == -1)
		fprintf(stderr, "netem: promiscuous %s: %s\n", iface,
		    strerror(errno));
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz));
	return (fd);
}

static int
ethtool_off(int fd, const char *iface, uint32_t cmd, const char *what)
{
	struct ethtool_value ev;
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", iface);
	ev.cmd = cmd;
	ev.data = 0;
	ifr.ifr_data = (void *)&ev;
	if (ioctl(fd, SIOCETHTOOL, &ifr) == -1 && errno != EOPNOTSUPP) {
		fprintf(stderr, "netem: %s off on %s: %s\n", what, iface,
		    strerror(errno));
		return (-1);
	}
	return (0);
}

static int
no_offload(int argc, char **argv)
{
	int fd, i, rc = 0;

	if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) == -1)
		return (1);
	for (i = 0; i < argc; i++) {
		/* Checksums first: TSO depends on them. */
		if (ethtool_off(fd, argv[i], ETHTOOL_STXCSUM, "tx-csum") ||
		    ethtool_off(fd, argv[i], ETHTOOL_STSO, "tso") ||
		    ethtool_off(fd, argv[i], ETHTOOL_SGSO, "gso") ||
		    ethtool_off(fd, argv[i], ETHTOOL_SGRO, "gro"))
			rc = 1;
	}
	close(fd);
	return (rc);
}

/* Read what waits on D's socket (a bounded batch, to keep timers fair). */
static void
drain(struct dir *d, unsigned char *buf, uint64_t t)
{
	struct sockaddr_ll from;
	socklen_t fl;
	ssize_t r;
	int i;

	for (i = 0; i < 512; i++) {
		fl = sizeof(from);
		r = recvfrom(d->rfd, buf, FRAME_MAX, 0,
		    (struct sockaddr *)&from, &fl);
		if (r <= 0)
			return;
		if (from.sll_pkttype == PACKET_OUTGOING)
			continue;
		arrive(d, buf, (size_t)r, t);
	}
}

int
main(int argc, char **argv)
{
	struct dir d[2];
	struct sigaction sa;
	struct pollfd p[2];
	struct timespec ts, *tsp;
	sigset_t block, empty;
	const char *conf = NULL, *stats = NULL, *ifh, *ifl;
	unsigned char *buf;
	uint64_t t, next;
	int i, r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && strcmp(argv[1], "--no-offload") == 0)
		return (no_offload(argc - 2, argv + 2));
	for (i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--conf") == 0)
			conf = argv[i + 1];
		else if (strcmp(argv[i], "--stats") == 0)
			stats = argv[i + 1];
		else
			break;
	}
	if (argc - i < 2) {
		fprintf(stderr, "usage: netem [--conf FILE] [--stats FILE] "
		    "IF_HOST IF_LAN [SETTING...]\n"
		    "       netem --no-offload IFACE...\n");
		return (2);
	}
	ifh = argv[i];
	ifl = argv[i + 1];
	argv += i + 2;
	argc -= i + 2;

	memset(d, 0, sizeof(d));
	d[0].name = "up";
	d[1].name = "down";
	rng = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^ now_ns();
	if (rng == 0)
		rng = 1;
	printf("netem: seed=%llu\n", (unsigned long long)rng);
	if (load(d, argc, argv, conf) != 0)
		return (2);
	flap_t0 = now_ns();

	sigemptyset(&block);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, NULL);
	sigemptyset(&empty);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	if ((p[0].fd = open_if(ifh)) == -1 || (p[1].fd = open_if(ifl)) == -1)
		return (1);
	d[0].rfd = d[1].wfd = p[0].fd;
	d[1].rfd = d[0].wfd = p[1].fd;
	if ((buf = malloc(FRAME_MAX)) == NULL)
		return (1);
	printf("netem: forwarding %s <-> %s\n", ifh, ifl);
	show_conf(&d[0]);
	show_conf(&d[1]);

	while (!got_term) {
		if (got_usr1) {
			got_usr1 = 0;
			report_all(d, stats);
		}
		if (got_hup) {
			got_hup = 0;
			if (load(d, argc, argv, conf) == 0) {
				flap_t0 = now_ns();
				printf("netem: settings read again\n");
				show_conf(&d[0]);
				show_conf(&d[1]);
			}
		}
		t = now_ns();
		dispatch(&d[0], t);
		dispatch(&d[1], t);

		next = UINT64_MAX;
		for (i = 0; i < 2; i++) {
			uint64_t w;

			if (d[i].n == 0)
				continue;
			w = d[i].heap[0].due;
			if (d[i].busy_until > w)
				w = d[i].busy_until;
			if (w < next)
				next = w;
		}
		if (next == UINT64_MAX) {
			tsp = NULL;
		} else {
			next = next > t ? next - t : 0;
			ts.tv_sec = (time_t)(next / 1000000000u);
			ts.tv_nsec = (long)(next % 1000000000u);
			tsp = &ts;
		}
		p[0].events = p[1].events = POLLIN;
		r = ppoll(p, 2, tsp, &empty);
		if (r == -1 && errno != EINTR) {
			fprintf(stderr, "netem: poll: %s\n", strerror(errno));
			return (1);
		}
		if (r <= 0)
			continue;
		t = now_ns();
		if (p[0].revents & POLLIN)
			drain(&d[0], buf, t);
		if (p[1].revents & POLLIN)
			drain(&d[1], buf, t);
		for (i = 0; i < 2; i++) {
			int e = 0;
			socklen_t el = sizeof(e);

			/* An interface set down (host_link_down --far): go on. */
			if (p[i].revents & POLLERR)
				(void)getsockopt(p[i].fd, SOL_SOCKET, SO_ERROR,
				    &e, &el);
			if (p[i].revents & POLLNVAL)
				return (1);
		}
	}
	report_all(d, stats);
	for (i = 0; i < 2; i++) {
		while (d[i].n > 0) {
			struct frame fr;

			heap_pop(&d[i], &fr);
			free(fr.buf);
		}
		free(d[i].heap);
	}
	free(buf);
	return (0);
}
