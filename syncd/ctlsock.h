/*
 * ctlsock.h: where the agent's control socket lives, and a small blocking
 * client for it (used by the kith command).  The protocol is JSON lines,
 * documented in docs/API.md.
 */
#ifndef KITH_CTLSOCK_H
#define KITH_CTLSOCK_H

#include <stddef.h>

#include <jansson.h>

/* A request line may be this long (a record is at most 16 MiB). */
#define CTL_MAXLINE ((size_t)32 << 20)

/**
 * ctl_socket_path(homedir, out, cap): the control socket of the agent of
 * ${homedir} (docs/API.md, section 1).  With ${create}, make the runtime
 * directory (0700) when missing.  Returns 0, KITH_EPERM (a runtime
 * directory that is not ours or is open to others), KITH_ETOOBIG (path too
 * long for a Unix socket) or KITH_EIO.
 */
int ctl_socket_path(const char *homedir, int create, char *out, size_t cap);

/**
 * ctl_dial(path, fd): a connected socket to the agent at ${path} in *${fd}.
 * Returns 0, KITH_ETOOBIG (path too long), KITH_EIO (no socket),
 * KITH_EPERM (not ours to connect to) or KITH_ENOENT (no agent answers).
 */
int ctl_dial(const char *path, int *fd);

typedef struct ctl_client ctl_client;

/**
 * ctl_connect(path, out): connect to a running agent.  Returns 0, or
 * KITH_ENOENT when no agent answers there.
 */
int ctl_connect(const char *path, ctl_client **out);

/**
 * ctl_call(c, req, resp): send ${req} (its "id" is set here; the call
 * takes the reference) and wait for its response, skipping events.  *${resp} is the whole response object
 * (json_decref it).  Returns 0 (check "ok" in the response), KITH_ECLOSED,
 * KITH_EPROTO or KITH_ENOMEM.
 */
int ctl_call(ctl_client *c, json_t *req, json_t **resp);

/**
 * ctl_close(c): NULL does nothing.
 */
void ctl_close(ctl_client *c);

#endif
