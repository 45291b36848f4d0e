#!/usr/bin/env python3
"""Replaying local actions exactly once, against a real private Dovecot.

- transcript: the commands a replay sends, read from Dovecot's rawlog and
  checked exactly (coalesced UID sets; UID MOVE with MOVE, else UID COPY +
  UID STORE + UID EXPUNGE; never a bare EXPUNGE but for an explicit expunge
  on a server without UIDPLUS);
- lost OK: a FAULT PROXY (tests/fake/dropproxy.py) between petrel and
  Dovecot cuts the connection right after the server's OK of a UID MOVE or
  UID COPY, before petrel sees it; the next sync must leave exactly one copy;
- crash: 1,000 mixed actions queued offline, then `petrel sync` SIGKILLed
  at random moments 20 times, then one run to the end: every folder holds
  exactly the intended messages (by Message-ID, none twice, none lost) with
  the intended flags.
"""

import json
import os
import random
import re
import signal
import subprocess
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
sys.path.insert(0, os.path.join(here, "..", "fake"))
import harness  # noqa: E402
from dropproxy import DropProxy  # noqa: E402

check = harness.Check()

NO_MOVE_CAPS = ("IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT "
                "LITERAL+ CONDSTORE QRESYNC ESEARCH LIST-EXTENDED "
                "SPECIAL-USE NAMESPACE")


def run(d, args, want=0, what=None, home="default"):
    r = d.run_petrel(args, home=home)
    check(r.status == want, "%s: exit %d (got %d: %s)" % (
        what or " ".join(args), want, r.status, r.stderr.strip()[:300]))
    return r


def by_mid(d, folder):
    """{message_id: [flags, ...]} of a folder on the server."""
    out = {}
    for uid, m in d.fetch_index("alice", folder).items():
        out.setdefault(m["message_id"], []).append(
            set(m["flags"]) - {"\\Recent"})
    return out


def replay_commands(d):
    """The client's UID STORE/COPY/MOVE/EXPUNGE lines, tags stripped."""
    out = []
    for line in d.rawlog_commands("alice"):
        # "TIMESTAMP TAG COMMAND"
        parts = line.split(" ", 2)
        if len(parts) < 3:
            continue
        cmd = parts[2]
        if re.match(r"(UID (STORE|COPY|MOVE|EXPUNGE)|EXPUNGE)\b", cmd,
                    re.I):
            out.append(cmd)
    return out


def test_transcript():
    with harness.Dovecot(rawlog=True) as d:
        d.seed("alice", "INBOX", 1200)
        d.create_folder("alice", "Archive")
        d.write_petrel_config(None, account="alice")
        run(d, ["sync"], what="transcript: first sync")
        d.clear_rawlog("alice")
        # 1,000 flag changes on neighbouring UIDs, a gap, then a move.
        run(d, ["--offline", "flag", "add", "INBOX", "1:600,602:1001",
                "flagged"])
        run(d, ["--offline", "flag", "remove", "INBOX", "3,9:12", "seen"])
        run(d, ["--offline", "move", "INBOX", "1100:1102", "Archive"])
        run(d, ["--offline", "flag", "add", "INBOX", "1110", "deleted"])
        run(d, ["--offline", "expunge", "INBOX"])
        run(d, ["sync"], what="transcript: replaying sync")
        d.wait_rawlog("alice", "LOGOUT")
        check.eq(replay_commands(d), [
            "UID STORE 1:600,602:1001 +FLAGS.SILENT (\\Flagged)",
            "UID STORE 3,9:12 -FLAGS.SILENT (\\Seen)",
            "UID MOVE 1100:1102 \"Archive\"",
            "UID STORE 1110 +FLAGS.SILENT (\\Deleted)",
            "UID STORE 1110 +FLAGS.SILENT (\\Deleted)",
            "UID EXPUNGE 1110",
        ], "transcript with MOVE: coalesced sets, UID MOVE, UID EXPUNGE")

    extra = "protocol imap {\n  imap_capability = %s UIDPLUS\n}\n" % \
        NO_MOVE_CAPS
    with harness.Dovecot(rawlog=True, extra_conf=extra) as d:
        d.seed("alice", "INBOX", 20)
        d.create_folder("alice", "Archive")
        d.write_petrel_config(None, account="alice")
        run(d, ["sync"], what="no MOVE: first sync")
        d.clear_rawlog("alice")
        run(d, ["--offline", "move", "INBOX", "4:6", "Archive"])
        run(d, ["sync"], what="no MOVE: replaying sync")
        d.wait_rawlog("alice", "LOGOUT")
        check.eq(replay_commands(d), [
            "UID COPY 4:6 \"Archive\"",
            "UID STORE 4:6 +FLAGS.SILENT (\\Deleted)",
            "UID EXPUNGE 4:6",
        ], "transcript without MOVE: UID COPY + UID STORE + UID EXPUNGE")
        check(all(u not in d.fetch_index("alice", "INBOX")
                  for u in (4, 5, 6)) and
              len(d.fetch_index("alice", "Archive")) == 3,
              "no MOVE: the messages moved")

    extra = "protocol imap {\n  imap_capability = %s\n}\n" % NO_MOVE_CAPS
    with harness.Dovecot(rawlog=True, extra_conf=extra) as d:
        d.seed("alice", "INBOX", 20)
        d.create_folder("alice", "Archive")
        d.write_petrel_config(None, account="alice")
        run(d, ["sync"], what="no UIDPLUS: first sync")
        m = d.imap_client()
        m.select("INBOX")
        m.uid("STORE", "15", "+FLAGS", "(\\Deleted)")   # someone else's
        m.logout()
        d.clear_rawlog("alice")
        run(d, ["--offline", "move", "INBOX", "4", "Archive"])
        run(d, ["sync"], what="no UIDPLUS: replaying sync")
        d.wait_rawlog("alice", "LOGOUT")
        cmds = replay_commands(d)
        check.eq(cmds, ["UID COPY 4 \"Archive\"",
                        "UID STORE 4 +FLAGS.SILENT (\\Deleted)"],
                 "no UIDPLUS: a move never sends a bare EXPUNGE")
        check(15 in d.fetch_index("alice", "INBOX"),
              "no UIDPLUS: another client's \\Deleted message survives")
        d.clear_rawlog("alice")
        run(d, ["flag", "add", "INBOX", "7", "deleted"])
        run(d, ["expunge", "INBOX"])
        d.wait_rawlog("alice", "LOGOUT")
        check("EXPUNGE" in replay_commands(d),
              "no UIDPLUS: an explicit expunge sends EXPUNGE")


def test_lost_ok():
    with harness.Dovecot(plaintext_auth=True) as d:
        d.seed("alice", "INBOX", 30)
        d.create_folder("alice", "Archive")
        mids = {u: m["message_id"]
                for u, m in d.fetch_index("alice", "INBOX").items()}
        for op, uid in (("move", 5), ("copy", 6)):
            verb = "UID %s" % op.upper()
            with DropProxy(d.plain_host, d.imap_port, drop_after=verb) as p:
                home = "lost-" + op
                d.write_petrel_config(None, account="alice", tls="insecure",
                                      home=home)
                # Point the account at the proxy.
                cfg = d.petrel_config_path(home)
                with open(cfg) as f:
                    text = f.read()
                text = text.replace(":%d" % d.imap_port, ":%d" % p.port)
                with open(cfg, "w") as f:
                    f.write(text)
                run(d, ["sync"], what="lost OK: first sync", home=home)
                r = d.run_petrel([op, "INBOX", str(uid), "Archive"],
                                 home=home)
                check(r.status == 0 and r.stdout.strip() == "queued",
                      "%s whose OK is lost says queued (%d %r %r)"
                      % (op, r.status, r.stdout.strip(), r.stderr.strip()))
                check(p.dropped, "%s: the proxy cut the connection after "
                      "the server's OK" % op)
                p.drop_after = None
                r = run(d, ["sync"], what="%s: sync after the lost OK" % op,
                        home=home)
                check("found already done" in r.stdout and
                      re.search(r"\(1 found already done\)", r.stdout),
                      "%s: the replay found it done (%r)" % (op,
                                                            r.stdout.strip()))
                r = run(d, ["pending", "--json"], home=home)
                check.eq(r.stdout.strip(), "", "%s: nothing pending" % op)
            arch = by_mid(d, "Archive")
            check.eq(len(arch.get(mids[uid], [])), 1,
                     "%s with a lost OK: exactly one copy in Archive" % op)
            inbox = d.fetch_index("alice", "INBOX")
            check((uid in inbox) == (op == "copy"),
                  "%s with a lost OK: INBOX is right" % op)


# Under ASan (scripts/test.sh sets ASAN_OPTIONS) every petrel run costs a
# few times more; the crash test queues fewer actions there, as many kills.
CRASH_ACTIONS = 300 if "ASAN_OPTIONS" in os.environ else 1000


def test_crash():
    rnd = random.Random(9)
    with harness.Dovecot() as d:
        d.seed("alice", "INBOX", 600, seed=3)
        d.seed("alice", "Archive", 100, seed=4)
        d.create_folder("alice", "Later")
        d.write_petrel_config(None, account="alice")
        run(d, ["sync"], what="crash: first sync")
        start = {f: {m["message_id"]: set(m["flags"]) for m in
                     d.fetch_index("alice", f).values()}
                 for f in ("INBOX", "Archive", "Later")}
        uid2mid = {f: {u: m["message_id"] for u, m in
                       d.fetch_index("alice", f).items()}
                   for f in ("INBOX", "Archive")}
        want = {f: {k: set(v) for k, v in start[f].items()}
                for f in start}
        names = {"seen": "\\Seen", "flagged": "\\Flagged",
                 "answered": "\\Answered", "todo": "todo"}
        inbox = sorted(uid2mid["INBOX"])
        alive = set(inbox)
        n = 0
        d.stop()
        while n < CRASH_ACTIONS:
            u = rnd.choice(inbox)
            if u not in alive:
                continue
            mid = uid2mid["INBOX"][u]
            kind = rnd.random()
            if kind < 0.55:
                name = rnd.choice(list(names))
                op = rnd.choice(("add", "remove"))
                run(d, ["flag", op, "INBOX", str(u), name],
                    what="crash: queue flag %s" % n)
                fl = names[name]
                if op == "add":
                    want["INBOX"][mid].add(fl)
                else:
                    want["INBOX"][mid].discard(fl)
            elif kind < 0.75:
                dest = rnd.choice(("Archive", "Later"))
                if mid in want[dest]:
                    continue    # a copy is there: two would be intended
                run(d, ["move", "INBOX", str(u), dest],
                    what="crash: queue move %s" % n)
                want[dest][mid] = set(want["INBOX"].pop(mid))
                alive.discard(u)
            elif kind < 0.9:
                if mid in want["Later"]:
                    # A second copy of one Message-ID cannot be told
                    # apart from the first by the server check.
                    continue
                run(d, ["copy", "INBOX", str(u), "Later"],
                    what="crash: queue copy %s" % n)
                want["Later"][mid] = set(want["INBOX"][mid])
            else:
                run(d, ["flag", "add", "INBOX", str(u), "deleted"],
                    what="crash: queue delete %s" % n)
                run(d, ["expunge", "INBOX"], what="crash: queue expunge")
                want["INBOX"].pop(mid)
                alive.discard(u)
            n += 1
        r = run(d, ["pending", "--json"], what="crash: pending")
        check(len(r.stdout.splitlines()) >= CRASH_ACTIONS,
              "crash: %d+ actions queued (%d)" % (CRASH_ACTIONS,
                                                  len(r.stdout.splitlines())))
        d.start()
        env = d.petrel_env()
        kills = 0
        for i in range(200):
            p = subprocess.Popen([harness.petrel_binary(), "sync"], env=env,
                                 stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            time.sleep(rnd.uniform(0.005, 0.25))
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                kills += 1
            p.wait()
            if kills >= 20:
                break
        check(kills >= 20, "crash: petrel sync SIGKILLed %d times" % kills)
        r = run(d, ["sync"], what="crash: the sync that finishes")
        r = run(d, ["pending", "--json"])
        check.eq(r.stdout.strip(), "", "crash: nothing left pending")
        for f in ("INBOX", "Archive", "Later"):
            got = by_mid(d, f)
            dups = [k for k, v in got.items() if len(v) > 1]
            check.eq(dups, [], "crash: no duplicates in %s" % f)
            check.eq(sorted(got), sorted(want[f]),
                     "crash: %s holds exactly the intended messages" % f)
            bad = [k for k in want[f] if k in got and
                   (got[k][0] - {"\\Deleted"}) != (want[f][k] - {"\\Deleted"})]
            check.eq(bad[:5], [], "crash: %s has the intended flags" % f)


def main():
    test_transcript()
    test_lost_ok()
    test_crash()
    check.done()


if __name__ == "__main__":
    main()
