#!/usr/bin/env python3
"""Engine sessions (engine.h) against a real private Dovecot, driven by
tests/tools/session-probe the way the TUI will drive them: one login and one
password request for a whole run of commands; password_command's stderr in
the error message, not on the terminal; a stop in the middle of a cold sync
ends at once and leaves a cache the next sync completes; a long body asked
for the pager's way has its head told of first, and none is left after.
"""

import json
import os
import shutil
import sqlite3
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


def probe_paused(d, steps, between):
    """Run the probe to its pause, call between(), let it finish."""
    exe = harness._find_built(os.path.join("tests", "tools",
                                           "session-probe"))
    p = subprocess.Popen([exe, d.petrel_config_path(), "alice"] + steps,
                         env=d.petrel_env(), stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    events = []
    for line in p.stdout:
        events.append(json.loads(line))
        if events[-1].get("paused"):
            break
    between()
    p.stdin.write("go\n")
    p.stdin.flush()
    out, err = p.communicate(timeout=120)
    events += [json.loads(l) for l in out.splitlines() if l.strip()]
    return p.returncode, events, err


def test_untagged(d):
    """Another client flags and expunges while the session sits in INBOX:
    the NOOP of a check brings FETCH and EXPUNGE (by sequence number) and
    both reach the cache, with no sync (nothing new to fetch)."""
    d.write_petrel_config(None, account="alice")
    before = cached_uids(d, "INBOX")
    victim, flagged = before[6], before[4]

    def other_client():
        m = d.imap_client()
        m.select("INBOX")
        m.uid("STORE", str(flagged), "+FLAGS", "(\\Flagged)")
        m.uid("STORE", str(victim), "+FLAGS", "(\\Deleted)")
        m.uid("EXPUNGE", str(victim))
        m.logout()

    mark = d.log_mark()
    rc, ev, err = probe_paused(d, ["sync", "INBOX", "check", "pause",
                                   "check"], other_client)
    check.eq(rc, 0, "probe with a pause exits 0 (%s)" % err.strip()[:200])
    done = [e for e in ev if e.get("event") == "done"]
    check.eq([e["rv"] for e in done], [0, 0, 0], "sync, check, check done")
    after = cached_uids(d, "INBOX")
    check(victim not in after and len(after) == len(before) - 1,
          "the EXPUNGE by sequence number removed exactly UID %d" % victim)
    r = d.run_petrel(["list", "--json", "INBOX"])
    fl = {json.loads(l)["uid"]: json.loads(l)["flags"]
          for l in r.stdout.splitlines()}
    check("\\Flagged" in fl.get(flagged, []),
          "the unsolicited FETCH FLAGS reached the cache (%r)" %
          fl.get(flagged))
    check(any(e.get("event") == "folder" and e.get("folder") == "INBOX"
              for e in ev[-6:]), "a folder-changed event after the check")
    time.sleep(0.3)
    recs = d.logouts(since=mark, user="alice", proto="imap")
    check.eq(len(recs), 2, "two IMAP sessions: the probe's one and the "
             "other client's")

    # A new message: EXISTS, and the check's sync of INBOX fetches it.
    def deliver():
        d.append("alice", "INBOX", "From: x@example.org\nSubject: live\n"
                 "Message-ID: <live@x>\n\nnew\n")

    rc, ev, err = probe_paused(d, ["sync", "INBOX", "check", "pause",
                                   "check"], deliver)
    check.eq(rc, 0, "second probe exits 0 (%s)" % err.strip()[:200])
    r = d.run_petrel(["list", "--json", "INBOX"])
    subs = [json.loads(l)["subject"] for l in r.stdout.splitlines()]
    check("live" in subs, "EXISTS during the check fetched the new message")


def test_stop(d):
    d.write_petrel_config(None, account="alice")
    r, ev = probe(d, ["stop-after-progress"], timeout=60)
    stopped = [e["stopped_ms"] for e in ev if "stopped_ms" in e]
    check(len(stopped) == 1 and stopped[0] < 2000,
          "a stop mid-sync returns at once (%r ms)" % stopped)
    p = d.run_petrel(["sync"])
    check.eq(p.status, 0, "the next sync completes (%s)" % p.stderr.strip())
    check.eq(len(cached_uids(d, "Big")), 20000, "all of Big cached")


def test_body_during_sync(d):
    """A body asked for while a cold sync of a big folder runs is fetched
    between two chunks of the sync, not after all of it."""
    d.write_petrel_config(None, account="alice")
    shutil.rmtree(d.petrel_home()["cache"])
    d.petrel_home()     # an empty cache directory again
    r, ev = probe(d, ["body-during-sync", "Big", "20000"], timeout=120)
    check.eq(r.returncode, 0, "sync and body both done (%s)" %
             r.stderr.strip()[:300])
    res = [e for e in ev if "body_first" in e]
    check(len(res) == 1 and res[0]["body_rv"] == 0 and res[0]["body_first"],
          "the body came before the end of the sync (%r)" % res)
    body_at = next((i for i, e in enumerate(ev) if e.get("event") == "done"),
                   len(ev))
    later = [e for e in ev[body_at:] if e.get("event") == "progress"]
    check(len(later) > 0, "the sync went on after the body (%d progress "
          "events after it)" % len(later))
    check.eq(len(cached_uids(d, "Big")), 20000, "all of Big cached after it")
    r = d.run_petrel(["show", "--offline", "Big", "20000"])
    check.eq(r.status, 0, "the body reads offline (%s)" % r.stderr.strip())


def heads_left(d):
    cache = d.petrel_home()["cache"]
    n = 0
    for root, _, files in os.walk(cache):
        for f in files:
            if f.endswith(".bodies.db"):
                db = sqlite3.connect(os.path.join(root, f))
                n += db.execute("SELECT count(*) FROM heads").fetchone()[0]
                db.close()
    return n


def test_body_head(d):
    d.write_petrel_config(None, account="alice")
    body = "".join("long line %06d, padded out to sixty-odd bytes or so\n" %
                   i for i in range(40000))
    d.create_folder("alice", "Long")
    d.append("alice", "Long", "From: a@example.org\nSubject: long\n"
             "Message-ID: <long@example.org>\n\n" + body)
    d.append("alice", "Long", "From: a@example.org\nSubject: short\n"
             "Message-ID: <short@example.org>\n\nshort\n")
    r, ev = probe(d, ["sync", "Long", "body-head", "Long", "1",
                      "body-head", "Long", "2"])
    check.eq(r.returncode, 0, "probe exits 0 (%s)" % r.stderr.strip()[:300])
    kinds = [(e["event"], e.get("id")) for e in ev
             if e.get("event") in ("head", "done")]
    ids = [i for k, i in kinds if k == "done"]
    check(len(ids) == 3 and kinds == [("done", ids[0]), ("head", ids[1]),
                                      ("done", ids[1]), ("done", ids[2])],
          "the long body's head is told of before its done, the short's "
          "not at all (%r)" % kinds)
    check.eq(heads_left(d), 0, "no head is left in the cache")
    r = d.run_petrel(["--offline", "show", "--raw", "Long", "1"])
    check(r.status == 0 and "long line 039999" in r.stdout,
          "the whole long body is cached (%s)" % r.stderr.strip()[:200])


def main():
    with harness.Dovecot(rawlog=False) as d:
        d.seed("alice", "INBOX", 300)
        d.seed("alice", "Archive", 5, seed=2)
        home = d.petrel_home()["base"]
        test_one_login(d, home)
        test_password_stderr(d)
        test_untagged(d)
        d.seed("alice", "Big", 20000, seed=3, manifest=False)
        test_stop(d)
        test_body_during_sync(d)
        test_body_head(d)
    check.done()


if __name__ == "__main__":
    main()
