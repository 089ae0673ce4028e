/*
 * bkhome.h: backups of a kith home: what a backup takes from the home,
 * the targets a home knows and their state, and restore into a fresh
 * home.  The agent and the command share it.
 */
#ifndef KITH_BKHOME_H
#define KITH_BKHOME_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "backup.h"
#include "home.h"

/* Copies of what a backup carries besides records (owned). */
struct bk_hold {
	struct backup_src src;
	uint8_t bpk[32];
	uint8_t *sign_sk;		/* sodium_malloc */
	uint8_t *keys;			/* sodium_malloc */
	uint8_t *cert, *roster;
	uint8_t sealed_pass[ACCOUNT_SEALED_LEN];
	uint8_t sealed_rec[ACCOUNT_SEALED_LEN];
	uint8_t sign_pk[32], account_pk[32];
	char name[65];
};

/**
 * bk_hold_fill(hm, st, h): copy from the unlocked, enrolled home ${hm}
 * what a backup needs; the records are read from ${st} (the home's own
 * store, or another connection to it).  Returns 0, KITH_ELOCKED,
 * KITH_ENOACCOUNT, KITH_ENOENT (the backup key is not known on this
 * device yet) or a store error.
 */
int bk_hold_fill(struct home *hm, store *st, struct bk_hold *h);
void bk_hold_free(struct bk_hold *h);

/* A target this home knows: its id and the path it was last seen at. */
struct bk_target {
	uint8_t id[BACKUP_IDLEN];
	char path[PATH_MAX];
};

/**
 * bk_targets(hm, out, n): the targets known (meta "backup_targets").
 * *${out} is malloc'd.
 */
int bk_targets(struct home *hm, struct bk_target **out, size_t *n);

/**
 * bk_target_add(hm, id, path): remember a target (or where it is now).
 */
int bk_target_add(struct home *hm, const uint8_t id[static BACKUP_IDLEN],
    const char *path);

/**
 * bk_state_load(st, id, s) / bk_state_save(st, id, s): the state of this
 * device's set on a target (empty when none).
 */
int bk_state_load(store *st, const uint8_t id[static BACKUP_IDLEN],
    struct backup_state *s);
int bk_state_save(store *st, const uint8_t id[static BACKUP_IDLEN],
    const struct backup_state *s);

/**
 * bk_result_save(st, id, path, rc, res) / bk_result_json(st, id): the
 * outcome of the last backup to a target, for `kith status` and the API:
 * {"target", "path", "time", "ok", "records", "total", "error"}.
 */
int bk_result_save(store *st, const uint8_t id[static BACKUP_IDLEN],
    const char *path, int rc, const struct backup_result *res);
char *bk_result_text(store *st, const uint8_t id[static BACKUP_IDLEN]);

/**
 * bk_results_json(hm): the last outcome at every known target, a list of
 * those objects ({"path", "time": null} for a target never backed up).
 */
json_t *bk_results_json(struct home *hm);

/**
 * bk_error_text(rc): what to tell the user about a failed backup.
 */
const char *bk_error_text(int rc);

/**
 * bk_restore(hm, dir, m, seed, progress, arg, stored): put backup ${m}
 * (opened with backup_open) into the fresh home ${hm}, in one
 * transaction: the account (public key and seals), the roster it held
 * (kept as "restored_roster": the device is not enrolled), the history
 * keys, and every record, each tried with those keys (*${unread} counts
 * those that do not open: they are kept encrypted, as sync would).  Then device.key is
 * sealed under this device's lock key.  Nothing is kept on any error.
 * Returns 0, KITH_EHAVEACCOUNT, KITH_ECORRUPT (a segment is damaged),
 * or a store error.
 */
int bk_restore(struct home *hm, const char *dir,
    const struct backup_manifest *m, const uint8_t seed[static 32],
    void (*progress)(void *arg, uint64_t n, uint64_t tot), void *arg,
    uint64_t *stored, uint64_t *unread);

/**
 * bk_choose_set(dir, seed, set, number): the set to restore from a target
 * holding several: open each (its newest manifest that verifies), take
 * the newest roster among them, and among the sets written by a device
 * active in it, the one with the newest roster, then the newest
 * manifest.  Returns 0, KITH_EBADPASS (no set opens with ${seed}),
 * KITH_EREVOKED (every set was written by a device revoked since),
 * KITH_ENOENT or KITH_ENOMEM.
 */
int bk_choose_set(const char *dir, const uint8_t seed[static 32],
    char set[static 17], uint64_t *number);

#endif
