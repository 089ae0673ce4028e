/*
 * agent.h: the inside of kithd, the sync agent.  One libuv loop runs
 * everything: the listening socket, sync sessions with the account's other
 * devices (sess.c), DNS-SD announce and browse (disc.c), and the control
 * socket for clients (ctl.c).  The store has one connection, used only
 * from the loop thread.
 */
#ifndef KITHD_AGENT_H
#define KITHD_AGENT_H

#include <stdint.h>

#include <jansson.h>
#include <uv.h>

#include "invx.h"
#include "discovery.h"
#include "home.h"

#define AG_MAXADDR 4

struct sess;
struct ctl;

/* A device of the account other than this one, as the roster lists it. */
struct peer {
	uint8_t sign_pk[32];
	uint8_t kx_pk[32];
	char name[ROSTER_NAMEMAX + 1];
	char id8[9];
	int active;
	/* Where it was last seen (mDNS or --peer), newest first. */
	struct sockaddr_storage addr[AG_MAXADDR];
	size_t naddr;
	size_t nextaddr;
	uint64_t next_try;	/* ms, monotonic; 0: now */
	unsigned backoff;	/* ms */
	int xk;			/* next dial: XK, carrying our roster */
	struct sess *s;		/* the established session, if any */
	struct sess *dialing;	/* our outgoing attempt, if any */
};

/* A discovery tag we would recognise, and whose it is. */
struct tagent {
	char tag[17];
	struct peer *p;
};

/* An address given with --peer: identity unknown until a handshake. */
struct manual {
	struct sockaddr_storage addr;
	char text[64];
	size_t cand;		/* next roster device to try there */
	uint64_t next_try;
	unsigned backoff;
	struct sess *dialing;
	int warned;
};

/*
 * Connections refused before the peer was identified, by reason: a few
 * of each are logged per window, the rest counted and summed up, so that
 * a flood of strangers cannot flood the log.
 */
enum { RF_BUSY, RF_TIMEOUT, RF_STRANGER, RF_INVITE, RF_HANDSHAKE, RF_N };
struct ag_refusals {
	uint64_t win;		/* ms: start of the current window */
	unsigned n[RF_N];	/* in this window */
	uint64_t total[RF_N];	/* since the agent started */
};

struct agent {
	uv_loop_t *loop;
	struct home *hm;
	char homedir[PATH_MAX];
	char sockpath[PATH_MAX];
	int verbose;
	unsigned keepalive;	/* s */
	unsigned tagwin;	/* s */
	int mdns;
	uint16_t want_port, port;
	int stopping;

	uv_tcp_t listener;
	uv_signal_t sigterm, sigint;
	uv_timer_t tick;	/* every second */
	uv_timer_t commit_tm;

	/* Peers: every other device on the roster. */
	struct peer **peers;	/* entries never move: sessions point at them */
	size_t npeers;
	struct tagent *tags;
	size_t ntags;
	uint64_t tag_window;
	uint8_t self_tag_key[32];
	char self_tag[17];
	struct manual *manual;
	size_t nmanual;

	discovery_announce *ann;
	discovery_browse *br;
	uint64_t disc_retry;	/* ms: next try when mDNS was unavailable */
	int disc_warned;
	discovery_announce *inv_ann[INVX_MAXANNOUNCE]; /* open invitations */
	char inv_tag[INVX_MAXANNOUNCE][17];
	size_t ninv;
	uint64_t inv_check;	/* ms: next look at the invitation list */
	char **ignored;		/* instances already logged as ignored */
	size_t nignored;

	struct sess *sessions;	/* all, established or not */
	struct ag_refusals refused;	/* of peers not identified (sess.c) */

	/* The receiving transaction, shared by every session. */
	int intx;
	uint64_t tx_recs, tx_bytes, tx_start;
	json_t *tx_events;	/* record events to publish after commit */

	int64_t data_version;
	/* Records held (each once) and their bytes, kept up to date here so
	 * that status and count never scan the store. */
	uint64_t nrec, nbytes, tx_newrec, tx_newbytes;
	struct ctl *ctl;
	uint64_t started;

	/*
	 * Locked (device.key sealed and not opened yet): only the control
	 * socket runs, for status and unlock.  ${lock} is the lock key once
	 * known (kith commands ask for it instead of the passphrase).
	 */
	int running;		/* peers, listener and mDNS started */
	struct bk *bk;		/* automatic backups (bk.c) */
	unsigned bk_interval;	/* s between backups for new history */
	uint8_t *lock;		/* sodium_malloc, DEVKEY_LOCKLEN, or NULL */
};

/* main.c */
int ag_go(struct agent *ag);
int ag_unlock(struct agent *ag, const uint8_t *pass, size_t plen);

/* bk.c */
void bk_tick(struct agent *ag);
void bk_poke(struct agent *ag);
json_t *bk_status_json(struct agent *ag);
void bk_stop(struct agent *ag);
void bk_free(struct agent *ag);

/* notify.c: readiness and status for a service manager (sd_notify) */
void ag_notify_init(void);
void ag_notify(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ag_notify_ready(const struct agent *ag);
void ag_notify_status(const struct agent *ag);
void ag_notify_stopping(void);

/* log.c */
void ag_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ag_vlog(const struct agent *ag, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
uint64_t ag_now_ms(void);
const char *ag_hex(const uint8_t *b, size_t n, char out[static 65]);
const char *ag_addr_text(const struct sockaddr *sa, char *buf, size_t cap);

/* agent.c */
int ag_peers_rebuild(struct agent *ag);
struct peer *ag_peer_by_sign(struct agent *ag, const uint8_t pk[static 32]);
void ag_roster_changed(struct agent *ag, const struct roster *old);
int ag_tx_begin(struct agent *ag);
void ag_tx_commit(struct agent *ag);
void ag_tx_maybe_commit(struct agent *ag, int drained);
void ag_store_changed(struct agent *ag);
int ag_append(struct agent *ag, json_t *records, int single, json_t *resp);
void ag_check_disk(struct agent *ag);
void ag_recount(struct agent *ag);
json_t *ag_record_json(struct agent *ag, const struct store_rec *rec);
json_t *ag_dev_json(const struct agent *ag, const struct roster_dev *d);

/* disc.c */
int disc_start(struct agent *ag);
void disc_stop(struct agent *ag);
void disc_tick(struct agent *ag);
void disc_tags_rebuild(struct agent *ag);
void disc_rebrowse(struct agent *ag);
void disc_invites(struct agent *ag);

/* sess.c */
int sess_listen(struct agent *ag);
void sess_dial(struct agent *ag, struct peer *p);
void sess_dial_manual(struct agent *ag, struct manual *m);
void sess_tick(struct agent *ag);
void sess_push_all(struct agent *ag);
void sess_roster_all(struct agent *ag);
void sess_close_all(struct agent *ag, const char *why);
void sess_drop_inactive(struct agent *ag);
json_t *sess_peers_json(struct agent *ag);
json_t *sess_refused_json(struct agent *ag);

/* ctl.c */
int ctl_start(struct agent *ag);
void ctl_stop(struct agent *ag);
void ctl_free(struct agent *ag);
void ctl_publish(struct agent *ag, const char *kind, json_t *ev);
/* ctlseal.c: the "seal" and "open" ops. */
int ctl_op_seal(struct agent *ag, json_t *req, json_t *resp,
    const char **code, const char **msg);
int ctl_op_open(struct agent *ag, json_t *req, json_t *resp,
    const char **code, const char **msg);
int ctl_wants(const struct agent *ag, const char *kind);

#endif
