/*
 * fuzz_cli.c: the numbers, durations and addresses given on a command line
 * or in the environment.  The first byte of an input says which parser
 * takes the rest (as a C string, up to a NUL):
 *
 *  0. kith_duration (kith invite create --ttl): accepted exactly when it
 *     is digits and at most one unit letter (s, m, h, d) of at most ten
 *     years (the rule written again here, with numbers of any length);
 *     what is accepted goes round (written back in seconds, and in its
 *     unit, it reads the same);
 *  1. kith_number (kith pair --timeout and --port, kith invite create
 *     --uses) between bounds picked by the next two bytes: accepted
 *     exactly when it is decimal digits alone and within the bounds
 *     (compared here as digit strings, so that no overflow can hide);
 *     what is accepted goes round;
 *  2. kithd --peer HOST:PORT (parse_peer of syncd/kithd/main.c): what is
 *     accepted is an IPv4 address and a port from 1 to 65535 that, written
 *     back, reads the same;
 *  3. kithd's KITHD_* seconds from the environment (env_secs): always
 *     within the bounds or the default, and the value itself when it is
 *     plain digits within the bounds.
 *
 * kithd's parsers are static in its main.c; kithd_main.c reaches them.
 * UBSan watches for signed overflow throughout.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "kith_err.h"
#include "kith_util.h"

#include "fuzz.h"

int kithd_parse_peer(const char *arg, struct manual *m);
unsigned kithd_env_secs(const char *name, unsigned def, unsigned min,
    unsigned max);

#define MAXDUR (10ull * 366 * 86400)

static const uint64_t bounds[] = { 0, 1, 10, 60, 255, 3600, 65535,
    UINT32_MAX, (uint64_t)INT64_MAX, UINT64_MAX };
#define NBOUNDS (sizeof(bounds) / sizeof(bounds[0]))

/* The digits of ${s} (leading zeros dropped) against ${v}: <0, 0, >0. */
static int
digits_cmp(const char *s, size_t n, uint64_t v)
{
	char d[32];
	size_t k;

	while (n > 1 && s[0] == '0') {
		s++;
		n--;
	}
	snprintf(d, sizeof(d), "%llu", (unsigned long long)v);
	k = strlen(d);
	if (n != k)
		return (n < k ? -1 : 1);
	return (memcmp(s, d, n));
}

static size_t
ndigits(const char *s)
{
	size_t i = 0;

	while (s[i] >= '0' && s[i] <= '9')
		i++;
	return (i);
}

static void
duration(const char *s)
{
	static const char units[] = "smhd";
	static const uint64_t mul[] = { 1, 60, 3600, 86400 };
	uint64_t v = 0, w;
	size_t nd = ndigits(s), u = 0;
	char buf[64];
	int rc, ok;

	rc = kith_duration(s, &v);
	FUZZ_MUST(rc == 0 || rc == KITH_EINVAL);
	ok = nd > 0 && (s[nd] == '\0' || (strchr(units, s[nd]) != NULL &&
	    s[nd + 1] == '\0'));
	if (ok) {
		u = s[nd] == '\0' ? 0 : (size_t)(strchr(units, s[nd]) - units);
		/* At most ten years: the number against MAXDUR / unit. */
		ok = digits_cmp(s, nd, MAXDUR / mul[u]) <= 0;
	}
	FUZZ_MUST((rc == 0) == ok);
	if (rc != 0)
		return;
	FUZZ_MUST(v <= MAXDUR && v % mul[u] == 0);
	FUZZ_MUST(digits_cmp(s, nd, v / mul[u]) == 0);
	snprintf(buf, sizeof(buf), "%llus", (unsigned long long)v);
	FUZZ_MUST(kith_duration(buf, &w) == 0 && w == v);
	snprintf(buf, sizeof(buf), "%llu%c", (unsigned long long)(v / mul[u]),
	    units[u]);
	FUZZ_MUST(kith_duration(buf, &w) == 0 && w == v);
}

static void
number(const uint8_t *b, const char *s)
{
	uint64_t min = bounds[b[0] % NBOUNDS], max = bounds[b[1] % NBOUNDS];
	uint64_t v = 0, w;
	size_t nd = ndigits(s);
	char buf[32];
	int rc, ok;

	rc = kith_number(s, min, max, &v);
	FUZZ_MUST(rc == 0 || rc == KITH_EINVAL);
	ok = nd > 0 && s[nd] == '\0' && digits_cmp(s, nd, min) >= 0 &&
	    digits_cmp(s, nd, max) <= 0;
	FUZZ_MUST((rc == 0) == ok);
	if (rc != 0)
		return;
	FUZZ_MUST(v >= min && v <= max && digits_cmp(s, nd, v) == 0);
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	FUZZ_MUST(kith_number(buf, min, max, &w) == 0 && w == v);
}

static void
peer(const char *s)
{
	const struct sockaddr_in *sin;
	struct manual m, m2;
	char buf[128], a[INET_ADDRSTRLEN];

	if (kithd_parse_peer(s, &m) != 0)
		return;
	sin = (const struct sockaddr_in *)&m.addr;
	FUZZ_MUST(sin->sin_family == AF_INET && ntohs(sin->sin_port) >= 1);
	FUZZ_MUST(strlen(m.text) < sizeof(m.text) &&
	    strncmp(m.text, s, sizeof(m.text) - 1) == 0);
	FUZZ_MUST(strrchr(s, ':') != NULL);
	FUZZ_MUST(inet_ntop(AF_INET, &sin->sin_addr, a, sizeof(a)) != NULL);
	snprintf(buf, sizeof(buf), "%s:%u", a, ntohs(sin->sin_port));
	FUZZ_MUST(kithd_parse_peer(buf, &m2) == 0);
	FUZZ_MUST(memcmp(&m.addr, &m2.addr, sizeof(m.addr)) == 0);
}

static void
env(const uint8_t *b, const char *s)
{
	unsigned min = (unsigned)bounds[b[0] % 7], max = (unsigned)bounds[b[1] %
	    7], def = 12345, r;
	size_t nd = ndigits(s);

	FUZZ_MUST(setenv("KITHD_FUZZ_SECS", s, 1) == 0);
	r = kithd_env_secs("KITHD_FUZZ_SECS", def, min, max);
	FUZZ_MUST(r == def || (r >= min && r <= max));
	if (nd > 0 && s[nd] == '\0' && digits_cmp(s, nd, min) >= 0 &&
	    digits_cmp(s, nd, max) <= 0)
		FUZZ_MUST(digits_cmp(s, nd, r) == 0);
	else if (s[0] == '\0')
		FUZZ_MUST(r == def);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t zero[2];
	const uint8_t *b = zero;
	char *s;
	size_t off = 1;

	if (size < 1)
		return (0);
	if (data[0] % 4 == 1 || data[0] % 4 == 3) {
		if (size < 3)
			return (0);
		b = data + 1;
		off = 3;
	}
	/* The text, exactly as long as it is, up to a NUL. */
	FUZZ_MUST((s = malloc(size - off + 1)) != NULL);
	memcpy(s, data + off, size - off);
	s[size - off] = '\0';
	switch (data[0] % 4) {
	case 0:
		duration(s);
		break;
	case 1:
		number(b, s);
		break;
	case 2:
		peer(s);
		break;
	case 3:
		env(b, s);
		break;
	}
	free(s);
	return (0);
}
