/*
 * kith seal, kith open, kith group: envelopes for verified contacts
 * (docs/PROTOCOL.md §15, docs/CLI.md).
 */
/* O_TMPFILE: */
#define _GNU_SOURCE /* NOLINT(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include <sodium.h>

#include "cli.h"
#include "kith_err.h"
#include "kith_util.h"
#include "pair.h"
#include "seal.h"

#define MAXBUF_DEFAULT ((uint64_t)64 << 20)
#define MAXBUF_MAX ((uint64_t)1 << 30)

static const char seal_usage[] =
    "usage: kith seal (--to CONTACT)... [--no-self] [--name NAME]"
    " [--out FILE]\n"
    "                 [--armour | --binary] [FILE]\n"
    "       kith seal --group NAME [--name NAME] [--out FILE]"
    " [--armour | --binary] [FILE]\n"
    "Encrypt FILE (standard input when none) for verified contacts, signed"
    " by this\ndevice for the account: every active device of each"
    " contact, as their roster\nwas last learned, and every device of"
    " this account (unless --no-self), can\nopen it.  CONTACT is an alias,"
    " a fingerprint or 8+ hex digits of the account.\nThe envelope is"
    " armoured text on standard output, or binary with --out.\n";

static const char open_usage[] =
    "usage: kith open [--out FILE] [--max-buffer BYTES] [FILE]\n"
    "Check and decrypt an envelope (binary or armoured; standard input"
    " when no\nFILE): the sender must be a verified contact (or this"
    " account, or a member of\nthe group it was sealed to) whose device"
    " is active on their roster.  Nothing\nis written unless all of it"
    " verifies: --out FILE is written whole or not at\nall; on standard"
    " output the plaintext is held in memory (--max-buffer,\ndefault 64"
    " MiB) until then.  Who sealed it, and when, goes to standard"
    " error;\nwith --json and no --out, the document carries the plaintext"
    " in base64\n(\"data\").  A group's key is kept, not written.\n";

static const char group_create_usage[] =
    "usage: kith group create NAME --member CONTACT... [--out FILE]"
    " [--armour | --binary]\n"
    "Make a key shared with verified contacts, for 'kith seal --group"
    " NAME': an\nenvelope (armoured on standard output, or binary with"
    " --out) that each member\nopens with 'kith open' to get it.  The group"
    " is kept once the envelope is\nwritten.\n";

static const char group_change_usage[] =
    "usage: kith group add NAME --member CONTACT... [--out FILE]"
    " [--armour | --binary]\n"
    "       kith group remove NAME --member CONTACT... [--out FILE]"
    " [--armour | --binary]\n"
    "Change a group this account created: a new generation, with a fresh"
    " key, for\nthe members it now has, in an envelope each of them"
    " opens with 'kith open'.\nWhat is sealed for the group from then on"
    " goes to that generation: a member\nremoved cannot open it, and what"
    " they seal with an older key is refused.\n";

static const char group_list_usage[] =
    "usage: kith group list\n"
    "The groups this account holds: name, id, and members (\"you\", your"
    " alias for\na contact, or the creator's name for one who is not).\n";

/* ---- output files: whole or not at all --------------------------------- */

/*
 * The file is written unnamed (O_TMPFILE) in the target's directory and
 * given its name only once complete: a process killed on the way leaves
 * nothing behind.  Where the file system has no O_TMPFILE, a named
 * temporary file (.NAME.kith-XXXXXX, 0600) is used, and unlinked on every
 * failure but a kill.
 */
struct tmpout {
	char path[PATH_MAX];
	char tmp[PATH_MAX];
	int unnamed;
	FILE *f;
};

/* The XXXXXX that ends ${tmp} made anew (a name linkat may take). */
static void
tmp_name(char *tmp)
{
	static const char abc[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	size_t n = strlen(tmp), i;

	for (i = n - 6; i < n; i++)
		tmp[i] = abc[randombytes_uniform(sizeof(abc) - 1)];
}

static int
tmp_open(struct tmpout *t, const char *path)
{
	char dir[PATH_MAX], base[PATH_MAX];
	int fd;

	snprintf(dir, sizeof(dir), "%s", path);
	snprintf(base, sizeof(base), "%s", path);
	if ((size_t)snprintf(t->tmp, sizeof(t->tmp), "%s/.%s.kith-XXXXXX",
	    dirname(dir), basename(base)) >= sizeof(t->tmp))
		return (KITH_EINVAL);
	snprintf(t->path, sizeof(t->path), "%s", path);
	snprintf(dir, sizeof(dir), "%s", path);
#ifdef O_TMPFILE
	if ((fd = open(dirname(dir), O_TMPFILE | O_WRONLY | O_CLOEXEC,
	    0600)) >= 0)
		t->unnamed = 1;
	else
#endif
	if ((fd = mkstemp(t->tmp)) < 0)
		return (KITH_EIO);
	if (fchmod(fd, 0600) != 0 || (t->f = fdopen(fd, "w")) == NULL) {
		close(fd);
		if (!t->unnamed)
			unlink(t->tmp);
		return (KITH_EIO);
	}
	return (0);
}

static void
tmp_drop(struct tmpout *t)
{

	if (t->f != NULL) {
		(void)fclose(t->f);
		t->f = NULL;
		if (!t->unnamed)
			unlink(t->tmp);
	}
}

/* Flush, sync and give it its name; the directory synced too. */
static int
tmp_commit(struct tmpout *t)
{
	char dir[PATH_MAX], proc[64];
	int rc = 0, dfd, i, fd = fileno(t->f);

	if (fflush(t->f) != 0 || fsync(fd) != 0)
		rc = errno == ENOSPC ? KITH_ENOSPACE : KITH_EIO;
	if (rc == 0 && t->unnamed) {
		/* A name beside the target first: rename replaces one. */
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		rc = KITH_EIO;
		for (i = 0; i < 16 && rc != 0; i++) {
			tmp_name(t->tmp);
			/* Through /proc; without it, by the descriptor
			 * itself (which needs CAP_DAC_READ_SEARCH). */
			if (linkat(AT_FDCWD, proc, AT_FDCWD, t->tmp,
			    AT_SYMLINK_FOLLOW) == 0 || (errno == ENOENT &&
			    linkat(fd, "", AT_FDCWD, t->tmp, AT_EMPTY_PATH) ==
			    0))
				rc = 0;
			else if (errno != EEXIST)
				break;
		}
		if (rc == 0)
			t->unnamed = 0;
	}
	if (fclose(t->f) != 0 && rc == 0)
		rc = KITH_EIO;
	t->f = NULL;
	if (rc == 0 && rename(t->tmp, t->path) != 0)
		rc = KITH_EIO;
	if (rc != 0) {
		if (!t->unnamed)
			unlink(t->tmp);
		return (rc);
	}
	snprintf(dir, sizeof(dir), "%s", t->path);
	if ((dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY)) >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	return (0);
}

/* ---- kith seal ---------------------------------------------------------- */

/* A contact named on the command line, or the failure printed. */
/* What a group ${name} that was not found (${rc}) tells the user. */
static int
group_lookup_fail(int rc, const char *name)
{

	if (rc == KITH_ENOENT)
		return (cli_usage("no group '%s': 'kith group list' shows those"
		    " held", name));
	if (rc == KITH_EAMBIGUOUS)
		return (cli_usage("several groups are named '%s': give the id"
		    " that 'kith group list' shows", name));
	return (cli_fail(rc, "group '%s'", name));
}

static int
find_peer(struct home *hm, const char *name, struct seal_peer *p)
{
	int rc = seal_peer_find(hm, name, p);

	switch (rc) {
	case 0:
		return (0);
	case KITH_ENOENT:
		return (cli_usage("no verified contact '%s': 'kith contacts'"
		    " lists them (an alias, a fingerprint, or 8+ hex digits of"
		    " the account)", name));
	case KITH_EAMBIGUOUS:
		return (cli_usage("'%s' names several contacts: use the"
		    " fingerprint that 'kith contacts' shows", name));
	case KITH_EFORK:
		return (cli_refuse(rc, "two different rosters of one version"
		    " are known for '%s': their account was forked (a"
		    " recovery gone wrong, or an attack); meet them again",
		    name));
	default:
		return (cli_fail(rc, "cannot read the contacts"));
	}
}

static int
say_sealed(const struct seal_opts *o, const char *file, uint64_t bytes,
    int self)
{
	uint64_t now = kith_now();
	json_t *arr = json_array(), *doc;
	size_t i;

	for (i = 0; i < o->nto; i++)
		json_array_append_new(arr, seal_peer_json(&o->to[i], now));
	if (cli.json) {
		doc = json_pack("{s:b, s:s?, s:I, s:b, s:o, s:b}", "ok", 1,
		    "file", file, "bytes", (json_int_t)bytes, "armour",
		    o->armour, "recipients", arr, "self", self);
		if (doc != NULL && o->group != NULL) {
			char gid[2 * SEAL_GIDLEN + 1];

			kith_hex(o->group->gid, SEAL_GIDLEN, gid);
			json_object_set_new(doc, "group", json_pack("{s:s,"
			    " s:s}", "name", o->group->name, "id", gid));
		}
		cli_json_out(doc);
		return (0);
	}
	for (i = 0; i < o->nto; i++) {
		json_t *e = json_array_get(arr, i);
		json_int_t age = json_integer_value(json_object_get(e,
		    "roster_age"));

		if (o->to[i].roster != NULL)
			fprintf(stderr, "kith: sealed for %s (%s): %lld"
			    " device%s, roster version %llu learned %lld"
			    " day%s ago\n", o->to[i].alias,
			    cli_fingerprint(o->to[i].account_pk),
			    (long long)json_integer_value(json_object_get(e,
			    "devices")), json_integer_value(json_object_get(e,
			    "devices")) == 1 ? "" : "s",
			    (unsigned long long)o->to[i].roster->version,
			    (long long)(age / 86400), age / 86400 == 1 ? "" :
			    "s");
		else
			fprintf(stderr, "kith: sealed for %s (%s): only the"
			    " device met (%s): no roster of theirs is known"
			    " yet; the first envelope they send brings it\n",
			    o->to[i].alias, cli_fingerprint(o->to[i].account_pk),
			    o->to[i].dev.name);
	}
	if (o->group != NULL)
		fprintf(stderr, "kith: sealed for the group '%s'\n",
		    o->group->name);
	fprintf(stderr, "kith: %llu bytes sealed%s%s\n",
	    (unsigned long long)bytes, file != NULL ? " to " : "",
	    file != NULL ? file : "");
	json_decref(arr);
	return (0);
}

/* --out FILE, --armour (--armor), --binary at argv[*i]: 1 if taken. */
static int
out_opt(int argc, char **argv, size_t *i, const char **out, int *armour)
{
	const char *a = argv[*i];

	if (strcmp(a, "--out") == 0 && *i + 1 < (size_t)argc)
		*out = argv[++*i];
	else if (strcmp(a, "--armour") == 0 || strcmp(a, "--armor") == 0)
		*armour = 1;
	else if (strcmp(a, "--binary") == 0)
		*armour = 0;
	else
		return (0);
	return (1);
}

/* Where an envelope goes: --out through a temporary file, or stdout. */
static int
out_begin(const char *out, struct tmpout *t, FILE **f)
{
	int rc;

	memset(t, 0, sizeof(*t));
	if (out == NULL) {
		*f = stdout;
		return (0);
	}
	if ((rc = tmp_open(t, out)) != 0)
		return (cli_fail(rc, "cannot write beside %s: %s", out,
		    strerror(errno)));
	*f = t->f;
	return (0);
}

int
cmd_seal(int argc, char **argv)
{
	struct seal_peer *to = NULL;
	struct seal_group *g = NULL;
	struct seal_opts o;
	struct home *hm = NULL;
	struct tmpout t;
	const char *file = NULL, *out = NULL, *name = NULL, *group = NULL;
	const char **names;
	char base[PATH_MAX];
	FILE *in = stdin, *envf = NULL;
	uint64_t bytes = 0;
	size_t nnames = 0, i;
	int rc, armour = -1, self = 1;

	memset(&t, 0, sizeof(t));
	if ((names = calloc((size_t)argc, sizeof(*names))) == NULL)
		return (cli_fail(KITH_ENOMEM, "seal"));
	for (i = 1; i < (size_t)argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--help") == 0) {
			fputs(seal_usage, stdout);
			free(names);
			return (0);
		} else if (strcmp(a, "--to") == 0 && i + 1 < (size_t)argc)
			names[nnames++] = argv[++i];
		else if (strcmp(a, "--group") == 0 && i + 1 < (size_t)argc)
			group = argv[++i];
		else if (out_opt(argc, argv, &i, &out, &armour))
			continue;
		else if (strcmp(a, "--name") == 0 && i + 1 < (size_t)argc)
			name = argv[++i];
		else if (strcmp(a, "--no-self") == 0)
			self = 0;
		else if (a[0] == '-' && a[1] != '\0') {
			free(names);
			return (cli_usage("seal: unknown option or missing"
			    " value '%s'; see kith seal --help", a));
		} else if (file == NULL)
			file = a;
		else {
			free(names);
			return (cli_usage("seal: one FILE at most"));
		}
	}
	if ((nnames == 0) == (group == NULL)) {
		free(names);
		return (cli_usage("seal: give --to CONTACT (one or more) or"
		    " --group NAME; see kith seal --help"));
	}
	if (group != NULL && !self) {
		free(names);
		return (cli_usage("seal: --no-self goes with --to only"));
	}
	if (armour < 0)
		armour = out == NULL;
	if (cli.json && out == NULL) {
		free(names);
		return (cli_usage("seal: with --json the envelope needs --out"
		    " FILE (standard output carries the document)"));
	}
	if (!armour && out == NULL && isatty(STDOUT_FILENO)) {
		free(names);
		return (cli_usage("seal: a binary envelope is not for a"
		    " terminal: use --out FILE, or --armour"));
	}
	if (name == NULL && file != NULL) {
		snprintf(base, sizeof(base), "%s", file);
		name = basename(base);
	}
	if (name != NULL && (strlen(name) == 0 || strlen(name) >
	    SEAL_NAMEMAX || strchr(name, '/') != NULL || strcmp(name,
	    ".") == 0 || strcmp(name, "..") == 0 || !kith_text_ok(name,
	    strlen(name)))) {
		free(names);
		return (cli_usage("seal: the name carried (FILE's, or --name)"
		    " must be a plain file name of text, at most %d bytes;"
		    " give another with --name", SEAL_NAMEMAX));
	}
	if (cli_open(0, &hm) != 0) {
		free(names);
		return (1);
	}
	if ((rc = cli_need_account(hm)) != 0)
		goto done;
	if ((to = calloc(nnames + 1, sizeof(*to))) == NULL) {
		rc = cli_fail(KITH_ENOMEM, "seal");
		goto done;
	}
	for (i = 0; i < nnames; i++)
		if ((rc = find_peer(hm, names[i], &to[i])) != 0)
			goto done;
	if (group != NULL && (rc = seal_group_find(hm, group, &g)) != 0) {
		rc = group_lookup_fail(rc, group);
		goto done;
	}
	if (file != NULL && (in = fopen(file, "rb")) == NULL) {
		rc = cli_fail(KITH_EIO, "cannot read %s: %s", file,
		    strerror(errno));
		goto done;
	}
	if ((rc = out_begin(out, &t, &envf)) != 0)
		goto done;
	memset(&o, 0, sizeof(o));
	o.to = to;
	o.nto = nnames;
	o.self = self;
	o.group = g;
	o.name = name;
	o.armour = armour;
	rc = seal_write(hm, &o, in, envf, &bytes);
	if (rc == 0 && out != NULL)
		rc = tmp_commit(&t);
	if (rc != 0) {
		tmp_drop(&t);
		if (rc == KITH_EREVOKED)
			rc = cli_refuse(rc, "seal: a recipient has no active"
			    " device on the roster known here");
		else if (rc == KITH_ENOENT)
			rc = cli_fail(rc, "seal: this device holds no"
			    " certificate of the account (was its pairing"
			    " completed?)");
		else
			rc = cli_fail(rc, "seal: %s", rc == KITH_EIO ?
			    "cannot read the input or write the envelope" :
			    kith_strerror(rc));
		goto done;
	}
	rc = say_sealed(&o, out, bytes, self);
done:
	if (in != NULL && in != stdin)
		(void)fclose(in);
	seal_peers_free(to, nnames);
	free(names);
	seal_group_free(g);
	home_close(hm);
	return (rc);
}

/* ---- kith open ---------------------------------------------------------- */

/* ${mb}: the plaintext, for --json without --out (base64 in "data"). */
static void
say_opened(const struct seal_opened *r, const char *out,
    const struct seal_sink *mb)
{
	json_t *doc;

	if (cli.json) {
		json_t *body = seal_opened_json(r);

		doc = json_pack("{s:b, s:s?}", "ok", 1, "file", out);
		json_object_update(doc, body);
		json_decref(body);
		if (mb != NULL) {
			json_t *data = seal_b64_json(mb->b, mb->len);

			if (data == NULL) {
				json_decref(doc);
				(void)cli_fail(KITH_ENOMEM, "open: no memory"
				    " for the plaintext's base64");
				return;
			}
			json_object_set_new(doc, "data", data);
		}
		cli_json_out(doc);
		return;
	}
	fprintf(stderr, "kith: sealed by %s (%s)%s%s%s, device '%s', at %s\n",
	    r->sender.alias, cli_fingerprint(r->sender.account_pk),
	    r->sender.how == SEAL_INTRODUCED ? ", not a verified contact:"
	    " introduced by " : "", r->sender.how == SEAL_INTRODUCED ?
	    r->sender.introduced_by : "", r->sender.how == SEAL_INTRODUCED ?
	    " in the group" : "", r->dev.name, cli_when(r->time));
	if (r->kind == SEAL_KIND_GROUP)
		fprintf(stderr, "kith: the key of the group '%s': %s\n",
		    r->group, r->group_stored ? "kept; 'kith seal --group"
		    " NAME' seals for it" : "held already");
	else
		fprintf(stderr, "kith: %llu bytes%s%s%s%s%s\n",
		    (unsigned long long)r->bytes, r->has_group ? " for the"
		    " group '" : "", r->has_group ? r->group : "",
		    r->has_group ? "'" : "", out != NULL ? " to " : "",
		    out != NULL ? out : "");
	if (r->roster_updated)
		fprintf(stderr, "kith: %s's newer roster (version %llu) is"
		    " kept: what you seal for them follows it\n",
		    r->sender.alias, (unsigned long long)(r->sender.roster !=
		    NULL ? r->sender.roster->version : 0));
}

static int
open_failed(int rc, const struct seal_opened *r, const char *what)
{

	switch (rc) {
	case KITH_ENOTKITH:
		return (cli_fail(rc, "%s is not a kith envelope", what));
	case KITH_ENOTFORME:
		return (cli_refuse(rc, "%s was not sealed for this device (%u"
		    " recipient key%s): if it was sealed for your account,"
		    " the sender had not yet learned of this device; ask"
		    " them to seal again after you wrote to them", what,
		    r->nstanza, r->nstanza == 1 ? "" : "s"));
	case KITH_ENOTCONTACT:
		return (cli_refuse(rc, "%s was sealed by %s, who is not a"
		    " verified contact: run an invitation with them first"
		    " ('kith invite create')", what,
		    cli_fingerprint(r->sender.account_pk)));
	case KITH_EREVOKED:
		return (cli_refuse(rc, "%s was sealed by a device that %s's"
		    " roster marks revoked: do not trust it", what,
		    r->sender.alias));
	case KITH_ENOTMEMBER:
		return (cli_refuse(rc, "%s was sealed by a device that is"
		    " not on %s's roster", what, r->sender.alias));
	case KITH_EFORK:
	case KITH_EROSTER:
		return (cli_refuse(rc, "%s: the rosters known for %s disagree"
		    " (the one it carries breaks the chain of the one held, or"
		    " two of one version are held): meet them again", what,
		    r->sender.alias));
	case KITH_EPERM:
		return (cli_refuse(rc, "%s was sealed for the group by %s, who"
		    " is not one of its members", what, r->sender.alias));
	case KITH_ETOOBIG:
		return (cli_refuse(rc, "%s holds a group document over 8 MiB",
		    what));
	case KITH_ETRUNC:
		return (cli_refuse(rc, "%s is cut short: nothing was"
		    " written", what));
	case KITH_ECRYPTO:
	case KITH_EFORMAT:
	case KITH_EVERSION:
		return (cli_refuse(rc, "%s does not verify (altered, or"
		    " re-addressed): nothing was written", what));
	case KITH_ENOSPACE:
		return (cli_fail(rc, "no space left to write the plaintext;"
		    " nothing was written"));
	default:
		return (cli_fail(rc, "cannot open %s", what));
	}
}

int
cmd_open(int argc, char **argv)
{
	struct seal_opened r;
	struct home *hm = NULL;
	struct seal_sink mb;
	struct tmpout t;
	const char *file = NULL, *out = NULL, *what;
	uint64_t maxbuf = MAXBUF_DEFAULT;
	FILE *in = stdin, *pt = NULL;
	int i, rc;

	memset(&r, 0, sizeof(r));
	memset(&mb, 0, sizeof(mb));
	memset(&t, 0, sizeof(t));
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--help") == 0) {
			fputs(open_usage, stdout);
			return (0);
		} else if (strcmp(a, "--out") == 0 && i + 1 < argc)
			out = argv[++i];
		else if (strcmp(a, "--max-buffer") == 0 && i + 1 < argc) {
			if (kith_number(argv[++i], 1, MAXBUF_MAX, &maxbuf) !=
			    0)
				return (cli_usage("open: --max-buffer is a number"
				    " of bytes, 1 to %llu",
				    (unsigned long long)MAXBUF_MAX));
		} else if (a[0] == '-' && a[1] != '\0')
			return (cli_usage("open: unknown option or missing"
			    " value '%s'; see kith open --help", a));
		else if (file == NULL)
			file = a;
		else
			return (cli_usage("open: one FILE at most"));
	}
	what = file != NULL ? file : "the envelope";
	if (cli_open(0, &hm) != 0)
		return (1);
	if ((rc = cli_need_account(hm)) != 0)
		goto done;
	if (file != NULL && (in = fopen(file, "rb")) == NULL) {
		rc = cli_fail(KITH_EIO, "cannot read %s: %s", file,
		    strerror(errno));
		goto done;
	}
	if (out != NULL) {
		if ((rc = out_begin(out, &t, &pt)) != 0)
			goto done;
	} else {
		if ((pt = seal_sink_open(&mb, (size_t)maxbuf)) == NULL) {
			rc = cli_fail(KITH_ENOMEM, "open");
			goto done;
		}
	}
	rc = seal_open(hm, in, pt, &r);
	/* A group's key is kept, not written: no file for it. */
	if (rc == 0 && out != NULL && r.kind == SEAL_KIND_DATA)
		rc = tmp_commit(&t);
	if (rc != 0 || out != NULL) {
		tmp_drop(&t);
		if (rc != 0) {
			rc = mb.over ? cli_fail(KITH_ETOOBIG, "%s holds more"
			    " than --max-buffer (%llu bytes) to keep in memory"
			    " until it is checked: use --out FILE", what,
			    (unsigned long long)maxbuf) : open_failed(rc, &r,
			    what);
			goto done;
		}
	}
	if (out == NULL && r.kind == SEAL_KIND_DATA && !cli.json &&
	    mb.len > 0 && (fwrite(mb.b, 1, mb.len, stdout) != mb.len ||
	    fflush(stdout) != 0)) {
		rc = cli_fail(KITH_EIO, "cannot write the plaintext");
		goto done;
	}
	say_opened(&r, r.kind == SEAL_KIND_DATA ? out : NULL, out == NULL &&
	    r.kind == SEAL_KIND_DATA ? &mb : NULL);
	if (r.roster_updated || r.group_stored)
		cli_agent_poke(hm);
	rc = 0;
done:
	if (pt != NULL && out == NULL)
		(void)fclose(pt);
	seal_sink_free(&mb);
	if (in != NULL && in != stdin)
		(void)fclose(in);
	seal_open_free(&r);
	home_close(hm);
	return (rc);
}

/* ---- kith contacts update ------------------------------------------------ */

static const char update_usage[] =
    "usage: kith contacts update CONTACT --roster FILE\n"
    "Take a newer roster of a verified contact: the file 'kith devices"
    " --export'\nwrites on their side, brought by any channel (it must"
    " verify under the\naccount key you pinned when you met).  What you"
    " seal for them then goes to\nthe devices it lists as active: a"
    " device they revoked no longer opens it.\n";

int
cmd_contacts_update(int argc, char **argv)
{
	struct seal_peer p;
	struct home *hm = NULL;
	const char *who = NULL, *file = NULL;
	uint8_t *blob = NULL;
	size_t len;
	int i, rc, updated = 0;

	memset(&p, 0, sizeof(p));
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0) {
			fputs(update_usage, stdout);
			return (0);
		} else if (strcmp(argv[i], "--roster") == 0 && i + 1 < argc)
			file = argv[++i];
		else if (argv[i][0] == '-')
			return (cli_usage("contacts update: unknown option or"
			    " missing value '%s'", argv[i]));
		else if (who == NULL)
			who = argv[i];
		else
			return (cli_usage("contacts update: one CONTACT"));
	}
	if (who == NULL || file == NULL)
		return (cli_usage("usage: kith contacts update CONTACT --roster"
		    " FILE"));
	if ((rc = kith_file_read(file, (size_t)1 << 20, &blob, &len)) != 0)
		return (cli_fail(rc, "cannot read %s", file));
	if (cli_open(0, &hm) != 0) {
		free(blob);
		return (1);
	}
	if ((rc = cli_need_account(hm)) != 0 ||
	    (rc = find_peer(hm, who, &p)) != 0)
		goto done;
	switch ((rc = seal_peer_learn(hm, &p, blob, len, &updated))) {
	case 0:
		break;
	case KITH_ECRYPTO:
	case KITH_EFORMAT:
	case KITH_EVERSION:
		rc = cli_refuse(rc, "%s is not a roster of %s's account (%s),"
		    " or it was altered", file, p.alias,
		    cli_fingerprint(p.account_pk));
		goto done;
	case KITH_ESTALE:
		rc = cli_refuse(rc, "%s is older than the roster of %s held"
		    " here (version %llu)", file, p.alias,
		    (unsigned long long)(p.roster != NULL ? p.roster->version :
		    0));
		goto done;
	case KITH_EFORK:
	case KITH_EROSTER:
		rc = cli_refuse(rc, "%s breaks the chain of %s's roster held"
		    " here: their account may have been forked; meet them"
		    " again", file, p.alias);
		goto done;
	default:
		rc = cli_fail(rc, "contacts update");
		goto done;
	}
	if (updated)
		cli_agent_poke(hm);
	if (cli.json)
		cli_json_out(json_pack("{s:b, s:s, s:s, s:I, s:b}", "ok", 1,
		    "alias", p.alias, "fingerprint",
		    cli_fingerprint(p.account_pk), "roster_version",
		    (json_int_t)p.roster->version, "updated", updated));
	else
		printf("%s (%s): roster version %llu%s\n", p.alias,
		    cli_fingerprint(p.account_pk),
		    (unsigned long long)p.roster->version, updated ? " kept:"
		    " what you seal for them follows it" : ", held already");
	rc = 0;
done:
	free(blob);
	seal_peer_free(&p);
	home_close(hm);
	return (rc);
}

/* ---- kith group ----------------------------------------------------------- */

static int
commit_cb(void *arg)
{

	return (tmp_commit(arg));
}

static int
flush_cb(void *arg)
{

	return (fflush(arg) == 0 && !ferror(arg) ? 0 : KITH_EIO);
}

enum { G_CREATE, G_ADD, G_REMOVE };
static const char *const gverb[] = { "create", "add", "remove" };

/* kith group create | add | remove NAME --member CONTACT... */
static int
group_write(int argc, char **argv, int mode)
{
	struct seal_peer *mem = NULL;
	const char **who;
	struct seal_group *g = NULL;
	struct home *hm = NULL;
	struct tmpout t;
	const char *name = NULL, *out = NULL;
	FILE *envf = NULL;
	size_t n = 0, i;
	int rc, armour = -1;
	char gid[2 * SEAL_GIDLEN + 1];
	json_t *arr;

	if ((who = calloc((size_t)argc, sizeof(*who))) == NULL ||
	    (mem = calloc((size_t)argc, sizeof(*mem))) == NULL) {
		free(who);
		return (cli_fail(KITH_ENOMEM, "group"));
	}
	for (i = 1; i < (size_t)argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--help") == 0) {
			fputs(mode == G_CREATE ? group_create_usage :
			    group_change_usage, stdout);
			free(mem);
			free(who);
			return (0);
		} else if (strcmp(a, "--member") == 0 &&
		    i + 1 < (size_t)argc)
			who[n++] = argv[++i];	/* resolved once open */
		else if (out_opt(argc, argv, &i, &out, &armour))
			continue;
		else if (a[0] == '-' && a[1] != '\0') {
			free(mem);
			free(who);
			return (cli_usage("group %s: unknown option or"
			    " missing value '%s'", gverb[mode], a));
		} else if (name == NULL)
			name = a;
		else {
			free(mem);
			free(who);
			return (cli_usage("group %s: one NAME", gverb[mode]));
		}
	}
	if (name == NULL || n == 0) {
		free(mem);
		free(who);
		return (cli_usage("usage: kith group %s NAME --member"
		    " CONTACT... [--out FILE]", gverb[mode]));
	}
	if (armour < 0)
		armour = out == NULL;
	if (cli.json && out == NULL) {
		free(mem);
		free(who);
		return (cli_usage("group %s: with --json the envelope needs"
		    " --out FILE", gverb[mode]));
	}
	if (!armour && out == NULL && isatty(STDOUT_FILENO)) {
		free(mem);
		free(who);
		return (cli_usage("group %s: a binary envelope is not for a"
		    " terminal: use --out FILE, or --armour", gverb[mode]));
	}
	if (cli_open(0, &hm) != 0) {
		free(mem);
		free(who);
		return (1);
	}
	if ((rc = cli_need_account(hm)) != 0)
		goto done;
	for (i = 0; i < n; i++)
		if ((rc = find_peer(hm, who[i], &mem[i])) != 0) {
			n = i;
			goto done;
		}
	if (mode != G_CREATE) {
		/* The group first: no such group is a usage error.  A
		 * name several groups have is seal_group_change's to
		 * settle: it takes this account's own. */
		if ((rc = seal_group_find(hm, name, &g)) != 0 &&
		    rc != KITH_EAMBIGUOUS) {
			rc = group_lookup_fail(rc, name);
			goto done;
		}
		seal_group_free(g);
		g = NULL;
	}
	if ((rc = out_begin(out, &t, &envf)) != 0)
		goto done;
	/* The group is kept only once its envelope is in place. */
	if (mode == G_CREATE)
		rc = seal_group_create(hm, name, mem, n, envf, armour,
		    out != NULL ? commit_cb : flush_cb, out != NULL ?
		    (void *)&t : stdout, &g);
	else
		rc = seal_group_change(hm, name, mode == G_ADD ? mem : NULL,
		    mode == G_ADD ? n : 0, mode == G_REMOVE ? mem : NULL,
		    mode == G_REMOVE ? n : 0, envf, armour, out != NULL ?
		    commit_cb : flush_cb, out != NULL ? (void *)&t : stdout,
		    &g);
	if (rc != 0 && mode != G_CREATE && (rc == KITH_EPERM ||
	    rc == KITH_EINVAL || rc == KITH_EAMBIGUOUS)) {
		tmp_drop(&t);
		rc = rc == KITH_EPERM ? cli_refuse(rc, "group %s: only the"
		    " group's creator changes it", gverb[mode]) :
		    rc == KITH_EAMBIGUOUS ? group_lookup_fail(rc, name) :
		    cli_usage("group %s: no member but you would be left (or"
		    " more than %d)", gverb[mode], SEAL_GROUPMAX - 1);
		goto done;
	}
	if (rc != 0) {
		tmp_drop(&t);
		rc = rc == KITH_EEXIST ? cli_usage("a group named '%s' is held"
		    " already", name) : rc == KITH_ENOENT ? cli_fail(rc,
		    "group %s: this device holds no certificate of the"
		    " account (was its pairing completed?)", gverb[mode]) :
		    rc == KITH_EINVAL ? cli_usage("group"
		    " create: a name of 1 to %d bytes of text, not 32 hex"
		    " digits (a group's id), and at most %d members",
		    SEAL_ALIASMAX, SEAL_GROUPMAX - 1) :
		    cli_fail(rc, "group %s", gverb[mode]);
		goto done;
	}
	kith_hex(g->gid, SEAL_GIDLEN, gid);
	if (cli.json) {
		arr = json_array();
		for (i = 0; i < g->nmem; i++) {
			char a[65];

			kith_hex(g->mem[i].account_pk, 32, a);
			json_array_append_new(arr, json_pack("{s:s, s:s}",
			    "account", a, "alias", memcmp(g->mem[i].account_pk,
			    hm->account_pk, 32) == 0 ? "you" :
			    g->mem[i].alias));	/* not secret */
		}
		cli_json_out(json_pack("{s:b, s:{s:s, s:s, s:I, s:o}, s:s?}",
		    "ok", 1, "group", "name", g->name, "id", gid,
		    "generation", (json_int_t)g->generation, "members", arr,
		    "file", out));
	} else
		fprintf(stderr, "kith: group '%s', generation %u (%zu members"
		    " with you): give each member the envelope%s%s to open"
		    " with 'kith open'%s\n", g->name, g->generation, g->nmem,
		    out != NULL ? " " : "", out != NULL ? out : "",
		    mode == G_REMOVE ? "; what is sealed for the group from"
		    " now on, those removed cannot open" : "");
	rc = 0;
done:
	seal_peers_free(mem, n);
	free(who);
	seal_group_free(g);
	home_close(hm);
	return (rc);
}

static int
group_list(int argc, char **argv)
{
	struct home *hm = NULL;
	json_t *arr, *e, *m;
	size_t i, j;
	int rc;

	if (argc > 1) {
		if (strcmp(argv[1], "--help") == 0) {
			fputs(group_list_usage, stdout);
			return (0);
		}
		return (cli_usage("group list: unexpected '%s'", argv[1]));
	}
	if (cli_open(0, &hm) != 0)
		return (1);
	if ((rc = cli_need_account(hm)) != 0)
		goto done;
	if ((rc = seal_groups(hm, &arr)) != 0) {
		rc = cli_fail(rc, "cannot read the store");
		goto done;
	}
	if (cli.json)
		cli_json_out(json_pack("{s:b, s:o}", "ok", 1, "groups", arr));
	else {
		if (json_array_size(arr) == 0)
			printf("No groups: 'kith group create NAME --member"
			    " CONTACT...' makes one.\n");
		json_array_foreach(arr, i, e) {
			printf("%s  %s:", json_string_value(json_object_get(e,
			    "id")), json_string_value(json_object_get(e,
			    "name")));
			json_array_foreach(json_object_get(e, "members"), j,
			    m)
				printf(" %s", json_string_value(
				    json_object_get(m, "alias")));
			printf("\n");
		}
		json_decref(arr);
	}
done:
	home_close(hm);
	return (rc);
}

int
cmd_group(int argc, char **argv)
{

	if (argc >= 2 && strcmp(argv[1], "create") == 0)
		return (group_write(argc - 1, argv + 1, G_CREATE));
	if (argc >= 2 && strcmp(argv[1], "add") == 0)
		return (group_write(argc - 1, argv + 1, G_ADD));
	if (argc >= 2 && strcmp(argv[1], "remove") == 0)
		return (group_write(argc - 1, argv + 1, G_REMOVE));
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return (group_list(argc - 1, argv + 1));
	if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
		printf("usage: kith group create|add|remove|list ...\n'kith"
		    " group COMMAND --help' says more.\n");
		return (0);
	}
	return (cli_usage("usage: kith group create|add|remove|list ...; see"
	    " kith group --help"));
}
