#!/usr/bin/env python3
"""SASL EXTERNAL (RFC 4422 appendix A): a TLS client certificate logs in,
no password, against the private Dovecot (which verifies client
certificates and takes the user from their CN); the mechanism used is
read from Dovecot's log.

- IMAP and POP3 with tls_cert_file and tls_key_file and no password: the
  default is then EXTERNAL, and no password is asked for;
- `auth = external` says so explicitly, beside a password;
- a certificate the server's CA did not sign: the login is refused
  (exit 4);
- `auth = external` without tls_cert_file: a configuration error.
"""

import os
import re
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import harness  # noqa: E402

check = harness.Check()


def methods(d, since, proto):
    return [m.group(1) for l in d.log_lines(since)
            for m in [re.search(proto + r"-login: Info: Login: user=<alice>, "
                                r"method=([A-Z0-9-]+)", l)] if m]


def main():
    with harness.Dovecot(auth_mechanisms="plain login external",
                         client_certs=True) as d:
        d.append("alice", "INBOX", "Subject: by certificate\r\n\r\nhi\r\n")
        crt, key = d.client_cert("alice")
        for proto in ("imap", "pop3"):
            home = "cert-" + proto
            d.write_petrel_config(home=home, proto=proto, password=False,
                                  extra={"tls_cert_file": crt,
                                         "tls_key_file": key})
            mark = d.log_mark()
            r = d.run_petrel(["sync"], home=home)
            m = methods(d, mark, proto)
            check(r.status == 0 and m == ["EXTERNAL"], "%s: the certificate "
                  "logs in with EXTERNAL, no password (%s %r %s)" %
                  (proto, r.status, m, r.stderr.strip()))
        r = d.run_petrel(["list", "INBOX"], home="cert-imap")
        check("by certificate" in r.stdout, "and the folder synced")

        d.write_petrel_config(home="explicit", extra={
            "tls_cert_file": crt, "tls_key_file": key, "auth": "external"})
        mark = d.log_mark()
        r = d.run_petrel(["sync"], home="explicit")
        check(r.status == 0 and methods(d, mark, "imap") == ["EXTERNAL"],
              "auth = external beside a password: EXTERNAL (%s %s)" %
              (r.status, r.stderr.strip()))

        bad_crt, bad_key = d.client_cert("alice", signed=False)
        d.write_petrel_config(home="stranger", password=False, extra={
            "tls_cert_file": bad_crt, "tls_key_file": bad_key})
        r = d.run_petrel(["sync"], home="stranger")
        check(r.status == 4 and "EXTERNAL" in r.stderr,
              "a certificate the CA did not sign: refused, exit 4 (%s %s)" %
              (r.status, r.stderr.strip()))

        d.write_petrel_config(home="nocert", extra={"auth": "external"})
        r = d.run_petrel(["sync"], home="nocert")
        check(r.status == 2 and "needs tls_cert_file" in r.stderr,
              "auth = external without a certificate: a config error (%s %s)"
              % (r.status, r.stderr.strip()))
    check.done()


if __name__ == "__main__":
    main()
