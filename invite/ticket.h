/*
 * ticket.h: the one-time pairing ticket shown as a QR code by `kith pair`.
 *
 * A ticket tells a new device how to reach and authenticate the existing
 * one: its static Noise public key, a fresh 32-byte secret (the Noise psk),
 * an expiry, a port and up to four address hints.  Its text form is
 *
 *     KITH-PAIR:<base32 of the binary form>
 *
 * upper case so that a QR code holds it in alphanumeric mode.  The binary
 * form is given byte by byte in docs/PROTOCOL.md.
 */
#ifndef KITH_TICKET_H
#define KITH_TICKET_H

#include <stddef.h>
#include <stdint.h>

#include "kith_util.h"

#define TICKET_SCHEME "KITH-PAIR:"
#define TICKET_MAXHINTS 4
#define TICKET_MAXBIN (1 + 4 + 32 + 32 + 2 + 1 + TICKET_MAXHINTS * 17)
#define TICKET_MAXTEXT (sizeof(TICKET_SCHEME) + KITH_BASE32_LEN(TICKET_MAXBIN))

struct ticket_hint {
	uint8_t family;		/* 4 or 6 */
	uint8_t addr[16];	/* network order; 4 bytes used for IPv4 */
};

struct ticket {
	uint32_t expiry;		/* seconds since the epoch */
	uint8_t static_pk[32];		/* the shower's X25519 key */
	uint8_t secret[32];		/* one-time psk: a secret */
	uint16_t port;
	uint8_t nhints;
	struct ticket_hint hints[TICKET_MAXHINTS];
};

/**
 * ticket_encode(t, out, cap): the text form of ${t} into ${out}.
 * Returns 0 or KITH_ETOOBIG.
 */
int ticket_encode(const struct ticket *t, char *out, size_t cap);

/**
 * ticket_decode(text, len, t): parse a text form (surrounding white space
 * allowed).  Returns 0, KITH_ENOTKITH (not a kith code at all),
 * KITH_EWRONGKIND (a kith invitation, not a pairing ticket), KITH_EVERSION
 * or KITH_EFORMAT.  Expiry is not checked here.
 */
int ticket_decode(const char *text, size_t len, struct ticket *t);

/**
 * ticket_tag(t, tag): the DNS-SD instance name under which the shower of
 * ${t} announces itself: 16 hex digits derived from the secret, so that
 * only a holder of the ticket recognises it.  ${tag} holds 17 bytes.
 */
void ticket_tag(const struct ticket *t, char tag[static 17]);

/**
 * ticket_wipe(t): wipe the secret parts of ${t}.
 */
void ticket_wipe(struct ticket *t);

#endif
