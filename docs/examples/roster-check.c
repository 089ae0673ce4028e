/*
 * roster-check: what a messaging service does with a member's roster,
 * using the kith library (roster.h).
 *
 *   roster-check ACCOUNT_HEX ROSTER [HELD] DEVICE_HEX
 *
 * ACCOUNT_HEX is the member's account key, pinned when the member was
 * enrolled (from a face-to-face invitation, say).  ROSTER is the roster the
 * member's device just presented (kith devices --export).  HELD is the
 * roster the service kept from last time, or "-".  DEVICE_HEX is the id of
 * the device that wants to send mail.
 *
 * Prints "accept", or "refuse: WHY", and exits 0 or 1.  When it accepts,
 * the service keeps ROSTER as its new HELD.
 *
 * Build: cc roster-check.c -lkith_core $(pkg-config --cflags --libs
 * libsodium) (inside this tree: the target roster-check).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "kith_err.h"
#include "kith_util.h"
#include "roster.h"

static int
hex32(const char *s, uint8_t out[32])
{
	size_t n;

	return (sodium_hex2bin(out, 32, s, strlen(s), NULL, &n, NULL) == 0 &&
	    n == 32 ? 0 : -1);
}

int
main(int argc, char **argv)
{
	uint8_t acct[32], dev[32], *blob, *held = NULL;
	size_t len, heldlen = 0;
	struct roster *r;
	int rc, st;

	if (argc != 5 || hex32(argv[1], acct) != 0 ||
	    hex32(argv[4], dev) != 0) {
		fprintf(stderr, "usage: roster-check ACCOUNT_HEX ROSTER HELD|-"
		    " DEVICE_HEX\n");
		return (2);
	}
	if (sodium_init() < 0 ||
	    kith_file_read(argv[2], 1 << 20, &blob, &len) != 0 ||
	    (strcmp(argv[3], "-") != 0 &&
	    kith_file_read(argv[3], 1 << 20, &held, &heldlen) != 0)) {
		fprintf(stderr, "roster-check: cannot read the rosters\n");
		return (2);
	}
	/* Signature, account, and the rules against what we held. */
	rc = roster_verify(blob, len, acct, held, heldlen, &r);
	free(blob);
	free(held);
	if (rc != 0) {
		printf("refuse: roster: %s\n", kith_strerror(rc));
		return (1);
	}
	st = roster_status(r, dev);
	roster_free(r);
	if (st != ROSTER_ACTIVE) {
		printf("refuse: device %s\n", st == ROSTER_REVOKED ?
		    "revoked" : "not on the roster");
		return (1);
	}
	printf("accept\n");
	return (0);
}
