#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "invitation.h"
#include "kith_err.h"
#include "kith_sign.h"
#include "kith_util.h"
#include "ticket.h"

#define INVITE_V1 1
#define REPLY_V1 1
#define CERT_V1 1
#define CERT_MAGIC "KCRT"

/* Prefix shared by every kith code; the word after it says which kind. */
#define KITH_CODE_PREFIX "KITH-"

/* Domain separation of the signatures. */
static const uint8_t invite_ctx[] = "kith invite v1";
static const uint8_t reply_ctx[] = "kith reply v1";

/*
 * A reader over untrusted bytes: every take checks that the bytes are
 * there before it copies them, so no length read from the input is ever
 * used unchecked.
 */
struct rd {
	const uint8_t *b;
	size_t n;	/* bytes in all */
	size_t p;	/* bytes taken */
};

static int
is_space(char c)
{

	return (c == ' ' || c == '\t' || c == '\n' || c == '\r');
}

/* Trim white space a scanner or a paste may have added. */
static const char *
trim(const char *text, size_t *len)
{

	while (*len > 0 && is_space(text[0])) {
		text++;
		(*len)--;
	}
	while (*len > 0 && is_space(text[*len - 1]))
		(*len)--;
	return (text);
}

static int
has_prefix(const char *text, size_t len, const char *prefix)
{
	size_t k = strlen(prefix);

	return (len >= k && strncasecmp(text, prefix, k) == 0);
}

/*
 * The length of the string in ${s}, an array of ${cap} bytes: 0 if it ends
 * inside the array and is ${min}..${max} bytes long, else KITH_EINVAL.
 */
static int
str_len(const char *s, size_t cap, size_t min, size_t max, size_t *len)
{
	const char *e;

	if ((e = memchr(s, '\0', cap)) == NULL)
		return (KITH_EINVAL);
	*len = (size_t)(e - s);
	if (*len < min || *len > max || !kith_text_ok(s, *len))
		return (KITH_EINVAL);
	return (0);
}

/*
 * Writers.  Each caller checks every length before it writes and sizes its
 * buffer for the largest form (INVITE_MAXBIN, REPLY_MAXBIN), which is the
 * sum of the largest fields: the writes cannot overrun.
 */
static void
put(uint8_t *b, size_t *n, const void *p, size_t len)
{

	memcpy(&b[*n], p, len);
	*n += len;
}

static int
put_str(uint8_t *b, size_t *n, const char *s, size_t cap, size_t min,
    size_t max)
{
	size_t len;

	if (str_len(s, cap, min, max, &len) != 0)
		return (KITH_EINVAL);
	b[(*n)++] = (uint8_t)len;
	put(b, n, s, len);
	return (0);
}

/* The compact certificate: sign_pk | kx_pk | added | name | sig. */
static int
cert_put(const struct invite_cert *c, uint8_t *b, size_t *n)
{

	put(b, n, c->sign_pk, 32);
	put(b, n, c->kx_pk, 32);
	kith_be64enc(&b[*n], c->added);
	*n += 8;
	if (put_str(b, n, c->name, sizeof(c->name), 1, INVITE_NAMEMAX) != 0)
		return (KITH_EINVAL);
	put(b, n, c->sig, 64);
	return (0);
}

/*
 * The binary form of ${inv} without its signature (the bytes it signs),
 * into ${b}.  The buffer holds the secret afterwards, on failure too: the
 * caller wipes it.
 */
static int
invite_body(const struct invitation *inv, uint8_t b[static INVITE_MAXBIN],
    size_t *len)
{
	size_t n = 0, i, alen;

	if (inv->uses == 0 || inv->nhints > INVITE_MAXHINTS)
		return (KITH_EINVAL);
	b[n++] = INVITE_V1;
	kith_be32enc(&b[n], inv->expiry);
	n += 4;
	b[n++] = inv->uses;
	put(b, &n, inv->token, INVITE_TOKENLEN);
	put(b, &n, inv->secret, INVITE_SECRETLEN);
	put(b, &n, inv->account_pk, 32);
	if (cert_put(&inv->dev, b, &n) != 0)
		return (KITH_EINVAL);
	kith_be16enc(&b[n], inv->port);
	n += 2;
	b[n++] = inv->nhints;
	for (i = 0; i < inv->nhints; i++) {
		if (inv->hints[i].family != 4 && inv->hints[i].family != 6)
			return (KITH_EINVAL);
		alen = inv->hints[i].family == 4 ? 4 : 16;
		b[n++] = inv->hints[i].family;
		put(b, &n, inv->hints[i].addr, alen);
	}
	if (put_str(b, &n, inv->uri, sizeof(inv->uri), 1,
	    INVITE_URIMAX) != 0 ||
	    put_str(b, &n, inv->service, sizeof(inv->service), 0,
	    INVITE_NAMEMAX) != 0 ||
	    put_str(b, &n, inv->alias, sizeof(inv->alias), 1,
	    INVITE_NAMEMAX) != 0 ||
	    put_str(b, &n, inv->note, sizeof(inv->note), 0,
	    INVITE_NOTEMAX) != 0)
		return (KITH_EINVAL);
	*len = n;
	return (0);
}

/* The whole binary form: the body and the signature. */
static int
invite_full(const struct invitation *inv, uint8_t b[static INVITE_MAXBIN],
    size_t *len)
{
	int rc;

	if ((rc = invite_body(inv, b, len)) != 0)
		return (rc);
	put(b, len, inv->sig, 64);
	return (0);
}

static int
reply_body(const struct invite_reply *r, uint8_t b[static REPLY_MAXBIN],
    size_t *len)
{
	size_t n = 0;

	b[n++] = REPLY_V1;
	put(b, &n, r->token, INVITE_TOKENLEN);
	put(b, &n, r->account_pk, 32);
	if (cert_put(&r->dev, b, &n) != 0 ||
	    put_str(b, &n, r->alias, sizeof(r->alias), 1,
	    INVITE_NAMEMAX) != 0)
		return (KITH_EINVAL);
	*len = n;
	return (0);
}

/*
 * Is ${sk} the secret half of ${pk}?  A key that is not the certificate's
 * would make a signature nobody can check; better to say so at once.
 */
static int
key_matches(const uint8_t sk[64], const uint8_t pk[32])
{
	uint8_t own[32];

	crypto_sign_ed25519_sk_to_pk(own, sk);
	return (memcmp(own, pk, 32) == 0);	/* not secret */
}

/* Readers: -1 when the bytes are not there or out of range. */
static int
take(struct rd *r, void *out, size_t len)
{

	if (r->n - r->p < len)
		return (-1);
	memcpy(out, &r->b[r->p], len);
	r->p += len;
	return (0);
}

/*
 * A string of ${min}..${max} bytes after its length: UTF-8 without control
 * characters (so no NUL), as it will be printed.
 */
static int
take_str(struct rd *r, char *s, size_t min, size_t max)
{
	uint8_t len;

	if (take(r, &len, 1) != 0 || len < min || len > max ||
	    r->n - r->p < len ||
	    !kith_text_ok((const char *)&r->b[r->p], len))
		return (-1);
	memcpy(s, &r->b[r->p], len);
	s[len] = '\0';
	r->p += len;
	return (0);
}

static int
take_cert(struct rd *r, struct invite_cert *c)
{
	uint8_t added[8];

	if (take(r, c->sign_pk, 32) != 0 || take(r, c->kx_pk, 32) != 0 ||
	    take(r, added, 8) != 0 ||
	    take_str(r, c->name, 1, INVITE_NAMEMAX) != 0 ||
	    take(r, c->sig, 64) != 0)
		return (-1);
	c->added = kith_be64dec(added);
	return (0);
}

/*
 * The binary payload of the kith code ${text}, which must be of kind
 * ${kind} with scheme ${scheme}, into ${bin}.  On failure ${bin} may hold
 * part of it: the caller wipes it.
 */
static int
code_payload(const char *text, size_t len, int kind, const char *scheme,
    uint8_t *bin, size_t cap, size_t *n)
{
	int got;

	if ((got = kith_code_kind(text, len)) == KITH_CODE_NONE)
		return (KITH_ENOTKITH);
	if (got != kind)
		return (KITH_EWRONGKIND);
	/* The scheme holds no white space: trimming leaves it whole. */
	text = trim(text, &len);
	text += strlen(scheme);
	len -= strlen(scheme);
	if (kith_base32_dec(text, len, bin, cap, n) != 0)
		return (KITH_EFORMAT);
	return (0);
}

int
kith_code_kind(const char *text, size_t len)
{
	static const struct {
		const char *scheme;
		int kind;
	} kinds[] = {
		{ TICKET_SCHEME, KITH_CODE_PAIR },
		{ INVITE_SCHEME, KITH_CODE_INVITE },
		{ REPLY_SCHEME, KITH_CODE_REPLY },
	};
	size_t i;

	/* Leading white space only: nothing past the scheme is looked at. */
	while (len > 0 && is_space(text[0])) {
		text++;
		len--;
	}
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (has_prefix(text, len, kinds[i].scheme))
			return (kinds[i].kind);
	if (has_prefix(text, len, KITH_CODE_PREFIX))
		return (KITH_CODE_OTHER);
	return (KITH_CODE_NONE);
}

int
invitation_sign(struct invitation *inv, const uint8_t sign_sk[static 64])
{
	uint8_t bin[INVITE_MAXBIN], sig[64];
	size_t n;
	int rc;

	if ((rc = invite_body(inv, bin, &n)) != 0)
		goto done;
	if (!key_matches(sign_sk, inv->dev.sign_pk)) {
		rc = KITH_EINVAL;
		goto done;
	}
	if ((rc = kith_sign_ctx(sig, invite_ctx, sizeof(invite_ctx) - 1,
	    NULL, bin, n, sign_sk)) != 0)
		goto done;
	memcpy(inv->sig, sig, 64);
done:
	sodium_memzero(bin, sizeof(bin));
	return (rc);
}

int
invitation_bin(const struct invitation *inv, uint8_t *out, size_t cap,
    size_t *len)
{
	uint8_t bin[INVITE_MAXBIN];
	size_t n;
	int rc;

	if ((rc = invite_full(inv, bin, &n)) != 0)
		goto done;
	if (cap < n) {
		rc = KITH_ETOOBIG;
		goto done;
	}
	memcpy(out, bin, n);
	*len = n;
done:
	sodium_memzero(bin, sizeof(bin));
	return (rc);
}

int
invitation_encode(const struct invitation *inv, char *out, size_t cap)
{
	uint8_t bin[INVITE_MAXBIN];
	size_t n;
	int rc;

	if ((rc = invite_full(inv, bin, &n)) != 0)
		goto done;
	if (cap < sizeof(INVITE_SCHEME) + KITH_BASE32_LEN(n)) {
		rc = KITH_ETOOBIG;
		goto done;
	}
	memcpy(out, INVITE_SCHEME, sizeof(INVITE_SCHEME) - 1);
	kith_base32_enc(bin, n, out + sizeof(INVITE_SCHEME) - 1);
done:
	sodium_memzero(bin, sizeof(bin));
	return (rc);
}

int
invitation_decode(const char *text, size_t len, struct invitation *inv)
{
	uint8_t bin[INVITE_MAXBIN];
	size_t n;
	int rc;

	/* A payload longer than the largest invitation is KITH_EFORMAT. */
	if ((rc = code_payload(text, len, KITH_CODE_INVITE, INVITE_SCHEME, bin,
	    sizeof(bin), &n)) == 0)
		rc = invitation_decode_bin(bin, n, inv);
	else
		invitation_wipe(inv);
	sodium_memzero(bin, sizeof(bin));
	return (rc);
}

int
invitation_decode_bin(const uint8_t *b, size_t len, struct invitation *inv)
{
	struct rd r = { b, len, 0 };
	uint8_t v, x[4];
	size_t i, alen;
	int rc = KITH_EFORMAT;

	memset(inv, 0, sizeof(*inv));
	if (take(&r, &v, 1) != 0)
		goto done;
	if (v != INVITE_V1) {
		rc = KITH_EVERSION;
		goto done;
	}
	if (take(&r, x, 4) != 0)
		goto done;
	inv->expiry = kith_be32dec(x);
	if (take(&r, &inv->uses, 1) != 0 || inv->uses == 0 ||
	    take(&r, inv->token, INVITE_TOKENLEN) != 0 ||
	    take(&r, inv->secret, INVITE_SECRETLEN) != 0 ||
	    take(&r, inv->account_pk, 32) != 0 ||
	    take_cert(&r, &inv->dev) != 0 || take(&r, x, 2) != 0)
		goto done;
	inv->port = kith_be16dec(x);
	if (take(&r, &inv->nhints, 1) != 0 || inv->nhints > INVITE_MAXHINTS)
		goto done;
	for (i = 0; i < inv->nhints; i++) {
		if (take(&r, &inv->hints[i].family, 1) != 0 ||
		    (inv->hints[i].family != 4 && inv->hints[i].family != 6))
			goto done;
		alen = inv->hints[i].family == 4 ? 4 : 16;
		if (take(&r, inv->hints[i].addr, alen) != 0)
			goto done;
	}
	if (take_str(&r, inv->uri, 1, INVITE_URIMAX) != 0 ||
	    take_str(&r, inv->service, 0, INVITE_NAMEMAX) != 0 ||
	    take_str(&r, inv->alias, 1, INVITE_NAMEMAX) != 0 ||
	    take_str(&r, inv->note, 0, INVITE_NOTEMAX) != 0 ||
	    take(&r, inv->sig, 64) != 0)
		goto done;
	/* One form per invitation: nothing may follow the signature. */
	if (r.p != r.n)
		goto done;
	rc = 0;
done:
	if (rc != 0)
		invitation_wipe(inv);
	return (rc);
}

int
invitation_verify_sig(const struct invitation *inv)
{
	uint8_t bin[INVITE_MAXBIN];
	size_t n;
	int rc;

	if ((rc = invite_body(inv, bin, &n)) == 0)
		rc = kith_verify_ctx(inv->sig, invite_ctx,
		    sizeof(invite_ctx) - 1, NULL, bin, n, inv->dev.sign_pk);
	sodium_memzero(bin, sizeof(bin));
	return (rc);
}

int
invitation_hash(const struct invitation *inv, uint8_t h[static 32])
{
	uint8_t bin[INVITE_MAXBIN];
	size_t n;
	int rc;

	if ((rc = invite_full(inv, bin, &n)) == 0)
		crypto_generichash(h, 32, bin, n, NULL, 0);
	sodium_memzero(bin, sizeof(bin));
	return (rc);
}

void
invitation_wipe(struct invitation *inv)
{

	sodium_memzero(inv, sizeof(*inv));
}

int
invite_expired(uint32_t expiry, uint64_t now)
{

	return (now > (uint64_t)expiry + INVITE_SKEW);
}

int
invite_cert_blob(const uint8_t account_pk[static 32],
    const struct invite_cert *c, uint8_t *out, size_t cap, size_t *len)
{
	uint8_t b[INVITE_FULLCERTMAX];
	size_t n = 0;

	put(b, &n, CERT_MAGIC, 4);
	b[n++] = CERT_V1;
	put(b, &n, account_pk, 32);
	if (cert_put(c, b, &n) != 0)
		return (KITH_EINVAL);
	if (cap < n)
		return (KITH_ETOOBIG);
	memcpy(out, b, n);
	*len = n;
	return (0);
}

int
invite_cert_parse(const uint8_t *blob, size_t len,
    uint8_t account_pk[static 32], struct invite_cert *c)
{
	struct rd r = { blob, len, 0 };
	uint8_t magic[4], v;
	int rc = KITH_EFORMAT;

	memset(c, 0, sizeof(*c));
	if (take(&r, magic, 4) != 0 ||
	    memcmp(magic, CERT_MAGIC, 4) != 0 ||	/* not secret */
	    take(&r, &v, 1) != 0)
		goto done;
	if (v != CERT_V1) {
		rc = KITH_EVERSION;
		goto done;
	}
	if (take(&r, account_pk, 32) != 0 || take_cert(&r, c) != 0 ||
	    r.p != r.n)
		goto done;
	rc = 0;
done:
	if (rc != 0) {
		memset(account_pk, 0, 32);
		memset(c, 0, sizeof(*c));
	}
	return (rc);
}

int
reply_sign(struct invite_reply *r, const uint8_t inv_hash[static 32],
    const uint8_t sign_sk[static 64])
{
	uint8_t bin[REPLY_MAXBIN], sig[64];
	size_t n;
	int rc;

	if ((rc = reply_body(r, bin, &n)) != 0)
		return (rc);
	if (!key_matches(sign_sk, r->dev.sign_pk))
		return (KITH_EINVAL);
	if ((rc = kith_sign_ctx(sig, reply_ctx, sizeof(reply_ctx) - 1,
	    inv_hash, bin, n, sign_sk)) != 0)
		return (rc);
	memcpy(r->sig, sig, 64);
	return (0);
}

int
reply_encode(const struct invite_reply *r, char *out, size_t cap)
{
	uint8_t bin[REPLY_MAXBIN];
	size_t n;
	int rc;

	if ((rc = reply_body(r, bin, &n)) != 0)
		return (rc);
	put(bin, &n, r->sig, 64);
	if (cap < sizeof(REPLY_SCHEME) + KITH_BASE32_LEN(n))
		return (KITH_ETOOBIG);
	memcpy(out, REPLY_SCHEME, sizeof(REPLY_SCHEME) - 1);
	kith_base32_enc(bin, n, out + sizeof(REPLY_SCHEME) - 1);
	return (0);
}

static int
reply_decode_bin(const uint8_t *b, size_t len, struct invite_reply *r)
{
	struct rd rd = { b, len, 0 };
	uint8_t v;
	int rc = KITH_EFORMAT;

	memset(r, 0, sizeof(*r));
	if (take(&rd, &v, 1) != 0)
		goto done;
	if (v != REPLY_V1) {
		rc = KITH_EVERSION;
		goto done;
	}
	if (take(&rd, r->token, INVITE_TOKENLEN) != 0 ||
	    take(&rd, r->account_pk, 32) != 0 ||
	    take_cert(&rd, &r->dev) != 0 ||
	    take_str(&rd, r->alias, 1, INVITE_NAMEMAX) != 0 ||
	    take(&rd, r->sig, 64) != 0 || rd.p != rd.n)
		goto done;
	rc = 0;
done:
	if (rc != 0)
		memset(r, 0, sizeof(*r));
	return (rc);
}

int
reply_decode(const char *text, size_t len, struct invite_reply *r)
{
	uint8_t bin[REPLY_MAXBIN];
	size_t n;
	int rc;

	if ((rc = code_payload(text, len, KITH_CODE_REPLY, REPLY_SCHEME, bin,
	    sizeof(bin), &n)) == 0)
		rc = reply_decode_bin(bin, n, r);
	else
		memset(r, 0, sizeof(*r));
	return (rc);
}

int
reply_verify_sig(const struct invite_reply *r,
    const uint8_t inv_hash[static 32])
{
	uint8_t bin[REPLY_MAXBIN];
	size_t n;
	int rc;

	if ((rc = reply_body(r, bin, &n)) != 0)
		return (rc);
	return (kith_verify_ctx(r->sig, reply_ctx, sizeof(reply_ctx) - 1,
	    inv_hash, bin, n, r->dev.sign_pk));
}
