#!/usr/bin/env python3
"""The TUI's session under faults a real server will not produce, in tmux
against a FAKE server:

- a flood: while the open folder's IDLE brings hundreds of thousands of
  FETCH FLAGS a second for several seconds, keys are still answered
  (each `j` moves the cursor within a second), the flood is absorbed (the
  session reads on), and `q` quits at once afterwards;
- a drop during a replay while idling: `F` flags a message; the session
  leaves IDLE to replay it, and the server drops the connection on the
  UID STORE; the session reconnects by itself and replays it again, once:
  the server then has it, nothing is left pending.
"""
import sqlite3

import os
import sys
import tempfile
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
sys.path.insert(0, os.path.join(here, "..", "fake"))
import harness  # noqa: E402
from fakeimap import FakeIMAP  # noqa: E402
from tmuxui import TmuxUI  # noqa: E402

check = harness.Check()
FLOOD_S = 8


class Home:
    """What TmuxUI needs of a server: a private home for petrel."""

    def __init__(self, port):
        self.base = tempfile.mkdtemp(prefix="petrel-flood-")
        self.cfg = os.path.join(self.base, "config")
        with open(self.cfg, "w") as f:
            f.write("[account fake]\nimap = imap+insecure://user@127.0.0.1:"
                    "%d\npassword = fake-secret-password\n" % port)
        os.chmod(self.cfg, 0o600)

    def petrel_env(self, home, env=None):
        e = dict(os.environ, XDG_CACHE_HOME=os.path.join(self.base, "cache"),
                 XDG_CONFIG_HOME=os.path.join(self.base, "xdg"),
                 XDG_DATA_HOME=os.path.join(self.base, "data"),
                 HOME=self.base, LANG="C.UTF-8")
        e.update(env or {})
        return e


def pending(h):
    db = os.path.join(h.base, "cache", "petrel", "fake.db")
    c = sqlite3.connect(db)
    try:
        return c.execute("SELECT count(*) FROM pending").fetchone()[0]
    finally:
        c.close()


def drop_in_replay():
    with FakeIMAP(count=5, fault="drop_on_store",
                  caps="IMAP4rev1 LITERAL+ IDLE UIDPLUS") as f:
        h = Home(f.port)
        with TmuxUI(h, ["-c", h.cfg], home="x") as ui:
            s = ui.wait(lambda s: "Msgs:5" in s and "online" in s, 30)
            check(s is not None, "drop: the folder loads, online (%r)" %
                  getattr(ui, "last", "")[-300:])
            idles = f.idles
            ui.keys("F")
            end = time.time() + 30
            while time.time() < end and not f.stores:
                time.sleep(0.1)
            check(f.store_tries == 2 and len(f.stores) == 1,
                  "the STORE dropped mid-replay is sent again after the "
                  "reconnect, once (%d tries, %r)" % (f.store_tries, f.stores))
            check(f.stores and "+FLAGS" in f.stores[0].upper() and
                  "\\FLAGGED" in f.stores[0].upper(),
                  "the flag the user set (%r)" % f.stores)
            end = time.time() + 10
            while time.time() < end and pending(h) != 0:
                time.sleep(0.1)
            check(pending(h) == 0, "nothing is left pending")
            end = time.time() + 10
            while time.time() < end and f.idles <= idles:
                time.sleep(0.1)
            check(f.idles > idles, "and the session idles again (%r)" %
                  f.commands[-8:])
            ui.keys("q")
            check(ui.wait("PETREL-EXIT=0", 10) is not None, "q quits")


def main():
    drop_in_replay()
    if "--drop-only" in sys.argv:
        return check.done()
    with FakeIMAP(count=2000, fault="idle_flood_long", at=FLOOD_S,
                  caps="IMAP4rev1 LITERAL+ IDLE") as f:
        h = Home(f.port)
        with TmuxUI(h, ["-c", h.cfg], home="x") as ui:
            s = ui.wait(lambda s: "Msgs:2,000" in s or "Msgs:2000" in s, 60)
            check(s is not None, "the folder loads (%r)" %
                  getattr(ui, "last", "")[-300:])
            # Wait for the flood to begin.
            end = time.time() + 20
            while time.time() < end and not getattr(f, "flood_lines", 0):
                time.sleep(0.1)
            check(getattr(f, "flood_lines", 0) > 0, "the flood began")
            lat = []
            for _ in range(10):
                before = ui.cursor_row()
                t0 = time.monotonic()
                ui.keys("j")
                moved = None
                while time.monotonic() - t0 < 3:
                    row = ui.cursor_row()
                    if row is not None and row != before:
                        moved = time.monotonic() - t0
                        break
                    time.sleep(0.02)
                lat.append(moved if moved is not None else 99)
                time.sleep(0.2)
            lat.sort()
            print("keypress -> cursor moved during the flood: median %.0f ms, "
                  "max %.0f ms; %d flag lines sent so far" %
                  (lat[len(lat) // 2] * 1000, lat[-1] * 1000,
                   getattr(f, "flood_lines", 0)))
            # Two cores share the fake's flood, petrel's worker and tmux.
            check(lat[len(lat) // 2] < 1.0 and lat[-1] < 2.0,
                  "every j is answered during the flood (median %.0f ms, max "
                  "%.0f ms)" % (lat[len(lat) // 2] * 1000, lat[-1] * 1000))
            check(f.flood_lines >= 20000, "and the session kept reading it "
                  "(%d lines)" % f.flood_lines)
            time.sleep(max(0, FLOOD_S - 2))
            t0 = time.monotonic()
            ui.keys("q")
            check(ui.wait("PETREL-EXIT=0", 10) is not None and
                  time.monotonic() - t0 < 5, "q quits at once after it")
    check.done()


if __name__ == "__main__":
    main()
