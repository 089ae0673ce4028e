/*
 * seal.h: envelopes sealed for verified contacts (kith seal / kith open),
 * and the group keys a set of contacts share.
 *
 * An envelope (docs/PROTOCOL.md §15) wraps a random file key to every
 * active device of each recipient account, as the sender last learned
 * its roster, and to the sender's own devices; the body streams in 64 KiB
 * secretstream frames, and the sender's device signs the header and a
 * hash of everything it sealed.  Opening checks, in order: a stanza that
 * opens, the sender (a verified contact, this account, or a member of the
 * group it was sealed to), its device's standing in the newest roster
 * known, every frame, then the signature: plaintext handed out before
 * seal_open returns 0 is not yet authentic, and must not be used.
 */
#ifndef KITH_SEAL_H
#define KITH_SEAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "home.h"
#include "roster.h"

#define SEAL_CHUNK 65536		/* plaintext per body frame */
#define SEAL_STANZALEN 80
#define SEAL_MAXSTANZA 1024
#define SEAL_MAXTO 255			/* accounts named in one envelope */
#define SEAL_MAXBLOCK 65536		/* the sender block */
#define SEAL_GIDLEN 16
#define SEAL_NAMEMAX 255		/* a file name carried */
#define SEAL_GROUPMAX 64		/* members of a group */
#define SEAL_GROUPDOCMAX ((size_t)8 << 20)
#define SEAL_ALIASMAX 64

enum { SEAL_KIND_DATA = 0, SEAL_KIND_GROUP = 1 };

/* How an account is known. */
enum { SEAL_SELF = 1, SEAL_CONTACT = 2, SEAL_INTRODUCED = 3 };

/* An account sealed for, or a sender, as this device knows it. */
struct seal_peer {
	uint8_t account_pk[32];
	char alias[SEAL_ALIASMAX + 1];
	int how;			/* SEAL_SELF, SEAL_CONTACT, ... */
	struct roster *roster;		/* the newest known, or NULL */
	uint64_t roster_at;		/* when it was learned */
	int has_dev;			/* no roster: the device met */
	struct roster_dev dev;
	char introduced_by[SEAL_ALIASMAX + 1];	/* SEAL_INTRODUCED */
};

/* A group key shared by contacts. */
struct seal_group {
	uint8_t gid[SEAL_GIDLEN];
	char name[SEAL_ALIASMAX + 1];
	uint8_t *key;			/* 32 bytes, sodium_malloc */
	uint8_t creator[32];
	uint32_t generation;		/* 1, then one more a change */
	int has_prev;
	uint8_t prev[SEAL_GIDLEN];	/* the generation it replaces */
	size_t nmem;
	struct {
		uint8_t account_pk[32];
		char alias[SEAL_ALIASMAX + 1];
	} mem[SEAL_GROUPMAX];
};

struct seal_opts {
	const struct seal_peer *to;	/* recipients (not this account) */
	size_t nto;
	int self;			/* also this account's devices */
	const struct seal_group *group;	/* or NULL */
	const char *name;		/* file name to carry, or NULL */
	int armour;
};

/* What an envelope said, once it opened. */
struct seal_opened {
	int kind;
	uint64_t time;
	struct seal_peer sender;
	struct roster_dev dev;		/* the sender's device */
	size_t nto;
	uint8_t to[SEAL_MAXTO][32];
	int has_group;
	uint8_t gid[SEAL_GIDLEN];
	char group[SEAL_ALIASMAX + 1];	/* its name, when held */
	char name[SEAL_NAMEMAX + 1];
	uint64_t bytes;			/* plaintext */
	int roster_updated;		/* a newer roster of the sender kept */
	int group_stored;		/* kind 1: the group is new here */
	unsigned nstanza;
};

/**
 * seal_peer_find(hm, name, p): the verified contact ${name}: an alias, the
 * fingerprint "xxxx-xxxx-xxxx", or at least 8 hex digits of the account
 * key; with its newest roster known (cards, envelopes).  Returns 0 (free
 * with seal_peer_free), KITH_ENOENT, KITH_EAMBIGUOUS (several contacts),
 * KITH_EFORK (two rosters of one version known) or a store error.
 */
int seal_peer_find(struct home *hm, const char *name, struct seal_peer *p);

/**
 * seal_peer_learn(hm, p, blob, len, updated): a roster of the contact
 * ${p} brought by any channel ('kith devices --export' on their side): it
 * must verify under the account key pinned when you met, and supersede
 * the roster held (docs/PROTOCOL.md §4.3); then it is kept (a record
 * kith:contact-roster, from "import") and ${p} follows it (*${updated}
 * 1).  The roster held already: 0, *${updated} 0.  Returns 0,
 * KITH_EINVAL (not a contact), KITH_ECRYPTO (not their account's, or
 * altered), KITH_ESTALE (older than held), KITH_EFORK, KITH_EROSTER, or
 * a store error.
 */
int seal_peer_learn(struct home *hm, struct seal_peer *p, const uint8_t *blob,
    size_t len, int *updated);

/**
 * seal_peer_free(p): what a peer holds.
 */
void seal_peer_free(struct seal_peer *p);

/**
 * seal_peers_free(p, n): the ${n} peers of the array ${p} (NULL: none), and
 * the array.
 */
void seal_peers_free(struct seal_peer *p, size_t n);

/**
 * seal_group_find(hm, name, g): the group ${name} (or its id in hex).
 * Returns 0 (seal_group_free it), KITH_ENOENT or KITH_EAMBIGUOUS.
 */
int seal_group_find(struct home *hm, const char *name, struct seal_group **g);

/**
 * seal_group_free(g): wipe and free; NULL does nothing.
 */
void seal_group_free(struct seal_group *g);

/**
 * seal_groups(hm, out): the groups held, each at its newest generation,
 * as a JSON array of {name, id, generation, creator, members [{account,
 * alias, contact}], at} (never the key); a
 * member is named "you", by this account's alias for the contact, or
 * else by the name the group's creator gave.
 */
int seal_groups(struct home *hm, json_t **out);

/**
 * seal_write(hm, o, in, out, bytes): seal what ${in} holds (to its end)
 * for ${o}, writing the envelope to ${out} (armoured with o->armour).
 * *${bytes} is the plaintext length.  Memory is flat for any size.
 * Returns 0, KITH_EINVAL (no recipient, too many), KITH_ELOCKED, KITH_EIO
 * (reading or writing), or a store error.
 */
int seal_write(struct home *hm, const struct seal_opts *o, FILE *in,
    FILE *out, uint64_t *bytes);

/**
 * seal_group_create(hm, name, members, n, out, armour, commit, arg, g): a
 * new group key for this account and ${members} (verified contacts): an
 * envelope of kind "group" to ${out}, which each member opens with 'kith
 * open' to get it; then ${commit}(${arg}) (NULL: none), which puts the
 * envelope where it goes; then, only if it returned 0, the group is
 * recorded here (and, by sync, on every device of the account).  *${g} is
 * the group (seal_group_free it), may be NULL.  Returns 0, KITH_EEXIST (a
 * group of that name), KITH_EINVAL, ${commit}'s error, or seal_write's.
 */
int seal_group_create(struct home *hm, const char *name,
    const struct seal_peer *members, size_t n, FILE *out, int armour,
    int (*commit)(void *arg), void *arg, struct seal_group **g);

/**
 * seal_group_change(hm, name, add, nadd, remove, nrem, out, armour,
 * commit, arg, g): a new generation of the group ${name}, which this
 * account created: a fresh id and key, the members of the current one
 * with ${add} (verified contacts) and without ${remove}; an envelope of
 * kind "group" for every member of the new generation, as
 * seal_group_create makes.  Who holds the new generation refuses what is
 * sealed with an older one by an account no longer a member (a removed
 * member keeps the older keys: what was sealed with them, it reads).
 * Returns 0, KITH_ENOENT (no such group), KITH_EPERM (another account
 * created it), KITH_EINVAL (no member would be left, or too many), or
 * seal_group_create's errors.
 */
int seal_group_change(struct home *hm, const char *name,
    const struct seal_peer *add, size_t nadd, const struct seal_peer *remove,
    size_t nrem, FILE *out, int armour, int (*commit)(void *arg), void *arg,
    struct seal_group **g);

/**
 * seal_open(hm, in, out, res): open the envelope (binary or armoured) that
 * ${in} holds, writing its plaintext to ${out} as it goes (a kind-"group"
 * envelope writes nothing there; its group is recorded).  The plaintext is
 * authentic only when this returns 0: on any other return the caller must
 * discard what reached ${out}.  A newer roster the sender carried is kept
 * (kith:contact-roster).  Returns 0, KITH_ENOTKITH (not an envelope),
 * KITH_EVERSION, KITH_EFORMAT, KITH_ETRUNC (cut short), KITH_ENOTFORME,
 * KITH_ENOTCONTACT, KITH_ECRYPTO (tampered, or the signature), KITH_EFORK,
 * KITH_EREVOKED, KITH_ENOTMEMBER (the sender's device), KITH_EROSTER,
 * KITH_EPERM (sealed to a group by one not among its members),
 * KITH_ETOOBIG (a group's document over SEAL_GROUPDOCMAX), KITH_ELOCKED, KITH_ENOSPACE,
 * KITH_EIO.  res->sender is set from KITH_ENOTCONTACT on
 * (seal_peer_free it in every case).
 */
int seal_open(struct home *hm, FILE *in, FILE *out, struct seal_opened *res);

/**
 * seal_is_binary(b, len): whether ${b} begins as a binary envelope does
 * (its magic); if not, it can only be armoured text.
 */
int seal_is_binary(const void *b, size_t len);

/**
 * seal_open_free(res): what an opened envelope holds.
 */
void seal_open_free(struct seal_opened *res);

/**
 * seal_peer_json(p, now): a recipient as the seal commands describe it:
 * {alias, fingerprint, account, key ("roster" or "device"), devices,
 * roster_version, roster_age}.
 */
json_t *seal_peer_json(const struct seal_peer *p, uint64_t now);

/**
 * seal_opened_json(r): what an opened envelope said (docs/CLI.md, kith
 * open): {kind, bytes, time, sender {...}, recipients, name?,
 * roster_updated, group?}, without "ok" and "file".
 */
json_t *seal_opened_json(const struct seal_opened *r);

/**
 * seal_b64_json(b, len): ${b} as a base64 (RFC 4648, padded) JSON string,
 * the text it was made in wiped (it may be plaintext); NULL without
 * memory.  The binary form of envelopes, and plaintext, in JSON.
 */
json_t *seal_b64_json(const void *b, size_t len);

/**
 * seal_unb64(s, max, out, len): the bytes of the base64 ${s} (line ends
 * ignored), at most ${max}, into *${out} (malloc'd; the caller frees it,
 * wiped when it is plaintext).  Returns 0, KITH_EFORMAT, KITH_ETOOBIG or
 * KITH_ENOMEM; nothing is left allocated on failure.
 */
int seal_unb64(const char *s, size_t max, uint8_t **out, size_t *len);

/* A plaintext sink in memory: grows up to a bound, wiped when it moves
 * or is freed (an open_memstream would leave copies behind). */
struct seal_sink {
	uint8_t *b;
	size_t len, cap, max;
	int over;		/* a write went past max */
};

/**
 * seal_sink_open(s, max): a FILE writing into ${s} (zeroed first), at
 * most ${max} bytes; a write past it fails with s->over set.  fclose it,
 * then seal_sink_free.
 */
FILE *seal_sink_open(struct seal_sink *s, size_t max);

/**
 * seal_sink_free(s): wipe and free what ${s} holds.
 */
void seal_sink_free(struct seal_sink *s);

#endif
