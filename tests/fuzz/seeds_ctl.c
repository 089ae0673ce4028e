/*
 * seeds_ctl.c: the seed corpus of fuzz_ctl: what a client of kithd's
 * control socket sends, a request of every op of docs/API.md and broken
 * ones:
 *
 *     seeds_ctl tests/fuzz/corpus
 */
#include "seeds.h"

#include "fuzz_home.h"

#define PUT(name, lit) seeds_put(name, -1, lit, sizeof(lit) - 1)

int
main(int argc, char **argv)
{
	uint8_t seed[32], pk[32], sk[64];
	char hx[65], line[512];

	seeds_init(argc, argv, "fuzz_ctl");
	PUT("status", "{\"op\":\"status\",\"id\":1}\n");
	PUT("simple-ops", "{\"op\":\"count\"}\n{\"op\":\"devices\",\"id\":"
	    "\"d\"}\n{\"op\":\"peers\",\"id\":[1,{\"a\":null}]}\n"
	    "{\"op\":\"rescan\"}\n{\"op\":\"backup\"}\n");
	PUT("lockkey", "{\"op\":\"lockkey\",\"id\":7}\n");
	PUT("unlock", "{\"op\":\"unlock\",\"passphrase\":\"wrong\"}\n"
	    "{\"op\":\"unlock\"}\n");
	PUT("subscribe-append", "{\"op\":\"subscribe\",\"events\":"
	    "[\"record\",\"peer\"]}\n{\"op\":\"append\",\"record\":"
	    "{\"service\":\"chat\",\"id\":\"c1\",\"time\":5}}\n");
	PUT("subscribe-bad", "{\"op\":\"subscribe\",\"events\":\"record\"}\n"
	    "{\"op\":\"subscribe\",\"events\":[\"nope\"]}\n"
	    "{\"op\":\"subscribe\",\"events\":[]}\n{\"op\":\"subscribe\"}\n");
	PUT("append-forms", "{\"op\":\"append\",\"records\":[{\"service\":"
	    "\"a\",\"id\":\"1\"},{\"service\":\"a\",\"id\":\"2\"}]}\n"
	    "{\"op\":\"append\",\"text\":\"{\\\"service\\\":\\\"t\\\","
	    "\\\"id\\\":\\\"x\\\"}\"}\n{\"op\":\"append\",\"texts\":[\"{}\"]}\n");
	PUT("append-bad", "{\"op\":\"append\"}\n{\"op\":\"append\",\"record\":"
	    "{\"service\":\"kith:contacts\",\"id\":\"x\"}}\n{\"op\":\"append\","
	    "\"records\":[]}\n{\"op\":\"append\",\"record\":1,\"text\":\"\"}\n"
	    "{\"op\":\"append\",\"record\":{\"service\":\"\",\"id\":\"\"}}\n");
	PUT("read", "{\"op\":\"read\"}\n{\"op\":\"read\",\"service\":\"mail\","
	    "\"since\":0,\"until\":1500,\"limit\":1}\n{\"op\":\"read\","
	    "\"limit\":0}\n{\"op\":\"read\",\"cursor\":null}\n");
	PUT("bad-lines", "not json\n[1,2]\n{}\n{\"op\":5}\n{\"op\":\"x\"}\n"
	    "{\"op\":\"status\",\"op\":\"count\"}\n\n\r\n{\"op\":\"count\"}");
	PUT("crlf", "{\"op\":\"count\",\"id\":null}\r\n");

	/* A cursor at the device's first record, and broken ones. */
	memset(seed, FH_SIGN, sizeof(seed));
	crypto_sign_seed_keypair(pk, sk, seed);
	kith_hex(pk, 32, hx);
	snprintf(line, sizeof(line), "{\"op\":\"read\",\"limit\":1,"
	    "\"cursor\":\"%s:1\"}\n{\"op\":\"read\",\"cursor\":\"%s:x\"}\n"
	    "{\"op\":\"read\",\"cursor\":\"%.64s\"}\n", hx, hx, hx);
	seeds_put("read-cursor", -1, line, strlen(line));
	return (0);
}
