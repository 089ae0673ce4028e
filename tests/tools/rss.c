/*
 * rss OUTFILE CMD ARGS...: run CMD, then write "maxrss_kb=N wall_s=S
 * user_s=U sys_s=Y status=X" to OUTFILE: its peak resident set size (getrusage of the
 * child) and wall time.  Exits with CMD's status.
 */
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct timespec a, b;
	struct rusage ru;
	FILE *f;
	pid_t pid;
	int st;

	if (argc < 3) {
		fprintf(stderr, "usage: rss OUTFILE CMD ARGS...\n");
		return (2);
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	if ((pid = fork()) == 0) {
		execvp(argv[2], argv + 2);
		_exit(127);
	}
	if (pid == -1 || wait4(pid, &st, 0, &ru) == -1)
		return (1);
	clock_gettime(CLOCK_MONOTONIC, &b);
	if ((f = fopen(argv[1], "w")) != NULL) {
		fprintf(f, "maxrss_kb=%ld wall_s=%.3f user_s=%.3f sys_s=%.3f"
		    " status=%d\n", ru.ru_maxrss, (double)(b.tv_sec - a.tv_sec) +
		    (double)(b.tv_nsec - a.tv_nsec) / 1e9,
		    (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
		    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6,
		    WIFEXITED(st) ? WEXITSTATUS(st) : 128);
		fclose(f);
	}
	return (WIFEXITED(st) ? WEXITSTATUS(st) : 1);
}
