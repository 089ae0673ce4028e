/*
 * test_libkith: the public library as an app sees it: linked against the
 * shared libkith, with kith.h alone of kith's headers (and jansson, which
 * an app would pick for its JSON).  What it checks against comes from the
 * real `kith` command (kith init, devices --export --json, invite create)
 * and a real kithd, started here in a temporary home:
 *
 *   1. version and error strings;
 *   2. kith_roster_check on an exported roster: accepted, and refused when
 *      forged, for another account, stale, or for a device not listed;
 *   3. kith_invitation_check on a real invitation: valid, other service,
 *      expired, altered, another account's roster, not an invitation;
 *   4. the client against kithd: not running, status, append, read back,
 *      a subscriber's record event, refusals (bad_record, reserved,
 *      unknown_op; locked on a locked agent, then unlock), client-side
 *      refusals, and the agent gone (ECLOSED);
 *   5. the bounds, against a stand-in for the agent (the real one never
 *      breaks the protocol): a line over KITH_CLIENT_MAXLINE, a line that
 *      is not JSON.
 *
 * Needs KITH_BIN (the directory of kith and kithd).  As root, kithd runs
 * in a network namespace of its own (no interface: it listens, and
 * nothing can reach it but the control socket).
 */
#define _GNU_SOURCE
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "kith.h"

static int npass, nfail;

#define CHECK(c)	check_((c), #c, __LINE__)
#define CHECK_RC(e, want)	check_rc_((e), (want), #e, __LINE__)

static int
check_(int ok, const char *what, int line)
{

	if (ok)
		npass++;
	else {
		nfail++;
		fprintf(stderr, "test_libkith.c:%d: check failed: %s\n", line,
		    what);
	}
	return (ok);
}

static int
check_rc_(int got, int want, const char *what, int line)
{

	if (got == want)
		npass++;
	else {
		nfail++;
		fprintf(stderr, "test_libkith.c:%d: %s: got %d (%s), want %d"
		    " (%s)\n", line, what, got, kith_lib_strerror(got), want,
		    kith_lib_strerror(want));
	}
	return (got == want);
}

static char tmp[256];
static pid_t agent = -1;

/* Give up: no agent of ours left behind. */
static void
die(const char *what)
{
	char cmd[300];
	int st;

	fprintf(stderr, "test_libkith: %s\n", what);
	if (agent > 0) {
		kill(agent, SIGTERM);
		waitpid(agent, &st, 0);
	}
	if (strncmp(tmp, "/tmp/test_libkith.", 18) == 0 &&
	    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp) < (int)sizeof(cmd))
		(void)!system(cmd);
	exit(1);
}

static char home[300], home2[300], passfile[300], kith[512],
    kithd[512];

/* The stdout of a shell command (the caller frees), or NULL on failure. */
static char *
run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *
run(const char *fmt, ...)
{
	char cmd[4096], *out = NULL;
	size_t len = 0, cap = 0, k;
	va_list ap;
	FILE *p;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if ((p = popen(cmd, "r")) == NULL)
		return (NULL);
	for (;;) {
		if (len + 4097 > cap) {
			cap = cap * 2 + 8192;
			if ((out = realloc(out, cap)) == NULL)
				die("out of memory");
		}
		if ((k = fread(out + len, 1, 4096, p)) == 0)
			break;
		len += k;
	}
	out[len] = '\0';
	if (pclose(p) != 0) {
		fprintf(stderr, "test_libkith: failed: %s\n", cmd);
		free(out);
		return (NULL);
	}
	return (out);
}

static json_t *
parse(const char *s)
{
	json_t *o = s != NULL ? json_loads(s, 0, NULL) : NULL;

	return (o);
}

static const char *
jstr(json_t *o, const char *path1, const char *path2)
{
	json_t *v = json_object_get(o, path1);

	if (path2 != NULL)
		v = json_object_get(v, path2);
	return (json_is_string(v) ? json_string_value(v) : "");
}

static uint8_t *
slurp(const char *path, size_t *len)
{
	uint8_t *b;
	FILE *f;
	long n;

	if ((f = fopen(path, "rb")) == NULL || fseek(f, 0, SEEK_END) != 0 ||
	    (n = ftell(f)) <= 0 || fseek(f, 0, SEEK_SET) != 0 ||
	    (b = malloc((size_t)n)) == NULL ||
	    fread(b, 1, (size_t)n, f) != (size_t)n)
		die("cannot read a file");
	fclose(f);
	*len = (size_t)n;
	return (b);
}

/* ---- 1 -------------------------------------------------------------- */

static void
test_version_errors(void)
{
	const char *m[64];
	int e, i, dup;

	CHECK(strcmp(kith_lib_version(), KITH_TEST_VERSION) == 0);
	CHECK(strcmp(kith_lib_strerror(KITH_LIB_OK), "success") == 0);
	/* Every code has its own message; anything else is unknown. */
	dup = 0;
	for (e = KITH_LIB_EINVAL; e >= KITH_LIB_ETRUNC; e--) {
		m[-e] = kith_lib_strerror(e);
		CHECK(strcmp(m[-e], "unknown error") != 0);
		for (i = 1; i < -e; i++)
			dup += strcmp(m[i], m[-e]) == 0;
	}
	CHECK(dup == 0);
	CHECK(strcmp(kith_lib_strerror(KITH_LIB_ETRUNC - 1),
	    "unknown error") == 0);
	CHECK(strcmp(kith_lib_strerror(1), "unknown error") == 0);
	CHECK(strcmp(kith_lib_strerror(KITH_LIB_ELOCKED),
	    kith_lib_strerror(KITH_LIB_EREFUSED)) != 0);
	kith_free(NULL);
}

/* ---- 2 -------------------------------------------------------------- */

static char account[65], device[65], account2[65];
static uint8_t *roster, *roster2, *roster2b;
static size_t rlen, r2len, r2blen;

static void
make_homes(void)
{
	json_t *o;
	char *s;

	snprintf(home, sizeof(home), "%s/home", tmp);
	snprintf(home2, sizeof(home2), "%s/home2", tmp);
	snprintf(passfile, sizeof(passfile), "%s/pass", tmp);
	free(run("printf 'correct horse battery\\n' > %s && chmod 600 %s",
	    passfile, passfile));
	if ((s = run("%s --home %s --passphrase-file %s init --name laptop"
	    " && %s --home %s devices --export %s/roster >/dev/null"
	    " && %s --home %s devices --json", kith, home, passfile, kith,
	    home, tmp, kith, home)) == NULL)
		die("kith init / devices failed");
	o = parse(strstr(s, "{\"ok\""));
	snprintf(account, sizeof(account), "%s", jstr(o, "account", NULL));
	snprintf(device, sizeof(device), "%s", jstr(json_array_get(
	    json_object_get(o, "devices"), 0), "id", NULL));
	json_decref(o);
	free(s);
	if ((s = run("%s --home %s --passphrase-file %s init --name other"
	    " >/dev/null && %s --home %s devices --export %s/roster2"
	    " >/dev/null && %s --home %s devices --json", kith, home2,
	    passfile, kith, home2, tmp, kith, home2)) == NULL)
		die("second kith init failed");
	o = parse(s);
	snprintf(account2, sizeof(account2), "%s", jstr(o, "account", NULL));
	json_decref(o);
	free(s);
	/* A new passphrase seal: roster version 2 of the other account. */
	if ((s = run("printf 'another passphrase\\n' > %s/pass2 && chmod 600"
	    " %s/pass2 && %s --home %s --passphrase-file %s passphrase"
	    " --new-passphrase-file %s/pass2 >/dev/null && %s --home %s"
	    " devices --export %s/roster2b >/dev/null", tmp, tmp, kith, home2,
	    passfile, tmp, kith, home2, tmp)) == NULL)
		die("kith passphrase failed");
	free(s);
	if (strlen(account) != 64 || strlen(device) != 64 ||
	    strlen(account2) != 64)
		die("kith devices --json gave no account or device id");
	{
		char p[400];

		snprintf(p, sizeof(p), "%s/roster", tmp);
		roster = slurp(p, &rlen);
		snprintf(p, sizeof(p), "%s/roster2", tmp);
		roster2 = slurp(p, &r2len);
		snprintf(p, sizeof(p), "%s/roster2b", tmp);
		roster2b = slurp(p, &r2blen);
	}
}

static void
test_roster(void)
{
	char *info = NULL, other[65];
	uint8_t *bad;
	json_t *o;
	size_t i;

	CHECK_RC(kith_roster_check(roster, rlen, account, NULL, 0, device,
	    &info), 0);
	o = parse(info);
	CHECK(o != NULL);
	CHECK(strcmp(jstr(o, "account", NULL), account) == 0);
	CHECK(json_integer_value(json_object_get(o, "version")) == 1);
	CHECK(strcmp(jstr(o, "device", "status"), "active") == 0);
	CHECK(strcmp(jstr(json_array_get(json_object_get(o, "devices"), 0),
	    "id", NULL), device) == 0);
	CHECK(strcmp(jstr(json_array_get(json_object_get(o, "devices"), 0),
	    "name", NULL), "laptop") == 0);
	json_decref(o);
	kith_free(info);

	/* First contact: the account the roster names; no device judged. */
	CHECK_RC(kith_roster_check(roster, rlen, NULL, NULL, 0, NULL, NULL),
	    0);
	/* Pinned to another account. */
	CHECK_RC(kith_roster_check(roster, rlen, account2, NULL, 0, device,
	    &info), KITH_LIB_EFORGED);
	CHECK(info == NULL);
	/* A device not on it. */
	memcpy(other, device, sizeof(other));
	other[0] = other[0] == '0' ? '1' : '0';
	CHECK_RC(kith_roster_check(roster, rlen, account, NULL, 0, other,
	    &info), KITH_LIB_ENOTMEMBER);
	o = parse(info);
	CHECK(strcmp(jstr(o, "device", "status"), "absent") == 0);
	json_decref(o);
	kith_free(info);
	/* The very roster held is fine; a newer one replaces it; an older
	 * one does not. */
	CHECK_RC(kith_roster_check(roster, rlen, account, roster, rlen,
	    device, NULL), 0);
	CHECK_RC(kith_roster_check(roster2b, r2blen, account2, roster2, r2len,
	    NULL, &info), 0);
	o = parse(info);
	CHECK(json_integer_value(json_object_get(o, "version")) == 2);
	json_decref(o);
	kith_free(info);
	CHECK_RC(kith_roster_check(roster2, r2len, account2, roster2b, r2blen,
	    NULL, &info), KITH_LIB_ESTALE);
	CHECK(info == NULL);
	/* Another account's roster where this one was held. */
	CHECK_RC(kith_roster_check(roster2, r2len, NULL, roster, rlen, NULL,
	    NULL), KITH_LIB_EFORGED);
	/* Any byte changed: forged or malformed, never accepted. */
	if ((bad = malloc(rlen)) == NULL)
		die("out of memory");
	for (i = 0; i < rlen; i += 7) {
		int rc;

		memcpy(bad, roster, rlen);
		bad[i] ^= 0x20;
		rc = kith_roster_check(bad, rlen, account, NULL, 0, device,
		    NULL);
		if (!CHECK(rc == KITH_LIB_EFORGED || rc == KITH_LIB_EFORMAT ||
		    rc == KITH_LIB_EVERSION))
			break;
	}
	CHECK_RC(kith_roster_check(roster, rlen - 1, account, NULL, 0, NULL,
	    NULL), KITH_LIB_EFORMAT);
	free(bad);
	/* Usage. */
	CHECK_RC(kith_roster_check(NULL, 0, NULL, NULL, 0, NULL, NULL),
	    KITH_LIB_EINVAL);
	CHECK_RC(kith_roster_check(roster, rlen, "abc", NULL, 0, NULL, NULL),
	    KITH_LIB_EINVAL);
	CHECK_RC(kith_roster_check(roster, rlen, account, NULL, 0, "xyz",
	    NULL), KITH_LIB_EINVAL);
}

/* ---- 3 -------------------------------------------------------------- */

static void
test_invitation(void)
{
	char *s, *info = NULL, code[2048], id[64];
	json_t *o;
	size_t n;
	int rc;

	if ((s = run("%s --home %s --passphrase-file %s --json invite create"
	    " --service https://chat.example.org --alias alice --no-hints",
	    kith, home, passfile)) == NULL)
		die("kith invite create failed");
	o = parse(s);
	snprintf(code, sizeof(code), "%s", jstr(o, "code", NULL));
	snprintf(id, sizeof(id), "%s", jstr(o, "id", NULL));
	json_decref(o);
	free(s);
	if (strncmp(code, "KITH-INVITE:", 12) != 0)
		die("kith invite create gave no code");

	CHECK_RC(kith_invitation_check(code, NULL, 0, NULL, 0, &info), 0);
	o = parse(info);
	CHECK(strcmp(jstr(o, "id", NULL), id) == 0);
	CHECK(strcmp(jstr(o, "service", NULL), "https://chat.example.org") ==
	    0);
	CHECK(strcmp(jstr(o, "alias", NULL), "alice") == 0);
	CHECK(strcmp(jstr(o, "account", NULL), account) == 0);
	CHECK(strcmp(jstr(o, "device_id", NULL), device) == 0);
	CHECK(json_is_false(json_object_get(o, "roster_checked")));
	CHECK(json_object_get(o, "secret") == NULL);
	json_decref(o);
	kith_free(info);
	/* With the inviter's roster, and the service named. */
	CHECK_RC(kith_invitation_check(code, roster, rlen,
	    "https://chat.example.org", 0, &info), 0);
	o = parse(info);
	CHECK(json_is_true(json_object_get(o, "roster_checked")));
	json_decref(o);
	kith_free(info);
	CHECK_RC(kith_invitation_check(code, NULL, 0,
	    "https://other.example.org", 0, NULL), KITH_LIB_EWRONGKIND);
	/* A day later (it lasts 4 hours). */
	CHECK_RC(kith_invitation_check(code, NULL, 0, NULL,
	    (int64_t)time(NULL) + 86400, &info), KITH_LIB_EEXPIRED);
	CHECK(info != NULL);	/* what it was is still told */
	kith_free(info);
	/* Another account's roster. */
	CHECK_RC(kith_invitation_check(code, roster2, r2len, NULL, 0, NULL),
	    KITH_LIB_EROSTER);
	/* Altered: one base32 letter swapped in the middle. */
	n = strlen(code);
	code[n / 2] = code[n / 2] == 'A' ? 'B' : 'A';
	rc = kith_invitation_check(code, NULL, 0, NULL, 0, NULL);
	CHECK(rc == KITH_LIB_EFORGED || rc == KITH_LIB_EFORMAT);
	CHECK_RC(kith_invitation_check("hello", NULL, 0, NULL, 0, &info),
	    KITH_LIB_EFORMAT);
	CHECK(info == NULL);
	CHECK_RC(kith_invitation_check("KITH-PAIR:AAAA", NULL, 0, NULL, 0,
	    NULL), KITH_LIB_EWRONGKIND);
	CHECK_RC(kith_invitation_check(NULL, NULL, 0, NULL, 0, NULL),
	    KITH_LIB_EINVAL);
}

/* ---- 4 -------------------------------------------------------------- */

static void
agent_start(int unlocked)
{
	char log[400];
	int fd;

	snprintf(log, sizeof(log), "%s/kithd.log", tmp);
	if ((agent = fork()) == -1)
		die("fork");
	if (agent == 0) {
		/* Nothing reaches it but its control socket. */
		if (geteuid() == 0 && unshare(CLONE_NEWNET) != 0)
			_exit(126);
		if ((fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600)) >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if (unlocked)
			setenv("KITH_PASSPHRASE_FILE", passfile, 1);
		else
			unsetenv("KITH_PASSPHRASE_FILE");
		execl(kithd, "kithd", "--home", home, "--foreground",
		    "--no-mdns", (char *)NULL);
		_exit(127);
	}
}

static void
agent_stop(void)
{
	int st;

	if (agent <= 0)
		return;
	kill(agent, SIGTERM);
	waitpid(agent, &st, 0);
	agent = -1;
}

/* A client of the agent, once it answers (30 s at most). */
static kith_client *
agent_client(void)
{
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	kith_client *c;
	int i, rc = -1;

	for (i = 0; i < 600; i++) {
		if ((rc = kith_client_open(home, &c)) == 0)
			return (c);
		nanosleep(&ts, NULL);
	}
	fprintf(stderr, "test_libkith: no agent: %s\n", kith_lib_strerror(rc));
	free(run("tail -20 %s/kithd.log >&2", tmp));
	die("the agent did not answer");
	return (NULL);
}

static json_t *
call(kith_client *c, const char *req, int want)
{
	char *reply = NULL;
	json_t *o;
	int rc;

	rc = kith_client_call(c, req, &reply);
	if (!CHECK_RC(rc, want))
		fprintf(stderr, "  request %s\n  reply %s\n", req,
		    reply ? reply : "(none)");
	o = parse(reply);
	kith_free(reply);
	return (o);
}

/* A request the agent refuses: ${want} from the library, ${code} as the
 * agent's error code in the reply it still hands over. */
static void
refused(kith_client *c, const char *req, int want, const char *code)
{
	json_t *o = call(c, req, want);

	CHECK(strcmp(jstr(o, "error", "code"), code) == 0);
	json_decref(o);
}

/*
 * kith_seal and kith_open through the agent: sealed for this account's own
 * devices, opened back, and the same envelope opened by 'kith open';
 * altered, cut, or no envelope at all: refused with the library's codes.
 */
static void
test_seal_api(kith_client *c)
{
	static const char msg[] = "the figures for the meeting";
	void *env = NULL, *data = NULL;
	size_t envlen = 0, dlen = 0;
	char *info = NULL, *out, path[320];
	json_t *o;
	FILE *f;

	CHECK_RC(kith_seal(c, "{\"self\":true,\"name\":\"figures.txt\"}", msg,
	    sizeof(msg) - 1, &env, &envlen, &info), 0);
	CHECK(envlen > 100 && memcmp(env, "KITHSEAL", 8) == 0);
	o = parse(info);
	CHECK(json_integer_value(json_object_get(o, "bytes")) ==
	    (json_int_t)sizeof(msg) - 1);
	json_decref(o);
	kith_free(info);
	CHECK(memmem(env, envlen, "figures for", 11) == NULL);
	CHECK_RC(kith_open(c, env, envlen, &data, &dlen, &info), 0);
	CHECK(dlen == sizeof(msg) - 1 && memcmp(data, msg, dlen) == 0);
	o = parse(info);
	CHECK(strcmp(jstr(o, "sender", "how"), "self") == 0);
	CHECK(strcmp(jstr(o, "sender", "account"), account) == 0);
	CHECK(strcmp(jstr(o, "sender", "device"), device) == 0);
	CHECK(strcmp(jstr(o, "name", NULL), "figures.txt") == 0);
	json_decref(o);
	kith_free(info);
	kith_free(data);
	/* The kith command opens what the library had sealed. */
	snprintf(path, sizeof(path), "%s/env.kseal", tmp);
	if ((f = fopen(path, "wb")) != NULL) {
		CHECK(fwrite(env, 1, envlen, f) == envlen);
		fclose(f);
	}
	out = run("%s --home %s open %s 2>/dev/null", kith, home, path);
	CHECK(out != NULL && strcmp(out, msg) == 0);
	free(out);
	/* Altered in its signature frame, cut, not an envelope. */
	((uint8_t *)env)[envlen - 30] ^= 0x04;
	CHECK_RC(kith_open(c, env, envlen, &data, &dlen, &info),
	    KITH_LIB_EFORGED);
	CHECK(data == NULL && dlen == 0);
	o = parse(info);
	CHECK(strcmp(jstr(o, "error", "code"), "tampered") == 0);
	json_decref(o);
	kith_free(info);
	((uint8_t *)env)[envlen - 30] ^= 0x04;
	CHECK_RC(kith_open(c, env, envlen - 10, &data, &dlen, NULL),
	    KITH_LIB_ETRUNC);
	CHECK_RC(kith_open(c, "hello", 5, &data, &dlen, NULL),
	    KITH_LIB_EFORMAT);
	kith_free(env);
	/* Armoured; and refusals before anything is sealed. */
	CHECK_RC(kith_seal(c, "{\"armour\":true}", msg, sizeof(msg) - 1,
	    &env, &envlen, NULL), 0);
	CHECK(envlen > 36 && memcmp(env, "-----BEGIN KITH SEALED MESSAGE-----",
	    35) == 0);
	CHECK_RC(kith_open(c, env, envlen, &data, &dlen, NULL), 0);
	CHECK(dlen == sizeof(msg) - 1 && memcmp(data, msg, dlen) == 0);
	kith_free(data);
	kith_free(env);
	CHECK_RC(kith_seal(c, "{\"to\":[\"nobody\"]}", msg, 3, &env, &envlen,
	    &info), KITH_LIB_EINVAL);
	o = parse(info);
	CHECK(strcmp(jstr(o, "error", "code"), "unknown_contact") == 0);
	json_decref(o);
	kith_free(info);
	CHECK_RC(kith_seal(c, "[1]", msg, 3, &env, &envlen, NULL),
	    KITH_LIB_EINVAL);
	CHECK_RC(kith_seal(c, NULL, msg, KITH_SEAL_MAX + 1, &env, &envlen,
	    NULL), KITH_LIB_ETOOBIG);
}

static void
test_client(void)
{
	kith_client *c, *sub;
	char *ev = NULL, *reply = NULL, *dev_from_cli;
	json_t *o, *recs;
	json_int_t nrec;
	int rc, i;

	CHECK_RC(kith_client_open(home, &c), KITH_LIB_ENOTRUNNING);
	CHECK(c == NULL);
	CHECK_RC(kith_client_open(home, NULL), KITH_LIB_EINVAL);

	/* A locked agent (no passphrase at its start) refuses reads. */
	agent_start(0);
	c = agent_client();
	refused(c, "{\"op\":\"read\",\"service\":\"test.example\"}",
	    KITH_LIB_ELOCKED, "locked");
	refused(c, "{\"op\":\"unlock\",\"passphrase\":\"wrong one\"}",
	    KITH_LIB_EREFUSED, "bad_passphrase");
	o = call(c, "{\"id\":\"u\",\"op\":\"unlock\",\"passphrase\":"
	    "\"correct horse battery\"}", 0);
	CHECK(json_is_false(json_object_get(o, "locked")));
	CHECK(strcmp(jstr(o, "id", NULL), "u") == 0);
	json_decref(o);

	o = call(c, "{\"op\":\"count\"}", 0);
	nrec = json_integer_value(json_object_get(o, "records"));
	json_decref(o);

	/* Status, against what the kith command says. */
	o = call(c, "{\"op\":\"status\"}", 0);
	CHECK(strcmp(jstr(o, "device", "id"), device) == 0);
	CHECK(json_is_false(json_object_get(o, "locked")));
	json_decref(o);
	dev_from_cli = run("%s --home %s status --json", kith, home);
	o = parse(dev_from_cli);
	CHECK(json_is_true(json_object_get(json_object_get(o, "agent"),
	    "running")));
	json_decref(o);
	free(dev_from_cli);

	/* A subscriber, then a record appended by another client. */
	sub = agent_client();
	o = call(sub, "{\"op\":\"subscribe\",\"events\":[\"record\"]}", 0);
	json_decref(o);
	CHECK_RC(kith_client_next_event(sub, 0, &ev), KITH_LIB_ETIMEOUT);
	CHECK(ev == NULL);
	CHECK(kith_client_fd(sub) >= 0);
	o = call(c, "{\"id\":7,\"op\":\"append\",\"record\":{\"service\":"
	    "\"test.example\",\"id\":\"m1\",\"time\":1795000000000,\"body\":"
	    "\"hello, kith\"}}", 0);
	CHECK(json_is_true(json_object_get(o, "added")));
	CHECK(strcmp(jstr(o, "origin", NULL), device) == 0);
	CHECK(json_integer_value(json_object_get(o, "id")) == 7);
	json_decref(o);
	CHECK_RC(kith_client_next_event(sub, 10000, &ev), 0);
	o = parse(ev);
	CHECK(strcmp(jstr(o, "event", NULL), "record") == 0);
	CHECK(strcmp(jstr(o, "record", "id"), "m1") == 0);
	json_decref(o);
	kith_free(ev);
	/* Pretty-printed requests go out as one line. */
	o = call(c, "{\n  \"op\": \"read\",\n  \"service\": \"test.example\"\n}",
	    0);
	recs = json_object_get(o, "records");
	CHECK(json_array_size(recs) == 1);
	CHECK(strcmp(jstr(json_object_get(json_array_get(recs, 0), "record"),
	    "body", NULL), "hello, kith") == 0);
	json_decref(o);
	/* An event that comes while the subscriber waits for a reply is
	 * kept for it. */
	o = call(c, "{\"op\":\"append\",\"record\":{\"service\":"
	    "\"test.example\",\"id\":\"m2\"}}", 0);
	json_decref(o);
	for (i = 0; i < 3; i++) {
		o = call(sub, "{\"op\":\"count\"}", 0);
		json_decref(o);
	}
	CHECK_RC(kith_client_next_event(sub, 10000, &ev), 0);
	o = parse(ev);
	CHECK(strcmp(jstr(o, "record", "id"), "m2") == 0);
	json_decref(o);
	kith_free(ev);
	o = call(sub, "{\"op\":\"count\"}", 0);
	CHECK(json_integer_value(json_object_get(o, "records")) == nrec + 2);
	json_decref(o);

	/* The agent's refusals: the reply comes with them. */
	refused(c, "{\"op\":\"append\",\"record\":{\"service\":\"x\"}}",
	    KITH_LIB_EREFUSED, "bad_record");
	refused(c, "{\"op\":\"append\",\"record\":{\"service\":"
	    "\"kith:contact\",\"id\":\"forged\"}}", KITH_LIB_EREFUSED,
	    "reserved");
	refused(c, "{\"op\":\"launch\"}", KITH_LIB_EREFUSED, "unknown_op");
	/* Refused here, nothing sent; the connection goes on. */
	CHECK_RC(kith_client_call(c, "not json", &reply), KITH_LIB_EINVAL);
	CHECK(reply == NULL);
	CHECK_RC(kith_client_call(c, "[1, 2]", &reply), KITH_LIB_EINVAL);
	CHECK_RC(kith_client_call(c, "{\"op\":\"count\"} {}", &reply),
	    KITH_LIB_EINVAL);
	CHECK_RC(kith_client_call(NULL, "{}", &reply), KITH_LIB_EINVAL);
	o = call(c, "{\"op\":\"count\"}", 0);
	CHECK(json_integer_value(json_object_get(o, "records")) == nrec + 2);
	json_decref(o);
	CHECK_RC(kith_client_next_event(c, 100, &ev), KITH_LIB_ETIMEOUT);

	test_seal_api(c);

	/* The agent goes: the connection is closed, and stays so. */
	agent_stop();
	rc = kith_client_call(c, "{\"op\":\"count\"}", &reply);
	CHECK_RC(rc, KITH_LIB_ECLOSED);
	CHECK(reply == NULL);
	CHECK_RC(kith_client_call(c, "{\"op\":\"count\"}", &reply),
	    KITH_LIB_ECLOSED);
	CHECK(kith_client_fd(c) == -1);
	CHECK_RC(kith_client_next_event(sub, 5000, &ev), KITH_LIB_ECLOSED);
	kith_client_close(c);
	kith_client_close(sub);
	kith_client_close(NULL);
	CHECK_RC(kith_client_open(home, &c), KITH_LIB_ENOTRUNNING);
}

/* ---- 5 -------------------------------------------------------------- */

/* A stand-in agent at $KITH_SOCKET: reads one request line, answers with
 * ${what}: 0 a line one byte over the limit, 1 a line that is not JSON. */
static pid_t
fake_agent(const char *path, int what)
{
	struct sockaddr_un sa;
	int ls, fd;
	pid_t pid;
	char ch, *big;
	size_t n;

	unlink(path);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path))
		die("socket path too long");
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((ls = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    bind(ls, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    listen(ls, 1) == -1)
		die("fake agent socket");
	if ((pid = fork()) == -1)
		die("fork");
	if (pid > 0) {
		close(ls);
		return (pid);
	}
	alarm(60);
	if ((fd = accept(ls, NULL, NULL)) == -1)
		_exit(1);
	while (read(fd, &ch, 1) == 1 && ch != '\n')
		;
	if (what == 0) {
		/* {"ok":true,"x":"xxx..."} one byte longer than allowed */
		n = KITH_CLIENT_MAXLINE + 1;
		if ((big = malloc(n + 1)) == NULL)
			_exit(1);
		memset(big, 'x', n);
		memcpy(big, "{\"ok\":true,\"x\":\"", 16);
		memcpy(big + n - 2, "\"}", 2);
		big[n] = '\n';
		(void)!write(fd, big, n + 1);
	} else
		(void)!write(fd, "{\"ok\":tru\n", 10);
	/* Then hang up: a client that took the line waits for no more. */
	_exit(0);
}

static void
test_bounds(void)
{
	char path[400], *reply = NULL;
	kith_client *c;
	pid_t pid;
	int what, st;
	int want[2] = { KITH_LIB_ETOOBIG, KITH_LIB_EPROTO };

	snprintf(path, sizeof(path), "%s/fake.sock", tmp);
	setenv("KITH_SOCKET", path, 1);
	for (what = 0; what < 2; what++) {
		pid = fake_agent(path, what);
		if (!CHECK_RC(kith_client_open(NULL, &c), 0)) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			continue;
		}
		CHECK_RC(kith_client_call(c, "{\"op\":\"status\"}", &reply),
		    want[what]);
		CHECK(reply == NULL);
		CHECK_RC(kith_client_call(c, "{\"op\":\"status\"}", &reply),
		    KITH_LIB_ECLOSED);
		kith_client_close(c);
		waitpid(pid, &st, 0);
	}
	unsetenv("KITH_SOCKET");
	unlink(path);
}

int
main(void)
{
	const char *bin = getenv("KITH_BIN");
	char rd[300];

	if (bin == NULL)
		die("KITH_BIN (the directory of kith and kithd) is not set");
	snprintf(kith, sizeof(kith), "%s/kith", bin);
	snprintf(kithd, sizeof(kithd), "%s/kithd", bin);
	snprintf(tmp, sizeof(tmp), "/tmp/test_libkith.XXXXXX");
	if (mkdtemp(tmp) == NULL)
		die("mkdtemp");
	/* The agent's runtime directory, and no other home by accident. */
	snprintf(rd, sizeof(rd), "%s/run", tmp);
	if (mkdir(rd, 0700) != 0)
		die("mkdir");
	setenv("XDG_RUNTIME_DIR", rd, 1);
	unsetenv("KITH_SOCKET");
	unsetenv("KITH_HOME");
	unsetenv("KITH_PASSPHRASE_FILE");
	signal(SIGPIPE, SIG_IGN);

	test_version_errors();
	make_homes();
	test_roster();
	test_invitation();
	test_client();
	test_bounds();

	agent_stop();
	free(roster);
	free(roster2);
	free(roster2b);
	free(run("rm -rf %s", tmp));
	printf("test_libkith: %d passed, %d failed\n", npass, nfail);
	return (nfail == 0 ? 0 : 1);
}
