/*
 * test_ticket.c: invite/ticket.c, the pairing ticket, and its way through a
 * QR code (invite/qr.c).
 *
 * The binary form is built here, by hand, from the layout ticket.h names
 *     version 1 (1) || expiry (4, BE) || static_pk (32) || secret (32) ||
 *     port (2, BE) || nhints (1) || nhints * (family (1) || addr (4 | 16))
 * and turned into text with a base32 encoder of this file (checked against
 * RFC 4648 vectors), so no expected text comes from the code under test.
 *
 *  1. round trips with 0..4 hints (IPv4, IPv6, mixed); the text equals the
 *     independent encoding; the output buffer size is checked exactly;
 *  2. decode rejects: other schemes (KITH_ENOTKITH, KITH_EWRONGKIND), bad
 *     base32 characters, non-zero padding bits, every truncation of the
 *     text and of the binary form, a trailing byte, version 0 and 2
 *     (KITH_EVERSION), 5 hints, bad families, port 0;
 *  3. lower case and surrounding white space are accepted;
 *  4. every single-byte change of the binary form fails or gives another
 *     ticket;
 *  5. ticket_tag: 16 lower-case hex digits, a function of the secret only;
 *  6. ticket -> qr_write_png -> qr_scan_file -> ticket_decode, and a
 *     4-hint ticket needs QR version <= 10.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "kith_err.h"
#include "qr.h"
#include "ticket.h"

#include "check.h"
#include "testlib.h"

/* The binary form of ${t}, by the layout above; returns its length. */
static size_t
bin_of(const struct ticket *t, uint8_t *b)
{
	size_t n = 0, i, alen;

	b[n++] = 1;
	b[n++] = (uint8_t)(t->expiry >> 24);
	b[n++] = (uint8_t)(t->expiry >> 16);
	b[n++] = (uint8_t)(t->expiry >> 8);
	b[n++] = (uint8_t)t->expiry;
	memcpy(b + n, t->static_pk, 32);
	n += 32;
	memcpy(b + n, t->secret, 32);
	n += 32;
	b[n++] = (uint8_t)(t->port >> 8);
	b[n++] = (uint8_t)t->port;
	b[n++] = t->nhints;
	for (i = 0; i < t->nhints; i++) {
		alen = t->hints[i].family == 4 ? 4 : 16;
		b[n++] = t->hints[i].family;
		memcpy(b + n, t->hints[i].addr, alen);
		n += alen;
	}
	return (n);
}

/* "KITH-PAIR:" + base32 of ${len} bytes at ${b}, into ${out}. */
static void
text_of(const uint8_t *b, size_t len, char *out)
{

	strcpy(out, "KITH-PAIR:");
	b32(b, len, out + strlen(out));
}

/*
 * A random ticket with ${nhints} hints; ${fam} 4 or 6 for all hints of that
 * family, 0 to alternate.
 */
static void
make_ticket(struct ticket *t, int nhints, int fam)
{
	int i;

	memset(t, 0, sizeof(*t));
	t->expiry = randombytes_random();
	randombytes_buf(t->static_pk, 32);
	randombytes_buf(t->secret, 32);
	do
		t->port = (uint16_t)randombytes_random();
	while (t->port == 0);
	t->nhints = (uint8_t)nhints;
	for (i = 0; i < nhints; i++) {
		t->hints[i].family = (uint8_t)(fam ? fam : (i % 2 ? 6 : 4));
		randombytes_buf(t->hints[i].addr,
		    t->hints[i].family == 4 ? 4 : 16);
	}
}

static int
ticket_eq(const struct ticket *a, const struct ticket *b)
{
	size_t i;

	if (a->expiry != b->expiry || a->port != b->port ||
	    a->nhints != b->nhints ||
	    memcmp(a->static_pk, b->static_pk, 32) != 0 ||
	    memcmp(a->secret, b->secret, 32) != 0)
		return (0);
	for (i = 0; i < a->nhints && i < TICKET_MAXHINTS; i++) {
		if (a->hints[i].family != b->hints[i].family ||
		    memcmp(a->hints[i].addr, b->hints[i].addr,
		    a->hints[i].family == 4 ? 4 : 16) != 0)
			return (0);
	}
	return (1);
}

/*
 * Decode exactly ${len} bytes from a heap copy without a terminator, so
 * that AddressSanitizer sees any read past the end.
 */
static int
decode_exact(const char *text, size_t len, struct ticket *t)
{
	char *p;
	int rc;

	if ((p = malloc(len ? len : 1)) == NULL)
		abort();
	memcpy(p, text, len);
	rc = ticket_decode(p, len, t);
	free(p);
	return (rc);
}

static int
decode_bin(const uint8_t *b, size_t len, struct ticket *t)
{
	char text[16 + KITH_BASE32_LEN(TICKET_MAXBIN + 64)];

	text_of(b, len, text);
	return (decode_exact(text, strlen(text), t));
}

static void
test_encoder_vectors(void)
{
	char out[32];

	/* RFC 4648, section 10, without the padding. */
	b32((const uint8_t *)"", 0, out);
	CHECK(strcmp(out, "") == 0);
	b32((const uint8_t *)"f", 1, out);
	CHECK(strcmp(out, "MY") == 0);
	b32((const uint8_t *)"fo", 2, out);
	CHECK(strcmp(out, "MZXQ") == 0);
	b32((const uint8_t *)"foob", 4, out);
	CHECK(strcmp(out, "MZXW6YQ") == 0);
	b32((const uint8_t *)"foobar", 6, out);
	CHECK(strcmp(out, "MZXW6YTBOI") == 0);
}

static void
test_roundtrip(void)
{
	static const int fams[] = { 4, 6, 0 };
	struct ticket t, u;
	uint8_t b[TICKET_MAXBIN];
	char text[TICKET_MAXTEXT], want[TICKET_MAXTEXT + 16];
	size_t f, need;
	int n;

	for (f = 0; f < 3; f++) {
		for (n = 0; n <= TICKET_MAXHINTS; n++) {
			make_ticket(&t, n, fams[f]);
			text_of(b, bin_of(&t, b), want);
			if (!CHECK_RC(ticket_encode(&t, text, sizeof(text)), 0))
				continue;
			CHECK(strcmp(text, want) == 0);
			CHECK(strlen(text) < TICKET_MAXTEXT);
			memset(&u, 0xa5, sizeof(u));
			CHECK_RC(decode_exact(text, strlen(text), &u), 0);
			CHECK(ticket_eq(&t, &u));

			/* The capacity needed is the text and its NUL. */
			need = strlen(text) + 1;
			memset(text, 0, sizeof(text));
			CHECK_RC(ticket_encode(&t, text, need), 0);
			CHECK(strcmp(text, want) == 0);
			CHECK_RC(ticket_encode(&t, text, need - 1),
			    KITH_ETOOBIG);
		}
	}

	/* The longest ticket: four IPv6 hints fill TICKET_MAXBIN. */
	make_ticket(&t, 4, 6);
	CHECK(bin_of(&t, b) == TICKET_MAXBIN);

	/* Encode refuses what it cannot represent. */
	make_ticket(&t, 4, 0);
	t.nhints = 5;
	CHECK_RC(ticket_encode(&t, text, sizeof(text)), KITH_EINVAL);
	make_ticket(&t, 2, 0);
	t.hints[1].family = 5;
	CHECK_RC(ticket_encode(&t, text, sizeof(text)), KITH_EINVAL);
}

static void
test_reject(void)
{
	struct ticket t, u;
	uint8_t b[TICKET_MAXBIN + 64], c[TICKET_MAXBIN + 64];
	char text[TICKET_MAXTEXT + 64];
	size_t n, i, len, base, cut;
	int rc, zero;
	static const char bad[] = "0189!=_.";

	/* Not a kith code at all / another kind of kith code. */
	CHECK_RC(decode_exact("https://x", 9, &u), KITH_ENOTKITH);
	CHECK_RC(decode_exact("", 0, &u), KITH_ENOTKITH);
	CHECK_RC(decode_exact("KITH", 4, &u), KITH_ENOTKITH);
	CHECK_RC(decode_exact("KITH-INVITE:AAAA", 16, &u), KITH_EWRONGKIND);
	CHECK_RC(decode_exact("kith-invite:aaaa", 16, &u), KITH_EWRONGKIND);
	CHECK_RC(decode_exact("KITH-PAIR", 9, &u), KITH_EWRONGKIND);
	CHECK_RC(decode_exact("KITH-PAIR:", 10, &u), KITH_EFORMAT);

	make_ticket(&t, 3, 0);
	n = bin_of(&t, b);
	text_of(b, n, text);
	len = strlen(text);
	base = strlen("KITH-PAIR:");

	/* A character base32 does not have, anywhere in the payload. */
	for (i = 0; bad[i] != '\0'; i++) {
		char *m = strdup(text);

		m[base + (i * 37) % (len - base)] = bad[i];
		CHECK_RC(decode_exact(m, len, &u), KITH_EFORMAT);
		free(m);
	}

	/* Padding bits that are not zero (n * 8 is not a multiple of 5). */
	if (CHECK((n * 8) % 5 != 0)) {
		char *m = strdup(text);
		const char *al = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
		size_t v = (size_t)(strchr(al, m[len - 1]) - al);

		m[len - 1] = al[v | 1];
		CHECK_RC(decode_exact(m, len, &u), KITH_EFORMAT);
		free(m);
	}

	/* Every truncation of the text: an error, never a crash. */
	zero = 0;
	for (cut = 0; cut < len; cut++) {
		rc = decode_exact(text, cut, &u);
		if (rc == 0)
			zero++;
		if (cut >= base && rc != KITH_EFORMAT)
			CHECK_RC(rc, KITH_EFORMAT);
	}
	CHECK(zero == 0);

	/* Every truncation of the binary form, properly encoded. */
	zero = 0;
	for (cut = 0; cut < n; cut++)
		if (decode_bin(b, cut, &u) == 0)
			zero++;
	CHECK(zero == 0);
	CHECK_RC(decode_bin(b, 0, &u), KITH_EFORMAT);
	CHECK_RC(decode_bin(b, n - 1, &u), KITH_EFORMAT);

	/* The whole form is accepted; one trailing byte is not. */
	CHECK_RC(decode_bin(b, n, &u), 0);
	CHECK(ticket_eq(&t, &u));
	memcpy(c, b, n);
	c[n] = 0;
	CHECK_RC(decode_bin(c, n + 1, &u), KITH_EFORMAT);
	c[n] = 4;
	CHECK_RC(decode_bin(c, n + 1, &u), KITH_EFORMAT);

	/* Versions. */
	memcpy(c, b, n);
	c[0] = 2;
	CHECK_RC(decode_bin(c, n, &u), KITH_EVERSION);
	c[0] = 0;
	CHECK_RC(decode_bin(c, n, &u), KITH_EVERSION);
	c[0] = 2;
	CHECK_RC(decode_bin(c, 1, &u), KITH_EVERSION);

	/* Five hints, each complete: still too many. */
	make_ticket(&t, 4, 4);
	n = bin_of(&t, c);
	c[71] = 5;
	c[n++] = 4;
	randombytes_buf(c + n, 4);
	n += 4;
	CHECK_RC(decode_bin(c, n, &u), KITH_EFORMAT);
	c[71] = 255;
	CHECK_RC(decode_bin(c, n, &u), KITH_EFORMAT);

	/* A bad family in the first and in the last hint. */
	make_ticket(&t, 2, 4);
	n = bin_of(&t, b);
	CHECK_RC(decode_bin(b, n, &u), 0);
	for (i = 0; i < 4; i++) {
		static const uint8_t fam[] = { 0, 5, 46, 255 };

		memcpy(c, b, n);
		c[72] = fam[i];
		CHECK_RC(decode_bin(c, n, &u), KITH_EFORMAT);
		memcpy(c, b, n);
		c[77] = fam[i];
		CHECK_RC(decode_bin(c, n, &u), KITH_EFORMAT);
	}

	/* Port 0. */
	memcpy(c, b, n);
	c[69] = 0;
	c[70] = 0;
	CHECK_RC(decode_bin(c, n, &u), KITH_EFORMAT);
	c[70] = 1;
	CHECK_RC(decode_bin(c, n, &u), 0);
	CHECK(u.port == 1);
}

static void
test_lenient(void)
{
	struct ticket t, u;
	char text[TICKET_MAXTEXT], *m;
	size_t i, len;

	make_ticket(&t, 4, 0);
	CHECK_RC(ticket_encode(&t, text, sizeof(text)), 0);
	len = strlen(text);

	/* All lower case, scheme included. */
	m = strdup(text);
	for (i = 0; i < len; i++)
		if (m[i] >= 'A' && m[i] <= 'Z')
			m[i] = (char)(m[i] - 'A' + 'a');
	CHECK(strcmp(m, text) != 0);
	memset(&u, 0, sizeof(u));
	CHECK_RC(decode_exact(m, len, &u), 0);
	CHECK(ticket_eq(&t, &u));
	free(m);

	/* Surrounding white space, as a scanner or a paste leaves it. */
	if ((m = malloc(len + 16)) == NULL)
		abort();
	snprintf(m, len + 16, " \t\r\n%s\r\n \t", text);
	memset(&u, 0, sizeof(u));
	CHECK_RC(decode_exact(m, strlen(m), &u), 0);
	CHECK(ticket_eq(&t, &u));
	snprintf(m, len + 16, "%s\n", text);
	CHECK_RC(decode_exact(m, strlen(m), &u), 0);
	CHECK(ticket_eq(&t, &u));
	free(m);
}

static void
test_single_byte_changes(void)
{
	struct ticket t, u;
	uint8_t b[TICKET_MAXBIN], c[TICKET_MAXBIN];
	size_t n, i;
	unsigned v;
	int silent = 0, accepted = 0, tried = 0;

	make_ticket(&t, 4, 0);	/* v4, v6, v4, v6 */
	n = bin_of(&t, b);
	for (i = 0; i < n; i++) {
		for (v = 0; v < 256; v++) {
			if (v == b[i])
				continue;
			memcpy(c, b, n);
			c[i] = (uint8_t)v;
			tried++;
			if (decode_bin(c, n, &u) != 0)
				continue;
			accepted++;
			if (ticket_eq(&t, &u)) {
				silent++;
				fprintf(stderr, "test_ticket.c: byte %zu ="
				    " %u decodes to the same ticket\n", i, v);
			}
		}
	}
	CHECK(tried == (int)n * 255);
	CHECK(silent == 0);
	/* Most changes (keys, secret, addresses) are valid other tickets. */
	CHECK(accepted > 0);
}

static void
test_tag(void)
{
	struct ticket t, u;
	char tag1[17], tag2[17], tag3[17];
	size_t i;
	int hex = 1;

	make_ticket(&t, 1, 4);
	memset(tag1, 'x', sizeof(tag1));
	ticket_tag(&t, tag1);
	CHECK(tag1[16] == '\0');
	CHECK(strlen(tag1) == 16);
	for (i = 0; i < 16; i++)
		if (!((tag1[i] >= '0' && tag1[i] <= '9') ||
		    (tag1[i] >= 'a' && tag1[i] <= 'f')))
			hex = 0;
	CHECK(hex);

	/* The same secret, everything else different: the same tag. */
	make_ticket(&u, 3, 6);
	memcpy(u.secret, t.secret, 32);
	ticket_tag(&u, tag2);
	CHECK(strcmp(tag1, tag2) == 0);

	/* Another secret: another tag, even one bit away. */
	u.secret[31] ^= 1;
	ticket_tag(&u, tag3);
	CHECK(strcmp(tag1, tag3) != 0);
	make_ticket(&u, 1, 4);
	ticket_tag(&u, tag3);
	CHECK(strcmp(tag1, tag3) != 0);

	/* The secret itself does not show in the tag. */
	{
		char hx[65];

		for (i = 0; i < 32; i++)
			snprintf(hx + 2 * i, 3, "%02x", t.secret[i]);
		CHECK(strstr(hx, tag1) == NULL);
	}

	ticket_wipe(&t);
	for (i = 0; i < sizeof(t.secret); i++)
		if (t.secret[i] != 0)
			break;
	CHECK(i == sizeof(t.secret));
}

static void
test_qr(const char *dir)
{
	struct ticket t, u;
	char text[TICKET_MAXTEXT], path[512], *out;
	size_t len;
	int v, n;

	for (n = 0; n <= TICKET_MAXHINTS; n += 2) {
		make_ticket(&t, n, n == 4 ? 6 : 0);
		if (!CHECK_RC(ticket_encode(&t, text, sizeof(text)), 0))
			continue;
		snprintf(path, sizeof(path), "%s/ticket%d.png", dir, n);
		if (!CHECK_RC(qr_write_png(text, path, 0), 0))
			continue;
		out = NULL;
		if (!CHECK_RC(qr_scan_file(path, &out, &len), 0))
			continue;
		CHECK(len == strlen(text));
		CHECK(strcmp(out, text) == 0);
		memset(&u, 0, sizeof(u));
		CHECK_RC(ticket_decode(out, len, &u), 0);
		CHECK(ticket_eq(&t, &u));
		free(out);
		unlink(path);
	}

	/* The largest ticket (four IPv6 hints) stays a small code. */
	make_ticket(&t, 4, 6);
	CHECK_RC(ticket_encode(&t, text, sizeof(text)), 0);
	v = 0;
	CHECK_RC(qr_version(text, &v), 0);
	CHECK(v >= 1 && v <= 10);
}

int
main(void)
{
	char dir[] = "/tmp/kith-test-ticket.XXXXXX";

	if (sodium_init() < 0) {
		fprintf(stderr, "test_ticket: sodium_init failed\n");
		return (1);
	}
	if (mkdtemp(dir) == NULL) {
		fprintf(stderr, "test_ticket: mkdtemp: %s\n", strerror(errno));
		return (1);
	}

	test_encoder_vectors();
	test_roundtrip();
	test_reject();
	test_lenient();
	test_single_byte_changes();
	test_tag();
	test_qr(dir);

	if (rmdir(dir) != 0) {
		fprintf(stderr, "test_ticket: rmdir %s: %s\n", dir,
		    strerror(errno));
		nfail++;
	}
	printf("ticket: %d checks passed, %d failed\n", npass, nfail);
	return (nfail == 0 ? 0 : 1);
}
