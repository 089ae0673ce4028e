/*
 * kith revoke, recover, passphrase, roster verify: the commands that
 * change the account (each needs the account key) and the one that checks
 * a roster as a service would.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "ctlsock.h"
#include "kith_err.h"
#include "kith_util.h"
#include "pair.h"

#define ROSTER_FILEMAX ((size_t)1 << 20)

/* Does ${d} answer to ${what}: its name, or a prefix of its id? */
static int
dev_matches(const struct roster_dev *d, const char *what)
{
	char hx[65], fp[15];
	size_t n = strlen(what);

	if (strcmp(d->name, what) == 0)
		return (2);
	pair_fingerprint(d->sign_pk, fp);
	if (strcmp(fp, what) == 0)
		return (2);
	kith_hex(d->sign_pk, 32, hx);
	return (n >= 4 && n <= 64 && strncasecmp(hx, what, n) == 0);
}

/*
 * The device ${what} names: an exact name or fingerprint first, else a
 * unique id prefix (at least 4 hex digits).  Prints the candidates when
 * more than one fits.
 */
static const struct roster_dev *
find_dev(const struct roster *r, const char *what, int *rc)
{
	const struct roster_dev *hit = NULL;
	char fp[15];
	size_t i, n = 0;
	int best = 0, m;

	for (i = 0; i < r->ndev; i++)
		if ((m = dev_matches(&r->dev[i], what)) > best)
			best = m;
	for (i = 0; i < r->ndev && best > 0; i++)
		if (dev_matches(&r->dev[i], what) == best) {
			hit = &r->dev[i];
			n++;
		}
	if (n == 1) {
		*rc = 0;
		return (hit);
	}
	if (n == 0) {
		*rc = cli_fail(KITH_ENOENT, "no device '%s' on the roster;"
		    " 'kith devices' lists them", what);
		return (NULL);
	}
	if (!cli.json) {
		fprintf(stderr, "kith: '%s' could be any of:\n", what);
		for (i = 0; i < r->ndev; i++)
			if (dev_matches(&r->dev[i], what) == best) {
				pair_fingerprint(r->dev[i].sign_pk, fp);
				fprintf(stderr, "  %-20s %s  id %s  %s\n",
				    r->dev[i].name, fp,
				    cli_hex(r->dev[i].sign_pk, 8),
				    r->dev[i].status == ROSTER_ACTIVE ?
				    "active" : "revoked");
			}
	}
	*rc = cli_fail(KITH_EAMBIGUOUS, "'%s' names %zu devices: give the"
	    " fingerprint or the first digits of the id", what, n);
	return (NULL);
}

int
cmd_revoke(int argc, char **argv)
{
	struct home *hm;
	struct roster *r = NULL;
	const struct roster_dev *d;
	uint8_t *sk = NULL;
	const char *what[ROSTER_MAXDEV];
	char names[1024], fp[15];
	size_t nwhat = 0, i, o = 0;
	int k, rc;

	for (k = 1; k < argc; k++) {
		if (strcmp(argv[k], "--help") == 0) {
			printf("usage: kith revoke DEVICE...\n"
			    "Bar a lost or stolen device (by name, fingerprint"
			    " or id prefix): every device\nrefuses it once it"
			    " holds the new roster, and records written from"
			    " now on\nare under a new history key it never"
			    " gets.  Asks for the account passphrase.\n");
			return (0);
		}
		if (argv[k][0] == '-' || nwhat >= ROSTER_MAXDEV)
			return (cli_fail(KITH_EINVAL, "revoke: unexpected '%s';"
			    " usage: kith revoke DEVICE...", argv[k]));
		what[nwhat++] = argv[k];
	}
	if (nwhat == 0)
		return (cli_fail(KITH_EINVAL, "revoke: which device? usage:"
		    " kith revoke DEVICE ('kith devices' lists them)"));
	if (cli_open(0, &hm) != 0)
		return (1);
	if (hm->roster == NULL || hm->h == NULL) {
		home_close(hm);
		return (cli_fail(KITH_ENOACCOUNT, "this device belongs to no"
		    " account yet"));
	}
	if ((d = home_self(hm)) == NULL || d->status != ROSTER_ACTIVE) {
		home_close(hm);
		return (cli_fail(KITH_EREVOKED, "this device is itself revoked:"
		    " revoke from an active device"));
	}
	if ((rc = roster_next(hm->roster, &r)) != 0)
		goto fail;
	names[0] = '\0';
	for (i = 0; i < nwhat; i++) {
		if ((d = find_dev(hm->roster, what[i], &rc)) == NULL)
			goto out;
		if (!memcmp(d->sign_pk, hm->dk->sign_pk, 32)) {	/* not secret */
			rc = cli_fail(KITH_EINVAL, "'%s' is the device you are"
			    " on: revoke it from another of your devices",
			    what[i]);
			goto out;
		}
		if (d->status == ROSTER_REVOKED) {
			rc = cli_fail(KITH_EREVOKED, "'%s' was already"
			    " revoked on %s; nothing was changed", d->name,
			    cli_when(d->revoked));
			goto out;
		}
		if ((rc = roster_revoke(r, d->sign_pk, hm->dk->sign_pk)) != 0 &&
		    rc != KITH_EREVOKED)
			goto fail;
		o += (size_t)snprintf(names + o, sizeof(names) - o, "%s%s",
		    o > 0 ? ", " : "", d->name);
		if (o >= sizeof(names))
			o = sizeof(names) - 1;
	}
	if ((rc = cli_unseal(hm, &sk)) != 0) {
		rc = 1;
		goto out;
	}
	rc = home_roster_commit(hm, r, sk, 1, NULL);
	r = NULL;
	if (rc != 0)
		goto fail;
	cli_agent_poke(hm);
	pair_fingerprint(hm->dk->sign_pk, fp);
	if (cli.json)
		cli_json_out(json_pack("{s:b, s:s, s:I, s:I, s:I}", "ok", 1,
		    "revoked", names, "roster_version",
		    (json_int_t)hm->roster->version, "epoch",
		    (json_int_t)hm->roster->epoch, "active",
		    (json_int_t)roster_active(hm->roster)));
	else
		printf("Revoked %s.\nRoster version %llu; history epoch %u"
		    " starts now, with a key only the %zu active device%s"
		    " get.\nYour other devices learn of it as they sync with"
		    " this one (or with any that has it).\n", names,
		    (unsigned long long)hm->roster->version,
		    (unsigned)hm->roster->epoch, roster_active(hm->roster),
		    roster_active(hm->roster) == 1 ? "" : "s");
	rc = 0;
	goto out;
fail:
	if (rc == KITH_ESTALE)
		rc = cli_fail(rc, "revoke: the roster changed meanwhile (kithd"
		    " or another kith wrote a newer one); nothing was changed:"
		    " run the command again");
	else
		rc = cli_fail(rc, "revoke: %s; nothing was changed",
		    kith_strerror(rc));
out:
	roster_free(r);
	if (sk != NULL)
		sodium_free(sk);
	home_close(hm);
	return (rc);
}

static int
read_roster_file(const char *path, const uint8_t *account_pk,
    struct roster **out)
{
	uint8_t *b;
	size_t len;
	int rc;

	if ((rc = kith_file_read(path, ROSTER_FILEMAX, &b, &len)) != 0)
		return (cli_fail(rc, "cannot read the roster %s: %s", path,
		    kith_strerror(rc)));
	rc = roster_decode(b, len, account_pk, out);
	free(b);
	if (rc == KITH_ECRYPTO)
		return (cli_fail(rc, "%s: the signature does not verify%s",
		    path, account_pk != NULL ? " with this account's key" :
		    ""));
	if (rc != 0)
		return (cli_fail(rc, "%s is not a kith roster: %s", path,
		    kith_strerror(rc)));
	return (0);
}

int
cmd_recover(int argc, char **argv)
{
	struct home *hm = NULL;
	struct roster *base = NULL;
	const char *name = NULL, *rosterfile = NULL, *codefile;
	uint8_t *code = NULL, *pass = NULL, *bytes = NULL, *lock = NULL, *rb;
	size_t clen, plen, rblen;
	char host[65], fp[15];
	int i, rc, revoke = 0;

	codefile = getenv("KITH_RECOVERY_FILE");
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0) {
			printf("usage: kith recover [--name NAME] [--roster FILE]"
			    " [--revoke-others] [--code-file FILE]\n"
			    "Rebuild the account on this new device from the"
			    " recovery code.\n  --roster FILE     the roster"
			    " as it was (kith devices --export, or from your"
			    " service):\n                    the new one follows"
			    " it, and your other devices take it\n"
			    "  --revoke-others   bar every earlier device in the"
			    " same step (needed without\n                    "
			    "--roster: then nothing else can be known of them)\n"
			    "  --code-file FILE  read the code from FILE (or"
			    " $KITH_RECOVERY_FILE), not the terminal\n"
			    "Asks for a new account passphrase.\n");
			return (0);
		} else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc)
			name = argv[++i];
		else if (strcmp(argv[i], "--roster") == 0 && i + 1 < argc)
			rosterfile = argv[++i];
		else if (strcmp(argv[i], "--code-file") == 0 && i + 1 < argc)
			codefile = argv[++i];
		else if (strcmp(argv[i], "--revoke-others") == 0)
			revoke = 1;
		else
			return (cli_fail(KITH_EINVAL, "recover: unexpected '%s';"
			    " see kith recover --help", argv[i]));
	}
	if (name == NULL) {
		if (gethostname(host, sizeof(host) - 1) != 0)
			strcpy(host, "recovered");
		host[sizeof(host) - 1] = '\0';
		name = host;
	}
	if (!roster_name_ok(name))
		return (cli_fail(KITH_EINVAL, "recover: a device name is 1 to 64"
		    " printable characters"));
	/* A home restored from a backup keeps the roster it held then. */
	if (rosterfile == NULL && home_open(cli.home, 0, &hm) == 0 &&
	    hm->has_account && hm->roster == NULL &&
	    store_meta_get(hm->st, "restored_roster", &rb, &rblen) == 0) {
		if (roster_decode(rb, rblen, hm->account_pk, &base) != 0)
			base = NULL;
		free(rb);
	}
	home_close(hm);
	hm = NULL;
	if (rosterfile == NULL && base == NULL && !revoke)
		return (cli_fail(KITH_EINVAL, "recover: without --roster FILE,"
		    " kith cannot know your earlier devices, so it can only"
		    " start the roster over and bar them all: add"
		    " --revoke-others for that, or give the roster you"
		    " exported (kith devices --export) or your service"
		    " holds"));
	if (rosterfile != NULL && read_roster_file(rosterfile, NULL,
	    &base) != 0)
		return (1);
	/* Nothing is created before the code and passphrase are good. */
	if (home_open(cli.home, 0, &hm) == 0 && hm->has_account &&
	    hm->roster != NULL) {
		rc = cli_fail(KITH_EHAVEACCOUNT, "%s already holds an account;"
		    " recover on a new device (or another --home)", cli.home);
		goto out;
	}
	home_close(hm);
	hm = NULL;
	if (cli_secret(codefile, "--code-file", "Recovery code: ", 0, &code,
	    &clen) != 0) {
		rc = 1;
		goto out;
	}
	if ((bytes = sodium_malloc(RECOVERY_BYTES + 1)) == NULL) {
		rc = cli_fail(KITH_ENOMEM, "out of memory");
		goto out;
	}
	code[clen] = '\0';	/* cli_secret leaves room: 2 * its maximum */
	if ((rc = recovery_parse((const char *)code, bytes)) != 0) {
		rc = cli_fail(rc, rc == KITH_EBADPASS ? "that recovery code"
		    " has a typo (its check letters do not match): compare"
		    " it letter by letter" : "that is not a recovery code"
		    " (32 letters and digits, in groups of four)");
		goto out;
	}
	if (cli_passphrase("New account passphrase: ", 1, &pass, &plen) != 0) {
		rc = 1;
		goto out;
	}
	if (cli_open(CLI_CREATE | CLI_LOCKED, &hm) != 0) {
		rc = 1;
		goto out;
	}
	/* A restored home is sealed: the code opens it too. */
	if (hm->dk->locked && (lock = sodium_malloc(DEVKEY_LOCKLEN)) != NULL &&
	    (rc = home_lockkey_code(hm, bytes, lock)) == 0)
		rc = home_unlock(hm, lock);
	sodium_free(lock);
	if (hm->dk->locked) {
		rc = cli_fail(rc ? rc : KITH_ENOMEM, "%s holds a restored"
		    " backup that this recovery code does not open: it is"
		    " another account's", cli.home);
		goto out;
	}
	rc = home_recover(hm, name, bytes, pass, plen, base, revoke);
	if (rc == KITH_EBADPASS) {
		rc = cli_fail(rc, "this recovery code is not the one of the"
		    " account in %s; nothing was changed", rosterfile);
		goto out;
	}
	if (rc != 0) {
		rc = cli_fail(rc, "recover: %s", kith_strerror(rc));
		goto out;
	}
	pair_fingerprint(hm->dk->sign_pk, fp);
	if (cli.json)
		cli_json_out(json_pack("{s:b, s:s, s:s, s:I, s:I, s:b, s:I}",
		    "ok", 1, "device", name, "fingerprint", fp,
		    "roster_version", (json_int_t)hm->roster->version, "epoch",
		    (json_int_t)hm->roster->epoch, "reset",
		    (hm->roster->flags & ROSTER_F_RESET) != 0, "active",
		    (json_int_t)roster_active(hm->roster)));
	else {
		printf("Account recovered; this device is '%s' (%s).\n",
		    name, fp);
		if (hm->roster->flags & ROSTER_F_RESET)
			printf("The roster starts over: every earlier device"
			    " is barred.\n");
		else if (revoke)
			printf("Every earlier device is revoked (roster"
			    " version %llu).\n",
			    (unsigned long long)hm->roster->version);
		else
			printf("Caution: if %s is not the newest roster, a"
			    " device revoked after it was written is active"
			    " again here, and devices holding the newer one"
			    " will not take this one (docs/PROTOCOL.md 10.1).\n",
			    rosterfile != NULL ? rosterfile :
			    "the roster of the restored backup");
		if (!(hm->roster->flags & ROSTER_F_RESET) && !revoke)
			printf("Roster version %llu keeps your %zu other"
			    " device%s: run 'kithd --peer HOST:PORT' with the"
			    " address of one (its kithd must run); it takes the"
			    " new roster and sends the history.\n",
			    (unsigned long long)hm->roster->version,
			    roster_active(hm->roster) - 1,
			    roster_active(hm->roster) == 2 ? "" : "s");
		printf("The recovery code stays the same: keep it safe.\n");
	}
	rc = 0;
out:
	if (code != NULL)
		sodium_free(code);
	if (pass != NULL)
		sodium_free(pass);
	if (bytes != NULL)
		sodium_free(bytes);
	roster_free(base);
	home_close(hm);
	return (rc);
}

int
cmd_passphrase(int argc, char **argv)
{
	struct home *hm;
	struct roster *r = NULL;
	const char *newfile = getenv("KITH_NEW_PASSPHRASE_FILE");
	uint8_t *sk = NULL, *pass = NULL, sealed[ACCOUNT_SEALED_LEN];
	uint8_t *seed = NULL;
	size_t plen;
	int i, rc;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0) {
			printf("usage: kith passphrase [--new-passphrase-file"
			    " FILE]\nChange the account passphrase.  Asks for"
			    " the current one, then the new one\n(twice, or"
			    " from FILE); your other devices take the new seal"
			    " as they sync,\nand from then on only the new"
			    " passphrase works on any of them.\n");
			return (0);
		} else if (strcmp(argv[i], "--new-passphrase-file") == 0 &&
		    i + 1 < argc)
			newfile = argv[++i];
		else
			return (cli_fail(KITH_EINVAL, "passphrase: unexpected"
			    " '%s'", argv[i]));
	}
	if (cli_open(0, &hm) != 0)
		return (1);
	if (hm->roster == NULL || hm->h == NULL) {
		home_close(hm);
		return (cli_fail(KITH_ENOACCOUNT, "this device belongs to no"
		    " account yet"));
	}
	if ((rc = cli_unseal(hm, &sk)) != 0) {
		rc = 1;
		goto out;
	}
	if (cli_secret(newfile, "--new-passphrase-file",
	    "New account passphrase: ", 1, &pass, &plen) != 0) {
		rc = 1;
		goto out;
	}
	if ((seed = sodium_malloc(32)) == NULL) {
		rc = cli_fail(KITH_ENOMEM, "out of memory");
		goto out;
	}
	crypto_sign_ed25519_sk_to_seed(seed, sk);
	if ((rc = account_seal(seed, pass, plen, sealed)) != 0 ||
	    (rc = roster_next(hm->roster, &r)) != 0) {
		rc = cli_fail(rc, "passphrase: %s", kith_strerror(rc));
		goto out;
	}
	rc = home_roster_commit(hm, r, sk, 0, sealed);
	r = NULL;
	if (rc != 0) {
		rc = cli_fail(rc, "passphrase: %s; the old passphrase still"
		    " works%s", kith_strerror(rc), rc == KITH_ESTALE ?
		    " (the roster changed meanwhile: run the command again)" :
		    "");
		goto out;
	}
	cli_agent_poke(hm);
	if (cli.json)
		cli_json_out(json_pack("{s:b, s:I}", "ok", 1, "roster_version",
		    (json_int_t)hm->roster->version));
	else
		printf("Passphrase changed (roster version %llu).  Your other"
		    " devices take the new seal as they sync; until then the"
		    " old passphrase opens their old seal, but they refuse to"
		    " use it once they hold this roster.\n",
		    (unsigned long long)hm->roster->version);
	rc = 0;
out:
	roster_free(r);
	if (seed != NULL)
		sodium_free(seed);
	if (sk != NULL)
		sodium_free(sk);
	if (pass != NULL)
		sodium_free(pass);
	home_close(hm);
	return (rc);
}

int
cmd_roster(int argc, char **argv)
{
	struct roster *r = NULL;
	struct home *hm = NULL;
	const char *file = NULL, *heldfile = NULL, *dev = NULL, *acct = NULL;
	uint8_t pk[32], *held = NULL, *blob = NULL, dpk[32];
	const uint8_t *pin = NULL;
	json_t *refuse = NULL;
	size_t len, heldlen = 0, n;
	int i, rc, st = 0;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0) {
			printf("usage: kith roster verify FILE [--account HEX]"
			    " [--held FILE] [--device ID]\nCheck a signed"
			    " roster as a messaging service would: its"
			    " signature (against\n--account, else this home's"
			    " account, else the key it names), that it may\n"
			    "replace the roster --held, and with --device, that"
			    " the device (its 64-digit id)\nis active.  Exit"
			    " status 0 only if all hold.\n");
			return (0);
		} else if (strcmp(argv[i], "--account") == 0 && i + 1 < argc)
			acct = argv[++i];
		else if (strcmp(argv[i], "--held") == 0 && i + 1 < argc)
			heldfile = argv[++i];
		else if (strcmp(argv[i], "--device") == 0 && i + 1 < argc)
			dev = argv[++i];
		else if (i == 1 && strcmp(argv[i], "verify") == 0)
			continue;
		else if (file == NULL && argv[i][0] != '-' && i > 1)
			file = argv[i];
		else
			return (cli_fail(KITH_EINVAL, "roster: unexpected '%s';"
			    " usage: kith roster verify FILE", argv[i]));
	}
	if (argc < 2 || strcmp(argv[1], "verify") != 0 || file == NULL)
		return (cli_fail(KITH_EINVAL, "usage: kith roster verify FILE"
		    " [--account HEX] [--held FILE] [--device ID]"));
	if (acct != NULL) {
		if (sodium_hex2bin(pk, 32, acct, strlen(acct), NULL, &n,
		    NULL) != 0 || n != 32)
			return (cli_fail(KITH_EINVAL, "--account takes the"
			    " account key: 64 hex digits"));
		pin = pk;
	} else if (home_open(cli.home, 0, &hm) == 0 && hm->has_account) {
		memcpy(pk, hm->account_pk, 32);
		pin = pk;
	}
	home_close(hm);
	if (dev != NULL && (sodium_hex2bin(dpk, 32, dev, strlen(dev), NULL,
	    &n, NULL) != 0 || n != 32))
		return (cli_fail(KITH_EINVAL, "--device takes a device id: 64"
		    " hex digits (kith devices --json shows them)"));
	if ((rc = kith_file_read(file, ROSTER_FILEMAX, &blob, &len)) != 0)
		return (cli_fail(rc, "cannot read %s: %s", file,
		    kith_strerror(rc)));
	if (heldfile != NULL && (rc = kith_file_read(heldfile, ROSTER_FILEMAX,
	    &held, &heldlen)) != 0) {
		free(blob);
		return (cli_fail(rc, "cannot read %s: %s", heldfile,
		    kith_strerror(rc)));
	}
	rc = roster_verify(blob, len, pin, held, heldlen, &r);
	free(blob);
	free(held);
	switch (rc) {
	case 0:
		break;
	case KITH_ECRYPTO:
		return (cli_fail(rc, "%s does not verify: bad signature,"
		    " another account's key, or a broken chain", file));
	case KITH_ESTALE:
		return (cli_fail(rc, "%s is older than %s: refuse it", file,
		    heldfile));
	case KITH_EFORK:
		return (cli_fail(rc, "%s and %s are different rosters of the"
		    " same version", file, heldfile));
	case KITH_EROSTER:
		return (cli_fail(rc, "%s may not replace %s: it removes,"
		    " changes or brings back a device, or revokes without a"
		    " new epoch", file, heldfile));
	default:
		return (cli_fail(rc, "%s is not a valid roster: %s", file,
		    kith_strerror(rc)));
	}
	if (dev != NULL)
		st = roster_status(r, dpk);
	if (cli.json) {
		json_t *o = cli_roster_json(r, NULL);

		json_object_set_new(o, "pinned", json_boolean(pin != NULL));
		if (dev != NULL)
			json_object_set_new(o, "device_status", json_string(
			    st == ROSTER_ACTIVE ? "active" : st ==
			    ROSTER_REVOKED ? "revoked" : "unlisted"));
		if (dev != NULL && st != ROSTER_ACTIVE)
			refuse = o;	/* the failure carries the document */
		else
			cli_json_out(o);
	} else {
		cli_roster_print(r, NULL);
		if (pin == NULL)
			printf("Note: no account key pinned (--account): checked"
			    " against the key the roster names.\n");
		if (dev != NULL)
			printf("Device %.16s...: %s.\n", dev,
			    st == ROSTER_ACTIVE ? "active" : st ==
			    ROSTER_REVOKED ? "REVOKED" : "not on this roster"
			    " (refuse it)");
	}
	roster_free(r);
	/* A device the service must refuse: exit status 3. */
	if (dev != NULL && st != ROSTER_ACTIVE)
		return (cli_fail_doc(refuse, st == ROSTER_REVOKED ?
		    KITH_EREVOKED : KITH_ENOTMEMBER, st == ROSTER_REVOKED ?
		    "the device is revoked" : "the device is not on this"
		    " roster"));
	return (0);
}

/*
 * kith unlock: open this device after a reboot.  With the agent running,
 * the passphrase goes to it (and kith commands then ask the agent, not
 * the user); without one, it checks the passphrase and seals a device.key
 * not sealed yet.
 */
int
cmd_unlock(int argc, char **argv)
{
	struct home *hm = NULL;
	ctl_client *c = NULL;
	json_t *resp = NULL, *st = NULL;
	uint8_t *pass = NULL, *lock = NULL;
	size_t plen;
	const char *code;
	int rc, agent_locked = 0;

	if (argc > 1) {
		if (strcmp(argv[1], "--help") == 0) {
			printf("usage: kith unlock\nOpen this device's keys"
			    " with the account passphrase: the agent syncs\n"
			    "from then on, and kith commands stop asking for"
			    " it while the agent runs.\n");
			return (0);
		}
		return (cli_fail(KITH_EINVAL, "unlock: unexpected '%s'",
		    argv[1]));
	}
	if (cli_open(CLI_LOCKED, &hm) != 0)
		return (1);
	if (!hm->has_account) {
		rc = cli_fail(KITH_ENOACCOUNT, "this device belongs to no"
		    " account yet: nothing to unlock");
		goto out;
	}
	if ((c = cli_agent(hm)) != NULL &&
	    ctl_call(c, json_pack("{s:s}", "op", "status"), &st) == 0)
		agent_locked = json_is_true(json_object_get(st, "locked"));
	if (c != NULL && !agent_locked && hm->dk->sealed) {
		/* Already open, or openable without a question. */
		json_decref(resp);
		resp = NULL;
		if (ctl_call(c, json_pack("{s:s}", "op", "lockkey"),
		    &resp) == 0 && json_is_true(json_object_get(resp, "ok")))
			goto done;
	}
	if ((rc = cli_passphrase("Account passphrase: ", 0, &pass,
	    &plen)) != 0)
		goto out;
	if (c != NULL) {
		json_decref(resp);
		resp = NULL;
		if ((rc = ctl_call(c, json_pack("{s:s, s:s%}", "op", "unlock",
		    "passphrase", (const char *)pass, plen), &resp)) != 0) {
			rc = cli_fail(rc, "the agent did not answer: %s",
			    kith_strerror(rc));
			goto out;
		}
		if (!json_is_true(json_object_get(resp, "ok"))) {
			code = json_string_value(json_object_get(
			    json_object_get(resp, "error"), "code"));
			rc = cli_fail(code != NULL && strcmp(code,
			    "bad_passphrase") == 0 ? KITH_EBADPASS : KITH_EIO,
			    "%s", json_string_value(json_object_get(
			    json_object_get(resp, "error"), "message")));
			goto out;
		}
	} else {
		if ((lock = sodium_malloc(DEVKEY_LOCKLEN)) == NULL) {
			rc = cli_fail(KITH_ENOMEM, "out of memory");
			goto out;
		}
		if ((rc = home_lockkey(hm, pass, plen, lock)) == 0 &&
		    (rc = home_unlock(hm, lock)) == KITH_EBADPASS) {
			/* The passphrase was right: device.key is damaged. */
			rc = cli_damaged(KITH_ECORRUPT, hm->dir, "device.key");
			goto out;
		}
		if (rc == KITH_ECORRUPT) {
			rc = cli_damaged(rc, hm->dir, NULL);
			goto out;
		} else if (rc != 0) {
			rc = cli_fail(rc, "%s", rc == KITH_EBADPASS ?
			    "wrong passphrase: this device stays locked" :
			    kith_strerror(rc));
			goto out;
		}
	}
done:
	if (cli.json)
		cli_json_out(json_pack("{s:b, s:b, s:b}", "ok", 1, "agent",
		    c != NULL, "sealed", 1));
	else if (c != NULL)
		printf("Unlocked: the agent syncs, and kith commands use its"
		    " key while it runs.\n");
	else
		printf("The passphrase opens this device; no agent runs, so"
		    " commands will ask for it\n(start kithd, then 'kith"
		    " unlock', to be asked once).\n");
	rc = 0;
out:
	sodium_free(pass);
	sodium_free(lock);
	json_decref(resp);
	json_decref(st);
	ctl_close(c);
	home_close(hm);
	return (rc ? 1 : 0);
}
