/*
 * ctlseal.c: the "seal" and "open" ops of the control socket (docs/API.md
 * §4): envelopes for verified contacts (syncd/seal.c) sealed and opened by
 * the agent, which holds the keys, for a client app that holds neither
 * keys nor files: what crosses the socket is the plaintext and the
 * envelope, at most CTL_SEAL_MAX bytes each (messages, not archives:
 * 'kith seal' streams files of any size).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "agent.h"
#include "kith_err.h"
#include "seal.h"

#define CTL_SEAL_MAX ((size_t)16 << 20)
/* What the agent had taken in goes to disk first: seal.c begins its own
 * transactions. */
static void
settle(struct agent *ag)
{

	if (ag->intx)
		ag_tx_commit(ag);
}

int
ctl_op_seal(struct agent *ag, json_t *req, json_t *resp, const char **code,
    const char **msg)
{
	json_t *to = json_object_get(req, "to"), *v, *arr;
	const char *group = json_string_value(json_object_get(req, "group"));
	const char *name = json_string_value(json_object_get(req, "name"));
	const char *data = json_string_value(json_object_get(req, "data"));
	const char *text = json_string_value(json_object_get(req, "text"));
	struct seal_peer *peers = NULL;
	struct seal_group *g = NULL;
	struct seal_opts o;
	uint8_t *pt = NULL;
	char *env = NULL;
	size_t np = 0, ptlen = 0, envlen = 0, i;
	uint64_t bytes;
	FILE *fi = NULL, *fo = NULL;
	int rc = -1, self, armour;

	*code = "bad_request";
	*msg = "seal takes \"to\" (an array of contacts: aliases, fingerprints"
	    " or account hex) or \"group\", and \"data\" (base64) or \"text\";"
	    " optional \"self\", \"name\", \"armour\"";
	self = json_object_get(req, "self") == NULL ||
	    json_is_true(json_object_get(req, "self"));
	armour = json_is_true(json_object_get(req, "armour"));
	if ((to != NULL && (!json_is_array(to) || json_array_size(to) >
	    SEAL_MAXTO)) || (to != NULL && group != NULL) ||
	    (json_array_size(to) == 0 && group == NULL && !self) ||
	    (data == NULL) == (text == NULL))
		return (-1);
	if (data != NULL && seal_unb64(data, CTL_SEAL_MAX, &pt, &ptlen) != 0) {
		*msg = "\"data\" is base64 of at most 16 MiB";
		return (-1);
	}
	if (text != NULL) {
		ptlen = strlen(text);
		if (ptlen > CTL_SEAL_MAX || (pt = malloc(ptlen + 1)) == NULL) {
			*code = "too_big";
			*msg = "at most 16 MiB through the socket: 'kith seal'"
			    " streams files of any size";
			return (-1);
		}
		memcpy(pt, text, ptlen);
	}
	settle(ag);
	if ((peers = calloc(json_array_size(to) + 1, sizeof(*peers))) ==
	    NULL) {
		*code = "internal";
		*msg = "out of memory";
		goto out;
	}
	json_array_foreach(to, i, v) {
		if (!json_is_string(v))
			goto out;
		rc = seal_peer_find(ag->hm, json_string_value(v), &peers[np]);
		if (rc != 0) {
			*code = rc == KITH_EAMBIGUOUS ? "ambiguous" : rc ==
			    KITH_EFORK ? "fork" : "unknown_contact";
			*msg = rc == KITH_EAMBIGUOUS ? "a name in \"to\" names"
			    " several contacts: use the fingerprint" : rc ==
			    KITH_EFORK ? "two rosters of one version are known"
			    " for a contact: meet them again" : "a name in"
			    " \"to\" is no verified contact (the \"contacts\""
			    " op lists them)";
			rc = -1;
			goto out;
		}
		np++;
	}
	if (group != NULL && seal_group_find(ag->hm, group, &g) != 0) {
		*code = "no_group";
		*msg = "no group of that name is held";
		rc = -1;
		goto out;
	}
	memset(&o, 0, sizeof(o));
	o.to = peers;
	o.nto = np;
	o.self = self;
	o.group = g;
	o.name = name;
	o.armour = armour;
	fi = ptlen > 0 ? fmemopen(pt, ptlen, "r") : fopen("/dev/null", "r");
	fo = open_memstream(&env, &envlen);
	if (fi == NULL || fo == NULL) {
		*code = "internal";
		*msg = "out of memory";
		rc = -1;
		goto out;
	}
	rc = seal_write(ag->hm, &o, fi, fo, &bytes);
	if (fclose(fo) != 0 && rc == 0)
		rc = KITH_ENOMEM;
	fo = NULL;
	if (rc != 0) {
		*code = rc == KITH_EREVOKED ? "revoked" : rc == KITH_EINVAL ?
		    "bad_request" : "internal";
		*msg = rc == KITH_EREVOKED ? "a recipient has no active device"
		    " on the roster known here" : rc == KITH_EINVAL ? "a"
		    " \"name\" is a plain file name of at most 255 bytes" :
		    kith_strerror(rc);
		rc = -1;
		goto out;
	}
	arr = json_array();
	for (i = 0; i < np; i++)
		json_array_append_new(arr, seal_peer_json(&peers[i],
		    kith_now()));
	json_object_set_new(resp, "envelope", armour ? json_stringn(env,
	    envlen) : seal_b64_json(env, envlen));
	json_object_set_new(resp, "armour", json_boolean(armour));
	json_object_set_new(resp, "bytes", json_integer((json_int_t)bytes));
	json_object_set_new(resp, "recipients", arr);
	json_object_set_new(resp, "self", json_boolean(self));
	rc = 0;
out:
	if (fi != NULL)
		(void)fclose(fi);
	if (fo != NULL)
		(void)fclose(fo);
	free(env);
	if (pt != NULL) {
		sodium_memzero(pt, ptlen);
		free(pt);
	}
	seal_peers_free(peers, np);
	seal_group_free(g);
	return (rc);
}

/* The refusal of an envelope that did not open: code and message. */
static void
refusal(int rc, const char **code, const char **msg)
{

	switch (rc) {
	case KITH_ENOTKITH:
		*code = "not_envelope";
		*msg = "not a kith envelope";
		break;
	case KITH_ENOTFORME:
		*code = "not_for_me";
		*msg = "not sealed for this device";
		break;
	case KITH_ENOTCONTACT:
		*code = "not_contact";
		*msg = "sealed by someone who is not a verified contact";
		break;
	case KITH_EREVOKED:
		*code = "revoked";
		*msg = "sealed by a device its account revoked";
		break;
	case KITH_ENOTMEMBER:
		*code = "not_member";
		*msg = "sealed by a device not on its account's roster";
		break;
	case KITH_ETRUNC:
		*code = "truncated";
		*msg = "the envelope is cut short";
		break;
	case KITH_EFORK:
	case KITH_EROSTER:
		*code = "fork";
		*msg = "the envelope carries a roster that breaks the chain of"
		    " the one held";
		break;
	case KITH_ECRYPTO:
	case KITH_EFORMAT:
	case KITH_EVERSION:
		*code = "tampered";
		*msg = "the envelope does not verify (altered, or re-addressed)";
		break;
	case KITH_EPERM:
		*code = "not_group_member";
		*msg = "sealed to a group by one who is not among its members";
		break;
	case KITH_ETOOBIG:
		*code = "too_big";
		*msg = "at most 16 MiB through the socket: 'kith open --out'"
		    " takes envelopes of any size";
		break;
	default:
		*code = "internal";
		*msg = kith_strerror(rc);
	}
}

int
ctl_op_open(struct agent *ag, json_t *req, json_t *resp, const char **code,
    const char **msg)
{
	const char *e64 = json_string_value(json_object_get(req, "envelope"));
	const char *arm = json_string_value(json_object_get(req, "armoured"));
	struct seal_opened r;
	struct seal_sink sink;
	uint8_t *env = NULL;
	size_t envlen = 0;
	FILE *fi = NULL, *fo = NULL;
	json_t *doc;
	int rc;

	*code = "bad_request";
	*msg = "open takes \"envelope\" (base64 of a binary envelope) or"
	    " \"armoured\" (its text)";
	if ((e64 == NULL) == (arm == NULL))
		return (-1);
	if (e64 != NULL && seal_unb64(e64, CTL_SEAL_MAX + (1 << 20), &env,
	    &envlen) != 0)
		return (-1);
	settle(ag);
	fi = e64 != NULL ? (envlen > 0 ? fmemopen(env, envlen, "r") :
	    fopen("/dev/null", "r")) : fmemopen((void *)(uintptr_t)arm,
	    strlen(arm), "r");
	fo = seal_sink_open(&sink, CTL_SEAL_MAX);
	memset(&r, 0, sizeof(r));
	if (fi == NULL || fo == NULL)
		rc = KITH_ENOMEM;
	else
		rc = seal_open(ag->hm, fi, fo, &r);
	if (fo != NULL && fclose(fo) != 0 && rc == 0)
		rc = KITH_EIO;
	if (rc == KITH_EIO && sink.over)
		rc = KITH_ETOOBIG;
	if (rc != 0) {
		refusal(rc, code, msg);
		rc = -1;
		goto out;
	}
	doc = seal_opened_json(&r);
	json_object_update(resp, doc);
	json_decref(doc);
	if (r.kind == SEAL_KIND_DATA)
		json_object_set_new(resp, "data", seal_b64_json(sink.b,
		    sink.len));
	if (r.roster_updated || r.group_stored) {
		/* Records written: counted, and offered to the peers. */
		ag_recount(ag);
		sess_push_all(ag);
	}
	rc = 0;
out:
	if (fi != NULL)
		(void)fclose(fi);
	seal_sink_free(&sink);
	seal_open_free(&r);
	free(env);
	return (rc);
}
