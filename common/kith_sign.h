/*
 * kith_sign.h: the one way kith signs: Ed25519ph (libsodium's
 * crypto_sign_init/update/final) over a context string, an optional
 * 32-byte hash, and the message.  Rosters, certificates, invitations and
 * replies all use it, each with its own context (docs/PROTOCOL.md §1).
 */
#ifndef KITH_SIGN_H
#define KITH_SIGN_H

#include <stddef.h>
#include <stdint.h>

/**
 * kith_sign_ctx(sig, ctx, ctxlen, h, m, len, sk): sign ctx || h || m
 * (${h} 32 bytes, or NULL for none).  The hash state is wiped after (it
 * may have seen a secret).  Returns 0 or KITH_ECRYPTO.
 */
int kith_sign_ctx(uint8_t sig[64], const uint8_t *ctx, size_t ctxlen,
    const uint8_t *h, const uint8_t *m, size_t len, const uint8_t sk[64]);

/**
 * kith_verify_ctx(sig, ctx, ctxlen, h, m, len, pk): check such a
 * signature.  Returns 0 or KITH_ECRYPTO.
 */
int kith_verify_ctx(const uint8_t sig[64], const uint8_t *ctx,
    size_t ctxlen, const uint8_t *h, const uint8_t *m, size_t len,
    const uint8_t pk[32]);

#endif
