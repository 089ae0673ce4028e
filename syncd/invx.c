/*
 * invx.c: the answer to an invitation over the LAN (invx.h).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "chan.h"
#include "invx.h"
#include "kith_err.h"
#include "kith_util.h"
#include "noise.h"

#define PSK_CTX "kith invite psk v1"
#define TIMEOUT_MS 15000

struct invx_srv {
	struct home *hm;
	noise_cs *tx, *rx;
	uint8_t remote_kx[32];
	struct invitation inv;
};

const char *
invx_reason(uint8_t why)
{

	switch (why) {
	case INVX_R_USED:
		return ("it has been used as many times as it allows");
	case INVX_R_EXPIRED:
		return ("it has expired");
	case INVX_R_WITHDRAWN:
		return ("the inviter withdrew it");
	case INVX_R_REVOKED:
		return ("the device that issued it has been revoked");
	case INVX_R_BADCARD:
		return ("your contact card did not verify");
	case INVX_R_SELF:
		return ("it is your own account's invitation");
	default:
		return ("the inviter's device could not take the answer");
	}
}

static void
psk_of(const struct invitation *inv, uint8_t psk[32])
{

	crypto_generichash(psk, 32, (const uint8_t *)PSK_CTX,
	    sizeof(PSK_CTX) - 1, inv->secret, INVITE_SECRETLEN);
}

void
invx_tag(const struct invitation *inv, char tag[static 17])
{
	static const char ctx[] = "kith invite tag v1";
	uint8_t h[8];

	crypto_generichash(h, sizeof(h), (const uint8_t *)ctx,
	    sizeof(ctx) - 1, inv->secret, INVITE_SECRETLEN);
	kith_hex(h, sizeof(h), tag);
}

#define ANN_KEY "invite_tags"
#define ANN_LEN (16 + 4)

/* The list with expired entries and ${drop} taken out, ${add} added. */
static int
announce_edit(struct home *hm, const char *drop, const char *add,
    uint32_t add_exp)
{
	uint8_t *v = NULL, out[(INVX_MAXANNOUNCE + 1) * ANN_LEN];
	size_t len = 0, i, n = 0, skip;
	uint64_t now = kith_now();

	if (store_meta_get(hm->st, ANN_KEY, &v, &len) != 0)
		len = 0;
	for (i = 0; i + ANN_LEN <= len; i += ANN_LEN) {
		if (kith_be32dec(v + i + 16) + (uint64_t)INVITE_SKEW < now ||
		    (drop != NULL && memcmp(v + i, drop, 16) == 0) || /* not secret */
		    (add != NULL && memcmp(v + i, add, 16) == 0)) /* not secret */
			continue;
		memcpy(out + n, v + i, ANN_LEN);
		n += ANN_LEN;
		if (n == sizeof(out))
			break;
	}
	free(v);
	if (add != NULL) {
		if (n + ANN_LEN > INVX_MAXANNOUNCE * ANN_LEN) {
			skip = n + ANN_LEN - INVX_MAXANNOUNCE * ANN_LEN;
			memmove(out, out + skip, n - skip);
			n -= skip;
		}
		memcpy(out + n, add, 16);
		kith_be32enc(out + n + 16, add_exp);
		n += ANN_LEN;
	}
	if (n == 0)
		return (store_meta_del(hm->st, ANN_KEY));
	return (store_meta_put(hm->st, ANN_KEY, out, n));
}

int
invx_announce_add(struct home *hm, const struct invitation *inv)
{
	char tag[17];

	invx_tag(inv, tag);
	return (announce_edit(hm, NULL, tag, inv->expiry));
}

int
invx_announce_del(struct home *hm, const struct invitation *inv)
{
	char tag[17];

	invx_tag(inv, tag);
	return (announce_edit(hm, tag, NULL, 0));
}

size_t
invx_announced(struct home *hm, uint64_t now, char (*tags)[17], size_t max)
{
	uint8_t *v = NULL;
	size_t len = 0, i, n = 0;

	if (store_meta_get(hm->st, ANN_KEY, &v, &len) != 0)
		return (0);
	for (i = 0; i + ANN_LEN <= len && n < max; i += ANN_LEN) {
		if (kith_be32dec(v + i + 16) + (uint64_t)INVITE_SKEW < now)
			continue;
		memcpy(tags[n], v + i, 16);
		tags[n][16] = '\0';
		n++;
	}
	free(v);
	return (n);
}

/* ---- the invitee -------------------------------------------------- */

int
invx_answer(struct home *hm, const struct invitation *inv, int fd,
    const char *alias, struct contact_card *inviter, uint8_t *why)
{
	struct contact_card mine;
	uint8_t psk[32], h[32], *card = NULL, *msg = NULL, type;
	const uint8_t *body;
	noise_hs *hs = NULL;
	size_t cardlen, blen;
	chan *c = NULL;
	int rc;

	memset(inviter, 0, sizeof(*inviter));
	*why = 0;
	if ((rc = chan_new(fd, TIMEOUT_MS, &c)) != 0)
		return (rc);
	if ((rc = contacts_card_mine(hm, alias, &mine)) != 0 ||
	    (rc = contacts_card_enc(&mine, &card, &cardlen)) != 0 ||
	    (rc = invitation_hash(inv, h)) != 0)
		goto done;
	if (32 + cardlen > CHAN_MAXBODY) {
		rc = KITH_ETOOBIG;
		goto done;
	}
	psk_of(inv, psk);
	rc = noise_hs_new(&hs, INVX_PROTOCOL, 1,
	    (const uint8_t *)INVX_PROLOGUE, sizeof(INVX_PROLOGUE) - 1,
	    hm->dk->kx_sk, inv->dev.kx_pk, psk);
	sodium_memzero(psk, sizeof(psk));
	if (rc != 0)
		goto done;
	if ((rc = chan_hs_send(c, hs, inv->token, INVITE_TOKENLEN)) != 0)
		goto done;
	if ((msg = malloc(NOISE_MAXMSG)) == NULL) {
		rc = KITH_ENOMEM;
		goto done;
	}
	/* A device that does not hold the invitation hangs up here. */
	if ((rc = chan_hs_recv(c, hs, msg, NOISE_MAXMSG, &blen)) != 0) {
		if (rc == KITH_ECLOSED || rc == KITH_ETRUNC)
			rc = KITH_EHANDSHAKE;
		goto done;
	}
	memcpy(msg, h, 32);
	memcpy(msg + 32, card, cardlen);
	if ((rc = chan_send(c, INVX_CARD, msg, 32 + cardlen)) != 0 ||
	    (rc = chan_recv_ref(c, &type, &body, &blen)) != 0)
		goto done;
	if (type == INVX_REFUSE && blen == 1) {
		*why = body[0];
		rc = KITH_EREFUSED;
		goto done;
	}
	if (type != INVX_ACCEPT) {
		rc = KITH_EPROTO;
		goto done;
	}
	/* The inviter's card: its account, the device that spoke. */
	if (contacts_card_dec(body, blen, inv->dev.kx_pk, inviter) != 0 ||
	    memcmp(inviter->account_pk, inv->account_pk, 32) != 0 || /* not secret */
	    memcmp(inviter->dev.sign_pk, inv->dev.sign_pk, 32) != 0) { /* not secret */
		contacts_card_free(inviter);
		rc = KITH_EPROTO;
		goto done;
	}
	/* The card from a roster has no certificate: the invitation's is
	 * the same device's, so the card is whole. */
	memcpy(inviter->dev.sig, inv->dev.sig, 64);
	rc = 0;
done:
	free(msg);
	free(card);
	noise_hs_free(hs);
	chan_free(c);
	return (rc);
}

/* ---- the inviter's agent ---------------------------------------------- */

int
invx_srv_start(struct home *hm, const uint8_t *msg, size_t len,
    invx_srv **out, uint8_t *reply, size_t cap, size_t *rlen)
{
	uint8_t tok[64], psk[32];
	noise_hs *hs = NULL;
	invx_srv *v;
	size_t tlen;
	int rc;

	if (hm->h == NULL || hm->roster == NULL)
		return (KITH_EHANDSHAKE);
	if ((v = calloc(1, sizeof(*v))) == NULL)
		return (KITH_ENOMEM);
	v->hm = hm;
	if (noise_hs_new(&hs, INVX_PROTOCOL, 0,
	    (const uint8_t *)INVX_PROLOGUE, sizeof(INVX_PROLOGUE) - 1,
	    hm->dk->kx_sk, NULL, NULL) != 0) {
		rc = KITH_ENOMEM;
		goto fail;
	}
	if (noise_hs_read(hs, msg, len, tok, sizeof(tok), &tlen) != 0 ||
	    tlen != INVITE_TOKENLEN) {
		rc = KITH_EHANDSHAKE;
		goto fail;
	}
	if ((rc = contacts_issued(hm, tok, &v->inv)) != 0) {
		rc = rc == KITH_ENOENT ? KITH_ENOENT : KITH_EHANDSHAKE;
		goto fail;
	}
	/* Only the device that issued it holds the static key it names. */
	if (memcmp(v->inv.dev.kx_pk, hm->dk->kx_pk, 32) != 0) { /* not secret */
		rc = KITH_ENOENT;
		goto fail;
	}
	memcpy(v->remote_kx, noise_hs_remote_static(hs), 32);
	psk_of(&v->inv, psk);
	noise_hs_set_psk(hs, psk);
	sodium_memzero(psk, sizeof(psk));
	if (noise_hs_write(hs, NULL, 0, reply, cap, rlen) != 0 ||
	    noise_hs_split(hs, &v->tx, &v->rx) != 0) {
		rc = KITH_EHANDSHAKE;
		goto fail;
	}
	noise_hs_free(hs);
	*out = v;
	return (0);
fail:
	noise_hs_free(hs);
	invx_srv_free(v);
	return (rc);
}

static int
seal(invx_srv *v, uint8_t type, const uint8_t *body, size_t blen,
    uint8_t *reply, size_t cap, size_t *rlen)
{

	if (1 + blen + NOISE_TAGLEN > cap || 1 + blen + NOISE_TAGLEN >
	    NOISE_MAXMSG)
		return (KITH_ETOOBIG);
	reply[0] = type;
	if (blen > 0)
		memmove(reply + 1, body, blen);
	if (noise_cs_encrypt(v->tx, NULL, 0, reply, 1 + blen, reply) != 0)
		return (KITH_EINVAL);
	*rlen = 1 + blen + NOISE_TAGLEN;
	return (0);
}

static uint8_t
reason_of(int rc)
{

	switch (rc) {
	case KITH_EUSED:
		return (INVX_R_USED);
	case KITH_EEXPIRED:
		return (INVX_R_EXPIRED);
	case KITH_EWITHDRAWN:
		return (INVX_R_WITHDRAWN);
	case KITH_EREVOKED:
		return (INVX_R_REVOKED);
	case KITH_EINVAL:
		return (INVX_R_SELF);
	default:
		return (INVX_R_INTERNAL);
	}
}

int
invx_srv_card(invx_srv *v, const uint8_t *frame, size_t len,
    uint8_t *reply, size_t cap, size_t *rlen, struct invx_result *res)
{
	struct contact_card them, mine;
	uint8_t h[32], *pt, *card = NULL;
	size_t cardlen;
	int rc;

	memset(res, 0, sizeof(*res));
	memcpy(res->token, v->inv.token, INVITE_TOKENLEN);
	if (len < 1 + 32 + NOISE_TAGLEN)
		return (KITH_EPROTO);
	if ((pt = malloc(len)) == NULL)
		return (KITH_ENOMEM);
	if (noise_cs_decrypt(v->rx, NULL, 0, frame, len, pt) != 0) {
		free(pt);
		return (KITH_ECRYPTO);
	}
	len -= NOISE_TAGLEN;
	if (pt[0] != INVX_CARD || invitation_hash(&v->inv, h) != 0 ||
	    sodium_memcmp(pt + 1, h, 32) != 0) {
		free(pt);
		return (KITH_EPROTO);
	}
	rc = contacts_card_dec(pt + 1 + 32, len - 1 - 32, v->remote_kx, &them);
	free(pt);
	if (rc != 0) {
		res->rc = rc;
		res->why = INVX_R_BADCARD;
		return (seal(v, INVX_REFUSE, &res->why, 1, reply, cap, rlen));
	}
	memcpy(res->account_pk, them.account_pk, 32);
	memcpy(res->alias, them.alias, sizeof(res->alias));
	/* Our card first: nothing is recorded that cannot be answered. */
	if ((rc = contacts_card_mine(v->hm, v->inv.alias, &mine)) != 0 ||
	    (rc = contacts_card_enc(&mine, &card, &cardlen)) != 0 ||
	    1 + cardlen + NOISE_TAGLEN > cap ||
	    1 + cardlen + NOISE_TAGLEN > NOISE_MAXMSG) {
		contacts_card_free(&them);
		free(card);
		res->rc = rc != 0 ? rc : KITH_ETOOBIG;
		res->why = INVX_R_INTERNAL;
		return (seal(v, INVX_REFUSE, &res->why, 1, reply, cap, rlen));
	}
	res->rc = contacts_take_answer(v->hm, &v->inv, &them, "lan",
	    kith_now(), &res->fresh);
	contacts_card_free(&them);
	if (res->rc != 0) {
		free(card);
		res->why = reason_of(res->rc);
		return (seal(v, INVX_REFUSE, &res->why, 1, reply, cap, rlen));
	}
	rc = seal(v, INVX_ACCEPT, card, cardlen, reply, cap, rlen);
	free(card);
	return (rc);
}

void
invx_srv_free(invx_srv *v)
{

	if (v == NULL)
		return;
	noise_cs_free(v->tx);
	noise_cs_free(v->rx);
	invitation_wipe(&v->inv);
	free(v);
}
