#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "kith_err.h"
#include "kith_util.h"
#include "ticket.h"

#define TICKET_V1 1

/* Prefix shared by every kith code; the word after it says which kind. */
#define KITH_CODE_PREFIX "KITH-"

int
ticket_encode(const struct ticket *t, char *out, size_t cap)
{
	uint8_t bin[TICKET_MAXBIN];
	size_t n = 0, i, alen;

	if (t->nhints > TICKET_MAXHINTS)
		return (KITH_EINVAL);
	bin[n++] = TICKET_V1;
	kith_be32enc(&bin[n], t->expiry);
	n += 4;
	memcpy(&bin[n], t->static_pk, 32);
	n += 32;
	memcpy(&bin[n], t->secret, 32);
	n += 32;
	kith_be16enc(&bin[n], t->port);
	n += 2;
	bin[n++] = t->nhints;
	for (i = 0; i < t->nhints; i++) {
		if (t->hints[i].family != 4 && t->hints[i].family != 6) {
			sodium_memzero(bin, sizeof(bin));
			return (KITH_EINVAL);
		}
		alen = t->hints[i].family == 4 ? 4 : 16;
		bin[n++] = t->hints[i].family;
		memcpy(&bin[n], t->hints[i].addr, alen);
		n += alen;
	}
	if (cap < sizeof(TICKET_SCHEME) + KITH_BASE32_LEN(n)) {
		sodium_memzero(bin, sizeof(bin));
		return (KITH_ETOOBIG);
	}
	memcpy(out, TICKET_SCHEME, sizeof(TICKET_SCHEME) - 1);
	kith_base32_enc(bin, n, out + sizeof(TICKET_SCHEME) - 1);
	sodium_memzero(bin, sizeof(bin));
	return (0);
}

int
ticket_decode(const char *text, size_t len, struct ticket *t)
{
	uint8_t bin[TICKET_MAXBIN];
	size_t n, p = 0, i, alen;
	int rc;

	/* Trim white space a scanner or a paste may have added. */
	while (len > 0 && (text[0] == ' ' || text[0] == '\t' ||
	    text[0] == '\n' || text[0] == '\r')) {
		text++;
		len--;
	}
	while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\t' ||
	    text[len - 1] == '\n' || text[len - 1] == '\r'))
		len--;

	if (len < sizeof(TICKET_SCHEME) - 1 ||
	    strncasecmp(text, TICKET_SCHEME, sizeof(TICKET_SCHEME) - 1) != 0) {
		if (len >= sizeof(KITH_CODE_PREFIX) - 1 &&
		    strncasecmp(text, KITH_CODE_PREFIX,
		    sizeof(KITH_CODE_PREFIX) - 1) == 0)
			return (KITH_EWRONGKIND);
		return (KITH_ENOTKITH);
	}
	text += sizeof(TICKET_SCHEME) - 1;
	len -= sizeof(TICKET_SCHEME) - 1;
	if ((rc = kith_base32_dec(text, len, bin, sizeof(bin), &n)) != 0) {
		sodium_memzero(bin, sizeof(bin));
		return (KITH_EFORMAT);
	}

	memset(t, 0, sizeof(*t));
	rc = KITH_EFORMAT;
	if (n < 1)
		goto done;
	if (bin[p++] != TICKET_V1) {
		rc = KITH_EVERSION;
		goto done;
	}
	if (n - p < 4 + 32 + 32 + 2 + 1)
		goto done;
	t->expiry = kith_be32dec(&bin[p]);
	p += 4;
	memcpy(t->static_pk, &bin[p], 32);
	p += 32;
	memcpy(t->secret, &bin[p], 32);
	p += 32;
	t->port = kith_be16dec(&bin[p]);
	p += 2;
	t->nhints = bin[p++];
	if (t->nhints > TICKET_MAXHINTS || t->port == 0)
		goto done;
	for (i = 0; i < t->nhints; i++) {
		if (n - p < 1)
			goto done;
		t->hints[i].family = bin[p++];
		if (t->hints[i].family != 4 && t->hints[i].family != 6)
			goto done;
		alen = t->hints[i].family == 4 ? 4 : 16;
		if (n - p < alen)
			goto done;
		memcpy(t->hints[i].addr, &bin[p], alen);
		p += alen;
	}
	if (p != n)
		goto done;
	rc = 0;
done:
	if (rc != 0)
		ticket_wipe(t);
	sodium_memzero(bin, sizeof(bin));
	return (rc);
}

void
ticket_tag(const struct ticket *t, char tag[static 17])
{
	static const uint8_t ctx[] = "kith pairing announce v1";
	uint8_t h[8];

	crypto_generichash(h, sizeof(h), ctx, sizeof(ctx) - 1, t->secret,
	    sizeof(t->secret));
	kith_hex(h, sizeof(h), tag);
}

void
ticket_wipe(struct ticket *t)
{

	sodium_memzero(t, sizeof(*t));
}
