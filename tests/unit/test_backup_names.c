/*
 * test_backup_names: the manifest and segment numbers of a backup set are
 * read from file names "man-NNNNNNNN.kbm" and "seg-NNNNNNNN.kbs"; a name
 * whose number has a sign or a space ("man--0000001.kbm", which sscanf's
 * %llu reads as 2^64 - 1), or fewer than 8 digits ("man-9.kbm", a file the
 * set's reader would not open), is not a number of the set.  Before the fix such
 * a file, dropped on a target, made the set's newest manifest 2^64 - 1: a
 * file that does not exist, so the set could not be restored, and the next
 * segment number wrapped to 0.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backup.h"
#include "kith_err.h"

#include "check.h"

static char dir[64];

static void
touch(const char *name)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1) {
		perror(path);
		exit(1);
	}
	close(fd);
}

static void
rm(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	(void)unlink(path);
}

int
main(void)
{
	static const char *bad[] = {
		"man--0000001.kbm", "man-+0000009.kbm", "man- 0000009.kbm",
		"man-\t0000009.kbm", "man--1.kbm", "man-9.kbm", "man-0000009.kbm",
	};
	size_t i;

	snprintf(dir, sizeof(dir), "/tmp/kith-bknames-XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return (1);
	}
	touch("man-00000003.kbm");
	CHECK(backup_newest(dir, NULL) == 3);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		touch(bad[i]);
		if (!CHECK(backup_newest(dir, NULL) == 3))
			fprintf(stderr, "  with '%s': %llu\n", bad[i],
			    (unsigned long long)backup_newest(dir, NULL));
		rm(bad[i]);
	}
	/* Well-formed names still count, the highest wins. */
	touch("man-00000012.kbm");
	CHECK(backup_newest(dir, NULL) == 12);

	rm("man-00000003.kbm");
	rm("man-00000012.kbm");
	rmdir(dir);
	printf("backup_names: %d checks passed, %d failed\n", npass, nfail);
	return (nfail == 0 ? 0 : 1);
}
