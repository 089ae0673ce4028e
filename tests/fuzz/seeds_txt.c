/*
 * seeds_txt.c: the seed corpus of fuzz_txt: TXT records well formed and
 * not, address records of each kind, and resolve answers (see
 * fuzz_txt.c for the modes):
 *
 *     seeds_txt tests/fuzz/corpus
 */
#include <string.h>

#include "seeds.h"

static void
put(const char *name, int mode, const char *p, size_t n)
{

	seeds_put(name, mode, p, n);
}

#define PUT(name, mode, lit) put(name, mode, lit, sizeof(lit) - 1)

int
main(int argc, char **argv)
{

	seeds_init(argc, argv, "fuzz_txt");
	PUT("txt-empty", 0, "");
	PUT("txt-one", 0, "\x09txtvers=1");
	PUT("txt-many", 0, "\x09txtvers=1\x03id=\x04port\x0a" "A=first\x00"
	    "x\x08" "a=second\x00");
	PUT("txt-bare-and-empty-key", 0, "\x02=x\x00\x01" "a\x05" "A=dup");
	PUT("txt-overrun", 0, "\x05" "a=b\x09too long");
	PUT("txt-utf8-key", 0, "\x06\xc3\xa9=yes\x07ID=\xff\xfe\x00z");
	PUT("txt-eq-in-value", 0, "\x07" "a=b=c=d\x01=");
	PUT("addr-a", 1, "\x00\x01\x00\x00\x00\x02\x1b\x58\xc0\x00\x02\x07");
	PUT("addr-aaaa-linklocal", 1, "\x00\x1c\x00\x00\x00\x03\x1b\x59"
	    "\xfe\x80\x00\x00\x00\x00\x00\x00\x02\x11\x22\xff\xfe\x33\x44\x55");
	PUT("addr-aaaa-global", 1, "\x00\x1c\x00\x00\x00\x03\x00\x01"
	    "\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01");
	PUT("addr-a-short", 1, "\x00\x01\x00\x00\x00\x02\x1b\x58\xc0\x00\x02");
	PUT("addr-txt-type", 1, "\x00\x10\x00\x00\x00\x02\x1b\x58\x03" "a=b");
	PUT("resolve-tag", 2, "\x10" "0123456789abcdef" "\x09txtvers=1");
	PUT("resolve-noname", 2, "\x00\x03" "a=b\x00");
	PUT("resolve-bad-txt", 2, "\x04" "name" "\x0a" "a=b");
	return (0);
}
