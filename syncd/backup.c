#include <sys/file.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "backup.h"
#include "kith_err.h"
#include "kith_sign.h"
#include "kith_util.h"
#include "roster.h"
#include "xfer.h"

#define MAGIC_TARGET "KITHBKT1"
#define MAGIC_SEG "KITHBKS1"
#define MAGIC_MAN "KITHBKM1"
#define TARGET_LEN (8 + BACKUP_IDLEN + 32)
#define CHUNK 65536
#define SS_ABYTES crypto_secretstream_xchacha20poly1305_ABYTES
#define SS_HDR crypto_secretstream_xchacha20poly1305_HEADERBYTES
#define MAN_VERSION 1
#define MAN_MAX ((size_t)64 << 20)
#define STATE_VERSION 1

static const uint8_t file_ctx[] = "kith backup file v1";
static const uint8_t man_ctx[] = "kith backup manifest v1";
static const uint8_t target_ctx[] = "kith backup target v1";
static const uint8_t set_ctx[] = "kith backup set v1";

void
backup_keypair(const uint8_t seed[static 32], uint8_t *bsk,
    uint8_t bpk[static 32])
{
	static const uint8_t ctx[] = "kith backup key v1";
	uint8_t k[32];

	crypto_generichash(k, 32, ctx, sizeof(ctx) - 1, seed, 32);
	crypto_scalarmult_base(bpk, k);
	if (bsk != NULL)
		memcpy(bsk, k, 32);
	sodium_memzero(k, sizeof(k));
}

void
backup_setname(const uint8_t bpk[static 32], const uint8_t sign_pk[static 32],
    char out[static 17])
{
	crypto_generichash_state st;
	uint8_t h[8];

	crypto_generichash_init(&st, bpk, 32, sizeof(h));
	crypto_generichash_update(&st, set_ctx, sizeof(set_ctx) - 1);
	crypto_generichash_update(&st, sign_pk, 32);
	crypto_generichash_final(&st, h, sizeof(h));
	kith_hex(h, sizeof(h), out);
}

static void
target_tag(const uint8_t bpk[32], const uint8_t id[BACKUP_IDLEN],
    uint8_t tag[32])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, bpk, 32, 32);
	crypto_generichash_update(&st, target_ctx, sizeof(target_ctx) - 1);
	crypto_generichash_update(&st, id, BACKUP_IDLEN);
	crypto_generichash_final(&st, tag, 32);
}

static int
errno_rc(void)
{

	return (errno == ENOSPC || errno == EDQUOT ? KITH_ENOSPACE :
	    errno == ENOENT ? KITH_ENOENT : KITH_EIO);
}

static int
fsync_dir(const char *dir)
{
	int fd, rc = 0;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return (KITH_EIO);
	if (fsync(fd) != 0 && errno != EINVAL)
		rc = KITH_EIO;
	close(fd);
	return (rc);
}

/* DIR/kith-backup, or DIR itself when that is what it is. */
static int
root_of(const char *dir, char root[static PATH_MAX])
{
	const char *b = strrchr(dir, '/');
	struct stat sb;

	b = b == NULL ? dir : b + 1;
	if (strcmp(b, BACKUP_DIRNAME) == 0)
		return (snprintf(root, PATH_MAX, "%s", dir) >= PATH_MAX ?
		    KITH_EINVAL : 0);
	if (snprintf(root, PATH_MAX, "%s/%s", dir, BACKUP_DIRNAME) >=
	    PATH_MAX)
		return (KITH_EINVAL);
	/* A link there could send writes anywhere the user may write. */
	return (lstat(root, &sb) == 0 && S_ISDIR(sb.st_mode) ? 0 :
	    KITH_ENOENT);
}

int
backup_init(const char *dir, const uint8_t bpk[static 32],
    uint8_t id[static BACKUP_IDLEN])
{
	char root[PATH_MAX], path[PATH_MAX + 8];
	uint8_t t[TARGET_LEN];
	struct stat sb;
	int rc;

	if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
		return (KITH_ENOENT);
	if ((rc = backup_probe(dir, bpk, id)) == 0)
		return (KITH_EEXIST);
	if (rc != KITH_ENOENT)
		return (rc);
	if (snprintf(root, sizeof(root), "%s/%s", dir, BACKUP_DIRNAME) >=
	    (int)sizeof(root))
		return (KITH_EINVAL);
	if (mkdir(root, 0700) != 0 && errno != EEXIST)
		return (errno_rc());
	randombytes_buf(id, BACKUP_IDLEN);
	memcpy(t, MAGIC_TARGET, 8);
	memcpy(t + 8, id, BACKUP_IDLEN);
	target_tag(bpk, id, t + 8 + BACKUP_IDLEN);
	snprintf(path, sizeof(path), "%s/TARGET", root);
	if (kith_file_write(path, t, sizeof(t), 0600) != 0)
		return (KITH_EIO);
	return (0);
}

/*
 * A marker found on any mounted volume: a regular file, not a link, read
 * without blocking (a FIFO there must not stall the agent's worker).
 */
static int
read_marker(const char *path, uint8_t **out, size_t *len)
{
	struct stat sb;
	uint8_t *b;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return (errno == ENOENT || errno == ENOTDIR ? KITH_ENOENT :
		    KITH_ECORRUPT);
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    sb.st_size > 4096 || (b = malloc(4097)) == NULL) {
		close(fd);
		return (KITH_ECORRUPT);
	}
	n = read(fd, b, 4097);
	close(fd);
	if (n < 0 || n > 4096) {
		free(b);
		return (KITH_ECORRUPT);
	}
	*out = b;
	*len = (size_t)n;
	return (0);
}

int
backup_probe(const char *dir, const uint8_t bpk[static 32],
    uint8_t id[static BACKUP_IDLEN])
{
	char root[PATH_MAX], path[PATH_MAX + 8];
	uint8_t *b, tag[32];
	size_t len;
	int rc;

	if ((rc = root_of(dir, root)) != 0)
		return (rc);
	snprintf(path, sizeof(path), "%s/TARGET", root);
	if ((rc = read_marker(path, &b, &len)) != 0)
		return (rc);
	if (len != TARGET_LEN || memcmp(b, MAGIC_TARGET, 8) != 0) {	/* not secret */
		free(b);
		return (KITH_ECORRUPT);
	}
	target_tag(bpk, b + 8, tag);
	rc = sodium_memcmp(tag, b + 8 + BACKUP_IDLEN, 32) == 0 ? 0 :
	    KITH_EPERM;
	if (rc == 0)
		memcpy(id, b + 8, BACKUP_IDLEN);
	free(b);
	return (rc);
}

/* --- sealed files ------------------------------------------------------- */

/*
 * magic 8 | clear header (manifests: the passphrase seal) | epk 32 |
 * secretstream header 24 | chunks of CHUNK bytes (+ 17), the last one
 * shorter or equal and tagged FINAL.
 */
static void
file_key(uint8_t key[32], const uint8_t shared[32], const char *magic,
    const uint8_t *clear, size_t clen, uint64_t number,
    const uint8_t epk[32], const uint8_t bpk[32])
{
	crypto_generichash_state st;
	uint8_t n[8];

	kith_be64enc(n, number);
	crypto_generichash_init(&st, shared, 32, 32);
	crypto_generichash_update(&st, file_ctx, sizeof(file_ctx) - 1);
	crypto_generichash_update(&st, (const uint8_t *)magic, 8);
	/* The clear header too: a seal swapped in opens nothing. */
	if (clen > 0)
		crypto_generichash_update(&st, clear, clen);
	crypto_generichash_update(&st, n, 8);
	crypto_generichash_update(&st, epk, 32);
	crypto_generichash_update(&st, bpk, 32);
	crypto_generichash_final(&st, key, 32);
	sodium_memzero(&st, sizeof(st));
}

struct sfile {
	int fd;
	char tmp[PATH_MAX + 32], final[PATH_MAX + 32], dir[PATH_MAX];
	crypto_secretstream_xchacha20poly1305_state ss;
	crypto_generichash_state h;
	uint8_t *buf;		/* CHUNK plaintext, then its ciphertext */
	size_t used;
	uint64_t size;
};

static int
sf_put(struct sfile *f, const uint8_t *p, size_t len)
{
	ssize_t w;

	crypto_generichash_update(&f->h, p, len);
	f->size += len;
	while (len > 0) {
		if ((w = write(f->fd, p, len)) < 0) {
			if (errno == EINTR)
				continue;
			return (errno_rc());
		}
		p += w;
		len -= (size_t)w;
	}
	return (0);
}

static int
sf_open(struct sfile *f, const char *dir, const char *name,
    const char *magic, const uint8_t *clear, size_t clen,
    const uint8_t bpk[32], uint64_t number)
{
	uint8_t esk[32], epk[32], shared[32], key[32], hdr[SS_HDR];
	int rc;

	memset(f, 0, sizeof(*f));
	f->fd = -1;
	snprintf(f->dir, sizeof(f->dir), "%s", dir);
	snprintf(f->tmp, sizeof(f->tmp), "%s/.tmp-%s", dir, name);
	snprintf(f->final, sizeof(f->final), "%s/%s", dir, name);
	if ((f->buf = sodium_malloc(CHUNK + SS_ABYTES)) == NULL)
		return (KITH_ENOMEM);
	(void)unlink(f->tmp);
	if ((f->fd = open(f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) == -1)
		return (errno_rc());
	crypto_generichash_init(&f->h, NULL, 0, 32);
	randombytes_buf(esk, 32);
	crypto_scalarmult_base(epk, esk);
	if (crypto_scalarmult(shared, esk, bpk) != 0) {
		rc = KITH_EINVAL;
		goto out;
	}
	file_key(key, shared, magic, clear, clen, number, epk, bpk);
	crypto_secretstream_xchacha20poly1305_init_push(&f->ss, hdr, key);
	if ((rc = sf_put(f, (const uint8_t *)magic, 8)) == 0 &&
	    (clen == 0 || (rc = sf_put(f, clear, clen)) == 0) &&
	    (rc = sf_put(f, epk, 32)) == 0)
		rc = sf_put(f, hdr, sizeof(hdr));
out:
	sodium_memzero(esk, sizeof(esk));
	sodium_memzero(shared, sizeof(shared));
	sodium_memzero(key, sizeof(key));
	return (rc);
}

static int
sf_push(struct sfile *f, int final)
{
	unsigned long long clen;
	uint8_t *ct;
	int rc;

	/* In place is not allowed: seal into the tail, then write. */
	if ((ct = malloc(f->used + SS_ABYTES)) == NULL)
		return (KITH_ENOMEM);
	crypto_secretstream_xchacha20poly1305_push(&f->ss, ct, &clen,
	    f->buf, f->used, NULL, 0, final ?
	    crypto_secretstream_xchacha20poly1305_TAG_FINAL : 0);
	sodium_memzero(f->buf, f->used);
	f->used = 0;
	rc = sf_put(f, ct, (size_t)clen);
	free(ct);
	return (rc);
}

static int
sf_write(struct sfile *f, const uint8_t *p, size_t len)
{
	size_t n;
	int rc;

	while (len > 0) {
		n = CHUNK - f->used < len ? CHUNK - f->used : len;
		memcpy(f->buf + f->used, p, n);
		f->used += n;
		p += n;
		len -= n;
		if (f->used == CHUNK && len > 0 && (rc = sf_push(f, 0)) != 0)
			return (rc);
	}
	return (0);
}

static void
sf_abort(struct sfile *f)
{

	if (f->fd != -1) {
		close(f->fd);
		(void)unlink(f->tmp);
	}
	f->fd = -1;
	sodium_free(f->buf);
	f->buf = NULL;
	sodium_memzero(&f->ss, sizeof(f->ss));
}

/* The last chunk, then fsync, rename into place, fsync the directory. */
static int
sf_close(struct sfile *f, uint8_t hash[32], uint64_t *size)
{
	int rc;

	if ((rc = sf_push(f, 1)) != 0)
		goto fail;
	if (fsync(f->fd) != 0) {
		rc = errno_rc();
		goto fail;
	}
	if (close(f->fd) != 0) {
		f->fd = -1;
		(void)unlink(f->tmp);
		rc = errno_rc();
		goto fail;
	}
	f->fd = -1;
	if (rename(f->tmp, f->final) != 0) {
		rc = errno_rc();
		(void)unlink(f->tmp);
		goto fail;
	}
	if ((rc = fsync_dir(f->dir)) != 0)
		goto fail;
	crypto_generichash_final(&f->h, hash, 32);
	*size = f->size;
	sf_abort(f);
	return (0);
fail:
	sf_abort(f);
	return (rc);
}

/*
 * Read a sealed file whole: check its hash and size when given, and hand
 * the plaintext to ${cb} chunk by chunk.  A file cut anywhere, altered,
 * or of another number fails (KITH_ECORRUPT).
 */
static int
sf_read(const char *path, const char *magic, size_t clen, uint64_t number,
    const uint8_t bsk[32], const uint8_t bpk[32], const uint8_t *hash,
    uint64_t size, int (*cb)(void *, const uint8_t *, size_t), void *arg)
{
	crypto_secretstream_xchacha20poly1305_state ss;
	crypto_generichash_state h;
	uint8_t head[8 + 256 + 32 + SS_HDR], shared[32], key[32], got[32];
	uint8_t *ct = NULL, *pt = NULL, tag = 0;
	unsigned long long plen;
	size_t hlen = 8 + clen + 32 + SS_HDR;
	uint64_t total = 0;
	ssize_t n;
	int fd, rc = KITH_ECORRUPT;

	if (clen > 256)
		return (KITH_EINVAL);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (errno == ENOENT ? KITH_ECORRUPT : KITH_EIO);
	crypto_generichash_init(&h, NULL, 0, 32);
	if (read(fd, head, hlen) != (ssize_t)hlen ||
	    memcmp(head, magic, 8) != 0)		/* not secret: magic */
		goto out;
	crypto_generichash_update(&h, head, hlen);
	total = hlen;
	if (crypto_scalarmult(shared, bsk, head + 8 + clen) != 0)
		goto out;
	file_key(key, shared, magic, head + 8, clen, number, head + 8 + clen,
	    bpk);
	if (crypto_secretstream_xchacha20poly1305_init_pull(&ss,
	    head + 8 + clen + 32, key) != 0)
		goto out;
	if ((ct = malloc(CHUNK + SS_ABYTES)) == NULL ||
	    (pt = sodium_malloc(CHUNK)) == NULL) {
		rc = KITH_ENOMEM;
		goto out;
	}
	while (tag != crypto_secretstream_xchacha20poly1305_TAG_FINAL) {
		size_t got_n = 0;

		while (got_n < CHUNK + SS_ABYTES) {
			n = read(fd, ct + got_n, CHUNK + SS_ABYTES - got_n);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				rc = KITH_EIO;
				goto out;
			}
			if (n == 0)
				break;
			got_n += (size_t)n;
		}
		if (got_n < SS_ABYTES)
			goto out;	/* cut before its final chunk */
		crypto_generichash_update(&h, ct, got_n);
		total += got_n;
		if (crypto_secretstream_xchacha20poly1305_pull(&ss, pt, &plen,
		    &tag, ct, got_n, NULL, 0) != 0)
			goto out;
		if (tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL) {
			/* Nothing may follow the final chunk. */
			if (read(fd, ct, 1) != 0)
				goto out;
		} else if (got_n != CHUNK + SS_ABYTES)
			goto out;
		if (hash != NULL) {
			/* Whole-file checks before the last plaintext. */
			if (tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL) {
				crypto_generichash_final(&h, got, 32);
				if (total != size ||
				    sodium_memcmp(got, hash, 32) != 0)
					goto out;
			}
		}
		if (plen > 0 && (rc = cb(arg, pt, (size_t)plen)) != 0)
			goto out;
		rc = KITH_ECORRUPT;
	}
	rc = 0;
out:
	sodium_memzero(shared, sizeof(shared));
	sodium_memzero(key, sizeof(key));
	sodium_memzero(&ss, sizeof(ss));
	sodium_free(pt);
	free(ct);
	close(fd);
	return (rc);
}

/* --- state -------------------------------------------------------------- */

#define SEG_LEN (4 + 8 + 8 + 32)

static void
seg_enc(uint8_t *p, const struct backup_seg *s)
{

	kith_be32enc(p, s->num);
	kith_be64enc(p + 4, s->size);
	kith_be64enc(p + 12, s->recs);
	memcpy(p + 20, s->hash, 32);
}

static void
seg_dec(const uint8_t *p, struct backup_seg *s)
{

	s->num = kith_be32dec(p);
	s->size = kith_be64dec(p + 4);
	s->recs = kith_be64dec(p + 12);
	memcpy(s->hash, p + 20, 32);
}

static const struct store_vv empty_vv = { 0 };

int
backup_state_enc(const struct backup_state *s, uint8_t **out, size_t *len)
{
	const struct store_vv *vv = s->vv != NULL ? s->vv : &empty_vv;
	size_t vl = xfer_vv_len(vv), i;
	uint8_t *b, *p;

	*len = 1 + 8 + 8 + 32 + 32 + vl + 4 + s->nseg * SEG_LEN;
	if ((b = malloc(*len)) == NULL)
		return (KITH_ENOMEM);
	p = b;
	*p++ = STATE_VERSION;
	kith_be64enc(p, s->number);
	kith_be64enc(p + 8, s->time);
	memcpy(p + 16, s->manhash, 32);
	memcpy(p + 48, s->rosterhash, 32);
	p += 80;
	xfer_vv_enc(vv, p);
	p += vl;
	kith_be32enc(p, (uint32_t)s->nseg);
	p += 4;
	for (i = 0; i < s->nseg; i++, p += SEG_LEN)
		seg_enc(p, &s->seg[i]);
	*out = b;
	return (0);
}

/* The segment list: u32 n || n * SEG_LEN, exactly ${len} bytes. */
static int
segs_dec(const uint8_t *p, size_t len, struct backup_seg **out, size_t *n)
{
	uint32_t k, i;

	if (len < 4)
		return (KITH_EFORMAT);
	k = kith_be32dec(p);
	if (k > 4096 || len != 4 + (size_t)k * SEG_LEN)
		return (KITH_EFORMAT);
	*n = k;
	*out = NULL;
	if (k == 0)
		return (0);
	if ((*out = calloc(k, sizeof(**out))) == NULL)
		return (KITH_ENOMEM);
	for (i = 0; i < k; i++)
		seg_dec(p + 4 + (size_t)i * SEG_LEN, &(*out)[i]);
	return (0);
}

/* A version vector at the head of ${p}: its length from its count. */
static int
vv_take(const uint8_t *p, size_t len, struct store_vv **vv, size_t *used)
{
	size_t vl;

	if (len < 2)
		return (KITH_EFORMAT);
	vl = 2 + (size_t)kith_be16dec(p) * 40;
	if (vl > len || xfer_vv_dec(p, vl, vv) != 0)
		return (KITH_EFORMAT);
	*used = vl;
	return (0);
}

int
backup_state_dec(const uint8_t *b, size_t len, struct backup_state *s)
{
	size_t used;
	int rc;

	memset(s, 0, sizeof(*s));
	if (len < 81 || b[0] != STATE_VERSION)
		return (KITH_EFORMAT);
	s->number = kith_be64dec(b + 1);
	s->time = kith_be64dec(b + 9);
	memcpy(s->manhash, b + 17, 32);
	memcpy(s->rosterhash, b + 49, 32);
	if ((rc = vv_take(b + 81, len - 81, &s->vv, &used)) != 0 ||
	    (rc = segs_dec(b + 81 + used, len - 81 - used, &s->seg,
	    &s->nseg)) != 0) {
		backup_state_free(s);
		return (rc);
	}
	return (0);
}

void
backup_state_free(struct backup_state *s)
{

	free(s->vv);
	free(s->seg);
	memset(s, 0, sizeof(*s));
}

/* --- writing ------------------------------------------------------------ */

struct seg_arg {
	struct sfile *f;
	struct store_vv *vv;	/* raised to what is written */
	size_t cap;
	uint64_t n, tot;
	const struct backup_src *src;
};

static int
vv_raise(struct store_vv *vv, size_t cap, const uint8_t origin[32],
    uint64_t seq)
{
	size_t i;

	for (i = 0; i < vv->n; i++)
		if (memcmp(vv->e[i].origin, origin, 32) == 0) {	/* not secret */
			if (seq > vv->e[i].seq)
				vv->e[i].seq = seq;
			return (0);
		}
	if (vv->n == cap)
		return (KITH_EBUSY);	/* an origin the snapshot did not have */
	memcpy(vv->e[vv->n].origin, origin, 32);
	vv->e[vv->n].seq = seq;
	vv->n++;
	return (0);
}

static int
seg_one(void *arg, const struct store_rec *rec)
{
	struct seg_arg *a = arg;
	uint8_t h[XFER_RECHDR];
	int rc;

	xfer_rechdr(h, rec);
	if ((rc = sf_write(a->f, h, sizeof(h))) != 0 ||
	    (rc = sf_write(a->f, rec->box, rec->boxlen)) != 0 ||
	    (rc = vv_raise(a->vv, a->cap, rec->origin, rec->seq)) != 0)
		return (rc);
	a->n++;
	if (a->src->progress != NULL && (a->n & 4095) == 0)
		a->src->progress(a->src->arg, a->n, a->tot);
	return (0);
}

/* The manifest's body, signed; it is sealed as it is written. */
static int
man_body(const struct backup_src *src, uint64_t number, uint64_t now,
    const struct store_vv *vv, const struct backup_seg *seg, size_t nseg,
    uint8_t **out, size_t *len)
{
	size_t nl = strlen(src->name), vl = xfer_vv_len(vv), i;
	uint8_t *b, *p;

	*len = 1 + 8 + 8 + 32 + 32 + 1 + nl + 2 + src->certlen + 4 +
	    src->rosterlen + 2 * ACCOUNT_SEALED_LEN + 4 + src->keyslen + vl +
	    4 + nseg * SEG_LEN;
	if (nl > 64 || src->certlen > 65535 ||
	    (b = sodium_malloc(*len + 64)) == NULL)
		return (KITH_ENOMEM);
	p = b;
	*p++ = MAN_VERSION;
	kith_be64enc(p, number);
	kith_be64enc(p + 8, now);
	memcpy(p + 16, src->account_pk, 32);
	memcpy(p + 48, src->sign_pk, 32);
	p += 80;
	*p++ = (uint8_t)nl;
	memcpy(p, src->name, nl);
	p += nl;
	kith_be16enc(p, (uint16_t)src->certlen);
	memcpy(p + 2, src->cert, src->certlen);
	p += 2 + src->certlen;
	kith_be32enc(p, (uint32_t)src->rosterlen);
	memcpy(p + 4, src->roster, src->rosterlen);
	p += 4 + src->rosterlen;
	memcpy(p, src->sealed_pass, ACCOUNT_SEALED_LEN);
	memcpy(p + ACCOUNT_SEALED_LEN, src->sealed_rec, ACCOUNT_SEALED_LEN);
	p += 2 * ACCOUNT_SEALED_LEN;
	kith_be32enc(p, (uint32_t)src->keyslen);
	memcpy(p + 4, src->keys, src->keyslen);
	p += 4 + src->keyslen;
	xfer_vv_enc(vv, p);
	p += vl;
	kith_be32enc(p, (uint32_t)nseg);
	p += 4;
	for (i = 0; i < nseg; i++, p += SEG_LEN)
		seg_enc(p, &seg[i]);
	if (kith_sign_ctx(b + *len, man_ctx, sizeof(man_ctx) - 1, NULL, b,
	    *len, src->sign_sk) != 0) {
		sodium_free(b);
		return (KITH_ECRYPTO);
	}
	*len += 64;
	*out = b;
	return (0);
}

static int
file_hash(const char *path, uint8_t hash[32], uint64_t *size)
{
	crypto_generichash_state h;
	uint8_t buf[65536];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (KITH_ENOENT);
	crypto_generichash_init(&h, NULL, 0, 32);
	*size = 0;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		crypto_generichash_update(&h, buf, (size_t)n);
		*size += (uint64_t)n;
	}
	close(fd);
	if (n < 0)
		return (KITH_EIO);
	crypto_generichash_final(&h, hash, 32);
	return (0);
}

/* Does the set hold what ${s} says: its manifest and every segment? */
static int
state_matches(const char *setdir, const struct backup_state *s)
{
	char path[PATH_MAX + 64];
	uint8_t h[32];
	uint64_t size;
	struct stat sb;
	size_t i;

	if (s->number == 0)
		return (0);
	snprintf(path, sizeof(path), "%s/man-%08llu.kbm", setdir,
	    (unsigned long long)s->number);
	if (file_hash(path, h, &size) != 0 ||
	    sodium_memcmp(h, s->manhash, 32) != 0)
		return (0);
	for (i = 0; i < s->nseg; i++) {
		snprintf(path, sizeof(path), "%s/seg-%08u.kbs", setdir,
		    s->seg[i].num);
		if (stat(path, &sb) != 0 || (uint64_t)sb.st_size !=
		    s->seg[i].size)
			return (0);
	}
	return (1);
}

/*
 * Whether ${s} starts with the 8 digits of a set's file names: %llu alone
 * would also take a sign or spaces ("man--0000001.kbm" reads as 2^64 - 1),
 * and fewer digits name a file we never open ("man-9.kbm").
 */
static int
num8(const char *s)
{
	size_t i;

	for (i = 0; i < 8; i++)
		if (s[i] < '0' || s[i] > '9')
			return (0);
	return (1);
}

/* The highest number of a file "prefix-NNNNNNNN.ext" in ${dir}. */
static uint64_t
highest(const char *dir, const char *prefix, const char *ext)
{
	DIR *d;
	struct dirent *e;
	unsigned long long v, best = 0;
	char tail[16];
	size_t pl = strlen(prefix);

	if ((d = opendir(dir)) == NULL)
		return (0);
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, prefix, pl) != 0)
			continue;
		/* NOLINTNEXTLINE(cert-err34-c): 8 digits do not overflow */
		if (sscanf(e->d_name + pl, "%8llu%15s", &v, tail) == 2 &&
		    num8(e->d_name + pl) &&
		    strcmp(tail, ext) == 0 && v > best)
			best = v;
	}
	closedir(d);
	return ((uint64_t)best);
}

/*
 * Retention: keep manifests ${keep} and ${prev}, the segments they name,
 * and nothing else of this set (older manifests and segments, temporary
 * files of runs that were cut).
 */
static void
prune(const char *setdir, uint64_t keep, uint64_t prev,
    const struct backup_state *a, const struct backup_state *b)
{
	char path[PATH_MAX + 300];
	unsigned long long v;
	char tail[16];
	struct dirent *e;
	size_t i;
	int used;
	DIR *d;

	if ((d = opendir(setdir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		used = 1;
		if (strncmp(e->d_name, ".tmp-", 5) == 0)
			used = 0;
		/* NOLINTNEXTLINE(cert-err34-c): 8 digits do not overflow */
		else if (sscanf(e->d_name, "man-%8llu%15s", &v, tail) == 2 &&
		    num8(e->d_name + 4) &&
		    strcmp(tail, ".kbm") == 0)
			used = v == keep || v == prev;
		/* NOLINTNEXTLINE(cert-err34-c): 8 digits do not overflow */
		else if (sscanf(e->d_name, "seg-%8llu%15s", &v, tail) == 2 &&
		    num8(e->d_name + 4) &&
		    strcmp(tail, ".kbs") == 0) {
			used = 0;
			for (i = 0; a != NULL && i < a->nseg; i++)
				used |= a->seg[i].num == v;
			for (i = 0; b != NULL && i < b->nseg; i++)
				used |= b->seg[i].num == v;
		}
		if (!used) {
			snprintf(path, sizeof(path), "%s/%s", setdir,
			    e->d_name);
			(void)unlink(path);
		}
	}
	closedir(d);
	(void)fsync_dir(setdir);
}

int
backup_run(const struct backup_src *src, const char *dir,
    struct backup_state *state, struct backup_result *res)
{
	char root[PATH_MAX], setdir[PATH_MAX + 32], path[PATH_MAX + 64];
	char name[32];
	struct backup_state ns;
	struct backup_seg *segs = NULL;
	struct seg_arg sa;
	struct sfile f;
	struct store_vv *vv = NULL;
	uint8_t *body = NULL, rh[32];
	size_t blen, i, cap = 0;
	uint64_t bytes, newrecs, segnum = 0, now = kith_now();
	int rc, lockfd = -1, full, matched, intx = 0, segdone = 0;

	memset(res, 0, sizeof(*res));
	memset(&ns, 0, sizeof(ns));
	memset(&f, 0, sizeof(f));
	f.fd = -1;
	if ((rc = root_of(dir, root)) != 0)
		return (rc);
	backup_setname(src->bpk, src->sign_pk, res->set);
	snprintf(setdir, sizeof(setdir), "%s/%s", root, res->set);
	if (mkdir(setdir, 0700) != 0 && errno != EEXIST)
		return (errno_rc());
	{
		struct stat sb;

		if (lstat(setdir, &sb) != 0 || !S_ISDIR(sb.st_mode))
			return (KITH_EPERM);	/* a link planted there */
	}
	/* One writer per set: kithd and `kith backup` may both try. */
	snprintf(path, sizeof(path), "%s/LOCK", setdir);
	if ((lockfd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0600)) == -1)
		return (errno_rc());
	if (flock(lockfd, LOCK_EX | LOCK_NB) != 0) {
		close(lockfd);
		return (KITH_EBUSY);
	}

	crypto_generichash(rh, 32, src->roster, src->rosterlen, NULL, 0);
	matched = state_matches(setdir, state);
	full = !matched || state->nseg >= BACKUP_MAXSEG;
	/*
	 * One read transaction: counts, vector and scan see one snapshot,
	 * and sync writing meanwhile never waits for the medium.
	 */
	if ((rc = store_begin_read(src->st)) != 0)
		goto out;
	intx = 1;
	if ((rc = store_count(src->st, full ? NULL : state->vv, 0, &newrecs,
	    NULL)) != 0)
		goto out;
	if (!full && newrecs == 0 &&
	    sodium_memcmp(rh, state->rosterhash, 32) == 0) {
		res->uptodate = 1;
		res->number = state->number;
		for (i = 0; i < state->nseg; i++)
			res->total += state->seg[i].recs;
		goto out;
	}

	/* The version vector this backup will cover. */
	{
		struct store_vv *cur;

		if ((rc = store_vv_get(src->st, &cur)) != 0)
			goto out;
		/* Room for every origin held now (and at the last backup). */
		cap = cur->n + (full || state->vv == NULL ? 0 : state->vv->n);
		free(cur);
		if ((vv = calloc(1, sizeof(*vv) + (cap + 1) *
		    sizeof(vv->e[0]))) == NULL) {
			rc = KITH_ENOMEM;
			goto out;
		}
		for (i = 0; !full && state->vv != NULL && i < state->vv->n;
		    i++)
			(void)vv_raise(vv, cap, state->vv->e[i].origin,
			    state->vv->e[i].seq);
	}
	ns.number = (full ? highest(setdir, "man-", ".kbm") : state->number)
	    + 1;
	if (ns.number <= state->number)
		ns.number = state->number + 1;
	segnum = highest(setdir, "seg-", ".kbs") + 1;
	if (!full)
		for (i = 0; i < state->nseg; i++)
			if (state->seg[i].num >= segnum)
				segnum = state->seg[i].num + 1;
	res->full = full;
	ns.nseg = (full ? 0 : state->nseg) + 1;
	if ((segs = calloc(ns.nseg, sizeof(*segs))) == NULL) {
		rc = KITH_ENOMEM;
		goto out;
	}
	if (!full && state->nseg > 0)
		memcpy(segs, state->seg, state->nseg * sizeof(*segs));

	/* 1. The segment: the records beyond what the set holds. */
	snprintf(name, sizeof(name), "seg-%08llu.kbs",
	    (unsigned long long)segnum);
	if ((rc = sf_open(&f, setdir, name, MAGIC_SEG, NULL, 0, src->bpk,
	    segnum)) != 0)
		goto out;
	memset(&sa, 0, sizeof(sa));
	sa.f = &f;
	sa.vv = vv;
	sa.cap = cap;
	sa.src = src;
	sa.tot = newrecs;
	if ((rc = store_scan(src->st, full ? NULL : state->vv, 0, seg_one,
	    &sa)) != 0)
		goto out;
	store_rollback(src->st);	/* read only */
	intx = 0;
	segs[ns.nseg - 1].num = (uint32_t)segnum;
	segs[ns.nseg - 1].recs = sa.n;
	if ((rc = sf_close(&f, segs[ns.nseg - 1].hash,
	    &segs[ns.nseg - 1].size)) != 0)
		goto out;
	segdone = 1;
	res->records = sa.n;
	res->bytes = segs[ns.nseg - 1].size;

	/* 2. The manifest: signed, sealed, renamed into place last. */
	if ((rc = man_body(src, ns.number, now, vv, segs, ns.nseg, &body,
	    &blen)) != 0)
		goto out;
	snprintf(name, sizeof(name), "man-%08llu.kbm",
	    (unsigned long long)ns.number);
	if ((rc = sf_open(&f, setdir, name, MAGIC_MAN, src->sealed_pass,
	    ACCOUNT_SEALED_LEN, src->bpk, ns.number)) != 0 ||
	    (rc = sf_write(&f, body, blen)) != 0 ||
	    (rc = sf_close(&f, ns.manhash, &bytes)) != 0)
		goto out;
	res->bytes += bytes;
	res->number = ns.number;
	for (i = 0; i < ns.nseg; i++)
		res->total += segs[i].recs;

	/* 3. Retention, then the new state. */
	ns.time = now;
	memcpy(ns.rosterhash, rh, 32);
	ns.vv = vv;
	ns.seg = segs;
	prune(setdir, ns.number, state->number, &ns,
	    matched ? state : NULL);
	backup_state_free(state);
	*state = ns;
	vv = NULL;
	segs = NULL;
	rc = 0;
out:
	if (intx)
		store_rollback(src->st);
	if (f.fd != -1 || f.buf != NULL)
		sf_abort(&f);
	if (rc != 0 && segdone) {
		/* A segment no manifest names: the last backup stays whole. */
		snprintf(path, sizeof(path), "%s/seg-%08llu.kbs", setdir,
		    (unsigned long long)segnum);
		(void)unlink(path);
		(void)fsync_dir(setdir);
	}
	if (body != NULL)
		sodium_free(body);
	free(segs);
	free(vv);
	if (lockfd != -1)
		close(lockfd);
	return (rc);
}

/* --- reading ------------------------------------------------------------ */

/* A set directory: DIR itself when it holds manifests. */
static int
set_dir(const char *dir, const char *set, char out[static PATH_MAX + 32],
    char name[static 17])
{
	char root[PATH_MAX];
	DIR *d;
	struct dirent *e;
	uint64_t best = 0, v;
	char cand[PATH_MAX + 300];
	const char *b;
	int rc;

	if (highest(dir, "man-", ".kbm") > 0) {
		b = strrchr(dir, '/');
		b = b == NULL ? dir : b + 1;
		snprintf(out, PATH_MAX + 32, "%s", dir);
		snprintf(name, 17, "%.16s", b);
		return (0);
	}
	if ((rc = root_of(dir, root)) != 0)
		return (rc);
	if (set != NULL) {
		snprintf(out, PATH_MAX + 32, "%s/%s", root, set);
		snprintf(name, 17, "%.16s", set);
		return (highest(out, "man-", ".kbm") > 0 ? 0 : KITH_ENOENT);
	}
	/* The set whose newest manifest was written last. */
	if ((d = opendir(root)) == NULL)
		return (KITH_EIO);
	rc = KITH_ENOENT;
	while ((e = readdir(d)) != NULL) {
		struct stat sb;
		char mp[PATH_MAX + 340];

		if (strlen(e->d_name) != 16)
			continue;
		snprintf(cand, sizeof(cand), "%s/%s", root, e->d_name);
		if ((v = highest(cand, "man-", ".kbm")) == 0)
			continue;
		snprintf(mp, sizeof(mp), "%s/man-%08llu.kbm", cand,
		    (unsigned long long)v);
		if (stat(mp, &sb) != 0)
			continue;
		if (rc != 0 || (uint64_t)sb.st_mtime > best) {
			best = (uint64_t)sb.st_mtime;
			snprintf(out, PATH_MAX + 32, "%.*s", PATH_MAX + 31,
			    cand);
			memcpy(name, e->d_name, 16);	/* 16 long, checked */
			name[16] = '\0';
			rc = 0;
		}
	}
	closedir(d);
	return (rc);
}

int
backup_sets(const char *dir, char (*sets)[17], size_t max, size_t *n)
{
	char root[PATH_MAX], cand[PATH_MAX + 300];
	struct dirent *e;
	DIR *d;
	int rc;

	*n = 0;
	if (highest(dir, "man-", ".kbm") > 0) {
		const char *b = strrchr(dir, '/');

		snprintf(sets[0], 17, "%.16s", b == NULL ? dir : b + 1);
		*n = 1;
		return (0);
	}
	if ((rc = root_of(dir, root)) != 0)
		return (rc);
	if ((d = opendir(root)) == NULL)
		return (KITH_EIO);
	while ((e = readdir(d)) != NULL && *n < max) {
		if (strlen(e->d_name) != 16)
			continue;
		snprintf(cand, sizeof(cand), "%s/%s", root, e->d_name);
		if (highest(cand, "man-", ".kbm") > 0) {
			memcpy(sets[*n], e->d_name, 16);	/* 16 long */
			sets[(*n)++][16] = '\0';
		}
	}
	closedir(d);
	return (*n > 0 ? 0 : KITH_ENOENT);
}

uint64_t
backup_newest(const char *dir, const char *set)
{
	char sd[PATH_MAX + 32], sn[17];

	if (set_dir(dir, set, sd, sn) != 0)
		return (0);
	return (highest(sd, "man-", ".kbm"));
}

int
backup_find(const char *dir, const char *set, char outset[static 17],
    uint8_t sealed_pass[static ACCOUNT_SEALED_LEN], uint64_t *number)
{
	char sd[PATH_MAX + 32], path[PATH_MAX + 64];
	uint8_t head[8 + ACCOUNT_SEALED_LEN];
	int fd, rc;
	ssize_t n;

	if ((rc = set_dir(dir, set, sd, outset)) != 0)
		return (rc);
	*number = highest(sd, "man-", ".kbm");
	snprintf(path, sizeof(path), "%s/man-%08llu.kbm", sd,
	    (unsigned long long)*number);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (KITH_EIO);
	n = read(fd, head, sizeof(head));
	close(fd);
	if (n != (ssize_t)sizeof(head) || memcmp(head, MAGIC_MAN, 8) != 0) /* not secret */
		return (KITH_ECORRUPT);
	memcpy(sealed_pass, head + 8, ACCOUNT_SEALED_LEN);
	return (0);
}

struct grow {
	uint8_t *b;
	size_t len, cap;
};

static int
grow_cb(void *arg, const uint8_t *p, size_t len)
{
	struct grow *g = arg;
	uint8_t *nb;
	size_t ncap;

	if (g->len + len > MAN_MAX)
		return (KITH_ECORRUPT);
	if (g->len + len > g->cap) {
		ncap = g->cap == 0 ? 65536 : g->cap;
		while (ncap < g->len + len)
			ncap *= 2;
		if ((nb = sodium_malloc(ncap)) == NULL)
			return (KITH_ENOMEM);
		if (g->len > 0)
			memcpy(nb, g->b, g->len);
		if (g->b != NULL)
			sodium_free(g->b);
		g->b = nb;
		g->cap = ncap;
	}
	memcpy(g->b + g->len, p, len);
	g->len += len;
	return (0);
}

/* Parse and verify a manifest body. */
static int
man_parse(const uint8_t *b, size_t len, const uint8_t account_pk[32],
    struct backup_manifest *m)
{
	const uint8_t *p = b, *end;
	struct roster_dev cd;
	struct roster *r;
	size_t nl, cl, rl, kl, used;

	if (len < 64 + 1 + 80 + 1)
		return (KITH_ECORRUPT);
	end = b + len - 64;
	if (*p++ != MAN_VERSION)
		return (KITH_EVERSION);
	m->number = kith_be64dec(p);
	m->time = kith_be64dec(p + 8);
	memcpy(m->account_pk, p + 16, 32);
	memcpy(m->sign_pk, p + 48, 32);
	p += 80;
	if (memcmp(m->account_pk, account_pk, 32) != 0)	/* not secret */
		return (KITH_EBADPASS);
	nl = *p++;
	if (nl > 64 || (size_t)(end - p) < nl + 2)
		return (KITH_ECORRUPT);
	memcpy(m->name, p, nl);
	m->name[nl] = '\0';
	p += nl;
	cl = kith_be16dec(p);
	p += 2;
	if ((size_t)(end - p) < cl + 4)
		return (KITH_ECORRUPT);
	/* The writer is a device of this account ... */
	if (cert_verify(p, cl, account_pk, &cd) != 0 ||
	    memcmp(cd.sign_pk, m->sign_pk, 32) != 0)	/* not secret */
		return (KITH_ECORRUPT);
	p += cl;
	rl = kith_be32dec(p);
	p += 4;
	if ((size_t)(end - p) < rl + 2 * ACCOUNT_SEALED_LEN + 4)
		return (KITH_ECORRUPT);
	if (roster_decode(p, rl, account_pk, &r) != 0)
		return (KITH_ECORRUPT);
	roster_free(r);
	if ((m->roster = malloc(rl)) == NULL)
		return (KITH_ENOMEM);
	memcpy(m->roster, p, rl);
	m->rosterlen = rl;
	p += rl;
	memcpy(m->sealed_pass, p, ACCOUNT_SEALED_LEN);
	memcpy(m->sealed_rec, p + ACCOUNT_SEALED_LEN, ACCOUNT_SEALED_LEN);
	p += 2 * ACCOUNT_SEALED_LEN;
	kl = kith_be32dec(p);
	p += 4;
	if ((size_t)(end - p) < kl || kl == 0)
		return (KITH_ECORRUPT);
	if ((m->keys = sodium_malloc(kl)) == NULL)
		return (KITH_ENOMEM);
	memcpy(m->keys, p, kl);
	m->keyslen = kl;
	p += kl;
	if (vv_take(p, (size_t)(end - p), &m->vv, &used) != 0)
		return (KITH_ECORRUPT);
	p += used;
	if (segs_dec(p, (size_t)(end - p), &m->seg, &m->nseg) != 0)
		return (KITH_ECORRUPT);
	/* ... and signed it, whole. */
	if (kith_verify_ctx(end, man_ctx, sizeof(man_ctx) - 1, NULL, b,
	    len - 64, m->sign_pk) != 0)
		return (KITH_ECORRUPT);
	for (used = 0; used < m->nseg; used++)
		m->total += m->seg[used].recs;
	return (0);
}

int
backup_open(const char *dir, const char *set, uint64_t number,
    const uint8_t seed[static 32], struct backup_manifest *m)
{
	char sd[PATH_MAX + 32], path[PATH_MAX + 64], sn[17];
	uint8_t *bsk, bpk[32], apk[32], ask[64];
	struct grow g = { NULL, 0, 0 };
	int rc;

	memset(m, 0, sizeof(*m));
	if ((rc = set_dir(dir, set, sd, sn)) != 0)
		return (rc);
	snprintf(m->set, sizeof(m->set), "%s", sn);
	if ((bsk = sodium_malloc(32)) == NULL)
		return (KITH_ENOMEM);
	backup_keypair(seed, bsk, bpk);
	crypto_sign_seed_keypair(apk, ask, seed);
	sodium_memzero(ask, sizeof(ask));
	snprintf(path, sizeof(path), "%s/man-%08llu.kbm", sd,
	    (unsigned long long)number);
	rc = sf_read(path, MAGIC_MAN, ACCOUNT_SEALED_LEN, number, bsk, bpk,
	    NULL, 0, grow_cb, &g);
	sodium_free(bsk);
	if (rc == KITH_ECORRUPT && g.len == 0)
		rc = KITH_EBADPASS;	/* the first chunk did not open */
	if (rc == 0) {
		rc = man_parse(g.b, g.len, apk, m);
		if (rc == 0 && m->number != number)
			rc = KITH_ECORRUPT;
	}
	if (g.b != NULL)
		sodium_free(g.b);
	if (rc != 0)
		backup_manifest_free(m);
	return (rc);
}

void
backup_manifest_free(struct backup_manifest *m)
{

	free(m->roster);
	if (m->keys != NULL)
		sodium_free(m->keys);
	free(m->vv);
	free(m->seg);
	memset(m, 0, sizeof(*m));
}

struct read_arg {
	struct recparse rp;
	int (*cb)(void *, const struct store_rec *);
	void *arg;
	uint64_t n;
};

static int
count_cb(void *arg, const struct store_rec *rec)
{
	struct read_arg *a = arg;

	a->n++;
	return (a->cb(a->arg, rec));
}

static int
feed_cb(void *arg, const uint8_t *p, size_t len)
{
	struct read_arg *a = arg;
	int rc = recparse_feed(&a->rp, p, len, count_cb, a);

	return (rc == KITH_EPROTO ? KITH_ECORRUPT : rc);
}

int
backup_read(const char *dir, const struct backup_manifest *m,
    const uint8_t seed[static 32],
    int (*cb)(void *arg, const struct store_rec *rec), void *arg)
{
	char sd[PATH_MAX + 32], path[PATH_MAX + 64], sn[17];
	uint8_t *bsk, bpk[32];
	struct read_arg a;
	size_t i;
	int rc;

	if ((rc = set_dir(dir, m->set, sd, sn)) != 0)
		return (rc);
	if ((bsk = sodium_malloc(32)) == NULL)
		return (KITH_ENOMEM);
	backup_keypair(seed, bsk, bpk);
	for (i = 0, rc = 0; rc == 0 && i < m->nseg; i++) {
		memset(&a, 0, sizeof(a));
		a.cb = cb;
		a.arg = arg;
		snprintf(path, sizeof(path), "%s/seg-%08u.kbs", sd,
		    m->seg[i].num);
		rc = sf_read(path, MAGIC_SEG, 0, m->seg[i].num, bsk, bpk,
		    m->seg[i].hash, m->seg[i].size, feed_cb, &a);
		/* Whole records only, as many as the manifest says. */
		if (rc == 0 && (recparse_partial(&a.rp) ||
		    a.n != m->seg[i].recs))
			rc = KITH_ECORRUPT;
		recparse_free(&a.rp);
	}
	sodium_free(bsk);
	return (rc);
}
