/*
 * test_xfer.c: the record stream (syncd/xfer.c) over a Noise channel
 * (syncd/chan.c, syncd/noise.c) on a socketpair, the sender in a thread.
 *
 * Home A (a real account, records added with hist_add, plus records of a
 * second origin put as if received) sends; B is a bare store.  Records
 * are compared as stored: (origin, seq, epoch, rid, box).
 *
 *  1. a full transfer: B then holds exactly A's records, and says so
 *     (stored count, progress callback);
 *  2. resume: a second transfer sends and stores nothing;
 *  3. truncation: a sender of this file sends BEGIN and RECS slices (of
 *     sizes that ignore record boundaries) up to a byte offset, then
 *     closes: KITH_ETRUNC, and B holds exactly the records wholly before
 *     the cut -- cut inside a header, at a boundary, inside a 2 MiB box --
 *     each run resuming after the last; a full transfer then sends only
 *     the rest;
 *  4. a byte flipped on the wire by a relay (in the BEGIN frame, in a RECS
 *     frame): KITH_ECRYPTO, and B holds only genuine whole records;
 *  5. END disagreeing with what was sent (count, bytes, or a record cut
 *     before END), RECS before BEGIN, an unknown message: KITH_EPROTO;
 *  6. a record header announcing a box over STORE_MAXBOX: KITH_EPROTO at
 *     once (not KITH_ETRUNC, which would mean it waited for the box), and,
 *     under AddressSanitizer, no allocation of that size.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "chan.h"
#include "hist.h"
#include "home.h"
#include "kith_err.h"
#include "noise.h"
#include "store.h"
#include "xfer.h"

#include "check.h"

#define PROTO "Noise_NN_25519_ChaChaPoly_BLAKE2b"
#define TIMEOUT_MS 10000

static char tmp[] = "/tmp/kith-test-xfer.XXXXXX";
static struct home *A;

/*
 * Allocation sizes seen, through AddressSanitizer's hooks when the test
 * runs under it (weak: absent otherwise).
 */
int __sanitizer_install_malloc_and_free_hooks(
    void (*)(const volatile void *, size_t),
    void (*)(const volatile void *)) __attribute__((weak));
static volatile size_t alloc_max;
static volatile int alloc_watch, alloc_hooked;
static _Thread_local int alloc_here;	/* set around xfer_recv only */

static void
on_malloc(const volatile void *p, size_t n)
{

	(void)p;
	if (alloc_here && n > alloc_max)
		alloc_max = n;
}

static void
on_free(const volatile void *p)
{

	(void)p;
}

/* A record as stored, copied. */
struct rec {
	uint8_t origin[32];
	uint64_t seq;
	uint32_t epoch;
	uint8_t rid[STORE_RIDLEN];
	uint8_t *box;
	size_t boxlen;
};

struct recs {
	struct rec *r;
	size_t n, cap;
};

static int
collect_one(void *arg, const struct store_rec *sr)
{
	struct recs *l = arg;
	struct rec *r;

	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		if ((l->r = realloc(l->r, l->cap * sizeof(*l->r))) == NULL)
			abort();
	}
	r = &l->r[l->n++];
	memcpy(r->origin, sr->origin, 32);
	r->seq = sr->seq;
	r->epoch = sr->epoch;
	memcpy(r->rid, sr->rid, STORE_RIDLEN);
	if ((r->box = malloc(sr->boxlen ? sr->boxlen : 1)) == NULL)
		abort();
	memcpy(r->box, sr->box, sr->boxlen);
	r->boxlen = sr->boxlen;
	return (0);
}

static void
recs_free(struct recs *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->r[i].box);
	free(l->r);
	memset(l, 0, sizeof(*l));
}

static int
collect(store *st, const struct store_vv *have, struct recs *l)
{

	memset(l, 0, sizeof(*l));
	return (store_scan(st, have, 0, collect_one, l));
}

static int
rec_eq(const struct rec *a, const struct rec *b)
{

	return (memcmp(a->origin, b->origin, 32) == 0 && a->seq == b->seq &&
	    a->epoch == b->epoch &&
	    memcmp(a->rid, b->rid, STORE_RIDLEN) == 0 &&
	    a->boxlen == b->boxlen && memcmp(a->box, b->box, a->boxlen) == 0);
}

/* B holds exactly the first ${m} of A's records (all if m == SIZE_MAX). */
static int
holds_prefix(store *b, size_t m, int line)
{
	struct recs la, lb;
	size_t i;
	int ok = 1;

	if (collect(A->st, NULL, &la) != 0 || collect(b, NULL, &lb) != 0) {
		check(0, "collect", line);
		return (0);
	}
	if (m == SIZE_MAX)
		m = la.n;
	if (lb.n != m || m > la.n) {
		fprintf(stderr, "test_xfer.c:%d: B holds %zu records, want the"
		    " first %zu of A's %zu\n", line, lb.n, m, la.n);
		ok = 0;
	}
	for (i = 0; ok && i < lb.n; i++)
		if (!rec_eq(&la.r[i], &lb.r[i])) {
			fprintf(stderr, "test_xfer.c:%d: record %zu differs\n",
			    line, i);
			ok = 0;
		}
	recs_free(&la);
	recs_free(&lb);
	return (check(ok, "B holds a prefix of A's records", line));
}

/* B holds some prefix of A's records; how long, in *${m}. */
static int
holds_some_prefix(store *b, size_t *m, int line)
{
	struct recs la, lb;
	size_t i;
	int ok = 1;

	if (collect(A->st, NULL, &la) != 0 || collect(b, NULL, &lb) != 0) {
		check(0, "collect", line);
		return (0);
	}
	if (lb.n > la.n)
		ok = 0;
	for (i = 0; ok && i < lb.n; i++)
		if (!rec_eq(&la.r[i], &lb.r[i]))
			ok = 0;
	*m = lb.n;
	recs_free(&la);
	recs_free(&lb);
	return (check(ok, "B holds only genuine whole records", line));
}

static uint64_t
count_of(store *st)
{
	uint64_t n = 0;

	if (store_count(st, NULL, 0, &n, NULL) != 0)
		return (UINT64_MAX);
	return (n);
}

/* Progress as the receiver saw it last. */
struct prog {
	int calls;
	uint64_t nrec, totrec, nbytes, totbytes;
};

static void
on_progress(void *arg, uint64_t nrec, uint64_t totrec, uint64_t nbytes,
    uint64_t totbytes)
{
	struct prog *p = arg;

	p->calls++;
	p->nrec = nrec;
	p->totrec = totrec;
	p->nbytes = nbytes;
	p->totbytes = totbytes;
}

/*
 * The sending side, in a thread: the responder of the handshake, then
 * either xfer_send (act == NULL) or a scripted stream.
 */
struct stream {
	uint8_t *buf;
	size_t len;
	size_t nrec;
	uint64_t bytes;
	size_t *ends;		/* ends[i]: offset just after record i */
	size_t cap, ecap;
};

struct sender {
	int fd;
	void (*act)(chan *c, struct stream *s, void *arg);
	void *arg;
	int rc;			/* xfer_send's, or the script's */
	int hsrc;
};

static int
stream_one(void *arg, const struct store_rec *r)
{
	struct stream *s = arg;
	size_t need = XFER_RECHDR + r->boxlen, o;

	if (s->len + need > s->cap) {
		s->cap = 2 * (s->len + need);
		if ((s->buf = realloc(s->buf, s->cap)) == NULL)
			abort();
	}
	if (s->nrec == s->ecap) {
		s->ecap = s->ecap ? 2 * s->ecap : 256;
		if ((s->ends = realloc(s->ends, s->ecap * sizeof(size_t))) ==
		    NULL)
			abort();
	}
	o = s->len;
	memcpy(s->buf + o, r->origin, 32);
	o += 32;
	for (int i = 7; i >= 0; i--)
		s->buf[o++] = (uint8_t)(r->seq >> (8 * i));
	for (int i = 3; i >= 0; i--)
		s->buf[o++] = (uint8_t)(r->epoch >> (8 * i));
	memcpy(s->buf + o, r->rid, STORE_RIDLEN);
	o += STORE_RIDLEN;
	for (int i = 3; i >= 0; i--)
		s->buf[o++] = (uint8_t)((uint32_t)r->boxlen >> (8 * i));
	memcpy(s->buf + o, r->box, r->boxlen);
	s->len += need;
	s->ends[s->nrec++] = s->len;
	s->bytes += r->boxlen;
	return (0);
}

static void
be64(uint8_t *p, uint64_t v)
{

	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static int
send_begin_end(chan *c, uint8_t type, uint64_t n, uint64_t bytes)
{
	uint8_t m[16];

	be64(m, n);
	be64(m + 8, bytes);
	return (chan_send(c, type, m, 16));
}

/* RECS frames of at most ${slice} bytes covering [from, to). */
static int
send_slices(chan *c, const uint8_t *buf, size_t from, size_t to,
    size_t slice)
{
	size_t k;
	int rc;

	while (from < to) {
		k = to - from;
		if (k > slice)
			k = slice;
		if ((rc = chan_send(c, MSG_RECS, buf + from, k)) != 0)
			return (rc);
		from += k;
	}
	return (0);
}

static void *
sender_main(void *arg)
{
	struct sender *sd = arg;
	struct store_vv *have = NULL;
	struct stream s;
	noise_hs *hs = NULL;
	chan *c;
	uint8_t pl[64];
	size_t pln;

	sd->rc = sd->hsrc = -1;
	if ((sd->hsrc = chan_new(sd->fd, TIMEOUT_MS, &c)) != 0)
		return (NULL);
	if ((sd->hsrc = noise_hs_new(&hs, PROTO, 0, NULL, 0, NULL, NULL,
	    NULL)) != 0 ||
	    (sd->hsrc = chan_hs_recv(c, hs, pl, sizeof(pl), &pln)) != 0 ||
	    (sd->hsrc = chan_hs_send(c, hs, NULL, 0)) != 0)
		goto done;
	if ((sd->rc = xfer_have_recv(c, &have)) != 0)
		goto done;
	if (sd->act == NULL) {
		sd->rc = xfer_send(c, A->st, have, NULL, NULL);
		goto done;
	}
	memset(&s, 0, sizeof(s));
	if ((sd->rc = store_scan(A->st, have, 0, stream_one, &s)) == 0)
		sd->act(c, &s, sd->arg);
	free(s.buf);
	free(s.ends);
done:
	free(have);
	noise_hs_free(hs);
	chan_free(c);
	return (NULL);
}

/* The receiving side, in this thread: initiator, then xfer_recv. */
static int
receive(int fd, store *b, uint64_t *stored, struct prog *p, int *hsrc)
{
	noise_hs *hs = NULL;
	chan *c;
	uint8_t pl[64];
	size_t pln;
	int rc;

	*stored = UINT64_MAX;
	if ((*hsrc = chan_new(fd, TIMEOUT_MS, &c)) != 0)
		return (*hsrc);
	if ((*hsrc = noise_hs_new(&hs, PROTO, 1, NULL, 0, NULL, NULL,
	    NULL)) != 0 ||
	    (*hsrc = chan_hs_send(c, hs, NULL, 0)) != 0 ||
	    (*hsrc = chan_hs_recv(c, hs, pl, sizeof(pl), &pln)) != 0) {
		rc = *hsrc;
		goto done;
	}
	if ((rc = xfer_have_send(c, b)) != 0)
		goto done;
	alloc_here = alloc_watch;
	rc = xfer_recv(c, b, on_progress, p, stored);
	alloc_here = 0;
done:
	noise_hs_free(hs);
	chan_free(c);
	return (rc);
}

/*
 * One transfer from A to ${b}: the sender scripted by ${act} (NULL: the
 * real xfer_send), optionally through a relay flipping a byte of the
 * ${flip}th frame from A.  Returns xfer_recv's result.
 */
struct relay {
	int in, out;
	int flip;		/* frame number to damage, 0: none */
	int frames;
};

static int
read_full(int fd, uint8_t *p, size_t n)
{
	ssize_t r;

	while (n > 0) {
		r = read(fd, p, n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return (-1);
		p += r;
		n -= (size_t)r;
	}
	return (0);
}

static int
write_full(int fd, const uint8_t *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return (-1);
		p += w;
		n -= (size_t)w;
	}
	return (0);
}

/* Copy frames from ${in} to ${out}, damaging one if asked. */
static void *
relay_main(void *arg)
{
	struct relay *r = arg;
	uint8_t *f;
	size_t n;

	if ((f = malloc(2 + 65535)) == NULL)
		abort();
	for (;;) {
		if (read_full(r->in, f, 2) != 0)
			break;
		n = (size_t)f[0] << 8 | f[1];
		if (read_full(r->in, f + 2, n) != 0)
			break;
		if (++r->frames == r->flip && n > 0)
			f[2 + n / 2] ^= 0x04;
		if (write_full(r->out, f, 2 + n) != 0)
			break;
	}
	free(f);
	/* Either way ends: both sides learn it. */
	shutdown(r->out, SHUT_RDWR);
	shutdown(r->in, SHUT_RDWR);
	return (NULL);
}

struct run {
	int rc;			/* xfer_recv */
	int hsrc;
	uint64_t stored;
	struct prog prog;
	int send_rc;
	int send_hsrc;
};

static void
transfer(store *b, void (*act)(chan *, struct stream *, void *), void *arg,
    int flip, struct run *out)
{
	struct sender sd;
	struct relay r1, r2;
	pthread_t ts, t1, t2;
	int p1[2], p2[2];

	memset(out, 0, sizeof(*out));
	memset(&sd, 0, sizeof(sd));
	sd.act = act;
	sd.arg = arg;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p1) != 0)
		abort();
	if (flip) {
		/* B = p1[0] <-> p1[1] relay p2[0] <-> p2[1] = A */
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p2))
			abort();
		r1.in = p2[0];
		r1.out = p1[1];
		r1.flip = flip;
		r1.frames = 0;
		r2.in = p1[1];
		r2.out = p2[0];
		r2.flip = 0;
		r2.frames = 0;
		sd.fd = p2[1];
		pthread_create(&t1, NULL, relay_main, &r1);
		pthread_create(&t2, NULL, relay_main, &r2);
	} else
		sd.fd = p1[1];
	pthread_create(&ts, NULL, sender_main, &sd);
	out->rc = receive(p1[0], b, &out->stored, &out->prog, &out->hsrc);
	pthread_join(ts, NULL);
	if (flip) {
		pthread_join(t1, NULL);
		pthread_join(t2, NULL);
		close(p1[1]);
		close(p2[0]);
	}
	out->send_rc = sd.rc;
	out->send_hsrc = sd.hsrc;
}

static store *
new_b(const char *name)
{
	char p[400];
	store *b;

	snprintf(p, sizeof(p), "%s/%s.db", tmp, name);
	if (store_open(p, &b) != 0)
		abort();
	return (b);
}

static void
rm_b(const char *name)
{
	static const char *const sfx[] = { ".db", ".db-wal", ".db-shm" };
	char p[400];
	size_t i;

	for (i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s/%s%s", tmp, name, sfx[i]);
		unlink(p);
	}
}

/* Home A: small records, three of 1-3 MiB, and a second origin. */
static size_t nA;
static uint64_t bytesA;

static void
make_a(void)
{
	char dir[400], recov[RECOVERY_TEXTLEN], *j;
	struct store_rec sr;
	uint8_t box[600];
	size_t i, len;
	int a, ok = 1;

	snprintf(dir, sizeof(dir), "%s/a", tmp);
	if (home_open(dir, 1, &A) != 0 ||
	    home_init_account(A, "sender", (const uint8_t *)"pw", 2,
	    recov) != 0 || A->h == NULL) {
		fprintf(stderr, "test_xfer: cannot make home A\n");
		exit(1);
	}
	if ((j = malloc((3u << 20) + 128)) == NULL)
		abort();
	if (store_begin(A->st) != 0)
		abort();
	for (i = 0; i < 300; i++) {
		size_t big = i == 40 ? 1 : i == 150 ? 2 : i == 260 ? 3 : 0;
		int k;

		k = snprintf(j, 128, "{\"service\":\"mail\",\"id\":\"%zu\","
		    "\"body\":\"", i);
		len = big ? big << 20 : (size_t)k + 2 + (i * 97) % 700;
		memset(j + k, 'a' + (int)(i % 26), len - (size_t)k - 2);
		memcpy(j + len - 2, "\"}", 2);
		if (hist_add(A->h, j, len, &a) != 0 || a != 1)
			ok = 0;
	}
	/* Records of another device, as A would hold them after a sync. */
	for (i = 0; i < 40; i++) {
		memset(&sr, 0, sizeof(sr));
		memset(sr.origin, 0x00, 32);
		sr.origin[31] = 0x01;	/* sorts before A's random key */
		sr.seq = i + 1;
		sr.epoch = 1;
		randombytes_buf(sr.rid, STORE_RIDLEN);
		len = HIST_BOXOVER + (i * 37) % 500;
		randombytes_buf(box, len);
		sr.box = box;
		sr.boxlen = len;
		if (store_rec_put(A->st, &sr, &a) != 0 || a != 1)
			ok = 0;
	}
	if (store_commit(A->st) != 0)
		ok = 0;
	free(j);
	if (!CHECK(ok)) {
		fprintf(stderr, "test_xfer: cannot fill home A\n");
		exit(1);
	}
	nA = (size_t)count_of(A->st);
	CHECK(nA == 340);
	CHECK_RC(store_count(A->st, NULL, 0, &(uint64_t){ 0 }, &bytesA), 0);
}

static void
test_full(void)
{
	struct run r;
	store *b = new_b("full");

	transfer(b, NULL, NULL, 0, &r);
	CHECK_RC(r.hsrc, 0);
	CHECK_RC(r.rc, 0);
	CHECK_RC(r.send_rc, 0);
	CHECK(r.stored == nA);
	holds_prefix(b, SIZE_MAX, __LINE__);
	CHECK(r.prog.calls > 0);
	CHECK(r.prog.nrec == nA && r.prog.totrec == nA);
	CHECK(r.prog.nbytes == bytesA && r.prog.totbytes == bytesA);

	/* The vector B now has is A's. */
	{
		struct store_vv *va = NULL, *vb = NULL;
		size_t i;
		int ok;

		if (CHECK_RC(store_vv_get(A->st, &va), 0) &&
		    CHECK_RC(store_vv_get(b, &vb), 0)) {
			ok = va->n == vb->n && va->n == 2;
			for (i = 0; ok && i < va->n; i++)
				ok = store_vv_seq(vb, va->e[i].origin) ==
				    va->e[i].seq;
			CHECK(ok);
		}
		free(va);
		free(vb);
	}

	/* Resume: nothing more to send. */
	transfer(b, NULL, NULL, 0, &r);
	CHECK_RC(r.rc, 0);
	CHECK_RC(r.send_rc, 0);
	CHECK(r.stored == 0);
	CHECK(r.prog.totrec == 0 && r.prog.nrec == 0);
	holds_prefix(b, SIZE_MAX, __LINE__);

	/* A record added on A since: only that one comes. */
	{
		int a;
		static const char j[] = "{\"service\":\"late\",\"id\":\"1\"}";

		CHECK_RC(store_begin(A->st), 0);
		CHECK_RC(hist_add(A->h, j, strlen(j), &a), 0);
		CHECK_RC(store_commit(A->st), 0);
		nA++;
		CHECK_RC(store_count(A->st, NULL, 0, &(uint64_t){ 0 }, &bytesA),
		    0);
		transfer(b, NULL, NULL, 0, &r);
		CHECK_RC(r.rc, 0);
		CHECK(r.stored == 1);
		CHECK(r.prog.totrec == 1);
		holds_prefix(b, SIZE_MAX, __LINE__);
	}
	store_close(b);
	rm_b("full");
}

/* Script: BEGIN, the stream up to ${cut} bytes in slices, then close. */
struct cut {
	size_t cut;		/* offset in this run's stream */
	size_t slice;
	size_t nrec;		/* filled: records in this run's stream */
	size_t whole;		/* filled: records wholly before the cut */
};

static void
act_cut(chan *c, struct stream *s, void *arg)
{
	struct cut *k = arg;
	size_t i;

	k->nrec = s->nrec;
	for (k->whole = 0, i = 0; i < s->nrec; i++)
		if (s->ends[i] <= k->cut)
			k->whole++;
	if (send_begin_end(c, MSG_BEGIN, s->nrec, s->bytes) != 0)
		return;
	(void)send_slices(c, s->buf, 0, k->cut, k->slice);
}

/* Offset of the end of the ${i}th record of a stream from ${have}. */
static size_t
stream_end(store *b, size_t i)
{
	struct store_vv *vv = NULL;
	struct stream s;
	size_t e;

	memset(&s, 0, sizeof(s));
	if (store_vv_get(b, &vv) != 0 ||
	    store_scan(A->st, vv, 0, stream_one, &s) != 0 || i >= s.nrec)
		abort();
	e = s.ends[i];
	free(s.buf);
	free(s.ends);
	free(vv);
	return (e);
}

static void
test_truncation(void)
{
	struct run r;
	struct cut k;
	store *b = new_b("trunc");
	size_t held = 0, e;

	/* Cut inside the header of record 10 (from the start). */
	memset(&k, 0, sizeof(k));
	k.cut = stream_end(b, 9) + 20;
	k.slice = 777;
	transfer(b, act_cut, &k, 0, &r);
	CHECK_RC(r.rc, KITH_ETRUNC);
	CHECK(k.whole == 10);
	held += k.whole;
	CHECK(r.stored == k.whole);
	holds_prefix(b, held, __LINE__);

	/* Resumes after record 10; cut exactly at the end of a record. */
	memset(&k, 0, sizeof(k));
	k.cut = stream_end(b, 4);
	k.slice = 1000;
	transfer(b, act_cut, &k, 0, &r);
	CHECK_RC(r.rc, KITH_ETRUNC);
	CHECK(k.whole == 5);
	CHECK(k.nrec == nA - held);
	held += k.whole;
	CHECK(r.stored == 5);
	holds_prefix(b, held, __LINE__);

	/*
	 * Cut inside a 2 MiB box (slices of CHAN_MAXBODY): every record
	 * before it kept.  Which record of this run is the big one: the
	 * first whose box is over 1 MiB after the 1 MiB one.
	 */
	{
		struct store_vv *vv = NULL;
		struct recs l;
		size_t i, bigi = SIZE_MAX, seen = 0;

		if (store_vv_get(b, &vv) == 0 && collect(A->st, vv, &l) == 0) {
			for (i = 0; i < l.n && bigi == SIZE_MAX; i++)
				if (l.r[i].boxlen > (1u << 20) && ++seen == 2)
					bigi = i;
			recs_free(&l);
		}
		free(vv);
		if (!CHECK(bigi != SIZE_MAX && bigi > 0))
			goto out;
		memset(&k, 0, sizeof(k));
		e = stream_end(b, bigi);
		k.cut = e - (1u << 20);
		k.slice = CHAN_MAXBODY;
		transfer(b, act_cut, &k, 0, &r);
		CHECK_RC(r.rc, KITH_ETRUNC);
		CHECK(k.whole == bigi);
		held += k.whole;
		CHECK(r.stored == bigi);
		holds_prefix(b, held, __LINE__);
	}

	/* A cut right after BEGIN. */
	memset(&k, 0, sizeof(k));
	k.cut = 0;
	k.slice = 100;
	transfer(b, act_cut, &k, 0, &r);
	CHECK_RC(r.rc, KITH_ETRUNC);
	CHECK(r.stored == 0);
	holds_prefix(b, held, __LINE__);

	/* The real sender completes with only what is missing. */
	transfer(b, NULL, NULL, 0, &r);
	CHECK_RC(r.rc, 0);
	CHECK_RC(r.send_rc, 0);
	CHECK(r.stored == nA - held);
	CHECK(r.prog.totrec == nA - held);
	holds_prefix(b, SIZE_MAX, __LINE__);
out:
	store_close(b);
	rm_b("trunc");
}

static void
test_flip(void)
{
	static const int frames[] = { 2, 4, 9 };
	struct run r;
	size_t i, m;
	store *b;

	for (i = 0; i < sizeof(frames) / sizeof(frames[0]); i++) {
		b = new_b("flip");
		transfer(b, NULL, NULL, frames[i], &r);
		CHECK_RC(r.hsrc, 0);
		CHECK_RC(r.rc, KITH_ECRYPTO);
		CHECK(r.send_rc != 0);	/* no DONE came back */
		m = SIZE_MAX;
		holds_some_prefix(b, &m, __LINE__);
		CHECK(m < nA);
		if (frames[i] == 2)	/* BEGIN: nothing got through */
			CHECK(m == 0);
		CHECK(r.stored == m);

		/* Then a clean run finishes the job. */
		transfer(b, NULL, NULL, 0, &r);
		CHECK_RC(r.rc, 0);
		CHECK(r.stored == nA - m);
		holds_prefix(b, SIZE_MAX, __LINE__);
		store_close(b);
		rm_b("flip");
	}

	/* A damaged handshake frame fails the handshake, not later. */
	b = new_b("flip");
	transfer(b, NULL, NULL, 1, &r);
	CHECK_RC(r.hsrc, KITH_EHANDSHAKE);
	CHECK(count_of(b) == 0);
	store_close(b);
	rm_b("flip");
}

/* Script: a whole stream, then END with these deltas. */
struct endbad {
	int64_t dn, dbytes;
	size_t drop;		/* bytes of the last record left out */
	int before_begin;	/* RECS first */
	int type;		/* a message of this type first, 0: none */
};

static void
act_end(chan *c, struct stream *s, void *arg)
{
	static uint8_t body[CHAN_MAXBODY];
	struct endbad *e = arg;
	uint64_t n, bytes;
	uint8_t type;
	size_t len;

	if (e->type != 0 && chan_send(c, (uint8_t)e->type,
	    (const uint8_t *)"x", 1) != 0)
		return;
	if (e->before_begin && s->len > 0 &&
	    send_slices(c, s->buf, 0, s->ends[0], 5000) != 0)
		return;
	if (send_begin_end(c, MSG_BEGIN, s->nrec, s->bytes) != 0 ||
	    send_slices(c, s->buf, 0, s->len - e->drop, 5000) != 0)
		return;
	n = s->nrec;
	bytes = s->bytes;
	if (e->drop > 0 && n > 0) {
		/* END counts the whole records only: just the cut is wrong. */
		n--;
		bytes -= (s->ends[n] - (n > 0 ? s->ends[n - 1] : 0)) -
		    XFER_RECHDR;
	}
	if (send_begin_end(c, MSG_END, (uint64_t)((int64_t)n + e->dn),
	    (uint64_t)((int64_t)bytes + e->dbytes)) != 0)
		return;
	/* Wait for DONE, or for the receiver to hang up. */
	(void)chan_recv(c, &type, body, &len);
}

static void
test_end(void)
{
	struct run r;
	struct endbad e;
	store *b = new_b("end");

	/* All records sent whole, END says one more. */
	memset(&e, 0, sizeof(e));
	e.dn = 1;
	transfer(b, act_end, &e, 0, &r);
	CHECK_RC(r.rc, KITH_EPROTO);
	/* What arrived whole is kept for next time. */
	holds_prefix(b, SIZE_MAX, __LINE__);
	CHECK(r.stored == nA);

	/* Nothing left to send: END 1 record, or 0 records and 5 bytes. */
	memset(&e, 0, sizeof(e));
	e.dn = 1;
	transfer(b, act_end, &e, 0, &r);
	CHECK_RC(r.rc, KITH_EPROTO);
	e.dn = 0;
	e.dbytes = 5;
	transfer(b, act_end, &e, 0, &r);
	CHECK_RC(r.rc, KITH_EPROTO);
	memset(&e, 0, sizeof(e));
	transfer(b, act_end, &e, 0, &r);	/* the honest empty stream */
	CHECK_RC(r.rc, 0);
	CHECK(r.stored == 0);
	store_close(b);
	rm_b("end");

	b = new_b("end");
	/* One fewer, and the bytes off by one. */
	memset(&e, 0, sizeof(e));
	e.dn = -1;
	transfer(b, act_end, &e, 0, &r);
	CHECK_RC(r.rc, KITH_EPROTO);
	store_close(b);
	rm_b("end");

	b = new_b("end");
	memset(&e, 0, sizeof(e));
	e.dbytes = -1;
	transfer(b, act_end, &e, 0, &r);
	CHECK_RC(r.rc, KITH_EPROTO);
	store_close(b);
	rm_b("end");

	/* The last record cut short, END counting the whole ones. */
	b = new_b("end");
	memset(&e, 0, sizeof(e));
	e.drop = 7;
	transfer(b, act_end, &e, 0, &r);
	CHECK_RC(r.rc, KITH_EPROTO);
	holds_prefix(b, nA - 1, __LINE__);
	store_close(b);
	rm_b("end");

	/* RECS before BEGIN; a message of no business here. */
	b = new_b("end");
	memset(&e, 0, sizeof(e));
	e.before_begin = 1;
	transfer(b, act_end, &e, 0, &r);
	CHECK_RC(r.rc, KITH_EPROTO);
	CHECK(count_of(b) == 0);
	memset(&e, 0, sizeof(e));
	e.type = MSG_JOIN_PROOF;
	transfer(b, act_end, &e, 0, &r);
	CHECK_RC(r.rc, KITH_EPROTO);
	e.type = 0x7f;
	transfer(b, act_end, &e, 0, &r);
	CHECK_RC(r.rc, KITH_EPROTO);
	CHECK(count_of(b) == 0);
	store_close(b);
	rm_b("end");
}

/* Script: BEGIN and one record header announcing ${boxlen}, then close. */
static void
act_hdr(chan *c, struct stream *s, void *arg)
{
	uint32_t bl = *(uint32_t *)arg;
	uint8_t h[XFER_RECHDR];

	if (s->nrec == 0)
		return;
	memcpy(h, s->buf, XFER_RECHDR);
	h[XFER_RECHDR - 4] = (uint8_t)(bl >> 24);
	h[XFER_RECHDR - 3] = (uint8_t)(bl >> 16);
	h[XFER_RECHDR - 2] = (uint8_t)(bl >> 8);
	h[XFER_RECHDR - 1] = (uint8_t)bl;
	if (send_begin_end(c, MSG_BEGIN, 1, bl) != 0)
		return;
	(void)chan_send(c, MSG_RECS, h, sizeof(h));
}

static void
test_huge_box(void)
{
	static const uint32_t big[] = {
		(uint32_t)STORE_MAXBOX + 1, 0x7fffffffu, 0xffffffffu,
	};
	struct run r;
	store *b = new_b("huge");
	uint32_t bl;
	size_t i;

	for (i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
		bl = big[i];
		alloc_max = 0;
		alloc_watch = 1;
		transfer(b, act_hdr, &bl, 0, &r);
		alloc_watch = 0;
		CHECK_RC(r.rc, KITH_EPROTO);
		CHECK(count_of(b) == 0);
		if (alloc_hooked && !CHECK(alloc_max < ((size_t)4 << 20)))
			fprintf(stderr, "  boxlen %u: an allocation of %zu"
			    " bytes\n", bl, (size_t)alloc_max);
	}

	/*
	 * The limit itself is allowed: the receiver waits for the box, and
	 * the cut is then a truncation.  (This is what a missing check
	 * would look like for the sizes above.)
	 */
	bl = (uint32_t)STORE_MAXBOX;
	transfer(b, act_hdr, &bl, 0, &r);
	CHECK_RC(r.rc, KITH_ETRUNC);
	CHECK(count_of(b) == 0);
	store_close(b);
	rm_b("huge");
}

int
main(void)
{
	char p[400];

	if (sodium_init() < 0) {
		fprintf(stderr, "test_xfer: sodium_init failed\n");
		return (1);
	}
	signal(SIGPIPE, SIG_IGN);
	if (mkdtemp(tmp) == NULL) {
		fprintf(stderr, "test_xfer: mkdtemp: %s\n", strerror(errno));
		return (1);
	}
	if (__sanitizer_install_malloc_and_free_hooks != NULL &&
	    __sanitizer_install_malloc_and_free_hooks(on_malloc, on_free))
		alloc_hooked = 1;
	else
		fprintf(stderr, "test_xfer: no allocator hooks (not built with"
		    " AddressSanitizer): allocation sizes not checked\n");

	make_a();
	test_full();
	test_truncation();
	test_flip();
	test_end();
	test_huge_box();

	home_close(A);
	snprintf(p, sizeof(p), "%s/a/kith.db", tmp);
	unlink(p);
	snprintf(p, sizeof(p), "%s/a/kith.db-wal", tmp);
	unlink(p);
	snprintf(p, sizeof(p), "%s/a/kith.db-shm", tmp);
	unlink(p);
	snprintf(p, sizeof(p), "%s/a/device.key", tmp);
	unlink(p);
	snprintf(p, sizeof(p), "%s/a", tmp);
	if (rmdir(p) != 0 || rmdir(tmp) != 0) {
		fprintf(stderr, "test_xfer: cannot remove %s: %s\n", tmp,
		    strerror(errno));
		nfail++;
	}
	printf("xfer: %d checks passed, %d failed\n", npass, nfail);
	return (nfail == 0 ? 0 : 1);
}
