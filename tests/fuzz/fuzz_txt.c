/*
 * fuzz_txt.c: what kith takes from a DNS-SD browse and resolve, which any
 * host on the link may answer (discovery/discovery.c).  The first byte of
 * an input says what the rest is:
 *
 *  0. a raw TXT record: discovery_txt_get, for fixed keys and for the key
 *     of every string in the record (as written and with its case
 *     changed), against a reading of RFC 6763 section 6 written here
 *     again: the same verdict (KITH_EFORMAT exactly when a length byte
 *     runs past the end), the same value, always inside the record;
 *  1. an address record as a resolve's A/AAAA query answers it: rrtype
 *     (2 bytes, big endian), ifindex (4), port (2), then the rdata
 *     (the rest).  lookup_report must hand the caller one address exactly
 *     for an A record of 4 bytes or an AAAA record of 16 (with the port,
 *     and the interface for a link-local IPv6 address), and nothing for
 *     any other, with the instance and TXT of the lookup;
 *  2. a resolve's TXT record and instance name (a length byte, then that
 *     many bytes of name, then the TXT): copied into a lookup as
 *     resolve_cb does, then reported through lookup_report with an A
 *     record, and read back with discovery_txt_get by the caller.
 *
 * lookup_report is static: discovery.c is included here, and this file
 * then defines every symbol of it, so that the linker never takes the
 * object of kith_discovery (fuzz_backup.c does the same with backup.c).
 * kithd itself announces an empty TXT record and derives nothing from a
 * peer's (syncd/kithd/disc.c matches the instance name against its tags
 * with strcmp); a peer's TXT still reaches every browse callback.
 */
#include "../../discovery/discovery.c"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

/* RFC 6763 section 6, again: 0 and the value, KITH_ENOENT, KITH_EFORMAT. */
static int
model_get(const uint8_t *t, size_t n, const char *key, size_t *off,
    size_t *vlen)
{
	size_t pos, len, kl = strlen(key), i, k;

	for (pos = 0; pos < n; pos += 1 + t[pos])
		if (pos + 1 + t[pos] > n)
			return (KITH_EFORMAT);
	if (kl == 0 || strchr(key, '=') != NULL)
		return (KITH_ENOENT);
	for (pos = 0; pos < n; pos += 1 + len) {
		len = t[pos];
		for (k = 0; k < len && t[pos + 1 + k] != '='; k++)
			;
		if (k != kl)
			continue;
		for (i = 0; i < k; i++) {
			int a = t[pos + 1 + i], b = (unsigned char)key[i];

			if (a >= 'A' && a <= 'Z')
				a += 32;
			if (b >= 'A' && b <= 'Z')
				b += 32;
			if (a != b)
				break;
		}
		if (i < k)
			continue;
		*off = pos + 1 + k + (k < len);
		*vlen = k < len ? len - k - 1 : 0;
		return (0);
	}
	return (KITH_ENOENT);
}

static void
check_key(const uint8_t *t, size_t n, const char *key)
{
	const uint8_t *val;
	size_t vlen, off = 0, mlen = 0;
	int rc, mrc;

	rc = discovery_txt_get(t, n, key, &val, &vlen);
	mrc = model_get(t, n, key, &off, &mlen);
	FUZZ_MUST(rc == mrc);
	if (rc != 0) {
		FUZZ_MUST(val == NULL && vlen == 0);
		return;
	}
	FUZZ_MUST(val >= t && vlen <= n && (size_t)(val - t) <= n - vlen);
	FUZZ_MUST((size_t)(val - t) == off && vlen == mlen);
}

static void
txt(const uint8_t *t, size_t n)
{
	static const char *const keys[] = { "a", "A", "txtvers", "port",
	    "id", "=", "a=b", "", "\xc3\xa9", "ID" };
	char key[257];
	size_t i, pos, k, len;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		check_key(t, n, keys[i]);
	/* Every key the record holds, as written and with its case swapped. */
	for (pos = 0; pos < n && pos + 1 + t[pos] <= n; pos += 1 + len) {
		len = t[pos];
		for (k = 0; k < len && t[pos + 1 + k] != '=' &&
		    t[pos + 1 + k] != '\0'; k++)
			key[k] = (char)t[pos + 1 + k];
		key[k] = '\0';
		check_key(t, n, key);
		for (i = 0; i < k; i++)
			if ((key[i] | 32) >= 'a' && (key[i] | 32) <= 'z')
				key[i] ^= 32;
		check_key(t, n, key);
	}
}

struct seen {
	int n;
	struct discovery_found f;
	struct sockaddr_storage ss;
	char instance[256];
};

static void
found_cb(void *arg, const struct discovery_found *f)
{
	struct seen *s = arg;

	s->n++;
	s->f = *f;
	FUZZ_MUST(f->addrlen <= sizeof(s->ss));
	memcpy(&s->ss, f->addr, f->addrlen);
	FUZZ_MUST(strlen(f->instance) < sizeof(s->instance));
	strcpy(s->instance, f->instance);
}

/* A lookup as resolve_cb leaves it, reporting one record. */
static void
report(const char *instance, const uint8_t *t, size_t tn, uint16_t rrtype,
    uint32_t ifindex, uint16_t port, const uint8_t *rd, size_t rdlen,
    struct seen *s)
{
	struct discovery_browse b;
	struct lookup l;
	uv_loop_t loop;

	memset(&b, 0, sizeof(b));
	memset(&l, 0, sizeof(l));
	memset(s, 0, sizeof(*s));
	FUZZ_MUST(uv_loop_init(&loop) == 0);
	b.loop = &loop;
	b.cb = found_cb;
	b.arg = s;
	l.b = &b;
	l.state = L_RUNNING;
	l.instance = (char *)instance;
	l.port = port;
	l.txt = (uint8_t *)t;
	l.txtlen = tn;
	FUZZ_MUST(uv_timer_init(&loop, &l.timer) == 0);
	lookup_report(&l, ifindex, rrtype, (uint16_t)rdlen, rd);
	FUZZ_MUST(l.nfound == (unsigned)s->n);
	uv_close((uv_handle_t *)&l.timer, NULL);
	FUZZ_MUST(uv_run(&loop, UV_RUN_DEFAULT) == 0);
	FUZZ_MUST(uv_loop_close(&loop) == 0);
}

static void
addr(const uint8_t *p, size_t n)
{
	static const uint8_t t[] = "\x05" "a=b c";
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;
	struct seen s;
	uint16_t rrtype, port;
	uint32_t ifindex;
	size_t rdlen;

	if (n < 8 || n - 8 > UINT16_MAX)
		return;
	rrtype = (uint16_t)(p[0] << 8 | p[1]);
	ifindex = (uint32_t)p[2] << 24 | (uint32_t)p[3] << 16 |
	    (uint32_t)p[4] << 8 | p[5];
	port = (uint16_t)(p[6] << 8 | p[7]);
	rdlen = n - 8;
	report("0123456789abcdef", t, sizeof(t) - 1, rrtype, ifindex, port,
	    p + 8, rdlen, &s);
	if (rrtype == kDNSServiceType_A && rdlen == 4) {
		FUZZ_MUST(s.n == 1 && s.f.addrlen == sizeof(*sin));
		sin = (const struct sockaddr_in *)&s.ss;
		FUZZ_MUST(sin->sin_family == AF_INET &&
		    ntohs(sin->sin_port) == port &&
		    memcmp(&sin->sin_addr, p + 8, 4) == 0);
	} else if (rrtype == kDNSServiceType_AAAA && rdlen == 16) {
		FUZZ_MUST(s.n == 1 && s.f.addrlen == sizeof(*sin6));
		sin6 = (const struct sockaddr_in6 *)&s.ss;
		FUZZ_MUST(sin6->sin6_family == AF_INET6 &&
		    ntohs(sin6->sin6_port) == port &&
		    memcmp(&sin6->sin6_addr, p + 8, 16) == 0);
		/* fe80::/10 needs its interface; nothing else gets one. */
		FUZZ_MUST(sin6->sin6_scope_id ==
		    ((p[8] == 0xfe && (p[9] & 0xc0) == 0x80) ? ifindex : 0));
	} else {
		FUZZ_MUST(s.n == 0);
		return;
	}
	FUZZ_MUST(s.f.port == port && s.f.ifindex == ifindex);
	FUZZ_MUST(strcmp(s.instance, "0123456789abcdef") == 0);
	FUZZ_MUST(s.f.txt == t && s.f.txtlen == sizeof(t) - 1);
}

static void
resolved(const uint8_t *p, size_t n)
{
	static const uint8_t a4[4] = { 192, 0, 2, 1 };
	char instance[256];
	struct seen s;
	size_t il;
	uint8_t *t;

	if (n < 1 || (il = p[0]) > n - 1 || n - 1 - il > UINT16_MAX)
		return;
	memcpy(instance, p + 1, il);
	instance[il] = '\0';
	/* resolve_cb's copy of the TXT, exactly its length. */
	t = NULL;
	if (n - 1 - il > 0) {
		FUZZ_MUST((t = malloc(n - 1 - il)) != NULL);
		memcpy(t, p + 1 + il, n - 1 - il);
	}
	report(instance, t, n - 1 - il, kDNSServiceType_A, 1, 7000, a4, 4,
	    &s);
	FUZZ_MUST(s.n == 1 && strcmp(s.instance, instance) == 0);
	/* The caller reads the record where the lookup keeps it. */
	FUZZ_MUST(s.f.txt == t && s.f.txtlen == n - 1 - il);
	txt(s.f.txt, s.f.txtlen);
	free(t);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *t;

	if (size < 1)
		return (0);
	switch (data[0] % 3) {
	case 0:
		/* Exactly the record's bytes, so that ASan sees past them. */
		FUZZ_MUST((t = malloc(size - 1 ? size - 1 : 1)) != NULL);
		memcpy(t, data + 1, size - 1);
		txt(size > 1 ? t : NULL, size - 1);
		free(t);
		break;
	case 1:
		addr(data + 1, size - 1);
		break;
	case 2:
		resolved(data + 1, size - 1);
		break;
	}
	return (0);
}
