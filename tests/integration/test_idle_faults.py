#!/usr/bin/env python3
"""IDLE against a FAKE IMAP server that misbehaves (tests/fake/fakeimap.py),
with `petrel sync --watch`; for what Dovecot will not do (Dovecot's own
drops are in test_tui_idle.py and test_netwatch.py):

- a flood of 20,000 unsolicited FETCH FLAGS during IDLE, then a new
  message: absorbed in batches, every flag in the cache, the new message
  synced, and SIGTERM still answered at once;
- a server that drops the connection as soon as IDLE is accepted: the
  session reconnects with backoff (1 s doubling), never in a hot loop;
- a server that accepts IDLE and then goes silent: the next command's
  DONE times out (`timeout`), the session goes offline and tries again
  later, and still ends cleanly on SIGTERM.
"""

import os
import sqlite3
import sys
import tempfile
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
sys.path.insert(0, os.path.join(here, "..", "fake"))
import harness  # noqa: E402
from fakeimap import FakeIMAP  # noqa: E402
from watchproc import Watch, changed as changed_in  # noqa: E402

check = harness.Check()
PETREL = os.environ.get("PETREL", "build/petrel")
CAPS = "IMAP4rev1 LITERAL+ IDLE"


class FakeWatch(Watch):
    """sync --watch with a config of its own, for the fake server."""

    def __init__(self, port, timeout=None, check_interval=3600):
        self.dir = tempfile.mkdtemp(prefix="petrel-idlefault-")
        self.cfg = os.path.join(self.dir, "config")
        self.cache = os.path.join(self.dir, "cache")
        os.makedirs(self.cache, mode=0o700)
        lines = ["[options]", "check_interval = %d" % check_interval, "",
                 "[account fake]",
                 "imap = imap+insecure://user@127.0.0.1:%d" % port,
                 "password = fake-secret-password"]
        if timeout:
            lines.append("timeout = %d" % timeout)
        fd = os.open(self.cfg, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("\n".join(lines) + "\n")
        Watch.__init__(self, dict(os.environ, XDG_CACHE_HOME=self.cache,
                                  HOME=self.dir, PETREL_CONFIG=self.cfg),
                       petrel=PETREL)

    def db(self, sql):
        con = sqlite3.connect(os.path.join(self.cache, "petrel", "fake.db"))
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()


def changed(total):
    return changed_in("INBOX", total)


def test_flood():
    with FakeIMAP(count=20000, fault="idle_flood", caps=CAPS) as f:
        w = FakeWatch(f.port)
        check(w.wait(changed(20000), 60) is not None,
              "flood: the first sync (%r)" % w.lines[-3:])
        ev = w.wait(changed(20001), 60)
        check(ev is not None, "20,000 unsolicited FETCH during IDLE, then a "
              "new message: it is synced (%r)" % w.lines[-3:])
        rc, dt = w.stop()
        check(rc == 0 and dt < 5, "and SIGTERM is answered at once "
              "(%s, %.1f s)" % (rc, dt))
        flagged = w.db("SELECT count(*) FROM messages WHERE flags & 4")
        check.eq(flagged[0][0], 20001, "every flag change is in the cache")


def test_drop():
    with FakeIMAP(count=5, fault="idle_drop", caps=CAPS) as f:
        w = FakeWatch(f.port)
        check(w.wait(changed(5), 30) is not None, "drop: the first sync")
        t0 = time.monotonic()
        time.sleep(8)
        n = f.idles
        rc, dt = w.stop()
        check(2 <= n <= 6, "IDLE dropped at once, again and again: %d IDLEs "
              "in %.0f s (backoff 1, 2, 4 s: no hot loop)" %
              (n, time.monotonic() - t0))
        check.eq(rc, 0, "and it ends with 0 on SIGTERM")


def test_silent():
    with FakeIMAP(count=5, fault="idle_silent", caps=CAPS) as f:
        w = FakeWatch(f.port, timeout=2, check_interval=5)
        check(w.wait(changed(5), 30) is not None, "silent: the first sync")
        ev = w.wait(lambda ev: ev.get("event") == "offline", 20)
        check(ev is not None, "a server silent after IDLE: the periodic "
              "sync's DONE times out and the session goes offline (%r)" %
              w.lines[-3:])
        ev = w.wait(lambda ev: ev.get("event") == "connecting", 15)
        check(ev is not None, "and it tries again by itself")
        rc, dt = w.stop()
        check(rc == 0 and dt < 5, "SIGTERM ends it at once (%s, %.1f s)" %
              (rc, dt))


def main():
    test_flood()
    test_drop()
    test_silent()
    check.done()


if __name__ == "__main__":
    main()
