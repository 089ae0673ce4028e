/*
 * fuzz.h: the entry point every harness of tests/fuzz defines.  libFuzzer
 * calls it with each input it makes; replay.c calls it with each file of a
 * corpus.  It returns 0, and abort()s on any broken property, so that
 * both report it as a crash.
 */
#ifndef KITH_FUZZ_H
#define KITH_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property every input must keep; abort() names the line if not. */
#define FUZZ_MUST(c) do {						\
	if (!(c)) {							\
		fprintf(stderr, "%s:%d: property broken: %s\n",		\
		    __FILE__, __LINE__, #c);				\
		abort();						\
	}								\
} while (0)

#endif
