#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "pair.h"
#include "ctlsock.h"
#include "kith_err.h"
#include "kith_util.h"

#define MAXPASS 1024

int
cli_exit_status(int rc)
{

	switch (rc) {
	case 0:
		return (0);
	case KITH_EREFUSED: case KITH_EDECLINED: case KITH_EREVOKED:
	case KITH_ENOTMEMBER: case KITH_EBADPASS: case KITH_EEXPIRED:
	case KITH_EUSED: case KITH_EWITHDRAWN: case KITH_EPERM:
	case KITH_ECRYPTO: case KITH_ESTALE: case KITH_EROSTER:
	case KITH_EFORK: case KITH_EHANDSHAKE: case KITH_ENOTCONTACT:
	case KITH_ENOTFORME:
		return (CLI_EXIT_REFUSED);
	case KITH_ECONN: case KITH_ETIMEOUT: case KITH_ECLOSED:
	case KITH_ETRUNC: case KITH_EDNSSD:
		return (CLI_EXIT_UNREACHABLE);
	case KITH_ECORRUPT:
		return (CLI_EXIT_DAMAGED);
	case KITH_EINVAL:
		return (CLI_EXIT_USAGE);
	default:
		return (CLI_EXIT_FAIL);
	}
}

/*
 * The one failure report: a line on stderr, or with --json the result
 * document (a second failure, or one after the document, goes to stderr:
 * stdout holds exactly one JSON document).
 */
static int
fail_msg(int status, const char *code, const char *msg, json_t *doc)
{
	json_t *o;

	if (cli.exit == 0)
		cli.exit = status;
	if (!cli.json || cli.json_done) {
		fprintf(stderr, "kith: %s\n", msg);
		json_decref(doc);
		return (status);
	}
	if (status == CLI_EXIT_USAGE)
		code = "usage";
	o = json_pack("{s:b, s:s, s:s, s:i}", "ok", 0, "error", msg, "code",
	    code, "exit", status);
	if (doc != NULL) {
		/* A document of the command's own, marked as this failure. */
		json_object_update(doc, o);
		json_decref(o);
		o = doc;
	}
	if (cli.json_open) {
		/* Close the object already open on stdout with these. */
		char *t = json_dumps(o, JSON_COMPACT);

		if (t != NULL && t[0] == '{')
			printf(",%s\n", t + 1);
		free(t);
		json_decref(o);
		fflush(stdout);
		cli.json_open = 0;
		cli.json_done = 1;
		return (status);
	}
	cli_json_out(o);
	return (status);
}

static int
fail_out(int status, const char *code, const char *fmt, va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	return (fail_msg(status, code, msg, NULL));
}

int
cli_fail(int rc, const char *fmt, ...)
{
	va_list ap;
	int status;

	va_start(ap, fmt);
	status = fail_out(cli_exit_status(rc), rc ? kith_strerror(rc) :
	    "failed", fmt, ap);
	va_end(ap);
	return (status);
}

int
cli_refuse(int rc, const char *fmt, ...)
{
	va_list ap;
	int status;

	va_start(ap, fmt);
	status = fail_out(CLI_EXIT_REFUSED, rc ? kith_strerror(rc) :
	    "refused", fmt, ap);
	va_end(ap);
	return (status);
}

int
cli_fail_doc(json_t *doc, int rc, const char *msg)
{

	return (fail_msg(cli_exit_status(rc), kith_strerror(rc), msg, doc));
}

int
cli_usage(const char *fmt, ...)
{
	va_list ap;
	int status;

	va_start(ap, fmt);
	status = fail_out(CLI_EXIT_USAGE, "usage", fmt, ap);
	va_end(ap);
	return (status);
}

int
cli_needpass(const char *opt)
{

	char msg[512];
	int code = strcmp(opt, "--code-file") == 0;

	snprintf(msg, sizeof(msg), "a %s is needed and standard input is not"
	    " a terminal to ask on: give it with %s FILE%s", code ?
	    "recovery code" : "passphrase", opt, code ?
	    " (or set KITH_RECOVERY_FILE)" : strcmp(opt, "--passphrase-file")
	    == 0 ? " (or set KITH_PASSPHRASE_FILE)" : "");
	return (fail_msg(CLI_EXIT_NEEDPASS, "no terminal", msg, NULL));
}

void
cli_event(json_t *obj)
{

	if (obj == NULL)
		return;
	if (cli.json) {
		json_dumpf(obj, stderr, JSON_COMPACT);
		fputc('\n', stderr);
		fflush(stderr);
	}
	json_decref(obj);
}

/*
 * A home that failed with KITH_ECORRUPT: say which file, and what to do.
 * ${file} names it when the caller knows; otherwise device.key is judged
 * by itself, and when it reads, the store is the damaged one.
 */
int
cli_damaged(int rc, const char *dir, const char *file)
{
	struct devkey *k;
	int krc;

	if (file == NULL) {
		file = "kith.db";
		if ((krc = devkey_load(dir, 0, &k)) == 0)
			devkey_free(k);
		else if (krc == KITH_ECORRUPT || krc == KITH_ENOENT)
			file = "device.key";
	}
	return (cli_fail(rc, "%s/%s is damaged or missing: %s; restore this home from"
	    " a backup ('kith restore') or join the account again in a new"
	    " home", dir, file, strcmp(file, "device.key") == 0 ?
	    "this device's keys cannot be read" : "its history cannot be"
	    " trusted"));
}

/* The lock key from a running, unlocked agent of this home. */
static int
agent_lockkey(const struct home *hm, uint8_t lock[DEVKEY_LOCKLEN])
{
	ctl_client *c;
	json_t *resp = NULL;
	const char *hx;
	int rc = KITH_ENOENT;

	if ((c = cli_agent(hm)) == NULL)
		return (KITH_ENOENT);
	if (ctl_call(c, json_pack("{s:s}", "op", "lockkey"), &resp) == 0 &&
	    json_is_true(json_object_get(resp, "ok")) &&
	    (hx = json_string_value(json_object_get(resp, "key"))) != NULL &&
	    kith_unhex(hx, strlen(hx), lock, DEVKEY_LOCKLEN) == 0)
		rc = 0;
	json_decref(resp);	/* jansson wipes what it frees (main) */
	ctl_close(c);
	return (rc);
}

int
cli_unlock(struct home *hm)
{
	uint8_t *lock, *pass;
	size_t plen;
	int rc = 0, keyfile;

	if (!hm->dk->locked)
		return (0);
	if ((lock = sodium_malloc(DEVKEY_LOCKLEN)) == NULL)
		return (cli_fail(KITH_ENOMEM, "out of memory"));
	/* The agent, when it runs unlocked, spares the passphrase. */
	if (agent_lockkey(hm, lock) == 0 && home_unlock(hm, lock) == 0)
		goto done;
	if (!hm->has_account) {
		rc = cli_fail(KITH_ECORRUPT, "device.key in %s is sealed but"
		    " this home holds no account", hm->dir);
		goto done;
	}
	if ((rc = cli_passphrase("Account passphrase (this device is"
	    " locked): ", 0, &pass, &plen)) != 0)
		goto done;
	rc = home_lockkey(hm, pass, plen, lock);
	sodium_free(pass);
	/*
	 * The passphrase opened the account key, so the lock key is right:
	 * a device.key that does not open with it is damaged.
	 */
	keyfile = 0;
	if (rc == 0 && (rc = home_unlock(hm, lock)) == KITH_EBADPASS) {
		rc = KITH_ECORRUPT;
		keyfile = 1;
	}
	if (rc == KITH_EBADPASS)
		rc = cli_fail(rc, "wrong passphrase: this device stays locked");
	else if (rc == KITH_ESTALE)
		rc = cli_fail(rc, "that passphrase was changed on another"
		    " device: use the new one");
	else if (rc == KITH_ECORRUPT)
		rc = cli_damaged(rc, hm->dir, keyfile ? "device.key" : NULL);
	else if (rc != 0)
		rc = cli_fail(rc, "cannot unlock this device: %s",
		    kith_strerror(rc));
done:
	sodium_free(lock);
	return (rc);
}

int
cli_open(int flags, struct home **hm)
{
	int rc;

	/*
	 * quick_check reads every b-tree page (a quarter of a second for
	 * 60 MB): a damaged page can misplace records with every read
	 * succeeding.  Commands that send, copy or take in the history pay
	 * for it; quick ones (status, count) do not.
	 */
	if ((rc = home_open(cli.home, flags & CLI_CREATE, hm)) == 0 &&
	    (flags & CLI_CHECK) && (rc = store_check((*hm)->st)) != 0) {
		home_close(*hm);
		*hm = NULL;
	}
	if (rc == 0) {
		if ((flags & CLI_LOCKED) || cli_unlock(*hm) == 0)
			return (0);
		home_close(*hm);
		*hm = NULL;
		return (KITH_EBADPASS);
	}
	if (rc == KITH_ENOENT)
		cli_fail(rc, "no kith home at %s: run 'kith init --name NAME'"
		    " to start an account, or 'kith join' to join one",
		    cli.home);
	else if (rc == KITH_ECORRUPT)
		cli_damaged(rc, cli.home, NULL);
	else
		cli_fail(rc, "cannot open the kith home at %s: %s", cli.home,
		    kith_strerror(rc));
	return (rc);
}

static int
read_line_fd(int fd, uint8_t *buf, size_t cap, size_t *len)
{
	size_t n = 0;
	ssize_t r;
	char c;

	while (n < cap) {
		r = read(fd, &c, 1);
		if (r <= 0 || c == '\n')
			break;
		buf[n++] = (uint8_t)c;
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	*len = n;
	return (n == cap ? KITH_ETOOBIG : 0);
}

static int
ask_tty(const char *prompt, uint8_t *buf, size_t *len)
{
	struct termios old, noecho;
	int fd, rc;

	/* Nothing prompts unless standard input is a terminal: a script
	 * gets a clear failure instead of a hang (kith(1)). */
	if (!isatty(STDIN_FILENO) ||
	    (fd = open("/dev/tty", O_RDWR | O_CLOEXEC)) == -1)
		return (KITH_ENOENT);
	(void)!write(fd, prompt, strlen(prompt));
	if (tcgetattr(fd, &old) == 0) {
		noecho = old;
		noecho.c_lflag &= ~(tcflag_t)ECHO;
		(void)tcsetattr(fd, TCSAFLUSH, &noecho);
	}
	rc = read_line_fd(fd, buf, MAXPASS, len);
	(void)tcsetattr(fd, TCSAFLUSH, &old);
	(void)!write(fd, "\n", 1);
	close(fd);
	return (rc);
}

int
cli_passphrase(const char *prompt, int confirm, uint8_t **pass, size_t *len)
{

	return (cli_secret(cli.passfile, "--passphrase-file", prompt, confirm,
	    pass, len));
}

int
cli_secret(const char *file, const char *opt, const char *prompt,
    int confirm, uint8_t **pass, size_t *len)
{
	uint8_t *p, *q;
	size_t n, m;
	int fd, rc;

	if ((p = sodium_malloc(2 * MAXPASS)) == NULL)
		return (KITH_ENOMEM);
	q = p + MAXPASS;
	if (file != NULL) {
		if ((fd = open(file, O_RDONLY | O_CLOEXEC)) == -1) {
			sodium_free(p);
			cli_fail(KITH_EIO, "cannot read %s (%s)", file, opt);
			return (KITH_EIO);
		}
		rc = read_line_fd(fd, p, MAXPASS, &n);
		close(fd);
	} else {
		rc = ask_tty(prompt, p, &n);
		if (rc == KITH_ENOENT) {
			sodium_free(p);
			cli_needpass(opt);
			return (KITH_ELOCKED);
		}
		if (rc == 0 && confirm) {
			rc = ask_tty("Repeat the passphrase: ", q, &m);
			if (rc == 0 && (m != n || sodium_memcmp(p, q, n))) {
				sodium_free(p);
				cli_fail(KITH_EINVAL, "the two passphrases"
				    " differ; nothing was changed");
				return (KITH_EINVAL);
			}
		}
	}
	if (rc != 0 || n == 0) {
		sodium_free(p);
		cli_fail(KITH_EINVAL, "an empty or over-long passphrase is not"
		    " accepted");
		return (KITH_EINVAL);
	}
	if (confirm && n < 8) {
		sodium_free(p);
		cli_fail(KITH_EINVAL, "choose a passphrase of at least 8"
		    " characters");
		return (KITH_EINVAL);
	}
	sodium_memzero(q, MAXPASS);
	*pass = p;
	*len = n;
	return (0);
}

int
cli_yesno(const char *question)
{
	char a[16];
	size_t n;
	int fd;

	if (!isatty(STDIN_FILENO) ||
	    (fd = open("/dev/tty", O_RDWR | O_CLOEXEC)) == -1)
		return (0);
	(void)!write(fd, question, strlen(question));
	(void)!write(fd, " [y/N] ", 7);
	if (read_line_fd(fd, (uint8_t *)a, sizeof(a) - 1, &n) != 0)
		n = 0;
	close(fd);
	a[n] = '\0';
	return (a[0] == 'y' || a[0] == 'Y');
}

void
cli_json_out(json_t *obj)
{

	if (obj == NULL)
		return;
	if (cli.json_done) {
		/* Never a second document on stdout. */
		json_decref(obj);
		return;
	}
	json_dumpf(obj, stdout, JSON_COMPACT);
	fputc('\n', stdout);
	fflush(stdout);
	json_decref(obj);
	cli.json_done = 1;
}

const char *
cli_hex(const uint8_t *b, size_t len)
{
	static char out[65];

	if (len > 32)
		len = 32;
	kith_hex(b, len, out);
	return (out);
}

static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

static struct {
	double start, last;
	int drawn;
} bar;

void
cli_progress(void *arg, uint64_t nrec, uint64_t totrec, uint64_t nbytes,
    uint64_t totbytes)
{
	double now = mono(), el, rate, left, frac;
	char line[160], b[31];
	int i, fill;

	(void)arg;
	if (!cli.tty || cli.json)
		return;
	if (bar.start == 0)
		bar.start = now;
	if (now - bar.last < 0.1 && nrec != totrec)
		return;
	bar.last = now;
	el = now - bar.start;
	frac = totbytes ? (double)nbytes / (double)totbytes :
	    totrec ? (double)nrec / (double)totrec : 1.0;
	rate = el > 0 ? (double)nbytes / el : 0;
	left = rate > 0 ? (double)(totbytes - nbytes) / rate : 0;
	fill = (int)(frac * 30);
	for (i = 0; i < 30; i++)
		b[i] = i < fill ? '#' : '-';
	b[30] = '\0';
	snprintf(line, sizeof(line), "\r[%s] %3d%% %llu/%llu records"
	    "  %.1f MB/s  %d:%02d left ", b, (int)(frac * 100),
	    (unsigned long long)nrec, (unsigned long long)totrec, rate / 1e6,
	    (int)left / 60, (int)left % 60);
	fputs(line, stderr);
	bar.drawn = 1;
}

void
cli_progress_end(void)
{

	if (bar.drawn)
		fputc('\n', stderr);
	bar.drawn = 0;
	bar.start = bar.last = 0;
}

struct ctl_client *
cli_agent(const struct home *hm)
{
	char path[PATH_MAX];
	ctl_client *c;

	if (ctl_socket_path(hm->dir, 0, path, sizeof(path)) != 0 ||
	    ctl_connect(path, &c) != 0)
		return (NULL);
	return (c);
}

void
cli_agent_poke(const struct home *hm)
{
	ctl_client *c;
	json_t *resp = NULL;

	if ((c = cli_agent(hm)) == NULL)
		return;
	(void)ctl_call(c, json_pack("{s:s}", "op", "rescan"), &resp);
	json_decref(resp);
	ctl_close(c);
}

const char *
cli_when(uint64_t t)
{
	static char buf[32];
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0)
		return ("-");
	/* A time past gmtime's years (a peer's record can say anything). */
	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return ("?");
	return (buf);
}

int
cli_unseal(struct home *hm, uint8_t **sk)
{
	uint8_t *pass;
	size_t plen;
	int rc;

	if ((rc = cli_passphrase("Account passphrase: ", 0, &pass,
	    &plen)) != 0)
		return (rc);
	rc = home_account_sk(hm, pass, plen, sk);
	sodium_free(pass);
	if (rc == KITH_EBADPASS)
		cli_fail(rc, "wrong passphrase; nothing was changed (each try"
		    " runs Argon2id over 32 MiB on purpose, so guessing is"
		    " slow)");
	else if (rc == KITH_ESTALE)
		cli_fail(rc, "this device holds an old seal of the account"
		    " key: let it sync with another device of yours (kithd),"
		    " then try again");
	else if (rc != 0)
		cli_fail(rc, "cannot unseal the account key: %s",
		    kith_strerror(rc));
	return (rc);
}

const char *
cli_fingerprint(const uint8_t pk[32])
{
	static char fp[15];

	pair_fingerprint(pk, fp);
	return (fp);
}

int
cli_need_account(struct home *hm)
{

	if (hm->roster == NULL || hm->h == NULL)
		return (cli_fail(KITH_ENOACCOUNT, "this device is not part of"
		    " an account: run 'kith init --name NAME' (or 'kith join')"
		    " first"));
	return (0);
}
