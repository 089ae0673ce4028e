/*
 * abuser: hostile peers for the abuse scenario (tests/scenarios/21-abuse.sh).
 * Every mode is bounded in time and count and talks only to the address it
 * is given (a host of the scenario's own namespaces).
 *
 *   abuser slow ADDR PORT N SECS GAP_MS [FROM,...]
 *	N connections that never finish a handshake: each sends a frame
 *	header announcing 65535 bytes, then one byte every GAP_MS.  A
 *	connection the agent closes is opened again GAP_MS later.  With
 *	FROM, the connections come from those local addresses in turn.
 *   abuser flood ADDR PORT N SECS
 *	N connections, each sending maximum-size frames (length 65535,
 *	random bytes) as fast as the socket takes them, reopened when closed.
 *   abuser services N SECS
 *	announce N _kith._tcp services (random 16-hex-digit names, as kith's
 *	own look; every other one with a random TXT record) through dns_sd
 *	for SECS seconds.
 *   abuser pair ADDR PORT N SECS
 *	N strangers at a 'kith pair' port, all at once: a third send a real
 *	Noise_IKpsk2 first message made with a guessed static key and psk, a
 *	third a random frame, a third connect and stay silent.  Says
 *	"pair: connected=N" once all have connected.
 *   abuser qr OUT.png [over]
 *	write the densest invitation the format allows (every string at its
 *	maximum, four IPv6 hints), signed by a fresh account; with "over", a
 *	KITH-INVITE: code longer than the format allows.
 *
 * Each mode ends with one line of figures, "MODE: key=value ...", on
 * stdout.  Exit 0, or 2 on a usage or setup error.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <uv.h>

#include "discovery.h"
#include "invitation.h"
#include "kith_err.h"
#include "kith_util.h"
#include "noise.h"
#include "pair.h"
#include "qr.h"
#include "roster.h"

#define MAXCONN 1000

enum { C_NONE, C_CONNECTING, C_OPEN, C_WAIT };

struct conn {
	int fd;
	int state;
	int kind;		/* pair: 0 keys, 1 garbage, 2 silent */
	uint64_t next;		/* slow: next byte; C_WAIT: reopen at */
	size_t off;		/* flood: bytes of the current frame sent */
};

static struct sockaddr_in target;
static struct in_addr from[16];
static size_t nfrom, nextfrom;
static uint64_t opened, peer_closed, answered, bytes_out, maxopen;

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

static int
parse_target(const char *addr, const char *port)
{

	memset(&target, 0, sizeof(target));
	target.sin_family = AF_INET;
	target.sin_port = htons((uint16_t)atoi(port));
	return (inet_pton(AF_INET, addr, &target.sin_addr) == 1 ? 0 : -1);
}

static void
conn_open(struct conn *c)
{

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd == -1) {
		c->state = C_WAIT;
		c->next = now_ms() + 1000;
		return;
	}
	c->off = 0;
	if (nfrom > 0) {
		struct sockaddr_in sin;

		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_addr = from[nextfrom++ % nfrom];
		(void)bind(c->fd, (struct sockaddr *)&sin, sizeof(sin));
	}
	if (connect(c->fd, (struct sockaddr *)&target, sizeof(target)) == 0)
		c->state = C_OPEN;
	else if (errno == EINPROGRESS)
		c->state = C_CONNECTING;
	else {
		close(c->fd);
		c->fd = -1;
		c->state = C_WAIT;
		c->next = now_ms() + 1000;
		return;
	}
	opened++;
}

static void
conn_drop(struct conn *c, uint64_t again_ms)
{

	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	c->state = C_WAIT;
	c->next = now_ms() + again_ms;
}

static size_t
count_open(const struct conn *cs, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		k += cs[i].state == C_OPEN || cs[i].state == C_CONNECTING;
	return (k);
}

/* The peer said something or hung up: drain; 1 if it is gone. */
static int
peer_gone(struct conn *c)
{
	uint8_t b[4096];
	ssize_t r;

	for (;;) {
		r = read(c->fd, b, sizeof(b));
		if (r > 0) {
			answered++;
			continue;
		}
		if (r == -1 && (errno == EAGAIN || errno == EINTR))
			return (0);
		return (1);
	}
}

/*
 * The poll loop of slow, flood and pair.  ${mode}: 's', 'f' or 'p'.
 * ${reopen}: open closed connections again.
 */
static void
run_conns(struct conn *cs, size_t n, int mode, uint64_t secs,
    uint64_t gap, int reopen)
{
	static struct pollfd pf[MAXCONN];
	static size_t map[MAXCONN];
	static uint8_t frame[2 + 65535];
	uint64_t end = now_ms() + secs * 1000, t;
	size_t i, np, k;
	ssize_t w;
	int err;
	socklen_t el;

	frame[0] = frame[1] = 0xff;
	randombytes_buf(frame + 2, sizeof(frame) - 2);
	while ((t = now_ms()) < end) {
		np = 0;
		for (i = 0; i < n; i++) {
			struct conn *c = &cs[i];

			if (c->state == C_WAIT && reopen && t >= c->next)
				conn_open(c);
			if (c->state == C_CONNECTING) {
				pf[np].fd = c->fd;
				pf[np].events = POLLOUT;
			} else if (c->state == C_OPEN) {
				pf[np].fd = c->fd;
				pf[np].events = POLLIN |
				    (mode == 'f' ? POLLOUT : 0);
			} else
				continue;
			map[np++] = i;
		}
		if ((k = count_open(cs, n)) > maxopen)
			maxopen = k;
		if (poll(pf, np, 100) < 0 && errno != EINTR)
			break;
		t = now_ms();
		for (k = 0; k < np; k++) {
			struct conn *c = &cs[map[k]];

			if (c->state == C_CONNECTING && pf[k].revents) {
				el = sizeof(err);
				if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR,
				    &err, &el) != 0 || err != 0) {
					peer_closed++;
					conn_drop(c, gap);
					continue;
				}
				c->state = C_OPEN;
				c->next = t;
				if (mode == 'p')
					continue;
				/* slow: the header first, then a byte a gap. */
				if (mode == 's' && write(c->fd, frame, 2) == 2)
					bytes_out += 2;
				continue;
			}
			if (c->state != C_OPEN)
				continue;
			if ((pf[k].revents & (POLLIN | POLLHUP | POLLERR)) &&
			    peer_gone(c)) {
				peer_closed++;
				conn_drop(c, gap);
				continue;
			}
			if (mode == 'f' && (pf[k].revents & POLLOUT)) {
				w = write(c->fd, frame + c->off,
				    sizeof(frame) - c->off);
				if (w > 0) {
					bytes_out += (uint64_t)w;
					c->off = (c->off + (size_t)w) %
					    sizeof(frame);
				} else if (w == -1 && errno != EAGAIN) {
					peer_closed++;
					conn_drop(c, gap);
				}
			}
		}
		/* slow: one more byte on each open connection, per gap. */
		if (mode == 's')
			for (i = 0; i < n; i++)
				if (cs[i].state == C_OPEN && t >= cs[i].next) {
					cs[i].next = t + gap;
					if (write(cs[i].fd, frame + 2, 1) == 1)
						bytes_out++;
				}
		/* pair: everyone has been answered or shut out. */
		if (mode == 'p' && count_open(cs, n) == 0)
			break;
	}
}

static int
mode_conns(int mode, int argc, char **argv)
{
	static struct conn cs[MAXCONN];
	uint64_t t0 = now_ms(), gap;
	size_t n, i;

	if ((mode == 's' ? argc < 7 || argc > 8 : argc != 6) ||
	    parse_target(argv[2], argv[3]))
		return (2);
	if (argc == 8) {
		char *list = argv[7], *tok, *save = NULL;

		for (tok = strtok_r(list, ",", &save); tok != NULL &&
		    nfrom < 16; tok = strtok_r(NULL, ",", &save))
			if (inet_pton(AF_INET, tok, &from[nfrom]) == 1)
				nfrom++;
	}
	n = strtoul(argv[4], NULL, 10);
	gap = mode == 's' ? strtoull(argv[6], NULL, 10) : 200;
	if (n == 0 || n > MAXCONN)
		return (2);
	for (i = 0; i < n; i++) {
		cs[i].fd = -1;
		conn_open(&cs[i]);
	}
	run_conns(cs, n, mode, strtoull(argv[5], NULL, 10), gap, 1);
	printf("%s: connections=%zu opened=%llu closed_by_agent=%llu"
	    " held_max=%llu bytes_sent=%llu answered=%llu held_at_end=%zu"
	    " ms=%llu\n", mode == 's' ? "slow" : "flood", n,
	    (unsigned long long)opened, (unsigned long long)peer_closed,
	    (unsigned long long)maxopen, (unsigned long long)bytes_out,
	    (unsigned long long)answered, count_open(cs, n),
	    (unsigned long long)(now_ms() - t0));
	for (i = 0; i < n; i++)
		if (cs[i].fd != -1)
			close(cs[i].fd);
	return (0);
}

/* A stranger's first move at a 'kith pair' port. */
static void
pair_first(struct conn *c, size_t i)
{
	uint8_t s_sk[32], rs[32], psk[32], pl[2 + 16 + 32], msg[256];
	uint8_t fr[2 + 256];
	noise_hs *hs;
	size_t len = 0;
	char name[17];

	switch (c->kind) {
	case 0:
		randombytes_buf(s_sk, sizeof(s_sk));
		randombytes_buf(rs, sizeof(rs));
		randombytes_buf(psk, sizeof(psk));
		snprintf(name, sizeof(name), "stranger-%zu", i);
		pl[0] = 1;
		pl[1] = (uint8_t)strlen(name);
		memcpy(pl + 2, name, pl[1]);
		randombytes_buf(pl + 2 + pl[1], 32);
		if (noise_hs_new(&hs, PAIR_PROTOCOL, 1,
		    (const uint8_t *)"kith pairing v1", 15, s_sk, rs,
		    psk) != 0)
			return;
		if (noise_hs_write(hs, pl, 2 + pl[1] + 32, msg, sizeof(msg),
		    &len) != 0)
			len = 0;
		noise_hs_free(hs);
		sodium_memzero(s_sk, sizeof(s_sk));
		break;
	case 1:
		len = 1 + randombytes_uniform(200);
		randombytes_buf(msg, len);
		break;
	default:
		return;
	}
	if (len == 0)
		return;
	kith_be16enc(fr, (uint16_t)len);
	memcpy(fr + 2, msg, len);
	if (write(c->fd, fr, 2 + len) == (ssize_t)(2 + len))
		bytes_out += 2 + len;
}

static int
mode_pair(int argc, char **argv)
{
	static struct conn cs[MAXCONN];
	uint64_t t0 = now_ms(), end;
	size_t n, i, k, silent_left = 0;
	struct timeval tv = { 3, 0 };
	struct pollfd pf;

	if (argc != 6 || parse_target(argv[2], argv[3]))
		return (2);
	n = strtoul(argv[4], NULL, 10);
	if (n == 0 || n > MAXCONN)
		return (2);
	end = t0 + strtoull(argv[5], NULL, 10) * 1000;
	/* Connected at once, so that the shower's queue is full of them. */
	for (i = 0; i < n; i++) {
		cs[i].kind = (int)(i % 3);
		cs[i].fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		/* A connect that the shower's queue leaves hanging: 3 s. */
		if (cs[i].fd != -1)
			(void)setsockopt(cs[i].fd, SOL_SOCKET, SO_SNDTIMEO, &tv,
			    sizeof(tv));
		if (cs[i].fd == -1 || connect(cs[i].fd,
		    (struct sockaddr *)&target, sizeof(target)) != 0) {
			if (cs[i].fd != -1)
				close(cs[i].fd);
			cs[i].fd = -1;
			cs[i].state = C_NONE;
			continue;
		}
		opened++;
		(void)fcntl(cs[i].fd, F_SETFL, O_NONBLOCK);
		cs[i].state = C_OPEN;
		pair_first(&cs[i], i);
	}
	printf("pair: connected=%llu\n", (unsigned long long)opened);
	fflush(stdout);
	/* Then wait until the shower shut each one out, or the time is up. */
	while (now_ms() < end) {
		for (k = 0, i = 0; i < n; i++) {
			if (cs[i].state != C_OPEN)
				continue;
			k++;
			pf.fd = cs[i].fd;
			pf.events = POLLIN;
			if (poll(&pf, 1, 0) > 0 && peer_gone(&cs[i])) {
				peer_closed++;
				close(cs[i].fd);
				cs[i].fd = -1;
				cs[i].state = C_NONE;
			}
		}
		if (k == 0)
			break;
		usleep(50000);
	}
	for (i = 0; i < n; i++)
		if (cs[i].state == C_OPEN) {
			silent_left++;
			close(cs[i].fd);
		}
	printf("pair: strangers=%zu connected=%llu shut_out=%llu"
	    " still_open_at_end=%zu answered_bytes=%llu ms=%llu\n", n,
	    (unsigned long long)opened, (unsigned long long)peer_closed,
	    silent_left, (unsigned long long)answered,
	    (unsigned long long)(now_ms() - t0));
	return (0);
}

struct svc {
	discovery_announce *a[MAXCONN];
	size_t n, ok;
	uv_timer_t tm;
};

static void
svc_end(uv_timer_t *t)
{
	struct svc *sv = t->data;
	size_t i;

	for (i = 0; i < sv->ok; i++)
		discovery_announce_close(sv->a[i]);
	uv_close((uv_handle_t *)t, NULL);
}

static int
mode_services(int argc, char **argv)
{
	static struct svc sv;
	uv_loop_t loop;
	uint8_t raw[8], txt[64];
	char name[17], hx[17];
	size_t i, j, tl;
	int rc;

	if (argc != 4 || (sv.n = strtoul(argv[2], NULL, 10)) == 0 ||
	    sv.n > MAXCONN || uv_loop_init(&loop) != 0)
		return (2);
	for (i = 0; i < sv.n; i++) {
		randombytes_buf(raw, sizeof(raw));
		kith_hex(raw, sizeof(raw), hx);
		snprintf(name, sizeof(name), "%s", hx);
		/* Every other one with a TXT record of random key=value. */
		tl = 0;
		if (i % 2 == 1) {
			txt[0] = 20;
			memcpy(txt + 1, "k=", 2);
			for (j = 0; j < 18; j++)
				txt[3 + j] = (uint8_t)('a' +
				    randombytes_uniform(26));
			tl = 21;
		}
		rc = discovery_announce_start(&loop, &sv.a[sv.ok], name,
		    (uint16_t)(20000 + randombytes_uniform(20000)), txt, tl);
		if (rc == 0)
			sv.ok++;
		else
			fprintf(stderr, "abuser: cannot announce %s: %s\n",
			    name, kith_strerror(rc));
	}
	uv_timer_init(&loop, &sv.tm);
	sv.tm.data = &sv;
	uv_timer_start(&sv.tm, svc_end, strtoull(argv[3], NULL, 10) * 1000,
	    0);
	printf("services: announcing=%zu of %zu\n", sv.ok, sv.n);
	fflush(stdout);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	printf("services: withdrawn=%zu\n", sv.ok);
	return (sv.ok == sv.n ? 0 : 1);
}

/* A string of ${n} printable bytes. */
static void
fill(char *s, size_t n, char c0)
{
	size_t i;

	for (i = 0; i < n; i++)
		s[i] = (char)(c0 + (char)randombytes_uniform(26));
	s[n] = '\0';
}

static int
mode_qr(int argc, char **argv)
{
	static struct invitation inv;
	static char text[INVITE_MAXTEXT + 2048];
	uint8_t acct_sk[64], dev_sk[64], kx_sk[32], cert[CERT_MAXLEN];
	uint8_t bin[INVITE_MAXBIN + 1024];
	struct roster_dev d;
	size_t certlen, binlen = 0, i;
	int ver, rc;

	if (argc < 3 || argc > 4)
		return (2);
	memset(&inv, 0, sizeof(inv));
	crypto_sign_keypair(inv.account_pk, acct_sk);
	memset(&d, 0, sizeof(d));
	crypto_sign_keypair(d.sign_pk, dev_sk);
	randombytes_buf(kx_sk, sizeof(kx_sk));
	crypto_scalarmult_base(d.kx_pk, kx_sk);
	d.added = (uint64_t)time(NULL);
	fill(d.name, INVITE_NAMEMAX, 'a');
	if ((rc = cert_make(acct_sk, &d, cert, &certlen)) != 0)
		return (2);
	memcpy(inv.dev.sign_pk, d.sign_pk, 32);
	memcpy(inv.dev.kx_pk, d.kx_pk, 32);
	inv.dev.added = d.added;
	memcpy(inv.dev.name, d.name, sizeof(inv.dev.name));
	memcpy(inv.dev.sig, cert + certlen - 64, 64);
	inv.expiry = (uint32_t)time(NULL) + 3600;
	inv.uses = 255;
	randombytes_buf(inv.token, sizeof(inv.token));
	randombytes_buf(inv.secret, sizeof(inv.secret));
	inv.port = 0;		/* no agent: the answer is by reply code */
	inv.nhints = INVITE_MAXHINTS;
	for (i = 0; i < INVITE_MAXHINTS; i++) {
		inv.hints[i].family = 6;
		inet_pton(AF_INET6, "2001:db8::1", inv.hints[i].addr);
		inv.hints[i].addr[15] = (uint8_t)(i + 1);
	}
	memcpy(inv.uri, "https://", 8);
	fill(inv.uri + 8, INVITE_URIMAX - 8, 'a');
	fill(inv.service, INVITE_NAMEMAX, 'A');
	fill(inv.alias, INVITE_NAMEMAX, 'a');
	fill(inv.note, INVITE_NOTEMAX, 'a');
	if ((rc = invitation_sign(&inv, dev_sk)) != 0 ||
	    (rc = invitation_bin(&inv, bin, sizeof(bin), &binlen)) != 0 ||
	    (rc = invitation_encode(&inv, text, sizeof(text))) != 0) {
		fprintf(stderr, "abuser: cannot make the invitation: %s\n",
		    kith_strerror(rc));
		return (2);
	}
	if (argc == 4 && strcmp(argv[3], "over") == 0) {
		/* The scheme, then more base32 than any invitation holds. */
		size_t l = strlen(text);

		for (i = 0; i < 500; i++)
			text[l + i] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"[
			    randombytes_uniform(32)];
		text[l + i] = '\0';
	}
	if ((rc = qr_version(text, &ver)) != 0 ||
	    (rc = qr_write_png(text, argv[2], 4)) != 0) {
		fprintf(stderr, "abuser: cannot write %s: %s\n", argv[2],
		    kith_strerror(rc));
		return (2);
	}
	printf("qr: bytes=%zu chars=%zu version=%d png=%s\n", binlen,
	    strlen(text), ver, argv[2]);
	sodium_memzero(acct_sk, sizeof(acct_sk));
	sodium_memzero(dev_sk, sizeof(dev_sk));
	sodium_memzero(kx_sk, sizeof(kx_sk));
	invitation_wipe(&inv);
	return (0);
}

int
main(int argc, char **argv)
{
	int rc = 2;

	setvbuf(stdout, NULL, _IOLBF, 0);
	(void)signal(SIGPIPE, SIG_IGN);
	if (sodium_init() < 0 || argc < 2)
		goto usage;
	if (strcmp(argv[1], "slow") == 0)
		rc = mode_conns('s', argc, argv);
	else if (strcmp(argv[1], "flood") == 0)
		rc = mode_conns('f', argc, argv);
	else if (strcmp(argv[1], "pair") == 0)
		rc = mode_pair(argc, argv);
	else if (strcmp(argv[1], "services") == 0)
		rc = mode_services(argc, argv);
	else if (strcmp(argv[1], "qr") == 0)
		rc = mode_qr(argc, argv);
	if (rc != 2)
		return (rc);
usage:
	fprintf(stderr, "usage: abuser slow ADDR PORT N SECS GAP_MS"
	    " [FROM,...]\n"
	    "       abuser flood ADDR PORT N SECS\n"
	    "       abuser services N SECS\n"
	    "       abuser pair ADDR PORT N SECS\n"
	    "       abuser qr OUT.png [over]\n");
	return (2);
}
