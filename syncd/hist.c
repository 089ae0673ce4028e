#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "hist.h"
#include "kith_err.h"
#include "kith_util.h"

#define MAXEPOCHS 1024

struct hist {
	store *st;
	uint8_t self[32];
	uint32_t cur;		/* current epoch */
	size_t nkeys;
	uint32_t *epochs;	/* parallel to keys */
	uint8_t *keys;		/* sodium_malloc: nkeys * 32 */
	uint8_t *idkey;		/* sodium_malloc: 32 */
	uint8_t *buf;		/* box being built */
	size_t bufcap;
	int kith_ok;		/* may write services "kith:..." */
};

static const uint8_t rec_ctx[] = "kith record v1";
static const uint8_t wrap_ctx[] = "kith wrapped key v1";

/* Wrapped key: nonce 24 || ciphertext 32 || tag 16, ad = ctx || epoch. */
#define WRAPLEN (24 + 32 + 16)

static void
wrap_ad(uint8_t ad[sizeof(wrap_ctx) - 1 + 4], uint32_t epoch)
{

	memcpy(ad, wrap_ctx, sizeof(wrap_ctx) - 1);
	kith_be32enc(ad + sizeof(wrap_ctx) - 1, epoch);
}

static int
wrap_put(store *st, const struct devkey *dk, uint32_t epoch,
    const uint8_t key[32])
{
	uint8_t w[WRAPLEN], ad[sizeof(wrap_ctx) - 1 + 4];

	wrap_ad(ad, epoch);
	randombytes_buf(w, 24);
	crypto_aead_xchacha20poly1305_ietf_encrypt(w + 24, NULL, key, 32, ad,
	    sizeof(ad), NULL, w, dk->store_key);
	return (store_epoch_put(st, epoch, w, sizeof(w)));
}

/* Epoch 0 in the epochs table holds the id key. */
int
hist_create_keys(store *st, const struct devkey *dk,
    const uint8_t idkey[static 32], uint32_t epoch,
    const uint8_t key[static 32])
{
	int rc;

	if (epoch == 0)
		return (KITH_EINVAL);
	if ((rc = wrap_put(st, dk, 0, idkey)) != 0)
		return (rc);
	return (wrap_put(st, dk, epoch, key));
}

int
hist_key_put(store *st, const struct devkey *dk, uint32_t epoch,
    const uint8_t key[static 32])
{

	if (epoch == 0)
		return (KITH_EINVAL);
	return (wrap_put(st, dk, epoch, key));
}

struct load_arg {
	hist *h;
	const struct devkey *dk;
	int have_id;
};

static int
load_one(void *arg, uint32_t epoch, const uint8_t *w, size_t len)
{
	struct load_arg *a = arg;
	hist *h = a->h;
	uint8_t ad[sizeof(wrap_ctx) - 1 + 4], *dst;

	if (len != WRAPLEN)
		return (KITH_ECORRUPT);
	if (epoch == 0) {
		dst = h->idkey;
		a->have_id = 1;
	} else {
		if (h->nkeys >= MAXEPOCHS)
			return (KITH_ECORRUPT);
		dst = h->keys + 32 * h->nkeys;
		h->epochs[h->nkeys++] = epoch;
		if (epoch > h->cur)
			h->cur = epoch;
	}
	wrap_ad(ad, epoch);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(dst, NULL, NULL,
	    w + 24, len - 24, ad, sizeof(ad), w, a->dk->store_key) != 0)
		return (KITH_ECORRUPT);
	return (0);
}

int
hist_open(store *st, const struct devkey *dk, const uint8_t self[static 32],
    hist **out)
{
	struct load_arg a;
	hist *h;
	int rc = KITH_ENOMEM;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return (KITH_ENOMEM);
	h->st = st;
	memcpy(h->self, self, 32);
	if ((h->idkey = sodium_malloc(32)) == NULL ||
	    (h->keys = sodium_malloc(32 * MAXEPOCHS)) == NULL ||
	    (h->epochs = calloc(MAXEPOCHS, sizeof(uint32_t))) == NULL)
		goto fail;
	sodium_memzero(h->idkey, 32);
	a.h = h;
	a.dk = dk;
	a.have_id = 0;
	if ((rc = store_epoch_each(st, load_one, &a)) != 0)
		goto fail;
	if (h->nkeys == 0) {
		rc = KITH_ENOENT;
		goto fail;
	}
	if (!a.have_id) {
		rc = KITH_ECORRUPT;
		goto fail;
	}
	*out = h;
	return (0);

fail:
	hist_free(h);
	return (rc);
}

void
hist_free(hist *h)
{

	if (h == NULL)
		return;
	sodium_free(h->idkey);
	sodium_free(h->keys);
	free(h->epochs);
	free(h->buf);
	free(h);
}

uint32_t
hist_epoch(const hist *h)
{

	return (h->cur);
}

static const uint8_t *
epoch_key(const hist *h, uint32_t epoch)
{
	size_t i;

	for (i = 0; i < h->nkeys; i++)
		if (h->epochs[i] == epoch)
			return (h->keys + 32 * i);
	return (NULL);
}

const uint8_t *
hist_key(const hist *h, uint32_t epoch)
{

	return (epoch_key(h, epoch));
}

void
hist_epochs(const hist *h, const uint32_t **out, size_t *n)
{

	*out = h->epochs;
	*n = h->nkeys;
}

int
hist_set_epoch(hist *h, uint32_t epoch)
{

	/* Without its key, nothing is written (hist_append: KITH_ENOENT). */
	h->cur = epoch;
	return (epoch_key(h, epoch) == NULL ? KITH_ENOENT : 0);
}

static void
rec_ad(uint8_t ad[sizeof(rec_ctx) - 1 + 4 + STORE_RIDLEN], uint32_t epoch,
    const uint8_t rid[STORE_RIDLEN])
{

	memcpy(ad, rec_ctx, sizeof(rec_ctx) - 1);
	kith_be32enc(ad + sizeof(rec_ctx) - 1, epoch);
	memcpy(ad + sizeof(rec_ctx) - 1 + 4, rid, STORE_RIDLEN);
}

/*
 * The rid: BLAKE2b-128 keyed with the id key over
 * len(service) (4) || service || id.  The length prefix keeps ("a", "bc")
 * and ("ab", "c") apart.
 */
static void
rid_of(const hist *h, const char *svc, size_t slen, const char *id,
    size_t ilen, uint8_t rid[STORE_RIDLEN])
{
	crypto_generichash_state s;
	uint8_t l[4];

	kith_be32enc(l, (uint32_t)slen);
	crypto_generichash_init(&s, h->idkey, 32, STORE_RIDLEN);
	crypto_generichash_update(&s, l, 4);
	crypto_generichash_update(&s, (const uint8_t *)svc, slen);
	crypto_generichash_update(&s, (const uint8_t *)id, ilen);
	crypto_generichash_final(&s, rid, STORE_RIDLEN);
}

/* ${p} (${n} bytes) is one number by JSON's grammar (RFC 8259). */
static int
json_number_ok(const char *p, size_t n)
{
	size_t i = 0, k;

	if (i < n && p[i] == '-')
		i++;
	for (k = i; i < n && p[i] >= '0' && p[i] <= '9'; i++)
		;
	if (i == k || (p[k] == '0' && i > k + 1))
		return (0);
	if (i < n && p[i] == '.') {
		for (k = ++i; i < n && p[i] >= '0' && p[i] <= '9'; i++)
			;
		if (i == k)
			return (0);
	}
	if (i < n && (p[i] == 'e' || p[i] == 'E')) {
		if (++i < n && (p[i] == '+' || p[i] == '-'))
			i++;
		for (k = i; i < n && p[i] >= '0' && p[i] <= '9'; i++)
			;
		if (i == k)
			return (0);
	}
	return (i == n);
}

/*
 * JSON allows numbers of any size; jansson does not.  The record's bytes
 * are kept as they are, so only the check needs the numbers: check a copy
 * in which each number outside a string is replaced by 0 (and spaces).
 * What only looks like one (1-2, 0.-5) stays, for jansson to refuse.
 */
static json_t *
load_wide_numbers(const char *json, size_t len)
{
	json_error_t jerr;
	json_t *o;
	char *c;
	size_t i, j;
	int instr = 0;

	if ((c = malloc(len)) == NULL)
		return (NULL);
	memcpy(c, json, len);
	for (i = 0; i < len; i++) {
		if (instr) {
			if (c[i] == '\\')
				i++;
			else if (c[i] == '"')
				instr = 0;
			continue;
		}
		if (c[i] == '"') {
			instr = 1;
		} else if (c[i] == '-' || (c[i] >= '0' && c[i] <= '9')) {
			for (j = i; j < len && strchr("0123456789+-.eE",
			    c[j]) != NULL && c[j] != '\0'; j++)
				;
			if (json_number_ok(c + i, j - i)) {
				memset(c + i, ' ', j - i);
				c[i] = '0';
			}
			i = j - 1;
		}
	}
	o = json_loadb(c, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
	free(c);
	return (o);
}

int
hist_add(hist *h, const char *json, size_t len, int *added)
{

	return (hist_append(h, json, len, added, NULL, NULL));
}

int
hist_append(hist *h, const char *json, size_t len, int *added,
    uint64_t *seq, uint8_t rid[STORE_RIDLEN])
{
	struct store_rec rec;
	json_error_t jerr;
	json_t *o, *svc, *id;
	uint8_t ad[sizeof(rec_ctx) - 1 + 4 + STORE_RIDLEN];
	const uint8_t *key;
	int rc;

	if (len > HIST_MAXRECORD)
		return (KITH_ETOOBIG);
	if ((o = json_loadb(json, len, JSON_REJECT_DUPLICATES |
	    JSON_ALLOW_NUL, &jerr)) == NULL &&
	    json_error_code(&jerr) == json_error_numeric_overflow)
		o = load_wide_numbers(json, len);
	if (o == NULL)
		return (KITH_EFORMAT);
	svc = json_object_get(o, "service");
	id = json_object_get(o, "id");
	if (!json_is_object(o) || !json_is_string(svc) || !json_is_string(id) ||
	    json_string_length(svc) == 0 || json_string_length(id) == 0) {
		json_decref(o);
		return (KITH_EFORMAT);
	}
	/* Contacts and invitations are written by contacts.c alone. */
	if (!h->kith_ok && json_string_length(svc) >= 5 &&
	    memcmp(json_string_value(svc), "kith:", 5) == 0) { /* not secret */
		json_decref(o);
		return (KITH_EPERM);
	}
	memcpy(rec.origin, h->self, 32);
	rid_of(h, json_string_value(svc), json_string_length(svc),
	    json_string_value(id), json_string_length(id), rec.rid);
	json_decref(o);

	if (rid != NULL)
		memcpy(rid, rec.rid, STORE_RIDLEN);
	if (seq != NULL)
		*seq = 0;
	if ((rc = store_rid_exists(h->st, rec.rid)) != 0) {
		if (rc == 1) {
			*added = 0;
			rc = 0;
		}
		return (rc);
	}
	if (h->bufcap < len + HIST_BOXOVER) {
		free(h->buf);
		h->bufcap = len + HIST_BOXOVER;
		if ((h->buf = malloc(h->bufcap)) == NULL) {
			h->bufcap = 0;
			return (KITH_ENOMEM);
		}
	}
	rec.epoch = h->cur;
	/* No key for the epoch the roster names: this device may not write. */
	if ((key = epoch_key(h, rec.epoch)) == NULL)
		return (KITH_ENOENT);
	/*
	 * The store says what comes next: another process may have added
	 * records since this handle was opened, and we hold its write lock.
	 */
	if ((rc = store_next_seq(h->st, h->self, &rec.seq)) != 0)
		return (rc);
	rec_ad(ad, rec.epoch, rec.rid);
	randombytes_buf(h->buf, 24);
	crypto_aead_xchacha20poly1305_ietf_encrypt(h->buf + 24, NULL,
	    (const uint8_t *)json, len, ad, sizeof(ad), NULL, h->buf, key);
	rec.box = h->buf;
	rec.boxlen = len + HIST_BOXOVER;
	if (seq != NULL)
		*seq = rec.seq;
	return (store_rec_put(h->st, &rec, added));
}

int
hist_derive(const hist *h, uint32_t epoch, const char *ctx,
    uint8_t out[static 32])
{
	const uint8_t *key;

	if ((key = epoch_key(h, epoch)) == NULL)
		return (KITH_ENOENT);
	crypto_generichash(out, 32, (const uint8_t *)ctx, strlen(ctx), key,
	    32);
	return (0);
}

int
hist_open_rec(hist *h, const struct store_rec *rec, char **out, size_t *len)
{
	uint8_t ad[sizeof(rec_ctx) - 1 + 4 + STORE_RIDLEN];
	const uint8_t *key;
	char *p;
	size_t n;

	if ((key = epoch_key(h, rec->epoch)) == NULL)
		return (KITH_ENOENT);
	if (rec->boxlen < HIST_BOXOVER)
		return (KITH_ECORRUPT);
	n = rec->boxlen - HIST_BOXOVER;
	if ((p = malloc(n + 1)) == NULL)
		return (KITH_ENOMEM);
	rec_ad(ad, rec->epoch, rec->rid);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt((uint8_t *)p, NULL,
	    NULL, rec->box + 24, rec->boxlen - 24, ad, sizeof(ad), rec->box,
	    key) != 0) {
		free(p);
		return (KITH_ECORRUPT);
	}
	p[n] = '\0';
	*out = p;
	*len = n;
	return (0);
}

static void *
json_alloc(size_t n)
{

	return (malloc(n));
}

static void
json_free(void *p)
{

	if (p == NULL)
		return;
	sodium_memzero(p, malloc_usable_size(p));
	free(p);
}

void
hist_json_wipe(void)
{

	json_set_alloc_funcs(json_alloc, json_free);
}

void
hist_allow_kith(hist *h, int on)
{

	h->kith_ok = on;
}

struct get_arg {
	hist *h;
	char *out;
	size_t len;
};

static int
get_one(void *arg, const struct store_rec *rec)
{
	struct get_arg *g = arg;

	return (hist_open_rec(g->h, rec, &g->out, &g->len));
}

int
hist_get(hist *h, const char *service, const char *id, char **out,
    size_t *len)
{
	struct get_arg g = { h, NULL, 0 };
	uint8_t rid[STORE_RIDLEN];
	int rc;

	rid_of(h, service, strlen(service), id, strlen(id), rid);
	if ((rc = store_rec_get(h->st, rid, get_one, &g)) != 0)
		return (rc);
	*out = g.out;
	*len = g.len;
	return (0);
}

int
hist_held(hist *h, const char *service, const char *id)
{
	uint8_t rid[STORE_RIDLEN];

	rid_of(h, service, strlen(service), id, strlen(id), rid);
	return (store_rid_exists(h->st, rid));
}

int
hist_keys_export(hist *h, uint8_t **out, size_t *len)
{
	uint8_t *b, *p;
	size_t i, n = 32 + 4 + h->nkeys * 36;

	if ((b = sodium_malloc(n)) == NULL)
		return (KITH_ENOMEM);
	p = b;
	memcpy(p, h->idkey, 32);
	p += 32;
	kith_be32enc(p, (uint32_t)h->nkeys);
	p += 4;
	for (i = 0; i < h->nkeys; i++) {
		kith_be32enc(p, h->epochs[i]);
		memcpy(p + 4, h->keys + 32 * i, 32);
		p += 36;
	}
	*out = b;
	*len = n;
	return (0);
}

int
hist_keys_import(store *st, const struct devkey *dk, const uint8_t *buf,
    size_t len)
{
	uint32_t n, i, e;
	int rc;

	if (len < 36)
		return (KITH_EFORMAT);
	n = kith_be32dec(buf + 32);
	if (n == 0 || n > MAXEPOCHS || len != 36 + (size_t)n * 36)
		return (KITH_EFORMAT);
	if ((rc = wrap_put(st, dk, 0, buf)) != 0)
		return (rc);
	for (i = 0; i < n; i++) {
		e = kith_be32dec(buf + 36 + 36 * i);
		if (e == 0)
			return (KITH_EFORMAT);
		if ((rc = wrap_put(st, dk, e, buf + 40 + 36 * i)) != 0)
			return (rc);
	}
	return (0);
}
