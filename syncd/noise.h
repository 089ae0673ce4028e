/*
 * noise.h: the Noise Protocol Framework (revision 34), with the one cipher
 * suite kith uses: 25519, ChaChaPoly, BLAKE2b, all from libsodium.
 *
 * Handshake patterns are named by protocol name, for example
 * "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b" (pairing and invitations) and
 * "Noise_KK_25519_ChaChaPoly_BLAKE2b" (device-to-device sync).  Every
 * one-way and interactive base pattern of the specification, with psk
 * modifiers, is accepted; tests/unit/test_noise.c checks them all against
 * the cacophony vectors.
 *
 * Keys given to noise_hs_new() are copied into sodium_malloc memory owned by
 * the handshake; the caller keeps ownership of its own buffers.
 */
#ifndef KITH_NOISE_H
#define KITH_NOISE_H

#include <stddef.h>
#include <stdint.h>

#define NOISE_KEYLEN 32
#define NOISE_HASHLEN 64
#define NOISE_TAGLEN 16
#define NOISE_MAXMSG 65535

typedef struct noise_hs noise_hs;
typedef struct noise_cs noise_cs;

/**
 * noise_hs_new(out, protocol, initiator, prologue, prologue_len, s_sk,
 *     rs_pk, psk):
 * Start a handshake for ${protocol}.  ${s_sk} is the local static X25519
 * secret key (NULL when the pattern has none), ${rs_pk} the remote static
 * public key when the pattern pre-shares it (else NULL), ${psk} the 32-byte
 * pre-shared key when the pattern uses one (else NULL).  The ephemeral key
 * is generated at random unless noise_hs_set_ephemeral() is called before
 * the first message.  A responder (only) may give ${psk} as NULL and set it
 * with noise_hs_set_psk() once the first message told it which one (a
 * psk token met without it fails the handshake).  Returns 0, KITH_EINVAL (unknown or unsupported
 * protocol name, missing key) or KITH_ENOMEM.
 */
int noise_hs_new(noise_hs **out, const char *protocol, int initiator,
    const uint8_t *prologue, size_t prologue_len, const uint8_t *s_sk,
    const uint8_t *rs_pk, const uint8_t *psk);

/**
 * noise_hs_set_psk(hs, psk): the pre-shared key, when it was not given to
 * noise_hs_new.
 */
void noise_hs_set_psk(noise_hs *hs, const uint8_t psk[static NOISE_KEYLEN]);

/**
 * noise_hs_set_ephemeral(hs, e_sk): use ${e_sk} as the local ephemeral
 * secret key (test vectors only).
 */
void noise_hs_set_ephemeral(noise_hs *hs, const uint8_t e_sk[static 32]);

/**
 * noise_hs_write(hs, payload, len, out, outcap, outlen): write the next
 * handshake message, carrying ${payload}, into ${out}.  Returns 0,
 * KITH_EINVAL (not our turn, handshake done, or ${outcap} too small: the
 * message is at most len + 32 + 48 + 16 bytes) or KITH_ECRYPTO.
 */
int noise_hs_write(noise_hs *hs, const uint8_t *payload, size_t len,
    uint8_t *out, size_t outcap, size_t *outlen);

/**
 * noise_hs_read(hs, msg, len, payload, cap, plen): read the next handshake
 * message from the peer; its payload goes to ${payload}.  Returns 0,
 * KITH_EINVAL (not our turn), KITH_EFORMAT (wrong length) or
 * KITH_EHANDSHAKE (authentication failed).  After a failure the handshake
 * can only be freed.
 */
int noise_hs_read(noise_hs *hs, const uint8_t *msg, size_t len,
    uint8_t *payload, size_t cap, size_t *plen);

/**
 * noise_hs_done(hs): non-zero once every message of the pattern is through.
 */
int noise_hs_done(const noise_hs *hs);

/**
 * noise_hs_remote_static(hs): the peer's static public key (32 bytes) once
 * known, else NULL.  Valid until noise_hs_free().
 */
const uint8_t *noise_hs_remote_static(const noise_hs *hs);

/**
 * noise_hs_hash(hs, h): copy the handshake hash (channel binding) to ${h}.
 */
void noise_hs_hash(const noise_hs *hs, uint8_t h[static NOISE_HASHLEN]);

/**
 * noise_hs_split(hs, send, recv): once done, derive the two transport
 * cipher states; ${send} encrypts what this side sends.  Both belong to the
 * caller (noise_cs_free).  The handshake may be freed after.
 */
int noise_hs_split(noise_hs *hs, noise_cs **send, noise_cs **recv);

/**
 * noise_hs_free(hs): wipe and free; NULL does nothing.
 */
void noise_hs_free(noise_hs *hs);

/**
 * noise_cs_encrypt(cs, ad, adlen, pt, len, out): encrypt ${len} bytes to
 * ${out} (len + 16 bytes), nonce counter advancing.  ${out} may equal ${pt}.
 * Returns 0 or KITH_EINVAL (nonce exhausted).
 */
int noise_cs_encrypt(noise_cs *cs, const uint8_t *ad, size_t adlen,
    const uint8_t *pt, size_t len, uint8_t *out);

/**
 * noise_cs_decrypt(cs, ad, adlen, ct, len, out): decrypt ${len} bytes
 * (tag included) to ${out} (len - 16 bytes).  The nonce advances only on
 * success.  Returns 0, KITH_EFORMAT (too short) or KITH_ECRYPTO.
 */
int noise_cs_decrypt(noise_cs *cs, const uint8_t *ad, size_t adlen,
    const uint8_t *ct, size_t len, uint8_t *out);

/**
 * noise_cs_free(cs): wipe and free; NULL does nothing.
 */
void noise_cs_free(noise_cs *cs);

#endif
