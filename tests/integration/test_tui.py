#!/usr/bin/env python3
"""The terminal UI as a person uses it: petrel in tmux against the private
Dovecot, keys sent with send-keys, the screen read with capture-pane, and
the server's state read back with an independent client (imaplib, poplib).

Online from a cold cache: open, move, read, flag, delete and expunge, move
to another folder, limit, search, tag-and-delete, resize, help, switch
account. Offline: the server stopped, changes made from the cache, then
replayed by the next start with the server back. POP3: read, delete,
expunge, and the next session DELEs it on the server.
"""

import os
import re
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from tmuxui import TmuxUI  # noqa: E402

check = harness.Check()
DAY = 86400
T0 = 1767225600  # 2026-01-01 00:00 UTC


def message(i, subject, sender="Sender %02d <s%02d@example.org>"):
    frm = sender % (i, i) if "%" in sender else sender
    return ("From: %s\nTo: alice@example.org\nSubject: %s\n"
            "Message-ID: <m%02d@example.org>\n"
            "Date: %s\nContent-Type: text/plain; charset=utf-8\n\n"
            "Body of message %02d.\n\n> quoted line\n" %
            (frm, subject, i,
             time.strftime("%a, %d %b %Y %H:%M:%S +0000",
                           time.gmtime(T0 + i * DAY)), i))


def subject_of(i):
    return ("Lunch on day %02d" % i) if i % 5 == 0 else ("Report %02d" % i)


def server(d, user="alice", folder="INBOX"):
    """{message_id: set(flags)} on the server."""
    return {m["message_id"]: set(m["flags"])
            for m in d.fetch_index(user, folder).values()}


def wait_server(d, pred, what, folder="INBOX", timeout=20):
    end = time.time() + timeout
    s = None
    while time.time() < end:
        s = server(d, folder=folder)
        if pred(s):
            return check(True, what)
        time.sleep(0.2)
    return check(False, "%s (server: %r)" % (what, sorted(s.items())[:8]))


def mid(i):
    return "<m%02d@example.org>" % i


def prompt(ui, label, text):
    ui.wait(label, 5)
    ui.type(text)
    ui.keys("Enter")


def test_online(d):
    with TmuxUI(d, ["-a", "alice"]) as ui:
        s = ui.wait(lambda s: "Msgs:30" in s and "online" in s, 30)
        check(s is not None, "cold start: the index fills from the server "
              "and the status says online (%r)" % getattr(ui, "last", "")[-300:])
        check("Report 03" in (s or "") and "Lunch on day 05" in (s or ""),
              "rows show subjects")
        check("New:30" in ui.status(), "status: 30 new (%r)" % ui.status())

        # The last screen's numbers: 3 to 30 on 28 rows (counted from
        # the end, in the snapshot that counted the folder).
        ui.keys("*")
        ui.wait(lambda s: (ui.cursor_row() or "").lstrip().startswith("30 "),
                5)
        nums = [int(m.group(1)) for m in
                (re.match(r"^\s*(\d+) ", l) for l in ui.lines()) if m]
        check(nums[:1] == [3] and nums[-1:] == [30] and len(nums) == 28,
              "* shows rows 3 to 30, numbered (%r)" % nums)
        ui.keys("k")
        check((ui.cursor_row() or "").lstrip().startswith("29 "),
              "the row above the last is 29 (%r)" % ui.cursor_row())
        # A re-read (the resize's) numbers the last screen from the count.
        ui.resize(101, 30)
        time.sleep(0.3)
        nums = [int(m.group(1)) for m in
                (re.match(r"^\s*(\d+) ", l) for l in ui.lines()) if m]
        check(nums[:1] == [3] and nums[-1:] == [30] and
              (ui.cursor_row() or "").lstrip().startswith("29 "),
              "after a re-read still 3 to 30, the cursor on 29 (%r)" % nums)
        ui.resize(100, 30)

        # Read the first message.
        ui.keys("=")
        check("Report 01" in (ui.cursor_row() or ""),
              "= goes to the first message (%r)" % ui.cursor_row())
        ui.keys("Enter")
        s = ui.wait("Body of message 01.", 10)
        check(s is not None and "Subject: Report 01" in s,
              "Enter shows the message in the pager")
        ui.keys("i")
        ui.wait(lambda s: "Msgs:30" in s)
        wait_server(d, lambda s: "\\Seen" in s.get(mid(1), ()),
                    "reading marks it \\Seen on the server")
        check("New:29" in ui.status(), "New:29 after reading (%r)" %
              ui.status())

        # Flag it.
        ui.keys("F")
        wait_server(d, lambda s: "\\Flagged" in s.get(mid(1), ()),
                    "F flags it on the server")

        # Delete the second and expunge.
        ui.keys("j")
        check("Report 02" in (ui.cursor_row() or ""), "j moves down")
        ui.keys("d")
        check("Report 03" in (ui.cursor_row() or ""),
              "after d the cursor moves on (%r)" % ui.cursor_row())
        wait_server(d, lambda s: "\\Deleted" in s.get(mid(2), ()),
                    "d sets \\Deleted on the server")
        ui.keys("$")
        wait_server(d, lambda s: mid(2) not in s and len(s) == 29,
                    "$ expunges exactly that message")
        check(ui.wait(lambda s: "Report 02" not in s, 5) is not None,
              "the expunged message left the index")

        # Move the third to Archive.
        ui.keys("s")
        prompt(ui, "Move to folder:", "Arch")
        # (Tab completion is tested below; "Arch" is not a folder.)
        s = ui.wait("No folder", 5)
        check(s is not None, "a folder that does not exist is refused")
        check(mid(3) in server(d), "and nothing moved")
        ui.keys("s")
        ui.wait("Move to folder:", 5)
        ui.type("Arch")
        ui.keys("Tab", "Enter")
        wait_server(d, lambda s: mid(3) in s, "s moves it to Archive",
                    folder="Archive")
        wait_server(d, lambda s: mid(3) not in s,
                    "and it left INBOX on the server")

        # Limit.
        ui.keys("l")
        prompt(ui, "Limit to messages matching:", "~s lunch")
        s = ui.wait("Lim:6", 5)
        check(s is not None, "limit ~s lunch: 6 messages (%r)" % ui.status())
        body = "\n".join((s or "").split("\n")[:-3])
        check("Lunch on day 10" in body and "Report" not in body,
              "only the matching rows are shown")
        ui.keys("l")
        ui.wait("Limit to messages matching:", 5)
        ui.keys("C-u")
        ui.type("all")
        ui.keys("Enter")
        check(ui.wait(lambda s: "Lim:" not in s and "Report 04" in s, 5)
              is not None, "limit all shows everything again (%r)" %
              getattr(ui, "last", ""))

        # Search.
        ui.keys("/")
        prompt(ui, "Search for:", "~s 'Report 2[0-9]' ~d 20/01/2026-")
        # (Day 20 is a lunch: the first match is Report 21.)
        check("Report 21" in (ui.cursor_row() or ""),
              "search finds Report 21 (%r)" % ui.cursor_row())
        ui.keys("n")
        check("Report 22" in (ui.cursor_row() or ""),
              "n finds the next match (%r)" % ui.cursor_row())

        # Tag by pattern and delete the tagged.
        ui.keys("T")
        prompt(ui, "Tag messages matching:", "~s lunch")
        check(ui.wait("Tag:6", 5) is not None, "T tags 6 (%r)" % ui.status())
        ui.keys(";", "d")
        wait_server(d, lambda s: sum(1 for f in s.values()
                                     if "\\Deleted" in f) == 6,
                    ";d deletes every tagged message")
        ui.keys("$")
        wait_server(d, lambda s: len(s) == 22 and not any(
            mid(i) in s for i in (5, 10, 15, 20, 25, 30)),
            "$ expunges the six; 22 are left")

        # Flag by w, on a keyword.
        ui.keys("=", "w")
        prompt(ui, "Set flag", "todo")
        wait_server(d, lambda s: "todo" in s.get(mid(1), ()),
                    "w sets a keyword")

        # Resize.
        ui.resize(60, 16)
        # capture-pane prints one line per row: the status is row 15.
        s = ui.wait(lambda s: len(s.split("\n")) == 17 and
                    "--- petrel:" in s.split("\n")[14], 5)
        check(s is not None, "after a resize the status line is the last "
              "but one of 16 rows")
        check(s is not None and all(len(l) <= 60 for l in s.split("\n")),
              "rows fit 60 columns")
        ui.resize(100, 30)

        # Help.
        ui.keys("?")
        s = ui.wait("next-undeleted", 5)
        check(s is not None and "delete-message" in s,
              "? lists the bindings with mutt's function names")
        ui.keys("q")

        # Folder view and another account.
        ui.keys("y")
        s = ui.wait(lambda s: "bob" in s and "Archive" in s, 5)
        check(s is not None, "y shows every account's folders")
        check(s is not None and s.find("INBOX") < s.find("Archive"),
              "INBOX comes first")
        check("INBOX" in (ui.cursor_row() or ""),
              "the cursor starts on the open folder (%r)" % ui.cursor_row())
        # alice's INBOX Drafts Sent Archive Junk Trash Lists dev, bob, INBOX
        ui.keys(*["j"] * 9)
        check("INBOX" in (ui.cursor_row() or ""), "j down to bob's INBOX")
        ui.keys("Enter")
        s = ui.wait("bob/INBOX", 10)
        check(s is not None and "Note for bob" in s,
              "choosing bob's INBOX switches account")
        ui.keys("c")
        prompt(ui, "Open folder:", "alice/Archive")
        # Opening a folder syncs it: the moved message arrives.
        s = ui.wait(lambda s: "alice/Archive" in s and "Report 03" in s, 15)
        check(s is not None,
              "c alice/Archive opens another account's folder")

        ui.keys("q")
        check(ui.wait("PETREL-EXIT=0", 10) is not None, "q quits, exit 0")


def thread_message(name, day_n, parent=None):
    h = ["From: T <t@example.org>", "To: alice@example.org",
         "Subject: topic %s" % name, "Message-ID: <%s@t>" % name,
         "Date: %s" % time.strftime("%a, %d %b %Y %H:%M:%S +0000",
                                    time.gmtime(T0 + day_n * DAY))]
    if parent:
        h += ["In-Reply-To: <%s@t>" % parent, "References: <%s@t>" % parent]
    return "\n".join(h) + "\n\nthread body %s\n" % name


def wait_threaded(d, folder, n, timeout=10):
    path = os.path.join(d.petrel_home()["cache"], "petrel", "alice.db")
    end = time.time() + timeout
    while time.time() < end:
        db = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=5)
        try:
            k = db.execute("SELECT count(*) FROM messages m JOIN folders f "
                           "ON f.id = m.folder_id WHERE f.name = ? AND "
                           "m.thread_path IS NOT NULL", (folder,)).fetchone()
        finally:
            db.close()
        if k[0] == n:
            return True
        time.sleep(0.2)
    return False


def test_threads(d):
    for name, day_n, parent in (("root1", 1, None), ("reply1a", 2, "root1"),
                                ("reply1b", 3, "root1"),
                                ("deeper", 4, "reply1a"),
                                ("root2", 5, None), ("reply2", 6, "root2")):
        d.append("alice", "Lists/dev", thread_message(name, day_n, parent),
                 date=T0 + day_n * DAY)
    with TmuxUI(d, ["-a", "alice", "-f", "Lists/dev"]) as ui:
        ui.wait(lambda s: "Msgs:6" in s and "topic reply2" in s, 20)
        # The session threads what the sync stored while it is idle, before
        # anyone asks for a thread view.
        check(wait_threaded(d, "Lists/dev", 6), "the session threaded the "
              "folder by itself")
        ui.keys("o")
        prompt(ui, "Sort", "t")
        s = ui.wait("(threads)", 5)
        check(s is not None, "o t sorts by threads (%r)" % ui.status())
        rows = [l for l in (s or "").split("\n") if "topic" in l]
        order = [l.split("topic ")[1].strip() for l in rows]
        check.eq(order, ["root1", "reply1a", "deeper", "reply1b", "root2",
                         "reply2"], "threads: depth first, by date")
        check(any("\u251c\u2500>topic reply1a" in l for l in rows) and
              any("\u2514\u2500>topic reply1b" in l for l in rows),
              "the tree: a tee before a later sibling, a corner at the end "
              "(%r)" % rows)
        ui.keys("=")
        ui.keys("Escape", "v")
        s = ui.wait(lambda s: "topic deeper" not in s, 5)
        check(s is not None and "+3 topic root1" in s and
              "topic reply2" in s, "Esc-v collapses the thread under the "
              "cursor and counts what it hides")
        ui.keys("Escape", "v")
        check(ui.wait("topic deeper", 5) is not None, "Esc-v again expands")
        ui.keys("Escape", "V")
        s = ui.wait(lambda s: "topic reply" not in s and "topic root2" in s,
                    5)
        check(s is not None and "+1 topic root2" in s,
              "Esc-V collapses every thread")
        ui.keys("Escape", "V")
        ui.wait("topic reply2", 5)
        ui.keys("=", "C-n")
        check("topic root2" in (ui.cursor_row() or ""),
              "^N goes to the next thread (%r)" % ui.cursor_row())
        ui.keys("C-p")
        check("topic root1" in (ui.cursor_row() or ""),
              "^P goes back to the previous thread (%r)" % ui.cursor_row())
        ui.keys("q")
        ui.wait("PETREL-EXIT=", 10)


def test_config(d):
    """bind and color lines; a bad one is named and the rest works."""
    path = d.write_petrel_config(None, account="alice", home="keys")
    with open(path, "a") as f:
        f.write("\n[options]\n"
                "index_format = %4C %Z [%-8.8u] %s\n"
                "sort = reverse-date\n"
                "bind = index \\Cd delete-message\n"
                "bind = index,pager K last-entry\n"
                "bind = index q no-such-function\n"
                "color = tree bold yellow default\n"
                "color = nonsense red blue\n")
    with TmuxUI(d, ["-a", "alice", "-f", "Lists/dev"], home="keys") as ui:
        s = ui.wait(lambda s: "Msgs:6" in s and "online" in s, 20)
        check(s is not None and 'unknown function "no-such-function"' in s,
              "a bad bind line is named on the message line (%r)" %
              (s or getattr(ui, "last", ""))[-400:])
        check(s is not None and "[t       ] topic reply2" in s,
              "index_format: %u padded to 8 columns")
        rows = [l for l in (s or "").split("\n") if "topic" in l]
        check(len(rows) == 6 and "reply2" in rows[0] and "root1" in rows[-1],
              "sort = reverse-date: newest first")
        ui.keys("=", "K")
        check("root1" in (ui.cursor_row() or ""),
              "bind K last-entry (%r)" % ui.cursor_row())
        ui.keys("C-d")
        wait_server(d, lambda s: "\\Deleted" in s.get("<root1@t>", ()),
                    "bind \\Cd delete-message", folder="Lists/dev")
        ui.keys("u")
        wait_server(d, lambda s: "\\Deleted" not in s.get("<root1@t>", ()),
                    "u undeletes", folder="Lists/dev")
        ui.keys("q")
        check(ui.wait("PETREL-EXIT=0", 10) is not None,
              "q keeps its default binding after the bad line")


def test_offline(d):
    d.stop()
    try:
        with TmuxUI(d, ["-a", "alice"]) as ui:
            s = ui.wait(lambda s: "Msgs:22" in s and "offline" in s, 20)
            check(s is not None, "with the server stopped the cached index "
                  "shows and the status says offline (%r)" % ui.status())
            ui.keys("=")
            check("Report 01" in (ui.cursor_row() or ""), "first row")
            ui.keys("j")          # Report 04
            ui.keys("F")
            ui.keys("j")          # Report 06
            ui.keys("s")
            prompt(ui, "Move to folder:", "Archive")
            s = ui.wait("pending", 5)
            check(s is not None, "the status counts pending changes (%r)" %
                  (ui.status() or getattr(ui, "last", "")[-1500:]))
            check(ui.wait(lambda s: "Report 06" not in s, 5) is not None,
                  "the moved message left the index at once")
            ui.keys("q")
            ui.wait("PETREL-EXIT=", 10)
    finally:
        d.start()
    check("\\Flagged" not in server(d).get(mid(4), ()),
          "nothing reached the server while it was down")
    with TmuxUI(d, ["-a", "alice"]) as ui:
        wait_server(d, lambda s: "\\Flagged" in s.get(mid(4), ()) and
                    mid(6) not in s, "the next start replays flag and move",
                    timeout=30)
        wait_server(d, lambda s: mid(6) in s, "the moved message is in "
                    "Archive", folder="Archive")
        check(ui.wait(lambda s: "pending" not in ui.status(), 10)
              is not None, "nothing pending afterwards (%r)" % ui.status())
        ui.keys("q")
        ui.wait("PETREL-EXIT=", 10)


def test_pop3(d):
    for i in range(1, 4):
        d.append("carol", "INBOX", message(i, "Pop message %d" % i))
    d.write_petrel_config(None, account="carol", proto="pop3",
                          home="pop3")
    with TmuxUI(d, [], home="pop3") as ui:
        s = ui.wait(lambda s: "Msgs:3" in s and "Pop message 3" in s, 30)
        check(s is not None, "POP3: the INBOX shows (%r)" %
              getattr(ui, "last", "")[-300:])
        ui.keys("=", "Enter")
        check(ui.wait("Body of message 01.", 10) is not None,
              "POP3: a message reads")
        ui.keys("i", "d", "$")
        check(ui.wait(lambda s: "Msgs:2" in s, 5) is not None,
              "POP3: delete and expunge leave 2 (%r)" % ui.status())
        ui.keys("q")
        ui.wait("PETREL-EXIT=", 10)
    r = d.run_petrel(["sync"], home="pop3")
    check(r.status == 0, "POP3: next sync (%s)" % r.stderr.strip())
    p = d.pop3_client("carol")
    n = len(p.list()[1])
    p.quit()
    check.eq(n, 2, "POP3: the expunged message was DELEd on the server")


def main():
    with harness.Dovecot(rawlog=False) as d:
        for i in range(1, 31):
            d.append("alice", "INBOX", message(i, subject_of(i)),
                     date=T0 + i * DAY)
        d.create_folder("alice", "Archive")
        d.create_folder("alice", "Lists/dev")
        d.append("bob", "INBOX", message(1, "Note for bob"))
        path = d.write_petrel_config(None, account="alice")
        with open(path, "a") as f:
            f.write("\n" + d.account_section("bob"))
        test_online(d)
        test_threads(d)
        test_config(d)
        test_offline(d)
        test_pop3(d)
    check.done()


if __name__ == "__main__":
    main()
