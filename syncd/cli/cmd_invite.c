/*
 * kith invite create | scan | list | revoke | verify, and kith contacts:
 * face-to-face invitations to a messaging service, and the verified
 * contacts they give.
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "contacts.h"
#include "ctlsock.h"
#include "invx.h"
#include "kith_err.h"
#include "kith_util.h"
#include "pair.h"
#include "qr.h"

#define BROWSE_MS 3000
#define CONNECT_MS 3000
#define QR_MAXVERSION 15
#define CODE_FILEMAX ((size_t)64 * 1024)

/* ---- shared ----------------------------------------------------------- */

static const char *
default_alias(void)
{
	struct passwd *pw;
	const char *u;

	if ((u = getenv("KITH_ALIAS")) != NULL && *u != '\0')
		return (u);
	if ((pw = getpwuid(getuid())) != NULL && pw->pw_name[0] != '\0')
		return (pw->pw_name);
	return ("me");
}

/* The host part of a URI, as a service name when none is given. */
static void
host_of(const char *uri, char *out, size_t cap)
{
	const char *p = strstr(uri, "://"), *e;

	p = p != NULL ? p + 3 : uri;
	if ((e = strpbrk(p, "/?#:")) == NULL)
		e = p + strlen(p);
	snprintf(out, cap, "%.*s", (int)(e - p), p);
}

static void
show_qr(const char *text, const char *what)
{
	char *art;

	if (cli.json)
		return;
	if (qr_render_utf8(text, &art) == 0) {
		fputs(art, stdout);
		free(art);
	}
	printf("%s:\n%s\n", what, text);
}

/* The agent's port, or 0 when no agent runs. */
static uint16_t
agent_port(struct home *hm)
{
	struct ctl_client *c;
	json_t *resp = NULL;
	json_int_t port = 0;

	if ((c = cli_agent(hm)) == NULL)
		return (0);
	if (ctl_call(c, json_pack("{s:s}", "op", "status"), &resp) == 0)
		port = json_integer_value(json_object_get(resp, "port"));
	json_decref(resp);
	ctl_close(c);
	return (port > 0 && port < 65536 ? (uint16_t)port : 0);
}

/* A file that holds a code: a QR image, or the code as text. */
static int
read_code_file(const char *path, char **text)
{
	uint8_t *b;
	size_t len;
	int rc;

	if ((rc = kith_file_read(path, CODE_FILEMAX, &b, &len)) != 0)
		return (cli_fail(rc, "cannot read %s", path), rc);
	if ((len >= 8 && memcmp(b, "\x89PNG", 4) == 0) || /* not secret */
	    (len >= 3 && memcmp(b, "\xff\xd8\xff", 3) == 0)) { /* not secret */
		free(b);
		return (cli_read_code(path, NULL, 0, text));
	}
	/* kith_file_read NUL-terminates: the text, as it is. */
	*text = (char *)b;
	return (0);
}

/* Why a decode failed, for people. */
static int
bad_code(int rc, int kind)
{

	if (kind == KITH_CODE_PAIR)
		return (cli_fail(KITH_EWRONGKIND, "this is a kith pairing code,"
		    " not an invitation: use 'kith join' on the new device"));
	if (kind == KITH_CODE_OTHER)
		return (cli_fail(KITH_EWRONGKIND, "this kith code is of a kind"
		    " this version does not know; update kith"));
	if (kind == KITH_CODE_NONE)
		return (cli_fail(KITH_ENOTKITH, "this is not a kith invitation"
		    " (nor any kith code)"));
	if (rc == KITH_EVERSION)
		return (cli_fail(rc, "this invitation is of a newer format;"
		    " update kith"));
	return (cli_fail(rc, "this code is damaged (it does not decode);"
	    " nothing was stored"));
}

/* The roster last learned for ${acct}, from a contact met on the LAN. */
struct find_roster {
	char acct[65];
	uint64_t met;
	char *roster;
};

static int
find_roster_cb(void *arg, json_t *o)
{
	struct find_roster *f = arg;
	const char *svc = json_string_value(json_object_get(o, "service"));
	const char *a = json_string_value(json_object_get(o, "account"));
	const char *r = json_string_value(json_object_get(o, "roster"));
	uint64_t met = (uint64_t)json_integer_value(json_object_get(o,
	    "met"));

	if (svc == NULL || strcmp(svc, "kith:contact") != 0 || a == NULL ||
	    r == NULL || strcmp(a, f->acct) != 0 || met < f->met)
		return (0);
	free(f->roster);
	f->roster = strdup(r);
	f->met = met;
	return (0);
}

static int
roster_of(struct home *hm, const uint8_t acct[32], uint8_t **blob,
    size_t *len)
{
	struct find_roster f;
	size_t n;

	memset(&f, 0, sizeof(f));
	*blob = NULL;
	*len = 0;
	kith_hex(acct, 32, f.acct);
	(void)contacts_each(hm, find_roster_cb, &f);
	if (f.roster == NULL)
		return (KITH_ENOENT);
	n = strlen(f.roster) / 2;
	if ((*blob = malloc(n + 1)) == NULL ||
	    kith_unhex(f.roster, 2 * n, *blob, n) != 0) {
		free(*blob);
		*blob = NULL;
		free(f.roster);
		return (KITH_ECORRUPT);
	}
	*len = n;
	free(f.roster);
	return (0);
}

/*
 * A command without arguments: print ${help} for --help (*hm stays NULL),
 * else open the home, which must hold an account.  Returns 0 or the exit
 * status.
 */
static int
open_noarg(int argc, char **argv, const char *cmd, const char *help,
    struct home **hm)
{

	*hm = NULL;
	if (argc > 1) {
		if (strcmp(argv[1], "--help") == 0) {
			fputs(help, stdout);
			return (0);
		}
		return (cli_fail(KITH_EINVAL, "%s: unexpected '%s'", cmd,
		    argv[1]));
	}
	if (cli_open(0, hm) != 0)
		return (1);
	if (cli_need_account(*hm) != 0) {
		home_close(*hm);
		*hm = NULL;
		return (1);
	}
	return (0);
}

/* ---- kith invite create ------------------------------------------------ */

static int
invite_create(int argc, char **argv)
{
	struct invitation inv;
	struct home *hm = NULL;
	const char *uri = NULL, *alias = NULL, *sname = NULL, *note = "";
	const char *png = NULL, *ttl_s = "4h";
	char text[INVITE_MAXTEXT], tok[33];
	uint64_t ttl;
	long uses = 1;
	int i, rc, ver = 0, hints = 1;

	memset(&inv, 0, sizeof(inv));
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--service") == 0 && i + 1 < argc)
			uri = argv[++i];
		else if (strcmp(argv[i], "--alias") == 0 && i + 1 < argc)
			alias = argv[++i];
		else if (strcmp(argv[i], "--service-name") == 0 &&
		    i + 1 < argc)
			sname = argv[++i];
		else if (strcmp(argv[i], "--ttl") == 0 && i + 1 < argc)
			ttl_s = argv[++i];
		else if (strcmp(argv[i], "--uses") == 0 && i + 1 < argc) {
			uint64_t v;

			uses = kith_number(argv[++i], 1, 255, &v) == 0 ?
			    (long)v : 0;
		} else if (strcmp(argv[i], "--qr-png") == 0 && i + 1 < argc)
			png = argv[++i];
		else if (strcmp(argv[i], "--note") == 0 && i + 1 < argc)
			note = argv[++i];
		else if (strcmp(argv[i], "--no-hints") == 0)
			hints = 0;
		else if (strcmp(argv[i], "--help") == 0) {
			printf("usage: kith invite create --service URI"
			    " [--alias NAME] [--service-name NAME]\n"
			    "         [--ttl DURATION] [--uses N] [--qr-png FILE]"
			    " [--note TEXT] [--no-hints]\n"
			    "Make a signed invitation to the messaging service"
			    " URI, shown as a QR code\n(and its text; PNG with"
			    " --qr-png) for someone you meet to scan with\n"
			    "'kith invite scan'.  It is valid for --ttl (default"
			    " 4h; 90s, 30m, 2d...,\nat most 30d) and --uses"
			    " answers (default 1, at most 255).  --alias is\n"
			    "your name there (default: $KITH_ALIAS or your login"
			    " name).  The agent\n(kithd) takes the answer over"
			    " the LAN; without it, scan the reply code\nthe"
			    " invitee shows.  --no-hints leaves this device's"
			    " addresses out of the code.\n");
			return (0);
		} else
			return (cli_fail(KITH_EINVAL, "invite create: unexpected"
			    " '%s'; see kith invite create --help", argv[i]));
	}
	if (uri == NULL)
		return (cli_fail(KITH_EINVAL, "invite create: name the service:"
		    " --service URI (for example --service"
		    " https://chat.example.org)"));
	if (alias == NULL)
		alias = default_alias();
	if (kith_duration(ttl_s, &ttl) != 0 || ttl < 60 ||
	    ttl > CONTACTS_TTL_MAX)
		return (cli_fail(KITH_EINVAL, "invite create: --ttl is a"
		    " duration from 60s to 30d, such as 90m, 4h or 2d"));
	if (uses < 1 || uses > 255)
		return (cli_fail(KITH_EINVAL, "invite create: --uses is 1 to"
		    " 255"));
	if (strlen(uri) == 0 || strlen(uri) > INVITE_URIMAX ||
	    strlen(alias) == 0 || strlen(alias) > INVITE_NAMEMAX ||
	    (sname != NULL && strlen(sname) > INVITE_NAMEMAX) ||
	    strlen(note) > INVITE_NOTEMAX)
		return (cli_fail(KITH_EINVAL, "invite create: the service URI"
		    " is 1 to %d bytes, the alias and service name 1 to %d,"
		    " the note at most %d", INVITE_URIMAX, INVITE_NAMEMAX,
		    INVITE_NOTEMAX));
	if (!kith_text_ok(uri, strlen(uri)) || !kith_text_ok(alias,
	    strlen(alias)) || (sname != NULL && !kith_text_ok(sname,
	    strlen(sname))) || !kith_text_ok(note, strlen(note)))
		return (cli_fail(KITH_EINVAL, "invite create: the service, alias"
		    " and note are UTF-8 text without control characters"));
	if (cli_open(0, &hm) != 0)
		return (1);
	if ((rc = cli_need_account(hm)) != 0)
		goto done;

	snprintf(inv.uri, sizeof(inv.uri), "%s", uri);
	/* No name given: the URI's host stands for it, not in the code. */
	if (sname != NULL)
		snprintf(inv.service, sizeof(inv.service), "%s", sname);
	snprintf(inv.alias, sizeof(inv.alias), "%s", alias);
	snprintf(inv.note, sizeof(inv.note), "%s", note);
	inv.uses = (uint8_t)uses;
	inv.expiry = (uint32_t)(kith_now() + ttl);
	inv.port = agent_port(hm);
	if (inv.port != 0 && hints)
		reach_hints_fill(inv.hints, &inv.nhints, 2, 0);
	if ((rc = contacts_sign(hm, &inv, text, sizeof(text))) != 0) {
		rc = cli_fail(rc, "invite create: cannot make the invitation:"
		    " %s", kith_strerror(rc));
		goto done;
	}
	if ((rc = qr_version(text, &ver)) != 0 || ver > QR_MAXVERSION) {
		rc = cli_fail(KITH_ETOOBIG, "invite create: this invitation"
		    " needs a QR code of version %d, too dense for a phone to"
		    " read from a screen (%d at most): shorten --note,"
		    " --service, --service-name or --alias, or leave out the"
		    " addresses with --no-hints", ver, QR_MAXVERSION);
		goto done;
	}
	if (png != NULL && (rc = qr_write_png(text, png, 0)) != 0) {
		rc = cli_fail(rc, "invite create: cannot write %s", png);
		goto done;
	}
	if ((rc = contacts_issue(hm, &inv, text)) != 0) {
		rc = cli_fail(rc, "invite create: cannot record the invitation:"
		    " %s", kith_strerror(rc));
		goto done;
	}
	if (inv.port != 0) {
		(void)invx_announce_add(hm, &inv);
		cli_agent_poke(hm);
	}
	kith_hex(inv.token, INVITE_TOKENLEN, tok);
	/* Recorded and announced: from here inv is only shown. */
	if (inv.service[0] == '\0')
		host_of(inv.uri, inv.service, sizeof(inv.service));
	if (cli.json) {
		cli_json_out(json_pack("{s:b, s:s, s:s, s:s, s:s, s:s, s:I,"
		    " s:i, s:i, s:s, s:b, s:s?}", "ok", 1, "id", tok, "code",
		    text, "service", inv.uri, "service_name", inv.service,
		    "alias", inv.alias, "expires", (json_int_t)inv.expiry,
		    "uses", (int)inv.uses, "qr_version", ver, "fingerprint",
		    cli_fingerprint(inv.account_pk), "lan", inv.port != 0, "png", png));
	} else {
		show_qr(text, "Invitation (for 'kith invite scan')");
		printf("Invitation %.8s to %s (%s) as '%s': %d use%s, until"
		    " %s.\nYour fingerprint, to compare aloud: %s\n", tok,
		    inv.service, inv.uri, inv.alias, inv.uses,
		    inv.uses == 1 ? "" : "s", cli_when(inv.expiry),
		    cli_fingerprint(inv.account_pk));
		if (inv.port == 0)
			printf("kithd is not running on this device: the"
			    " invitee will show a reply code;\nscan it with"
			    " 'kith invite scan'.\n");
		else
			printf("kithd on this device will take the answer over"
			    " the local network.\n");
	}
	rc = 0;
done:
	invitation_wipe(&inv);
	sodium_memzero(text, sizeof(text));
	home_close(hm);
	return (rc ? 1 : 0);
}

/* ---- kith invite scan ---------------------------------------------- */

/* The inviter's card as the invitation alone states it. */
static void
card_of_invitation(const struct invitation *inv, struct contact_card *c)
{

	memset(c, 0, sizeof(*c));
	memcpy(c->account_pk, inv->account_pk, 32);
	snprintf(c->alias, sizeof(c->alias), "%s", inv->alias);
	c->dev = inv->dev;
}

static int
refused_msg(uint8_t why, const struct invitation *inv)
{

	return (cli_fail(KITH_EREFUSED, "%s's device refused the answer: %s;"
	    " nothing was stored", inv->alias, invx_reason(why)));
}

/* Try the LAN: 0 answered, KITH_ECONN nobody reached, else failed. */
static int
answer_lan(struct home *hm, const struct invitation *inv, const char *alias,
    const char *peer, struct contact_card *inviter, uint8_t *why)
{
	struct reach *r;
	char tag[17];
	int i = 0, fd, rc = KITH_ECONN;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return (KITH_ENOMEM);
	if (peer != NULL) {
		if (reach_peer(r, peer) != 0) {
			free(r);
			return (cli_fail(KITH_EINVAL, "invite scan: --peer"
			    " takes HOST:PORT"), KITH_EINVAL);
		}
	} else {
		if (!cli.json)
			fprintf(stderr, "Looking for %s's device on the local"
			    " network...\n", inv->alias);
		invx_tag(inv, tag);
		reach_mdns(r, tag, BROWSE_MS);
		reach_hints(r, inv->hints, inv->nhints, inv->port);
	}
	/* A device that does not know the invitation: try the next. */
	while (reach_connect(r, &i, CONNECT_MS, &fd) == 0) {
		rc = invx_answer(hm, inv, fd, alias, inviter, why);
		if (rc != KITH_EHANDSHAKE && rc != KITH_ECLOSED &&
		    rc != KITH_ETIMEOUT && rc != KITH_EIO && rc != KITH_ETRUNC)
			break;
		i++;
	}
	free(r);
	return (rc);
}

static int
scan_invitation(const char *text, const char *alias, const char *peer,
    int nolan, const char *png)
{
	struct invitation inv;
	struct invite_reply rep;
	struct contact_card inviter;
	struct home *hm = NULL;
	char reply[REPLY_MAXTEXT], *how = NULL, *mycert = NULL;
	char sname[INVITE_NAMEMAX + 1];
	uint8_t *roster = NULL, h[32], why = 0;
	size_t rlen = 0, certlen;
	uint64_t since, now = kith_now();
	int rc, held;

	memset(&inviter, 0, sizeof(inviter));
	memset(&rep, 0, sizeof(rep));
	if ((rc = invitation_decode(text, strlen(text), &inv)) != 0)
		return (bad_code(rc, kith_code_kind(text, strlen(text))));
	if (cli_open(0, &hm) != 0) {
		invitation_wipe(&inv);
		return (1);
	}
	if ((rc = cli_need_account(hm)) != 0)
		goto done;
	(void)roster_of(hm, inv.account_pk, &roster, &rlen);
	switch ((rc = invite_check(&inv, now, roster, rlen))) {
	case 0:
		break;
	case KITH_ENOTMEMBER:
		/* A device enrolled after the roster we hold: not a reason. */
		break;
	case KITH_ECRYPTO:
		rc = cli_fail(rc, "this invitation is forged or was altered:"
		    " its signature does not verify; nothing was stored");
		goto done;
	case KITH_EEXPIRED:
		rc = cli_fail(rc, "this invitation from %s expired at %s; ask"
		    " for a new one; nothing was stored", inv.alias,
		    cli_when(inv.expiry));
		goto done;
	case KITH_EREVOKED:
		rc = cli_fail(rc, "this invitation was signed by a device"
		    " (%s) that %s's account has revoked; nothing was stored",
		    inv.dev.name, inv.alias);
		goto done;
	default:
		rc = cli_fail(rc, "this invitation does not match what %s's"
		    " account roster says (%s); nothing was stored", inv.alias,
		    kith_strerror(rc));
		goto done;
	}
	if (memcmp(inv.account_pk, hm->account_pk, 32) == 0) { /* not secret */
		rc = cli_fail(KITH_EINVAL, "this is an invitation of your own"
		    " account; show it to the person you invite");
		goto done;
	}
	if ((held = contacts_received(hm, inv.token, &how)) < 0) {
		rc = cli_fail(held, "cannot read the store");
		goto done;
	}
	if (held) {
		rc = cli_fail(KITH_EEXIST, "you already hold this invitation"
		    " from %s, answered %s; nothing changed", inv.alias,
		    strcmp(how, "lan") == 0 ? "over the network" :
		    "by a reply code");
		goto done;
	}
	if ((rc = contacts_member(hm, inv.uri, &since)) != 0) {
		if (rc > 0)
			rc = cli_fail(KITH_EEXIST, "you already belong to %s"
			    " (since %s); nothing was changed", inv.uri,
			    cli_when(since));
		else
			rc = cli_fail(rc, "cannot read the store");
		goto done;
	}
	/* (inv itself stays as signed: its hash binds the answer.) */
	if (inv.service[0] != '\0')
		snprintf(sname, sizeof(sname), "%s", inv.service);
	else
		host_of(inv.uri, sname, sizeof(sname));
	if (!cli.json) {
		/* The fingerprint first, on a line the inviter writes nothing
		 * into: an alias could imitate it. */
		printf("Inviter's account fingerprint: %s  (compare it aloud"
		    " with what they read out)\n", cli_fingerprint(inv.account_pk));
		printf("Invitation from \"%s\" to %s (%s), until %s.\n",
		    inv.alias, sname, inv.uri, cli_when(inv.expiry));
		if (inv.note[0] != '\0')
			printf("Note: %s\n", inv.note);
		fflush(stdout);
	}

	rc = nolan ? KITH_ECONN : answer_lan(hm, &inv, alias, peer,
	    &inviter, &why);
	if (rc == 0) {
		if ((rc = contacts_take_invitation(hm, &inv, text, &inviter,
		    "lan", now)) != 0) {
			rc = cli_fail(rc, "cannot record the invitation");
			goto done;
		}
		cli_agent_poke(hm);
		if (cli.json)
			cli_json_out(json_pack("{s:b, s:s, s:s, s:s, s:s, s:I}",
			    "ok", 1, "answered", "lan", "inviter", inv.alias,
			    "service", inv.uri, "fingerprint",
			    cli_fingerprint(inv.account_pk), "expires",
			    (json_int_t)inv.expiry));
		else
			printf("Answered over the network: you and %s now hold"
			    " each other's verified contact card.\n",
			    inv.alias);
		goto done;
	}
	if (rc == KITH_EREFUSED) {
		rc = refused_msg(why, &inv);
		goto done;
	}
	if (rc == KITH_EPROTO) {
		rc = cli_fail(rc, "the device that answered sent a contact card"
		    " that does not match the invitation; nothing was stored");
		goto done;
	}
	if (rc == KITH_EINVAL)
		goto done;

	/* Nobody reached: answer with a reply code shown to the inviter. */
	card_of_invitation(&inv, &inviter);
	memset(&rep, 0, sizeof(rep));
	memcpy(rep.token, inv.token, INVITE_TOKENLEN);
	if (store_meta_get(hm->st, "cert", (uint8_t **)&mycert,
	    &certlen) != 0 || invite_cert_parse((uint8_t *)mycert, certlen,
	    rep.account_pk, &rep.dev) != 0) {
		free(mycert);
		rc = cli_fail(KITH_ECORRUPT, "this device holds no valid"
		    " certificate");
		goto done;
	}
	free(mycert);
	snprintf(rep.alias, sizeof(rep.alias), "%s", alias);
	if ((rc = invitation_hash(&inv, h)) != 0 ||
	    (rc = reply_sign(&rep, h, hm->dk->sign_sk)) != 0 ||
	    (rc = reply_encode(&rep, reply, sizeof(reply))) != 0) {
		rc = cli_fail(rc, "cannot make the reply code");
		goto done;
	}
	if (png != NULL && (rc = qr_write_png(reply, png, 0)) != 0) {
		rc = cli_fail(rc, "cannot write %s", png);
		goto done;
	}
	if ((rc = contacts_take_invitation(hm, &inv, text, &inviter,
	    "reply", now)) != 0) {
		rc = cli_fail(rc, "cannot record the invitation");
		goto done;
	}
	cli_agent_poke(hm);
	if (cli.json) {
		cli_json_out(json_pack("{s:b, s:s, s:s, s:s, s:s, s:I, s:s,"
		    " s:s?}", "ok", 1, "answered", "reply", "inviter",
		    inv.alias, "service", inv.uri, "fingerprint",
		    cli_fingerprint(inv.account_pk), "expires", (json_int_t)inv.expiry,
		    "reply", reply, "png", png));
	} else {
		if (!nolan)
			printf("%s's device cannot be reached over the"
			    " network.\n", inv.alias);
		show_qr(reply, "Reply: show it to the inviter, who scans it"
		    " with 'kith invite scan'");
		printf("\"%s\" is now a verified contact; you become theirs"
		    " when they scan this reply (and you join %s once they"
		    " accept it, which this device cannot learn offline).\n",
		    inv.alias, inv.uri);
	}
	rc = 0;
done:
	free(how);
	free(roster);
	contacts_card_free(&inviter);
	invitation_wipe(&inv);
	home_close(hm);
	return (rc ? 1 : 0);
}

static int
scan_reply(const char *text)
{
	struct invite_reply rep;
	struct invitation inv;
	struct contact_card c;
	struct home *hm = NULL;
	int rc, fresh = 0;

	memset(&inv, 0, sizeof(inv));
	if ((rc = reply_decode(text, strlen(text), &rep)) != 0)
		return (cli_fail(rc, rc == KITH_EVERSION ? "this reply code is"
		    " of a newer format; update kith" : "this reply code is"
		    " damaged (it does not decode); nothing was stored"));
	if (cli_open(0, &hm) != 0)
		return (1);
	if ((rc = cli_need_account(hm)) != 0)
		goto done;
	if ((rc = contacts_issued(hm, rep.token, &inv)) != 0) {
		rc = cli_fail(rc == KITH_ENOENT ? KITH_ENOENT : rc, "this"
		    " reply answers no invitation issued by this account;"
		    " nothing was stored");
		goto done;
	}
	if ((rc = reply_check(&rep, &inv)) != 0) {
		rc = cli_fail(rc, "this reply is forged or was altered: its"
		    " signature does not verify; nothing was stored");
		goto done;
	}
	memset(&c, 0, sizeof(c));
	memcpy(c.account_pk, rep.account_pk, 32);
	snprintf(c.alias, sizeof(c.alias), "%s", rep.alias);
	c.dev = rep.dev;
	switch ((rc = contacts_take_answer(hm, &inv, &c, "reply",
	    kith_now(), &fresh))) {
	case 0:
		break;
	case KITH_EUSED:
		rc = cli_fail(rc, "the invitation this reply answers allows %d"
		    " answer%s, all taken: %s was not added", inv.uses,
		    inv.uses == 1 ? "" : "s", rep.alias);
		goto done;
	case KITH_EEXPIRED:
		rc = cli_fail(rc, "the invitation this reply answers expired at"
		    " %s: %s was not added", cli_when(inv.expiry), rep.alias);
		goto done;
	case KITH_EWITHDRAWN:
		rc = cli_fail(rc, "the invitation this reply answers was"
		    " withdrawn: %s was not added", rep.alias);
		goto done;
	case KITH_EREVOKED:
		rc = cli_fail(rc, "the invitation this reply answers was signed"
		    " by a device now revoked: %s was not added", rep.alias);
		goto done;
	case KITH_EINVAL:
		rc = cli_fail(rc, "this reply comes from your own account");
		goto done;
	default:
		rc = cli_fail(rc, "cannot record the answer");
		goto done;
	}
	cli_agent_poke(hm);
	if (cli.json)
		cli_json_out(json_pack("{s:b, s:s, s:s, s:s, s:b}", "ok", 1,
		    "contact", rep.alias, "fingerprint", cli_fingerprint(rep.account_pk),
		    "service", inv.uri, "new", fresh));
	else
		printf("%s (fingerprint %s) is now a verified contact, met in"
		    " person for %s.\n", rep.alias, cli_fingerprint(rep.account_pk),
		    inv.uri);
	rc = 0;
done:
	invitation_wipe(&inv);
	home_close(hm);
	return (rc ? 1 : 0);
}

static int
invite_scan(int argc, char **argv)
{
	const char *image = NULL, *code = NULL, *alias = NULL, *peer = NULL;
	const char *png = NULL;
	char *text = NULL;
	int i, camera = 0, nolan = 0, rc, kind;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--code") == 0 && i + 1 < argc)
			code = argv[++i];
		else if (strcmp(argv[i], "--alias") == 0 && i + 1 < argc)
			alias = argv[++i];
		else if (strcmp(argv[i], "--peer") == 0 && i + 1 < argc)
			peer = argv[++i];
		else if (strcmp(argv[i], "--reply-png") == 0 && i + 1 < argc)
			png = argv[++i];
		else if (strcmp(argv[i], "--camera") == 0)
			camera = 1;
		else if (strcmp(argv[i], "--no-lan") == 0)
			nolan = 1;
		else if (strcmp(argv[i], "--help") == 0) {
			printf("usage: kith invite scan [IMAGE] [--code TEXT]"
			    " [--camera] [--alias NAME]\n"
			    "         [--peer HOST:PORT] [--no-lan]"
			    " [--reply-png FILE]\n"
			    "Read an invitation (from a photo or screenshot of"
			    " its QR code, its text,\nor the camera), verify"
			    " it, keep it and the inviter's contact card, and\n"
			    "answer: over the local network when the inviter's"
			    " device can be reached\n(mDNS, the addresses in"
			    " the code, or --peer), else by a reply code to"
			    " show\nthe inviter (--no-lan goes straight to it)."
			    "  --alias is your name for\nthem (default:"
			    " $KITH_ALIAS or your login name).  Given a reply"
			    " code, the\ninviter's side records the invitee as"
			    " a verified contact.\n");
			return (0);
		} else if (argv[i][0] != '-' && image == NULL)
			image = argv[i];
		else
			return (cli_fail(KITH_EINVAL, "invite scan: unexpected"
			    " '%s'; see kith invite scan --help", argv[i]));
	}
	if (alias == NULL)
		alias = default_alias();
	if (strlen(alias) == 0 || strlen(alias) > INVITE_NAMEMAX ||
	    !kith_text_ok(alias, strlen(alias)))
		return (cli_fail(KITH_EINVAL, "invite scan: --alias is 1 to %d"
		    " bytes of UTF-8 text without control characters",
		    INVITE_NAMEMAX));
	if ((rc = cli_read_code(image, code, camera, &text)) != 0) {
		if (rc == KITH_ENOENT)
			return (cli_fail(rc, "invite scan: give the code: a"
			    " photo or screenshot of it, --code TEXT, or"
			    " --camera"));
		return (1);
	}
	kind = kith_code_kind(text, strlen(text));
	if (kind == KITH_CODE_REPLY)
		rc = scan_reply(text);
	else
		rc = scan_invitation(text, alias, peer, nolan, png);
	sodium_memzero(text, strlen(text));
	free(text);
	return (rc);
}

/* ---- kith invite list / revoke ----------------------------------------- */

struct listing {
	struct home *hm;
	json_t *issued, *received;
	const char *prefix;		/* revoke: the id given */
	int nmatch;
	char match[33];
};

static int
list_cb(void *arg, json_t *o)
{
	struct listing *l = arg;
	const char *svc = json_string_value(json_object_get(o, "service"));
	const char *id = json_string_value(json_object_get(o, "id"));

	if (svc == NULL || id == NULL)
		return (0);
	if (strcmp(svc, "kith:invite") == 0) {
		if (l->prefix != NULL) {
			if (strncasecmp(id, l->prefix, strlen(l->prefix)) ==
			    0 && l->nmatch++ == 0)
				snprintf(l->match, sizeof(l->match), "%s", id);
			return (0);
		}
		json_array_append(l->issued, o);
	} else if (strcmp(svc, "kith:invitation") == 0 && l->prefix == NULL)
		json_array_append(l->received, o);
	return (0);
}

/* State of an issued invitation record, as JSON fields and a phrase. */
static const char *
issued_state(struct home *hm, json_t *o, json_t *out)
{
	struct invitation inv;
	struct invite_state st;
	const char *code = json_string_value(json_object_get(o, "code"));
	static char phrase[64];

	if (code == NULL || invitation_decode(code, strlen(code), &inv) != 0)
		return ("unreadable");
	if (contacts_state(hm, &inv, kith_now(), &st) != 0) {
		invitation_wipe(&inv);
		return ("unreadable");
	}
	json_object_set_new(out, "used", json_integer(st.used));
	json_object_set_new(out, "uses", json_integer(inv.uses));
	if (st.withdrawn)
		snprintf(phrase, sizeof(phrase), "withdrawn");
	else if (st.used >= inv.uses)
		snprintf(phrase, sizeof(phrase), "used");
	else if (st.expired)
		snprintf(phrase, sizeof(phrase), "expired");
	else
		snprintf(phrase, sizeof(phrase), "open");
	invitation_wipe(&inv);
	json_object_set_new(out, "state", json_string(phrase));
	return (phrase);
}

static int
invite_list(int argc, char **argv)
{
	struct listing l;
	struct home *hm;
	json_t *o, *e, *out;
	size_t i;
	int rc;

	if ((rc = open_noarg(argc, argv, "invite list", "usage: kith invite"
	    " list\nThe invitations this account issued (with how many"
	    " answers each\ntook, and whether it is open, used, expired or"
	    " withdrawn) and those it\nreceived.\n", &hm)) != 0 || hm == NULL)
		return (rc);
	memset(&l, 0, sizeof(l));
	l.hm = hm;
	l.issued = json_array();
	l.received = json_array();
	if ((rc = contacts_each(hm, list_cb, &l)) != 0) {
		rc = cli_fail(rc, "cannot read the store");
		goto done;
	}
	out = json_pack("{s:b, s:[], s:[]}", "ok", 1, "issued", "received");
	if (!cli.json && json_array_size(l.issued) + json_array_size(
	    l.received) == 0)
		printf("No invitations issued or received.\n");
	if (!cli.json && json_array_size(l.issued) > 0)
		printf("Issued:\n");
	json_array_foreach(l.issued, i, o) {
		e = json_pack("{s:O, s:O, s:O, s:O, s:O}", "id",
		    json_object_get(o, "id"), "service", json_object_get(o,
		    "uri"), "alias", json_object_get(o, "alias"), "created",
		    json_object_get(o, "created"), "expires",
		    json_object_get(o, "expires"));
		if (e == NULL)
			continue;
		issued_state(hm, o, e);
		if (!cli.json)
			printf("  %.8s  %-30s as %-12s %-9s %lld/%lld used,"
			    " until %s\n", json_string_value(json_object_get(e,
			    "id")), json_string_value(json_object_get(e,
			    "service")), json_string_value(json_object_get(e,
			    "alias")), json_string_value(json_object_get(e,
			    "state")), json_integer_value(json_object_get(e,
			    "used")), json_integer_value(json_object_get(e,
			    "uses")), cli_when((uint64_t)json_integer_value(
			    json_object_get(e, "expires"))));
		json_array_append_new(json_object_get(out, "issued"), e);
	}
	if (!cli.json && json_array_size(l.received) > 0)
		printf("Received:\n");
	json_array_foreach(l.received, i, o) {
		e = json_pack("{s:O, s:O, s:O, s:O, s:O}", "id",
		    json_object_get(o, "id"), "service", json_object_get(o,
		    "uri"), "inviter", json_object_get(o, "alias"), "scanned",
		    json_object_get(o, "scanned"), "answered",
		    json_object_get(o, "how"));
		if (e == NULL)
			continue;
		if (!cli.json)
			printf("  %.8s  %-30s from %-12s scanned %s, answered"
			    " %s\n", json_string_value(json_object_get(e, "id")),
			    json_string_value(json_object_get(e, "service")),
			    json_string_value(json_object_get(e, "inviter")),
			    cli_when((uint64_t)json_integer_value(
			    json_object_get(e, "scanned"))),
			    strcmp(json_string_value(json_object_get(e,
			    "answered")), "lan") == 0 ? "over the network" :
			    "by reply code");
		json_array_append_new(json_object_get(out, "received"), e);
	}
	if (cli.json)
		cli_json_out(out);
	else
		json_decref(out);
	rc = 0;
done:
	json_decref(l.issued);
	json_decref(l.received);
	home_close(hm);
	return (rc ? 1 : 0);
}

static int
invite_revoke(int argc, char **argv)
{
	struct listing l;
	struct invitation inv;
	struct home *hm;
	uint8_t tok[INVITE_TOKENLEN];
	int rc;

	if (argc != 2 || strcmp(argv[1], "--help") == 0) {
		if (argc == 2) {
			printf("usage: kith invite revoke ID\nWithdraw the"
			    " invitation ID (the first digits shown by 'kith"
			    " invite\nlist', at least 4): answers to it are"
			    " refused from then on, on every\ndevice of the"
			    " account that has seen the withdrawal.\n");
			return (0);
		}
		return (cli_fail(KITH_EINVAL, "usage: kith invite revoke ID"));
	}
	if (strlen(argv[1]) < 4 || strlen(argv[1]) > 32)
		return (cli_fail(KITH_EINVAL, "invite revoke: give at least 4"
		    " digits of the invitation's id ('kith invite list')"));
	if (cli_open(0, &hm) != 0)
		return (1);
	if ((rc = cli_need_account(hm)) != 0) {
		home_close(hm);
		return (1);
	}
	memset(&l, 0, sizeof(l));
	l.prefix = argv[1];
	if ((rc = contacts_each(hm, list_cb, &l)) != 0) {
		rc = cli_fail(rc, "cannot read the store");
		goto done;
	}
	if (l.nmatch > 1) {
		rc = cli_fail(KITH_EAMBIGUOUS, "'%s' names %d invitations: give"
		    " more digits", argv[1], l.nmatch);
		goto done;
	}
	if (l.nmatch == 0) {
		rc = cli_fail(KITH_ENOENT, "no invitation issued by this"
		    " account has an id starting '%s'; 'kith invite list'"
		    " shows them", argv[1]);
		goto done;
	}
	if (kith_unhex(l.match, 32, tok, sizeof(tok)) != 0) {
		rc = cli_fail(KITH_ECORRUPT, "a stored invitation is damaged");
		goto done;
	}
	if ((rc = contacts_withdraw(hm, tok)) != 0 && rc != KITH_EEXIST) {
		rc = cli_fail(rc, "cannot withdraw the invitation");
		goto done;
	}
	if (contacts_issued(hm, tok, &inv) == 0) {
		(void)invx_announce_del(hm, &inv);
		invitation_wipe(&inv);
	}
	cli_agent_poke(hm);
	if (cli.json)
		cli_json_out(json_pack("{s:b, s:s, s:b}", "ok", 1, "id",
		    l.match, "already", rc == KITH_EEXIST));
	else
		printf(rc == KITH_EEXIST ? "Invitation %.8s was withdrawn"
		    " already.\n" : "Invitation %.8s withdrawn: answers to it"
		    " are refused.\n", l.match);
	rc = 0;
done:
	home_close(hm);
	return (rc ? 1 : 0);
}

/* ---- kith invite verify ---------------------------------------------- */

static int
invite_verify(int argc, char **argv)
{
	struct invitation inv;
	const char *file = NULL, *code = NULL, *rfile = NULL, *svc = NULL;
	uint8_t *roster = NULL;
	size_t rlen = 0;
	char *text = NULL, tok[33], why[1024];
	int i, rc;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--code") == 0 && i + 1 < argc)
			code = argv[++i];
		else if (strcmp(argv[i], "--roster") == 0 && i + 1 < argc)
			rfile = argv[++i];
		else if (strcmp(argv[i], "--service") == 0 && i + 1 < argc)
			svc = argv[++i];
		else if (strcmp(argv[i], "--help") == 0) {
			printf("usage: kith invite verify FILE|--code TEXT"
			    " [--roster FILE] [--service URI]\n"
			    "Check an invitation as a service does when it is"
			    " redeemed: the device's\nsignature, its"
			    " certificate from the inviter's account, the"
			    " expiry, and\nwith --roster (the inviter's 'kith"
			    " devices --export') that the signing\ndevice is"
			    " not revoked; with --service, that it is for that"
			    " service.\nFILE is a QR image or a file holding"
			    " the code.  Needs no kith home.\n");
			return (0);
		} else if (argv[i][0] != '-' && file == NULL)
			file = argv[i];
		else
			return (cli_fail(KITH_EINVAL, "invite verify: unexpected"
			    " '%s'; see kith invite verify --help", argv[i]));
	}
	if ((file == NULL) == (code == NULL))
		return (cli_fail(KITH_EINVAL, "invite verify: give FILE or"
		    " --code TEXT"));
	if (code != NULL) {
		if ((text = strdup(code)) == NULL)
			return (cli_fail(KITH_ENOMEM, "out of memory"));
	} else if (read_code_file(file, &text) != 0)
		return (1);
	memset(&inv, 0, sizeof(inv));
	if ((rc = invitation_decode(text, strlen(text), &inv)) != 0) {
		rc = bad_code(rc, kith_code_kind(text, strlen(text)));
		goto done;
	}
	if (rfile != NULL && (rc = kith_file_read(rfile, (size_t)1 << 20,
	    &roster, &rlen)) != 0) {
		rc = cli_fail(rc, "cannot read the roster %s", rfile);
		goto done;
	}
	rc = invite_check(&inv, kith_now(), roster, rlen);
	if (rc == 0 && svc != NULL && strcmp(svc, inv.uri) != 0)
		rc = KITH_EWRONGKIND;
	kith_hex(inv.token, INVITE_TOKENLEN, tok);
	if (rc == KITH_EWRONGKIND)
		snprintf(why, sizeof(why), "this invitation is for %s, not %s",
		    inv.uri, svc);
	else if (rc != 0)
		snprintf(why, sizeof(why), "invalid invitation from %s: %s",
		    inv.alias, rc == KITH_ECRYPTO ? "forged or altered (a"
		    " signature does not verify)" : rc == KITH_EEXPIRED ?
		    "expired" : rc == KITH_EREVOKED ? "signed by a revoked"
		    " device" : rc == KITH_ENOTMEMBER ? "the roster does not"
		    " list the signing device" : "the roster given is not"
		    " this account's, or does not verify");
	if (cli.json) {
		json_t *o = json_pack("{s:b, s:s, s:s, s:s, s:s, s:s, s:s, s:I,"
		    " s:i, s:b}", "ok", rc == 0, "id", tok, "service", inv.uri,
		    "alias", inv.alias, "account", cli_hex(inv.account_pk, 32),
		    "fingerprint", cli_fingerprint(inv.account_pk), "device",
		    inv.dev.name, "expires", (json_int_t)inv.expiry, "uses",
		    (int)inv.uses, "roster_checked", roster != NULL);

		if (rc != 0)
			cli_fail_doc(o, rc, why);
		else
			cli_json_out(o);
	} else if (rc == 0) {
		printf("Valid invitation to %s from %s (account %s, device"
		    " '%s'),\nuntil %s, %d use%s%s.\n", inv.uri, inv.alias,
		    cli_fingerprint(inv.account_pk), inv.dev.name, cli_when(inv.expiry),
		    inv.uses, inv.uses == 1 ? "" : "s", roster != NULL ?
		    "; the device is active on the roster given" :
		    " (no roster given: device standing not checked)");
	} else {
		cli_fail_doc(NULL, rc, why);
	}
done:
	free(roster);
	invitation_wipe(&inv);
	sodium_memzero(text, strlen(text));
	free(text);
	return (rc ? 1 : 0);
}

int
cmd_invite(int argc, char **argv)
{

	if (argc >= 2 && strcmp(argv[1], "create") == 0)
		return (invite_create(argc - 1, argv + 1));
	if (argc >= 2 && strcmp(argv[1], "scan") == 0)
		return (invite_scan(argc - 1, argv + 1));
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return (invite_list(argc - 1, argv + 1));
	if (argc >= 2 && strcmp(argv[1], "revoke") == 0)
		return (invite_revoke(argc - 1, argv + 1));
	if (argc >= 2 && strcmp(argv[1], "verify") == 0)
		return (invite_verify(argc - 1, argv + 1));
	if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
		printf("usage: kith invite create|scan|list|revoke|verify"
		    " ...\n'kith invite COMMAND --help' says more.\n");
		return (0);
	}
	return (cli_fail(KITH_EINVAL, "usage: kith invite"
	    " create|scan|list|revoke|verify ...; see kith invite --help"));
}

/* ---- kith contacts ------------------------------------------------- */

static int
contacts_cb(void *arg, json_t *o)
{
	json_t *byacct = arg;
	const char *svc = json_string_value(json_object_get(o, "service"));
	const char *a = json_string_value(json_object_get(o, "account"));
	json_t *have;

	if (svc == NULL || strcmp(svc, "kith:contact") != 0 || a == NULL)
		return (0);
	/* The newest meeting speaks for the contact. */
	have = json_object_get(byacct, a);
	if (have == NULL || json_integer_value(json_object_get(o, "met")) >=
	    json_integer_value(json_object_get(have, "met")))
		json_object_set(byacct, a, o);
	return (0);
}

int
cmd_contacts(int argc, char **argv)
{
	struct home *hm;
	json_t *byacct, *o, *arr, *e;
	const char *k;
	uint8_t acct[32];
	int rc;

	if (argc >= 2 && strcmp(argv[1], "update") == 0)
		return (cmd_contacts_update(argc - 1, argv + 1));
	if ((rc = open_noarg(argc, argv, "contacts", "usage: kith contacts\n"
	    "       kith contacts update CONTACT --roster FILE\n"
	    "The verified contacts of this account: people met in person"
	    " through\nan invitation, with their alias, the service, a"
	    " fingerprint to compare,\nand when and how you met.  'update'"
	    " takes a newer roster of a contact\n('kith devices --export' on"
	    " their side, by any channel): what you seal\nfor them then"
	    " follows it.\n", &hm)) != 0 || hm == NULL)
		return (rc);
	byacct = json_object();
	if ((rc = contacts_each(hm, contacts_cb, byacct)) != 0) {
		json_decref(byacct);
		home_close(hm);
		return (cli_fail(rc, "cannot read the store"));
	}
	arr = json_array();
	if (!cli.json && json_object_size(byacct) == 0)
		printf("No verified contacts yet: 'kith invite create' or"
		    " 'kith invite scan' when you meet someone.\n");
	json_object_foreach(byacct, k, o) {
		if (kith_unhex(k, strlen(k), acct, 32) != 0)
			continue;
		e = json_pack("{s:O, s:s, s:O, s:O, s:O, s:O, s:O, s:O}",
		    "alias", json_object_get(o, "alias"), "fingerprint",
		    cli_fingerprint(acct), "account", json_object_get(o, "account"),
		    "service", json_object_get(o, "uri"), "met",
		    json_object_get(o, "met"), "how", json_object_get(o,
		    "how"), "role", json_object_get(o, "role"), "device",
		    json_object_get(o, "device"));
		if (e == NULL)
			continue;
		if (!cli.json)
			printf("%s  \"%s\"  %s, met %s in person (%s), %s\n",
			    cli_fingerprint(acct), json_string_value(json_object_get(o,
			    "alias")), json_string_value(json_object_get(o,
			    "uri")), cli_when((uint64_t)json_integer_value(
			    json_object_get(o, "met"))), strcmp(
			    json_string_value(json_object_get(o, "how")),
			    "lan") == 0 ? "cards exchanged over the LAN" :
			    "reply code scanned", strcmp(json_string_value(
			    json_object_get(o, "role")), "inviter") == 0 ?
			    "who invited you" : "whom you invited");
		json_array_append_new(arr, e);
	}
	if (cli.json)
		cli_json_out(json_pack("{s:b, s:o}", "ok", 1, "contacts", arr));
	else
		json_decref(arr);
	json_decref(byacct);
	home_close(hm);
	return (0);
}
