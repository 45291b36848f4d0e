#!/usr/bin/env python3
"""mutt patterns and sorts through `petrel list --limit PATTERN --sort KEY`:
the SQL the TUI's limit, search and tag-pattern run, over a cache synced
from the private Dovecot. Each pattern's answer is compared with a
reference computed here in Python from what was appended; bad patterns
and sort keys are usage errors that name the problem.
"""

import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

check = harness.Check()
DAY = 86400
T0 = 1767268800          # 2026-01-01 12:00 UTC
NOW = int(time.time())
N = 12

SENDERS = ["Carol Singer <carol@example.net>", "Dave Diver <dave@example.com>",
           "Bob Builder <bob@example.org>"]


def spec(i):
    m = {"i": i, "from": SENDERS[i % 3], "cc": "dave@example.com"
         if i % 4 == 0 else "", "flags": set()}
    if i == 7:
        m["subject"] = "LUNCH plans"
    elif i % 5 == 0:
        m["subject"] = "Lunch on day %02d" % i
    elif i == 9:
        # LIKE's wildcards, literal in a pattern
        m["subject"] = "Report 09: 100% of a_b"
    else:
        m["subject"] = "Report %02d" % i
    m["date"] = NOW - 2 * DAY if i == N else T0 + i * DAY
    m["body"] = ("x" * 76 + "\n") * 70 if i == 11 else "Short body %d.\n" % i
    if i in (2, 3):
        m["flags"] = {"\\Seen"}
    if i == 4:
        m["flags"] = {"\\Seen", "\\Flagged"}
    if i == 6:
        m["flags"] = {"\\Deleted"}
    m["mid"] = "<p%02d@example.org>" % i
    m["refs"] = "<p01@example.org>" if i == 8 else ""
    return m


def raw(m):
    h = ["From: %s" % m["from"], "To: Alice <alice@example.org>"]
    if m["cc"]:
        h.append("Cc: %s" % m["cc"])
    h += ["Subject: %s" % m["subject"], "Message-ID: %s" % m["mid"],
          "Date: %s" % time.strftime("%a, %d %b %Y %H:%M:%S +0000",
                                     time.gmtime(m["date"]))]
    if m["refs"]:
        h += ["In-Reply-To: %s" % m["refs"], "References: %s" % m["refs"]]
    return "\n".join(h) + "\n\n" + m["body"]


MSGS = [spec(i) for i in range(1, N + 1)]


def day(d, mth, y=2026):
    return int(time.mktime((y, mth, d, 0, 0, 0, 0, 0, -1)))


def rx(pat, text):
    flags = 0 if re.search("[A-Z]", pat) else re.I
    return re.search(pat, text, flags) is not None


# pattern -> predicate over a spec (sizes come from the cache: "size").
CASES = [
    ("~A", lambda m: True),
    ("~s lunch", lambda m: rx("lunch", m["subject"])),
    ("~s Lunch", lambda m: "Lunch" in m["subject"]),
    ("~s 100%", lambda m: "100%" in m["subject"]),
    ("~s a_b", lambda m: "a_b" in m["subject"]),
    ("~s t_0", lambda m: "t_0" in m["subject"].lower()),
    ("~s %", lambda m: "%" in m["subject"]),
    ("~s 'Report 0[1-4]'", lambda m: rx("Report 0[1-4]", m["subject"])),
    ("~f bob", lambda m: "bob" in m["from"].lower()),
    ("~e carol", lambda m: "carol" in m["from"].lower()),
    ("~c dave", lambda m: "dave" in m["cc"]),
    ("~t alice", lambda m: True),
    ("~C dave", lambda m: "dave" in m["cc"]),
    ("~L dave", lambda m: "dave" in m["cc"] or "Dave" in m["from"]),
    ("~F", lambda m: "\\Flagged" in m["flags"]),
    ("~U", lambda m: "\\Seen" not in m["flags"]),
    ("~N", lambda m: "\\Seen" not in m["flags"]),
    ("~R", lambda m: "\\Seen" in m["flags"]),
    ("~D", lambda m: "\\Deleted" in m["flags"]),
    ("~O", lambda m: False),
    ("~i p05", lambda m: m["i"] == 5),
    ("~x p01", lambda m: m["i"] == 8),
    ("~d 05/01/2026-08/01/2026",
     lambda m: day(5, 1) <= m["date"] < day(9, 1)),
    ("~d 10/01/2026-", lambda m: m["date"] >= day(10, 1)),
    ("~d -03/01/2026", lambda m: m["date"] < day(4, 1)),
    ("~d 07/01/2026", lambda m: day(7, 1) <= m["date"] < day(8, 1)),
    ("~d <7d", lambda m: m["i"] == N),
    ("~d >30d", lambda m: m["i"] != N),
    ("~z >2K", lambda m: m["size"] > 2048),
    ("~z -1K", lambda m: m["size"] <= 1024),
    ("!~s lunch", lambda m: not rx("lunch", m["subject"])),
    ("~f bob | ~f carol", lambda m: "Dave" not in m["from"]),
    ("(~f bob | ~s lunch) !~U",
     lambda m: ("bob" in m["from"] or rx("lunch", m["subject"])) and
     "\\Seen" in m["flags"]),
    ("~s report ~f dave", lambda m: "Report" in m["subject"] and
     "Dave" in m["from"]),
    ("bob", lambda m: "bob" in m["from"].lower()),
    ("lunch", lambda m: rx("lunch", m["subject"])),
    ('~s "day 1[05]"', lambda m: rx("day 1[05]", m["subject"])),
]

BAD = [
    ("~s", "argument"),
    ("(~s lunch", ")"),
    ("~Y foo", "~Y"),
    ("~d 32/01/2026", "date"),
    ("~z >1Q", "size"),
    ("~s 'unterminated", "quote"),
    ("~s (", "regular expression"),
]


def listing(d, *args):
    r = d.run_petrel(["list", "--json"] + list(args), env={"TZ": "UTC"})
    rows = [json.loads(l) for l in r.stdout.splitlines() if l.strip()]
    return r, rows


def main():
    with harness.Dovecot(rawlog=False) as d:
        for m in MSGS:
            m["uid"] = d.append("alice", "INBOX", raw(m),
                                flags=" ".join(sorted(m["flags"])),
                                date=m["date"])
        d.write_petrel_config(None, account="alice")
        r = d.run_petrel(["sync"])
        check(r.status == 0, "sync (%s)" % r.stderr.strip())
        r, rows = listing(d)
        by_uid = {row["uid"]: row for row in rows}
        check.eq(len(rows), N, "petrel list shows all")
        for m in MSGS:
            m["size"] = by_uid[m["uid"]]["size"]

        for pat, pred in CASES:
            r, rows = listing(d, "--limit", pat)
            want = sorted(m["uid"] for m in MSGS if pred(m))
            got = sorted(row["uid"] for row in rows)
            check(r.status == 0 and got == want,
                  "--limit %s: uids %s (got %s, status %d %s)" %
                  (pat, want, got, r.status, r.stderr.strip()))

        for pat, word in BAD:
            r, rows = listing(d, "--limit", pat)
            check(r.status == 2 and word in r.stderr and not rows,
                  "bad pattern %r: usage error naming %r (%d: %s)" %
                  (pat, word, r.status, r.stderr.strip()))

        # Sorts: the order of the rows.
        def order(*args):
            return [row["uid"] for row in listing(d, *args)[1]]

        by_date = [m["uid"] for m in sorted(MSGS, key=lambda m: m["date"])]
        check.eq(order(), by_date[::-1], "default: newest first")
        check.eq(order("--sort", "date"), by_date, "--sort date: oldest "
                 "first, as mutt's sort=date")
        check.eq(order("--sort", "reverse-date"), by_date[::-1],
                 "--sort reverse-date")
        check.eq(order("--sort", "arrival"), [m["uid"] for m in MSGS],
                 "--sort arrival: the server's order")
        subj = [m["uid"] for m in sorted(
            MSGS, key=lambda m: (m["subject"].lower(), m["uid"]))]
        got = order("--sort", "subject")
        check.eq(got, subj, "--sort subject")
        size = [m["uid"] for m in sorted(
            MSGS, key=lambda m: (m["size"], m["uid"]))]
        check.eq(order("--sort", "size"), size, "--sort size")
        check.eq(order("--sort", "size", "--limit", "~s lunch"),
                 [u for u in size if pred_lunch(u)],
                 "--sort size --limit ~s lunch")
        test_threads(d)
        test_text(d)
        r, rows = listing(d, "--sort", "colour")
        check(r.status == 2 and "sort" in r.stderr,
              "an unknown sort is a usage error (%s)" % r.stderr.strip())
    check.done()


def tmsg(name, day_n, irt=None, refs=()):
    h = ["From: T <t@example.org>", "To: alice@example.org",
         "Subject: thread %s" % name, "Message-ID: <%s@t>" % name,
         "Date: %s" % time.strftime("%a, %d %b %Y %H:%M:%S +0000",
                                    time.gmtime(T0 + day_n * DAY))]
    if irt:
        h.append("In-Reply-To: <%s@t>" % irt)
    if refs:
        h.append("References: %s" % " ".join("<%s@t>" % r for r in refs))
    return "\n".join(h) + "\n\nbody\n"


def thread_rows(d):
    r, rows = listing(d, "--threads", "Threads")
    check(r.status == 0, "list --threads (%s)" % r.stderr.strip())
    return [(row["subject"].split()[-1], row["depth"], row["parent"],
             row["gap"]) for row in rows], {row["uid"]: row["subject"]
                                           .split()[-1] for row in rows}


def test_threads(d):
    """JWZ by headers: replies under their parents depth first by date,
    a missing parent a gap, a late parent adopting its earlier reply."""
    d.create_folder("alice", "Threads")
    uid = {}
    for name, day_n, irt, refs in (
            ("A", 1, None, ()),
            ("B", 2, "A", ("A",)),
            ("C", 3, "B", ("A", "B")),
            ("D", 4, "A", ("A",)),
            ("E", 5, "X", ("A", "X")),      # X is missing: a gap under A
            ("F", 6, "Y", ("Y",)),          # only a missing parent
            ("H", 9, "G", ("G",))):         # G comes later
        uid[name] = d.append("alice", "Threads", tmsg(name, day_n, irt, refs),
                             date=T0 + day_n * DAY)
    r = d.run_petrel(["sync", "Threads"])
    check(r.status == 0, "sync Threads (%s)" % r.stderr.strip())
    rows, by_uid = thread_rows(d)

    def parent(name):
        return uid[name] if name else None
    check.eq(rows, [("A", 0, None, False), ("B", 1, parent("A"), False),
                    ("C", 2, parent("B"), False),
                    ("D", 1, parent("A"), False),
                    ("E", 1, parent("A"), True), ("F", 0, None, True),
                    ("H", 0, None, True)],
             "threads: depth first, replies by date, missing parents gaps")
    uid["G"] = d.append("alice", "Threads", tmsg("G", 8),
                        date=T0 + 8 * DAY)
    r = d.run_petrel(["sync", "Threads"])
    rows, by_uid = thread_rows(d)
    check.eq(rows[-2:], [("G", 0, None, False), ("H", 1, uid["G"], False)],
             "a parent that arrives later adopts its reply")
    r, rows = listing(d, "--threads", "--limit", "~s 'thread [AC]'",
                      "Threads")
    check.eq([row["subject"] for row in rows], ["thread A", "thread C"],
             "--threads with --limit keeps the thread order")
    r, rows = listing(d, "--threads", "--sort", "size", "Threads")
    check(r.status == 2, "--threads with another --sort is a usage error")


def bmsg(name, headers, body, ctype="text/plain; charset=utf-8", cte=None):
    h = ["From: B <b@example.org>", "To: alice@example.org",
         "Subject: body %s" % name, "Message-ID: <%s@b>" % name,
         "Date: Thu, 01 Jan 2026 12:00:00 +0000", "MIME-Version: 1.0",
         "Content-Type: %s" % ctype] + headers
    if cte:
        h.append("Content-Transfer-Encoding: %s" % cte)
    if isinstance(body, str):
        body = body.encode()
    return ("\n".join(h) + "\n\n").encode() + body


def test_text(d):
    """~b ~B ~h over the text index of cached bodies: decoded bodies
    (base64, quoted-printable, a legacy charset, HTML without its tags),
    words and word beginnings, case and accents folded; a body that is not
    cached is not searched; a message deleted on the server leaves the
    index with it."""
    import base64
    d.create_folder("alice", "Bodies")
    uid = {}
    for name, hdrs, body, ct, cte in (
            ("plain", ["X-Tracking: zebrafish"], "Quarterly invoices attached"
             ".\nRegards\n", "text/plain; charset=utf-8", None),
            ("b64", [], base64.b64encode("Le caf\u00e9 est pr\u00eat "
             "pangolin\n".encode()).decode() + "\n",
             "text/plain; charset=utf-8", "base64"),
            ("qp", [], "Gr=FC=DFe aus M=FCnchen, narwhal\n",
             "text/plain; charset=iso-8859-1", "quoted-printable"),
            ("html", [], "<html><body><p class=\"spanclass\">Hello "
             "<b>okapi</b> friend</p></body></html>\n", "text/html", None),
            ("euckr", [], "\uc548\ub155\ud558\uc138\uc694 axolotl\n"
             .encode("euc-kr"), "text/plain; "
             "charset=euc-kr", "8bit")):
        uid[name] = d.append("alice", "Bodies", bmsg(name, hdrs, body, ct,
                                                     cte))

    def hits(pat):
        r, rows = listing(d, "--limit", pat, "Bodies")
        check(r.status == 0, "--limit %s (%s)" % (pat, r.stderr.strip()))
        return sorted(row["uid"] for row in rows)

    r = d.run_petrel(["sync", "Bodies"])
    check(r.status == 0, "sync Bodies (%s)" % r.stderr.strip())
    check.eq(hits("~b invoices"), [], "~b: no body cached, nothing found")
    r = d.run_petrel(["sync", "--bodies", "Bodies"])
    check(r.status == 0, "sync --bodies (%s)" % r.stderr.strip())
    for pat, want in (
            ("~b invoices", ["plain"]), ("~b INVOICES", ["plain"]),
            ("~b invoi", ["plain"]), ("~b 'quarterly invoices'", ["plain"]),
            ("~b 'invoices quarterly'", []),
            ("~b zebrafish", []), ("~h zebrafish", ["plain"]),
            ("~B zebrafish", ["plain"]), ("~B invoices", ["plain"]),
            ("~b pangolin", ["b64"]), ("~b cafe", ["b64"]),
            ("~b caf\u00e9", ["b64"]), ("~b muenchen", []),
            ("~b m\u00fcnchen", ["qp"]), ("~b narwhal", ["qp"]),
            ("~b okapi", ["html"]), ("~b spanclass", []),
            ("~b axolotl", ["euckr"]),
            ("~b \uc548\ub155\ud558\uc138\uc694", ["euckr"]),
            ("~h 'body qp'", ["qp"]),
            ("~b okapi | ~b narwhal", ["html", "qp"]),
            ("~b okapi ~s html", ["html"]), ("!~b okapi",
                                            sorted(set(uid) - {"html"}))):
        check.eq(hits(pat), sorted(uid[n] for n in want), "--limit %s" % pat)
    r, rows = listing(d, "--limit", "~b '...'", "Bodies")
    check(r.status == 2 and "word" in r.stderr,
          "~b without a word is a usage error (%s)" % r.stderr.strip())

    # A message expunged on the server leaves the index too.
    c = d.imap_client()
    c.select("Bodies")
    c.uid("STORE", str(uid["plain"]), "+FLAGS", "(\\Deleted)")
    c.expunge()
    c.logout()
    r = d.run_petrel(["sync", "Bodies"])
    check.eq(hits("~B zebrafish"), [], "an expunged message leaves the index")

    # A body read with show is indexed by the next sync's session.
    uid["late"] = d.append("alice", "Bodies", bmsg("late", [],
                                                   "wombat burrow\n"))
    d.run_petrel(["sync", "Bodies"])
    check.eq(hits("~b wombat"), [], "a new message without its body")
    r = d.run_petrel(["show", "Bodies", str(uid["late"])])
    check(r.status == 0, "show (%s)" % r.stderr.strip())
    d.run_petrel(["sync", "Bodies"])
    check.eq(hits("~b wombat"), [uid["late"]], "a body fetched by show is "
             "indexed by the next session")


def pred_lunch(uid):
    return any(m["uid"] == uid and rx("lunch", m["subject"]) for m in MSGS)


if __name__ == "__main__":
    main()
