/*
 * aeadbench [SECONDS]: the reference for the transfer benchmarks: how fast
 * one core runs ChaCha20-Poly1305 (IETF, libsodium) over 64 KiB messages,
 * in place, as the Noise channel does.  Prints "aead_MBps=N".
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <sodium.h>

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + ts.tv_nsec / 1e9);
}

int
main(int argc, char **argv)
{
	static unsigned char buf[65535];
	unsigned char key[32], nonce[12] = { 0 };
	double secs = argc > 1 ? atof(argv[1]) : 2.0, t0, t;
	unsigned long long clen, bytes = 0, n = 0;

	if (sodium_init() < 0)
		return (1);
	randombytes_buf(key, sizeof(key));
	randombytes_buf(buf, sizeof(buf));
	t0 = now();
	do {
		nonce[0] = (unsigned char)n++;
		crypto_aead_chacha20poly1305_ietf_encrypt(buf, &clen, buf,
		    sizeof(buf) - 16, NULL, 0, NULL, nonce, key);
		bytes += sizeof(buf) - 16;
	} while ((n & 63) != 0 || (t = now() - t0) < secs);
	printf("aead_MBps=%.1f\n", (double)bytes / t / 1e6);
	return (0);
}
