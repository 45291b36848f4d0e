#!/usr/bin/env python3
"""Every folder kept current, and new mail told, against the private
Dovecot (which has NOTIFY, RFC 5465):

- `sync --watch` asks NOTIFY SET (the rawlog says so) and a message
  delivered to a folder other than the one it IDLEs in shows as a change
  line within 2 s, without a periodic sync (check_interval is an hour);
- new_mail_command gets account, folder, count, sender and subject as
  arguments and as JSON on its stdin, with the control characters of a
  hostile subject taken out and no shell between (a `;` stays a `;`);
  mail that was already there when the watch began, or that is seen, is
  not new; a sync --watch line says "new_mail";
- a folder deleted and made again elsewhere (a new UIDVALIDITY) is read
  again from scratch while watching;
- with imap_notify = no the other folder waits for the periodic sync;
- in the TUI the sidebar's count of the other folder changes within 2 s
  and the status line says where new mail arrived.
"""

import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from tmuxui import TmuxUI  # noqa: E402
from watchproc import Watch, changed  # noqa: E402

check = harness.Check()


def message(i, subject, sender="Sender <s@example.org>"):
    return ("From: %s\nTo: alice@example.org\n"
            "Subject: %s\nMessage-ID: <n%02d@example.org>\n"
            "Date: Thu, 01 Jan 2026 10:%02d:00 +0000\n\nBody %d.\n" %
            (sender, subject, i, i, i))


def write_config(d, home, options=""):
    path = d.petrel_config_path(home)
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    with open(path, "w") as f:
        f.write("[options]\ncheck_interval = 3600\n%s\n" % options)
        f.write(d.account_section("alice"))
    os.chmod(path, 0o600)


def sent(d, what):
    return sum(c.count(what) for c in
               (s.get("in", b"") for s in d.rawlog("alice")))


def wait_file(path, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        if os.path.exists(path) and os.path.getsize(path) > 0:
            time.sleep(0.2)     # the command writes, then closes
            with open(path) as f:
                return f.read()
        time.sleep(0.05)
    return None


def test_watch(d, tmp):
    hook = os.path.join(tmp, "hook.sh")
    out = os.path.join(tmp, "hook-out")
    with open(hook, "w") as f:
        f.write('#!/bin/sh\nn=0\nfor a in "$@"; do n=$((n+1)); '
                'printf "%s\\n" "$a" >> "$1.args"; done\n'
                'cat > "$1.json"\nmv "$1.args" "$1"\n')
    os.chmod(hook, 0o755)
    write_config(d, "w", "new_mail_command = '%s' '%s' 'a;b'\n" %
                 (hook, out))

    w = Watch(d.petrel_env("w"), stderr=os.path.join(d.dir, "watch.err"))
    ev = w.wait(changed("Archive", 1), 30)
    check(ev is not None, "--watch: Archive reported after the first sync "
          "(%r)" % w.lines)
    end = time.time() + 10
    while time.time() < end and sent(d, b"NOTIFY SET") == 0:
        time.sleep(0.1)
    check(sent(d, b"NOTIFY SET") > 0, "the session asks NOTIFY SET")
    check(not os.path.exists(out), "mail there before the watch is not new")

    time.sleep(1)
    t0 = time.monotonic()
    d.append("alice", "Archive",
             message(10, "Hostile\x1b[2J subject; rm -rf x",
                     "Mallory \x07<m@example.org>"))
    ev = w.wait(changed("Archive", 2), 10)
    dt = time.monotonic() - t0
    check(ev is not None and dt < 2.0, "a message in another folder shows "
          "within 2 s: %.2f s (%r)" % (dt, ev or w.lines[-3:]))
    text = wait_file(out)
    check(text is not None, "new_mail_command ran (%s)" %
          open(w.errfile).read()[-500:])
    args = (text or "").split("\n")[:-1]
    check.eq(args[:5], [out, "a;b", "alice", "Archive", "1"],
             "its arguments: the configured words, account, folder, count "
             "(no shell)")
    check(len(args) == 7 and "m@example.org" in args[5] and
          "\x07" not in args[5], "then the sender, controls out (%r)" %
          args[5:6])
    check(len(args) == 7 and args[6].startswith("Hostile") and
          "\x1b" not in args[6] and "rm -rf x" in args[6],
          "and the subject, controls out (%r)" % args[6:])
    try:
        with open(out + ".json") as f:
            js = json.load(f)
    except (OSError, ValueError) as e:
        js = {"error": str(e)}
    check(js.get("account") == "alice" and js.get("folder") == "Archive" and
          js.get("count") == 1 and len(js.get("messages", [])) == 1 and
          js["messages"][0].get("subject", "").startswith("Hostile") and
          "\x1b" not in js["messages"][0].get("subject", ""),
          "and JSON on its stdin (%r)" % js)
    ev = w.wait(lambda ev: ev.get("event") == "new_mail", 5)
    check(ev is not None and ev.get("folder") == "Archive" and
          ev.get("count") == 1, "a new_mail line (%r)" % ev)

    # Seen mail is not new; the command is not run again for it.
    if os.path.exists(out):
        os.unlink(out)
    d.append("alice", "Archive", message(11, "Read elsewhere"), flags="\\Seen")
    check(w.wait(changed("Archive", 3), 10) is not None,
          "a seen message: the count changes")
    time.sleep(1)
    check(not os.path.exists(out), "but it is not new mail")

    # A flag set in the other folder: its unseen count follows.
    m = d.imap_client("alice")
    m.select("Archive")
    m.store("1:*", "+FLAGS", "\\Seen")
    m.logout()
    ev = w.wait(lambda ev: changed("Archive", 3)(ev) and
                ev.get("unseen") == 0, 10)
    check(ev is not None, "a flag set in another folder shows (%r)" %
          (ev or w.lines[-3:]))

    # The folder deleted and made again: a new UIDVALIDITY, seen live.
    d.doveadm("mailbox", "delete", "-u", "alice", "Archive")
    d.create_folder("alice", "Archive")
    d.append("alice", "Archive", message(20, "Reborn one"))
    d.append("alice", "Archive", message(21, "Reborn two"))
    ev = w.wait(changed("Archive", 2), 15)
    check(ev is not None, "a folder recreated elsewhere (new UIDVALIDITY): "
          "the cache holds its new messages only (%r)" % (ev or w.lines[-3:]))
    check.eq(w.stop()[0], 0, "SIGTERM ends it")


def test_no_notify(d):
    write_config(d, "nn", "imap_notify = no\n")
    w = Watch(d.petrel_env("nn"))
    check(w.wait(changed("Archive", 2), 30) is not None,
          "imap_notify = no: the first sync")
    before = sent(d, b"NOTIFY SET")
    time.sleep(1)
    d.append("alice", "Archive", message(12, "Unnoticed"))
    ev = w.wait(changed("Archive", 3), 4)
    check(ev is None, "imap_notify = no: another folder waits for the "
          "periodic sync (%r)" % ev)
    check.eq(sent(d, b"NOTIFY SET"), before, "and no NOTIFY is asked")
    w.stop()


def test_tui(d):
    write_config(d, "tui", "sidebar_visible = yes\n")
    with TmuxUI(d, ["-a", "alice"], home="tui") as ui:
        s = ui.wait(lambda s: "online" in s and "Archive" in s, 30)
        check(s is not None, "the TUI shows the sidebar (%r)" %
              getattr(ui, "last", "")[-300:])
        end = time.time() + 10
        while time.time() < end and sent(d, b"NOTIFY SET") < 2:
            time.sleep(0.1)
        time.sleep(0.5)
        d.append("alice", "Archive", message(13, "For the sidebar"))
        t0 = time.monotonic()
        s = ui.wait(lambda s: any("Archive" in l and " 4/4" in l
                                  for l in s.split("\n")), 10)
        dt = time.monotonic() - t0
        check(s is not None and dt < 2.0, "the sidebar's Archive count "
              "changes within 2 s: %.2f s (%r)" %
              (dt, (s or getattr(ui, "last", ""))[-600:]))
        s = ui.wait("New mail in Archive", 5)
        check(s is not None and "For the sidebar" in s,
              "the status line says where new mail arrived (%r)" %
              (s or getattr(ui, "last", ""))[-300:])
        ui.keys("q")
        check(ui.wait("PETREL-EXIT=0", 10) is not None, "q quits")


def main():
    with harness.Dovecot(rawlog=True) as d:
        d.append("alice", "INBOX", message(1, "In the inbox"))
        d.create_folder("alice", "Archive")
        d.append("alice", "Archive", message(2, "Archived before"))
        tmp = d.dir
        test_watch(d, tmp)
        test_no_notify(d)
        test_tui(d)
    check.done()


if __name__ == "__main__":
    main()
