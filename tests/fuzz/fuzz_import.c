/*
 * fuzz_import.c: `kith history import FILE.jsonl` (syncd/cli/cmd_history.c,
 * import_stream, over hist_add of syncd/hist.c): the input is the file,
 * one JSON object a line, imported into the real home of fuzz_home.h
 * (FH_RECS records held).  The import is one transaction:
 *
 *  - refused, it stores nothing: the count of records is unchanged;
 *  - accepted, every non-empty line (without its CR/LF) is JSON by the
 *    grammar of RFC 8259, written again here, and an object; each one
 *    jansson reads has non-empty string "service" and "id", a service
 *    not kith's own, and hist_get gives back, for its (service, id),
 *    exactly the first line that named it (or the record held before);
 *    the count grew by the number of new (service, id);
 *  - when jansson reads every line as such an object, it is accepted.
 *
 * import_stream is static: cmd_history.c is included here, and the
 * command's util.c is built with the harness (tests/fuzz/CMakeLists.txt);
 * ${cli} is the command's global options, zero as before main() sets
 * them (main.c, which defines it, has the command's main()).
 */
#include "../../syncd/cli/cmd_history.c"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_home.h"

#include "fuzz.h"

struct cli cli;

#define MAXDEPTH 4096	/* above jansson's own limit */

/* RFC 8259: the length of the value at ${p}, or 0 if none is there. */
static size_t g_value(const char *p, size_t n, int depth);

static size_t
ws(const char *p, size_t n)
{
	size_t i = 0;

	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' ||
	    p[i] == '\r'))
		i++;
	return (i);
}

static size_t
digits(const char *p, size_t n)
{
	size_t i = 0;

	while (i < n && p[i] >= '0' && p[i] <= '9')
		i++;
	return (i);
}

static size_t
g_number(const char *p, size_t n)
{
	size_t i = 0, k;

	if (i < n && p[i] == '-')
		i++;
	if (i < n && p[i] == '0')
		i++;
	else if ((k = digits(p + i, n - i)) > 0)
		i += k;
	else
		return (0);
	if (i < n && p[i] == '.') {
		if ((k = digits(p + i + 1, n - i - 1)) == 0)
			return (0);
		i += 1 + k;
	}
	if (i < n && (p[i] == 'e' || p[i] == 'E')) {
		i++;
		if (i < n && (p[i] == '+' || p[i] == '-'))
			i++;
		if ((k = digits(p + i, n - i)) == 0)
			return (0);
		i += k;
	}
	return (i);
}

static size_t
g_string(const char *p, size_t n)
{
	size_t i = 1, k;

	if (n == 0 || p[0] != '"')
		return (0);
	while (i < n) {
		unsigned char c = (unsigned char)p[i];

		if (c == '"')
			return (i + 1);
		if (c < 0x20)
			return (0);
		if (c != '\\') {
			i++;
			continue;
		}
		if (i + 1 >= n)
			return (0);
		if (strchr("\"\\/bfnrt", p[i + 1]) != NULL && p[i + 1] != '\0') {
			i += 2;
			continue;
		}
		if (p[i + 1] != 'u' || i + 6 > n)
			return (0);
		for (k = 2; k < 6; k++)
			if (strchr("0123456789abcdefABCDEF", p[i + k]) ==
			    NULL || p[i + k] == '\0')
				return (0);
		i += 6;
	}
	return (0);
}

static size_t
g_lit(const char *p, size_t n, const char *lit)
{
	size_t k = strlen(lit);

	return (n >= k && memcmp(p, lit, k) == 0 ? k : 0);
}

/* An object or array: members or elements, separated by commas. */
static size_t
g_compound(const char *p, size_t n, int depth, char close)
{
	size_t i = 1, k;

	if (depth > MAXDEPTH)
		return (0);
	i += ws(p + i, n - i);
	if (i < n && p[i] == close)
		return (i + 1);
	for (;;) {
		if (close == '}') {
			if ((k = g_string(p + i, n - i)) == 0)
				return (0);
			i += k;
			i += ws(p + i, n - i);
			if (i >= n || p[i] != ':')
				return (0);
			i++;
			i += ws(p + i, n - i);
		}
		if ((k = g_value(p + i, n - i, depth + 1)) == 0)
			return (0);
		i += k;
		i += ws(p + i, n - i);
		if (i < n && p[i] == close)
			return (i + 1);
		if (i >= n || p[i] != ',')
			return (0);
		i++;
		i += ws(p + i, n - i);
	}
}

static size_t
g_value(const char *p, size_t n, int depth)
{

	if (n == 0)
		return (0);
	switch (p[0]) {
	case '{':
		return (g_compound(p, n, depth, '}'));
	case '[':
		return (g_compound(p, n, depth, ']'));
	case '"':
		return (g_string(p, n));
	case 't':
		return (g_lit(p, n, "true"));
	case 'f':
		return (g_lit(p, n, "false"));
	case 'n':
		return (g_lit(p, n, "null"));
	default:
		return (g_number(p, n));
	}
}

/* The whole of ${p} is one JSON object, by the grammar. */
static int
g_object_text(const char *p, size_t n)
{
	size_t i = ws(p, n), k;

	if (i >= n || p[i] != '{' || (k = g_value(p + i, n - i, 0)) == 0)
		return (0);
	i += k;
	return (i + ws(p + i, n - i) == n);
}

/* A line jansson reads as a record: its service and id. */
static json_t *
record(const char *p, size_t n, const char **svc, const char **id)
{
	json_t *o, *s, *d;

	if ((o = json_loadb(p, n, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL,
	    NULL)) == NULL)
		return (NULL);
	s = json_object_get(o, "service");
	d = json_object_get(o, "id");
	if (!json_is_object(o) || !json_is_string(s) || !json_is_string(d) ||
	    json_string_length(s) == 0 || json_string_length(d) == 0 ||
	    strlen(json_string_value(s)) != json_string_length(s) ||
	    strlen(json_string_value(d)) != json_string_length(d)) {
		json_decref(o);
		return (NULL);
	}
	*svc = json_string_value(s);
	*id = json_string_value(d);
	return (o);
}

struct line {
	const char *p;
	size_t n;
};

static size_t
lines_of(const uint8_t *data, size_t size, struct line **out)
{
	struct line *l;
	size_t i, start = 0, n = 0, e;

	FUZZ_MUST((l = calloc(size + 1, sizeof(*l))) != NULL);
	for (i = 0; i <= size; i++) {
		if (i < size && data[i] != '\n')
			continue;
		if (i == size && start == size)
			break;
		e = i;
		/* import_stream strips trailing CRs and LFs. */
		while (e > start && data[e - 1] == '\r')
			e--;
		if (e > start) {
			l[n].p = (const char *)data + start;
			l[n].n = e - start;
			n++;
		}
		start = i + 1;
	}
	*out = l;
	return (n);
}

/* Was (svc, id) named by an earlier line that jansson reads? */
static const struct line *
first_of(const struct line *l, size_t k, const char *svc, const char *id)
{
	const char *s, *d;
	json_t *o;
	size_t i;

	for (i = 0; i <= k; i++) {
		if ((o = record(l[i].p, l[i].n, &s, &d)) == NULL)
			continue;
		if (strcmp(s, svc) == 0 && strcmp(d, id) == 0) {
			json_decref(o);
			return (&l[i]);
		}
		json_decref(o);
	}
	return (NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *dir = fh_template(), *svc, *id;
	const struct line *first;
	struct line *l;
	struct home *hm;
	uint64_t before, after, fresh = 0;
	size_t nl, i, len;
	char *txt;
	json_t *o;
	FILE *f;
	int rc, all_good = 1, all_read = 1, held;

	if (size > (1 << 20))
		return (0);
	fh_reset(dir, NULL, 0);
	FUZZ_MUST(home_open(dir, 0, &hm) == 0 && hm->h != NULL);
	FUZZ_MUST(store_count(hm->st, NULL, STORE_UNIQUE, &before, NULL) ==
	    0);
	nl = lines_of(data, size, &l);
	/* Which lines are new records, by jansson, before the import. */
	for (i = 0; i < nl; i++) {
		if ((o = record(l[i].p, l[i].n, &svc, &id)) == NULL) {
			all_good = all_read = 0;
			continue;
		}
		if (strncmp(svc, "kith:", 5) == 0)
			all_good = 0;
		held = hist_held(hm->h, svc, id);
		FUZZ_MUST(held == 0 || held == 1);
		if (!held && first_of(l, i, svc, id) == &l[i])
			fresh++;
		json_decref(o);
	}

	f = size > 0 ? fmemopen((void *)data, size, "r") :
	    fopen("/dev/null", "r");
	FUZZ_MUST(f != NULL);
	rc = import_stream(hm, f, "fuzz input");
	fclose(f);
	FUZZ_MUST(store_count(hm->st, NULL, STORE_UNIQUE, &after, NULL) == 0);
	if (rc != 0) {
		FUZZ_MUST(after == before);
		FUZZ_MUST(!all_good);
	} else {
		for (i = 0; i < nl; i++) {
			FUZZ_MUST(g_object_text(l[i].p, l[i].n));
			if ((o = record(l[i].p, l[i].n, &svc, &id)) == NULL)
				continue;
			FUZZ_MUST(strncmp(svc, "kith:", 5) != 0);
			FUZZ_MUST(hist_get(hm->h, svc, id, &txt, &len) == 0);
			first = first_of(l, i, svc, id);
			if (strcmp(svc, "mail") != 0 || strlen(id) != 2 ||
			    id[0] != 'm' || id[1] < '0' ||
			    id[1] >= '0' + FH_RECS)
				FUZZ_MUST(first != NULL && len == first->n &&
				    memcmp(txt, first->p, len) == 0);
			free(txt);
			json_decref(o);
		}
		if (all_read)
			FUZZ_MUST(after == before + fresh);
	}
	free(l);
	home_close(hm);
	return (0);
}
