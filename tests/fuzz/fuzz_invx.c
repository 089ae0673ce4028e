/*
 * fuzz_invx.c: the inviter's side of an invitation answered over the LAN
 * (syncd/invx.c: invx_srv_start, invx_srv_card), as kithd runs it for a
 * first message that is neither KK nor XK sync.  The inviter is a real
 * home (SQLite, under /dev/shm or /tmp, removed at exit) with an account,
 * "alice", that issued one invitation of 255 uses.  The first byte of an
 * input says what the rest is:
 *
 *  0. a first handshake message, as it is;
 *  1. an invitee's X25519 static secret (32) || flags (1) || rest: the
 *     harness answers as a genuine invitee with that key (fixed
 *     ephemeral, the psk of the invitation): message 1 carries the
 *     invitation's token, or with flag 1 the first 16 bytes of the rest
 *     are the token; the CARD plaintext is INVX_CARD || the invitation's
 *     hash || the rest, or with flag 2 the rest alone, sealed as the
 *     transport's first frame;
 *  2. as 1, but the rest goes as the CARD frame unsealed.
 *
 * Properties: a first message not from a holder of the invitation is
 * refused (never 0 in mode 0; in mode 1, 0 exactly for the issued token,
 * KITH_ENOENT for another of 16 bytes); the reply is a message 2 that the
 * genuine invitee's handshake accepts; a CARD frame is refused with
 * KITH_ECRYPTO / KITH_EPROTO unless it opens, starts INVX_CARD and names
 * the invitation's hash; otherwise the reply opens under the invitee's
 * keys and is REFUSE (one reason byte) or ACCEPT; REFUSE BADCARD exactly
 * when contacts_card_dec refuses the card for the key that spoke; an
 * ACCEPT carries a card of alice's account and device that decodes.
 *
 * seeds_invx.c writes the seeds: answers by real accounts (their keys and
 * cards), cut and flipped.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "contacts.h"
#include "home.h"
#include "invitation.h"
#include "invx.h"
#include "kith_err.h"
#include "kith_util.h"
#include "noise.h"
#include "store.h"

#include "fuzz.h"

#define FI_PASS "fuzz invx passphrase"

static struct home *alice;
static struct invitation inv;
static uint8_t inv_hash[32];
static char base[64];

static void
fi_cleanup(void)
{
	char cmd[128];

	if (alice != NULL)
		home_close(alice);
	invitation_wipe(&inv);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	if (base[0] != '\0' && system(cmd) != 0)
		fprintf(stderr, "fuzz_invx: cannot remove %s\n", base);
}

/* The inviter's home, made once a process. */
static void
fi_setup(void)
{
	static int done;
	char dir[128], rec[RECOVERY_TEXTLEN], text[INVITE_MAXTEXT];

	if (done)
		return;
	done = 1;
	if (sodium_init() < 0)
		abort();
	snprintf(base, sizeof(base), "/dev/shm/kith-fuzz-invx.XXXXXX");
	if (mkdtemp(base) == NULL) {
		snprintf(base, sizeof(base), "/tmp/kith-fuzz-invx.XXXXXX");
		FUZZ_MUST(mkdtemp(base) != NULL);
	}
	atexit(fi_cleanup);
	snprintf(dir, sizeof(dir), "%s/alice", base);
	FUZZ_MUST(home_open(dir, 1, &alice) == 0);
	FUZZ_MUST(home_init_account(alice, "alice", (const uint8_t *)FI_PASS,
	    sizeof(FI_PASS) - 1, rec) == 0);
	sodium_memzero(rec, sizeof(rec));
	FUZZ_MUST(alice->h != NULL && alice->roster != NULL);

	memset(&inv, 0, sizeof(inv));
	snprintf(inv.uri, sizeof(inv.uri), "https://chat.example.org/join");
	snprintf(inv.service, sizeof(inv.service), "Example chat");
	snprintf(inv.alias, sizeof(inv.alias), "alice");
	inv.uses = 255;
	inv.expiry = (uint32_t)(kith_now() + 10 * 365 * 86400);
	inv.port = 45678;
	FUZZ_MUST(contacts_sign(alice, &inv, text, sizeof(text)) == 0);
	FUZZ_MUST(contacts_issue(alice, &inv, text) == 0);
	FUZZ_MUST(invitation_hash(&inv, inv_hash) == 0);
}

/* The psk, as invx.h gives it: BLAKE2b-256(key = secret, label). */
static void
fi_psk(uint8_t psk[32])
{
	static const char label[] = "kith invite psk v1";

	FUZZ_MUST(crypto_generichash_blake2b(psk, 32, (const uint8_t *)label,
	    sizeof(label) - 1, inv.secret, INVITE_SECRETLEN) == 0);
}

/* Mode 0: any bytes as message 1. */
static void
fi_raw(const uint8_t *b, size_t len)
{
	static uint8_t reply[NOISE_MAXMSG];
	invx_srv *v = NULL;
	size_t rlen = 0;
	int rc;

	rc = invx_srv_start(alice, b, len, &v, reply, sizeof(reply), &rlen);
	FUZZ_MUST(rc == KITH_EHANDSHAKE || rc == KITH_ENOENT);
	FUZZ_MUST(v == NULL);
}

/* The reply to a CARD that passed the header checks: what it must be. */
static void
fi_reply(noise_cs *rx, const uint8_t *sk, const uint8_t *card, size_t clen,
    const uint8_t *r, size_t rlen, const struct invx_result *res)
{
	static uint8_t pt[NOISE_MAXMSG];
	struct contact_card c, a;
	uint8_t kx[32];
	int crc;

	FUZZ_MUST(rlen >= 1 + NOISE_TAGLEN);
	FUZZ_MUST(noise_cs_decrypt(rx, NULL, 0, r, rlen, pt) == 0);
	rlen -= NOISE_TAGLEN;
	crypto_scalarmult_base(kx, sk);
	crc = contacts_card_dec(card, clen, kx, &c);
	if (crc != 0) {
		FUZZ_MUST(pt[0] == INVX_REFUSE && rlen == 2);
		FUZZ_MUST(pt[1] == INVX_R_BADCARD && res->rc == crc);
		return;
	}
	FUZZ_MUST(memcmp(res->account_pk, c.account_pk, 32) == 0);
	if (memcmp(c.account_pk, alice->account_pk, 32) == 0)
		FUZZ_MUST(pt[0] == INVX_REFUSE && pt[1] == INVX_R_SELF);
	contacts_card_free(&c);
	if (pt[0] == INVX_REFUSE) {
		FUZZ_MUST(rlen == 2 && pt[1] != INVX_R_BADCARD &&
		    res->rc != 0 && res->why == pt[1]);
		return;
	}
	FUZZ_MUST(pt[0] == INVX_ACCEPT && res->rc == 0);
	FUZZ_MUST(contacts_card_dec(pt + 1, rlen - 1, alice->dk->kx_pk, &a) ==
	    0);
	FUZZ_MUST(memcmp(a.account_pk, alice->account_pk, 32) == 0);
	FUZZ_MUST(memcmp(a.dev.sign_pk, alice->dk->sign_pk, 32) == 0);
	contacts_card_free(&a);
}

/* Modes 1 and 2: a genuine invitee's handshake, then the CARD. */
static void
fi_answer(int sealed, const uint8_t *b, size_t len)
{
	static uint8_t m[NOISE_MAXMSG], reply[NOISE_MAXMSG], pt[NOISE_MAXMSG];
	static const uint8_t ie[32] = { 0x71, 0x72, 0x73 };
	struct invx_result res;
	const uint8_t *sk, *tok, *rest;
	uint8_t psk[32], flags;
	noise_hs *hs;
	noise_cs *tx = NULL, *rx = NULL;
	invx_srv *v = NULL;
	size_t n, rlen, restlen, plen;
	int rc, want;

	if (len < 33)
		return;
	sk = b;
	flags = b[32];
	rest = b + 33;
	restlen = len - 33;
	tok = inv.token;
	if ((flags & 1) && restlen >= INVITE_TOKENLEN) {
		tok = rest;
		rest += INVITE_TOKENLEN;
		restlen -= INVITE_TOKENLEN;
	}
	fi_psk(psk);
	FUZZ_MUST(noise_hs_new(&hs, INVX_PROTOCOL, 1,
	    (const uint8_t *)INVX_PROLOGUE, sizeof(INVX_PROLOGUE) - 1, sk,
	    alice->dk->kx_pk, psk) == 0);
	noise_hs_set_ephemeral(hs, ie);
	if (noise_hs_write(hs, tok, INVITE_TOKENLEN, m, sizeof(m), &n) != 0)
		goto done;	/* a low-order key: no message */
	rc = invx_srv_start(alice, m, n, &v, reply, sizeof(reply), &rlen);
	want = memcmp(tok, inv.token, INVITE_TOKENLEN) == 0 ? 0 :
	    KITH_ENOENT;
	FUZZ_MUST(rc == want);
	if (rc != 0) {
		FUZZ_MUST(v == NULL);
		goto done;
	}
	FUZZ_MUST(noise_hs_read(hs, reply, rlen, pt, sizeof(pt), &plen) == 0);
	FUZZ_MUST(plen == 0 && noise_hs_done(hs));
	FUZZ_MUST(noise_hs_split(hs, &tx, &rx) == 0);

	if (!sealed) {
		rc = invx_srv_card(v, rest, restlen, reply, sizeof(reply),
		    &rlen, &res);
		FUZZ_MUST(rc == (restlen < 1 + 32 + NOISE_TAGLEN ?
		    KITH_EPROTO : KITH_ECRYPTO));
		goto done;
	}
	if (flags & 2) {
		n = restlen;
		memcpy(pt, rest, n);
	} else {
		if (restlen > sizeof(pt) - 33)
			goto done;
		pt[0] = INVX_CARD;
		memcpy(pt + 1, inv_hash, 32);
		memcpy(pt + 33, rest, restlen);
		n = 33 + restlen;
	}
	if (n + NOISE_TAGLEN > NOISE_MAXMSG)
		goto done;
	FUZZ_MUST(noise_cs_encrypt(tx, NULL, 0, pt, n, m) == 0);
	rc = invx_srv_card(v, m, n + NOISE_TAGLEN, reply, sizeof(reply), &rlen,
	    &res);
	FUZZ_MUST(memcmp(res.token, inv.token, INVITE_TOKENLEN) == 0);
	if (n < 33 || pt[0] != INVX_CARD || memcmp(pt + 1, inv_hash, 32) !=
	    0) {
		FUZZ_MUST(rc == KITH_EPROTO);
		goto done;
	}
	FUZZ_MUST(rc == 0);
	fi_reply(rx, sk, pt + 33, n - 33, reply, rlen, &res);

done:
	sodium_memzero(psk, sizeof(psk));
	invx_srv_free(v);
	noise_cs_free(tx);
	noise_cs_free(rx);
	noise_hs_free(hs);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{

	if (size < 1)
		return (0);
	fi_setup();
	switch (data[0] % 3) {
	case 0:
		fi_raw(data + 1, size - 1);
		break;
	case 1:
		fi_answer(1, data + 1, size - 1);
		break;
	case 2:
		fi_answer(0, data + 1, size - 1);
		break;
	}
	return (0);
}
