"""Drive petrel's terminal UI the way a person does: in a private tmux
server (its own socket, no user config), with send-keys, reading the
screen back with capture-pane.

    with TmuxUI(d, ["-a", "alice"]) as ui:
        ui.wait("Msgs:30")
        ui.keys("j", "Enter")
        ui.type("~s lunch")        # literal text
        print(ui.screen())
"""

import os
import shlex
import subprocess
import tempfile
import time

import harness


class TmuxUI:
    def __init__(self, d, args=(), home="default", width=100, height=30,
                 env=None, term=None):
        self.d = d
        self.dir = tempfile.mkdtemp(prefix="petrel-tmux-")
        self.sock = os.path.join(self.dir, "tmux.sock")
        self.log = os.path.join(self.dir, "petrel.log")
        e = d.petrel_env(home, env)
        e.update(PETREL_LOG=self.log, TERM="tmux-256color",
                 LANG="C.UTF-8", LC_ALL="C.UTF-8")
        script = os.path.join(self.dir, "run.sh")
        with open(script, "w") as f:
            f.write("#!/bin/sh\n")
            if term:
                # What petrel's ncurses uses (tmux still draws it).
                f.write("export TERM=%s\n" % shlex.quote(term))
            for k in ("XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME",
                      "HOME",
                      "PETREL_LOG", "LANG", "LC_ALL", "PETREL_MAILCAP",
                      "PATH", "ASAN_OPTIONS", "UBSAN_OPTIONS", "TMPDIR",
                      "EDITOR", "VISUAL",
                      "PETREL_SETUP_DNS", "PETREL_AUTOCONFIG_BASE"):
                if k in e:
                    f.write("export %s=%s\n" % (k, shlex.quote(e[k])))
            f.write("%s %s\n" % (shlex.quote(harness.petrel_binary()),
                                 " ".join(shlex.quote(a) for a in args)))
            f.write("echo PETREL-EXIT=$?\nexec sleep 600\n")
        os.chmod(script, 0o700)
        self.width, self.height = width, height
        self._tmux("-f", "/dev/null", "new-session", "-d", "-s", "ui",
                   "-x", str(width), "-y", str(height), script)
        self._tmux("set-option", "-g", "default-terminal", "tmux-256color")

    def _tmux(self, *args, check=True):
        return subprocess.run(["tmux", "-S", self.sock] + list(args),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              check=check, timeout=30,
                              env=dict(os.environ, TERM="xterm"))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self._tmux("kill-server", check=False)

    def keys(self, *keys):
        """tmux key names: "j", "Enter", "Escape", "C-t", "PageDown"."""
        for k in keys:
            # tmux reads a lone ";" as its command separator, even
            # after -l; "\\;" is the literal key.
            self._tmux("send-keys", "-t", "ui", "\\;" if k == ";" else k)
            time.sleep(0.05)

    def type(self, text):
        self._tmux("send-keys", "-t", "ui", "-l", text)
        time.sleep(0.05)

    def screen(self):
        return self._tmux("capture-pane", "-p", "-t",
                          "ui").stdout.decode("utf-8", "replace")

    def lines(self):
        return self.screen().split("\n")

    def status(self):
        """The index or pager status line ("--- petrel: ..."), or ""."""
        for line in reversed(self.screen().split("\n")):
            if "--- petrel:" in line:
                return line
        return ""

    def resize(self, width, height):
        self._tmux("resize-window", "-t", "ui", "-x", str(width), "-y",
                   str(height))
        self.width, self.height = width, height

    def wait(self, what, timeout=20):
        """Until what (a string on screen, or a predicate of the screen
        text) holds; returns the screen, or None on timeout."""
        end = time.time() + timeout
        s = ""
        while time.time() < end:
            s = self.screen()
            if (what(s) if callable(what) else what in s):
                return s
            time.sleep(0.05)
        self.last = s
        return None

    def cursor_row(self):
        """The text of the row drawn in the indicator colour (cursor)."""
        out = self._tmux("capture-pane", "-p", "-e", "-t",
                         "ui").stdout.decode("utf-8", "replace")
        for line in out.split("\n"):
            # The indicator: black on cyan (30;46), or reverse video.
            if "\x1b[30m\x1b[46m" in line or "\x1b[30;46m" in line or \
                    "\x1b[7m" in line:
                import re
                return re.sub(r"\x1b\[[0-9;]*m", "", line)
        return None
