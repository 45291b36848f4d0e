#!/usr/bin/env python3
"""POP3 connections and logins against the private Dovecot: POP3S
(implicit TLS), STLS, SASL PLAIN and LOGIN, USER/PASS, APOP (Dovecot with
"apop" in auth_mechanisms), a wrong password, certificates verified, and
no password in plain text unless the account says pop3+insecure://.

Dovecot's login log line says which mechanism was used and whether the
connection was secured; that is what each test checks, with the sync's
result.
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

check = harness.Check()
EXIT_AUTH, EXIT_TLS = 4, 5


def logins(d, since, user):
    """(method, secured) of each pop3-login Login line after since."""
    out = []
    for l in d.log_lines(since):
        if "pop3-login" in l and "Login: user=<%s>" % user in l:
            m = re.search(r"method=(\w+)", l)
            out.append((m.group(1) if m else None,
                        ", TLS" in l))
    return out


def login_case(d, what, user, tls, extra, want_method, home):
    d.write_petrel_config(None, account=user, proto="pop3", tls=tls,
                          extra=extra, home=home)
    mark = d.log_mark()
    r = d.run_petrel(["sync"], home=home)
    check.eq(r.status, 0, "%s: sync succeeds (%s)" % (what, r.stderr.strip()))
    d.wait_logouts(1, since=mark, user=user, proto="pop3")
    got = logins(d, mark, user)
    check(got and got[-1][0] == want_method, "%s: Dovecot saw method=%s "
          "(%s)" % (what, want_method, got))
    return got[-1] if got else (None, None)


def main():
    apop = "auth_mechanisms = plain login apop\n"
    with harness.Dovecot(extra_conf=apop) as d:
        for u in ("alice", "bob", "carol", "dave"):
            d.seed(u, "INBOX", 5, seed=3, manifest=False)
        method, tls = login_case(d, "POP3S default", "alice", "pop3s", None,
                                 "PLAIN", "a1")
        check(tls, "POP3S: the login was over TLS")
        method, tls = login_case(d, "STLS", "bob", "starttls", None,
                                 "PLAIN", "a2")
        check(tls, "STLS: the login was over TLS")
        login_case(d, "auth = login", "carol", "pop3s", {"auth": "login"},
                   "LOGIN", "a3")
        login_case(d, "auth = user", "dave", "pop3s", {"auth": "user"},
                   "PLAIN", "a4")
        login_case(d, "auth = apop", "alice", "pop3s", {"auth": "apop"},
                   "APOP", "a5")
        # Plain text, with apop = yes: APOP keeps the password off the wire.
        method, tls = login_case(d, "pop3+insecure with apop = yes", "bob",
                                 "insecure", {"apop": "yes"}, "APOP", "a6")
        check(not tls, "pop3+insecure: the connection was plain text")

        # A wrong password: ERR_AUTH (exit 4) with Dovecot's own text.
        d.write_petrel_config(None, account="alice", proto="pop3",
                              tls="pop3s", password="not-the-password",
                              home="bad")
        r = d.run_petrel(["sync"], home="bad")
        check.eq(r.status, EXIT_AUTH, "wrong password: exit status 4 (auth)")
        check("login as alice failed" in r.stderr and
              "Authentication failed" in r.stderr,
              "wrong password: the server's text is shown: %r"
              % r.stderr.strip())
        check(r.stderr.count("\n") == 1, "wrong password: one line")

        # Certificates are verified: without the test CA, refused.
        d.write_petrel_config(None, account="alice", proto="pop3",
                              tls="pop3s", ca_file=False, home="noca")
        r = d.run_petrel(["sync"], home="noca")
        check.eq(r.status, EXIT_TLS, "unknown certificate: exit status 5 "
                 "(%s)" % r.stderr.strip())

        # Pinned by fingerprint instead: accepted.
        d.write_petrel_config(None, account="alice", proto="pop3",
                              tls="pop3s", ca_file=False, home="pin",
                              extra={"tls_fingerprint":
                                     d.cert_fingerprint()})
        r = d.run_petrel(["sync"], home="pin")
        check.eq(r.status, 0, "pinned certificate: sync succeeds (%s)"
                 % r.stderr.strip())

    # A server that enforces TLS for plain-text logins (Dovecot sees
    # 127.0.0.2 as not secured): pop3:// still logs in, through STLS;
    # pop3+insecure:// without APOP is refused by the server, clearly.
    with harness.Dovecot(strict_plain=True) as d:
        d.seed("alice", "INBOX", 3, manifest=False)
        method, tls = login_case(d, "strict server, pop3://", "alice",
                                 "starttls", None, "PLAIN", "s1")
        check(tls, "strict server: the login went over STLS")
        d.write_petrel_config(None, account="alice", proto="pop3",
                              tls="insecure", home="s2")
        r = d.run_petrel(["sync"], home="s2")
        check.eq(r.status, EXIT_AUTH, "strict server, pop3+insecure: "
                 "refused, exit status 4 (%s)" % r.stderr.strip())
        check("allows no login without TLS" in r.stderr,
              "strict server: the refusal says why: %r" % r.stderr.strip())
    check.done()


if __name__ == "__main__":
    main()
