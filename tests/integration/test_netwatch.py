#!/usr/bin/env python3
"""Reconnect at once when the machine's clock jumps or its addresses
change, against the private Dovecot, with `petrel sync --watch`:

- a wall-clock jump (simulated with libfaketime, whose offset a running
  process re-reads from a file, with the monotonic clock left alone as a
  real suspend does) makes the session give up its connection and log in
  again within seconds, with the new mail that came meanwhile synced, not
  after the 25 minutes of an IDLE nor a TCP timeout;
- while the server is down the session backs off (1 s doubling); a change
  of the machine's addresses (127.0.0.9 added to lo: still loopback)
  makes it try at once when the server is back, instead of waiting out
  the backoff;
- an address change while connected asks a NOOP and keeps a connection
  that answers.
"""

import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from watchproc import Watch, state  # noqa: E402

check = harness.Check()

FAKETIME = None
for p in ("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
          "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
          "/usr/lib/faketime/libfaketime.so.1"):
    if os.path.exists(p):
        FAKETIME = p
        break


def message(i, subject):
    return ("From: Sender <s@example.org>\nTo: alice@example.org\n"
            "Subject: %s\nMessage-ID: <nw%02d@example.org>\n"
            "Date: Thu, 01 Jan 2026 10:%02d:00 +0000\n\nBody %d.\n" %
            (subject, i, i, i))


def logins(d):
    return sum(1 for l in d.log_lines() if "imap-login" in l and
               "Login: user=<alice>" in l)


def sent(d, what):
    return sum(c.count(what) for c in
               (s.get("in", b"") for s in d.rawlog("alice")))


def wait_for(pred, timeout):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def write_config(d, home):
    path = d.petrel_config_path(home)
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    with open(path, "w") as f:
        f.write("[options]\ncheck_interval = 3600\n\n")
        f.write(d.account_section("alice"))
    os.chmod(path, 0o600)


def test_clock(d):
    check(FAKETIME is not None, "libfaketime is installed (scripts/deps.sh)")
    if FAKETIME is None:
        return
    stamp = os.path.join(d.dir, "faketime")
    with open(stamp, "w") as f:
        f.write("+0\n")
    env = {"LD_PRELOAD": FAKETIME, "FAKETIME_TIMESTAMP_FILE": stamp,
           "FAKETIME_NO_CACHE": "1", "DONT_FAKE_MONOTONIC": "1",
           # A sanitizer build wants its runtime first; faketime is.
           "ASAN_OPTIONS": (os.environ.get("ASAN_OPTIONS", "") +
                            ":verify_asan_link_order=0").lstrip(":")}
    write_config(d, "clock")
    e = d.petrel_env("clock")
    e.update(env)
    w = Watch(e)
    check(w.wait(state("online"), 30) is not None, "online (%r)" % w.lines)
    check(w.wait(lambda ev: ev.get("event") == "changed" and
                 ev.get("folder") == "INBOX", 30) is not None,
          "the first sync")
    check(wait_for(lambda: sent(d, b" IDLE\r\n") > 0, 10), "then IDLE")
    time.sleep(1)
    before = logins(d)
    d.append("alice", "INBOX", message(2, "Before the jump"))
    w.wait(lambda ev: ev.get("event") == "changed" and
           ev.get("total") == 2, 10)
    # The clock jumps two hours ahead, as after a suspend.
    with open(stamp, "w") as f:
        f.write("+2h\n")
    t0 = time.monotonic()
    ev = w.wait(state("connecting"), 10)
    check(ev is not None, "a clock jump: the session connects again, "
          "%.1f s after it (%r)" % (time.monotonic() - t0, w.lines[-3:]))
    check(w.wait(state("online"), 10) is not None, "and is online again")
    check(wait_for(lambda: logins(d) > before, 10),
          "with a new login on the server")
    d.append("alice", "INBOX", message(3, "After the jump"))
    ev = w.wait(lambda ev: ev.get("event") == "changed" and
                ev.get("total") == 3, 10)
    check(ev is not None, "and new mail shows as before (%r)" %
          w.lines[-3:])
    check.eq(w.stop()[0], 0, "SIGTERM ends it")


def ip(*args):
    return subprocess.run(["ip"] + list(args), capture_output=True,
                          text=True)


def test_address(d):
    write_config(d, "addr")
    w = Watch(d.petrel_env("addr"))
    check(w.wait(state("online"), 30) is not None, "online")
    w.wait(lambda ev: ev.get("event") == "changed", 30)
    check(wait_for(lambda: sent(d, b" IDLE\r\n") > 0, 10), "IDLE")
    time.sleep(1)

    # Connected: an address change asks a NOOP, and keeps the connection.
    noops = sent(d, b" NOOP\r\n")
    before = logins(d)
    r = ip("addr", "add", "127.0.0.9/8", "dev", "lo")
    check(r.returncode == 0, "ip addr add 127.0.0.9/8 dev lo (%s)" %
          r.stderr.strip())
    try:
        check(wait_for(lambda: sent(d, b" NOOP\r\n") > noops, 5),
              "an address change while connected: a NOOP")
        time.sleep(1)
        check.eq(logins(d), before, "and no new login (it answered)")
    finally:
        ip("addr", "del", "127.0.0.9/8", "dev", "lo")
    w.wait(lambda ev: False, 1)

    # Offline: the server goes away; the session backs off.
    d.stop()
    check(w.wait(state("offline"), 15) is not None, "the server stops: "
          "offline (%r)" % w.lines[-3:])
    # An action while the server is down: applied locally and queued.
    rc, out, err = d.run_petrel(["--offline", "flag", "add", "INBOX", "1",
                                 "flagged"], home="addr")
    check(rc == 0 and "queued" in out, "a flag set while the server is "
          "down is queued (%s%s)" % (out.strip(), err.strip()))
    # Let the backoff grow past 8 s (1, 2, 4, 8 ... with jitter).
    time.sleep(9)
    d.start()
    t0 = time.monotonic()
    r = ip("addr", "add", "127.0.0.9/8", "dev", "lo")
    try:
        ev = w.wait(state("online"), 30)
        dt = time.monotonic() - t0
        check(ev is not None and dt < 3.0, "the server is back and an "
              "address changes: online again in %.1f s, not after the "
              "backoff (%r)" % (dt, w.lines[-4:]))
    finally:
        ip("addr", "del", "127.0.0.9/8", "dev", "lo")
    ok = wait_for(lambda: any("\\Flagged" in v["flags"] for u, v in
                              d.fetch_index("alice").items() if u == 1), 10)
    check(ok, "the reconnected session replayed it: the server has it")
    check.eq(w.stop()[0], 0, "SIGTERM ends it")


def main():
    with harness.Dovecot(rawlog=True) as d:
        d.append("alice", "INBOX", message(1, "First"))
        test_clock(d)
        test_address(d)
    check.done()


if __name__ == "__main__":
    main()
