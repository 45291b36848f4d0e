#!/usr/bin/env python3
"""Sending benchmark (issue 13), against a private Postfix in front of a
private Dovecot (loopback; submission with STARTTLS and AUTH PLAIN), in
one run:

  1  `petrel send` of --count messages (default 1,000), one process each
     (outbox commit, STARTTLS, AUTH, the transaction, APPEND to Sent):
     messages per second, and per message at the median and p99;
     and again with record = off (no IMAP login, no APPEND);
  2  the same messages through a minimal client for reference: Python's
     smtplib, one connection each (STARTTLS, AUTH, the transaction), with
     no outbox and no filing; the ratio of the two;
  3  the TUI: `m`, a scripted editor, `y`, --tui-rounds times in tmux;
     the time from `y` to the compose screen closing, as petrel logs it
     (the send itself runs behind it, in the account's session): median
     and max, target <= 50 ms.

Every message is checked to have arrived (bob's INBOX count).
"""

import argparse
import os
import smtplib
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(SRC, "tests", "integration"))
import harness  # noqa: E402
from tmuxui import TmuxUI  # noqa: E402

TARGET_Y_MS = 50.0

EDITOR = """#!/bin/sh
# Fill in a recipient and a subject; keep the rest.
sed -i -e 's/^To: $/To: bob@example.test/' \\
    -e 's/^Subject: $/Subject: bench/' "$1"
"""


def log(msg):
    print(msg, flush=True)


def message(i):
    return ("From: Alice <alice@example.test>\nTo: bob@example.test\n"
            "Subject: bench %d\n\n%s\n" % (i, "line of text\n" * 40))


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(len(v) * p))]


def bench_petrel(d, pf, n):
    times = []
    t0 = time.monotonic()
    for i in range(n):
        t = time.monotonic()
        r = d.run_petrel(["send", "bob@example.test"], input=message(i))
        times.append(time.monotonic() - t)
        if r.status != 0 or r.stdout.strip() != "sent":
            sys.exit("petrel send %d: %d %r %r" % (i, r.status, r.stdout,
                                                   r.stderr))
    return time.monotonic() - t0, times


def bench_smtplib(pf, n):
    times = []
    ctx = pf.ssl_context()
    t0 = time.monotonic()
    for i in range(n):
        t = time.monotonic()
        s = smtplib.SMTP("127.0.0.1", pf.submission_port, timeout=30)
        s.starttls(context=ctx)
        s.login("alice", pf.users["alice"])
        s.sendmail("alice@example.test", ["bob@example.test"],
                   message(i).replace("\n", "\r\n").encode())
        s.quit()
        times.append(time.monotonic() - t)
    return time.monotonic() - t0, times


def bench_tui(d, rounds):
    ed = os.path.join(d.dir, "bench-editor.sh")
    with open(ed, "w") as f:
        f.write(EDITOR)
    os.chmod(ed, 0o755)
    # -v: the TUI logs its timing at the info level.
    with TmuxUI(d, args=("-v",), env={"EDITOR": ed}) as ui:
        if ui.wait("--- petrel:") is None:
            sys.exit("the TUI did not start")
        for _ in range(rounds):
            ui.keys("m")
            if ui.wait("y:send") is None:
                sys.exit("no compose screen: %r" % ui.last[-400:])
            ui.keys("y")
            if ui.wait("Sending in the background") is None:
                sys.exit("not sent: %r" % ui.last[-400:])
        time.sleep(1)
        ms = []
        with open(ui.log, errors="replace") as f:
            for line in f:
                if "compose: y to the screen closed in" in line:
                    ms.append(float(line.rsplit(" in ", 1)[1].split()[0]))
    return ms


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--tui-rounds", type=int, default=20)
    a = ap.parse_args()
    with harness.Dovecot(smtp=True) as d, harness.Postfix(d) as pf:
        d.create_folder("alice", "Sent")
        d.write_petrel_config(None, account="alice", extra={
            "smtp": "smtp://alice@127.0.0.1:%d" % pf.submission_port,
            "from": "Alice <alice@example.test>"})
        d.run_petrel(["sync"])
        log("send-bench: %d messages each way, Postfix on 127.0.0.1:%d"
            % (a.count, pf.submission_port))
        pt, ptimes = bench_petrel(d, pf, a.count)
        d.write_petrel_config(None, account="alice", extra={
            "smtp": "smtp://alice@127.0.0.1:%d" % pf.submission_port,
            "from": "Alice <alice@example.test>", "record": "off"})
        ot, otimes = bench_petrel(d, pf, a.count)
        d.write_petrel_config(None, account="alice", extra={
            "smtp": "smtp://alice@127.0.0.1:%d" % pf.submission_port,
            "from": "Alice <alice@example.test>"})
        st, stimes = bench_smtplib(pf, a.count)
        got = pf.wait_delivered("bob", 3 * a.count, timeout=120)
        log("")
        log("%-28s %10s %10s %10s %10s" % ("", "total s", "msg/s",
                                          "median ms", "p99 ms"))
        for name, t, v in (("petrel send (+outbox, Sent)", pt, ptimes),
                           ("petrel send, record = off", ot, otimes),
                           ("smtplib (reference)", st, stimes)):
            log("%-28s %10.2f %10.1f %10.1f %10.1f" % (
                name, t, len(v) / t, statistics.median(v) * 1e3,
                pct(v, 0.99) * 1e3))
        log("ratio petrel/smtplib: %.2f (record = off: %.2f); bob's INBOX "
            "holds %d of %d" % (pt / st, ot / st, got, 3 * a.count))
        sent = len(d.fetch_index("alice", "Sent"))
        log("alice's Sent holds %d (one per petrel send)" % sent)
        ms = bench_tui(d, a.tui_rounds)
        if ms:
            log("TUI y -> compose screen closed: median %.2f ms, max %.2f "
                "ms over %d: %s (target <= %.0f ms)" % (
                    statistics.median(ms), max(ms), len(ms),
                    "PASS" if max(ms) <= TARGET_Y_MS else "FAIL",
                    TARGET_Y_MS))
        else:
            log("TUI: no timing in the log")


if __name__ == "__main__":
    main()
