/*
 * seeds_seal.c: the seed corpus of fuzz_seal (see fuzz_seal.c for the
 * modes): envelopes the home of fuzz_home.h seals to itself, binary and
 * armoured (mode 0), and frame descriptions around a true sender block of
 * that home (mode 1):
 *
 *     seeds_seal tests/fuzz/corpus
 */
#define _GNU_SOURCE		/* open_memstream */
#include "seeds.h"

#include "fuzz_home.h"

#include "seal.h"

static struct home *hm;

/* Mode 0: an envelope sealed by the home to itself. */
static void
envelope(const char *name, size_t size, int armour)
{
	struct seal_opts o;
	uint8_t *in = calloc(1, size + 1);
	char *env = NULL;
	size_t len = 0, i;
	FILE *fi, *fo;

	for (i = 0; i < size; i++)
		in[i] = (uint8_t)('a' + i % 26);
	memset(&o, 0, sizeof(o));
	o.self = 1;
	o.name = "seed.txt";
	o.armour = armour;
	fi = fmemopen(in, size + 1, "r");
	if (size == 0)
		(void)fgetc(fi);
	fo = open_memstream(&env, &len);
	seeds_must(seal_write(hm, &o, fi, fo, NULL), name);
	fclose(fi);
	fclose(fo);
	seeds_put(name, 0, env, len);
	free(env);
	free(in);
}

struct frames {
	uint8_t b[200000];
	size_t n;
};

static void
frame(struct frames *f, uint8_t tag, const void *p, size_t len)
{

	f->b[f->n] = tag;
	kith_be16enc(f->b + f->n + 1, (uint16_t)len);
	memcpy(f->b + f->n + 3, p, len);
	f->n += 3 + len;
}

/* The home's sender block (docs/PROTOCOL.md §15.4), of ${kind}. */
static size_t
sender_block(uint8_t *b, int kind, const char *fname, int gid)
{
	uint8_t *cert;
	size_t certlen, off;

	seeds_must(store_meta_get(hm->st, "cert", &cert, &certlen), "cert");
	b[0] = 1;
	b[1] = (uint8_t)kind;
	kith_be64enc(b + 2, 1790000000);
	memcpy(b + 10, hm->account_pk, 32);
	kith_be16enc(b + 42, (uint16_t)certlen);
	memcpy(b + 44, cert, certlen);
	off = 44 + certlen;
	free(cert);
	kith_be32enc(b + off, (uint32_t)hm->roster->bloblen);
	memcpy(b + off + 4, hm->roster->blob, hm->roster->bloblen);
	off += 4 + hm->roster->bloblen;
	b[off++] = 1;
	memcpy(b + off, hm->account_pk, 32);
	off += 32;
	b[off++] = gid ? 16 : 0;
	if (gid) {
		memset(b + off, 0x47, 16);
		off += 16;
	}
	b[off++] = (uint8_t)strlen(fname);
	memcpy(b + off, fname, strlen(fname));
	return (off + strlen(fname));
}

#define TAG_MSG 0
#define TAG_FINAL 3

/* Mode 1: flags, the sender block, ${body}, the signature frame. */
static void
described(const char *name, int sign, int kind, const char *body,
    int final, int gid)
{
	static struct frames f;
	uint8_t blk[65536], zero[64];
	size_t n;

	memset(zero, 0, sizeof(zero));
	f.n = 0;
	f.b[f.n++] = (uint8_t)sign;
	n = sender_block(blk, kind, "seed.txt", gid);
	frame(&f, TAG_MSG, blk, n);
	if (body != NULL)
		frame(&f, TAG_MSG, body, strlen(body));
	if (final)
		frame(&f, TAG_FINAL, zero, sizeof(zero));
	seeds_put(name, 1, f.b, f.n);
}

int
main(int argc, char **argv)
{
	char doc[1024], acct[65];

	seeds_init(argc, argv, "fuzz_seal");
	fh_reset(fh_template(), NULL, 0);
	seeds_must(home_open(fh_template(), 0, &hm), "home_open");
	envelope("env-empty", 0, 0);
	envelope("env-small", 100, 0);
	envelope("env-small-armour", 100, 1);
	envelope("env-two-frames", 65536 + 10, 0);
	seeds_put("armour-prefix", 0, "Subject: x\n\n-----BEGIN KITH SEALED"
	    " MESSAGE-----\nS0lUSFNFQUwBAAAB\n-----END KITH SEALED"
	    " MESSAGE-----\n", 99);
	seeds_put("header-only", 0, "KITHSEAL\x01\x00\x00\x01", 12);

	described("frames-signed", 1, 0, "hello", 1, 0);
	described("frames-signed-empty", 1, 0, NULL, 1, 0);
	described("frames-unsigned", 0, 0, "hello", 1, 0);
	described("frames-no-final", 1, 0, "hello", 0, 0);
	described("frames-group-id", 1, 0, "hello", 1, 1);
	kith_hex(hm->account_pk, 32, acct);
	snprintf(doc, sizeof(doc), "{\"v\":1,\"gid\":\"474747474747474747474747"
	    "47474747\",\"name\":\"seed\",\"key\":\"%064d\",\"creator\":"
	    "\"%s\",\"members\":[{\"account\":\"%s\",\"alias\":\"me\"}]}", 0,
	    acct, acct);
	described("frames-group-key", 1, 1, doc, 1, 0);
	home_close(hm);
	return (0);
}
