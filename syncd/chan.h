/*
 * chan.h: a Noise channel over a stream socket.
 *
 * Every message on the wire, handshake or transport, is a frame:
 *     length (2, big endian) || bytes (length, at most 65535)
 * A transport frame's plaintext is type (1) || body, so a body holds at
 * most CHAN_MAXBODY bytes.  The channel never takes a closed connection for
 * a finished conversation: each protocol ends with an explicit message.
 *
 * Blocking I/O with a per-operation timeout (poll).  The channel owns the
 * socket and the cipher states.
 */
#ifndef KITH_CHAN_H
#define KITH_CHAN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "noise.h"

#define CHAN_MAXBODY (NOISE_MAXMSG - NOISE_TAGLEN - 1)

typedef struct chan chan;

/**
 * chan_connect(addr, addrlen, timeout_ms, fd): a TCP connection, or
 * KITH_ECONN / KITH_ETIMEOUT.
 */
int chan_connect(const struct sockaddr *addr, socklen_t addrlen,
    int timeout_ms, int *fd);

/**
 * chan_new(fd, timeout_ms, out): a channel on connected socket ${fd}, which
 * it now owns (closed by chan_free even on failure).
 */
int chan_new(int fd, int timeout_ms, chan **out);

/**
 * chan_set_timeout(c, ms): the timeout of each later read or write.
 */
void chan_set_timeout(chan *c, int ms);

/**
 * chan_hs_send(c, hs, payload, len) / chan_hs_recv(c, hs, buf, cap, len):
 * one handshake message each way.  When the handshake is done, the channel
 * takes its transport keys (the handshake stays the caller's).
 */
int chan_hs_send(chan *c, noise_hs *hs, const uint8_t *payload, size_t len);
int chan_hs_recv(chan *c, noise_hs *hs, uint8_t *buf, size_t cap,
    size_t *len);

/**
 * chan_send(c, type, body, len): one transport message (len <=
 * CHAN_MAXBODY).  Returns 0, KITH_EIO, KITH_ETIMEOUT or KITH_ECLOSED.
 * A ${body} built in place at chan_sendbuf(c) is not copied.
 */
int chan_send(chan *c, uint8_t type, const uint8_t *body, size_t len);

/**
 * chan_sendbuf(c): where the body of the next message may be built in
 * place (CHAN_MAXBODY bytes), to spare a copy on bulk transfers.  Any
 * chan_send or chan_recv overwrites it.
 */
uint8_t *chan_sendbuf(chan *c);

/**
 * chan_recv(c, type, body, len): the next transport message; ${body} must
 * hold CHAN_MAXBODY bytes.  Returns 0, KITH_ECLOSED (clean close between
 * frames), KITH_ETRUNC (cut inside a frame), KITH_ECRYPTO (a frame that
 * fails to authenticate: tampering), KITH_ETIMEOUT or KITH_EIO.
 */
int chan_recv(chan *c, uint8_t *type, uint8_t *body, size_t *len);

/**
 * chan_recv_ref(c, type, body, len): as chan_recv, but *${body} points
 * into the channel's own buffer, valid until its next send or receive.
 */
int chan_recv_ref(chan *c, uint8_t *type, const uint8_t **body,
    size_t *len);

/**
 * chan_free(c): close and wipe; NULL does nothing.
 */
void chan_free(chan *c);

#endif
