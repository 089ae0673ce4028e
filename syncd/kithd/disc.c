/*
 * disc.c: private discovery.  A device announces _kith._tcp under an
 * instance name that only the account's devices can recognise:
 *
 *     key      = BLAKE2b-256(key = history key of the newest epoch,
 *                            "kith discovery v1")
 *     tag(d,w) = hex(BLAKE2b-64(key = key, "tag" || w (8, BE) || sign_pk))
 *     w        = floor(unix time / window), window 900 s by default
 *
 * and an empty TXT record.  A stranger sees 16 hex digits that change every
 * window and that nothing links to a person, an account or the previous
 * window's name; pairing announces look the same.  The account's devices
 * compute the tags of every other active device for the windows w-1, w
 * and w+1 (clocks may differ) under the newest epoch keys they hold, and
 * never resolve, let alone connect to, an instance that matches none.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "agent.h"
#include "kith_err.h"
#include "invx.h"
#include "kith_util.h"

#define DISC_CTX "kith discovery v1"
#define EPOCHS_TRIED 3
#define MAXIGNORED 256

static void
tag_of(const uint8_t key[32], uint64_t w, const uint8_t pk[32],
    char out[17])
{
	uint8_t in[3 + 8 + 32], h[8];
	char hx[65];

	memcpy(in, "tag", 3);
	kith_be64enc(in + 3, w);
	memcpy(in + 11, pk, 32);
	crypto_generichash(h, sizeof(h), in, sizeof(in), key, 32);
	memcpy(out, ag_hex(h, 8, hx), 17);
}

static uint64_t
window_now(const struct agent *ag)
{

	return ((uint64_t)time(NULL) / ag->tagwin);
}

void
disc_tags_rebuild(struct agent *ag)
{
	struct tagent *t;
	uint8_t *keys;
	uint32_t cur, e;
	size_t nk = 0, i, k, n = 0;
	uint64_t w = window_now(ag), dw;

	free(ag->tags);
	ag->tags = NULL;
	ag->ntags = 0;
	ag->self_tag[0] = '\0';
	ag->tag_window = w;
	if (ag->hm->h == NULL || ag->hm->roster == NULL)
		return;
	if ((keys = sodium_malloc(32 * EPOCHS_TRIED)) == NULL)
		return;
	cur = hist_epoch(ag->hm->h);
	for (e = cur; e >= 1 && nk < EPOCHS_TRIED; e--)
		if (hist_derive(ag->hm->h, e, DISC_CTX, keys + 32 * nk) == 0)
			nk++;
	if (nk == 0) {
		sodium_free(keys);
		return;
	}
	tag_of(keys, w, ag->hm->dk->sign_pk, ag->self_tag);
	t = calloc(ag->npeers * nk * 3 + 1, sizeof(*t));
	for (i = 0; t != NULL && i < ag->npeers; i++) {
		if (!ag->peers[i]->active)
			continue;
		for (k = 0; k < nk; k++)
			for (dw = w - 1; dw <= w + 1; dw++) {
				tag_of(keys + 32 * k, dw,
				    ag->peers[i]->sign_pk, t[n].tag);
				t[n++].p = ag->peers[i];
			}
	}
	sodium_free(keys);
	ag->tags = t;
	ag->ntags = t != NULL ? n : 0;
}

static struct peer *
tag_peer(struct agent *ag, const char *instance)
{
	size_t i;

	for (i = 0; i < ag->ntags; i++)
		if (strcmp(ag->tags[i].tag, instance) == 0)
			return (ag->tags[i].p);
	return (NULL);
}

static int
filter(void *arg, const char *instance)
{
	struct agent *ag = arg;
	char **ni;
	size_t i;

	if (tag_peer(ag, instance) != NULL)
		return (1);
	if (strcmp(instance, ag->self_tag) == 0)
		return (0);
	/* Say once per name what was passed over (verbose). */
	for (i = 0; i < ag->nignored; i++)
		if (strcmp(ag->ignored[i], instance) == 0)
			return (0);
	if (ag->nignored < MAXIGNORED &&
	    (ni = realloc(ag->ignored, (ag->nignored + 1) *
	    sizeof(*ni))) != NULL) {
		ag->ignored = ni;
		if ((ni[ag->nignored] = strdup(instance)) != NULL)
			ag->nignored++;
	}
	ag_vlog(ag, "ignoring unrecognised service %s", instance);
	return (0);
}

static int
same_addr(const struct sockaddr_storage *a, const struct sockaddr *b,
    socklen_t blen)
{

	if (blen > sizeof(*a) || a->ss_family != b->sa_family)
		return (0);
	return (memcmp(a, b, blen) == 0);	/* not secret */
}

static void
found(void *arg, const struct discovery_found *f)
{
	struct agent *ag = arg;
	struct peer *p;
	char at[64];
	size_t i;

	if ((p = tag_peer(ag, f->instance)) == NULL || !p->active ||
	    f->addrlen > sizeof(p->addr[0]))
		return;
	for (i = 0; i < p->naddr; i++)
		if (same_addr(&p->addr[i], f->addr, f->addrlen))
			break;
	if (i == p->naddr) {
		if (p->naddr < AG_MAXADDR)
			p->naddr++;
		memmove(&p->addr[1], &p->addr[0],
		    (p->naddr - 1) * sizeof(p->addr[0]));
		memset(&p->addr[0], 0, sizeof(p->addr[0]));
		memcpy(&p->addr[0], f->addr, f->addrlen);
		p->nextaddr = 0;
		ag_log("found %s (%s) at %s", p->name, p->id8,
		    ag_addr_text(f->addr, at, sizeof(at)));
	}
	if (p->s != NULL || p->dialing != NULL)
		return;
	/*
	 * Both devices see each other at about the same time: the one with
	 * the lower key calls at once, the other a moment later, so that
	 * usually one connection is made, not two (and when two are, both
	 * sides keep the same one: sess.c).
	 */
	p->backoff = 0;
	if (memcmp(ag->hm->dk->sign_pk, p->sign_pk, 32) < 0) {	/* not secret */
		p->next_try = 0;
		sess_dial(ag, p);
	} else
		p->next_try = ag_now_ms() + 300;
}

static int
announce(struct agent *ag)
{
	int rc;

	if (ag->self_tag[0] == '\0' || ag->port == 0)
		return (0);
	rc = discovery_announce_start(ag->loop, &ag->ann, ag->self_tag,
	    ag->port, NULL, 0);
	if (rc == 0)
		ag_vlog(ag, "announcing as %s", ag->self_tag);
	return (rc);
}

/*
 * Open invitations of this device (invx_announced): one more instance on
 * the agent's port each, named by the invitation's tag, which only a
 * holder of the invitation recognises.
 */
void
disc_invites(struct agent *ag)
{
	char tags[INVX_MAXANNOUNCE][17];
	size_t n, i, j;
	int keep;

	n = (!ag->mdns || ag->stopping || ag->port == 0) ? 0 :
	    invx_announced(ag->hm, kith_now(), tags, INVX_MAXANNOUNCE);
	/* Withdraw what is no longer listed... */
	for (i = 0; i < ag->ninv; i++) {
		for (keep = 0, j = 0; j < n && !keep; j++)
			keep = strcmp(ag->inv_tag[i], tags[j]) == 0;
		if (!keep) {
			discovery_announce_close(ag->inv_ann[i]);
			ag->ninv--;
			ag->inv_ann[i] = ag->inv_ann[ag->ninv];
			memcpy(ag->inv_tag[i], ag->inv_tag[ag->ninv], 17);
			i--;
		}
	}
	/* ...and announce what is new. */
	for (j = 0; j < n && ag->ninv < INVX_MAXANNOUNCE; j++) {
		for (keep = 0, i = 0; i < ag->ninv && !keep; i++)
			keep = strcmp(ag->inv_tag[i], tags[j]) == 0;
		if (keep || discovery_announce_start(ag->loop,
		    &ag->inv_ann[ag->ninv], tags[j], ag->port, NULL, 0) != 0)
			continue;
		ag_vlog(ag, "announcing an open invitation as %s", tags[j]);
		memcpy(ag->inv_tag[ag->ninv], tags[j], 17);
		ag->ninv++;
	}
}

int
disc_start(struct agent *ag)
{
	int rc = 0;

	if (!ag->mdns || ag->stopping || ag->hm->roster == NULL)
		return (0);
	if (ag->ann == NULL && (rc = announce(ag)) != 0)
		ag->ann = NULL;
	if (ag->br == NULL && rc == 0 &&
	    (rc = discovery_browse_start(ag->loop, &ag->br, filter, found,
	    ag)) != 0)
		ag->br = NULL;
	return (rc);
}

void
disc_stop(struct agent *ag)
{

	size_t i;

	discovery_announce_close(ag->ann);
	ag->ann = NULL;
	discovery_browse_close(ag->br);
	ag->br = NULL;
	for (i = 0; i < ag->ninv; i++)
		discovery_announce_close(ag->inv_ann[i]);
	ag->ninv = 0;
}

void
disc_tick(struct agent *ag)
{
	uint64_t now = ag_now_ms();

	if (!ag->mdns || ag->stopping)
		return;
	if (now >= ag->inv_check) {
		/* Invitations expire; new ones arrive by rescan too. */
		ag->inv_check = now + 30000;
		disc_invites(ag);
	}
	if (window_now(ag) != ag->tag_window) {
		disc_tags_rebuild(ag);
		discovery_announce_close(ag->ann);
		ag->ann = NULL;
		if (announce(ag) != 0)
			ag->ann = NULL;
	}
	if ((ag->ann == NULL || ag->br == NULL) && now >= ag->disc_retry &&
	    ag->hm->roster != NULL) {
		ag->disc_retry = now + 5000;
		if (disc_start(ag) != 0 && !ag->disc_warned) {
			ag_log("mDNS is unavailable (is avahi-daemon"
			    " running?); trying again every 5 s; --peer"
			    " HOST:PORT connects without it");
			ag->disc_warned = 1;
		} else if (ag->ann != NULL && ag->br != NULL &&
		    ag->disc_warned) {
			ag_log("mDNS is back");
			ag->disc_warned = 0;
		}
	}
}

void
disc_rebrowse(struct agent *ag)
{
	size_t i;

	for (i = 0; i < ag->nignored; i++)
		free(ag->ignored[i]);
	ag->nignored = 0;
	discovery_browse_close(ag->br);
	ag->br = NULL;
	(void)disc_start(ag);
}
