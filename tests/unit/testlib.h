/*
 * testlib.h: small helpers that several unit tests share, written apart
 * from the code under test so that they can check it.
 */
#ifndef KITH_TEST_TESTLIB_H
#define KITH_TEST_TESTLIB_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* RFC 4648 base32, upper case, no padding: the tests' own encoder. */
static inline void
b32(const uint8_t *in, size_t len, char *out)
{
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	size_t bit, nbits = len * 8, o = 0;
	unsigned v;
	int k;

	for (bit = 0; bit < nbits; bit += 5) {
		v = 0;
		for (k = 0; k < 5; k++) {
			v <<= 1;
			if (bit + (size_t)k < nbits &&
			    (in[(bit + (size_t)k) / 8] >>
			    (7 - (bit + (size_t)k) % 8)) & 1)
				v |= 1;
		}
		out[o++] = al[v];
	}
	out[o] = '\0';
}

/* The whole of a file, malloc'd; NULL if it cannot be read. */
static inline uint8_t *
read_file(const char *path, size_t *n)
{
	FILE *f;
	uint8_t *b;
	long sz;

	*n = 0;
	if ((f = fopen(path, "rb")) == NULL)
		return (NULL);
	fseek(f, 0, SEEK_END);
	sz = ftell(f);
	rewind(f);
	if ((b = malloc((size_t)sz + 1)) == NULL ||
	    fread(b, 1, (size_t)sz, f) != (size_t)sz) {
		free(b);
		fclose(f);
		return (NULL);
	}
	fclose(f);
	*n = (size_t)sz;
	return (b);
}

/* Write ${n} bytes to ${path}; 0 or -1. */
static inline int
write_file(const char *path, const void *p, size_t n)
{
	FILE *f;
	int ok;

	if ((f = fopen(path, "wb")) == NULL)
		return (-1);
	ok = fwrite(p, 1, n, f) == n;
	return (fclose(f) == 0 && ok ? 0 : -1);
}

#endif
