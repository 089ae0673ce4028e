/*
 * seeds.h: what the seed generators of tests/fuzz (seeds_<what>.c) share.
 * Each writes the seed corpus of one harness family into DIR/fuzz_<what>/
 * (seeds_<what> tests/fuzz/corpus); ctest never runs them, their output is
 * kept in the tree.
 *
 * seeds_init() makes libsodium's random bytes a fixed ChaCha20 stream, so
 * that what is made of new keys, nonces and sealed boxes comes out the
 * same on every run; only what takes the clock (the times in rosters and
 * records) differs.
 */
#ifndef KITH_FUZZ_SEEDS_H
#define KITH_FUZZ_SEEDS_H

#include <sys/stat.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "kith_err.h"

static const char *seeds_dir;		/* DIR/fuzz_<what> */
static uint64_t seeds_ctr;

static inline const char *
seeds_rb_name(void)
{

	return ("kith-seeds");
}

static inline void
seeds_rb_buf(void *const buf, const size_t size)
{
	static const uint8_t key[32] = { 's', 'e', 'e', 'd', 's' };
	uint8_t nonce[8];
	size_t i;

	for (i = 0; i < 8; i++)
		nonce[i] = (uint8_t)(seeds_ctr >> (8 * i));
	seeds_ctr++;
	crypto_stream_chacha20(buf, size, nonce, key);
}

static inline uint32_t
seeds_rb_random(void)
{
	uint32_t v;

	seeds_rb_buf(&v, sizeof(v));
	return (v);
}

/* argv[1]: the corpus directory; makes DIR/${name}. */
static inline void
seeds_init(int argc, char **argv, const char *name)
{
	static struct randombytes_implementation seeds_rb = {
		.implementation_name = seeds_rb_name,
		.random = seeds_rb_random,
		.buf = seeds_rb_buf,
	};
	static char dir[4096];

	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS-DIR\n", argv[0]);
		exit(2);
	}
	if (randombytes_set_implementation(&seeds_rb) != 0 ||
	    sodium_init() < 0)
		exit(1);
	snprintf(dir, sizeof(dir), "%s/%s", argv[1], name);
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		perror(dir);
		exit(1);
	}
	seeds_dir = dir;
}

/*
 * Write ${dir}/${name}: the mode byte ${mode} (if >= 0), then ${p}; 0, or
 * -1 once perror() has said why.
 */
static inline int
seeds_write(const char *dir, const char *name, int mode, const void *p,
    size_t n)
{
	char path[4200];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "wb")) == NULL) {
		perror(path);
		return (-1);
	}
	ok = (mode < 0 || fputc(mode, f) != EOF) &&
	    (n == 0 || fwrite(p, 1, n, f) == n);
	if (fclose(f) != 0 || !ok) {
		perror(path);
		return (-1);
	}
	return (0);
}

/* The seed ${name} in the directory of seeds_init(); exits if it fails. */
static inline void
seeds_put(const char *name, int mode, const void *p, size_t n)
{

	if (seeds_write(seeds_dir, name, mode, p, n) != 0)
		exit(1);
}

static inline void
seeds_must(int rc, const char *what)
{

	if (rc != 0) {
		fprintf(stderr, "seeds: %s: %s\n", what, kith_strerror(rc));
		exit(1);
	}
}

#endif
