/*
 * ticketforge IMAGE WHAT: read the pairing code in IMAGE (PNG or JPEG) and
 * print a forged variant of it, as an attacker would make one:
 *   secret   the same device and address, another secret
 *   static   another device key, the same secret
 *   expired  the same code with an expiry in the past
 *   same     the code unchanged (a photograph of it)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "kith_util.h"
#include "qr.h"
#include "ticket.h"

int
main(int argc, char **argv)
{
	struct ticket t;
	char *text, out[TICKET_MAXTEXT];
	size_t len;

	if (argc != 3 || sodium_init() < 0) {
		fprintf(stderr, "usage: ticketforge IMAGE secret|static|"
		    "expired|same\n");
		return (2);
	}
	if (qr_scan_file(argv[1], &text, &len) != 0 ||
	    ticket_decode(text, len, &t) != 0) {
		fprintf(stderr, "ticketforge: no pairing code in %s\n",
		    argv[1]);
		return (1);
	}
	if (strcmp(argv[2], "secret") == 0)
		randombytes_buf(t.secret, 32);
	else if (strcmp(argv[2], "static") == 0)
		randombytes_buf(t.static_pk, 32);
	else if (strcmp(argv[2], "expired") == 0)
		t.expiry = (uint32_t)(kith_now() - 60);
	else if (strcmp(argv[2], "same") != 0)
		return (2);
	if (ticket_encode(&t, out, sizeof(out)) != 0)
		return (1);
	printf("%s\n", out);
	free(text);
	return (0);
}
