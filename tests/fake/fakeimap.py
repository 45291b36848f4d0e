#!/usr/bin/env python3
"""FAKE IMAP server, for faults a real server will not produce.

This is not a real IMAP server: it answers the commands petrel's sync sends,
from an in-memory mailbox of generated messages, and can be told to
misbehave at a chosen point: garbage instead of a greeting, a literal size
that overflows, a connection cut in the middle of a literal, hostile nesting,
a line that never ends, responses for commands never sent, data injected
after STARTTLS, silence, one message with an item over a client limit
("bad_items"). Real-server behaviour is tested against Dovecot
(tests/integration); only faults live here.

    with FakeIMAP(count=100, fault="drop_in_literal", at=50) as f:
        ... petrel with imap = imap+insecure://u@127.0.0.1:f.port ...
"""

import re
import socket
import threading

HEADER = ("From: Sender {i} <s{i}@example.org>\r\n"
          "Subject: message {i}\r\n"
          "Date: Mon, 02 Jan 2023 10:00:00 +0000\r\n"
          "Message-ID: <{i}@fake>\r\n\r\n")

# fault="bad_items": items over petrel's parser limits, each in one message
# of the header fetch (UIDs at, at+1, at+2), the other items intact.
DEEP_ITEM = (b"BODYSTRUCTURE " + b'("TEXT" ' * 100 + b'"PLAIN"' + b")" * 100)
BIG_HEADER = b"X-Pad: " + b"a" * (1536 * 1024) + b"\r\n\r\n"     # 1.5 MB
BIG_QUOTED = b'ENVELOPE (NIL "' + b"s" * (1200 * 1024) + b'" NIL)'  # 1.2 MB


class FakeIMAP:
    """One listening socket on 127.0.0.1; each connection is served by the
    same script. fault names what to break (see _serve), at where."""

    def __init__(self, count=10, fault=None, at=0, caps="IMAP4rev1 LITERAL+",
                 uidvalidity=1, tls=None, password="fake-secret-password"):
        self.count = count
        self.fault = fault
        self.at = at
        self.caps = caps
        self.uidvalidity = uidvalidity
        self.tls = tls              # an ssl.SSLContext: implicit TLS
        self.password = password    # for fault="scram_verify"
        self.scram = []             # what each SCRAM exchange showed
        self.stores = []            # UID STORE commands answered OK
        self.store_tries = 0        # and received, dropped ones too
        self.commands = []          # every command line received
        self.idles = 0              # IDLE commands received
        self.flags = b"\\Seen"     # of every message
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self._stop = False
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop = True
        try:
            self.sock.close()
        except OSError:
            pass

    def _accept(self):
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve_safe, args=(conn,),
                             daemon=True).start()

    def _serve_safe(self, conn):
        try:
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
            self._serve(conn)
        except (OSError, ConnectionError):
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def _lines(self, conn):
        buf = b""
        while True:
            while b"\r\n" not in buf:
                data = conn.recv(65536)
                if not data:
                    return
                buf += data
            line, buf = buf.split(b"\r\n", 1)
            yield line.decode("utf-8", "replace")

    def _scram_server(self, conn, words, send):
        import base64
        import hashlib
        import hmac
        mech = words[1].upper()
        first = base64.b64decode(words[2]).decode()
        gs2, _, bare = first.partition(",,")
        gs2 += ",,"
        cnonce = bare.split("r=", 1)[1]
        salt = b"petrel-salt"
        sfirst = "r=%sSRV,s=%s,i=4096" % (cnonce, base64.b64encode(salt).decode())
        send(b"+ " + base64.b64encode(sfirst.encode()) + b"\r\n")
        lines = self._lines(conn)
        final = base64.b64decode(next(lines, "")).decode()
        without, _, proof = final.rpartition(",p=")
        cbind = base64.b64decode(without.split("c=", 1)[1].split(",", 1)[0])
        want = gs2.encode()
        if gs2.startswith("p="):
            want += conn.get_channel_binding("tls-unique")
        rec = {"mech": mech, "gs2": gs2, "cbind_ok": cbind == want}
        sp = hashlib.pbkdf2_hmac("sha256", self.password.encode(), salt, 4096)
        ck = hmac.new(sp, b"Client Key", "sha256").digest()
        am = ("%s,%s,%s" % (bare, sfirst, without)).encode()
        csig = hmac.new(hashlib.sha256(ck).digest(), am, "sha256").digest()
        got = bytes(a ^ b for a, b in zip(base64.b64decode(proof), csig))
        rec["proof_ok"] = got == ck
        self.scram.append(rec)
        if not (rec["cbind_ok"] and rec["proof_ok"]):
            send(b"+ " + base64.b64encode(b"e=channel-bindings-dont-match")
                 + b"\r\n")
            next(lines, "")
            return False
        sk = hmac.new(sp, b"Server Key", "sha256").digest()
        ssig = hmac.new(sk, am, "sha256").digest()
        send(b"+ " + base64.b64encode(b"v=" + base64.b64encode(ssig)) +
             b"\r\n")
        next(lines, "")
        return True

    def _serve(self, conn):
        f = self.fault
        send = conn.sendall
        if f == "garbage_greeting":
            send(b"HTTP/1.1 400 Bad Request\r\n\r\n")
            return
        if f == "silent_greeting":
            threading.Event().wait(30)
            return
        if f == "preauth":
            send(b"* PREAUTH [CAPABILITY IMAP4rev1 STARTTLS] welcome\r\n")
        else:
            send(("* OK [CAPABILITY %s] fake ready\r\n" % self.caps).encode())
        for line in self._lines(conn):
            self.commands.append(line)
            tag, _, rest = line.partition(" ")
            cmd = rest.upper()
            if cmd.startswith("STARTTLS"):
                if f == "starttls_inject":
                    # The OK and an injected response in one packet.
                    send(("%s OK begin TLS\r\n* OK [CAPABILITY IMAP4rev1 "
                          "AUTH=PLAIN] injected\r\n" % tag).encode())
                else:
                    send(("%s NO not now\r\n" % tag).encode())
                continue
            if cmd.startswith("CAPABILITY"):
                send(("* CAPABILITY %s\r\n%s OK done\r\n"
                      % (self.caps, tag)).encode())
            elif cmd.startswith("AUTHENTICATE SCRAM") and f == "scram_verify":
                # A real SCRAM-SHA-256(-PLUS) server side, channel binding
                # (tls-unique) checked: what petrel sent goes to self.scram.
                ok = self._scram_server(conn, rest.split(), send)
                send(("%s %s\r\n" % (tag, "OK [CAPABILITY %s] logged in"
                                      % self.caps if ok else
                                      "NO [AUTHENTICATIONFAILED] bad")).encode())
            elif (cmd.startswith("AUTHENTICATE SCRAM") and
                  f in ("scram_bad_nonce", "scram_huge_iter",
                        "sasl_bad_base64")):
                # Malformed server-first messages: petrel must cancel
                # ("*") and the server then says NO.
                import base64
                first = base64.b64decode(rest.split()[2]).decode()
                nonce = first.split("r=", 1)[1]
                salt = base64.b64encode(b"saltsalt").decode()
                if f == "scram_bad_nonce":
                    sf = "r=someoneelses%s,s=%s,i=4096" % (nonce[:4], salt)
                elif f == "scram_huge_iter":
                    sf = "r=%sSRV,s=%s,i=1000000000" % (nonce, salt)
                if f == "sasl_bad_base64":
                    send(b"+ !!not*base64!!\r\n")
                else:
                    send(b"+ " + base64.b64encode(sf.encode()) + b"\r\n")
                lines = self._lines(conn)
                self.commands.append(next(lines, ""))
                send(("%s NO [AUTHENTICATIONFAILED] cancelled\r\n"
                      % tag).encode())
            elif (cmd.startswith("AUTHENTICATE SCRAM") and
                  f == "scram_bad_signature"):
                import base64
                first = base64.b64decode(rest.split()[2]).decode()
                nonce = first.split("r=", 1)[1]
                send(b"+ " + base64.b64encode(
                    ("r=%sSRV,s=%s,i=4096" % (nonce, base64.b64encode(
                        b"saltsalt").decode())).encode()) + b"\r\n")
                lines = self._lines(conn)
                self.commands.append(next(lines, ""))   # client-final
                # A signature that proves nothing, then OK all the same.
                send(b"+ " + base64.b64encode(
                    b"v=" + base64.b64encode(b"\0" * 32)) + b"\r\n")
                self.commands.append(next(lines, ""))
                send(("%s OK [CAPABILITY %s] logged in\r\n"
                      % (tag, self.caps)).encode())
            elif cmd.startswith("LOGIN") or cmd.startswith("AUTHENTICATE"):
                if f == "bye_after_login":
                    send(b"* BYE server going down for maintenance\r\n")
                    return
                send(("%s OK [CAPABILITY %s] logged in\r\n"
                      % (tag, self.caps)).encode())
            elif cmd.startswith("LIST") or cmd.startswith("LSUB"):
                if f == "deep_nesting" and cmd.startswith("LIST"):
                    send(b"* LIST " + b"(" * 5000 + b"\r\n")
                    continue
                if f == "long_line" and cmd.startswith("LIST"):
                    chunk = b"x" * 65536
                    for _ in range(200):        # 13 MB, no line end
                        send(chunk)
                    continue
                send(('* %s () "/" INBOX\r\n%s OK done\r\n'
                      % (cmd.split()[0], tag)).encode())
            elif cmd.startswith("STATUS"):
                send(("* STATUS INBOX (MESSAGES %d UIDNEXT %d UIDVALIDITY %d)"
                      "\r\n%s OK done\r\n" % (self.count, self.count + 1,
                                              self.uidvalidity, tag)).encode())
            elif cmd.startswith("SELECT") or cmd.startswith("EXAMINE"):
                if f == "select_no":
                    send(("%s NO [NONEXISTENT] no such mailbox\r\n"
                          % tag).encode())
                    continue
                send(("* %d EXISTS\r\n* OK [UIDVALIDITY %d] ok\r\n"
                      "* OK [UIDNEXT %d] ok\r\n%s OK [READ-WRITE] done\r\n"
                      % (self.count, self.uidvalidity, self.count + 1,
                         tag)).encode())
            elif cmd.startswith("UID FETCH"):
                self._fetch(conn, tag, rest)
                if self.fault in ("drop_in_literal", "literal_overflow",
                                  "silence_in_fetch"):
                    return
            elif cmd.startswith("UID SEARCH"):
                send(("* SEARCH %s\r\n%s OK done\r\n" % (
                    " ".join(str(i) for i in range(1, self.count + 1)),
                    tag)).encode())
            elif cmd.startswith("IDLE"):
                self.idles += 1
                send(b"+ idling\r\n")
                if f == "idle_drop":
                    return
                if f == "idle_silent":
                    # Accepts IDLE, then never says a word again.
                    for _ in self._lines(conn):
                        self.commands.append(_)
                    return
                if f == "idle_flood" and self.idles == 1:
                    # 20,000 unsolicited flag changes, then a new message.
                    chunk = []
                    for i in range(1, self.count + 1):
                        chunk.append("* %d FETCH (UID %d FLAGS (\\Seen "
                                     "\\Flagged))\r\n" % (i, i))
                        if len(chunk) == 1000:
                            send("".join(chunk).encode())
                            chunk = []
                    send("".join(chunk).encode())
                    self.flags = b"\\Seen \\Flagged"
                    self.count += 1
                    send(("* %d EXISTS\r\n" % self.count).encode())
                if f == "idle_flood_long" and self.idles == 1:
                    # at seconds of flag changes, toggling, as fast as the
                    # client reads them; the TUI must keep answering keys.
                    import time as _time
                    end = _time.monotonic() + self.at
                    on = True
                    self.flood_lines = 0
                    while _time.monotonic() < end:
                        fl = "\\Seen \\Flagged" if on else "\\Seen"
                        send("".join("* %d FETCH (UID %d FLAGS (%s))\r\n" %
                                     (i, i, fl) for i in
                                     range(1, self.count + 1)).encode())
                        self.flood_lines += self.count
                        on = not on
                for line in self._lines(conn):
                    self.commands.append(line)
                    if line.upper() == "DONE":
                        send(("%s OK idle done\r\n" % tag).encode())
                        break
            elif cmd.startswith("NOOP"):
                if f == "unsolicited_continuation":
                    send(b"+ what?\r\n")
                    continue
                send(("%s OK done\r\n" % tag).encode())
            elif cmd.startswith("UID STORE"):
                self.store_tries += 1
                if f == "drop_on_store" and self.store_tries == 1:
                    return          # the connection dies mid-replay
                self.stores.append(rest)
                send(("%s OK stored\r\n" % tag).encode())
            elif cmd.startswith("LOGOUT"):
                send(("* BYE bye\r\n%s OK done\r\n" % tag).encode())
                return
            else:
                send(("%s BAD unknown command\r\n" % tag).encode())

    def _fetch(self, conn, tag, rest):
        m = re.search(r"UID FETCH (\d+):(\*|\d+)", rest, re.I)
        first = int(m.group(1)) if m else 1
        body = "BODY" in rest.upper()
        f = self.fault
        out = []
        for i in range(max(first, 1), self.count + 1):
            if f == "wrong_tag" and i == self.at:
                out.append(b"Z999 OK [ALERT] not yours\r\n")
            if f == "missing_uid" and i == self.at:
                out.append(b"* %d FETCH (FLAGS (\\Seen))\r\n" % i)
                continue
            if not body:
                out.append(b"* %d FETCH (UID %d FLAGS (%s))\r\n" %
                           (i, i, self.flags))
                continue
            hdr = HEADER.format(i=i).encode()
            head = (b"* %d FETCH (UID %d FLAGS (%s) INTERNALDATE "
                    b"\"02-Jan-2023 10:00:00 +0000\" RFC822.SIZE %d "
                    b"BODY[HEADER.FIELDS (FROM TO CC SUBJECT DATE MESSAGE-ID "
                    b"IN-REPLY-TO REFERENCES)] " % (i, i, self.flags,
                                                    len(hdr) + 100))
            if f == "bad_items" and i == self.at:
                # Nested past the limit, before FLAGS: FLAGS must survive.
                head = head.replace(b"FLAGS (\\Seen)", DEEP_ITEM +
                                    b" FLAGS (\\Seen $Deep)")
            elif f == "bad_items" and i == self.at + 1:
                hdr = BIG_HEADER
            elif f == "bad_items" and i == self.at + 2:
                head = head.replace(b"FLAGS", BIG_QUOTED + b" FLAGS", 1)
            if f == "literal_overflow" and i == self.at:
                out.append(head + b"{99999999999999999999}\r\n")
                conn.sendall(b"".join(out))
                return
            if f == "drop_in_literal" and i == self.at:
                out.append(head + b"{%d}\r\n" % len(hdr) + hdr[:len(hdr) // 2])
                conn.sendall(b"".join(out))
                return
            if f == "silence_in_fetch" and i == self.at:
                conn.sendall(b"".join(out))
                threading.Event().wait(30)
                return
            out.append(head + b"{%d}\r\n" % len(hdr) + hdr + b")\r\n")
            if len(out) >= 500:
                conn.sendall(b"".join(out))
                out = []
        out.append(("%s OK done\r\n" % tag).encode())
        conn.sendall(b"".join(out))
