/*
 * home.h: a kith home directory: this device's keys, the store, the
 * account and its roster, the history keys.
 *
 * Layout (directory 0700):
 *     device.key   this device's secret keys (0600)
 *     kith.db      the store (0600): meta, roster, wrapped history keys,
 *                  records
 */
#ifndef KITH_HOME_H
#define KITH_HOME_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "hist.h"
#include "keys.h"
#include "roster.h"
#include "store.h"

struct home {
	char dir[PATH_MAX];
	store *st;
	struct devkey *dk;
	char name[ROSTER_NAMEMAX + 1];	/* this device's; "" if unset */
	int has_account;
	uint8_t account_pk[32];
	struct roster *roster;		/* NULL until enrolled */
	hist *h;			/* NULL until history keys arrive */
};

/**
 * home_path(opt, out, cap): the home directory: ${opt} if given, else
 * $KITH_HOME, else $XDG_DATA_HOME/kith, else $HOME/.local/share/kith.
 */
int home_path(const char *opt, char *out, size_t cap);

/**
 * home_path_default(out, cap): the default home, by the XDG rules alone.
 */
int home_path_default(char *out, size_t cap);

/**
 * home_open(dir, create, out): open a home; with ${create}, make the
 * directory (0700) and this device's keys when missing.  A home whose
 * device.key is sealed opens locked (hm->dk->locked: public keys, meta
 * and roster only; hm->h is NULL) until home_unlock.  Returns 0,
 * KITH_ENOENT (no home there), KITH_ECORRUPT, KITH_EDB, KITH_EIO.
 */
int home_open(const char *dir, int create, struct home **out);

/**
 * home_close(hm): NULL does nothing.
 */
void home_close(struct home *hm);

/**
 * home_set_name(hm, name): record this device's name.
 */
int home_set_name(struct home *hm, const char *name);

/**
 * home_init_account(hm, name, pass, plen, recovery): create a new account
 * with this device as its first member; ${recovery} receives the recovery
 * code (a secret, to be shown once).  Returns 0, KITH_EHAVEACCOUNT,
 * KITH_EINVAL (bad name) or another error.
 */
int home_init_account(struct home *hm, const char *name, const uint8_t *pass,
    size_t plen, char recovery[static RECOVERY_TEXTLEN]);

/**
 * home_account_sk(hm, pass, plen, sk): unseal the account key with the
 * passphrase into *${sk} (64 bytes, sodium_malloc; sodium_free it).
 * Returns 0, KITH_EBADPASS, KITH_ENOACCOUNT, KITH_ESTALE (the seal held
 * is not the one the roster names) or KITH_ENOMEM.
 */
int home_account_sk(struct home *hm, const uint8_t *pass, size_t plen,
    uint8_t **sk);

/**
 * home_roster_install(hm, r, sealed): make ${r} (verified against the
 * account key) the roster held, if it supersedes the one held (the rules
 * of roster_supersedes), with ${sealed}, the passphrase seal it names
 * (ACCOUNT_SEALED_LEN bytes; NULL when it names the seal held).  When the
 * roster grants this device the key of a new epoch, the key is opened and
 * stored.  One transaction (or part of the caller's); the history keys
 * are reloaded.  Takes ownership of ${r} on success.  Returns 0,
 * KITH_ESTALE, KITH_EFORK, KITH_ECRYPTO, KITH_EROSTER, or a store error.
 */
int home_roster_install(struct home *hm, struct roster *r,
    const uint8_t *sealed);

/**
 * home_roster_commit(hm, r, sk, new_epoch, sealed): sign ${r} (made with
 * roster_next from the roster held, then changed) with the account key
 * ${sk} and install it.  With ${new_epoch}, a fresh history key starts the
 * epoch after the held one; otherwise the grants carry the current key.
 * ${sealed}, when not NULL, is a new passphrase seal.  Takes ownership of
 * ${r} always.
 */
int home_roster_commit(struct home *hm, struct roster *r,
    const uint8_t sk[static 64], int new_epoch, const uint8_t *sealed);

/**
 * home_lockkey(hm, pass, plen, lock) / home_lockkey_code(hm, code, lock):
 * this device's lock key (the key device.key is sealed under), from the
 * account passphrase (an Argon2id unseal, about a quarter of a second) or
 * from the recovery code.  Errors as home_account_sk; KITH_EBADPASS for a
 * code of another account.
 */
int home_lockkey(struct home *hm, const uint8_t *pass, size_t plen,
    uint8_t lock[static DEVKEY_LOCKLEN]);
int home_lockkey_code(struct home *hm, const uint8_t code[static RECOVERY_BYTES],
    uint8_t lock[static DEVKEY_LOCKLEN]);

/**
 * home_unlock(hm, lock): open this device's keys with ${lock} and load the
 * history keys; a device.key not sealed yet is sealed under it.  Returns
 * 0, KITH_EBADPASS (not this device's lock key), KITH_ECORRUPT, KITH_EIO.
 */
int home_unlock(struct home *hm, const uint8_t lock[static DEVKEY_LOCKLEN]);

/**
 * home_backup_pk(hm, bpk): the account's backup public key (backup.h), as
 * recorded on this device.  Returns 0, KITH_ENOENT (not known here yet:
 * 'kith unlock' once with the passphrase records it) or a store error.
 */
int home_backup_pk(struct home *hm, uint8_t bpk[static 32]);

/**
 * home_seal_device(hm, lock): seal device.key under ${lock} if it is not
 * sealed yet (done when an account is made, joined or recovered).
 */
int home_seal_device(struct home *hm, const uint8_t lock[static DEVKEY_LOCKLEN]);

/**
 * home_seal(hm, out): the passphrase seal held.
 */
int home_seal(struct home *hm, uint8_t out[static ACCOUNT_SEALED_LEN]);

/**
 * home_recover(hm, name, code, pass, plen, base, revoke_others): rebuild
 * the account of recovery code ${code} on this (fresh) device named
 * ${name}, with the new passphrase ${pass}.  With a ${base} roster (one
 * exported earlier; verified here against the code's account), the new
 * roster follows it, this device added, and with ${revoke_others} every
 * device of it revoked; without one, ${revoke_others} is required and a
 * reset roster bars every earlier device.  A new epoch starts either way.
 * Returns 0, KITH_EHAVEACCOUNT, KITH_EBADPASS (the base is another
 * account's), KITH_EINVAL (bad name, or no base without revoke_others).
 */
int home_recover(struct home *hm, const char *name,
    const uint8_t code[static RECOVERY_BYTES], const uint8_t *pass,
    size_t plen, const struct roster *base, int revoke_others);

/**
 * home_adopt_account(hm, account_pk, sealed_pass, sealed_rec): record the
 * account this device joins (public key and the two seals, which it keeps
 * so that it can act for the account given the passphrase).
 */
int home_adopt_account(struct home *hm, const uint8_t account_pk[static 32],
    const uint8_t *sealed_pass, const uint8_t *sealed_rec);

/**
 * home_load_hist(hm): (re)load the history keys after they changed.
 */
int home_load_hist(struct home *hm);

/**
 * home_reload(hm, prev): read the account, roster and history keys again
 * (another process changed them).  *${prev} is the roster held before when
 * a roster was read (the caller frees it), else NULL.
 */
int home_reload(struct home *hm, struct roster **prev);

/**
 * home_self(hm): this device's roster entry, or NULL.
 */
const struct roster_dev *home_self(const struct home *hm);

#endif
