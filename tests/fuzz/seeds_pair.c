/*
 * seeds_pair.c: the seed corpus of fuzz_pair, written to CORPUS-DIR/fuzz_pair
 * (seeds.h), with libsodium's random bytes a fixed stream:
 *
 *     seeds_pair tests/fuzz/corpus
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

	seeds_init(argc, argv, "fuzz_pair");
	fp_keys();

	seeds_put("ok-1", -1, b, seed(b, 1, "p", 1));
	seeds_put("ok-phone", -1, b, seed(b, 1, "phone", 5));
	seeds_put("ok-utf8", -1, b, seed(b, 1, "t\xc3\xa9l\xc3\xa9phone", 12));
	memset(name, 'n', sizeof(name));
	seeds_put("ok-64", -1, b, seed(b, 1, name, ROSTER_NAMEMAX));
	seeds_put("name-65", -1, b, seed(b, 1, name, ROSTER_NAMEMAX + 1));
	seeds_put("name-0", -1, b, seed(b, 1, "", 0));
	seeds_put("name-nul", -1, b, seed(b, 1, "ph\0ne", 5));
	seeds_put("name-ctl", -1, b, seed(b, 1, "ph\nne", 5));
	seeds_put("name-badutf8", -1, b, seed(b, 1, "ph\xc3", 3));
	n = seed(b, 1, "phone", 5);
	b[2] = 2;
	seeds_put("version-2", -1, b, n);
	b[2] = 1;
	b[1]--;
	seeds_put("short", -1, b, n);
	b[1] += 2;
	b[n] = 0;
	seeds_put("long", -1, b, n + 1);
	n = seed(b, 1, "phone", 5);
	b[n - 1] ^= 1;
	seeds_put("other-key", -1, b, n);

	/* Forged proofs: zeros, another type, nothing at all. */
	n = seed(b, 0, "phone", 5);
	b[n] = MSG_JOIN_PROOF;
	memset(b + n + 1, 0, 64);
	seeds_put("proof-zero", -1, b, n + 65);
	b[n] = MSG_HAVE;
	seeds_put("proof-type", -1, b, n + 65);
	seeds_put("proof-none", -1, b, n);
	return (0);
}
