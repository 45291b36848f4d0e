#!/usr/bin/env python3
"""Engine sessions (engine.h) against a real private Dovecot, driven by
tests/tools/session-probe the way the TUI will drive them: one login and one
password request for a whole run of commands; password_command's stderr in
the error message, not on the terminal; a stop in the middle of a cold sync
ends at once and leaves a cache the next sync completes.
"""

import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

check = harness.Check()


def probe(d, steps, timeout=120):
    exe = harness._find_built(os.path.join("tests", "tools",
                                           "session-probe"))
    r = subprocess.run([exe, d.petrel_config_path(), "alice"] + steps,
                       env=d.petrel_env(), capture_output=True, text=True,
                       timeout=timeout)
    events = [json.loads(l) for l in r.stdout.splitlines() if l.strip()]
    return r, events


def cached_uids(d, folder):
    r = d.run_petrel(["list", "--json", folder])
    return [json.loads(l)["uid"] for l in r.stdout.splitlines()]


def test_one_login(d, home):
    counter = os.path.join(home, "pwcount")
    d.write_petrel_config(None, account="alice", password=False, extra={
        "password_command": "echo x >> %s; echo %s" % (counter,
                                                       d.users["alice"])})
    mark = d.log_mark()
    r, ev = probe(d, ["sync", "body", "INBOX", "3", "check", "replay",
                      "sync", "INBOX"])
    check.eq(r.returncode, 0, "probe exits 0 (%s)" % r.stderr.strip()[:300])
    done = [e for e in ev if e.get("event") == "done"]
    check.eq([e["rv"] for e in done], [0, 0, 0, 0, 0],
             "five commands done (%r)" % [e["error"] for e in done])
    check.eq(ev[-1], {"password_requests": 1}, "the password asked once")
    with open(counter) as f:
        check.eq(len(f.read().splitlines()), 1, "password_command ran once")
    states = [e["state"] for e in ev if e.get("event") == "state"]
    check.eq(states, [1, 2], "connecting, then online for good")
    folders = {e["folder"] for e in ev if e.get("event") == "folder"}
    check("INBOX" in folders and "Archive" in folders,
          "folder-changed events for INBOX and Archive (%r)" % folders)
    logins = d.wait_logouts(1, since=mark, user="alice", proto="imap")
    time.sleep(0.3)
    logins = d.logouts(since=mark, user="alice", proto="imap")
    check.eq(len(logins), 1, "one IMAP login for the whole run")
    check.eq(len(cached_uids(d, "INBOX")), 300, "INBOX cached")


def test_password_stderr(d):
    d.write_petrel_config(None, account="alice", password=False, extra={
        "password_command": "echo 'gpg: decryption failed: No secret key'"
                            " >&2; exit 2"})
    r, ev = probe(d, ["sync"])
    done = [e for e in ev if e.get("event") == "done"]
    check(len(done) == 1 and done[0]["rv"] == -1 and
          "No secret key" in done[0]["error"] and
          "exit status 2" in done[0]["error"],
          "the error carries password_command's stderr (%r)" % done)
    check("No secret key" not in r.stderr,
          "nothing of it reached stderr (%r)" % r.stderr)
    # The same through petrel itself.
    p = d.run_petrel(["sync"])
    check(p.status != 0 and "No secret key" in p.stderr and
          p.stderr.count("No secret key") == 1,
          "petrel sync: one line with the reason (%r)" % p.stderr)


def test_stop(d):
    d.write_petrel_config(None, account="alice")
    r, ev = probe(d, ["stop-after-progress"], timeout=60)
    stopped = [e["stopped_ms"] for e in ev if "stopped_ms" in e]
    check(len(stopped) == 1 and stopped[0] < 2000,
          "a stop mid-sync returns at once (%r ms)" % stopped)
    p = d.run_petrel(["sync"])
    check.eq(p.status, 0, "the next sync completes (%s)" % p.stderr.strip())
    check.eq(len(cached_uids(d, "Big")), 20000, "all of Big cached")


def main():
    with harness.Dovecot(rawlog=False) as d:
        d.seed("alice", "INBOX", 300)
        d.seed("alice", "Archive", 5, seed=2)
        home = d.petrel_home()["base"]
        test_one_login(d, home)
        test_password_stderr(d)
        d.seed("alice", "Big", 20000, seed=3, manifest=False)
        test_stop(d)
    check.done()


if __name__ == "__main__":
    main()
