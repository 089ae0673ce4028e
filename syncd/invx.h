/*
 * invx.h: the answer to an invitation over the LAN.
 *
 * The invitee's device calls the inviter's agent (kithd, on its sync port)
 * with Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b, prologue "kith invite v1":
 * it knows the inviter device's static key (kx_pk, from the invitation),
 * its own static key is its device kx key, and the psk is
 *     BLAKE2b-256(key = secret, "kith invite psk v1")
 * of the invitation's secret.  Frames are u16 length || Noise message, as
 * in sync; transport plaintexts are type (1) || body.
 *
 *   -> msg1   e, es, s, ss; payload: token (16): which invitation
 *   <- msg2   e, ee, se, psk; payload empty
 *   -> CARD   invitation hash (32) || the invitee's card (contacts.h)
 *   <- ACCEPT the inviter's card, or
 *   <- REFUSE reason (1)
 *
 * The inviter's side reads message 1 with its static key alone, finds the
 * invitation by token, and only then knows the psk: a peer without the
 * invitation cannot finish the handshake.  The card's roster must list
 * the Noise static key that spoke, as an active device, on both sides.
 */
#ifndef KITH_INVX_H
#define KITH_INVX_H

#include <stddef.h>
#include <stdint.h>

#include "contacts.h"
#include "home.h"
#include "invitation.h"

#define INVX_PROTOCOL "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b"
#define INVX_PROLOGUE "kith invite v1"

enum {
	INVX_CARD = 0x40,
	INVX_ACCEPT = 0x41,
	INVX_REFUSE = 0x42,
};

/* REFUSE reasons. */
enum {
	INVX_R_USED = 1,	/* every use taken */
	INVX_R_EXPIRED = 2,
	INVX_R_WITHDRAWN = 3,
	INVX_R_REVOKED = 4,	/* the inviting device is revoked */
	INVX_R_BADCARD = 5,	/* the invitee's card does not verify */
	INVX_R_SELF = 6,	/* the invitee is the inviter's own account */
	INVX_R_INTERNAL = 7,
};

/**
 * invx_reason(why): a phrase for a REFUSE reason.
 */
const char *invx_reason(uint8_t why);

/**
 * invx_tag(inv, tag): the DNS-SD instance name under which the inviter's
 * agent announces itself while ${inv} is open: 16 hex digits of
 * BLAKE2b-64(key = secret, "kith invite tag v1"), so that only a holder of
 * the invitation recognises it.  ${tag} holds 17 bytes.
 */
void invx_tag(const struct invitation *inv, char tag[static 17]);

#define INVX_MAXANNOUNCE 8

/**
 * invx_announce_add(hm, inv) / invx_announce_del(hm, inv): keep (or drop)
 * ${inv}'s tag in this device's list of tags for its agent to announce
 * until expiry (meta "invite_tags", local to the device: n * (tag (16) ||
 * expiry (4))).  Expired entries are dropped on the way; at most
 * INVX_MAXANNOUNCE are kept, the oldest going first.
 */
int invx_announce_add(struct home *hm, const struct invitation *inv);
int invx_announce_del(struct home *hm, const struct invitation *inv);

/**
 * invx_announced(hm, now, tags, max): the tags to announce now; returns
 * how many (at most ${max}).
 */
size_t invx_announced(struct home *hm, uint64_t now, char (*tags)[17],
    size_t max);

/**
 * invx_answer(hm, inv, fd, alias, inviter, why): as the invitee, answer
 * ${inv} over ${fd} (a connected socket, owned and closed) with this
 * account's card under ${alias}; on success ${inviter} is the inviter's
 * card (contacts_card_free it).  Returns 0, KITH_EHANDSHAKE (not the
 * inviter's device, or it does not know this invitation), KITH_EREFUSED
 * (*${why} says why), KITH_EPROTO (a card that does not match the
 * invitation), or a channel error.
 */
int invx_answer(struct home *hm, const struct invitation *inv, int fd,
    const char *alias, struct contact_card *inviter, uint8_t *why);

typedef struct invx_srv invx_srv;

/* What the inviter's side did with an answer, for its log and events. */
struct invx_result {
	int rc;			/* 0: taken */
	int fresh;		/* a slot was used (not a repeat) */
	uint8_t why;		/* the reason sent, when refused */
	char alias[INVITE_NAMEMAX + 1];
	uint8_t account_pk[32];
	uint8_t token[INVITE_TOKENLEN];
};

/**
 * invx_srv_start(hm, msg, len, out, reply, cap, rlen): as the inviter's
 * agent, read a first handshake message ${msg}.  On success *${out}
 * holds the exchange and ${reply} (${cap} >= 128) the second message to
 * send.  Returns 0, KITH_EHANDSHAKE (not an invitation answer: not for
 * our key, or not this protocol), KITH_ENOENT (no invitation of ours has
 * that token) or KITH_ENOMEM.
 */
int invx_srv_start(struct home *hm, const uint8_t *msg, size_t len,
    invx_srv **out, uint8_t *reply, size_t cap, size_t *rlen);

/**
 * invx_srv_card(v, frame, len, reply, cap, rlen, res): read the CARD
 * message (a transport frame), take the answer (contacts_take_answer) and
 * write ACCEPT or REFUSE into ${reply} (${cap} >= 64 KiB).  ${res} says
 * what happened.  Returns 0 when a reply is to be sent (see res->rc), or
 * KITH_ECRYPTO / KITH_EPROTO (a broken frame: close).
 */
int invx_srv_card(invx_srv *v, const uint8_t *frame, size_t len,
    uint8_t *reply, size_t cap, size_t *rlen, struct invx_result *res);

/**
 * invx_srv_free(v): NULL does nothing.
 */
void invx_srv_free(invx_srv *v);

#endif
