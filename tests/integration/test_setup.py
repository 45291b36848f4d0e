#!/usr/bin/env python3
"""`petrel setup`: from an address to a config that syncs, against the
private Dovecot, found through a test-only resolver (PETREL_SETUP_DNS, a
file of SRV records) and autoconfig base (PETREL_AUTOCONFIG_BASE, a local
HTTP server); no real DNS, loopback only.

- SRV (RFC 6186): `_imaps._tcp` leads to the IMAPS port; the login is
  tried, a commented section with password_command and tls_ca_file is
  written to a new 0600 config; `petrel sync` then works;
- `--list` shows the candidates in order (SRV IMAP before POP3);
- autoconfig: a document naming a plain-text IMAP server first and POP3S
  second gives a POP3 account (the plain one is never tried);
- hostile documents: only plain-text servers, malformed, huge: refused,
  and with nothing else found setup fails clearly, writing nothing;
- a wrong password: exit 4, nothing written; an existing account name:
  a usage error;
- without --yes it asks on the terminal (here: standard input);
- the TUI's first start without a config, in tmux: the same dialogue,
  the self-signed certificate shown and trusted always (its key pinned),
  then the index of the new account, online.
"""

import http.server
import os
import stat
import sys
import threading

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import harness  # noqa: E402
from tmuxui import TmuxUI  # noqa: E402

check = harness.Check()


class Autoconfig:
    """Serves self.doc at the two autoconfig paths."""

    def __init__(self):
        self.doc = b""
        self.hits = []
        srv = self

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                srv.hits.append(self.path)
                if self.path.startswith("/mail/config-v1.1.xml") and srv.doc:
                    self.send_response(200)
                    self.send_header("Content-Type", "text/xml")
                    self.send_header("Content-Length", str(len(srv.doc)))
                    self.end_headers()
                    self.wfile.write(srv.doc)
                else:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.base = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def server(kind, port, socket_type, host="127.0.0.1",
           user="%EMAILLOCALPART%"):
    return ("<incomingServer type=\"%s\"><hostname>%s</hostname><port>%d"
            "</port><socketType>%s</socketType><username>%s</username>"
            "<authentication>password-cleartext</authentication>"
            "</incomingServer>" % (kind, host, port, socket_type, user))


def doc(*servers):
    return ("<?xml version=\"1.0\"?><clientConfig version=\"1.1\">"
            "<emailProvider id=\"example.test\"><domain>example.test</domain>"
            + "".join(servers) + "</emailProvider></clientConfig>").encode()


def main():
    ac = Autoconfig()
    with harness.Dovecot() as d:
        d.append("alice", "INBOX", "Subject: set up\r\n\r\nhello\r\n")
        pw = os.path.join(d.dir, "pw")
        with open(pw, "w") as f:
            f.write(d.users["alice"] + "\n")
        dns = os.path.join(d.dir, "dns")
        with open(dns, "w") as f:
            f.write("_imaps._tcp.example.test SRV 0 1 %d 127.0.0.1.\n"
                    "_pop3s._tcp.example.test SRV 10 1 %d 127.0.0.1\n"
                    "_imap._tcp.example.test SRV 0 0 0 .\n"
                    % (d.imaps_port, d.pop3s_port))
        empty = os.path.join(d.dir, "dns-empty")
        open(empty, "w").close()

        def setup(home, args, dnsfile=dns, input=None):
            env = {"PETREL_SETUP_DNS": dnsfile,
                   "PETREL_AUTOCONFIG_BASE": ac.base}
            return d.run_petrel(["setup", "--address", "alice@example.test",
                                 "--ca-file", d.ca_file] + args, home=home,
                                env=env, input=input)

        r = setup("list", ["--list"])
        lines = r.stdout.splitlines()
        check(r.status == 0 and len(lines) == 2 and
              lines[0].startswith("imaps://127.0.0.1:%d" % d.imaps_port) and
              lines[1].startswith("pop3s://127.0.0.1:%d" % d.pop3s_port) and
              "_imaps._tcp.example.test" in lines[0],
              "--list: the SRV records in order, the '.' one left out (%r %s)"
              % (lines, r.stderr.strip()))

        cfg = d.petrel_config_path("srv")
        r = setup("srv", ["--password-command", "cat " + pw, "--yes"])
        check(r.status == 0 and "written to" in r.stdout,
              "SRV: setup logs in and writes the config (%s %s)" %
              (r.status, r.stderr.strip()[-300:]))
        text = open(cfg).read() if os.path.exists(cfg) else ""
        check(os.path.exists(cfg) and stat.S_IMODE(os.stat(cfg).st_mode) ==
              0o600, "a new config, mode 0600")
        check("imap = imaps://alice%%40example.test@127.0.0.1:%d" %
              d.imaps_port in text and "password_command = cat " + pw in text
              and "tls_ca_file = " + d.ca_file in text and
              "the SRV record _imaps._tcp.example.test" in text,
              "a commented section: URL, password_command, tls_ca_file (%r)"
              % text)
        r = d.run_petrel(["sync", "INBOX"], home="srv")
        check(r.status == 0, "the config syncs (%s %s)" %
              (r.status, r.stderr.strip()))
        r = d.run_petrel(["list", "INBOX"], home="srv")
        check("set up" in r.stdout, "and lists the mail")
        r = setup("srv", ["--password-command", "cat " + pw, "--yes"])
        check(r.status == 2 and "already has an account alice" in r.stderr
              and "Trying" not in r.stderr,
              "the same name again: a usage error, before any login (%s %s)" %
              (r.status, r.stderr.strip()))

        # Autoconfig: plain-text IMAP first (skipped), then POP3S.
        ac.doc = doc(server("imap", d.imap_port, "plain"),
                     server("pop3", d.pop3s_port, "SSL"))
        r = setup("ac", ["--password-command", "cat " + pw, "--yes"],
                  dnsfile=empty)
        text = open(d.petrel_config_path("ac")).read() if r.status == 0 else ""
        check(r.status == 0 and "pop3 = pop3s://alice@127.0.0.1:%d" %
              d.pop3s_port in text and "autoconfig document" in text,
              "autoconfig: the POP3S server, the plain one never tried "
              "(%s %s %r)" % (r.status, r.stderr.strip()[-300:], text))
        check("imap://" not in r.stderr, "no attempt in plain text")
        check(any(h.startswith("/mail/config-v1.1.xml?emailaddress=alice%40"
                               "example.test") for h in ac.hits),
              "asked with the address (%r)" % ac.hits[:2])
        r = d.run_petrel(["sync"], home="ac")
        check(r.status == 0, "and it syncs (%s)" % r.stderr.strip())

        # Hostile documents: nothing is written.
        for what, body in (("a plain-text-only",
                            doc(server("imap", d.imap_port, "plain"))),
                           ("a malformed", b"<clientConfig><incomingServer "
                            b"type=\"imap\"><hostname>127.0.0.1 ; rm"
                            b"</hostname>"),
                           ("a huge", doc("<x>" + "y" * 400000 + "</x>"))):
            ac.doc = body
            home = "hostile-" + what.split()[1]
            r = setup(home, ["--password-command", "cat " + pw, "--yes"],
                      dnsfile=empty)
            check(r.status != 0 and "found no mail server" in r.stderr and
                  not os.path.exists(d.petrel_config_path(home)),
                  "%s document: refused, nothing written (%s %s)" %
                  (what, r.status, r.stderr.strip()[-200:]))
        ac.doc = b""

        # One server (Dovecot slows down a client's repeated refusals).
        one = os.path.join(d.dir, "dns-one")
        with open(one, "w") as f:
            f.write("_imaps._tcp.example.test SRV 0 1 %d 127.0.0.1\n"
                    % d.imaps_port)
        r = setup("wrong", ["--password-command", "echo nope", "--yes"],
                  dnsfile=one)
        check(r.status == 4 and "no server of alice@example.test took the "
              "login" in r.stderr and
              not os.path.exists(d.petrel_config_path("wrong")),
              "a wrong password: exit 4, nothing written (%s %s)" %
              (r.status, r.stderr.strip()[-200:]))

        # Asked on the terminal: the command, then the confirmation.
        r = d.run_petrel(["setup", "--ca-file", d.ca_file], home="ask",
                         env={"PETREL_SETUP_DNS": dns,
                              "PETREL_AUTOCONFIG_BASE": ac.base},
                         input="alice@example.test\ncat %s\ny\n" % pw)
        check(r.status == 0 and os.path.exists(d.petrel_config_path("ask")),
              "interactive: asks the address, the command, then writes (%s "
              "%s)" % (r.status, r.stderr.strip()[-300:]))

        # The TUI's first start: setup on the terminal, then the UI.
        with TmuxUI(d, [], home="first", env={
                "PETREL_SETUP_DNS": dns,
                "PETREL_AUTOCONFIG_BASE": ac.base}) as ui:
            check(ui.wait("Your mail address:", 20) is not None,
                  "first start: the setup dialogue asks for the address")
            ui.type("alice@example.test")
            ui.keys("Enter")
            check(ui.wait("prints the password", 20) is not None,
                  "then for a password command")
            ui.type("cat " + pw)
            ui.keys("Enter")
            s = ui.wait("Trust it always", 30)
            check(s is not None and "SHA-256:" in s and "Subject:" in s,
                  "the self-signed certificate is shown (%r)" %
                  getattr(ui, "last", "")[-400:])
            ui.type("y")
            ui.keys("Enter")
            check(ui.wait("Add this account", 30) is not None,
                  "the login works; asked to write it")
            ui.keys("Enter")
            s = ui.wait(lambda s: "set up" in s and "online" in s, 30)
            check(s is not None, "the TUI opens on the new account, online "
                  "(%r)" % getattr(ui, "last", "")[-300:])
            ui.keys("q")
        kh = os.path.join(d.petrel_home("first")["data"], "petrel",
                          "known_hosts")
        check(os.path.exists(kh) and "127.0.0.1:%d pin-sha256:" %
              d.imaps_port in open(kh).read(), "its key is pinned")
    ac.close()
    check.done()


if __name__ == "__main__":
    main()
