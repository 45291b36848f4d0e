#!/usr/bin/env python3
"""OAuth2 logins: `oauth2_token_command` against the private Dovecot with
an `oauth2` passdb that asks a local token-introspection endpoint
(oauth2srv.py, RFC 7662) whether a token is good; the mechanism used is
read from Dovecot's log.

- IMAP: OAUTHBEARER (RFC 7628) by default, `auth = xoauth2` for XOAUTH2;
  POP3 the same through the shared SASL module;
- an expired token: the login is refused, the command is run again once
  and its fresh token logs in;
- a token that stays refused: exit 4, the server's reason shown, the
  token nowhere in the output;
- a command that prints something that is not a token, that fails, that
  hangs (oauth2_token_timeout): a clear error, no login attempted with it;
- `auth = plain` with a token command, or `auth = xoauth2` without one:
  a configuration error.
"""

import os
import re
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import harness  # noqa: E402
from oauth2srv import OAuth2Server  # noqa: E402

check = harness.Check()


def methods(d, since, proto="imap"):
    return [m.group(1) for l in d.log_lines(since)
            for m in [re.search(proto + r"-login: Info: Login: user=<alice>, "
                                r"method=([A-Z0-9-]+)", l)] if m]


def main():
    with OAuth2Server() as oa, harness.Dovecot(
            auth_mechanisms="plain login oauthbearer xoauth2",
            oauth2_introspect_url=oa.base + "/introspect") as d:
        d.append("alice", "INBOX", "Subject: via oauth\r\n\r\nhello\r\n")
        tokfile = os.path.join(d.dir, "token")
        counter = os.path.join(d.dir, "runs")

        def config(home, proto="imap", auth=None, cmd=None, extra=None):
            e = {"oauth2_token_command": cmd or ("echo run >> %s; cat %s"
                                                 % (counter, tokfile))}
            if auth:
                e["auth"] = auth
            e.update(extra or {})
            d.write_petrel_config(home=home, proto=proto, password=False,
                                  extra=e)

        def runs():
            try:
                with open(counter) as f:
                    return len(f.read().split())
            except FileNotFoundError:
                return 0

        def put(tok):
            with open(tokfile, "w") as f:
                f.write(tok + "\n")
            if os.path.exists(counter):
                os.unlink(counter)

        # IMAP, OAUTHBEARER by default.
        tok = oa.issue("alice")
        put(tok)
        config("bearer")
        mark = d.log_mark()
        r = d.run_petrel(["sync", "INBOX"], home="bearer")
        m = methods(d, mark)
        check(r.status == 0 and m == ["OAUTHBEARER"], "IMAP: the token logs "
              "in with OAUTHBEARER (%s %r %s)" % (r.status, m, r.stderr.strip()))
        r = d.run_petrel(["list", "INBOX"], home="bearer")
        check("via oauth" in r.stdout, "the folder synced with the token")
        intro = [f for p, f in oa.requests if p == "/introspect"]
        check(intro and intro[-1].get("token") == tok, "Dovecot asked the "
              "introspection endpoint about our token")

        config("x", auth="xoauth2")
        mark = d.log_mark()
        r = d.run_petrel(["sync", "INBOX"], home="x")
        m = methods(d, mark)
        check(r.status == 0 and m == ["XOAUTH2"], "auth = xoauth2: XOAUTH2 "
              "(%s %r %s)" % (r.status, m, r.stderr.strip()))

        # POP3 through the same module.
        for auth, want in ((None, "OAUTHBEARER"), ("xoauth2", "XOAUTH2")):
            home = "pop-%s" % auth
            config(home, proto="pop3", auth=auth)
            mark = d.log_mark()
            r = d.run_petrel(["sync"], home=home)
            m = methods(d, mark, "pop3")
            check(r.status == 0 and m == [want], "POP3 auth = %s: %s (%s %r "
                  "%s)" % (auth, want, r.status, m, r.stderr.strip()))

        # An expired token: refused, the command runs again, the new
        # token logs in. The command hands out the expired one first.
        old = oa.issue("alice", ttl=-1)
        new = oa.issue("alice")
        seq = os.path.join(d.dir, "seq")
        with open(seq, "w") as f:
            f.write("%s\n%s\n" % (old, new))
        if os.path.exists(counter):
            os.unlink(counter)
        cmd = ("echo run >> {c}; n=$(wc -l < {c}); sed -n \"${{n}}p\" {s}"
               .format(c=counter, s=seq))
        config("expired", cmd=cmd)
        mark = d.log_mark()
        r = d.run_petrel(["sync", "INBOX"], home="expired")
        m = methods(d, mark)
        check(r.status == 0 and runs() == 2 and m == ["OAUTHBEARER"],
              "an expired token: the command runs again and its fresh token "
              "logs in (%s runs=%d %r %s)" % (r.status, runs(), m,
                                              r.stderr.strip()))

        # Refused for good: exit 4, the reason, no token in the output.
        bad = oa.issue("alice", ttl=-1)
        put(bad)
        config("refused")
        r = d.run_petrel(["sync", "INBOX"], home="refused")
        check(r.status == 4 and "login as alice failed" in r.stderr and
              runs() == 2, "a refused token: exit 4 after one retry (%s "
              "runs=%d %s)" % (r.status, runs(), r.stderr.strip()))
        check(bad not in r.stderr + r.stdout, "the token is not in the "
              "output")
        check("status" in r.stderr, "the server's reason is shown (%s)"
              % r.stderr.strip())

        # What the command prints must be a token.
        put("not a token\x01auth=x")
        config("junk")
        r = d.run_petrel(["sync", "INBOX"], home="junk")
        check(r.status == 4 and "not an OAuth2 access token" in r.stderr and
              "auth=x" not in r.stderr, "output that is not a b64token is "
              "refused, unquoted (%s %s)" % (r.status, r.stderr.strip()))
        config("fails", cmd="echo 'no network' >&2; exit 3")
        r = d.run_petrel(["sync", "INBOX"], home="fails")
        check(r.status == 4 and "oauth2_token_command failed" in r.stderr and
              "no network" in r.stderr, "a failing command: its exit status "
              "and stderr (%s %s)" % (r.status, r.stderr.strip()))
        config("hangs", cmd="sleep 30", extra={"oauth2_token_timeout": "1"})
        r = d.run_petrel(["sync", "INBOX"], home="hangs", timeout=20)
        check(r.status == 4 and "printed nothing in 1 s" in r.stderr,
              "a hanging command is killed after oauth2_token_timeout (%s %s)"
              % (r.status, r.stderr.strip()))

        # A token is not a password, and the other way round.
        config("mix", auth="plain")
        r = d.run_petrel(["sync", "INBOX"], home="mix")
        check(r.status == 2 and "cannot carry the token" in r.stderr,
              "auth = plain with a token command: a config error (%s %s)"
              % (r.status, r.stderr.strip()))
        d.write_petrel_config(home="nocmd", extra={"auth": "xoauth2"})
        r = d.run_petrel(["sync", "INBOX"], home="nocmd")
        check(r.status == 2 and "needs oauth2_token_command" in r.stderr,
              "auth = xoauth2 without one: a config error (%s %s)"
              % (r.status, r.stderr.strip()))
    check.done()


if __name__ == "__main__":
    main()
