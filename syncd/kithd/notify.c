/*
 * notify.c: tell a service manager how kithd is doing, by the sd_notify
 * datagram protocol (one AF_UNIX datagram of "KEY=VALUE" lines to the
 * socket named in $NOTIFY_SOCKET; '@' names an abstract socket).  Written
 * here rather than linked from libsystemd: it is a dozen lines, and kithd
 * should run the same with or without systemd.  Nothing is sent when
 * $NOTIFY_SOCKET is unset.  No message ever carries a secret: only state
 * words and counts.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"

static struct sockaddr_un nsa;
static socklen_t nsalen;	/* 0: no service manager listening */
static int nfd = -1;
static uint64_t wd_every;	/* ms between WATCHDOG=1; 0: none asked */
static uint64_t wd_next;
static char last_status[128];
static int ready;		/* READY=1 sent: status updates from now */

/*
 * Read $NOTIFY_SOCKET (and $WATCHDOG_USEC) once, and take them out of
 * the environment: the backup child (kith backup --to) must not speak
 * for the agent.
 */
void
ag_notify_init(void)
{
	const char *e = getenv("NOTIFY_SOCKET");
	const char *w = getenv("WATCHDOG_USEC"), *wp = getenv("WATCHDOG_PID");
	unsigned long long us;
	size_t len;
	char *end;

	if (w != NULL && (wp == NULL || strtol(wp, NULL, 10) == getpid())) {
		errno = 0;
		us = strtoull(w, &end, 10);
		if (*end == '\0' && errno == 0 && us > 0)
			/* Twice per period, as sd_watchdog_enabled(3) says. */
			wd_every = us / 2000 > 0 ? us / 2000 : 1;
	}
	(void)unsetenv("WATCHDOG_USEC");
	(void)unsetenv("WATCHDOG_PID");
	if (e == NULL || (e[0] != '/' && e[0] != '@') ||
	    (len = strlen(e)) >= sizeof(nsa.sun_path) || len < 2) {
		(void)unsetenv("NOTIFY_SOCKET");
		wd_every = 0;
		return;
	}
	memset(&nsa, 0, sizeof(nsa));
	nsa.sun_family = AF_UNIX;
	memcpy(nsa.sun_path, e, len);
	if (e[0] == '@')
		nsa.sun_path[0] = '\0';	/* abstract: no NUL terminator */
	nsalen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len +
	    (e[0] == '/'));
	(void)unsetenv("NOTIFY_SOCKET");
	if ((nfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		nsalen = 0;
}

/* Send one message; a manager that went away is not kithd's problem. */
void
ag_notify(const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int n;

	if (nsalen == 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n <= 0 || (size_t)n >= sizeof(msg))
		return;
	while (sendto(nfd, msg, (size_t)n, MSG_NOSIGNAL,
	    (const struct sockaddr *)&nsa, nsalen) == -1 && errno == EINTR)
		continue;
}

/* What systemctl status shows: a state, never a name or a key. */
static void
status_text(const struct agent *ag, char *buf, size_t cap)
{
	size_t i, up = 0;

	if (ag->stopping)
		snprintf(buf, cap, "stopping");
	else if (!ag->hm->has_account || ag->hm->roster == NULL)
		snprintf(buf, cap, "no account yet: run 'kith init' or"
		    " 'kith join'");
	else if (ag->hm->dk->locked)
		snprintf(buf, cap, "locked: run 'kith unlock'");
	else if (!ag->running)
		snprintf(buf, cap, "starting");
	else {
		for (i = 0; i < ag->npeers; i++)
			up += ag->peers[i]->active && ag->peers[i]->s != NULL;
		snprintf(buf, cap, "syncing, %zu of %zu other devices in reach%s", up,
		    ag->npeers, ag->mdns && ag->ann == NULL ?
		    "; mDNS unavailable, retrying" : "");
	}
}

/*
 * The status line when it changed (called every second from the tick,
 * and at once after an unlock), and the watchdog's keepalive when due.
 */
void
ag_notify_status(const struct agent *ag)
{
	char st[sizeof(last_status)];
	uint64_t now;

	if (nsalen == 0 || !ready)
		return;
	status_text(ag, st, sizeof(st));
	if (strcmp(st, last_status) != 0) {
		memcpy(last_status, st, sizeof(st));
		ag_notify("STATUS=%s", st);
	}
	if (wd_every > 0 && (now = ag_now_ms()) >= wd_next) {
		wd_next = now + wd_every;
		ag_notify("WATCHDOG=1");
	}
}

/* Serving: control socket up and, when unlocked, listener and mDNS. */
void
ag_notify_ready(const struct agent *ag)
{
	char st[sizeof(last_status)];

	if (nsalen == 0)
		return;
	status_text(ag, st, sizeof(st));
	memcpy(last_status, st, sizeof(st));
	ready = 1;
	ag_notify("READY=1\nSTATUS=%s\nMAINPID=%ld", st, (long)getpid());
	if (wd_every > 0) {
		wd_next = ag_now_ms() + wd_every;
		ag_notify("WATCHDOG=1");
	}
}

void
ag_notify_stopping(void)
{

	ag_notify("STOPPING=1\nSTATUS=stopping");
}
