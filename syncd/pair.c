#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "chan.h"
#include "kith_err.h"
#include "kith_util.h"
#include "backup.h"
#include "pair.h"

#define PAIR_V1 1
#define IO_TIMEOUT_MS 30000
#define CONFIRM_TIMEOUT_MS (15 * 60 * 1000)
#define MAXPASS_TRIES 3

static const uint8_t prologue[] = "kith pairing v1";
static const uint8_t proof_ctx[] = "kith join proof v1";

void
pair_fingerprint(const uint8_t sign_pk[static 32], char out[static 15])
{
	uint8_t h[6];
	char hx[13];

	crypto_generichash(h, sizeof(h), sign_pk, 32, NULL, 0);
	kith_hex(h, sizeof(h), hx);
	snprintf(out, 15, "%.4s-%.4s-%.4s", hx, hx + 4, hx + 8);
}

static void note(const struct pair_ui *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
note(const struct pair_ui *ui, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	if (ui == NULL || ui->note == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ui->note(ui->arg, buf);
}

static void
proof_msg(uint8_t m[sizeof(proof_ctx) - 1 + NOISE_HASHLEN],
    const uint8_t h[NOISE_HASHLEN])
{

	memcpy(m, proof_ctx, sizeof(proof_ctx) - 1);
	memcpy(m + sizeof(proof_ctx) - 1, h, NOISE_HASHLEN);
}

/* The error a REFUSE reason stands for, on either side. */
static int
refuse_err(uint8_t why)
{

	switch (why) {
	case PAIR_REFUSE_DECLINED:
		return (KITH_EDECLINED);
	case PAIR_REFUSE_USED:
		return (KITH_EUSED);
	case PAIR_REFUSE_REVOKED:
		return (KITH_EREVOKED);
	case PAIR_REFUSE_BADPASS:
		return (KITH_EBADPASS);
	default:
		return (KITH_EREFUSED);
	}
}

static int
refuse(chan *c, uint8_t why)
{

	(void)chan_send(c, MSG_REFUSE, &why, 1);
	return (refuse_err(why));
}

static void
cert_key(const uint8_t sign_pk[32], char key[5 + 65])
{

	memcpy(key, "cert:", 5);
	kith_hex(sign_pk, 32, key + 5);
}

static int
cert_save(struct home *hm, const uint8_t sign_pk[32], const uint8_t *cert,
    size_t len)
{
	char key[5 + 65];

	cert_key(sign_pk, key);
	return (store_meta_put(hm->st, key, cert, len));
}

static int
cert_load(struct home *hm, const uint8_t sign_pk[32], uint8_t *cert,
    size_t *len)
{
	char key[5 + 65];
	uint8_t *v;
	size_t n;
	int rc;

	cert_key(sign_pk, key);
	if ((rc = store_meta_get(hm->st, key, &v, &n)) != 0)
		return (rc);
	if (n > CERT_MAXLEN) {
		free(v);
		return (KITH_ECORRUPT);
	}
	memcpy(cert, v, n);
	*len = n;
	free(v);
	return (0);
}

/*
 * Shower side of enrolment: ask, unseal, sign the new device into a new
 * roster version, and store it.  On success *${cert} is the new device's
 * certificate.
 */
static int
enrol(struct home *hm, const struct pair_ui *ui, const uint8_t sign_pk[32],
    const uint8_t kx_pk[32], const char *name, uint8_t *cert,
    size_t *certlen, uint8_t *why)
{
	struct roster *r = NULL;
	uint8_t *pass, *sk = NULL;
	size_t plen;
	char fp[15];
	int n, rc;

	pair_fingerprint(sign_pk, fp);
	*why = PAIR_REFUSE_DECLINED;
	if (ui == NULL || ui->confirm == NULL || !ui->confirm(ui->arg, name,
	    fp))
		return (KITH_EDECLINED);
	*why = PAIR_REFUSE_BADPASS;
	for (n = 1; n <= MAXPASS_TRIES; n++) {
		if (ui->passphrase == NULL ||
		    ui->passphrase(ui->arg, n, &pass, &plen) != 0)
			return (KITH_EBADPASS);
		rc = home_account_sk(hm, pass, plen, &sk);
		sodium_free(pass);
		if (rc == 0)
			break;
		if (rc != KITH_EBADPASS) {
			*why = PAIR_REFUSE_INTERNAL;
			return (rc);
		}
		note(ui, "%s", "wrong passphrase");
	}
	if (sk == NULL)
		return (KITH_EBADPASS);

	*why = PAIR_REFUSE_INTERNAL;
	if ((rc = roster_next(hm->roster, &r)) != 0)
		goto done;
	if ((rc = roster_add(r, sign_pk, kx_pk, name,
	    hm->dk->sign_pk)) != 0) {
		if (rc == KITH_EINVAL)
			*why = PAIR_REFUSE_NAME;
		goto done;
	}
	rc = home_roster_commit(hm, r, sk, 0, NULL);
	r = NULL;
	if (rc != 0 || (rc = cert_make(sk, roster_find_sign(hm->roster,
	    sign_pk), cert, certlen)) != 0)
		goto done;
	/* Kept, so that a joiner cut before it stored it gets it again. */
	if ((rc = cert_save(hm, sign_pk, cert, *certlen)) != 0)
		goto done;
	/* The joiner's lock key and the backup key follow it (§8.1). */
	devkey_lockkey(sk, sign_pk, cert + *certlen);
	backup_keypair(sk, NULL, cert + *certlen + DEVKEY_LOCKLEN);
	*certlen += DEVKEY_LOCKLEN + 32;
done:
	roster_free(r);
	sodium_free(sk);
	return (rc);
}

/* Everything the joiner needs to hold the account: four messages. */
static int
send_account(chan *c, struct home *hm, const uint8_t *cert, size_t certlen)
{
	uint8_t m[32 + 2 * ACCOUNT_SEALED_LEN], *v, *keys;
	size_t len, klen;
	int rc;

	memcpy(m, hm->account_pk, 32);
	if ((rc = store_meta_get(hm->st, "sealed_pass", &v, &len)) != 0)
		return (rc);
	if (len != ACCOUNT_SEALED_LEN) {
		free(v);
		return (KITH_ECORRUPT);
	}
	memcpy(m + 32, v, len);
	free(v);
	if ((rc = store_meta_get(hm->st, "sealed_recovery", &v, &len)) != 0)
		return (rc);
	if (len != ACCOUNT_SEALED_LEN) {
		free(v);
		return (KITH_ECORRUPT);
	}
	memcpy(m + 32 + ACCOUNT_SEALED_LEN, v, len);
	free(v);
	if ((rc = chan_send(c, MSG_ACCOUNT, m, sizeof(m))) != 0 ||
	    (rc = chan_send(c, MSG_ROSTER, hm->roster->blob,
	    hm->roster->bloblen)) != 0 ||
	    (rc = chan_send(c, MSG_CERT, cert, certlen)) != 0)
		return (rc);
	if ((rc = hist_keys_export(hm->h, &keys, &klen)) != 0)
		return (rc);
	rc = klen > CHAN_MAXBODY ? KITH_ETOOBIG :
	    chan_send(c, MSG_KEYS, keys, klen);
	sodium_free(keys);
	return (rc);
}

int
pair_serve(struct home *hm, const struct ticket *t, struct pair_state *ps,
    int fd, const struct pair_ui *ui)
{
	noise_hs *hs = NULL;
	chan *c = NULL;
	const struct roster_dev *d;
	struct store_vv *have = NULL;
	uint8_t *buf = NULL, sign_pk[32], h[NOISE_HASHLEN], type, why;
	uint8_t pm[sizeof(proof_ctx) - 1 + NOISE_HASHLEN];
	uint8_t cert[CERT_MAXLEN + DEVKEY_LOCKLEN + 32], *certp = NULL;
	char name[ROSTER_NAMEMAX + 1];
	size_t len, nl, certlen = 0;
	int rc;

	if ((rc = chan_new(fd, IO_TIMEOUT_MS, &c)) != 0)
		return (rc);
	if ((buf = malloc(CHAN_MAXBODY)) == NULL) {
		rc = KITH_ENOMEM;
		goto done;
	}
	if ((rc = noise_hs_new(&hs, PAIR_PROTOCOL, 0, prologue,
	    sizeof(prologue) - 1, hm->dk->kx_sk, NULL, t->secret)) != 0)
		goto done;

	/* -> e, es, s, ss: who the joiner says it is. */
	if ((rc = chan_hs_recv(c, hs, buf, CHAN_MAXBODY, &len)) != 0)
		goto done;
	if (len < 2 + 32 || buf[0] != PAIR_V1 ||
	    (nl = buf[1]) > ROSTER_NAMEMAX || len != 2 + nl + 32) {
		rc = KITH_EHANDSHAKE;
		goto done;
	}
	memcpy(name, buf + 2, nl);
	name[nl] = '\0';
	memcpy(sign_pk, buf + 2 + nl, 32);
	/* Checked before it is shown to anyone: no escapes, no NUL. */
	if (strlen(name) != nl || !roster_name_ok(name)) {
		rc = KITH_EHANDSHAKE;
		goto done;
	}
	/* <- e, ee, se, psk */
	if ((rc = chan_hs_send(c, hs, NULL, 0)) != 0)
		goto done;

	/*
	 * The first transport message is the first proof that the joiner
	 * holds the psk.  Until it decrypts, this was anyone at all.
	 */
	noise_hs_hash(hs, h);
	if ((rc = chan_recv(c, &type, buf, &len)) != 0) {
		if (rc == KITH_ECRYPTO)
			rc = KITH_EHANDSHAKE;
		goto done;
	}
	proof_msg(pm, h);
	if (type != MSG_JOIN_PROOF || len != 64 ||
	    crypto_sign_verify_detached(buf, pm, sizeof(pm), sign_pk) != 0) {
		rc = KITH_EHANDSHAKE;
		goto done;
	}

	/* One ticket, one device: a second device is refused. */
	if (ps->used && sodium_memcmp(ps->used_by, noise_hs_remote_static(hs),
	    32) != 0) {
		note(ui, "refused a second device '%s': this code is used",
		    name);
		rc = refuse(c, PAIR_REFUSE_USED);
		goto done;
	}
	/* A device that cannot join does not spend the code. */
	d = roster_find_kx(hm->roster, noise_hs_remote_static(hs));
	if (d != NULL && d->status != ROSTER_ACTIVE) {
		rc = refuse(c, PAIR_REFUSE_REVOKED);
		goto done;
	}
	if (d != NULL && sodium_memcmp(d->sign_pk, sign_pk, 32) != 0) {
		rc = refuse(c, PAIR_REFUSE_INTERNAL);
		goto done;
	}
	ps->used = 1;
	memcpy(ps->used_by, noise_hs_remote_static(hs), 32);
	snprintf(ps->joiner, sizeof(ps->joiner), "%s", name);
	if (d == NULL) {
		note(ui, "device '%s' asks to join", name);
		(void)chan_send(c, MSG_WAIT, NULL, 0);
		if ((rc = enrol(hm, ui, sign_pk, noise_hs_remote_static(hs),
		    name, cert, &certlen, &why)) != 0) {
			(void)refuse(c, why);
			goto done;
		}
		note(ui, "enrolled device '%s'", name);
	} else {
		note(ui, "device '%s' is back: resuming", name);
		/* The certificate kept from its enrolment, if we made it. */
		if (cert_load(hm, sign_pk, cert, &certlen) != 0)
			certlen = 0;
		else {
			/* No passphrase asked: no lock key (zeros). */
			memset(cert + certlen, 0, DEVKEY_LOCKLEN + 32);
			(void)home_backup_pk(hm, cert + certlen +
			    DEVKEY_LOCKLEN);
			certlen += DEVKEY_LOCKLEN + 32;
		}
	}
	certp = certlen > 0 ? cert : NULL;
	rc = send_account(c, hm, certp, certlen);
	sodium_memzero(cert, sizeof(cert));	/* it held the lock key */
	if (rc != 0)
		goto done;
	if ((rc = xfer_have_recv(c, &have)) != 0)
		goto done;
	if ((rc = xfer_send(c, hm->st, have, ui ? ui->progress : NULL,
	    ui ? ui->arg : NULL)) != 0)
		goto done;
	ps->done = 1;
done:
	free(have);
	free(buf);
	noise_hs_free(hs);
	chan_free(c);
	return (rc);
}

/* Joiner: take in the account, the roster, the certificate, the keys. */
static int
recv_account(chan *c, struct home *hm, const struct ticket *t,
    const char *name, uint8_t *buf)
{
	struct roster *r = NULL;
	const struct roster_dev *d;
	struct roster_dev cd;
	uint8_t acct[32 + 2 * ACCOUNT_SEALED_LEN], type;
	uint8_t lock[DEVKEY_LOCKLEN] = { 0 }, bpk[32] = { 0 };
	uint8_t held_pk[32] = { 0 };
	size_t len;
	int rc, had = 0;

	/* ACCOUNT, or REFUSE / WAIT before it. */
	for (;;) {
		if ((rc = chan_recv(c, &type, buf, &len)) != 0)
			return (rc);
		if (type == MSG_WAIT) {
			chan_set_timeout(c, CONFIRM_TIMEOUT_MS);
			continue;
		}
		break;
	}
	chan_set_timeout(c, IO_TIMEOUT_MS);
	if (type == MSG_REFUSE && len >= 1)
		return (refuse_err(buf[0]));
	if (type != MSG_ACCOUNT || len != sizeof(acct))
		return (KITH_EPROTO);
	memcpy(acct, buf, sizeof(acct));
	if (hm->has_account &&
	    memcmp(hm->account_pk, acct, 32) != 0)	/* not secret: public */
		return (KITH_EHAVEACCOUNT);

	if ((rc = chan_recv(c, &type, buf, &len)) != 0)
		return (rc);
	if (type != MSG_ROSTER)
		return (KITH_EPROTO);
	if ((rc = roster_decode(buf, len, acct, &r)) != 0)
		return (rc == KITH_ENOMEM ? rc : KITH_EPROTO);
	/*
	 * The roster must list the device whose key the ticket named, and
	 * this one, both active: else someone else's roster was sent.
	 */
	d = roster_find_kx(r, t->static_pk);
	if (d == NULL || d->status != ROSTER_ACTIVE) {
		rc = KITH_EPROTO;
		goto fail;
	}
	d = roster_find_kx(r, hm->dk->kx_pk);
	if (d == NULL || d->status != ROSTER_ACTIVE ||
	    sodium_memcmp(d->sign_pk, hm->dk->sign_pk, 32) != 0) {
		rc = d != NULL && d->status == ROSTER_REVOKED ? KITH_EREVOKED :
		    KITH_EPROTO;
		goto fail;
	}

	if ((rc = chan_recv(c, &type, buf, &len)) != 0)
		goto fail;
	if (type != MSG_CERT) {
		rc = KITH_EPROTO;
		goto fail;
	}
	if (len > 0) {
		/*
		 * certificate || this device's lock key || the account's
		 * backup public key (zeros: not given)
		 */
		if (len <= DEVKEY_LOCKLEN + 32) {
			rc = KITH_EPROTO;
			goto fail;
		}
		len -= DEVKEY_LOCKLEN + 32;
		memcpy(lock, buf + len, DEVKEY_LOCKLEN);
		sodium_memzero(buf + len, DEVKEY_LOCKLEN);
		memcpy(bpk, buf + len + DEVKEY_LOCKLEN, 32);
		if (cert_verify(buf, len, acct, &cd) != 0 ||
		    sodium_memcmp(cd.sign_pk, hm->dk->sign_pk, 32) != 0 ||
		    sodium_memcmp(cd.kx_pk, hm->dk->kx_pk, 32) != 0 ||
		    strcmp(cd.name, d->name) != 0) {
			rc = KITH_EPROTO;
			goto fail;
		}
	}

	if ((rc = store_begin(hm->st)) != 0)
		goto fail;
	had = hm->has_account;
	memcpy(held_pk, hm->account_pk, 32);
	if (len > 0 && (rc = store_meta_put(hm->st, "cert", buf, len)) != 0)
		goto rollback;
	if (!sodium_is_zero(bpk, 32) &&
	    (rc = store_meta_put(hm->st, "backup_pk", bpk, 32)) != 0)
		goto rollback;
	if ((rc = chan_recv(c, &type, buf, &len)) != 0)
		goto rollback;
	if (type != MSG_KEYS) {
		rc = KITH_EPROTO;
		goto rollback;
	}
	if ((rc = hist_keys_import(hm->st, hm->dk, buf, len)) != 0) {
		rc = rc == KITH_EFORMAT ? KITH_EPROTO : rc;
		goto rollback;
	}
	if ((rc = home_adopt_account(hm, acct, acct + 32,
	    acct + 32 + ACCOUNT_SEALED_LEN)) != 0 ||
	    (rc = store_meta_put(hm->st, "name", name, strlen(name))) != 0)
		goto rollback;
	if ((rc = home_roster_install(hm, r, acct + 32)) != 0) {
		if (rc != KITH_ESTALE)
			goto rollback;
		/* We already hold this roster or a newer one. */
		roster_free(r);
	}
	r = NULL;
	if ((rc = store_commit(hm->st)) != 0)
		goto fail;
	snprintf(hm->name, sizeof(hm->name), "%s", name);
	if ((rc = home_load_hist(hm)) != 0)
		goto fail;
	/*
	 * Seal device.key now that the account holds this device (a wrong
	 * key from the shower would only lock the user out of this home).
	 */
	if (!sodium_is_zero(lock, DEVKEY_LOCKLEN))
		rc = home_seal_device(hm, lock);
	sodium_memzero(lock, DEVKEY_LOCKLEN);
	return (rc);

rollback:
	store_rollback(hm->st);
	/* What home_adopt_account took in memory goes with the transaction. */
	hm->has_account = had;
	memcpy(hm->account_pk, held_pk, 32);
fail:
	sodium_memzero(lock, sizeof(lock));
	roster_free(r);
	return (rc);
}

int
pair_join(struct home *hm, const struct ticket *t, int fd, const char *name,
    const struct pair_ui *ui, uint64_t *stored)
{
	noise_hs *hs = NULL;
	chan *c = NULL;
	uint8_t *buf = NULL, h[NOISE_HASHLEN], sig[64];
	uint8_t pm[sizeof(proof_ctx) - 1 + NOISE_HASHLEN];
	size_t len, nl = strlen(name);
	int rc;

	*stored = 0;
	if ((rc = chan_new(fd, IO_TIMEOUT_MS, &c)) != 0)
		return (rc);
	if (!roster_name_ok(name)) {
		rc = KITH_EINVAL;
		goto done;
	}
	/*
	 * A join must resume with the same keys after a cut, before it has
	 * a lock key: they are saved now, in clear until the account is
	 * joined (docs/PROTOCOL.md §3.2).
	 */
	if ((rc = devkey_save_clear(hm->dir, hm->dk)) != 0)
		goto done;
	if ((buf = malloc(CHAN_MAXBODY)) == NULL) {
		rc = KITH_ENOMEM;
		goto done;
	}
	if ((rc = noise_hs_new(&hs, PAIR_PROTOCOL, 1, prologue,
	    sizeof(prologue) - 1, hm->dk->kx_sk, t->static_pk,
	    t->secret)) != 0)
		goto done;
	buf[0] = PAIR_V1;
	buf[1] = (uint8_t)nl;
	memcpy(buf + 2, name, nl);
	memcpy(buf + 2 + nl, hm->dk->sign_pk, 32);
	if ((rc = chan_hs_send(c, hs, buf, 2 + nl + 32)) != 0)
		goto done;
	if ((rc = chan_hs_recv(c, hs, buf, CHAN_MAXBODY, &len)) != 0) {
		/* A cut here is what an impostor's refusal looks like too. */
		if (rc == KITH_ECLOSED || rc == KITH_ETRUNC)
			rc = KITH_EHANDSHAKE;
		goto done;
	}
	noise_hs_hash(hs, h);
	proof_msg(pm, h);
	crypto_sign_detached(sig, NULL, pm, sizeof(pm), hm->dk->sign_sk);
	if ((rc = chan_send(c, MSG_JOIN_PROOF, sig, sizeof(sig))) != 0)
		goto done;
	note(ui, "%s", "connected; waiting for the other device");
	if ((rc = recv_account(c, hm, t, name, buf)) != 0)
		goto done;
	if ((rc = xfer_have_send(c, hm->st)) != 0)
		goto done;
	rc = xfer_recv(c, hm->st, ui ? ui->progress : NULL,
	    ui ? ui->arg : NULL, stored);
done:
	free(buf);
	noise_hs_free(hs);
	chan_free(c);
	return (rc);
}
