#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "backup.h"
#include "home.h"
#include "kith_err.h"
#include "kith_util.h"

int
home_path(const char *opt, char *out, size_t cap)
{
	const char *e;
	int n;

	if (opt != NULL && opt[0] != '\0')
		n = snprintf(out, cap, "%s", opt);
	else if ((e = getenv("KITH_HOME")) != NULL && e[0] != '\0')
		n = snprintf(out, cap, "%s", e);
	else
		return (home_path_default(out, cap));
	return (n < 0 || (size_t)n >= cap ? KITH_EINVAL : 0);
}

int
home_path_default(char *out, size_t cap)
{
	const char *e;
	int n;

	if ((e = getenv("XDG_DATA_HOME")) != NULL && e[0] == '/')
		n = snprintf(out, cap, "%s/kith", e);
	else if ((e = getenv("HOME")) != NULL && e[0] != '\0')
		n = snprintf(out, cap, "%s/.local/share/kith", e);
	else
		return (KITH_ENOENT);
	return (n < 0 || (size_t)n >= cap ? KITH_EINVAL : 0);
}

static int
load_meta(struct home *hm)
{
	struct roster *r;
	uint8_t *v;
	size_t len;
	int rc;

	if ((rc = store_meta_get(hm->st, "name", &v, &len)) == 0) {
		if (len <= ROSTER_NAMEMAX)
			memcpy(hm->name, v, len + 1);
		free(v);
	} else if (rc != KITH_ENOENT)
		return (rc);
	if ((rc = store_meta_get(hm->st, "account_pk", &v, &len)) == 0) {
		if (len != 32) {
			free(v);
			return (KITH_ECORRUPT);
		}
		memcpy(hm->account_pk, v, 32);
		hm->has_account = 1;
		free(v);
	} else if (rc != KITH_ENOENT)
		return (rc);
	if (hm->has_account &&
	    (rc = store_meta_get(hm->st, "roster", &v, &len)) == 0) {
		rc = roster_decode(v, len, hm->account_pk, &r);
		free(v);
		if (rc != 0)
			return (KITH_ECORRUPT);
		roster_free(hm->roster);
		hm->roster = r;
	} else if (hm->has_account && rc != KITH_ENOENT)
		return (rc);
	return (0);
}

int
home_reload(struct home *hm, struct roster **prev)
{
	struct roster *old = hm->roster;
	int rc;

	*prev = NULL;
	hm->roster = NULL;
	if ((rc = load_meta(hm)) != 0) {
		roster_free(hm->roster);
		hm->roster = old;
		return (rc);
	}
	if (hm->roster == NULL)
		hm->roster = old;
	else
		*prev = old;
	return (home_load_hist(hm));
}

int
home_load_hist(struct home *hm)
{
	hist *h;
	int rc;

	if (hm->dk->locked)
		return (0);	/* no keys to read them with until unlocked */
	if ((rc = hist_open(hm->st, hm->dk, hm->dk->sign_pk, &h)) != 0)
		return (rc == KITH_ENOENT ? 0 : rc);
	/* New records go under the epoch the roster names. */
	if (hm->roster != NULL)
		(void)hist_set_epoch(h, hm->roster->epoch);
	hist_free(hm->h);
	hm->h = h;
	return (0);
}

/* Is there a store in ${dir}: a kith.db, or its WAL, that is not empty? */
static int
store_exists(const char *dir)
{
	struct stat sb;
	char path[PATH_MAX + 16];

	snprintf(path, sizeof(path), "%s/kith.db", dir);
	if (stat(path, &sb) == -1)
		return (0);
	if (sb.st_size > 0)
		return (1);
	snprintf(path, sizeof(path), "%s/kith.db-wal", dir);
	return (stat(path, &sb) == 0 && sb.st_size > 0);
}

static int
devkey_exists(const char *dir)
{
	struct stat sb;
	char path[PATH_MAX + 16];

	snprintf(path, sizeof(path), "%s/device.key", dir);
	return (lstat(path, &sb) == 0);
}

int
home_open(const char *dir, int create, struct home **out)
{
	struct home *hm;
	struct stat sb;
	char path[PATH_MAX + 16];
	int rc;

	if (stat(dir, &sb) == -1) {
		if (errno != ENOENT || !create)
			return (KITH_ENOENT);
		if (kith_mkdirs(dir, 0700) != 0)
			return (KITH_EIO);
	} else if (!S_ISDIR(sb.st_mode))
		return (KITH_EINVAL);
	if (!create && !store_exists(dir))
		return (devkey_exists(dir) ? KITH_ECORRUPT : KITH_ENOENT);
	if ((hm = calloc(1, sizeof(*hm))) == NULL)
		return (KITH_ENOMEM);
	snprintf(hm->dir, sizeof(hm->dir), "%s", dir);
	/* Fresh keys, in memory only, when device.key is not there. */
	if ((rc = devkey_load(dir, 1, &hm->dk)) != 0)
		goto fail;
	/*
	 * The store is made before device.key is ever written: a key file
	 * beside no store (or an empty one) means the store was lost, and a
	 * new empty one must not stand in for it.
	 */
	if (!hm->dk->unsaved && !store_exists(dir)) {
		rc = KITH_ECORRUPT;
		goto fail;
	}
	snprintf(path, sizeof(path), "%s/kith.db", dir);
	if ((rc = store_open(path, &hm->st)) != 0)
		goto fail;
	if ((rc = load_meta(hm)) != 0)
		goto fail;
	/* An account is joined or made only once its keys are in the file. */
	if (hm->has_account && hm->dk->unsaved) {
		rc = KITH_ECORRUPT;
		goto fail;
	}
	if (!create && !hm->has_account && hm->dk->unsaved) {
		rc = KITH_ENOENT;	/* an init cut before it made anything */
		goto fail;
	}
	/*
	 * Sealed keys and no account: an init, recover or restore sealed
	 * them and then failed to commit.  Nothing was ever encrypted under
	 * them: start again with new keys.
	 */
	if (hm->dk->locked && !hm->has_account && create)
		devkey_renew(hm->dk);
	if (!hm->dk->locked && (rc = home_load_hist(hm)) != 0)
		goto fail;
	*out = hm;
	return (0);

fail:
	home_close(hm);
	return (rc);
}

void
home_close(struct home *hm)
{

	if (hm == NULL)
		return;
	hist_free(hm->h);
	roster_free(hm->roster);
	store_close(hm->st);
	devkey_free(hm->dk);
	free(hm);
}

int
home_set_name(struct home *hm, const char *name)
{
	int rc;

	if (!roster_name_ok(name))
		return (KITH_EINVAL);
	if ((rc = store_meta_put(hm->st, "name", name, strlen(name))) != 0)
		return (rc);
	snprintf(hm->name, sizeof(hm->name), "%s", name);
	return (0);
}

static int seal_current(struct home *);

static void
seal_hash(const uint8_t sealed[ACCOUNT_SEALED_LEN], uint8_t out[32])
{

	crypto_generichash(out, 32, sealed, ACCOUNT_SEALED_LEN, NULL, 0);
}

/*
 * Write a new account, whole, in one transaction: this device named
 * ${name}, the account key ${seed}, the roster ${r} (signed), the seals,
 * the id key and the key of r's epoch.
 */
static int
write_account(struct home *hm, const char *name, const uint8_t *seed,
    struct roster *r, const uint8_t *sk, const uint8_t sp[ACCOUNT_SEALED_LEN],
    const uint8_t sr[ACCOUNT_SEALED_LEN], const uint8_t *key)
{
	uint8_t cert[CERT_MAXLEN], *idkey, bpk[32];
	size_t certlen;
	int rc;

	if ((idkey = sodium_malloc(32)) == NULL)
		return (KITH_ENOMEM);
	account_idkey(seed, idkey);
	if ((rc = cert_make(sk, roster_find_sign(r, hm->dk->sign_pk), cert,
	    &certlen)) != 0 || (rc = store_begin(hm->st)) != 0)
		goto done;
	if ((rc = store_meta_put(hm->st, "name", name, strlen(name))) ||
	    (rc = store_meta_put(hm->st, "account_pk", r->account_pk, 32)) ||
	    (rc = store_meta_put(hm->st, "sealed_pass", sp,
	    ACCOUNT_SEALED_LEN)) ||
	    (rc = store_meta_put(hm->st, "sealed_recovery", sr,
	    ACCOUNT_SEALED_LEN)) ||
	    (rc = store_meta_put(hm->st, "roster", r->blob, r->bloblen)) ||
	    (rc = store_meta_put(hm->st, "cert", cert, certlen)) ||
	    (backup_keypair(seed, NULL, bpk),
	    rc = store_meta_put(hm->st, "backup_pk", bpk, 32)) ||
	    (rc = hist_create_keys(hm->st, hm->dk, idkey, r->epoch, key))) {
		store_rollback(hm->st);
		goto done;
	}
	/*
	 * device.key is written, sealed, before the account is committed:
	 * the keys never rest in clear, and a crash in between leaves
	 * sealed keys and no account, which home_open starts again from.
	 */
	devkey_lockkey(seed, hm->dk->sign_pk, idkey);
	if ((rc = home_seal_device(hm, idkey)) != 0) {
		store_rollback(hm->st);
		goto done;
	}
	if ((rc = store_commit(hm->st)) != 0)
		goto done;
	snprintf(hm->name, sizeof(hm->name), "%s", name);
	memcpy(hm->account_pk, r->account_pk, 32);
	hm->has_account = 1;
	roster_free(hm->roster);
	hm->roster = r;		/* ours now: the caller must not free it */
	(void)home_load_hist(hm);
	rc = 0;
done:
	sodium_free(idkey);
	return (rc);
}

/*
 * Everything secret of a new roster's making, in one locked block:
 * seed 32 | sk 64 | epoch key 32 | recovery bytes 20.
 */
#define MK_SEED 0
#define MK_SK 32
#define MK_KEY 96
#define MK_CODE 128
#define MK_LEN (128 + RECOVERY_BYTES)

/*
 * Found the account of ${mk} on this device: seal its key, add this
 * device to ${r} with a fresh epoch key granted to it, sign, write it all.
 * Takes ownership of ${r}.
 */
static int
found_account(struct home *hm, const char *name, uint8_t *mk,
    const uint8_t *pass, size_t plen, struct roster *r)
{
	uint8_t sp[ACCOUNT_SEALED_LEN], sr[ACCOUNT_SEALED_LEN];
	int rc;

	randombytes_buf(mk + MK_KEY, 32);
	if ((rc = account_seal(mk + MK_SEED, pass, plen, sp)) != 0 ||
	    (rc = account_seal(mk + MK_SEED, mk + MK_CODE, RECOVERY_BYTES,
	    sr)) != 0)
		goto fail;
	seal_hash(sp, r->seal);
	if ((rc = roster_add(r, hm->dk->sign_pk, hm->dk->kx_pk, name,
	    hm->dk->sign_pk)) != 0 ||
	    (rc = roster_grant_all(r, mk + MK_KEY)) != 0 ||
	    (rc = roster_sign(r, mk + MK_SK)) != 0 ||
	    (rc = write_account(hm, name, mk + MK_SEED, r, mk + MK_SK, sp, sr,
	    mk + MK_KEY)) != 0)
		goto fail;
	return (0);
fail:
	roster_free(r);
	return (rc);
}

int
home_init_account(struct home *hm, const char *name, const uint8_t *pass,
    size_t plen, char recovery[static RECOVERY_TEXTLEN])
{
	uint8_t *mk, pk[32];
	struct roster *r;
	int rc;

	if (hm->has_account)
		return (KITH_EHAVEACCOUNT);
	if (!roster_name_ok(name))
		return (KITH_EINVAL);
	if ((mk = sodium_malloc(MK_LEN)) == NULL)
		return (KITH_ENOMEM);
	/* The account key comes from the recovery code. */
	recovery_new(mk + MK_CODE, recovery);
	recovery_seed(mk + MK_CODE, mk + MK_SEED);
	crypto_sign_seed_keypair(pk, mk + MK_SK, mk + MK_SEED);
	if ((rc = roster_new(pk, &r)) == 0)
		rc = found_account(hm, name, mk, pass, plen, r);
	sodium_free(mk);
	return (rc);
}

int
home_recover(struct home *hm, const char *name,
    const uint8_t code[static RECOVERY_BYTES], const uint8_t *pass,
    size_t plen, const struct roster *base, int revoke_others)
{
	uint8_t *mk, pk[32];
	struct roster *r = NULL;
	size_t i;
	uint64_t v;
	int rc;

	/* A home restored from a backup holds the account, no roster. */
	if (hm->has_account && hm->roster != NULL)
		return (KITH_EHAVEACCOUNT);
	if (!roster_name_ok(name) || (base == NULL && !revoke_others))
		return (KITH_EINVAL);
	if ((mk = sodium_malloc(MK_LEN)) == NULL)
		return (KITH_ENOMEM);
	memcpy(mk + MK_CODE, code, RECOVERY_BYTES);
	recovery_seed(mk + MK_CODE, mk + MK_SEED);
	crypto_sign_seed_keypair(pk, mk + MK_SK, mk + MK_SEED);
	if (hm->has_account &&
	    memcmp(hm->account_pk, pk, 32) != 0) {	/* not secret */
		rc = KITH_EBADPASS;
		goto done;
	}
	if (base != NULL) {
		/* not secret: public keys */
		if (memcmp(base->account_pk, pk, 32) != 0) {	/* not secret */
			rc = KITH_EBADPASS;
			goto done;
		}
		if ((rc = roster_next(base, &r)) != 0)
			goto done;
		r->epoch = base->epoch + 1;
		for (i = 0; i < r->ndev && revoke_others; i++)
			if (r->dev[i].status == ROSTER_ACTIVE)
				(void)roster_revoke(r, r->dev[i].sign_pk,
				    hm->dk->sign_pk);
	} else {
		/*
		 * Nothing says which version the lost devices reached: a
		 * reset roster takes a version from the clock, above any
		 * an account reaches by counting (2^20 changes a second).
		 */
		if ((rc = roster_new(pk, &r)) != 0)
			goto done;
		v = kith_now() << 20;
		r->version = v > 1 ? v : 2;
		r->flags = ROSTER_F_RESET;
		r->epoch = 1;
	}
	/* Never reuse the number of an epoch whose key is held (restored). */
	if (hm->h != NULL) {
		const uint32_t *ep;
		size_t n;

		hist_epochs(hm->h, &ep, &n);
		for (i = 0; i < n; i++)
			if (ep[i] >= r->epoch)
				r->epoch = ep[i] + 1;
	}
	rc = found_account(hm, name, mk, pass, plen, r);
	r = NULL;
done:
	roster_free(r);
	sodium_free(mk);
	return (rc);
}

int
home_account_sk(struct home *hm, const uint8_t *pass, size_t plen,
    uint8_t **skp)
{
	uint8_t *v, *seed, pk[32];
	size_t len;
	int rc;

	if (!hm->has_account)
		return (KITH_ENOACCOUNT);
	if ((rc = store_meta_get(hm->st, "sealed_pass", &v, &len)) != 0)
		return (rc == KITH_ENOENT ? KITH_ECORRUPT : rc);
	if (len != ACCOUNT_SEALED_LEN) {
		free(v);
		return (KITH_ECORRUPT);
	}
	if ((seed = sodium_malloc(32 + 64)) == NULL) {
		free(v);
		return (KITH_ENOMEM);
	}
	rc = account_unseal(v, pass, plen, seed);
	free(v);
	if (rc != 0)
		goto fail;
	crypto_sign_seed_keypair(pk, seed + 32, seed);
	if (memcmp(pk, hm->account_pk, 32) != 0) {	/* not secret: public */
		rc = KITH_ECORRUPT;
		goto fail;
	}
	/* A seal the roster no longer names opens with an old passphrase. */
	if (hm->roster != NULL && (rc = seal_current(hm)) != 0)
		goto fail;
	/* Keep only the 64-byte secret key, at the start of the block. */
	memmove(seed, seed + 32, 64);
	sodium_memzero(seed + 64, 32);
	*skp = seed;
	return (0);

fail:
	sodium_free(seed);
	return (rc);
}

int
home_backup_pk(struct home *hm, uint8_t bpk[static 32])
{
	uint8_t *v;
	size_t len;
	int rc;

	if ((rc = store_meta_get(hm->st, "backup_pk", &v, &len)) != 0)
		return (rc);
	if (len == 32)
		memcpy(bpk, v, 32);
	else
		rc = KITH_ECORRUPT;
	free(v);
	return (rc);
}

/* Whoever learns the seed on this device records the backup public key. */
static void
keep_backup_pk(struct home *hm, const uint8_t seed[32])
{
	uint8_t bpk[32], held[32];

	if (home_backup_pk(hm, held) == 0 || store_in_tx(hm->st))
		return;
	backup_keypair(seed, NULL, bpk);
	(void)store_meta_put(hm->st, "backup_pk", bpk, 32);
}

int
home_seal_device(struct home *hm, const uint8_t lock[static DEVKEY_LOCKLEN])
{

	if (hm->dk->sealed && !hm->dk->unsaved)
		return (0);
	return (devkey_seal(hm->dir, hm->dk, lock));
}

int
home_unlock(struct home *hm, const uint8_t lock[static DEVKEY_LOCKLEN])
{
	int rc;

	if (!hm->dk->locked)
		return (home_seal_device(hm, lock));
	if ((rc = devkey_unlock(hm->dir, hm->dk, lock)) != 0)
		return (rc);
	return (home_load_hist(hm));
}

int
home_lockkey(struct home *hm, const uint8_t *pass, size_t plen,
    uint8_t lock[static DEVKEY_LOCKLEN])
{
	uint8_t *sk;
	int rc;

	/* The seed is the first half of the 64-byte secret key. */
	if ((rc = home_account_sk(hm, pass, plen, &sk)) != 0)
		return (rc);
	devkey_lockkey(sk, hm->dk->sign_pk, lock);
	keep_backup_pk(hm, sk);
	sodium_free(sk);
	return (0);
}

int
home_lockkey_code(struct home *hm, const uint8_t code[static RECOVERY_BYTES],
    uint8_t lock[static DEVKEY_LOCKLEN])
{
	uint8_t *seed, pk[32], sk[64];
	int rc = 0;

	if (!hm->has_account)
		return (KITH_ENOACCOUNT);
	if ((seed = sodium_malloc(32)) == NULL)
		return (KITH_ENOMEM);
	recovery_seed(code, seed);
	crypto_sign_seed_keypair(pk, sk, seed);
	sodium_memzero(sk, sizeof(sk));
	if (memcmp(pk, hm->account_pk, 32) != 0)	/* not secret: public */
		rc = KITH_EBADPASS;
	else {
		devkey_lockkey(seed, hm->dk->sign_pk, lock);
		keep_backup_pk(hm, seed);
	}
	sodium_free(seed);
	return (rc);
}

int
home_seal(struct home *hm, uint8_t out[static ACCOUNT_SEALED_LEN])
{
	uint8_t *v;
	size_t len;
	int rc;

	if ((rc = store_meta_get(hm->st, "sealed_pass", &v, &len)) != 0)
		return (rc == KITH_ENOENT ? KITH_ECORRUPT : rc);
	if (len != ACCOUNT_SEALED_LEN)
		rc = KITH_ECORRUPT;
	else
		memcpy(out, v, len);
	free(v);
	return (rc);
}

static int
seal_current(struct home *hm)
{
	uint8_t sealed[ACCOUNT_SEALED_LEN], h[32];
	int rc;

	if ((rc = home_seal(hm, sealed)) != 0)
		return (rc);
	seal_hash(sealed, h);
	return (memcmp(h, hm->roster->seal, 32) ? KITH_ESTALE : 0);	/* not secret: public hash */
}

/* In the caller's transaction, or in one of our own. */
static int
tx_begin(struct home *hm, int *own)
{

	*own = !store_in_tx(hm->st);
	return (*own ? store_begin(hm->st) : 0);
}

static int
tx_end(struct home *hm, int own, int rc)
{

	if (!own)
		return (rc);
	if (rc != 0) {
		store_rollback(hm->st);
		return (rc);
	}
	return (store_commit(hm->st));
}

/*
 * Inside the transaction: the roster on disk must still be the one held in
 * memory, or another process changed it meanwhile and what was checked
 * against (or built on) is stale.
 */
static int
disk_is_held(struct home *hm)
{
	uint8_t *v, h[32];
	size_t len;
	int rc;

	if ((rc = store_meta_get(hm->st, "roster", &v, &len)) != 0)
		return (rc == KITH_ENOENT && hm->roster == NULL ? 0 : KITH_ESTALE);
	crypto_generichash(h, 32, v, len, NULL, 0);
	free(v);
	/* not secret: hashes of public data */
	return (hm->roster == NULL || memcmp(h, hm->roster->hash, 32) ?	/* not secret */
	    KITH_ESTALE : 0);
}

int
home_roster_install(struct home *hm, struct roster *r, const uint8_t *sealed)
{
	uint8_t h[32], *key = NULL;
	const struct roster_dev *me;
	int rc, own;

	if (hm->roster != NULL && (rc = roster_supersedes(hm->roster, r)))
		return (rc);
	me = roster_find_sign(r, hm->dk->sign_pk);
	if (sealed != NULL) {
		seal_hash(sealed, h);
		if (memcmp(h, r->seal, 32) != 0)	/* not secret: public hash */
			return (KITH_ECRYPTO);
	} else if (hm->roster == NULL ||
	    (memcmp(r->seal, hm->roster->seal, 32) != 0 &&	/* not secret */
	    me != NULL && me->status == ROSTER_ACTIVE))
		/* Only a roster that bars this device comes without its seal. */
		return (KITH_ECRYPTO);
	if ((rc = tx_begin(hm, &own)) != 0)
		return (rc);
	if (hm->has_account && (rc = disk_is_held(hm)) != 0)
		goto done;
	if ((rc = store_meta_put(hm->st, "roster", r->blob, r->bloblen)) != 0)
		goto done;
	if (sealed != NULL && (rc = store_meta_put(hm->st, "sealed_pass",
	    sealed, ACCOUNT_SEALED_LEN)) != 0)
		goto done;
	/* The key of a new epoch, if the roster grants it to us. */
	if (hm->h == NULL || hist_key(hm->h, r->epoch) == NULL) {
		if ((key = sodium_malloc(32)) == NULL) {
			rc = KITH_ENOMEM;
			goto done;
		}
		if (roster_grant_open(r, hm->dk->sign_pk, hm->dk->kx_pk,
		    hm->dk->kx_sk, key) == 0)
			rc = hist_key_put(hm->st, hm->dk, r->epoch, key);
		sodium_free(key);
	}
done:
	if ((rc = tx_end(hm, own, rc)) != 0)
		return (rc);
	roster_free(hm->roster);
	hm->roster = r;
	/* Installed: ${r} is ours now whatever follows. */
	(void)home_load_hist(hm);
	return (0);
}

int
home_roster_commit(struct home *hm, struct roster *r,
    const uint8_t sk[static 64], int new_epoch, const uint8_t *sealed)
{
	uint8_t *key;
	const uint8_t *cur;
	int rc, own;

	if (hm->h == NULL || hm->roster == NULL) {
		roster_free(r);
		return (KITH_ENOACCOUNT);
	}
	if ((key = sodium_malloc(32)) == NULL) {
		roster_free(r);
		return (KITH_ENOMEM);
	}
	if (new_epoch) {
		randombytes_buf(key, 32);
		r->epoch = hm->roster->epoch + 1;
	} else if ((cur = hist_key(hm->h, r->epoch)) != NULL)
		memcpy(key, cur, 32);
	else {
		rc = KITH_ENOENT;
		goto done;
	}
	if (sealed != NULL)
		seal_hash(sealed, r->seal);
	if ((rc = roster_grant_all(r, key)) != 0 ||
	    (rc = roster_sign(r, sk)) != 0)
		goto done;
	/* Our own key is stored with the roster, in one transaction. */
	if ((rc = tx_begin(hm, &own)) != 0)
		goto done;
	if (new_epoch)
		rc = hist_key_put(hm->st, hm->dk, r->epoch, key);
	if (rc == 0 && (rc = home_roster_install(hm, r, sealed)) == 0)
		r = NULL;	/* held now */
	if ((rc = tx_end(hm, own, rc)) != 0 && r == NULL) {
		struct roster *prev;

		/* Installed, then not committed: read back what is on disk. */
		if (home_reload(hm, &prev) == 0)
			roster_free(prev);
	} else if (rc == 0)
		rc = home_load_hist(hm);
done:
	roster_free(r);
	sodium_free(key);
	return (rc);
}

int
home_adopt_account(struct home *hm, const uint8_t account_pk[static 32],
    const uint8_t *sealed_pass, const uint8_t *sealed_rec)
{
	uint8_t held[ACCOUNT_SEALED_LEN];
	int rc;

	/*
	 * A seal held already goes with the roster held; a newer one comes
	 * with a newer roster (home_roster_install), never on its own.
	 */
	if ((rc = store_meta_put(hm->st, "account_pk", account_pk, 32)) ||
	    (home_seal(hm, held) != 0 &&
	    (rc = store_meta_put(hm->st, "sealed_pass", sealed_pass,
	    ACCOUNT_SEALED_LEN))) ||
	    (rc = store_meta_put(hm->st, "sealed_recovery", sealed_rec,
	    ACCOUNT_SEALED_LEN)))
		return (rc);
	memcpy(hm->account_pk, account_pk, 32);
	hm->has_account = 1;
	return (0);
}

const struct roster_dev *
home_self(const struct home *hm)
{

	if (hm->roster == NULL)
		return (NULL);
	return (roster_find_sign(hm->roster, hm->dk->sign_pk));
}
