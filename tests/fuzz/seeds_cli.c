/*
 * seeds_cli.c: the seed corpus of fuzz_cli: durations, bounded numbers,
 * kithd --peer addresses and environment seconds, good and bad (see
 * fuzz_cli.c for the modes):
 *
 *     seeds_cli tests/fuzz/corpus
 */
#include "seeds.h"

#define PUT(name, lit) seeds_put(name, -1, lit, sizeof(lit) - 1)

int
main(int argc, char **argv)
{

	seeds_init(argc, argv, "fuzz_cli");
	PUT("dur-4h", "\x00" "4h");
	PUT("dur-plain", "\x00" "90");
	PUT("dur-max", "\x00" "3660d");
	PUT("dur-over", "\x00" "3661d");
	PUT("dur-zeros", "\x00" "0000000000000000000000000000030m");
	PUT("dur-long", "\x00" "99999999999999999999999999s");
	PUT("dur-bad", "\x00" "4hh");
	PUT("dur-space", "\x00" " 5m");
	/* bounds by index: 0 1 10 60 255 3600 65535 2^32-1 2^63-1 2^64-1 */
	PUT("num-timeout", "\x01\x02\x05" "600");
	PUT("num-timeout-junk", "\x01\x02\x05" "60x");
	PUT("num-port", "\x01\x00\x06" "65535");
	PUT("num-port-over", "\x01\x00\x06" "65536");
	PUT("num-uses", "\x01\x01\x04" "+5");
	PUT("num-u64", "\x01\x00\x09" "18446744073709551615");
	PUT("num-u64-over", "\x01\x00\x09" "18446744073709551616");
	PUT("num-empty", "\x01\x00\x09" "");
	PUT("peer", "\x02" "192.0.2.7:7000");
	PUT("peer-noport", "\x02" "192.0.2.7:");
	PUT("peer-name", "\x02" "localhost:80");
	PUT("peer-v6", "\x02" "[::1]:80");
	PUT("peer-port0", "\x02" "10.0.0.1:0");
	PUT("peer-sign", "\x02" "10.0.0.1:+80");
	PUT("peer-long", "\x02" "1111111111111111111111111111111111111111"
	    "11111111111111111111111111111111:1");
	PUT("env", "\x03\x02\x05" "30");
	PUT("env-neg", "\x03\x02\x05" "-1");
	PUT("env-huge", "\x03\x02\x05" "99999999999999999999999");
	return (0);
}
