/*
 * ctl.c: the control socket: JSON lines for client apps and the kith
 * command (docs/API.md).  Requests are parsed with jansson; one line is one
 * request; responses go back in order; subscribed clients also get events.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "agent.h"
#include "ctlsock.h"
#include "kith_err.h"
#include "kith_util.h"
#include "pair.h"

#define MAXCLIENTS 64
#define MAXQUEUED ((size_t)64 << 20)
#define MAXAPPEND 10000
#define READMAX 1000
#define READ_SCANMAX 20000		/* records looked at per read */
#define READ_BYTESMAX ((size_t)16 << 20)	/* per page, past one record */

enum { EV_RECORD = 1, EV_PEER = 2, EV_DEVICE = 4, EV_CONTACT = 8,
    EV_BACKUP = 16, EV_ALL = 31 };

struct client {
	struct client *next;
	struct ctl *ctl;
	uv_pipe_t pipe;
	char *buf;
	size_t len, cap, scanned;
	size_t wq;
	unsigned subs;
	int dead;
};

struct ctl {
	struct agent *ag;
	int stopped;
	uv_pipe_t srv;
	struct client *clients;
	size_t nclients;
};

struct cwreq {
	uv_write_t req;
	struct client *c;
	size_t len;
	char *b;
};

static void client_close(struct client *c);

static unsigned
ev_bit(const char *kind)
{

	if (strcmp(kind, "record") == 0)
		return (EV_RECORD);
	if (strcmp(kind, "peer") == 0)
		return (EV_PEER);
	if (strcmp(kind, "device") == 0)
		return (EV_DEVICE);
	if (strcmp(kind, "contact") == 0)
		return (EV_CONTACT);
	if (strcmp(kind, "backup") == 0)
		return (EV_BACKUP);
	return (0);
}

int
ctl_wants(const struct agent *ag, const char *kind)
{
	struct client *c;
	unsigned b = ev_bit(kind);

	if (ag->ctl == NULL || ag->ctl->stopped)
		return (0);
	for (c = ag->ctl->clients; c != NULL; c = c->next)
		if (!c->dead && (c->subs & b))
			return (1);
	return (0);
}

static void
on_cwritten(uv_write_t *req, int status)
{
	struct cwreq *w = (struct cwreq *)req;

	w->c->wq -= w->len;
	free(w->b);
	free(w);
	(void)status;
}

/* Queue ${line} (malloc'd, ends with '\n'); takes it. */
static void
send_line(struct client *c, char *line, size_t len)
{
	struct cwreq *w;
	uv_buf_t b;

	if (c->dead || (w = malloc(sizeof(*w))) == NULL) {
		free(line);
		return;
	}
	if (c->wq > MAXQUEUED) {
		ag_log("a client reads too slowly (%zu bytes queued):"
		    " disconnecting it", c->wq);
		free(line);
		free(w);
		client_close(c);
		return;
	}
	w->c = c;
	w->b = line;
	w->len = len;
	b = uv_buf_init(line, (unsigned)len);
	if (uv_write(&w->req, (uv_stream_t *)&c->pipe, &b, 1,
	    on_cwritten) != 0) {
		free(line);
		free(w);
		client_close(c);
		return;
	}
	c->wq += len;
}

static char *
dump_line(json_t *o, size_t *len)
{
	char *s, *t;
	size_t n;

	if ((s = json_dumps(o, JSON_COMPACT)) == NULL)
		return (NULL);
	n = strlen(s);
	if ((t = realloc(s, n + 2)) == NULL) {
		free(s);
		return (NULL);
	}
	t[n] = '\n';
	t[n + 1] = '\0';
	*len = n + 1;
	return (t);
}

static void
send_json(struct client *c, json_t *o)
{
	size_t len;
	char *line;

	if ((line = dump_line(o, &len)) != NULL)
		send_line(c, line, len);
	json_decref(o);
}

void
ctl_publish(struct agent *ag, const char *kind, json_t *ev)
{
	struct client *c, *next;
	unsigned b = ev_bit(kind);
	char *line, *cp;
	size_t len;

	if (ev == NULL)
		return;
	if (ag->ctl == NULL || !ctl_wants(ag, kind)) {
		json_decref(ev);
		return;
	}
	json_object_set_new(ev, "event", json_string(kind));
	line = dump_line(ev, &len);
	json_decref(ev);
	if (line == NULL)
		return;
	for (c = ag->ctl->clients; c != NULL; c = next) {
		next = c->next;
		if (c->dead || !(c->subs & b))
			continue;
		if ((cp = malloc(len)) == NULL)
			continue;
		memcpy(cp, line, len);
		send_line(c, cp, len);
	}
	free(line);
}

static void
reply_err(struct client *c, json_t *id, const char *code, const char *msg)
{
	json_t *o;

	o = json_pack("{s:b, s:{s:s, s:s}}", "ok", 0, "error", "code", code,
	    "message", msg);
	if (id != NULL)
		json_object_set(o, "id", id);
	send_json(c, o);
}

static const char *
err_code(int rc)
{

	switch (rc) {
	case KITH_EFORMAT:
		return ("bad_record");
	case KITH_ETOOBIG:
		return ("too_big");
	case KITH_ENOACCOUNT:
		return ("no_account");
	case KITH_ENOENT:
		return ("no_keys");
	case KITH_EPERM:
		return ("reserved");
	default:
		return ("internal");
	}
}

static int
op_append(struct agent *ag, json_t *req, json_t *resp, const char **code,
    const char **msg)
{
	static const char *const forms[] = { "record", "records", "text",
	    "texts" };
	json_t *v = NULL, *arr, *r;
	size_t i, nf = 0, k = 0;
	int rc;

	for (i = 0; i < 4; i++)
		if (json_object_get(req, forms[i]) != NULL) {
			v = json_object_get(req, forms[i]);
			k = i;
			nf++;
		}
	*code = "bad_request";
	*msg = "append takes one of \"record\" (an object), \"text\" (a"
	    " record's JSON text), or \"records\" / \"texts\" (arrays of 1 to"
	    " 10000 of them)";
	if (nf != 1)
		return (-1);
	if (k == 0 || k == 2) {
		arr = json_array();
		json_array_append(arr, v);
	} else if (!json_is_array(v) || json_array_size(v) == 0 ||
	    json_array_size(v) > MAXAPPEND)
		return (-1);
	else
		arr = json_incref(v);
	json_array_foreach(arr, i, r)
		if (k < 2 ? !json_is_object(r) : !json_is_string(r)) {
			json_decref(arr);
			*code = "bad_record";
			*msg = k < 2 ? "a record is a JSON object with string"
			    " members \"service\" and \"id\"" : "\"text\" and"
			    " \"texts\" hold strings";
			return (-1);
		}
	rc = ag_append(ag, arr, k == 0 || k == 2, resp);
	json_decref(arr);
	if (rc != 0) {
		*code = err_code(rc);
		*msg = rc == KITH_EFORMAT ? "a record is a JSON object with"
		    " non-empty string members \"service\" and \"id\"" :
		    rc == KITH_ETOOBIG ? "a record is at most 16 MiB" :
		    rc == KITH_EPERM ? "services named \"kith:...\" are"
		    " kith's own (contacts, invitations)" :
		    rc == KITH_ENOENT ? "this device holds no key for the"
		    " account's current history epoch (it was revoked, or"
		    " must sync with another device first)" :
		    kith_strerror(rc);
		return (-1);
	}
	return (0);
}

struct reader {
	struct agent *ag;
	const char *service;
	json_int_t since, until;
	int ranged;
	size_t limit;
	json_t *out;
	uint8_t last_origin[32];
	uint64_t last_seq;
	size_t scanned, bytes;
};

static int
read_one(void *arg, const struct store_rec *rec)
{
	struct reader *rd = arg;
	json_t *r, *t, *svc;
	char *txt, hx[65];
	size_t len;
	int keep;

	/* A page ends at its limit, its size, or after so much scanning. */
	if (rd->scanned >= READ_SCANMAX)
		return (1);
	rd->scanned++;
	memcpy(rd->last_origin, rec->origin, 32);
	rd->last_seq = rec->seq;
	if (hist_open_rec(rd->ag->hm->h, rec, &txt, &len) != 0)
		return (0);	/* an epoch this device has no key for */
	r = json_loadb(txt, len, 0, NULL);
	sodium_memzero(txt, len);
	free(txt);
	if (r == NULL)
		return (0);
	svc = json_object_get(r, "service");
	t = json_object_get(r, "time");
	keep = rd->service == NULL || (json_is_string(svc) &&
	    strcmp(json_string_value(svc), rd->service) == 0);
	if (keep && rd->ranged)
		keep = json_is_integer(t) &&
		    json_integer_value(t) >= rd->since &&
		    json_integer_value(t) <= rd->until;
	if (!keep) {
		json_decref(r);
		return (0);
	}
	json_array_append_new(rd->out, json_pack("{s:s, s:I, s:o}", "origin",
	    ag_hex(rec->origin, 32, hx), "seq", (json_int_t)rec->seq,
	    "record", r));
	rd->bytes += len;
	return (json_array_size(rd->out) >= rd->limit ||
	    rd->bytes >= READ_BYTESMAX ? 1 : 0);
}

static int
parse_cursor(const char *s, uint8_t origin[32], uint64_t *seq)
{
	size_t bl;
	char *end;

	if (strlen(s) < 66 || s[64] != ':' ||
	    sodium_hex2bin(origin, 32, s, 64, NULL, &bl, NULL) != 0 ||
	    bl != 32)
		return (-1);
	errno = 0;
	*seq = strtoull(s + 65, &end, 10);
	return (*end != '\0' || errno != 0 ? -1 : 0);
}

static int
op_read(struct agent *ag, json_t *req, json_t *resp, const char **code,
    const char **msg)
{
	json_t *svc = json_object_get(req, "service");
	json_t *since = json_object_get(req, "since");
	json_t *until = json_object_get(req, "until");
	json_t *lim = json_object_get(req, "limit");
	json_t *cur = json_object_get(req, "cursor");
	struct store_vv *have = NULL;
	struct reader rd;
	uint8_t co[32];
	uint64_t cs = 0;
	char c[96], hx[65];
	size_t i;
	int rc, cmp;

	*code = "bad_request";
	if ((svc != NULL && !json_is_string(svc)) ||
	    (since != NULL && !json_is_integer(since)) ||
	    (until != NULL && !json_is_integer(until)) ||
	    (lim != NULL && (!json_is_integer(lim) ||
	    json_integer_value(lim) < 1 ||
	    json_integer_value(lim) > READMAX)) ||
	    (cur != NULL && !json_is_null(cur) && (!json_is_string(cur) ||
	    parse_cursor(json_string_value(cur), co, &cs) != 0))) {
		*msg = "read takes \"service\" (string), \"since\" and"
		    " \"until\" (integers, ms), \"limit\" (1 to 1000) and"
		    " \"cursor\" (from a previous page)";
		return (-1);
	}
	if (ag->hm->h == NULL) {
		*code = "no_account";
		*msg = kith_strerror(KITH_ENOACCOUNT);
		return (-1);
	}
	memset(&rd, 0, sizeof(rd));
	rd.ag = ag;
	rd.service = svc != NULL ? json_string_value(svc) : NULL;
	rd.ranged = since != NULL || until != NULL;
	rd.since = since != NULL ? json_integer_value(since) : INT64_MIN;
	rd.until = until != NULL ? json_integer_value(until) : INT64_MAX;
	rd.limit = lim != NULL ? (size_t)json_integer_value(lim) : 100;
	rd.out = json_array();
	if (cur != NULL && json_is_string(cur)) {
		/* Resume after (co, cs): origins sort by their bytes. */
		if ((rc = store_vv_get(ag->hm->st, &have)) != 0)
			goto fail;
		for (i = 0; i < have->n; i++) {
			cmp = memcmp(have->e[i].origin, co, 32); /* not secret */
			have->e[i].seq = cmp < 0 ? UINT64_MAX : cmp == 0 ? cs :
			    0;
		}
	}
	rc = store_scan(ag->hm->st, have, STORE_UNIQUE, read_one, &rd);
	free(have);
	if (rc != 0 && rc != 1)
		goto fail;
	json_object_set_new(resp, "records", rd.out);
	if (rc == 1) {
		snprintf(c, sizeof(c), "%s:%llu", ag_hex(rd.last_origin, 32, hx),
		    (unsigned long long)rd.last_seq);
		json_object_set_new(resp, "cursor", json_string(c));
	} else
		json_object_set_new(resp, "cursor", json_null());
	return (0);
fail:
	json_decref(rd.out);
	*code = "internal";
	*msg = kith_strerror(rc);
	return (-1);
}

static json_t *
devices_json(struct agent *ag)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; ag->hm->roster != NULL && i < ag->hm->roster->ndev; i++)
		json_array_append_new(a, ag_dev_json(ag,
		    &ag->hm->roster->dev[i]));
	return (a);
}

static int
op_status(struct agent *ag, json_t *resp)
{
	const struct roster_dev *self = home_self(ag->hm);
	uint64_t n = ag->nrec, bytes = ag->nbytes;
	char fp[15], hx[65];

	pair_fingerprint(ag->hm->dk->sign_pk, fp);
	json_object_set_new(resp, "device", json_pack("{s:s, s:s, s:s, s:s}",
	    "id", ag_hex(ag->hm->dk->sign_pk, 32, hx), "name", ag->hm->name,
	    "fingerprint", fp, "status", self == NULL ? "not enrolled" :
	    self->status == ROSTER_ACTIVE ? "active" : "revoked"));
	json_object_set_new(resp, "account", ag->hm->has_account ?
	    json_string(ag_hex(ag->hm->account_pk, 8, hx)) : json_null());
	json_object_set_new(resp, "roster_version", json_integer(
	    ag->hm->roster != NULL ? (json_int_t)ag->hm->roster->version : 0));
	json_object_set_new(resp, "records", json_integer((json_int_t)n));
	json_object_set_new(resp, "bytes", json_integer((json_int_t)bytes));
	json_object_set_new(resp, "peers", sess_peers_json(ag));
	json_object_set_new(resp, "socket", json_string(ag->sockpath));
	json_object_set_new(resp, "port", json_integer(ag->port));
	json_object_set_new(resp, "refused", sess_refused_json(ag));
	json_object_set_new(resp, "mdns", json_boolean(ag->ann != NULL &&
	    ag->br != NULL));
	json_object_set_new(resp, "pid", json_integer((json_int_t)getpid()));
	json_object_set_new(resp, "locked",
	    json_boolean(ag->hm->dk->locked));
	json_object_set_new(resp, "backups", bk_status_json(ag));
	return (0);
}

/* The passphrase opens this device; the lock key then serves kith. */
static int
op_unlock(struct agent *ag, json_t *req, json_t *resp, const char **code,
    const char **msg)
{
	json_t *p = json_object_get(req, "passphrase");
	int rc;

	if (!json_is_string(p) || json_string_length(p) == 0) {
		*msg = "\"passphrase\" is the account passphrase, a string";
		return (-1);
	}
	rc = ag_unlock(ag, (const uint8_t *)json_string_value(p),
	    json_string_length(p));
	switch (rc) {
	case 0:
		json_object_set_new(resp, "locked", json_false());
		return (0);
	case KITH_EBADPASS:
		*code = "bad_passphrase";
		*msg = "wrong passphrase";
		break;
	case KITH_ESTALE:
		*code = "bad_passphrase";
		*msg = "that passphrase was changed on another device: use the"
		    " new one";
		break;
	case KITH_ENOACCOUNT:
		*code = "no_account";
		*msg = "this device belongs to no account yet";
		break;
	default:
		*code = "internal";
		*msg = kith_strerror(rc);
	}
	return (-1);
}

static int
op_lockkey(struct agent *ag, json_t *resp, const char **code,
    const char **msg)
{
	char hx[65];

	if (ag->lock == NULL) {
		*code = ag->hm->dk->locked ? "locked" : "no_key";
		*msg = ag->hm->dk->locked ? "this device is locked" :
		    "unlock once with the passphrase first";
		return (-1);
	}
	json_object_set_new(resp, "key", json_string(ag_hex(ag->lock,
	    DEVKEY_LOCKLEN, hx)));
	sodium_memzero(hx, sizeof(hx));
	return (0);
}

static int
op_subscribe(struct client *c, json_t *req, json_t *resp, const char **msg)
{
	json_t *evs = json_object_get(req, "events"), *e, *out;
	unsigned subs = 0, b;
	size_t i;

	if (evs == NULL)
		subs = EV_ALL;
	else if (!json_is_array(evs)) {
		*msg = "\"events\" is a list of \"record\", \"peer\","
		    " \"device\", \"contact\", \"backup\"";
		return (-1);
	}
	json_array_foreach(evs, i, e) {
		if (!json_is_string(e) ||
		    (b = ev_bit(json_string_value(e))) == 0) {
			*msg = "\"events\" is a list of \"record\", \"peer\","
			    " \"device\"";
			return (-1);
		}
		subs |= b;
	}
	c->subs |= subs;
	out = json_array();
	if (c->subs & EV_RECORD)
		json_array_append_new(out, json_string("record"));
	if (c->subs & EV_PEER)
		json_array_append_new(out, json_string("peer"));
	if (c->subs & EV_DEVICE)
		json_array_append_new(out, json_string("device"));
	if (c->subs & EV_CONTACT)
		json_array_append_new(out, json_string("contact"));
	if (c->subs & EV_BACKUP)
		json_array_append_new(out, json_string("backup"));
	json_object_set_new(resp, "events", out);
	return (0);
}

static void
handle(struct client *c, const char *line, size_t len)
{
	struct agent *ag = c->ctl->ag;
	json_t *req, *id, *op, *resp;
	const char *o, *code = "bad_request", *msg = "";
	int rc = 0;

	if ((req = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL)) ==
	    NULL || !json_is_object(req)) {
		json_decref(req);
		reply_err(c, NULL, "bad_request", "a request is one JSON"
		    " object on one line");
		return;
	}
	id = json_object_get(req, "id");
	op = json_object_get(req, "op");
	if (!json_is_string(op)) {
		reply_err(c, id, "bad_request", "a request needs \"op\"");
		json_decref(req);
		return;
	}
	o = json_string_value(op);
	resp = json_object();
	if (ag->hm->dk->locked && strcmp(o, "status") != 0 &&
	    strcmp(o, "count") != 0 && strcmp(o, "unlock") != 0 &&
	    strcmp(o, "subscribe") != 0) {
		code = "locked";
		msg = "this device is locked: unlock it first ('kith unlock',"
		    " or the \"unlock\" op)";
		rc = -1;
	} else if (strcmp(o, "unlock") == 0)
		rc = op_unlock(ag, req, resp, &code, &msg);
	else if (strcmp(o, "lockkey") == 0)
		rc = op_lockkey(ag, resp, &code, &msg);
	else if (strcmp(o, "status") == 0)
		rc = op_status(ag, resp);
	else if (strcmp(o, "append") == 0)
		rc = op_append(ag, req, resp, &code, &msg);
	else if (strcmp(o, "read") == 0)
		rc = op_read(ag, req, resp, &code, &msg);
	else if (strcmp(o, "count") == 0) {
		json_object_set_new(resp, "records",
		    json_integer((json_int_t)ag->nrec));
		json_object_set_new(resp, "bytes",
		    json_integer((json_int_t)ag->nbytes));
	} else if (strcmp(o, "devices") == 0) {
		json_object_set_new(resp, "version", json_integer(
		    ag->hm->roster != NULL ?
		    (json_int_t)ag->hm->roster->version : 0));
		json_object_set_new(resp, "devices", devices_json(ag));
	} else if (strcmp(o, "peers") == 0)
		json_object_set_new(resp, "peers", sess_peers_json(ag));
	else if (strcmp(o, "subscribe") == 0)
		rc = op_subscribe(c, req, resp, &msg);
	else if (strcmp(o, "rescan") == 0) {
		ag_check_disk(ag);
		disc_invites(ag);
		bk_poke(ag);
	} else if (strcmp(o, "backup") == 0)
		bk_poke(ag);
	else if (strcmp(o, "seal") == 0)
		rc = ctl_op_seal(ag, req, resp, &code, &msg);
	else if (strcmp(o, "open") == 0)
		rc = ctl_op_open(ag, req, resp, &code, &msg);
	else {
		code = "unknown_op";
		msg = "unknown op: see docs/API.md";
		rc = -1;
	}
	if (rc != 0) {
		json_decref(resp);
		reply_err(c, id, code, msg);
	} else {
		json_object_set_new(resp, "ok", json_true());
		if (id != NULL)
			json_object_set(resp, "id", id);
		send_json(c, resp);
	}
	json_decref(req);
}

static void
on_calloc(uv_handle_t *h, size_t want, uv_buf_t *buf)
{
	struct client *c = h->data;
	size_t ncap;
	char *nb;

	(void)want;
	if (c->cap - c->len < 65536) {
		ncap = c->cap == 0 ? 131072 : c->cap * 2;
		if ((nb = realloc(c->buf, ncap)) == NULL) {
			*buf = uv_buf_init(NULL, 0);
			return;
		}
		c->buf = nb;
		c->cap = ncap;
	}
	*buf = uv_buf_init(c->buf + c->len, (unsigned)(c->cap - c->len));
}

static void
on_cread(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
	struct client *c = st->data;
	char *nl;
	size_t off = 0, used;

	(void)buf;
	if (nread == 0 || c->dead)
		return;
	if (nread < 0) {
		client_close(c);
		return;
	}
	c->len += (size_t)nread;
	while (!c->dead && (nl = memchr(c->buf + c->scanned, '\n',
	    c->len - c->scanned)) != NULL) {
		used = (size_t)(nl - (c->buf + off));
		if (used > 0) {
			handle(c, c->buf + off, used);
			/* A line may hold a passphrase or a record. */
			sodium_memzero(c->buf + off, used);
		}
		off += used + 1;
		c->scanned = off;
	}
	if (c->dead)
		return;
	memmove(c->buf, c->buf + off, c->len - off);
	c->len -= off;
	c->scanned = c->len;
	if (c->len > CTL_MAXLINE) {
		reply_err(c, NULL, "too_big", "a request line is at most 32"
		    " MiB");
		client_close(c);
	}
}

static void
on_cclosed(uv_handle_t *h)
{
	struct client *c = h->data;
	struct client **pp;

	for (pp = &c->ctl->clients; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	c->ctl->nclients--;
	free(c->buf);
	free(c);
}

static void
client_close(struct client *c)
{

	if (c->dead)
		return;
	c->dead = 1;
	uv_close((uv_handle_t *)&c->pipe, on_cclosed);
}

static void
on_client(uv_stream_t *srv, int status)
{
	struct ctl *ctl = srv->data;
	struct client *c;

	if (status < 0 || (c = calloc(1, sizeof(*c))) == NULL)
		return;
	c->ctl = ctl;
	uv_pipe_init(ctl->ag->loop, &c->pipe, 0);
	c->pipe.data = c;
	c->next = ctl->clients;
	ctl->clients = c;
	ctl->nclients++;
	if (uv_accept(srv, (uv_stream_t *)&c->pipe) != 0) {
		client_close(c);
		return;
	}
	if (ctl->nclients > MAXCLIENTS) {
		reply_err(c, NULL, "busy", "too many clients");
		client_close(c);
		return;
	}
	uv_read_start((uv_stream_t *)&c->pipe, on_calloc, on_cread);
}

int
ctl_start(struct agent *ag)
{
	struct ctl *ctl;
	mode_t old;
	int r;

	if ((ctl = calloc(1, sizeof(*ctl))) == NULL)
		return (KITH_ENOMEM);
	ctl->ag = ag;
	uv_pipe_init(ag->loop, &ctl->srv, 0);
	ctl->srv.data = ctl;
	/* Ours is the only agent of this home (the lock): a file left
	 * there is a dead agent's. */
	(void)unlink(ag->sockpath);
	old = umask(077);
	r = uv_pipe_bind(&ctl->srv, ag->sockpath);
	umask(old);
	if (r == 0)
		(void)chmod(ag->sockpath, 0600);
	if (r != 0 || (r = uv_listen((uv_stream_t *)&ctl->srv, 16,
	    on_client)) != 0) {
		ag_log("cannot open the control socket %s: %s", ag->sockpath,
		    uv_strerror(r));
		uv_close((uv_handle_t *)&ctl->srv, NULL);
		free(ctl);
		return (KITH_EIO);
	}
	ag->ctl = ctl;
	ag_log("control socket %s", ag->sockpath);
	return (0);
}

void
ctl_stop(struct agent *ag)
{
	struct ctl *ctl = ag->ctl;
	struct client *c;

	if (ctl == NULL || ctl->stopped)
		return;
	ctl->stopped = 1;
	for (c = ctl->clients; c != NULL; c = c->next)
		client_close(c);
	(void)unlink(ag->sockpath);
	uv_close((uv_handle_t *)&ctl->srv, NULL);
}

/* After the loop has run out: every client is closed and freed. */
void
ctl_free(struct agent *ag)
{

	free(ag->ctl);
	ag->ctl = NULL;
}
