#!/usr/bin/env python3
"""FAKE SMTP server, for faults a real server will not produce.

Not a mail server: it speaks plain-text submission (use smtp+insecure://),
takes any AUTH PLAIN, keeps each message it answered 250 to in messages,
and can be told to misbehave:

- fault="drop_after_250": answer 250 to the message's final dot, then cut
  the connection before QUIT can be answered;
- fault="silent": accept the connection and never say anything (a server
  that hangs: the client waits in its greeting).

    with FakeSMTP(fault="drop_after_250") as f:
        ... smtp = smtp+insecure://alice@127.0.0.1:f.port ...
        f.messages   # what was taken, in order
"""

import socket
import threading


class FakeSMTP:
    def __init__(self, fault=None):
        self.fault = fault
        self.messages = []
        self.connections = 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self._stop = False
        self._held = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self._stop = True
        try:
            socket.create_connection(("127.0.0.1", self.port), 1).close()
        except OSError:
            pass
        self._thread.join(5)
        self.sock.close()
        for c in self._held:
            c.close()

    def _accept(self):
        while not self._stop:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            if self._stop:
                c.close()
                return
            self.connections += 1
            if self.fault == "silent":
                self._held.append(c)
                continue
            threading.Thread(target=self._serve, args=(c,),
                             daemon=True).start()

    def _serve(self, c):
        f = c.makefile("rwb", buffering=0)

        def say(line):
            f.write(line.encode() + b"\r\n")

        try:
            say("220 fake ESMTP (FAKE server for tests)")
            while True:
                line = f.readline()
                if not line:
                    return
                cmd = line.strip().decode(errors="replace")
                verb = cmd.split(" ", 1)[0].upper()
                if verb == "EHLO":
                    say("250-fake")
                    say("250-PIPELINING")
                    say("250-8BITMIME")
                    say("250 AUTH PLAIN")
                elif verb == "AUTH":
                    say("235 2.7.0 ok")
                elif verb in ("MAIL", "RCPT", "RSET", "NOOP"):
                    say("250 ok")
                elif verb == "DATA":
                    say("354 go on")
                    data = []
                    while True:
                        l = f.readline()
                        if not l or l == b".\r\n":
                            break
                        data.append(l[1:] if l.startswith(b"..") else l)
                    if not l:
                        return
                    self.messages.append(b"".join(data))
                    say("250 2.0.0 taken")
                    if self.fault == "drop_after_250":
                        return
                elif verb == "QUIT":
                    say("221 bye")
                    return
                else:
                    say("502 5.5.1 not here")
        except OSError:
            pass
        finally:
            c.close()
