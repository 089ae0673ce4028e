/*
 * fuzz_join.h: what fuzz_join.c and seeds_join.c share: the shower's fixed
 * keys, the ticket's secret and the joiner's name.  The joiner's keys are
 * fuzz_home.h's (FH_SIGN, FH_KX).
 *
 * An input is a sequence of frames, each
 *     type (1) || length (2, big-endian) || body (length)
 * which the shower sends, sealed, after the handshake; a short last frame
 * is sent with what there is of its body.
 */
#ifndef KITH_FUZZ_JOIN_H
#define KITH_FUZZ_JOIN_H

#define FJ_SHOWER_SIGN 0xa1
#define FJ_SHOWER_KX 0xa2
#define FJ_SECRET 0x5f
#define FJ_NAME "joiner"

#endif
