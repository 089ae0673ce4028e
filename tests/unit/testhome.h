/*
 * testhome.h: open a home as kith does after a restart: locked, then
 * unlocked with the account passphrase.
 */
#ifndef KITH_TEST_TESTHOME_H
#define KITH_TEST_TESTHOME_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "home.h"

/* home_open, then home_lockkey + home_unlock when it opened locked. */
static inline int
home_open_pass(const char *dir, const void *pass, size_t plen,
    struct home **out)
{
	uint8_t lock[DEVKEY_LOCKLEN];
	int rc;

	if ((rc = home_open(dir, 0, out)) != 0 || !(*out)->dk->locked)
		return (rc);
	if ((rc = home_lockkey(*out, pass, plen, lock)) == 0)
		rc = home_unlock(*out, lock);
	if (rc != 0) {
		home_close(*out);
		*out = NULL;
	}
	return (rc);
}

/*
 * home_open_env: home_open_pass with the first line of the file named by
 * $KITH_PASSPHRASE_FILE (the test tools: an attacker holding a device
 * that its owner unlocked); plain home_open without it.
 */
static inline int
home_open_env(const char *dir, struct home **out)
{
	const char *f = getenv("KITH_PASSPHRASE_FILE");
	char line[1024];
	FILE *fp;
	size_t n;
	int rc;

	if (f == NULL || *f == '\0' || (fp = fopen(f, "r")) == NULL)
		return (home_open(dir, 0, out));
	if (fgets(line, sizeof(line), fp) == NULL)
		line[0] = '\0';
	fclose(fp);
	n = strcspn(line, "\r\n");
	rc = home_open_pass(dir, line, n, out);
	memset(line, 0, sizeof(line));
	return (rc);
}

#endif
