#!/usr/bin/env python3
"""Trust on first use, in tmux against the private Dovecot, whose
certificate is self-signed and not in any trust store petrel is given:

- headless, `petrel sync` refuses it and says how to trust it (the
  fingerprint and the tls_fingerprint line), never prompts;
- the TUI shows one prompt: subject, issuer, validity, the SHA-256
  fingerprint and the key; `o` accepts once (the folder loads; nothing is
  pinned); on the next start the prompt comes again and `a` accepts
  always: the key's pin-sha256 is written to a 0600 known_hosts file
  under $XDG_DATA_HOME/petrel/, and the folder loads;
- the next start connects without a prompt, and so does `petrel sync`
  (the pin serves headless commands too);
- `r` rejects: no connection, no retries, nothing pinned;
- the server then gets a new key: the TUI shows the loud warning, with
  no way to accept it, and does not connect; `petrel sync` fails with
  the warning (exit 5 TLS); known_hosts is unchanged.
"""

import base64
import hashlib
import os
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from tmuxui import TmuxUI  # noqa: E402

check = harness.Check()


def spki_pin(cert_file):
    """pin-sha256 of the certificate's public key, computed by openssl."""
    pub = subprocess.run(["openssl", "x509", "-in", cert_file, "-noout",
                          "-pubkey"], stdout=subprocess.PIPE, check=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"],
                         input=pub, stdout=subprocess.PIPE, check=True).stdout
    return "pin-sha256:" + base64.b64encode(hashlib.sha256(der).digest()).decode()


def message(i):
    return ("From: Sender <s@example.org>\nTo: alice@example.org\n"
            "Subject: Trusted %d\nMessage-ID: <tofu%d@example.org>\n"
            "Date: Thu, 01 Jan 2026 10:%02d:00 +0000\n\nBody %d.\n"
            % (i, i, i, i))


def main():
    with harness.Dovecot() as d:
        for i in (1, 2):
            d.append("alice", "INBOX", message(i))
        home = "tofu"
        d.write_petrel_config(home=home, ca_file=False)
        kh = os.path.join(d.petrel_home(home)["data"], "petrel", "known_hosts")
        hostport = "127.0.0.1:%d" % d.imaps_port
        fp = d.cert_fingerprint()
        pin = spki_pin(d.cert_file)

        r = d.run_petrel(["sync", "INBOX"], home=home)
        check(r.status == 5 and fp in r.stderr and "tls_fingerprint" in
              r.stderr, "headless: refused with the fingerprint and the "
              "config line (%s %s)" % (r.status, r.stderr.strip()[:300]))

        # Accept once: loads, nothing pinned.
        with TmuxUI(d, ["-a", "alice"], home=home) as ui:
            s = ui.wait("accept (a)lways", 30)
            check(s is not None, "the TUI asks about the certificate (%r)" %
                  getattr(ui, "last", "")[-400:])
            s = s or ""
            check("CN=localhost" in s and "O=petrel test" in s,
                  "it shows the subject and issuer")
            check("Valid:" in s and " UTC to " in s, "the validity")
            hexfp = fp[len("sha256:"):]
            flat = s.replace("\n", " ")
            check(hexfp[:47] in flat and hexfp[48:] in flat,
                  "the SHA-256 fingerprint")
            check(pin in s, "and the key's pin")
            ui.keys("o")
            s = ui.wait(lambda s: "Trusted 2" in s and "online" in s, 30)
            check(s is not None, "o: accepted once, the folder loads (%r)" %
                  getattr(ui, "last", "")[-300:])
            check(not os.path.exists(kh), "and nothing is pinned")
            ui.keys("q")
            ui.wait("PETREL-EXIT=0", 10)

        # Accept always.
        with TmuxUI(d, ["-a", "alice"], home=home) as ui:
            s = ui.wait("accept (a)lways", 30)
            check(s is not None, "the next start asks again")
            ui.keys("a")
            s = ui.wait(lambda s: "online" in s and "Trusted 2" in s, 30)
            check(s is not None, "a: accepted, online")
            ui.keys("q")
            ui.wait("PETREL-EXIT=0", 10)
        ok = os.path.exists(kh)
        check(ok, "known_hosts written")
        if ok:
            st = os.stat(kh)
            check(stat.S_IMODE(st.st_mode) == 0o600, "known_hosts is 0600 "
                  "(%o)" % stat.S_IMODE(st.st_mode))
            with open(kh) as f:
                lines = [l for l in f.read().splitlines()
                         if l and not l.startswith("#")]
            check(len(lines) == 1 and lines[0].startswith(hostport + " " +
                  pin + " "), "one line: host:port and the key's pin (%r)"
                  % lines)

        d.append("alice", "INBOX", message(3))
        with TmuxUI(d, ["-a", "alice"], home=home) as ui:
            s = ui.wait(lambda s: "Trusted 3" in s and "online" in s, 30)
            check(s is not None and "accept (a)lways" not in (s or ""),
                  "the next start connects without a prompt")
            ui.keys("q")
            ui.wait("PETREL-EXIT=0", 10)
        r = d.run_petrel(["sync", "INBOX"], home=home)
        check(r.status == 0, "the pin serves petrel sync too (%s %s)" %
              (r.status, r.stderr.strip()[:200]))

        # Reject: nothing connects, nothing is pinned.
        d.write_petrel_config(home="rej", ca_file=False)
        kh2 = os.path.join(d.petrel_home("rej")["data"], "petrel",
                           "known_hosts")
        with TmuxUI(d, ["-a", "alice"], home="rej") as ui:
            check(ui.wait("accept (a)lways", 30) is not None, "asked")
            mark = d.log_mark()
            ui.keys("r")
            s = ui.wait("rejected", 10)
            check(s is not None, "r: rejected, said so")
            time.sleep(7)          # longer than the first retry delay
            s = ui.screen()
            check("accept (a)lways" not in s and "online" not in s,
                  "and neither asked again nor connected (%r)" % s[-300:])
            logins = [l for l in d.log_lines(mark) if "Login: user=<alice>" in l]
            check(not logins, "no login after the rejection (%r)" % logins)
            ui.keys("q")
        check(not os.path.exists(kh2), "nothing pinned after a rejection")

        # The server's key changes: refused loudly, never offered.
        with open(kh) as f:
            before = f.read()
        d.new_cert()
        check(spki_pin(d.cert_file) != pin, "the server has a new key")
        with TmuxUI(d, ["-a", "alice"], home=home) as ui:
            s = ui.wait("THE SERVER'S KEY HAS CHANGED", 30)
            check(s is not None, "the TUI warns that the key changed (%r)" %
                  getattr(ui, "last", "")[-400:])
            check(s is not None and "accept (" not in s and
                  "Press any key" in s, "with no way to accept it")
            ui.keys("a")
            time.sleep(2)
            s = ui.screen()
            check("online" not in s and "CHANGED" in s, "a key does not "
                  "accept it; not connected, the warning on the message "
                  "line (%r)" % s[-300:])
            ui.keys("q")
        r = d.run_petrel(["sync", "INBOX"], home=home)
        check(r.status == 5 and "HAS CHANGED" in r.stderr and kh in r.stderr,
              "petrel sync: refused with the warning and the file (%s %s)" %
              (r.status, r.stderr.strip()[:300]))
        with open(kh) as f:
            check(f.read() == before, "known_hosts is unchanged")
    check.done()


if __name__ == "__main__":
    main()
