/*
 * kith.h: the public C library of kith (libkith), for client apps.
 *
 *   cc app.c $(pkg-config --cflags --libs kith)
 *
 * Three parts:
 *   - the version and the library's error codes (KITH_LIB_*, below);
 *   - a client for the control socket of the device's running agent,
 *     kithd (docs/API.md): JSON requests and replies, and events after a
 *     "subscribe";
 *   - the offline checks a messaging service runs on what a member hands
 *     it: a roster (the member's signed list of devices) and an
 *     invitation (KITH-INVITE:...).
 *
 * JSON crosses this interface as NUL-terminated UTF-8 text, so that the
 * app may use any JSON library.  Every string the library returns for the
 * caller to own is freed with kith_free().  Every int-returning function
 * returns KITH_LIB_OK (0) or one of the negative codes below; their
 * numbers never change.  The library never prints, never logs and never
 * exits; it keeps no global state, and a kith_client is used by one
 * thread at a time.
 *
 * Names: everything public is kith_lib_*, kith_client_*, kith_roster_*,
 * kith_invitation_*, kith_seal, kith_open or kith_free.
 */
#ifndef KITH_H
#define KITH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define KITH_API __attribute__((visibility("default")))
#else
#define KITH_API
#endif

/* Error codes (0 or negative).  kith_lib_strerror() names them. */
enum kith_lib_err {
	KITH_LIB_OK = 0,
	KITH_LIB_EINVAL = -1,		/* invalid argument (a usage error) */
	KITH_LIB_ENOMEM = -2,		/* out of memory */
	KITH_LIB_EIO = -3,		/* input/output error */
	KITH_LIB_ENOTRUNNING = -4,	/* no agent answers for that home */
	KITH_LIB_EPERM = -5,		/* runtime directory not the user's,
					   or open to others */
	KITH_LIB_ELOCKED = -6,		/* the agent is locked: "unlock" */
	KITH_LIB_EREFUSED = -7,		/* the agent answered "ok": false */
	KITH_LIB_EBUSY = -8,		/* the agent has too many clients */
	KITH_LIB_EPROTO = -9,		/* the agent sent a malformed line */
	KITH_LIB_ETOOBIG = -10,		/* over a documented limit */
	KITH_LIB_ETIMEOUT = -11,	/* nothing came in time */
	KITH_LIB_ECLOSED = -12,		/* the connection is closed */
	KITH_LIB_EFORMAT = -13,		/* malformed roster or code */
	KITH_LIB_EVERSION = -14,	/* unsupported format version */
	KITH_LIB_EFORGED = -15,		/* a signature does not verify, or
					   another account's */
	KITH_LIB_ESTALE = -16,		/* roster not newer than the held */
	KITH_LIB_EFORK = -17,		/* roster of the held version with
					   other contents */
	KITH_LIB_EROSTER = -18,		/* roster breaks the chain rules */
	KITH_LIB_EREVOKED = -19,	/* the device is revoked */
	KITH_LIB_ENOTMEMBER = -20,	/* the roster does not list it */
	KITH_LIB_EEXPIRED = -21,	/* the invitation expired */
	KITH_LIB_EWRONGKIND = -22,	/* another kind of kith code, or an
					   invitation to another service */
	KITH_LIB_EINTERNAL = -23,	/* any other failure inside kith */
	KITH_LIB_ENOTCONTACT = -24,	/* sealed by someone who is not a
					   verified contact */
	KITH_LIB_ENOTFORME = -25,	/* not sealed for this device */
	KITH_LIB_ETRUNC = -26		/* an envelope cut short */
};

/* The longest line (request, reply or event) the client sends or takes:
 * docs/API.md section 2. */
#define KITH_CLIENT_MAXLINE ((size_t)32 << 20)
/* Events held for kith_client_next_event at most, in bytes. */
#define KITH_CLIENT_MAXQUEUE ((size_t)64 << 20)

/**
 * kith_lib_version(): the library's version, "MAJOR.MINOR.PATCH" (static).
 */
KITH_API const char *kith_lib_version(void);

/**
 * kith_lib_strerror(err): a static English message for ${err} (0 or a
 * KITH_LIB_* code; "unknown error" for anything else).
 */
KITH_API const char *kith_lib_strerror(int err);

/**
 * kith_free(p): free a string the library returned.  NULL does nothing.
 */
KITH_API void kith_free(void *p);

/* ---- the agent's control socket ----------------------------------- */

typedef struct kith_client kith_client;

/**
 * kith_client_open(home, out): connect to the agent of the kith home
 * ${home} (NULL: $KITH_HOME, else the default home), at the socket of
 * docs/API.md section 1 ($KITH_SOCKET when set).  Returns 0 and sets
 * *${out} (kith_client_close it), KITH_LIB_ENOTRUNNING (no agent answers
 * there), KITH_LIB_EPERM, KITH_LIB_ETOOBIG (path too long for a socket),
 * KITH_LIB_EINVAL, KITH_LIB_ENOMEM or KITH_LIB_EIO.
 */
KITH_API int kith_client_open(const char *home, kith_client **out);

/**
 * kith_client_call(c, request_json, reply_json): send one request (a JSON
 * object, such as {"op": "status"}; docs/API.md section 4) and wait for its
 * reply.  Events that come first are kept for kith_client_next_event.
 * *${reply_json} is the agent's reply line, as it sent it (kith_free it);
 * it is set for 0 and for the agent's refusals: KITH_LIB_EREFUSED (its
 * "error" says why), KITH_LIB_ELOCKED, KITH_LIB_EBUSY, KITH_LIB_ETOOBIG
 * (code "too_big"); else it is NULL.  Other returns: KITH_LIB_EINVAL (not
 * one JSON object; nothing sent), KITH_LIB_ETOOBIG (a request or a reply
 * over KITH_CLIENT_MAXLINE, or over KITH_CLIENT_MAXQUEUE of events
 * waiting), KITH_LIB_ECLOSED, KITH_LIB_EPROTO, KITH_LIB_ENOMEM.  After
 * ECLOSED, EPROTO or ETOOBIG without a reply, the connection is closed and
 * every further call returns KITH_LIB_ECLOSED: open a new client and read
 * from where the app was.
 */
KITH_API int kith_client_call(kith_client *c, const char *request_json,
    char **reply_json);

/**
 * kith_client_next_event(c, timeout_ms, event_json): the next event line
 * (after a "subscribe" call; docs/API.md section 5), waiting at most
 * ${timeout_ms} milliseconds (0: do not wait; -1: wait as long as it
 * takes).  Returns 0 and sets *${event_json} (kith_free it),
 * KITH_LIB_ETIMEOUT (none came; *${event_json} NULL), or the errors of
 * kith_client_call.
 */
KITH_API int kith_client_next_event(kith_client *c, int timeout_ms,
    char **event_json);

/**
 * kith_client_fd(c): the socket, for an app's own poll loop: when it is
 * readable, call kith_client_next_event(c, 0, ...) until it returns
 * KITH_LIB_ETIMEOUT (lines already read are held by the library, so drain
 * before polling again, after every kith_client_call too).  Do not read
 * from it, write to it or close it.  -1 when the connection is closed.
 */
KITH_API int kith_client_fd(const kith_client *c);

/**
 * kith_client_close(c): close the connection and free ${c}.  NULL does
 * nothing.
 */
KITH_API void kith_client_close(kith_client *c);

/* ---- offline checks ------------------------------------------------ */

/**
 * kith_roster_check(roster, len, account_hex, held, heldlen, device_hex,
 * info_json): what a service runs on the roster a member's device presents
 * ('kith devices --export'; at most 1 MiB): its signature by the account
 * ${account_hex} (64 hex digits, pinned at enrolment; NULL takes the
 * account the roster names, for a first contact), and, given the roster
 * the service held from last time (${held}, NULL if none), that the new
 * one may replace it (the very roster held is accepted too); then, given
 * ${device_hex} (NULL: no device judged), that this device is active on
 * it.  Returns 0 (the service then keeps
 * ${roster} as its held roster), KITH_LIB_EFORMAT, KITH_LIB_EVERSION,
 * KITH_LIB_EFORGED, KITH_LIB_ESTALE, KITH_LIB_EFORK, KITH_LIB_EROSTER,
 * KITH_LIB_EREVOKED, KITH_LIB_ENOTMEMBER, KITH_LIB_EINVAL,
 * KITH_LIB_ETOOBIG or KITH_LIB_ENOMEM.  When ${info_json} is not NULL and
 * the roster verified (return 0, EREVOKED or ENOTMEMBER), *${info_json} is
 * a JSON object describing it (docs/API.md, "Library"; kith_free it), else
 * NULL.
 */
KITH_API int kith_roster_check(const void *roster, size_t len,
    const char *account_hex, const void *held, size_t heldlen,
    const char *device_hex, char **info_json);

/**
 * kith_invitation_check(text, roster, rlen, service, now, info_json):
 * what a service checks when an invitation (its text, KITH-INVITE:...) is
 * redeemed: the signing device's signature and its certificate from the
 * inviter's account, the expiry against ${now} (Unix seconds; 0: the
 * clock), with ${roster} (the inviter's 'kith devices --export'; NULL if
 * none) that the roster is the inviter account's and lists the signing
 * device as active, and with ${service} (NULL: any) that the invitation is
 * for that service URI.  Returns 0, KITH_LIB_EFORMAT (not a kith code, or
 * malformed), KITH_LIB_EWRONGKIND, KITH_LIB_EVERSION, KITH_LIB_EFORGED,
 * KITH_LIB_EEXPIRED, KITH_LIB_EROSTER, KITH_LIB_ENOTMEMBER,
 * KITH_LIB_EREVOKED, KITH_LIB_EINVAL, KITH_LIB_ETOOBIG or
 * KITH_LIB_ENOMEM.  When ${info_json} is not NULL and the text parsed as an
 * invitation, *${info_json} is a JSON object describing it (never its
 * secret; kith_free it), else NULL.
 */
KITH_API int kith_invitation_check(const char *text, const void *roster,
    size_t rlen, const char *service, int64_t now, char **info_json);

/* ---- sealing for contacts, through the agent ---------------------- */

/* The most plaintext (and about the most envelope) one call takes:
 * messages, not archives ('kith seal' and 'kith open' stream files). */
#define KITH_SEAL_MAX ((size_t)16 << 20)

/**
 * kith_seal(c, opts_json, data, len, envelope, envlen, info_json): have
 * the agent seal ${len} bytes of ${data} (at most KITH_SEAL_MAX) for
 * verified contacts (docs/API.md, op "seal"; docs/PROTOCOL.md §15).
 * ${opts_json} is a JSON object: "to" (an array of contacts: aliases,
 * fingerprints or account hex) or "group" (a group's name), and optional
 * "self" (default true: this account's devices open it too), "name" (a
 * file name to carry) and "armour" (text instead of binary).
 * *${envelope} (kith_free it) holds the envelope's *${envlen} bytes;
 * *${info_json}, when ${info_json} is not NULL, the agent's reply (the
 * recipients as known here, or why it refused; kith_free it).  Returns 0,
 * KITH_LIB_EINVAL (not an object, a contact or group it does not know),
 * KITH_LIB_EREVOKED (a recipient with no active device known),
 * KITH_LIB_ETOOBIG, KITH_LIB_ELOCKED, or the errors of kith_client_call.
 */
KITH_API int kith_seal(kith_client *c, const char *opts_json,
    const void *data, size_t len, void **envelope, size_t *envlen,
    char **info_json);

/**
 * kith_open(c, envelope, len, data, datalen, info_json): have the agent
 * check and open an envelope (binary or armoured) sealed for this device.
 * The sender must be a verified contact (or this account, or a member of
 * the group it was sealed for) whose device is active on the roster known
 * here; every byte is checked before anything is returned.  *${data}
 * (kith_free it; wiped first is the caller's choice: it is plaintext)
 * holds *${datalen} bytes (none for a group's key, which the agent keeps);
 * *${info_json}, when ${info_json} is not NULL, who sealed it and when
 * (docs/API.md, op "open"), or the refusal.  Returns 0,
 * KITH_LIB_EFORMAT (not an envelope), KITH_LIB_ENOTFORME,
 * KITH_LIB_ENOTCONTACT, KITH_LIB_EFORGED (altered or re-addressed),
 * KITH_LIB_ETRUNC, KITH_LIB_EREVOKED, KITH_LIB_ENOTMEMBER (the sender's
 * device, or a group's message from one not among its members),
 * KITH_LIB_EFORK, KITH_LIB_EREFUSED (another refusal of the agent's),
 * KITH_LIB_ETOOBIG, KITH_LIB_ELOCKED, or the errors of kith_client_call.
 */
KITH_API int kith_open(kith_client *c, const void *envelope, size_t len,
    void **data, size_t *datalen, char **info_json);

#ifdef __cplusplus
}
#endif

#endif
