#!/usr/bin/env python3
"""A cold sync of a big folder fetches the newest screenful first: the
commands petrel sends (rawlog), every header fetched exactly once (the
server's hdr_count), the cache complete and resumable, and a sync cut
short after the newest arrived finishes on the next run without a hole.
"""

import os
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

check = harness.Check()
N = 3000
HEAD = 200


def cached_uids(d):
    path = os.path.join(d.petrel_home()["cache"], "petrel", "alice.db")
    db = sqlite3.connect(path)
    try:
        return [r[0] for r in db.execute(
            "SELECT m.uid FROM messages m JOIN folders f ON f.id = "
            "m.folder_id WHERE f.name = 'INBOX' ORDER BY m.uid")], \
            db.execute("SELECT synced_uid FROM folders WHERE name = "
                       "'INBOX'").fetchone()[0]
    finally:
        db.close()


def main():
    with harness.Dovecot(rawlog=True) as d:
        d.seed("alice", "INBOX", N, seed=7, manifest=False)
        mark0 = d.log_mark()
        server = sorted(d.fetch_index("alice", "INBOX").keys())
        # Its logout line may be written late: let it land before the mark.
        d.wait_logouts(1, since=mark0, user="alice", proto="imap")
        d.write_petrel_config(None, account="alice")
        d.clear_rawlog("alice")
        mark = d.log_mark()
        r = d.run_petrel(["sync", "INBOX"])
        check(r.status == 0, "cold sync (%s)" % r.stderr.strip())
        cmds = d.rawlog_commands("alice")
        search = [i for i, c in enumerate(cmds)
                  if "UID SEARCH" in c and " %d:*" % (N - HEAD + 1) in c]
        fetches = [i for i, c in enumerate(cmds) if "UID FETCH" in c and
                   "HEADER.FIELDS" in c]
        check(len(search) == 1, "the newest %d are found by sequence "
              "number (UID SEARCH %d:*) (%r)" % (HEAD, N - HEAD + 1,
                                                [c for c in cmds if "SEARCH"
                                                 in c]))
        head = server[N - HEAD]
        check(len(fetches) == 2 and search and fetches[0] > search[0] and
              ("UID FETCH %d:%d " % (head, server[-1])) in cmds[fetches[0]]
              and ("UID FETCH 1:%d " % (head - 1)) in cmds[fetches[1]],
              "the newest first, then the rest below them (%r)" %
              [cmds[i][:60] for i in fetches])
        rec = d.wait_logouts(1, since=mark, user="alice", proto="imap")
        check.eq(sum(x.get("hdr_count", 0) for x in rec), N,
                 "every header fetched exactly once")
        uids, synced = cached_uids(d)
        check.eq(uids, server, "the cache has every message")
        check.eq(synced, server[-1], "the resume point is the last UID")
        mark = d.log_mark()
        r = d.run_petrel(["sync", "INBOX"])
        rec = d.wait_logouts(1, since=mark, user="alice", proto="imap")
        check(r.status == 0 and sum(x.get("hdr_count", 0) for x in rec) == 0,
              "a second sync fetches no header")

        # A sync that had the newest but not the rest: the next one
        # fetches what is missing and leaves no hole.
        path = os.path.join(d.petrel_home()["cache"], "petrel", "alice.db")
        db = sqlite3.connect(path)
        db.execute("DELETE FROM messages WHERE uid < ? AND uid > 100",
                   (head,))
        db.execute("UPDATE folders SET synced_uid = 100, complete = 0, "
                   "uidnext = 0 WHERE name = 'INBOX'")
        db.commit()
        db.close()
        r = d.run_petrel(["sync", "INBOX"])
        uids, synced = cached_uids(d)
        check(r.status == 0 and uids == server and synced == server[-1],
              "an interrupted cold sync is resumed without a hole (%d of "
              "%d, synced %d)" % (len(uids), N, synced))
    check.done()


if __name__ == "__main__":
    main()
