#!/usr/bin/env python3
"""kithd's readiness protocol (sd_notify), as systemd's Type=notify uses it.

The real kithd runs with $NOTIFY_SOCKET naming a datagram socket this test
owns, once as a filesystem path (a locked device) and once as an abstract
name (unlocked at start, with a watchdog).  READY=1 must come only when the
agent serves: the moment it arrives kithd is frozen (SIGSTOP), and its
control socket and TCP listener must already accept connections; then
`kith status --json` must show the agent running.  Unlocking must change
STATUS=, SIGTERM must send STOPPING=1 and exit 0, and no datagram may
carry the passphrase or the device's name.

With --sandbox, kithd runs as the unit's hardening would run it where
no systemd user manager is at hand: in a user namespace mapping only this
user (PrivateUsers=yes), a mount namespace with its own empty /tmp
(PrivateTmp=yes), no_new_privs (NoNewPrivileges=yes), umask 077 and no
core dumps, and memory that cannot become executable once writable
(MemoryDenyWriteExecute=yes, by PR_SET_MDWE; the other seccomp settings
need systemd itself).  The test's
files then live under the current directory, not /tmp.

Usage: kithd_notify.py [--sandbox] BINDIR (the directory of kith, kithd).
"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

SANDBOX = "--sandbox" in sys.argv[1:]
BIN = [a for a in sys.argv[1:] if a != "--sandbox"][0]
KITH = os.path.join(BIN, "kith")
KITHD = os.path.join(BIN, "kithd")
PASS = "notify-test passphrase 7f3c"
NAME = "notifydev"
failures = []
# MemoryDenyWriteExecute=yes, as the kernel (6.3 and later) has it without
# seccomp: prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN), kept across exec.
MDWE = """import ctypes, os, sys
if ctypes.CDLL(None, use_errno=True).prctl(65, 1, 0, 0, 0) != 0:
    print("PR_SET_MDWE: errno %d: a kernel before 6.3? not applied" %
          ctypes.get_errno(), file=sys.stderr)
os.execv(sys.argv[1], sys.argv[1:])
"""


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg, flush=True)


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def recv_until(ns, pred, timeout, seen):
    """Datagrams until one satisfies pred (returned) or timeout (None)."""
    end = time.monotonic() + timeout
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return None
        ns.settimeout(left)
        try:
            d = ns.recv(4096).decode("utf-8", "replace")
        except socket.timeout:
            return None
        seen.append(d)
        fields = dict(l.split("=", 1) for l in d.split("\n") if "=" in l)
        if pred(fields):
            return fields


def kith(home, env, *args):
    return subprocess.run([KITH, "--home", home, *args], env=env,
                          capture_output=True, text=True, timeout=120)


def run(tmp, home, passfile, abstract):
    label = "abstract" if abstract else "path"
    ctl = os.path.join(tmp, "ctl-%s.sock" % label)
    port = free_port()
    ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    if abstract:
        name = "kith-notify-test-%d" % os.getpid()
        ns.bind("\0" + name)
        addr = "@" + name
    else:
        addr = os.path.join(tmp, "notify.sock")
        ns.bind(addr)
    env = dict(os.environ, NOTIFY_SOCKET=addr, KITH_SOCKET=ctl)
    env.pop("KITH_PASSPHRASE_FILE", None)
    args = []
    if SANDBOX:
        args = ["unshare", "--user", "--map-current-user", "--mount",
                "--propagation", "slave", "sh", "-c",
                "mount -t tmpfs -o mode=1777 tmpfs /tmp && umask 077 &&"
                " ulimit -c 0 && exec setpriv --no-new-privs \"$@\"", "sh",
                sys.executable, "-c", MDWE]
    args += [KITHD, "--home", home, "--foreground", "--no-mdns",
            "--port", str(port)]
    if abstract:
        # Unlocked at start; a watchdog of 2 s wants a WATCHDOG=1 a second.
        args += ["--passphrase-file", passfile]
        env["WATCHDOG_USEC"] = "2000000"
    seen = []
    log = open(os.path.join(tmp, "kithd-%s.log" % label), "w")
    p = subprocess.Popen(args, env=env, stdout=log, stderr=log)
    try:
        ready = recv_until(ns, lambda f: f.get("READY") == "1", 90, seen)
        if ready is None:
            fail("%s: no READY=1 in 90 s (got %r)" % (label, seen))
            return
        # Freeze the agent: whatever it does after READY cannot help now.
        os.kill(p.pid, signal.SIGSTOP)
        try:
            c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            c.connect(ctl)
            c.close()
        except OSError as e:
            fail("%s: READY=1 before the control socket listens (%s)" %
                 (label, e))
        if abstract:
            try:
                socket.create_connection(("127.0.0.1", port), 2).close()
            except OSError as e:
                fail("%s: READY=1 before the TCP listener (%s)" % (label, e))
        os.kill(p.pid, signal.SIGCONT)
        if SANDBOX:
            # The sandbox really holds kithd (not only its wrapper).
            with open("/proc/%d/status" % p.pid) as f:
                if "NoNewPrivs:\t1" not in f.read():
                    fail("%s: kithd runs without no_new_privs" % label)
            for n in ("user", "mnt"):
                if os.readlink("/proc/%d/ns/%s" % (p.pid, n)) == \
                        os.readlink("/proc/self/ns/" + n):
                    fail("%s: kithd is in this test's %s namespace" %
                         (label, n))
        if ready.get("MAINPID") != str(p.pid):
            fail("%s: MAINPID=%r, kithd is %d" % (label,
                 ready.get("MAINPID"), p.pid))
        st = kith(home, env, "status", "--json")
        try:
            agent = json.loads(st.stdout)["agent"]
        except (ValueError, KeyError):
            agent = {}
        if agent.get("running") is not True:
            fail("%s: status after READY: %r %r" % (label, st.stdout,
                 st.stderr))
        status = ready.get("STATUS", "")
        if abstract:
            if agent.get("port") != port:
                fail("%s: agent port %r, asked %d" % (label,
                     agent.get("port"), port))
            if not status.startswith("syncing"):
                fail("%s: unlocked READY status %r" % (label, status))
            # Two within 3 s: kept up by the loop, not only sent at READY.
            if any(recv_until(ns, lambda f: f.get("WATCHDOG") == "1", 3,
                              seen) is None for _ in range(2)):
                fail("%s: no WATCHDOG=1 keepalive after READY" % label)
        else:
            if "locked" not in status or "kith unlock" not in status:
                fail("%s: locked READY status %r" % (label, status))
            u = kith(home, env, "--passphrase-file", passfile, "unlock")
            if u.returncode != 0:
                fail("%s: kith unlock: %s" % (label, u.stderr))
            f = recv_until(ns, lambda f: "STATUS" in f, 10, seen)
            if f is None or not f["STATUS"].startswith("syncing"):
                fail("%s: no STATUS= change after unlock (%r)" %
                     (label, seen))
        p.send_signal(signal.SIGTERM)
        if recv_until(ns, lambda f: f.get("STOPPING") == "1", 30,
                      seen) is None:
            fail("%s: no STOPPING=1 after SIGTERM (%r)" % (label, seen))
        rc = p.wait(timeout=60)
        if rc != 0:
            fail("%s: kithd exit %d after SIGTERM" % (label, rc))
        if len([d for d in seen if "READY=1" in d]) != 1:
            fail("%s: READY=1 not sent exactly once" % label)
        for d in seen:
            if PASS in d or NAME in d:
                fail("%s: a notify datagram names a secret or the"
                     " device: %r" % (label, d))
        print("%s: %d datagrams: %r" % (label, len(seen), seen), flush=True)
    finally:
        if p.poll() is None:
            os.kill(p.pid, signal.SIGCONT)
            p.kill()
            p.wait()
        log.close()
        ns.close()


def main():
    if SANDBOX and subprocess.run(["unshare", "--user", "--map-current-user",
                                   "--mount", "true"]).returncode != 0:
        print("no unprivileged user namespaces here: skipped")
        return 77
    with tempfile.TemporaryDirectory(prefix="kith-notify-",
                                     dir=os.getcwd() if SANDBOX else
                                     None) as tmp:
        home = os.path.join(tmp, "home")
        passfile = os.path.join(tmp, "pass")
        with open(passfile, "w") as f:
            f.write(PASS + "\n")
        env = dict(os.environ)
        env.pop("KITH_PASSPHRASE_FILE", None)
        r = kith(home, env, "--passphrase-file", passfile, "init",
                 "--name", NAME)
        if r.returncode != 0:
            print("kith init failed: " + r.stderr)
            return 1
        run(tmp, home, passfile, False)
        run(tmp, home, passfile, True)
        if failures:
            for name in os.listdir(tmp):
                if name.endswith(".log"):
                    print("--- " + name)
                    print(open(os.path.join(tmp, name)).read())
    print("%d failure(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
