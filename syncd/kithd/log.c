/* log.c: kithd's log lines, "TIME kithd[PID]: MESSAGE", on stderr. */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "kith_util.h"

static void
vlogf(const char *fmt, va_list ap)
{
	struct timespec ts;
	struct tm tm;
	char t[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	if (gmtime_r(&ts.tv_sec, &tm) == NULL ||
	    strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		t[0] = '\0';
	fprintf(stderr, "%s.%03ldZ kithd[%ld]: ", t, ts.tv_nsec / 1000000,
	    (long)getpid());
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	fflush(stderr);
}

void
ag_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlogf(fmt, ap);
	va_end(ap);
}

void
ag_vlog(const struct agent *ag, const char *fmt, ...)
{
	va_list ap;

	if (!ag->verbose)
		return;
	va_start(ap, fmt);
	vlogf(fmt, ap);
	va_end(ap);
}

uint64_t
ag_now_ms(void)
{

	return (kith_mono_ms());
}

const char *
ag_addr_text(const struct sockaddr *sa, char *buf, size_t cap)
{
	char a[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &in->sin_addr, a, sizeof(a));
		snprintf(buf, cap, "%s:%u", a, ntohs(in->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 =
		    (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof(a));
		snprintf(buf, cap, "[%s]:%u", a, ntohs(in6->sin6_port));
	} else
		snprintf(buf, cap, "?");
	return (buf);
}

const char *
ag_hex(const uint8_t *b, size_t n, char out[static 65])
{

	kith_hex(b, n > 32 ? 32 : n, out);
	return (out);
}
