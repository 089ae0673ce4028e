/*
 * kith pair: show a one-time pairing code and enrol the new device that
 * scans it.  kith join: scan it, join, receive the history.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <uv.h>

#include "chan.h"
#include "cli.h"
#include "discovery.h"
#include "kith_err.h"
#include "kith_util.h"
#include "pair.h"
#include "qr.h"

#define DEFAULT_TIMEOUT 300
#define RESUME_GRACE 300
#define BROWSE_MS 4000
/*
 * Connections are served one at a time, and a joiner sends its first
 * message as soon as it is connected: until that message is in whole, a
 * connection only waits here, at most PEND_MS, PEND_MAX at once (the
 * oldest is closed for a newcomer), so that strangers who connect and
 * say nothing cannot hold the door shut for the real device.
 */
#define PEND_MAX 16
/*
 * Long enough for a lossy link: on 10% loss and 300 ms delay (19-netem),
 * TCP's retransmissions of that first message took over 5 s once.  The
 * crowd rule above, not this wait, is what keeps strangers out.
 */
#define PEND_MS 15000
#define SWEEP_MS 100
#define REFUSALS_NOTED 3	/* one by one; then summed up */
#define SUMMARY_MS 10000

enum { RJ_CODE, RJ_SILENT, RJ_CROWD, RJ_N };

struct pend {
	int fd;
	uint64_t since;
};
#define CONNECT_MS 3000

/* ---- kith pair ---------------------------------------------------- */

struct shower {
	struct home *hm;
	struct ticket t;
	struct pair_state ps;
	int lfd;
	int yes;
	int rc;
	int extended;
	uv_loop_t *loop;
	uv_poll_t poll;
	uv_timer_t timer;
	uv_timer_t sweep;
	struct pend pend[PEND_MAX];
	size_t npend;
	unsigned nrj[RJ_N], quiet[RJ_N], noted;
	uint64_t summed;
	uv_signal_t sigint, sigterm;
	discovery_announce *ann;
};

static void
show_note(void *arg, const char *what)
{

	(void)arg;
	if (cli.json)
		cli_event(json_pack("{s:s, s:s}", "event", "note",
		    "message", what));
	else
		fprintf(stderr, "%s\n", what);
}

static int
show_confirm(void *arg, const char *name, const char *fp)
{
	struct shower *s = arg;
	char q[256];

	if (s->yes)
		return (1);
	if (!isatty(STDIN_FILENO)) {
		/* Nobody to ask: decline rather than wait (kith(1)). */
		show_note(s, "no terminal to confirm the new device on:"
		    " declined; run 'kith pair --yes' to enrol without asking");
		return (0);
	}
	snprintf(q, sizeof(q), "Add device '%s' (fingerprint %s) to this"
	    " account?", name, fp);
	return (cli_yesno(q));
}

static int
show_passphrase(void *arg, int n, uint8_t **pass, size_t *len)
{

	(void)arg;
	/* A file gives the same answer every time: one try is enough. */
	if (n > 1 && cli.passfile != NULL)
		return (-1);
	return (cli_passphrase("Account passphrase: ", 0, pass, len));
}

static void
show_stop(struct shower *s, int rc)
{

	s->rc = rc;
	uv_stop(s->loop);
}

/* Say that a connection was refused: a few one by one, then summed up. */
static void
refusal(struct shower *s, int why)
{
	static const char *const text[RJ_N] = {
		"a device without this code tried to connect: refused",
		"a connection sent no pairing message within "
		    "15 s: closed",
		"too many connections waiting at once: the oldest closed",
	};

	s->nrj[why]++;
	if (s->noted < REFUSALS_NOTED) {
		s->noted++;
		show_note(s, text[why]);
	} else
		s->quiet[why]++;
}

static void
refusal_summary(struct shower *s)
{
	char m[256];
	unsigned n = s->quiet[RJ_CODE] + s->quiet[RJ_SILENT] +
	    s->quiet[RJ_CROWD];

	s->summed = kith_mono_ms();
	if (n == 0)
		return;
	snprintf(m, sizeof(m), "refused %u more connections: %u without this"
	    " code, %u silent, %u closed to make room (%u, %u and %u in"
	    " all)", n, s->quiet[RJ_CODE], s->quiet[RJ_SILENT],
	    s->quiet[RJ_CROWD], s->nrj[RJ_CODE], s->nrj[RJ_SILENT],
	    s->nrj[RJ_CROWD]);
	memset(s->quiet, 0, sizeof(s->quiet));
	show_note(s, m);
}

/* A connection whose first message is in: pair with it (blocking). */
static void
serve(struct shower *s, int fd)
{
	struct pair_ui ui = { s, show_confirm, show_passphrase, show_note,
	    cli_progress };
	int rc;

	rc = pair_serve(s->hm, &s->t, &s->ps, fd, &ui);
	cli_progress_end();
	/* A running agent takes the new roster to the other devices now. */
	if (s->ps.used)
		cli_agent_poke(s->hm);
	if (s->ps.done) {
		show_stop(s, 0);
		return;
	}
	switch (rc) {
	case KITH_EHANDSHAKE:
		refusal(s, RJ_CODE);
		break;
	case KITH_EUSED:
		break;
	case KITH_EDECLINED:
	case KITH_EBADPASS:
		/* The person at this device said no: stop here. */
		show_stop(s, rc);
		break;
	default:
		if (s->ps.used) {
			char m[200];

			snprintf(m, sizeof(m), "transfer to '%s' interrupted"
			    " (%s); waiting for it to reconnect",
			    s->ps.joiner, kith_strerror(rc));
			show_note(s, m);
		}
		break;
	}
}

static void
pend_drop(struct shower *s, size_t i)
{

	close(s->pend[i].fd);
	s->pend[i] = s->pend[--s->npend];
}

/* Serve each waiting connection whose first frame is in whole. */
static void
sweep(struct shower *s)
{
	uint64_t now = kith_mono_ms();
	uint8_t h[2];
	ssize_t r;
	size_t i;
	int avail, fd;

	for (i = 0; i < s->npend;) {
		fd = s->pend[i].fd;
		r = recv(fd, h, 2, MSG_PEEK | MSG_DONTWAIT);
		if (r == 0 || (r < 0 && errno != EAGAIN &&
		    errno != EWOULDBLOCK)) {
			pend_drop(s, i);	/* gone before a word */
			continue;
		}
		if (r == 2 && ioctl(fd, FIONREAD, &avail) == 0 &&
		    (size_t)avail >= 2 + (size_t)kith_be16dec(h)) {
			s->pend[i] = s->pend[--s->npend];
			serve(s, fd);
			if (s->rc != KITH_EEXPIRED || s->ps.done)
				break;
			now = kith_mono_ms();
			continue;
		}
		if (now - s->pend[i].since > PEND_MS) {
			refusal(s, RJ_SILENT);
			pend_drop(s, i);
			continue;
		}
		i++;
	}
	if (now - s->summed >= SUMMARY_MS)
		refusal_summary(s);
}

static void
on_sweep(uv_timer_t *t)
{

	sweep(t->data);
}

static void
on_conn(uv_poll_t *p, int status, int events)
{
	struct shower *s = p->data;
	size_t i, old;
	int fd;

	(void)events;
	if (status < 0)
		return;
	while ((fd = accept(s->lfd, NULL, NULL)) != -1) {
		(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
		/* Past its expiry, a code no longer admits a new device. */
		if (!s->ps.used && kith_now() > s->t.expiry) {
			close(fd);
			continue;
		}
		/* Full: serve who has spoken, then make room. */
		if (s->npend == PEND_MAX)
			sweep(s);
		if (s->rc != KITH_EEXPIRED || s->ps.done) {
			close(fd);
			return;
		}
		if (s->npend == PEND_MAX) {
			for (old = 0, i = 1; i < s->npend; i++)
				if (s->pend[i].since < s->pend[old].since)
					old = i;
			refusal(s, RJ_CROWD);
			pend_drop(s, old);
		}
		s->pend[s->npend].fd = fd;
		s->pend[s->npend].since = kith_mono_ms();
		s->npend++;
	}
}

static void
on_timer(uv_timer_t *t)
{
	struct shower *s = t->data;

	/* A device that enrolled may still come back to finish. */
	if (s->ps.used && !s->extended) {
		s->extended = 1;
		uv_timer_start(&s->timer, on_timer, RESUME_GRACE * 1000, 0);
		return;
	}
	show_stop(s, KITH_EEXPIRED);
}

static void
on_signal(uv_signal_t *h, int signum)
{
	struct shower *s = h->data;

	(void)signum;
	show_stop(s, KITH_EDECLINED);
}

static int
listen_any(uint16_t port, int *lfd, uint16_t *bound)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int fd, one = 1;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1)
		return (KITH_EIO);
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 8) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &sl) == -1) {
		close(fd);
		return (KITH_EIO);
	}
	*lfd = fd;
	*bound = ntohs(sin.sin_port);
	return (0);
}

static void
close_cb(uv_handle_t *h)
{

	(void)h;
}

int
cmd_pair(int argc, char **argv)
{
	struct shower s;
	const char *png = NULL;
	char code[TICKET_MAXTEXT], tag[17], *qr = NULL;
	long timeout = DEFAULT_TIMEOUT, port = 0;
	uint64_t v;
	uint16_t bound;
	uv_loop_t loop;
	int i, rc, ver;

	memset(&s, 0, sizeof(s));
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--qr-png") == 0 && i + 1 < argc)
			png = argv[++i];
		else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc)
			timeout = kith_number(argv[++i], 10, 3600, &v) == 0 ?
			    (long)v : -1;
		else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc)
			port = kith_number(argv[++i], 0, 65535, &v) == 0 ?
			    (long)v : -1;
		else if (strcmp(argv[i], "--yes") == 0)
			s.yes = 1;
		else if (strcmp(argv[i], "--help") == 0) {
			printf("usage: kith pair [--qr-png FILE] [--timeout SEC]"
			    " [--yes] [--port N]\n"
			    "Show a one-time pairing code (terminal QR, and PNG"
			    " with --qr-png), wait for\nthe new device, confirm"
			    " (--yes skips the question), ask the account\n"
			    "passphrase, enrol it and send it the history."
			    " The code expires after\n--timeout seconds"
			    " (default %d).\n", DEFAULT_TIMEOUT);
			return (0);
		} else
			return (cli_fail(KITH_EINVAL, "pair: unexpected '%s';"
			    " see kith pair --help", argv[i]));
	}
	if (timeout < 10 || timeout > 3600)
		return (cli_fail(KITH_EINVAL, "pair: --timeout is 10 to 3600"
		    " seconds"));
	if (port < 0 || port > 65535)
		return (cli_fail(KITH_EINVAL, "pair: --port is 0 to 65535"));
	if (cli_open(CLI_CHECK, &s.hm) != 0)
		return (1);
	if (s.hm->roster == NULL || home_self(s.hm) == NULL ||
	    s.hm->h == NULL) {
		home_close(s.hm);
		return (cli_fail(KITH_ENOACCOUNT, "this device is not part of"
		    " an account: run 'kith init --name NAME' first"));
	}
	if ((rc = listen_any((uint16_t)port, &s.lfd, &bound)) != 0) {
		home_close(s.hm);
		return (cli_fail(rc, "pair: cannot listen on a TCP port"));
	}

	s.t.expiry = (uint32_t)(kith_now() + (uint64_t)timeout);
	memcpy(s.t.static_pk, s.hm->dk->kx_pk, 32);
	randombytes_buf(s.t.secret, 32);
	s.t.port = bound;
	reach_hints_fill(s.t.hints, &s.t.nhints, TICKET_MAXHINTS, 1);
	if ((rc = ticket_encode(&s.t, code, sizeof(code))) != 0 ||
	    (rc = qr_version(code, &ver)) != 0) {
		rc = cli_fail(rc, "pair: cannot make the code");
		goto done0;
	}
	if (png != NULL && (rc = qr_write_png(code, png, 0)) != 0) {
		rc = cli_fail(rc, "pair: cannot write %s", png);
		goto done0;
	}
	if (cli.json) {
		/* The code is a secret: JSON says where it is, not what. */
		json_t *o = json_pack("{s:s, s:i, s:I, s:i}", "event",
		    "waiting", "port", (int)bound, "expires",
		    (json_int_t)s.t.expiry, "qr_version", ver);

		if (png != NULL)
			json_object_set_new(o, "qr_png", json_string(png));
		cli_event(o);
	} else {
		if (qr_render_utf8(code, &qr) == 0)
			fputs(qr, stdout);
		free(qr);
		printf("\nOn the new device, scan this code with 'kith join"
		    " IMAGE --name NAME',\nor type: kith join --code %s"
		    " --name NAME\n\nWaiting for the new device (the code"
		    " expires in %ld:%02ld)...\n", code, timeout / 60,
		    timeout % 60);
		fflush(stdout);
	}

	uv_loop_init(&loop);
	s.loop = &loop;
	ticket_tag(&s.t, tag);
	if ((rc = discovery_announce_start(&loop, &s.ann, tag, bound, NULL,
	    0)) != 0 && !cli.json)
		fprintf(stderr, "mDNS is not available here (%s); the new"
		    " device will use the addresses in the code.\n",
		    kith_strerror(rc));
	uv_poll_init(&loop, &s.poll, s.lfd);
	s.poll.data = &s;
	uv_poll_start(&s.poll, UV_READABLE, on_conn);
	uv_timer_init(&loop, &s.timer);
	s.timer.data = &s;
	uv_timer_init(&loop, &s.sweep);
	s.sweep.data = &s;
	s.summed = kith_mono_ms();
	uv_timer_start(&s.sweep, on_sweep, SWEEP_MS, SWEEP_MS);
	uv_timer_start(&s.timer, on_timer,
	    (uint64_t)(s.t.expiry - kith_now()) * 1000, 0);
	uv_signal_init(&loop, &s.sigint);
	uv_signal_init(&loop, &s.sigterm);
	s.sigint.data = s.sigterm.data = &s;
	uv_signal_start(&s.sigint, on_signal, SIGINT);
	uv_signal_start(&s.sigterm, on_signal, SIGTERM);
	s.rc = KITH_EEXPIRED;
	uv_run(&loop, UV_RUN_DEFAULT);

	discovery_announce_close(s.ann);
	uv_close((uv_handle_t *)&s.poll, close_cb);
	uv_close((uv_handle_t *)&s.timer, close_cb);
	uv_close((uv_handle_t *)&s.sweep, close_cb);
	uv_close((uv_handle_t *)&s.sigint, close_cb);
	uv_close((uv_handle_t *)&s.sigterm, close_cb);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	refusal_summary(&s);
	while (s.npend > 0)
		pend_drop(&s, 0);

	switch (s.rc) {
	case 0:
		if (cli.json)
			cli_json_out(json_pack("{s:b, s:s, s:s}", "ok", 1,
			    "event", "enrolled", "device", s.ps.joiner));
		else
			printf("Device '%s' enrolled and holds the whole"
			    " history.\n", s.ps.joiner);
		rc = 0;
		break;
	case KITH_EEXPIRED:
		rc = cli_fail(s.rc, s.ps.used ? "the transfer to '%s' did not"
		    " finish; run 'kith pair' again and scan the new code on"
		    " that device to resume" : "the pairing code expired"
		    " unused; run 'kith pair' again%s", s.ps.joiner);
		break;
	case KITH_EDECLINED:
		rc = cli_fail(s.rc, "pairing cancelled; no device was added");
		break;
	case KITH_EBADPASS:
		rc = cli_fail(s.rc, "wrong account passphrase; no device was"
		    " added (each try takes a moment by design)");
		break;
	default:
		rc = cli_fail(s.rc, "pairing failed: %s",
		    kith_strerror(s.rc));
		break;
	}
done0:
	sodium_memzero(code, sizeof(code));
	ticket_wipe(&s.t);
	close(s.lfd);
	home_close(s.hm);
	return (rc);
}

/* ---- kith join ---------------------------------------------------- */

static int
join_fail(int rc, uint64_t stored)
{

	switch (rc) {
	case KITH_EHANDSHAKE:
		return (cli_fail(rc, "the other device did not accept this"
		    " code (it is not the current code of that device, or"
		    " someone else answered); run 'kith pair' there again"));
	case KITH_EDECLINED:
		return (cli_fail(rc, "the other device declined to add this"
		    " one"));
	case KITH_EBADPASS:
		return (cli_fail(rc, "the account passphrase was not given"
		    " correctly on the other device; try again"));
	case KITH_EUSED:
		return (cli_fail(rc, "this pairing code was already used by"
		    " another device; run 'kith pair' again for a new one"));
	case KITH_EREVOKED:
		return (cli_fail(rc, "this device was revoked from the"
		    " account and cannot join it again"));
	case KITH_EHAVEACCOUNT:
		return (cli_fail(rc, "this home already belongs to another"
		    " account; use another --home"));
	case KITH_ETRUNC:
	case KITH_ECLOSED:
	case KITH_ETIMEOUT:
		return (cli_fail(rc, "the transfer was cut (%llu new records"
		    " kept); run 'kith join' again to resume",
		    (unsigned long long)stored));
	case KITH_ECRYPTO:
		return (cli_fail(rc, "the stream was tampered with on the"
		    " network and was stopped (%llu new records kept, all"
		    " authentic); run 'kith join' again to resume",
		    (unsigned long long)stored));
	case KITH_ENOSPACE:
		return (cli_fail(rc, "the disk of this device is full (%llu"
		    " new records kept); free some space, or move the kith"
		    " home to a larger disk, then run 'kith join' again to"
		    " resume", (unsigned long long)stored));
	case KITH_EPROTO:
		return (cli_fail(rc, "the other device sent something"
		    " malformed; nothing bad was stored (%llu new records"
		    " kept)", (unsigned long long)stored));
	default:
		return (cli_fail(rc, "joining failed: %s",
		    kith_strerror(rc)));
	}
}

/* What the shower said it would send (BEGIN), for --json. */
static uint64_t join_offered;

static void
join_progress(void *arg, uint64_t nrec, uint64_t totrec, uint64_t nbytes,
    uint64_t totbytes)
{

	join_offered = totrec;
	cli_progress(arg, nrec, totrec, nbytes, totbytes);
}

int
cmd_join(int argc, char **argv)
{
	struct home *hm = NULL;
	struct ticket t;
	struct reach *f = NULL;
	struct pair_ui ui = { NULL, NULL, NULL, show_note, join_progress };
	const char *image = NULL, *code = NULL, *name = NULL, *peer = NULL;
	char *text = NULL;
	uint8_t *pend = NULL;
	size_t plen;
	uint64_t stored = 0, n = 0;
	char tag[17], when[32];
	int i, camera = 0, rc, fd, stale = 0;

	memset(&t, 0, sizeof(t));
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--code") == 0 && i + 1 < argc)
			code = argv[++i];
		else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc)
			name = argv[++i];
		else if (strcmp(argv[i], "--peer") == 0 && i + 1 < argc)
			peer = argv[++i];
		else if (strcmp(argv[i], "--camera") == 0)
			camera = 1;
		else if (strcmp(argv[i], "--help") == 0) {
			printf("usage: kith join [IMAGE] [--code TEXT]"
			    " [--camera] --name NAME [--peer HOST:PORT]\n"
			    "Read the pairing code shown by 'kith pair' on a"
			    " device of the account\n(from a photo or"
			    " screenshot, its text, or the camera), join the"
			    " account\nas NAME and receive the whole history."
			    " Run again with no code to\nresume a cut"
			    " transfer.\n");
			return (0);
		} else if (argv[i][0] != '-' && image == NULL)
			image = argv[i];
		else
			return (cli_fail(KITH_EINVAL, "join: unexpected '%s';"
			    " see kith join --help", argv[i]));
	}
	if (name != NULL && !roster_name_ok(name))
		return (cli_fail(KITH_EINVAL, "join: a device name is 1 to 64"
		    " printable characters"));
	if ((rc = cli_read_code(image, code, camera, &text)) != 0 &&
	    rc != KITH_ENOENT)
		return (1);
	if ((rc = cli_open(CLI_CREATE | CLI_CHECK, &hm)) != 0) {
		free(text);
		return (1);
	}
	if (text == NULL) {
		/* No code given: resume with the one kept from last time. */
		if (store_meta_get(hm->st, "pending_ticket", &pend,
		    &plen) != 0) {
			home_close(hm);
			return (cli_fail(KITH_EINVAL, "join: give the pairing"
			    " code: a photo or screenshot of it, --code TEXT,"
			    " or --camera"));
		}
		text = (char *)pend;
	}
	if ((rc = ticket_decode(text, strlen(text), &t)) != 0) {
		if (rc == KITH_EWRONGKIND)
			rc = cli_fail(rc, "this is a kith invitation, not a"
			    " pairing code: use 'kith invite scan'");
		else if (rc == KITH_ENOTKITH)
			rc = cli_fail(rc, "this QR code is not a kith pairing"
			    " code");
		else
			rc = cli_fail(rc, "this pairing code is damaged or of"
			    " a newer version; run 'kith pair' again");
		goto done;
	}
	if (name == NULL)
		name = hm->name[0] ? hm->name : NULL;
	if (name == NULL) {
		rc = cli_fail(KITH_EINVAL, "join: name this device: --name"
		    " NAME (for example --name phone)");
		goto done;
	}
	/*
	 * Expiry is the shower's to judge, on its clock (docs/PROTOCOL.md
	 * §8.3): a code that looks expired here may be fresh there when this
	 * clock runs ahead, so it is tried; a shower that is gone, or that
	 * closes at once, then means it has expired.
	 */
	if (kith_now() > t.expiry && pend == NULL) {
		time_t e = (time_t)t.expiry;
		struct tm tm;

		if (localtime_r(&e, &tm) == NULL ||
		    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm) == 0)
			snprintf(when, sizeof(when), "?");
		stale = 1;
		if (!cli.json)
			fprintf(stderr, "By this device's clock the code expired"
			    " at %s; trying anyway (the other device's clock"
			    " decides).\n", when);
	}
	if (pend == NULL && store_meta_put(hm->st, "pending_ticket", text,
	    strlen(text)) != 0) {
		rc = cli_fail(KITH_EDB, "cannot write the store");
		goto done;
	}

	if ((f = calloc(1, sizeof(*f))) == NULL) {
		rc = cli_fail(KITH_ENOMEM, "out of memory");
		goto done;
	}
	if (!cli.json) {
		char fp[15];

		/* What the other device will show when it asks to confirm. */
		pair_fingerprint(hm->dk->sign_pk, fp);
		fprintf(stderr, "This device: '%s', fingerprint %s.\n", name,
		    fp);
	}
	if (peer != NULL) {
		if (reach_peer(f, peer) != 0) {
			rc = cli_fail(KITH_EINVAL, "join: --peer takes"
			    " HOST:PORT");
			goto done;
		}
	} else {
		if (!cli.json)
			fprintf(stderr, "Looking for the other device...\n");
		ticket_tag(&t, tag);
		reach_mdns(f, tag, BROWSE_MS);
		reach_hints(f, t.hints, t.nhints, t.port);
	}
	i = 0;
	if ((rc = reach_connect(f, &i, CONNECT_MS, &fd)) == 0) {
		ui.arg = NULL;
		rc = pair_join(hm, &t, fd, name, &ui, &stored);
		cli_progress_end();
	}
	if (stale && (rc == KITH_ECONN || rc == KITH_EHANDSHAKE)) {
		(void)store_meta_del(hm->st, "pending_ticket");
		rc = cli_fail(KITH_EEXPIRED, "this pairing code expired at %s;"
		    " run 'kith pair' again on the other device", when);
		goto done;
	}
	if (rc == KITH_ECONN) {
		rc = cli_fail(rc, "cannot reach the device that showed the"
		    " code; check that 'kith pair' still runs there and that"
		    " both are on the same network, or give --peer HOST:PORT");
		goto done;
	}
	if (rc != 0) {
		/* A refusal ends this ticket; a cut or a full disk keeps it. */
		if (rc != KITH_ETRUNC && rc != KITH_ECLOSED &&
		    rc != KITH_ETIMEOUT && rc != KITH_ECRYPTO &&
		    rc != KITH_ENOSPACE)
			(void)store_meta_del(hm->st, "pending_ticket");
		rc = join_fail(rc, stored);
		goto done;
	}
	(void)store_meta_del(hm->st, "pending_ticket");
	if (store_count(hm->st, NULL, STORE_UNIQUE, &n, NULL) != 0)
		n = stored;
	cli_agent_poke(hm);
	if (cli.json)
		cli_json_out(json_pack("{s:b, s:s, s:I, s:I, s:I}", "ok", 1,
		    "device", name, "received", (json_int_t)stored,
		    "sent", (json_int_t)join_offered, "records",
		    (json_int_t)n));
	else
		printf("Joined the account as '%s': %llu new records received,"
		    " %llu held.\n", name, (unsigned long long)stored,
		    (unsigned long long)n);
	rc = 0;
done:
	ticket_wipe(&t);
	if (text != NULL) {
		sodium_memzero(text, strlen(text));
		free(text);
	}
	free(f);
	home_close(hm);
	return (rc ? 1 : 0);
}
