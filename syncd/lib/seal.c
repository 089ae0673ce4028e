/*
 * seal.c: kith_seal and kith_open, on the agent's "seal" and "open" ops.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "kith.h"
#include "kith_err.h"
#include "seal.h"


/* Call ${req} (the reference taken); the reply as JSON and as text. */
static int
call(kith_client *c, json_t *req, json_t **reply, char **info)
{
	char *line, *text = NULL;
	int rc;

	*reply = NULL;
	if (req == NULL)
		return (KITH_LIB_ENOMEM);
	line = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (line == NULL)
		return (KITH_LIB_ENOMEM);
	rc = kith_client_call(c, line, &text);
	sodium_memzero(line, strlen(line));	/* it may hold plaintext */
	free(line);
	if (text != NULL)
		*reply = json_loads(text, 0, NULL);
	if (info != NULL)
		*info = text;
	else
		kith_free(text);
	return (rc);
}

/* A refusal's code, as the library's. */
static int
refused(json_t *reply)
{
	const char *code = json_string_value(json_object_get(
	    json_object_get(reply, "error"), "code"));
	static const struct {
		const char *code;
		int err;
	} map[] = {
		{ "not_envelope", KITH_LIB_EFORMAT },
		{ "not_for_me", KITH_LIB_ENOTFORME },
		{ "not_contact", KITH_LIB_ENOTCONTACT },
		{ "revoked", KITH_LIB_EREVOKED },
		{ "not_member", KITH_LIB_ENOTMEMBER },
		{ "truncated", KITH_LIB_ETRUNC },
		{ "fork", KITH_LIB_EFORK },
		{ "tampered", KITH_LIB_EFORGED },
		{ "not_group_member", KITH_LIB_ENOTMEMBER },
		{ "unknown_contact", KITH_LIB_EINVAL },
		{ "ambiguous", KITH_LIB_EINVAL },
		{ "no_group", KITH_LIB_EINVAL },
		{ "bad_request", KITH_LIB_EINVAL },
	};
	size_t i;

	for (i = 0; code != NULL && i < sizeof(map) / sizeof(*map); i++)
		if (strcmp(code, map[i].code) == 0)
			return (map[i].err);
	return (KITH_LIB_EREFUSED);
}

/* Base64 from the agent into a new buffer for the caller. */
static int
unb64(const char *s, void **out, size_t *len)
{
	uint8_t *b;
	int rc;

	if ((rc = seal_unb64(s, KITH_SEAL_MAX + ((size_t)1 << 20), &b,
	    len)) != 0)
		return (rc == KITH_ENOMEM ? KITH_LIB_ENOMEM : KITH_LIB_EPROTO);
	*out = b;
	return (0);
}

int
kith_seal(kith_client *c, const char *opts_json, const void *data,
    size_t len, void **envelope, size_t *envlen, char **info_json)
{
	json_t *req, *reply, *env;
	int rc;

	if (info_json != NULL)
		*info_json = NULL;
	if (envelope == NULL || envlen == NULL || (data == NULL && len > 0))
		return (KITH_LIB_EINVAL);
	*envelope = NULL;
	*envlen = 0;
	if (len > KITH_SEAL_MAX)
		return (KITH_LIB_ETOOBIG);
	req = json_loads(opts_json != NULL ? opts_json : "{}", 0, NULL);
	if (!json_is_object(req)) {
		json_decref(req);
		return (KITH_LIB_EINVAL);
	}
	json_object_set_new(req, "op", json_string("seal"));
	json_object_set_new(req, "data", seal_b64_json(data, len));
	rc = call(c, req, &reply, info_json);
	if (rc == KITH_LIB_EREFUSED)
		rc = refused(reply);
	env = json_object_get(reply, "envelope");
	if (rc == 0 && !json_is_string(env))
		rc = KITH_LIB_EPROTO;
	if (rc == 0) {
		if (json_is_true(json_object_get(reply, "armour"))) {
			*envlen = json_string_length(env);
			if ((*envelope = malloc(*envlen + 1)) == NULL)
				rc = KITH_LIB_ENOMEM;
			else
				memcpy(*envelope, json_string_value(env),
				    *envlen + 1);
		} else
			rc = unb64(json_string_value(env), envelope, envlen);
	}
	json_decref(reply);
	return (rc);
}

int
kith_open(kith_client *c, const void *envelope, size_t len, void **data,
    size_t *datalen, char **info_json)
{
	json_t *req, *reply, *d;
	int rc;

	if (info_json != NULL)
		*info_json = NULL;
	if (data == NULL || datalen == NULL || envelope == NULL)
		return (KITH_LIB_EINVAL);
	*data = NULL;
	*datalen = 0;
	if (len > KITH_SEAL_MAX + ((size_t)1 << 20))
		return (KITH_LIB_ETOOBIG);
	req = json_pack("{s:s}", "op", "open");
	if (seal_is_binary(envelope, len))
		json_object_set_new(req, "envelope", seal_b64_json(envelope,
		    len));
	else
		json_object_set_new(req, "armoured", json_stringn(envelope,
		    len));
	rc = call(c, req, &reply, info_json);
	if (rc == KITH_LIB_EREFUSED)
		rc = refused(reply);
	if (rc == 0 && (d = json_object_get(reply, "data")) != NULL) {
		if (!json_is_string(d))
			rc = KITH_LIB_EPROTO;
		else
			rc = unb64(json_string_value(d), data, datalen);
	}
	json_decref(reply);
	return (rc);
}
