/*
 * contacts.h: invitations issued and received, and the verified contacts
 * they give, kept as history records so that every device of the account
 * gets them by sync; and the checks a service runs on an invitation.
 *
 * The records (JSON, the services reserved to kith; docs/PROTOCOL.md §13):
 *
 *   kith:invite         id token      an invitation issued here: its code
 *   kith:invite-use     id token/n    its n-th answer (n = 1..uses): who
 *   kith:invite-revoke  id token      it was withdrawn
 *   kith:invitation     id token      an invitation received: its code
 *   kith:contact        id account/token   a verified contact, as met
 *   kith:member         id uri        this account belongs to the service
 *
 * (service, id) names a record once on every device, so an n-th answer
 * recorded twice is stored once: the uses of an invitation are bounded by
 * the slots 1..uses, on every device.
 */
#ifndef KITH_CONTACTS_H
#define KITH_CONTACTS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "home.h"
#include "invitation.h"

#define CONTACTS_TTL_DEFAULT (4 * 3600)
#define CONTACTS_TTL_MAX (30 * 24 * 3600)

/* A contact card: who someone is, as their device states it. */
struct contact_card {
	uint8_t account_pk[32];
	char alias[INVITE_NAMEMAX + 1];
	struct invite_cert dev;		/* the device met */
	uint8_t *roster;		/* their signed roster (LAN), or NULL */
	size_t rosterlen;
};

/* Where an issued invitation stands. */
struct invite_state {
	unsigned used;			/* answers recorded */
	int withdrawn;
	int expired;
};

/**
 * invite_check(inv, now, roster, rlen): what a service (or an invitee)
 * checks: the device's signature, its certificate from inv->account_pk,
 * the expiry against ${now} (INVITE_SKEW tolerated; ${now} 0 skips it),
 * and, given the inviter's roster (${roster}, NULL if none), that the
 * roster is the inviter account's and lists the signing device, with the
 * same keys, as not revoked.  Returns 0, KITH_ECRYPTO (a signature),
 * KITH_EEXPIRED, KITH_EROSTER (the roster is not the account's, or does
 * not verify), KITH_ENOTMEMBER (the roster does not list the device, or
 * with other keys) or KITH_EREVOKED.
 */
int invite_check(const struct invitation *inv, uint64_t now,
    const uint8_t *roster, size_t rlen);

/**
 * reply_check(r, inv): a reply to ${inv}: its token, its signature bound
 * to ${inv}, and its device certificate.  Returns 0, KITH_ENOENT (another
 * invitation's token) or KITH_ECRYPTO.
 */
int reply_check(const struct invite_reply *r, const struct invitation *inv);

/**
 * contacts_sign(hm, inv, text, cap): complete ${inv} (the caller set uri,
 * service, alias, note, uses, expiry, port and hints) with a fresh token
 * and secret and this device's identity, and sign it; ${text} receives
 * its code.  Nothing is recorded.  Returns 0, KITH_ENOACCOUNT, KITH_ENOENT
 * (this device holds no certificate), KITH_EINVAL or KITH_ETOOBIG.
 */
int contacts_sign(struct home *hm, struct invitation *inv, char *text,
    size_t cap);

/**
 * contacts_issue(hm, inv, text): record ${inv} (signed, code ${text}) as
 * issued, with kith:member for its service, in one transaction.
 */
int contacts_issue(struct home *hm, const struct invitation *inv,
    const char *text);

/**
 * contacts_issued(hm, token, inv): the invitation issued by this account
 * with ${token}.  Returns 0, KITH_ENOENT or KITH_ECORRUPT.
 */
int contacts_issued(struct home *hm, const uint8_t token[static 16],
    struct invitation *inv);

/**
 * contacts_state(hm, inv, now, st): how ${inv} (issued here) stands.
 */
int contacts_state(struct home *hm, const struct invitation *inv,
    uint64_t now, struct invite_state *st);

/**
 * contacts_withdraw(hm, token): withdraw the invitation ${token}.
 * Returns 0, KITH_ENOENT (none issued with that token) or KITH_EEXIST
 * (withdrawn already).
 */
int contacts_withdraw(struct home *hm, const uint8_t token[static 16]);

/**
 * contacts_take_answer(hm, inv, c, how, now, fresh): the invitee ${c}
 * answered ${inv} (issued here), over the LAN or by a reply code (${how}:
 * "lan" or "reply").  Records the answer and the contact in one
 * transaction when the invitation is open; the same account answering
 * again is taken without using another slot (*${fresh} 0).  Returns 0,
 * KITH_EWITHDRAWN, KITH_EEXPIRED, KITH_EUSED, KITH_EREVOKED (the device
 * that signed it is revoked), KITH_EINVAL (the invitee is this account)
 * or a store error.  Call outside a transaction.
 */
int contacts_take_answer(struct home *hm, const struct invitation *inv,
    const struct contact_card *c, const char *how, uint64_t now,
    int *fresh);

/**
 * contacts_take_invitation(hm, inv, text, c, how, now): record an
 * invitation received (its code ${text}) and the inviter's card ${c} as a
 * verified contact; with ${how} "lan" (the inviter's device took the
 * answer), membership of its service too; with "reply" (a reply code was
 * shown, the inviter may yet refuse it) not.
 */
int contacts_take_invitation(struct home *hm, const struct invitation *inv,
    const char *text, const struct contact_card *c, const char *how,
    uint64_t now);

/**
 * contacts_received(hm, token, how): 1 when the invitation ${token} was
 * received here already (*${how}, if not NULL, is a malloc'd copy of how
 * it was answered), 0 if not, or a negative error.
 */
int contacts_received(struct home *hm, const uint8_t token[static 16],
    char **how);

/**
 * contacts_member(hm, uri, since): 1 when this account belongs to ${uri}
 * (*${since} the time it joined, if not NULL), 0 if not, or a negative
 * error.
 */
int contacts_member(struct home *hm, const char *uri, uint64_t *since);

/**
 * contacts_each(hm, cb, arg): call ${cb} with each kith record (a JSON
 * object, borrowed for the call); a non-zero return stops and is
 * returned.  Reads the whole history: O(records held).
 */
int contacts_each(struct home *hm, int (*cb)(void *arg, json_t *rec),
    void *arg);

/**
 * contacts_each_since(hm, have, cb, arg): contacts_each for the records
 * held beyond the version vector ${have} alone (NULL: all).
 */
int contacts_each_since(struct home *hm, const struct store_vv *have,
    int (*cb)(void *arg, json_t *rec), void *arg);

/**
 * contacts_card_mine(hm, alias, c): this account's card: ${alias}, this
 * device's certificate, and the roster held (borrowed from ${hm}).
 */
int contacts_card_mine(struct home *hm, const char *alias,
    struct contact_card *c);

/**
 * contacts_card_enc(c, out, len) / contacts_card_dec(b, len, c): a card
 * with its roster, as the LAN exchange carries it:
 *     version 1 (=1) | alias (1 + 1..64) | roster (the rest)
 * Decoding verifies the roster under the account it names and takes the
 * device from ${expect_kx}'s entry in it: it must be listed active.
 * *${out} and c->roster are malloc'd.  Returns 0, KITH_EFORMAT,
 * KITH_EVERSION, KITH_ECRYPTO, KITH_ENOTMEMBER or KITH_EREVOKED.
 */
int contacts_card_enc(const struct contact_card *c, uint8_t **out,
    size_t *len);
int contacts_card_dec(const uint8_t *b, size_t len,
    const uint8_t expect_kx[static 32], struct contact_card *c);

/**
 * contacts_card_free(c): free what a decoded card holds.
 */
void contacts_card_free(struct contact_card *c);

/**
 * contacts_put(hm, o, added): add the kith record ${o} (a JSON object with
 * "service" and "id"; the call takes the reference), unless its (service,
 * id) is held already (*${added}, if not NULL, says which).  Call between
 * store_begin and store_commit.
 */
int contacts_put(struct home *hm, json_t *o, int *added);

/**
 * contacts_reserved(service, len): non-zero for a service name reserved
 * to kith ("kith:..."), which history add and import refuse.
 */
int contacts_reserved(const char *service, size_t len);

#endif
