#!/usr/bin/env python3
"""A body search over messages whose bodies are not cached asks the server
(UID SEARCH BODY / TEXT) and merges its answer with the local one, in the
TUI against the private Dovecot: a limit `~b WORD` finds the message whose
body was never downloaded, a non-ASCII word goes as a literal, `~B` asks
TEXT, and a message found locally still shows.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from tmuxui import TmuxUI  # noqa: E402

check = harness.Check()


def message(i, subject, body):
    return ("From: Sender <s@example.org>\nTo: alice@example.org\n"
            "Subject: %s\nMessage-ID: <ss%02d@example.org>\n"
            "Content-Type: text/plain; charset=utf-8\n"
            "Date: Thu, 01 Jan 2026 10:%02d:00 +0000\n\n%s\n" %
            (subject, i, i, body))


def sent(d):
    return b"".join(s.get("in", b"") for s in d.rawlog("alice"))


def limit(ui, text):
    ui.keys("l")
    ui.wait("Limit", 5)
    ui.keys("C-u")
    ui.type(text)
    ui.keys("Enter")


def main():
    with harness.Dovecot(rawlog=True) as d:
        d.append("alice", "INBOX", message(1, "Plain one", "nothing here"))
        d.append("alice", "INBOX", message(2, "Hidden needle",
                                           "a haystack with a zebraneedle"))
        d.append("alice", "INBOX", message(3, "Umlaut", "Die Größe zählt."))
        d.append("alice", "INBOX", message(4, "Other", "plain text"))
        d.write_petrel_config(home="ss")
        with TmuxUI(d, ["-a", "alice"], home="ss") as ui:
            s = ui.wait(lambda s: "Msgs:4" in s and "online" in s, 30)
            check(s is not None, "the index shows, no body cached")
            limit(ui, "~b zebraneedle")
            s = ui.wait(lambda s: "Hidden needle" in s and
                        "Plain one" not in s, 10)
            check(s is not None, "~b finds the message whose body is not "
                  "cached, by the server's SEARCH (%r)" %
                  (s or getattr(ui, "last", ""))[-400:])
            check(b'UID SEARCH RETURN (ALL) CHARSET UTF-8 BODY "zebraneedle"'
                  in sent(d), "it asked UID SEARCH ... BODY")
            limit(ui, "~b Größe")
            s = ui.wait(lambda s: "Umlaut" in s and "Hidden" not in s, 10)
            check(s is not None, "a non-ASCII word too (%r)" %
                  (s or getattr(ui, "last", ""))[-400:])
            check("BODY {7+}".encode() in sent(d),
                  "sent as a literal (LITERAL+)")
            limit(ui, "~B Umlaut")
            s = ui.wait(lambda s: "Umlaut" in s and "Other" not in s, 10)
            check(s is not None and b"TEXT \"Umlaut\"" in sent(d),
                  "~B asks TEXT (%r)" % (s or getattr(ui, "last", ""))[-300:])
            limit(ui, "all")
            s = ui.wait(lambda s: "Msgs:4" in s and "Other" in s, 10)
            check(s is not None, "the limit goes")
            ui.keys("q")
            check(ui.wait("PETREL-EXIT=0", 10) is not None, "q quits")
    check.done()


if __name__ == "__main__":
    main()
