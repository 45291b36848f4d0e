#!/usr/bin/env python3
"""FAULT PROXY for IMAP: relays a client to a real server and, once armed,
cuts both connections right after the server's tagged completion of the
first command whose text contains drop_after, without passing that
completion on. The server has done the command; the client never hears.
A real server will not lose its own OK, so this lives with the fakes.

    with DropProxy("127.0.0.1", dovecot_port, drop_after="UID MOVE") as p:
        ... petrel against 127.0.0.1:p.port ...
        p.dropped   # True once it cut a connection
"""

import socket
import threading


class DropProxy:
    def __init__(self, host, port, drop_after=None):
        self.upstream = (host, port)
        self.drop_after = drop_after
        self.dropped = False
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self._stop = False

    def __enter__(self):
        threading.Thread(target=self._accept, daemon=True).start()
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
                c, _ = self.sock.accept()
            except OSError:
                return
            try:
                s = socket.create_connection(self.upstream, timeout=30)
            except OSError:
                c.close()
                continue
            state = {"tag": None, "closed": False}
            threading.Thread(target=self._up, args=(c, s, state),
                             daemon=True).start()
            threading.Thread(target=self._down, args=(c, s, state),
                             daemon=True).start()

    def _close(self, c, s, state):
        state["closed"] = True
        for x in (c, s):
            try:
                x.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                x.close()
            except OSError:
                pass

    def _up(self, c, s, state):
        """Client -> server: notice the tag of the command to drop after."""
        buf = b""
        try:
            while not state["closed"]:
                data = c.recv(65536)
                if not data:
                    break
                buf += data
                while b"\r\n" in buf:
                    line, buf = buf.split(b"\r\n", 1)
                    text = line.decode("utf-8", "replace")
                    if (self.drop_after and state["tag"] is None and
                            self.drop_after.lower() in text.lower()):
                        state["tag"] = text.split(" ", 1)[0]
                s.sendall(data)
        except OSError:
            pass
        self._close(c, s, state)

    def _down(self, c, s, state):
        """Server -> client, line by line, until the armed completion."""
        buf = b""
        try:
            while not state["closed"]:
                data = s.recv(65536)
                if not data:
                    break
                buf += data
                out = b""
                while b"\r\n" in buf:
                    line, buf = buf.split(b"\r\n", 1)
                    tag = state["tag"]
                    if tag is not None and line.startswith(
                            tag.encode() + b" "):
                        c.sendall(out)
                        self.dropped = True
                        self._close(c, s, state)
                        return
                    out += line + b"\r\n"
                # Literals carry no CRLF at their end necessarily: pass on
                # whatever is not a line yet once nothing is armed.
                if state["tag"] is None and buf:
                    out += buf
                    buf = b""
                c.sendall(out)
        except OSError:
            pass
        self._close(c, s, state)
