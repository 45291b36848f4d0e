#!/usr/bin/env python3
"""Check every corpus message through `petrel render --json`.

usage: run.py PETREL CORPUS_DIR

For each NAME.eml with NAME.expect.json: the JSON has exactly the fields of
the issue, subject/from/to/cc/date match, the attachment names (types,
sizes) match in order, every body fragment is there and no forbidden one;
the text output is the header block plus the same body; reading from
standard input gives the same; and no output ever holds a raw control,
C1 or bidi override character. Then: --save (sanitised names, no
overwrite), mailcap through the command line (a sed entry and w3m), usage
errors, and hostile inputs (empty, random, deep, wide, long), each of which
must render or fail with one line, fast.
"""

import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time

PETREL, CORPUS = sys.argv[1], sys.argv[2]
FAILS = []
BAD = re.compile("[\x00-\x08\x0b-\x1f\x7f\u0080-\u009f\u202a-\u202e\u2066-\u2069]")
TMP = tempfile.mkdtemp(prefix="petrel-corpus-")
ENV = dict(os.environ)
ENV.pop("PETREL_CONFIG", None)
ENV.pop("MAILCAPS", None)
ENV.update({"PETREL_MAILCAP": "", "XDG_CONFIG_HOME": TMP, "HOME": TMP,
            "LC_ALL": "C.UTF-8", "TMPDIR": TMP})


def fail(name, msg):
    FAILS.append("%s: %s" % (name, msg))


def run(args, stdin=None, env=None, timeout=20):
    t0 = time.monotonic()
    p = subprocess.run([PETREL] + args, input=stdin, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=env or ENV, timeout=timeout)
    return p, time.monotonic() - t0


def safe(name, what, s):
    """No raw control, C1 or bidi override character reaches the terminal."""
    m = BAD.search(s)
    if m:
        fail(name, "%s holds raw %r at %d" % (what, m.group(0), m.start()))


def check_strings(name, obj, what="json"):
    if isinstance(obj, str):
        safe(name, what, obj)
    elif isinstance(obj, list):
        for i, x in enumerate(obj):
            check_strings(name, x, "%s[%d]" % (what, i))
    elif isinstance(obj, dict):
        for k, x in obj.items():
            check_strings(name, x, "%s.%s" % (what, k))


def check_message(name, path, exp):
    p, _ = run(["render", "--json", path])
    if p.returncode != 0:
        fail(name, "exit %d: %s" % (p.returncode, p.stderr.decode(errors="replace")))
        return
    try:
        out = p.stdout.decode("utf-8")
        j = json.loads(out)
    except (UnicodeDecodeError, ValueError) as e:
        fail(name, "bad JSON output: %s" % e)
        return
    if list(j.keys()) != ["subject", "from", "to", "cc", "date", "attachments", "body"]:
        fail(name, "JSON keys %s" % list(j.keys()))
        return
    check_strings(name, j)
    for k in ("subject", "from", "to", "cc", "date"):
        if k in exp and j[k] != exp[k]:
            fail(name, "%s is %r, expected %r" % (k, j[k], exp[k]))
    atts = j["attachments"]
    for a in atts:
        if set(a.keys()) != {"filename", "type", "size"} or not isinstance(a["size"], int):
            fail(name, "attachment shape %r" % a)
    got = [a["filename"] for a in atts]
    if got != exp.get("attachments", []):
        fail(name, "attachments %r, expected %r" % (got, exp.get("attachments", [])))
    if "types" in exp and [a["type"] for a in atts] != exp["types"]:
        fail(name, "types %r, expected %r" % ([a["type"] for a in atts], exp["types"]))
    if "sizes" in exp and [a["size"] for a in atts] != exp["sizes"]:
        fail(name, "sizes %r, expected %r" % ([a["size"] for a in atts], exp["sizes"]))
    for frag in exp.get("body", []):
        if frag not in j["body"]:
            fail(name, "body lacks %r; body is:\n%s" % (frag, j["body"]))
    for frag in exp.get("not_body", []):
        if frag in j["body"]:
            fail(name, "body has %r" % frag)
    # The text output: the header lines, a blank line, the same body.
    t, _ = run(["render", path])
    text = t.stdout.decode("utf-8", errors="replace")
    safe(name, "text output", text)
    if t.returncode != 0 or not text.endswith(j["body"]):
        fail(name, "text output does not end with the JSON body")
    head = text[:len(text) - len(j["body"])]
    if j["subject"] and ("Subject: " + j["subject"] + "\n") not in head:
        fail(name, "text header block lacks the subject: %r" % head)
    # Standard input gives the same, and so does the message with CRLF
    # line ends (as an IMAP server returns it).
    with open(path, "rb") as f:
        raw = f.read()
    s, _ = run(["render", "--json", "-"], stdin=raw)
    if s.stdout != p.stdout:
        fail(name, "render - differs from render FILE")
    crlf = re.sub(rb"(?<!\r)\n", b"\r\n", raw)
    if crlf != raw:
        s, _ = run(["render", "--json", "-"], stdin=crlf)
        if s.stdout != p.stdout:
            fail(name, "CRLF line ends render differently:\n%s\n%s" % (s.stdout, p.stdout))


def check_corpus():
    names = sorted(f[:-4] for f in os.listdir(CORPUS) if f.endswith(".eml"))
    if len(names) < 50:
        fail("corpus", "only %d messages" % len(names))
    for name in names:
        with open(os.path.join(CORPUS, name + ".expect.json"), encoding="utf-8") as f:
            exp = json.load(f)
        check_message(name, os.path.join(CORPUS, name + ".eml"), exp)
    return len(names)


def check_save():
    path = os.path.join(CORPUS, "att-hostile-names.eml")
    d = os.path.join(TMP, "save")
    os.mkdir(d)
    want = ["passwd", "bashrc", "evil_]52;c;AAA__fdp.exe"]
    for n, w in enumerate(want, 1):
        p, _ = run(["render", "--save", str(n), d, path])
        if p.returncode != 0 or p.stdout.decode().strip() != os.path.join(d, w):
            fail("save", "attachment %d: exit %d, %r (expected %s)" % (n, p.returncode, p.stdout, w))
    # Again: new names, the first files untouched.
    with open(os.path.join(d, "passwd"), "w") as f:
        f.write("mine")
    p, _ = run(["render", "--save", "1", d, path])
    if p.stdout.decode().strip() != os.path.join(d, "passwd-1"):
        fail("save", "second save went to %r" % p.stdout)
    with open(os.path.join(d, "passwd")) as f:
        if f.read() != "mine":
            fail("save", "an existing file was overwritten")
    with open(os.path.join(d, "passwd-1")) as f:
        if f.read() != "root":
            fail("save", "saved content differs")
    if sorted(os.listdir(d)) != sorted(want + ["passwd-1"]):
        fail("save", "files: %r" % os.listdir(d))
    if os.path.exists(os.path.join(TMP, "etc")):
        fail("save", "wrote outside the directory")
    p, _ = run(["render", "--save", "9", d, path])
    if p.returncode == 0 or p.stderr.decode().count("\n") != 1:
        fail("save", "bad attachment number: exit %d, %r" % (p.returncode, p.stderr))
    p, _ = run(["render", "--json", "--save", "2", d, path])
    try:
        if json.loads(p.stdout)["saved"] != os.path.join(d, "bashrc-1"):
            fail("save", "--json --save: %r" % p.stdout)
    except ValueError:
        fail("save", "--json --save is not JSON: %r" % p.stdout)


def check_mailcap():
    path = os.path.join(CORPUS, "html-only.eml")
    mc = os.path.join(TMP, "mailcap")
    with open(mc, "w") as f:
        f.write("text/html; sed -e 's/<[^>]*>//g' -e 's/^./MAILCAP:&/' %s; copiousoutput\n")
    env = dict(ENV, PETREL_MAILCAP=mc)
    p, _ = run(["render", "--json", path], env=env)
    body = json.loads(p.stdout)["body"]
    if "MAILCAP:Weekly&nbsp;News" not in body or "[1] https://" in body:
        fail("mailcap", "sed entry not used: %r" % body[:300])
    check_strings("mailcap", body)
    # MAILCAPS as mutt reads it, and w3m as people configure it.
    with open(mc, "w") as f:
        f.write("text/html; w3m -I %{charset} -T text/html -dump; copiousoutput\n")
    env = dict(ENV, MAILCAPS=mc)
    env.pop("PETREL_MAILCAP")
    p, _ = run(["render", "--json", path], env=env)
    body = json.loads(p.stdout)["body"]
    if "Weekly News" not in body or "<p>" in body or "[1] https://" in body \
            or "First item" not in body:
        fail("mailcap", "w3m output not used: %r" % body[:300])
    # Without any mailcap the built-in converter is used (the corpus run).


def check_config():
    """The [options] of a configuration: given with -c, by PETREL_CONFIG, broken."""
    conf = os.path.join(TMP, "config")
    with open(os.path.join(TMP, "mc"), "w") as f:
        f.write("text/html; sed -e 's/<[^>]*>//g' -e 's/^./MAILCAP:&/'; copiousoutput\n")
    with open(conf, "w") as f:
        f.write("[account x]\nimap = imaps://u@127.0.0.1\npassword = p\n"
                "[options]\ncharset_fallback = koi8-r\n"
                "alternative_order = text/html, text/plain\nwrap = 30\n"
                "mailcap_path = ~/mc\nmailcap_timeout = 5\n")
    os.chmod(conf, 0o600)
    body = lambda p: json.loads(p.stdout)["body"] if p.returncode == 0 else p.stderr.decode()
    p, _ = run(["-c", conf, "render", "--json", os.path.join(CORPUS, "cs-unknown.eml")])
    want = "cp1252 fallback: " + b"na\xefve caf\xe9".decode("koi8-r")
    if want not in body(p):
        fail("config", "charset_fallback not used: %r" % body(p))
    env = dict(ENV, PETREL_CONFIG=conf)
    p, _ = run(["render", "--json", os.path.join(CORPUS, "alt-prefers-plain.eml")], env=env)
    if "MAILCAP:The HTML version." not in body(p):
        fail("config", "alternative_order/mailcap_path not used: %r" % body(p))
    p, _ = run(["-c", conf, "render", "--json", os.path.join(CORPUS, "format-flowed.eml")])
    lines = body(p).split("\n")
    if max(len(x) for x in lines) > 30 or len(lines) < 8:
        fail("config", "wrap = 30 not used: %r" % body(p))
    with open(conf, "a") as f:
        f.write("charset_fallback = no-such-charset\n")
    p, _ = run(["-c", conf, "render", os.path.join(CORPUS, "cs-unknown.eml")])
    if p.returncode != 2 or p.stderr.decode().count("\n") != 1:
        fail("config", "bad charset_fallback: exit %d, %r" % (p.returncode, p.stderr))
    # A broken configuration found by default does not stop a render.
    os.makedirs(os.path.join(TMP, "petrel"), exist_ok=True)
    with open(os.path.join(TMP, "petrel", "config"), "w") as f:
        f.write("this is not a config\n")
    p, _ = run(["render", os.path.join(CORPUS, "hdr-folding.eml")])
    os.unlink(os.path.join(TMP, "petrel", "config"))
    if p.returncode != 0 or b"Body of a folded message." not in p.stdout or \
            p.stderr.decode().count("\n") != 1:
        fail("config", "broken default config: exit %d, %r" % (p.returncode, p.stderr))


def check_usage():
    for args, code in ((["render"], 2), (["render", "--headers", "bogus", "x"], 2),
                       (["render", "--save", "0", "/tmp", "x"], 2),
                       (["render", "--bogus", "x"], 2),
                       (["render", os.path.join(TMP, "does-not-exist")], 1)):
        p, _ = run(args)
        if p.returncode != code or p.stderr.decode().count("\n") != 1:
            fail("usage", "%r: exit %d, stderr %r" % (args, p.returncode, p.stderr))
    p, _ = run(["render", "--headers", "all", os.path.join(CORPUS, "hdr-obsolete.eml")])
    if b"Received: from x by y" not in p.stdout:
        fail("usage", "--headers all lacks Received: %r" % p.stdout[:200])
    p, _ = run(["render", "--headers", "default", os.path.join(CORPUS, "hdr-obsolete.eml")])
    if b"Received:" in p.stdout:
        fail("usage", "--headers default shows Received")


def hostile_inputs():
    rnd = random.Random(3)
    yield "empty", b""
    yield "random-1mb", bytes(rnd.getrandbits(8) for _ in range(1 << 20))
    yield "nul-only", b"\0" * 100000
    yield "cr-only", b"Subject: x\r" * 5000 + b"\r" + b"line\r" * 50000
    deep = b"".join(b"Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n" % (i, i)
                    for i in range(500))
    yield "deep-500", deep + b"\ninner\n"
    yield "deep-rfc822-500", b"Content-Type: message/rfc822\n\n" * 500 + b"Subject: x\n\nbody\n"
    yield "parts-10000", b"Content-Type: multipart/mixed; boundary=b\n\n" + \
        b"".join(b"--b\nContent-Type: text/plain\n\n%d\n" % i for i in range(10000)) + b"--b--\n"
    yield "header-100k", b"Subject: " + b"=?utf-8?q?a?= " * 7500 + b"\nTo: " + b"a@b," * 25000 + b"\n\nx\n"
    yield "html-lt-3mb", b"Content-Type: text/html\n\n" + b"<a" * (3 << 19)
    yield "b64-one-line", b"Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\n" + \
        b"QUJD" * (1 << 18)
    yield "boundary-storm", b"Content-Type: multipart/mixed; boundary=\"\"\n\n" + b"--\n" * 100000
    yield "bytes-mix", bytes(rnd.choice(b"=?\r\n<>:;\"\\-bq \x1b\x80\xff") for _ in range(300000))


def check_hostile():
    for name, data in hostile_inputs():
        path = os.path.join(TMP, name)
        with open(path, "wb") as f:
            f.write(data)
        limit = 1.0 + len(data) / (1 << 20)
        for args in (["render", path], ["render", "--json", path]):
            try:
                p, dt = run(args, timeout=30)
            except subprocess.TimeoutExpired:
                fail(name, "timed out")
                continue
            if p.returncode < 0:
                fail(name, "killed by signal %d" % -p.returncode)
            elif p.returncode != 0 and p.stderr.decode(errors="replace").count("\n") != 1:
                fail(name, "exit %d without one error line: %r" % (p.returncode, p.stderr))
            elif p.returncode == 0 and p.stderr:
                fail(name, "rendered but wrote to stderr: %r" % p.stderr[:200])
            if dt > limit:
                fail(name, "took %.2f s (limit %.2f s)" % (dt, limit))
            if p.returncode == 0:
                try:
                    out = p.stdout.decode("utf-8", errors="strict")
                except UnicodeDecodeError as e:
                    fail(name, "output is not UTF-8: %s" % e)
                    continue
                safe(name, "output", out)
                if "--json" in args:
                    try:
                        json.loads(out)
                    except ValueError as e:
                        fail(name, "bad JSON: %s" % e)
        if name == "empty" and p.returncode == 0:
            fail(name, "an empty message is not an error")


def main():
    n = check_corpus()
    check_save()
    check_mailcap()
    check_config()
    check_usage()
    check_hostile()
    shutil.rmtree(TMP, ignore_errors=True)
    for f in FAILS:
        print("FAIL " + f)
    print("%d corpus messages, %d failure(s)" % (n, len(FAILS)))
    sys.exit(1 if FAILS else 0)


main()
