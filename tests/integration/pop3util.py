"""Helpers shared by the POP3 tests (test_pop3*.py): a petrel with its own
private XDG home pointed at any POP3 server (the fault server has no
Dovecot instance to borrow one from), messages to serve, and independent
views of petrel's local store (its SQLite cache, read directly)."""

import email.parser
import email.policy
import os
import re
import sqlite3
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

sys.path.insert(0, os.path.join(harness.source_dir(), "tests", "fake"))


class Petrel:
    """petrel with a private home in base (cache and config)."""

    def __init__(self, base, account="acct"):
        self.base = base
        self.account = account
        self.cache = os.path.join(base, "cache")
        self.config_dir = os.path.join(base, "config")
        for d in (self.cache, os.path.join(self.config_dir, "petrel")):
            os.makedirs(d, mode=0o700, exist_ok=True)
        self.config = os.path.join(self.config_dir, "petrel", "config")

    def write_config(self, url, password="alice-secret", extra=None):
        lines = ["[account %s]" % self.account, "pop3 = %s" % url]
        if password is not None:
            lines.append("password = %s" % password)
        for k, v in (extra or {}).items():
            lines.append("%s = %s" % (k, v))
        fd = os.open(self.config, os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
                     0o600)
        with os.fdopen(fd, "w") as f:
            f.write("\n".join(lines) + "\n")

    def env(self):
        e = dict(os.environ)
        e.pop("PETREL_CONFIG", None)
        e.pop("PETREL_TRACE", None)
        e.update(XDG_CACHE_HOME=self.cache, XDG_CONFIG_HOME=self.config_dir,
                 HOME=self.base, LANG="C.UTF-8")
        return e

    def run(self, args, timeout=300, text=True):
        r = subprocess.run([harness.petrel_binary()] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           stdin=subprocess.DEVNULL, env=self.env(),
                           timeout=timeout)
        out, err = r.stdout, r.stderr
        if text:
            out = out.decode("utf-8", errors="replace")
            err = err.decode("utf-8", errors="replace")
        return harness.PetrelResult(r.returncode, out, err)

    def db_path(self):
        return os.path.join(self.cache, "petrel", self.account + ".db")

    def bodies_path(self):
        return os.path.join(self.cache, "petrel",
                            self.account + ".bodies.db")

    def db(self):
        """The cache, read-only, with its bodies file attached as b."""
        db = sqlite3.connect("file:%s?mode=ro" % self.db_path(), uri=True)
        if os.path.exists(self.bodies_path()):
            db.execute("ATTACH DATABASE ? AS b",
                       ("file:%s?mode=ro" % self.bodies_path(),))
        else:
            db.execute("ATTACH DATABASE ':memory:' AS b")
            db.execute("CREATE TABLE b.bodies(message INTEGER PRIMARY KEY,"
                       " raw BLOB)")
        return db


def local_bodies(p):
    """{uid: raw bytes} of the local INBOX, read from the cache files: a
    body counts only when the index row says it is there (has_body)."""
    if not os.path.exists(p.db_path()):
        return {}
    db = p.db()
    try:
        rows = db.execute(
            "SELECT m.uid, b.raw FROM messages m JOIN folders f "
            "ON m.folder_id = f.id LEFT JOIN b.bodies b "
            "ON b.message = m.id AND m.has_body "
            "WHERE f.name = 'INBOX'").fetchall()
    finally:
        db.close()
    return {uid: raw for uid, raw in rows}


def uidl_rows(p):
    """The pop3_uidl rows as dicts."""
    db = p.db()
    db.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in db.execute(
            "SELECT * FROM pop3_uidl ORDER BY id")]
    finally:
        db.close()


def message_id(raw):
    m = re.search(rb"(?im)^Message-ID:\s*(<[^>\r\n]*>)", raw or b"")
    return m.group(1).decode() if m else None


def make_message(i, body_lines=20, tag="fault"):
    """A message with a unique Message-ID and lines that need stuffing."""
    body = []
    for k in range(body_lines):
        if k % 7 == 3:
            body.append(".leading dot line %d of message %d" % (k, i))
        elif k % 11 == 5:
            body.append(".")
        else:
            body.append("line %d of message %d: %s" % (k, i, "x" * (k % 50)))
    return ("From: Sender %d <s%d@example.org>\r\n"
            "To: alice@example.org\r\n"
            "Subject: %s message %d\r\n"
            "Date: Mon, 01 Jan 2024 10:%02d:00 +0000\r\n"
            "Message-ID: <%s-%d@petrel.test>\r\n"
            "\r\n%s\r\n" % (i, i, tag, i, i % 60, tag, i,
                            "\r\n".join(body))).encode()


def subject_of(raw):
    msg = email.parser.BytesParser(policy=email.policy.default).parsebytes(
        raw, headersonly=True)
    return str(msg["subject"])
