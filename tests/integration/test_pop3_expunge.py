#!/usr/bin/env python3
"""POP3 and local actions, against a real private Dovecot: a message the
user expunges locally is DELEd at the next sync (checked with poplib) and
never downloaded again; with pop3_delete_expunged = no it stays on the
server and is still never downloaded again; flags stay local.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

check = harness.Check()


def server_count(d, user="alice"):
    p = d.pop3_client(user)
    try:
        return len(p.uidl()[1])
    finally:
        p.quit()


def uids(d, home):
    r = d.run_petrel(["--offline", "list", "--json", "INBOX"], home=home)
    return sorted(json.loads(l)["uid"] for l in r.stdout.splitlines())


def round_trip(d, home, delete_expunged):
    extra = None if delete_expunged else {"pop3_delete_expunged": "no"}
    d.write_petrel_config(None, account="alice", proto="pop3", tls="pop3s",
                          home=home, extra=extra)
    before = server_count(d)
    r = d.run_petrel(["sync"], home=home)
    check.eq(r.status, 0, "%s: first sync (%s)" % (home, r.stderr.strip()))
    have = uids(d, home)
    check.eq(len(have), before, "%s: all %d downloaded" % (home, before))
    gone = have[:2]
    for u in gone:
        r = d.run_petrel(["--offline", "flag", "add", "INBOX", str(u),
                          "deleted"], home=home)
        check.eq(r.status, 0, "%s: flag deleted %d" % (home, u))
    r = d.run_petrel(["--offline", "flag", "add", "INBOX", str(have[2]),
                      "flagged"], home=home)
    r = d.run_petrel(["--offline", "expunge", "INBOX"], home=home)
    check.eq(r.status, 0, "%s: expunge (%s)" % (home, r.stderr.strip()))
    check.eq(uids(d, home), have[2:], "%s: expunged at once in the cache"
             % home)
    check.eq(server_count(d), before, "%s: the server is not touched "
             "offline" % home)
    mark = d.log_mark()
    r = d.run_petrel(["sync"], home=home)
    check.eq(r.status, 0, "%s: sync after expunge (%s)" %
             (home, r.stderr.strip()))
    rec = d.wait_logouts(1, since=mark, user="alice", proto="pop3")
    rec = rec[-1] if rec else {}
    want = before - 2 if delete_expunged else before
    check.eq(server_count(d), want, "%s: the server holds %d" % (home, want))
    check.eq(rec.get("retr", (None,))[0], 0,
             "%s: nothing downloaded again" % home)
    check.eq(uids(d, home), have[2:], "%s: the expunged stay gone" % home)
    r = d.run_petrel(["sync"], home=home)
    check.eq(uids(d, home), have[2:], "%s: and after one more sync" % home)
    r = d.run_petrel(["--offline", "list", "--json", "INBOX"], home=home)
    fl = {json.loads(l)["uid"]: json.loads(l)["flags"]
          for l in r.stdout.splitlines()}
    check("\\Flagged" in fl.get(have[2], []),
          "%s: a local flag survives the syncs" % home)


def main():
    with harness.Dovecot() as d:
        d.seed("alice", "INBOX", 6, seed=21)
        round_trip(d, "keep", delete_expunged=False)
        round_trip(d, "dele", delete_expunged=True)
    check.done()


if __name__ == "__main__":
    main()
