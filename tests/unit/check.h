/*
 * check.h: the few lines every unit test shares.  CHECK(cond) and
 * CHECK_RC(expr, want) count and report; a test's main() ends with
 * check_summary("name").
 */
#ifndef KITH_TEST_CHECK_H
#define KITH_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

#include "kith_err.h"

static int npass, nfail;

#define CHECK(c)	check((c), #c, __LINE__)
#define CHECK_RC(e, want)	check_rc((e), (want), #e, __LINE__)

static inline const char *
check_file_(void)
{
	const char *f = __BASE_FILE__, *s = strrchr(f, '/');

	return (s ? s + 1 : f);
}

static inline int
check(int ok, const char *what, int line)
{

	if (ok)
		npass++;
	else {
		nfail++;
		fprintf(stderr, "%s:%d: check failed: %s\n", check_file_(),
		    line, what);
	}
	return (ok);
}

static inline int
check_rc(int got, int want, const char *what, int line)
{

	if (got == want)
		npass++;
	else {
		nfail++;
		fprintf(stderr, "%s:%d: %s: got %d (%s), want %d (%s)\n",
		    check_file_(), line, what, got, kith_strerror(got), want,
		    kith_strerror(want));
	}
	return (got == want);
}

#endif
