/*
 * kithd: the sync agent.  Keeps this device's history in sync with every
 * other device of the account it can reach, and serves client apps on its
 * control socket.  See kithd(8), docs/API.md and docs/PROTOCOL.md §11.
 */
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "agent.h"
#include "ctlsock.h"
#include "kith_err.h"
#include "kith_util.h"

static const char usage[] =
    "usage: kithd [--home DIR] [--foreground] [--peer HOST:PORT]...\n"
    "             [--port N] [--no-mdns] [-v | --verbose]\n"
    "             [--passphrase-file FILE]\n"
    "       kithd --help | --version\n"
    "\n"
    "The kith sync agent: finds this account's other devices on the local\n"
    "network (mDNS / DNS-SD), keeps the message history identical on all of\n"
    "them, and serves client apps on a local socket (docs/API.md).\n"
    "\n"
    "  --home DIR        the kith home (default: $KITH_HOME, else\n"
    "                    $XDG_DATA_HOME/kith, else ~/.local/share/kith)\n"
    "  --foreground      stay attached and log to standard error; without\n"
    "                    it kithd detaches and logs to HOME/kithd.log\n"
    "  --peer HOST:PORT  also try a device at this address (when mDNS is\n"
    "                    blocked), as each device of the roster not yet in\n"
    "                    reach in turn; may be given more than once\n"
    "  --port N          listen on this TCP port (default: any free one)\n"
    "  --no-mdns         neither announce nor browse (use with --peer)\n"
    "  -v, --verbose     say more: connection attempts, services ignored\n"
    "  --passphrase-file FILE\n"
    "                    unlock this device at start with the account\n"
    "                    passphrase in FILE (or $KITH_PASSPHRASE_FILE);\n"
    "                    without it a sealed device starts locked, serving\n"
    "                    only status and unlock until 'kith unlock'\n"
    "  -h, --help        print this and exit\n"
    "  --version         print \"kithd VERSION\" and exit\n"
    "\n"
    "Environment: KITHD_KEEPALIVE (seconds between keepalives, default 15;\n"
    "a peer silent for three is dropped), KITHD_TAG_WINDOW (seconds each\n"
    "discovery name lasts, default 900), KITHD_BACKUP_INTERVAL (seconds\n"
    "between backups of new history to a mounted target, default 30; a\n"
    "mount is backed up at once), KITH_SOCKET (control socket path),\n"
    "NOTIFY_SOCKET (systemd readiness: READY=1 once serving; see kithd(8)).\n";

static struct agent ag;

static void
on_closewalk(uv_handle_t *h, void *arg)
{

	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

static void
shutdown_agent(void)
{

	if (ag.stopping)
		return;
	ag.stopping = 1;
	ag_notify_stopping();
	ag_log("stopping");
	ag_tx_commit(&ag);
	sess_close_all(&ag, "agent stopping");
	disc_stop(&ag);
	bk_stop(&ag);
	ctl_stop(&ag);
	uv_timer_stop(&ag.tick);
	uv_timer_stop(&ag.commit_tm);
	uv_signal_stop(&ag.sigterm);
	uv_signal_stop(&ag.sigint);
	uv_close((uv_handle_t *)&ag.tick, NULL);
	uv_close((uv_handle_t *)&ag.commit_tm, NULL);
	uv_close((uv_handle_t *)&ag.sigterm, NULL);
	uv_close((uv_handle_t *)&ag.sigint, NULL);
}

static void
on_signal(uv_signal_t *h, int signum)
{

	(void)h;
	(void)signum;
	shutdown_agent();
}

static void
on_tick(uv_timer_t *t)
{

	(void)t;
	ag_check_disk(&ag);
	if (ag.running) {
		disc_tick(&ag);
		sess_tick(&ag);
		bk_tick(&ag);
	}
	ag_notify_status(&ag);
}

/* Everything that needs this device's keys: peers, listener, mDNS. */
int
ag_go(struct agent *a)
{

	if (a->running)
		return (0);
	if (ag_peers_rebuild(a) != 0 || sess_listen(a) != 0)
		return (-1);
	a->running = 1;
	disc_tags_rebuild(a);
	if (a->mdns && a->hm->roster != NULL && disc_start(a) != 0 &&
	    /* cppcheck-suppress knownConditionTrueFalse ; notes, then logs */
	    (a->disc_warned = 1))
		ag_log("mDNS is unavailable (is avahi-daemon running?);"
		    " trying again every 5 s; --peer HOST:PORT connects"
		    " without it");
	sess_tick(a);
	return (0);
}

/* Does ${pass} open the account key (whatever device.key says)? */
static int
lock_ok(struct home *hm, const uint8_t *pass, size_t plen)
{
	uint8_t lock[DEVKEY_LOCKLEN];
	int ok;

	ok = home_lockkey(hm, pass, plen, lock) == 0;
	sodium_memzero(lock, sizeof(lock));
	return (ok);
}

/*
 * Open this device's keys with the account passphrase (an Argon2id
 * unseal: the loop waits a quarter of a second), keep the lock key for
 * kith commands, and start.  A device.key not sealed yet is sealed.
 * Returns 0 or a kith error.
 */
int
ag_unlock(struct agent *a, const uint8_t *pass, size_t plen)
{
	uint8_t *lock;
	int rc;

	if (a->lock != NULL && !a->hm->dk->locked)
		return (0);
	if (!a->hm->has_account)
		return (KITH_ENOACCOUNT);
	if ((lock = sodium_malloc(DEVKEY_LOCKLEN)) == NULL)
		return (KITH_ENOMEM);
	if ((rc = home_lockkey(a->hm, pass, plen, lock)) != 0 ||
	    (rc = home_unlock(a->hm, lock)) != 0) {
		/* A right passphrase that does not open device.key: damage. */
		if (rc == KITH_EBADPASS && lock_ok(a->hm, pass, plen))
			rc = KITH_ECORRUPT;
		sodium_free(lock);
		return (rc);
	}
	sodium_free(a->lock);
	a->lock = lock;
	ag_log("unlocked");
	if (ag_go(a) != 0) {
		shutdown_agent();
		return (KITH_EIO);
	}
	ag_notify_status(a);
	return (0);
}

static int
unlock_file(const char *path)
{
	uint8_t *pass;
	size_t len;
	int rc;

	if ((rc = kith_file_read(path, 4096, &pass, &len)) != 0) {
		fprintf(stderr, "kithd: cannot read the passphrase file %s:"
		    " %s\n", path, kith_strerror(rc));
		return (rc);
	}
	/* Its first line, as kith reads it. */
	{
		size_t n = 0;

		while (n < len && pass[n] != '\n')
			n++;
		if (n > 0 && pass[n - 1] == '\r')
			n--;
		rc = ag_unlock(&ag, pass, n);
	}
	sodium_memzero(pass, len);
	free(pass);
	if (rc != 0)
		fprintf(stderr, "kithd: cannot unlock with %s: %s\n", path,
		    rc == KITH_EBADPASS ? "wrong passphrase" :
		    kith_strerror(rc));
	return (rc);
}

static int
parse_peer(const char *arg, struct manual *m)
{
	char host[64];
	const char *colon = strrchr(arg, ':');
	char *end;
	unsigned long port;
	size_t hl;

	if (colon == NULL || (hl = (size_t)(colon - arg)) == 0 ||
	    hl >= sizeof(host))
		return (-1);
	memcpy(host, arg, hl);
	host[hl] = '\0';
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (*end != '\0' || errno != 0 || port == 0 || port > 65535)
		return (-1);
	memset(m, 0, sizeof(*m));
	if (uv_ip4_addr(host, (int)port, (struct sockaddr_in *)&m->addr) != 0)
		return (-1);
	snprintf(m->text, sizeof(m->text), "%s", arg);
	return (0);
}

static unsigned
env_secs(const char *name, unsigned def, unsigned min, unsigned max)
{
	const char *e = getenv(name);
	unsigned long v;
	char *end;

	if (e == NULL || *e == '\0')
		return (def);
	errno = 0;
	v = strtoul(e, &end, 10);
	if (*end != '\0' || errno != 0 || v < min || v > max) {
		fprintf(stderr, "kithd: %s must be %u to %u seconds: using"
		    " %u\n", name, min, max, def);
		return (def);
	}
	return ((unsigned)v);
}

/* Only one agent per home: an exclusive lock held while it runs. */
static int
lock_home(const char *dir)
{
	char path[PATH_MAX + 16];
	int fd;

	snprintf(path, sizeof(path), "%s/kithd.lock", dir);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1) {
		fprintf(stderr, "kithd: cannot open %s: %s\n", path,
		    strerror(errno));
		return (-1);
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		fprintf(stderr, "kithd: another kithd is already running for"
		    " %s\n", dir);
		close(fd);
		return (-1);
	}
	return (fd);
}

static int
detach(const char *dir)
{
	char path[PATH_MAX + 16];
	pid_t pid;
	int fd;

	snprintf(path, sizeof(path), "%s/kithd.log", dir);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0600)) == -1) {
		fprintf(stderr, "kithd: cannot open %s: %s\n", path,
		    strerror(errno));
		return (-1);
	}
	fprintf(stderr, "kithd: running in the background; log in %s\n",
	    path);
	if ((pid = fork()) == -1) {
		close(fd);
		return (-1);
	}
	if (pid > 0)
		_exit(0);
	setsid();
	dup2(fd, STDERR_FILENO);
	close(fd);
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	return (0);
}

int
main(int argc, char **argv)
{
	const char *opt = NULL;
	struct rlimit rl = { 0, 0 };
	struct manual m, *nm;
	const char *passfile = getenv("KITH_PASSPHRASE_FILE");
	int i, rc, fg = 0, lockfd;
	unsigned long v;
	char *end;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--home") == 0 && i + 1 < argc)
			opt = argv[++i];
		else if (strncmp(argv[i], "--home=", 7) == 0)
			opt = argv[i] + 7;
		else if (strcmp(argv[i], "--foreground") == 0)
			fg = 1;
		else if (strcmp(argv[i], "--no-mdns") == 0)
			ag.mdns = -1;
		else if (strcmp(argv[i], "-v") == 0 ||
		    strcmp(argv[i], "--verbose") == 0)
			ag.verbose = 1;
		else if (strcmp(argv[i], "--peer") == 0 && i + 1 < argc) {
			if (parse_peer(argv[++i], &m) != 0) {
				fprintf(stderr, "kithd: --peer wants IPV4:PORT,"
				    " e.g. 192.0.2.7:4040, not '%s'\n",
				    argv[i]);
				return (2);
			}
			if ((nm = realloc(ag.manual, (ag.nmanual + 1) *
			    sizeof(*nm))) == NULL)
				return (1);
			ag.manual = nm;
			ag.manual[ag.nmanual++] = m;
		} else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
			errno = 0;
			v = strtoul(argv[++i], &end, 10);
			if (*end != '\0' || errno != 0 || v > 65535) {
				fprintf(stderr, "kithd: --port wants 0 to"
				    " 65535\n");
				return (2);
			}
			ag.want_port = (uint16_t)v;
		} else if (strcmp(argv[i], "--passphrase-file") == 0 &&
		    i + 1 < argc) {
			passfile = argv[++i];
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("kithd %s\n", KITH_VERSION);
			return (0);
		} else if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			fputs(usage, stdout);
			return (0);
		} else {
			fprintf(stderr, "kithd: unknown option '%s'\n%s",
			    argv[i], usage);
			return (2);
		}
	}
	ag.mdns = ag.mdns == 0;
	ag_notify_init();
	ag.keepalive = env_secs("KITHD_KEEPALIVE", 15, 1, 3600);
	ag.tagwin = env_secs("KITHD_TAG_WINDOW", 900, 1, 86400);
	ag.bk_interval = env_secs("KITHD_BACKUP_INTERVAL", 30, 0, 86400);

	/* Keys live in this process: no core dumps, no ptrace by others. */
	(void)setrlimit(RLIMIT_CORE, &rl);
	(void)prctl(PR_SET_DUMPABLE, 0);
	(void)signal(SIGPIPE, SIG_IGN);
	hist_json_wipe();
	if (sodium_init() < 0 ||
	    home_path(opt, ag.homedir, sizeof(ag.homedir)) != 0) {
		fprintf(stderr, "kithd: no home directory: use --home DIR\n");
		return (2);
	}
	if ((rc = home_open(ag.homedir, 0, &ag.hm)) != 0) {
		fprintf(stderr, "kithd: cannot open the kith home %s: %s\n%s",
		    ag.homedir, kith_strerror(rc), rc == KITH_ENOENT ?
		    "Run 'kith init' (a new account) or 'kith join' (join"
		    " yours) first.\n" : rc == KITH_ECORRUPT ? "Its device.key"
		    " or kith.db is damaged: 'kith status' says which.\n" :
		    "");
		return (1);
	}
	/*
	 * The agent holds the store for days and serves it to every other
	 * device: a damaged page is looked for once, here (cheap at this
	 * scale: a read of every page), not sent on.
	 */
	if ((rc = store_check(ag.hm->st)) != 0) {
		fprintf(stderr, "kithd: %s/kith.db is damaged (%s): restore"
		    " this home from a backup ('kith restore') or join the"
		    " account again in a new home\n", ag.homedir,
		    kith_strerror(rc));
		home_close(ag.hm);
		return (1);
	}
	if ((rc = ctl_socket_path(ag.homedir, 1, ag.sockpath,
	    sizeof(ag.sockpath))) != 0) {
		fprintf(stderr, "kithd: no place for the control socket: %s\n",
		    kith_strerror(rc));
		return (1);
	}
	if ((lockfd = lock_home(ag.homedir)) == -1)
		return (1);
	if (!fg) {
		/*
		 * SQLite's POSIX locks belong to the process: a connection
		 * must not cross fork(), or the child reads a store whose
		 * locks went with the parent (and misses what other
		 * processes write).  The checks above ran here, with the
		 * terminal to report on; the child opens the home again.
		 */
		home_close(ag.hm);
		ag.hm = NULL;
		if (detach(ag.homedir) != 0)
			return (1);
		if ((rc = home_open(ag.homedir, 0, &ag.hm)) != 0) {
			fprintf(stderr, "kithd: cannot open the kith home %s"
			    " again: %s\n", ag.homedir, kith_strerror(rc));
			return (1);
		}
	}

	ag.loop = uv_default_loop();
	ag.started = ag_now_ms();
	(void)store_data_version(ag.hm->st, &ag.data_version);
	ag_recount(&ag);
	ag_log("kithd %s starting: home %s, device %s", KITH_VERSION,
	    ag.homedir, ag.hm->name[0] ? ag.hm->name : "(unnamed)");
	if (!ag.hm->has_account || ag.hm->roster == NULL)
		ag_log("this device has no account yet: waiting for 'kith"
		    " init' or 'kith join'");
	else if (home_self(ag.hm) == NULL ||
	    home_self(ag.hm)->status != ROSTER_ACTIVE)
		ag_log("this device is not an active device of its account:"
		    " it will not sync");
	uv_signal_init(ag.loop, &ag.sigterm);
	uv_signal_init(ag.loop, &ag.sigint);
	uv_signal_start(&ag.sigterm, on_signal, SIGTERM);
	uv_signal_start(&ag.sigint, on_signal, SIGINT);
	uv_timer_init(ag.loop, &ag.tick);
	uv_timer_init(ag.loop, &ag.commit_tm);
	if (passfile != NULL && *passfile != '\0' && ag.hm->has_account &&
	    (ag.hm->dk->locked || !ag.hm->dk->sealed) &&
	    unlock_file(passfile) != 0 && ag.hm->dk->locked)
		rc = 1;
	else if (ctl_start(&ag) != 0)
		rc = 1;
	else if (ag.hm->dk->locked) {
		ag_log("this device is locked: it syncs once unlocked ('kith"
		    " unlock', or the client app)");
		rc = 0;
	} else
		rc = ag_go(&ag) != 0;
	if (rc != 0) {
		shutdown_agent();
		uv_walk(ag.loop, on_closewalk, NULL);
		uv_run(ag.loop, UV_RUN_DEFAULT);
		return (1);
	}
	uv_timer_start(&ag.tick, on_tick, 1000, 1000);
	/* Only now: the control socket listens, and unlocked, so do the
	 * TCP listener and mDNS (systemd's Type=notify starts what is
	 * ordered after kithd on this). */
	ag_notify_ready(&ag);
	uv_run(ag.loop, UV_RUN_DEFAULT);

	uv_walk(ag.loop, on_closewalk, NULL);
	uv_run(ag.loop, UV_RUN_DEFAULT);
	(void)uv_loop_close(ag.loop);
	ctl_free(&ag);
	for (i = 0; (size_t)i < ag.npeers; i++)
		free(ag.peers[i]);
	free(ag.peers);
	free(ag.tags);
	for (i = 0; (size_t)i < ag.nignored; i++)
		free(ag.ignored[i]);
	free(ag.ignored);
	free(ag.manual);
	json_decref(ag.tx_events);
	bk_free(&ag);
	sodium_free(ag.lock);
	home_close(ag.hm);
	ag_log("stopped");
	close(lockfd);
	return (0);
}
