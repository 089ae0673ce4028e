/* kith status, kith devices: what this home holds. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bkhome.h"
#include "cli.h"
#include "ctlsock.h"
#include "kith_err.h"
#include "kith_util.h"
#include "pair.h"

/* Who a device is, by its key: its name on the roster. */
static const char *
by_name(const struct roster *r, const uint8_t pk[32])
{
	const struct roster_dev *d = roster_find_sign(r, pk);

	return (d != NULL ? d->name : "a device not on the roster");
}

static json_t *
dev_json(const struct roster *r, const uint8_t *self,
    const struct roster_dev *d)
{
	char fp[15];
	json_t *o;

	pair_fingerprint(d->sign_pk, fp);
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "name", d->name,
	    "id", cli_hex(d->sign_pk, 32), "fingerprint", fp,
	    "status", d->status == ROSTER_ACTIVE ? "active" : "revoked",
	    "added", cli_when(d->added), "this", self != NULL &&
	    memcmp(d->sign_pk, self, 32) == 0); /* not secret */
	json_object_set_new(o, "added_by", json_string(cli_hex(d->added_by,
	    32)));
	json_object_set_new(o, "added_by_name", json_string(by_name(r,
	    d->added_by)));
	if (d->status == ROSTER_REVOKED) {
		json_object_set_new(o, "revoked",
		    json_string(cli_when(d->revoked)));
		json_object_set_new(o, "revoked_by",
		    json_string(cli_hex(d->revoked_by, 32)));
		json_object_set_new(o, "revoked_by_name",
		    json_string(by_name(r, d->revoked_by)));
	}
	return (o);
}

json_t *
cli_roster_json(const struct roster *r, const uint8_t *self)
{
	json_t *arr = json_array(), *o;
	size_t i;

	for (i = 0; i < r->ndev; i++)
		json_array_append_new(arr, dev_json(r, self, &r->dev[i]));
	o = json_pack("{s:b, s:I, s:s, s:I, s:b, s:o}", "ok", 1,
	    "roster_version", (json_int_t)r->version, "roster_hash",
	    cli_hex(r->hash, 32), "epoch", (json_int_t)r->epoch, "reset",
	    (r->flags & ROSTER_F_RESET) != 0, "devices", arr);
	/* cli_hex has one buffer: one call per statement. */
	json_object_set_new(o, "account", json_string(cli_hex(r->account_pk,
	    32)));
	return (o);
}

void
cli_roster_print(const struct roster *r, const uint8_t *self)
{
	char fp[15];
	size_t i;

	printf("Roster version %llu, signed by the account key %s;"
	    " history epoch %u.\n", (unsigned long long)r->version,
	    cli_hex(r->account_pk, 8), (unsigned)r->epoch);
	if (r->flags & ROSTER_F_RESET)
		printf("Made by a recovery: any device not listed is"
		    " revoked.\n");
	for (i = 0; i < r->ndev; i++) {
		const struct roster_dev *d = &r->dev[i];

		pair_fingerprint(d->sign_pk, fp);
		printf("  %c %-20s %s  %-7s added %s by %s",
		    self != NULL && !memcmp(d->sign_pk, self, 32) /* not secret */ ?
		    '*' : ' ', d->name, fp, d->status == ROSTER_ACTIVE ?
		    "active" : "revoked", cli_when(d->added),
		    !memcmp(d->added_by, d->sign_pk, 32) ? /* not secret */
		    "itself (first device)" : by_name(r, d->added_by));
		if (d->status == ROSTER_REVOKED)
			printf("; revoked %s by %s", cli_when(d->revoked),
			    by_name(r, d->revoked_by));
		printf("\n");
	}
}

int
cmd_devices(int argc, char **argv)
{
	struct home *hm;
	const char *export = NULL;
	int i, rc;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0) {
			printf("usage: kith devices [--export FILE]\n"
			    "List the devices of the signed roster, active and"
			    " revoked.\nWith --export, write the signed roster"
			    " to FILE (docs/PROTOCOL.md 4.1), for a\nmessaging"
			    " service to check with 'kith roster verify' or"
			    " roster_verify().\n");
			return (0);
		} else if (strcmp(argv[i], "--export") == 0 && i + 1 < argc)
			export = argv[++i];
		else
			return (cli_fail(KITH_EINVAL, "devices: unexpected"
			    " '%s'; usage: kith devices [--export FILE]",
			    argv[i]));
	}
	if (cli_open(CLI_LOCKED, &hm) != 0)
		return (1);
	if (hm->roster == NULL) {
		home_close(hm);
		return (cli_fail(KITH_ENOACCOUNT, "this device belongs to no"
		    " account yet: run 'kith init' or 'kith join'"));
	}
	if (export != NULL) {
		/* Public: names and public keys, no seal, no secret. */
		rc = kith_file_write(export, hm->roster->blob,
		    hm->roster->bloblen, 0644);
		if (rc != 0) {
			home_close(hm);
			return (cli_fail(rc, "cannot write %s", export));
		}
		if (cli.json)
			cli_json_out(json_pack("{s:b, s:s, s:I, s:I}", "ok", 1,
			    "file", export, "roster_version",
			    (json_int_t)hm->roster->version, "bytes",
			    (json_int_t)hm->roster->bloblen));
		else
			printf("Wrote roster version %llu (%zu bytes) to %s.\n",
			    (unsigned long long)hm->roster->version,
			    hm->roster->bloblen, export);
	} else if (cli.json)
		cli_json_out(cli_roster_json(hm->roster, hm->dk->sign_pk));
	else
		cli_roster_print(hm->roster, hm->dk->sign_pk);
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
	json_object_set(o, "locked", json_object_get(resp, "locked"));
	json_object_set(o, "backups", json_object_get(resp, "backups"));
	/* Connections refused before their peer was known, by reason. */
	if (json_object_get(resp, "refused") != NULL)
		json_object_set(o, "refused", json_object_get(resp,
		    "refused"));
	json_decref(resp);
	return (o);
}

/* The last backup to each known target, as kept in meta. */
static void
backups_print(struct home *hm)
{
	json_t *a = bk_results_json(hm), *o;
	size_t i;

	json_array_foreach(a, i, o) {
		const char *path = json_string_value(json_object_get(o,
		    "path"));

		if (json_object_get(o, "ok") == NULL)
			printf("backup:   %s: none yet (backed up when"
			    " mounted)\n", path);
		else if (json_is_true(json_object_get(o, "ok")))
			printf("backup:   %s: backup %lld at %s, %lld"
			    " records\n", path, (long long)json_integer_value(
			    json_object_get(o, "number")), cli_when((uint64_t)
			    json_integer_value(json_object_get(o, "time"))),
			    (long long)json_integer_value(json_object_get(o,
			    "total")));
		else
			printf("backup:   %s: FAILED at %s: %s\n", path,
			    cli_when((uint64_t)json_integer_value(
			    json_object_get(o, "time"))), json_string_value(
			    json_object_get(o, "error")));
	}
	json_decref(a);
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
	if (argc > 1)
		return (cli_usage("status: unexpected '%s'; usage: kith status",
		    argv[1]));
	if (cli_open(CLI_LOCKED, &hm) != 0)
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
		json_object_set_new(o, "locked", json_boolean(hm->dk->locked &&
		    !json_is_false(json_object_get(agent, "locked"))));
		json_object_set_new(o, "backups", bk_results_json(hm));
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
		if (json_is_true(json_object_get(agent, "locked")))
			printf("locked:   the agent waits for 'kith unlock'"
			    " before it syncs\n");
		backups_print(hm);
		json_decref(agent);
	}
	home_close(hm);
	return (0);
}
