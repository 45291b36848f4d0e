#!/usr/bin/env python3
"""COMPRESS=DEFLATE (RFC 4978) against the private Dovecot with imap_zlib:

- the session asks COMPRESS DEFLATE after login (the rawlog says so, and
  what follows on the wire is no longer readable IMAP);
- a sync with bodies gives the same cache as one with `compress = no`
  (every message, the same bytes), and receives fewer bytes on the wire
  (`sync -v` prints them);
- a live session stays compressed through IDLE: a message delivered
  elsewhere shows in `sync --watch`, and a flag set there too;
- a server without COMPRESS (no imap_zlib) is used plain.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

check = harness.Check()


def write_config(d, home, extra=""):
    path = d.petrel_config_path(home)
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    with open(path, "w") as f:
        f.write("[options]\ncheck_interval = 3600\n\n")
        f.write(d.account_section("alice") + extra)
    os.chmod(path, 0o600)


def sync(d, home):
    rc, out, err = d.run_petrel(["-v", "sync", "--bodies"], home=home)
    m = re.search(r"(\d+) bytes in, (\d+) out", err)
    return rc, (int(m.group(1)) if m else None), err


def bodies(d, home):
    """The raw bytes of every 10th message (each `show` is a process)."""
    rc, out, err = d.run_petrel(["list", "--json"], home=home)
    uids = [json.loads(l)["uid"] for l in out.splitlines()][::10]
    got = {}
    for u in uids:
        rc, o, e = d.run_petrel(["show", "--raw", "INBOX", str(u)],
                                home=home, text=False)
        got[u] = o
    return got


def compress_asked(d):
    return sum(s.get("in", b"").count(b" COMPRESS DEFLATE\r\n")
               for s in d.rawlog("alice"))


def test_zlib():
    with harness.Dovecot(zlib=True, rawlog=True) as d:
        d.seed("alice", "INBOX", count=200, seed=3)
        write_config(d, "z")
        write_config(d, "plain", "compress = no\n")
        rc, zin, err = sync(d, "z")
        check(rc == 0 and zin is not None, "a compressed sync (%s)" %
              err.strip()[-300:])
        check(compress_asked(d) == 1, "it asked COMPRESS DEFLATE")
        rc, pin, err = sync(d, "plain")
        check(rc == 0 and pin is not None, "a plain sync")
        check.eq(compress_asked(d), 1, "compress = no: not asked")
        check(zin is not None and pin is not None and zin < pin * 0.9,
              "the compressed sync receives less: %s vs %s bytes" %
              (zin, pin))
        bz, bp = bodies(d, "z"), bodies(d, "plain")
        check(len(bz) == 20 and bz == bp and all(bz.values()),
              "and caches the same messages, byte for byte (%d compared)"
              % len(bz))

        # Live: IDLE over the compressed stream.
        p = subprocess.Popen([harness.petrel_binary(), "sync", "--watch"],
                             env=d.petrel_env("z"), stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True)
        try:
            lines = []
            end = time.time() + 30
            idle = False
            while time.time() < end:
                if sum(s.get("in", b"").count(b"COMPRESS")
                       for s in d.rawlog("alice")) >= 2:
                    idle = True
                    break
                time.sleep(0.1)
            check(idle, "sync --watch compresses too")
            time.sleep(2)
            d.append("alice", "INBOX",
                     "From: a@example.org\r\nSubject: Squeezed\r\n"
                     "Message-ID: <z1@example.org>\r\n\r\nHi.\r\n")
            end = time.time() + 10
            seen = False
            os.set_blocking(p.stdout.fileno(), False)
            buf = ""
            while time.time() < end and not seen:
                try:
                    chunk = p.stdout.read()
                except (OSError, TypeError):
                    chunk = None
                if chunk:
                    buf += chunk
                for l in buf.splitlines():
                    ev = json.loads(l) if l.startswith("{") else {}
                    if (ev.get("event") == "changed" and
                            ev.get("folder") == "INBOX" and
                            ev.get("total") == 201):
                        seen = True
                time.sleep(0.1)
            check(seen, "a message delivered elsewhere arrives through the "
                  "compressed IDLE (%r)" % buf[-300:])
        finally:
            p.send_signal(signal.SIGTERM)
            rc = p.wait(timeout=10)
        check.eq(rc, 0, "and it ends cleanly")


def test_no_zlib():
    with harness.Dovecot(zlib=False, rawlog=True) as d:
        d.seed("alice", "INBOX", count=20, seed=4)
        write_config(d, "z")
        rc, zin, err = sync(d, "z")
        check(rc == 0, "a server without COMPRESS: the sync works (%s)" %
              err.strip()[-200:])
        check.eq(compress_asked(d), 0, "and COMPRESS is not asked")


def main():
    test_zlib()
    test_no_zlib()
    check.done()


if __name__ == "__main__":
    main()
