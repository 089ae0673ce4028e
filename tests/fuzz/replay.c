/*
 * replay.c: the main() of a fuzz harness built without libFuzzer.  It runs
 * LLVMFuzzerTestOneInput over every file named on the command line and
 * every file in every directory named (not recursively, in name order), so
 * that ctest replays the seed corpora, and any crash found, under the
 * sanitizers of an ordinary build.
 *
 * Each input is handed over in a heap buffer of exactly its size, so that
 * AddressSanitizer sees a read one byte past its end.  Exit status: 0, or
 * 1 when a path cannot be read or a directory holds no input (a corpus
 * that silently went missing must not pass).
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

/* Larger inputs are refused: no harness reads anything this large. */
#define REPLAY_MAX (1024 * 1024)

static const char *prog = "replay";

/* Run the harness on the file ${path}: 0 or -1 (it cannot be read). */
static int
run_file(const char *path)
{
	FILE *f;
	uint8_t *b;
	struct stat st;
	size_t n;

	if ((f = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
		return (-1);
	}
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > REPLAY_MAX) {
		fprintf(stderr, "%s: %s: not a regular file of at most %d"
		    " bytes\n", prog, path, REPLAY_MAX);
		fclose(f);
		return (-1);
	}
	n = (size_t)st.st_size;
	if ((b = malloc(n ? n : 1)) == NULL || fread(b, 1, n, f) != n) {
		fprintf(stderr, "%s: %s: cannot read\n", prog, path);
		free(b);
		fclose(f);
		return (-1);
	}
	fclose(f);
	LLVMFuzzerTestOneInput(b, n);
	free(b);
	return (0);
}

/* Run the harness on each file of the directory ${dir}; -1 if none. */
static int
run_dir(const char *dir, size_t *count)
{
	struct dirent **ents;
	char path[4096];
	size_t ran = 0;
	int i, n, rc = 0;

	if ((n = scandir(dir, &ents, NULL, alphasort)) < 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, dir, strerror(errno));
		return (-1);
	}
	for (i = 0; i < n; i++) {
		if (ents[i]->d_name[0] != '.') {
			if (snprintf(path, sizeof(path), "%s/%s", dir,
			    ents[i]->d_name) >= (int)sizeof(path) ||
			    run_file(path) != 0)
				rc = -1;
			else
				ran++;
		}
		free(ents[i]);
	}
	free(ents);
	if (ran == 0) {
		fprintf(stderr, "%s: %s: no input in it\n", prog, dir);
		rc = -1;
	}
	*count += ran;
	return (rc);
}

int
main(int argc, char *argv[])
{
	struct stat st;
	size_t count = 0;
	int i, rc = 0;

	if (argc > 0 && argv[0] != NULL) {
		prog = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 :
		    argv[0];
	}
	if (argc < 2) {
		fprintf(stderr, "usage: %s CORPUS-DIR|FILE ...\n", prog);
		return (1);
	}
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "%s: %s: %s\n", prog, argv[i],
			    strerror(errno));
			rc = 1;
		} else if (S_ISDIR(st.st_mode)) {
			if (run_dir(argv[i], &count) != 0)
				rc = 1;
		} else if (run_file(argv[i]) != 0)
			rc = 1;
		else
			count++;
	}
	printf("%s: %zu inputs ran\n", prog, count);
	return (rc);
}
