/*
 * seeds_pair.c: the seed corpus of fuzz_pair, written to the directory
 * named (tests/fuzz/corpus/fuzz_pair):
 *
 *     seeds_pair DIR
 *
 * Well-formed message 1 payloads (names of 1, 5 and 64 bytes, UTF-8)
 * with the genuine proof; then a name with NUL, one with a control
 * character, one too long, a wrong version, a payload one byte short and
 * one too long, another key than the proof's; and forged proofs (zeros,
 * the wrong type, none).  It includes the harness for the joiner's keys;
 * the harness's entry point is unused here.
 */
#include "fuzz_pair.c"
#include "seeds.h"

static const char *dir;
static int failed;

static void
put(const char *name, const uint8_t *p, size_t n)
{

	if (seeds_write(dir, name, -1, p, n) != 0)
		failed = 1;
}

/* flags || n || 1 || nl || name || sign_pk: its length. */
static size_t
seed(uint8_t *b, uint8_t flags, const char *name, size_t nl)
{

	b[0] = flags;
	b[1] = (uint8_t)(2 + nl + 32);
	b[2] = 1;
	b[3] = (uint8_t)nl;
	memcpy(b + 4, name, nl);
	memcpy(b + 4 + nl, jsign_pk, 32);
	return (4 + nl + 32);
}

int
main(int argc, char *argv[])
{
	static uint8_t b[512];
	char name[ROSTER_NAMEMAX + 2];
	size_t n;

	if (argc != 2) {
		fprintf(stderr, "usage: seeds_pair DIR\n");
		return (2);
	}
	dir = argv[1];
	if (sodium_init() < 0)
		return (1);
	fp_keys();

	put("ok-1", b, seed(b, 1, "p", 1));
	put("ok-phone", b, seed(b, 1, "phone", 5));
	put("ok-utf8", b, seed(b, 1, "t\xc3\xa9l\xc3\xa9phone", 12));
	memset(name, 'n', sizeof(name));
	put("ok-64", b, seed(b, 1, name, ROSTER_NAMEMAX));
	put("name-65", b, seed(b, 1, name, ROSTER_NAMEMAX + 1));
	put("name-0", b, seed(b, 1, "", 0));
	put("name-nul", b, seed(b, 1, "ph\0ne", 5));
	put("name-ctl", b, seed(b, 1, "ph\nne", 5));
	put("name-badutf8", b, seed(b, 1, "ph\xc3", 3));
	n = seed(b, 1, "phone", 5);
	b[2] = 2;
	put("version-2", b, n);
	b[2] = 1;
	b[1]--;
	put("short", b, n);
	b[1] += 2;
	b[n] = 0;
	put("long", b, n + 1);
	n = seed(b, 1, "phone", 5);
	b[n - 1] ^= 1;
	put("other-key", b, n);

	/* Forged proofs: zeros, another type, nothing at all. */
	n = seed(b, 0, "phone", 5);
	b[n] = MSG_JOIN_PROOF;
	memset(b + n + 1, 0, 64);
	put("proof-zero", b, n + 65);
	b[n] = MSG_HAVE;
	put("proof-type", b, n + 65);
	put("proof-none", b, n);
	return (failed);
}
