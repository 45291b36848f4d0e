#!/usr/bin/env python3
"""Sync benchmark: petrel against the least work any IMAP client must do.

Seeds 10,000 and 100,000 messages into a private Dovecot (one user per
size), runs one unmeasured warm-up download per folder (the first header
FETCH after seeding is several times slower: Dovecot fills its cache file),
then in the same run, interleaved and repeated, measures:

  minfetch        bench/minfetch: LOGIN, SELECT, one UID FETCH 1:* of the
                  index headers, data discarded, LOGOUT (the limit);
  petrel cold     `petrel sync` into an empty cache: wall time, peak RSS;
  petrel 2nd      `petrel sync` again, nothing changed on the server;
  neomutt/mutt    (--neomutt/--mutt) opening the same folder cold.

and prints medians, the ratio petrel/minfetch and the targets of issue 2
(100,000 messages: <= 1.3x minfetch, peak RSS < 64 MB, 2nd sync < 0.3 s).
See bench/README.md.
"""

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(SRC, "tests", "integration"))
import harness  # noqa: E402

TARGET_RATIO = 1.3
TARGET_RSS_MB = 64
TARGET_SECOND_S = 0.3


def log(msg):
    print(msg, flush=True)


PEAKRSS = None          # bench/peakrss, set in Bench()


def measure(argv, env=None, timeout=900):
    """Run argv; (status, wall seconds, peak RSS in MB, stdout, stderr).

    The command runs under bench/peakrss: Linux counts in ru_maxrss the
    memory a child had before exec, so one forked straight from this
    Python process would show at least Python's own size."""
    out = tempfile.TemporaryFile()
    err = tempfile.TemporaryFile()
    fd, rssfile = tempfile.mkstemp(prefix="peakrss-")
    os.close(fd)
    t0 = time.monotonic()
    p = subprocess.Popen([PEAKRSS, rssfile] + list(argv), env=env,
                         stdin=subprocess.DEVNULL, stdout=out, stderr=err)
    timer = threading.Timer(timeout, p.kill)
    timer.start()
    try:
        p.wait()
    finally:
        timer.cancel()
    wall = time.monotonic() - t0
    rss = None
    try:
        with open(rssfile) as f:
            rss = int(f.read().split("maxrss_kb=")[1].split()[0]) / 1024.0
    except (OSError, IndexError, ValueError):
        pass
    os.unlink(rssfile)
    out.seek(0)
    err.seek(0)
    return (p.returncode, wall, rss,
            out.read().decode(errors="replace"),
            err.read().decode(errors="replace"))


def build_dir(args):
    if args.build_dir:
        return args.build_dir
    for d in harness._build_dirs():
        if os.access(os.path.join(d, "bench", "minfetch"), os.X_OK):
            return d
    sys.exit("sync-bench: bench/minfetch is not built; run: meson setup "
             "build && ninja -C build")


def ensure_tools(names):
    """Install what the optional clients need (tmux, neomutt, mutt)."""
    missing = [n for n in names if shutil.which(n) is None]
    if not missing:
        return True
    if os.geteuid() != 0:
        log("  (not root: cannot apt-get install %s)" % " ".join(missing))
        return False
    log("  apt-get install %s" % " ".join(missing))
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    r = subprocess.run(["apt-get", "install", "-y", "-q"] + missing, env=env,
                       stdout=subprocess.DEVNULL)
    if r.returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env,
                       stdout=subprocess.DEVNULL)
        r = subprocess.run(["apt-get", "install", "-y", "-q"] + missing,
                           env=env, stdout=subprocess.DEVNULL)
    return r.returncode == 0


class Bench:
    def __init__(self, args):
        self.args = args
        self.build = build_dir(args)
        self.minfetch = os.path.join(self.build, "bench", "minfetch")
        global PEAKRSS
        PEAKRSS = os.path.join(self.build, "bench", "peakrss")
        if not os.access(PEAKRSS, os.X_OK):
            sys.exit("sync-bench: %s is not built" % PEAKRSS)
        self.petrel = args.petrel or os.path.join(self.build, "petrel")
        os.environ.setdefault("PETREL_BUILD_DIR", self.build)
        self.sizes = [int(x) for x in args.sizes.split(",") if x]
        self.users = {n: "bench%d" % n for n in self.sizes}
        self.d = harness.Dovecot(
            users={u: "pw-" + u for u in self.users.values()},
            dir=args.dir, keep=bool(args.dir),
            max_userip_connections=1000)
        self.work = os.path.join(self.d.dir, "bench")
        os.makedirs(self.work, exist_ok=True)
        self.results = {}       # (size, client) -> list of dicts
        self.petrel_ok = False
        self.petrel_why = ""
        self.clients = []

    # ---- clients ---------------------------------------------------------

    def run_minfetch(self, n):
        user = self.users[n]
        env = dict(os.environ, MINFETCH_PASSWORD=self.d.users[user])
        st, wall, rss, out, err = measure(
            [self.minfetch, "-c", self.d.ca_file, "127.0.0.1",
             str(self.d.imaps_port), user], env=env)
        if st != 0:
            raise SystemExit("minfetch failed: %s" % err.strip())
        got = int(out.split("messages=")[1].split()[0])
        if got != n:
            raise SystemExit("minfetch saw %d messages, not %d" % (got, n))
        return dict(wall=wall, rss=rss)

    def petrel_env(self, n, cache):
        e = dict(os.environ)
        e.pop("PETREL_CONFIG", None)
        e.update(XDG_CONFIG_HOME=os.path.join(self.work, "config-%d" % n),
                 XDG_CACHE_HOME=cache, HOME=self.work, LANG="C.UTF-8")
        return e

    def petrel_argv(self):
        return [self.petrel, "sync"] + self.args.petrel_args.split()

    def run_petrel(self, n, cache):
        user = self.users[n]
        mark = self.d.log_mark()
        st, wall, rss, out, err = measure(self.petrel_argv(),
                                          env=self.petrel_env(n, cache))
        if st != 0:
            lines = err.strip().splitlines()
            return None, "exit %d: %s" % (st, lines[-1] if lines else "")
        rec = self.d.wait_logouts(1, since=mark, user=user, proto="imap",
                                  timeout=5)
        hdr = sum(r.get("hdr_count", 0) for r in rec)
        out_bytes = sum(r.get("out", 0) for r in rec)
        return dict(wall=wall, rss=rss, hdr_count=hdr,
                    out_bytes=out_bytes), None

    def petrel_round(self, n, r):
        cache = os.path.join(self.work, "cache-%d-%d" % (n, r))
        shutil.rmtree(cache, ignore_errors=True)
        os.makedirs(cache, mode=0o700)
        try:
            cold, why = self.run_petrel(n, cache)
            if cold is None:
                return None, None, why
            second, why = self.run_petrel(n, cache)
            return cold, second, why
        finally:
            shutil.rmtree(cache, ignore_errors=True)

    def muttrc(self, prog, n, tag):
        user = self.users[n]
        d = os.path.join(self.work, "%s-%d-%s" % (prog, n, tag))
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(os.path.join(d, "home"))
        os.makedirs(os.path.join(d, "hcache"))
        os.makedirs(os.path.join(d, "bodies"))
        rc = os.path.join(d, "muttrc")
        lines = [
            "set imap_user = '%s'" % user,
            "set imap_pass = '%s'" % self.d.users[user],
            "set folder = 'imaps://127.0.0.1:%d/'" % self.d.imaps_port,
            "set spoolfile = 'imaps://127.0.0.1:%d/INBOX'"
            % self.d.imaps_port,
            "set ssl_ca_certificates_file = '%s'" % self.d.ca_file,
            "set certificate_file = '%s/certs'" % d,
            "set header_cache = '%s/hcache/'" % d,
            "set message_cachedir = '%s/bodies/'" % d,
            "set imap_check_subscribed = no",
            "set imap_idle = no",
            "set mail_check = 3600",
            "set timeout = 3600",
            "set sleep_time = 0",
            "set mark_old = no",
            "set move = no",
            "set quit = yes",
            "set imap_condstore = yes",
            "set imap_qresync = yes",
            "set status_format = 'MARK msgs=%m new=%n'",
        ]
        with open(rc, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.chmod(rc, 0o600)
        return d, rc

    def run_mutt(self, prog, n, r):
        """Time prog (neomutt or mutt) opening INBOX cold in a private tmux."""
        d, rc = self.muttrc(prog, n, "r%d" % r)
        sock = "petrel-bench-%d" % os.getpid()
        tmux = ["tmux", "-L", sock]
        cmd = ("env -i HOME=%s LANG=C.UTF-8 TERM=screen %s -n -F %s"
               % (os.path.join(d, "home"), shutil.which(prog), rc))
        marker = "MARK msgs=%d " % n
        t0 = time.monotonic()
        subprocess.run(tmux + ["new-session", "-d", "-x", "200", "-y", "50",
                               "exec " + cmd], check=True)
        wall = None
        rss = None
        try:
            deadline = t0 + 600
            while time.monotonic() < deadline:
                p = subprocess.run(tmux + ["capture-pane", "-p"],
                                   stdout=subprocess.PIPE,
                                   stderr=subprocess.DEVNULL)
                if marker in p.stdout.decode(errors="replace"):
                    wall = time.monotonic() - t0
                    break
                time.sleep(0.01)
            pid = subprocess.run(tmux + ["list-panes", "-F",
                                         "#{pane_pid}"],
                                 stdout=subprocess.PIPE).stdout.split()
            if pid:
                try:
                    with open("/proc/%d/status" % int(pid[0])) as f:
                        for line in f:
                            if line.startswith("VmHWM:"):
                                rss = int(line.split()[1]) / 1024.0
                except OSError:
                    pass
        finally:
            subprocess.run(tmux + ["kill-server"], stderr=subprocess.DEVNULL)
            shutil.rmtree(d, ignore_errors=True)
        if wall is None:
            return None
        return dict(wall=wall, rss=rss)

    # ---- the run ---------------------------------------------------------

    def add(self, n, client, res):
        self.results.setdefault((n, client), []).append(res)

    def setup(self):
        log("Private Dovecot %s in %s" % (
            subprocess.run(["dovecot", "--version"], stdout=subprocess.PIPE)
            .stdout.decode().split()[0], self.d.dir))
        self.d.start()
        for n in self.sizes:
            user = self.users[n]
            t = time.monotonic()
            self.d.seed(user, "INBOX", n, seed=n, manifest=False,
                        index=False)
            t1 = time.monotonic()
            self.d.index(user, "INBOX")
            t2 = time.monotonic()
            size = sum(e.stat().st_size for e in
                       os.scandir(os.path.join(self.d.maildir(user), "cur")))
            log("seeded %d messages (%.0f MB) in %.1f s; doveadm index "
                "%.1f s" % (n, size / 1e6, t1 - t, t2 - t1))
            cfg = os.path.join(self.work, "config-%d" % n, "petrel", "config")
            self.d.write_petrel_config(cfg, account=user)

    def warm_up(self):
        log("Warm-up (not measured): the first header FETCH after seeding "
            "is slow because Dovecot fills its cache file.")
        for n in self.sizes:
            m = self.run_minfetch(n)
            log("  minfetch %d: %.2f s" % (n, m["wall"]))
        if not os.access(self.petrel, os.X_OK):
            self.petrel_why = "%s is not built" % self.petrel
        else:
            for n in self.sizes:
                cold, second, why = self.petrel_round(n, 0)
                if cold is None:
                    self.petrel_why = why
                    break
                log("  petrel sync %d: %.2f s (also fills Dovecot's cache "
                    "with any field petrel fetches beyond minfetch's)"
                    % (n, cold["wall"]))
            else:
                self.petrel_ok = True
        if not self.petrel_ok:
            log("petrel columns SKIPPED: `%s` failed: %s"
                % (" ".join(self.petrel_argv()), self.petrel_why))
        for prog in ("neomutt", "mutt"):
            if getattr(self.args, prog):
                if ensure_tools(["tmux", prog]):
                    self.clients.append(prog)
                else:
                    log("%s SKIPPED: not installed" % prog)

    def rounds(self):
        for r in range(1, self.args.rounds + 1):
            for n in self.sizes:
                order = ["minfetch", "petrel"] + self.clients
                if r % 2 == 0:
                    order.reverse()
                for c in order:
                    if c == "minfetch":
                        self.add(n, "minfetch", self.run_minfetch(n))
                    elif c == "petrel" and self.petrel_ok:
                        cold, second, why = self.petrel_round(n, r)
                        if cold is None or second is None:
                            log("round %d: petrel failed: %s" % (r, why))
                            continue
                        self.add(n, "petrel sync (cold)", cold)
                        self.add(n, "petrel sync (2nd)", second)
                    elif c in ("neomutt", "mutt"):
                        res = self.run_mutt(c, n, r)
                        if res is None:
                            log("round %d: %s did not show the index" %
                                (r, c))
                        else:
                            self.add(n, "%s (cold)" % c, res)
            log("round %d of %d done" % (r, self.args.rounds))

    def report(self):
        def med(n, client, key):
            v = [x[key] for x in self.results.get((n, client), [])
                 if x.get(key) is not None]
            return statistics.median(v) if v else None

        log("")
        log("%-9s %-20s %9s  %-26s %9s %10s" % (
            "messages", "client", "median s", "runs (s)", "peak RSS",
            "hdr_count"))
        for n in self.sizes:
            for client in ["minfetch", "petrel sync (cold)",
                           "petrel sync (2nd)"] + [
                    "%s (cold)" % c for c in self.clients]:
                runs = self.results.get((n, client))
                if not runs:
                    continue
                rss = med(n, client, "rss")
                hdr = med(n, client, "hdr_count")
                log("%-9d %-20s %9.3f  %-26s %9s %10s" % (
                    n, client, med(n, client, "wall"),
                    " ".join("%.2f" % x["wall"] for x in runs),
                    "%.1f MB" % rss if rss is not None else "-",
                    "%d" % hdr if hdr is not None else "-"))
        log("")
        summary = {}
        for n in self.sizes:
            mf = med(n, "minfetch", "wall")
            cold = med(n, "petrel sync (cold)", "wall")
            second = med(n, "petrel sync (2nd)", "wall")
            rss = None
            runs = self.results.get((n, "petrel sync (cold)"), [])
            if runs and all(x["rss"] is not None for x in runs):
                rss = max(x["rss"] for x in runs)
            s = dict(minfetch=mf, petrel_cold=cold, petrel_second=second,
                     petrel_peak_rss_mb=rss)
            for c in self.clients:
                s[c] = med(n, "%s (cold)" % c, "wall")
            summary[n] = s
            if cold is None:
                log("%d: minfetch %.3f s; petrel not measured (%s)"
                    % (n, mf, self.petrel_why or "failed"))
                continue
            ratio = cold / mf
            s["ratio"] = ratio
            big = n >= 100000
            tgt = " (targets apply to 100,000)" if not big else ""

            def verdict(ok):
                return ("PASS" if ok else "FAIL") if big else "info"
            log("%d: petrel/minfetch = %.2fx  [target <= %.1fx: %s]%s" % (
                n, ratio, TARGET_RATIO, verdict(ratio <= TARGET_RATIO), tgt))
            if rss is not None:
                log("%d: petrel peak RSS = %.1f MB  [target < %d MB: %s]" % (
                    n, rss, TARGET_RSS_MB, verdict(rss < TARGET_RSS_MB)))
            log("%d: second sync = %.3f s  [target < %.1f s: %s]" % (
                n, second, TARGET_SECOND_S,
                verdict(second < TARGET_SECOND_S)))
            for c in self.clients:
                if s.get(c):
                    log("%d: %s/minfetch = %.2fx" % (n, c, s[c] / mf))
        if self.args.json:
            with open(self.args.json, "w") as f:
                json.dump({"sizes": self.sizes, "rounds": self.args.rounds,
                           "summary": summary,
                           "runs": {"%d %s" % k: v for k, v in
                                    self.results.items()},
                           "petrel": self.petrel_ok and
                           " ".join(self.petrel_argv())}, f, indent=1)
            log("wrote %s" % self.args.json)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="10000,100000",
                    help="comma-separated folder sizes (default %(default)s)")
    ap.add_argument("--rounds", type=int, default=3,
                    help="measured rounds, interleaved (default 3)")
    ap.add_argument("--petrel", help="petrel binary (default BUILD/petrel)")
    ap.add_argument("--petrel-args", default="",
                    help="extra arguments after `petrel sync`, e.g. INBOX")
    ap.add_argument("--build-dir", help="meson build directory (default: "
                    "$PETREL_BUILD_DIR, build/, build-*/)")
    ap.add_argument("--neomutt", action="store_true",
                    help="also time neomutt opening the folder cold")
    ap.add_argument("--mutt", action="store_true",
                    help="also time mutt opening the folder cold")
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--dir", help="keep the Dovecot and data here")
    args = ap.parse_args()
    if args.rounds < 1:
        ap.error("--rounds must be at least 1")

    b = Bench(args)
    signal.signal(signal.SIGINT, lambda s, f: sys.exit(130))
    try:
        b.setup()
        b.warm_up()
        b.rounds()
        b.report()
    finally:
        b.d.stop()
        b.d.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
