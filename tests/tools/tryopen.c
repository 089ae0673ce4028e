/*
 * tryopen: could the device of one home read the records another holds?
 *
 *   tryopen HOME DB
 *	For every record in the store DB (another device's kith.db), try to
 *	decrypt it with what HOME holds (its history keys, as kith itself
 *	would).  Print one line per epoch met,
 *	    epoch E: opened N, no key M, failed K
 *	and exit 0.  Exit 2 on a usage or setup error.
 *
 * The revocation scenario points it at a revoked device's home and a
 * remaining device's store: records of the new epoch must all be "no key".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "home.h"
#include "../unit/testhome.h"
#include "kith_err.h"

#define MAXEP 64

struct tally {
	hist *h;
	size_t n;
	uint32_t epoch[MAXEP];
	unsigned long opened[MAXEP], nokey[MAXEP], failed[MAXEP];
};

static int
one(void *arg, const struct store_rec *rec)
{
	struct tally *t = arg;
	char *txt;
	size_t i, len;
	int rc;

	for (i = 0; i < t->n && t->epoch[i] != rec->epoch; i++)
		;
	if (i == t->n) {
		if (t->n == MAXEP)
			return (KITH_ETOOBIG);
		t->epoch[t->n++] = rec->epoch;
	}
	rc = t->h != NULL ? hist_open_rec(t->h, rec, &txt, &len) :
	    KITH_ENOENT;
	if (rc == 0) {
		t->opened[i]++;
		free(txt);
	} else if (rc == KITH_ENOENT)
		t->nokey[i]++;
	else
		t->failed[i]++;
	return (0);
}

int
main(int argc, char **argv)
{
	struct home *hm;
	struct tally t;
	store *st;
	size_t i;
	int rc;

	if (argc != 3) {
		fprintf(stderr, "usage: tryopen HOME DB\n");
		return (2);
	}
	if (sodium_init() < 0)
		return (2);
	if ((rc = home_open_env(argv[1], &hm)) != 0) {
		fprintf(stderr, "tryopen: %s: %s\n", argv[1],
		    kith_strerror(rc));
		return (2);
	}
	if ((rc = store_open(argv[2], &st)) != 0) {
		fprintf(stderr, "tryopen: %s: %s\n", argv[2],
		    kith_strerror(rc));
		home_close(hm);
		return (2);
	}
	memset(&t, 0, sizeof(t));
	t.h = hm->h;
	rc = store_scan(st, NULL, 0, one, &t);
	store_close(st);
	home_close(hm);
	if (rc != 0) {
		fprintf(stderr, "tryopen: scan: %s\n", kith_strerror(rc));
		return (2);
	}
	for (i = 0; i < t.n; i++)
		printf("epoch %u: opened %lu, no key %lu, failed %lu\n",
		    (unsigned)t.epoch[i], t.opened[i], t.nokey[i],
		    t.failed[i]);
	return (0);
}
