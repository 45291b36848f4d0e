#!/usr/bin/env python3
"""POP3 and local actions, against a real private Dovecot: a message the
user expunges locally is DELEd at the next sync (checked with poplib) and
never downloaded again; with pop3_delete_expunged = no it stays on the
server and is still never downloaded again; flags stay local.

Then the other ways a message leaves INBOX: a move to a local folder is
saving and deleting (the copy keeps the body, so the original is DELEd),
a copy deletes nothing, and with pop3_headers_only a message whose body
was never stored is not DELEd, whether expunged or moved.
"""

import json
import os
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

check = harness.Check()


def server_uidls(d, user="alice"):
    """The maildrop's UIDLs, through poplib (independent of petrel)."""
    p = d.pop3_client(user)
    try:
        return [l.decode().split()[1] for l in p.uidl()[1]]
    finally:
        p.quit()


def server_originals(d, user):
    """{uidl: bytes} of the maildrop, through poplib."""
    p = d.pop3_client(user)
    try:
        out = {}
        for line in p.uidl()[1]:
            n, uidl = line.decode().split()
            resp, lines, octets = p.retr(int(n))
            out[uidl] = b"\r\n".join(lines) + b"\r\n"
        return out
    finally:
        p.quit()


def server_count(d, user="alice"):
    return len(server_uidls(d, user))


def cache_db(d, home, account):
    return os.path.join(d.petrel_home(home)["cache"], "petrel",
                        account + ".db")


def uidl_rows(d, home, account="alice"):
    """{local INBOX UID at download: row} of the cache's pop3_uidl."""
    db = sqlite3.connect("file:%s?mode=ro" % cache_db(d, home, account),
                         uri=True)
    db.row_factory = sqlite3.Row
    try:
        return {r["uid"]: dict(r) for r in db.execute(
            "SELECT * FROM pop3_uidl ORDER BY id")}
    finally:
        db.close()


def add_local_folder(d, home, account, name):
    """A local folder (remote NULL): no petrel command makes one yet."""
    db = sqlite3.connect(cache_db(d, home, account))
    with db:
        db.execute("INSERT INTO folders(name, subscribed) VALUES(?, 1)",
                   (name,))
    db.close()


def uids(d, home, folder="INBOX"):
    r = d.run_petrel(["--offline", "list", "--json", folder], home=home)
    return sorted(json.loads(l)["uid"] for l in r.stdout.splitlines())


def sync_counted(d, home, user):
    """A sync; returns (result, Dovecot's logout record of its session)."""
    mark = d.log_mark()
    r = d.run_petrel(["sync"], home=home)
    rec = d.wait_logouts(1, since=mark, user=user, proto="pop3")
    return r, (rec[-1] if rec else {})


def round_trip(d, home, delete_expunged):
    extra = None if delete_expunged else {"pop3_delete_expunged": "no"}
    d.write_petrel_config(None, account="alice", proto="pop3", tls="pop3s",
                          home=home, extra=extra)
    before = server_uidls(d)
    r = d.run_petrel(["sync"], home=home)
    check.eq(r.status, 0, "%s: first sync (%s)" % (home, r.stderr.strip()))
    have = uids(d, home)
    check.eq(len(have), len(before), "%s: all %d downloaded"
             % (home, len(before)))
    gone = have[:2]
    gone_uidls = set(uidl_rows(d, home)[u]["uidl"] for u in gone)
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
    check.eq(server_uidls(d), before, "%s: the server is not touched "
             "offline" % home)
    r, rec = sync_counted(d, home, "alice")
    check.eq(r.status, 0, "%s: sync after expunge (%s)" %
             (home, r.stderr.strip()))
    after = server_uidls(d)
    if delete_expunged:
        check.eq(set(before) - set(after), gone_uidls,
                 "%s: exactly the two expunged are gone from the server"
                 % home)
        check.eq(rec.get("del", (None,))[0], 2, "%s: 2 DELE in Dovecot's "
                 "log" % home)
        rows = uidl_rows(d, home)
        check.eq(sorted(u for u, x in rows.items() if x["server"] == 1),
                 gone, "%s: their rows say deleted by petrel (QUIT +OK)"
                 % home)
    else:
        check.eq(after, before, "%s: the server keeps them all" % home)
        check.eq(rec.get("del", (None,))[0], 0, "%s: no DELE" % home)
    check.eq(rec.get("retr", (None,))[0], 0,
             "%s: nothing downloaded again" % home)
    check.eq(uids(d, home), have[2:], "%s: the expunged stay gone" % home)
    r, rec = sync_counted(d, home, "alice")
    check.eq((r.status, rec.get("retr", (None,))[0],
              rec.get("del", (None,))[0]), (0, 0, 0),
             "%s: one more sync: nothing downloaded, nothing deleted" % home)
    check.eq(uids(d, home), have[2:], "%s: and the expunged stay gone"
             % home)
    r = d.run_petrel(["--offline", "list", "--json", "INBOX"], home=home)
    fl = {json.loads(l)["uid"]: json.loads(l)["flags"]
          for l in r.stdout.splitlines()}
    check("\\Flagged" in fl.get(have[2], []),
          "%s: a local flag survives the syncs" % home)


def test_move_copy(d):
    home, user = "move", "bob"
    d.seed(user, "INBOX", 5, seed=22)
    originals = server_originals(d, user)
    d.write_petrel_config(None, account=user, proto="pop3", tls="pop3s",
                          home=home)
    r = d.run_petrel(["sync"], home=home)
    check.eq(r.status, 0, "move: first sync (%s)" % r.stderr.strip())
    add_local_folder(d, home, user, "Saved")
    rows = uidl_rows(d, home, user)
    r = d.run_petrel(["move", "INBOX", "1", "Saved"], home=home)
    check.eq((r.status, r.stdout.strip()), (0, "done"),
             "move: INBOX 1 to the local folder (%s)" % r.stderr.strip())
    r = d.run_petrel(["copy", "INBOX", "2", "Saved"], home=home)
    check.eq((r.status, r.stdout.strip()), (0, "done"),
             "copy: INBOX 2 to the local folder (%s)" % r.stderr.strip())
    check.eq(uids(d, home), [2, 3, 4, 5], "move: INBOX lost 1, kept 2")
    saved = uids(d, home, "Saved")
    check.eq(len(saved), 2, "move, copy: both in Saved")
    check.eq(set(server_uidls(d, user)), set(originals),
             "move, copy: the server is not touched by the action")
    r, rec = sync_counted(d, home, user)
    check.eq(r.status, 0, "move: sync (%s)" % r.stderr.strip())
    left = set(server_uidls(d, user))
    check.eq(set(originals) - left, {rows[1]["uidl"]},
             "move: the moved message (body kept in Saved) is DELEd, the "
             "copied one is not")
    check.eq(rec.get("retr", (None,))[0], 0, "move: nothing downloaded "
             "again")
    got = {}
    for u in saved:
        r = d.run_petrel(["--offline", "show", "--raw", "Saved", str(u)],
                         home=home, text=False)
        got[u] = r.stdout if r.status == 0 else None
    check(originals[rows[1]["uidl"]] in got.values() and
          originals[rows[2]["uidl"]] in got.values(),
          "move, copy: Saved holds both, byte for byte, offline")
    r, rec = sync_counted(d, home, user)
    check.eq((rec.get("retr", (None,))[0], rec.get("del", (None,))[0],
              uids(d, home)), (0, 0, [2, 3, 4, 5]),
             "move: one more sync changes nothing")


def test_headers_only(d):
    home, user = "hdr", "carol"
    d.seed(user, "INBOX", 3, seed=23)
    before = server_uidls(d, user)
    d.write_petrel_config(None, account=user, proto="pop3", tls="pop3s",
                          home=home, extra={"pop3_headers_only": "yes"})
    r = d.run_petrel(["sync"], home=home)
    check.eq(r.status, 0, "headers only: sync (%s)" % r.stderr.strip())
    add_local_folder(d, home, user, "Saved")
    r = d.run_petrel(["flag", "add", "INBOX", "1", "deleted"], home=home)
    r = d.run_petrel(["expunge", "INBOX"], home=home)
    check.eq(r.status, 0, "headers only: expunge (%s)" % r.stderr.strip())
    r = d.run_petrel(["move", "INBOX", "2", "Saved"], home=home)
    check.eq(r.status, 0, "headers only: move (%s)" % r.stderr.strip())
    r, rec = sync_counted(d, home, user)
    check.eq(r.status, 0, "headers only: sync (%s)" % r.stderr.strip())
    check.eq(server_uidls(d, user), before, "headers only: nothing DELEd "
             "(no body was stored)")
    check.eq((rec.get("retr", (None,))[0], rec.get("top", (None,))[0]),
             (0, 0), "headers only: nothing downloaded again")
    check.eq(uids(d, home), [3], "headers only: INBOX keeps only 3")


def main():
    with harness.Dovecot() as d:
        d.seed("alice", "INBOX", 6, seed=21)
        round_trip(d, "keep", delete_expunged=False)
        round_trip(d, "dele", delete_expunged=True)
        test_move_copy(d)
        test_headers_only(d)
    check.done()


if __name__ == "__main__":
    main()
