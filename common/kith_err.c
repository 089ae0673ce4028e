#include "kith_err.h"

const char *
kith_strerror(int err)
{

	switch (err) {
	case KITH_OK:
		return "success";
#define KITH_ERR_CASE_(name, msg) case KITH_E##name: return msg;
	KITH_ERRNO_MAP(KITH_ERR_CASE_)
#undef KITH_ERR_CASE_
	default:
		return "unknown error";
	}
}
