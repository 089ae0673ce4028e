/* kith history add | import FILE.jsonl | export | count */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cli.h"
#include "contacts.h"
#include "ctlsock.h"
#include "kith_err.h"

static const char history_usage[] =
    "usage: kith history add [JSON]     (no JSON: one record per line of"
    " standard input)\n"
    "       kith history add --service S --id I [--from F] [--to T]"
    " [--time T] [--subject S] [--body B]\n"
    "       kith history import FILE.jsonl   (- for standard input)\n"
    "       kith history export [--out FILE]\n"
    "       kith history count\n"
    "A record is one JSON object with string members \"service\" and"
    " \"id\";\nthe pair is its identity, and its bytes are kept exactly.\n";

static int
open_hist(struct home **hm, int flags)
{

	if (cli_open(flags, hm) != 0)
		return (1);
	if ((*hm)->h == NULL && !(flags & CLI_LOCKED)) {
		home_close(*hm);
		*hm = NULL;
		cli_fail(KITH_ENOACCOUNT, "this device holds no history keys"
		    " yet: run 'kith init' or 'kith join'");
		return (1);
	}
	return (0);
}

/*
 * Import lines from ${f} in one transaction: a bad line anywhere stores
 * nothing, and says which line.
 */
static int
import_stream(struct home *hm, FILE *f, const char *what)
{
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t n;
	uint64_t added = 0, dup = 0;
	int rc, a;

	if ((rc = store_begin(hm->st)) != 0)
		return (cli_fail(rc, "cannot write the store: %s",
		    kith_strerror(rc)));
	while ((n = getline(&line, &cap, f)) != -1) {
		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			n--;
		if (n == 0)
			continue;
		if ((rc = hist_add(hm->h, line, (size_t)n, &a)) != 0) {
			store_rollback(hm->st);
			free(line);
			if (rc == KITH_EFORMAT)
				return (cli_fail(rc, "%s, line %zu: not a JSON"
				    " object with string \"service\" and \"id\";"
				    " nothing was imported", what, lineno));
			if (rc == KITH_ETOOBIG)
				return (cli_fail(rc, "%s, line %zu: a record"
				    " is limited to 16 MiB; nothing was"
				    " imported", what, lineno));
			if (rc == KITH_EPERM)
				return (cli_fail(rc, "%s, line %zu: services"
				    " named \"kith:...\" are kith's own"
				    " (contacts, invitations); nothing was"
				    " imported", what, lineno));
			return (cli_fail(rc, "%s, line %zu: %s; nothing was"
			    " imported", what, lineno, kith_strerror(rc)));
		}
		added += (uint64_t)a;
		dup += (uint64_t)!a;
	}
	free(line);
	if (ferror(f)) {
		store_rollback(hm->st);
		return (cli_fail(KITH_EIO, "cannot read %s; nothing was"
		    " imported", what));
	}
	if ((rc = store_commit(hm->st)) != 0)
		return (cli_fail(rc, "cannot commit to the store: %s",
		    kith_strerror(rc)));
	cli_agent_poke(hm);
	if (cli.json)
		cli_json_out(json_pack("{s:b, s:I, s:I}", "ok", 1, "added",
		    (json_int_t)added, "duplicates", (json_int_t)dup));
	else
		printf("%llu record(s) added, %llu already held\n",
		    (unsigned long long)added, (unsigned long long)dup);
	return (0);
}

static int
add_one(struct home *hm, int argc, char **argv)
{
	static const char *const fields[] = { "service", "id", "from", "to",
	    "time", "subject", "body" };
	json_t *o, *resp;
	ctl_client *c;
	char *text;
	size_t i, k;
	int rc, a;

	if (argc == 2 && argv[1][0] != '-') {
		text = strdup(argv[1]);
	} else if (argc == 1) {
		return (import_stream(hm, stdin, "standard input"));
	} else {
		o = json_object();
		for (i = 1; i < (size_t)argc; i++) {
			for (k = 0; k < sizeof(fields) / sizeof(fields[0]); k++)
				if (strncmp(argv[i], "--", 2) == 0 &&
				    strcmp(argv[i] + 2, fields[k]) == 0)
					break;
			if (k == sizeof(fields) / sizeof(fields[0]) ||
			    i + 1 >= (size_t)argc) {
				json_decref(o);
				return (cli_fail(KITH_EINVAL, "history add:"
				    " unexpected '%s'\n%s", argv[i],
				    history_usage));
			}
			json_object_set_new(o, fields[k],
			    json_string(argv[++i]));
		}
		text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
		json_decref(o);
	}
	if (text == NULL)
		return (cli_fail(KITH_ENOMEM, "out of memory"));
	/* With the agent running, through it: it sends the record on. */
	if ((c = cli_agent(hm)) != NULL) {
		rc = ctl_call(c, json_pack("{s:s, s:s}", "op", "append",
		    "text", text), &resp);
		ctl_close(c);
		free(text);
		if (rc != 0)
			return (cli_fail(rc, "history add: the agent did not"
			    " answer: %s", kith_strerror(rc)));
		if (!json_is_true(json_object_get(resp, "ok"))) {
			rc = cli_fail(KITH_EFORMAT, "history add: %s",
			    json_string_value(json_object_get(
			    json_object_get(resp, "error"), "message")));
			json_decref(resp);
			return (rc);
		}
		a = json_is_true(json_object_get(resp, "added"));
		json_decref(resp);
		goto done;
	}
	if ((rc = store_begin(hm->st)) == 0) {
		rc = hist_add(hm->h, text, strlen(text), &a);
		if (rc == 0)
			rc = store_commit(hm->st);
		else
			store_rollback(hm->st);
	}
	free(text);
	if (rc == KITH_EFORMAT)
		return (cli_fail(rc, "history add: a record is a JSON object"
		    " with string \"service\" and \"id\""));
	if (rc == KITH_EPERM)
		return (cli_fail(rc, "history add: services named"
		    " \"kith:...\" are kith's own (contacts, invitations)"));
	if (rc != 0)
		return (cli_fail(rc, rc == KITH_ENOENT ? "history add: this"
		    " device holds no key for the account's current history"
		    " epoch (it was revoked, or must sync with another device"
		    " first)" : "history add: %s", kith_strerror(rc)));
done:
	if (cli.json)
		cli_json_out(json_pack("{s:b, s:b}", "ok", 1, "added", a));
	else
		printf(a ? "added\n" : "already held\n");
	return (0);
}

struct export_arg {
	hist *h;
	FILE *out;
	uint64_t n, bad;
	int json;	/* --json to stdout: records are members of one array */
};

static int
is_kith(const char *text, size_t len)
{
	json_t *o = json_loadb(text, len, JSON_ALLOW_NUL, NULL);
	const char *svc = json_string_value(json_object_get(o, "service"));
	int r = svc != NULL && contacts_reserved(svc, strlen(svc));

	json_decref(o);
	return (r);
}

static int
export_one(void *arg, const struct store_rec *rec)
{
	struct export_arg *e = arg;
	char *text;
	size_t len;
	int rc;

	if ((rc = hist_open_rec(e->h, rec, &text, &len)) != 0) {
		/* Not ours to read (an epoch we lack) or damaged: count. */
		e->bad++;
		return (rc == KITH_ENOMEM ? rc : 0);
	}
	/* Contacts and invitations (kith:...) are not messages, and an
	 * invitation holds its secret: 'kith contacts' shows them. */
	if (strstr(text, "\"kith:") != NULL && is_kith(text, len)) {
		sodium_memzero(text, len);
		free(text);
		return (0);
	}
	if (e->json && e->n > 0 && fputc(',', e->out) == EOF)
		rc = KITH_EIO;
	if (fwrite(text, 1, len, e->out) != len ||
	    (!e->json && fputc('\n', e->out) == EOF))
		rc = KITH_EIO;
	free(text);
	e->n++;
	return (rc);
}

static int
export(struct home *hm, int argc, char **argv)
{
	struct export_arg e = { hm->h, stdout, 0, 0, 0 };
	const char *out = NULL;
	int rc, i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
			out = argv[++i];
		else
			return (cli_fail(KITH_EINVAL, "history export:"
			    " unexpected '%s'", argv[i]));
	}
	if (out != NULL && (e.out = fopen(out, "w")) == NULL)
		return (cli_fail(KITH_EIO, "cannot write %s: %s", out,
		    strerror(errno)));
	/*
	 * --json prints one document, streamed so that memory stays flat:
	 * {"records":[...],"count":N,"ok":true}; a failure on the way
	 * closes the same object with "ok":false and the error (cli_fail).
	 */
	if (cli.json && out == NULL) {
		e.json = 1;
		fputs("{\"records\":[", stdout);
	}
	rc = store_scan(hm->st, NULL, STORE_UNIQUE, export_one, &e);
	if (e.json) {
		printf("],\"count\":%llu", (unsigned long long)e.n);
		cli.json_open = 1;
	}
	if (fflush(e.out) != 0 && rc == 0)
		rc = KITH_EIO;
	if (out != NULL && fclose(e.out) != 0 && rc == 0)
		rc = KITH_EIO;
	if (rc != 0)
		return (cli_fail(rc, "history export: %s", kith_strerror(rc)));
	if (e.bad > 0)
		return (cli_fail(KITH_ECORRUPT, "history export: %llu"
		    " record(s) could not be decrypted (damaged, or of an"
		    " epoch this device has no key for)",
		    (unsigned long long)e.bad));
	if (e.json) {
		fputs(",\"ok\":true}\n", stdout);
		fflush(stdout);
		cli.json_open = 0;
		cli.json_done = 1;
	} else if (cli.json) {
		cli_json_out(json_pack("{s:b, s:s, s:I}", "ok", 1, "file", out,
		    "count", (json_int_t)e.n));
	}
	return (0);
}

/* kith history SUB --help: the lines of history_usage for SUB alone. */
static void
sub_usage(const char *sub)
{
	char want[32];
	const char *l, *nl, *k;
	size_t wl;
	int first = 1;

	wl = (size_t)snprintf(want, sizeof(want), "kith history %s", sub);
	for (l = history_usage; (nl = strchr(l, '\n')) != NULL; l = nl + 1) {
		if ((k = strstr(l, "kith history ")) == NULL || k > nl)
			break;		/* the usage lines are over */
		if (strncmp(k, want, wl) != 0 || (k[wl] != ' ' && k[wl] != '\n'))
			continue;
		printf("%s%.*s\n", first ? "usage: " : "       ",
		    (int)(nl - k), k);
		first = 0;
	}
	/* What follows the usage lines holds for every subcommand. */
	fputs(l, stdout);
}

int
cmd_history(int argc, char **argv)
{
	struct home *hm;
	uint64_t n, bytes;
	FILE *f;
	int rc;

	if (argc < 2 || strcmp(argv[1], "--help") == 0) {
		fputs(history_usage, argc < 2 ? stderr : stdout);
		return (argc < 2 ? 2 : 0);
	}
	if (strcmp(argv[1], "add") != 0 && strcmp(argv[1], "import") != 0 &&
	    strcmp(argv[1], "export") != 0 && strcmp(argv[1], "count") != 0)
		return (cli_usage("history: unknown '%s'\n%s", argv[1],
		    history_usage));
	if (argc > 2 && (strcmp(argv[2], "--help") == 0 ||
	    strcmp(argv[2], "-h") == 0)) {
		sub_usage(argv[1]);
		return (0);
	}
	/*
	 * Counting reads no record: a locked device can count.  Export and
	 * import read or write the whole history, so they check the store
	 * first (a quarter of a second for 60 MB); one add does not pay for
	 * a check of every page.
	 */
	if (open_hist(&hm, strcmp(argv[1], "count") == 0 ? CLI_LOCKED :
	    strcmp(argv[1], "add") == 0 ? 0 : CLI_CHECK))
		return (1);
	if (strcmp(argv[1], "add") == 0) {
		rc = add_one(hm, argc - 1, argv + 1);
	} else if (strcmp(argv[1], "import") == 0) {
		if (argc != 3) {
			rc = cli_fail(KITH_EINVAL, "usage: kith history import"
			    " FILE.jsonl");
		} else if (strcmp(argv[2], "-") == 0) {
			rc = import_stream(hm, stdin, "standard input");
		} else if ((f = fopen(argv[2], "r")) == NULL) {
			rc = cli_fail(KITH_EIO, "cannot read %s: %s", argv[2],
			    strerror(errno));
		} else {
			rc = import_stream(hm, f, argv[2]);
			(void)fclose(f);	/* read only */
		}
	} else if (strcmp(argv[1], "export") == 0) {
		rc = export(hm, argc - 1, argv + 1);
	} else {
		if ((rc = store_count(hm->st, NULL, STORE_UNIQUE, &n, &bytes)) != 0)
			rc = cli_fail(rc, "history count: %s",
			    kith_strerror(rc));
		else if (cli.json)
			cli_json_out(json_pack("{s:b, s:I}", "ok", 1, "count",
			    (json_int_t)n));
		else
			printf("%llu\n", (unsigned long long)n);
	}
	home_close(hm);
	return (rc ? 1 : 0);
}
