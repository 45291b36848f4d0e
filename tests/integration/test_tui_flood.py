#!/usr/bin/env python3
"""The TUI under a flood, in tmux against a FAKE server (Dovecot will not
flood): while the open folder's IDLE brings tens of thousands of FETCH
FLAGS a second for several seconds, keys are still answered: each `j`
moves the cursor within a second, the flood is absorbed (the session
reads on), and `q` quits at once afterwards.
"""

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


def main():
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
            check(lat[-1] < 1.0, "every j is answered within a second during "
                  "the flood (max %.0f ms)" % (lat[-1] * 1000))
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
