#!/usr/bin/env python3
"""Triage benchmark: petrel's local actions, their replay, and a second
writer during a cold sync (issue 9).

On a private Dovecot (loopback, IMAPS), in one run:

  1  recording one local action: `petrel flag add --offline INBOX UID
     flagged` (wall time, --runs of them, different UIDs) and the same
     cache_act_flags() in process (bench/triage-bench act -e);
  2  recording a bulk change: `petrel flag add --offline INBOX 1:N seen`
     on N = 10,000 messages, wall time and in process;
  3  replaying those N coalesced changes: engine_replay() in process
     (bench/triage-bench replay: connect, log in, SELECT, the UID STOREs,
     retire the rows, log out) against bench/rawimap sending the very
     commands petrel sent (taken from its protocol trace), and `petrel
     sync` after the bulk change for information;
  4  a second connection's writes during a cold sync of 100,000 messages:
     bench/triage-bench writer does one cache_act_flags() on a message of
     another folder every --interval ms while `petrel sync` runs; the
     longest wait and the 99th percentile (and, for information, the same
     with `writer -s`: a plain SQLite connection polling for the lock
     every 0.1 ms, i.e. how long the sync really held it).

and prints the figures with the targets of issue 9 (one action <= 2 ms,
bulk <= 0.3 s, replay <= 1.5x the raw client, longest wait <= 50 ms).
See bench/README.md.
"""

import argparse
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(SRC, "tests", "integration"))
import harness  # noqa: E402

TARGET_ONE_MS = 2.0
TARGET_BULK_S = 0.3
TARGET_REPLAY_RATIO = 1.5
TARGET_WAIT_MS = 50.0
FULL_TRIAGE = 10000         # the sizes the targets are for
FULL_SYNC = 100000
OTHER = "Other"             # the small folder item 4's writer writes to
OTHER_COUNT = 100


def log(msg):
    print(msg, flush=True)


def kv(text, prefix):
    """{key: value} of the line of text starting with prefix."""
    for line in text.splitlines():
        if line.startswith(prefix):
            return {k: v for k, v in re.findall(r"(\w+)=(\S+)", line)}
    raise RuntimeError("no %r line in: %s" % (prefix, text.strip()[-500:]))


def run(argv, env=None, timeout=900, stdin=subprocess.DEVNULL):
    """(status, wall seconds, stdout, stderr) of argv."""
    t0 = time.monotonic()
    r = subprocess.run(argv, env=env, stdin=stdin, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout)
    wall = time.monotonic() - t0
    return (r.returncode, wall, r.stdout.decode(errors="replace"),
            r.stderr.decode(errors="replace"))


def must(res, what):
    st, wall, out, err = res
    if st != 0:
        lines = err.strip().splitlines()
        raise SystemExit("%s failed (exit %d): %s" % (
            what, st, lines[-1] if lines else out.strip()[-300:]))
    return res


def build_dir(args):
    if args.build_dir:
        return args.build_dir
    for d in harness._build_dirs():
        if os.access(os.path.join(d, "bench", "triage-bench"), os.X_OK):
            return d
    sys.exit("triage-bench: bench/triage-bench is not built; run: meson "
             "setup build && ninja -C build")


def unescape_trace(s):
    """log_trace() writes control bytes and backslashes as \\xNN."""
    return re.sub(r"\\x([0-9a-fA-F]{2})",
                  lambda m: chr(int(m.group(1), 16)), s)


def script_from_trace(stderr):
    """The client lines of a protocol trace as a rawimap script: tags
    dropped, the redacted login as @AUTH, lines petrel sent without
    reading in between in one paragraph (pipelined)."""
    paras, cur = [], []
    for line in stderr.splitlines():
        if line.startswith("imap > "):
            text = line[len("imap > "):]
            if text == "<redacted>":
                cmd = "@AUTH"
            else:
                if re.search(r"\.\.\.\(\d+ bytes\)$", text):
                    raise SystemExit("trace line cut short: %s" % text[:80])
                parts = unescape_trace(text).split(" ", 1)
                if len(parts) != 2:
                    raise SystemExit("odd trace line: %s" % text)
                cmd = parts[1]
            cur.append(cmd)
        elif line.startswith("imap < "):
            if cur:
                paras.append(cur)
                cur = []
    if cur:
        paras.append(cur)
    return paras


class Bench:
    def __init__(self, args):
        self.args = args
        self.build = build_dir(args)
        self.tb = os.path.join(self.build, "bench", "triage-bench")
        self.rawimap = os.path.join(self.build, "bench", "rawimap")
        for p in (self.tb, self.rawimap):
            if not os.access(p, os.X_OK):
                sys.exit("triage-bench: %s is not built" % p)
        self.petrel = args.petrel or os.path.join(self.build, "petrel")
        if not os.access(self.petrel, os.X_OK):
            sys.exit("triage-bench: %s is not built" % self.petrel)
        os.environ.setdefault("PETREL_BUILD_DIR", self.build)
        self.n, self.big = args.sizes
        self.items = args.items
        self.tri = "tri%d" % self.n             # items 1-3
        self.cold = "cold%d" % self.big         # item 4
        users = {}
        if self.items & {1, 2, 3}:
            users[self.tri] = "pw-" + self.tri
        if 4 in self.items:
            users[self.cold] = "pw-" + self.cold
        self.d = harness.Dovecot(users=users, dir=args.dir,
                                 keep=bool(args.dir),
                                 max_userip_connections=1000)
        self.work = os.path.join(self.d.dir, "bench")
        os.makedirs(self.work, exist_ok=True)
        self.res = {}           # name -> list of values (one per round)
        self.detail = {}        # name -> list of dicts
        self.script = None      # rawimap script from petrel's trace

    # ---- environment ------------------------------------------------------

    def env(self, user, cache):
        e = dict(os.environ)
        e.pop("PETREL_CONFIG", None)
        e.pop("PETREL_TRACE", None)
        e.update(XDG_CONFIG_HOME=os.path.join(self.work, "config-" + user),
                 XDG_CACHE_HOME=cache, HOME=self.work, LANG="C.UTF-8")
        return e

    def cache_dir(self, tag):
        d = os.path.join(self.work, "cache-" + tag)
        shutil.rmtree(d, ignore_errors=True)
        return d

    def fresh_copy(self, tag):
        """A copy of the synced cache of items 1-3."""
        d = self.cache_dir(tag)
        shutil.copytree(self.base_cache, d)
        return d

    def add(self, name, value, detail=None):
        self.res.setdefault(name, []).append(value)
        if detail is not None:
            self.detail.setdefault(name, []).append(detail)

    def clear_seen(self, user):
        """Server state before each replay: no message \\Seen."""
        m = self.d.imap_client(user)
        try:
            typ, _ = m.select("INBOX")
            if typ != "OK":
                raise SystemExit("SELECT INBOX failed")
            typ, data = m.uid("STORE", "1:*", "-FLAGS.SILENT", "(\\Seen)")
            if typ != "OK":
                raise SystemExit("STORE -FLAGS failed: %r" % data)
        finally:
            m.logout()

    # ---- setup ------------------------------------------------------------

    def setup(self):
        log("Private Dovecot %s in %s" % (
            subprocess.run(["dovecot", "--version"], stdout=subprocess.PIPE)
            .stdout.decode().split()[0], self.d.dir))
        self.d.start()
        for user, count in ((self.tri, self.n), (self.cold, self.big)):
            if user not in self.d.users:
                continue
            t = time.monotonic()
            self.d.seed(user, "INBOX", count, seed=count, manifest=False,
                        index=False)
            self.d.seed(user, OTHER, OTHER_COUNT, seed=7, manifest=False,
                        index=False)
            t1 = time.monotonic()
            self.d.index(user, "INBOX")
            self.d.index(user, OTHER)
            log("%s: seeded %d + %d messages in %.1f s; doveadm index "
                "%.1f s" % (user, count, OTHER_COUNT, t1 - t,
                            time.monotonic() - t1))
            cfg = os.path.join(self.work, "config-" + user, "petrel",
                               "config")
            self.d.write_petrel_config(cfg, account=user)
        if self.tri in self.d.users:
            self.clear_seen(self.tri)
            self.base_cache = self.cache_dir("base")
            st, wall, out, err = must(run(
                [self.petrel, "sync"], env=self.env(self.tri,
                                                   self.base_cache)),
                "petrel sync (items 1-3)")
            log("%s: petrel sync into the base cache: %.2f s (not "
                "measured)" % (self.tri, wall))

    # ---- items 1 and 2: recording ----------------------------------------

    def uids_for_one(self):
        runs = self.args.runs
        pool = range(1, self.n + 1)
        rng = random.Random(9)
        if runs <= self.n:
            return rng.sample(pool, runs)
        return [rng.choice(pool) for _ in range(runs)]

    def item1(self, r):
        uids = self.uids_for_one()
        order = ["cli", "inproc"] if r % 2 else ["inproc", "cli"]
        for what in order:
            cache = self.fresh_copy("one-%s" % what)
            env = self.env(self.tri, cache)
            if what == "cli":
                walls = []
                for u in uids:
                    st, wall, out, err = must(run(
                        [self.petrel, "--offline", "flag", "add", "INBOX",
                         str(u), "flagged"], env=env),
                        "petrel flag add --offline")
                    if out.strip() != "queued":
                        raise SystemExit("petrel flag add said %r" % out)
                    walls.append(wall * 1e3)
                self.add("one_cli_ms", statistics.median(walls),
                         dict(p90=sorted(walls)[int(0.9 * len(walls)) - 1],
                              max=max(walls)))
            else:
                st, wall, out, err = must(run(
                    [self.tb, "act", "-e", "-r", str(len(uids)), self.tri,
                     "INBOX", ",".join(map(str, uids)), "flagged"],
                    env=env), "triage-bench act -e")
                f = kv(out, "act:")
                self.add("one_inproc_ms", float(f["median_ms"]),
                         {k: float(v) for k, v in f.items()})
            shutil.rmtree(cache, ignore_errors=True)

    def item2(self, r):
        order = ["cli", "inproc"] if r % 2 else ["inproc", "cli"]
        for what in order:
            cache = self.fresh_copy("bulk-%s" % what)
            env = self.env(self.tri, cache)
            if what == "cli":
                st, wall, out, err = must(run(
                    [self.petrel, "--offline", "flag", "add", "INBOX",
                     "1:%d" % self.n, "seen"], env=env),
                    "petrel flag add --offline 1:N")
                if out.strip() != "queued":
                    raise SystemExit("petrel flag add said %r" % out)
                self.add("bulk_cli_s", wall)
            else:
                st, wall, out, err = must(run(
                    [self.tb, "act", self.tri, "INBOX", "1:%d" % self.n,
                     "seen"], env=env), "triage-bench act")
                f = kv(out, "act:")
                self.add("bulk_inproc_s", float(f["median_ms"]) / 1e3,
                         {k: float(v) for k, v in f.items()})
            shutil.rmtree(cache, ignore_errors=True)

    # ---- item 3: replay ---------------------------------------------------

    def queued_copy(self, tag):
        """A synced cache with the bulk change recorded; the server reset."""
        cache = self.fresh_copy(tag)
        env = self.env(self.tri, cache)
        must(run([self.petrel, "--offline", "flag", "add", "INBOX",
                  "1:%d" % self.n, "seen"], env=env), "bulk change")
        self.clear_seen(self.tri)
        return cache, env

    def replay_petrel(self, trace=False):
        cache, env = self.queued_copy("replay")
        if trace:
            env["PETREL_TRACE"] = "1"
        st, wall, out, err = must(run([self.tb, "replay"], env=env),
                                  "triage-bench replay")
        f = kv(out, "replay:")
        if int(f["done"]) != self.n or int(f["left"]) != 0:
            raise SystemExit("replay did %s of %d (left %s)" % (
                f["done"], self.n, f["left"]))
        shutil.rmtree(cache, ignore_errors=True)
        return float(f["replay_s"]), err

    def replay_raw(self):
        self.clear_seen(self.tri)
        env = dict(os.environ, RAWIMAP_PASSWORD=self.d.users[self.tri])
        st, wall, out, err = must(run(
            [self.rawimap, "-c", self.d.ca_file, "127.0.0.1",
             str(self.d.imaps_port), self.tri, self.script_path], env=env),
            "rawimap")
        f = kv(out, "rawimap:")
        # Each STORE changed every message (CONDSTORE: one FETCH each).
        if int(f["untagged"]) < self.n:
            raise SystemExit("rawimap saw %s untagged responses, fewer than "
                             "the %d messages changed" % (f["untagged"],
                                                          self.n))
        return float(f["total"])

    def replay_sync(self):
        cache, env = self.queued_copy("sync")
        st, wall, out, err = must(run([self.petrel, "sync"], env=env),
                                  "petrel sync")
        if "replayed %d action(s)" % self.n not in out:
            raise SystemExit("petrel sync said %r" % out.strip())
        shutil.rmtree(cache, ignore_errors=True)
        return wall

    def item3_warm_up(self):
        """Take the commands petrel sends from its trace (not measured)."""
        t, err = self.replay_petrel(trace=True)
        self.script = script_from_trace(err)
        stores = [c for p in self.script for c in p
                  if c.upper().startswith("UID STORE")]
        if not stores or self.script[0] != ["@AUTH"]:
            raise SystemExit("no login or UID STORE in petrel's trace")
        self.script_path = os.path.join(self.work, "replay.script")
        with open(self.script_path, "w") as f:
            f.write("\n\n".join("\n".join(p) for p in self.script) + "\n")
        log("  replay (traced): %.3f s; petrel sent %d command(s), %d UID "
            "STORE: %s" % (t, sum(len(p) for p in self.script), len(stores),
                           "; ".join(stores[:2]) +
                           (" ..." if len(stores) > 2 else "")))
        log("  rawimap with the same commands: %.3f s" % self.replay_raw())

    def item3(self, r):
        order = ["petrel", "raw", "sync"]
        if r % 2 == 0:
            order.reverse()
        for what in order:
            if what == "petrel":
                self.add("replay_petrel_s", self.replay_petrel()[0])
            elif what == "raw":
                self.add("replay_raw_s", self.replay_raw())
            else:
                self.add("replay_sync_s", self.replay_sync())

    # ---- item 4: a second writer during a cold sync ------------------------

    def item4_warm_up(self):
        cache = self.cache_dir("cold-warm")
        st, wall, out, err = must(run(
            [self.petrel, "sync"], env=self.env(self.cold, cache)),
            "petrel sync (warm-up)")
        shutil.rmtree(cache, ignore_errors=True)
        log("  petrel sync %d (fills Dovecot's cache): %.2f s"
            % (self.big, wall))

    def item4(self, r):
        kinds = ["cache"] + ([] if self.args.no_raw_writer else ["sqlite"])
        if r % 2 == 0:
            kinds.reverse()
        for kind in kinds:
            self.item4_one(r, kind)

    def item4_one(self, r, kind):
        """kind "cache": the writer goes through cache_act_flags() (the
        figure); "sqlite": a plain connection polling for the lock every
        0.1 ms (info: how long the lock was really held)."""
        pre = "" if kind == "cache" else "raw_"
        cache = self.cache_dir("cold")
        env = self.env(self.cold, cache)
        # The writer's folder is synced first; INBOX stays cold.
        must(run([self.petrel, "sync", OTHER], env=env), "petrel sync Other")
        samples = os.path.join(self.work, "writer-%d.txt" % r)
        w = subprocess.Popen(
            [self.tb, "writer", "-i", str(self.args.interval), "-o",
             samples] + (["-s"] if kind == "sqlite" else []) +
            [self.cold, OTHER, "1"], env=env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE)
        try:
            ready = w.stdout.readline().decode()
            if not ready.startswith("ready"):
                raise SystemExit("writer did not start: %s" %
                                 w.stderr.read().decode().strip())
            res = run([self.petrel, "-v", "sync"], env=env)
        finally:
            w.stdin.close()     # EOF: the writer stops
            wout = w.stdout.read().decode()
            werr = w.stderr.read().decode()
            w.wait()
        st, wall, out, err = res
        if st != 0:
            raise SystemExit("petrel sync during the writer failed: %s"
                             % err.strip()[-300:])
        if w.returncode != 0:
            raise SystemExit("writer failed: %s" % werr.strip())
        m = re.search(r"(\d+) new", err)
        if m is None or int(m.group(1)) != self.big:
            raise SystemExit("the sync did not bring %d new messages: %s"
                             % (self.big, err.strip()[-300:]))
        waits, slow = [], []
        with open(samples) as f:
            for line in f:
                t, ms = line.split()
                waits.append(float(ms))
                if float(ms) >= 10:
                    slow.append((float(t), float(ms)))
        os.unlink(samples)
        shutil.rmtree(cache, ignore_errors=True)
        f = kv(wout, "writer:")
        waits.sort()
        self.add(pre + "wait_max_ms", waits[-1] if waits else 0.0,
                 dict(writes=len(waits), sync_s=wall,
                      busy_retries=int(f["busy_retries"]),
                      median=statistics.median(waits) if waits else 0.0,
                      slow=slow))
        self.res.setdefault(pre + "wait_all", []).extend(waits)
        log("  round %d, %s writer: sync %.2f s, %d writes, longest wait "
            "%.1f ms, busy retries %s%s" % (
                r, kind, wall, len(waits), waits[-1] if waits else 0.0,
                f["busy_retries"], "; waits >= 10 ms (s after the start: "
                "ms): " + ", ".join("%.2f: %.1f" % x for x in slow)
                if slow else ""))

    # ---- the run ----------------------------------------------------------

    def go(self):
        self.setup()
        log("Warm-up (not measured):")
        if 3 in self.items:
            self.item3_warm_up()
        if 4 in self.items:
            self.item4_warm_up()
        for r in range(1, self.args.rounds + 1):
            t = time.monotonic()
            for item, fn in ((1, self.item1), (2, self.item2),
                             (3, self.item3), (4, self.item4)):
                if item in self.items:
                    fn(r)
            log("round %d of %d done (%.1f s)" % (r, self.args.rounds,
                                                  time.monotonic() - t))

    def report(self):
        def med(name):
            v = self.res.get(name)
            return statistics.median(v) if v else None

        def runs(name, fmt):
            return " ".join(fmt % x for x in self.res.get(name, []))

        rows = []       # (item, figure, value text, target text, verdict)
        full13 = self.n >= FULL_TRIAGE
        full4 = self.big >= FULL_SYNC

        def verdict(ok, full):
            return ("PASS" if ok else "FAIL") if full else "info"

        v = med("one_inproc_ms")
        if v is not None:
            rows.append((1, "one action, in process (cache_act_flags, "
                         "median of %d)" % self.args.runs, "%.3f ms" % v,
                         "<= %g ms" % TARGET_ONE_MS,
                         verdict(v <= TARGET_ONE_MS, full13),
                         runs("one_inproc_ms", "%.3f")))
        v = med("one_cli_ms")
        if v is not None:
            rows.append((1, "one action, `petrel flag add --offline` wall "
                         "(median of %d)" % self.args.runs, "%.1f ms" % v,
                         "-", "info", runs("one_cli_ms", "%.1f")))
        v = med("bulk_inproc_s")
        if v is not None:
            rows.append((2, "%d messages, in process (cache_act_flags)"
                         % self.n, "%.3f s" % v, "<= %g s" % TARGET_BULK_S,
                         verdict(v <= TARGET_BULK_S, full13),
                         runs("bulk_inproc_s", "%.3f")))
        v = med("bulk_cli_s")
        if v is not None:
            rows.append((2, "%d messages, `petrel flag add --offline "
                         "INBOX 1:%d seen` wall" % (self.n, self.n),
                         "%.3f s" % v, "<= %g s" % TARGET_BULK_S,
                         verdict(v <= TARGET_BULK_S, full13),
                         runs("bulk_cli_s", "%.3f")))
        p, raw = med("replay_petrel_s"), med("replay_raw_s")
        if p is not None and raw is not None:
            rows.append((3, "replay of %d, in process (engine_replay)"
                         % self.n, "%.3f s" % p, "-", "",
                         runs("replay_petrel_s", "%.3f")))
            rows.append((3, "the same commands, rawimap", "%.3f s" % raw,
                         "-", "", runs("replay_raw_s", "%.3f")))
            ratio = p / raw
            rows.append((3, "replay petrel / rawimap", "%.2fx" % ratio,
                         "<= %gx" % TARGET_REPLAY_RATIO,
                         verdict(ratio <= TARGET_REPLAY_RATIO, full13), ""))
        v = med("replay_sync_s")
        if v is not None:
            rows.append((3, "`petrel sync` after the bulk change (replay "
                         "+ sync), wall", "%.3f s" % v, "-", "info",
                         runs("replay_sync_s", "%.3f")))
        allw = sorted(self.res.get("wait_all", []))
        if allw:
            mx = max(self.res["wait_max_ms"])
            p99 = allw[max(0, -(-len(allw) * 99 // 100) - 1)]
            rows.append((4, "longest wait of a write during a cold sync of "
                         "%d (%d writes)" % (self.big, len(allw)),
                         "%.1f ms" % mx, "<= %g ms" % TARGET_WAIT_MS,
                         verdict(mx <= TARGET_WAIT_MS, full4),
                         runs("wait_max_ms", "%.1f")))
            rows.append((4, "99th percentile of those waits",
                         "%.1f ms" % p99, "<= %g ms" % TARGET_WAIT_MS,
                         verdict(p99 <= TARGET_WAIT_MS, full4), ""))
            rows.append((4, "median wait", "%.2f ms" %
                         statistics.median(allw), "-", "info", ""))
            rows.append((4, "writes that waited 10 ms or more",
                         "%d" % sum(1 for x in allw if x >= 10), "-",
                         "info", ""))
            syncs = [x["sync_s"] for x in self.detail["wait_max_ms"]]
            rows.append((4, "the cold sync's wall time meanwhile",
                         "%.2f s" % statistics.median(syncs), "-", "info",
                         " ".join("%.2f" % s for s in syncs)))
        raww = sorted(self.res.get("raw_wait_all", []))
        if raww:
            rows.append((4, "lock really held: longest wait, plain SQLite "
                         "writer polling 0.1 ms", "%.1f ms" % raww[-1], "-",
                         "info", runs("raw_wait_max_ms", "%.1f")))
            rows.append((4, "the same, 99th percentile (%d writes)"
                         % len(raww), "%.1f ms" %
                         raww[max(0, -(-len(raww) * 99 // 100) - 1)], "-",
                         "info", ""))
        log("")
        log("%-4s %-66s %10s %9s %7s  %s" % ("item", "figure", "value",
                                             "target", "", "runs"))
        for item, fig, val, tgt, vd, rr in rows:
            log("%-4d %-66s %10s %9s %7s  %s" % (item, fig, val, tgt, vd,
                                                 rr))
        log("(value: the median of the rounds; item 4's waits: over all "
            "rounds' writes)")
        if not (full13 and full4):
            log("(targets apply to --sizes %d,%d; smaller sizes say info)"
                % (FULL_TRIAGE, FULL_SYNC))
        if self.args.json:
            with open(self.args.json, "w") as f:
                json.dump({"sizes": [self.n, self.big],
                           "rounds": self.args.rounds,
                           "runs": self.args.runs,
                           "interval_ms": self.args.interval,
                           "results": self.res,
                           "details": self.detail,
                           "rows": rows, "script": self.script}, f,
                          indent=1)
            log("wrote %s" % self.args.json)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="%d,%d" % (FULL_TRIAGE, FULL_SYNC),
                    help="messages for items 1-3 and for item 4's cold "
                    "sync (default %(default)s)")
    ap.add_argument("--quick", action="store_true",
                    help="a fast check: --sizes 2000,2000 --rounds 1 "
                    "--runs 50 unless given")
    ap.add_argument("--rounds", type=int, help="measured rounds, "
                    "interleaved (default 3)")
    ap.add_argument("--runs", type=int, help="single actions per round "
                    "for item 1 (default 200)")
    ap.add_argument("--interval", type=int, default=10,
                    help="ms between the writes of item 4 (default 10)")
    ap.add_argument("--no-raw-writer", action="store_true",
                    help="item 4: skip the rounds with a plain SQLite "
                    "writer (how long the lock was really held)")
    ap.add_argument("--items", default="1,2,3,4",
                    help="which items to run (default %(default)s)")
    ap.add_argument("--petrel", help="petrel binary (default BUILD/petrel)")
    ap.add_argument("--build-dir", help="meson build directory (default: "
                    "$PETREL_BUILD_DIR, build/, build-*/)")
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--dir", help="keep the Dovecot and data here")
    args = ap.parse_args()
    if args.quick and "--sizes" not in " ".join(sys.argv):
        args.sizes = "2000,2000"
    if args.rounds is None:
        args.rounds = 1 if args.quick else 3
    if args.runs is None:
        args.runs = 50 if args.quick else 200
    try:
        args.sizes = [int(x) for x in args.sizes.split(",")]
        args.items = {int(x) for x in args.items.split(",") if x}
    except ValueError:
        ap.error("--sizes and --items take comma-separated numbers")
    if len(args.sizes) != 2 or min(args.sizes) < 1:
        ap.error("--sizes takes two sizes: items 1-3, item 4")
    if not args.items <= {1, 2, 3, 4} or not args.items:
        ap.error("--items takes numbers from 1 to 4")
    if args.rounds < 1 or args.runs < 1 or args.interval < 0:
        ap.error("--rounds and --runs must be at least 1")

    b = Bench(args)
    signal.signal(signal.SIGINT, lambda s, f: sys.exit(130))
    try:
        b.go()
        b.report()
    finally:
        b.d.stop()
        b.d.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
