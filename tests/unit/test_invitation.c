/*
 * test_invitation.c: invite/invitation.c, face-to-face invitations and
 * their replies, with real device certificates (syncd/roster.c) and their
 * way through a QR code (invite/qr.c).
 *
 * The binary forms are built here, by hand, from the layout invitation.h
 * gives
 *     invitation: version 1 (1) || expiry (4, BE) || uses (1) ||
 *       token (16) || secret (16) || account_pk (32) || sign_pk (32) ||
 *       kx_pk (32) || added (8, BE) || namelen (1) || name || cert_sig (64)
 *       || port (2, BE) || nhints (1) || nhints * (family (1) || 4 | 16)
 *       || urilen (1) || uri || servicelen (1) || service ||
 *       aliaslen (1) || alias || notelen (1) || note || sig (64)
 *     reply: version 1 (1) || token (16) || account_pk (32) || compact
 *       certificate (as above) || aliaslen (1) || alias || sig (64)
 * and turned into text with the tests' own base32 encoder (testlib.h), and
 * the signatures are recomputed here with libsodium, so no expected byte
 * comes from the code under test.
 *
 *  1. invitation_bin / invitation_encode / invitation_hash / reply_encode
 *     equal the hand-built forms, signatures included; output buffers are
 *     checked to the byte;
 *  2. round trips with 0..4 hints (IPv4, IPv6, mixed), empty service and
 *     note, every field at its largest (INVITE_MAXBIN, REPLY_MAXBIN);
 *     lower case, surrounding white space and '-' grouping accepted;
 *  3. invitation_sign, reply_sign and the encoders refuse fields out of
 *     range and a key that is not the certificate's;
 *  4. every bit and every whole byte of both binary forms changed, one at
 *     a time: each change fails to decode or fails its signature check; a
 *     reply checked against another invitation's hash fails;
 *  5. each field changed at the struct level fails the signature check;
 *  6. the certificate: invite_cert_parse of cert_make's output, and
 *     invite_cert_blob back to the same bytes, which cert_verify accepts;
 *     a changed certificate fails cert_verify; strict parsing;
 *  7. invite_expired at its edges;
 *  8. strict decoding: truncations, trailing bytes, versions, uses 0, 5
 *     hints, bad families, NUL, control characters and bad UTF-8 inside
 *     strings, empty and oversized strings,
 *     other kinds of kith code, non-kith text, kith_code_kind; the output
 *     is wiped on every failure;
 *  9. invitation and reply -> qr_write_png -> qr_scan_file -> decode; a
 *     typical invitation needs QR version <= 15.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "invitation.h"
#include "kith_err.h"
#include "qr.h"
#include "roster.h"
#include "ticket.h"

#include "check.h"
#include "testlib.h"

/* Room for forms made longer than the largest on purpose. */
#define BUFMAX (INVITE_MAXBIN + 512)
#define TEXTMAX (32 + KITH_BASE32_LEN(BUFMAX))

/* The inviter's account and device, and the invitee's. */
static uint8_t acc_pk[32], acc_sk[64], dev_pk[32], dev_sk[64];
static uint8_t acc2_pk[32], acc2_sk[64], dev2_pk[32], dev2_sk[64];

static const char typ_uri[] = "https://chat.example.org/g/team";

/* Kinds of invitation make_inv builds. */
enum { INV_TYPICAL, INV_EMPTY, INV_MAX };

/*
 * A real certificate from cert_make for the device ${sign_pk} named
 * ${name} of the account ${a_sk}: the full form into ${blob} (*${len}),
 * and its compact form, read out by hand, into ${c}.
 */
static void
make_cert(const uint8_t a_sk[64], const uint8_t sign_pk[32],
    const char *name, struct invite_cert *c, uint8_t blob[CERT_MAXLEN],
    size_t *len)
{
	struct roster_dev d;
	size_t nl = strlen(name), i;

	memset(&d, 0, sizeof(d));
	memcpy(d.sign_pk, sign_pk, 32);
	randombytes_buf(d.kx_pk, 32);
	d.added = ((uint64_t)randombytes_random() << 32) | randombytes_random();
	snprintf(d.name, sizeof(d.name), "%s", name);
	if (cert_make(a_sk, &d, blob, len) != 0 ||
	    *len != 4 + 1 + 32 + 32 + 32 + 8 + 1 + nl + 64) {
		fprintf(stderr, "test_invitation: cert_make failed\n");
		abort();
	}
	memset(c, 0, sizeof(*c));
	memcpy(c->sign_pk, blob + 37, 32);
	memcpy(c->kx_pk, blob + 69, 32);
	for (i = 0; i < 8; i++)
		c->added = (c->added << 8) | blob[101 + i];
	memcpy(c->name, blob + 110, blob[109]);
	memcpy(c->sig, blob + *len - 64, 64);
}

/* ${n} bytes of ${s} repeated, NUL-terminated, into ${out}. */
static void
fill(char *out, const char *s, size_t n)
{
	size_t i, k = strlen(s);

	for (i = 0; i < n; i++)
		out[i] = s[i % k];
	out[n] = '\0';
}

/*
 * A signed invitation of the inviter's device with ${nhints} hints of
 * family ${fam} (0: alternate 4 and 6), in one of the kinds above.
 */
static void
make_inv(struct invitation *inv, int nhints, int fam, int kind)
{
	uint8_t blob[CERT_MAXLEN];
	char name[INVITE_NAMEMAX + 1];
	size_t len;
	int i;

	memset(inv, 0, sizeof(*inv));
	inv->expiry = randombytes_random();
	inv->uses = (uint8_t)(1 + randombytes_uniform(255));
	randombytes_buf(inv->token, sizeof(inv->token));
	randombytes_buf(inv->secret, sizeof(inv->secret));
	memcpy(inv->account_pk, acc_pk, 32);
	inv->port = (uint16_t)randombytes_random();
	inv->nhints = (uint8_t)nhints;
	for (i = 0; i < nhints; i++) {
		inv->hints[i].family = (uint8_t)(fam ? fam : (i % 2 ? 6 : 4));
		randombytes_buf(inv->hints[i].addr,
		    inv->hints[i].family == 4 ? 4 : 16);
	}
	switch (kind) {
	case INV_TYPICAL:
		snprintf(name, sizeof(name), "alice-laptop");
		snprintf(inv->uri, sizeof(inv->uri), "%s", typ_uri);
		snprintf(inv->service, sizeof(inv->service), "Example Chat");
		snprintf(inv->alias, sizeof(inv->alias), "alice");
		snprintf(inv->note, sizeof(inv->note), "see you there");
		break;
	case INV_EMPTY:
		snprintf(name, sizeof(name), "a");
		snprintf(inv->uri, sizeof(inv->uri), "u");
		snprintf(inv->alias, sizeof(inv->alias), "b");
		break;
	default:
		/* Two-byte UTF-8 in the name, as cert_verify wants it. */
		fill(name, "\xc3\xa9", INVITE_NAMEMAX);
		fill(inv->uri, "https://example.org/", INVITE_URIMAX);
		fill(inv->service, "Service ", INVITE_NAMEMAX);
		fill(inv->alias, "alias-", INVITE_NAMEMAX);
		fill(inv->note, "a note \xc3\xbc ", INVITE_NOTEMAX);
		inv->uses = 255;
		break;
	}
	make_cert(acc_sk, dev_pk, name, &inv->dev, blob, &len);
	if (invitation_sign(inv, dev_sk) != 0) {
		fprintf(stderr, "test_invitation: invitation_sign failed\n");
		abort();
	}
}

/* A signed reply of the invitee's device to ${inv}. */
static void
make_reply(struct invite_reply *r, const struct invitation *inv, int max)
{
	uint8_t blob[CERT_MAXLEN], h[32];
	char name[INVITE_NAMEMAX + 1];
	size_t len;

	memset(r, 0, sizeof(*r));
	memcpy(r->token, inv->token, sizeof(r->token));
	memcpy(r->account_pk, acc2_pk, 32);
	if (max) {
		fill(name, "\xc3\xa9", INVITE_NAMEMAX);
		fill(r->alias, "bob-", INVITE_NAMEMAX);
	} else {
		snprintf(name, sizeof(name), "bob-phone");
		snprintf(r->alias, sizeof(r->alias), "bob");
	}
	make_cert(acc2_sk, dev2_pk, name, &r->dev, blob, &len);
	if (invitation_hash(inv, h) != 0 || reply_sign(r, h, dev2_sk) != 0) {
		fprintf(stderr, "test_invitation: reply_sign failed\n");
		abort();
	}
}

/* Hand-built layouts. */
static void
be(uint8_t *b, size_t *n, uint64_t x, int bytes)
{

	while (bytes-- > 0)
		b[(*n)++] = (uint8_t)(x >> (8 * bytes));
}

static void
raw(uint8_t *b, size_t *n, const void *p, size_t len)
{

	memcpy(b + *n, p, len);
	*n += len;
}

static void
str(uint8_t *b, size_t *n, const char *s)
{

	b[(*n)++] = (uint8_t)strlen(s);
	raw(b, n, s, strlen(s));
}

static void
cert_of(const struct invite_cert *c, uint8_t *b, size_t *n)
{

	raw(b, n, c->sign_pk, 32);
	raw(b, n, c->kx_pk, 32);
	be(b, n, c->added, 8);
	str(b, n, c->name);
	raw(b, n, c->sig, 64);
}

/* The binary form of ${inv}, by the layout above; ${sig}: with it. */
static size_t
bin_of(const struct invitation *inv, uint8_t *b, int sig)
{
	size_t n = 0, i;

	b[n++] = 1;
	be(b, &n, inv->expiry, 4);
	b[n++] = inv->uses;
	raw(b, &n, inv->token, 16);
	raw(b, &n, inv->secret, 16);
	raw(b, &n, inv->account_pk, 32);
	cert_of(&inv->dev, b, &n);
	be(b, &n, inv->port, 2);
	b[n++] = inv->nhints;
	for (i = 0; i < inv->nhints; i++) {
		b[n++] = inv->hints[i].family;
		raw(b, &n, inv->hints[i].addr,
		    inv->hints[i].family == 4 ? 4 : 16);
	}
	str(b, &n, inv->uri);
	str(b, &n, inv->service);
	str(b, &n, inv->alias);
	str(b, &n, inv->note);
	if (sig)
		raw(b, &n, inv->sig, 64);
	return (n);
}

static size_t
reply_bin_of(const struct invite_reply *r, uint8_t *b, int sig)
{
	size_t n = 0;

	b[n++] = 1;
	raw(b, &n, r->token, 16);
	raw(b, &n, r->account_pk, 32);
	cert_of(&r->dev, b, &n);
	str(b, &n, r->alias);
	if (sig)
		raw(b, &n, r->sig, 64);
	return (n);
}

/* Where each variable field of ${inv}'s binary form starts. */
struct offs {
	size_t name, port, nhints, hint[INVITE_MAXHINTS], uri, service,
	    alias, note, sig, end;
};

static void
offs_of(const struct invitation *inv, struct offs *o)
{
	size_t i, p;

	o->name = 1 + 4 + 1 + 16 + 16 + 32 + 32 + 32 + 8;
	o->port = o->name + 1 + strlen(inv->dev.name) + 64;
	o->nhints = o->port + 2;
	p = o->nhints + 1;
	for (i = 0; i < inv->nhints; i++) {
		o->hint[i] = p;
		p += 1 + (inv->hints[i].family == 4 ? 4 : 16);
	}
	o->uri = p;
	o->service = o->uri + 1 + strlen(inv->uri);
	o->alias = o->service + 1 + strlen(inv->service);
	o->note = o->alias + 1 + strlen(inv->alias);
	o->sig = o->note + 1 + strlen(inv->note);
	o->end = o->sig + 64;
}

/*
 * ${b} (${n} bytes) with the ${oldlen} bytes at ${off} replaced by the
 * ${newlen} bytes at ${p}, into ${out}; returns the new length.
 */
static size_t
splice(const uint8_t *b, size_t n, size_t off, size_t oldlen,
    const void *p, size_t newlen, uint8_t *out)
{

	memmove(out, b, off);
	memcpy(out + off, p, newlen);
	memcpy(out + off + newlen, b + off + oldlen, n - off - oldlen);
	return (n - oldlen + newlen);
}

/* The string (length byte and bytes) at ${off} replaced by ${s} (${len}). */
static size_t
splice_str(const uint8_t *b, size_t n, size_t off, const void *s,
    size_t len, uint8_t *out)
{
	uint8_t f[1 + 256];

	f[0] = (uint8_t)len;
	memcpy(f + 1, s, len);
	return (splice(b, n, off, 1 + (size_t)b[off], f, 1 + len, out));
}

/* ${scheme} + base32 of ${len} bytes at ${b}, into ${out}. */
static void
text_of(const char *scheme, const uint8_t *b, size_t len, char *out)
{

	strcpy(out, scheme);
	b32(b, len, out + strlen(out));
}

/* Ed25519ph over ${ctx} | ${h} (if not NULL) | ${m}, by the tests. */
static void
own_sig(const char *ctx, const uint8_t *h, const uint8_t *m, size_t len,
    const uint8_t sk[64], uint8_t sig[64])
{
	crypto_sign_state st;

	crypto_sign_init(&st);
	crypto_sign_update(&st, (const uint8_t *)ctx, strlen(ctx));
	if (h != NULL)
		crypto_sign_update(&st, h, 32);
	crypto_sign_update(&st, m, len);
	crypto_sign_final_create(&st, sig, NULL, sk);
}

static int
cert_eq(const struct invite_cert *a, const struct invite_cert *b)
{

	return (memcmp(a->sign_pk, b->sign_pk, 32) == 0 &&
	    memcmp(a->kx_pk, b->kx_pk, 32) == 0 && a->added == b->added &&
	    strcmp(a->name, b->name) == 0 && memcmp(a->sig, b->sig, 64) == 0);
}

static int
inv_eq(const struct invitation *a, const struct invitation *b)
{
	size_t i;

	if (a->expiry != b->expiry || a->uses != b->uses ||
	    a->port != b->port || a->nhints != b->nhints ||
	    memcmp(a->token, b->token, 16) != 0 ||
	    memcmp(a->secret, b->secret, 16) != 0 ||
	    memcmp(a->account_pk, b->account_pk, 32) != 0 ||
	    !cert_eq(&a->dev, &b->dev) || strcmp(a->uri, b->uri) != 0 ||
	    strcmp(a->service, b->service) != 0 ||
	    strcmp(a->alias, b->alias) != 0 || strcmp(a->note, b->note) != 0 ||
	    memcmp(a->sig, b->sig, 64) != 0)
		return (0);
	for (i = 0; i < a->nhints && i < INVITE_MAXHINTS; i++)
		if (a->hints[i].family != b->hints[i].family ||
		    memcmp(a->hints[i].addr, b->hints[i].addr,
		    a->hints[i].family == 4 ? 4 : 16) != 0)
			return (0);
	return (1);
}

static int
reply_eq(const struct invite_reply *a, const struct invite_reply *b)
{

	return (memcmp(a->token, b->token, 16) == 0 &&
	    memcmp(a->account_pk, b->account_pk, 32) == 0 &&
	    cert_eq(&a->dev, &b->dev) && strcmp(a->alias, b->alias) == 0 &&
	    memcmp(a->sig, b->sig, 64) == 0);
}

static int
all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != 0)
			return (0);
	return (1);
}

/*
 * Decode exactly ${len} bytes from a heap copy without a terminator, so
 * that AddressSanitizer sees any read past the end, into an output
 * filled with garbage first; a failure must leave it all zero.
 */
static int
inv_decode_exact(const char *text, size_t len, struct invitation *inv)
{
	char *p;
	int rc;

	if ((p = malloc(len ? len : 1)) == NULL)
		abort();
	memcpy(p, text, len);
	memset(inv, 0xa5, sizeof(*inv));
	rc = invitation_decode(p, len, inv);
	free(p);
	if (rc != 0 && !all_zero(inv, sizeof(*inv)))
		CHECK(!"invitation_decode wipes its output on failure");
	return (rc);
}

static int
reply_decode_exact(const char *text, size_t len, struct invite_reply *r)
{
	char *p;
	int rc;

	if ((p = malloc(len ? len : 1)) == NULL)
		abort();
	memcpy(p, text, len);
	memset(r, 0xa5, sizeof(*r));
	rc = reply_decode(p, len, r);
	free(p);
	if (rc != 0 && !all_zero(r, sizeof(*r)))
		CHECK(!"reply_decode wipes its output on failure");
	return (rc);
}

/*
 * Decode the binary form ${b} both ways: as text and with
 * invitation_decode_bin (from an exact heap copy).  The two must agree.
 */
static int
dec_inv(const uint8_t *b, size_t len, struct invitation *inv)
{
	struct invitation u;
	char text[TEXTMAX];
	uint8_t *p;
	int rc, rc2;

	text_of(INVITE_SCHEME, b, len, text);
	rc = inv_decode_exact(text, strlen(text), inv);
	if ((p = malloc(len ? len : 1)) == NULL)
		abort();
	memcpy(p, b, len);
	memset(&u, 0x5a, sizeof(u));
	rc2 = invitation_decode_bin(p, len, &u);
	free(p);
	if (rc2 != rc)
		CHECK_RC(rc2, rc);
	else if (rc == 0 && !inv_eq(inv, &u))
		CHECK(!"text and binary decoding agree");
	else if (rc != 0 && !all_zero(&u, sizeof(u)))
		CHECK(!"invitation_decode_bin wipes its output on failure");
	return (rc);
}

static int
dec_reply(const uint8_t *b, size_t len, struct invite_reply *r)
{
	char text[TEXTMAX];

	text_of(REPLY_SCHEME, b, len, text);
	return (reply_decode_exact(text, strlen(text), r));
}

static void
test_layout(void)
{
	static const int fams[] = { 4, 6, 0 };
	struct invitation inv;
	struct invite_reply r;
	uint8_t want[BUFMAX], got[BUFMAX], sig[64], h[32], h2[32];
	char text[TEXTMAX], wtext[TEXTMAX];
	size_t f, n, wn, len, need;
	int k;

	for (f = 0; f < 3; f++) {
		for (k = 0; k <= INVITE_MAXHINTS; k++) {
			make_inv(&inv, k, fams[f], INV_TYPICAL);

			/* The signature is over the context and the body. */
			n = bin_of(&inv, want, 0);
			own_sig("kith invite v1", NULL, want, n, dev_sk, sig);
			CHECK(memcmp(sig, inv.sig, 64) == 0);

			wn = bin_of(&inv, want, 1);
			CHECK(wn == n + 64);
			len = 0;
			memset(got, 0, sizeof(got));
			if (CHECK_RC(invitation_bin(&inv, got, sizeof(got),
			    &len), 0)) {
				CHECK(len == wn);
				CHECK(memcmp(got, want, wn) == 0);
			}
			CHECK_RC(invitation_bin(&inv, got, wn, &len), 0);
			CHECK(len == wn);
			CHECK_RC(invitation_bin(&inv, got, wn - 1, &len),
			    KITH_ETOOBIG);

			text_of(INVITE_SCHEME, want, wn, wtext);
			if (CHECK_RC(invitation_encode(&inv, text,
			    sizeof(text)), 0))
				CHECK(strcmp(text, wtext) == 0);
			need = strlen(wtext) + 1;
			memset(text, 'x', sizeof(text));
			CHECK_RC(invitation_encode(&inv, text, need), 0);
			CHECK(strcmp(text, wtext) == 0);
			CHECK_RC(invitation_encode(&inv, text, need - 1),
			    KITH_ETOOBIG);

			/* The hash is over the whole form, signature too. */
			crypto_generichash(h, 32, want, wn, NULL, 0);
			CHECK_RC(invitation_hash(&inv, h2), 0);
			CHECK(memcmp(h, h2, 32) == 0);

			/* The reply. */
			make_reply(&r, &inv, 0);
			n = reply_bin_of(&r, want, 0);
			own_sig("kith reply v1", h, want, n, dev2_sk, sig);
			CHECK(memcmp(sig, r.sig, 64) == 0);
			wn = reply_bin_of(&r, want, 1);
			text_of(REPLY_SCHEME, want, wn, wtext);
			if (CHECK_RC(reply_encode(&r, text, sizeof(text)), 0))
				CHECK(strcmp(text, wtext) == 0);
			need = strlen(wtext) + 1;
			CHECK_RC(reply_encode(&r, text, need), 0);
			CHECK(strcmp(text, wtext) == 0);
			CHECK_RC(reply_encode(&r, text, need - 1),
			    KITH_ETOOBIG);
		}
	}

	/* The largest forms are the sizes the header names. */
	make_inv(&inv, 4, 6, INV_MAX);
	CHECK(bin_of(&inv, want, 1) == INVITE_MAXBIN);
	CHECK_RC(invitation_encode(&inv, text, INVITE_MAXTEXT), 0);
	CHECK(strlen(text) + 1 == INVITE_MAXTEXT);
	make_reply(&r, &inv, 1);
	CHECK(reply_bin_of(&r, want, 1) == REPLY_MAXBIN);
	CHECK_RC(reply_encode(&r, text, REPLY_MAXTEXT), 0);
	CHECK(strlen(text) + 1 == REPLY_MAXTEXT);
}

static void
test_roundtrip(void)
{
	static const int fams[] = { 4, 6, 0 };
	struct invitation inv, u;
	struct invite_reply r, s;
	uint8_t h[32], b[BUFMAX];
	char text[INVITE_MAXTEXT], *m;
	size_t f, i, len, n;
	int k, kind;

	for (kind = INV_TYPICAL; kind <= INV_MAX; kind++) {
		for (f = 0; f < 3; f++) {
			for (k = 0; k <= INVITE_MAXHINTS; k++) {
				make_inv(&inv, k, fams[f], kind);
				if (!CHECK_RC(invitation_encode(&inv, text,
				    sizeof(text)), 0))
					continue;
				CHECK_RC(inv_decode_exact(text, strlen(text),
				    &u), 0);
				CHECK(inv_eq(&inv, &u));
				CHECK_RC(invitation_verify_sig(&u), 0);

				CHECK_RC(invitation_hash(&u, h), 0);
				make_reply(&r, &inv, kind == INV_MAX);
				CHECK_RC(reply_encode(&r, text, sizeof(text)),
				    0);
				CHECK_RC(reply_decode_exact(text, strlen(text),
				    &s), 0);
				CHECK(reply_eq(&r, &s));
				CHECK_RC(reply_verify_sig(&s, h), 0);
			}
		}
	}

	/* Empty service and note, port 0: still an invitation. */
	make_inv(&inv, 0, 0, INV_EMPTY);
	inv.port = 0;
	inv.uses = 1;
	CHECK_RC(invitation_sign(&inv, dev_sk), 0);
	CHECK_RC(invitation_encode(&inv, text, sizeof(text)), 0);
	CHECK_RC(inv_decode_exact(text, strlen(text), &u), 0);
	CHECK(inv_eq(&inv, &u));
	CHECK(u.service[0] == '\0' && u.note[0] == '\0' && u.port == 0);
	CHECK_RC(invitation_verify_sig(&u), 0);

	/* Binary: invitation_decode_bin of exactly the form. */
	make_inv(&inv, 2, 0, INV_TYPICAL);
	CHECK_RC(invitation_bin(&inv, b, sizeof(b), &n), 0);
	CHECK_RC(dec_inv(b, n, &u), 0);
	CHECK(inv_eq(&inv, &u));

	/* Lower case, scheme included; white space around; '-' groups. */
	CHECK_RC(invitation_encode(&inv, text, sizeof(text)), 0);
	len = strlen(text);
	m = strdup(text);
	for (i = 0; i < len; i++)
		if (m[i] >= 'A' && m[i] <= 'Z')
			m[i] = (char)(m[i] - 'A' + 'a');
	CHECK_RC(inv_decode_exact(m, len, &u), 0);
	CHECK(inv_eq(&inv, &u));
	free(m);
	if ((m = malloc(len + 64)) == NULL)
		abort();
	snprintf(m, len + 64, " \t\r\n%s\r\n \t", text);
	CHECK_RC(inv_decode_exact(m, strlen(m), &u), 0);
	CHECK(inv_eq(&inv, &u));
	snprintf(m, len + 64, "%.16s-%.8s %s", text, text + 16, text + 24);
	CHECK_RC(inv_decode_exact(m, strlen(m), &u), 0);
	CHECK(inv_eq(&inv, &u));
	free(m);

	make_reply(&r, &inv, 0);
	CHECK_RC(reply_encode(&r, text, sizeof(text)), 0);
	len = strlen(text);
	if ((m = malloc(len + 64)) == NULL)
		abort();
	snprintf(m, len + 64, "\n %s \n", text);
	for (i = 0; m[i] != '\0'; i++)
		if (m[i] >= 'A' && m[i] <= 'Z')
			m[i] = (char)(m[i] - 'A' + 'a');
	CHECK_RC(reply_decode_exact(m, strlen(m), &s), 0);
	CHECK(reply_eq(&r, &s));
	free(m);

	/* invitation_wipe leaves nothing, the secret least of all. */
	invitation_wipe(&u);
	CHECK(all_zero(&u, sizeof(u)));
}

static void
test_sign_refuses(void)
{
	struct invitation inv, t;
	struct invite_reply r, s;
	uint8_t b[BUFMAX], h[32];
	char text[TEXTMAX];
	size_t n;
	int i;

	make_inv(&inv, 2, 4, INV_TYPICAL);
	for (i = 0; i < 14; i++) {
		t = inv;
		switch (i) {
		case 0:
			t.uses = 0;
			break;
		case 1:
			t.uri[0] = '\0';
			break;
		case 2:
			t.alias[0] = '\0';
			break;
		case 3:
			t.dev.name[0] = '\0';
			break;
		case 4:
			memset(t.uri, 'u', sizeof(t.uri));
			break;
		case 5:
			memset(t.service, 's', sizeof(t.service));
			break;
		case 6:
			memset(t.alias, 'a', sizeof(t.alias));
			break;
		case 7:
			memset(t.note, 'n', sizeof(t.note));
			break;
		case 8:
			memset(t.dev.name, 'd', sizeof(t.dev.name));
			break;
		case 9:
			t.hints[1].family = 5;
			break;
		case 10:
			t.hints[0].family = 0;
			break;
		case 11:
			t.nhints = 5;
			t.hints[2] = t.hints[3] = t.hints[0];
			break;
		case 12:
			t.nhints = 255;
			break;
		default:
			t.hints[0].family = 46;
			break;
		}
		memset(t.sig, 0x77, 64);
		CHECK_RC(invitation_sign(&t, dev_sk), KITH_EINVAL);
		CHECK(t.sig[0] == 0x77 && t.sig[63] == 0x77);
		CHECK_RC(invitation_bin(&t, b, sizeof(b), &n), KITH_EINVAL);
		CHECK_RC(invitation_encode(&t, text, sizeof(text)),
		    KITH_EINVAL);
		CHECK_RC(invitation_verify_sig(&t), KITH_EINVAL);
		CHECK_RC(invitation_hash(&t, h), KITH_EINVAL);
	}

	/* A key that is not the certificate's. */
	t = inv;
	CHECK_RC(invitation_sign(&t, dev2_sk), KITH_EINVAL);
	CHECK(memcmp(t.sig, inv.sig, 64) == 0);
	CHECK_RC(invitation_sign(&t, dev_sk), 0);
	CHECK(memcmp(t.sig, inv.sig, 64) == 0);

	CHECK_RC(invitation_hash(&inv, h), 0);
	make_reply(&r, &inv, 0);
	for (i = 0; i < 5; i++) {
		s = r;
		switch (i) {
		case 0:
			s.alias[0] = '\0';
			break;
		case 1:
			memset(s.alias, 'a', sizeof(s.alias));
			break;
		case 2:
			s.dev.name[0] = '\0';
			break;
		case 3:
			memset(s.dev.name, 'd', sizeof(s.dev.name));
			break;
		default:
			break;
		}
		if (i == 4) {
			CHECK_RC(reply_sign(&s, h, dev_sk), KITH_EINVAL);
			continue;
		}
		CHECK_RC(reply_sign(&s, h, dev2_sk), KITH_EINVAL);
		CHECK_RC(reply_encode(&s, text, sizeof(text)), KITH_EINVAL);
		CHECK_RC(reply_verify_sig(&s, h), KITH_EINVAL);
	}
}

static void
test_flips(void)
{
	struct invitation inv, other, u;
	struct invite_reply r, s;
	uint8_t b[BUFMAX], c[BUFMAX], h[32], h2[32];
	size_t n, i;
	unsigned m;
	int tried = 0, caught = 0, rtried = 0, rcaught = 0, bad, v;

	/* Both families and every field present. */
	make_inv(&inv, 2, 0, INV_TYPICAL);
	n = bin_of(&inv, b, 1);
	CHECK_RC(dec_inv(b, n, &u), 0);
	CHECK_RC(invitation_verify_sig(&u), 0);
	for (i = 0; i < n; i++) {
		/* Each of the eight bits, then the whole byte. */
		for (m = 0; m < 9; m++) {
			memcpy(c, b, n);
			c[i] ^= (uint8_t)(m < 8 ? 1u << m : 0xff);
			tried++;
			bad = dec_inv(c, n, &u) != 0;
			if (!bad) {
				v = invitation_verify_sig(&u);
				bad = v != 0;
				if (v != 0 && v != KITH_ECRYPTO)
					CHECK_RC(v, KITH_ECRYPTO);
			}
			if (bad)
				caught++;
			else
				fprintf(stderr, "test_invitation.c: byte %zu"
				    " ^ %u passes\n", i, m);
		}
	}
	printf("invitation: %d of %d changes of a %zu-byte form caught\n",
	    caught, tried, n);
	CHECK(tried == (int)n * 9);
	CHECK(caught == tried);

	CHECK_RC(invitation_hash(&inv, h), 0);
	make_reply(&r, &inv, 0);
	n = reply_bin_of(&r, b, 1);
	CHECK_RC(dec_reply(b, n, &s), 0);
	CHECK_RC(reply_verify_sig(&s, h), 0);
	for (i = 0; i < n; i++) {
		for (m = 0; m < 9; m++) {
			memcpy(c, b, n);
			c[i] ^= (uint8_t)(m < 8 ? 1u << m : 0xff);
			rtried++;
			bad = dec_reply(c, n, &s) != 0;
			if (!bad) {
				v = reply_verify_sig(&s, h);
				bad = v != 0;
				if (v != 0 && v != KITH_ECRYPTO)
					CHECK_RC(v, KITH_ECRYPTO);
			}
			if (bad)
				rcaught++;
			else
				fprintf(stderr, "test_invitation.c: reply byte"
				    " %zu ^ %u passes\n", i, m);
		}
	}
	printf("invitation: %d of %d changes of a %zu-byte reply caught\n",
	    rcaught, rtried, n);
	CHECK(rtried == (int)n * 9);
	CHECK(rcaught == rtried);

	/*
	 * A reply answers one invitation: not another one, not the same
	 * one with a changed signature, not one hash bit away.
	 */
	make_inv(&other, 2, 0, INV_TYPICAL);
	memcpy(other.token, inv.token, 16);
	CHECK_RC(invitation_sign(&other, dev_sk), 0);
	CHECK_RC(invitation_hash(&other, h2), 0);
	CHECK_RC(reply_verify_sig(&r, h2), KITH_ECRYPTO);
	memcpy(h2, h, 32);
	for (i = 0; i < 32; i += 7) {
		h2[i] ^= 0x10;
		CHECK_RC(reply_verify_sig(&r, h2), KITH_ECRYPTO);
		h2[i] ^= 0x10;
	}
	CHECK_RC(reply_verify_sig(&r, h2), 0);
}

static void
test_tamper_fields(void)
{
	struct invitation inv, t;
	struct invite_reply r, s;
	uint8_t h[32];
	int i, nf = 22, caught = 0;

	make_inv(&inv, 2, 0, INV_TYPICAL);	/* a v4 and a v6 hint */
	CHECK_RC(invitation_verify_sig(&inv), 0);
	for (i = 0; i < nf; i++) {
		t = inv;
		switch (i) {
		case 0:
			t.expiry++;
			break;
		case 1:
			t.uses = (uint8_t)(t.uses == 255 ? 1 : t.uses + 1);
			break;
		case 2:
			t.token[15] ^= 1;
			break;
		case 3:
			t.secret[0] ^= 0x80;
			break;
		case 4:
			t.account_pk[7] ^= 4;
			break;
		case 5:
			t.dev.sign_pk[0] ^= 1;
			break;
		case 6:
			t.dev.kx_pk[31] ^= 1;
			break;
		case 7:
			t.dev.added++;
			break;
		case 8:
			t.dev.name[0] = 'A';
			break;
		case 9:
			t.dev.sig[10] ^= 1;
			break;
		case 10:
			t.port ^= 1;
			break;
		case 11:
			t.nhints = 1;
			break;
		case 12:
			t.hints[0].addr[3] ^= 1;
			break;
		case 13:
			t.hints[1].addr[15] ^= 1;
			break;
		case 14:
			t.hints[0].family = 6;
			break;
		case 15:
			t.uri[8] = 'C';
			break;
		case 16:
			strcat(t.service, "!");
			break;
		case 17:
			t.alias[4] = '\0';
			break;
		case 18:
			t.note[0] = '\0';
			break;
		case 19:
			t.sig[0] ^= 1;
			break;
		case 20:
			t.sig[63] ^= 0x40;
			break;
		default:
			t.nhints = 3;
			t.hints[2] = t.hints[0];
			break;
		}
		if (CHECK_RC(invitation_verify_sig(&t), KITH_ECRYPTO))
			caught++;
	}
	CHECK(caught == nf);

	CHECK_RC(invitation_hash(&inv, h), 0);
	make_reply(&r, &inv, 0);
	CHECK_RC(reply_verify_sig(&r, h), 0);
	for (i = 0; i < 9; i++) {
		s = r;
		switch (i) {
		case 0:
			s.token[0] ^= 1;
			break;
		case 1:
			s.account_pk[31] ^= 1;
			break;
		case 2:
			s.dev.sign_pk[5] ^= 1;
			break;
		case 3:
			s.dev.kx_pk[5] ^= 1;
			break;
		case 4:
			s.dev.added ^= (uint64_t)1 << 63;
			break;
		case 5:
			strcat(s.dev.name, "2");
			break;
		case 6:
			s.dev.sig[63] ^= 1;
			break;
		case 7:
			s.alias[0] = 'B';
			break;
		default:
			s.sig[32] ^= 1;
			break;
		}
		CHECK_RC(reply_verify_sig(&s, h), KITH_ECRYPTO);
	}
}

static void
test_cert(void)
{
	struct invitation inv, u;
	struct invite_cert c, d;
	struct roster_dev rd;
	uint8_t blob[CERT_MAXLEN], out[BUFMAX], pk[32];
	char name[INVITE_NAMEMAX + 2], text[TEXTMAX];
	size_t len, n, i, cut;
	int zero, caught, k;

	/* cert_make's output, read by invite_cert_parse and back. */
	make_cert(acc_sk, dev_pk, "alice-laptop", &c, blob, &len);
	memset(pk, 0xa5, sizeof(pk));
	CHECK_RC(invite_cert_parse(blob, len, pk, &d), 0);
	CHECK(memcmp(pk, acc_pk, 32) == 0);
	CHECK(cert_eq(&c, &d));
	CHECK_RC(invite_cert_blob(acc_pk, &d, out, sizeof(out), &n), 0);
	CHECK(n == len);
	CHECK(memcmp(out, blob, len) == 0);
	CHECK_RC(invite_cert_blob(acc_pk, &d, out, len, &n), 0);
	CHECK_RC(invite_cert_blob(acc_pk, &d, out, len - 1, &n),
	    KITH_ETOOBIG);
	CHECK_RC(cert_verify(out, n, acc_pk, &rd), 0);
	CHECK(memcmp(rd.sign_pk, dev_pk, 32) == 0);
	CHECK(memcmp(rd.kx_pk, c.kx_pk, 32) == 0);
	CHECK(rd.added == c.added);
	CHECK(strcmp(rd.name, "alice-laptop") == 0);
	CHECK_RC(cert_verify(out, n, acc2_pk, &rd), KITH_ECRYPTO);

	/* The certificate an invitation carries, through its text form. */
	make_inv(&inv, 1, 6, INV_MAX);
	CHECK_RC(invitation_encode(&inv, text, sizeof(text)), 0);
	CHECK_RC(inv_decode_exact(text, strlen(text), &u), 0);
	CHECK_RC(invite_cert_blob(u.account_pk, &u.dev, out, sizeof(out), &n),
	    0);
	CHECK(n == INVITE_FULLCERTMAX);
	CHECK_RC(cert_verify(out, n, u.account_pk, &rd), 0);
	CHECK(memcmp(rd.sign_pk, u.dev.sign_pk, 32) == 0);
	CHECK(strcmp(rd.name, u.dev.name) == 0);

	/* Each field of the compact certificate changed: cert_verify fails. */
	for (k = 0; k < 5; k++) {
		d = c;
		switch (k) {
		case 0:
			d.sign_pk[0] ^= 1;
			break;
		case 1:
			d.kx_pk[9] ^= 0x20;
			break;
		case 2:
			d.added--;
			break;
		case 3:
			d.name[0] = 'b';
			break;
		default:
			d.sig[1] ^= 1;
			break;
		}
		CHECK_RC(invite_cert_blob(acc_pk, &d, out, sizeof(out), &n), 0);
		CHECK_RC(cert_verify(out, n, acc_pk, &rd), KITH_ECRYPTO);
	}
	/* Every bit of every byte of the full form changed. */
	caught = 0;
	for (i = 0; i < len; i++) {
		for (k = 0; k < 8; k++) {
			memcpy(out, blob, len);
			out[i] ^= (uint8_t)(1u << k);
			if (cert_verify(out, len, acc_pk, &rd) != 0)
				caught++;
		}
	}
	CHECK(caught == (int)len * 8);

	/* Refused by invite_cert_blob. */
	d = c;
	d.name[0] = '\0';
	CHECK_RC(invite_cert_blob(acc_pk, &d, out, sizeof(out), &n),
	    KITH_EINVAL);
	memset(d.name, 'n', sizeof(d.name));
	CHECK_RC(invite_cert_blob(acc_pk, &d, out, sizeof(out), &n),
	    KITH_EINVAL);

	/* Strict parsing; the outputs are wiped on failure. */
	zero = 0;
	for (cut = 0; cut < len; cut++) {
		memset(pk, 0xa5, 32);
		memset(&d, 0xa5, sizeof(d));
		memcpy(out, blob, cut);
		if (invite_cert_parse(out, cut, pk, &d) == 0)
			zero++;
		else if (!all_zero(pk, 32) || !all_zero(&d, sizeof(d)))
			CHECK(!"invite_cert_parse wipes its outputs");
	}
	CHECK(zero == 0);
	memcpy(out, blob, len);
	out[len] = 0;
	CHECK_RC(invite_cert_parse(out, len + 1, pk, &d), KITH_EFORMAT);
	out[3] = 'X';
	CHECK_RC(invite_cert_parse(out, len, pk, &d), KITH_EFORMAT);
	memcpy(out, blob, len);
	out[4] = 0;
	CHECK_RC(invite_cert_parse(out, len, pk, &d), KITH_EVERSION);
	out[4] = 2;
	CHECK_RC(invite_cert_parse(out, len, pk, &d), KITH_EVERSION);
	CHECK(all_zero(pk, 32) && all_zero(&d, sizeof(d)));
	/* Names: empty, 64 and 65 bytes, a NUL inside. */
	n = splice_str(blob, len, 109, "", 0, out);
	CHECK_RC(invite_cert_parse(out, n, pk, &d), KITH_EFORMAT);
	fill(name, "n", INVITE_NAMEMAX);
	n = splice_str(blob, len, 109, name, INVITE_NAMEMAX, out);
	CHECK_RC(invite_cert_parse(out, n, pk, &d), 0);
	CHECK(strcmp(d.name, name) == 0);
	fill(name, "n", INVITE_NAMEMAX + 1);
	n = splice_str(blob, len, 109, name, INVITE_NAMEMAX + 1, out);
	CHECK_RC(invite_cert_parse(out, n, pk, &d), KITH_EFORMAT);
	n = splice_str(blob, len, 109, "ab\0cd", 5, out);
	CHECK_RC(invite_cert_parse(out, n, pk, &d), KITH_EFORMAT);
}

static void
test_expiry(void)
{
	uint32_t e = 1700000000;

	CHECK(!invite_expired(e, 0));
	CHECK(!invite_expired(e, e - 1));
	CHECK(!invite_expired(e, e));
	CHECK(!invite_expired(e, (uint64_t)e + INVITE_SKEW));
	CHECK(invite_expired(e, (uint64_t)e + INVITE_SKEW + 1));
	CHECK(invite_expired(e, UINT64_MAX));
	/* No wrap at the top of the 32-bit range. */
	CHECK(!invite_expired(UINT32_MAX, (uint64_t)UINT32_MAX + INVITE_SKEW));
	CHECK(invite_expired(UINT32_MAX,
	    (uint64_t)UINT32_MAX + INVITE_SKEW + 1));
	CHECK(!invite_expired(0, INVITE_SKEW));
	CHECK(invite_expired(0, INVITE_SKEW + 1));
}

static void
test_strict(void)
{
	struct invitation inv, u;
	struct invite_reply r, s;
	struct ticket tk;
	struct offs o;
	uint8_t b[BUFMAX], c[BUFMAX], h[32];
	char text[TEXTMAX], big[INVITE_URIMAX + 2];
	size_t n, cn, cut;
	int zero, i;

	make_inv(&inv, 2, 4, INV_TYPICAL);
	n = bin_of(&inv, b, 1);
	offs_of(&inv, &o);
	CHECK(o.end == n);
	CHECK_RC(dec_inv(b, n, &u), 0);

	/* Every truncation, and one trailing byte. */
	zero = 0;
	for (cut = 0; cut < n; cut++)
		if (dec_inv(b, cut, &u) != KITH_EFORMAT)
			zero++;
	CHECK(zero == 0);
	memcpy(c, b, n);
	c[n] = 0;
	CHECK_RC(dec_inv(c, n + 1, &u), KITH_EFORMAT);
	c[n] = 'A';
	CHECK_RC(dec_inv(c, n + 1, &u), KITH_EFORMAT);

	/* Versions. */
	memcpy(c, b, n);
	c[0] = 0;
	CHECK_RC(dec_inv(c, n, &u), KITH_EVERSION);
	c[0] = 2;
	CHECK_RC(dec_inv(c, n, &u), KITH_EVERSION);
	CHECK_RC(dec_inv(c, 1, &u), KITH_EVERSION);
	c[0] = 255;
	CHECK_RC(dec_inv(c, n, &u), KITH_EVERSION);

	/* Uses 0; 255 is a valid (if unsigned-for) form. */
	memcpy(c, b, n);
	c[5] = 0;
	CHECK_RC(dec_inv(c, n, &u), KITH_EFORMAT);
	c[5] = 255;
	CHECK_RC(dec_inv(c, n, &u), 0);
	CHECK(u.uses == 255);
	CHECK_RC(invitation_verify_sig(&u), KITH_ECRYPTO);

	/* Five hints, each complete, and more. */
	{
		uint8_t five[1 + 5 * 5];

		five[0] = 5;
		for (i = 0; i < 5; i++) {
			five[1 + 5 * i] = 4;
			randombytes_buf(&five[2 + 5 * i], 4);
		}
		cn = splice(b, n, o.nhints, o.uri - o.nhints, five,
		    sizeof(five), c);
		CHECK_RC(dec_inv(c, cn, &u), KITH_EFORMAT);
		/* The same four of them are fine. */
		five[0] = 4;
		cn = splice(b, n, o.nhints, o.uri - o.nhints, five,
		    sizeof(five) - 5, c);
		CHECK_RC(dec_inv(c, cn, &u), 0);
		CHECK(u.nhints == 4);
		c[o.nhints] = 255;
		CHECK_RC(dec_inv(c, cn, &u), KITH_EFORMAT);
	}

	/* Families other than 4 and 6, in the first and the last hint. */
	for (i = 0; i < 5; i++) {
		static const uint8_t fam[] = { 0, 5, 1, 46, 255 };

		memcpy(c, b, n);
		c[o.hint[0]] = fam[i];
		CHECK_RC(dec_inv(c, n, &u), KITH_EFORMAT);
		memcpy(c, b, n);
		c[o.hint[1]] = fam[i];
		CHECK_RC(dec_inv(c, n, &u), KITH_EFORMAT);
	}

	/* A NUL inside each string. */
	{
		const size_t *const at[] = { &o.name, &o.uri,
		    &o.service, &o.alias, &o.note };

		for (i = 0; i < 5; i++) {
			memcpy(c, b, n);
			CHECK(c[*at[i]] >= 2);
			c[*at[i] + 2] = 0;
			CHECK_RC(dec_inv(c, n, &u), KITH_EFORMAT);
			/* ...and at its last byte. */
			memcpy(c, b, n);
			c[*at[i] + c[*at[i]]] = 0;
			CHECK_RC(dec_inv(c, n, &u), KITH_EFORMAT);
			/*
			 * What a terminal would act on, or not UTF-8: ESC,
			 * DEL, C1 CSI (as UTF-8), a lone continuation byte,
			 * an overlong '/'.
			 */
			{
				static const char *const bad[] = { "\x1b",
				    "\x7f", "\xc2\x9b", "\x80", "\xc0\xaf" };
				size_t k;

				for (k = 0; k < 5; k++) {
					memcpy(c, b, n);
					memcpy(&c[*at[i] + 1], bad[k],
					    strlen(bad[k]));
					CHECK_RC(dec_inv(c, n, &u),
					    KITH_EFORMAT);
				}
			}
		}
	}

	/* Empty strings: uri, alias, name no; service and note yes. */
	cn = splice_str(b, n, o.uri, "", 0, c);
	CHECK_RC(dec_inv(c, cn, &u), KITH_EFORMAT);
	cn = splice_str(b, n, o.alias, "", 0, c);
	CHECK_RC(dec_inv(c, cn, &u), KITH_EFORMAT);
	cn = splice_str(b, n, o.name, "", 0, c);
	CHECK_RC(dec_inv(c, cn, &u), KITH_EFORMAT);
	cn = splice_str(b, n, o.service, "", 0, c);
	CHECK_RC(dec_inv(c, cn, &u), 0);
	CHECK(u.service[0] == '\0');
	cn = splice_str(b, n, o.note, "", 0, c);
	CHECK_RC(dec_inv(c, cn, &u), 0);
	CHECK(u.note[0] == '\0');

	/* Each string at its largest, and one byte over. */
	{
		const struct {
			size_t *off;
			size_t max;
		} lim[] = {
			{ &o.name, INVITE_NAMEMAX },
			{ &o.uri, INVITE_URIMAX },
			{ &o.service, INVITE_NAMEMAX },
			{ &o.alias, INVITE_NAMEMAX },
			{ &o.note, INVITE_NOTEMAX },
		};

		for (i = 0; i < 5; i++) {
			fill(big, "x", lim[i].max + 1);
			cn = splice_str(b, n, *lim[i].off, big, lim[i].max, c);
			CHECK_RC(dec_inv(c, cn, &u), 0);
			cn = splice_str(b, n, *lim[i].off, big, lim[i].max + 1,
			    c);
			CHECK_RC(dec_inv(c, cn, &u), KITH_EFORMAT);
		}
	}

	/* A string's length running past the end. */
	memcpy(c, b, n);
	c[o.note] = 255;
	CHECK_RC(dec_inv(c, n, &u), KITH_EFORMAT);

	/* A payload longer than the largest invitation. */
	memset(c, 0x41, INVITE_MAXBIN + 100);
	c[0] = 1;
	CHECK_RC(dec_inv(c, INVITE_MAXBIN + 1, &u), KITH_EFORMAT);
	CHECK_RC(dec_inv(c, INVITE_MAXBIN + 100, &u), KITH_EFORMAT);

	/* Bad base32: a character it lacks, non-zero leftover bits. */
	text_of(INVITE_SCHEME, b, n, text);
	{
		size_t len = strlen(text);
		const char *al = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
		char *m = strdup(text);

		m[len / 2] = '1';
		CHECK_RC(inv_decode_exact(m, len, &u), KITH_EFORMAT);
		memcpy(m, text, len);
		m[len / 2] = '=';
		CHECK_RC(inv_decode_exact(m, len, &u), KITH_EFORMAT);
		memcpy(m, text, len);
		if (CHECK((n * 8) % 5 != 0)) {
			m[len - 1] = al[(strchr(al, m[len - 1]) - al) | 1];
			CHECK_RC(inv_decode_exact(m, len, &u), KITH_EFORMAT);
		}
		/* Every truncation of the text. */
		zero = 0;
		for (cut = 0; cut < len; cut++)
			if (inv_decode_exact(text, cut, &u) == 0)
				zero++;
		CHECK(zero == 0);
		free(m);
	}

	/* Other kinds of kith code, and text that is none. */
	CHECK_RC(inv_decode_exact("KITH-INVITE:", 12, &u), KITH_EFORMAT);
	CHECK_RC(inv_decode_exact("KITH-INVITE", 11, &u), KITH_EWRONGKIND);
	CHECK_RC(inv_decode_exact("KITH-FOO:AAAA", 13, &u), KITH_EWRONGKIND);
	CHECK_RC(inv_decode_exact("hello", 5, &u), KITH_ENOTKITH);
	CHECK_RC(inv_decode_exact("", 0, &u), KITH_ENOTKITH);
	CHECK_RC(inv_decode_exact(" \n", 2, &u), KITH_ENOTKITH);
	CHECK_RC(inv_decode_exact("https://x", 9, &u), KITH_ENOTKITH);

	memset(&tk, 0, sizeof(tk));
	randombytes_buf(tk.static_pk, 32);
	randombytes_buf(tk.secret, 32);
	tk.port = 40123;
	CHECK_RC(ticket_encode(&tk, text, sizeof(text)), 0);
	CHECK_RC(inv_decode_exact(text, strlen(text), &u), KITH_EWRONGKIND);
	CHECK_RC(reply_decode_exact(text, strlen(text), &s), KITH_EWRONGKIND);

	CHECK_RC(invitation_hash(&inv, h), 0);
	make_reply(&r, &inv, 0);
	CHECK_RC(reply_encode(&r, text, sizeof(text)), 0);
	CHECK_RC(inv_decode_exact(text, strlen(text), &u), KITH_EWRONGKIND);
	CHECK_RC(invitation_encode(&inv, text, sizeof(text)), 0);
	CHECK_RC(reply_decode_exact(text, strlen(text), &s), KITH_EWRONGKIND);
	CHECK_RC(ticket_decode(text, strlen(text), &tk), KITH_EWRONGKIND);
	CHECK_RC(reply_decode_exact("hello", 5, &s), KITH_ENOTKITH);
	CHECK_RC(reply_decode_exact("KITH-REPLY:", 11, &s), KITH_EFORMAT);

	/* The reply, strictly. */
	n = reply_bin_of(&r, b, 1);
	CHECK_RC(dec_reply(b, n, &s), 0);
	zero = 0;
	for (cut = 0; cut < n; cut++)
		if (dec_reply(b, cut, &s) != KITH_EFORMAT)
			zero++;
	CHECK(zero == 0);
	memcpy(c, b, n);
	c[n] = 0;
	CHECK_RC(dec_reply(c, n + 1, &s), KITH_EFORMAT);
	c[0] = 0;
	CHECK_RC(dec_reply(c, n, &s), KITH_EVERSION);
	c[0] = 2;
	CHECK_RC(dec_reply(c, n, &s), KITH_EVERSION);
	{
		/* version, token, account_pk, sign_pk, kx_pk, added */
		size_t on = 1 + 16 + 32 + 32 + 32 + 8;
		size_t oa = on + 1 + strlen(r.dev.name) + 64;

		cn = splice_str(b, n, oa, "", 0, c);
		CHECK_RC(dec_reply(c, cn, &s), KITH_EFORMAT);
		fill(big, "a", INVITE_NAMEMAX + 1);
		cn = splice_str(b, n, oa, big, INVITE_NAMEMAX, c);
		CHECK_RC(dec_reply(c, cn, &s), 0);
		cn = splice_str(b, n, oa, big, INVITE_NAMEMAX + 1, c);
		CHECK_RC(dec_reply(c, cn, &s), KITH_EFORMAT);
		cn = splice_str(b, n, oa, "b\0b", 3, c);
		CHECK_RC(dec_reply(c, cn, &s), KITH_EFORMAT);
		cn = splice_str(b, n, on, big, INVITE_NAMEMAX + 1, c);
		CHECK_RC(dec_reply(c, cn, &s), KITH_EFORMAT);
		cn = splice_str(b, n, on, "", 0, c);
		CHECK_RC(dec_reply(c, cn, &s), KITH_EFORMAT);
		cn = splice_str(b, n, on, "x\0", 2, c);
		CHECK_RC(dec_reply(c, cn, &s), KITH_EFORMAT);
	}
}

static void
test_kind(void)
{
	static const struct {
		const char *s;
		int kind;
	} t[] = {
		{ "KITH-PAIR:AAAA", KITH_CODE_PAIR },
		{ "kith-pair:", KITH_CODE_PAIR },
		{ " \t\r\nKiTh-PaIr:x\n", KITH_CODE_PAIR },
		{ "KITH-INVITE:AAAA", KITH_CODE_INVITE },
		{ "kith-invite:", KITH_CODE_INVITE },
		{ "\nKITH-Invite:!!", KITH_CODE_INVITE },
		{ "KITH-REPLY:AAAA", KITH_CODE_REPLY },
		{ "kith-reply:", KITH_CODE_REPLY },
		{ "  KITH-REPLY:  ", KITH_CODE_REPLY },
		{ "KITH-FOO:AAAA", KITH_CODE_OTHER },
		{ "KITH-", KITH_CODE_OTHER },
		{ "kith-x", KITH_CODE_OTHER },
		{ "KITH-PAIR", KITH_CODE_OTHER },
		{ "KITH-INVITE", KITH_CODE_OTHER },
		{ "KITH-PAIRS:AAAA", KITH_CODE_OTHER },
		{ "KITH-REPLY;", KITH_CODE_OTHER },
		{ "KITH", KITH_CODE_NONE },
		{ "KITH:", KITH_CODE_NONE },
		{ "hello", KITH_CODE_NONE },
		{ "", KITH_CODE_NONE },
		{ " ", KITH_CODE_NONE },
		{ "xKITH-PAIR:", KITH_CODE_NONE },
		{ "https://chat.example.org/", KITH_CODE_NONE },
	};
	size_t i, len;
	char *p;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		len = strlen(t[i].s);
		if ((p = malloc(len ? len : 1)) == NULL)
			abort();
		memcpy(p, t[i].s, len);
		if (!CHECK_RC(kith_code_kind(p, len), t[i].kind))
			fprintf(stderr, "  (for \"%s\")\n", t[i].s);
		free(p);
	}
	/* Nothing past ${len} is looked at. */
	CHECK_RC(kith_code_kind("KITH-INVITE:", 5), KITH_CODE_OTHER);
	CHECK_RC(kith_code_kind("KITH-INVITE:", 11), KITH_CODE_OTHER);
	CHECK_RC(kith_code_kind("KITH-INVITE:", 4), KITH_CODE_NONE);
	CHECK_RC(kith_code_kind("KITH-\0PAIR:", 11), KITH_CODE_OTHER);
	CHECK_RC(kith_code_kind(NULL, 0), KITH_CODE_NONE);
}

static void
test_qr(const char *dir)
{
	struct invitation inv, u;
	struct invite_reply r, s;
	uint8_t blob[CERT_MAXLEN], h[32];
	char text[INVITE_MAXTEXT], path[512], *out;
	size_t len;
	int v;

	/* The typical invitation: two IPv4 hints, no note. */
	memset(&inv, 0, sizeof(inv));
	inv.expiry = (uint32_t)time(NULL) + 15 * 60;
	inv.uses = 1;
	randombytes_buf(inv.token, sizeof(inv.token));
	randombytes_buf(inv.secret, sizeof(inv.secret));
	memcpy(inv.account_pk, acc_pk, 32);
	make_cert(acc_sk, dev_pk, "alice-laptop", &inv.dev, blob, &len);
	inv.port = 40123;
	inv.nhints = 2;
	inv.hints[0].family = 4;
	memcpy(inv.hints[0].addr, "\xc0\xa8\x01\x17", 4);	/* 192.168.1.23 */
	inv.hints[1].family = 4;
	memcpy(inv.hints[1].addr, "\x0a\x00\x00\x05", 4);	/* 10.0.0.5 */
	snprintf(inv.uri, sizeof(inv.uri), "%s", typ_uri);
	snprintf(inv.service, sizeof(inv.service), "Example Chat");
	snprintf(inv.alias, sizeof(inv.alias), "alice");
	CHECK_RC(invitation_sign(&inv, dev_sk), 0);
	CHECK_RC(invitation_encode(&inv, text, sizeof(text)), 0);

	v = 0;
	CHECK_RC(qr_version(text, &v), 0);
	printf("invitation: typical invitation is %zu characters, QR version"
	    " %d (level M)\n", strlen(text), v);
	CHECK(v >= 1 && v <= 15);

	snprintf(path, sizeof(path), "%s/invitation.png", dir);
	if (CHECK_RC(qr_write_png(text, path, 0), 0)) {
		out = NULL;
		if (CHECK_RC(qr_scan_file(path, &out, &len), 0)) {
			CHECK(len == strlen(text));
			CHECK(strcmp(out, text) == 0);
			CHECK_RC(invitation_decode(out, len, &u), 0);
			CHECK(inv_eq(&inv, &u));
			CHECK_RC(invitation_verify_sig(&u), 0);
			free(out);
		}
		unlink(path);
	}

	/* The reply shown back. */
	CHECK_RC(invitation_hash(&inv, h), 0);
	make_reply(&r, &inv, 0);
	CHECK_RC(reply_encode(&r, text, sizeof(text)), 0);
	CHECK_RC(qr_version(text, &v), 0);
	printf("invitation: typical reply is %zu characters, QR version %d\n",
	    strlen(text), v);
	snprintf(path, sizeof(path), "%s/reply.png", dir);
	if (CHECK_RC(qr_write_png(text, path, 0), 0)) {
		out = NULL;
		if (CHECK_RC(qr_scan_file(path, &out, &len), 0)) {
			CHECK(strcmp(out, text) == 0);
			CHECK_RC(reply_decode(out, len, &s), 0);
			CHECK(reply_eq(&r, &s));
			CHECK_RC(reply_verify_sig(&s, h), 0);
			free(out);
		}
		unlink(path);
	}
	invitation_wipe(&inv);
	invitation_wipe(&u);
}

int
main(void)
{
	char dir[] = "/tmp/kith-test-invitation.XXXXXX";

	if (sodium_init() < 0) {
		fprintf(stderr, "test_invitation: sodium_init failed\n");
		return (1);
	}
	if (mkdtemp(dir) == NULL) {
		fprintf(stderr, "test_invitation: mkdtemp: %s\n",
		    strerror(errno));
		return (1);
	}
	crypto_sign_keypair(acc_pk, acc_sk);
	crypto_sign_keypair(dev_pk, dev_sk);
	crypto_sign_keypair(acc2_pk, acc2_sk);
	crypto_sign_keypair(dev2_pk, dev2_sk);

	test_layout();
	test_roundtrip();
	test_sign_refuses();
	test_flips();
	test_tamper_fields();
	test_cert();
	test_expiry();
	test_strict();
	test_kind();
	test_qr(dir);

	if (rmdir(dir) != 0) {
		fprintf(stderr, "test_invitation: rmdir %s: %s\n", dir,
		    strerror(errno));
		nfail++;
	}
	printf("invitation: %d checks passed, %d failed\n", npass, nfail);
	return (nfail == 0 ? 0 : 1);
}
