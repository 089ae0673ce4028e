#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

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

	if ((rc = hist_open(hm->st, hm->dk, hm->dk->sign_pk, &h)) != 0)
		return (rc == KITH_ENOENT ? 0 : rc);
	hist_free(hm->h);
	hm->h = h;
	return (0);
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
	if (!create) {
		snprintf(path, sizeof(path), "%s/kith.db", dir);
		if (stat(path, &sb) == -1)
			return (KITH_ENOENT);
	}
	if ((hm = calloc(1, sizeof(*hm))) == NULL)
		return (KITH_ENOMEM);
	snprintf(hm->dir, sizeof(hm->dir), "%s", dir);
	if ((rc = devkey_load(dir, create, &hm->dk)) != 0)
		goto fail;
	snprintf(path, sizeof(path), "%s/kith.db", dir);
	if ((rc = store_open(path, &hm->st)) != 0)
		goto fail;
	if ((rc = load_meta(hm)) != 0)
		goto fail;
	if ((rc = home_load_hist(hm)) != 0)
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

int
home_init_account(struct home *hm, const char *name, const uint8_t *pass,
    size_t plen, char recovery[static RECOVERY_TEXTLEN])
{
	uint8_t *seed, *sk, pk[32];
	uint8_t sp[ACCOUNT_SEALED_LEN], sr[ACCOUNT_SEALED_LEN];
	uint8_t rbytes[RECOVERY_BYTES];
	uint8_t cert[CERT_MAXLEN];
	size_t certlen;
	struct roster *r = NULL;
	int rc;

	if (hm->has_account)
		return (KITH_EHAVEACCOUNT);
	if (!roster_name_ok(name))
		return (KITH_EINVAL);
	if ((seed = sodium_malloc(32 + 64)) == NULL)
		return (KITH_ENOMEM);
	sk = seed + 32;
	randombytes_buf(seed, 32);
	crypto_sign_seed_keypair(pk, sk, seed);
	recovery_new(rbytes, recovery);
	if ((rc = account_seal(seed, pass, plen, sp)) != 0 ||
	    (rc = account_seal(seed, rbytes, sizeof(rbytes), sr)) != 0)
		goto done;
	if ((rc = roster_new(pk, &r)) != 0 ||
	    (rc = roster_add(r, hm->dk->sign_pk, hm->dk->kx_pk, name,
	    hm->dk->sign_pk)) != 0 ||
	    (rc = roster_sign(r, sk)) != 0 ||
	    (rc = cert_make(sk, &r->dev[0], cert, &certlen)) != 0)
		goto done;

	/* One transaction: a crash leaves no half-made account. */
	if ((rc = store_begin(hm->st)) != 0)
		goto done;
	if ((rc = store_meta_put(hm->st, "name", name, strlen(name))) ||
	    (rc = store_meta_put(hm->st, "account_pk", pk, 32)) ||
	    (rc = store_meta_put(hm->st, "sealed_pass", sp, sizeof(sp))) ||
	    (rc = store_meta_put(hm->st, "sealed_recovery", sr, sizeof(sr))) ||
	    (rc = store_meta_put(hm->st, "roster", r->blob, r->bloblen)) ||
	    (rc = store_meta_put(hm->st, "cert", cert, certlen)) ||
	    (rc = hist_create_keys(hm->st, hm->dk))) {
		store_rollback(hm->st);
		goto done;
	}
	if ((rc = store_commit(hm->st)) != 0)
		goto done;
	snprintf(hm->name, sizeof(hm->name), "%s", name);
	memcpy(hm->account_pk, pk, 32);
	hm->has_account = 1;
	hm->roster = r;
	r = NULL;
	rc = home_load_hist(hm);
done:
	roster_free(r);
	sodium_memzero(rbytes, sizeof(rbytes));
	sodium_free(seed);
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
home_roster_install(struct home *hm, struct roster *r)
{
	int rc;

	if (hm->roster != NULL && (rc = roster_supersedes(hm->roster, r)))
		return (rc);
	if ((rc = store_meta_put(hm->st, "roster", r->blob, r->bloblen)) != 0)
		return (rc);
	roster_free(hm->roster);
	hm->roster = r;
	return (0);
}

int
home_adopt_account(struct home *hm, const uint8_t account_pk[static 32],
    const uint8_t *sealed_pass, const uint8_t *sealed_rec)
{
	int rc;

	if ((rc = store_meta_put(hm->st, "account_pk", account_pk, 32)) ||
	    (rc = store_meta_put(hm->st, "sealed_pass", sealed_pass,
	    ACCOUNT_SEALED_LEN)) ||
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
