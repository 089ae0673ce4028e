/*
 * gen_seeds.c: writes the seed corpora of tests/fuzz, valid codes of
 * every shape and a few broken ones, under DIR/fuzz_invitation/ and
 * DIR/fuzz_ticket/, and backup data under DIR/fuzz_backup/:
 *
 *     gen_seeds tests/fuzz/corpus
 *
 * Keys come from fixed seeds and Ed25519 signs deterministically, so
 * running it again writes the same bytes (but for fuzz_backup: see
 * backups()).  Built with the fuzz harnesses, never run by ctest: its
 * output is kept in the tree.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bkhome.h"
#include "hist.h"
#include "home.h"
#include "invitation.h"
#include "keys.h"
#include "kith_err.h"
#include "kith_util.h"
#include "roster.h"
#include "store.h"
#include "ticket.h"

/*
 * backup.c itself, for sf_read and grow_cb (static), to decrypt the
 * manifest and segment of a real backup; as in fuzz_backup.c, this file
 * then defines every symbol of backup.c, and the linker does not take
 * backup.c's object from kith_core.
 */
#include "../../syncd/backup.c"

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

/*
 * The seeds of fuzz_backup, each behind the byte that picks its decoder
 * there (FB_* below): a real backup by backup_run of a tiny home, holding
 * FB_RECS records of the account of the recovery code whose every byte is
 * FB_CODE (fuzz_backup opens backups with that code's seed), as the state
 * kept in meta, as files, and as the plaintexts of its manifest and
 * segment (decrypted with backup.c's own sf_read); device.key files, plain
 * and sealed; a few broken copies of each.  Unlike the other corpora these
 * differ from one run to the next: the keys of a device are random,
 * files are sealed to fresh ephemeral keys, and a manifest holds the time.
 */
#define FB_CODE 0x6b		/* as in fuzz_backup.c */
#define FB_RECS 2		/* as in fuzz_backup.c */
enum { FB_STATE, FB_MANFILE, FB_SEGFILE, FB_DEVKEY, FB_MANBODY,
    FB_MANSEALED, FB_SEGSEALED };

static void
put_fb(const char *name, int mode, const uint8_t *p, size_t n)
{
	uint8_t *b;

	if ((b = malloc(n + 1)) == NULL)
		must(KITH_ENOMEM, name);
	b[0] = (uint8_t)mode;
	if (n > 0)
		memcpy(b + 1, p, n);
	put_file("fuzz_backup", name, b, n + 1);
	free(b);
}

/* The file ${dir}/${name}, malloc'd, with one byte (NUL) beyond *${len}. */
static uint8_t *
slurp(const char *dir, const char *name, size_t *len)
{
	char path[4096];
	uint8_t *b;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	must(kith_file_read(path, 1 << 20, &b, len), path);
	return (b);
}

/* The plaintext of sealed file 1 of the set ${sd} (sodium_malloc'd). */
static struct grow
unseal(const char *sd, const char *name, const char *magic, size_t clen,
    const uint8_t bsk[32], const uint8_t bpk[32])
{
	struct grow g = { NULL, 0, 0 };
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", sd, name);
	must(sf_read(path, magic, clen, 1, bsk, bpk, NULL, 0, grow_cb, &g),
	    path);
	return (g);
}

static void
fb_devkeys(const char *tmpdir, const uint8_t seed[32])
{
	char dir[4096], dir2[4096];
	struct devkey *k, *o;
	uint8_t lock[DEVKEY_LOCKLEN], f[8 + 32 + 32 + 24 + 96 + 16], *b;
	size_t n;

	snprintf(dir, sizeof(dir), "%s/dk", tmpdir);
	snprintf(dir2, sizeof(dir2), "%s/dk2", tmpdir);
	must(kith_mkdirs(dir, 0700), dir);
	must(kith_mkdirs(dir2, 0700), dir2);
	must(devkey_load(dir, 1, &k), "devkey_load");
	must(devkey_save_clear(dir, k), "devkey_save_clear");
	b = slurp(dir, "device.key", &n);
	put_fb("devkey-plain", FB_DEVKEY, b, n);
	put_fb("devkey-plain-cut", FB_DEVKEY, b, n - 1);
	free(b);

	/* Sealed under the lock key fuzz_backup derives, then another. */
	devkey_lockkey(seed, k->sign_pk, lock);
	must(devkey_seal(dir, k, lock), "devkey_seal");
	b = slurp(dir, "device.key", &n);
	put_fb("devkey-sealed", FB_DEVKEY, b, n);
	put_fb("devkey-sealed-cut", FB_DEVKEY, b, n - 1);
	put_fb("devkey-sealed-long", FB_DEVKEY, b, n + 1);
	free(b);
	lock[0] ^= 1;
	must(devkey_seal(dir, k, lock), "devkey_seal");
	b = slurp(dir, "device.key", &n);
	put_fb("devkey-wronglock", FB_DEVKEY, b, n);
	free(b);

	/*
	 * The right lock key for the public keys in the header, but the
	 * secret keys sealed are another device's: it opens, and the keys
	 * do not match (keys.c's format 2, written out here).
	 */
	must(devkey_load(dir2, 1, &o), "devkey_load");
	memcpy(f, "KITHDK2", 8);
	memcpy(f + 8, o->sign_pk, 32);
	memcpy(f + 40, o->kx_pk, 32);
	randombytes_buf(f + 72, 24);
	memcpy(f + 96, k->sign_sk, 64);
	memcpy(f + 160, k->kx_sk, 32);
	devkey_lockkey(seed, o->sign_pk, lock);
	crypto_aead_xchacha20poly1305_ietf_encrypt(f + 96, NULL, f + 96, 96,
	    f, 72, NULL, f + 72, lock);
	put_fb("devkey-mismatch", FB_DEVKEY, f, sizeof(f));
	devkey_free(k);
	devkey_free(o);
}

static void
backups(void)
{
	static const char pass[] = "fuzz seeds";
	char tmpdir[] = "/tmp/kith-gen-seeds.XXXXXX";
	char path[4096], sd[4200], cmd[4200], json[128];
	uint8_t code[RECOVERY_BYTES], seed[32], bsk[32], bpk[32];
	uint8_t id[BACKUP_IDLEN], *b;
	struct backup_state st, empty;
	struct backup_result res;
	struct bk_hold hold;
	struct home *hm;
	struct grow g;
	size_t n, hl;
	int i, added;

	if (mkdtemp(tmpdir) == NULL) {
		perror(tmpdir);
		exit(1);
	}
	memset(code, FB_CODE, sizeof(code));
	recovery_seed(code, seed);
	backup_keypair(seed, bsk, bpk);

	/* The home, its records, its backup to a new target. */
	snprintf(path, sizeof(path), "%s/home", tmpdir);
	must(home_open(path, 1, &hm), "home_open");
	must(home_recover(hm, "seed-device", code, (const uint8_t *)pass,
	    strlen(pass), NULL, 1), "home_recover");
	must(store_begin(hm->st), "store_begin");
	for (i = 0; i < FB_RECS; i++) {
		snprintf(json, sizeof(json), "{\"service\":\"mail\","
		    "\"id\":\"m%d\",\"subject\":\"seed %d\"}", i, i);
		must(hist_add(hm->h, json, strlen(json), &added), "hist_add");
	}
	must(store_commit(hm->st), "store_commit");
	must(bk_hold_fill(hm, hm->st, &hold), "bk_hold_fill");
	snprintf(path, sizeof(path), "%s/target", tmpdir);
	must(kith_mkdirs(path, 0700), path);
	must(backup_init(path, bpk, id), "backup_init");
	memset(&st, 0, sizeof(st));
	must(backup_run(&hold.src, path, &st, &res), "backup_run");
	if (res.number != 1 || res.records != FB_RECS) {
		fprintf(stderr, "gen_seeds: backup %llu of %llu records, want"
		    " 1 of %d\n", (unsigned long long)res.number,
		    (unsigned long long)res.records, FB_RECS);
		exit(1);
	}
	snprintf(sd, sizeof(sd), "%s/%s/%s", path, BACKUP_DIRNAME, res.set);

	/* 0. The state, and none. */
	must(backup_state_enc(&st, &b, &n), "backup_state_enc");
	put_fb("state", FB_STATE, b, n);
	put_fb("state-cut", FB_STATE, b, n - 1);
	b[0] = 2;
	put_fb("state-version2", FB_STATE, b, n);
	free(b);
	memset(&empty, 0, sizeof(empty));
	must(backup_state_enc(&empty, &b, &n), "backup_state_enc");
	put_fb("state-empty", FB_STATE, b, n);
	b[n - 1] = 1;	/* one segment, not there */
	put_fb("state-short", FB_STATE, b, n);
	free(b);

	/* 1, 2. The files; whole, cut in the middle, cut after the header. */
	hl = 8 + ACCOUNT_SEALED_LEN + 32 + SS_HDR;
	b = slurp(sd, "man-00000001.kbm", &n);
	put_fb("man-file", FB_MANFILE, b, n);
	put_fb("man-file-cut", FB_MANFILE, b, n / 2);
	put_fb("man-file-head", FB_MANFILE, b, hl);
	put_fb("man-file-short", FB_MANFILE, b, 8 + ACCOUNT_SEALED_LEN - 1);
	free(b);
	b = slurp(sd, "seg-00000001.kbs", &n);
	put_fb("seg-file", FB_SEGFILE, b, n);
	put_fb("seg-file-cut", FB_SEGFILE, b, n - 1);
	put_fb("seg-file-head", FB_SEGFILE, b, 8 + 32 + SS_HDR);
	free(b);

	/* 4, 5. The manifest's body. */
	g = unseal(sd, "man-00000001.kbm", MAGIC_MAN, ACCOUNT_SEALED_LEN, bsk,
	    bpk);
	put_fb("body", FB_MANBODY, g.b, g.len);
	put_fb("body-sealed", FB_MANSEALED, g.b, g.len);
	put_fb("body-cut", FB_MANBODY, g.b, g.len - 1);
	put_fb("body-sealed-nosig", FB_MANSEALED, g.b, g.len - 64);
	g.b[g.len - 1] ^= 1;
	put_fb("body-badsig", FB_MANBODY, g.b, g.len);
	g.b[g.len - 1] ^= 1;
	g.b[0] = 2;
	put_fb("body-version2", FB_MANBODY, g.b, g.len);
	sodium_free(g.b);

	/* 6. The segment's records. */
	g = unseal(sd, "seg-00000001.kbs", MAGIC_SEG, 0, bsk, bpk);
	put_fb("recs", FB_SEGSEALED, g.b, g.len);
	put_fb("recs-cut", FB_SEGSEALED, g.b, g.len - 1);
	memset(g.b + 44 + STORE_RIDLEN, 0, 4);	/* a box of 0 bytes */
	put_fb("recs-badlen", FB_SEGSEALED, g.b, g.len);
	sodium_free(g.b);

	/* 3. */
	fb_devkeys(tmpdir, seed);
	put_file("fuzz_backup", "empty", "", 0);

	backup_state_free(&st);
	bk_hold_free(&hold);
	home_close(hm);
	sodium_memzero(code, sizeof(code));
	sodium_memzero(seed, sizeof(seed));
	sodium_memzero(bsk, sizeof(bsk));
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "gen_seeds: could not remove %s\n", tmpdir);
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
	snprintf(path, sizeof(path), "%s/fuzz_backup", outdir);
	must(kith_mkdirs(path, 0755), path);
	invitations();
	tickets();
	backups();
	return (failed);
}
