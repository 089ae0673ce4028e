/*
 * xfer.h: the record stream, used by the first transfer to a new device
 * (and by sync): what a device lacks, sent as the ciphertext it is stored
 * as, over a chan.
 *
 *   receiver -> sender   HAVE   n (2) || n * (origin (32) || seq (8))
 *   sender -> receiver   BEGIN  records (8) || bytes (8)
 *                        RECS   a slice of the record stream (any size)
 *                        END    records (8) || bytes (8)
 *   receiver -> sender   DONE   records stored (8)
 *
 * The record stream is a concatenation of records, each
 *     origin (32) || seq (8) || epoch (4) || rid (16) || boxlen (4) || box
 * cut into RECS messages without regard to record boundaries.  END says how
 * many records were sent: a stream that stops before END, or whose END
 * disagrees, is incomplete, and what arrived whole is kept for next time.
 */
#ifndef KITH_XFER_H
#define KITH_XFER_H

#include <stdint.h>

#include "chan.h"
#include "store.h"

enum {
	MSG_JOIN_PROOF = 0x10,
	MSG_WAIT = 0x11,
	MSG_ACCOUNT = 0x12,
	MSG_ROSTER = 0x13,
	MSG_CERT = 0x14,
	MSG_KEYS = 0x15,
	MSG_REFUSE = 0x16,
	MSG_HAVE = 0x20,
	MSG_BEGIN = 0x21,
	MSG_RECS = 0x22,
	MSG_END = 0x23,
	MSG_DONE = 0x24,
};

#define XFER_RECHDR (32 + 8 + 4 + STORE_RIDLEN + 4)

/**
 * xfer_vv_len(vv) / xfer_vv_enc(vv, out) / xfer_vv_dec(b, len, vv): a
 * version vector on the wire, n (2) || n * (origin (32) || seq (8)), as in
 * HAVE and in sync's HELLO.  Decoding wants the exact length (KITH_EPROTO)
 * and mallocs *${vv}.
 */
size_t xfer_vv_len(const struct store_vv *vv);
void xfer_vv_enc(const struct store_vv *vv, uint8_t *out);
int xfer_vv_dec(const uint8_t *b, size_t len, struct store_vv **vv);

/*
 * sync's HELLO body (kithd/sess.c): version (1) = XFER_SYNC_VERSION ||
 * roster version (8) || roster hash (32) || vv.
 */
#define XFER_SYNC_VERSION 2
#define XFER_HELLO_HDR (1 + 8 + 32)

struct xfer_hello {
	uint64_t roster_version;
	uint8_t roster_hash[32];
	struct store_vv *vv;		/* malloc'd */
};

/**
 * xfer_hello_dec(b, len, h): decode a HELLO body.  Returns 0, KITH_EPROTO
 * or KITH_ENOMEM.
 */
int xfer_hello_dec(const uint8_t *b, size_t len, struct xfer_hello *h);

/**
 * xfer_list_dec(b, len, item, n): the count of a list n (2) || n * item
 * bytes, as sync's EPOCHS (4-byte items) and KEYS (36); KITH_EPROTO unless
 * ${len} is exactly that.
 */
int xfer_list_dec(const uint8_t *b, size_t len, size_t item, size_t *n);

/**
 * xfer_slice(buf, cap, used, p, len, full, arg): append ${len} bytes to
 * ${buf} (holding *${used} of ${cap}); each time it is full, call
 * ${full}(arg) (which sends it) and start it again.  Cuts a byte stream
 * into messages without regard to what it carries.
 */
int xfer_slice(uint8_t *buf, size_t cap, size_t *used, const uint8_t *p,
    size_t len, int (*full)(void *arg), void *arg);

/**
 * xfer_rechdr(h, rec): the header of ${rec} in the record stream.
 */
void xfer_rechdr(uint8_t h[static XFER_RECHDR], const struct store_rec *rec);

/*
 * The record stream parser, fed slices of the stream as they arrive (also
 * used by kithd's sessions).  Zero-initialise it; a record is handed to the
 * callback once whole, valid during the call only.
 */
struct recparse {
	uint8_t hdr[XFER_RECHDR];
	size_t hdrgot;
	uint8_t *box;
	size_t boxcap, boxlen, boxgot;
};

/**
 * recparse_feed(rp, p, len, cb, arg): parse ${len} more bytes.  Returns 0,
 * KITH_EPROTO (a malformed header), KITH_ENOMEM, or what ${cb} returned
 * (non-zero stops the parse).
 */
int recparse_feed(struct recparse *rp, const uint8_t *p, size_t len,
    int (*cb)(void *arg, const struct store_rec *rec), void *arg);

/**
 * recparse_partial(rp): non-zero while a record is half received.
 */
int recparse_partial(const struct recparse *rp);

/**
 * recparse_free(rp): free its buffer and reset it.
 */
void recparse_free(struct recparse *rp);

typedef void xfer_progress_cb(void *arg, uint64_t nrec, uint64_t totrec,
    uint64_t nbytes, uint64_t totbytes);

/**
 * xfer_have_send(c, st) / xfer_have_recv(c, vv): exchange what the
 * receiver holds.  *${vv} is malloc'd.
 */
int xfer_have_send(chan *c, store *st);
int xfer_have_recv(chan *c, struct store_vv **vv);

/**
 * xfer_send(c, st, have, cb, arg): stream every record beyond ${have},
 * then wait for DONE.  Returns 0, or a chan / store error.
 */
int xfer_send(chan *c, store *st, const struct store_vv *have,
    xfer_progress_cb *cb, void *arg);

/**
 * xfer_recv(c, st, cb, arg, stored): receive a stream into ${st},
 * committing as it goes, then acknowledge.  *${stored} counts records newly
 * stored.  On any error what arrived whole is committed and the error
 * returned (KITH_ETRUNC for a stream cut before END, KITH_EPROTO for a
 * malformed one, KITH_ECRYPTO for a tampered frame).
 */
int xfer_recv(chan *c, store *st, xfer_progress_cb *cb, void *arg,
    uint64_t *stored);

#endif
