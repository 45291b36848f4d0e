#!/usr/bin/env python3
"""`petrel auth`, the built-in OAuth2, against a local authorization server
(oauth2srv.py, loopback only) whose tokens the private Dovecot's oauth2
passdb checks through its introspection endpoint:

- before `petrel auth`, a sync says to run it (exit 4);
- the authorization code grant with PKCE: petrel prints the URL, the
  "browser" (urllib here) follows it to petrel's loopback redirect; a
  redirect with a wrong state is ignored; the server checks the PKCE
  verifier; the tokens land in a 0600 file under $XDG_DATA_HOME/petrel/;
- the stored token then logs in (OAUTHBEARER, in Dovecot's log);
- a token the server no longer accepts is refreshed (grant_type
  refresh_token) and the login retried; one near its end is refreshed
  before the login;
- the device grant (--device): petrel prints the code, the test approves
  it, petrel's polling gets the tokens, which log in;
- the authorization server refusing the refresh (invalid_grant): exit 4
  with its words, no token in the output;
- an endpoint over http:// to a host that is not loopback is refused.
"""

import os
import re
import stat
import subprocess
import sys
import time
import urllib.parse
import urllib.request

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import harness  # noqa: E402
from oauth2srv import OAuth2Server  # noqa: E402

check = harness.Check()


def methods(d, since):
    return [m.group(1) for l in d.log_lines(since)
            for m in [re.search(r"imap-login: Info: Login: user=<alice>, "
                                r"method=([A-Z0-9-]+)", l)] if m]


def read_until(p, pred, timeout=20):
    """Lines of p's stdout until pred(line) is true; that line."""
    end = time.time() + timeout
    while time.time() < end:
        line = p.stdout.readline()
        if not line:
            return None
        if pred(line):
            return line
    return None


def main():
    with OAuth2Server() as oa, harness.Dovecot(
            auth_mechanisms="plain login oauthbearer xoauth2",
            oauth2_introspect_url=oa.base + "/introspect") as d:
        d.append("alice", "INBOX", "Subject: authorized\r\n\r\nhello\r\n")
        conf = {"oauth2_provider": "custom", "oauth2_client_id": "petrel-test",
                "oauth2_auth_url": oa.base + "/authorize",
                "oauth2_token_url": oa.base + "/token",
                "oauth2_device_url": oa.base + "/device",
                "oauth2_scope": "mail"}
        home = "code"
        d.write_petrel_config(home=home, password=False, extra=conf)
        store = os.path.join(d.petrel_home(home)["data"], "petrel", "oauth2",
                             "alice")

        r = d.run_petrel(["sync", "INBOX"], home=home)
        check(r.status == 4 and "petrel auth -a alice" in r.stderr,
              "before petrel auth: exit 4, says to run it (%s %s)" %
              (r.status, r.stderr.strip()))

        p = subprocess.Popen([harness.petrel_binary(), "auth", "--timeout",
                              "60"], env=d.petrel_env(home), text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        line = read_until(p, lambda l: l.strip().startswith("http"))
        check(line is not None, "petrel auth prints the URL")
        url = (line or "").strip()
        check("code_challenge_method=S256" in url and "redirect_uri=http%3A"
              "%2F%2F127.0.0.1%3A" in url, "with PKCE and a loopback redirect")
        redirect = urllib.parse.unquote(
            re.search(r"redirect_uri=([^&]+)", url).group(1)) if line else ""
        # A forged answer (wrong state) is ignored.
        try:
            body = urllib.request.urlopen(redirect + "?code=evil&state=bad",
                                          timeout=10).read().decode()
        except Exception as e:
            body = str(e)
        check("does not match" in body, "a redirect with a wrong state is "
              "ignored (%r)" % body[:100])
        body = urllib.request.urlopen(url, timeout=10).read().decode()
        check("authorized" in body, "the browser is told petrel is authorized")
        out, err = p.communicate(timeout=30)
        check(p.returncode == 0 and "is authorized" in out,
              "petrel auth completes (%s %s %s)" % (p.returncode, out.strip(),
                                                    err.strip()))
        tok = [f for path, f in oa.requests if path == "/token"]
        check(tok and tok[-1].get("grant_type") == "authorization_code" and
              tok[-1].get("code_verifier"), "the code was exchanged with its "
              "PKCE verifier (the server checked it)")
        check(os.path.exists(store) and stat.S_IMODE(os.stat(store).st_mode)
              == 0o600, "the tokens are kept in a 0600 file under "
              "$XDG_DATA_HOME/petrel/oauth2/")
        with open(store) as f:
            kept = f.read()
        check("refresh_token=" in kept and "access_token=" in kept,
              "with the refresh and the access token")
        check(not any(k in out + err for k in re.findall(r"=(\S+)", kept)),
              "petrel auth printed no token")

        mark = d.log_mark()
        r = d.run_petrel(["sync", "INBOX"], home=home)
        check(r.status == 0 and methods(d, mark) == ["OAUTHBEARER"],
              "the stored token logs in (%s %r %s)" % (r.status,
                                                       methods(d, mark),
                                                       r.stderr.strip()))
        r = d.run_petrel(["list", "INBOX"], home=home)
        check("authorized" in r.stdout, "and the folder synced")

        # The server stops accepting the access token: refreshed, retried.
        def refreshes():
            return sum(1 for path, f in oa.requests if path == "/token" and
                       f.get("grant_type") == "refresh_token")
        before = refreshes()
        oa.revoke_all()
        r = d.run_petrel(["sync", "INBOX"], home=home)
        check(r.status == 0 and refreshes() == before + 1,
              "a refused access token is refreshed and the login retried "
              "(%s %d %s)" % (r.status, refreshes() - before,
                              r.stderr.strip()))
        # Near its end: refreshed before the login, none refused.
        with open(store) as f:
            kept = f.read()
        kept = re.sub(r"expires=\d+", "expires=%d" % (time.time() + 10), kept)
        with open(store, "w") as f:
            f.write(kept)
        before = refreshes()
        mark = d.log_mark()
        r = d.run_petrel(["sync", "INBOX"], home=home)
        failed = [l for l in d.log_lines(mark) if "auth failed" in l or
                  "Authentication failed" in l]
        check(r.status == 0 and refreshes() == before + 1 and not failed,
              "a token near its end is refreshed before the login (%s %d %r)"
              % (r.status, refreshes() - before, failed[:1]))
        r = d.run_petrel(["sync", "INBOX"], home=home)
        check(r.status == 0 and refreshes() == before + 1,
              "and the new one is kept for the next run")

        # The device grant.
        home2 = "device"
        d.write_petrel_config(home=home2, password=False, extra=conf)
        p = subprocess.Popen([harness.petrel_binary(), "auth", "--device"],
                             env=d.petrel_env(home2), text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        line = read_until(p, lambda l: re.match(r"\s+\d{4}-\d{4}\s*$", l))
        check(line is not None, "petrel auth --device prints the user code")
        check(oa.approve_device((line or "").strip()), "the user approves it")
        out, err = p.communicate(timeout=30)
        check(p.returncode == 0, "petrel auth --device completes (%s %s)" %
              (p.returncode, err.strip()))
        mark = d.log_mark()
        r = d.run_petrel(["sync", "INBOX"], home=home2)
        check(r.status == 0 and methods(d, mark) == ["OAUTHBEARER"],
              "its token logs in (%s %s)" % (r.status, r.stderr.strip()))

        # The refresh token in the user's own store (a keyring, pass).
        home3 = "store"
        kept_file = os.path.join(d.dir, "keyring")
        d.write_petrel_config(home=home3, password=False, extra=dict(
            conf, oauth2_store_command="umask 077; cat > " + kept_file,
            oauth2_refresh_token_command="cat " + kept_file))
        p = subprocess.Popen([harness.petrel_binary(), "auth", "--timeout",
                              "60"], env=d.petrel_env(home3), text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        line = read_until(p, lambda l: l.strip().startswith("http"))
        urllib.request.urlopen((line or "").strip(), timeout=10).read()
        out, err = p.communicate(timeout=30)
        store3 = os.path.join(d.petrel_home(home3)["data"], "petrel",
                              "oauth2", "alice")
        kr = open(kept_file).read().strip() if os.path.exists(kept_file) else ""
        check(p.returncode == 0 and kr and kr in oa.refresh and
              "refresh_token" not in open(store3).read(),
              "oauth2_store_command: the refresh token goes to the user's "
              "store, not the file (%s %s)" % (p.returncode, err.strip()))
        oa.revoke_all()
        before = refreshes()
        r = d.run_petrel(["sync", "INBOX"], home=home3)
        check(r.status == 0 and refreshes() == before + 1,
              "and oauth2_refresh_token_command gives it back for a refresh "
              "(%s %s)" % (r.status, r.stderr.strip()))

        # The refresh refused by the authorization server.
        oa.revoke_all()
        oa.fail_token = {"error": "invalid_grant",
                         "error_description": "Token has been revoked."}
        r = d.run_petrel(["sync", "INBOX"], home=home)
        check(r.status == 4 and "invalid_grant" in r.stderr and
              "Token has been revoked" in r.stderr,
              "a refused refresh: exit 4 with the server's words (%s %s)" %
              (r.status, r.stderr.strip()))
        with open(store) as f:
            toks = re.findall(r"=(\S{16,})", f.read())
        check(toks and not any(t in r.stderr + r.stdout for t in toks),
              "and no token in the output")
        oa.fail_token = None

        # A token endpoint in clear text elsewhere than loopback.
        bad = dict(conf, oauth2_device_url="http://mail.example.org/device")
        d.write_petrel_config(home="bad", password=False, extra=bad)
        r = d.run_petrel(["auth", "--device"], home="bad")
        check(r.status == 2 and "only to a loopback address" in r.stderr,
              "http:// to a remote host is refused (%s %s)" %
              (r.status, r.stderr.strip()))
    check.done()


if __name__ == "__main__":
    main()
