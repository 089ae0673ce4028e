/*
 * cli.h: what the subcommands of `kith` share: global options, opening the
 * home, passphrases, JSON output, the progress bar, errors.
 */
#ifndef KITH_CLI_H
#define KITH_CLI_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include <sys/socket.h>

#include "home.h"
#include "ticket.h"

struct cli {
	const char *home_opt;
	const char *passfile;
	int json;
	int tty;		/* stderr is a terminal */
	int exit;		/* the exit status of the first failure */
	int json_done;		/* --json: the one result document is out */
	int json_open;		/* --json: an object is open on stdout */
	char home[PATH_MAX];
};

/*
 * Exit statuses (kith(1), docs/CLI.md): distinct for what a script must
 * tell apart.
 */
#define CLI_EXIT_FAIL 1		/* anything not below */
#define CLI_EXIT_USAGE 2	/* unknown command or option, bad argument */
#define CLI_EXIT_REFUSED 3	/* by a peer, at a confirmation, by a check */
#define CLI_EXIT_UNREACHABLE 4	/* no peer answered, connection cut, no mDNS */
#define CLI_EXIT_DAMAGED 5	/* the home or a file is damaged */
#define CLI_EXIT_NEEDPASS 6	/* a passphrase, and no terminal to ask on */

extern struct cli cli;

/* Subcommands: argv[0] is the subcommand's name. */
int cmd_init(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_devices(int argc, char **argv);
int cmd_history(int argc, char **argv);
int cmd_pair(int argc, char **argv);
int cmd_join(int argc, char **argv);
int cmd_revoke(int argc, char **argv);
int cmd_recover(int argc, char **argv);
int cmd_passphrase(int argc, char **argv);
int cmd_unlock(int argc, char **argv);
int cmd_backup(int argc, char **argv);
int cmd_restore(int argc, char **argv);
int cmd_roster(int argc, char **argv);
int cmd_invite(int argc, char **argv);
int cmd_contacts(int argc, char **argv);
int cmd_seal(int argc, char **argv);
int cmd_open(int argc, char **argv);
int cmd_group(int argc, char **argv);
int cmd_contacts_update(int argc, char **argv);

/**
 * cli_fail(rc, fmt, ...): print "kith: <message>: <kith_strerror(rc)>" (or
 * just the message with rc 0) on stderr, or a JSON error object with
 * --json; return the exit status for ${rc}.
 */
int cli_fail(int rc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/**
 * cli_refuse(rc, fmt, ...): cli_fail with the exit status of a refusal
 * (3) whatever ${rc} is: what a check turned down (a cut envelope is
 * refused, not a peer gone away).
 */
int cli_refuse(int rc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/**
 * cli_fail_doc(doc, rc, msg): cli_fail for a command whose failure has a
 * document of its own (what did not verify, and why): ${doc} goes out
 * with "ok":false and the error members (the call takes the reference);
 * without --json only ${msg} is said, on stderr.
 */
int cli_fail_doc(json_t *doc, int rc, const char *msg);

/**
 * cli_usage(fmt, ...): cli_fail for a usage error (exit status 2, code
 * "usage"): an unknown option, a missing or malformed argument.
 */
int cli_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/**
 * cli_needpass(opt): the failure for a secret that must be asked while
 * standard input is no terminal (exit status 6): use ${opt} FILE.
 */
int cli_needpass(const char *opt);

/**
 * cli_exit_status(rc): the exit status for the kith error ${rc}.
 */
int cli_exit_status(int rc);

/**
 * cli_event(obj): a progress event: a JSON line on stderr with --json
 * (stdout holds only the result document), nothing otherwise.
 */
void cli_event(json_t *obj);

/**
 * cli_damaged(rc, dir, file): cli_fail for a home that is KITH_ECORRUPT,
 * naming the damaged ${file} (NULL: found out) and what to do.
 */
int cli_damaged(int rc, const char *dir, const char *file);

/**
 * cli_open(flags, hm): open the home (CLI_CREATE: make it when missing)
 * and unlock this device's keys (cli_unlock) unless CLI_LOCKED says the
 * command needs none; on failure print a helpful line.
 */
#define CLI_CREATE 1
#define CLI_LOCKED 2
#define CLI_CHECK 4	/* PRAGMA quick_check the store first */
int cli_open(int flags, struct home **hm);

/**
 * cli_unlock(hm): open a locked device's keys: with the lock key of the
 * running agent when it is unlocked, else with the account passphrase
 * (--passphrase-file or asked).  Prints why on failure.
 */
int cli_unlock(struct home *hm);

/**
 * cli_passphrase(prompt, confirm, pass, len): the passphrase, from
 * --passphrase-file / KITH_PASSPHRASE_FILE, or asked on the terminal
 * without echo (twice when ${confirm}).  *pass is sodium_malloc'd.
 */
int cli_passphrase(const char *prompt, int confirm, uint8_t **pass,
    size_t *len);

/**
 * cli_secret(file, opt, prompt, confirm, pass, len): the same for another
 * secret: the first line of ${file} (given with option ${opt}), or asked.
 */
int cli_secret(const char *file, const char *opt, const char *prompt,
    int confirm, uint8_t **pass, size_t *len);

/**
 * cli_when(t): a UTC time as text (a static buffer), "-" for 0.
 */
const char *cli_when(uint64_t t);

/**
 * cli_roster_json(r, self) / cli_roster_print(r, self): a roster for
 * --json or for people; ${self} (or NULL) marks this device.
 */
json_t *cli_roster_json(const struct roster *r, const uint8_t *self);
void cli_roster_print(const struct roster *r, const uint8_t *self);

/**
 * cli_unseal(hm, sk): ask for the account passphrase and unseal the
 * account key into *${sk} (sodium_free it); print what went wrong.
 */
int cli_unseal(struct home *hm, uint8_t **sk);

/**
 * cli_yesno(question): ask on the terminal; 1 for yes.  No terminal: 0.
 */
int cli_yesno(const char *question);

/**
 * cli_json_out(obj): print ${obj} as one line on stdout and release it.
 */
void cli_json_out(json_t *obj);

/**
 * cli_progress(arg, ...): an xfer_progress_cb drawing a bar with rate and
 * time left on stderr (terminal only); cli_progress_end() ends its line.
 */
void cli_progress(void *arg, uint64_t nrec, uint64_t totrec, uint64_t nbytes,
    uint64_t totbytes);
void cli_progress_end(void);

/**
 * cli_agent(hm): a connection to the running agent of this home, or NULL
 * when none runs.  cli_agent_poke(hm): tell a running agent that this
 * process changed the home (it would notice within a second anyway).
 */
struct ctl_client *cli_agent(const struct home *hm);
void cli_agent_poke(const struct home *hm);

/*
 * Reaching the device that showed a code (reach.c): addresses from mDNS
 * (the first nmdns), from the code's hints, or from --peer.
 */
#define REACH_MAX 16
struct reach {
	struct sockaddr_storage addrs[REACH_MAX];
	socklen_t lens[REACH_MAX];
	int n, nmdns, manual;
};

/* This host's IPv4 addresses, at most ${max}, as hints; with ${loopback},
 * 127.0.0.1 last when there is room (two devices on one machine). */
void reach_hints_fill(struct ticket_hint *h, uint8_t *n, int max,
    int loopback);
/* Browse ${ms} for the instance ${tag}; what is found goes first. */
void reach_mdns(struct reach *r, const char *tag, int ms);
/* The hints of a code on ${port} (none when port is 0). */
void reach_hints(struct reach *r, const struct ticket_hint *h, int n,
    uint16_t port);
/* --peer HOST:PORT.  Returns 0 or KITH_EINVAL. */
int reach_peer(struct reach *r, const char *peer);
/* Connect to the addresses from *${i} on; says which on stderr. */
int reach_connect(const struct reach *r, int *i, int ms, int *fd);

/**
 * cli_read_code(image, code, camera, text): a code from ${code}, the QR
 * in ${image}, or the camera; *${text} is malloc'd.  Returns 0,
 * KITH_ENOENT (none of the three given), or an error already printed.
 */
int cli_read_code(const char *image, const char *code, int camera,
    char **text);

/**
 * cli_fingerprint(pk): the fingerprint of an account key as people
 * compare it, "xxxx-xxxx-xxxx" (a static buffer).
 */
const char *cli_fingerprint(const uint8_t pk[32]);

/**
 * cli_need_account(hm): 0 when the home belongs to an account, else the
 * failure printed (what to run first).
 */
int cli_need_account(struct home *hm);

/**
 * cli_hex(b, len): a static hex string of ${b} (len <= 32).
 */
const char *cli_hex(const uint8_t *b, size_t len);

#endif
