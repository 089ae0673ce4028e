#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "kith_err.h"
#include "kith_sign.h"
#include "kith_util.h"
#include "roster.h"

#define ROSTER_MAGIC "KRST"
#define CERT_MAGIC "KCRT"
#define FORMAT_V1 1
#define ROSTER_FORMAT 3
#define ROSTER_HDRLEN (4 + 1 + 8 + 32 + 32 + 8 + 1 + 4 + 32 + 2)
#define ROSTER_DEVLEN (32 + 32 + 1 + 8 + 32 + 8 + 32 + 1)
#define ROSTER_GRANTREC (32 + ROSTER_GRANTLEN)

/* Domain separation of the signatures. */
static const uint8_t roster_ctx[] = "kith roster v1";
static const uint8_t cert_ctx[] = "kith device certificate v1";

int
roster_name_ok(const char *name)
{
	size_t n = strlen(name);

	return (n >= 1 && n <= ROSTER_NAMEMAX && kith_text_ok(name, n));
}

int
roster_new(const uint8_t account_pk[static 32], struct roster **out)
{
	struct roster *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return (KITH_ENOMEM);
	r->version = 1;
	r->epoch = 1;
	memcpy(r->account_pk, account_pk, 32);
	r->time = kith_now();
	*out = r;
	return (0);
}

int
roster_next(const struct roster *cur, struct roster **out)
{
	struct roster *r;

	if ((r = malloc(sizeof(*r))) == NULL)
		return (KITH_ENOMEM);
	memcpy(r, cur, sizeof(*r));
	r->blob = NULL;
	r->bloblen = 0;
	r->version = cur->version + 1;
	r->flags = 0;
	memcpy(r->prev, cur->hash, 32);
	r->time = kith_now();
	*out = r;
	return (0);
}

int
roster_add(struct roster *r, const uint8_t sign_pk[static 32],
    const uint8_t kx_pk[static 32], const char *name,
    const uint8_t added_by[static 32])
{
	struct roster_dev *d;

	if (!roster_name_ok(name))
		return (KITH_EINVAL);
	if (roster_find_sign(r, sign_pk) || roster_find_kx(r, kx_pk))
		return (KITH_EEXIST);
	if (r->ndev >= ROSTER_MAXDEV)
		return (KITH_ETOOBIG);
	d = &r->dev[r->ndev++];
	memset(d, 0, sizeof(*d));
	memcpy(d->sign_pk, sign_pk, 32);
	memcpy(d->kx_pk, kx_pk, 32);
	d->status = ROSTER_ACTIVE;
	d->added = kith_now();
	memcpy(d->added_by, added_by, 32);
	strcpy(d->name, name);
	return (0);
}

size_t
roster_active(const struct roster *r)
{
	size_t i, n = 0;

	for (i = 0; i < r->ndev; i++)
		n += r->dev[i].status == ROSTER_ACTIVE;
	return (n);
}

/* The grants name each active device once, and nothing else. */
static int
grants_ok(const struct roster *r)
{
	const struct roster_dev *d;
	size_t i, j;

	if (r->ngrant != roster_active(r))
		return (0);
	for (i = 0; i < r->ngrant; i++) {
		d = roster_find_sign(r, r->grant[i].sign_pk);
		if (d == NULL || d->status != ROSTER_ACTIVE)
			return (0);
		for (j = i + 1; j < r->ngrant; j++)
			if (!memcmp(r->grant[i].sign_pk,	/* not secret */
			    r->grant[j].sign_pk, 32))
				return (0);
	}
	return (1);
}

int
roster_revoke(struct roster *r, const uint8_t sign_pk[static 32],
    const uint8_t by[static 32])
{
	struct roster_dev *d;
	size_t i;

	if ((d = (struct roster_dev *)roster_find_sign(r, sign_pk)) == NULL)
		return (KITH_ENOENT);
	if (d->status == ROSTER_REVOKED)
		return (KITH_EREVOKED);
	d->status = ROSTER_REVOKED;
	d->revoked = kith_now();
	memcpy(d->revoked_by, by, 32);
	/* Its grant goes with it. */
	for (i = 0; i < r->ngrant; i++)
		if (!memcmp(r->grant[i].sign_pk, sign_pk, 32)) {	/* not secret */
			r->grant[i] = r->grant[--r->ngrant];
			break;
		}
	return (0);
}

int
roster_grant_all(struct roster *r, const uint8_t key[static 32])
{
	size_t i;

	r->ngrant = 0;
	for (i = 0; i < r->ndev; i++) {
		const struct roster_dev *d = &r->dev[i];
		struct roster_grant *g;

		if (d->status != ROSTER_ACTIVE)
			continue;
		g = &r->grant[r->ngrant];
		memcpy(g->sign_pk, d->sign_pk, 32);
		if (crypto_box_seal(g->box, key, 32, d->kx_pk) != 0) {
			/* No half-made grants for roster_sign to take. */
			r->ngrant = 0;
			return (KITH_ECRYPTO);
		}
		r->ngrant++;
	}
	return (0);
}

int
roster_grant_open(const struct roster *r, const uint8_t sign_pk[static 32],
    const uint8_t kx_pk[static 32], const uint8_t kx_sk[static 32],
    uint8_t key[static 32])
{
	size_t i;

	for (i = 0; i < r->ngrant; i++)
		if (!memcmp(r->grant[i].sign_pk, sign_pk, 32))	/* not secret */
			return (crypto_box_seal_open(key, r->grant[i].box,
			    ROSTER_GRANTLEN, kx_pk, kx_sk) != 0 ?
			    KITH_ECRYPTO : 0);
	return (KITH_ENOENT);
}

int
roster_sign(struct roster *r, const uint8_t account_sk[static 64])
{
	uint8_t *b, *p;
	size_t len, i, nl;

	if (!grants_ok(r))
		return (KITH_EINVAL);
	len = ROSTER_HDRLEN + 2 + r->ngrant * ROSTER_GRANTREC + 64;
	for (i = 0; i < r->ndev; i++)
		len += ROSTER_DEVLEN + strlen(r->dev[i].name);
	if ((b = malloc(len)) == NULL)
		return (KITH_ENOMEM);
	p = b;
	memcpy(p, ROSTER_MAGIC, 4);
	p += 4;
	*p++ = ROSTER_FORMAT;
	kith_be64enc(p, r->version);
	p += 8;
	memcpy(p, r->prev, 32);
	p += 32;
	memcpy(p, r->account_pk, 32);
	p += 32;
	kith_be64enc(p, r->time);
	p += 8;
	*p++ = r->flags;
	kith_be32enc(p, r->epoch);
	p += 4;
	memcpy(p, r->seal, 32);
	p += 32;
	kith_be16enc(p, (uint16_t)r->ndev);
	p += 2;
	for (i = 0; i < r->ndev; i++) {
		const struct roster_dev *d = &r->dev[i];

		memcpy(p, d->sign_pk, 32);
		p += 32;
		memcpy(p, d->kx_pk, 32);
		p += 32;
		*p++ = d->status;
		kith_be64enc(p, d->added);
		p += 8;
		memcpy(p, d->added_by, 32);
		p += 32;
		kith_be64enc(p, d->revoked);
		p += 8;
		memcpy(p, d->revoked_by, 32);
		p += 32;
		nl = strlen(d->name);
		*p++ = (uint8_t)nl;
		memcpy(p, d->name, nl);
		p += nl;
	}
	kith_be16enc(p, (uint16_t)r->ngrant);
	p += 2;
	for (i = 0; i < r->ngrant; i++) {
		memcpy(p, r->grant[i].sign_pk, 32);
		memcpy(p + 32, r->grant[i].box, ROSTER_GRANTLEN);
		p += ROSTER_GRANTREC;
	}
	if (kith_sign_ctx(p, roster_ctx, sizeof(roster_ctx) - 1, NULL, b,
	    (size_t)(p - b), account_sk)) {
		free(b);
		return (KITH_ECRYPTO);
	}
	free(r->blob);
	r->blob = b;
	r->bloblen = len;
	crypto_generichash(r->hash, 32, b, len, NULL, 0);
	return (0);
}

int
roster_decode(const uint8_t *blob, size_t len, const uint8_t *account_pk,
    struct roster **out)
{
	struct roster *r;
	const uint8_t *p = blob, *end;
	size_t i, nl;
	int rc = KITH_EFORMAT;

	if (len < ROSTER_HDRLEN + 64 || memcmp(p, ROSTER_MAGIC, 4))	/* not secret */
		return (KITH_EFORMAT);
	if (p[4] != ROSTER_FORMAT)
		return (KITH_EVERSION);
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return (KITH_ENOMEM);
	end = blob + len - 64;
	p += 5;
	r->version = kith_be64dec(p);
	p += 8;
	memcpy(r->prev, p, 32);
	p += 32;
	memcpy(r->account_pk, p, 32);
	p += 32;
	r->time = kith_be64dec(p);
	p += 8;
	r->flags = *p++;
	r->epoch = kith_be32dec(p);
	p += 4;
	memcpy(r->seal, p, 32);
	p += 32;
	r->ndev = kith_be16dec(p);
	p += 2;
	if (r->ndev > ROSTER_MAXDEV || r->version == 0 || r->epoch == 0 ||
	    (r->flags & ~ROSTER_F_RESET) != 0)
		goto fail;
	for (i = 0; i < r->ndev; i++) {
		struct roster_dev *d = &r->dev[i];

		if ((size_t)(end - p) < ROSTER_DEVLEN)
			goto fail;
		memcpy(d->sign_pk, p, 32);
		p += 32;
		memcpy(d->kx_pk, p, 32);
		p += 32;
		d->status = *p++;
		d->added = kith_be64dec(p);
		p += 8;
		memcpy(d->added_by, p, 32);
		p += 32;
		d->revoked = kith_be64dec(p);
		p += 8;
		memcpy(d->revoked_by, p, 32);
		p += 32;
		nl = *p++;
		if (nl > ROSTER_NAMEMAX || (size_t)(end - p) < nl)
			goto fail;
		memcpy(d->name, p, nl);
		d->name[nl] = '\0';
		p += nl;
		if ((d->status != ROSTER_ACTIVE &&
		    d->status != ROSTER_REVOKED) || !roster_name_ok(d->name) ||
		    strlen(d->name) != nl)
			goto fail;
	}
	if ((size_t)(end - p) < 2)
		goto fail;
	r->ngrant = kith_be16dec(p);
	p += 2;
	if (r->ngrant > ROSTER_MAXDEV ||
	    (size_t)(end - p) != r->ngrant * ROSTER_GRANTREC)
		goto fail;
	for (i = 0; i < r->ngrant; i++) {
		memcpy(r->grant[i].sign_pk, p, 32);
		memcpy(r->grant[i].box, p + 32, ROSTER_GRANTLEN);
		p += ROSTER_GRANTREC;
	}
	/* Version 1 starts the chain; no key may be listed twice. */
	for (i = 0; i < 32 && r->version == 1; i++)
		if (r->prev[i] != 0)
			goto fail;
	for (i = 0; i < r->ndev; i++) {
		size_t j;

		for (j = i + 1; j < r->ndev; j++)
			if (!memcmp(r->dev[i].sign_pk, r->dev[j].sign_pk, 32) ||	/* not secret */
			    !memcmp(r->dev[i].kx_pk, r->dev[j].kx_pk, 32))	/* not secret */
				goto fail;
	}
	if (!grants_ok(r))
		goto fail;
	if (kith_verify_ctx(end, roster_ctx, sizeof(roster_ctx) - 1, NULL,
	    blob, len - 64, account_pk ? account_pk : r->account_pk)) {
		rc = KITH_ECRYPTO;
		goto fail;
	}
	/* not secret: both are public keys */
	if (account_pk != NULL && memcmp(account_pk, r->account_pk, 32)) {	/* not secret */
		rc = KITH_ECRYPTO;
		goto fail;
	}
	if ((r->blob = malloc(len)) == NULL) {
		rc = KITH_ENOMEM;
		goto fail;
	}
	memcpy(r->blob, blob, len);
	r->bloblen = len;
	crypto_generichash(r->hash, 32, blob, len, NULL, 0);
	*out = r;
	return (0);

fail:
	free(r);
	return (rc);
}

/* The same device, enrolled the same way. */
static int
same_enrolment(const struct roster_dev *a, const struct roster_dev *b)
{

	/* not secret: public keys */
	return (!memcmp(a->kx_pk, b->kx_pk, 32) &&	/* not secret */
	    !memcmp(a->added_by, b->added_by, 32) &&	/* not secret */
	    a->added == b->added && strcmp(a->name, b->name) == 0);
}

int
roster_supersedes(const struct roster *held, const struct roster *cand)
{
	const struct roster_dev *h, *c;
	size_t i;
	int revokes = 0;

	/* not secret: public keys and hashes of public data */
	if (memcmp(held->account_pk, cand->account_pk, 32))	/* not secret */
		return (KITH_ECRYPTO);
	if (cand->version < held->version)
		return (KITH_ESTALE);
	if (cand->version == held->version)
		return (memcmp(cand->hash, held->hash, 32) ?	/* not secret */
		    KITH_EFORK : KITH_ESTALE);
	if (cand->flags & ROSTER_F_RESET) {
		/* A revoked device never comes back under either key. */
		for (i = 0; i < held->ndev; i++) {
			h = &held->dev[i];
			if (h->status != ROSTER_REVOKED)
				continue;
			if (((c = roster_find_sign(cand, h->sign_pk)) != NULL &&
			    c->status == ROSTER_ACTIVE) ||
			    ((c = roster_find_kx(cand, h->kx_pk)) != NULL &&
			    c->status == ROSTER_ACTIVE))
				return (KITH_EROSTER);
		}
		return (0);
	}
	if (cand->version == held->version + 1 &&
	    memcmp(cand->prev, held->hash, 32))	/* not secret */
		return (KITH_ECRYPTO);
	if (cand->epoch < held->epoch)
		return (KITH_EROSTER);
	for (i = 0; i < held->ndev; i++) {
		h = &held->dev[i];
		if ((c = roster_find_sign(cand, h->sign_pk)) == NULL ||
		    !same_enrolment(h, c))
			return (KITH_EROSTER);
		if (h->status == ROSTER_REVOKED &&
		    (c->status != ROSTER_REVOKED || c->revoked != h->revoked ||
		    memcmp(c->revoked_by, h->revoked_by, 32)))	/* not secret */
			return (KITH_EROSTER);
		revokes |= h->status == ROSTER_ACTIVE &&
		    c->status == ROSTER_REVOKED;
	}
	/* A revocation starts an epoch the revoked device has no key for. */
	if (revokes && cand->epoch == held->epoch)
		return (KITH_EROSTER);
	return (0);
}

int
roster_verify(const uint8_t *blob, size_t len, const uint8_t *account_pk,
    const uint8_t *held, size_t heldlen, struct roster **out)
{
	struct roster *r, *h;
	int rc;

	if ((rc = roster_decode(blob, len, account_pk, &r)) != 0)
		return (rc);
	if (held != NULL) {
		if ((rc = roster_decode(held, heldlen, r->account_pk,
		    &h)) != 0) {
			roster_free(r);
			return (rc);
		}
		rc = roster_supersedes(h, r);
		/* The very roster already held is fine too. */
		if (rc == KITH_ESTALE && h->version == r->version)
			rc = 0;
		roster_free(h);
		if (rc != 0) {
			roster_free(r);
			return (rc);
		}
	}
	*out = r;
	return (0);
}

int
roster_status(const struct roster *r, const uint8_t sign_pk[static 32])
{
	const struct roster_dev *d = roster_find_sign(r, sign_pk);

	return (d != NULL ? d->status : 0);
}

const struct roster_dev *
roster_find_kx(const struct roster *r, const uint8_t kx_pk[static 32])
{
	size_t i;

	for (i = 0; i < r->ndev; i++)
		if (memcmp(r->dev[i].kx_pk, kx_pk, 32) == 0)	/* not secret */
			return (&r->dev[i]);
	return (NULL);
}

const struct roster_dev *
roster_find_sign(const struct roster *r, const uint8_t sign_pk[static 32])
{
	size_t i;

	for (i = 0; i < r->ndev; i++)
		if (memcmp(r->dev[i].sign_pk, sign_pk, 32) == 0) /* not secret */
			return (&r->dev[i]);
	return (NULL);
}

void
roster_free(struct roster *r)
{

	if (r == NULL)
		return;
	free(r->blob);
	free(r);
}

int
cert_make(const uint8_t account_sk[static 64], const struct roster_dev *dev,
    uint8_t out[static CERT_MAXLEN], size_t *len)
{
	uint8_t *p = out;
	size_t nl = strlen(dev->name);

	memcpy(p, CERT_MAGIC, 4);
	p += 4;
	*p++ = FORMAT_V1;
	crypto_sign_ed25519_sk_to_pk(p, account_sk);
	p += 32;
	memcpy(p, dev->sign_pk, 32);
	p += 32;
	memcpy(p, dev->kx_pk, 32);
	p += 32;
	kith_be64enc(p, dev->added);
	p += 8;
	*p++ = (uint8_t)nl;
	memcpy(p, dev->name, nl);
	p += nl;
	if (kith_sign_ctx(p, cert_ctx, sizeof(cert_ctx) - 1, NULL, out,
	    (size_t)(p - out), account_sk))
		return (KITH_ECRYPTO);
	*len = (size_t)(p - out) + 64;
	return (0);
}

int
cert_verify(const uint8_t *blob, size_t len,
    const uint8_t account_pk[static 32], struct roster_dev *dev)
{
	const uint8_t *p = blob;
	size_t nl;

	if (len < 4 + 1 + 96 + 8 + 1 + 64 || memcmp(p, CERT_MAGIC, 4))	/* not secret */
		return (KITH_EFORMAT);
	if (p[4] != FORMAT_V1)
		return (KITH_EVERSION);
	nl = p[4 + 1 + 96 + 8];
	if (nl > ROSTER_NAMEMAX || len != 4 + 1 + 96 + 8 + 1 + nl + 64)
		return (KITH_EFORMAT);
	if (memcmp(p + 5, account_pk, 32))	/* not secret */
		return (KITH_ECRYPTO);
	if (kith_verify_ctx(blob + len - 64, cert_ctx, sizeof(cert_ctx) - 1,
	    NULL, blob,
	    len - 64, account_pk))
		return (KITH_ECRYPTO);
	memset(dev, 0, sizeof(*dev));
	memcpy(dev->sign_pk, p + 37, 32);
	memcpy(dev->kx_pk, p + 69, 32);
	dev->added = kith_be64dec(p + 101);
	memcpy(dev->name, p + 110, nl);
	dev->name[nl] = '\0';
	dev->status = ROSTER_ACTIVE;
	return (roster_name_ok(dev->name) && strlen(dev->name) == nl ? 0 :
	    KITH_EFORMAT);
}
