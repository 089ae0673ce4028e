/*
 * test_seal: envelopes sealed for contacts (syncd/seal.c), on real homes
 * (SQLite files, sealed device keys), four accounts made and introduced
 * through the library as kith makes them:
 *
 *   alice (a1, a2), bob (b1, b2), carol (c1), dave (d1)
 *   alice <-> bob, alice <-> carol: verified contacts both ways
 *   dave holds alice as a contact; alice does not hold dave
 *
 *  1. round trips: sizes 0, 1, 65535, 65536, 65537, 3 * 65536 + 1, binary
 *     and armoured, one recipient and two; every device of each recipient
 *     and of the sender opens it, and the plaintext is the input (not what
 *     the sealer printed); --no-self leaves the sender's devices out.
 *  2. every byte of a small envelope altered in turn, every length it can
 *     be cut to, a byte appended: each refused with an error; and how much
 *     plaintext reached the sink before the refusal (none while the header
 *     or the sender block is wrong).
 *  3. armour: text before it, CRLF line ends accepted; an altered base64
 *     character, a line too long, something after the END line refused.
 *  4. re-addressing: bob, a recipient, wraps the file key again for carol
 *     (an independent implementation of the format, below): as sealed,
 *     carol refuses it (not named a recipient); with carol put in the
 *     recipient list, the signature fails.  Forwarded as it is: not for
 *     carol.  bob rewriting the body under the same header: the signature
 *     fails.
 *  5. a sender who is not a contact (dave to alice): KITH_ENOTCONTACT,
 *     naming dave's account.
 *  6. revocation: bob revokes b2; alice, not knowing yet, still seals to
 *     b2 (the stated limit); bob writes to alice, whose open keeps bob's
 *     newer roster; from then on b2 cannot open what alice seals, b1 can;
 *     b2, unaware of its revocation, seals to alice: KITH_EREVOKED.  An
 *     envelope carrying bob's older roster does not roll the newer back.
 *     a2 learns it from the roster Bob exported (seal_peer_learn, kith
 *     contacts update; another account's roster is refused), and then
 *     refuses b2 and seals past it.
 *  7. a group: alice makes "team" with bob and carol; its envelope gives
 *     the key to b1, b2 (before its revocation) and c1; bob seals to the
 *     group and carol, who is not bob's contact, opens it as introduced by
 *     alice; dave cannot open it.
 *     Attacks: a group handed out under another creator's name, a message
 *     whose sender block names another group, a group with a held
 *     group's key under an id that key and its creator do not make, a
 *     contact who is no member sealing with a leaked key: each refused,
 *     nothing kept.
 *     Generations: only the creator changes a group; alice removes carol
 *     (generation 2): carol cannot open what is sealed with it, still
 *     reads what was sealed with the first, and what she seals with the
 *     first is refused by those holding the second; added back
 *     (generation 3, without the second), she takes part again.
 *     A decoy first (7d): carol makes a group of her own with the key of
 *     alice's "crew" and hands it to dave before alice's envelope: dave
 *     keeps both, and each message opens as the group it was sealed for.
 *  8. not an envelope: random bytes, an empty input.
 */
#define _GNU_SOURCE		/* fmemopen, open_memstream */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "check.h"
#include "contacts.h"
#include "home.h"
#include "invitation.h"
#include "kith_err.h"
#include "kith_util.h"
#include "roster.h"
#include "seal.h"
#include "store.h"
#include "testacct.h"

static struct home *a1, *a2, *b1, *b2, *c1, *d1;
static uint8_t *alice_sk, *bob_sk;

/* ---- set-up ------------------------------------------------------------ */

/* ${invitee} answers an invitation of ${inviter} over the LAN: each holds
 * the other's card (with roster); with ${one_way}, only the invitee. */
static void
meet(struct home *inviter, const char *ialias, struct home *invitee,
    const char *ealias, int one_way)
{
	struct invitation inv;
	struct contact_card ci, ce;
	char text[INVITE_MAXTEXT];
	int fresh;

	memset(&inv, 0, sizeof(inv));
	snprintf(inv.uri, sizeof(inv.uri), "https://chat.example.org/");
	snprintf(inv.alias, sizeof(inv.alias), "%s", ialias);
	inv.uses = 1;
	inv.expiry = (uint32_t)(kith_now() + 3600);
	CHECK_RC(contacts_sign(inviter, &inv, text, sizeof(text)), 0);
	CHECK_RC(contacts_issue(inviter, &inv, text), 0);
	CHECK_RC(contacts_card_mine(inviter, ialias, &ci), 0);
	CHECK_RC(contacts_card_mine(invitee, ealias, &ce), 0);
	if (!one_way)
		CHECK_RC(contacts_take_answer(inviter, &inv, &ce, "lan",
		    kith_now(), &fresh), 0);
	CHECK_RC(contacts_take_invitation(invitee, &inv, text, &ci, "lan",
	    kith_now()), 0);
	invitation_wipe(&inv);
}

/* ---- sealing and opening in memory --------------------------------------- */

struct buf {
	char *b;
	size_t len;
};

static void
buf_free(struct buf *b)
{

	free(b->b);
	b->b = NULL;
	b->len = 0;
}

/* Seal ${in} from ${hm} for the contacts ${names} (NULL-ended). */
static int
seal_to(struct home *hm, const char *const *names, int self, int armour,
    const struct seal_group *g, const void *in, size_t inlen,
    struct buf *env)
{
	struct seal_peer p[4];
	struct seal_opts o;
	FILE *fi, *fo;
	uint64_t bytes = 0;
	size_t n = 0, i;
	int rc = 0;

	memset(p, 0, sizeof(p));
	for (; names != NULL && names[n] != NULL; n++)
		if ((rc = seal_peer_find(hm, names[n], &p[n])) != 0)
			break;
	memset(&o, 0, sizeof(o));
	o.to = p;
	o.nto = n;
	o.self = self;
	o.group = g;
	o.name = "in.txt";
	o.armour = armour;
	env->b = NULL;
	env->len = 0;
	if (rc == 0) {
		fi = inlen > 0 ? fmemopen((void *)(uintptr_t)in, inlen, "r") :
		    fopen("/dev/null", "r");
		fo = open_memstream(&env->b, &env->len);
		rc = seal_write(hm, &o, fi, fo, &bytes);
		fclose(fi);
		fclose(fo);
		if (rc == 0)
			CHECK(bytes == inlen);
		else
			buf_free(env);
	}
	for (i = 0; i < n; i++)
		seal_peer_free(&p[i]);
	return (rc);
}

/* Open ${env} on ${hm}; *${pt} what reached the sink (may be NULL). */
static int
open_on(struct home *hm, const void *env, size_t len, struct buf *pt,
    struct seal_opened *res)
{
	struct seal_opened r;
	struct buf tmp = { NULL, 0 };
	FILE *fi, *fo;
	int rc;

	if (pt == NULL)
		pt = &tmp;
	fi = len > 0 ? fmemopen((void *)(uintptr_t)env, len, "r") :
	    fopen("/dev/null", "r");
	fo = open_memstream(&pt->b, &pt->len);
	rc = seal_open(hm, fi, fo, res != NULL ? res : &r);
	fclose(fi);
	fclose(fo);
	if (res == NULL)
		seal_open_free(&r);
	buf_free(&tmp);
	return (rc);
}

/* Does ${hm} open ${env} to exactly ${in}? */
static int
opens_to(struct home *hm, const struct buf *env, const void *in, size_t len)
{
	struct buf pt = { NULL, 0 };
	int rc, ok;

	rc = open_on(hm, env->b, env->len, &pt, NULL);
	ok = rc == 0 && pt.len == len && (len == 0 ||
	    memcmp(pt.b, in, len) == 0);
	if (!ok)
		fprintf(stderr, "open on %s: %s, %zu bytes for %zu\n",
		    hm->name, kith_strerror(rc), pt.len, len);
	buf_free(&pt);
	return (ok);
}

/* ---- an independent reading of the format (docs/PROTOCOL.md §15) ---------- */

#define T_HDR 12
#define T_ST 80
#define T_SSH crypto_secretstream_xchacha20poly1305_HEADERBYTES
#define T_A crypto_secretstream_xchacha20poly1305_ABYTES

static void
t_kdf(const uint8_t *key, const char *ctx, const uint8_t *a, size_t alen,
    const uint8_t *b, size_t blen, uint8_t out[32])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, key, key != NULL ? 32 : 0, 32);
	crypto_generichash_update(&st, (const uint8_t *)ctx, strlen(ctx));
	crypto_generichash_update(&st, a, alen);
	if (b != NULL)
		crypto_generichash_update(&st, b, blen);
	crypto_generichash_final(&st, out, 32);
}

static const uint8_t T_NONCE[24];

/* The file key, from the stanza ${dev} opens. */
static int
t_filekey(const uint8_t *env, size_t len, const struct home *dev,
    uint8_t fk[32])
{
	uint8_t ss[32], wk[32];
	size_t n, i;

	if (len < T_HDR)
		return (-1);
	n = kith_be16dec(env + 10);
	for (i = 0; i < n && T_HDR + T_ST * (i + 1) <= len; i++) {
		const uint8_t *s = env + T_HDR + T_ST * i;

		if (crypto_scalarmult(ss, dev->dk->kx_sk, s) != 0)
			continue;
		t_kdf(ss, "kith seal wrap v1", s, 32, dev->dk->kx_pk, 32, wk);
		if (crypto_aead_xchacha20poly1305_ietf_decrypt(fk, NULL, NULL,
		    s + 32, 48, (const uint8_t *)"kith seal stanza v1", 19,
		    T_NONCE, wk) == 0)
			return (0);
	}
	return (-1);
}

/* What a frame edit may do: change frame ${i}'s plaintext in place. */
typedef void t_edit_fn(size_t i, uint8_t *pt, size_t len, void *arg);

/*
 * What a recipient (${dev}) can make of an envelope it opens: each frame
 * decrypted, passed to ${edit}, and encrypted again, under a new header
 * of stanzas for ${kx} (nkx keys), or with ${nkx} 0 under the same header.
 */
static int
t_rewrite_as(const struct buf *env, const struct home *dev,
    const uint8_t (*kx)[32], size_t nkx, t_edit_fn *edit, void *arg,
    const struct home *signer, struct buf *out)
{
	crypto_secretstream_xchacha20poly1305_state in, op;
	crypto_generichash_state dh;
	uint8_t dg[64], m[108];
	uint8_t fk[32], h[32], pk[32], esk[32], ss[32], wk[32], tag;
	uint8_t *pt, *ct, *hdr;
	const uint8_t *e = (const uint8_t *)env->b;
	size_t n, hlen, off, nh, i, clen;
	unsigned long long mlen, olen;
	FILE *fo;

	if (t_filekey(e, env->len, dev, fk) != 0)
		return (-1);
	n = kith_be16dec(e + 10);
	hlen = T_HDR + T_ST * n;
	t_kdf(NULL, "kith seal header v1", e, hlen, NULL, 0, h);
	t_kdf(fk, "kith seal payload v1", h, 32, NULL, 0, pk);
	if (crypto_secretstream_xchacha20poly1305_init_pull(&in, e + hlen,
	    pk) != 0)
		return (-1);
	/* The new header. */
	nh = nkx > 0 ? T_HDR + T_ST * nkx : hlen;
	hdr = malloc(nh + T_SSH);
	pt = malloc(65536 + 64);
	ct = malloc(65536 + 64);
	if (nkx > 0) {
		memcpy(hdr, e, T_HDR);
		kith_be16enc(hdr + 10, (uint16_t)nkx);
		for (i = 0; i < nkx; i++) {
			uint8_t *s = hdr + T_HDR + T_ST * i;

			crypto_box_keypair(s, esk);
			if (crypto_scalarmult(ss, esk, kx[i]) != 0)
				abort();
			t_kdf(ss, "kith seal wrap v1", s, 32, kx[i], 32, wk);
			crypto_aead_xchacha20poly1305_ietf_encrypt(s + 32,
			    NULL, fk, 32, (const uint8_t *)"kith seal stanza v1",
			    19, NULL, T_NONCE, wk);
		}
		t_kdf(NULL, "kith seal header v1", hdr, nh, NULL, 0, h);
		t_kdf(fk, "kith seal payload v1", h, 32, NULL, 0, pk);
	} else
		memcpy(hdr, e, hlen);
	crypto_secretstream_xchacha20poly1305_init_push(&op, hdr + nh, pk);
	crypto_generichash_init(&dh, NULL, 0, 64);
	fo = open_memstream(&out->b, &out->len);
	fwrite(hdr, 1, nh + T_SSH, fo);
	off = hlen + T_SSH;
	for (i = 0; off + 4 <= env->len; i++) {
		clen = kith_be32dec(e + off);
		if (clen < T_A || off + 4 + clen > env->len ||
		    crypto_secretstream_xchacha20poly1305_pull(&in, pt, &mlen,
		    &tag, e + off + 4, clen, NULL, 0) != 0)
			break;
		off += 4 + clen;
		if (edit != NULL)
			edit(i, pt, (size_t)mlen, arg);
		if (tag != crypto_secretstream_xchacha20poly1305_TAG_FINAL)
			crypto_generichash_update(&dh, pt, (size_t)mlen);
		else if (signer != NULL && mlen == 64) {
			/* Signed anew, by ${signer}'s device, over what the
			 * frames now hold. */
			crypto_generichash_final(&dh, dg, 64);
			memcpy(m, "kith seal v1", 12);
			memcpy(m + 12, h, 32);
			memcpy(m + 44, dg, 64);
			crypto_sign_detached(pt, NULL, m, sizeof(m),
			    signer->dk->sign_sk);
		}
		crypto_secretstream_xchacha20poly1305_push(&op, ct + 4, &olen,
		    pt, mlen, NULL, 0, tag);
		kith_be32enc(ct, (uint32_t)olen);
		fwrite(ct, 1, (size_t)olen + 4, fo);
	}
	fclose(fo);
	free(hdr);
	free(pt);
	free(ct);
	return (off == env->len ? 0 : -1);
}

static int
t_rewrite(const struct buf *env, const struct home *dev,
    const uint8_t (*kx)[32], size_t nkx, t_edit_fn *edit, void *arg,
    struct buf *out)
{

	return (t_rewrite_as(env, dev, kx, nkx, edit, arg, NULL, out));
}

/* Where the sender block of frame 0 (${pt}, at least 44 bytes, as
 * sealed) names its recipients: past the certificate and the roster. */
static size_t
after_roster(const uint8_t *pt)
{
	size_t off;

	off = 44 + kith_be16dec(pt + 42);
	return (off + 4 + kith_be32dec(pt + off));
}

/* Frame 0's recipient list: its first account becomes ${arg}. */
static void
edit_to(size_t i, uint8_t *pt, size_t len, void *arg)
{
	size_t off;

	if (i != 0 || len < 44)
		return;
	off = after_roster(pt);
	if (off + 33 <= len && pt[off] >= 1)
		memcpy(pt + off + 1, arg, 32);
}

/* Frame 0's group id: its first byte changed. */
static void
edit_gid(size_t i, uint8_t *pt, size_t len, void *arg)
{
	size_t off;

	(void)arg;
	if (i != 0 || len < 44)
		return;
	off = after_roster(pt);
	off += 1 + 32 * (size_t)pt[off];
	if (off + 2 <= len && pt[off] == SEAL_GIDLEN)
		pt[off + 1] ^= 0x01;
}

/* In a group's document (frame 1): the value of the member ${e->key}
 * becomes ${e->val} (same length); then ${e->next}'s edit, if any. */
struct doc_edit {
	const char *key;
	const char *val;
	const struct doc_edit *next;
};

static void
edit_doc(size_t i, uint8_t *pt, size_t len, void *arg)
{
	const struct doc_edit *e;
	char pat[32];
	uint8_t *p;

	if (i != 1)
		return;
	for (e = arg; e != NULL; e = e->next) {
		snprintf(pat, sizeof(pat), "\"%s\":\"", e->key);
		if ((p = memmem(pt, len, pat, strlen(pat))) != NULL &&
		    (size_t)(p - pt) + strlen(pat) + strlen(e->val) <= len)
			memcpy(p + strlen(pat), e->val, strlen(e->val));
	}
}

/* A body frame's first byte changed. */
static void
edit_body(size_t i, uint8_t *pt, size_t len, void *arg)
{

	(void)arg;
	if (i == 1 && len > 0)
		pt[0] ^= 0x20;
}

/* A group's id (hex) as PROTOCOL §15.10 makes it, computed here apart
 * from seal.c: BLAKE2b-256(key = group key, "kith seal gid v1" ||
 * creator), its first 16 bytes. */
static void
t_gid(const uint8_t key[32], const uint8_t creator[32],
    char hex[2 * SEAL_GIDLEN + 1])
{
	uint8_t h[32];

	t_kdf(key, "kith seal gid v1", creator, 32, NULL, 0, h);
	kith_hex(h, SEAL_GIDLEN, hex);
}

/* ---- 1. round trips ---------------------------------------------------- */

static void
test_roundtrip(void)
{
	static const size_t sizes[] = { 0, 1, 65535, 65536, 65537,
	    3 * 65536 + 1 };
	static const char *const bob[] = { "bob", NULL };
	static const char *const two[] = { "bob", "carol", NULL };
	struct seal_opened r;
	struct buf env;
	uint8_t *in;
	size_t i;
	int armour;

	in = malloc(3 * 65536 + 1);
	randombytes_buf(in, 3 * 65536 + 1);
	for (i = 0; i < sizeof(sizes) / sizeof(*sizes); i++)
		for (armour = 0; armour <= 1; armour++) {
			if (!CHECK_RC(seal_to(a1, bob, 1, armour, NULL, in,
			    sizes[i], &env), 0))
				continue;
			CHECK(armour ? memcmp(env.b, "-----BEGIN KITH SEALED"
			    " MESSAGE-----\n", 36) == 0 : memcmp(env.b,
			    "KITHSEAL", 8) == 0);
			CHECK(opens_to(b1, &env, in, sizes[i]));
			CHECK(opens_to(b2, &env, in, sizes[i]));
			CHECK(opens_to(a1, &env, in, sizes[i]));
			CHECK(opens_to(a2, &env, in, sizes[i]));
			CHECK_RC(open_on(c1, env.b, env.len, NULL, NULL),
			    KITH_ENOTFORME);
			buf_free(&env);
		}
	/* Two recipients; what the opener is told. */
	CHECK_RC(seal_to(a1, two, 1, 0, NULL, in, 1000, &env), 0);
	CHECK(opens_to(b1, &env, in, 1000));
	CHECK(opens_to(b2, &env, in, 1000));
	CHECK(opens_to(c1, &env, in, 1000));
	CHECK(opens_to(a2, &env, in, 1000));
	CHECK_RC(open_on(d1, env.b, env.len, NULL, NULL), KITH_ENOTFORME);
	CHECK_RC(open_on(c1, env.b, env.len, NULL, &r), 0);
	CHECK(memcmp(r.sender.account_pk, a1->account_pk, 32) == 0);
	CHECK(r.sender.how == SEAL_CONTACT);
	CHECK(strcmp(r.sender.alias, "alice") == 0);
	CHECK(memcmp(r.dev.sign_pk, a1->dk->sign_pk, 32) == 0);
	CHECK(r.nto == 3 && r.kind == SEAL_KIND_DATA && r.bytes == 1000);
	CHECK(strcmp(r.name, "in.txt") == 0);
	CHECK(r.nstanza == 2 + 1 + 2);	/* bob's 2, carol's 1, alice's 2 */
	CHECK(r.time <= kith_now() && r.time + 60 > kith_now());
	seal_open_free(&r);
	buf_free(&env);
	/* --no-self: alice's own devices cannot open it. */
	CHECK_RC(seal_to(a1, bob, 0, 0, NULL, in, 10, &env), 0);
	CHECK(opens_to(b2, &env, in, 10));
	CHECK_RC(open_on(a1, env.b, env.len, NULL, NULL), KITH_ENOTFORME);
	CHECK_RC(open_on(a2, env.b, env.len, NULL, NULL), KITH_ENOTFORME);
	buf_free(&env);
	/* Unknown, ambiguous, and no recipient at all. */
	{
		static const char *const nobody[] = { "mallory", NULL };
		static const char *const hex[] = { "0", NULL };

		CHECK_RC(seal_to(a1, nobody, 1, 0, NULL, in, 1, &env),
		    KITH_ENOENT);
		CHECK_RC(seal_to(a1, hex, 1, 0, NULL, in, 1, &env),
		    KITH_ENOENT);
		CHECK_RC(seal_to(a1, NULL, 0, 0, NULL, in, 1, &env),
		    KITH_EINVAL);
	}
	free(in);
}

/* ---- 2. every byte altered, every cut ---------------------------------- */

static void
test_tamper(void)
{
	static const char *const bob[] = { "bob", NULL };
	struct buf env, pt;
	uint8_t in[300];
	size_t i, bad = 0, leaked = 0, body_off;
	int rc;

	randombytes_buf(in, sizeof(in));
	if (!CHECK_RC(seal_to(a1, bob, 1, 0, NULL, in, sizeof(in), &env), 0))
		return;
	CHECK(opens_to(b2, &env, in, sizeof(in)));
	/* The body frame starts after the signature frame's 4 + 64 + 17 and
	 * the body's own 4 + 300 + 17 bytes from the end. */
	body_off = env.len - (4 + 64 + T_A) - (4 + sizeof(in) + T_A);
	for (i = 0; i < env.len; i++) {
		env.b[i] ^= 0x01;
		memset(&pt, 0, sizeof(pt));
		rc = open_on(b2, env.b, env.len, &pt, NULL);
		if (rc == 0)
			bad++;
		/* Nothing before the body frame may give plaintext. */
		if (i < body_off && pt.len != 0)
			leaked++;
		buf_free(&pt);
		env.b[i] ^= 0x01;
	}
	CHECK(bad == 0);
	CHECK(leaked == 0);
	if (bad != 0 || leaked != 0)
		fprintf(stderr, "%zu of %zu altered bytes opened, %zu gave"
		    " plaintext early\n", bad, env.len, leaked);
	/* Every cut, and a byte more. */
	bad = 0;
	for (i = 0; i < env.len; i++)
		if ((rc = open_on(b2, env.b, i, NULL, NULL)) == 0 ||
		    (i >= 12 && rc != KITH_ETRUNC))
			bad++;
	CHECK(bad == 0);
	env.b = realloc(env.b, env.len + 1);
	env.b[env.len] = 0;
	CHECK_RC(open_on(b2, env.b, env.len + 1, NULL, NULL), KITH_EFORMAT);
	CHECK_RC(open_on(b2, env.b, env.len, NULL, NULL), 0);
	buf_free(&env);
}

/* ---- 3. armour ------------------------------------------------------------ */

/* ${s} with every "\n" made "\r\n". */
static char *
crlf(const char *s, size_t len, size_t *outlen)
{
	char *o = malloc(2 * len + 1);
	size_t i, n = 0;

	for (i = 0; i < len; i++) {
		if (s[i] == '\n')
			o[n++] = '\r';
		o[n++] = s[i];
	}
	*outlen = n;
	return (o);
}

static void
test_armour(void)
{
	static const char *const bob[] = { "bob", NULL };
	static const char pre[] = "Subject: the figures\n\nHere they are:\n";
	struct buf env, m;
	uint8_t in[5000];
	char *c, *p, was;
	size_t n;

	randombytes_buf(in, sizeof(in));
	if (!CHECK_RC(seal_to(a1, bob, 1, 1, NULL, in, sizeof(in), &env), 0))
		return;
	/* Text before it, and CRLF line ends. */
	m.len = sizeof(pre) - 1 + env.len;
	m.b = malloc(m.len);
	memcpy(m.b, pre, sizeof(pre) - 1);
	memcpy(m.b + sizeof(pre) - 1, env.b, env.len);
	CHECK(opens_to(b1, &m, in, sizeof(in)));
	c = crlf(m.b, m.len, &n);
	buf_free(&m);
	m.b = c;
	m.len = n;
	CHECK(opens_to(b1, &m, in, sizeof(in)));
	buf_free(&m);
	/* A base64 character changed on the third line. */
	p = strchr(strchr(strchr(env.b, '\n') + 1, '\n') + 1, '\n') + 5;
	was = *p;
	*p = was == 'A' ? 'B' : 'A';
	CHECK(open_on(b1, env.b, env.len, NULL, NULL) != 0);
	*p = was;
	/* A line run into the next. */
	p = strchr(strchr(env.b, '\n') + 1, '\n');
	*p = 'A';
	CHECK_RC(open_on(b1, env.b, env.len, NULL, NULL), KITH_EFORMAT);
	*p = '\n';
	/* Text after the end. */
	m.len = env.len + 4;
	m.b = malloc(m.len);
	memcpy(m.b, env.b, env.len);
	memcpy(m.b + env.len, "P.S.", 4);
	CHECK_RC(open_on(b1, m.b, m.len, NULL, NULL), KITH_EFORMAT);
	buf_free(&m);
	/* No end to the END line. */
	CHECK_RC(open_on(b1, env.b, env.len - 1, NULL, NULL), 0);
	/* Before it, a line longer than the reader's block of text (16 KiB)
	 * and one that ends at that block's boundary: both skipped. */
	m.len = 40000 + env.len;
	m.b = malloc(m.len);
	memset(m.b, 'x', 40000);
	m.b[20000] = '\n';
	m.b[16383] = '\n';
	m.b[39999] = '\n';
	memcpy(m.b + 40000, env.b, env.len);
	CHECK(opens_to(b1, &m, in, sizeof(in)));
	buf_free(&m);
	/* No END line. */
	n = env.len - strlen("-----END KITH SEALED MESSAGE-----\n");
	CHECK_RC(open_on(b1, env.b, n, NULL, NULL), KITH_ETRUNC);
	CHECK_RC(open_on(b1, env.b, env.len, NULL, NULL), 0);
	buf_free(&env);
}

/* ---- 4. re-addressed, forwarded, rewritten ----------------------------------- */

static void
test_readdress(void)
{
	static const char *const bob[] = { "bob", NULL };
	struct buf env, x = { NULL, 0 };
	uint8_t in[2000];
	const uint8_t (*ckx)[32] = (const uint8_t (*)[32])c1->dk->kx_pk;

	randombytes_buf(in, sizeof(in));
	if (!CHECK_RC(seal_to(a1, bob, 1, 0, NULL, in, sizeof(in), &env), 0))
		return;
	/* The independent reading agrees with the library: re-encrypted
	 * under a new stream header, nothing changed, it opens; wrapped
	 * again for bob's own b2, the header changes and it does not. */
	CHECK(t_rewrite(&env, b1, NULL, 0, NULL, NULL, &x) == 0);
	CHECK(x.len == env.len && memcmp(x.b, env.b, 100) == 0);
	CHECK(opens_to(b2, &x, in, sizeof(in)));
	buf_free(&x);
	CHECK(t_rewrite(&env, b1, (const uint8_t (*)[32])b2->dk->kx_pk, 1,
	    NULL, NULL, &x) == 0);
	CHECK_RC(open_on(b2, x.b, x.len, NULL, NULL), KITH_ECRYPTO);
	buf_free(&x);
	/* Forwarded as is: nothing for carol. */
	CHECK_RC(open_on(c1, env.b, env.len, NULL, NULL), KITH_ENOTFORME);
	/* Wrapped again for carol: she is not named. */
	CHECK(t_rewrite(&env, b1, ckx, 1, NULL, NULL, &x) == 0);
	CHECK_RC(open_on(c1, x.b, x.len, NULL, NULL), KITH_ECRYPTO);
	buf_free(&x);
	/* ... and named in place of bob: the signature fails. */
	CHECK(t_rewrite(&env, b1, ckx, 1, edit_to, c1->account_pk, &x) == 0);
	CHECK_RC(open_on(c1, x.b, x.len, NULL, NULL), KITH_ECRYPTO);
	buf_free(&x);
	/* bob writes another body under alice's header: b2 refuses it. */
	CHECK(t_rewrite(&env, b1, NULL, 0, edit_body, NULL, &x) == 0);
	CHECK_RC(open_on(b2, x.b, x.len, NULL, NULL), KITH_ECRYPTO);
	buf_free(&x);
	buf_free(&env);
}

/* ---- 5. a sender who is not a contact ---------------------------------- */

static void
test_stranger(void)
{
	static const char *const alice[] = { "alice", NULL };
	struct seal_opened r;
	struct buf env, pt = { NULL, 0 };

	if (!CHECK_RC(seal_to(d1, alice, 1, 0, NULL, "hello", 5, &env), 0))
		return;
	CHECK_RC(open_on(a1, env.b, env.len, &pt, &r), KITH_ENOTCONTACT);
	CHECK(memcmp(r.sender.account_pk, d1->account_pk, 32) == 0);
	CHECK(pt.len == 0);
	seal_open_free(&r);
	buf_free(&pt);
	CHECK(opens_to(d1, &env, "hello", 5));
	buf_free(&env);
}

/* ---- 6. revocation ------------------------------------------------------ */

static uint64_t
known_version(struct home *hm, const char *who)
{
	struct seal_peer p;
	uint64_t v = 0;

	if (CHECK_RC(seal_peer_find(hm, who, &p), 0) && p.roster != NULL)
		v = p.roster->version;
	seal_peer_free(&p);
	return (v);
}

static void
test_revoke(struct buf *old_from_bob)
{
	static const char *const bob[] = { "bob", NULL };
	static const char *const alice[] = { "alice", NULL };
	struct seal_opened r;
	struct roster *nr;
	struct buf env;
	uint64_t v0;

	v0 = known_version(a1, "bob");
	CHECK(v0 == b1->roster->version);
	CHECK_RC(roster_next(b1->roster, &nr), 0);
	CHECK_RC(roster_revoke(nr, b2->dk->sign_pk, b1->dk->sign_pk), 0);
	CHECK_RC(home_roster_commit(b1, nr, bob_sk, 1, NULL), 0);
	/* Alice does not know yet: b2 still opens (the stated limit). */
	CHECK_RC(seal_to(a1, bob, 1, 0, NULL, "before", 6, &env), 0);
	CHECK(opens_to(b2, &env, "before", 6));
	buf_free(&env);
	/* Bob writes to alice: she learns his roster. */
	CHECK_RC(seal_to(b1, alice, 1, 0, NULL, "news", 4, &env), 0);
	CHECK_RC(open_on(a1, env.b, env.len, NULL, &r), 0);
	CHECK(r.roster_updated == 1);
	seal_open_free(&r);
	CHECK(known_version(a1, "bob") == b1->roster->version);
	/* Opened again: nothing newer. */
	CHECK_RC(open_on(a1, env.b, env.len, NULL, &r), 0);
	CHECK(r.roster_updated == 0);
	seal_open_free(&r);
	buf_free(&env);
	/* a2 learns it too (sync would bring the record; here, the same
	 * envelope's older copy does not roll a1's back). */
	CHECK_RC(open_on(a1, old_from_bob->b, old_from_bob->len, NULL, &r),
	    0);
	CHECK(r.roster_updated == 0);
	seal_open_free(&r);
	CHECK(known_version(a1, "bob") == b1->roster->version);
	/* Now b2 cannot open what alice seals; b1 can. */
	CHECK_RC(seal_to(a1, bob, 1, 0, NULL, "after", 5, &env), 0);
	CHECK(opens_to(b1, &env, "after", 5));
	CHECK_RC(open_on(b2, env.b, env.len, NULL, NULL), KITH_ENOTFORME);
	buf_free(&env);
	/* b2, unaware, seals to alice: its standing is checked. */
	CHECK_RC(seal_to(b2, alice, 1, 0, NULL, "mine", 4, &env), 0);
	CHECK_RC(open_on(a1, env.b, env.len, NULL, NULL), KITH_EREVOKED);
	/* a2 has not learned bob's roster: it takes b2's word. */
	CHECK(opens_to(a2, &env, "mine", 4));
	/* Until it is handed the roster Bob exported (contacts update). */
	{
		struct seal_peer p;
		int updated = -1;

		CHECK_RC(seal_peer_find(a2, "bob", &p), 0);
		CHECK_RC(seal_peer_learn(a2, &p, a1->roster->blob,
		    a1->roster->bloblen, &updated), KITH_ECRYPTO);
		CHECK_RC(seal_peer_learn(a2, &p, b1->roster->blob,
		    b1->roster->bloblen, &updated), 0);
		CHECK(updated == 1 && p.roster->version == b1->roster->version);
		CHECK_RC(seal_peer_learn(a2, &p, b1->roster->blob,
		    b1->roster->bloblen, &updated), 0);
		CHECK(updated == 0);
		seal_peer_free(&p);
	}
	CHECK_RC(open_on(a2, env.b, env.len, NULL, NULL), KITH_EREVOKED);
	buf_free(&env);
	CHECK_RC(seal_to(a2, bob, 1, 0, NULL, "from a2", 7, &env), 0);
	CHECK(opens_to(b1, &env, "from a2", 7));
	CHECK_RC(open_on(b2, env.b, env.len, NULL, NULL), KITH_ENOTFORME);
	buf_free(&env);
}

/* ---- 7. a group ------------------------------------------------------------ */

static void
test_group(void)
{
	static const char *const none[] = { NULL };
	struct seal_peer mem[2];
	struct seal_group *g = NULL, *gb = NULL;
	struct seal_opened r;
	struct buf env, msg;
	FILE *fo;
	json_t *list;

	memset(mem, 0, sizeof(mem));
	CHECK_RC(seal_peer_find(a1, "bob", &mem[0]), 0);
	CHECK_RC(seal_peer_find(a1, "carol", &mem[1]), 0);
	fo = open_memstream(&env.b, &env.len);
	CHECK_RC(seal_group_create(a1, "team", mem, 2, fo, 0, NULL, NULL,
	    &g), 0);
	fclose(fo);
	CHECK(g != NULL && g->nmem == 3);
	CHECK_RC(seal_group_create(a1, "team", mem, 2, stdout, 0, NULL, NULL,
	    NULL), KITH_EEXIST);
	/* Each member's device takes the key in. */
	CHECK_RC(open_on(b1, env.b, env.len, NULL, &r), 0);
	CHECK(r.kind == SEAL_KIND_GROUP && r.group_stored == 1);
	CHECK(strcmp(r.group, "team") == 0);
	seal_open_free(&r);
	CHECK_RC(open_on(b1, env.b, env.len, NULL, &r), 0);
	CHECK(r.group_stored == 0);
	seal_open_free(&r);
	CHECK_RC(open_on(c1, env.b, env.len, NULL, NULL), 0);
	CHECK_RC(open_on(d1, env.b, env.len, NULL, NULL), KITH_ENOTFORME);
	buf_free(&env);
	CHECK_RC(seal_groups(c1, &list), 0);
	CHECK(json_array_size(list) == 1 && json_object_get(json_array_get(
	    list, 0), "key") == NULL);
	{
		/* Members as carol knows them: alice her contact, herself,
		 * bob by the alias alice gave him. */
		json_t *m = json_object_get(json_array_get(list, 0),
		    "members");
		const char *want[3] = { "alice", "bob", "you" };
		size_t i, k, found = 0;

		for (i = 0; i < json_array_size(m); i++)
			for (k = 0; k < 3; k++)
				found += strcmp(json_string_value(
				    json_object_get(json_array_get(m, i),
				    "alias")), want[k]) == 0;
		CHECK(json_array_size(m) == 3 && found == 3);
	}
	json_decref(list);
	/* Bob seals to the group: carol (not his contact) opens it, as
	 * introduced by alice; dave cannot. */
	CHECK_RC(seal_group_find(b1, "team", &gb), 0);
	CHECK_RC(seal_to(b1, none, 0, 0, gb, "for the team", 12, &msg), 0);
	CHECK_RC(open_on(c1, msg.b, msg.len, NULL, &r), 0);
	CHECK(r.sender.how == SEAL_INTRODUCED);
	CHECK(strcmp(r.sender.introduced_by, "alice") == 0);
	CHECK(r.has_group && memcmp(r.gid, gb->gid, SEAL_GIDLEN) == 0);
	seal_open_free(&r);
	CHECK(opens_to(a1, &msg, "for the team", 12));	/* the creator */
	CHECK(opens_to(b1, &msg, "for the team", 12));	/* bob's own */
	CHECK_RC(open_on(d1, msg.b, msg.len, NULL, NULL), KITH_ENOTFORME);
	buf_free(&msg);
	seal_group_free(gb);
	seal_group_free(g);
	seal_peer_free(&mem[0]);
	seal_peer_free(&mem[1]);
}

/* ---- 7b. groups under attack --------------------------------------------------- */

/* A group envelope made by ${hm} for ${who} and ${who2} (names; who2
 * may be NULL), into ${env}. */
static struct seal_group *
group_env(struct home *hm, const char *name, const char *who,
    const char *who2, struct buf *env)
{
	struct seal_peer p[2];
	struct seal_group *g = NULL;
	size_t n = who2 != NULL ? 2 : 1;
	FILE *fo;

	memset(p, 0, sizeof(p));
	CHECK_RC(seal_peer_find(hm, who, &p[0]), 0);
	if (who2 != NULL)
		CHECK_RC(seal_peer_find(hm, who2, &p[1]), 0);
	fo = open_memstream(&env->b, &env->len);
	CHECK_RC(seal_group_create(hm, name, p, n, fo, 0, NULL, NULL, &g),
	    0);
	fclose(fo);
	seal_peer_free(&p[0]);
	seal_peer_free(&p[1]);
	return (g);
}

/*
 * ${env}, a group's envelope that ${maker} sealed, opened on ${opener}
 * after its document's member ${key} was made ${val} (NULL: as it was)
 * and ${maker} signed it again: what seal_open said.
 */
static int
doc_forged(const struct buf *env, const struct home *maker, const char *key,
    const char *val, struct home *opener)
{
	struct doc_edit e = { key, val, NULL };
	struct buf x = { NULL, 0 };
	int rc = -1;

	if (CHECK(t_rewrite_as(env, maker, NULL, 0, key != NULL ? edit_doc :
	    NULL, &e, maker, &x) == 0))
		rc = open_on(opener, x.b, x.len, NULL, NULL);
	buf_free(&x);
	return (rc);
}

static void
test_group_attacks(void)
{
	static const char *const none[] = { NULL };
	struct seal_group *g, *team = NULL, *h;
	struct buf env, x = { NULL, 0 };
	char hex[65], gh[2 * SEAL_GIDLEN + 1];
	json_t *rec;
	char *txt;
	size_t len;
	int added;

	/* bob hands out a group naming carol as its creator (and the id
	 * its key and carol make): alice, its member, refuses it, and keeps
	 * nothing.  With the id bob's, it is malformed. */
	g = group_env(b1, "bobs", "alice", NULL, &env);
	kith_hex(c1->account_pk, 32, hex);
	if (CHECK(g != NULL)) {
		struct doc_edit ge = { "gid", gh, NULL }, ce = { "creator",
		    hex, &ge };

		t_gid(g->key, c1->account_pk, gh);
		CHECK(t_rewrite_as(&env, b1, NULL, 0, edit_doc, &ce, b1,
		    &x) == 0);
		CHECK_RC(open_on(a1, x.b, x.len, NULL, NULL), KITH_ECRYPTO);
		buf_free(&x);
	}
	CHECK_RC(doc_forged(&env, b1, "creator", hex, a1), KITH_EFORMAT);
	CHECK_RC(seal_group_find(a1, "bobs", &h), KITH_ENOENT);
	/* Unchanged, it opens (the re-signing is sound). */
	CHECK_RC(doc_forged(&env, b1, NULL, NULL, a1), 0);
	buf_free(&env);
	seal_group_free(g);

	/* A message for "team" whose sender block names another group. */
	CHECK_RC(seal_group_find(b1, "team", &team), 0);
	CHECK_RC(seal_to(b1, none, 0, 0, team, "to the team", 11, &env), 0);
	CHECK(t_rewrite_as(&env, b1, NULL, 0, edit_gid, NULL, b1, &x) == 0);
	CHECK_RC(open_on(c1, x.b, x.len, NULL, NULL), KITH_ECRYPTO);
	buf_free(&x);
	buf_free(&env);

	/* alice hands carol a new group with team's key, under an id that
	 * key and alice do not make: malformed, nothing kept. */
	g = group_env(a1, "decoy", "carol", NULL, &env);
	kith_hex(team->key, 32, hex);
	CHECK_RC(doc_forged(&env, a1, "key", hex, c1), KITH_EFORMAT);
	CHECK_RC(seal_group_find(c1, "decoy", &h), KITH_ENOENT);
	sodium_memzero(hex, sizeof(hex));
	buf_free(&env);
	seal_group_free(g);

	/* A group named with a control character (JSON-escaped, so that
	 * it parses): refused as malformed, nothing kept. */
	g = group_env(a1, "decoy2", "carol", NULL, &env);
	CHECK_RC(doc_forged(&env, a1, "name", "\\u001b", c1), KITH_EFORMAT);
	CHECK(seal_groups(c1, &rec) == 0 && json_array_size(rec) == 1);
	json_decref(rec);
	buf_free(&env);
	seal_group_free(g);

	/* dave, carol's contact but no member, holds team's key (a member
	 * gave it away): what he seals to the group, carol refuses. */
	meet(c1, "carol", d1, "dave", 0);
	kith_hex(team->gid, SEAL_GIDLEN, hex);
	CHECK_RC(hist_get(b1->h, "kith:group", hex, &txt, &len), 0);
	rec = json_loadb(txt, len, 0, NULL);
	sodium_memzero(txt, len);
	free(txt);
	CHECK_RC(store_begin(d1->st), 0);
	CHECK_RC(contacts_put(d1, rec, &added), 0);
	CHECK_RC(store_commit(d1->st), 0);
	CHECK_RC(seal_to(d1, none, 0, 0, team, "let me in", 9, &env), 0);
	CHECK_RC(open_on(c1, env.b, env.len, NULL, NULL), KITH_EPERM);
	CHECK_RC(open_on(a1, env.b, env.len, NULL, NULL), KITH_ENOTCONTACT);
	/* The same, its file key wrapped for carol's device (no group
	 * stanza) and addressed to her: a contact's message whose sender
	 * block names a group.  Refused: only this account's own devices
	 * open a group's message by a device stanza. */
	CHECK(t_rewrite_as(&env, d1, (const uint8_t (*)[32])c1->dk->kx_pk, 1,
	    edit_to, c1->account_pk, d1, &x) == 0);
	CHECK_RC(open_on(c1, x.b, x.len, NULL, NULL), KITH_ECRYPTO);
	buf_free(&x);
	buf_free(&env);
	seal_group_free(team);
}

/* ---- 7c. a group's generations --------------------------------------------- */

/* A change of "team" made by ${hm}: its envelope into ${env}. */
static int
team_change(struct home *hm, const char *add, const char *remove,
    struct buf *env)
{
	struct seal_peer a, r;
	struct seal_group *g = NULL;
	FILE *fo;
	int rc;

	memset(&a, 0, sizeof(a));
	memset(&r, 0, sizeof(r));
	if (add != NULL)
		CHECK_RC(seal_peer_find(hm, add, &a), 0);
	if (remove != NULL)
		CHECK_RC(seal_peer_find(hm, remove, &r), 0);
	fo = open_memstream(&env->b, &env->len);
	rc = seal_group_change(hm, "team", &a, add != NULL, &r,
	    remove != NULL, fo, 0, NULL, NULL, &g);
	fclose(fo);
	if (rc != 0)
		buf_free(env);
	seal_group_free(g);
	seal_peer_free(&a);
	seal_peer_free(&r);
	return (rc);
}

static void
test_generations(void)
{
	static const char *const none[] = { NULL };
	struct seal_group *g = NULL, *cg = NULL;
	struct seal_opened r;
	struct buf env, old, msg;
	json_t *list;

	/* A message to the first generation, before any change. */
	CHECK_RC(seal_group_find(b1, "team", &g), 0);
	CHECK(g != NULL && g->generation == 1);
	CHECK_RC(seal_to(b1, none, 0, 0, g, "gen one", 7, &old), 0);
	seal_group_free(g);
	/* Only its creator changes a group. */
	CHECK_RC(team_change(b1, NULL, "alice", &env), KITH_EPERM);
	/* alice removes carol: generation 2, for bob (and alice) alone. */
	CHECK_RC(team_change(a1, NULL, "carol", &env), 0);
	CHECK_RC(open_on(c1, env.b, env.len, NULL, NULL), KITH_ENOTFORME);
	CHECK_RC(open_on(b1, env.b, env.len, NULL, &r), 0);
	CHECK(r.kind == SEAL_KIND_GROUP && r.group_stored == 1);
	seal_open_free(&r);
	buf_free(&env);
	CHECK_RC(seal_group_find(b1, "team", &g), 0);
	CHECK(g != NULL && g->generation == 2 && g->nmem == 2 && g->has_prev);
	CHECK_RC(seal_groups(b1, &list), 0);
	{
		/* "team" once, at generation 2 (and bob's own "bobs"). */
		size_t i, teams = 0;
		json_int_t gen = 0;

		for (i = 0; i < json_array_size(list); i++)
			if (strcmp(json_string_value(json_object_get(
			    json_array_get(list, i), "name")), "team") == 0) {
				teams++;
				gen = json_integer_value(json_object_get(
				    json_array_get(list, i), "generation"));
			}
		CHECK(teams == 1 && gen == 2);
	}
	json_decref(list);
	/* What bob seals now, carol cannot open; alice can. */
	CHECK_RC(seal_to(b1, none, 0, 0, g, "gen two", 7, &msg), 0);
	CHECK(opens_to(a1, &msg, "gen two", 7));
	CHECK_RC(open_on(c1, msg.b, msg.len, NULL, NULL), KITH_ENOTFORME);
	buf_free(&msg);
	seal_group_free(g);
	/* carol still reads what was sealed with the first generation, but
	 * what she seals with it, members holding the second refuse. */
	CHECK(opens_to(c1, &old, "gen one", 7));
	buf_free(&old);
	CHECK_RC(seal_group_find(c1, "team", &cg), 0);
	CHECK(cg != NULL && cg->generation == 1);
	CHECK_RC(seal_to(c1, none, 0, 0, cg, "still here", 10, &msg), 0);
	CHECK_RC(open_on(b1, msg.b, msg.len, NULL, NULL), KITH_EREVOKED);
	CHECK_RC(open_on(a1, msg.b, msg.len, NULL, NULL), KITH_EREVOKED);
	buf_free(&msg);
	seal_group_free(cg);
	/* Added back: generation 3, which carol takes without the second. */
	CHECK_RC(team_change(a1, "carol", NULL, &env), 0);
	CHECK_RC(open_on(c1, env.b, env.len, NULL, &r), 0);
	CHECK(r.group_stored == 1);
	seal_open_free(&r);
	CHECK_RC(open_on(b1, env.b, env.len, NULL, NULL), 0);
	buf_free(&env);
	CHECK_RC(seal_group_find(c1, "team", &cg), 0);
	CHECK(cg != NULL && cg->generation == 3);
	CHECK_RC(seal_to(c1, none, 0, 0, cg, "back", 4, &msg), 0);
	CHECK(opens_to(b1, &msg, "back", 4));
	buf_free(&msg);
	seal_group_free(cg);
}

/* ---- 7d. a decoy that arrives before the group ---------------------------- */

/*
 * carol, a member of alice's "crew", makes a group of her own with
 * crew's key (well formed: its id is the one that key and carol make)
 * and hands it to dave before alice's envelope reaches him.  dave keeps
 * both, and each message opens as the group it was sealed for.
 */
static void
test_decoy_first(void)
{
	static const char *const none[] = { NULL };
	struct seal_peer mem[2];
	struct seal_group *crew = NULL, *mine, *dg = NULL, *dg2 = NULL;
	struct seal_opened r;
	json_t *rec;
	char *txt;
	size_t len;
	int added;
	struct buf genuine, fake, x = { NULL, 0 }, msg;
	struct doc_edit gid_e = { "gid", NULL, NULL }, key_e = { "key", NULL,
	    &gid_e };
	char khex[65], ghex[2 * SEAL_GIDLEN + 1], hex[2 * SEAL_GIDLEN + 1];
	FILE *fo;

	meet(a1, "alice", d1, "dave", 0);	/* now alice holds dave too */
	crew = group_env(a1, "crew", "carol", "dave", &genuine);
	if (!CHECK(crew != NULL))
		return;
	t_gid(crew->key, a1->account_pk, ghex);
	kith_hex(crew->gid, SEAL_GIDLEN, hex);
	CHECK(strcmp(ghex, hex) == 0);
	CHECK_RC(open_on(c1, genuine.b, genuine.len, NULL, NULL), 0);

	mine = group_env(c1, "decoy", "dave", NULL, &fake);
	kith_hex(crew->key, 32, khex);
	t_gid(crew->key, c1->account_pk, ghex);
	key_e.val = khex;
	gid_e.val = ghex;
	CHECK(t_rewrite_as(&fake, c1, NULL, 0, edit_doc, &key_e, c1, &x) ==
	    0);
	sodium_memzero(khex, sizeof(khex));
	/* The decoy first, then alice's group: both kept. */
	CHECK_RC(open_on(d1, x.b, x.len, NULL, &r), 0);
	CHECK(r.group_stored == 1 && strcmp(r.group, "decoy") == 0);
	seal_open_free(&r);
	CHECK_RC(open_on(d1, genuine.b, genuine.len, NULL, &r), 0);
	CHECK(r.group_stored == 1 && strcmp(r.group, "crew") == 0 &&
	    memcmp(r.gid, crew->gid, SEAL_GIDLEN) == 0);
	seal_open_free(&r);
	/* alice's message to crew opens as crew, carol's to the decoy as
	 * the decoy: one key, two groups, no stanza taken for the other. */
	CHECK_RC(seal_to(a1, none, 0, 0, crew, "for the crew", 12, &msg), 0);
	CHECK_RC(open_on(d1, msg.b, msg.len, NULL, &r), 0);
	CHECK(r.has_group && strcmp(r.group, "crew") == 0 &&
	    memcmp(r.gid, crew->gid, SEAL_GIDLEN) == 0);
	seal_open_free(&r);
	buf_free(&msg);
	CHECK_RC(seal_group_find(d1, "decoy", &dg), 0);
	if (CHECK(dg != NULL)) {
		CHECK(sodium_memcmp(dg->key, crew->key, 32) == 0);
		CHECK_RC(seal_to(c1, none, 0, 0, dg, "for the decoy", 13,
		    &msg), 0);
		CHECK_RC(open_on(d1, msg.b, msg.len, NULL, &r), 0);
		CHECK(r.has_group && strcmp(r.group, "decoy") == 0 &&
		    memcmp(r.gid, dg->gid, SEAL_GIDLEN) == 0);
		seal_open_free(&r);
		buf_free(&msg);
	}
	buf_free(&x);
	buf_free(&fake);

	/* No group is named like an id: made here, EINVAL; handed out,
	 * malformed. */
	kith_hex(crew->gid, SEAL_GIDLEN, hex);
	memset(mem, 0, sizeof(mem));
	CHECK_RC(seal_peer_find(a1, "carol", &mem[0]), 0);
	CHECK_RC(seal_group_create(a1, hex, mem, 1, stdout, 0, NULL, NULL,
	    NULL), KITH_EINVAL);
	seal_peer_free(&mem[0]);
	seal_group_free(mine);
	mine = group_env(d1, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "alice", NULL,
	    &fake);
	CHECK_RC(doc_forged(&fake, d1, "name", hex, a1), KITH_EFORMAT);
	buf_free(&fake);
	/* dave hands alice a group of his named "crew": alice holds two,
	 * but hers is the one she changes (by name or by id), and dave's
	 * does not stand in the way. */
	seal_group_free(mine);
	mine = group_env(d1, "crev", "alice", NULL, &fake);
	CHECK_RC(doc_forged(&fake, d1, "name", "crew", a1), 0);
	buf_free(&fake);
	CHECK_RC(seal_group_find(a1, "crew", &dg2), KITH_EAMBIGUOUS);
	memset(mem, 0, sizeof(mem));
	CHECK_RC(seal_peer_find(a1, "dave", &mem[0]), 0);
	fo = fopen("/dev/null", "w");
	CHECK_RC(seal_group_change(a1, "crew", NULL, 0, mem, 1, fo, 0,
	    NULL, NULL, &dg2), 0);
	CHECK(dg2 != NULL && dg2->generation == 2 &&
	    sodium_memcmp(dg2->creator, a1->account_pk, 32) == 0);
	seal_group_free(dg2);
	dg2 = NULL;
	CHECK_RC(seal_group_change(a1, hex, mem, 1, NULL, 0, fo, 0, NULL,
	    NULL, &dg2), KITH_ENOENT);	/* generation 1: superseded */
	fclose(fo);
	seal_peer_free(&mem[0]);

	/* A record of a group whose id its key and creator do not make, in
	 * alice's own history (as an old or careless device would sync it):
	 * never listed, never found. */
	CHECK_RC(hist_get(a1->h, "kith:group", hex, &txt, &len), 0);
	rec = json_loadb(txt, len, 0, NULL);
	sodium_memzero(txt, len);
	free(txt);
	hex[0] = hex[0] == '0' ? '1' : '0';
	json_object_set_new(rec, "gid", json_string(hex));
	json_object_set_new(rec, "id", json_string(hex));
	json_object_set_new(rec, "name", json_string("ghost"));
	CHECK_RC(store_begin(a1->st), 0);
	CHECK_RC(contacts_put(a1, rec, &added), 0);
	CHECK_RC(store_commit(a1->st), 0);
	CHECK(added == 1);
	CHECK_RC(seal_group_find(a1, "ghost", &dg2), KITH_ENOENT);
	CHECK_RC(seal_group_find(a1, hex, &dg2), KITH_ENOENT);
	CHECK(seal_groups(a1, &rec) == 0);
	txt = json_dumps(rec, 0);
	CHECK(txt != NULL && strstr(txt, "crew") != NULL &&
	    strstr(txt, "ghost") == NULL);
	free(txt);
	json_decref(rec);

	buf_free(&genuine);
	seal_group_free(dg);
	seal_group_free(mine);
	seal_group_free(crew);
}

/* ---- 8. not an envelope ------------------------------------------------- */

static void
test_garbage(void)
{
	uint8_t junk[500];

	randombytes_buf(junk, sizeof(junk));
	CHECK_RC(open_on(a1, junk, sizeof(junk), NULL, NULL), KITH_ENOTKITH);
	CHECK_RC(open_on(a1, "", 0, NULL, NULL), KITH_ENOTKITH);
	CHECK_RC(open_on(a1, "KITHSEA", 7, NULL, NULL), KITH_ENOTKITH);
	memcpy(junk, "KITHSEAL\x02\x00\x00\x01", 12);
	CHECK_RC(open_on(a1, junk, sizeof(junk), NULL, NULL), KITH_EVERSION);
	memcpy(junk, "KITHSEAL\x01\x00\x00\x00", 12);
	CHECK_RC(open_on(a1, junk, sizeof(junk), NULL, NULL), KITH_EFORMAT);
	memcpy(junk, "KITHSEAL\x01\x00\x00\x05", 12);
	CHECK_RC(open_on(a1, junk, sizeof(junk), NULL, NULL), KITH_ENOTFORME);
}

int
main(void)
{
	static const char *const alice[] = { "alice", NULL };
	struct buf old;

	if (sodium_init() < 0)
		return (1);
	hist_json_wipe();
	a1 = acct_new("seal", "a1");
	b1 = acct_new("seal", "b1");
	c1 = acct_new("seal", "c1");
	d1 = acct_new("seal", "d1");
	if (home_account_sk(a1, ACCT_PASS, sizeof(ACCT_PASS) - 1,
	    &alice_sk) != 0 || home_account_sk(b1, ACCT_PASS,
	    sizeof(ACCT_PASS) - 1, &bob_sk) != 0)
		return (1);
	if ((a2 = acct_enrol("seal", a1, alice_sk, "a2")) == NULL ||
	    (b2 = acct_enrol("seal", b1, bob_sk, "b2")) == NULL)
		return (1);
	/* Met after the second devices were paired: the cards list them.
	 * a2 and b2 get the contacts as sync would give them: met again. */
	meet(a1, "alice", b1, "bob", 0);
	meet(a1, "alice", c1, "carol", 0);
	meet(a2, "alice", b2, "bob", 0);
	meet(a1, "alice", d1, "dave", 1);

	test_roundtrip();
	test_tamper();
	test_armour();
	test_readdress();
	test_stranger();
	/* An envelope from bob with his roster before the revocation. */
	CHECK_RC(seal_to(b1, alice, 1, 0, NULL, "old", 3, &old), 0);
	test_group();
	test_group_attacks();
	test_generations();
	test_revoke(&old);
	buf_free(&old);
	test_decoy_first();
	test_garbage();

	sodium_free(alice_sk);
	sodium_free(bob_sk);
	home_close(a1);
	home_close(a2);
	home_close(b1);
	home_close(b2);
	home_close(c1);
	home_close(d1);
	acct_cleanup();
	printf("seal: %d checks passed, %d failed\n", npass, nfail);
	return (nfail == 0 ? 0 : 1);
}
