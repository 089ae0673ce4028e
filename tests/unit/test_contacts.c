/*
 * test_contacts: invitations, their answers and the contacts they give
 * (contacts.c), and the LAN answer (invx.c), on real homes: three
 * accounts (alice, bob, carol) in temporary directories with their SQLite
 * stores, and alice's second device, enrolled the way pair.c's joiner
 * takes in an account.
 *
 *  1. invite_check: a signed invitation passes; a changed device
 *     signature, certificate signature, account key, device name (each
 *     also re-signed by the device, so that the certificate alone must
 *     catch it) fail with KITH_ECRYPTO; the expiry edge (expiry + 300 is
 *     open, + 301 is not, now 0 skips); the inviter's roster passes,
 *     another account's is KITH_EROSTER, one that does not list the
 *     device (or lists it with another kx key) KITH_ENOTMEMBER;
 *  2. contacts_issue / contacts_issued round trip, contacts_state of a new
 *     invitation, contacts_member afterwards;
 *  3. contacts_take_answer with uses 2: a repeat takes no slot, the third
 *     account is refused (KITH_EUSED), the account itself KITH_EINVAL;
 *     withdrawn (KITH_EWITHDRAWN; a second withdraw KITH_EEXIST) and
 *     expired (KITH_EEXPIRED) invitations; no record is written by a
 *     refusal; slots taken on one device bound the uses on another;
 *  4. reply_check: bound to one invitation (KITH_ECRYPTO for another with
 *     the token copied, KITH_ENOENT for another token);
 *  5. contact cards: round trip, the wrong kx key (KITH_ENOTMEMBER), every
 *     truncation and every flipped byte of the roster part fail;
 *  6. the LAN exchange over a socketpair, the invitee (invx_answer) in a
 *     thread and this thread playing kithd frame by frame: taken, a
 *     repeat, a used-up invitation (INVX_R_USED), the account's own
 *     device (INVX_R_SELF), a wrong secret (KITH_EHANDSHAKE, nothing
 *     recorded), an impostor agent without the inviter's static key
 *     (KITH_EHANDSHAKE on both sides), an unknown token (KITH_ENOENT), a changed invitation
 *     (KITH_EPROTO);
 *  7. alice revokes her second device: its invitation fails invite_check
 *     (KITH_EREVOKED) and contacts_take_answer (KITH_EREVOKED), its card
 *     no longer decodes, and its agent refuses over the LAN
 *     (INVX_R_REVOKED).
 */
#include <sys/socket.h>
#include <sys/time.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "check.h"
#include "contacts.h"
#include "home.h"
#include "invitation.h"
#include "invx.h"
#include "kith_err.h"
#include "kith_util.h"
#include "noise.h"
#include "roster.h"
#include "store.h"
#include "testacct.h"

#define PASS ACCT_PASS
#define URI "https://chat.example.org/join"

static struct home *alice, *bob, *carol, *alice2;
static uint8_t *alice_sk;		/* the account key, sodium_malloc */
static uint8_t *roster_v1;		/* alice's first roster (without alice2) */
static size_t roster_v1_len;

/* An invitation made as cmd_invite.c's invite_create makes one. */
static int
make_inv(struct home *hm, const char *alias, unsigned uses, uint32_t expiry,
    struct invitation *inv, char text[INVITE_MAXTEXT])
{

	memset(inv, 0, sizeof(*inv));
	snprintf(inv->uri, sizeof(inv->uri), "%s", URI);
	snprintf(inv->service, sizeof(inv->service), "Example chat");
	snprintf(inv->alias, sizeof(inv->alias), "%s", alias);
	snprintf(inv->note, sizeof(inv->note), "see you at the meetup");
	inv->uses = (uint8_t)uses;
	inv->expiry = expiry;
	inv->port = 45678;
	inv->nhints = 1;
	inv->hints[0].family = 4;
	memcpy(inv->hints[0].addr, "\xc0\xa8\x01\x07", 4);
	return (contacts_sign(hm, inv, text, INVITE_MAXTEXT));
}

static uint32_t
in_hours(unsigned h)
{

	return ((uint32_t)(kith_now() + 3600 * h));
}

/* Same binary form (signature included): the same invitation. */
static int
same_inv(const struct invitation *a, const struct invitation *b)
{
	uint8_t x[INVITE_MAXBIN], y[INVITE_MAXBIN];
	size_t xl, yl;

	if (invitation_bin(a, x, sizeof(x), &xl) != 0 ||
	    invitation_bin(b, y, sizeof(y), &yl) != 0)
		return (0);
	return (xl == yl && memcmp(x, y, xl) == 0 &&
	    memcmp(a->secret, b->secret, INVITE_SECRETLEN) == 0);
}

static uint64_t
nrecs(struct home *hm)
{
	uint64_t n = 0;

	CHECK_RC(store_count(hm->st, NULL, 0, &n, NULL), 0);
	return (n);
}

/*
 * Sign ${inv} with any key, as invitation.h states the signature:
 * Ed25519ph over "kith invite v1" | the binary form before the signature.
 */
static void
sign_as(struct invitation *inv, const uint8_t sk[64])
{
	static const char ctx[] = "kith invite v1";
	crypto_sign_state s;
	uint8_t b[INVITE_MAXBIN];
	size_t len;

	if (!CHECK_RC(invitation_bin(inv, b, sizeof(b), &len), 0) || len < 64)
		return;
	crypto_sign_init(&s);
	crypto_sign_update(&s, (const uint8_t *)ctx, sizeof(ctx) - 1);
	crypto_sign_update(&s, b, len - 64);
	crypto_sign_final_create(&s, inv->sig, NULL, sk);
}

/* ---- 1. invite_check ------------------------------------------------ */

static void
test_check(void)
{
	struct invitation inv, t, d;
	struct roster *r;
	char text[INVITE_MAXTEXT];
	uint8_t kx[32], garbage[64];
	uint64_t now = kith_now();

	CHECK_RC(make_inv(alice, "alice", 1, in_hours(4), &inv, text), 0);
	CHECK(memcmp(inv.account_pk, alice->account_pk, 32) == 0);
	CHECK(memcmp(inv.dev.sign_pk, alice->dk->sign_pk, 32) == 0);
	CHECK(memcmp(inv.dev.kx_pk, alice->dk->kx_pk, 32) == 0);
	CHECK_RC(invite_check(&inv, now, NULL, 0), 0);
	CHECK_RC(invitation_decode(text, strlen(text), &d), 0);
	CHECK(same_inv(&inv, &d));
	CHECK_RC(invite_check(&d, now, NULL, 0), 0);

	/* The device's signature. */
	t = inv;
	t.sig[17] ^= 0x01;
	CHECK_RC(invite_check(&t, now, NULL, 0), KITH_ECRYPTO);
	t = inv;
	snprintf(t.uri, sizeof(t.uri), "https://evil.example.org");
	CHECK_RC(invite_check(&t, now, NULL, 0), KITH_ECRYPTO);

	/* The certificate's signature: as sent, and re-signed. */
	t = inv;
	t.dev.sig[3] ^= 0x80;
	CHECK_RC(invite_check(&t, now, NULL, 0), KITH_ECRYPTO);
	CHECK_RC(invitation_sign(&t, alice->dk->sign_sk), 0);
	CHECK_RC(invitation_verify_sig(&t), 0);
	CHECK_RC(invite_check(&t, now, NULL, 0), KITH_ECRYPTO);

	/* Another account claimed for the device. */
	t = inv;
	memcpy(t.account_pk, bob->account_pk, 32);
	CHECK_RC(invite_check(&t, now, NULL, 0), KITH_ECRYPTO);
	CHECK_RC(invitation_sign(&t, alice->dk->sign_sk), 0);
	CHECK_RC(invite_check(&t, now, NULL, 0), KITH_ECRYPTO);
	CHECK_RC(invite_check(&t, now, bob->roster->blob,
	    bob->roster->bloblen), KITH_ECRYPTO);

	/* The device's name, kx key, enrolment time. */
	t = inv;
	snprintf(t.dev.name, sizeof(t.dev.name), "mallory");
	CHECK_RC(invite_check(&t, now, NULL, 0), KITH_ECRYPTO);
	CHECK_RC(invitation_sign(&t, alice->dk->sign_sk), 0);
	CHECK_RC(invite_check(&t, now, NULL, 0), KITH_ECRYPTO);
	t = inv;
	memcpy(t.dev.kx_pk, bob->dk->kx_pk, 32);
	CHECK_RC(invitation_sign(&t, alice->dk->sign_sk), 0);
	CHECK_RC(invite_check(&t, now, NULL, 0), KITH_ECRYPTO);
	t = inv;
	t.dev.added++;
	CHECK_RC(invitation_sign(&t, alice->dk->sign_sk), 0);
	CHECK_RC(invite_check(&t, now, NULL, 0), KITH_ECRYPTO);

	/* Another device's signature over alice's certificate. */
	t = inv;
	CHECK_RC(invitation_sign(&t, bob->dk->sign_sk), KITH_EINVAL);
	sign_as(&t, bob->dk->sign_sk);
	CHECK(memcmp(t.sig, inv.sig, 64) != 0);
	CHECK_RC(invite_check(&t, now, NULL, 0), KITH_ECRYPTO);
	sign_as(&t, alice->dk->sign_sk);	/* the helper signs as the API */
	CHECK(memcmp(t.sig, inv.sig, 64) == 0);
	CHECK_RC(invite_check(&t, now, NULL, 0), 0);

	/* Expiry, with INVITE_SKEW (300 s) tolerated. */
	CHECK_RC(invite_check(&inv, (uint64_t)inv.expiry + 300, NULL, 0), 0);
	CHECK_RC(invite_check(&inv, (uint64_t)inv.expiry + 301, NULL, 0),
	    KITH_EEXPIRED);
	CHECK_RC(invite_check(&inv, (uint64_t)inv.expiry + 301,
	    alice->roster->blob, alice->roster->bloblen), KITH_EEXPIRED);
	CHECK_RC(invite_check(&inv, 0, NULL, 0), 0);
	t = inv;
	t.expiry = (uint32_t)(now - 3600);
	CHECK_RC(invitation_sign(&t, alice->dk->sign_sk), 0);
	CHECK_RC(invite_check(&t, now, NULL, 0), KITH_EEXPIRED);
	CHECK_RC(invite_check(&t, 0, NULL, 0), 0);

	/* Rosters. */
	CHECK_RC(invite_check(&inv, now, alice->roster->blob,
	    alice->roster->bloblen), 0);
	CHECK_RC(invite_check(&inv, now, roster_v1, roster_v1_len), 0);
	CHECK_RC(invite_check(&inv, now, bob->roster->blob,
	    bob->roster->bloblen), KITH_EROSTER);
	CHECK_RC(invite_check(&inv, now, alice->roster->blob,
	    alice->roster->bloblen - 1), KITH_EROSTER);
	randombytes_buf(garbage, sizeof(garbage));
	CHECK_RC(invite_check(&inv, now, garbage, sizeof(garbage)),
	    KITH_EROSTER);

	/* alice2's invitation against a roster without it... */
	CHECK_RC(make_inv(alice2, "alice", 1, in_hours(4), &t, text), 0);
	CHECK(memcmp(t.dev.sign_pk, alice2->dk->sign_pk, 32) == 0);
	CHECK_RC(invite_check(&t, now, alice->roster->blob,
	    alice->roster->bloblen), 0);
	CHECK_RC(invite_check(&t, now, roster_v1, roster_v1_len),
	    KITH_ENOTMEMBER);
	/* ...and against one (signed by the account) with another kx key. */
	CHECK_RC(roster_new(alice->account_pk, &r), 0);
	CHECK_RC(roster_add(r, alice->dk->sign_pk, alice->dk->kx_pk, "alice",
	    alice->dk->sign_pk), 0);
	crypto_box_keypair(kx, garbage);
	CHECK_RC(roster_add(r, alice2->dk->sign_pk, kx, "alice-tablet",
	    alice->dk->sign_pk), 0);
	randombytes_buf(garbage, 32);
	CHECK_RC(roster_grant_all(r, garbage), 0);
	CHECK_RC(roster_sign(r, alice_sk), 0);
	CHECK_RC(invite_check(&t, now, r->blob, r->bloblen), KITH_ENOTMEMBER);
	CHECK_RC(invite_check(&inv, now, r->blob, r->bloblen), 0);
	roster_free(r);
	sodium_memzero(garbage, sizeof(garbage));
	invitation_wipe(&t);
	invitation_wipe(&d);
	invitation_wipe(&inv);
}

/* ---- 2. issue and read back ------------------------------------------ */

static void
test_issue(void)
{
	struct invitation inv, back;
	struct invite_state st;
	char text[INVITE_MAXTEXT];
	uint8_t tok[16];
	uint64_t since = 0, now = kith_now();

	CHECK(contacts_member(alice, URI, NULL) == 0);
	CHECK_RC(make_inv(alice, "alice", 3, in_hours(4), &inv, text), 0);
	CHECK_RC(contacts_issued(alice, inv.token, &back), KITH_ENOENT);
	CHECK_RC(contacts_issue(alice, &inv, text), 0);
	memset(&back, 0, sizeof(back));
	CHECK_RC(contacts_issued(alice, inv.token, &back), 0);
	CHECK(same_inv(&inv, &back));
	CHECK(back.uses == 3 && back.expiry == inv.expiry &&
	    strcmp(back.uri, URI) == 0 && strcmp(back.alias, "alice") == 0 &&
	    back.port == inv.port && back.nhints == 1);
	CHECK_RC(invite_check(&back, now, alice->roster->blob,
	    alice->roster->bloblen), 0);
	memset(&st, 0xff, sizeof(st));
	CHECK_RC(contacts_state(alice, &back, now, &st), 0);
	CHECK(st.used == 0 && st.withdrawn == 0 && st.expired == 0);
	CHECK(contacts_member(alice, URI, &since) == 1);
	CHECK(since >= now && since <= kith_now());
	CHECK(contacts_member(alice, "https://other.example.org", NULL) == 0);
	CHECK(contacts_member(bob, URI, NULL) == 0);
	randombytes_buf(tok, sizeof(tok));
	CHECK_RC(contacts_issued(alice, tok, &back), KITH_ENOENT);
	/* Issued on alice's device: her other device's history, not bob's. */
	CHECK_RC(contacts_issued(bob, inv.token, &back), KITH_ENOENT);
	invitation_wipe(&back);
	invitation_wipe(&inv);
}

/* ---- 3. answers -------------------------------------------------------- */

struct relay {
	store *to;
	int fail;
};

static int
relay_cb(void *arg, const struct store_rec *rec)
{
	struct relay *rl = arg;
	int added;

	if (store_rec_put(rl->to, rec, &added) != 0)
		rl->fail = 1;
	return (0);
}

/* What sync does, reduced: every record of ${from} into ${to}. */
static void
relay(struct home *from, struct home *to)
{
	struct relay rl = { to->st, 0 };

	CHECK_RC(store_begin(to->st), 0);
	CHECK_RC(store_scan(from->st, NULL, 0, relay_cb, &rl), 0);
	CHECK_RC(store_commit(to->st), 0);
	CHECK(rl.fail == 0);
}

static void
test_answers(void)
{
	struct invitation u, w, e, s;
	struct contact_card cb, cc, ca, cd;
	struct invite_state st;
	char text[INVITE_MAXTEXT];
	uint8_t tok[16];
	uint64_t n0, n, now = kith_now();
	int fresh;

	CHECK_RC(contacts_card_mine(bob, "bob", &cb), 0);
	CHECK_RC(contacts_card_mine(carol, "carol", &cc), 0);
	cc.roster = NULL;		/* as from a reply code: a certificate */
	cc.rosterlen = 0;
	CHECK_RC(contacts_card_mine(alice, "alice", &ca), 0);
	/* A fourth account, made up: contacts_take_answer takes a card its
	 * caller verified, so none is needed for the slots. */
	cd = cc;
	randombytes_buf(cd.account_pk, 32);
	snprintf(cd.alias, sizeof(cd.alias), "dave");

	CHECK_RC(make_inv(alice, "alice", 2, in_hours(4), &u, text), 0);
	CHECK_RC(contacts_issue(alice, &u, text), 0);
	n0 = nrecs(alice);
	fresh = -1;
	CHECK_RC(contacts_take_answer(alice, &u, &cb, "reply", now, &fresh),
	    0);
	CHECK(fresh == 1);
	CHECK(nrecs(alice) == n0 + 2);	/* the use and the contact */
	n = nrecs(alice);
	fresh = -1;
	CHECK_RC(contacts_take_answer(alice, &u, &cb, "lan", now, &fresh), 0);
	CHECK(fresh == 0);
	CHECK(nrecs(alice) == n);
	CHECK_RC(contacts_state(alice, &u, now, &st), 0);
	CHECK(st.used == 1);
	fresh = -1;
	CHECK_RC(contacts_take_answer(alice, &u, &cc, "reply", now, &fresh),
	    0);
	CHECK(fresh == 1);
	CHECK(nrecs(alice) == n + 2);
	n = nrecs(alice);
	fresh = -1;
	CHECK_RC(contacts_take_answer(alice, &u, &ca, "lan", now, &fresh),
	    KITH_EINVAL);
	CHECK(fresh == 0);
	CHECK(nrecs(alice) == n);
	fresh = -1;
	CHECK_RC(contacts_take_answer(alice, &u, &cd, "reply", now, &fresh),
	    KITH_EUSED);
	CHECK(fresh == 0);
	CHECK(nrecs(alice) == n);
	/* Both earlier invitees are still taken as repeats. */
	CHECK_RC(contacts_take_answer(alice, &u, &cc, "lan", now, &fresh), 0);
	CHECK(fresh == 0);
	CHECK(nrecs(alice) == n);
	CHECK_RC(contacts_state(alice, &u, now, &st), 0);
	CHECK(st.used == 2 && st.withdrawn == 0 && st.expired == 0);

	/* Withdrawn. */
	CHECK_RC(make_inv(alice, "alice", 2, in_hours(4), &w, text), 0);
	CHECK_RC(contacts_withdraw(alice, w.token), KITH_ENOENT);
	CHECK_RC(contacts_issue(alice, &w, text), 0);
	n = nrecs(alice);
	CHECK_RC(contacts_withdraw(alice, w.token), 0);
	CHECK(nrecs(alice) == n + 1);
	n = nrecs(alice);
	CHECK_RC(contacts_withdraw(alice, w.token), KITH_EEXIST);
	CHECK(nrecs(alice) == n);
	randombytes_buf(tok, sizeof(tok));
	CHECK_RC(contacts_withdraw(alice, tok), KITH_ENOENT);
	fresh = -1;
	CHECK_RC(contacts_take_answer(alice, &w, &cb, "lan", now, &fresh),
	    KITH_EWITHDRAWN);
	CHECK(fresh == 0);
	CHECK(nrecs(alice) == n);
	CHECK_RC(contacts_state(alice, &w, now, &st), 0);
	CHECK(st.used == 0 && st.withdrawn == 1 && st.expired == 0);

	/* Expired: open until expiry + INVITE_SKEW. */
	CHECK_RC(make_inv(alice, "alice", 1, (uint32_t)(now + 60), &e, text),
	    0);
	CHECK_RC(contacts_issue(alice, &e, text), 0);
	n = nrecs(alice);
	fresh = -1;
	CHECK_RC(contacts_take_answer(alice, &e, &cb, "lan",
	    (uint64_t)e.expiry + 301, &fresh), KITH_EEXPIRED);
	CHECK(fresh == 0);
	CHECK(nrecs(alice) == n);
	CHECK_RC(contacts_state(alice, &e, (uint64_t)e.expiry + 301, &st), 0);
	CHECK(st.used == 0 && st.expired == 1 && st.withdrawn == 0);
	CHECK_RC(contacts_state(alice, &e, (uint64_t)e.expiry + 300, &st), 0);
	CHECK(st.expired == 0);
	CHECK_RC(contacts_take_answer(alice, &e, &cb, "lan",
	    (uint64_t)e.expiry + 300, &fresh), 0);
	CHECK(fresh == 1);
	CHECK(nrecs(alice) == n + 2);

	/*
	 * One invitation, two devices: alice2 issues it and takes bob's
	 * answer; once alice holds alice2's records, the one slot is gone
	 * on her device too.
	 */
	CHECK_RC(make_inv(alice2, "alice", 1, in_hours(4), &s, text), 0);
	CHECK_RC(contacts_issue(alice2, &s, text), 0);
	CHECK_RC(contacts_take_answer(alice2, &s, &cb, "lan", now, &fresh), 0);
	CHECK(fresh == 1);
	relay(alice2, alice);
	CHECK_RC(contacts_issued(alice, s.token, &e), 0);
	CHECK(same_inv(&s, &e));
	n = nrecs(alice);
	CHECK_RC(contacts_take_answer(alice, &s, &cc, "lan", now, &fresh),
	    KITH_EUSED);
	CHECK(nrecs(alice) == n);
	CHECK_RC(contacts_take_answer(alice, &s, &cb, "lan", now, &fresh), 0);
	CHECK(fresh == 0);
	CHECK_RC(contacts_state(alice, &s, now, &st), 0);
	CHECK(st.used == 1);
	invitation_wipe(&u);
	invitation_wipe(&w);
	invitation_wipe(&e);
	invitation_wipe(&s);
}

/* ---- 4. replies -------------------------------------------------------- */

static void
test_reply(void)
{
	struct invitation a, b;
	struct invite_reply r, t, d;
	struct contact_card cb;
	char text[INVITE_MAXTEXT], rtext[REPLY_MAXTEXT];
	uint8_t h[32];

	CHECK_RC(make_inv(alice, "alice", 1, in_hours(4), &a, text), 0);
	CHECK_RC(make_inv(alice, "alice", 1, in_hours(4), &b, text), 0);
	CHECK_RC(contacts_card_mine(bob, "bob", &cb), 0);
	memset(&r, 0, sizeof(r));
	memcpy(r.token, a.token, INVITE_TOKENLEN);
	memcpy(r.account_pk, bob->account_pk, 32);
	r.dev = cb.dev;
	snprintf(r.alias, sizeof(r.alias), "bob");
	CHECK_RC(invitation_hash(&a, h), 0);
	CHECK_RC(reply_sign(&r, h, bob->dk->sign_sk), 0);
	CHECK_RC(reply_check(&r, &a), 0);
	CHECK_RC(reply_encode(&r, rtext, sizeof(rtext)), 0);
	CHECK_RC(reply_decode(rtext, strlen(rtext), &d), 0);
	CHECK_RC(reply_check(&d, &a), 0);

	/* B with A's reply, its token copied in: the hash differs. */
	t = r;
	memcpy(t.token, b.token, INVITE_TOKENLEN);
	CHECK_RC(reply_check(&t, &b), KITH_ECRYPTO);
	CHECK_RC(reply_check(&r, &b), KITH_ENOENT);

	/* The certificate: another account, a changed name (re-signed). */
	t = r;
	memcpy(t.account_pk, carol->account_pk, 32);
	CHECK_RC(reply_sign(&t, h, bob->dk->sign_sk), 0);
	CHECK_RC(reply_check(&t, &a), KITH_ECRYPTO);
	t = r;
	snprintf(t.dev.name, sizeof(t.dev.name), "not-bob");
	CHECK_RC(reply_sign(&t, h, bob->dk->sign_sk), 0);
	CHECK_RC(reply_check(&t, &a), KITH_ECRYPTO);
	t = r;
	t.sig[0] ^= 1;
	CHECK_RC(reply_check(&t, &a), KITH_ECRYPTO);
	invitation_wipe(&a);
	invitation_wipe(&b);
}

/* ---- 5. cards -------------------------------------------------------- */

static void
test_card(void)
{
	struct contact_card c, d;
	uint8_t *b = NULL, *x;
	size_t len = 0, i, rstart, bad;
	int rc;

	CHECK_RC(contacts_card_mine(bob, "bob", &c), 0);
	CHECK(c.roster == bob->roster->blob);
	CHECK_RC(contacts_card_enc(&c, &b, &len), 0);
	if (b == NULL)
		return;
	CHECK(len == 2 + 3 + bob->roster->bloblen);
	CHECK_RC(contacts_card_dec(b, len, bob->dk->kx_pk, &d), 0);
	CHECK(memcmp(d.account_pk, bob->account_pk, 32) == 0);
	CHECK(strcmp(d.alias, "bob") == 0);
	CHECK(memcmp(d.dev.sign_pk, bob->dk->sign_pk, 32) == 0);
	CHECK(memcmp(d.dev.kx_pk, bob->dk->kx_pk, 32) == 0);
	CHECK(strcmp(d.dev.name, c.dev.name) == 0 && d.dev.added ==
	    c.dev.added);
	CHECK(d.roster != NULL && d.rosterlen == bob->roster->bloblen &&
	    memcmp(d.roster, bob->roster->blob, d.rosterlen) == 0);
	contacts_card_free(&d);
	CHECK(d.roster == NULL);

	CHECK_RC(contacts_card_dec(b, len, alice->dk->kx_pk, &d),
	    KITH_ENOTMEMBER);
	CHECK(d.roster == NULL);
	contacts_card_free(&d);

	/* Every truncation. */
	bad = 0;
	for (i = 0; i < len; i++) {
		if ((rc = contacts_card_dec(b, i, bob->dk->kx_pk, &d)) == 0) {
			bad++;
			contacts_card_free(&d);
		}
	}
	CHECK(bad == 0);
	/* A byte more. */
	if ((x = malloc(len + 1)) != NULL) {
		memcpy(x, b, len);
		x[len] = 0;
		rc = contacts_card_dec(x, len + 1, bob->dk->kx_pk, &d);
		CHECK(rc != 0);
		if (rc == 0)
			contacts_card_free(&d);
		free(x);
	}
	/* Every byte of the roster part, flipped. */
	rstart = 2 + b[1];
	bad = 0;
	for (i = rstart; i < len; i++) {
		b[i] ^= 0x01;
		if ((rc = contacts_card_dec(b, len, bob->dk->kx_pk, &d)) == 0) {
			bad++;
			contacts_card_free(&d);
		}
		b[i] ^= 0x01;
	}
	CHECK(bad == 0);
	/* The header. */
	b[0] = 2;
	CHECK_RC(contacts_card_dec(b, len, bob->dk->kx_pk, &d),
	    KITH_EVERSION);
	b[0] = 1;
	b[1] = 0;
	CHECK_RC(contacts_card_dec(b, len, bob->dk->kx_pk, &d), KITH_EFORMAT);
	b[1] = 3;
	b[3] = '\0';
	CHECK_RC(contacts_card_dec(b, len, bob->dk->kx_pk, &d), KITH_EFORMAT);
	b[3] = 'o';
	CHECK_RC(contacts_card_dec(b, len, bob->dk->kx_pk, &d), 0);
	contacts_card_free(&d);
	free(b);

	/* No roster, no card for the LAN. */
	c.roster = NULL;
	b = NULL;
	CHECK_RC(contacts_card_enc(&c, &b, &len), KITH_EINVAL);
	free(b);
	CHECK_RC(contacts_card_mine(bob, "", &c), KITH_EINVAL);
}

/* ---- 6. the LAN exchange --------------------------------------------- */

struct answer {
	struct home *hm;
	struct invitation inv;
	int fd;
	const char *alias;
	struct contact_card card;
	uint8_t why;
	int rc;
};

static void *
answer_main(void *arg)
{
	struct answer *a = arg;

	a->rc = invx_answer(a->hm, &a->inv, a->fd, a->alias, &a->card,
	    &a->why);
	return (NULL);
}

/* One frame: u16 big-endian length || bytes, into ${buf} (the bytes at
 * buf + 2).  The length of the bytes, or -1. */
static long
frame_read(int fd, uint8_t *buf)
{
	size_t got = 0, want = 2;
	ssize_t r;

	while (got < want) {
		r = recv(fd, buf + got, want - got, 0);
		if (r <= 0)
			return (-1);
		got += (size_t)r;
		if (got == 2 && want == 2)
			want = 2 + (size_t)kith_be16dec(buf);
	}
	return ((long)(want - 2));
}

static int
frame_write(int fd, const uint8_t *msg, size_t len)
{
	uint8_t hdr[2];

	kith_be16enc(hdr, (uint16_t)len);
	if (send(fd, hdr, 2, MSG_NOSIGNAL) != 2 ||
	    send(fd, msg, len, MSG_NOSIGNAL) != (ssize_t)len)
		return (-1);
	return (0);
}

/* What kithd's side saw. */
struct served {
	int start_rc;		/* invx_srv_start, or 1: not reached */
	int card_rc;		/* invx_srv_card, or 1: not reached */
	struct invx_result res;
};

/*
 * ${invitee} answers ${inv} (its copy) over a socketpair; this thread
 * serves it as ${inviter}'s agent.  The answer's outcome is in ${a}.
 */
static void
lan_run(struct home *inviter, struct home *invitee,
    const struct invitation *inv, const char *alias, struct answer *a,
    struct served *sv)
{
	struct timeval tv = { 30, 0 };
	uint8_t *buf, *reply;
	invx_srv *v = NULL;
	pthread_t th;
	size_t rlen;
	long n;
	int sp[2];

	memset(sv, 0, sizeof(*sv));
	sv->start_rc = sv->card_rc = 1;
	memset(a, 0, sizeof(*a));
	a->rc = 1;
	a->hm = invitee;
	a->inv = *inv;
	a->alias = alias;
	buf = malloc(2 + NOISE_MAXMSG);
	reply = malloc(NOISE_MAXMSG);
	if (buf == NULL || reply == NULL ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, sp) != 0) {
		CHECK(!"socketpair");
		free(buf);
		free(reply);
		return;
	}
	(void)setsockopt(sp[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	a->fd = sp[0];
	if (pthread_create(&th, NULL, answer_main, a) != 0) {
		CHECK(!"pthread_create");
		close(sp[0]);
		close(sp[1]);
		free(buf);
		free(reply);
		return;
	}
	if ((n = frame_read(sp[1], buf)) < 0)
		goto done;
	sv->start_rc = invx_srv_start(inviter, buf + 2, (size_t)n, &v, reply,
	    NOISE_MAXMSG, &rlen);
	if (sv->start_rc != 0 || frame_write(sp[1], reply, rlen) != 0 ||
	    (n = frame_read(sp[1], buf)) < 0)
		goto done;
	sv->card_rc = invx_srv_card(v, buf + 2, (size_t)n, reply,
	    NOISE_MAXMSG, &rlen, &sv->res);
	if (sv->card_rc == 0)
		(void)frame_write(sp[1], reply, rlen);
done:
	invx_srv_free(v);
	close(sp[1]);
	pthread_join(th, NULL);
	free(buf);
	free(reply);
}

struct find_contact {
	char acct[65];
	const char *role, *how;
	int found;
	int with_roster;
};

static int
find_contact_cb(void *arg, json_t *o)
{
	struct find_contact *f = arg;
	const char *svc = json_string_value(json_object_get(o, "service"));
	const char *acct = json_string_value(json_object_get(o, "account"));
	const char *role = json_string_value(json_object_get(o, "role"));
	const char *how = json_string_value(json_object_get(o, "how"));

	if (svc == NULL || strcmp(svc, "kith:contact") != 0 || acct == NULL ||
	    strcmp(acct, f->acct) != 0 || role == NULL ||
	    strcmp(role, f->role) != 0 || how == NULL ||
	    strcmp(how, f->how) != 0)
		return (0);
	f->found++;
	if (json_is_string(json_object_get(o, "roster")))
		f->with_roster++;
	return (0);
}

static int
has_contact(struct home *hm, struct home *who, const char *role,
    const char *how, int *with_roster)
{
	struct find_contact f;

	memset(&f, 0, sizeof(f));
	kith_hex(who->account_pk, 32, f.acct);
	f.role = role;
	f.how = how;
	CHECK_RC(contacts_each(hm, find_contact_cb, &f), 0);
	if (with_roster != NULL)
		*with_roster = f.with_roster;
	return (f.found);
}

static void
test_lan(void)
{
	struct invitation inv, t;
	struct answer a;
	struct served sv;
	struct invite_state st;
	char text[INVITE_MAXTEXT], *how = NULL;
	uint64_t n, nb, now = kith_now();
	int wr = 0, nc, nr = 0;

	CHECK_RC(make_inv(alice, "alice-chat", 1, in_hours(4), &inv, text),
	    0);
	CHECK_RC(contacts_issue(alice, &inv, text), 0);
	/* Bob met alice by her other invitations already (test_answers). */
	nc = has_contact(alice, bob, "invitee", "lan", &nr);

	/* Bob answers: taken. */
	n = nrecs(alice);
	nb = nrecs(bob);
	lan_run(alice, bob, &inv, "bob", &a, &sv);
	CHECK_RC(sv.start_rc, 0);
	CHECK_RC(sv.card_rc, 0);
	CHECK_RC(sv.res.rc, 0);
	CHECK(sv.res.fresh == 1);
	CHECK(strcmp(sv.res.alias, "bob") == 0);
	CHECK(memcmp(sv.res.account_pk, bob->account_pk, 32) == 0);
	CHECK(memcmp(sv.res.token, inv.token, INVITE_TOKENLEN) == 0);
	CHECK_RC(a.rc, 0);
	CHECK(a.why == 0);
	CHECK(memcmp(a.card.account_pk, alice->account_pk, 32) == 0);
	CHECK(memcmp(a.card.dev.sign_pk, alice->dk->sign_pk, 32) == 0);
	CHECK(memcmp(a.card.dev.kx_pk, alice->dk->kx_pk, 32) == 0);
	CHECK(memcmp(a.card.dev.sig, inv.dev.sig, 64) == 0);
	CHECK(strcmp(a.card.alias, "alice-chat") == 0);
	CHECK(a.card.roster != NULL &&
	    a.card.rosterlen == alice->roster->bloblen &&
	    memcmp(a.card.roster, alice->roster->blob, a.card.rosterlen) == 0);
	CHECK(nrecs(alice) == n + 2);
	CHECK(nrecs(bob) == nb);	/* the answer records nothing itself */
	CHECK(has_contact(alice, bob, "invitee", "lan", &wr) == nc + 1);
	CHECK(wr == nr + 1);
	CHECK_RC(contacts_state(alice, &inv, now, &st), 0);
	CHECK(st.used == 1);
	/* What the invitee's command then records. */
	CHECK_RC(contacts_take_invitation(bob, &inv, text, &a.card, "lan",
	    now), 0);
	CHECK(contacts_received(bob, inv.token, &how) == 1);
	CHECK(how != NULL && strcmp(how, "lan") == 0);
	free(how);
	CHECK(contacts_member(bob, URI, NULL) == 1);
	CHECK(has_contact(bob, alice, "inviter", "lan", NULL) == 1);
	contacts_card_free(&a.card);

	/* Bob again: taken, no slot used. */
	n = nrecs(alice);
	lan_run(alice, bob, &inv, "bob", &a, &sv);
	CHECK_RC(a.rc, 0);
	CHECK_RC(sv.res.rc, 0);
	CHECK(sv.res.fresh == 0);
	CHECK(nrecs(alice) == n);
	contacts_card_free(&a.card);

	/* Carol: every use taken. */
	lan_run(alice, carol, &inv, "carol", &a, &sv);
	CHECK_RC(sv.start_rc, 0);
	CHECK_RC(sv.card_rc, 0);
	CHECK_RC(sv.res.rc, KITH_EUSED);
	CHECK(sv.res.why == INVX_R_USED);
	CHECK(sv.res.fresh == 0);
	CHECK(strcmp(sv.res.alias, "carol") == 0);
	CHECK_RC(a.rc, KITH_EREFUSED);
	CHECK(a.why == INVX_R_USED);
	CHECK(a.card.roster == NULL);
	CHECK(nrecs(alice) == n);
	CHECK(has_contact(alice, carol, "invitee", "lan", NULL) == 0);

	/* Alice's own second device. */
	CHECK_RC(make_inv(alice, "alice", 1, in_hours(4), &t, text), 0);
	CHECK_RC(contacts_issue(alice, &t, text), 0);
	n = nrecs(alice);
	lan_run(alice, alice2, &t, "me", &a, &sv);
	CHECK_RC(sv.res.rc, KITH_EINVAL);
	CHECK(sv.res.why == INVX_R_SELF);
	CHECK_RC(a.rc, KITH_EREFUSED);
	CHECK(a.why == INVX_R_SELF);
	CHECK(nrecs(alice) == n);

	/* A wrong secret in carol's copy: msg1 reads, msg2 does not. */
	t.secret[0] ^= 0x01;
	lan_run(alice, carol, &t, "carol", &a, &sv);
	CHECK_RC(sv.start_rc, 0);
	CHECK(sv.card_rc == 1);
	CHECK_RC(a.rc, KITH_EHANDSHAKE);
	CHECK(nrecs(alice) == n);
	CHECK(has_contact(alice, carol, "invitee", "lan", NULL) == 0);
	t.secret[0] ^= 0x01;

	/*
	 * An impostor in alice's place (mDNS answered, a hint address taken
	 * over): carol's agent, without alice's static key, cannot even read
	 * message 1, and bob gets no card.
	 */
	{
		uint64_t b0 = nrecs(bob), c0 = nrecs(carol);

		lan_run(carol, bob, &t, "bob", &a, &sv);
		CHECK_RC(sv.start_rc, KITH_EHANDSHAKE);
		CHECK_RC(a.rc, KITH_EHANDSHAKE);
		CHECK(nrecs(bob) == b0 && nrecs(carol) == c0);
	}

	/* A token alice never issued. */
	{
		struct invitation u = t;

		randombytes_buf(u.token, sizeof(u.token));
		lan_run(alice, carol, &u, "carol", &a, &sv);
		CHECK_RC(sv.start_rc, KITH_ENOENT);
		CHECK_RC(a.rc, KITH_EHANDSHAKE);
		CHECK(nrecs(alice) == n);
		invitation_wipe(&u);
	}

	/* Not an invitation answer at all. */
	{
		uint8_t junk[96], reply[256];
		invx_srv *v = NULL;
		size_t rlen;

		randombytes_buf(junk, sizeof(junk));
		CHECK_RC(invx_srv_start(alice, junk, sizeof(junk), &v, reply,
		    sizeof(reply), &rlen), KITH_EHANDSHAKE);
		CHECK(v == NULL);
	}

	/* Carol's copy says something else (same token and secret): the
	 * handshake completes, the invitation hash in CARD does not match. */
	{
		struct invitation u = t;

		snprintf(u.alias, sizeof(u.alias), "someone-else");
		lan_run(alice, carol, &u, "carol", &a, &sv);
		CHECK_RC(sv.start_rc, 0);
		CHECK_RC(sv.card_rc, KITH_EPROTO);
		CHECK(a.rc != 0 && a.rc != KITH_EREFUSED);
		CHECK(nrecs(alice) == n);
		invitation_wipe(&u);
	}

	/* Carol, with the right copy: taken. */
	lan_run(alice, carol, &t, "carol", &a, &sv);
	CHECK_RC(a.rc, 0);
	CHECK_RC(sv.res.rc, 0);
	CHECK(sv.res.fresh == 1);
	CHECK(has_contact(alice, carol, "invitee", "lan", NULL) == 1);
	contacts_card_free(&a.card);

	/* Withdrawn. */
	CHECK_RC(make_inv(alice, "alice", 5, in_hours(4), &t, text), 0);
	CHECK_RC(contacts_issue(alice, &t, text), 0);
	CHECK_RC(contacts_withdraw(alice, t.token), 0);
	n = nrecs(alice);
	lan_run(alice, bob, &t, "bob", &a, &sv);
	CHECK_RC(sv.res.rc, KITH_EWITHDRAWN);
	CHECK_RC(a.rc, KITH_EREFUSED);
	CHECK(a.why == INVX_R_WITHDRAWN);
	CHECK(nrecs(alice) == n);
	invitation_wipe(&t);
	invitation_wipe(&inv);
}

/* ---- 7. a revoked device ------------------------------------------------ */

static void
test_revoked(void)
{
	struct invitation inv;
	struct contact_card cb, c2, d;
	struct answer a;
	struct served sv;
	struct roster *r, *before;
	char text[INVITE_MAXTEXT];
	uint8_t *b = NULL;
	size_t len = 0;
	uint64_t n, now = kith_now();
	int fresh;

	CHECK_RC(make_inv(alice2, "alice", 3, in_hours(4), &inv, text), 0);
	CHECK_RC(contacts_issue(alice2, &inv, text), 0);
	CHECK_RC(invite_check(&inv, now, alice->roster->blob,
	    alice->roster->bloblen), 0);
	CHECK_RC(contacts_card_mine(alice2, "alice", &c2), 0);
	CHECK_RC(contacts_card_enc(&c2, &b, &len), 0);
	CHECK_RC(contacts_card_dec(b, len, alice2->dk->kx_pk, &d), 0);
	CHECK(memcmp(d.account_pk, alice->account_pk, 32) == 0);
	contacts_card_free(&d);
	free(b);
	b = NULL;
	CHECK_RC(roster_decode(alice->roster->blob, alice->roster->bloblen,
	    alice->account_pk, &before), 0);

	/* Alice revokes it: a new epoch. */
	CHECK_RC(roster_next(alice->roster, &r), 0);
	CHECK_RC(roster_revoke(r, alice2->dk->sign_pk, alice->dk->sign_pk),
	    0);
	CHECK_RC(home_roster_commit(alice, r, alice_sk, 1, NULL), 0);
	CHECK(roster_status(alice->roster, alice2->dk->sign_pk) ==
	    ROSTER_REVOKED);
	CHECK_RC(invite_check(&inv, now, alice->roster->blob,
	    alice->roster->bloblen), KITH_EREVOKED);
	CHECK_RC(invite_check(&inv, now, before->blob, before->bloblen), 0);
	CHECK_RC(invite_check(&inv, now, NULL, 0), 0);

	/* Alice's device refuses answers to it. */
	CHECK_RC(contacts_card_mine(bob, "bob", &cb), 0);
	n = nrecs(alice);
	fresh = -1;
	CHECK_RC(contacts_take_answer(alice, &inv, &cb, "reply", now, &fresh),
	    KITH_EREVOKED);
	CHECK(fresh == 0);
	CHECK(nrecs(alice) == n);

	/* A card in the new roster's name does not decode any more. */
	c2.roster = alice->roster->blob;
	c2.rosterlen = alice->roster->bloblen;
	CHECK_RC(contacts_card_enc(&c2, &b, &len), 0);
	CHECK_RC(contacts_card_dec(b, len, alice2->dk->kx_pk, &d),
	    KITH_EREVOKED);
	free(b);

	/* alice2 learns it is revoked; its agent refuses on the LAN. */
	CHECK_RC(roster_decode(alice->roster->blob, alice->roster->bloblen,
	    alice->account_pk, &r), 0);
	CHECK_RC(home_roster_install(alice2, r, NULL), 0);
	CHECK(roster_status(alice2->roster, alice2->dk->sign_pk) ==
	    ROSTER_REVOKED);
	n = nrecs(alice2);
	lan_run(alice2, bob, &inv, "bob", &a, &sv);
	CHECK_RC(sv.start_rc, 0);
	CHECK_RC(sv.res.rc, KITH_EREVOKED);
	CHECK(sv.res.why == INVX_R_REVOKED);
	CHECK_RC(a.rc, KITH_EREFUSED);
	CHECK(a.why == INVX_R_REVOKED);
	CHECK(nrecs(alice2) == n);
	roster_free(before);
	invitation_wipe(&inv);
}

int
main(void)
{
	struct home *bare;

	if (sodium_init() < 0)
		return (1);
	alice = acct_new("contacts", "alice");
	bob = acct_new("contacts", "bob");
	carol = acct_new("contacts", "carol");
	if ((roster_v1 = malloc(alice->roster->bloblen)) == NULL)
		return (1);
	memcpy(roster_v1, alice->roster->blob, alice->roster->bloblen);
	roster_v1_len = alice->roster->bloblen;
	if (home_account_sk(alice, PASS, sizeof(PASS) - 1, &alice_sk) != 0) {
		fprintf(stderr, "cannot unseal alice's account key\n");
		return (1);
	}
	if ((alice2 = acct_enrol("contacts", alice, alice_sk,
	    "alice-tablet")) == NULL) {
		fprintf(stderr, "cannot enrol alice's second device\n");
		return (1);
	}

	/* No account: nothing to sign with. */
	{
		struct invitation inv;
		char text[INVITE_MAXTEXT];

		CHECK_RC(home_open(acct_tmpdir("contacts", "bare"), 1,
		    &bare), 0);
		CHECK_RC(make_inv(bare, "x", 1, in_hours(1), &inv, text),
		    KITH_ENOACCOUNT);
		home_close(bare);
	}

	test_check();
	test_issue();
	test_answers();
	test_reply();
	test_card();
	test_lan();
	test_revoked();

	sodium_free(alice_sk);
	free(roster_v1);
	home_close(alice2);
	home_close(carol);
	home_close(bob);
	home_close(alice);
	acct_cleanup();
	printf("contacts: %d checks passed, %d failed\n", npass, nfail);
	return (nfail == 0 ? 0 : 1);
}
