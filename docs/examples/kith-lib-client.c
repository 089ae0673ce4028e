/*
 * kith-lib-client: a small client app on libkith (kith.h), the library
 * docs/API.md's "Library" section describes.
 *
 *   kith-lib-client [-H HOME] call JSON
 *       send one request to the agent and print its reply line
 *   kith-lib-client [-H HOME] watch [N]
 *       subscribe to every event and print N of them (default: forever),
 *       from a poll() loop on kith_client_fd
 *   kith-lib-client check-roster FILE ACCOUNT_HEX [DEVICE_HEX]
 *       what a service runs on a member's roster (kith devices --export)
 *   kith-lib-client check-invitation TEXT [SERVICE_URI]
 *       what a service runs on an invitation (KITH-INVITE:...)
 *   kith-lib-client [-H HOME] seal OPTS_JSON
 *       seal standard input (at most 16 MiB) for contacts, e.g.
 *       '{"to": ["bob"]}' or '{"self": true}'; the envelope on stdout
 *   kith-lib-client [-H HOME] open
 *       open the envelope on standard input; the plaintext on stdout,
 *       who sealed it on standard error
 *
 * Exit status: 0 done, 1 refused (the reason on standard error), 2 usage.
 *
 * Build: cc kith-lib-client.c $(pkg-config --cflags --libs kith)
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kith/kith.h>

static int
usage(void)
{

	fprintf(stderr, "usage: kith-lib-client [-H HOME] call JSON\n"
	    "       kith-lib-client [-H HOME] watch [N]\n"
	    "       kith-lib-client check-roster FILE ACCOUNT_HEX"
	    " [DEVICE_HEX]\n"
	    "       kith-lib-client check-invitation TEXT [SERVICE_URI]\n"
	    "       kith-lib-client [-H HOME] seal OPTS_JSON < IN > ENVELOPE\n"
	    "       kith-lib-client [-H HOME] open < ENVELOPE > OUT\n");
	return (2);
}

static int
fail(const char *what, int rc)
{

	fprintf(stderr, "kith-lib-client: %s: %s\n", what,
	    kith_lib_strerror(rc));
	return (1);
}

static int
call(const char *home, const char *req)
{
	kith_client *c;
	char *reply;
	int rc;

	if ((rc = kith_client_open(home, &c)) != 0)
		return (fail("cannot reach the agent", rc));
	rc = kith_client_call(c, req, &reply);
	/* A refusal comes with the agent's reply, which says why. */
	if (reply != NULL)
		printf("%s\n", reply);
	kith_free(reply);
	kith_client_close(c);
	return (rc == 0 ? 0 : fail("call", rc));
}

static int
watch(const char *home, long n)
{
	struct pollfd pfd;
	kith_client *c;
	char *reply, *ev;
	int rc;

	if ((rc = kith_client_open(home, &c)) != 0)
		return (fail("cannot reach the agent", rc));
	if ((rc = kith_client_call(c, "{\"op\": \"subscribe\"}", &reply)) != 0) {
		kith_free(reply);
		kith_client_close(c);
		return (fail("subscribe", rc));
	}
	kith_free(reply);
	printf("subscribed\n");
	fflush(stdout);
	while (n != 0) {
		/* Drain what the library holds, then wait on the socket. */
		rc = kith_client_next_event(c, 0, &ev);
		if (rc == 0) {
			printf("%s\n", ev);
			fflush(stdout);
			kith_free(ev);
			if (n > 0)
				n--;
			continue;
		}
		if (rc != KITH_LIB_ETIMEOUT)
			break;
		pfd.fd = kith_client_fd(c);
		pfd.events = POLLIN;
		if (poll(&pfd, 1, -1) == -1)
			break;
	}
	kith_client_close(c);
	return (n == 0 ? 0 : fail("events", rc));
}

static int
check_roster(const char *file, const char *account, const char *device)
{
	char buf[1 << 16], *info;
	size_t len;
	FILE *f;
	int rc;

	if ((f = fopen(file, "rb")) == NULL)
		return (fail(file, KITH_LIB_EIO));
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	rc = kith_roster_check(buf, len, account, NULL, 0, device, &info);
	if (info != NULL)
		printf("%s\n", info);
	kith_free(info);
	if (rc != 0)
		return (fail("refuse", rc));
	printf("accept\n");
	return (0);
}

static int
check_invitation(const char *text, const char *service)
{
	char *info;
	int rc;

	rc = kith_invitation_check(text, NULL, 0, service, 0, &info);
	if (info != NULL)
		printf("%s\n", info);
	kith_free(info);
	if (rc != 0)
		return (fail("invalid invitation", rc));
	printf("valid\n");
	return (0);
}

/* All of standard input, up to KITH_SEAL_MAX and a little. */
static char *
slurp_stdin(size_t *len)
{
	size_t cap = KITH_SEAL_MAX + (1 << 20) + 1, k;
	char *b = malloc(cap);

	*len = 0;
	if (b == NULL)
		return (NULL);
	while ((k = fread(b + *len, 1, cap - *len, stdin)) > 0)
		*len += k;
	return (b);
}

/* Seal or open standard input through the agent. */
static int
seal_open(const char *home, const char *opts)
{
	kith_client *c;
	void *out = NULL;
	size_t inlen, outlen = 0;
	char *in, *info = NULL;
	int rc;

	if ((in = slurp_stdin(&inlen)) == NULL)
		return (fail("reading standard input", KITH_LIB_ENOMEM));
	if ((rc = kith_client_open(home, &c)) != 0) {
		free(in);
		return (fail("cannot reach the agent", rc));
	}
	if (opts != NULL)
		rc = kith_seal(c, opts, in, inlen, &out, &outlen, &info);
	else
		rc = kith_open(c, in, inlen, &out, &outlen, &info);
	free(in);
	kith_client_close(c);
	/* The agent's reply: who sealed it, or why it was refused. */
	if (info != NULL)
		fprintf(stderr, "%s\n", info);
	kith_free(info);
	if (rc != 0)
		return (fail(opts != NULL ? "seal" : "open", rc));
	fwrite(out, 1, outlen, stdout);
	kith_free(out);
	return (0);
}

int
main(int argc, char **argv)
{
	const char *home = NULL;
	int i = 1;

	if (argc > 2 && strcmp(argv[1], "-H") == 0) {
		home = argv[2];
		i = 3;
	}
	if (i >= argc)
		return (usage());
	fprintf(stderr, "libkith %s\n", kith_lib_version());
	if (strcmp(argv[i], "call") == 0 && argc == i + 2)
		return (call(home, argv[i + 1]));
	if (strcmp(argv[i], "watch") == 0 && argc <= i + 2)
		return (watch(home, argc == i + 2 ? atol(argv[i + 1]) : -1));
	if (strcmp(argv[i], "seal") == 0 && argc == i + 2)
		return (seal_open(home, argv[i + 1]));
	if (strcmp(argv[i], "open") == 0 && argc == i + 1)
		return (seal_open(home, NULL));
	if (strcmp(argv[i], "check-roster") == 0 && home == NULL &&
	    (argc == i + 3 || argc == i + 4))
		return (check_roster(argv[i + 1], argv[i + 2],
		    argc == i + 4 ? argv[i + 3] : NULL));
	if (strcmp(argv[i], "check-invitation") == 0 && home == NULL &&
	    (argc == i + 2 || argc == i + 3))
		return (check_invitation(argv[i + 1],
		    argc == i + 3 ? argv[i + 2] : NULL));
	return (usage());
}
