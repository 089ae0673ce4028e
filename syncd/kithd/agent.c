/*
 * agent.c: the agent's state that sessions, discovery and clients share:
 * the peer table (from the roster), the receiving transaction, local
 * appends, and changes made to the home by other processes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "agent.h"
#include "kith_err.h"
#include "kith_util.h"
#include "store.h"

#define TX_MAXRECS 4096
#define TX_MAXBYTES ((uint64_t)8 << 20)
#define TX_MAXMS 200
#define TX_LINGER_MS 20

struct peer *
ag_peer_by_sign(struct agent *ag, const uint8_t pk[static 32])
{
	size_t i;

	for (i = 0; i < ag->npeers; i++)
		if (memcmp(ag->peers[i]->sign_pk, pk, 32) == 0)	/* not secret */
			return (ag->peers[i]);
	return (NULL);
}

/* One entry per other device of the roster; entries are never freed. */
int
ag_peers_rebuild(struct agent *ag)
{
	const struct roster *r = ag->hm->roster;
	const struct roster_dev *self;
	struct peer *p, **np;
	char hx[65];
	size_t i;
	int me_active;

	if (r == NULL)
		return (0);
	self = home_self(ag->hm);
	me_active = self != NULL && self->status == ROSTER_ACTIVE;
	for (i = 0; i < ag->npeers; i++)
		ag->peers[i]->active = 0;
	for (i = 0; i < r->ndev; i++) {
		const struct roster_dev *d = &r->dev[i];

		if (self != NULL && d == self)
			continue;
		if ((p = ag_peer_by_sign(ag, d->sign_pk)) == NULL) {
			if ((p = calloc(1, sizeof(*p))) == NULL)
				return (KITH_ENOMEM);
			/* An array of pointers: sizeof(struct peer *). */
			np = realloc(ag->peers, (ag->npeers + 1) *
			    /* NOLINTNEXTLINE(bugprone-sizeof-expression) */
			    sizeof(*np));
			if (np == NULL) {
				free(p);
				return (KITH_ENOMEM);
			}
			ag->peers = np;
			ag->peers[ag->npeers++] = p;
			memcpy(p->sign_pk, d->sign_pk, 32);
			memcpy(p->id8, ag_hex(d->sign_pk, 4, hx), 9);
		}
		memcpy(p->kx_pk, d->kx_pk, 32);
		snprintf(p->name, sizeof(p->name), "%s", d->name);
		p->active = me_active && d->status == ROSTER_ACTIVE;
	}
	return (0);
}

static const char *
dev_name(const struct roster *r, const uint8_t pk[32], char *buf, size_t cap)
{
	const struct roster_dev *d = roster_find_sign(r, pk);
	char hx[65];

	if (d != NULL)
		snprintf(buf, cap, "%s (%s)", d->name, ag_hex(pk, 4, hx));
	else
		snprintf(buf, cap, "a device not on the roster (%s)",
		    ag_hex(pk, 4, hx));
	return (buf);
}

json_t *
ag_dev_json(const struct agent *ag, const struct roster_dev *d)
{
	const struct roster_dev *by;
	char hx[65];
	json_t *o;
	int self;

	o = json_pack("{s:s, s:s, s:s, s:I}", "id", ag_hex(d->sign_pk, 32, hx),
	    "name", d->name, "status", d->status == ROSTER_ACTIVE ? "active" :
	    "revoked", "added", (json_int_t)d->added);
	if (o == NULL)
		return (NULL);
	json_object_set_new(o, "added_by", json_string(ag_hex(d->added_by,
	    32, hx)));
	by = roster_find_sign(ag->hm->roster, d->added_by);
	json_object_set_new(o, "added_by_name", by != NULL ?
	    json_string(by->name) : json_null());
	if (d->status == ROSTER_REVOKED) {
		json_object_set_new(o, "revoked", json_integer(
		    (json_int_t)d->revoked));
		json_object_set_new(o, "revoked_by", json_string(
		    ag_hex(d->revoked_by, 32, hx)));
	}
	self = memcmp(d->sign_pk, ag->hm->dk->sign_pk, 32) == 0; /* not secret */
	json_object_set_new(o, "self", json_boolean(self));
	return (o);
}

/* The roster held changed (from a peer, or from another process). */
void
ag_roster_changed(struct agent *ag, const struct roster *old)
{
	const struct roster *r = ag->hm->roster;
	const struct roster_dev *o;
	char by[128], hx[65];
	json_t *ev;
	size_t i;

	for (i = 0; i < r->ndev; i++) {
		const struct roster_dev *d = &r->dev[i];

		o = old != NULL ? roster_find_sign(old, d->sign_pk) : NULL;
		if (o == NULL && old != NULL) {
			ag_log("new device %s (%s) enrolled by %s",
			    d->name, ag_hex(d->sign_pk, 4, hx),
			    dev_name(r, d->added_by, by, sizeof(by)));
			ev = json_pack("{s:s, s:o, s:I}", "change", "added",
			    "device", ag_dev_json(ag, d), "roster_version",
			    (json_int_t)r->version);
			ctl_publish(ag, "device", ev);
		} else if (o != NULL && o->status == ROSTER_ACTIVE &&
		    d->status == ROSTER_REVOKED) {
			ag_log("device %s (%s) revoked by %s", d->name,
			    ag_hex(d->sign_pk, 4, hx),
			    dev_name(r, d->revoked_by, by, sizeof(by)));
			ev = json_pack("{s:s, s:o, s:I}", "change", "revoked",
			    "device", ag_dev_json(ag, d), "roster_version",
			    (json_int_t)r->version);
			ctl_publish(ag, "device", ev);
		}
	}
	if (home_self(ag->hm) == NULL ||
	    home_self(ag->hm)->status != ROSTER_ACTIVE)
		ag_log("this device is not an active device of the account"
		    " any more: sync stops");
	(void)ag_peers_rebuild(ag);
	disc_tags_rebuild(ag);
	sess_drop_inactive(ag);
	sess_roster_all(ag);
	/* Browse again: services passed over may be devices known now. */
	disc_rebrowse(ag);
}

int
ag_tx_begin(struct agent *ag)
{
	int rc;

	if (ag->intx)
		return (0);
	if ((rc = store_begin(ag->hm->st)) != 0)
		return (rc);
	ag->intx = 1;
	ag->tx_recs = ag->tx_bytes = 0;
	ag->tx_newrec = ag->tx_newbytes = 0;
	ag->tx_start = ag_now_ms();
	json_decref(ag->tx_events);
	ag->tx_events = json_array();
	return (0);
}

void
ag_tx_commit(struct agent *ag)
{
	json_t *evs, *ev;
	size_t i;
	int rc;

	uv_timer_stop(&ag->commit_tm);
	if (!ag->intx)
		return;
	ag->intx = 0;
	evs = ag->tx_events;
	ag->tx_events = NULL;
	if ((rc = store_commit(ag->hm->st)) != 0) {
		/*
		 * What the sessions received is gone: start them over, and
		 * they will send it again from what this device holds.
		 */
		ag_log("cannot store received records: %s; restarting the"
		    " sessions", kith_strerror(rc));
		json_decref(evs);
		/* A roster or keys taken in that transaction are gone too. */
		ag->data_version = -1;
		ag_check_disk(ag);
		ag_recount(ag);
		sess_close_all(ag, "store failure");
		if (!ag->stopping)
			(void)sess_listen(ag);
		return;
	}
	ag->nrec += ag->tx_newrec;
	ag->nbytes += ag->tx_newbytes;
	json_array_foreach(evs, i, ev)
		ctl_publish(ag, "record", json_incref(ev));
	json_decref(evs);
	sess_push_all(ag);
}

void
ag_recount(struct agent *ag)
{

	if (store_count(ag->hm->st, NULL, STORE_UNIQUE, &ag->nrec,
	    &ag->nbytes) != 0)
		ag->nrec = ag->nbytes = 0;
}

static void
on_commit_timer(uv_timer_t *t)
{

	ag_tx_commit(t->data);
}

/*
 * After a read: commit when the socket had nothing more (a live record
 * reaches the store, and other devices, at once) or when enough is
 * pending; otherwise soon, in case nothing more comes.
 */
void
ag_tx_maybe_commit(struct agent *ag, int drained)
{

	if (!ag->intx)
		return;
	if (drained || ag->tx_recs >= TX_MAXRECS ||
	    ag->tx_bytes >= TX_MAXBYTES ||
	    ag_now_ms() - ag->tx_start >= TX_MAXMS) {
		ag_tx_commit(ag);
		return;
	}
	ag->commit_tm.data = ag;
	if (!uv_is_active((uv_handle_t *)&ag->commit_tm))
		uv_timer_start(&ag->commit_tm, on_commit_timer, TX_LINGER_MS,
		    0);
}

json_t *
ag_record_json(struct agent *ag, const struct store_rec *rec)
{
	char *txt, hx[65];
	size_t len;
	json_t *o, *r;

	if (!ctl_wants(ag, "record") || ag->hm->h == NULL)
		return (NULL);
	if (hist_open_rec(ag->hm->h, rec, &txt, &len) != 0)
		return (NULL);	/* not ours to read (an epoch we lack) */
	r = json_loadb(txt, len, 0, NULL);
	o = json_pack("{s:s, s:I}", "rid", ag_hex(rec->rid, STORE_RIDLEN, hx),
	    "seq", (json_int_t)rec->seq);
	if (o != NULL) {
		json_object_set_new(o, "origin", json_string(ag_hex(rec->origin,
		    32, hx)));
		if (r != NULL)
			json_object_set_new(o, "record", r);
		else
			json_object_set_new(o, "record_text",
			    json_stringn(txt, len));
	} else
		json_decref(r);
	sodium_memzero(txt, len);
	free(txt);
	return (o);
}

/* Append ${records} (an array of objects) as one transaction. */
int
ag_append(struct agent *ag, json_t *records, int single, json_t *resp)
{
	uint8_t rid[STORE_RIDLEN];
	uint64_t seq, nadded = 0, nbytes = 0;
	json_t *r, *ev, *evs;
	char *txt, hx[65];
	size_t i;
	int added, rc = 0;

	if (ag->hm->h == NULL)
		return (KITH_ENOACCOUNT);
	ag_tx_commit(ag);
	if ((evs = json_array()) == NULL || (rc = store_begin(ag->hm->st)))
		goto done;
	json_array_foreach(records, i, r) {
		/* A string is a record's text, kept byte for byte. */
		if (json_is_string(r))
			txt = strndup(json_string_value(r),
			    json_string_length(r));
		else
			txt = json_dumps(r, JSON_COMPACT);
		if (txt == NULL) {
			rc = KITH_EFORMAT;
			break;
		}
		rc = hist_append(ag->hm->h, txt, strlen(txt), &added, &seq,
		    rid);
		if (rc == 0 && added) {
			nadded++;
			nbytes += strlen(txt) + HIST_BOXOVER;
			if (ctl_wants(ag, "record")) {
				ev = json_pack("{s:s, s:I}", "origin",
				    ag_hex(ag->hm->dk->sign_pk, 32, hx), "seq",
				    (json_int_t)seq);
				json_object_set_new(ev, "rid", json_string(
				    ag_hex(rid, STORE_RIDLEN, hx)));
				if (json_is_object(r))
					json_object_set(ev, "record", r);
				else
					json_object_set_new(ev, "record",
					    json_loads(txt, 0, NULL));
				json_array_append_new(evs, ev);
			}
		}
		sodium_memzero(txt, strlen(txt));
		free(txt);
		if (rc != 0)
			break;
		if (single) {
			json_object_set_new(resp, "added", json_boolean(added));
			json_object_set_new(resp, "origin", json_string(ag_hex(
			    ag->hm->dk->sign_pk, 32, hx)));
			json_object_set_new(resp, "seq", seq != 0 ?
			    json_integer((json_int_t)seq) : json_null());
			json_object_set_new(resp, "rid", json_string(ag_hex(
			    rid, STORE_RIDLEN, hx)));
		}
	}
	if (rc != 0) {
		store_rollback(ag->hm->st);
		goto done;
	}
	if ((rc = store_commit(ag->hm->st)) != 0)
		goto done;
	ag->nrec += nadded;
	ag->nbytes += nbytes;
	if (!single) {
		json_object_set_new(resp, "stored", json_integer(
		    (json_int_t)nadded));
		json_object_set_new(resp, "held", json_integer(
		    (json_int_t)(json_array_size(records) - nadded)));
	}
	json_array_foreach(evs, i, ev)
		ctl_publish(ag, "record", json_incref(ev));
	sess_push_all(ag);
done:
	json_decref(evs);
	return (rc);
}

/* Another process wrote to the home (kith pair, kith history …). */
void
ag_check_disk(struct agent *ag)
{
	struct roster *prev;
	int64_t v;
	int had_account = ag->hm->has_account;
	int had_roster = ag->hm->roster != NULL;

	if (ag->intx || store_data_version(ag->hm->st, &v) != 0 ||
	    v == ag->data_version)
		return;
	ag->data_version = v;
	if (home_reload(ag->hm, &prev) != 0) {
		ag_log("cannot read the home again after a change by another"
		    " process");
		return;
	}
	if (!had_account && ag->hm->has_account)
		ag_log("this device now belongs to an account");
	if (!ag->running) {
		/* Locked: nothing to tell peers; counts for status only. */
		roster_free(prev);
		ag_recount(ag);
		return;
	}
	if (had_roster && prev != NULL &&
	    memcmp(prev->hash, ag->hm->roster->hash, 32) != 0) {	/* not secret */
		ag_log("roster version %llu written on this device",
		    (unsigned long long)ag->hm->roster->version);
		ag_roster_changed(ag, prev);
	} else if (!had_roster && ag->hm->roster != NULL)
		ag_roster_changed(ag, NULL);
	roster_free(prev);
	ag_recount(ag);
	sess_push_all(ag);
}
