/*
 * kith_util.h: byte order, base32 and file helpers shared by every part.
 */
#ifndef KITH_UTIL_H
#define KITH_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

static inline void
kith_be16enc(uint8_t *p, uint16_t x)
{
	p[0] = (uint8_t)(x >> 8);
	p[1] = (uint8_t)x;
}

static inline uint16_t
kith_be16dec(const uint8_t *p)
{
	return (uint16_t)(((uint16_t)p[0] << 8) | p[1]);
}

static inline void
kith_be32enc(uint8_t *p, uint32_t x)
{
	p[0] = (uint8_t)(x >> 24);
	p[1] = (uint8_t)(x >> 16);
	p[2] = (uint8_t)(x >> 8);
	p[3] = (uint8_t)x;
}

static inline uint32_t
kith_be32dec(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | p[3];
}

static inline void
kith_be64enc(uint8_t *p, uint64_t x)
{
	kith_be32enc(p, (uint32_t)(x >> 32));
	kith_be32enc(p + 4, (uint32_t)x);
}

static inline uint64_t
kith_be64dec(const uint8_t *p)
{
	return ((uint64_t)kith_be32dec(p) << 32) | kith_be32dec(p + 4);
}

/**
 * kith_base32_enc(in, len, out): RFC 4648 base32, upper case, no padding,
 * into ${out} (KITH_BASE32_LEN(len) + 1 bytes, NUL-terminated).
 */
#define KITH_BASE32_LEN(n) (((n) * 8 + 4) / 5)
void kith_base32_enc(const uint8_t *in, size_t len, char *out);

/**
 * kith_base32_dec(in, inlen, out, cap, outlen): decode base32 (either
 * case; '-' and spaces ignored; no padding).  Returns 0, KITH_EFORMAT (a
 * bad character or non-zero trailing bits) or KITH_ETOOBIG (over ${cap}).
 */
int kith_base32_dec(const char *in, size_t inlen, uint8_t *out, size_t cap,
    size_t *outlen);

/**
 * kith_hex(in, len, out): lower-case hex of ${in} into ${out} (2*len + 1).
 */
void kith_hex(const uint8_t *in, size_t len, char *out);

/**
 * kith_text_ok(s, len): 1 when the ${len} bytes at ${s} are well-formed
 * UTF-8 (no overlong forms, no surrogates) without control characters
 * (C0, DEL, C1): text from outside that is safe to print.  Else 0.
 */
int kith_text_ok(const char *s, size_t len);

/**
 * kith_duration(s, secs): a duration as people write it: a whole number
 * followed by s, m, h or d (or nothing: seconds), at most ten years.
 * Returns 0 or KITH_EINVAL.
 */
int kith_duration(const char *s, uint64_t *secs);

/**
 * kith_number(s, min, max, v): a whole number from ${min} to ${max} written
 * in decimal digits alone (no sign, no space, nothing after).  Returns 0
 * or KITH_EINVAL.
 */
int kith_number(const char *s, uint64_t min, uint64_t max, uint64_t *v);

/**
 * kith_unhex(in, inlen, out, outlen): decode exactly ${outlen} bytes from
 * the hex digits ${in} (either case; ${inlen} must be 2 * ${outlen}).
 * Returns 0 or KITH_EFORMAT.
 */
int kith_unhex(const char *in, size_t inlen, uint8_t *out, size_t outlen);

/**
 * kith_file_read(path, max, buf, len): read a whole file of at most ${max}
 * bytes into a malloc'd buffer (NUL-terminated for convenience; the
 * terminator is not counted in *${len}).  Returns 0, KITH_ENOENT, KITH_EIO,
 * KITH_ETOOBIG or KITH_ENOMEM.
 */
int kith_file_read(const char *path, size_t max, uint8_t **buf, size_t *len);

/**
 * kith_file_write(path, buf, len, mode): write ${buf} to ${path} atomically
 * (a temporary file created with O_EXCL and ${mode}, fsync, rename, fsync
 * of the directory).  Returns 0 or KITH_EIO.
 */
int kith_file_write(const char *path, const void *buf, size_t len,
    mode_t mode);

/**
 * kith_mkdirs(path, mode): create ${path} and its missing parents.
 * Returns 0 or KITH_EIO.
 */
int kith_mkdirs(const char *path, mode_t mode);

/**
 * kith_now(): the current time, seconds since the epoch.
 */
uint64_t kith_now(void);

/**
 * kith_mono_ms(): milliseconds of CLOCK_MONOTONIC, for timeouts and rates
 * (never a wall-clock time).
 */
uint64_t kith_mono_ms(void);

#endif
