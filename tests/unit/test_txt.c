/*
 * test_txt: discovery_txt_get() against well-formed and hostile TXT records.
 *
 * Every record is copied into a heap buffer of exactly its size, so that a
 * sanitizer build catches a single byte read past the end.  Each test runs
 * in a child process with a time limit; the process exits non-zero if any
 * test fails.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "discovery.h"
#include "kith_err.h"

#define TEST_TIMEOUT_S 20

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,	\
		    __LINE__, #cond);					\
		return 1;						\
	}								\
} while (0)

/* A record from a string literal (sizeof includes the final NUL). */
#define REC(lit) (const uint8_t *)(lit), sizeof(lit) - 1

/* An exact-size heap copy of ${len} bytes of ${p}; NULL if ${len} is 0. */
static uint8_t *
exact(const uint8_t *p, size_t len)
{
	uint8_t *q;

	if (len == 0)
		return NULL;
	if ((q = malloc(len)) == NULL) {
		perror("malloc");
		exit(2);
	}
	memcpy(q, p, len);
	return q;
}

/*
 * Look ${key} up in a heap copy of ${rec}; check the return code is ${want}
 * and, on success, that the value is ${wantval} (${wantlen} bytes) and lies
 * inside the record.  Returns 0 if all holds.
 */
static int
expect(const uint8_t *rec, size_t len, const char *key, int want,
    const char *wantval, size_t wantlen)
{
	uint8_t *txt = exact(rec, len);
	const uint8_t *val = (const uint8_t *)"junk";
	size_t vallen = 99;
	int rc, bad = 0;

	rc = discovery_txt_get(txt, len, key, &val, &vallen);
	if (rc != want) {
		fprintf(stderr, "key \"%s\": got %d (%s), want %d (%s)\n", key,
		    rc, kith_strerror(rc), want, kith_strerror(want));
		bad = 1;
	} else if (rc != 0) {
		if (val != NULL || vallen != 0) {
			fprintf(stderr, "key \"%s\": output not cleared\n",
			    key);
			bad = 1;
		}
	} else if (val == NULL || val < txt || val > txt + len ||
	    vallen > (size_t)(txt + len - val)) {
		fprintf(stderr, "key \"%s\": value outside the record\n", key);
		bad = 1;
	} else if (vallen != wantlen ||
	    (wantlen > 0 && memcmp(val, wantval, wantlen) != 0)) {
		fprintf(stderr, "key \"%s\": wrong value (%zu bytes)\n", key,
		    vallen);
		bad = 1;
	}
	free(txt);
	return bad;
}

#define FOUND(rec, key, val)						\
	CHECK(expect(REC(rec), key, 0, val, sizeof(val) - 1) == 0)
#define NOTFOUND(rec, key)						\
	CHECK(expect(REC(rec), key, KITH_ENOENT, NULL, 0) == 0)
#define MALFORMED(rec, key)						\
	CHECK(expect(REC(rec), key, KITH_EFORMAT, NULL, 0) == 0)

static int
test_wellformed(void)
{

	FOUND("\x03v=1\x06id=abc\x06" "empty=", "v", "1");
	FOUND("\x03v=1\x06id=abc\x06" "empty=", "id", "abc");
	FOUND("\x03v=1\x06id=abc\x06" "empty=", "empty", "");
	NOTFOUND("\x03v=1\x06id=abc\x06" "empty=", "missing");

	/* Only the first '=' separates; the value may hold more. */
	FOUND("\x05" "a=b=c", "a", "b=c");

	/* Values are bytes, NULs included. */
	FOUND("\x05" "b=\x00\xff\x01", "b", "\x00\xff\x01");
	return 0;
}

static int
test_prefixes(void)
{

	/* A key is all of what precedes '=', not a prefix of it. */
	NOTFOUND("\x04vv=1", "v");
	NOTFOUND("\x03v=1", "vv");
	NOTFOUND("\x05" "flags", "flag");
	FOUND("\x04vv=1\x03v=2", "v", "2");
	return 0;
}

static int
test_case_insensitive(void)
{

	/* RFC 6763 6.4: keys compare case-insensitively; values do not. */
	FOUND("\x07KeY=VaL", "key", "VaL");
	FOUND("\x07KeY=VaL", "KEY", "VaL");
	FOUND("\x07key=VaL", "KeY", "VaL");

	/* Only ASCII folds, whatever the locale: not 0xC1 and 0xE1. */
	NOTFOUND("\x03\xc1=1", "\xe1");
	FOUND("\x03\xc1=1", "\xc1", "1");

	/* '@' and '`' sit next to the letters but are not letters. */
	NOTFOUND("\x03@=1", "`");
	return 0;
}

static int
test_duplicates(void)
{

	/* RFC 6763 6.4: all but the first occurrence are ignored. */
	FOUND("\x03" "a=1\x03" "A=2\x03" "a=3", "a", "1");
	FOUND("\x01" "a\x03" "a=2", "a", "");
	FOUND("\x03" "a=1\x01" "a", "a", "1");
	return 0;
}

static int
test_bare_key(void)
{
	const uint8_t rec[] = "\x04" "flag\x03" "x=y";
	uint8_t *txt = exact(rec, sizeof(rec) - 1);
	const uint8_t *val;
	size_t vallen;

	/* A key without '=' is present, with an empty value. */
	CHECK(discovery_txt_get(txt, sizeof(rec) - 1, "flag", &val, &vallen) ==
	    0);
	CHECK(vallen == 0);
	CHECK(val == txt + 5);
	CHECK(discovery_txt_get(txt, sizeof(rec) - 1, "x", &val, &vallen) ==
	    0);
	CHECK(vallen == 1 && val[0] == 'y');
	free(txt);

	/* A bare key at the very end of the record. */
	FOUND("\x03" "x=y\x04" "flag", "flag", "");
	return 0;
}

static int
test_empty(void)
{
	const uint8_t *val;
	size_t vallen;

	/* No record at all. */
	CHECK(discovery_txt_get(NULL, 0, "a", &val, &vallen) == KITH_ENOENT);
	CHECK(val == NULL && vallen == 0);

	/* The empty record: one empty string (RFC 6763 6.1). */
	NOTFOUND("\x00", "a");

	/* Empty strings among others are harmless. */
	FOUND("\x00\x03" "a=1\x00", "a", "1");
	FOUND("\x00\x00\x00\x03" "a=1", "a", "1");

	/* Strings with an empty key are ignored (RFC 6763 6.4). */
	FOUND("\x02=x\x03" "a=1", "a", "1");
	NOTFOUND("\x02=x\x01=", "a");

	/* Keys that no record can hold. */
	NOTFOUND("\x03" "a=1\x02=x", "");
	NOTFOUND("\x05" "a=b=c", "a=b");
	return 0;
}

static int
test_hostile(void)
{

	/* A length byte that runs past the end. */
	MALFORMED("\x05" "a=1", "a");
	MALFORMED("\xff", "a");
	MALFORMED("\x01", "a");

	/* A last length byte with nothing after it. */
	MALFORMED("\x03" "a=1\x09", "a");
	MALFORMED("\x03" "a=1\x01", "b");

	/* Malformed after the key: still refused, the whole record is. */
	MALFORMED("\x03" "a=1\xff" "xyz", "a");

	/* Exactly at the end is fine. */
	FOUND("\x03" "a=1\x03" "b=2", "b", "2");
	return 0;
}

static int
test_long(void)
{
	uint8_t rec[1 + 255];
	uint8_t big[4 * 1000];
	char want[253];
	size_t i;

	/* One string of the largest length, 255 bytes: "k=" then 253. */
	rec[0] = 255;
	rec[1] = 'k';
	rec[2] = '=';
	for (i = 0; i < sizeof(want); i++) {
		rec[3 + i] = (uint8_t)('a' + i % 26);
		want[i] = (char)rec[3 + i];
	}
	CHECK(expect(rec, sizeof(rec), "k", 0, want, sizeof(want)) == 0);

	/* Many strings: the last one is found. */
	for (i = 0; i < 1000; i++) {
		big[4 * i] = 3;
		big[4 * i + 1] = 'a';
		big[4 * i + 2] = '=';
		big[4 * i + 3] = '0';
	}
	big[sizeof(big) - 3] = 'z';
	CHECK(expect(big, sizeof(big), "z", 0, "0", 1) == 0);
	CHECK(expect(big, sizeof(big), "a", 0, "0", 1) == 0);

	/* ...and one byte short is malformed. */
	CHECK(expect(big, sizeof(big) - 1, "z", KITH_EFORMAT, NULL, 0) == 0);
	return 0;
}

/* Is ${rec} a sequence of whole length-prefixed strings? */
static int
wellformed(const uint8_t *rec, size_t len)
{
	size_t pos = 0;

	while (pos < len) {
		if ((size_t)rec[pos] + 1 > len - pos)
			return 0;
		pos += (size_t)rec[pos] + 1;
	}
	return 1;
}

static int
test_random(void)
{
	static const char *keys[] = { "a", "A", "ab", "=", "", "k" };
	uint8_t buf[64], *txt;
	const uint8_t *val;
	uint32_t x = 0x6b697468;	/* xorshift32, fixed seed */
	size_t vallen, len, i, k;
	int n, rc;

	/* Random short records over a small alphabet, so that keys, '=' and
	 * length bytes collide often; ASan watches every read. */
	for (n = 0; n < 200000; n++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		len = x % sizeof(buf);
		for (i = 0; i < len; i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			buf[i] = (uint8_t)"\x00\x01\x02\x03\x04=aAbk\xff"[x % 11];
		}
		txt = exact(buf, len);
		for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
			rc = discovery_txt_get(txt, len, keys[k], &val,
			    &vallen);
			if (!wellformed(buf, len)) {
				CHECK(rc == KITH_EFORMAT);
				continue;
			}
			CHECK(rc == 0 || rc == KITH_ENOENT);
			if (rc == 0) {
				CHECK(val >= txt && val <= txt + len);
				CHECK(vallen <= (size_t)(txt + len - val));
			} else {
				CHECK(val == NULL && vallen == 0);
			}
		}
		free(txt);
	}
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(void);
} tests[] = {
	{ "wellformed", test_wellformed },
	{ "prefixes", test_prefixes },
	{ "case_insensitive", test_case_insensitive },
	{ "duplicates", test_duplicates },
	{ "bare_key", test_bare_key },
	{ "empty", test_empty },
	{ "hostile", test_hostile },
	{ "long", test_long },
	{ "random", test_random },
};

int
main(void)
{
	size_t i;
	pid_t pid;
	int status, failed = 0;

	for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		fflush(stdout);
		if ((pid = fork()) == -1) {
			perror("fork");
			return 2;
		}
		if (pid == 0) {
			alarm(TEST_TIMEOUT_S);
			exit(tests[i].fn() == 0 ? 0 : 1);
		}
		if (waitpid(pid, &status, 0) == -1) {
			perror("waitpid");
			return 2;
		}
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
			printf("ok %zu - %s\n", i + 1, tests[i].name);
		} else {
			printf("not ok %zu - %s (%s %d)\n", i + 1,
			    tests[i].name, WIFSIGNALED(status) ? "signal" :
			    "exit", WIFSIGNALED(status) ? WTERMSIG(status) :
			    WEXITSTATUS(status));
			failed = 1;
		}
	}
	return failed;
}
