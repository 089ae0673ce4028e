/* kith init --name NAME: a new account with this device as its first. */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "cli.h"
#include "kith_err.h"
#include "pair.h"

int
cmd_init(int argc, char **argv)
{
	struct home *hm;
	const char *name = NULL;
	char recovery[RECOVERY_TEXTLEN], fp[15];
	uint8_t *pass;
	size_t plen;
	int i, rc;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--name") == 0 && i + 1 < argc)
			name = argv[++i];
		else if (strcmp(argv[i], "--help") == 0) {
			printf("usage: kith init --name NAME\n"
			    "Create a new account with this device as its first"
			    " device.\nAsks for a new account passphrase and"
			    " prints a recovery code once.\n");
			return (0);
		} else
			return (cli_fail(KITH_EINVAL, "init: unexpected '%s';"
			    " usage: kith init --name NAME", argv[i]));
	}
	if (name == NULL)
		return (cli_fail(KITH_EINVAL, "init: give this device a name:"
		    " kith init --name NAME"));
	if (!roster_name_ok(name))
		return (cli_fail(KITH_EINVAL, "init: a device name is 1 to 64"
		    " printable characters"));
	if (cli_open(1, &hm) != 0)
		return (1);
	if (hm->has_account) {
		home_close(hm);
		return (cli_fail(KITH_EHAVEACCOUNT, "%s already holds an"
		    " account; nothing was changed", cli.home));
	}
	if (cli_passphrase("New account passphrase: ", 1, &pass, &plen)) {
		home_close(hm);
		return (1);
	}
	rc = home_init_account(hm, name, pass, plen, recovery);
	sodium_free(pass);
	if (rc != 0) {
		home_close(hm);
		return (cli_fail(rc, "init: cannot create the account: %s",
		    kith_strerror(rc)));
	}

	pair_fingerprint(hm->dk->sign_pk, fp);
	if (cli.json) {
		/* The recovery code is a secret: never in JSON output. */
		cli_json_out(json_pack("{s:b, s:s, s:s, s:s, s:s}", "ok", 1,
		    "home", cli.home, "device", name, "fingerprint", fp,
		    "account", cli_hex(hm->account_pk, 8)));
		fprintf(stderr, "Recovery code (write it down; it is shown"
		    " only once): %s\n", recovery);
	} else {
		printf("Account created; this device is '%s' (%s).\n\n"
		    "Recovery code, shown only once. Write it down and keep"
		    " it apart from your devices:\n\n    %s\n\n"
		    "With it, 'kith recover' rebuilds the account if every"
		    " device is lost.\n", name, fp, recovery);
	}
	sodium_memzero(recovery, sizeof(recovery));
	home_close(hm);
	return (0);
}
