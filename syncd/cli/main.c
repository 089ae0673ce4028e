/*
 * kith: the command line of the kith device agent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "kith_err.h"

struct cli cli;

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *help;
} cmds[] = {
	{ "init", cmd_init, "init --name NAME       new account and this device" },
	{ "status", cmd_status, "status                 account, device, sync state" },
	{ "devices", cmd_devices, "devices [--export FILE]\n"
	    "                         the signed device roster" },
	{ "history", cmd_history, "history add [JSON] | import FILE.jsonl | export"
	    " [--out FILE] | count\n"
	    "                         the message history (one JSON object"
	    " per record)" },
	{ "pair", cmd_pair, "pair [--qr-png FILE] [--timeout SEC] [--yes] [--port N]\n"
	    "                         show a pairing code and enrol a new device" },
	{ "join", cmd_join, "join [IMAGE] [--code TEXT] [--camera] --name NAME"
	    " [--peer HOST:PORT]\n"
	    "                         join an account from its pairing code" },
	{ "revoke", cmd_revoke, "revoke DEVICE...       bar a lost or stolen"
	    " device (asks for the passphrase)" },
	{ "recover", cmd_recover, "recover [--name NAME] [--roster FILE]"
	    " [--revoke-others] [--code-file FILE]\n"
	    "                         rebuild the account on a new device from"
	    " the recovery code" },
	{ "unlock", cmd_unlock, "unlock                 open this device's keys"
	    " after a start (asks for the\n"
	    "                         passphrase once; the agent keeps them)" },
	{ "passphrase", cmd_passphrase, "passphrase [--new-passphrase-file FILE]\n"
	    "                         change the account passphrase" },
	{ "roster", cmd_roster, "roster verify FILE     check a signed roster"
	    " (devices --export FILE writes one)" },
	{ "invite", cmd_invite, "invite create --service URI [--alias NAME]"
	    " [--ttl DURATION] [--uses N]\n"
	    "         [--qr-png FILE] [--note TEXT] [--service-name NAME]"
	    " [--no-hints]\n"
	    "                         a face-to-face invitation to a service\n"
	    "  invite scan [IMAGE] [--code TEXT] [--camera] [--alias NAME]"
	    " [--peer HOST:PORT]\n"
	    "         [--no-lan] [--reply-png FILE]\n"
	    "                         an invitation, or the reply to one\n"
	    "  invite list | revoke ID | verify FILE|--code TEXT" },
	{ "contacts", cmd_contacts, "contacts               verified contacts,"
	    " met in person\n"
	    "  contacts update CONTACT --roster FILE\n"
	    "                         take a contact's newer roster" },
	{ "seal", cmd_seal, "seal (--to CONTACT)... | --group NAME [--no-self]"
	    " [--name NAME]\n"
	    "         [--out FILE] [--armour | --binary] [FILE]\n"
	    "                         encrypt for verified contacts, signed"
	    " by this device" },
	{ "open", cmd_open, "open [--out FILE] [--max-buffer BYTES] [FILE]\n"
	    "                         check and decrypt what a contact"
	    " sealed" },
	{ "group", cmd_group, "group create NAME --member CONTACT... [--out"
	    " FILE] [--armour | --binary]\n"
	    "  group add|remove NAME --member CONTACT... [--out FILE]\n"
	    "  group list             keys shared with a set of contacts,"
	    " for seal --group" },
	{ "backup", cmd_backup, "backup --init DIR | backup [--to DIR]\n"
	    "                         encrypted, incremental backups (the agent"
	    " makes them\n"
	    "                         by itself when a target is mounted)" },
	{ "restore", cmd_restore, "restore DIR            rebuild history on a"
	    " new device from a backup" },
};

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: kith [--home DIR] [--json] [--passphrase-file FILE]"
	    " COMMAND ... | --version | --help\n\ncommands:\n");
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %s\n", cmds[i].help);
	fprintf(f, "\nThe home is --home, else $KITH_HOME, else"
	    " $XDG_DATA_HOME/kith, else ~/.local/share/kith.\n"
	    "'kith COMMAND --help' gives each command's options; exit"
	    " statuses: 0 ok,\n1 failed, 2 usage, 3 refused, 4 unreachable,"
	    " 5 damaged, 6 needs a passphrase\nand has no terminal"
	    " (docs/CLI.md).  See kith(1).\n");
}

/*
 * Take the global options out of argv wherever they stand, so that
 * `kith pair --home X` works like `kith --home X pair`.
 */
static int
globals(int *argcp, char **argv)
{
	int i, o = 0, argc = *argcp;

	for (i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0) {
			while (i < argc)
				argv[o++] = argv[i++];
			break;
		}
		if (strcmp(a, "--json") == 0) {
			cli.json = 1;
		} else if (strcmp(a, "--home") == 0 ||
		    strcmp(a, "--passphrase-file") == 0) {
			if (i + 1 >= argc)
				return (-1);
			if (a[2] == 'h')
				cli.home_opt = argv[++i];
			else
				cli.passfile = argv[++i];
		} else if (strncmp(a, "--home=", 7) == 0) {
			cli.home_opt = a + 7;
		} else if (strncmp(a, "--passphrase-file=", 18) == 0) {
			cli.passfile = a + 18;
		} else {
			argv[o++] = argv[i];
		}
	}
	argv[o] = NULL;
	*argcp = o;
	return (0);
}

/*
 * A command's result as the exit status: the class of its first failure
 * (cli_fail records it), so that every path out of a command agrees.
 */
static int
exit_status(int r)
{

	if (r == 0)
		return (0);
	if (cli.exit != 0)
		return (cli.exit);
	if (r == CLI_EXIT_USAGE)
		return (r);
	return (r < 0 ? cli_exit_status(r) : CLI_EXIT_FAIL);
}

int
main(int argc, char **argv)
{
	size_t i;

	if (sodium_init() < 0) {
		fprintf(stderr, "kith: cannot initialise libsodium\n");
		return (1);
	}
	hist_json_wipe();
	argc--;
	argv++;
	if (globals(&argc, argv) != 0)
		return (cli_usage("%s needs a value; see kith --help",
		    argv[argc - 1]));
	if (cli.passfile == NULL)
		cli.passfile = getenv("KITH_PASSPHRASE_FILE");
	cli.tty = isatty(STDERR_FILENO);
	if (argc < 1 || strcmp(argv[0], "--help") == 0 ||
	    strcmp(argv[0], "-h") == 0 || strcmp(argv[0], "help") == 0) {
		usage(argc < 1 ? stderr : stdout);
		return (argc < 1 ? 2 : 0);
	}
	if (strcmp(argv[0], "--version") == 0) {
		if (cli.json)
			cli_json_out(json_pack("{s:b, s:s}", "ok", 1,
			    "version", KITH_VERSION));
		else
			printf("kith %s\n", KITH_VERSION);
		return (0);
	}
	if (home_path(cli.home_opt, cli.home, sizeof(cli.home)) != 0)
		return (cli_usage("no home directory: set --home DIR or"
		    " KITH_HOME"));
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[0], cmds[i].name) == 0)
			return (exit_status(cmds[i].fn(argc, argv)));
	return (cli_usage("unknown command '%s'; see kith --help", argv[0]));
}
