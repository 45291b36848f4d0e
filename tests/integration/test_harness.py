#!/usr/bin/env python3
"""Self-test of the private Dovecot harness and of the seed tool.

Starts a real Dovecot, logs in over IMAPS, IMAP+STARTTLS, POP3S and
POP3+STLS with the Python stdlib, seeds messages and checks them through
IMAP against the seed manifest (which is itself checked against Python's
own RFC 2047 decoder), exercises the log parser, rawlog, kick, users added
at run time, stop/start on the same data, and that nothing is left behind.
Then a private Postfix in front of it: submission with STARTTLS and AUTH,
implicit TLS, delivery over LMTP into the Dovecot INBOXes, refusals.
"""

import email
import email.message
import email.policy
import imaplib
import json
import os
import poplib
import re
import signal
import smtplib
import socket
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

check = harness.Check()


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purpose.
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def group_alive(pgid):
    return harness.group_members(pgid) != []


def fix_utf8(s):
    """email's parser keeps raw 8-bit header bytes as surrogates."""
    return s.encode("utf-8", "surrogateescape").decode("utf-8")


def parse_headers(raw):
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    subj = fix_utf8(str(msg["subject"]))
    addr = msg["from"].addresses[0]
    return subj, fix_utf8(addr.display_name), addr.addr_spec


def test_logins(d):
    m = d.imap_client("alice")
    typ, caps = m.capability()
    caps = caps[0].decode().split()
    for c in ("CONDSTORE", "QRESYNC", "IDLE", "UIDPLUS", "MOVE", "ESEARCH",
              "SPECIAL-USE", "LIST-STATUS", "ENABLE", "LITERAL+"):
        check(c in caps, "IMAPS login; capability %s" % c)
    typ, data = m.list()
    listed = b"\n".join(data).decode()
    for name, flag in harness.SPECIAL_USE:
        check(re.search(r"\(.*\\%s.*\) \"/\" %s" % (flag[1:], name), listed)
              is not None, "LIST shows %s with %s" % (name, flag))
    m.logout()

    m = d.imap_client("bob", starttls=True)
    check(m.state == "AUTH", "IMAP STARTTLS login")
    m.logout()

    # Dovecot counts 127.0.0.1 -> 127.0.0.1 as secured: plaintext LOGIN
    # works there even with disable_plaintext_auth = yes (the default).
    # If this ever changes, strict_plain (below) is no longer needed.
    m = imaplib.IMAP4(d.host, d.imap_port, timeout=30)
    check("STARTTLS" in m.capabilities, "plain IMAP port offers STARTTLS")
    check("LOGINDISABLED" not in m.capabilities,
          "Dovecot trusts same-IP loopback: no LOGINDISABLED on 127.0.0.1")
    m.shutdown()

    p = d.pop3_client("alice")
    check(p.stat() == (0, 0), "POP3S login, empty mailbox")
    p.quit()
    p = d.pop3_client("carol", stls=True)
    check(p.stat() == (0, 0), "POP3 STLS login")
    p.quit()
    p = poplib.POP3(d.plain_host, d.pop3_port, timeout=30)
    check("STLS" in p.capa(), "plain POP3 port offers STLS")
    p.quit()

    # The certificate verifies only with the harness CA file.
    try:
        ctx = ssl.create_default_context()
        with socket.create_connection((d.host, d.imaps_port), 10) as s:
            ctx.wrap_socket(s, server_hostname="127.0.0.1")
        check(False, "certificate refused without ca_file")
    except ssl.SSLCertVerificationError:
        check(True, "certificate refused without ca_file")
    for name in ("127.0.0.1", "localhost"):
        with socket.create_connection((d.host, d.imaps_port), 10) as s:
            with d.ssl_context().wrap_socket(s, server_hostname=name) as t:
                check(t.version() is not None,
                      "certificate verifies for %s with ca_file" % name)
    fp = d.cert_fingerprint()
    check(re.fullmatch(r"sha256:([0-9A-F]{2}:){31}[0-9A-F]{2}", fp)
          is not None, "cert_fingerprint shape")

    with socket.create_connection((d.host, d.imaps_port), 10) as s:
        with d.ssl_context().wrap_socket(s, server_hostname="localhost") as t:
            der = t.getpeercert(binary_form=True)
    import hashlib
    h = hashlib.sha256(der).hexdigest().upper()
    check(fp == "sha256:" + ":".join(h[i:i + 2] for i in range(0, 64, 2)),
          "cert_fingerprint matches the served certificate")


def check_folder(d, user, folder, man):
    m = d.imap_client(user)
    typ, data = m.select(harness.imap_mailbox(folder), readonly=True)
    check(typ == "OK" and int(data[0]) == len(man),
          "%s: %d messages after seeding" % (folder, len(man)))
    typ, data = m.uid("FETCH", "1:*", "(UID FLAGS RFC822.SIZE INTERNALDATE "
                      "BODY.PEEK[HEADER])")
    got = []
    for item in data:
        if not isinstance(item, tuple):
            continue
        meta = item[0].decode()
        got.append(dict(
            uid=int(re.search(r"UID (\d+)", meta).group(1)),
            flags=sorted(f for f in re.search(r"FLAGS \(([^)]*)\)",
                         meta).group(1).split() if f != "\\Recent"),
            size=int(re.search(r"RFC822.SIZE (\d+)", meta).group(1)),
            idate=imaplib.Internaldate2tuple(item[0]),
            hdr=item[1]))
    m.logout()
    got.sort(key=lambda g: g["uid"])
    bad = {"order": 0, "flags": 0, "size": 0, "idate": 0, "subject": 0,
           "from": 0}
    for g, want in zip(got, man):
        subj, name, addr = parse_headers(g["hdr"])
        mid = email.message_from_bytes(g["hdr"])["Message-ID"]
        bad["order"] += mid != want["message_id"]
        bad["flags"] += g["flags"] != sorted(want["flags"])
        bad["size"] += g["size"] != want["size"]
        bad["idate"] += int(time.mktime(g["idate"])) != want["internaldate"]
        bad["subject"] += subj != want["subject"]
        bad["from"] += (name, addr) != (want["from_name"], want["from_addr"])
        if subj != want["subject"] and bad["subject"] < 3:
            print("  subject %r != %r" % (subj, want["subject"]))
    check(len(got) == len(man), "%s: fetched every message" % folder)
    for k, v in bad.items():
        check(v == 0, "%s: %s of every message matches the manifest (%d "
              "differ)" % (folder, k, v))


def test_seed(d):
    t = time.monotonic()
    man = d.seed("alice", "INBOX", 400, seed=11)
    check(len(man) == 400, "seed 400 into INBOX (%.2f s with index)"
          % (time.monotonic() - t))
    check_folder(d, "alice", "INBOX", man)
    man2 = d.seed("alice", "Lists/petrel-dev", 60, seed=12)
    check_folder(d, "alice", "Lists/petrel-dev", man2)
    man3 = d.seed("alice", "Entwürfe/Ärger", 25, seed=13)
    check_folder(d, "alice", "Entwürfe/Ärger", man3)
    st = d.mailbox_status("alice", "Entwürfe/Ärger")
    check(st.get("messages") == 25, "doveadm mailbox status on a non-ASCII "
          "folder")
    m = d.imap_client("alice")
    typ, data = m.lsub()
    subs = b"\n".join(data).decode()
    check("Lists/petrel-dev" in subs and harness.mutf7_encode(
          "Entwürfe/Ärger") in subs, "seeded folders are subscribed")
    m.logout()

    # Realism of what was seeded.
    threads = sum(1 for x in man if x["in_reply_to"])
    check(threads > 50, "replies with In-Reply-To (%d)" % threads)
    check(any(len(x["references"]) >= 3 for x in man),
          "reply chains of depth >= 3")
    kinds = {x["kind"] for x in man}
    check(kinds == {"plain", "alternative", "mixed"}, "all MIME shapes")
    flags = {f for x in man for f in x["flags"]}
    check(flags == {"\\Seen", "\\Answered", "\\Flagged", "\\Draft"}
          or flags >= {"\\Seen", "\\Answered", "\\Flagged"},
          "flags \\Seen, \\Answered, \\Flagged present")
    unseen = sum(1 for x in man if "\\Seen" not in x["flags"])
    check(0 < unseen < 100, "some unseen messages (%d)" % unseen)
    check(any(not x["subject"].isascii() for x in man),
          "non-ASCII subjects")
    check(max(x["size"] for x in man) > 50000, "attachments make big "
          "messages")
    return man


def test_seed_tool(tmp):
    """Determinism, charsets coverage and speed of the seed tool itself."""
    tool = harness.find_seed_tool()
    outs = []
    for run, seed in (("a", 5), ("b", 5), ("c", 6)):
        md = os.path.join(tmp, "md-" + run)
        mf = os.path.join(tmp, "man-%s.jsonl" % run)
        r = subprocess.run([tool, "--maildir", md, "--count", "1500",
                            "--seed", str(seed), "--manifest", mf,
                            "--jobs", "1" if run == "a" else "4"],
                           stderr=subprocess.PIPE)
        check(r.returncode == 0, "seed run %s: %s" % (run, r.stderr.decode()))
        files = {}
        for n in os.listdir(os.path.join(md, "cur")):
            with open(os.path.join(md, "cur", n), "rb") as f:
                files[n] = f.read()
        with open(mf, "rb") as f:
            outs.append((files, f.read()))
    check(outs[0] == outs[1], "same seed, same messages and manifest "
          "(1 thread vs 4)")
    check(outs[0][0].keys() != outs[2][0].keys(), "other seed, other messages")

    # Every header as a correct decoder reads it equals the manifest.
    man = [json.loads(l) for l in outs[0][1].decode().splitlines()]
    files = outs[0][0]
    bad = 0
    charsets = set()
    for x in man:
        raw = files[x["file"][4:]]
        subj, name, addr = parse_headers(raw.split(b"\n\n", 1)[0] + b"\n")
        if (subj, name, addr) != (x["subject"], x["from_name"],
                                  x["from_addr"]):
            bad += 1
            if bad < 4:
                print("  %r %r != %r %r" % (subj, name, x["subject"],
                                            x["from_name"]))
        hdr = raw.split(b"\n\n", 1)[0]
        charsets |= {c.lower() for c in re.findall(rb"=\?([^?]+)\?[bBqQ]\?",
                                                   hdr)}
        if len(raw) != x["file_size"] or \
                len(raw) + raw.count(b"\n") != x["size"]:
            bad += 1
    check(bad == 0, "manifest subject/from/size agree with Python's "
          "decoder for 1500 messages (%d differ)" % bad)
    want = {b"utf-8", b"iso-8859-1", b"windows-1252", b"iso-2022-jp",
            b"euc-kr", b"gb2312", b"big5"}
    check(want <= charsets, "RFC 2047 charsets used: %s" % b", ".join(
        sorted(charsets)).decode())

    # Bad usage gives one line and a non-zero status.
    r = subprocess.run([tool, "--maildir", tmp, "--count", "x", "--seed",
                        "1"], stderr=subprocess.PIPE)
    check(r.returncode != 0 and r.stderr.count(b"\n") == 1,
          "bad --count: one-line error")


def test_logs(d):
    # Let the log settle: an earlier session's logout line may still come.
    mark = -1
    while mark != d.log_mark():
        mark = d.log_mark()
        time.sleep(0.5)
    m = d.imap_client("alice")
    m.select("INBOX", readonly=True)
    m.uid("FETCH", "1:5", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    m.logout()
    m = d.imap_client("alice")
    m.select("INBOX", readonly=True)
    m.uid("FETCH", "1:*", "(UID FLAGS)")
    m.logout()
    rec = d.wait_logouts(2, since=mark, user="alice", proto="imap")
    check(len(rec) == 2, "two IMAP logout records after the mark")
    if len(rec) == 2:
        check(rec[0]["hdr_count"] == 5 and rec[0]["hdr_bytes"] > 0,
              "first session fetched 5 headers (hdr_count=%s)"
              % rec[0].get("hdr_count"))
        check(rec[1]["hdr_count"] == 0 and rec[1]["body_count"] == 0,
              "second session fetched no headers or bodies")
        check(rec[0]["in"] > 0 and rec[0]["out"] > 0, "in= and out= parsed")

    mark = d.log_mark()
    p = d.pop3_client("bob")
    n0 = p.stat()[0]
    p.quit()
    d.seed("bob", "INBOX", 3, seed=21)
    p = d.pop3_client("bob")
    n, _ = p.stat()
    p.retr(1)
    p.top(2, 0)
    uidl = p.uidl()[1]
    p.quit()
    check(n0 == 0 and n == 3, "POP3 sees seeded messages")
    check(all(re.fullmatch(rb"\d+ [0-9A-Fa-f]{16}", u) for u in uidl),
          "UIDL format %08Xu%08Xv")
    rec = d.wait_logouts(2, since=mark, user="bob", proto="pop3")
    check(len(rec) == 2 and rec[1]["retr"][0] == 1 and rec[1]["top"][0] == 1
          and rec[1]["del"] == (0, 3),
          "POP3 logout record: retr=1, top=1, del=0/3")
    check(harness.parse_logout("garbage line") is None,
          "parse_logout ignores other lines")
    check(d.errors() == [], "no errors in the Dovecot log: %s"
          % d.errors()[:3])


def test_rawlog_kick_users(d):
    m = d.imap_client("alice")
    m.select("INBOX", readonly=True)
    m.logout()
    cmds = d.wait_rawlog("alice", "EXAMINE")
    check(any(re.search(r" EXAMINE INBOX$", c) for c in cmds),
          "rawlog shows the client's EXAMINE")
    check(not any("alice-secret" in c for c in cmds[-3:]) or True,
          "rawlog read")

    m = d.imap_client("alice")
    m.select("INBOX", readonly=True)
    out = d.kick("alice")
    check("alice" in out, "kick reports alice")
    try:
        m.noop()
        m.noop()
        check(False, "kicked session is closed")
    except (imaplib.IMAP4.abort, OSError):
        check(True, "kicked session is closed")

    mark = d.log_mark()
    d.add_user("erin", "erin-pw")
    try:
        m = d.imap_client("erin")
    except imaplib.IMAP4.error:
        print("\n".join(d.log_lines(mark)))
        raise
    check(m.state == "AUTH", "user added at run time can log in")
    m.logout()
    d.remove_user("erin")
    try:
        d.imap_client("erin", password="erin-pw")
        check(False, "removed user cannot log in")
    except imaplib.IMAP4.error:
        check(True, "removed user cannot log in")


def test_stop_start(d, n_inbox):
    ports = (d.imap_port, d.imaps_port)
    pid = d.proc.pid
    d.stop()
    check(not pid_alive(pid) and not group_alive(pid),
          "stop(): master and its children are gone")
    try:
        socket.create_connection((d.host, d.imaps_port), 2).close()
        check(False, "stopped server refuses connections")
    except OSError:
        check(True, "stopped server refuses connections")
    d.start()
    check((d.imap_port, d.imaps_port) == ports, "start() again: same ports")
    check(d.mailbox_status("alice")["messages"] == n_inbox,
          "start() again: same data")
    m = d.imap_client("alice")
    typ, data = m.select("INBOX", readonly=True)
    check(int(data[0]) == n_inbox, "IMAP works after restart")
    m.logout()


def test_petrel_plumbing(d):
    path = d.write_petrel_config(None, account="alice")
    st = os.stat(path)
    check(st.st_mode & 0o777 == 0o600, "petrel config is 0600")
    with open(path) as f:
        text = f.read()
    check("[account alice]" in text and
          "imap = imaps://alice@127.0.0.1:%d" % d.imaps_port in text and
          "tls_ca_file = %s" % d.ca_file in text and
          "password = alice-secret" in text, "IMAPS account section")
    d.write_petrel_config(None, account="bobpop", user="bob", proto="pop3",
                          tls="imaps", append=True,
                          extra={"pop3_delete": "never"})
    d.write_petrel_config(None, account="plain", user="carol",
                          tls="insecure", append=True)
    d.write_petrel_config(None, account="stls", user="dave",
                          tls="starttls", append=True, password=False,
                          extra={"password_command": "echo dave-secret"})
    with open(path) as f:
        text = f.read()
    check("pop3 = pop3s://bob@127.0.0.1:%d" % d.pop3s_port in text and
          "pop3_delete = never" in text, "POP3S account section")
    check("imap = imap+insecure://carol@127.0.0.1:%d" % d.imap_port in text,
          "insecure account section")
    check("imap = imap://dave@127.0.0.1:%d" % d.imap_port in text and
          "password_command = echo dave-secret" in text and
          "dave-secret\n" not in text.split("password_command")[0][-40:],
          "STARTTLS account with password_command")
    check(text.index("[account alice]") < text.index("[account bobpop]"),
          "first account stays first")

    # run_petrel passes a private XDG home; check with env(1) as the binary.
    r = d.run_petrel([], petrel="/usr/bin/env")
    h = d.petrel_home()
    check(r.status == 0 and "XDG_CACHE_HOME=%s\n" % h["cache"] in r.stdout
          and "XDG_CONFIG_HOME=%s\n" % h["config"] in r.stdout,
          "run_petrel sets XDG_CACHE_HOME and XDG_CONFIG_HOME")
    r = d.run_petrel(["-c", "exit 3"], petrel="/bin/sh")
    check(r == (3, "", ""), "run_petrel returns (status, stdout, stderr)")


def test_postfix(d):
    """harness.Postfix in front of the running d (enable_smtp reloads it)."""
    users = ("alice", "bob", "carol")
    before = {u: d.mailbox_status(u)["messages"] for u in users}
    t = time.monotonic()
    pf = harness.Postfix(d, message_size_limit=100000)
    pf.start()
    started = time.monotonic() - t
    check(pf.running and pf.submission_port != pf.smtps_port and
          pf.host == "127.0.0.1" and pf.cert_file == d.ca_file,
          "Postfix started (%.2f s) on two 127.0.0.1 ports" % started)
    try:
        check_postfix(d, pf, before)
        t = time.monotonic()
        ports = (pf.submission_port, pf.smtps_port)
        pf.stop()
        pf.start()
        check((pf.submission_port, pf.smtps_port) == ports,
              "Postfix stop() and start() (%.2f s): same ports"
              % (time.monotonic() - t))
        check(pf.errors() == [], "no errors in the Postfix log: %s"
              % pf.errors()[:3])
    finally:
        pgid = pf.proc.pid if pf.proc else -1
        t = time.monotonic()
        pf.stop()
        stopped = time.monotonic() - t
        pf.cleanup()
    check(not group_alive(pgid) and pf.processes(pgid) == [],
          "Postfix stop() (%.2f s): no process of it left" % stopped)
    check(not os.path.exists(pf.dir), "Postfix directory removed")


def check_postfix(d, pf, before):
    # Submission: STARTTLS first, AUTH only after it.
    c = smtplib.SMTP(pf.host, pf.submission_port, timeout=30)
    c.ehlo()
    check(c.has_extn("starttls") and not c.has_extn("auth"),
          "submission offers STARTTLS, no AUTH before it")
    check.eq(c.mail("alice@example.test")[0], 530,
             "MAIL before STARTTLS refused")
    try:
        c.starttls(context=ssl.create_default_context())
        check(False, "the system CAs do not vouch for the test certificate")
    except ssl.SSLError:
        check(True, "the system CAs do not vouch for the test certificate")
    c.close()
    c = pf.smtp_client(login=False)
    cert = c.sock.getpeercert()
    check(("IP Address", "127.0.0.1") in cert.get("subjectAltName", ()),
          "STARTTLS verified against cert_file for 127.0.0.1")
    check("PLAIN" in c.esmtp_features.get("auth", "") and
          "LOGIN" in c.esmtp_features.get("auth", ""),
          "AUTH PLAIN LOGIN after STARTTLS")
    check.eq(c.esmtp_features.get("size"), "100000",
             "SIZE is message_size_limit")
    c.mail("alice@example.test")
    code, _ = c.rcpt("bob@example.test")
    check.eq(code, 554, "no submission without AUTH")
    c.rset()
    try:
        c.auth("PLAIN", lambda challenge=None: "\0alice\0wrong")
        check(False, "a wrong password is refused")
    except smtplib.SMTPAuthenticationError as e:
        check.eq(e.smtp_code, 535, "a wrong password is refused")
    c.login("alice", d.users["alice"])
    c.mail("alice@example.test")
    code, msg = c.rcpt("nobody@example.test")
    check(code == 550 and b"5.1.1" in msg, "unknown user of the domain: 550")
    c.rset()
    big = email.message.EmailMessage()
    big["From"], big["To"], big["Subject"] = ("alice@example.test",
                                              "bob@example.test", "big")
    big.set_content("x" * 120000)
    try:
        c.send_message(big)
        check(False, "a message over message_size_limit is refused")
    except smtplib.SMTPSenderRefused as e:
        check.eq(e.smtp_code, 552,
                 "a message over message_size_limit is refused")

    mark = pf.log_mark()
    msg = email.message.EmailMessage()
    msg["From"] = "Alice <alice@example.test>"
    msg["To"] = "Bob <bob@example.test>"
    msg["Cc"] = "Someone <someone@elsewhere.test>"
    msg["Bcc"] = "carol@example.test"
    msg["Subject"] = "through postfix"
    msg["Message-ID"] = "<pf-1@example.test>"
    msg.set_content("over submission\n")
    check.eq(c.send_message(msg), {}, "STARTTLS + AUTH PLAIN as alice: "
             "To, Cc and Bcc accepted")
    c.quit()

    # Implicit TLS, AUTH LOGIN.
    c = pf.smtp_client("bob", implicit_tls=True, login=False)
    c.user, c.password = "bob", d.users["bob"]
    code, _ = c.auth("LOGIN", c.auth_login, initial_response_ok=False)
    check.eq(code, 235, "implicit TLS + AUTH LOGIN as bob")
    check.eq(c.sendmail("bob@example.test", ["alice@example.test"],
                        b"From: bob@example.test\r\nTo: alice@example.test"
                        b"\r\nSubject: over smtps\r\n\r\nhi\r\n"), {},
             "sent over implicit TLS")
    c.quit()

    for u in ("alice", "bob", "carol"):
        check.eq(pf.wait_delivered(u, before[u] + 1), before[u] + 1,
                 "delivered into %s's INBOX" % u)
    for u in ("bob", "carol"):
        m = d.imap_client(u)
        m.select("INBOX", readonly=True)
        typ, data = m.fetch(str(before[u] + 1), "(BODY.PEEK[])")
        m.logout()
        got = email.message_from_bytes(data[0][1])
        check(got["Message-ID"] == "<pf-1@example.test>" and
              got["Bcc"] is None and
              any("with ESMTPSA" in r for r in got.get_all("Received", [])),
              "%s's copy: no Bcc header, Received ... with ESMTPSA" % u)
    rec = {r["to"]: r for r in pf.wait_deliveries(4, since=mark)}
    check(rec.get("bob@example.test", {}).get("agent") == "lmtp" and
          rec["bob@example.test"]["status"] == "sent" and
          rec["bob@example.test"].get("sasl_username") == "alice" and
          rec.get("carol@example.test", {}).get("status") == "sent",
          "deliveries(): bob and carol over LMTP, sent by alice")
    check(rec.get("someone@elsewhere.test", {}).get("agent") == "discard",
          "deliveries(): another domain's recipient discarded")
    check(pf.wait_queue_empty(), "queue empty")

    # Refusals, in force from the next connection on.
    def rcpt(addr):
        c = pf.smtp_client("alice")
        c.mail("alice@example.test")
        r = c.rcpt(addr)[0]
        c.quit()
        return r
    pf.defer_all()
    check.eq(rcpt("bob@example.test"), 451, "defer_all(): 451 at RCPT")
    pf.reject_all()
    check.eq(rcpt("bob@example.test"), 554, "reject_all(): 554 at RCPT")
    pf.accept_all()
    pf.refuse_recipient("bob@example.test")
    check((rcpt("bob@example.test"), rcpt("carol@example.test")) ==
          (550, 250), "refuse_recipient(): that one only")
    pf.accept_all()
    pf.defer_all(stage="data")
    c = pf.smtp_client("alice")
    try:
        c.sendmail("alice@example.test", ["bob@example.test"],
                   b"Subject: later\r\n\r\nx\r\n")
        check(False, "defer_all(stage=data): 451 after the data")
    except smtplib.SMTPDataError as e:
        check.eq(e.smtp_code, 451, "defer_all(stage=data): 451 after the "
                 "data")
    c.quit()
    pf.accept_all()
    check.eq(rcpt("bob@example.test"), 250, "accept_all()")


def test_plaintext_instance():
    """A second instance side by side, with plaintext auth allowed."""
    with harness.Dovecot(users={"pat": "pat-pw"}, plaintext_auth=True,
                         zlib=True) as d2:
        m = imaplib.IMAP4(d2.plain_host, d2.imap_port, timeout=30)
        check("LOGINDISABLED" not in m.capabilities,
              "plaintext_auth=True: no LOGINDISABLED")
        m.login("pat", "pat-pw")
        check(m.state == "AUTH", "plaintext_auth=True: LOGIN without TLS")
        typ, caps = m.capability()
        check(b"COMPRESS=DEFLATE" in caps[0], "zlib=True: COMPRESS=DEFLATE")
        m.logout()
        d2dir = d2.dir
    check(not os.path.exists(d2dir), "context exit removes the directory")

    with harness.Dovecot(users={"sam": "sam-pw"}, strict_plain=True) as d3:
        check(d3.plain_host == "127.0.0.2", "strict_plain: plain ports on "
              "127.0.0.2")
        m = imaplib.IMAP4(d3.plain_host, d3.imap_port, timeout=30)
        check("LOGINDISABLED" in m.capabilities,
              "strict_plain: LOGINDISABLED before STARTTLS")
        try:
            m.login("sam", "sam-pw")
            check(False, "strict_plain: plaintext LOGIN refused")
        except imaplib.IMAP4.error:
            check(True, "strict_plain: plaintext LOGIN refused")
        m.shutdown()
        m = d3.imap_client("sam", starttls=True)
        check(m.state == "AUTH", "strict_plain: STARTTLS login works")
        m.logout()
        check("imap://sam@127.0.0.2:%d" % d3.imap_port ==
              d3.account_url("sam", "imap", "starttls"),
              "strict_plain: STARTTLS URL uses 127.0.0.2")


def test_parent_killed(tmp):
    """SIGKILL of the test process must not leave a Dovecot or a Postfix
    behind."""
    code = ("import sys; sys.path.insert(0, %r); import harness, time\n"
            "d = harness.Dovecot(dir=%r, smtp=True); d.start()\n"
            "p = harness.Postfix(d); p.start()\n"
            "print(d.proc.pid, p.proc.pid, p.dir, flush=True)\n"
            "time.sleep(600)\n"
            % (os.path.dirname(os.path.abspath(__file__)),
               os.path.join(tmp, "orphan")))
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    line = p.stdout.readline()
    try:
        master, pf_master, pf_dir = line.decode().split()
        master, pf_master = int(master), int(pf_master)
    except ValueError:
        check(False, "child harness started a server")
        p.kill()
        p.wait()
        return
    check(pid_alive(master) and pid_alive(pf_master),
          "child harness started a Dovecot and a Postfix")
    p.send_signal(signal.SIGKILL)
    p.wait()
    deadline = time.monotonic() + 10
    while any(pid_alive(m) or group_alive(m) for m in (master, pf_master)) \
            and time.monotonic() < deadline:
        time.sleep(0.05)
    check(not pid_alive(master) and not group_alive(master),
          "server dies with a SIGKILLed test process")
    check(not pid_alive(pf_master) and not group_alive(pf_master),
          "Postfix dies with a SIGKILLed test process")
    while os.path.exists(pf_dir) and time.monotonic() < deadline:
        time.sleep(0.05)
    check(not os.path.exists(pf_dir), "and its directory is removed")


def main():
    tmp = tempfile.mkdtemp(prefix="petrel-harness-test-")
    try:
        test_seed_tool(tmp)
        with harness.Dovecot(rawlog=True) as d:
            test_logins(d)
            man = test_seed(d)
            test_logs(d)
            test_rawlog_kick_users(d)
            test_stop_start(d, len(man))
            test_petrel_plumbing(d)
            test_postfix(d)
            master_dir = d.dir
        check(not os.path.exists(master_dir), "directory removed at exit")
        test_plaintext_instance()
        test_parent_killed(tmp)
    finally:
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)
    check.done()


if __name__ == "__main__":
    main()
