/*
 * kithd_main.c: kithd's main.c for the harnesses that run kithd's code
 * (fuzz_ctl, fuzz_cli): ag_go and ag_unlock, which ctl.c calls, are
 * there, and the argument parsers of kithd.  Its main() is renamed so
 * that the harness's (libFuzzer's, replay.c's) is the program's; the
 * parsers, static there, are reached through the kithd_* functions here.
 */
#include <stdint.h>

#include "agent.h"

int kithd_main(int argc, char **argv);
#define main kithd_main
#include "../../syncd/kithd/main.c"
#undef main

int kithd_parse_peer(const char *arg, struct manual *m);
unsigned kithd_env_secs(const char *name, unsigned def, unsigned min,
    unsigned max);

int
kithd_parse_peer(const char *arg, struct manual *m)
{

	return (parse_peer(arg, m));
}

unsigned
kithd_env_secs(const char *name, unsigned def, unsigned min, unsigned max)
{

	return (env_secs(name, def, min, max));
}
