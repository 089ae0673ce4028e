/* kith status, kith devices: what this home holds. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "ctlsock.h"
#include "kith_err.h"
#include "pair.h"

static const char *
when(uint64_t t)
{
	static char buf[32];
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0)
		return ("-");
	gmtime_r(&tt, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return (buf);
}

/* Who a device is, by its key: its name on the roster. */
static const char *
by_name(const struct home *hm, const uint8_t pk[32])
{
	const struct roster_dev *d = roster_find_sign(hm->roster, pk);

	return (d != NULL ? d->name : "a device not on the roster");
}

static json_t *
dev_json(const struct home *hm, const struct roster_dev *d)
{
	char fp[15];
	json_t *o;

	pair_fingerprint(d->sign_pk, fp);
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "name", d->name,
	    "id", cli_hex(d->sign_pk, 32), "fingerprint", fp,
	    "status", d->status == ROSTER_ACTIVE ? "active" : "revoked",
	    "added", when(d->added), "this",
	    memcmp(d->sign_pk, hm->dk->sign_pk, 32) == 0); /* not secret */
	json_object_set_new(o, "added_by", json_string(cli_hex(d->added_by,
	    32)));
	json_object_set_new(o, "added_by_name", json_string(by_name(hm,
	    d->added_by)));
	if (d->status == ROSTER_REVOKED)
		json_object_set_new(o, "revoked", json_string(when(d->revoked)));
	return (o);
}

int
cmd_devices(int argc, char **argv)
{
	struct home *hm;
	json_t *arr;
	size_t i;
	char fp[15];

	if (argc > 1 && strcmp(argv[1], "--help") == 0) {
		printf("usage: kith devices\nList the devices of the signed"
		    " roster, active and revoked.\n");
		return (0);
	}
	if (argc > 1)
		return (cli_fail(KITH_EINVAL, "devices: unexpected '%s'",
		    argv[1]));
	if (cli_open(0, &hm) != 0)
		return (1);
	if (hm->roster == NULL) {
		home_close(hm);
		return (cli_fail(KITH_ENOACCOUNT, "this device belongs to no"
		    " account yet: run 'kith init' or 'kith join'"));
	}
	if (cli.json) {
		arr = json_array();
		for (i = 0; i < hm->roster->ndev; i++)
			json_array_append_new(arr, dev_json(hm,
			    &hm->roster->dev[i]));
		cli_json_out(json_pack("{s:b, s:I, s:s, s:o}", "ok", 1,
		    "roster_version", (json_int_t)hm->roster->version,
		    "roster_hash", cli_hex(hm->roster->hash, 32),
		    "devices", arr));
	} else {
		printf("Roster version %llu, signed by the account key.\n",
		    (unsigned long long)hm->roster->version);
		for (i = 0; i < hm->roster->ndev; i++) {
			const struct roster_dev *d = &hm->roster->dev[i];

			pair_fingerprint(d->sign_pk, fp);
			printf("  %c %-20s %s  %-7s added %s by %s%s%s\n",
			    memcmp(d->sign_pk, hm->dk->sign_pk, 32) /* not secret */ ? ' ' :
			    '*', d->name, fp, d->status == ROSTER_ACTIVE ?
			    "active" : "revoked", when(d->added),
			    memcmp(d->added_by, d->sign_pk, 32) == 0 ? /* not secret */
			    "itself (first device)" : by_name(hm, d->added_by),
			    d->status == ROSTER_REVOKED ? ", revoked " : "",
			    d->status == ROSTER_REVOKED ? when(d->revoked) :
			    "");
		}
	}
	home_close(hm);
	return (0);
}

/* What the running agent says, or {"running": false, "socket": …}. */
static json_t *
agent_status(const struct home *hm)
{
	char path[PATH_MAX];
	ctl_client *c;
	json_t *resp = NULL, *o;

	if (ctl_socket_path(hm->dir, 0, path, sizeof(path)) != 0)
		path[0] = '\0';
	if ((c = cli_agent(hm)) == NULL ||
	    ctl_call(c, json_pack("{s:s}", "op", "status"), &resp) != 0 ||
	    !json_is_true(json_object_get(resp, "ok"))) {
		ctl_close(c);
		json_decref(resp);
		return (json_pack("{s:b, s:s}", "running", 0, "socket", path));
	}
	ctl_close(c);
	o = json_pack("{s:b, s:s, s:O, s:O, s:O}", "running", 1, "socket",
	    path, "pid", json_object_get(resp, "pid"), "port",
	    json_object_get(resp, "port"), "peers",
	    json_object_get(resp, "peers"));
	json_object_set(o, "mdns", json_object_get(resp, "mdns"));
	json_decref(resp);
	return (o);
}

int
cmd_status(int argc, char **argv)
{
	struct home *hm;
	uint64_t n = 0, bytes = 0;
	size_t active = 0, i;
	json_t *agent, *p;
	char fp[15];
	int rc;

	if (argc > 1 && strcmp(argv[1], "--help") == 0) {
		printf("usage: kith status\nShow the account, this device, the"
		    " history held, and the agent\n(kithd) with the devices it"
		    " is syncing with.\n");
		return (0);
	}
	if (cli_open(0, &hm) != 0)
		return (1);
	agent = agent_status(hm);
	if ((rc = store_count(hm->st, NULL, STORE_UNIQUE, &n, &bytes)) != 0) {
		json_decref(agent);
		home_close(hm);
		return (cli_fail(rc, "cannot read the store: %s",
		    kith_strerror(rc)));
	}
	pair_fingerprint(hm->dk->sign_pk, fp);
	if (hm->roster != NULL)
		for (i = 0; i < hm->roster->ndev; i++)
			active += hm->roster->dev[i].status == ROSTER_ACTIVE;
	if (cli.json) {
		json_t *o = json_pack("{s:b, s:s, s:s, s:s, s:b, s:I, s:I}",
		    "ok", 1, "home", cli.home, "device", hm->name,
		    "fingerprint", fp, "enrolled", home_self(hm) != NULL,
		    "records", (json_int_t)n, "record_bytes",
		    (json_int_t)bytes);

		if (hm->has_account)
			json_object_set_new(o, "account",
			    json_string(cli_hex(hm->account_pk, 8)));
		if (hm->roster != NULL) {
			json_object_set_new(o, "roster_version",
			    json_integer((json_int_t)hm->roster->version));
			json_object_set_new(o, "active_devices",
			    json_integer((json_int_t)active));
		}
		if (hm->h != NULL)
			json_object_set_new(o, "epoch",
			    json_integer(hist_epoch(hm->h)));
		json_object_set_new(o, "agent", agent);
		cli_json_out(o);
	} else {
		printf("home:     %s\n", cli.home);
		printf("device:   %s (%s)%s\n", hm->name[0] ? hm->name : "-",
		    fp, home_self(hm) ? "" : ", not enrolled");
		if (hm->has_account)
			printf("account:  %s\n", cli_hex(hm->account_pk, 8));
		if (hm->roster != NULL)
			printf("roster:   version %llu, %zu active device(s)\n",
			    (unsigned long long)hm->roster->version, active);
		printf("history:  %llu records, %.1f MB encrypted\n",
		    (unsigned long long)n, (double)bytes / 1e6);
		if (!json_is_true(json_object_get(agent, "running")))
			printf("agent:    not running (start it with 'kithd',"
			    " or the kithd user service)\n");
		else {
			printf("agent:    running, pid %lld, %s\n",
			    (long long)json_integer_value(json_object_get(
			    agent, "pid")), json_string_value(
			    json_object_get(agent, "socket")));
			if (json_array_size(json_object_get(agent,
			    "peers")) == 0)
				printf("peers:    none in view\n");
			json_array_foreach(json_object_get(agent, "peers"), i,
			    p)
				printf("peer:     %s at %s (%s), %lld sent,"
				    " %lld received\n",
				    json_string_value(json_object_get(p,
				    "name")), json_string_value(
				    json_object_get(p, "addr")),
				    json_string_value(json_object_get(p,
				    "state")), (long long)json_integer_value(
				    json_object_get(p, "sent")),
				    (long long)json_integer_value(
				    json_object_get(p, "received")));
		}
		json_decref(agent);
	}
	home_close(hm);
	return (0);
}
