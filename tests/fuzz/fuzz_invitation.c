/*
 * fuzz_invitation.c: every decoder of invite/invitation.c on hostile
 * bytes, each input taken three ways:
 *
 *  1. as text: kith_code_kind, invitation_decode, reply_decode, whose
 *     answers must agree (KITH_ENOTKITH exactly when kith_code_kind says
 *     NONE, KITH_EWRONGKIND exactly for the other kinds);
 *  2. as a binary form: invitation_decode_bin, and invite_cert_parse;
 *     whatever decodes must encode back to exactly the input (one form per
 *     invitation, per certificate);
 *  3. as the payload of a text form, base32-encoded behind KITH-INVITE:
 *     and KITH-REPLY:, so that the text decoders see well-formed base32
 *     of arbitrary bytes; invitation_decode must then answer as
 *     invitation_decode_bin does, and a reply must encode back to exactly
 *     that text.
 *
 * Whatever decodes must also survive encode -> decode -> encode unchanged,
 * and its signature checks must answer 0 or KITH_ECRYPTO, never
 * KITH_EINVAL: a decoder accepts only fields in range.
 */
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "invitation.h"
#include "kith_err.h"
#include "kith_util.h"

#include "fuzz.h"

/* Inputs longer than this are not wrapped as text (3. above). */
#define WRAPMAX (2 * INVITE_MAXBIN)

static void
check_cert(const uint8_t account_pk[32], const struct invite_cert *c)
{
	struct invite_cert d;
	uint8_t b[INVITE_FULLCERTMAX], b2[INVITE_FULLCERTMAX], pk[32];
	size_t n, n2;

	FUZZ_MUST(invite_cert_blob(account_pk, c, b, sizeof(b), &n) == 0);
	FUZZ_MUST(invite_cert_parse(b, n, pk, &d) == 0);
	FUZZ_MUST(memcmp(pk, account_pk, 32) == 0);
	FUZZ_MUST(invite_cert_blob(pk, &d, b2, sizeof(b2), &n2) == 0);
	FUZZ_MUST(n == n2 && memcmp(b, b2, n) == 0);
}

/* An invitation a decoder accepted: it must go round unchanged. */
static void
check_inv(const struct invitation *inv)
{
	struct invitation u;
	uint8_t b[INVITE_MAXBIN], b2[INVITE_MAXBIN], h[32];
	char text[INVITE_MAXTEXT];
	size_t n, n2;
	int rc;

	FUZZ_MUST(invitation_bin(inv, b, sizeof(b), &n) == 0);
	FUZZ_MUST(invitation_encode(inv, text, sizeof(text)) == 0);
	FUZZ_MUST(strlen(text) < sizeof(text));
	FUZZ_MUST(kith_code_kind(text, strlen(text)) == KITH_CODE_INVITE);
	FUZZ_MUST(invitation_decode(text, strlen(text), &u) == 0);
	FUZZ_MUST(invitation_bin(&u, b2, sizeof(b2), &n2) == 0);
	FUZZ_MUST(n == n2 && memcmp(b, b2, n) == 0);
	rc = invitation_verify_sig(inv);
	FUZZ_MUST(rc == 0 || rc == KITH_ECRYPTO);
	FUZZ_MUST(invitation_hash(inv, h) == 0);
	check_cert(inv->account_pk, &inv->dev);
	FUZZ_MUST(!invite_expired(inv->expiry, inv->expiry));
	FUZZ_MUST(invite_expired(inv->expiry,
	    (uint64_t)inv->expiry + INVITE_SKEW + 1));
	invitation_wipe(&u);
}

static void
check_reply(const struct invite_reply *r)
{
	struct invite_reply s;
	char text[REPLY_MAXTEXT], text2[REPLY_MAXTEXT];
	uint8_t h[32];
	int rc;

	FUZZ_MUST(reply_encode(r, text, sizeof(text)) == 0);
	FUZZ_MUST(kith_code_kind(text, strlen(text)) == KITH_CODE_REPLY);
	FUZZ_MUST(reply_decode(text, strlen(text), &s) == 0);
	FUZZ_MUST(reply_encode(&s, text2, sizeof(text2)) == 0);
	FUZZ_MUST(strcmp(text, text2) == 0);
	memset(h, 0, sizeof(h));
	rc = reply_verify_sig(r, h);
	FUZZ_MUST(rc == 0 || rc == KITH_ECRYPTO);
	check_cert(r->account_pk, &r->dev);
}

/* The answer of a decoder of kind ${want} must fit kith_code_kind's. */
static void
check_kind(int rc, int kind, int want)
{

	if (rc == KITH_ENOTKITH)
		FUZZ_MUST(kind == KITH_CODE_NONE);
	else if (rc == KITH_EWRONGKIND)
		FUZZ_MUST(kind != KITH_CODE_NONE && kind != want);
	else {
		FUZZ_MUST(kind == want);
		FUZZ_MUST(rc == 0 || rc == KITH_EFORMAT ||
		    rc == KITH_EVERSION);
	}
}

static void
as_text(const char *text, size_t size)
{
	struct invitation inv;
	struct invite_reply r;
	int kind, rc;

	kind = kith_code_kind(text, size);
	FUZZ_MUST(kind >= KITH_CODE_NONE && kind <= KITH_CODE_OTHER);

	rc = invitation_decode(text, size, &inv);
	check_kind(rc, kind, KITH_CODE_INVITE);
	if (rc == 0)
		check_inv(&inv);
	invitation_wipe(&inv);

	rc = reply_decode(text, size, &r);
	check_kind(rc, kind, KITH_CODE_REPLY);
	if (rc == 0)
		check_reply(&r);
}

static void
as_binary(const uint8_t *data, size_t size)
{
	struct invitation inv;
	struct invite_cert c;
	uint8_t b[INVITE_MAXBIN], fb[INVITE_FULLCERTMAX], pk[32];
	size_t n;
	int rc;

	rc = invitation_decode_bin(data, size, &inv);
	FUZZ_MUST(rc == 0 || rc == KITH_EFORMAT || rc == KITH_EVERSION);
	if (rc == 0) {
		check_inv(&inv);
		FUZZ_MUST(invitation_bin(&inv, b, sizeof(b), &n) == 0);
		FUZZ_MUST(n == size && memcmp(b, data, n) == 0);
	}
	invitation_wipe(&inv);

	rc = invite_cert_parse(data, size, pk, &c);
	FUZZ_MUST(rc == 0 || rc == KITH_EFORMAT || rc == KITH_EVERSION);
	if (rc == 0) {
		FUZZ_MUST(invite_cert_blob(pk, &c, fb, sizeof(fb), &n) == 0);
		FUZZ_MUST(n == size && memcmp(fb, data, n) == 0);
		check_cert(pk, &c);
	}
}

static void
as_payload(const uint8_t *data, size_t size)
{
	static char text[sizeof(INVITE_SCHEME) + KITH_BASE32_LEN(WRAPMAX)];
	struct invitation inv, u;
	struct invite_reply r;
	char out[REPLY_MAXTEXT];
	size_t k;
	int rc, rcb;

	if (size > WRAPMAX)
		return;

	k = sizeof(INVITE_SCHEME) - 1;
	memcpy(text, INVITE_SCHEME, k);
	kith_base32_enc(data, size, text + k);
	rc = invitation_decode(text, strlen(text), &inv);
	if (size <= INVITE_MAXBIN) {
		rcb = invitation_decode_bin(data, size, &u);
		FUZZ_MUST(rc == rcb);
		invitation_wipe(&u);
	} else
		FUZZ_MUST(rc == KITH_EFORMAT);
	invitation_wipe(&inv);

	k = sizeof(REPLY_SCHEME) - 1;
	memcpy(text, REPLY_SCHEME, k);
	kith_base32_enc(data, size, text + k);
	rc = reply_decode(text, strlen(text), &r);
	FUZZ_MUST(rc == 0 || rc == KITH_EFORMAT || rc == KITH_EVERSION);
	if (rc == 0) {
		check_reply(&r);
		FUZZ_MUST(reply_encode(&r, out, sizeof(out)) == 0);
		FUZZ_MUST(strcmp(out, text) == 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{

	if (sodium_init() < 0)
		abort();
	as_text((const char *)data, size);
	as_binary(data, size);
	as_payload(data, size);
	return (0);
}
