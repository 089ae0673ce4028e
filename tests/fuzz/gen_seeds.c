/*
 * gen_seeds.c: writes the seed corpora of tests/fuzz, valid codes of
 * every shape and a few broken ones, under DIR/fuzz_invitation/ and
 * DIR/fuzz_ticket/:
 *
 *     gen_seeds tests/fuzz/corpus
 *
 * Keys come from fixed seeds and Ed25519 signs deterministically, so
 * running it again writes the same bytes.  Built with the fuzz harnesses,
 * never run by ctest: its output is kept in the tree.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "invitation.h"
#include "kith_err.h"
#include "kith_util.h"
#include "roster.h"
#include "ticket.h"

static const char *outdir;
static int failed;

static void
put_file(const char *sub, const char *name, const void *p, size_t n)
{
	char path[4096];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/%s/%s", outdir, sub, name);
	if ((f = fopen(path, "wb")) == NULL) {
		perror(path);
		failed = 1;
		return;
	}
	ok = fwrite(p, 1, n, f) == n;
	if (fclose(f) != 0 || !ok) {
		perror(path);
		failed = 1;
	}
}

static void
put_text(const char *sub, const char *name, const char *s)
{

	put_file(sub, name, s, strlen(s));
}

static void
must(int rc, const char *what)
{

	if (rc != 0) {
		fprintf(stderr, "gen_seeds: %s: %s\n", what,
		    kith_strerror(rc));
		exit(1);
	}
}

/* The payload of a text form, decoded, into ${b}. */
static size_t
payload(const char *text, uint8_t *b, size_t cap)
{
	const char *colon = strchr(text, ':');
	size_t n;

	must(kith_base32_dec(colon + 1, strlen(colon + 1), b, cap, &n),
	    "base32");
	return (n);
}

static void
keypair(uint8_t pk[32], uint8_t sk[64], uint8_t fill)
{
	uint8_t seed[32];

	memset(seed, fill, sizeof(seed));
	crypto_sign_seed_keypair(pk, sk, seed);
}

/* A certificate of ${name} for the device ${sign_pk}, both forms. */
static void
cert(const uint8_t acc_sk[64], const uint8_t sign_pk[32], const char *name,
    struct invite_cert *c, uint8_t blob[CERT_MAXLEN], size_t *len)
{
	struct roster_dev d;
	uint8_t pk[32];

	memset(&d, 0, sizeof(d));
	memcpy(d.sign_pk, sign_pk, 32);
	memset(d.kx_pk, 0x4b, 32);
	d.added = 1700000000;
	snprintf(d.name, sizeof(d.name), "%s", name);
	must(cert_make(acc_sk, &d, blob, len), "cert_make");
	must(invite_cert_parse(blob, *len, pk, c), "invite_cert_parse");
}

static void
invitations(void)
{
	static const char sub[] = "fuzz_invitation";
	uint8_t acc_pk[32], acc_sk[64], dev_pk[32], dev_sk[64];
	uint8_t acc2_pk[32], acc2_sk[64], dev2_pk[32], dev2_sk[64];
	uint8_t blob[CERT_MAXLEN], b[INVITE_MAXBIN + 1], h[32];
	struct invitation inv, big;
	struct invite_reply r;
	char text[INVITE_MAXTEXT + 64], text2[2 * INVITE_MAXTEXT], *p;
	size_t n, len, i;

	keypair(acc_pk, acc_sk, 1);
	keypair(dev_pk, dev_sk, 2);
	keypair(acc2_pk, acc2_sk, 3);
	keypair(dev2_pk, dev2_sk, 4);

	/* The typical one: two IPv4 hints, no note. */
	memset(&inv, 0, sizeof(inv));
	inv.expiry = 1700000900;
	inv.uses = 1;
	memset(inv.token, 0x11, sizeof(inv.token));
	memset(inv.secret, 0x22, sizeof(inv.secret));
	memcpy(inv.account_pk, acc_pk, 32);
	cert(acc_sk, dev_pk, "alice-laptop", &inv.dev, blob, &len);
	put_file(sub, "cert-full.bin", blob, len);
	blob[4] = 2;
	put_file(sub, "cert-version2.bin", blob, len);
	inv.port = 40123;
	inv.nhints = 2;
	inv.hints[0].family = 4;
	memcpy(inv.hints[0].addr, "\xc0\x00\x02\x1f", 4);
	inv.hints[1].family = 4;
	memcpy(inv.hints[1].addr, "\x7f\x00\x00\x01", 4);
	snprintf(inv.uri, sizeof(inv.uri), "https://chat.example.org/g/team");
	snprintf(inv.service, sizeof(inv.service), "Example Chat");
	snprintf(inv.alias, sizeof(inv.alias), "alice");
	must(invitation_sign(&inv, dev_sk), "invitation_sign");
	must(invitation_encode(&inv, text, sizeof(text)), "encode");
	put_text(sub, "inv-typical.txt", text);
	must(invitation_bin(&inv, b, sizeof(b), &n), "invitation_bin");
	put_file(sub, "inv-typical.bin", b, n);

	/* Broken copies of it. */
	text[strlen(text) / 2] = '\0';
	put_text(sub, "inv-truncated.txt", text);
	put_file(sub, "inv-truncated.bin", b, n - 1);
	b[n] = 0;
	put_file(sub, "inv-trailing.bin", b, n + 1);
	b[0] = 2;
	put_file(sub, "inv-version2.bin", b, n);
	b[0] = 1;
	b[5] = 0;
	put_file(sub, "inv-uses0.bin", b, n);
	b[5] = 1;
	/* ...alias "alice" | empty note | sig: the 'l' of alice. */
	b[n - 64 - 1 - 4] = 0;
	put_file(sub, "inv-nul-alias.bin", b, n);
	must(invitation_encode(&inv, text, sizeof(text)), "encode");
	text[20] = '1';
	put_text(sub, "bad-base32.txt", text);

	/* The reply to it. */
	must(invitation_hash(&inv, h), "invitation_hash");
	memset(&r, 0, sizeof(r));
	memcpy(r.token, inv.token, sizeof(r.token));
	memcpy(r.account_pk, acc2_pk, 32);
	cert(acc2_sk, dev2_pk, "bob-phone", &r.dev, blob, &len);
	snprintf(r.alias, sizeof(r.alias), "bob");
	must(reply_sign(&r, h, dev2_sk), "reply_sign");
	must(reply_encode(&r, text, sizeof(text)), "reply_encode");
	put_text(sub, "reply-typical.txt", text);
	n = payload(text, b, sizeof(b));
	put_file(sub, "reply-typical.bin", b, n);

	/* Nothing optional: no hints, no port, empty service and note. */
	inv.nhints = 0;
	inv.port = 0;
	inv.service[0] = '\0';
	inv.uses = 255;
	must(invitation_sign(&inv, dev_sk), "invitation_sign");
	must(invitation_encode(&inv, text, sizeof(text)), "encode");
	put_text(sub, "inv-bare.txt", text);

	/* Mixed hints, lower case, white space around, '-' groups. */
	inv.nhints = 3;
	inv.hints[1].family = 6;
	memcpy(inv.hints[1].addr, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01",
	    16);
	inv.hints[2] = inv.hints[0];
	snprintf(inv.note, sizeof(inv.note), "bring the \xc3\xa9" "clairs");
	must(invitation_sign(&inv, dev_sk), "invitation_sign");
	must(invitation_encode(&inv, text, sizeof(text)), "encode");
	for (p = text; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	snprintf(text2, sizeof(text2), " \t\n%.20s-%.4s %s\r\n", text,
	    text + 20, text + 24);
	put_text(sub, "inv-mixed-lower.txt", text2);

	/* Every field at its largest. */
	big = inv;
	cert(acc_sk, dev_pk, "0123456789abcdef0123456789abcdef"
	    "0123456789abcdef0123456789abcdef", &big.dev, blob, &len);
	big.nhints = 4;
	for (i = 0; i < 4; i++) {
		big.hints[i].family = 6;
		memset(big.hints[i].addr, (int)(0xf0 + i), 16);
	}
	memset(big.uri, 'u', INVITE_URIMAX);
	big.uri[INVITE_URIMAX] = '\0';
	memset(big.service, 's', INVITE_NAMEMAX);
	big.service[INVITE_NAMEMAX] = '\0';
	memset(big.alias, 'a', INVITE_NAMEMAX);
	big.alias[INVITE_NAMEMAX] = '\0';
	memset(big.note, 'n', INVITE_NOTEMAX);
	big.note[INVITE_NOTEMAX] = '\0';
	must(invitation_sign(&big, dev_sk), "invitation_sign");
	must(invitation_bin(&big, b, sizeof(b), &n), "invitation_bin");
	put_file(sub, "inv-max.bin", b, n);
	must(invitation_encode(&big, text, sizeof(text)), "encode");
	put_text(sub, "inv-max.txt", text);

	memset(r.alias, 'b', INVITE_NAMEMAX);
	r.alias[INVITE_NAMEMAX] = '\0';
	cert(acc2_sk, dev2_pk, "fedcba9876543210fedcba9876543210"
	    "fedcba9876543210fedcba9876543210", &r.dev, blob, &len);
	must(invitation_hash(&big, h), "invitation_hash");
	must(reply_sign(&r, h, dev2_sk), "reply_sign");
	must(reply_encode(&r, text, sizeof(text)), "reply_encode");
	put_text(sub, "reply-max.txt", text);

	/* Other things a scanner may read. */
	put_text(sub, "pair-ticket.txt", "KITH-PAIR:AFSVH4IAAEAQCAIBAEAQCAIBAEA"
	    "QCAIBAEAQCAIBAEAQCAIBAEAQCAIBAEAQEAQCAIBAEAQCAIBAEAQCAIBAEAQCAI"
	    "BAEAQCAIBAEAQCAIBAEAU4XMBAJQAAAIPQI7YAAAAQ");
	put_text(sub, "other-kind.txt", "KITH-FOO:AAAA");
	put_text(sub, "hello.txt", "hello");
	put_file(sub, "empty", "", 0);
	invitation_wipe(&inv);
	invitation_wipe(&big);
}

static void
tickets(void)
{
	static const char sub[] = "fuzz_ticket";
	struct ticket t;
	uint8_t b[TICKET_MAXBIN + 32];
	char text[TICKET_MAXTEXT + 16], *p;
	size_t n, i;

	/* docs/PROTOCOL.md's worked example. */
	memset(&t, 0, sizeof(t));
	t.expiry = 1700000000;
	memset(t.static_pk, 1, 32);
	memset(t.secret, 2, 32);
	t.port = 40123;
	t.nhints = 2;
	t.hints[0].family = 4;
	memcpy(t.hints[0].addr, "\xc0\x00\x02\x1f", 4);
	t.hints[1].family = 4;
	memcpy(t.hints[1].addr, "\x7f\x00\x00\x01", 4);
	must(ticket_encode(&t, text, sizeof(text)), "ticket_encode");
	put_text(sub, "ticket-example.txt", text);
	n = payload(text, b, sizeof(b));
	put_file(sub, "ticket-example.bin", b, n);

	/* Broken copies of it. */
	put_file(sub, "ticket-truncated.bin", b, n - 1);
	b[n] = 4;
	put_file(sub, "ticket-trailing.bin", b, n + 1);
	b[0] = 2;
	put_file(sub, "ticket-version2.bin", b, n);
	b[0] = 1;
	b[69] = b[70] = 0;
	put_file(sub, "ticket-port0.bin", b, n);
	text[strlen(text) - 7] = '\0';
	put_text(sub, "ticket-truncated.txt", text);

	/* No hints; four IPv6 hints; mixed, lower case, white space. */
	t.nhints = 0;
	must(ticket_encode(&t, text, sizeof(text)), "ticket_encode");
	put_text(sub, "ticket-nohints.txt", text);
	t.nhints = 4;
	for (i = 0; i < 4; i++) {
		t.hints[i].family = 6;
		memset(t.hints[i].addr, (int)(0xe0 + i), 16);
	}
	must(ticket_encode(&t, text, sizeof(text)), "ticket_encode");
	put_text(sub, "ticket-4v6.txt", text);
	n = payload(text, b, sizeof(b));
	put_file(sub, "ticket-4v6.bin", b, n);
	t.hints[0].family = 4;
	t.hints[2].family = 4;
	must(ticket_encode(&t, text, sizeof(text)), "ticket_encode");
	for (p = text; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	memmove(text + 2, text, strlen(text) + 1);
	memcpy(text, " \n", 2);
	strcat(text, "\r\n");
	put_text(sub, "ticket-mixed-lower.txt", text);

	put_text(sub, "invite-kind.txt", "KITH-INVITE:AEAAAAAA");
	put_text(sub, "hello.txt", "hello");
	put_file(sub, "empty", "", 0);
	ticket_wipe(&t);
}

int
main(int argc, char *argv[])
{
	char path[4096];

	if (argc != 2) {
		fprintf(stderr, "usage: gen_seeds CORPUS-DIR\n");
		return (1);
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "gen_seeds: sodium_init failed\n");
		return (1);
	}
	outdir = argv[1];
	snprintf(path, sizeof(path), "%s/fuzz_invitation", outdir);
	must(kith_mkdirs(path, 0755), path);
	snprintf(path, sizeof(path), "%s/fuzz_ticket", outdir);
	must(kith_mkdirs(path, 0755), path);
	invitations();
	tickets();
	return (failed);
}
