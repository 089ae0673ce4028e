/*
 * libkith.c: the version, the public error codes and their messages, and
 * the one place internal KITH_E* codes become public ones.
 */
#include <stdlib.h>

#include "kith.h"
#include "kith_err.h"
#include "libkith_int.h"

const char *
kith_lib_version(void)
{

	return (KITH_VERSION);
}

const char *
kith_lib_strerror(int err)
{

	switch (err) {
	case KITH_LIB_OK:		return ("success");
	case KITH_LIB_EINVAL:		return ("invalid argument");
	case KITH_LIB_ENOMEM:		return ("out of memory");
	case KITH_LIB_EIO:		return ("input/output error");
	case KITH_LIB_ENOTRUNNING:	return ("the kith agent is not running");
	case KITH_LIB_EPERM:		return ("permission denied");
	case KITH_LIB_ELOCKED:		return ("the kith agent is locked");
	case KITH_LIB_EREFUSED:		return ("refused by the kith agent");
	case KITH_LIB_EBUSY:		return ("the kith agent has too many"
					    " clients");
	case KITH_LIB_EPROTO:		return ("protocol error from the kith"
					    " agent");
	case KITH_LIB_ETOOBIG:		return ("too large");
	case KITH_LIB_ETIMEOUT:		return ("timed out");
	case KITH_LIB_ECLOSED:		return ("connection closed");
	case KITH_LIB_EFORMAT:		return ("malformed data");
	case KITH_LIB_EVERSION:		return ("unsupported format version");
	case KITH_LIB_EFORGED:		return ("a signature does not verify");
	case KITH_LIB_ESTALE:		return ("roster not newer than the one"
					    " held");
	case KITH_LIB_EFORK:		return ("roster of the same version with"
					    " other contents");
	case KITH_LIB_EROSTER:		return ("roster breaks the rules of the"
					    " chain");
	case KITH_LIB_EREVOKED:		return ("device is revoked");
	case KITH_LIB_ENOTMEMBER:	return ("device is not on the roster");
	case KITH_LIB_EEXPIRED:		return ("expired");
	case KITH_LIB_EWRONGKIND:	return ("a kith code of another kind, or"
					    " for another service");
	case KITH_LIB_EINTERNAL:	return ("internal error");
	case KITH_LIB_ENOTCONTACT:	return ("not a verified contact");
	case KITH_LIB_ENOTFORME:	return ("not sealed for this device");
	case KITH_LIB_ETRUNC:		return ("cut short");
	default:			return ("unknown error");
	}
}

void
kith_free(void *p)
{

	free(p);
}

int
lib_err(int err)
{

	switch (err) {
	case KITH_OK:		return (KITH_LIB_OK);
	case KITH_ENOMEM:	return (KITH_LIB_ENOMEM);
	case KITH_EINVAL:	return (KITH_LIB_EINVAL);
	case KITH_EIO:
	case KITH_ENOSPACE:	return (KITH_LIB_EIO);
	case KITH_ENOENT:
	case KITH_ECONN:	return (KITH_LIB_ENOTRUNNING);
	case KITH_EPERM:	return (KITH_LIB_EPERM);
	case KITH_ELOCKED:	return (KITH_LIB_ELOCKED);
	case KITH_EREFUSED:
	case KITH_EDECLINED:	return (KITH_LIB_EREFUSED);
	case KITH_EBUSY:	return (KITH_LIB_EBUSY);
	case KITH_EPROTO:	return (KITH_LIB_EPROTO);
	case KITH_ETOOBIG:	return (KITH_LIB_ETOOBIG);
	case KITH_ETIMEOUT:	return (KITH_LIB_ETIMEOUT);
	case KITH_ECLOSED:
	case KITH_ETRUNC:	return (KITH_LIB_ECLOSED);
	case KITH_EFORMAT:
	case KITH_ENOTKITH:	return (KITH_LIB_EFORMAT);
	case KITH_EVERSION:	return (KITH_LIB_EVERSION);
	case KITH_ECRYPTO:	return (KITH_LIB_EFORGED);
	case KITH_ESTALE:	return (KITH_LIB_ESTALE);
	case KITH_EFORK:	return (KITH_LIB_EFORK);
	case KITH_EROSTER:	return (KITH_LIB_EROSTER);
	case KITH_EREVOKED:	return (KITH_LIB_EREVOKED);
	case KITH_ENOTMEMBER:	return (KITH_LIB_ENOTMEMBER);
	case KITH_EEXPIRED:	return (KITH_LIB_EEXPIRED);
	case KITH_EWRONGKIND:	return (KITH_LIB_EWRONGKIND);
	default:		return (KITH_LIB_EINTERNAL);
	}
}
