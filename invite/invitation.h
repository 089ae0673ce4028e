/*
 * invitation.h: face-to-face invitations to a messaging service, and the
 * reply an invitee shows back when the two devices cannot reach each
 * other over a network.
 *
 * An invitation is signed by the inviter's device (Ed25519ph, as rosters
 * and certificates are: libsodium's crypto_sign_init/update/final), and carries
 * that device's certificate from the inviter's account, so whoever scans
 * it can check the chain account -> device -> invitation with no network.
 * Its text form is
 *
 *     KITH-INVITE:<base32 of the binary form>
 *
 * and a reply's is KITH-REPLY:<base32>: upper case, so that a QR code
 * holds them in alphanumeric mode, and distinct from pairing tickets
 * (KITH-PAIR:) so that one kind is never taken for another.  The binary
 * forms, byte by byte (integers big endian, strings well-formed UTF-8
 * without control characters, each after a one-byte length):
 *
 *   invitation (version 1)
 *     version 1 (=1) | expiry 4 | uses 1 (1..255) | token 16 | secret 16
 *     | account_pk 32
 *     | device certificate, compact: sign_pk 32 | kx_pk 32 | added 8
 *       | name (1 + 1..64) | cert_sig 64
 *     | port 2 | nhints 1 (0..4) | nhints * (family 1 (4 or 6) | 4 or 16)
 *     | uri (1 + 1..200) | service (1 + 0..64) | alias (1 + 1..64)
 *     | note (1 + 0..200)
 *     | sig 64: Ed25519ph by sign_pk over "kith invite v1" | every byte above
 *
 *   reply (version 1)
 *     version 1 (=1) | token 16 | account_pk 32
 *     | device certificate, compact (as above)
 *     | alias (1 + 1..64)
 *     | sig 64: Ed25519ph by sign_pk over
 *       "kith reply v1" | invitation hash 32 | every byte above
 *
 * The invitation hash is BLAKE2b-256 of the invitation's binary form,
 * signature included: a reply answers exactly one invitation.
 *
 * The compact certificate is the device certificate of roster.h (magic
 * "KCRT", format 1, account_pk, sign_pk, kx_pk, added, name, signature)
 * without its magic, format and account key; invite_cert_blob rebuilds the
 * full form for cert_verify.  Checking the certificate, the expiry against
 * a clock and the device's standing in a roster is the caller's (syncd's
 * contacts.c); this module checks formats and the device's signature.
 *
 * Nothing here prints, allocates or uses the network.
 */
#ifndef KITH_INVITATION_H
#define KITH_INVITATION_H

#include <stddef.h>
#include <stdint.h>

#include "kith_util.h"
#include "ticket.h"

#define INVITE_SCHEME "KITH-INVITE:"
#define REPLY_SCHEME "KITH-REPLY:"

#define INVITE_TOKENLEN 16
#define INVITE_SECRETLEN 16
#define INVITE_URIMAX 200
#define INVITE_NAMEMAX 64	/* device name, service name, alias */
#define INVITE_NOTEMAX 200
#define INVITE_MAXHINTS 4
/* Clock skew tolerated between the two devices, in seconds. */
#define INVITE_SKEW 300

#define INVITE_CERTMAX (32 + 32 + 8 + 1 + INVITE_NAMEMAX + 64)
#define INVITE_MAXBIN (1 + 4 + 1 + 16 + 16 + 32 + INVITE_CERTMAX + 2 + 1 + \
	INVITE_MAXHINTS * 17 + 1 + INVITE_URIMAX + 1 + INVITE_NAMEMAX + \
	1 + INVITE_NAMEMAX + 1 + INVITE_NOTEMAX + 64)
#define INVITE_MAXTEXT (sizeof(INVITE_SCHEME) + KITH_BASE32_LEN(INVITE_MAXBIN))
#define REPLY_MAXBIN (1 + 16 + 32 + INVITE_CERTMAX + 1 + INVITE_NAMEMAX + 64)
#define REPLY_MAXTEXT (sizeof(REPLY_SCHEME) + KITH_BASE32_LEN(REPLY_MAXBIN))

/* The full certificate of roster.h: "KCRT" | 1 | account_pk | compact. */
#define INVITE_FULLCERTMAX (4 + 1 + 32 + INVITE_CERTMAX)

/* The kinds of kith code, by their scheme. */
enum {
	KITH_CODE_NONE = 0,	/* not a kith code */
	KITH_CODE_PAIR,
	KITH_CODE_INVITE,
	KITH_CODE_REPLY,
	KITH_CODE_OTHER,	/* "KITH-" and an unknown word */
};

/* A device certificate, compact (the account key travels beside it). */
struct invite_cert {
	uint8_t sign_pk[32];
	uint8_t kx_pk[32];
	uint64_t added;
	char name[INVITE_NAMEMAX + 1];
	uint8_t sig[64];
};

struct invitation {
	uint32_t expiry;			/* seconds since the epoch */
	uint8_t uses;				/* answers allowed, 1..255 */
	uint8_t token[INVITE_TOKENLEN];		/* public: names it */
	uint8_t secret[INVITE_SECRETLEN];	/* a secret: keys the channel */
	uint8_t account_pk[32];
	struct invite_cert dev;			/* the signing device */
	uint16_t port;				/* its agent's port, 0: none */
	uint8_t nhints;
	struct ticket_hint hints[INVITE_MAXHINTS];
	char uri[INVITE_URIMAX + 1];		/* the service */
	char service[INVITE_NAMEMAX + 1];	/* its display name, or "" */
	char alias[INVITE_NAMEMAX + 1];		/* the inviter there */
	char note[INVITE_NOTEMAX + 1];		/* or "" */
	uint8_t sig[64];
};

struct invite_reply {
	uint8_t token[INVITE_TOKENLEN];		/* the invitation answered */
	uint8_t account_pk[32];			/* the invitee's account */
	struct invite_cert dev;			/* the invitee's device */
	char alias[INVITE_NAMEMAX + 1];
	uint8_t sig[64];
};

/**
 * kith_code_kind(text, len): which kind of kith code ${text} is, by its
 * scheme (case-insensitive, surrounding white space allowed).  Returns a
 * KITH_CODE_* value; nothing past the scheme is looked at.
 */
int kith_code_kind(const char *text, size_t len);

/**
 * invitation_sign(inv, sign_sk): set inv->sig, signing with the device's
 * Ed25519 secret key ${sign_sk} (whose public half must be
 * inv->dev.sign_pk; KITH_EINVAL if not).  Returns 0 or KITH_EINVAL (a
 * field out of its range:
 * uses 0, an empty uri or alias, a string too long or with a NUL-less
 * overflow, a hint family other than 4 or 6, more than 4 hints).
 */
int invitation_sign(struct invitation *inv, const uint8_t sign_sk[static 64]);

/**
 * invitation_bin(inv, out, cap, len): the binary form (signature
 * included).  Returns 0, KITH_EINVAL (as above) or KITH_ETOOBIG.
 */
int invitation_bin(const struct invitation *inv, uint8_t *out, size_t cap,
    size_t *len);

/**
 * invitation_encode(inv, out, cap): the NUL-terminated text form.  Returns
 * 0, KITH_EINVAL or KITH_ETOOBIG.
 */
int invitation_encode(const struct invitation *inv, char *out, size_t cap);

/**
 * invitation_decode(text, len, inv): parse a text form.  Returns 0,
 * KITH_ENOTKITH, KITH_EWRONGKIND (another kind of kith code: a pairing
 * ticket, a reply), KITH_EVERSION or KITH_EFORMAT (bad base32, a length
 * or range wrong anywhere, trailing bytes, a string that is not UTF-8 or
 * holds a control character).  The
 * signature is not checked here.  On failure ${inv} is wiped.
 */
int invitation_decode(const char *text, size_t len, struct invitation *inv);

/**
 * invitation_decode_bin(b, len, inv): the same, from the binary form.
 */
int invitation_decode_bin(const uint8_t *b, size_t len,
    struct invitation *inv);

/**
 * invitation_verify_sig(inv): check inv->sig against inv->dev.sign_pk.
 * Returns 0, KITH_EINVAL (a field out of range) or KITH_ECRYPTO.
 */
int invitation_verify_sig(const struct invitation *inv);

/**
 * invitation_hash(inv, h): BLAKE2b-256 of the binary form.  Returns 0 or
 * KITH_EINVAL.
 */
int invitation_hash(const struct invitation *inv, uint8_t h[static 32]);

/**
 * invitation_wipe(inv): wipe ${inv} (it holds the secret).
 */
void invitation_wipe(struct invitation *inv);

/**
 * invite_expired(expiry, now): non-zero when ${now} is past ${expiry} by
 * more than INVITE_SKEW seconds.
 */
int invite_expired(uint32_t expiry, uint64_t now);

/**
 * invite_cert_blob(account_pk, c, out, cap, len): the full certificate
 * (the form cert_verify in roster.h reads).  Returns 0 or KITH_ETOOBIG /
 * KITH_EINVAL (name empty or too long).
 */
int invite_cert_blob(const uint8_t account_pk[static 32],
    const struct invite_cert *c, uint8_t *out, size_t cap, size_t *len);

/**
 * invite_cert_parse(blob, len, account_pk, c): the compact form of a full
 * certificate (formats only; no signature check).  Returns 0,
 * KITH_EFORMAT or KITH_EVERSION.
 */
int invite_cert_parse(const uint8_t *blob, size_t len,
    uint8_t account_pk[static 32], struct invite_cert *c);

/**
 * reply_sign(r, inv_hash, sign_sk): set r->sig, binding the reply to the
 * invitation whose hash is ${inv_hash}.  Returns 0 or KITH_EINVAL.
 */
int reply_sign(struct invite_reply *r, const uint8_t inv_hash[static 32],
    const uint8_t sign_sk[static 64]);

/**
 * reply_encode(r, out, cap) / reply_decode(text, len, r): the text form,
 * as for invitations (KITH_EWRONGKIND for an invitation or a ticket).
 */
int reply_encode(const struct invite_reply *r, char *out, size_t cap);
int reply_decode(const char *text, size_t len, struct invite_reply *r);

/**
 * reply_verify_sig(r, inv_hash): check r->sig against r->dev.sign_pk for
 * the invitation whose hash is ${inv_hash}.  Returns 0, KITH_EINVAL or
 * KITH_ECRYPTO.
 */
int reply_verify_sig(const struct invite_reply *r,
    const uint8_t inv_hash[static 32]);

#endif
