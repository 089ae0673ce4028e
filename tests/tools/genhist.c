/*
 * genhist N SIZE [SEED]: print N history records of about SIZE bytes each
 * as JSON lines, deterministic for a given SEED.  Every record carries a
 * unique (service, id) and a body of printable text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
main(int argc, char **argv)
{
	unsigned long long n, i;
	unsigned long size, seed, x, k, blen;
	char *body;

	if (argc < 3) {
		fprintf(stderr, "usage: genhist N SIZE [SEED]\n");
		return (2);
	}
	n = strtoull(argv[1], NULL, 10);
	size = strtoul(argv[2], NULL, 10);
	seed = argc > 3 ? strtoul(argv[3], NULL, 10) : 1;
	blen = size > 120 ? size - 120 : 8;
	if ((body = malloc(blen + 1)) == NULL)
		return (1);
	x = seed * 2654435761u + 1;
	for (i = 0; i < n; i++) {
		for (k = 0; k < blen; k++) {
			x = x * 6364136223846793005ull + 1442695040888963407ull;
			body[k] = (char)('a' + (x >> 59) % 26);
			if ((x >> 40) % 9 == 0)
				body[k] = ' ';
		}
		body[blen] = '\0';
		printf("{\"service\":\"mail.example.org\",\"id\":\"%lu-%llu\","
		    "\"from\":\"alice@example.org\",\"time\":%llu,"
		    "\"subject\":\"message %llu\",\"body\":\"%s\"}\n", seed, i,
		    1700000000ull + i, i, body);
	}
	free(body);
	return (0);
}
