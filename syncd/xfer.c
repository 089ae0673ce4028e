#include <stdlib.h>
#include <string.h>

#include "hist.h"
#include "kith_err.h"
#include "kith_util.h"
#include "xfer.h"

/* Commit the receiving transaction every so many records or bytes. */
#define COMMIT_RECS 16384
#define COMMIT_BYTES ((uint64_t)64 << 20)

size_t
xfer_vv_len(const struct store_vv *vv)
{

	return (2 + vv->n * 40);
}

void
xfer_vv_enc(const struct store_vv *vv, uint8_t *out)
{
	size_t i;

	kith_be16enc(out, (uint16_t)vv->n);
	for (i = 0; i < vv->n; i++) {
		memcpy(out + 2 + 40 * i, vv->e[i].origin, 32);
		kith_be64enc(out + 2 + 40 * i + 32, vv->e[i].seq);
	}
}

int
xfer_vv_dec(const uint8_t *b, size_t len, struct store_vv **vvp)
{
	struct store_vv *vv;
	size_t i, n;

	if (len < 2)
		return (KITH_EPROTO);
	n = kith_be16dec(b);
	if (len != 2 + n * 40)
		return (KITH_EPROTO);
	if ((vv = malloc(sizeof(*vv) + (n + 1) * sizeof(vv->e[0]))) == NULL)
		return (KITH_ENOMEM);
	vv->n = n;
	for (i = 0; i < n; i++) {
		memcpy(vv->e[i].origin, b + 2 + 40 * i, 32);
		vv->e[i].seq = kith_be64dec(b + 2 + 40 * i + 32);
	}
	*vvp = vv;
	return (0);
}

int
xfer_hello_dec(const uint8_t *b, size_t len, struct xfer_hello *h)
{
	int rc;

	if (len < XFER_HELLO_HDR || b[0] != XFER_SYNC_VERSION)
		return (KITH_EPROTO);
	if ((rc = xfer_vv_dec(b + XFER_HELLO_HDR, len - XFER_HELLO_HDR,
	    &h->vv)) != 0)
		return (rc);
	h->roster_version = kith_be64dec(b + 1);
	memcpy(h->roster_hash, b + 9, 32);
	return (0);
}

int
xfer_list_dec(const uint8_t *b, size_t len, size_t item, size_t *n)
{

	if (len < 2 || len != 2 + item * (size_t)kith_be16dec(b))
		return (KITH_EPROTO);
	*n = kith_be16dec(b);
	return (0);
}

int
xfer_have_send(chan *c, store *st)
{
	struct store_vv *vv;
	uint8_t body[CHAN_MAXBODY];
	size_t len;
	int rc;

	if ((rc = store_vv_get(st, &vv)) != 0)
		return (rc);
	if ((len = xfer_vv_len(vv)) > sizeof(body)) {
		free(vv);
		return (KITH_ETOOBIG);
	}
	xfer_vv_enc(vv, body);
	free(vv);
	return (chan_send(c, MSG_HAVE, body, len));
}

int
xfer_have_recv(chan *c, struct store_vv **vvp)
{
	uint8_t body[CHAN_MAXBODY], type;
	size_t len;
	int rc;

	if ((rc = chan_recv(c, &type, body, &len)) != 0)
		return (rc);
	if (type != MSG_HAVE)
		return (KITH_EPROTO);
	return (xfer_vv_dec(body, len, vvp));
}

int
xfer_slice(uint8_t *buf, size_t cap, size_t *used, const uint8_t *p,
    size_t len, int (*full)(void *arg), void *arg)
{
	size_t k;
	int rc;

	while (len > 0) {
		k = cap - *used;
		if (k > len)
			k = len;
		memcpy(buf + *used, p, k);
		*used += k;
		p += k;
		len -= k;
		if (*used == cap) {
			if ((rc = full(arg)) != 0)
				return (rc);
			*used = 0;
		}
	}
	return (0);
}

void
xfer_rechdr(uint8_t h[static XFER_RECHDR], const struct store_rec *rec)
{

	memcpy(h, rec->origin, 32);
	kith_be64enc(h + 32, rec->seq);
	kith_be32enc(h + 40, rec->epoch);
	memcpy(h + 44, rec->rid, STORE_RIDLEN);
	kith_be32enc(h + 44 + STORE_RIDLEN, (uint32_t)rec->boxlen);
}

struct sender {
	chan *c;
	uint8_t *body;		/* chan_sendbuf(c): RECS are built in place */
	size_t used;
	uint64_t n, bytes, totn, totbytes;
	xfer_progress_cb *cb;
	void *arg;
};

static int
out_full(void *arg)
{
	struct sender *s = arg;

	return (chan_send(s->c, MSG_RECS, s->body, s->used));
}

static int
out_bytes(struct sender *s, const uint8_t *p, size_t len)
{

	return (xfer_slice(s->body, CHAN_MAXBODY, &s->used, p, len, out_full,
	    s));
}

static int
send_one(void *arg, const struct store_rec *rec)
{
	struct sender *s = arg;
	uint8_t h[XFER_RECHDR];
	int rc;

	xfer_rechdr(h, rec);
	if ((rc = out_bytes(s, h, sizeof(h))) != 0 ||
	    (rc = out_bytes(s, rec->box, rec->boxlen)) != 0)
		return (rc);
	s->n++;
	s->bytes += rec->boxlen;
	if (s->cb != NULL && (s->n & 1023) == 0)
		s->cb(s->arg, s->n, s->totn, s->bytes, s->totbytes);
	return (0);
}

int
xfer_send(chan *c, store *st, const struct store_vv *have,
    xfer_progress_cb *cb, void *arg)
{
	struct sender *s;
	const uint8_t *ack;
	uint8_t m[16], type;
	size_t len;
	int rc;

	if ((s = malloc(sizeof(*s))) == NULL)
		return (KITH_ENOMEM);
	s->c = c;
	s->body = chan_sendbuf(c);
	s->used = 0;
	s->n = s->bytes = 0;
	s->cb = cb;
	s->arg = arg;
	if ((rc = store_count(st, have, 0, &s->totn, &s->totbytes)) != 0)
		goto done;
	kith_be64enc(m, s->totn);
	kith_be64enc(m + 8, s->totbytes);
	if ((rc = chan_send(c, MSG_BEGIN, m, 16)) != 0)
		goto done;
	/* From here until the last RECS, only RECS use the buffer. */
	if ((rc = store_scan(st, have, 0, send_one, s)) != 0)
		goto done;
	if (s->used > 0 &&
	    (rc = chan_send(c, MSG_RECS, s->body, s->used)) != 0)
		goto done;
	kith_be64enc(m, s->n);
	kith_be64enc(m + 8, s->bytes);
	if ((rc = chan_send(c, MSG_END, m, 16)) != 0)
		goto done;
	if (cb != NULL)
		cb(arg, s->n, s->totn, s->bytes, s->totbytes);
	/* The receiver commits, then says DONE: only then is it there. */
	if ((rc = chan_recv_ref(c, &type, &ack, &len)) != 0)
		goto done;
	if (type != MSG_DONE || len != 8)
		rc = KITH_EPROTO;
done:
	free(s);
	return (rc);
}

int
recparse_feed(struct recparse *rp, const uint8_t *p, size_t len,
    int (*cb)(void *arg, const struct store_rec *rec), void *arg)
{
	struct store_rec rec;
	size_t k;
	uint32_t bl;
	uint8_t *nb;
	int rc;

	while (len > 0) {
		if (rp->hdrgot < XFER_RECHDR) {
			k = XFER_RECHDR - rp->hdrgot;
			if (k > len)
				k = len;
			memcpy(rp->hdr + rp->hdrgot, p, k);
			rp->hdrgot += k;
			p += k;
			len -= k;
			if (rp->hdrgot < XFER_RECHDR)
				break;
			/* Check the length before allocating for it. */
			bl = kith_be32dec(rp->hdr + 44 + STORE_RIDLEN);
			if (bl < HIST_BOXOVER || bl > STORE_MAXBOX ||
			    kith_be64dec(rp->hdr + 32) == 0)
				return (KITH_EPROTO);
			if (bl > rp->boxcap) {
				if ((nb = realloc(rp->box, bl)) == NULL)
					return (KITH_ENOMEM);
				rp->box = nb;
				rp->boxcap = bl;
			}
			rp->boxlen = bl;
			rp->boxgot = 0;
		}
		k = rp->boxlen - rp->boxgot;
		if (k > len)
			k = len;
		memcpy(rp->box + rp->boxgot, p, k);
		rp->boxgot += k;
		p += k;
		len -= k;
		if (rp->boxgot == rp->boxlen) {
			memcpy(rec.origin, rp->hdr, 32);
			rec.seq = kith_be64dec(rp->hdr + 32);
			rec.epoch = kith_be32dec(rp->hdr + 40);
			memcpy(rec.rid, rp->hdr + 44, STORE_RIDLEN);
			rec.box = rp->box;
			rec.boxlen = rp->boxlen;
			rp->hdrgot = 0;
			if ((rc = cb(arg, &rec)) != 0)
				return (rc);
		}
	}
	return (0);
}

int
recparse_partial(const struct recparse *rp)
{

	return (rp->hdrgot != 0);
}

void
recparse_free(struct recparse *rp)
{

	free(rp->box);
	memset(rp, 0, sizeof(*rp));
}

struct receiver {
	store *st;
	struct recparse rp;
	uint64_t n, bytes, stored, pending, pendbytes;
	uint64_t kept;		/* of stored, those committed */
	int intx;
};

static int
rx_flush(struct receiver *r)
{
	int rc;

	if (!r->intx)
		return (0);
	r->intx = 0;
	r->pending = r->pendbytes = 0;
	if ((rc = store_commit(r->st)) == 0)
		r->kept = r->stored;
	return (rc);
}

static int
rx_record(void *arg, const struct store_rec *rec)
{
	struct receiver *r = arg;
	int added, rc;

	if (!r->intx) {
		if ((rc = store_begin(r->st)) != 0)
			return (rc);
		r->intx = 1;
	}
	if ((rc = store_rec_put(r->st, rec, &added)) != 0)
		return (rc == KITH_EINVAL ? KITH_EPROTO : rc);
	r->n++;
	r->bytes += rec->boxlen;
	r->stored += (uint64_t)added;
	r->pending++;
	r->pendbytes += rec->boxlen;
	if (r->pending >= COMMIT_RECS || r->pendbytes >= COMMIT_BYTES)
		return (rx_flush(r));
	return (0);
}

int
xfer_recv(chan *c, store *st, xfer_progress_cb *cb, void *arg,
    uint64_t *stored)
{
	struct receiver r;
	const uint8_t *body;
	uint8_t type, m[8];
	uint64_t totn = 0, totbytes = 0, lastcb = 0;
	size_t len;
	int rc, began = 0, frc;

	memset(&r, 0, sizeof(r));
	r.st = st;
	for (;;) {
		if ((rc = chan_recv_ref(c, &type, &body, &len)) != 0) {
			if (rc == KITH_ECLOSED)
				rc = KITH_ETRUNC;
			break;
		}
		if (type == MSG_BEGIN && !began && len == 16) {
			began = 1;
			totn = kith_be64dec(body);
			totbytes = kith_be64dec(body + 8);
			if (cb != NULL)
				cb(arg, 0, totn, 0, totbytes);
			continue;
		}
		if (type == MSG_RECS && began) {
			if ((rc = recparse_feed(&r.rp, body, len, rx_record, &r)) != 0)
				break;
			if (cb != NULL && r.n - lastcb >= 1024) {
				lastcb = r.n;
				cb(arg, r.n, totn, r.bytes, totbytes);
			}
			continue;
		}
		if (type == MSG_END && began && len == 16) {
			if (recparse_partial(&r.rp) || kith_be64dec(body) != r.n ||
			    kith_be64dec(body + 8) != r.bytes) {
				rc = KITH_EPROTO;
				break;
			}
			if ((rc = rx_flush(&r)) != 0)
				break;
			if (cb != NULL)
				cb(arg, r.n, totn, r.bytes, totbytes);
			kith_be64enc(m, r.stored);
			rc = chan_send(c, MSG_DONE, m, 8);
			break;
		}
		rc = KITH_EPROTO;
		break;
	}
	/* Keep every whole record that arrived: the next run resumes. */
	if ((frc = rx_flush(&r)) != 0 && rc == 0)
		rc = frc;
	/* What a failed commit (a full disk) rolled back is not kept. */
	*stored = r.kept;
	recparse_free(&r.rp);
	return (rc);
}
