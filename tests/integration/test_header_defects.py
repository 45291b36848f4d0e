#!/usr/bin/env python3
"""Two header defects found from outside, against a real private Dovecot:
charset_fallback decodes the index fields `petrel sync` stores (not only
`show`), and a NUL in a header value keeps the rest of it (U+FFFD in its
place) in the index and in `show`.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

check = harness.Check()

# "안녕하세요" in EUC-KR, without any charset label.
KOREAN = "안녕하세요"
EUCKR = KOREAN.encode("euc-kr")


def put(d, name, raw):
    """Write a message straight into the Maildir: APPEND refuses NUL."""
    path = os.path.join(d.maildir("alice"), "new", name)
    with open(path, "wb") as f:
        f.write(raw)
    d._chown_tree(d.maildir("alice"))


def subjects(d, home):
    r = d.run_petrel(["list", "--json", "INBOX"], home=home)
    check.eq(r.status, 0, "list --json (%s)" % r.stderr.strip())
    return {json.loads(l)["message_id"]: json.loads(l)
            for l in r.stdout.splitlines()}


def main():
    with harness.Dovecot(rawlog=False) as d:
        put(d, "1.korean:2,", b"From: =?utf-8?q?Kim?= <kim@example.org>\r\n"
            b"Subject: " + EUCKR + b"\r\nMessage-ID: <kr@x>\r\n"
            b"Date: Mon, 1 Jun 2026 10:00:00 +0000\r\n\r\nbody\r\n")
        put(d, "2.nul:2,", b"From: a@example.org\r\nSubject: before\0after"
            b"\r\nMessage-ID: <nul@x>\r\n"
            b"Date: Mon, 1 Jun 2026 11:00:00 +0000\r\n\r\nbody\r\n")
        d.force_resync("alice")

        # Without the option: the default fallback, not Korean.
        d.write_petrel_config(None, account="alice", home="plain")
        r = d.run_petrel(["sync"], home="plain")
        check.eq(r.status, 0, "sync without charset_fallback (%s)" %
                 r.stderr.strip())
        s = subjects(d, "plain")
        check(s["<kr@x>"]["subject"] != KOREAN,
              "without the option the subject is not read as EUC-KR (%r)"
              % s["<kr@x>"]["subject"])
        # Dovecot sends a stored NUL as 0x80 (which the default fallback,
        # CP1252, reads as the euro sign): the point is that the rest stays.
        sub = s["<nul@x>"]["subject"]
        check(sub.startswith("before") and sub.endswith("after") and
              len(sub) == len("before") + 1 + len("after"),
              "a NUL in Subject keeps the rest in the index (%r)" % sub)
        r = d.run_petrel(["render", "-"], home="plain",
                         input=b"From: a@example.org\r\nSubject: before\0"
                         b"after\r\n\r\nbody\r\n", text=False)
        check(r.status == 0 and "before\ufffdafter" in
              r.stdout.decode("utf-8", "replace"),
              "render: NUL in Subject becomes U+FFFD, the rest kept")

        path = d.write_petrel_config(None, account="alice", home="korean")
        with open(path, "a") as f:
            f.write("\n[options]\ncharset_fallback = EUC-KR\n")
        r = d.run_petrel(["sync"], home="korean")
        check.eq(r.status, 0, "sync with charset_fallback (%s)" %
                 r.stderr.strip())
        s = subjects(d, "korean")
        check.eq(s["<kr@x>"]["subject"], KOREAN,
                 "sync decodes an unlabelled subject with charset_fallback")
        uid = s["<nul@x>"]["uid"]
        r = d.run_petrel(["show", "INBOX", str(uid)], home="korean")
        check(r.status == 0 and "before\ufffdafter" in r.stdout,
              "show keeps the rest after a NUL (%r)" % r.stdout[:200])
    check.done()


if __name__ == "__main__":
    main()
