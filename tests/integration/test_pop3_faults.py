#!/usr/bin/env python3
"""POP3 faults a real server will not produce, through the scripted FAULT
server tests/fake/fakepop3.py: a connection dropped in the middle of RETR
and during QUIT, -ERR to QUIT, a multi-line response that never ends,
duplicate UIDLs, missing UIDLs, no UIDL at all.

After every step the same invariant is checked: each message is on the
server or in petrel's local store (byte for byte), never in neither; no
message is stored twice; and, from the server's own log, no message was
ever sent whole twice (every message is downloaded exactly once).
"""

import collections
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import pop3util  # noqa: E402
from fakepop3 import FakePop3  # noqa: E402

check = harness.Check()
EXIT_NETWORK, EXIT_PROTO = 3, 6


class Case:
    """One fake server with N messages and one petrel pointed at it."""

    def __init__(self, root, name, n, uidls=None, extra=None):
        self.dir = os.path.join(root, name)
        self.name = name
        self.fake = FakePop3(os.path.join(self.dir, "server")).start()
        self.all = {}           # Message-ID -> original bytes
        for i in range(1, n + 1):
            self.add(i, uidls[i - 1] if uidls else "auto")
        self.p = pop3util.Petrel(os.path.join(self.dir, "petrel"))
        self.extra = dict(extra or {})
        self.configure()

    def add(self, i, uidl="auto"):
        raw = pop3util.make_message(i, body_lines=10 + (i * 37) % 200,
                                    tag=self.name)
        self.fake.add(raw, uidl=uidl)
        self.all[pop3util.message_id(raw)] = raw

    def configure(self, **extra):
        self.extra.update(extra)
        self.p.write_config("pop3+insecure://alice@127.0.0.1:%d"
                            % self.fake.port, extra=self.extra)

    def sync(self):
        return self.p.run(["sync"], timeout=120)

    def retrs(self, since=0):
        """RETRs sent whole in sessions after since, by server file name."""
        c = collections.Counter()
        for e in self.fake.log():
            if "retr_done" in e and e["session"] > since:
                c[e["name"]] += 1
        return c

    def last_session(self):
        return max([e["session"] for e in self.fake.log()] or [0])

    def invariant(self, what):
        server = {pop3util.message_id(raw): raw
                  for _, raw in self.fake.messages()}
        bodies = pop3util.local_bodies(self.p)
        local_ids = [pop3util.message_id(b) for b in bodies.values()]
        local = {pop3util.message_id(b): b for b in bodies.values()}
        lost = [m for m in self.all if m not in server and m not in local]
        check(not lost, "%s: %s: every message on the server or stored "
              "locally (lost: %s)" % (self.name, what, lost[:3]))
        dup = [m for m, k in collections.Counter(local_ids).items()
               if k > 1]
        check(not dup, "%s: %s: no message stored twice (%s)"
              % (self.name, what, dup[:3]))
        bad = [m for m, b in local.items() if self.all.get(m) != b]
        check(not bad, "%s: %s: stored bytes are the server's, byte for "
              "byte (%s)" % (self.name, what, bad[:3]))
        twice = [n for n, k in self.retrs().items() if k > 1]
        check(not twice, "%s: %s: no message sent whole twice (%s)"
              % (self.name, what, twice[:3]))
        return server, local

    def stop(self):
        self.fake.stop()


def test_drop_in_retr(root):
    c = Case(root, "drop-retr", 30)
    c.fake.set_faults(drop_retr=12)
    r = c.sync()
    check.eq(r.status, EXIT_NETWORK, "drop in RETR: exit status network")
    check("closed the connection" in r.stderr,
          "drop in RETR: says the connection closed: %r" % r.stderr.strip())
    server, local = c.invariant("after the drop")
    check.eq(len(local), 11, "drop in RETR: the 11 messages received whole "
             "are kept")
    c.fake.set_faults()
    before = c.last_session()
    r = c.sync()
    check.eq(r.status, 0, "drop in RETR: the next sync succeeds (%s)"
             % r.stderr.strip())
    server, local = c.invariant("after the next sync")
    check.eq(len(local), 30, "drop in RETR: all 30 stored after the next sync")
    check.eq(sum(c.retrs(before).values()), 19, "drop in RETR: the next "
             "sync downloaded only the 19 missing")
    check.eq(len(server), 30, "drop in RETR: never deletes with the default "
             "policy")
    c.stop()


def test_stall_in_retr(root):
    c = Case(root, "stall", 12, extra={"timeout": 2})
    c.fake.set_faults(stall_retr=5)
    r = c.sync()
    check.eq(r.status, EXIT_NETWORK, "endless response: exit status network")
    check("timed out" in r.stderr, "endless response: says it timed out: %r"
          % r.stderr.strip())
    server, local = c.invariant("after the endless response")
    check.eq(len(local), 4, "endless response: messages before it are kept")
    c.fake.set_faults()
    r = c.sync()
    check.eq(r.status, 0, "endless response: the next sync succeeds")
    server, local = c.invariant("after the next sync")
    check.eq(len(local), 12, "endless response: all stored afterwards")
    c.stop()


def test_flood_in_retr(root):
    c = Case(root, "flood", 12)
    c.fake.set_faults(flood_retr=6)
    r = c.sync()
    check.eq(r.status, EXIT_PROTO, "response that never ends: exit status "
             "protocol (%s)" % r.stderr.strip())
    check("larger than allowed" in r.stderr, "response that never ends: "
          "stopped by the size bound: %r" % r.stderr.strip())
    sent = [e["flood_sent"] for e in c.fake.log() if "flood_sent" in e]
    check(sent and sent[0] < 64 * 1024 * 1024, "response that never ends: "
          "petrel gave up after %s bytes, not at the end of the stream"
          % (sent[0] if sent else None))
    server, local = c.invariant("after the endless stream")
    check.eq(len(local), 5, "response that never ends: the 5 messages "
             "before it are kept")
    c.fake.set_faults()
    r = c.sync()
    check.eq(r.status, 0, "response that never ends: the next sync succeeds")
    server, local = c.invariant("after the next sync")
    check.eq(len(local), 12, "response that never ends: all stored "
             "afterwards")
    c.stop()


def test_quit_faults(root):
    for fault, deleted in (("drop_after", 16), ("drop_before", 0),
                           ("err", 0), ("err_half", 8)):
        c = Case(root, "quit-" + fault, 16,
                 extra={"pop3_delete": "immediately"})
        c.fake.set_faults(quit=fault)
        r = c.sync()
        check(r.status != 0, "QUIT %s: the sync reports an error" % fault)
        check("QUIT" in r.stderr, "QUIT %s: the message names QUIT: %r"
              % (fault, r.stderr.strip()))
        server, local = c.invariant("after QUIT %s" % fault)
        check.eq(len(local), 16, "QUIT %s: every message stored before any "
                 "DELE" % fault)
        check.eq(16 - len(server), deleted, "QUIT %s: the server deleted %d"
                 % (fault, deleted))
        rows = pop3util.uidl_rows(c.p)
        check.eq(sum(1 for x in rows if x["server"] == 1), 0,
                 "QUIT %s: no row marked deleted without QUIT's +OK" % fault)
        c.fake.set_faults()
        before = c.last_session()
        r = c.sync()
        check.eq(r.status, 0, "QUIT %s: the next sync succeeds (%s)"
                 % (fault, r.stderr.strip()))
        server, local = c.invariant("after the next sync")
        check.eq(sum(c.retrs(before).values()), 0, "QUIT %s: the next sync "
                 "downloads nothing again" % fault)
        check.eq(len(server), 0, "QUIT %s: the next sync finishes the "
                 "deletion" % fault)
        rows = pop3util.uidl_rows(c.p)
        check(all(x["server"] in (1, 2) for x in rows), "QUIT %s: every row "
              "is deleted or gone" % fault)
        c.stop()


def test_duplicate_uidls(root):
    uidls = ["auto"] * 12
    uidls[2] = uidls[3] = uidls[6] = "SAME"
    c = Case(root, "dup-uidl", 12, uidls=uidls,
             extra={"pop3_delete": "immediately"})
    r = c.sync()
    check.eq(r.status, 0, "duplicate UIDLs: sync succeeds (%s)"
             % r.stderr.strip())
    check("same UIDL" in r.stderr, "duplicate UIDLs: says so: %r"
          % r.stderr.strip())
    server, local = c.invariant("duplicate UIDLs")
    check.eq(len(local), 12, "duplicate UIDLs: the three messages sharing a "
             "UIDL are all stored, apart")
    check.eq(sorted(pop3util.subject_of(b) for b in server.values()),
             ["dup-uidl message 3", "dup-uidl message 4",
              "dup-uidl message 7"],
             "duplicate UIDLs: only the messages sharing a UIDL stay on the "
             "server (never deleted)")
    rows = [x for x in pop3util.uidl_rows(c.p) if x["uidl"] == "SAME"]
    check.eq(sorted(x["dup"] for x in rows), [0, 1, 2],
             "duplicate UIDLs: three rows, dup 0, 1, 2")
    before = c.last_session()
    r = c.sync()
    check.eq(sum(c.retrs(before).values()), 0, "duplicate UIDLs: a second "
             "sync downloads none of them again")
    check.eq(len(pop3util.local_bodies(c.p)), 12, "duplicate UIDLs: still 12 "
             "local messages")
    c.stop()


def test_missing_uidls(root):
    uidls = ["auto"] * 10
    uidls[1] = uidls[6] = None
    c = Case(root, "missing-uidl", 10, uidls=uidls)
    r = c.sync()
    check.eq(r.status, 0, "missing UIDLs: sync succeeds (%s)"
             % r.stderr.strip())
    check("no UIDL for 2 of 10" in r.stderr, "missing UIDLs: says so: %r"
          % r.stderr.strip())
    server, local = c.invariant("missing UIDLs")
    check.eq(len(local), 10, "missing UIDLs: all 10 stored")
    rows = pop3util.uidl_rows(c.p)
    check.eq(sum(1 for x in rows if x["hashed"]), 2, "missing UIDLs: two "
             "named by a header hash")
    before = c.last_session()
    r = c.sync()
    check.eq(sum(c.retrs(before).values()), 0, "missing UIDLs: a second "
             "sync downloads none")
    c.add(11)
    before = c.last_session()
    r = c.sync()
    got = c.retrs(before)
    check.eq(sum(got.values()), 1, "missing UIDLs: a new message is "
             "downloaded alone")
    c.invariant("missing UIDLs, new message")
    c.stop()


def test_no_uidl(root):
    c = Case(root, "no-uidl", 10)
    c.fake.set_faults(no_uidl=True)
    r = c.sync()
    check.eq(r.status, 0, "no UIDL: sync succeeds (%s)" % r.stderr.strip())
    check("does not support UIDL" in r.stderr, "no UIDL: warns: %r"
          % r.stderr.strip())
    server, local = c.invariant("no UIDL")
    check.eq(len(local), 10, "no UIDL: all stored")
    before = c.last_session()
    r = c.sync()
    check("UIDL" not in r.stderr, "no UIDL: the warning is given once: %r"
          % r.stderr.strip())
    check.eq(sum(c.retrs(before).values()), 0, "no UIDL: a second sync "
             "downloads none (header hashes are stable)")
    c.add(11)
    c.add(12)
    before = c.last_session()
    c.sync()
    check.eq(sum(c.retrs(before).values()), 2, "no UIDL: two new messages "
             "are downloaded alone")
    # Deletion by header hash works too.
    c.configure(pop3_delete="immediately")
    r = c.sync()
    check.eq(r.status, 0, "no UIDL: deleting succeeds")
    server, local = c.invariant("no UIDL, deleted")
    check.eq(len(server), 0, "no UIDL: immediately empties the server")
    check.eq(len(local), 12, "no UIDL: all 12 kept locally")
    c.stop()


def main():
    root = tempfile.mkdtemp(prefix="petrel-pop3-faults-")
    try:
        test_drop_in_retr(root)
        test_stall_in_retr(root)
        test_flood_in_retr(root)
        test_quit_faults(root)
        test_duplicate_uidls(root)
        test_missing_uidls(root)
        test_no_uidl(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    check.done()


if __name__ == "__main__":
    main()
