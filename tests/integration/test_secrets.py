#!/usr/bin/env python3
"""Secrets stay secret: petrel logs in to the private Dovecot with every
mechanism it offers (IMAP and POP3, a password from password_command, an
OAuth2 token from oauth2_token_command) with the protocol trace on
(--trace, -vv), syncs and reads, watches for a while, and is used in the
TUI with the password typed at its prompt. Then every output, trace and
log, the TUI's log file and screen, and every file petrel wrote (caches,
bodies, WAL, known_hosts) is searched for the password and the token,
raw and in the base64 forms the SASL mechanisms send: none is found.
A running petrel has core dumps off (RLIMIT_CORE 0).
"""

import base64
import os
import subprocess
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import harness  # noqa: E402
from oauth2srv import OAuth2Server  # noqa: E402
from tmuxui import TmuxUI  # noqa: E402

check = harness.Check()
PASSWORD = "Xq7-sekrit-Pw-31337"


def b64(b):
    return base64.b64encode(b).decode()


def forms(user, secret):
    """The secret as it could leak: raw, and inside each SASL message."""
    s = secret.encode()
    out = {secret, b64(s), b64(b"\0" + user.encode() + b"\0" + s),
           b64(b"user=" + user.encode() + b"\x01auth=Bearer " + s + b"\x01\x01")}
    # Inside a longer message the secret's base64 depends on its offset
    # mod 3: these three cores (without the characters its neighbours
    # share) are found wherever it sits.
    for pad, start in ((b"", 0), (b"x", 2), (b"xx", 3)):
        out.add(b64(pad + s)[start:-4])
    return {f for f in out if len(f) >= 8}


def scan(blob, needles):
    return [n for n in needles if n.encode() in blob]


def main():
    users = dict(harness.DEFAULT_USERS, alice=PASSWORD)
    outputs = []            # (what, bytes)
    with OAuth2Server() as oa, harness.Dovecot(
            users=users, auth_mechanisms="plain login cram-md5 scram-sha-1 "
            "scram-sha-256 oauthbearer xoauth2",
            oauth2_introspect_url=oa.base + "/introspect") as d:
        for i in range(3):
            d.append("alice", "INBOX", "Subject: s%d\r\nMessage-ID: <s%d@x>"
                     "\r\n\r\nbody %d\r\n" % (i, i, i))
        pwfile = os.path.join(d.dir, "pw")
        with open(pwfile, "w") as f:
            f.write(PASSWORD + "\n")
        token = oa.issue("alice")
        tokfile = os.path.join(d.dir, "tok")
        with open(tokfile, "w") as f:
            f.write(token + "\n")
        needles = forms("alice", PASSWORD) | forms("alice", token)
        # The search itself finds a leak where a mechanism would put it.
        for leak in ("A1 AUTHENTICATE PLAIN " + b64(b"\0alice\0" +
                                                    PASSWORD.encode()),
                     "A1 LOGIN alice \"%s\"" % PASSWORD,
                     "A1 AUTHENTICATE OAUTHBEARER " + b64(
                         b"n,a=alice,\x01host=127.0.0.1\x01port=993\x01auth="
                         b"Bearer " + token.encode() + b"\x01\x01")):
            check(scan(leak.encode(), needles), "the search would find %s"
                  % leak.split()[1:3])
        homes = []

        def run(home, args, **kw):
            r = d.run_petrel(args, home=home, text=False, **kw)
            outputs.append(("%s %s" % (home, " ".join(args)),
                            r.stdout + r.stderr))
            return r

        pw_cmd = {"password_command": "cat %s" % pwfile}
        for proto, auths in (("imap", ("plain", "login", "user", "cram-md5",
                                       "scram-sha-1", "scram-sha-256")),
                             ("pop3", ("plain", "login", "user",
                                       "scram-sha-256"))):
            for auth in auths:
                home = "%s-%s" % (proto, auth)
                homes.append(home)
                d.write_petrel_config(home=home, proto=proto, password=False,
                                      extra=dict(pw_cmd, auth=auth))
                r = run(home, ["--trace", "-vv", "sync"])
                check(r.status == 0, "%s auth = %s logs in with the trace on "
                      "(%s)" % (proto, auth, r.stderr[-200:]))
                check(b"<redacted>" in r.stderr, "%s %s: the login line is "
                      "redacted in the trace" % (proto, auth))
                if proto == "imap":
                    run(home, ["--trace", "show", "INBOX", "1"])
        # A wrong password's error message must not echo what was tried.
        d.write_petrel_config(home="wrong", password=False,
                              extra={"password_command": "echo %s-x" % PASSWORD})
        homes.append("wrong")
        r = run("wrong", ["--trace", "-vv", "sync"])
        check(r.status == 4, "a wrong password is refused (%s)" % r.status)

        for auth in ("oauthbearer", "xoauth2"):
            home = "tok-" + auth
            homes.append(home)
            d.write_petrel_config(home=home, password=False, extra={
                "oauth2_token_command": "cat %s" % tokfile, "auth": auth})
            r = run(home, ["--trace", "-vv", "sync"])
            check(r.status == 0, "%s with the trace on (%s)" %
                  (auth, r.stderr[-200:]))

        # A watching petrel: its core-dump limit, then its trace.
        home = "watch"
        homes.append(home)
        d.write_petrel_config(home=home, password=False, extra=pw_cmd)
        p = subprocess.Popen([harness.petrel_binary(), "--trace", "-vv",
                              "sync", "--watch"], env=d.petrel_env(home),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(3)
        try:
            with open("/proc/%d/limits" % p.pid) as f:
                core = [l for l in f if l.startswith("Max core file size")]
            check(core and core[0].split()[4:6] == ["0", "0"],
                  "core dumps are off in a running petrel (%r)" % core)
        finally:
            p.terminate()
            out, err = p.communicate(timeout=20)
        outputs.append(("watch", out + err))

        # The TUI, the password typed at its prompt.
        home = "tui"
        homes.append(home)
        d.write_petrel_config(home=home, password=False)
        with TmuxUI(d, ["-a", "alice"], home=home) as ui:
            s = ui.wait("Password for", 30)
            check(s is not None, "the TUI asks for the password")
            ui.type(PASSWORD)
            s = ui.screen()
            outputs.append(("tui screen while typing", s.encode()))
            check(PASSWORD not in s and "*" * len(PASSWORD) in s,
                  "what is typed shows as stars")
            ui.keys("Enter")
            s = ui.wait(lambda s: "online" in s and "s2" in s, 30)
            check(s is not None, "and logs in")
            outputs.append(("tui screen", (s or "").encode()))
            ui.keys("q")
            ui.wait("PETREL-EXIT=0", 10)
            with open(ui.log, "rb") as f:
                outputs.append(("tui log", f.read()))

        found = []
        for what, blob in outputs:
            hit = scan(blob, needles)
            if hit:
                found.append((what, hit))
        check(not found, "no output, trace or log holds a secret (%r)" %
              found[:3])
        nfiles = 0
        for home in homes:
            h = d.petrel_home(home)
            for sub in ("cache", "data"):
                for root, dirs, files in os.walk(h[sub]):
                    for fn in files:
                        path = os.path.join(root, fn)
                        with open(path, "rb") as f:
                            blob = f.read()
                        nfiles += 1
                        hit = scan(blob, needles)
                        if hit:
                            found.append((path, hit))
        check(nfiles >= len(homes) and not found, "none of the %d files "
              "petrel wrote (caches, bodies, WAL) holds one (%r)" %
              (nfiles, found[:3]))
    check.done()


if __name__ == "__main__":
    main()
