#!/usr/bin/env python3
"""petrel send / outbox through a real private Postfix (submission with
STARTTLS and SASL through the test Dovecot, delivering by LMTP into its
INBOXes), read back over IMAP with imaplib:

- a UTF-8 message with a Korean subject and body, To/Cc/Bcc: each
  recipient gets one copy, no delivered copy shows Bcc, the filed copy in
  Sent keeps it, and `petrel render --json` of what arrived gives back the
  subject, sender and body that were sent;
- implicit TLS (smtps://) as well as STARTTLS;
- offline (--offline): queued, listed by `petrel outbox`, sent once by the
  next `petrel sync`;
- the server unreachable: queued (exit 0, the reason on stderr), then sent
  by a sync, exactly once;
- a 4xx from the server: queued with its words and a backoff;
- a recipient refused with a 5xx: held with the server's words, nothing
  delivered to anyone; --retry and --cancel;
- a message the server took but that could not be filed (record names a
  folder the server refuses): kept as sent, never sent again by the syncs
  after, filed once the folder can be written.
"""

import email
import email.policy
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from tmuxui import TmuxUI  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "fake"))
from fakesmtp import FakeSMTP  # noqa: E402

check = harness.Check()
CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                      "corpus")


def messages(d, user, folder="INBOX"):
    """The raw messages of user's folder, by UID (imaplib)."""
    m = d.imap_client(user)
    out = {}
    typ, _ = m.select(harness.imap_mailbox(folder), readonly=True)
    if typ == "OK":
        typ, data = m.uid("SEARCH", None, "ALL")
        for uid in data[0].split():
            typ, msg = m.uid("FETCH", uid, "(BODY.PEEK[])")
            out[int(uid)] = msg[0][1]
    m.logout()
    return out


def smtp_conf(pf, url=None):
    """The smtp keys: url, else the Postfix's submission port."""
    return {"smtp": url or "smtp://alice@127.0.0.1:%d" % pf.submission_port,
            "from": "Alice <alice@example.test>"}


def outbox(d):
    r = d.run_petrel(["outbox", "--json"])
    check.eq(r.status, 0, "outbox --json exits 0 (%s)" % r.stderr.strip())
    return [json.loads(l) for l in r.stdout.splitlines()]


def send(d, args, msg, want_state, what):
    r = d.run_petrel(["send"] + args, input=msg)
    check(r.status == 0 and r.stdout.strip() == want_state,
          "%s: exit 0 and %s (got %d, %r, %r)" % (what, want_state, r.status,
          r.stdout.strip(), r.stderr.strip()[:400]))
    return r


KOREAN = ("From: Alice <alice@example.test>\n"
          "To: Bob <bob@example.test>\n"
          "Cc: carol@example.test\n"
          "Bcc: dave@example.test\n"
          "Subject: =?UTF-8?B?7JWI64WV7ZWY7IS47JqUIOuplOydvA==?=\n"
          "MIME-Version: 1.0\n"
          "Content-Type: text/plain; charset=UTF-8\n"
          "Content-Transfer-Encoding: 8bit\n"
          "\n"
          "안녕하세요, 밥.\n"
          ".a line starting with a dot\n"
          "naïve café\n")


def test_korean(d, pf):
    send(d, ["-t"], KOREAN, "sent", "send -t a Korean message")
    for u in ("bob", "carol", "dave"):
        pf.wait_delivered(u, 1)
    for u in ("bob", "carol", "dave"):
        got = messages(d, u)
        check.eq(len(got), 1, "%s got one copy" % u)
        raw = list(got.values())[0] if got else b""
        check(b"\nBcc:" not in raw and not raw.startswith(b"Bcc:"),
              "%s's copy shows no Bcc" % u)
        check(b"\n..a line" not in raw and b"\n.a line" in raw,
              "%s's copy: the dot line arrived unstuffed" % u)
    raw = list(messages(d, "bob").values())[0]
    path = os.path.join(d.dir, "bob-got.eml")
    with open(path, "wb") as f:
        f.write(raw)
    r = d.run_petrel(["render", "--json", path])
    check.eq(r.status, 0, "render --json of what bob got")
    v = json.loads(r.stdout) if r.status == 0 else {}
    check.eq(v.get("subject"), "안녕하세요 메일", "the subject reads back")
    check("Alice <alice@example.test>" in str(v.get("from")),
          "the sender reads back (%r)" % v.get("from"))
    check("안녕하세요, 밥." in v.get("body", "") and
          "naïve café" in v.get("body", ""), "the body reads back")
    sent = messages(d, "alice", "Sent")
    check.eq(len(sent), 1, "Sent holds one copy")
    if sent:
        filed = list(sent.values())[0]
        check(b"Bcc: dave@example.test" in filed,
              "the filed copy keeps the Bcc")
    check.eq(outbox(d), [], "the outbox is empty after sending")


def test_smtps(d, pf):
    d.write_petrel_config(None, account="alice", extra=smtp_conf(
        pf, "smtps://alice@127.0.0.1:%d" % pf.smtps_port))
    msg = ("To: bob@example.test\nSubject: over smtps\n\nimplicit TLS\n")
    send(d, ["-t"], msg, "sent", "send over smtps://")
    pf.wait_delivered("bob", 2)
    got = [m for m in messages(d, "bob").values() if b"over smtps" in m]
    check.eq(len(got), 1, "bob got the smtps message once")
    # From, Date and Message-ID were added.
    if got:
        e = email.message_from_bytes(got[0], policy=email.policy.default)
        check(e["From"] is not None and "alice@example.test" in e["From"],
              "a From was added (%r)" % e["From"])
        check(e["Date"] is not None and e["Message-ID"] is not None,
              "Date and Message-ID were added")


def test_offline(d, pf):
    before = len(messages(d, "carol"))
    send(d, ["carol@example.test"], "Subject: argument\n\nrecipient given\n",
         "sent", "send with a recipient argument")
    pf.wait_delivered("carol", before + 1)
    r = d.run_petrel(["--offline", "send", "carol@example.test"],
                     input="Subject: offline\n\nwritten offline\n")
    check(r.status == 0 and r.stdout.strip() == "queued",
          "--offline send: queued (%r %r)" % (r.stdout, r.stderr))
    ob = outbox(d)
    check(len(ob) == 1 and ob[0]["state"] == "queued" and
          ob[0]["rcpts"] == ["carol@example.test"] and
          ob[0]["subject"] == "offline", "outbox lists it (%r)" % ob)
    r = d.run_petrel(["sync"])
    check.eq(r.status, 0, "sync sends the outbox (%s)" % r.stderr.strip())
    pf.wait_delivered("carol", before + 2)
    check.eq(outbox(d), [], "sent by the sync")
    d.run_petrel(["sync"])
    got = [m for m in messages(d, "carol").values() if b"written offline" in m]
    check.eq(len(got), 1, "carol got it exactly once")


def test_unreachable(d, pf):
    pf.stop()
    r = send(d, ["bob@example.test"], "Subject: down\n\nserver down\n",
             "queued", "send with the server down")
    check(r.stderr.strip() != "", "the reason is on stderr")
    ob = outbox(d)
    check(len(ob) == 1 and ob[0]["attempts"] == 1 and
          ob[0]["last_error"], "queued with its error (%r)" % ob)
    # Due now: the backoff is the TUI's; a sync asks for what is due.
    con = sqlite3.connect(cache_db(d))
    con.execute("UPDATE outbox SET next_try = 0")
    con.commit()
    con.close()
    pf.start()
    n = len(messages(d, "bob"))
    r = d.run_petrel(["sync"])
    check.eq(r.status, 0, "sync once the server is back")
    pf.wait_delivered("bob", n + 1)
    d.run_petrel(["sync"])
    got = [m for m in messages(d, "bob").values() if b"server down" in m]
    check.eq(len(got), 1, "delivered exactly once")
    check.eq(outbox(d), [], "nothing left in the outbox")


def test_refusals(d, pf):
    pf.defer_all()
    r = send(d, ["bob@example.test"], "Subject: later\n\n4xx\n", "queued",
             "a 4xx keeps it queued")
    check("451" in r.stderr, "the server's words are shown (%r)" % r.stderr)
    ob = outbox(d)
    check(len(ob) == 1 and ob[0]["next_try"] > ob[0]["created"],
          "with a backoff (%r)" % ob)
    d.run_petrel(["outbox", "--cancel", str(ob[0]["id"])])
    pf.accept_all()
    pf.refuse_recipient("nobody@example.test")
    mark = {u: len(messages(d, u)) for u in ("bob",)}
    r = send(d, ["bob@example.test", "nobody@example.test"],
             "Subject: refused\n\nno such user\n", "held",
             "a 5xx recipient holds it")
    check("550" in r.stderr and "nobody@example.test" in r.stderr,
          "the server's words name the recipient (%r)" % r.stderr)
    ob = outbox(d)
    check(len(ob) == 1 and ob[0]["state"] == "held" and
          "550" in (ob[0]["last_error"] or ""), "held in the outbox")
    d.run_petrel(["sync"])
    check.eq(len(messages(d, "bob")), mark["bob"],
             "nothing was delivered to the recipient accepted")
    check.eq(outbox(d)[0]["state"], "held", "a sync does not resend it")
    r = d.run_petrel(["outbox", "--retry", str(ob[0]["id"])])
    check.eq(r.status, 0, "outbox --retry")
    check.eq(outbox(d)[0]["state"], "queued", "queued again")
    r = d.run_petrel(["outbox", "--cancel", str(ob[0]["id"])])
    check.eq(r.status, 0, "outbox --cancel")
    check.eq(outbox(d), [], "cancelled")
    r = d.run_petrel(["outbox", "--cancel", "999"])
    check.eq(r.status, 2, "cancel of an unknown id is a usage error")
    pf.accept_all()


def test_bad_input(d, pf):
    """A refused login keeps the message queued; bad input is refused
    before anything is queued."""
    d.write_petrel_config(None, account="alice", extra=dict(
        smtp_conf(pf), smtp_password="an-expired-password"))
    r = send(d, ["bob@example.test"], "Subject: pw\n\nafter the password\n",
             "queued", "a refused SMTP login")
    check("login as alice failed" in r.stderr and "535" in r.stderr,
          "the server's refusal is shown (%r)" % r.stderr)
    check("an-expired-password" not in r.stderr + r.stdout,
          "the password is never shown")
    d.write_petrel_config(None, account="alice", extra=smtp_conf(pf))
    con = sqlite3.connect(cache_db(d))
    con.execute("UPDATE outbox SET next_try = 0")
    con.commit()
    con.close()
    n = len(messages(d, "bob"))
    check.eq(d.run_petrel(["sync"]).status, 0, "sync with the password "
             "fixed")
    pf.wait_delivered("bob", n + 1)
    check.eq(outbox(d), [], "sent once the login works")
    for what, msg, args in (
            ("no header fields", "just a line of text\n", ["bob@x.test"]),
            ("no recipients", "Subject: none\n\nbody\n", ["-t"]),
            ("a NUL byte", "Subject: nul\n\na\0b\n", ["bob@x.test"])):
        r = d.run_petrel(["send"] + args, input=msg)
        check(r.status == 2 and r.stderr.startswith("petrel: "),
              "send refuses %s: exit 2 and why (%d %r)" % (what, r.status,
                                                          r.stderr))
    check.eq(outbox(d), [], "nothing was queued for bad input")


def test_sent_not_filed(d, pf):
    """The server took it; filing failed: never sent again, filed later."""
    base = smtp_conf(pf)
    d.write_petrel_config(None, account="alice",
                          extra=dict(base, record="NoSuchParent/Sent"))
    n = len(messages(d, "bob"))
    r = send(d, ["bob@example.test"], "Subject: once\n\nonly once\n",
             "sent", "sent, with a record folder the server refuses")
    check(r.stderr.strip() != "", "the filing error is on stderr")
    pf.wait_delivered("bob", n + 1)
    ob = outbox(d)
    check(len(ob) == 1 and ob[0]["state"] == "sent" and ob[0]["sent_at"],
          "kept as sent, to be filed (%r)" % ob)
    d.run_petrel(["sync"])
    d.run_petrel(["sync"])
    got = [m for m in messages(d, "bob").values() if b"only once" in m]
    check.eq(len(got), 1, "never sent again by the syncs after")
    d.write_petrel_config(None, account="alice", extra=base)
    r = d.run_petrel(["sync"])
    check.eq(r.status, 0, "sync with record fixed")
    check.eq(outbox(d), [], "filed, and gone from the outbox")
    filed = [m for m in messages(d, "alice", "Sent").values()
             if b"only once" in m]
    check.eq(len(filed), 1, "filed in Sent once")


def cache_db(d):
    return os.path.join(d.petrel_home()["cache"], "petrel", "alice.db")


def test_cut_after_250(d):
    """FAKE server: 250 to the message, then the connection cut."""
    with FakeSMTP(fault="drop_after_250") as f:
        d.write_petrel_config(None, account="alice", extra=smtp_conf(
            None, "smtp+insecure://alice@127.0.0.1:%d" % f.port))
        send(d, ["bob@example.test"], "Subject: cut\n\ncut after 250\n",
             "sent", "cut after the 250: sent")
        d.run_petrel(["sync"])
        d.run_petrel(["sync"])
        check.eq(len(f.messages), 1, "cut after the 250: taken once, "
                 "never sent again (%d connections)" % f.connections)
        check.eq(outbox(d), [], "cut after the 250: filed and gone")
    filed = [m for m in messages(d, "alice", "Sent").values()
             if b"cut after 250" in m]
    check.eq(len(filed), 1, "cut after the 250: filed in Sent once")


def test_sigkill(d, pf):
    """SIGKILL while sending: the message stays, and goes out once."""
    with FakeSMTP(fault="silent") as f:
        d.write_petrel_config(None, account="alice", extra=smtp_conf(
            None, "smtp+insecure://alice@127.0.0.1:%d" % f.port))
        p = subprocess.Popen([harness.petrel_binary(), "send",
                              "bob@example.test"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=d.petrel_env())
        p.stdin.write(b"Subject: killed\n\nsurvives SIGKILL\n")
        p.stdin.close()
        end = time.monotonic() + 20
        while f.connections == 0 and time.monotonic() < end:
            time.sleep(0.01)
        check(f.connections > 0, "sigkill: petrel is talking to the server")
        p.kill()
        p.wait()
        check.eq(p.returncode, -signal.SIGKILL, "sigkill: killed mid-send")
    ob = outbox(d)
    check(len(ob) == 1 and ob[0]["state"] == "queued" and
          ob[0]["subject"] == "killed", "sigkill: still in the outbox "
          "(%r)" % ob)
    d.write_petrel_config(None, account="alice", extra=smtp_conf(pf))
    n = len(messages(d, "bob"))
    r = d.run_petrel(["sync"])
    check.eq(r.status, 0, "sigkill: the next sync (%s)" % r.stderr.strip())
    pf.wait_delivered("bob", n + 1)
    d.run_petrel(["sync"])
    got = [m for m in messages(d, "bob").values() if b"survives SIGKILL" in m]
    check.eq(len(got), 1, "sigkill: delivered exactly once")
    check.eq(outbox(d), [], "sigkill: nothing left")


EDITOR = r"""#!/usr/bin/env python3
# A scripted $EDITOR. A new message gets a recipient, a subject and a body;
# a forward gets a recipient and a line; an answer gets a line above the
# quote and, when it would leave the test domain, goes to bob instead. The
# final draft is kept in FILE.final. Exits 1 when FILE.fail exists.
import os, sys
path = sys.argv[1]
if os.path.exists(path + ".fail"):
    sys.exit(1)
text = open(path, encoding="utf-8").read()
head, _, body = text.partition("\n\n")
hdr = [l.split(":", 1) for l in head.split("\n")]
hdr = [(k, v.strip()) for k, v in hdr]
val = dict(hdr)
if val["Subject"] == "":
    val.update(To="bob@example.test", Subject="TUI 새 메일")
    body = "written in the editor\n" + body
elif val["Subject"].startswith("Fwd:"):
    val["To"] = "bob@example.test"
    body = "FYI.\n" + body
else:
    if "example.test" not in val["To"] or "nobody@" in val["To"]:
        val["To"] = "bob@example.test"
        val["Cc"] = ""
    body = "Thanks, noted.\n\n" + body
out = "".join("%s: %s\n" % (k, val[k]) for k, _ in hdr) + "\n" + body
open(path, "w", encoding="utf-8").write(out)
open(path + ".final", "w", encoding="utf-8").write(out)
"""


def test_tui(d, pf):
    """m and g in the TUI with a scripted editor; the server checked."""
    d.append("alice", "INBOX", "From: Carol <carol@example.test>\n"
             "To: alice@example.test\nCc: dave@example.test\n"
             "Subject: Question\nMessage-ID: <q1@example.test>\n\n"
             "Shall we meet?\n")
    for name in ("cs-euc-kr.eml", "cs-iso-2022-jp-perl.eml"):
        with open(os.path.join(CORPUS, name), "rb") as f:
            d.append("alice", "INBOX", f.read())
    r = d.run_petrel(["sync", "--bodies"])
    check.eq(r.status, 0, "tui: sync --bodies (%s)" % r.stderr.strip())
    ed = os.path.join(d.dir, "editor.py")
    with open(ed, "w") as f:
        f.write(EDITOR)
    os.chmod(ed, 0o755)
    tmp = os.path.join(d.dir, "tmp")
    os.makedirs(tmp, exist_ok=True)
    nbob = len(messages(d, "bob"))
    with TmuxUI(d, env={"EDITOR": ed, "TMPDIR": tmp}) as ui:
        check(ui.wait("Question") is not None, "tui: the index shows it")
        ui.keys("m")
        s = ui.wait("y:send")
        check(s is not None and "bob@example.test" in s and
              "TUI 새 메일" in s, "tui: m: the compose screen shows the "
              "edited draft (%r)" % (s or ui.last)[-600:])
        ui.keys("y")
        check(ui.wait("Sending in the background") is not None,
              "tui: y sends in the background")
        pf.wait_delivered("bob", nbob + 1)
        got = [m for m in messages(d, "bob").values()
               if b"written in the editor" in m]
        check.eq(len(got), 1, "tui: bob got the new message once")
        # Group reply to Carol's question: To Carol, Cc Dave, not Alice.
        limit_to(ui, "~s Question")
        check(ui.wait("Lim:1") is not None, "tui: limited to the question")
        ui.keys("g")
        s = ui.wait("y:send")
        check(s is not None and "Re: Question" in s and
              "dave@example.test" in s and "carol@example.test" in s,
              "tui: g: Re:, To and Cc (%r)" % (s or ui.last)[-600:])
        # An editor that fails keeps the draft on screen.
        open(os.path.join(tmp, "x"), "w").close()
        drafts = [f for f in os.listdir(tmp) if f.startswith("petrel-draft")]
        for f in drafts:
            open(os.path.join(tmp, f + ".fail"), "w").close()
        ui.keys("e")
        check(ui.wait("the editor failed") is not None,
              "tui: an editor exiting 1 is reported, the draft kept")
        for f in drafts:
            os.unlink(os.path.join(tmp, f + ".fail"))
        ui.keys("y")
        ncarol = len(messages(d, "carol"))
        check(ui.wait("Sending in the background") is not None,
              "tui: the group reply is sent")
        pf.wait_delivered("carol", ncarol + 1)
        pf.wait_delivered("dave", 1)
        got = [m for m in messages(d, "carol").values()
               if b"Thanks, noted." in m]
        check.eq(len(got), 1, "tui: carol got the reply once")
        if got:
            e = email.message_from_bytes(got[0], policy=email.policy.default)
            check.eq(e["In-Reply-To"], "<q1@example.test>",
                     "tui: In-Reply-To names the original")
            check("> Shall we meet?" in e.get_content(),
                  "tui: the original is quoted")
            check("alice" not in (e["Cc"] or ""), "tui: not to ourselves")
        ok = False
        for _ in range(100):
            fl = [m["flags"] for m in d.fetch_index("alice").values()
                  if m["message_id"] == "<q1@example.test>"]
            if fl and "\\Answered" in fl[0]:
                ok = True
                break
            time.sleep(0.1)
        check(ok, "tui: the original is \\Answered on the server")
        tui_corpus(d, pf, ui, tmp)
        tui_postpone(d, pf, ui)
        tui_outbox(d, pf, ui)
        tui_uncached(d, pf, ui)
    test_forward_attached(d, pf, ed, tmp)


def final_draft(tmp):
    """The newest draft the editor saved: (headers dict, body)."""
    fs = sorted((os.path.getmtime(os.path.join(tmp, f)), f)
                for f in os.listdir(tmp) if f.endswith(".final"))
    text = open(os.path.join(tmp, fs[-1][1]), encoding="utf-8").read()
    head, _, body = text.partition("\n\n")
    return dict((k, v.strip()) for k, v in
                (l.split(":", 1) for l in head.split("\n"))), body


def rendered(d, raw, name):
    path = os.path.join(d.dir, name)
    with open(path, "wb") as f:
        f.write(raw)
    r = d.run_petrel(["render", "--json", path])
    check.eq(r.status, 0, "render --json of %s" % name)
    return json.loads(r.stdout) if r.status == 0 else {}, path


def limit_to(ui, pattern):
    ui.keys("l")
    ui.keys("C-u")
    ui.type(pattern)
    ui.keys("Enter")


def wait_server(pred, timeout=20):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.1)
    return False


def tui_postpone(d, pf, ui):
    """P files the draft in Drafts; R takes it up again and sends it,
    and the copy in Drafts is deleted."""
    limit_to(ui, "~A")
    att = os.path.join(d.dir, "plan é.csv")
    with open(att, "w", encoding="utf-8") as f:
        f.write("week,task\n1,résumé attachments\n")
    ui.keys("m")
    check(ui.wait("P:postpone") is not None, "postpone: compose screen")
    ui.keys("a")
    ui.wait("Attach file:")
    ui.type(att)
    ui.keys("Enter")
    check(ui.wait("plan é.csv") is not None, "postpone: a file attached")
    ui.keys("P")
    check(ui.wait("Postponed") is not None, "postpone: P says so")
    check(wait_server(lambda: len(messages(d, "alice", "Drafts")) == 1),
          "postpone: the draft is in Drafts on the server")
    drafts = d.fetch_index("alice", "Drafts")
    check(any("\\Draft" in m["flags"] for m in drafts.values()),
          "postpone: marked \\Draft")
    check.eq(outbox(d), [], "postpone: filed, and gone from the outbox")
    ui.keys("c")
    ui.keys("C-u")
    ui.type("Drafts")
    ui.keys("Enter")
    check(ui.wait("TUI 새 메일") is not None, "postpone: the draft is "
          "listed in Drafts")
    ui.keys("Enter")
    check(ui.wait("written in the editor") is not None,
          "postpone: the draft opens")
    nbob = len(messages(d, "bob"))
    ui.keys("R")
    s = ui.wait("y:send")
    check(s is not None and "TUI 새 메일" in s and "bob@example.test" in s,
          "postpone: R resumes it (%r)" % (s or ui.last)[-400:])
    check(s is not None and "plan é.csv" in s and "[-- Attachment" not in s,
          "postpone: its attachment is attached again, not text")
    ui.keys("y")
    check(ui.wait("Sending in the background") is not None,
          "postpone: the resumed draft is sent")
    pf.wait_delivered("bob", nbob + 1)
    got = [m for m in messages(d, "bob").values()
           if b"Thanks, noted." in m and b"written in the editor" in m]
    check.eq(len(got), 1, "postpone: bob got the resumed message once")
    if got:
        e = email.message_from_bytes(got[0], policy=email.policy.default)
        parts = [p for p in e.walk() if p.get_filename()]
        check(len(parts) == 1 and parts[0].get_filename() == "plan é.csv" and
              "résumé attachments".encode() in parts[0].get_payload(decode=True),
              "postpone: the attachment went with it, name and bytes (%r)" %
              [p.get_filename() for p in parts])
        check(b"[-- Attachment" not in got[0],
              "postpone: no attachment line in the text")
    left = [f for f in os.listdir(os.path.join(d.dir, "tmp"))
            if f.startswith("petrel-parts-")]
    check.eq(left, [], "postpone: the saved attachments are gone after")
    check(wait_server(lambda: all("\\Deleted" in m["flags"] for m in
                                  d.fetch_index("alice", "Drafts").values())),
          "postpone: the draft in Drafts is marked \\Deleted")


def test_forward_attached(d, pf, ed, tmp):
    """mime_forward = yes: f sends the message whole, as message/rfc822."""
    path = d.petrel_config_path()
    with open(path, "a") as f:
        f.write("\n[options]\nmime_forward = yes\n")
    nbob = len(messages(d, "bob"))
    with TmuxUI(d, env={"EDITOR": ed, "TMPDIR": tmp}) as ui:
        check(ui.wait("--- petrel:") is not None, "mime_forward: TUI")
        limit_to(ui, "~f alice@example.org ~s 한국어")
        check(ui.wait("Lim:1") is not None, "mime_forward: limited")
        ui.keys("f")
        s = ui.wait("y:send")
        check(s is not None and "the forwarded message, attached whole" in s,
              "mime_forward: the compose screen names the attached "
              "message (%r)" % (s or ui.last)[-400:])
        ui.keys("y")
        check(ui.wait("Sending in the background") is not None,
              "mime_forward: sent")
        pf.wait_delivered("bob", nbob + 1)
    got = [m for m in messages(d, "bob").values() if b"message/rfc822" in m]
    check.eq(len(got), 1, "mime_forward: bob got it once")
    if got:
        e = email.message_from_bytes(got[0], policy=email.policy.default)
        inner = [p for p in e.walk() if p.get_content_type() ==
                 "message/rfc822"]
        check(len(inner) == 1 and inner[0].get_payload()[0]["Message-ID"] ==
              "<43b632db29d938c8@corpus.example>",
              "mime_forward: the original travels whole, as message/rfc822")
        check(e["Subject"].startswith("Fwd: "), "mime_forward: Fwd: subject")


def tui_outbox(d, pf, ui):
    """M: the outbox screen; a held message retried, edited (its
    recipient fixed) and sent; a queued one cancelled."""
    pf.refuse_recipient("nobody@example.test")
    send(d, ["nobody@example.test"], "Subject: to fix\n\nwrong address\n",
         "held", "outbox: a held message for the TUI")
    r = d.run_petrel(["--offline", "send", "carol@example.test"],
                     input="Subject: to cancel\n\nnever\n")
    check.eq(r.stdout.strip(), "queued", "outbox: a queued message")
    ui.keys("q")
    ui.keys("M")
    s = ui.wait(lambda t: "Outbox of alice: 2 messages" in t and
                "held" in t and "refused recipient" in t)
    check(s is not None, "outbox: M lists both, the held one with the "
          "server's words (%r)" % (s or ui.last)[-600:])
    ui.keys("r")
    s = ui.wait(lambda t: "not sent yet" in t and "550 5.1.1" in t)
    check(s is not None, "outbox: r tries again; the "
          "refusal is shown (%r)" % (s or ui.last)[-300:])
    nbob = len(messages(d, "bob"))
    ui.keys("e")
    s = ui.wait("y:send")
    check(s is not None and "bob@example.test" in s,
          "outbox: e edits it (the recipient fixed)")
    ui.keys("y")
    pf.wait_delivered("bob", nbob + 1)
    got = [m for m in messages(d, "bob").values() if b"wrong address" in m]
    check.eq(len(got), 1, "outbox: the edited message went out once")
    ob = outbox(d)
    check(len(ob) == 1 and ob[0]["subject"] == "to cancel",
          "outbox: the edited one replaced the held one (%r)" % ob)
    ui.keys("M")
    check(ui.wait("Outbox of alice: 1 message") is not None,
          "outbox: one left on the screen")
    ui.keys("d")
    ui.wait("Cancel this message?")
    ui.keys("y")
    check(ui.wait("Outbox of alice: 0 messages") is not None,
          "outbox: d, y cancels it")
    check.eq(outbox(d), [], "outbox: empty")
    ui.keys("q")
    pf.accept_all()


def tui_uncached(d, pf, ui):
    """r on a message whose body is not cached yet: it is fetched through
    the session and the editor starts once it is here."""
    d.append("alice", "INBOX", "From: Carol <carol@example.test>\n"
             "To: alice@example.test\nSubject: Uncached question\n"
             "Message-ID: <uq1@example.test>\n\nNot here yet?\n")
    r = d.run_petrel(["sync"])      # headers only
    check.eq(r.status, 0, "uncached: sync of the headers")
    ncarol = len(messages(d, "carol"))
    ui.keys("c")
    ui.keys("C-u")
    ui.type("INBOX")
    ui.keys("Enter")
    ui.wait("alice/INBOX")
    limit_to(ui, "~s Uncached")
    check(ui.wait("Lim:1") is not None, "uncached: limited to it")
    ui.keys("r")
    s = ui.wait("y:send")
    check(s is not None and "Re: Uncached question" in s,
          "uncached: r fetched the body and opened the editor (%r)" %
          (s or ui.last)[-400:])
    ui.keys("y")
    pf.wait_delivered("carol", ncarol + 1)
    got = [m for m in messages(d, "carol").values()
           if b"> Not here yet?" in m]
    check.eq(len(got), 1, "uncached: the answer quotes the fetched body")
    limit_to(ui, "all")


def tui_corpus(d, pf, ui, tmp):
    """Answer and forward messages of the MIME corpus (EUC-KR,
    ISO-2022-JP), the forward with an attachment whose name is Korean;
    what bob receives renders back to exactly what was composed."""
    # The corpus messages were appended and their bodies synced before.
    nbob = len(messages(d, "bob"))
    limit_to(ui, "~f alice@example.org ~s 한국어")
    check(ui.wait("메일") is not None, "corpus: the EUC-KR message listed")
    ui.keys("r")
    s = ui.wait("y:send")
    check(s is not None and "Re: 한국어 메일" in s,
          "corpus: r: Re: and the decoded subject (%r)"
          % (s or ui.last)[-400:])
    ui.keys("y")
    ui.wait("Sending in the background")
    hdr, body = final_draft(tmp)
    pf.wait_delivered("bob", nbob + 1)
    got = [m for m in messages(d, "bob").values() if b"corpus.example" in m]
    check.eq(len(got), 1, "corpus: bob got the reply to the EUC-KR message")
    if got:
        v, _ = rendered(d, got[0], "reply-euckr.eml")
        check.eq(v.get("subject"), hdr["Subject"], "corpus: the reply's "
                 "subject reads back as composed")
        check.eq(v.get("body", "").rstrip("\n"), body.rstrip("\n"),
                 "corpus: the reply's body reads back exactly as composed")
        check("> 안녕하세요. 이 메일은 한국어로 작성되었습니다." in
              v.get("body", ""), "corpus: the EUC-KR text is quoted")
        check(b"Content-Transfer-Encoding: 8bit" in got[0],
              "corpus: 8bit text, since the server offers 8BITMIME")
        e = email.message_from_bytes(got[0], policy=email.policy.default)
        check.eq(e["In-Reply-To"], "<43b632db29d938c8@corpus.example>",
                 "corpus: In-Reply-To")
        check("<43b632db29d938c8@corpus.example>" in (e["References"] or ""),
              "corpus: References")
    # Forward the ISO-2022-JP one, with a file whose name is Korean.
    att = os.path.join(d.dir, "보고서 2026.txt")
    with open(att, "w", encoding="utf-8") as f:
        f.write("첨부 파일 내용\n")
    limit_to(ui, "~f yamada@example.jp")
    check(ui.wait("会議") is not None, "corpus: the ISO-2022-JP message "
          "listed")
    ui.keys("f")
    s = ui.wait("y:send")
    check(s is not None and "Fwd: 会議の議事録について" in s,
          "corpus: f: Fwd: and the decoded subject (%r)"
          % (s or ui.last)[-400:])
    ui.keys("a")
    ui.wait("Attach file:")
    ui.type(os.path.join(d.dir, "보고"))
    ui.keys("Tab")
    check(ui.wait("보고서 2026.txt") is not None, "corpus: Tab completes "
          "the file name")
    ui.keys("Enter")
    check(ui.wait("보고서 2026.txt") is not None, "corpus: the attachment "
          "is listed on the compose screen")
    ui.keys("y")
    ui.wait("Sending in the background")
    hdr, body = final_draft(tmp)
    pf.wait_delivered("bob", nbob + 2)
    got = [m for m in messages(d, "bob").values() if b"FYI." in m]
    check.eq(len(got), 1, "corpus: bob got the forward")
    if got:
        v, path = rendered(d, got[0], "fwd-jp.eml")
        check.eq(v.get("subject"), hdr["Subject"], "corpus: the forward's "
                 "subject reads back as composed")
        check(v.get("body", "").startswith(body.rstrip("\n")),
              "corpus: the forward's text reads back as composed")
        check("日本語のメールです。半角カナも少し。" in v.get("body", ""),
              "corpus: the ISO-2022-JP text is forwarded")
        a = v.get("attachments", [])
        check(len(a) == 1 and a[0]["filename"] == "보고서 2026.txt",
              "corpus: the attachment's Korean name reads back (%r)" % a)
        out = os.path.join(d.dir, "saved")
        os.makedirs(out, exist_ok=True)
        r = d.run_petrel(["render", "--save", "1", out, path])
        saved = os.path.join(out, "보고서 2026.txt")
        check(r.status == 0 and os.path.exists(saved) and
              open(saved, encoding="utf-8").read() == "첨부 파일 내용\n",
              "corpus: the attachment saves back byte for byte (%r)"
              % r.stderr)
    fl = [m["flags"] for m in d.fetch_index("alice").values()
          if m["message_id"] == "<43b632db29d938c8@corpus.example>"]
    check(bool(fl), "corpus: the answered message is on the server")


def main():
    with harness.Dovecot(smtp=True) as d, harness.Postfix(d) as pf:
        d.create_folder("alice", "Sent")
        d.create_folder("alice", "Drafts")
        d.write_petrel_config(None, account="alice", extra=smtp_conf(pf))
        r = d.run_petrel(["sync"])
        check.eq(r.status, 0, "first sync (%s)" % r.stderr.strip())
        test_korean(d, pf)
        test_smtps(d, pf)
        d.write_petrel_config(None, account="alice", extra=smtp_conf(pf))
        test_offline(d, pf)
        test_unreachable(d, pf)
        test_refusals(d, pf)
        test_bad_input(d, pf)
        test_sent_not_filed(d, pf)
        test_cut_after_250(d)
        test_sigkill(d, pf)
        d.write_petrel_config(None, account="alice", extra=smtp_conf(pf))
        test_tui(d, pf)
    check.done()


if __name__ == "__main__":
    main()
