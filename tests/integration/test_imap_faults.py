#!/usr/bin/env python3
"""petrel against a FAKE IMAP server that misbehaves (tests/fake/fakeimap.py).

Only for faults a real server will not produce; everything else is tested
against Dovecot. Each case checks the exit status (its error class), that
the error is one line, that petrel did not die of a signal, and where it
matters that the cache stayed consistent and the next sync resumes.
"""

import os
import sqlite3
import subprocess
import sys
import tempfile
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
sys.path.insert(0, os.path.join(here, "..", "fake"))
import harness  # noqa: E402
from fakeimap import FakeIMAP  # noqa: E402

check = harness.Check()
PETREL = os.environ.get("PETREL", "build/petrel")


class Home:
    """A private XDG home with a config pointing at the fake server."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="petrel-fake-")
        self.cfg = os.path.join(self.dir, "config")
        self.cache = os.path.join(self.dir, "cache")
        os.makedirs(self.cache, mode=0o700)

    def config(self, port, scheme="imap+insecure", timeout=None):
        lines = ["[account fake]",
                 "imap = %s://user@127.0.0.1:%d" % (scheme, port),
                 "password = fake-secret-password"]
        if timeout:
            lines.append("timeout = %d" % timeout)
        fd = os.open(self.cfg, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("\n".join(lines) + "\n")

    def run(self, args, env=None, timeout=120):
        e = dict(os.environ, XDG_CACHE_HOME=self.cache, HOME=self.dir,
                 PETREL_CONFIG=self.cfg)
        if env:
            e.update(env)
        p = subprocess.run([PETREL] + args, env=e, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout)
        return p.returncode, p.stdout.decode(errors="replace"), \
            p.stderr.decode(errors="replace")

    def db(self, sql):
        con = sqlite3.connect(os.path.join(self.cache, "petrel", "fake.db"))
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()


def one_line(err):
    return len(err.strip().splitlines()) == 1


def case(fault, want_status, want_text, count=10, at=5,
         caps="IMAP4rev1 LITERAL+", **kw):
    h = Home()
    with FakeIMAP(count=count, fault=fault, at=at, caps=caps) as f:
        h.config(f.port, **{k: v for k, v in kw.items()
                            if k in ("scheme", "timeout")})
        t = time.monotonic()
        st, out, err = h.run(["sync"])
        took = time.monotonic() - t
    check(st == want_status and one_line(err) and
          want_text.lower() in err.lower(),
          "%s: exit %d and one line naming it (got %d: %s)"
          % (fault, want_status, st, err.strip()[:200]))
    return h, took


def main():
    case("garbage_greeting", 6, "does not greet like an IMAP server")
    case("literal_overflow", 6, "literal")
    case("deep_nesting", 6, "nest")
    case("long_line", 6, "too long")
    case("wrong_tag", 6, "never sent")
    case("missing_uid", 6, "without UID")
    case("select_no", 6, "cannot open folder")
    case("bye_after_login", 3, "going down for maintenance")
    case("preauth", 5, "PREAUTH", scheme="imap")
    case("starttls_inject", 5, "sent data after STARTTLS", scheme="imap",
         caps="IMAP4rev1 STARTTLS")
    _, took = case("silence_in_fetch", 3, "timed out", count=50, at=10,
                   timeout=2)
    check(took < 20, "a silent server times out after the configured "
          "timeout (took %.1f s)" % took)

    # A server without STARTTLS when the account requires it.
    h = Home()
    with FakeIMAP(count=3) as f:
        h.config(f.port, scheme="imap")
        st, _, err = h.run(["sync"])
        check(st == 5 and "STARTTLS" in err and one_line(err) and
              not any(c.upper().startswith(("LOGIN", "AUTHENTICATE"))
                      for c in (x.partition(" ")[2] for x in f.commands)),
              "imap:// without STARTTLS offered: exit 5, no login sent "
              "(%s)" % err.strip())

    # The password never shows in a protocol trace.
    h = Home()
    with FakeIMAP(count=3) as f:
        h.config(f.port)
        st, out, err = h.run(["sync"], env={"PETREL_TRACE": "1"})
        check(st == 0 and "<redacted>" in err and
              "LOGIN \"user\"" not in err,
              "trace shows the login line redacted")
        check("fake-secret-password" not in err + out,
              "the password is not in the trace")

    # A connection cut inside a literal half way through a big folder:
    # every message that arrived whole is kept (UIDs 1..4499), the folder is
    # not complete, and the next sync fetches only the rest.
    h = Home()
    with FakeIMAP(count=5000, fault="drop_in_literal", at=4500) as f:
        h.config(f.port)
        st, _, err = h.run(["sync"])
    check(st == 3 and one_line(err),
          "cut inside a literal: exit 3, one line (%s)" % err.strip())
    n, = h.db("SELECT COUNT(*) FROM messages")[0]
    row = h.db("SELECT complete, synced_uid FROM folders WHERE name='INBOX'")
    check(n == 4499 and row == [(0, 4499)],
          "the messages received whole are kept, the folder is not "
          "complete (%d cached, %r)" % (n, row))
    with FakeIMAP(count=5000) as f:
        h.config(f.port)
        st, _, err = h.run(["sync"])
        fetches = [c for c in f.commands if "UID FETCH" in c.upper() and
                   "BODY" in c.upper()]
    check(st == 0 and fetches and " 4500:*" in fetches[0],
          "the next sync resumes at UID 4500 (%r)" % fetches[:1])
    n, = h.db("SELECT COUNT(*) FROM messages")[0]
    row = h.db("SELECT complete, synced_uid FROM folders WHERE name='INBOX'")
    check(n == 5000 and row == [(1, 5000)], "then the folder is complete")

    check.done()


if __name__ == "__main__":
    main()
