/*
 * kith_err.h: the one table of kith error codes.
 *
 * Every int-returning function in kith returns 0 on success or one of the
 * negative KITH_E* codes below; kith_strerror() gives a short message for it.
 * The messages say what happened; the command line adds what to do.
 */
#ifndef KITH_ERR_H
#define KITH_ERR_H

#define KITH_ERRNO_MAP(X)                                                     \
	X(NOMEM, "out of memory")                                             \
	X(INVAL, "invalid argument")                                          \
	X(IO, "input/output error")                                           \
	X(NOENT, "not found")                                                 \
	X(EXIST, "already exists")                                            \
	X(PERM, "permission denied")                                          \
	X(FORMAT, "malformed data")                                           \
	X(VERSION, "unsupported format version")                              \
	X(CRYPTO, "authentication failed")                                    \
	X(BADPASS, "wrong passphrase or recovery code")                       \
	X(EXPIRED, "expired")                                                 \
	X(USED, "already used")                                               \
	X(NOTKITH, "not a kith code")                                         \
	X(WRONGKIND, "a kith code of another kind")                           \
	X(NOQR, "no QR code found in the image")                              \
	X(IMAGE, "cannot read the image")                                     \
	X(NOCAMERA, "no camera available")                                    \
	X(TOOBIG, "too large")                                                \
	X(HANDSHAKE, "secure handshake failed")                               \
	X(PROTO, "protocol error from peer")                                  \
	X(TRUNC, "stream cut before its end")                                 \
	X(REFUSED, "refused by peer")                                         \
	X(DECLINED, "declined")                                               \
	X(TIMEOUT, "timed out")                                               \
	X(CONN, "cannot connect")                                             \
	X(CLOSED, "connection closed")                                        \
	X(DB, "database error")                                               \
	X(CORRUPT, "store is corrupt")                                        \
	X(NOACCOUNT, "no kith account in this home")                          \
	X(HAVEACCOUNT, "this home already holds an account")                  \
	X(REVOKED, "device is revoked")                                       \
	X(NOTMEMBER, "device is not on the roster")                           \
	X(STALE, "older than what is held")                                   \
	X(DNSSD, "mDNS / DNS-SD service unavailable")                         \
	X(AMBIGUOUS, "ambiguous name")                                        \
	X(ROSTER, "roster breaks the rules of the chain")                     \
	X(FORK, "roster of the same version with other contents")             \
	X(WITHDRAWN, "withdrawn by its issuer")                               \
	X(NOSPACE, "no space left on the device")                             \
	X(BUSY, "in use by another process")                                  \
	X(LOCKED, "this device is locked")                                    \
	X(NOTCONTACT, "not a verified contact")                               \
	X(NOTFORME, "not sealed for this device")

enum {
	KITH_OK = 0,
#define KITH_ERR_ENUM_(name, msg) KITH_E##name,
	KITH_EFIRST_ = -1000,
	KITH_ERRNO_MAP(KITH_ERR_ENUM_)
#undef KITH_ERR_ENUM_
	KITH_ELAST_
};

/**
 * kith_strerror(err): a static string describing ${err} (0 or KITH_E*).
 */
const char *kith_strerror(int err);

#endif
