/*
 * fuzz_ticket.c: ticket_decode (invite/ticket.c) on hostile bytes, taken
 * as text and as the payload of a KITH-PAIR: text (base32 of the input),
 * so that the binary form is reached with well-formed base32.
 *
 * Whatever decodes must encode again and decode to the same ticket; a
 * wrapped payload that decodes must encode back to exactly that text (one
 * form per ticket); and ticket_decode's KITH_ENOTKITH / KITH_EWRONGKIND
 * must agree with kith_code_kind (invite/invitation.h).
 */
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "invitation.h"
#include "kith_err.h"
#include "kith_util.h"
#include "ticket.h"

#include "fuzz.h"

/* Inputs longer than this are not wrapped as text. */
#define WRAPMAX (2 * TICKET_MAXBIN)

static int
ticket_eq(const struct ticket *a, const struct ticket *b)
{
	size_t i;

	if (a->expiry != b->expiry || a->port != b->port ||
	    a->nhints != b->nhints || a->nhints > TICKET_MAXHINTS ||
	    memcmp(a->static_pk, b->static_pk, 32) != 0 ||
	    memcmp(a->secret, b->secret, 32) != 0)
		return (0);
	for (i = 0; i < a->nhints; i++)
		if (a->hints[i].family != b->hints[i].family ||
		    memcmp(a->hints[i].addr, b->hints[i].addr,
		    a->hints[i].family == 4 ? 4 : 16) != 0)
			return (0);
	return (1);
}

/* A ticket the decoder accepted: it must go round unchanged. */
static void
check_ticket(const struct ticket *t)
{
	struct ticket u;
	char text[TICKET_MAXTEXT], text2[TICKET_MAXTEXT], tag[17];

	FUZZ_MUST(t->port != 0 && t->nhints <= TICKET_MAXHINTS);
	FUZZ_MUST(ticket_encode(t, text, sizeof(text)) == 0);
	FUZZ_MUST(kith_code_kind(text, strlen(text)) == KITH_CODE_PAIR);
	FUZZ_MUST(ticket_decode(text, strlen(text), &u) == 0);
	FUZZ_MUST(ticket_eq(t, &u));
	FUZZ_MUST(ticket_encode(&u, text2, sizeof(text2)) == 0);
	FUZZ_MUST(strcmp(text, text2) == 0);
	ticket_tag(t, tag);
	FUZZ_MUST(strlen(tag) == 16);
	ticket_wipe(&u);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char text[sizeof(TICKET_SCHEME) + KITH_BASE32_LEN(WRAPMAX)];
	char out[TICKET_MAXTEXT];
	struct ticket t;
	size_t k;
	int rc, kind;

	if (sodium_init() < 0)
		abort();

	/* As text. */
	kind = kith_code_kind((const char *)data, size);
	rc = ticket_decode((const char *)data, size, &t);
	if (rc == KITH_ENOTKITH)
		FUZZ_MUST(kind == KITH_CODE_NONE);
	else if (rc == KITH_EWRONGKIND)
		FUZZ_MUST(kind != KITH_CODE_NONE && kind != KITH_CODE_PAIR);
	else {
		FUZZ_MUST(kind == KITH_CODE_PAIR);
		FUZZ_MUST(rc == 0 || rc == KITH_EFORMAT ||
		    rc == KITH_EVERSION);
	}
	if (rc == 0)
		check_ticket(&t);
	ticket_wipe(&t);

	/* As the binary form behind the scheme. */
	if (size > WRAPMAX)
		return (0);
	k = sizeof(TICKET_SCHEME) - 1;
	memcpy(text, TICKET_SCHEME, k);
	kith_base32_enc(data, size, text + k);
	rc = ticket_decode(text, strlen(text), &t);
	FUZZ_MUST(rc == 0 || rc == KITH_EFORMAT || rc == KITH_EVERSION);
	if (size > TICKET_MAXBIN)
		FUZZ_MUST(rc == KITH_EFORMAT);
	if (rc == 0) {
		check_ticket(&t);
		FUZZ_MUST(ticket_encode(&t, out, sizeof(out)) == 0);
		FUZZ_MUST(strcmp(out, text) == 0);
	}
	ticket_wipe(&t);
	return (0);
}
