/*
 * kith backup --init DIR | backup [--to DIR] | restore DIR
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "bkhome.h"
#include "cli.h"
#include "kith_err.h"
#include "kith_util.h"

static const char backup_usage[] =
    "usage: kith backup --init DIR   mark DIR (the root of a USB stick or\n"
    "                                SD card, say) as a backup target\n"
    "       kith backup --to DIR     back up to DIR now\n"
    "       kith backup              back up to every known target that\n"
    "                                is mounted\n"
    "A backup is encrypted to the account: only the recovery code or the\n"
    "passphrase opens it.  Each one adds only what is new since the last\n"
    "one there; the agent does this by itself whenever a target is\n"
    "mounted.  'kith restore DIR' brings it back on a new device.\n";

static void
bk_progress(void *arg, uint64_t n, uint64_t tot)
{

	cli_progress(arg, n, tot, 0, 0);
}

/* One backup to ${dir} (a known target or one given with --to). */
static int
backup_to(struct home *hm, struct bk_hold *h, const char *dir,
    json_t *out)
{
	uint8_t id[BACKUP_IDLEN];
	struct backup_state s;
	struct backup_result res;
	char abs[PATH_MAX];
	int rc;

	if (realpath(dir, abs) == NULL)
		snprintf(abs, sizeof(abs), "%s", dir);
	if ((rc = backup_probe(abs, h->bpk, id)) != 0) {
		if (rc == KITH_ENOENT)
			return (cli_fail(rc, "%s is not a kith backup target:"
			    " mark it first with 'kith backup --init %s'",
			    abs, abs));
		if (rc == KITH_EPERM)
			return (cli_fail(rc, "%s is the backup target of"
			    " another kith account; nothing was written", abs));
		return (cli_fail(rc, "%s: its kith-backup/TARGET is"
		    " damaged: %s", abs, kith_strerror(rc)));
	}
	if ((rc = bk_state_load(hm->st, id, &s)) != 0)
		return (cli_fail(rc, "cannot read the backup state: %s",
		    kith_strerror(rc)));
	rc = backup_run(&h->src, abs, &s, &res);
	cli_progress_end();
	(void)bk_target_add(hm, id, abs);
	(void)bk_result_save(hm->st, id, abs, rc, &res);
	if (rc == 0)
		rc = bk_state_save(hm->st, id, &s);
	backup_state_free(&s);
	if (rc != 0)
		return (cli_fail(rc, "backup to %s failed: %s", abs,
		    bk_error_text(rc)));
	if (out != NULL)
		json_array_append_new(out, json_pack("{s:s, s:s, s:I, s:I,"
		    " s:I, s:b, s:b}", "path", abs, "set", res.set, "number",
		    (json_int_t)res.number, "records", (json_int_t)res.records,
		    "total", (json_int_t)res.total, "full", res.full,
		    "uptodate", res.uptodate));
	else if (res.uptodate)
		printf("%s: up to date (backup %llu, %llu records)\n", abs,
		    (unsigned long long)res.number,
		    (unsigned long long)res.total);
	else
		printf("%s: backup %llu written: %llu new records (%s, %.1f"
		    " MiB); %llu in all\n", abs,
		    (unsigned long long)res.number,
		    (unsigned long long)res.records,
		    res.full ? "full" : "incremental",
		    (double)res.bytes / 1048576.0,
		    (unsigned long long)res.total);
	return (0);
}

int
cmd_backup(int argc, char **argv)
{
	struct home *hm;
	struct bk_hold h;
	struct bk_target *t = NULL;
	const char *init = NULL, *to = NULL;
	uint8_t id[BACKUP_IDLEN], bpk[32];
	char abs[PATH_MAX];
	json_t *out = NULL;
	size_t n = 0, i, done = 0;
	int rc, fails = 0;

	for (i = 1; i < (size_t)argc; i++) {
		if (strcmp(argv[i], "--help") == 0) {
			fputs(backup_usage, stdout);
			return (0);
		} else if (strcmp(argv[i], "--init") == 0 && i + 1 <
		    (size_t)argc)
			init = argv[++i];
		else if (strcmp(argv[i], "--to") == 0 && i + 1 < (size_t)argc)
			to = argv[++i];
		else
			return (cli_fail(KITH_EINVAL, "backup: unexpected '%s'"
			    "\n%s", argv[i], backup_usage));
	}
	if (init != NULL && to != NULL)
		return (cli_fail(KITH_EINVAL, "backup: --init or --to, not"
		    " both"));
	if (init != NULL) {
		/* Marking needs only the public backup key. */
		if (cli_open(CLI_LOCKED, &hm) != 0)
			return (1);
		if ((rc = home_backup_pk(hm, bpk)) != 0) {
			home_close(hm);
			return (cli_fail(rc, rc == KITH_ENOENT ? "this device"
			    " does not know the account's backup key yet: run"
			    " 'kith unlock' once" : "no account here: run"
			    " 'kith init' or 'kith join' first"));
		}
		if (realpath(init, abs) == NULL) {
			home_close(hm);
			return (cli_fail(KITH_ENOENT, "backup --init: %s: %s",
			    init, strerror(errno)));
		}
		rc = backup_init(abs, bpk, id);
		if (rc == 0 || rc == KITH_EEXIST)
			rc = bk_target_add(hm, id, abs);
		if (rc == 0)
			cli_agent_poke(hm);	/* it backs up there now */
		home_close(hm);
		if (rc == KITH_EPERM)
			return (cli_fail(rc, "%s is the backup target of"
			    " another kith account", abs));
		if (rc != 0)
			return (cli_fail(rc, "backup --init %s: %s", abs,
			    bk_error_text(rc)));
		if (cli.json)
			cli_json_out(json_pack("{s:b, s:s}", "ok", 1,
			    "target", abs));
		else
			printf("%s is a kith backup target: the agent backs up"
			    " to it whenever it is mounted\n(or run 'kith"
			    " backup --to %s').\n", abs, abs);
		return (0);
	}

	if (cli_open(CLI_CHECK, &hm) != 0)
		return (1);
	if ((rc = bk_hold_fill(hm, hm->st, &h)) != 0) {
		home_close(hm);
		return (cli_fail(rc, rc == KITH_ENOENT ? "this device does"
		    " not know the account's backup key yet: run 'kith"
		    " unlock' once" : rc == KITH_ENOACCOUNT ? "this device"
		    " is not enrolled in an account: nothing to back up" :
		    "cannot read the home: %s", kith_strerror(rc)));
	}
	if (cli.tty && !cli.json) {
		h.src.progress = bk_progress;
		h.src.arg = NULL;
	}
	if (cli.json)
		out = json_array();
	if (to != NULL) {
		fails = backup_to(hm, &h, to, out) != 0;
	} else {
		if ((rc = bk_targets(hm, &t, &n)) != 0)
			fails = cli_fail(rc, "cannot read the targets: %s",
			    kith_strerror(rc));
		for (i = 0; i < n; i++) {
			if (backup_probe(t[i].path, h.bpk, id) != 0 ||
			    memcmp(id, t[i].id, BACKUP_IDLEN) != 0) /* not secret */
				continue;	/* not mounted now */
			fails += backup_to(hm, &h, t[i].path, out) != 0;
			done++;
		}
		if (done == 0 && fails == 0)
			fails = cli_fail(KITH_ENOENT, n == 0 ? "no backup"
			    " target yet: 'kith backup --init DIR' marks one" :
			    "none of the %zu backup target(s) is mounted now",
			    n);
		free(t);
	}
	bk_hold_free(&h);
	home_close(hm);
	if (out != NULL) {
		if (fails == 0)
			cli_json_out(json_pack("{s:b, s:o}", "ok", 1,
			    "backups", out));
		else
			json_decref(out);
	}
	return (fails ? 1 : 0);
}

static const char restore_usage[] =
    "usage: kith restore DIR [--set NAME] [--code-file FILE] [--name NAME]\n"
    "Rebuild history, contacts and invitations from the backup in DIR (a\n"
    "backup target, or its kith-backup directory) into a new home.  Asks\n"
    "for the recovery code or the account passphrase (--code-file FILE or\n"
    "$KITH_RECOVERY_FILE gives the code, --passphrase-file the\n"
    "passphrase).  Then enrol this device: 'kith join' from a device of the\n"
    "account, or 'kith recover' when none is left.\n"
    "  --set NAME   the set of one device (default: the newest)\n";

int
cmd_restore(int argc, char **argv)
{
	struct home *hm = NULL;
	struct backup_manifest m;
	const char *dir = NULL, *set = NULL, *name = NULL, *codefile;
	uint8_t sealed[ACCOUNT_SEALED_LEN], *secret = NULL, *seed = NULL;
	uint8_t code[RECOVERY_BYTES];
	char setname[17];
	uint64_t number, stored = 0, unread = 0;
	uint8_t bpk[32], id[BACKUP_IDLEN];
	size_t slen;
	int i, rc, secret_ok;

	memset(&m, 0, sizeof(m));
	codefile = getenv("KITH_RECOVERY_FILE");
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0) {
			fputs(restore_usage, stdout);
			return (0);
		} else if (strcmp(argv[i], "--set") == 0 && i + 1 < argc)
			set = argv[++i];
		else if (strcmp(argv[i], "--code-file") == 0 && i + 1 < argc)
			codefile = argv[++i];
		else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc)
			name = argv[++i];
		else if (argv[i][0] != '-' && dir == NULL)
			dir = argv[i];
		else
			return (cli_fail(KITH_EINVAL, "restore: unexpected"
			    " '%s'\n%s", argv[i], restore_usage));
	}
	if (dir == NULL)
		return (cli_fail(KITH_EINVAL, "%s", restore_usage));
	if (name != NULL && !roster_name_ok(name))
		return (cli_fail(KITH_EINVAL, "restore: a device name is 1 to"
		    " 64 printable characters"));
	/* Refuse early: a home with an account is never overwritten. */
	if (home_open(cli.home, 0, &hm) == 0 && hm->has_account) {
		home_close(hm);
		return (cli_fail(KITH_EHAVEACCOUNT, "%s already holds an"
		    " account; restore into a new home (--home DIR)",
		    cli.home));
	}
	home_close(hm);
	hm = NULL;
	if ((rc = backup_find(dir, set, setname, sealed, &number)) != 0)
		return (cli_fail(rc, rc == KITH_ENOENT ? "no kith backup in"
		    " %s" : "cannot read the backup in %s: %s", dir,
		    kith_strerror(rc)));

	/* The recovery code, or the passphrase the backup's seal opens. */
	if ((seed = sodium_malloc(32)) == NULL)
		return (cli_fail(KITH_ENOMEM, "out of memory"));
	if (codefile != NULL || cli.passfile == NULL)
		rc = cli_secret(codefile, "--code-file", "Recovery code (or"
		    " the account passphrase): ", 0, &secret, &slen);
	else
		rc = cli_passphrase("Account passphrase: ", 0, &secret, &slen);
	if (rc != 0)
		goto out;
	secret[slen] = '\0';
	if (recovery_parse((const char *)secret, code) == 0) {
		recovery_seed(code, seed);
		sodium_memzero(code, sizeof(code));
	} else if (codefile != NULL) {
		rc = cli_fail(KITH_EFORMAT, "%s does not hold a recovery code",
		    codefile);
		goto out;
	} else if ((rc = account_unseal(sealed, secret, slen, seed)) != 0) {
		rc = cli_fail(rc, rc == KITH_EBADPASS ? "wrong passphrase (or"
		    " a mistyped recovery code) for the backup in %s; nothing"
		    " was restored" : "cannot open the backup's seal: %s",
		    rc == KITH_EBADPASS ? dir : kith_strerror(rc));
		goto out;
	}

	/* Is the secret this target's account's?  Then failures are damage. */
	backup_keypair(seed, NULL, bpk);
	secret_ok = backup_probe(dir, bpk, id) == 0;
	/* Several devices' sets: never one a revoked device wrote. */
	if (set == NULL && (rc = bk_choose_set(dir, seed, setname,
	    &number)) != 0 && rc != KITH_EBADPASS) {
		rc = cli_fail(rc, rc == KITH_EREVOKED ? "every backup in %s"
		    " was written by a device revoked since; nothing was"
		    " restored" : "cannot read the backups in %s: %s", dir,
		    kith_strerror(rc));
		goto out;
	}
	if (cli_open(CLI_CREATE | CLI_LOCKED, &hm) != 0) {
		rc = 1;
		goto out;
	}
	if (hm->dk->locked) {
		rc = cli_fail(KITH_EHAVEACCOUNT, "%s is not a new home",
		    cli.home);
		goto out;
	}
	if (name != NULL && (rc = home_set_name(hm, name)) != 0) {
		rc = cli_fail(rc, "cannot name this device: %s",
		    kith_strerror(rc));
		goto out;
	}
	/*
	 * The newest backup that verifies whole (manifest, segments,
	 * records); a damaged one is skipped, all or nothing each time.
	 */
	for (rc = KITH_ENOENT; number > 0; number--) {
		rc = backup_open(dir, setname, number, seed, &m);
		if (rc == 0) {
			rc = bk_restore(hm, dir, &m, seed, cli.tty &&
			    !cli.json ? bk_progress : NULL, NULL, &stored,
			    &unread);
			cli_progress_end();
			if (rc == 0)
				break;
			backup_manifest_free(&m);
		}
		if (rc == KITH_EBADPASS && !secret_ok)
			break;		/* another account's backup */
		if (rc != KITH_ECORRUPT && rc != KITH_EVERSION &&
		    rc != KITH_EBADPASS)
			break;
		if (number > 1)
			fprintf(stderr, "kith: backup %llu in %s is damaged;"
			    " trying backup %llu\n", (unsigned long long)number,
			    dir, (unsigned long long)(number - 1));
		rc = KITH_ECORRUPT;
	}
	if (rc != 0) {
		rc = cli_fail(rc, rc == KITH_EBADPASS ? "this recovery code"
		    " does not open the backup in %s (another account's?);"
		    " nothing was restored" : rc == KITH_ECORRUPT ? "every"
		    " backup in %s is damaged (a manifest, a segment or a"
		    " record does not verify); nothing was restored" :
		    "restore from %s failed: %s; nothing was restored", dir,
		    kith_strerror(rc));
		goto out;
	}
	if (unread > 0)
		fprintf(stderr, "kith: %llu record(s) could not be opened with"
		    " the backup's keys (as on the device that wrote it);"
		    " they are kept encrypted\n", (unsigned long long)unread);
	if (cli.json)
		cli_json_out(json_pack("{s:b, s:s, s:I, s:I, s:I, s:s}", "ok", 1,
		    "set", m.set, "backup", (json_int_t)m.number, "time",
		    (json_int_t)m.time, "records", (json_int_t)stored, "device",
		    m.name));
	else
		printf("Restored %llu records from backup %llu of '%s' (%s).\n"
		    "This device is not enrolled yet: run 'kith pair' on a"
		    " device of the account and\n'kith join' here, or 'kith"
		    " recover' if no device is left.\n",
		    (unsigned long long)stored, (unsigned long long)m.number,
		    m.name, cli_when(m.time));
	rc = 0;
out:
	backup_manifest_free(&m);
	sodium_free(seed);
	sodium_free(secret);
	home_close(hm);
	return (rc ? 1 : 0);
}
