/*
 * sealref [BYTES]: the references of tests/bench/seal-bench.sh: how fast
 * one core runs the libsodium primitives that 'kith seal' and 'kith open'
 * stream a file through (syncd/seal.c), each over BYTES (default 1 GiB,
 * rounded up to whole 64 KiB chunks) of one 64 KiB buffer that stays in
 * cache, as seal's frame buffer does.  No file is read or written: these
 * are the costs no implementation of the format can avoid.
 *
 * Prints "bytes=N", then one "NAME_MBps=M" line each (1 MB = 10^6 bytes
 * of plaintext, of raw bytes for base64):
 *   ss_push          crypto_secretstream_xchacha20poly1305_push of 64 KiB
 *                    messages into a second buffer (seal's body frames)
 *   ss_pull          ..._pull of a 64 KiB frame (open's); a stream pulls in
 *                    order, so the state is set again (init_pull, one
 *                    HChaCha20) before each pull of the same frame rather
 *                    than BYTES of frames being kept
 *   aead_x           crypto_aead_xchacha20poly1305_ietf_encrypt of 64 KiB
 *                    messages, a counter nonce
 *   blake2b          crypto_generichash updates of 64 KiB, one BLAKE2b-512
 *                    state over all of it (seal's hash for the signature)
 *   ss_blake2b       seal's loop: per chunk, the hash update, then the push
 *   ss_pull_blake2b  open's loop: per chunk, the pull, then the hash update
 *   b64_enc          sodium_bin2base64 of 48-byte pieces (the armour's
 *                    64-column lines)
 *   b64_dec          sodium_base642bin of those 64-character lines
 * and "ss_blake2b_sum_MBps=M": ss_push and blake2b measured apart, their
 * times added (1 / (1/ss_push + 1/blake2b)).
 *
 * Exit 0, 1 if a primitive failed (a pull that does not verify), 2 on a
 * usage error.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <sodium.h>

#define CHUNK 65536
#define SSA crypto_secretstream_xchacha20poly1305_ABYTES
#define LINE_RAW 48			/* armour: bytes per line */
#define LINE_B64 64			/* ... and characters */
#define NLINES (CHUNK / LINE_RAW)	/* whole lines in a chunk */

static uint8_t pt[CHUNK];
static uint8_t ct[CHUNK + SSA];
static uint8_t key[32];

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

static int
ref_ss_push(uint64_t n, double *secs)
{
	crypto_secretstream_xchacha20poly1305_state st;
	uint8_t hdr[crypto_secretstream_xchacha20poly1305_HEADERBYTES];
	unsigned long long clen;
	uint64_t i;
	double t0 = now();

	crypto_secretstream_xchacha20poly1305_init_push(&st, hdr, key);
	for (i = 0; i < n; i++)
		crypto_secretstream_xchacha20poly1305_push(&st, ct, &clen, pt,
		    CHUNK, NULL, 0,
		    crypto_secretstream_xchacha20poly1305_TAG_MESSAGE);
	*secs = now() - t0;
	return (0);
}

/* One frame of a new stream in ct; its header in ${hdr}. */
static void
one_frame(uint8_t hdr[static crypto_secretstream_xchacha20poly1305_HEADERBYTES])
{
	crypto_secretstream_xchacha20poly1305_state st;
	unsigned long long clen;

	crypto_secretstream_xchacha20poly1305_init_push(&st, hdr, key);
	crypto_secretstream_xchacha20poly1305_push(&st, ct, &clen, pt, CHUNK,
	    NULL, 0, crypto_secretstream_xchacha20poly1305_TAG_MESSAGE);
}

/* The pulls, with the hash update after each when ${hash}. */
static int
pulls(uint64_t n, int hash, double *secs)
{
	crypto_secretstream_xchacha20poly1305_state st;
	crypto_generichash_state h;
	uint8_t hdr[crypto_secretstream_xchacha20poly1305_HEADERBYTES];
	uint8_t out[CHUNK], d[64];
	unsigned long long mlen;
	unsigned char tag;
	uint64_t i;
	double t0;

	one_frame(hdr);
	t0 = now();
	crypto_generichash_init(&h, NULL, 0, sizeof(d));
	for (i = 0; i < n; i++) {
		if (crypto_secretstream_xchacha20poly1305_init_pull(&st, hdr,
		    key) != 0 || crypto_secretstream_xchacha20poly1305_pull(
		    &st, out, &mlen, &tag, ct, sizeof(ct), NULL, 0) != 0 ||
		    mlen != CHUNK)
			return (-1);
		if (hash)
			crypto_generichash_update(&h, out, CHUNK);
	}
	crypto_generichash_final(&h, d, sizeof(d));
	*secs = now() - t0;
	return (0);
}

static int
ref_ss_pull(uint64_t n, double *secs)
{

	return (pulls(n, 0, secs));
}

static int
ref_ss_pull_blake2b(uint64_t n, double *secs)
{

	return (pulls(n, 1, secs));
}

static int
ref_aead_x(uint64_t n, double *secs)
{
	uint8_t nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES] = { 0 };
	unsigned long long clen;
	uint64_t i;
	double t0 = now();

	for (i = 0; i < n; i++) {
		sodium_increment(nonce, sizeof(nonce));
		crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &clen, pt, CHUNK,
		    NULL, 0, NULL, nonce, key);
	}
	*secs = now() - t0;
	return (0);
}

/* BLAKE2b-512 over n chunks, with a push after each when ${push}. */
static int
hashes(uint64_t n, int push, double *secs)
{
	crypto_secretstream_xchacha20poly1305_state st;
	crypto_generichash_state h;
	uint8_t hdr[crypto_secretstream_xchacha20poly1305_HEADERBYTES], d[64];
	unsigned long long clen;
	uint64_t i;
	double t0 = now();

	crypto_secretstream_xchacha20poly1305_init_push(&st, hdr, key);
	crypto_generichash_init(&h, NULL, 0, sizeof(d));
	for (i = 0; i < n; i++) {
		crypto_generichash_update(&h, pt, CHUNK);
		if (push)
			crypto_secretstream_xchacha20poly1305_push(&st, ct,
			    &clen, pt, CHUNK, NULL, 0,
			    crypto_secretstream_xchacha20poly1305_TAG_MESSAGE);
	}
	crypto_generichash_final(&h, d, sizeof(d));
	*secs = now() - t0;
	return (0);
}

static int
ref_blake2b(uint64_t n, double *secs)
{

	return (hashes(n, 0, secs));
}

static int
ref_ss_blake2b(uint64_t n, double *secs)
{

	return (hashes(n, 1, secs));
}

static int
ref_b64_enc(uint64_t n, double *secs)
{
	char line[sodium_base64_ENCODED_LEN(LINE_RAW,
	    sodium_base64_VARIANT_ORIGINAL)];
	uint64_t i;
	size_t k;
	double t0 = now();

	for (i = 0; i < n; i++)
		for (k = 0; k < NLINES; k++)
			sodium_bin2base64(line, sizeof(line), pt + k * LINE_RAW,
			    LINE_RAW, sodium_base64_VARIANT_ORIGINAL);
	*secs = now() - t0;
	return (0);
}

static int
ref_b64_dec(uint64_t n, double *secs)
{
	static char lines[NLINES][LINE_B64 + 1];
	uint8_t raw[LINE_RAW];
	uint64_t i;
	size_t k, got;
	double t0;

	for (k = 0; k < NLINES; k++)
		sodium_bin2base64(lines[k], sizeof(lines[k]), pt + k * LINE_RAW,
		    LINE_RAW, sodium_base64_VARIANT_ORIGINAL);
	t0 = now();
	for (i = 0; i < n; i++)
		for (k = 0; k < NLINES; k++)
			if (sodium_base642bin(raw, sizeof(raw), lines[k],
			    LINE_B64, NULL, &got, NULL,
			    sodium_base64_VARIANT_ORIGINAL) != 0 ||
			    got != LINE_RAW)
				return (-1);
	*secs = now() - t0;
	return (0);
}

static const struct ref {
	const char *name;
	int (*run)(uint64_t, double *);
	int b64;		/* counts whole lines, NLINES a chunk */
} refs[] = {
	{ "ss_push", ref_ss_push, 0 },
	{ "ss_pull", ref_ss_pull, 0 },
	{ "aead_x", ref_aead_x, 0 },
	{ "blake2b", ref_blake2b, 0 },
	{ "ss_blake2b", ref_ss_blake2b, 0 },
	{ "ss_pull_blake2b", ref_ss_pull_blake2b, 0 },
	{ "b64_enc", ref_b64_enc, 1 },
	{ "b64_dec", ref_b64_dec, 1 },
};

int
main(int argc, char **argv)
{
	unsigned long long bytes = 1ULL << 30;
	double secs, mbps, push = 0, hash = 0;
	uint64_t n, done;
	char *end;
	size_t i;

	if (argc == 2) {
		errno = 0;
		bytes = strtoull(argv[1], &end, 10);
		if (errno != 0 || end == argv[1] || *end != '\0')
			bytes = 0;
	}
	if (argc > 2 || bytes == 0 || bytes > (1ULL << 50)) {
		fprintf(stderr, "usage: sealref [BYTES]\n");
		return (2);
	}
	if (sodium_init() < 0)
		return (1);
	randombytes_buf(key, sizeof(key));
	randombytes_buf(pt, sizeof(pt));
	n = (bytes + CHUNK - 1) / CHUNK;
	printf("bytes=%llu\n", (unsigned long long)n * CHUNK);
	for (i = 0; i < sizeof(refs) / sizeof(refs[0]); i++) {
		if (refs[i].run(n, &secs) != 0) {
			fprintf(stderr, "sealref: %s failed\n", refs[i].name);
			return (1);
		}
		done = refs[i].b64 ? n * NLINES * LINE_RAW : n * CHUNK;
		mbps = secs > 0 ? (double)done / secs / 1e6 : 0;
		if (refs[i].run == ref_ss_push)
			push = mbps;
		else if (refs[i].run == ref_blake2b)
			hash = mbps;
		printf("%s_MBps=%.1f\n", refs[i].name, mbps);
		fflush(stdout);
	}
	printf("ss_blake2b_sum_MBps=%.1f\n", push > 0 && hash > 0 ?
	    1 / (1 / push + 1 / hash) : 0);
	return (0);
}
