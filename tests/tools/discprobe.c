/*
 * discprobe: drive discovery/ from the integration scenarios.
 *
 *   discprobe announce INSTANCE PORT [KEY=VAL ...]
 *	Announce until SIGTERM or SIGINT, then withdraw, print "withdrawn
 *	INSTANCE" and exit 0.
 *
 *   discprobe browse [--want INSTANCE] [--timeout MS]
 *	Print one line per address found,
 *	    INSTANCE ADDR PORT txt:KEY=VAL,...
 *	(bytes outside printable ASCII, and ' ', ',', '\', as \xHH).  With
 *	--want, only INSTANCE passes the filter; exit 0 once it is found.
 *	Without, exit 0 at the timeout if anything was found.  Exit 1 on
 *	timeout (default 10000 ms).
 *
 * Exit 2: usage or setup error; 3: the loop still had handles at the end.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "discovery.h"
#include "kith_err.h"

struct announce_state {
	discovery_announce *a;
	uv_signal_t sigterm;
	uv_signal_t sigint;
};

struct browse_state {
	const char *want;
	discovery_browse *b;
	uv_timer_t timer;
	unsigned nfound;
	int done;
	int result;
};

static int
parse_num(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || *out > max)
		return -1;
	return 0;
}

/* Close whatever uv handles are left so that uv_loop_close succeeds. */
static int
finish_loop(uv_loop_t *loop, int rc)
{

	uv_run(loop, UV_RUN_DEFAULT);
	if (uv_loop_close(loop) != 0) {
		fprintf(stderr, "discprobe: handles left open on the loop\n");
		return 3;
	}
	return rc;
}

static void
on_signal(uv_signal_t *h, int signum)
{
	struct announce_state *st = h->data;

	(void)signum;
	discovery_announce_close(st->a);
	st->a = NULL;
	uv_close((uv_handle_t *)&st->sigterm, NULL);
	uv_close((uv_handle_t *)&st->sigint, NULL);
}

static int
cmd_announce(int argc, char **argv)
{
	struct announce_state st;
	uv_loop_t loop;
	unsigned long port;
	uint8_t *txt = NULL;
	size_t txtlen = 0, len;
	int i, rc;

	if (argc < 3 || parse_num(argv[2], 65535, &port) != 0 || port == 0) {
		fprintf(stderr,
		    "usage: discprobe announce INSTANCE PORT [KEY=VAL ...]\n");
		return 2;
	}

	/* The TXT record: one length-prefixed string per argument. */
	for (i = 3; i < argc; i++) {
		if ((len = strlen(argv[i])) > 255) {
			fprintf(stderr, "discprobe: TXT string too long\n");
			return 2;
		}
		txtlen += 1 + len;
	}
	if (txtlen > 0) {
		if ((txt = malloc(txtlen)) == NULL) {
			fprintf(stderr, "discprobe: out of memory\n");
			return 2;
		}
		txtlen = 0;
		for (i = 3; i < argc; i++) {
			len = strlen(argv[i]);
			txt[txtlen++] = (uint8_t)len;
			memcpy(&txt[txtlen], argv[i], len);
			txtlen += len;
		}
	}

	if (uv_loop_init(&loop) != 0) {
		free(txt);
		fprintf(stderr, "discprobe: cannot start the event loop\n");
		return 2;
	}
	rc = discovery_announce_start(&loop, &st.a, argv[1], (uint16_t)port,
	    txt, txtlen);
	free(txt);
	if (rc != 0) {
		fprintf(stderr, "discprobe: announce: %s\n", kith_strerror(rc));
		return finish_loop(&loop, 2);
	}

	uv_signal_init(&loop, &st.sigterm);
	uv_signal_init(&loop, &st.sigint);
	st.sigterm.data = st.sigint.data = &st;
	if (uv_signal_start(&st.sigterm, on_signal, SIGTERM) != 0 ||
	    uv_signal_start(&st.sigint, on_signal, SIGINT) != 0) {
		fprintf(stderr, "discprobe: cannot catch signals\n");
		on_signal(&st.sigterm, 0);
		return finish_loop(&loop, 2);
	}
	printf("announcing %s port %lu\n", argv[1], port);
	fflush(stdout);

	/* Tell the scenario that the shutdown was clean. */
	if ((rc = finish_loop(&loop, 0)) == 0)
		printf("withdrawn %s\n", argv[1]);
	return rc;
}

/* Print ${n} bytes of ${p}, escaping what would confuse a reader. */
static void
print_escaped(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] > ' ' && p[i] < 0x7f && p[i] != ',' && p[i] != '\\')
			putchar(p[i]);
		else
			printf("\\x%02x", p[i]);
	}
}

static int
want_filter(void *arg, const char *instance)
{
	struct browse_state *st = arg;

	return st->want == NULL || strcmp(st->want, instance) == 0;
}

static void
browse_stop(struct browse_state *st, int result)
{

	if (st->done)
		return;
	st->done = 1;
	st->result = result;
	discovery_browse_close(st->b);
	st->b = NULL;
	uv_close((uv_handle_t *)&st->timer, NULL);
}

static void
on_found(void *arg, const struct discovery_found *f)
{
	struct browse_state *st = arg;
	char addr[INET6_ADDRSTRLEN];
	struct sockaddr_storage ss;
	const void *ap;
	size_t pos, slen;

	if (st->done || f->addrlen > sizeof(ss))
		return;

	/* A copy, so that the casts below are to well-aligned memory. */
	memset(&ss, 0, sizeof(ss));
	memcpy(&ss, f->addr, f->addrlen);
	if (ss.ss_family == AF_INET)
		ap = &((const struct sockaddr_in *)&ss)->sin_addr;
	else if (ss.ss_family == AF_INET6)
		ap = &((const struct sockaddr_in6 *)&ss)->sin6_addr;
	else
		return;
	if (inet_ntop(ss.ss_family, ap, addr, sizeof(addr)) == NULL)
		return;

	printf("%s %s %u txt:", f->instance, addr, (unsigned)f->port);
	for (pos = 0; pos < f->txtlen; pos += 1 + slen) {
		slen = f->txt[pos];
		if (slen > f->txtlen - pos - 1) {
			printf("<malformed>");
			break;
		}
		if (pos > 0)
			putchar(',');
		print_escaped(&f->txt[pos + 1], slen);
	}
	putchar('\n');
	fflush(stdout);

	st->nfound++;
	if (st->want != NULL && strcmp(st->want, f->instance) == 0)
		browse_stop(st, 0);
}

static void
on_timeout(uv_timer_t *t)
{
	struct browse_state *st = t->data;

	browse_stop(st, (st->want == NULL && st->nfound > 0) ? 0 : 1);
}

static int
cmd_browse(int argc, char **argv)
{
	struct browse_state st;
	uv_loop_t loop;
	unsigned long timeout = 10000;
	int i, rc;

	memset(&st, 0, sizeof(st));
	st.result = 1;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--want") == 0 && i + 1 < argc) {
			st.want = argv[++i];
		} else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc &&
		    parse_num(argv[i + 1], 86400000, &timeout) == 0) {
			i++;
		} else {
			fprintf(stderr, "usage: discprobe browse "
			    "[--want INSTANCE] [--timeout MS]\n");
			return 2;
		}
	}

	if (uv_loop_init(&loop) != 0) {
		fprintf(stderr, "discprobe: cannot start the event loop\n");
		return 2;
	}
	if ((rc = discovery_browse_start(&loop, &st.b, want_filter, on_found,
	    &st)) != 0) {
		fprintf(stderr, "discprobe: browse: %s\n", kith_strerror(rc));
		return finish_loop(&loop, 2);
	}
	uv_timer_init(&loop, &st.timer);
	st.timer.data = &st;
	uv_timer_start(&st.timer, on_timeout, timeout, 0);

	/* The timer ends every run; until it does, the result is a miss. */
	rc = finish_loop(&loop, 0);
	return rc != 0 ? rc : st.result;
}

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *help;
} cmds[] = {
	{ "announce", cmd_announce, "INSTANCE PORT [KEY=VAL ...]" },
	{ "browse", cmd_browse, "[--want INSTANCE] [--timeout MS]" },
};

int
main(int argc, char **argv)
{
	size_t i;

	/* Avahi's compatibility library warns on stderr unless told not to. */
	setenv("AVAHI_COMPAT_NOWARN", "1", 0);

	/* A reader that went away must not kill us mid-announcement. */
	signal(SIGPIPE, SIG_IGN);

	if (argc >= 2) {
		for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
			if (strcmp(argv[1], cmds[i].name) == 0)
				return cmds[i].fn(argc - 1, argv + 1);
		}
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(stderr, "usage: discprobe %s %s\n", cmds[i].name,
		    cmds[i].help);
	return 2;
}
