#!/usr/bin/env python3
"""petrel sync / folders / list / show against a real private Dovecot.

What the server has is read independently with Python's imaplib and email
packages (and the seed manifest) and compared with what petrel prints.
"""

import calendar
import datetime
import email
import email.header
import email.policy
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

check = harness.Check()

FOLDERS = (("INBOX", 300, 11), ("Archive", 120, 12),
           ("Lists/petrel-dev", 60, 13), ("Entwürfe", 15, 14))


def petrel(d, args, **kw):
    r = d.run_petrel(args, **kw)
    return r


def list_json(d, folder, extra=()):
    r = petrel(d, ["list", "--json"] + list(extra) + [folder])
    if not check.eq(r.status, 0, "list %s exits 0 (%s)" % (folder, r.stderr.strip())):
        return []
    return [json.loads(l) for l in r.stdout.splitlines()]


def rfc3339_to_unix(s):
    dt = datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
    return int(dt.timestamp())


def server_view(d, folder, user="alice"):
    """{uid: dict(flags, size, subject, from, date)} with Python's decoder."""
    m = d.imap_client(user)
    try:
        typ, _ = m.select(harness.imap_mailbox(folder), readonly=True)
        assert typ == "OK", folder
        typ, data = m.uid("FETCH", "1:*", "(UID FLAGS RFC822.SIZE "
                          "BODY.PEEK[HEADER.FIELDS (SUBJECT FROM DATE)])")
        out = {}
        for item in data:
            if not isinstance(item, tuple):
                continue
            meta = item[0].decode()
            uid = int(re.search(r"UID (\d+)", meta).group(1))
            flags = set(re.search(r"FLAGS \(([^)]*)\)", meta).group(1).split())
            flags.discard("\\Recent")
            size = int(re.search(r"RFC822.SIZE (\d+)", meta).group(1))
            msg = email.message_from_bytes(item[1], policy=email.policy.default)
            subj = str(msg["subject"] or "")
            subj = subj.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            date = msg["date"]
            out[uid] = dict(flags=flags, size=size, subject=subj,
                            date=int(date.datetime.timestamp()) if date else None)
        return out
    finally:
        m.logout()


def compare_folder(d, folder, manifest_by_mid=None, user="alice"):
    """petrel list --json of folder equals the server's messages."""
    got = list_json(d, folder)
    want = server_view(d, folder, user)
    check.eq(sorted(x["uid"] for x in got), sorted(want),
             "%s: the same UIDs as the server (%d)" % (folder, len(want)))
    bad_flags = [x["uid"] for x in got
                 if x["uid"] in want and set(x["flags"]) != want[x["uid"]]["flags"]]
    check.eq(bad_flags, [], "%s: flags as on the server" % folder)
    bad_size = [x["uid"] for x in got
                if x["uid"] in want and x["size"] != want[x["uid"]]["size"]]
    check.eq(bad_size, [], "%s: sizes as on the server" % folder)
    bad_subj = [(x["uid"], x["subject"], want[x["uid"]]["subject"]) for x in got
                if x["uid"] in want and x["subject"] != want[x["uid"]]["subject"]]
    check.eq(bad_subj[:3], [], "%s: subjects decoded as Python's email "
             "package decodes them" % folder)
    bad_date = [x["uid"] for x in got if x["uid"] in want and
                want[x["uid"]]["date"] is not None and
                rfc3339_to_unix(x["date"]) != want[x["uid"]]["date"]]
    check.eq(bad_date, [], "%s: dates as the Date: headers say" % folder)
    keys = [(rfc3339_to_unix(x["date"]), x["uid"]) for x in got]
    check(keys == sorted(keys, reverse=True), "%s: newest first" % folder)
    return got


def compare_manifest(d, folder, manifest):
    """Subjects and senders equal the seeder's own record of what it wrote."""
    got = {x["uid"]: x for x in list_json(d, folder)}
    idx = d.fetch_index("alice", folder)
    by_mid = {v["message_id"]: uid for uid, v in idx.items()}
    bad = []
    for rec in manifest:
        uid = by_mid.get(rec["message_id"])
        if uid is None or uid not in got:
            bad.append(("missing", rec["message_id"]))
            continue
        g = got[uid]
        if g["subject"] != rec["subject"] or g["from"] != rec["from"]:
            bad.append((uid, g["subject"], rec["subject"], g["from"], rec["from"]))
    check.eq(bad[:3], [], "%s: subject and sender of all %d messages equal "
             "the seed manifest" % (folder, len(manifest)))


def seed_all(d):
    manifests = {}
    for name, n, seed in FOLDERS:
        manifests[name] = d.seed("alice", name, count=n, seed=seed)
    return manifests


def status_counts(d, folder):
    m = d.imap_client("alice")
    try:
        typ, data = m.status(harness.imap_mailbox(folder), "(MESSAGES UNSEEN)")
        s = data[0].decode()
        return (int(re.search(r"MESSAGES (\d+)", s).group(1)),
                int(re.search(r"UNSEEN (\d+)", s).group(1)))
    finally:
        m.logout()


def header_fetches(d, mark):
    lines = d.wait_logouts(1, since=mark, user="alice", proto="imap")
    return sum(l["hdr_count"] for l in lines)


def test_sync_list_folders(d, manifests):
    mark = d.log_mark()
    r = petrel(d, ["sync"])
    check.eq((r.status, r.stdout, r.stderr), (0, "", ""),
             "sync exits 0 and prints nothing when not on a terminal")
    total = sum(n for _, n, _ in FOLDERS)
    check.eq(header_fetches(d, mark), total,
             "first sync fetched each message's headers once (%d)" % total)
    for name, _, _ in FOLDERS:
        compare_folder(d, name)
        compare_manifest(d, name, manifests[name])

    r = petrel(d, ["folders", "--json"])
    check.eq(r.status, 0, "folders --json exits 0")
    folders = {f["name"]: f for f in map(json.loads, r.stdout.splitlines())}
    for name, _, _ in FOLDERS:
        msgs, unseen = status_counts(d, name)
        f = folders.get(name, {})
        check.eq((f.get("total"), f.get("unseen")), (msgs, unseen),
                 "folders: %s total and unseen as STATUS says" % name)
    check.eq(folders.get("Sent", {}).get("special_use"), "\\Sent",
             "folders: SPECIAL-USE \\Sent is known")
    check(list(folders)[0] == "INBOX", "folders: INBOX first")
    r = petrel(d, ["folders"])
    check(r.status == 0 and "Entwürfe" in r.stdout,
          "folders (text) shows the UTF-8 name of a modified UTF-7 folder")
    r = petrel(d, ["list"])
    check(r.status == 0 and len(r.stdout.splitlines()) == 300,
          "list (text) shows one line per message")


def test_second_sync(d):
    mark = d.log_mark()
    t = time.monotonic()
    r = petrel(d, ["sync"])
    took = time.monotonic() - t
    check.eq(r.status, 0, "second sync exits 0")
    check.eq(header_fetches(d, mark), 0,
             "second sync with no server change fetched no headers")
    print("     (second sync took %.3f s)" % took)
    # Global options after the command mean the same as before it.
    r1 = petrel(d, ["--offline", "list", "--json", "Archive"])
    r2 = petrel(d, ["list", "Archive", "--json", "--offline"])
    check(r1.status == 0 and r1.stdout == r2.stdout and r1.stdout,
          "petrel --offline list == petrel list --offline")


def test_server_changes(d):
    m = d.imap_client("alice")
    try:
        m.select("INBOX")
        m.uid("STORE", "1:5", "+FLAGS", "(\\Flagged)")
        m.uid("STORE", "6:10", "-FLAGS", "(\\Seen)")
        m.uid("STORE", "11", "+FLAGS", "($Label1 \\Seen)")
        m.uid("STORE", "20:24", "+FLAGS", "(\\Deleted)")
        m.expunge()
        m.select(harness.imap_mailbox("Archive"))
        m.uid("STORE", "3", "+FLAGS", "(\\Deleted)")
        m.expunge()
    finally:
        m.logout()
    subject = "=?ISO-2022-JP?B?GyRCRnxLXDhsGyhC?= =?UTF-8?Q?und_Gr=C3=BC=C3=9Fe?="
    uid = d.append("alice", "INBOX",
                   "From: =?UTF-8?B?w4Z0aGVscmVk?= <ae@example.org>\n"
                   "To: alice@example.org\nSubject: %s\n"
                   "Date: Sat, 21 Nov 2026 10:00:00 +0900\n"
                   "Message-ID: <new-1@example.org>\n\nhello\n" % subject)
    # Headers that decode to more than a store batch's 64 KB arena.
    words = ["w%05d" % i for i in range(12000)]
    long_subject = " ".join(words)
    folded = "\n ".join(" ".join(words[i:i + 10])
                         for i in range(0, len(words), 10))
    big_uid = d.append("alice", "INBOX",
                       "From: big@example.org\nTo: alice@example.org\n"
                       "Subject: %s\nDate: Sat, 21 Nov 2026 11:00:00 +0000\n"
                       "Message-ID: <big-1@example.org>\n\nbig\n" % folded)
    mark = d.log_mark()
    r = petrel(d, ["sync"])
    check.eq(r.status, 0, "sync after server changes exits 0 (%s)" % r.stderr.strip())
    check.eq(header_fetches(d, mark), 2, "only the two new messages' headers "
             "were fetched")
    got = compare_folder(d, "INBOX")
    compare_folder(d, "Archive")
    new = [x for x in got if x["uid"] == uid]
    check(new and new[0]["subject"] == "日本語und Grüße",
          "new message: adjacent encoded words joined without the space")
    check(new and new[0]["from"] == "Æthelred <ae@example.org>",
          "new message: encoded display name decoded")
    check(new and new[0]["date"] == "2026-11-21T10:00:00+09:00",
          "new message: RFC 3339 date keeps the sender's offset")
    big = [x for x in got if x["uid"] == big_uid]
    check(big and big[0]["subject"] == long_subject,
          "an 84 KB subject is stored whole (%d bytes)" %
          (len(big[0]["subject"]) if big else -1))
    lab = [x for x in got if x["uid"] == 11]
    check(lab and "$Label1" in lab[0]["flags"], "keywords are listed as flags")


def test_show_and_offline(d):
    # A body not yet cached is fetched and cached by show.
    idx = d.fetch_index("alice", "Archive")
    uid = min(idx)
    r = petrel(d, ["show", "--raw", "Archive", str(uid)])
    m = d.imap_client("alice")
    try:
        m.select(harness.imap_mailbox("Archive"), readonly=True)
        typ, data = m.uid("FETCH", str(uid), "(BODY.PEEK[])")
        raw = data[0][1]
    finally:
        m.logout()
    check(r.status == 0 and r.stdout.encode("utf-8", "surrogateescape") == raw,
          "show --raw prints the message exactly as the server has it")
    flags_after = d.fetch_index("alice", "Archive")[uid]["flags"]
    check.eq(flags_after, idx[uid]["flags"], "show does not change flags on "
             "the server (BODY.PEEK)")
    r = petrel(d, ["sync", "--bodies", "Lists/petrel-dev"])
    check.eq(r.status, 0, "sync --bodies of one folder exits 0")
    lists_uids = sorted(d.fetch_index("alice", "Lists/petrel-dev"))

    d.stop()
    r = petrel(d, ["show", "--raw", "--offline", "Archive", str(uid)])
    check(r.status == 0 and r.stdout.encode("utf-8", "surrogateescape") == raw,
          "show --offline prints the cached message with the server stopped")
    r = petrel(d, ["show", "Archive", str(uid)])
    check(r.status == 0 and len(r.stdout) > 0,
          "show (rendered) of a cached message works with the server stopped")
    ok = all(petrel(d, ["show", "--offline", "Lists/petrel-dev",
                        str(u)]).status == 0 for u in lists_uids)
    check(ok, "every message synced with --bodies reads offline (%d)"
          % len(lists_uids))
    other = sorted(idx)[5]
    r = petrel(d, ["show", "--offline", "Archive", str(other)])
    check(r.status != 0 and "not cached" in r.stderr and
          len(r.stderr.splitlines()) == 1,
          "show --offline of an uncached body fails with one clear line")
    r = petrel(d, ["list", "--json", "INBOX"])
    check(r.status == 0 and len(r.stdout.splitlines()) > 0,
          "list works with the server stopped")
    r = petrel(d, ["sync"])
    check(r.status == 3 and len(r.stderr.splitlines()) == 1 and
          "connect" in r.stderr,
          "sync with the server down: exit 3, one line (%s)" % r.stderr.strip())
    r = petrel(d, ["sync", "--offline"])
    check.eq(r.status, 2, "sync --offline is a usage error")
    d.start()


def test_uidvalidity_change(d):
    d.doveadm("mailbox", "delete", "-u", "alice", "Archive")
    d.create_folder("alice", "Archive")
    d.seed("alice", "Archive", count=7, seed=99)
    r = petrel(d, ["sync", "Archive"])
    check.eq(r.status, 0, "sync after UIDVALIDITY change exits 0")
    got = compare_folder(d, "Archive")
    check.eq(len(got), 7, "the folder was re-read after its UIDVALIDITY changed")


def test_cache_file(d):
    path = os.path.join(d.petrel_home()["cache"], "petrel", "alice.db")
    st = os.stat(path)
    check.eq(st.st_mode & 0o777, 0o600, "cache file is mode 0600")
    db = sqlite3.connect(path)
    try:
        mode = db.execute("PRAGMA journal_mode").fetchone()[0]
        ver = db.execute("PRAGMA user_version").fetchone()[0]
        blob = b"".join(r[0] or b"" for r in db.execute(
            "SELECT group_concat(value) FROM meta"))
    finally:
        db.close()
    check.eq(mode, "wal", "cache is in WAL mode")
    check(ver >= 1, "cache has a schema version")
    data = open(path, "rb").read()
    check(d.users["alice"].encode() not in data and
          d.users["alice"].encode() not in blob,
          "the password is not in the cache")


def test_no_condstore_server():
    """A server that offers none of the extensions: LIST+LSUB, plain SELECT,
    all flags fetched, SEARCH instead of ESEARCH."""
    caps = "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+"
    with harness.Dovecot(extra_conf="protocol imap {\n  imap_capability = %s\n}\n"
                         % caps) as d:
        d.seed("alice", "INBOX", count=80, seed=5)
        d.seed("alice", "Archive", count=20, seed=6)
        d.write_petrel_config()
        r = petrel(d, ["sync"])
        check.eq(r.status, 0, "basic server: sync exits 0 (%s)" % r.stderr.strip())
        compare_folder(d, "INBOX")
        m = d.imap_client("alice")
        try:
            m.select("INBOX")
            m.uid("STORE", "2", "+FLAGS", "(\\Flagged)")
            m.uid("STORE", "3", "+FLAGS", "(\\Deleted)")
            m.expunge()
        finally:
            m.logout()
        r = petrel(d, ["sync"])
        check.eq(r.status, 0, "basic server: second sync exits 0")
        got = compare_folder(d, "INBOX")
        check(3 not in [x["uid"] for x in got], "basic server: expunge seen")
        log = "\n".join(d.log_lines())
        check("QRESYNC" not in log, "basic server: no QRESYNC used")


def test_resume_after_kill():
    with harness.Dovecot() as d:
        n = 30000
        d.seed("alice", "INBOX", count=n, seed=21, manifest=False)
        d.write_petrel_config()
        env = d.petrel_env()
        db = os.path.join(d.petrel_home()["cache"], "petrel", "alice.db")
        mark = d.log_mark()
        p = subprocess.Popen([os.environ["PETREL"], "sync"], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        cached = 0
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and p.poll() is None:
            try:
                con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=1)
                cached = con.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
                con.close()
            except sqlite3.Error:
                cached = 0
            if cached >= 4000:
                p.send_signal(signal.SIGKILL)
                break
            time.sleep(0.002)
        p.wait()
        killed = p.returncode == -signal.SIGKILL
        check(killed, "sync was killed half way (at %d cached)" % cached)
        con = sqlite3.connect(db)
        cached, = con.execute("SELECT COUNT(*) FROM messages").fetchone()
        row = con.execute("SELECT complete, synced_uid FROM folders "
                          "WHERE name = 'INBOX'").fetchone()
        con.close()
        check(killed and row[0] == 0, "the interrupted folder is not "
              "marked complete")
        check(0 < row[1] <= cached < n, "a resume point was committed "
              "(synced_uid %d, %d cached)" % (row[1], cached))
        # The killed session's disconnect is logged when Dovecot notices it.
        d.wait_logouts(1, since=mark, user="alice", proto="imap", timeout=20)
        mark = d.log_mark()
        r = petrel(d, ["sync"])
        check.eq(r.status, 0, "the next sync exits 0")
        check.eq(header_fetches(d, mark), n - row[1],
                 "the next sync fetched only what was missing")
        got = list_json(d, "INBOX")
        check.eq(len(got), n, "all %d messages are cached after the resume" % n)
        check.eq(len(set(x["uid"] for x in got)), n, "no message twice")


def test_errors():
    with harness.Dovecot(plaintext_auth=True) as d:
        d.seed("alice", "INBOX", count=3, seed=1)
        # Wrong password.
        d.write_petrel_config(password="wrong")
        r = petrel(d, ["sync"])
        check(r.status == 4 and len(r.stderr.splitlines()) == 1 and
              "login" in r.stderr and "wrong" not in r.stderr,
              "wrong password: exit 4, one line, no password (%s)"
              % r.stderr.strip())
        # Refused connection.
        port = harness._free_ports(1)[0]
        cfg = d.write_petrel_config()
        text = open(cfg).read().replace(":%d" % d.imaps_port, ":%d" % port)
        open(cfg, "w").write(text)
        r = petrel(d, ["sync"])
        check(r.status == 3 and len(r.stderr.splitlines()) == 1 and
              "refused" in r.stderr.lower(),
              "refused connection: exit 3, one line (%s)" % r.stderr.strip())
        # TLS: a certificate nobody vouches for.
        cfg = d.write_petrel_config(ca_file=False)
        r = petrel(d, ["sync"])
        fp = re.search(r"sha256:[0-9A-F:]{95}", r.stderr)
        check(r.status == 5 and fp is not None and "tls_fingerprint" in r.stderr
              and len(r.stderr.splitlines()) == 1,
              "untrusted certificate: exit 5 with its fingerprint and the "
              "config line (%s)" % r.stderr.strip())
        check(fp is not None and fp.group(0) == d.cert_fingerprint(),
              "the fingerprint shown is the server's")
        if fp:
            d.write_petrel_config(ca_file=False,
                                  extra={"tls_fingerprint": fp.group(0)})
            r = petrel(d, ["sync"])
            check.eq(r.status, 0, "pinning that fingerprint makes it work")
            wrong = "sha256:" + ":".join(["AB"] * 32)
            d.write_petrel_config(extra={"tls_fingerprint": wrong})
            r = petrel(d, ["sync"])
            check.eq(r.status, 5, "a wrong pin is refused even when the "
                     "chain verifies")
        # STARTTLS and explicit plain text.
        d.write_petrel_config(tls="starttls")
        r = petrel(d, ["sync"])
        check.eq(r.status, 0, "imap:// (STARTTLS) works (%s)" % r.stderr.strip())
        d.write_petrel_config(tls="insecure")
        r = petrel(d, ["sync"])
        check.eq(r.status, 0, "imap+insecure:// works when chosen explicitly")


def test_strict_plaintext():
    """Where the server refuses plaintext logins (LOGINDISABLED), an
    imap+insecure account fails cleanly without sending the password, and
    STARTTLS works."""
    with harness.Dovecot(strict_plain=True, rawlog=True) as d:
        d.seed("alice", "INBOX", count=3, seed=1)
        d.write_petrel_config(tls="insecure")
        r = petrel(d, ["sync"])
        check(r.status == 4 and "LOGINDISABLED" in r.stderr and
              len(r.stderr.splitlines()) == 1,
              "imap+insecure to a LOGINDISABLED server: exit 4, one line "
              "(%s)" % r.stderr.strip())
        d.write_petrel_config(tls="starttls")
        r = petrel(d, ["sync"])
        check.eq(r.status, 0, "imap:// (STARTTLS) to the same server works "
                 "(%s)" % r.stderr.strip())


def test_disk_full():
    """A cache on a full disk: one clear line, non-zero exit, and a cache the
    next sync (with room again) completes. The disk is a small tmpfs when
    this process may mount one, else a file size limit (EFBIG)."""
    with harness.Dovecot() as d:
        n = 3000
        d.seed("alice", "INBOX", count=n, seed=31, manifest=False)
        d.write_petrel_config()
        cache = d.petrel_home()["cache"]
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=384k",
                                  "tmpfs", cache], stderr=subprocess.DEVNULL
                                 ).returncode == 0
        try:
            if mounted:
                r = petrel(d, ["sync"])
            else:
                def limit():
                    import resource
                    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
                    resource.setrlimit(resource.RLIMIT_FSIZE,
                                       (384 * 1024, 384 * 1024))
                p = subprocess.run([os.environ["PETREL"], "sync"],
                                   env=d.petrel_env(), preexec_fn=limit,
                                   stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE)
                r = harness.PetrelResult(p.returncode, p.stdout.decode(),
                                         p.stderr.decode())
            how = "tmpfs" if mounted else "RLIMIT_FSIZE"
            check(r.status == 1 and len(r.stderr.splitlines()) == 1 and
                  "cache" in r.stderr,
                  "full disk (%s): exit 1 with one line naming the cache "
                  "(%s)" % (how, r.stderr.strip()))
            db = os.path.join(cache, "petrel", "alice.db")
            con = sqlite3.connect(db)
            ok = con.execute("PRAGMA integrity_check").fetchone()[0]
            row = con.execute("SELECT complete FROM folders WHERE "
                              "name = 'INBOX'").fetchone()
            con.close()
            check(ok == "ok" and (row is None or row[0] == 0),
                  "the cache is intact and the folder not marked complete")
            if mounted:
                # Copy the cache off the full disk, as a user would.
                tmp = tempfile.mkdtemp(dir=d.dir)
                shutil.copytree(os.path.join(cache, "petrel"),
                                os.path.join(tmp, "petrel"))
        finally:
            if mounted:
                subprocess.run(["umount", cache])
        if mounted:
            shutil.copytree(os.path.join(tmp, "petrel"),
                            os.path.join(cache, "petrel"))
        r = petrel(d, ["sync"])
        check.eq(r.status, 0, "with room again the next sync completes")
        compare_folder(d, "INBOX")


def test_progress_on_a_terminal():
    with harness.Dovecot() as d:
        d.seed("alice", "INBOX", count=3000, seed=41, manifest=False)
        d.write_petrel_config()
        env = d.petrel_env()
        p = subprocess.run(["script", "-qec", "%s sync" % os.environ["PETREL"],
                            "/dev/null"], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=120)
        out = p.stdout.decode(errors="replace")
        check(p.returncode == 0 and "syncing INBOX" in out and
              "3000 new" in out,
              "on a terminal: a progress line and a summary on stderr")
        r = petrel(d, ["sync"])
        check(r.stderr == "", "not on a terminal: no progress line")


def test_connection_dropped():
    with harness.Dovecot() as d:
        n = 30000
        d.seed("alice", "INBOX", count=n, seed=8, manifest=False)
        d.write_petrel_config()
        env = d.petrel_env()
        p = subprocess.Popen([os.environ["PETREL"], "sync"], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(0.15)
        for _ in range(100):
            if p.poll() is not None:
                break
            d.kick("alice")
            time.sleep(0.02)
        _, err = p.communicate(timeout=60)
        err = err.decode()
        if p.returncode == 0:
            print("     (sync finished before the kick; nothing to check)")
        else:
            check(p.returncode == 3 and len(err.splitlines()) == 1,
                  "kicked mid-sync: exit 3 and one line (%s)" % err.strip())
        r = petrel(d, ["sync"])
        check.eq(r.status, 0, "the next sync completes")
        check.eq(len(list_json(d, "INBOX")), n, "and every message is cached")


def main():
    with harness.Dovecot() as d:
        for name, _, _ in FOLDERS[1:]:
            d.create_folder("alice", name)
        manifests = seed_all(d)
        d.write_petrel_config()
        test_sync_list_folders(d, manifests)
        test_second_sync(d)
        test_server_changes(d)
        test_show_and_offline(d)
        test_uidvalidity_change(d)
        test_cache_file(d)
    test_no_condstore_server()
    test_errors()
    test_strict_plaintext()
    test_disk_full()
    test_progress_on_a_terminal()
    test_resume_after_kill()
    test_connection_dropped()
    check.done()


if __name__ == "__main__":
    main()
