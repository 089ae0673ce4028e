/*
 * kithd: the sync agent.  This first version opens the home and waits for
 * a signal; announcing, browsing and syncing come with the sync protocol
 * (see docs/PROTOCOL.md, "Sync").
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>
#include <uv.h>

#include "home.h"
#include "kith_err.h"

static void
on_signal(uv_signal_t *h, int signum)
{

	(void)signum;
	uv_stop(h->loop);
}

int
main(int argc, char **argv)
{
	char dir[PATH_MAX];
	const char *opt = NULL;
	struct home *hm;
	uv_loop_t *loop;
	uv_signal_t si, st;
	int i, rc;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--home") == 0 && i + 1 < argc)
			opt = argv[++i];
		else if (strcmp(argv[i], "--foreground") == 0)
			continue;
		else if (strcmp(argv[i], "--version") == 0) {
			printf("kithd %s\n", KITH_VERSION);
			return (0);
		} else {
			fprintf(stderr, "usage: kithd [--home DIR]"
			    " [--foreground]\n");
			return (strcmp(argv[i], "--help") == 0 ? 0 : 2);
		}
	}
	if (sodium_init() < 0 || home_path(opt, dir, sizeof(dir)) != 0) {
		fprintf(stderr, "kithd: no home directory: use --home DIR\n");
		return (2);
	}
	if ((rc = home_open(dir, 0, &hm)) != 0) {
		fprintf(stderr, "kithd: cannot open %s: %s\n", dir,
		    kith_strerror(rc));
		return (1);
	}
	fprintf(stderr, "kithd: home %s open; sync is not in this version\n",
	    dir);
	loop = uv_default_loop();
	uv_signal_init(loop, &si);
	uv_signal_init(loop, &st);
	uv_signal_start(&si, on_signal, SIGINT);
	uv_signal_start(&st, on_signal, SIGTERM);
	uv_run(loop, UV_RUN_DEFAULT);
	home_close(hm);
	return (0);
}
