/*
 * seeds_invx.c: the seed corpus of fuzz_invx, written to CORPUS-DIR/fuzz_invx
 * (seeds.h), with libsodium's random bytes a fixed stream:
 *
 *     seeds_invx tests/fuzz/corpus
 *
 * Answers by a real account, "bob" (a home made here under /tmp and
 * removed): its device's kx secret and its card, whole, cut, flipped, with
 * another key that its roster does not list, after a token of another
 * invitation, as a raw CARD plaintext of the wrong hash, and unsealed;
 * and first messages that are junk.  Every run makes a new bob, so the
 * seeds differ from run to run in their keys only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "contacts.h"
#include "home.h"
#include "kith_err.h"
#include "seeds.h"

static uint8_t b[1 << 17];

static void
must(int rc, const char *what)
{

	if (rc != 0) {
		fprintf(stderr, "seeds_invx: %s: %s\n", what, kith_strerror(rc));
		exit(1);
	}
}

int
main(int argc, char *argv[])
{
	static const char pass[] = "seed passphrase";
	char home[64], rec[RECOVERY_TEXTLEN], cmd[128];
	struct contact_card mine;
	struct home *bob;
	uint8_t *card;
	size_t clen;

	seeds_init(argc, argv, "fuzz_invx");
	snprintf(home, sizeof(home), "/tmp/kith-seeds-invx.XXXXXX");
	if (mkdtemp(home) == NULL)
		return (1);
	must(home_open(home, 1, &bob), "home_open");
	must(home_init_account(bob, "bob", (const uint8_t *)pass,
	    sizeof(pass) - 1, rec), "home_init_account");
	must(contacts_card_mine(bob, "bob", &mine), "contacts_card_mine");
	must(contacts_card_enc(&mine, &card, &clen), "contacts_card_enc");
	if (1 + 33 + 16 + 33 + clen > sizeof(b))
		return (1);

	/* Mode 1, the invitation's token and hash: bob's card. */
	b[0] = 1;
	memcpy(b + 1, bob->dk->kx_sk, 32);
	b[33] = 0;
	memcpy(b + 34, card, clen);
	seeds_put("m1-bob", -1, b, 34 + clen);
	seeds_put("m1-bob-cut", -1, b, 34 + clen - 10);
	b[34 + clen - 1] ^= 0x20;	/* the roster's signature */
	seeds_put("m1-bob-flip", -1, b, 34 + clen);
	b[34 + clen - 1] ^= 0x20;
	memset(b + 1, 0x42, 32);	/* a key bob's roster does not list */
	seeds_put("m1-otherkey", -1, b, 34 + clen);
	memcpy(b + 1, bob->dk->kx_sk, 32);

	/* Another token: no such invitation. */
	b[33] = 1;
	memmove(b + 34 + 16, b + 34, clen);
	memset(b + 34, 0x17, 16);
	seeds_put("m1-token", -1, b, 34 + 16 + clen);

	/* A CARD plaintext of its own: the wrong hash, then too short. */
	b[33] = 2;
	b[34] = 0x40;
	memset(b + 35, 0, 32);
	memcpy(b + 67, card, clen);
	seeds_put("m1-hash", -1, b, 67 + clen);
	seeds_put("m1-short", -1, b, 40);

	/* Mode 2: the CARD frame unsealed. */
	b[0] = 2;
	b[33] = 0;
	memset(b + 34, 0x99, 80);
	seeds_put("m2-junk", -1, b, 34 + 80);
	seeds_put("m2-short", -1, b, 34 + 20);

	/* Mode 0: junk the size of an IKpsk2 message 1, and shorter. */
	b[0] = 0;
	memset(b + 1, 0x5c, 112);
	seeds_put("m0-junk", -1, b, 1 + 112);
	seeds_put("m0-short", -1, b, 1 + 40);

	free(card);
	home_close(bob);
	sodium_memzero(rec, sizeof(rec));
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", home);
	return (system(cmd) != 0);
}
