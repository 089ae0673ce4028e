/*
 * rosterpush: what a thief with a copy of a device's home could send: a
 * roster of its choosing, over the sync protocol (docs/PROTOCOL.md §11).
 *
 *   rosterpush HOME ADDR PORT PEER FILE [--xk]
 *	Connect to the kithd at ADDR:PORT as the device of HOME, to the
 *	device of HOME's roster whose id starts with PEER (hex), or to the
 *	device whose Noise key PEER gives as kx:HEX (64 digits), with Noise_KK (or, with --xk,
 *	Noise_XK, the roster riding in the third message), send HELLO naming
 *	FILE's version and then ROSTER = FILE || HOME's passphrase seal, and
 *	print what comes back for two seconds:
 *	    refused            the handshake was refused
 *	    connected
 *	    got TYPE LEN       each message (TYPE in hex)
 *	    closed
 *	Exit 0 if connected, 1 if refused, 2 on a usage or setup error.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "home.h"
#include "../unit/testhome.h"
#include "kith_err.h"
#include "kith_util.h"
#include "noise.h"

#define PROLOGUE "kith sync v1"

static int fd = -1;
static struct home *hm;
static uint8_t *blob, *body, *buf;
static noise_hs *hs;

/* Everything freed, so that a sanitizer build reports only real leaks. */
static int
done(int rc)
{

	noise_hs_free(hs);
	free(blob);
	free(body);
	free(buf);
	home_close(hm);
	if (fd != -1)
		close(fd);
	return (rc);
}

static int
put_frame(const uint8_t *m, size_t len)
{
	uint8_t h[2];

	kith_be16enc(h, (uint16_t)len);
	return (write(fd, h, 2) == 2 && write(fd, m, len) == (ssize_t)len ?
	    0 : -1);
}

static int
get_all(uint8_t *b, size_t len, int ms)
{
	struct pollfd p = { fd, POLLIN, 0 };
	size_t o = 0;
	ssize_t r;

	while (o < len) {
		if (poll(&p, 1, ms) != 1)
			return (-1);
		if ((r = read(fd, b + o, len - o)) <= 0)
			return (-1);
		o += (size_t)r;
	}
	return (0);
}

static int
get_frame(uint8_t *b, size_t *len, int ms)
{
	uint8_t h[2];

	if (get_all(h, 2, ms) != 0)
		return (-1);
	*len = kith_be16dec(h);
	return (get_all(b, *len, ms));
}

static int
send_msg(noise_cs *tx, uint8_t type, const uint8_t *b, size_t len)
{
	uint8_t *m;
	int rc;

	if ((m = malloc(1 + len + NOISE_TAGLEN)) == NULL)
		return (-1);
	m[0] = type;
	memcpy(m + 1, b, len);
	rc = noise_cs_encrypt(tx, NULL, 0, m, 1 + len, m) == 0 ?
	    put_frame(m, 1 + len + NOISE_TAGLEN) : -1;
	free(m);
	return (rc);
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sin;
	const struct roster_dev *peer = NULL;
	struct roster_dev rawkx;
	noise_cs *tx, *rx;
	uint8_t hello[1 + 8 + 32 + 2];
	size_t blen, len, i;
	int xk = argc == 7 && strcmp(argv[6], "--xk") == 0;

	if (argc != 6 && !xk) {
		fprintf(stderr, "usage: rosterpush HOME ADDR PORT PEER FILE"
		    " [--xk]\n");
		return (2);
	}
	if (sodium_init() < 0 || home_open_env(argv[1], &hm) != 0 ||
	    hm->roster == NULL) {
		fprintf(stderr, "rosterpush: cannot open %s\n", argv[1]);
		return (done(2));
	}
	if (strncmp(argv[4], "kx:", 3) == 0 && sodium_hex2bin(rawkx.kx_pk, 32,
	    argv[4] + 3, strlen(argv[4] + 3), NULL, &i, NULL) == 0 && i == 32)
		peer = &rawkx;
	for (i = 0; peer == NULL && i < hm->roster->ndev; i++) {
		char hx[65];

		kith_hex(hm->roster->dev[i].sign_pk, 32, hx);
		if (strncmp(hx, argv[4], strlen(argv[4])) == 0)
			peer = &hm->roster->dev[i];
	}
	if (peer == NULL || kith_file_read(argv[5], 1 << 20, &blob,
	    &blen) != 0) {
		fprintf(stderr, "rosterpush: no device %s, or cannot read"
		    " %s\n", argv[4], argv[5]);
		return (done(2));
	}
	if ((body = malloc(blen + ACCOUNT_SEALED_LEN)) == NULL ||
	    (buf = malloc(NOISE_MAXMSG)) == NULL)
		return (done(2));
	memcpy(body, blob, blen);
	if (home_seal(hm, body + blen) != 0)
		return (done(2));
	len = blen + ACCOUNT_SEALED_LEN;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)atoi(argv[3]));
	if (inet_pton(AF_INET, argv[2], &sin.sin_addr) != 1 ||
	    (fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		perror("rosterpush: connect");
		return (done(2));
	}
	if (noise_hs_new(&hs, xk ? "Noise_XK_25519_ChaChaPoly_BLAKE2b" :
	    "Noise_KK_25519_ChaChaPoly_BLAKE2b", 1, (const uint8_t *)PROLOGUE,
	    sizeof(PROLOGUE) - 1, hm->dk->kx_sk, peer->kx_pk, NULL) != 0 ||
	    noise_hs_write(hs, NULL, 0, buf, NOISE_MAXMSG, &i) != 0 ||
	    put_frame(buf, i) != 0)
		return (done(2));
	if (get_frame(buf, &i, 5000) != 0 ||
	    noise_hs_read(hs, buf, i, NULL, 0, &i) != 0) {
		printf("refused\n");
		return (done(1));
	}
	if (xk) {
		if (noise_hs_write(hs, body, len, buf, NOISE_MAXMSG, &i) != 0 ||
		    put_frame(buf, i) != 0)
			return (done(2));
	}
	if (noise_hs_split(hs, &tx, &rx) != 0)
		return (done(2));
	printf("connected\n");
	fflush(stdout);
	if (!xk) {
		hello[0] = 2;
		memcpy(hello + 1, blob + 5, 8);	/* the file's version */
		crypto_generichash(hello + 9, 32, blob, blen, NULL, 0);
		hello[41] = hello[42] = 0;	/* holds no record */
		if (send_msg(tx, 0x30, hello, sizeof(hello)) != 0 ||
		    send_msg(tx, 0x31, body, len) != 0)
			return (done(2));
	}
	while (get_frame(buf, &i, 2000) == 0) {
		if (i < 1 + NOISE_TAGLEN ||
		    noise_cs_decrypt(rx, NULL, 0, buf, i, buf) != 0) {
			printf("undecryptable\n");
			break;
		}
		printf("got %02x %zu\n", buf[0], i - 1 - NOISE_TAGLEN);
		fflush(stdout);
	}
	printf("closed\n");
	noise_cs_free(tx);
	noise_cs_free(rx);
	return (done(0));
}
