#!/usr/bin/env python3
"""IMAP login through every SASL mechanism the private Dovecot offers
(auth_mechanisms = plain login cram-md5 scram-sha-1 scram-sha-256), the
mechanism named by Dovecot's log line for each:

- with no `auth` key the strongest offered is used (SCRAM-SHA-256);
- `auth = scram-sha-1`, `cram-md5`, `plain`, `login`, `user` (the LOGIN
  command) each log in with that one; a list takes the first offered;
- a wrong password fails as a refused login (exit 4), with SCRAM too;
- `auth` naming only what the server does not offer is a clear error;
- POP3 logs in through the same module (SCRAM-SHA-256 by default);
- a FAKE server that accepts SCRAM without proving it knows the password
  (a wrong server signature, then OK) is left at once: petrel does not
  sync from it;
- FAKE servers with malformed challenges (a SCRAM nonce that does not
  extend ours, an iteration count of 10^9, bad base64): the exchange is
  cancelled with "*" and the error says why, at once;
- channel binding, FAKE server over TLS 1.2: SCRAM-SHA-256-PLUS when
  offered, bound to tls-unique (checked by the server, as is the proof);
  plain SCRAM over TLS says "y" (petrel could bind; a stripped -PLUS is
  noticed by a server that has it).
"""

import os
import re
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
sys.path.insert(0, os.path.join(here, "..", "fake"))
import harness  # noqa: E402
from fakeimap import FakeIMAP  # noqa: E402

check = harness.Check()


def methods(d, since):
    return [m.group(1) for l in d.log_lines(since)
            for m in [re.search(r"imap-login: Info: Login: user=<alice>, "
                                r"method=([A-Z0-9-]+)", l)] if m]


def run(d, home, auth=None, password=None):
    extra = {"auth": auth} if auth else None
    d.write_petrel_config(home=home, extra=extra, password=password)
    mark = d.log_mark()
    r = d.run_petrel(["sync", "INBOX"], home=home)
    return r, methods(d, mark)


def main():
    with harness.Dovecot(auth_mechanisms="plain login cram-md5 scram-sha-1 "
                         "scram-sha-256") as d:
        d.append("alice", "INBOX", "Subject: hi\r\n\r\nhello\r\n")
        r, m = run(d, "best")
        check(r.status == 0 and m == ["SCRAM-SHA-256"], "no auth key: "
              "the strongest, SCRAM-SHA-256 (%s %r %s)" %
              (r.status, m, r.stderr.strip()))
        for auth, want in (("scram-sha-1", "SCRAM-SHA-1"),
                           ("cram-md5", "CRAM-MD5"), ("plain", "PLAIN"),
                           ("login", "LOGIN"), ("user", "PLAIN"),  # the LOGIN command: Dovecot logs PLAIN
                           ("xoauth2-nope", None)):
            if want is None:
                continue
            r, m = run(d, "m-" + auth, auth)
            check(r.status == 0 and m == [want], "auth = %s: logs in with "
                  "%s (%s %r %s)" % (auth, want, r.status, m,
                                     r.stderr.strip()))
        r, m = run(d, "list", "cram-md5, scram-sha-256")
        check(r.status == 0 and m == ["CRAM-MD5"], "a list: the first "
              "offered (%r)" % m)
        r, m = run(d, "bad", "scram-sha-256", password="wrong")
        check(r.status == 4 and "login as alice failed" in r.stderr,
              "a wrong password with SCRAM: a refused login, exit 4 (%s %s)"
              % (r.status, r.stderr.strip()))
        # POP3 shares the module: the strongest by default, or auth.
        for auth, want in ((None, "SCRAM-SHA-256"),
                           ("scram-sha-1", "SCRAM-SHA-1"),
                           ("cram-md5", "CRAM-MD5")):
            home = "pop-%s" % auth
            d.write_petrel_config(home=home, proto="pop3",
                                  extra={"auth": auth} if auth else None)
            mark = d.log_mark()
            r = d.run_petrel(["sync"], home=home)
            got = [mm.group(1) for l in d.log_lines(mark)
                   for mm in [re.search(r"pop3-login: Info: Login: "
                                        r"user=<alice>, method=([A-Z0-9-]+)",
                                        l)] if mm]
            check(r.status == 0 and got == [want], "POP3, auth = %s: %s "
                  "(%s %r %s)" % (auth, want, r.status, got,
                                  r.stderr.strip()))
        r, m = run(d, "bogus", "bogus-mech")
        check(r.status != 0 and "unknown mechanism" in r.stderr,
              "an unknown mechanism in auth is a config error (%s)" %
              r.stderr.strip())

    with harness.Dovecot(auth_mechanisms="plain login") as d:
        r, m = run(d, "none", "scram-sha-256,cram-md5")
        check(r.status == 4 and "offers none of auth" in r.stderr,
              "auth naming only what the server lacks: a clear error (%s)" %
              r.stderr.strip())

    import subprocess
    for fault, want in (("scram_bad_signature", "signature is wrong"),
                        ("scram_bad_nonce", "does not extend ours"),
                        ("scram_huge_iter", "iteration count 1000000000 "
                         "refused"),
                        ("sasl_bad_base64", "bad base64")):
        with FakeIMAP(count=3, fault=fault, caps="IMAP4rev1 LITERAL+ "
                      "SASL-IR AUTH=SCRAM-SHA-256") as f:
            home = os.path.join("/tmp", "petrel-scram-fake-%d-%s" %
                                (os.getpid(), fault))
            os.makedirs(home, exist_ok=True)
            cfg = os.path.join(home, "config")
            with open(cfg, "w") as fp:
                fp.write("[account fake]\nimap = imap+insecure://user@"
                         "127.0.0.1:%d\npassword = fake-secret-password\n"
                         % f.port)
            os.chmod(cfg, 0o600)
            env = dict(os.environ, XDG_CACHE_HOME=os.path.join(home, "cache"),
                       HOME=home, PETREL_CONFIG=cfg)
            t0 = time.time()
            p = subprocess.run([harness.petrel_binary(), "sync"], env=env,
                               capture_output=True, text=True, timeout=60)
            # 4: refused as a login; 6: what the server sent is malformed.
            check(p.returncode in (4, 6) and want in p.stderr and
                  "fake-secret-password" not in p.stderr,
                  "FAKE %s: refused with a clear message (%s %s)"
                  % (fault, p.returncode, p.stderr.strip()))
            if fault == "scram_huge_iter":
                check(time.time() - t0 < 10, "no 10^9 PBKDF2 rounds computed")
            if fault != "scram_bad_signature":
                check("*" in f.commands,
                      "%s: the exchange is cancelled with * (%r)"
                      % (fault, f.commands[-2:]))
            check(not any(c.upper().startswith(("SELECT", "UID FETCH",
                                                "LIST"))
                          for c in (x.partition(" ")[2] for x in f.commands)),
                  "%s: nothing is asked of it after the login (%r)" %
                  (fault, f.commands[-3:]))

    # Channel binding, FAKE server over TLS 1.2 (Dovecot 2.3 has no -PLUS;
    # Python gives the server tls-unique, not tls-exporter).
    import ssl
    import tempfile
    tmp = tempfile.mkdtemp(prefix="petrel-plus-")
    crt, key = os.path.join(tmp, "c.pem"), os.path.join(tmp, "k.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                    "-subj", "/CN=localhost", "-addext",
                    "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out",
                    crt], check=True, capture_output=True)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(crt, key)
    for caps, mech, gs2 in (
            ("AUTH=SCRAM-SHA-256 AUTH=SCRAM-SHA-256-PLUS", "SCRAM-SHA-256-PLUS",
             "p=tls-unique,,"),
            ("AUTH=SCRAM-SHA-256", "SCRAM-SHA-256", "y,,")):
        with FakeIMAP(count=3, fault="scram_verify", tls=ctx,
                      caps="IMAP4rev1 LITERAL+ SASL-IR " + caps) as f:
            home = os.path.join(tmp, mech)
            os.makedirs(home, exist_ok=True)
            cfg = os.path.join(home, "config")
            with open(cfg, "w") as fp:
                fp.write("[account fake]\nimap = imaps://user@127.0.0.1:%d\n"
                         "password = fake-secret-password\ntls_ca_file = %s\n"
                         % (f.port, crt))
            os.chmod(cfg, 0o600)
            env = dict(os.environ, XDG_CACHE_HOME=os.path.join(home, "cache"),
                       HOME=home, PETREL_CONFIG=cfg)
            p = subprocess.run([harness.petrel_binary(), "sync"], env=env,
                               capture_output=True, text=True, timeout=60)
            rec = f.scram[0] if f.scram else {}
            check(p.returncode == 0 and rec.get("mech") == mech and
                  rec.get("gs2") == gs2 and rec.get("cbind_ok") and
                  rec.get("proof_ok"),
                  "FAKE TLS 1.2 offering %s: %s with gs2 %s, the binding "
                  "and proof verified (%s %r %s)" % (caps, mech, gs2,
                                                     p.returncode, rec,
                                                     p.stderr.strip()))
    check.done()


if __name__ == "__main__":
    main()
