/*
 * hist.h: message history on top of the store: record identity, the
 * history keys of each epoch, encryption at rest, import and export.
 *
 * A record is one JSON object with at least string members "service" and
 * "id"; its bytes are kept exactly as given.  Its rid is a keyed BLAKE2b of
 * (service, id) under the account's id key, so every device computes the
 * same rid and a record is stored once however it arrives, while the store
 * reveals neither.  Its box is XChaCha20-Poly1305 under the epoch's key:
 *     box = nonce (24) || ciphertext || tag (16)
 *     ad  = "kith record v1" || epoch (4, big endian) || rid (16)
 */
#ifndef KITH_HIST_H
#define KITH_HIST_H

#include <stddef.h>
#include <stdint.h>

#include "keys.h"
#include "store.h"

#define HIST_MAXRECORD ((size_t)16 * 1024 * 1024)
#define HIST_BOXOVER (24 + 16)

typedef struct hist hist;

/**
 * hist_create_keys(st, dk, idkey, epoch, key): store the id key and the
 * key of ${epoch} for a new (or recovered) account, wrapped under ${dk}'s
 * store key.
 */
int hist_create_keys(store *st, const struct devkey *dk,
    const uint8_t idkey[static 32], uint32_t epoch,
    const uint8_t key[static 32]);

/**
 * hist_key_put(st, dk, epoch, key): store the key of ${epoch} (from 1),
 * wrapped.  Call hist_open again (home_load_hist) to use it.
 */
int hist_key_put(store *st, const struct devkey *dk, uint32_t epoch,
    const uint8_t key[static 32]);

/**
 * hist_key(h, epoch): the key of ${epoch} (inside h's locked memory), or
 * NULL when it is not held.
 */
const uint8_t *hist_key(const hist *h, uint32_t epoch);

/**
 * hist_epochs(h, out, n): the epochs held (not 0), in no order; *${out}
 * points into ${h}.
 */
void hist_epochs(const hist *h, const uint32_t **out, size_t *n);

/**
 * hist_set_epoch(h, epoch): write new records under ${epoch} (the epoch
 * the roster names).  Returns 0 or KITH_ENOENT: its key is not held (a
 * revoked device), and hist_append refuses with KITH_ENOENT until it is.
 */
int hist_set_epoch(hist *h, uint32_t epoch);

/**
 * hist_open(st, dk, self, out): load the history keys (into sodium_malloc
 * memory).  ${self} is this device's sign_pk: the origin of what it adds.
 * The store stays the caller's.  Returns 0, KITH_ENOENT (no keys yet),
 * KITH_ECORRUPT or KITH_ENOMEM.
 */
int hist_open(store *st, const struct devkey *dk,
    const uint8_t self[static 32], hist **out);

/**
 * hist_free(h): wipe and free; NULL does nothing.
 */
void hist_free(hist *h);

/**
 * hist_add(h, json, len, added): validate one record and store it as a new
 * record of this device, unless its (service, id) is already held.
 * Returns 0 (*${added} says which), KITH_EFORMAT (not a JSON object with
 * string service and id), KITH_EPERM (a service reserved to kith),
 * KITH_ETOOBIG, KITH_ENOENT (no key for the
 * current epoch), or a store error.  Call between
 * store_begin and store_commit.
 */
int hist_add(hist *h, const char *json, size_t len, int *added);

/**
 * hist_json_wipe(): make jansson wipe every block it frees.  Records (a
 * message's text, an invitation's secret) pass through jansson objects;
 * call once at start, before any JSON is made.
 */
void hist_json_wipe(void);

/**
 * hist_allow_kith(h, on): let hist_add write records of the services
 * reserved to kith ("kith:...", contacts.h); refused with KITH_EPERM
 * otherwise.
 */
void hist_allow_kith(hist *h, int on);

/**
 * hist_append(h, json, len, added, seq, rid): hist_add, also giving the
 * record's rid and, when stored, its sequence number (0 when held
 * already).  ${seq} and ${rid} may be NULL.
 */
int hist_append(hist *h, const char *json, size_t len, int *added,
    uint64_t *seq, uint8_t rid[STORE_RIDLEN]);

/**
 * hist_derive(h, epoch, ctx, out): a 32-byte key for the purpose named by
 * ${ctx}, derived from the key of ${epoch} (BLAKE2b-256 keyed by it, over
 * ${ctx}): every device holding that epoch derives the same.  Returns 0 or
 * KITH_ENOENT (no key for that epoch).
 */
int hist_derive(const hist *h, uint32_t epoch, const char *ctx,
    uint8_t out[static 32]);

/**
 * hist_open_rec(h, rec, out, len): decrypt a stored record into a malloc'd
 * buffer (NUL-terminated).  Returns 0, KITH_ENOENT (no key for its epoch),
 * KITH_ECORRUPT (fails to authenticate) or KITH_ENOMEM.
 */
int hist_open_rec(hist *h, const struct store_rec *rec, char **out,
    size_t *len);

/**
 * hist_get(h, service, id, out, len): the record stored under (${service},
 * ${id}), decrypted into a malloc'd NUL-terminated buffer.  Returns 0,
 * KITH_ENOENT (not held, or no key for its epoch), KITH_ECORRUPT or a
 * store error.
 */
int hist_get(hist *h, const char *service, const char *id, char **out,
    size_t *len);

/**
 * hist_held(h, service, id): 1 if a record (${service}, ${id}) is held,
 * 0 if not, or a negative error.
 */
int hist_held(hist *h, const char *service, const char *id);

/**
 * hist_keys_export(h, out, len): the id key and every epoch key, as sent to
 * a newly enrolled device over the secure channel:
 *     idkey (32) || n (4) || n * (epoch (4) || key (32)).
 * *${out} is sodium_malloc'd; free with sodium_free.
 */
int hist_keys_export(hist *h, uint8_t **out, size_t *len);

/**
 * hist_keys_import(st, dk, buf, len): store keys received that way (a key
 * already held is written again: the account's keys never change).  Returns 0, KITH_EFORMAT or a store error.
 */
int hist_keys_import(store *st, const struct devkey *dk, const uint8_t *buf,
    size_t len);

/**
 * hist_epoch(h): the current epoch: the one the roster names once
 * hist_set_epoch was called, else the highest one held.
 */
uint32_t hist_epoch(const hist *h);

#endif
