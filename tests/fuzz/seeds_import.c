/*
 * seeds_import.c: the seed corpus of fuzz_import: files of records for
 * `kith history import`, good, refused and in between:
 *
 *     seeds_import tests/fuzz/corpus
 */
#include "seeds.h"

#define PUT(name, lit) seeds_put(name, -1, lit, sizeof(lit) - 1)

int
main(int argc, char **argv)
{

	seeds_init(argc, argv, "fuzz_import");
	PUT("one", "{\"service\":\"mail\",\"id\":\"a1\",\"time\":1700000000000,"
	    "\"from\":\"ann\",\"body\":\"hi\"}\n");
	PUT("several", "{\"service\":\"mail\",\"id\":\"a1\"}\n"
	    "{\"service\":\"chat\",\"id\":\"a1\",\"x\":[1,2.5,-3e2,true,null]}\n"
	    "{\"service\":\"mail\",\"id\":\"a1\",\"again\":1}\n"
	    "{\"service\":\"mail\",\"id\":\"m0\"}\n");
	PUT("crlf-blank", "\r\n{\"service\":\"s\",\"id\":\"i\"}\r\n\n\n"
	    "  {\"id\" : \"j\" , \"service\" : \"s\" }  \r");
	PUT("no-newline", "{\"service\":\"s\",\"id\":\"last\"}");
	PUT("empty", "");
	PUT("wide-int", "{\"service\":\"s\",\"id\":\"w\","
	    "\"n\":123456789012345678901234567890}\n");
	PUT("wide-real", "{\"service\":\"s\",\"id\":\"r\",\"n\":1e999,"
	    "\"m\":-0.5E-3}\n");
	PUT("bad-line", "{\"service\":\"s\",\"id\":\"ok\"}\nnot json\n");
	PUT("kith-service", "{\"service\":\"kith:contacts\",\"id\":\"x\"}\n");
	PUT("no-id", "{\"service\":\"s\"}\n");
	PUT("empty-id", "{\"service\":\"s\",\"id\":\"\"}\n");
	PUT("id-number", "{\"service\":\"s\",\"id\":7}\n");
	PUT("array", "[{\"service\":\"s\",\"id\":\"i\"}]\n");
	PUT("nul-escape", "{\"service\":\"s\",\"id\":\"a\\u0000b\"}\n");
	PUT("dup-key", "{\"service\":\"s\",\"id\":\"i\",\"id\":\"j\"}\n");
	PUT("escapes", "{\"service\":\"s\\/\\\"\",\"id\":\"\\ud83d\\ude00"
	    "\\t\\u00e9\xc3\xa9\"}\n");
	PUT("deep", "{\"service\":\"s\",\"id\":\"d\",\"x\":[[[[[[[[[[[[[[[["
	    "{}]]]]]]]]]]]]]]]}\n");
	PUT("bad-utf8", "{\"service\":\"s\",\"id\":\"\xff\"}\n");
	PUT("raw-nul", "{\"service\":\"s\",\"id\":\"i\"}\n\0\n");
	return (0);
}
