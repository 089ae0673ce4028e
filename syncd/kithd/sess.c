/*
 * sess.c: sync sessions between two devices of one account.
 *
 * A session is a TCP connection carrying Noise_KK_25519_ChaChaPoly_BLAKE2b
 * with prologue "kith sync v1": both static keys are the devices' kx keys
 * from the roster.  The initiator knows whom it calls (from the discovery
 * tag, or by trying each device for a --peer address); the responder finds
 * the initiator by trying the first message against every active device
 * of its roster.  When none fits, the first message may be the start of
 * Noise_XK (the initiator knows only the responder): its third message
 * carries the initiator's roster, which the responder installs if it is
 * newer, and the session goes on if that roster lists the initiator as
 * active; a device that its roster shows revoked gets REFUSE.  An
 * initiator refused with KK tries XK next.  Frames are
 * u16 length || Noise message, as in pairing (docs/PROTOCOL.md §7); each
 * transport plaintext is type (1) || body.  The messages (§11):
 *
 *   HELLO     version (1) = 2 || roster version (8) || roster hash (32) ||
 *             vv: n (2) || n * (origin (32) || seq (8))
 *   ROSTER    a roster blob || its passphrase seal (88), sent when the
 *             peer's roster is older; a side that learns from HELLO that
 *             the peer's is newer sends no record before it has it
 *   EPOCHS    n (2) || n * epoch (4): the history epochs held
 *   KEYS      n (2) || n * (epoch (4) || key (32)): the epoch keys the
 *             peer lacks
 *   REFUSE    a roster blob: the roster that revoked the peer (no seal)
 *   RECS      a slice of the record stream (xfer.h), unbounded
 *   CAUGHTUP  records (8): everything held at HELLO time was sent
 *   PING      empty; sent when nothing else was sent for a keepalive
 *
 * After HELLO each side streams what the other lacks, says CAUGHTUP, and
 * from then on streams each record as it is stored (appended here, or
 * received from any session).  What a peer holds is tracked per session
 * (sent), starting from its HELLO and raised by what is sent to it and
 * what it sends.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "agent.h"
#include "kith_err.h"
#include "kith_util.h"
#include "invx.h"
#include "noise.h"
#include "xfer.h"

#define KK "Noise_KK_25519_ChaChaPoly_BLAKE2b"
#define XK "Noise_XK_25519_ChaChaPoly_BLAKE2b"
#define PROLOGUE "kith sync v1"

enum {
	M_HELLO = 0x30,
	M_ROSTER = 0x31,
	M_RECS = 0x32,
	M_CAUGHTUP = 0x33,
	M_PING = 0x34,
	M_EPOCHS = 0x35,
	M_KEYS = 0x36,
	M_REFUSE = 0x37,
};

enum { S_DIAL, S_HS, S_LIVE, S_DEAD };

#define WQ_HIGH ((size_t)1 << 20)	/* stop scanning above this queued */
#define BATCH ((size_t)256 << 10)	/* one write, at most about this */
#define HS_TIMEOUT_MS 10000
#define DIAL_TIMEOUT_MS 5000
#define MAX_UNKNOWN 32			/* incoming, not yet identified */
#define MAX_UNKNOWN_HOST 8		/* of those, from one address */
#define REFUSE_WIN_MS 10000		/* refusals summed up this often */
#define REFUSE_LOGGED 3			/* each reason, one by one, a window */
#define FRAMEMAX (2 + NOISE_MAXMSG)
#define BODYMAX (NOISE_MAXMSG - NOISE_TAGLEN - 1)
#define STR_(x) #x
#define STR(x) STR_(x)

struct sess {
	struct sess *next;
	struct agent *ag;
	uv_tcp_t tcp;
	uv_connect_t creq;
	int state;
	int initiator;
	struct peer *p;
	struct manual *m;
	noise_hs *hs;
	noise_cs *tx, *rx;
	char addr[64];
	uint8_t *in;
	size_t inlen, incap;
	struct recparse rp;
	struct store_vv *sent;	/* what the peer holds, as far as we know */
	uint64_t peer_roster;
	int hello_rx, cu_tx, cu_rx, cu_logged, more;
	invx_srv *inv;		/* an answer to an invitation, not sync */
	int xk;			/* this handshake is XK */
	int xk_wait;		/* XK initiator: handshake done, answer not yet */
	int await_roster;	/* the peer's roster is newer: wait for it */
	int close_after;	/* close once the write queue is empty */
	uint64_t rx_n, rx_new, tx_n, cu_tx_n;
	uint64_t since, last_rx, last_tx, hs_start;
	size_t wq;
};

/* What one write carries: whole frames, encrypted. */
struct obuf {
	uint8_t *b;
	size_t len, cap;
};

struct wreq {
	uv_write_t req;
	struct sess *s;
	size_t len;
	uint8_t *b;
};

static void sess_close(struct sess *s, const char *why);
static void refused(struct agent *ag, int why, const char *addr);
static void sess_push(struct sess *s);
static void log_caught_up(struct sess *s);

static const char *
who(const struct sess *s, char *buf, size_t cap)
{

	if (s->p != NULL && s->state == S_LIVE)
		snprintf(buf, cap, "%s (%s)", s->p->name, s->p->id8);
	else
		snprintf(buf, cap, "%s", s->addr);
	return (buf);
}

/* Raise vv's entry for ${origin} to ${seq}; vv may move. */
static int
vv_raise(struct store_vv **vvp, const uint8_t origin[32], uint64_t seq)
{
	struct store_vv *vv = *vvp, *nv;
	size_t i;

	for (i = 0; i < vv->n; i++)
		if (memcmp(vv->e[i].origin, origin, 32) == 0) { /* not secret */
			if (seq > vv->e[i].seq)
				vv->e[i].seq = seq;
			return (0);
		}
	nv = realloc(vv, sizeof(*vv) + (vv->n + 1) * sizeof(vv->e[0]));
	if (nv == NULL)
		return (KITH_ENOMEM);
	memcpy(nv->e[nv->n].origin, origin, 32);
	nv->e[nv->n].seq = seq;
	nv->n++;
	*vvp = nv;
	return (0);
}

static struct store_vv *
vv_copy(const struct store_vv *vv)
{
	size_t sz = sizeof(*vv) + vv->n * sizeof(vv->e[0]);
	struct store_vv *c;

	if ((c = malloc(sz)) != NULL)
		memcpy(c, vv, sz);
	return (c);
}

static int
ob_need(struct obuf *ob, size_t more)
{
	uint8_t *nb;
	size_t ncap;

	if (ob->len + more <= ob->cap)
		return (0);
	ncap = ob->cap == 0 ? 65536 : ob->cap;
	while (ncap < ob->len + more)
		ncap *= 2;
	if ((nb = realloc(ob->b, ncap)) == NULL)
		return (KITH_ENOMEM);
	ob->b = nb;
	ob->cap = ncap;
	return (0);
}

/* Append one encrypted frame of ${type} || ${body}. */
static int
ob_frame(struct sess *s, struct obuf *ob, uint8_t type, const uint8_t *body,
    size_t len)
{
	uint8_t *p;
	int rc;

	if (len > BODYMAX)
		return (KITH_ETOOBIG);
	if ((rc = ob_need(ob, 2 + 1 + len + NOISE_TAGLEN)) != 0)
		return (rc);
	p = ob->b + ob->len;
	kith_be16enc(p, (uint16_t)(1 + len + NOISE_TAGLEN));
	p[2] = type;
	if (len > 0)
		memmove(p + 3, body, len);
	if ((rc = noise_cs_encrypt(s->tx, NULL, 0, p + 2, 1 + len,
	    p + 2)) != 0)
		return (rc);
	ob->len += 2 + 1 + len + NOISE_TAGLEN;
	return (0);
}

/* Append a raw (handshake) frame. */
static int
ob_raw(struct obuf *ob, const uint8_t *msg, size_t len)
{
	int rc;

	if ((rc = ob_need(ob, 2 + len)) != 0)
		return (rc);
	kith_be16enc(ob->b + ob->len, (uint16_t)len);
	memcpy(ob->b + ob->len + 2, msg, len);
	ob->len += 2 + len;
	return (0);
}

static void
on_written(uv_write_t *req, int status)
{
	struct wreq *w = (struct wreq *)req;
	struct sess *s = w->s;

	s->wq -= w->len;
	free(w->b);
	free(w);
	if (s->state == S_DEAD)
		return;
	if (status < 0) {
		sess_close(s, uv_strerror(status));
		return;
	}
	if (s->close_after && s->wq == 0) {
		sess_close(s, "refused");
		return;
	}
	if (s->more && s->wq < WQ_HIGH / 2) {
		s->more = 0;
		sess_push(s);
	}
}

/* Hand the frames of ${ob} to the socket; ${ob} is empty after. */
static int
ob_write(struct sess *s, struct obuf *ob)
{
	struct wreq *w;
	uv_buf_t b;

	if (ob->len == 0)
		return (0);
	if ((w = malloc(sizeof(*w))) == NULL)
		return (KITH_ENOMEM);
	w->s = s;
	w->b = ob->b;
	w->len = ob->len;
	b = uv_buf_init((char *)ob->b, (unsigned)ob->len);
	ob->b = NULL;
	ob->len = ob->cap = 0;
	if (uv_write(&w->req, (uv_stream_t *)&s->tcp, &b, 1,
	    on_written) < 0) {
		free(w->b);
		free(w);
		return (KITH_EIO);
	}
	s->wq += w->len;
	s->last_tx = ag_now_ms();
	return (0);
}

static int
send_one(struct sess *s, uint8_t type, const uint8_t *body, size_t len)
{
	struct obuf ob = { NULL, 0, 0 };
	int rc;

	if ((rc = ob_frame(s, &ob, type, body, len)) == 0)
		rc = ob_write(s, &ob);
	free(ob.b);
	return (rc);
}

/* The roster held and its passphrase seal, as ROSTER and XK carry. */
static int
roster_body(struct agent *ag, uint8_t **out, size_t *len)
{
	const struct roster *r = ag->hm->roster;
	uint8_t *b;
	int rc;

	if ((b = malloc(r->bloblen + ACCOUNT_SEALED_LEN)) == NULL)
		return (KITH_ENOMEM);
	memcpy(b, r->blob, r->bloblen);
	if ((rc = home_seal(ag->hm, b + r->bloblen)) != 0) {
		free(b);
		return (rc);
	}
	*out = b;
	*len = r->bloblen + ACCOUNT_SEALED_LEN;
	return (0);
}

static int
send_roster(struct sess *s)
{
	const struct roster *r = s->ag->hm->roster;
	uint8_t *b;
	size_t len;
	int rc;

	if (r == NULL || r->version <= s->peer_roster)
		return (0);
	ag_vlog(s->ag, "sending roster version %llu to %s (%s)",
	    (unsigned long long)r->version, s->p->name, s->p->id8);
	s->peer_roster = r->version;
	if ((rc = roster_body(s->ag, &b, &len)) != 0)
		return (rc);
	rc = send_one(s, M_ROSTER, b, len);
	free(b);
	return (rc);
}

static int
send_epochs(struct sess *s)
{
	const uint32_t *ep;
	uint8_t b[2 + 4 * 1024];
	size_t n, i;

	if (s->ag->hm->h == NULL)
		return (0);
	hist_epochs(s->ag->hm->h, &ep, &n);
	if (n > 1024)
		n = 1024;
	kith_be16enc(b, (uint16_t)n);
	for (i = 0; i < n; i++)
		kith_be32enc(b + 2 + 4 * i, ep[i]);
	return (send_one(s, M_EPOCHS, b, 2 + 4 * n));
}

/* The peer listed its epochs: send the keys it lacks. */
static int
got_epochs(struct sess *s, const uint8_t *b, size_t len)
{
	const uint32_t *ep;
	const uint8_t *key;
	uint8_t *out;
	size_t n, i, j, k, nk = 0;
	int rc, has;

	if ((rc = xfer_list_dec(b, len, 4, &k)) != 0)
		return (rc);
	if (s->ag->hm->h == NULL)
		return (0);
	hist_epochs(s->ag->hm->h, &ep, &n);
	/* Secret: in locked memory, wiped on free. */
	if ((out = sodium_malloc(2 + 36 * (n + 1))) == NULL)
		return (KITH_ENOMEM);
	for (i = 0; i < n; i++) {
		for (has = 0, j = 0; j < k && !has; j++)
			has = kith_be32dec(b + 2 + 4 * j) == ep[i];
		/* Never an epoch our roster does not vouch for yet. */
		if (has || ep[i] > s->ag->hm->roster->epoch ||
		    (key = hist_key(s->ag->hm->h, ep[i])) == NULL)
			continue;
		kith_be32enc(out + 2 + 36 * nk, ep[i]);
		memcpy(out + 2 + 36 * nk + 4, key, 32);
		nk++;
	}
	rc = 0;
	if (nk > 0) {
		kith_be16enc(out, (uint16_t)nk);
		ag_log("sending %s (%s) the keys of %zu history epoch%s it"
		    " lacks", s->p->name, s->p->id8, nk, nk == 1 ? "" : "s");
		rc = send_one(s, M_KEYS, out, 2 + 36 * nk);
	}
	sodium_free(out);
	return (rc);
}

/* Keys of epochs we lack, from an active device of the account. */
static int
got_keys(struct sess *s, const uint8_t *b, size_t len)
{
	struct agent *ag = s->ag;
	uint32_t e;
	size_t n, i, got = 0;
	int rc;

	if ((rc = xfer_list_dec(b, len, 36, &n)) != 0)
		return (rc);
	if ((rc = ag_tx_begin(ag)) != 0)
		return (rc);
	for (i = 0; i < n; i++) {
		e = kith_be32dec(b + 2 + 36 * i);
		/* The roster's grant, not a peer, gives the current key. */
		if (e == 0 || e > ag->hm->roster->epoch ||
		    (ag->hm->h != NULL && hist_key(ag->hm->h, e) != NULL))
			continue;
		if ((rc = hist_key_put(ag->hm->st, ag->hm->dk, e,
		    b + 2 + 36 * i + 4)) != 0) {
			sodium_memzero((uint8_t *)(uintptr_t)b, len);
			return (rc);
		}
		got++;
	}
	/* The keys came in clear into our receive buffer: wipe them there. */
	sodium_memzero((uint8_t *)(uintptr_t)b, len);
	if (got == 0)
		return (0);
	ag_log("received the keys of %zu history epoch%s from %s (%s)", got,
	    got == 1 ? "" : "s", s->p->name, s->p->id8);
	return (home_load_hist(ag->hm));
}

struct pusher {
	struct sess *s;
	struct obuf ob;
	int rc;
	size_t used;
	uint8_t body[BODYMAX];	/* the RECS being filled */
};

static int
push_full(void *arg)
{
	struct pusher *pu = arg;

	return (ob_frame(pu->s, &pu->ob, M_RECS, pu->body, pu->used));
}

static int
push_bytes(struct pusher *pu, const uint8_t *p, size_t len)
{

	return (xfer_slice(pu->body, BODYMAX, &pu->used, p, len, push_full,
	    pu));
}

static int
push_one(void *arg, const struct store_rec *rec)
{
	struct pusher *pu = arg;
	struct sess *s = pu->s;
	uint8_t h[XFER_RECHDR];
	int rc;

	xfer_rechdr(h, rec);
	if ((rc = push_bytes(pu, h, sizeof(h))) != 0 ||
	    (rc = push_bytes(pu, rec->box, rec->boxlen)) != 0 ||
	    (rc = vv_raise(&s->sent, rec->origin, rec->seq)) != 0) {
		pu->rc = rc;
		return (rc);
	}
	s->tx_n++;
	/* Enough for one write: the rest when the socket has drained. */
	if (pu->ob.len + pu->used >= BATCH)
		return (1);
	return (0);
}

/* Send what the peer lacks, up to what the socket may queue. */
static void
sess_push(struct sess *s)
{
	struct agent *ag = s->ag;
	struct store_vv *have;
	struct pusher *pu;
	uint8_t m[8];
	int rc, err;

	if (s->state != S_LIVE || !s->hello_rx || s->await_roster ||
	    s->close_after)
		return;
	if (s->wq >= WQ_HIGH) {
		s->more = 1;
		return;
	}
	if ((pu = calloc(1, sizeof(*pu))) == NULL ||
	    (have = vv_copy(s->sent)) == NULL) {
		free(pu);
		sess_close(s, "out of memory");
		return;
	}
	pu->s = s;
	rc = store_scan(ag->hm->st, have, 0, push_one, pu);
	free(have);
	err = pu->rc;
	if (err == 0 && rc != 0 && rc != 1)
		err = rc;
	if (err == 0 && pu->used > 0)
		err = ob_frame(s, &pu->ob, M_RECS, pu->body, pu->used);
	if (err == 0 && rc == 0 && !s->cu_tx) {
		s->cu_tx = 1;
		s->cu_tx_n = s->tx_n;
		kith_be64enc(m, s->tx_n);
		err = ob_frame(s, &pu->ob, M_CAUGHTUP, m, 8);
		log_caught_up(s);
	}
	if (err == 0)
		err = ob_write(s, &pu->ob);
	free(pu->ob.b);
	free(pu);
	if (err != 0) {
		ag_log("cannot send to %s (%s): %s", s->p->name, s->p->id8,
		    kith_strerror(err));
		sess_close(s, kith_strerror(err));
		return;
	}
	if (rc == 1)
		s->more = 1;
	/* The socket took it all at once: carry on without waiting. */
	if (s->more && s->wq < WQ_HIGH / 2) {
		s->more = 0;
		sess_push(s);
	}
}

void
sess_push_all(struct agent *ag)
{
	struct sess *s;

	for (s = ag->sessions; s != NULL; s = s->next)
		sess_push(s);
}

void
sess_roster_all(struct agent *ag)
{
	struct sess *s;

	for (s = ag->sessions; s != NULL; s = s->next)
		if (s->state == S_LIVE && s->hello_rx && send_roster(s) != 0)
			sess_close(s, "cannot send");
}

static int
send_hello(struct sess *s)
{
	struct agent *ag = s->ag;
	struct store_vv *vv;
	uint8_t *b;
	size_t len;
	int rc;

	if ((rc = store_vv_get(ag->hm->st, &vv)) != 0)
		return (rc);
	len = XFER_HELLO_HDR + xfer_vv_len(vv);
	if (len > BODYMAX || (b = malloc(len)) == NULL) {
		free(vv);
		return (len > BODYMAX ? KITH_ETOOBIG : KITH_ENOMEM);
	}
	b[0] = XFER_SYNC_VERSION;
	kith_be64enc(b + 1, ag->hm->roster->version);
	memcpy(b + 9, ag->hm->roster->hash, 32);
	xfer_vv_enc(vv, b + XFER_HELLO_HDR);
	free(vv);
	rc = send_one(s, M_HELLO, b, len);
	free(b);
	return (rc);
}

static int
got_hello(struct sess *s, const uint8_t *b, size_t len)
{
	struct xfer_hello h;
	int rc;

	if (s->hello_rx)
		return (KITH_EPROTO);
	if ((rc = xfer_hello_dec(b, len, &h)) != 0)
		return (rc);
	free(s->sent);
	s->sent = h.vv;
	s->peer_roster = h.roster_version;
	s->hello_rx = 1;
	/* Learn a newer roster (a revocation) before syncing anything. */
	s->await_roster = s->peer_roster > s->ag->hm->roster->version;
	if (s->await_roster)
		ag_log("%s (%s) holds roster version %llu, newer than ours:"
		    " nothing is sent before it", s->p->name, s->p->id8,
		    (unsigned long long)s->peer_roster);
	if (s->peer_roster == s->ag->hm->roster->version &&
	    memcmp(h.roster_hash, s->ag->hm->roster->hash, 32) != 0) {	/* not secret */
		ag_log("%s (%s) holds another roster of version %llu than"
		    " ours: the account was changed on two devices apart;"
		    " records of the epoch each started are unreadable to the"
		    " other (docs/PROTOCOL.md 10.1)", s->p->name, s->p->id8,
		    (unsigned long long)s->peer_roster);
		return (0);
	}
	return (send_roster(s));
}

/*
 * A roster from a peer (ROSTER, REFUSE or the XK handshake): install it if
 * it supersedes ours.  Returns 0 (installed, or ignored as not newer: the
 * peer is told ours), KITH_EPROTO (does not verify), or a store error.
 * *${installed} says which.
 */
static int
take_roster(struct sess *s, const uint8_t *b, size_t len, int with_seal,
    const char *from, int *installed)
{
	struct agent *ag = s->ag;
	struct roster *r, *old;
	size_t sl = with_seal ? ACCOUNT_SEALED_LEN : 0;
	int rc;

	*installed = 0;
	if (len < sl || (rc = roster_decode(b, len - sl, ag->hm->account_pk,
	    &r)) != 0) {
		ag_log("%s sent a roster that does not verify: ignored", from);
		return (KITH_EPROTO);
	}
	if ((old = malloc(sizeof(*old))) == NULL) {
		roster_free(r);
		return (KITH_ENOMEM);
	}
	memcpy(old, ag->hm->roster, sizeof(*old));
	old->blob = NULL;
	if ((rc = home_roster_install(ag->hm, r, with_seal ? b + len - sl :
	    NULL)) != 0) {
		if (rc == KITH_EFORK)
			ag_log("%s holds another roster of version %llu than"
			    " ours: the account was changed on two devices"
			    " apart (docs/PROTOCOL.md 10.1)", from,
			    (unsigned long long)r->version);
		else if (rc == KITH_ESTALE && r->version < old->version)
			ag_log("%s sent roster version %llu, older than ours"
			    " (%llu): ignored", from,
			    (unsigned long long)r->version,
			    (unsigned long long)old->version);
		else if (rc != KITH_ESTALE)
			ag_log("%s sent roster version %llu, which may not"
			    " replace ours (version %llu): %s", from,
			    (unsigned long long)r->version,
			    (unsigned long long)old->version,
			    kith_strerror(rc));
		roster_free(r);
		free(old);
		return (rc == KITH_ESTALE || rc == KITH_EFORK ||
		    rc == KITH_EROSTER || rc == KITH_ECRYPTO ? 0 : rc);
	}
	*installed = 1;
	ag_log("roster version %llu from %s", (unsigned long long)r->version,
	    from);
	ag_roster_changed(ag, old);
	free(old);
	return (0);
}

static int
got_roster(struct sess *s, const uint8_t *b, size_t len)
{
	char from[128];
	int rc, inst;

	snprintf(from, sizeof(from), "%s (%s)", s->p->name, s->p->id8);
	if (len >= ACCOUNT_SEALED_LEN + 13)
		s->peer_roster = kith_be64dec(b + 5);
	if ((rc = take_roster(s, b, len, 1, from, &inst)) != 0)
		return (rc);
	s->await_roster = 0;
	if (s->state == S_LIVE)
		sess_push(s);
	return (0);
}

/* The XK initiator was refused: its roster revoked it. */
static int
got_refuse(struct sess *s, const uint8_t *b, size_t len)
{
	const struct roster_dev *me;
	char from[128], by[80];
	int rc, inst;

	snprintf(from, sizeof(from), "%s (%s)", s->p->name, s->p->id8);
	/* No seal: a barred device has no use for it (and a thief might). */
	if ((rc = take_roster(s, b, len, 0, from, &inst)) != 0)
		return (rc);
	me = home_self(s->ag->hm);
	if (me != NULL && me->status == ROSTER_REVOKED) {
		const struct roster_dev *d = roster_find_sign(s->ag->hm->roster,
		    me->revoked_by);

		snprintf(by, sizeof(by), "%s", d != NULL ? d->name : "?");
		ag_log("%s refused us: this device was revoked by %s", from,
		    by);
	} else
		ag_log("%s refused us: this device is not an active device"
		    " of its roster", from);
	return (KITH_EREFUSED);
}

static int
on_rec(void *arg, const struct store_rec *rec)
{
	struct sess *s = arg;
	struct agent *ag = s->ag;
	json_t *ev;
	int added, rc;

	if ((rc = ag_tx_begin(ag)) != 0)
		return (rc);
	if ((rc = store_rec_put(ag->hm->st, rec, &added)) != 0)
		return (rc == KITH_EINVAL ? KITH_EPROTO : rc);
	ag->tx_recs++;
	ag->tx_bytes += rec->boxlen;
	s->rx_n++;
	if (added) {
		s->rx_new++;
		ag->tx_newrec++;
		ag->tx_newbytes += rec->boxlen;
		if ((ev = ag_record_json(ag, rec)) != NULL)
			json_array_append_new(ag->tx_events, ev);
	}
	return (vv_raise(&s->sent, rec->origin, rec->seq));
}

static void
log_caught_up(struct sess *s)
{

	if (s->cu_logged || !s->cu_rx || !s->cu_tx)
		return;
	s->cu_logged = 1;
	ag_log("caught up with %s (%s): received %llu records (%llu new),"
	    " sent %llu in %llu ms", s->p->name, s->p->id8,
	    (unsigned long long)s->rx_n, (unsigned long long)s->rx_new,
	    (unsigned long long)s->cu_tx_n,
	    (unsigned long long)(ag_now_ms() - s->since));
}

static int
got_live(struct sess *s, uint8_t type, const uint8_t *b, size_t len)
{
	int rc;

	if (type != M_HELLO && !s->hello_rx)
		return (KITH_EPROTO);
	switch (type) {
	case M_HELLO:
		if ((rc = got_hello(s, b, len)) != 0)
			return (rc);
		sess_push(s);
		return (0);
	case M_ROSTER:
		return (got_roster(s, b, len));
	case M_EPOCHS:
		return (got_epochs(s, b, len));
	case M_KEYS:
		return (got_keys(s, b, len));
	case M_RECS:
		rc = recparse_feed(&s->rp, b, len, on_rec, s);
		return (rc);
	case M_CAUGHTUP:
		if (len != 8 || s->cu_rx)
			return (KITH_EPROTO);
		s->cu_rx = 1;
		log_caught_up(s);
		return (0);
	case M_PING:
		return (0);
	default:
		/* A later version's message: skip it. */
		return (0);
	}
}

static int
is_lower(const uint8_t a[32], const uint8_t b[32])
{

	return (memcmp(a, b, 32) < 0);	/* not secret: public keys */
}

/* The handshake is through: keep the session (or the one we had). */
static int
established(struct sess *s)
{
	struct agent *ag = s->ag;
	struct peer *p = s->p;
	struct sess *old = p->s;
	const uint8_t *self = ag->hm->dk->sign_pk;
	int rc, keep_new;
	char hx[65];
	json_t *ev;

	if (s->hs != NULL) {
		if ((rc = noise_hs_split(s->hs, &s->tx, &s->rx)) != 0)
			return (rc);
		noise_hs_free(s->hs);
		s->hs = NULL;
	}
	if (p->dialing == s)
		p->dialing = NULL;
	if (s->m != NULL && s->m->dialing == s) {
		s->m->dialing = NULL;
		s->m->backoff = 0;
		s->m = NULL;
	}
	if (old != NULL && old->state == S_LIVE) {
		/*
		 * Both devices called each other at once.  Both keep the
		 * session whose initiator has the lower key; a second session
		 * from the same side replaces the first (the first is dead).
		 */
		if (old->initiator == s->initiator)
			keep_new = 1;
		else
			keep_new = is_lower(s->initiator ? self : p->sign_pk,
			    s->initiator ? p->sign_pk : self);
		if (!keep_new) {
			ag_vlog(ag, "second connection with %s (%s) closed",
			    p->name, p->id8);
			return (KITH_EEXIST);
		}
		p->s = NULL;
		sess_close(old, "replaced by a new connection");
	}
	s->state = S_LIVE;
	s->since = s->last_rx = ag_now_ms();
	p->s = s;
	p->backoff = 0;
	p->xk = 0;		/* KK first again next time */
	if (s->initiator)
		ag_log("connected to %s (%s) at %s", p->name, p->id8, s->addr);
	else
		ag_log("connection from %s (%s) at %s", p->name, p->id8,
		    s->addr);
	if ((ev = json_pack("{s:s, s:{s:s, s:s, s:s, s:s}}", "change",
	    "connected", "peer", "id", p->id8, "name", p->name, "addr",
	    s->addr, "direction", s->initiator ? "out" : "in")) != NULL) {
		json_object_set_new(json_object_get(ev, "peer"), "id",
		    json_string(ag_hex(p->sign_pk, 32, hx)));
		ctl_publish(ag, "peer", ev);
	}
	if ((rc = send_hello(s)) != 0)
		return (rc);
	return (send_epochs(s));
}

static int
send_hs(struct sess *s, noise_hs *hs, const uint8_t *payload, size_t plen)
{
	struct obuf ob = { 0 };
	uint8_t *out;
	size_t olen;
	int rc;

	if ((out = malloc(NOISE_MAXMSG)) == NULL)
		return (KITH_ENOMEM);
	if ((rc = noise_hs_write(hs, payload, plen, out, NOISE_MAXMSG,
	    &olen)) == 0 && (rc = ob_raw(&ob, out, olen)) == 0)
		rc = ob_write(s, &ob);
	free(ob.b);
	free(out);
	return (rc);
}

/* A raw frame (a handshake message, or one sealed by invx). */
static int
send_raw(struct sess *s, const uint8_t *msg, size_t len)
{
	struct obuf ob = { 0 };
	int rc;

	if ((rc = ob_raw(&ob, msg, len)) == 0)
		rc = ob_write(s, &ob);
	free(ob.b);
	return (rc);
}

static int
inv_start(struct sess *s, const uint8_t *msg, size_t len)
{
	uint8_t reply[256];
	size_t rlen;
	int rc;

	/* (Reads only: they see the agent's open transaction too.) */
	if ((rc = invx_srv_start(s->ag->hm, msg, len, &s->inv, reply,
	    sizeof(reply), &rlen)) != 0)
		return (rc);
	return (send_raw(s, reply, rlen));
}

/* The invitee's card is in: take it, answer, close. */
static int
inv_card(struct sess *s, const uint8_t *f, size_t len)
{
	struct agent *ag = s->ag;
	struct invx_result res;
	uint8_t *reply;
	size_t rlen;
	char tok[33], acct[65];
	json_t *ev;
	int rc;

	if ((reply = malloc(NOISE_MAXMSG)) == NULL)
		return (KITH_ENOMEM);
	ag_tx_commit(ag);
	rc = invx_srv_card(s->inv, f, len, reply, NOISE_MAXMSG, &rlen, &res);
	if (rc != 0) {
		free(reply);
		ag_log("invitation answer from %s broken off: %s", s->addr,
		    kith_strerror(rc));
		return (KITH_EPROTO);
	}
	kith_hex(res.token, INVITE_TOKENLEN, tok);
	kith_hex(res.account_pk, 32, acct);
	/*
	 * Logs name accounts by key, never by alias: the log may rest in
	 * the home, and contact names are encrypted there (§3.7).
	 */
	if (res.rc == 0) {
		ag_log("invitation %.8s answered by account %.8s from %s: now"
		    " a verified contact%s", tok, acct, s->addr, res.fresh ?
		    "" : " (answered before)");
		if ((ev = json_pack("{s:s, s:s, s:s, s:s, s:b}", "change",
		    "contact", "invitation", tok, "alias", res.alias,
		    "account", acct, "new", res.fresh)) != NULL)
			ctl_publish(ag, "contact", ev);
		if (res.fresh) {
			ag->nrec += 2;
			sess_push_all(ag);
		}
	} else
		ag_log("refused the answer of account %.8s (%s) to"
		    " invitation %.8s: %s", res.alias[0] ? acct : "?",
		    s->addr, tok, invx_reason(res.why));
	rc = send_raw(s, reply, rlen);
	free(reply);
	s->close_after = 1;
	return (rc);
}

/* Responder: whose first message is this? */
static int
identify(struct sess *s, const uint8_t *msg, size_t len)
{
	struct agent *ag = s->ag;
	uint8_t pl[64];
	size_t i, plen;
	noise_hs *hs;
	int rc;

	for (i = 0; i < ag->npeers; i++) {
		struct peer *p = ag->peers[i];

		if (!p->active)
			continue;
		if (noise_hs_new(&hs, KK, 0, (const uint8_t *)PROLOGUE,
		    sizeof(PROLOGUE) - 1, ag->hm->dk->kx_sk, p->kx_pk,
		    NULL) != 0)
			return (KITH_ENOMEM);
		if (noise_hs_read(hs, msg, len, pl, sizeof(pl), &plen) == 0) {
			s->p = p;
			s->hs = hs;
			if ((rc = send_hs(s, hs, NULL, 0)) != 0)
				return (rc);
			return (established(s));
		}
		noise_hs_free(hs);
	}
	/* Someone who knows only our key: XK, its roster to come. */
	if (noise_hs_new(&hs, XK, 0, (const uint8_t *)PROLOGUE,
	    sizeof(PROLOGUE) - 1, ag->hm->dk->kx_sk, NULL, NULL) != 0)
		return (KITH_ENOMEM);
	if (noise_hs_read(hs, msg, len, pl, sizeof(pl), &plen) == 0) {
		s->hs = hs;
		s->xk = 1;
		return (send_hs(s, hs, NULL, 0));
	}
	noise_hs_free(hs);
	/* Someone answering one of our invitations (invx.h). */
	switch ((rc = inv_start(s, msg, len))) {
	case KITH_EHANDSHAKE:
		break;
	case KITH_ENOENT:
		refused(s->ag, RF_INVITE, s->addr);
		return (KITH_EREFUSED);
	default:
		return (rc);
	}
	refused(ag, RF_STRANGER, s->addr);
	return (KITH_EREFUSED);
}

/*
 * Responder, XK: the third message names the initiator's key and carries
 * its roster.  Go on if the newest of the two rosters lists it as active.
 */
static int
xk_last(struct sess *s, const uint8_t *msg, size_t len)
{
	struct agent *ag = s->ag;
	const struct roster_dev *d, *by;
	const uint8_t *rs;
	uint8_t *pl;
	size_t plen, i;
	char from[96];
	int rc, inst;

	if ((pl = malloc(NOISE_MAXMSG)) == NULL)
		return (KITH_ENOMEM);
	if (noise_hs_read(s->hs, msg, len, pl, NOISE_MAXMSG, &plen) != 0) {
		free(pl);
		refused(ag, RF_HANDSHAKE, s->addr);
		return (KITH_EREFUSED);
	}
	rs = noise_hs_remote_static(s->hs);
	snprintf(from, sizeof(from), "the device at %s", s->addr);
	rc = take_roster(s, pl, plen, 1, from, &inst);
	free(pl);
	if (rc != 0 && rc != KITH_EPROTO)
		return (rc);
	d = roster_find_kx(ag->hm->roster, rs);
	for (i = 0; d != NULL && d->status == ROSTER_ACTIVE &&
	    i < ag->npeers; i++)
		if (!memcmp(ag->peers[i]->kx_pk, rs, 32) &&	/* not secret */
		    ag->peers[i]->active) {
			s->p = ag->peers[i];
			return (established(s));
		}
	if (d != NULL && d->status == ROSTER_REVOKED) {
		by = roster_find_sign(ag->hm->roster, d->revoked_by);
		ag_log("refused %s (%s) at %s: revoked by %s", d->name,
		    ag_hex(d->sign_pk, 4, (char[65]){ 0 }), s->addr,
		    by != NULL ? by->name : "?");
		/* Tell it, with the roster that says so; then close. */
		if (noise_hs_split(s->hs, &s->tx, &s->rx) != 0 ||
		    send_one(s, M_REFUSE, ag->hm->roster->blob,
		    ag->hm->roster->bloblen) != 0)
			return (KITH_EREFUSED);
		s->close_after = 1;
		return (0);
	}
	refused(ag, RF_STRANGER, s->addr);
	return (KITH_EREFUSED);
}

/* Initiator, XK: the second message is in; send ours, with our roster. */
static int
xk_send_roster(struct sess *s)
{
	uint8_t *b;
	size_t len;
	int rc;

	if ((rc = roster_body(s->ag, &b, &len)) != 0)
		return (rc);
	rc = send_hs(s, s->hs, b, len);
	free(b);
	if (rc != 0 || (rc = noise_hs_split(s->hs, &s->tx, &s->rx)) != 0)
		return (rc);
	noise_hs_free(s->hs);
	s->hs = NULL;
	s->xk_wait = 1;
	return (0);
}

/* Initiator, XK: the answer to the third message. */
static int
xk_answer(struct sess *s, uint8_t *f, size_t len)
{
	int rc;

	if (len < 1 + NOISE_TAGLEN ||
	    noise_cs_decrypt(s->rx, NULL, 0, f, len, f) != 0)
		return (KITH_ECRYPTO);
	if (f[0] == M_REFUSE)
		return (got_refuse(s, f + 1, len - 1 - NOISE_TAGLEN));
	if (f[0] != M_HELLO)
		return (KITH_EPROTO);
	s->xk_wait = 0;
	if ((rc = established(s)) != 0)
		return (rc);
	return (got_live(s, f[0], f + 1, len - 1 - NOISE_TAGLEN));
}

static int
on_frame(struct sess *s, uint8_t *f, size_t len)
{
	uint8_t pl[64];
	size_t plen;

	s->last_rx = ag_now_ms();
	if (s->close_after)
		return (0);
	if (s->inv != NULL)
		return (inv_card(s, f, len));
	if (s->state == S_HS && !s->initiator)
		return (s->xk ? xk_last(s, f, len) : identify(s, f, len));
	if (s->state == S_HS && s->xk_wait)
		return (xk_answer(s, f, len));
	if (s->state == S_HS) {
		if (noise_hs_read(s->hs, f, len, pl, sizeof(pl),
		    &plen) != 0) {
			ag_log("%s at %s failed the handshake: it is not the"
			    " device the roster names", s->p->name, s->addr);
			return (KITH_EHANDSHAKE);
		}
		if (s->xk)
			return (xk_send_roster(s));
		return (established(s));
	}
	if (len < 1 + NOISE_TAGLEN ||
	    noise_cs_decrypt(s->rx, NULL, 0, f, len, f) != 0)
		return (KITH_ECRYPTO);
	return (got_live(s, f[0], f + 1, len - 1 - NOISE_TAGLEN));
}

static void
on_alloc(uv_handle_t *h, size_t want, uv_buf_t *buf)
{
	struct sess *s = h->data;
	uint8_t *nb;
	size_t ncap;

	(void)want;
	if (s->incap - s->inlen < 65536) {
		ncap = s->inlen + 65536 + FRAMEMAX;
		if ((nb = realloc(s->in, ncap)) == NULL) {
			*buf = uv_buf_init(NULL, 0);
			return;
		}
		s->in = nb;
		s->incap = ncap;
	}
	*buf = uv_buf_init((char *)s->in + s->inlen,
	    (unsigned)(s->incap - s->inlen));
}

static void
on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
	struct sess *s = st->data;
	struct agent *ag = s->ag;
	size_t off = 0, flen;
	char w[128];
	int rc = 0;

	(void)buf;
	if (nread == 0 || s->state == S_DEAD)
		return;
	if (nread < 0) {
		if (s->state == S_HS && s->initiator) {
			/* Perhaps it lacks our roster: XK carries it. */
			s->p->xk = !s->xk;
			if (s->m != NULL)
				ag_log("%s refused us", s->addr);
			else
				ag_log("%s (%s) refused us: this device is not"
				    " on its roster yet, or was revoked",
				    s->p->name, s->p->id8);
			sess_close(s, "refused");
		} else
			sess_close(s, nread == UV_EOF ? "connection closed" :
			    uv_strerror((int)nread));
		ag_tx_maybe_commit(ag, 1);
		return;
	}
	s->inlen += (size_t)nread;
	while (s->state != S_DEAD && s->inlen - off >= 2) {
		flen = kith_be16dec(s->in + off);
		if (s->inlen - off < 2 + flen)
			break;
		rc = on_frame(s, s->in + off + 2, flen);
		off += 2 + flen;
		if (rc != 0)
			break;
	}
	if (s->state != S_DEAD) {
		memmove(s->in, s->in + off, s->inlen - off);
		s->inlen -= off;
	}
	if (rc != 0 && s->state != S_DEAD) {
		if (rc != KITH_EREFUSED && rc != KITH_EEXIST)
			ag_log("closing session with %s: %s", who(s, w,
			    sizeof(w)), kith_strerror(rc));
		sess_close(s, kith_strerror(rc));
	}
	ag_tx_maybe_commit(ag, (size_t)nread < 65536);
}

static void
on_closed(uv_handle_t *h)
{
	struct sess *s = h->data;
	struct sess **pp;

	for (pp = &s->ag->sessions; *pp != NULL; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	noise_hs_free(s->hs);
	noise_cs_free(s->tx);
	noise_cs_free(s->rx);
	invx_srv_free(s->inv);
	recparse_free(&s->rp);
	free(s->sent);
	free(s->in);
	free(s);
}

static void
retry_later(unsigned *backoff, uint64_t *next_try)
{

	*backoff = *backoff == 0 ? 1000 : *backoff * 2;
	if (*backoff > 30000)
		*backoff = 30000;
	*next_try = ag_now_ms() + *backoff;
}

static void
sess_close(struct sess *s, const char *why)
{
	struct agent *ag = s->ag;
	struct peer *p = s->p;
	char hx[65];
	json_t *ev;

	if (s->state == S_DEAD)
		return;
	if (s->state == S_LIVE && p != NULL && p->s == s) {
		p->s = NULL;
		if (ag->stopping)
			ag_vlog(ag, "closed session with %s (%s)", p->name,
			    p->id8);
		else
			ag_log("lost %s (%s): %s (received %llu records,"
			    " sent %llu)", p->name, p->id8, why,
			    (unsigned long long)s->rx_n,
			    (unsigned long long)s->tx_n);
		if ((ev = json_pack("{s:s, s:{s:s, s:s, s:s, s:s}, s:s}",
		    "change", "disconnected", "peer", "id", ag_hex(p->sign_pk,
		    32, hx), "name", p->name, "addr", s->addr, "direction",
		    s->initiator ? "out" : "in", "reason", why)) != NULL)
			ctl_publish(ag, "peer", ev);
		/* Come back soon: the other side may just have restarted. */
		p->next_try = ag_now_ms() + 1000;
	}
	if (p != NULL && p->dialing == s) {
		p->dialing = NULL;
		retry_later(&p->backoff, &p->next_try);
	}
	if (s->m != NULL && s->m->dialing == s) {
		s->m->dialing = NULL;
		s->m->cand++;
		s->m->next_try = ag_now_ms() + 200;
	}
	s->state = S_DEAD;
	uv_close((uv_handle_t *)&s->tcp, on_closed);
}

static struct sess *
sess_new(struct agent *ag, int initiator)
{
	struct sess *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return (NULL);
	if ((s->sent = calloc(1, sizeof(*s->sent))) == NULL) {
		free(s);
		return (NULL);
	}
	s->ag = ag;
	s->initiator = initiator;
	s->hs_start = ag_now_ms();
	uv_tcp_init(ag->loop, &s->tcp);
	s->tcp.data = s;
	s->next = ag->sessions;
	ag->sessions = s;
	return (s);
}

static void
tune(struct sess *s)
{
	uv_os_fd_t fd;
	unsigned int ms = s->ag->keepalive * 3000;

	uv_tcp_nodelay(&s->tcp, 1);
	/* Unacknowledged data for this long ends the connection. */
	if (uv_fileno((uv_handle_t *)&s->tcp, &fd) == 0)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ms,
		    sizeof(ms));
}

static void
on_connect(uv_connect_t *req, int status)
{
	struct sess *s = req->data;
	uint8_t msg[128];
	size_t len;
	struct obuf ob = { 0 };

	if (s->state == S_DEAD)
		return;
	if (status < 0) {
		ag_vlog(s->ag, "cannot connect to %s: %s", s->addr,
		    uv_strerror(status));
		sess_close(s, uv_strerror(status));
		return;
	}
	tune(s);
	s->state = S_HS;
	s->hs_start = ag_now_ms();
	if (noise_hs_write(s->hs, NULL, 0, msg, sizeof(msg), &len) != 0 ||
	    ob_raw(&ob, msg, len) != 0 || ob_write(s, &ob) != 0 ||
	    uv_read_start((uv_stream_t *)&s->tcp, on_alloc, on_read) != 0) {
		free(ob.b);
		sess_close(s, "handshake failed");
		return;
	}
	free(ob.b);
}

static struct sess *
dial(struct agent *ag, struct peer *p, const struct sockaddr *sa, int manual)
{
	struct sess *s;

	if ((s = sess_new(ag, 1)) == NULL)
		return (NULL);
	s->p = p;
	ag_addr_text(sa, s->addr, sizeof(s->addr));
	s->creq.data = s;
	s->xk = p->xk;
	if (noise_hs_new(&s->hs, s->xk ? XK : KK, 1,
	    (const uint8_t *)PROLOGUE, sizeof(PROLOGUE) - 1,
	    ag->hm->dk->kx_sk, p->kx_pk, NULL) != 0 ||
	    uv_tcp_connect(&s->creq, &s->tcp, sa, on_connect) != 0) {
		sess_close(s, "cannot connect");
		return (NULL);
	}
	if (manual)
		ag_vlog(ag, "connecting to %s (--peer; trying it as %s, %s)",
		    s->addr, p->name, p->id8);
	else
		ag_vlog(ag, "connecting to %s (%s, %s)", s->addr, p->name,
		    p->id8);
	return (s);
}

void
sess_dial(struct agent *ag, struct peer *p)
{
	const struct sockaddr *sa;

	if (p->s != NULL || p->dialing != NULL || p->naddr == 0 ||
	    !p->active || ag->stopping)
		return;
	sa = (const struct sockaddr *)&p->addr[p->nextaddr++ % p->naddr];
	p->dialing = dial(ag, p, sa, 0);
	if (p->dialing == NULL)
		retry_later(&p->backoff, &p->next_try);
}

void
sess_dial_manual(struct agent *ag, struct manual *m)
{
	struct peer *p = NULL;
	size_t i, k;

	if (m->dialing != NULL || ag->stopping)
		return;
	/* The next device of the roster without a session. */
	for (k = 0; k < ag->npeers; k++) {
		i = (m->cand + k) % ag->npeers;
		if (ag->peers[i]->active && ag->peers[i]->s == NULL &&
		    ag->peers[i]->dialing == NULL) {
			p = ag->peers[i];
			m->cand = i;
			break;
		}
	}
	if (p == NULL) {
		if (!m->warned && ag->npeers == 0)
			ag_log("--peer %s: no other device on this device's"
			    " roster to try there", m->text);
		m->warned = 1;
		m->next_try = ag_now_ms() + 5000;
		return;
	}
	/* A full round of the roster without success: wait longer. */
	if (m->cand == 0 && m->backoff > 0)
		retry_later(&m->backoff, &m->next_try);
	else if (m->backoff == 0)
		m->backoff = 1000;
	if ((m->dialing = dial(ag, p, (struct sockaddr *)&m->addr, 1)) !=
	    NULL)
		m->dialing->m = m;
}

/* ${a} and ${b} ("ADDR:PORT" or "[ADDR]:PORT") name the same host. */
static int
same_host(const char *a, const char *b)
{
	const char *pa = strrchr(a, ':'), *pb = strrchr(b, ':');

	return (pa != NULL && pb != NULL && pa - a == pb - b &&
	    strncmp(a, b, (size_t)(pa - a)) == 0);
}

/* Unfinished incoming handshakes from the address of ${s}; *${oldest}. */
static int
host_load(struct agent *ag, const struct sess *s, struct sess **oldest)
{
	struct sess *t;
	int n = 0;

	*oldest = NULL;
	for (t = ag->sessions; t != NULL; t = t->next) {
		if (t->state != S_HS || t->initiator || !same_host(t->addr,
		    s->addr))
			continue;
		n++;
		if (*oldest == NULL || t->hs_start <= (*oldest)->hs_start)
			*oldest = t;
	}
	return (n);
}

/*
 * Room for the newcomer ${new}: when MAX_UNKNOWN incoming handshakes are
 * unfinished, or MAX_UNKNOWN_HOST from its address, one of them is
 * closed, not the newcomer: the oldest of its address, or else the
 * oldest of the address that holds the most.  A device of ours finishes
 * its handshake in one round trip and calls from an address of its own,
 * so strangers who hold slots open never keep it out, nor push it out.
 */
static void
make_room(struct agent *ag, struct sess *new)
{
	struct sess *t, *victim, *o;
	int unknown = 0, n, most = 0;

	for (t = ag->sessions; t != NULL; t = t->next)
		unknown += t != new && t->state == S_HS && !t->initiator;
	if (host_load(ag, new, &victim) - 1 < MAX_UNKNOWN_HOST) {
		if (unknown < MAX_UNKNOWN)
			return;
		for (victim = NULL, t = ag->sessions; t != NULL; t = t->next) {
			if (t == new || t->state != S_HS || t->initiator)
				continue;
			if ((n = host_load(ag, t, &o)) > most) {
				most = n;
				victim = o;
			}
		}
	}
	/* (The newcomer counts itself; it is the youngest of its address.) */
	if (victim == NULL || victim == new)
		return;
	refused(ag, RF_BUSY, victim->addr);
	sess_close(victim, "busy");
}

static void
on_conn(uv_stream_t *server, int status)
{
	struct agent *ag = server->data;
	struct sockaddr_storage ss;
	struct sess *s;
	int len = sizeof(ss);

	if (status < 0)
		return;
	if ((s = sess_new(ag, 0)) == NULL)
		return;
	s->state = S_HS;
	if (uv_accept(server, (uv_stream_t *)&s->tcp) != 0) {
		sess_close(s, "accept failed");
		return;
	}
	if (uv_tcp_getpeername(&s->tcp, (struct sockaddr *)&ss, &len) == 0)
		ag_addr_text((struct sockaddr *)&ss, s->addr, sizeof(s->addr));
	else
		strcpy(s->addr, "?");
	if (ag->stopping) {
		sess_close(s, "stopping");
		return;
	}
	make_room(ag, s);
	tune(s);
	if (uv_read_start((uv_stream_t *)&s->tcp, on_alloc, on_read) != 0)
		sess_close(s, "read failed");
}

int
sess_listen(struct agent *ag)
{
	struct sockaddr_in sin;
	struct sockaddr_storage ss;
	int len = sizeof(ss), r;

	uv_tcp_init(ag->loop, &ag->listener);
	ag->listener.data = ag;
	uv_ip4_addr("0.0.0.0", ag->want_port, &sin);
	if ((r = uv_tcp_bind(&ag->listener, (struct sockaddr *)&sin, 0)) ||
	    (r = uv_listen((uv_stream_t *)&ag->listener, 64, on_conn))) {
		ag_log("cannot listen on port %u: %s", ag->want_port,
		    uv_strerror(r));
		return (KITH_EIO);
	}
	uv_tcp_getsockname(&ag->listener, (struct sockaddr *)&ss, &len);
	ag->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	ag_log("listening on port %u", ag->port);
	return (0);
}

static const char *const rf_why[RF_N] = {
	"too many unfinished handshakes (" STR(MAX_UNKNOWN) " at most, "
	    STR(MAX_UNKNOWN_HOST) " from one address): closed the oldest",
	"handshake not finished within " STR(HS_TIMEOUT_MS) " ms",
	"not an active device of this account",
	"an invitation answer, but no open invitation of this device has"
	    " that token",
	"handshake failed",
};
static const char *const rf_key[RF_N] = {
	"busy", "timeout", "stranger", "invitation", "handshake"
};

/* The window is over: say how many were refused without a line each. */
static void
refuse_window(struct agent *ag)
{
	struct ag_refusals *r = &ag->refused;
	char what[512];
	size_t off = 0;
	unsigned quiet = 0, k;
	int i;

	if (ag_now_ms() - r->win < REFUSE_WIN_MS)
		return;
	what[0] = '\0';
	for (i = 0; i < RF_N; i++) {
		if (r->n[i] <= REFUSE_LOGGED)
			continue;
		k = r->n[i] - REFUSE_LOGGED;
		quiet += k;
		off += (size_t)snprintf(what + off, sizeof(what) - off,
		    "%s%u %s", off > 0 ? "; " : "", k, rf_key[i]);
		if (off >= sizeof(what))
			off = sizeof(what) - 1;
	}
	if (quiet > 0)
		ag_log("refused %u more connections in the last %llu s, not"
		    " logged one by one: %s", quiet, (unsigned long long)
		    (ag_now_ms() - r->win) / 1000, what);
	memset(r->n, 0, sizeof(r->n));
	r->win = ag_now_ms();
}

/* A connection refused before its peer was known. */
static void
refused(struct agent *ag, int why, const char *addr)
{
	struct ag_refusals *r = &ag->refused;

	refuse_window(ag);
	r->total[why]++;
	if (++r->n[why] <= REFUSE_LOGGED)
		ag_log("refused connection from %s: %s%s", addr, rf_why[why],
		    r->n[why] == REFUSE_LOGGED ? " (more of these are"
		    " counted, and summed up every " STR(REFUSE_WIN_MS)
		    " ms)" : "");
}

json_t *
sess_refused_json(struct agent *ag)
{
	json_t *o = json_object();
	int i;

	for (i = 0; o != NULL && i < RF_N; i++)
		json_object_set_new(o, rf_key[i],
		    json_integer((json_int_t)ag->refused.total[i]));
	return (o);
}

void
sess_tick(struct agent *ag)
{
	struct sess *s, *next;
	uint64_t now = ag_now_ms(), ka = (uint64_t)ag->keepalive * 1000;
	size_t i;

	refuse_window(ag);
	for (s = ag->sessions; s != NULL; s = next) {
		next = s->next;
		if (s->state == S_DIAL && now - s->hs_start > DIAL_TIMEOUT_MS) {
			ag_vlog(ag, "cannot connect to %s: timed out",
			    s->addr);
			sess_close(s, "connect timed out");
		} else if (s->state == S_HS &&
		    now - s->hs_start > HS_TIMEOUT_MS) {
			if (s->initiator)
				ag_vlog(ag, "handshake with %s timed out",
				    s->addr);
			else
				refused(ag, RF_TIMEOUT, s->addr);
			sess_close(s, "handshake timed out");
		} else if (s->state == S_LIVE && now - s->last_rx > 3 * ka) {
			sess_close(s, "no answer");
		} else if (s->state == S_LIVE && now - s->last_tx >= ka) {
			if (send_one(s, M_PING, NULL, 0) != 0)
				sess_close(s, "cannot send");
		}
	}
	for (i = 0; i < ag->npeers; i++) {
		struct peer *p = ag->peers[i];

		if (p->active && p->s == NULL && p->dialing == NULL &&
		    p->naddr > 0 && now >= p->next_try)
			sess_dial(ag, p);
	}
	for (i = 0; i < ag->nmanual; i++)
		if (ag->manual[i].dialing == NULL &&
		    now >= ag->manual[i].next_try)
			sess_dial_manual(ag, &ag->manual[i]);
}

void
sess_close_all(struct agent *ag, const char *why)
{
	struct sess *s;

	for (s = ag->sessions; s != NULL; s = s->next)
		sess_close(s, why);
	if (ag->listener.data != NULL && !uv_is_closing(
	    (uv_handle_t *)&ag->listener))
		uv_close((uv_handle_t *)&ag->listener, NULL);
}

/* Sessions with devices no longer active on the roster end now. */
void
sess_drop_inactive(struct agent *ag)
{
	struct sess *s;

	for (s = ag->sessions; s != NULL; s = s->next)
		if (s->p != NULL && !s->p->active)
			sess_close(s, "no longer on the roster");
}

json_t *
sess_peers_json(struct agent *ag)
{
	struct sess *s;
	char hx[65];
	json_t *a = json_array();

	for (s = ag->sessions; s != NULL; s = s->next) {
		if (s->state != S_LIVE)
			continue;
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s,"
		    " s:I, s:I, s:I, s:s}", "id", ag_hex(s->p->sign_pk, 32,
		    hx), "name", s->p->name, "addr", s->addr, "direction",
		    s->initiator ? "out" : "in", "since",
		    (json_int_t)(kith_now() - (ag_now_ms() - s->since) / 1000),
		    "sent", (json_int_t)s->tx_n, "received",
		    (json_int_t)s->rx_n, "state", s->cu_rx && s->cu_tx ?
		    "live" : "syncing"));
	}
	return (a);
}
