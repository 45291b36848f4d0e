#!/usr/bin/env python3
"""POP3 benchmark: petrel's download against the least work any POP3 client
must do, and against fetchmail (issue 4, "Done when").

Seeds 10,000 messages (--count; about 160 MB with the default
--attach-scale 150) into a private Dovecot, runs one unmeasured
warm-up download, then in the same run, interleaved (the order rotates every
round) and repeated (--rounds), measures over POP3S:

  minpop3         bench/minpop3: USER, PASS, STAT, RETR 1..n pipelined (32
                  in flight), data discarded, QUIT (the limit);
  petrel cold     `petrel sync` into an empty cache: every message stored
                  (SQLite, synchronous=FULL), indexed; wall time, peak RSS;
  petrel 2nd      `petrel sync` again: nothing new on the server;
  fetchmail       `fetchmail --keep --uidl` delivering to a Maildir through
                  procmail (one MDA process per message), empty .fetchids;
  fetchmail 2nd   the same with the .fetchids of the first run.

Each petrel and fetchmail run is checked: Dovecot's logout line must show
n RETR for a cold run and none for a second one. Prints every run, the
medians, the ratio petrel/minpop3 and the targets (petrel cold within 1.3x
of minpop3, petrel 2nd under 0.15 s).

usage: bench/pop3-bench.py [--count N] [--rounds N] [--attach-scale PCT]
           [--no-fetchmail] [--build-dir DIR] [--petrel PATH] [--json FILE]
           [--dir DIR]
fetchmail and procmail are apt-get installed when missing (as root).
"""

import argparse
import json
import os
import shutil
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
TARGET_SECOND_S = 0.15
USER, PASSWORD = "popbench", "pw-popbench"


def log(msg):
    print(msg, flush=True)


def measure(peakrss, argv, env=None, timeout=1800):
    """Run argv under bench/peakrss; (status, wall s, peak RSS MB, out, err)."""
    out = tempfile.TemporaryFile()
    err = tempfile.TemporaryFile()
    fd, rssfile = tempfile.mkstemp(prefix="peakrss-")
    os.close(fd)
    t0 = time.monotonic()
    p = subprocess.Popen([peakrss, rssfile] + list(argv), env=env,
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
    return (p.returncode, wall, rss, out.read().decode(errors="replace"),
            err.read().decode(errors="replace"))


def ensure_tools(names):
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


def build_dir(args):
    if args.build_dir:
        return args.build_dir
    for d in harness._build_dirs():
        if os.access(os.path.join(d, "bench", "minpop3"), os.X_OK):
            return d
    sys.exit("pop3-bench: bench/minpop3 is not built; run: meson setup "
             "build && ninja -C build")


class Bench:
    def __init__(self, args):
        self.args = args
        self.build = build_dir(args)
        self.minpop3 = os.path.join(self.build, "bench", "minpop3")
        self.peakrss = os.path.join(self.build, "bench", "peakrss")
        self.petrel = args.petrel or os.path.join(self.build, "petrel")
        for p in (self.minpop3, self.peakrss, self.petrel):
            if not os.access(p, os.X_OK):
                sys.exit("pop3-bench: %s is not built" % p)
        os.environ.setdefault("PETREL_BUILD_DIR", self.build)
        self.d = harness.Dovecot(users={USER: PASSWORD}, dir=args.dir,
                                 keep=bool(args.dir))
        self.work = os.path.join(self.d.dir, "bench")
        os.makedirs(self.work, exist_ok=True)
        self.results = {}
        self.fetchmail = False

    # ---- clients ---------------------------------------------------------

    def retr_count(self, mark):
        """Messages the server sent in full: RETR, or TOP (fetchmail with
        --keep asks TOP n 99999999), from Dovecot's logout line."""
        recs = self.d.wait_logouts(1, since=mark, user=USER, proto="pop3")
        if not recs:
            return None
        return recs[-1]["retr"][0] + recs[-1]["top"][0]

    def run_minpop3(self):
        env = dict(os.environ, MINPOP3_PASSWORD=PASSWORD)
        st, wall, rss, out, err = measure(self.peakrss, [
            self.minpop3, "-q", "-c", self.d.ca_file, self.d.host,
            str(self.d.pop3s_port), USER], env=env)
        if st != 0:
            raise SystemExit("minpop3 failed: %s" % err.strip())
        return {"wall": wall, "rss": rss}

    def petrel_env(self):
        e = self.d.petrel_env("bench")
        e.pop("PETREL_TRACE", None)
        return e

    def run_petrel(self, cold):
        h = self.d.petrel_home("bench")
        if cold:
            shutil.rmtree(h["cache"])
            os.makedirs(h["cache"], mode=0o700)
        mark = self.d.log_mark()
        st, wall, rss, out, err = measure(self.peakrss,
                                          [self.petrel, "sync"],
                                          env=self.petrel_env())
        if st != 0:
            raise SystemExit("petrel sync failed: %s" % err.strip())
        return {"wall": wall, "rss": rss, "retr": self.retr_count(mark)}

    def fetchmail_setup(self):
        f = os.path.join(self.work, "fetchmail")
        os.makedirs(f, exist_ok=True)
        os.chmod(f, 0o700)
        self.fm_home = f
        self.fm_maildir = os.path.join(f, "Maildir")
        self.fm_ids = os.path.join(f, "fetchids")
        procrc = os.path.join(f, "procmailrc")
        with open(procrc, "w") as fp:
            fp.write("MAILDIR=%s\nDEFAULT=%s/\nLOGFILE=\nVERBOSE=no\n"
                     % (f, self.fm_maildir))
        self.fm_rc = os.path.join(f, "fetchmailrc")
        fd = os.open(self.fm_rc, os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
                     0o600)
        with os.fdopen(fd, "w") as fp:
            fp.write(
                'set no bouncemail\n'
                'poll %s service %d protocol pop3 uidl\n'
                '  user "%s" password "%s" is "%s" here\n'
                '  ssl sslcertck sslcertfile "%s" sslcommonname "localhost"\n'
                '  keep\n'
                '  mda "/usr/bin/procmail -m %s"\n'
                % (self.d.host, self.d.pop3s_port, USER, PASSWORD, USER,
                   self.d.ca_file, procrc))

    def run_fetchmail(self, cold):
        if cold:
            shutil.rmtree(self.fm_maildir, ignore_errors=True)
            for sub in ("cur", "new", "tmp"):
                os.makedirs(os.path.join(self.fm_maildir, sub))
            if os.path.exists(self.fm_ids):
                os.unlink(self.fm_ids)
        env = dict(os.environ, HOME=self.fm_home)
        mark = self.d.log_mark()
        st, wall, rss, out, err = measure(self.peakrss, [
            "fetchmail", "-f", self.fm_rc, "--keep", "--uidl",
            "--idfile", self.fm_ids, "--nosyslog", "--silent",
            "--pidfile", os.path.join(self.fm_home, "pid")], env=env)
        # 0: mail delivered, 1: no new mail.
        if st not in (0, 1):
            raise SystemExit("fetchmail failed (%d): %s" % (st, err.strip()))
        res = {"wall": wall, "rss": rss, "retr": self.retr_count(mark)}
        if cold:
            res["delivered"] = len(os.listdir(os.path.join(self.fm_maildir,
                                                           "new")))
        return res

    # ---- the run ---------------------------------------------------------

    def add(self, name, r):
        self.results.setdefault(name, []).append(r)

    def run(self):
        a = self.args
        d = self.d
        d.start()
        log("Dovecot %s, POP3S on %s:%d" % (d.dir, d.host, d.pop3s_port))
        t0 = time.monotonic()
        d.seed(USER, "INBOX", a.count, seed=4, manifest=False,
               extra_args=["--attach-scale", str(a.attach_scale)])
        st = d.mailbox_status(USER, fields="messages vsize")
        self.size_mb = st.get("vsize", 0) / 1e6
        log("seeded %d messages, %.1f MB as POP3 sends them, in %.1f s"
            % (a.count, self.size_mb, time.monotonic() - t0))
        d.write_petrel_config(None, account=USER, proto="pop3", tls="pop3s",
                              home="bench")
        if not a.no_fetchmail:
            self.fetchmail = ensure_tools(["fetchmail", "procmail"])
            if self.fetchmail:
                self.fetchmail_setup()
            else:
                log("fetchmail SKIPPED: not installed")
        log("warm-up (unmeasured): minpop3, petrel")
        self.run_minpop3()
        self.run_petrel(True)

        order = ["minpop3", "petrel"] + (["fetchmail"] if self.fetchmail
                                         else [])
        for rnd in range(a.rounds):
            k = rnd % len(order)
            for c in order[k:] + order[:k]:
                if c == "minpop3":
                    r = self.run_minpop3()
                    self.add("minpop3", r)
                    log("round %d  minpop3          %7.2f s" % (rnd + 1,
                                                               r["wall"]))
                elif c == "petrel":
                    r = self.run_petrel(True)
                    self.add("petrel cold", r)
                    log("round %d  petrel cold      %7.2f s  rss %5.1f MB  "
                        "RETR %s" % (rnd + 1, r["wall"], r["rss"] or 0,
                                     r["retr"]))
                    if r["retr"] != a.count:
                        raise SystemExit("petrel cold: %s RETR, expected %d"
                                         % (r["retr"], a.count))
                    r = self.run_petrel(False)
                    self.add("petrel 2nd", r)
                    log("round %d  petrel 2nd       %7.3f s  RETR %s"
                        % (rnd + 1, r["wall"], r["retr"]))
                    if r["retr"] != 0:
                        raise SystemExit("petrel 2nd: %s RETR" % r["retr"])
                else:
                    r = self.run_fetchmail(True)
                    self.add("fetchmail", r)
                    log("round %d  fetchmail        %7.2f s  RETR %s, %s "
                        "delivered" % (rnd + 1, r["wall"], r["retr"],
                                       r.get("delivered")))
                    r = self.run_fetchmail(False)
                    self.add("fetchmail 2nd", r)
                    log("round %d  fetchmail 2nd    %7.3f s  RETR %s"
                        % (rnd + 1, r["wall"], r["retr"]))
        self.report()

    def med(self, name, key="wall"):
        v = [r[key] for r in self.results.get(name, []) if r.get(key)
             is not None]
        return statistics.median(v) if v else None

    def report(self):
        a = self.args
        log("")
        log("POP3S download of %d messages (%.1f MB), medians of %d rounds:"
            % (a.count, self.size_mb, a.rounds))
        log("  %-16s %10s %10s   runs" % ("client", "wall", "peak RSS"))
        for name in ("minpop3", "petrel cold", "petrel 2nd", "fetchmail",
                     "fetchmail 2nd"):
            if name not in self.results:
                continue
            runs = " ".join("%.3f" % r["wall"] for r in self.results[name])
            rss = self.med(name, "rss")
            log("  %-16s %9.3fs %8s   %s" % (
                name, self.med(name), "%.1f MB" % rss if rss else "-", runs))
        ratio = self.med("petrel cold") / self.med("minpop3")
        second = self.med("petrel 2nd")
        log("")
        log("petrel cold / minpop3 = %.2f (target <= %.1f): %s"
            % (ratio, TARGET_RATIO, "PASS" if ratio <= TARGET_RATIO
               else "FAIL"))
        log("petrel 2nd = %.3f s (target < %.2f s): %s"
            % (second, TARGET_SECOND_S, "PASS" if second < TARGET_SECOND_S
               else "FAIL"))
        if "fetchmail" in self.results:
            log("fetchmail / petrel cold = %.1f; fetchmail 2nd = %.3f s"
                % (self.med("fetchmail") / self.med("petrel cold"),
                   self.med("fetchmail 2nd")))
        if a.json:
            with open(a.json, "w") as f:
                json.dump({"count": a.count, "mb": self.size_mb,
                           "runs": self.results, "ratio": ratio,
                           "second": second}, f, indent=1)

    def close(self):
        self.d.stop()
        self.d.cleanup()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--attach-scale", type=int, default=150,
                    help="attachment sizes in percent of the seed tool's "
                    "usual (150: 10,000 messages are about 160 MB)")
    ap.add_argument("--no-fetchmail", action="store_true",
                    help="skip fetchmail (it takes about a minute a run)")
    ap.add_argument("--build-dir")
    ap.add_argument("--petrel", help="petrel binary (default BUILD/petrel)")
    ap.add_argument("--json", help="also write every run here")
    ap.add_argument("--dir", help="keep the Dovecot and its data here")
    b = Bench(ap.parse_args())
    try:
        b.run()
    finally:
        b.close()


if __name__ == "__main__":
    main()
