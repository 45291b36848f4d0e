#!/usr/bin/env python3
"""fakepop3: a scripted FAULT server for petrel's POP3 tests (stdlib only).

This is not a POP3 server to test against: the real tests use the private
Dovecot (tests/integration/harness.py). It exists only for the faults a
real server will not produce on demand: a connection dropped in the middle
of RETR or during QUIT, -ERR to QUIT, a multi-line response that never
ends, duplicate or missing UIDLs, no UIDL at all.

    fake = FakePop3(dir)            # maildrop in dir/drop, state in dir
    fake.add(b"...message...", uidl="u1")
    fake.set_faults(drop_retr=3)    # read again at every new session
    fake.start(); ... fake.port ...; fake.stop()

State lives in files, so a test can look at the maildrop between petrel
runs: dir/drop/NNNNNN.eml (CRLF, not stuffed) and dir/uidl.json. Every
session appends to dir/log.jsonl what happened: commands, and for each
RETR whether its whole response went out ("retr_done") or was cut.

Faults (set_faults keywords; each applies to every session until changed):
  drop_retr=N        send half of the Nth RETR response of the session, then
                     close (FIN, after draining what the client sent)
  stall_retr=N       send half of the Nth RETR response, then go silent with
                     the connection open until the client gives up
  flood_retr=N       answer the Nth RETR with +OK and lines that never end
                     (no "." line), until the client closes
  quit="drop_after"  on QUIT delete the marked messages, then close without
                     answering; "drop_before": close without deleting;
                     "err": answer -ERR and delete nothing; "err_half":
                     delete the first half of the marked ones, answer -ERR
  no_uidl=True       UIDL answers -ERR (and CAPA does not list it)
  user/password      the credentials (default alice / alice-secret)
UIDLs come from add(uidl=...): None leaves the message out of UIDL; the
same UIDL may be given to several messages (a buggy server).
"""

import json
import os
import socket
import sys
import threading
import time


class FakePop3:
    def __init__(self, root, user="alice", password="alice-secret"):
        self.root = root
        self.drop = os.path.join(root, "drop")
        os.makedirs(self.drop, exist_ok=True)
        self.uidl_path = os.path.join(root, "uidl.json")
        self.faults_path = os.path.join(root, "faults.json")
        self.log_path = os.path.join(root, "log.jsonl")
        self.user, self.password = user, password
        if not os.path.exists(self.uidl_path):
            self._save_uidls({})
        self.set_faults()
        self.port = None
        self._sock = None
        self._thread = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._seq = len(os.listdir(self.drop))

    # ---- maildrop ----------------------------------------------------------

    def _load_uidls(self):
        with open(self.uidl_path) as f:
            return json.load(f)

    def _save_uidls(self, d):
        tmp = self.uidl_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(d, f)
        os.replace(tmp, self.uidl_path)

    def add(self, message, uidl="auto"):
        """Add a message (bytes, any line ends; stored with CRLF)."""
        if isinstance(message, str):
            message = message.encode()
        message = message.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        with self._lock:
            self._seq += 1
            name = "%06d.eml" % self._seq
            with open(os.path.join(self.drop, name), "wb") as f:
                f.write(message)
            d = self._load_uidls()
            d[name] = ("U%06d" % self._seq) if uidl == "auto" else uidl
            self._save_uidls(d)
        return name

    def messages(self):
        """[(name, bytes)] on the server now, in maildrop order."""
        out = []
        for n in sorted(os.listdir(self.drop)):
            with open(os.path.join(self.drop, n), "rb") as f:
                out.append((n, f.read()))
        return out

    def set_faults(self, **kw):
        with open(self.faults_path, "w") as f:
            json.dump(kw, f)

    def log(self):
        try:
            with open(self.log_path) as f:
                return [json.loads(l) for l in f if l.strip()]
        except OSError:
            return []

    def _log(self, **kw):
        with self._lock, open(self.log_path, "a") as f:
            f.write(json.dumps(kw) + "\n")

    # ---- server ------------------------------------------------------------

    def start(self):
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(8)
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        if self._thread:
            self._thread.join(5)
        if self._sock:
            self._sock.close()

    def _serve(self):
        session = 0
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            session += 1
            threading.Thread(target=self._session, args=(conn, session),
                             daemon=True).start()

    def _session(self, conn, session):
        try:
            _Session(self, conn, session).run()
        except (OSError, _Closed):
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass


class _Closed(Exception):
    pass


def _stuff(message):
    """Dot-stuff a CRLF message and add the end marker."""
    lines = message.split(b"\r\n")
    if lines and lines[-1] == b"":
        lines.pop()
    out = [(b"." + l) if l.startswith(b".") else l for l in lines]
    return b"\r\n".join(out) + b"\r\n.\r\n"


class _Session:
    def __init__(self, srv, conn, session):
        self.srv, self.conn, self.session = srv, conn, session
        with open(srv.faults_path) as f:
            self.faults = json.load(f)
        self.inbuf = b""
        self.user = None
        self.authed = False
        self.retrs = 0
        self.marked = set()
        self.msgs = []          # [(name, bytes, uidl)] fixed for the session

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.conn.sendall(data)

    def line(self):
        while b"\n" not in self.inbuf:
            d = self.conn.recv(65536)
            if not d:
                raise _Closed()
            self.inbuf += d
        l, _, self.inbuf = self.inbuf.partition(b"\n")
        return l.rstrip(b"\r").decode(errors="replace")

    def close_now(self):
        """FIN after draining the client's pending commands (so no RST
        throws away what we sent)."""
        try:
            self.conn.shutdown(socket.SHUT_WR)
            self.conn.settimeout(2)
            while self.conn.recv(65536):
                pass
        except OSError:
            pass
        raise _Closed()

    def log(self, **kw):
        self.srv._log(session=self.session, **kw)

    def run(self):
        self.send("+OK fake POP3 for petrel fault tests <%d.%d@fake>\r\n"
                  % (os.getpid(), self.session))
        while True:
            cmd = self.line()
            verb, _, arg = cmd.partition(" ")
            verb = verb.upper()
            self.log(cmd=cmd if verb not in ("PASS", "AUTH", "APOP")
                     else verb)
            h = getattr(self, "cmd_" + verb.lower(), None)
            if h is None:
                self.send("-ERR unknown command\r\n")
                continue
            h(arg)

    def need_auth(self):
        if not self.authed:
            self.send("-ERR not logged in\r\n")
            return False
        return True

    def cmd_capa(self, arg):
        caps = ["USER", "TOP", "PIPELINING", "RESP-CODES"]
        if not self.faults.get("no_uidl"):
            caps.append("UIDL")
        self.send("+OK\r\n" + "".join(c + "\r\n" for c in caps) + ".\r\n")

    def cmd_user(self, arg):
        self.user = arg
        self.send("+OK\r\n")

    def cmd_pass(self, arg):
        if self.user == self.srv.user and arg == self.srv.password:
            self.authed = True
            uidls = self.srv._load_uidls()
            for name, data in self.srv.messages():
                self.msgs.append((name, data, uidls.get(name)))
            self.send("+OK logged in\r\n")
        else:
            time.sleep(0.1)
            self.send("-ERR [AUTH] Authentication failed.\r\n")

    def cmd_noop(self, arg):
        self.send("+OK\r\n")

    def cmd_stat(self, arg):
        if self.need_auth():
            live = [m for i, m in enumerate(self.msgs)
                    if i + 1 not in self.marked]
            self.send("+OK %d %d\r\n" % (len(live),
                                         sum(len(m[1]) for m in live)))

    def _msgno(self, arg):
        try:
            n = int(arg.split()[0])
        except (ValueError, IndexError):
            n = 0
        if n < 1 or n > len(self.msgs) or n in self.marked:
            self.send("-ERR no such message\r\n")
            return None
        return n

    def cmd_list(self, arg):
        if not self.need_auth():
            return
        out = ["+OK"]
        for i, m in enumerate(self.msgs):
            if i + 1 not in self.marked:
                out.append("%d %d" % (i + 1, len(m[1])))
        self.send("\r\n".join(out) + "\r\n.\r\n")

    def cmd_uidl(self, arg):
        if not self.need_auth():
            return
        if self.faults.get("no_uidl"):
            self.send("-ERR UIDL not supported\r\n")
            return
        out = ["+OK"]
        for i, m in enumerate(self.msgs):
            if i + 1 not in self.marked and m[2] is not None:
                out.append("%d %s" % (i + 1, m[2]))
        self.send("\r\n".join(out) + "\r\n.\r\n")

    def cmd_top(self, arg):
        if not self.need_auth():
            return
        n = self._msgno(arg)
        if n is None:
            return
        data = self.msgs[n - 1][1]
        head, sep, body = data.partition(b"\r\n\r\n")
        try:
            k = int(arg.split()[1])
        except (ValueError, IndexError):
            self.send("-ERR bad TOP\r\n")
            return
        keep = b"\r\n".join(body.split(b"\r\n")[:k]) if k > 0 else b""
        msg = head + b"\r\n\r\n" + (keep + b"\r\n" if keep else b"")
        self.send(b"+OK\r\n" + _stuff(msg))
        self.log(top=n)

    def cmd_retr(self, arg):
        if not self.need_auth():
            return
        n = self._msgno(arg)
        if n is None:
            return
        self.retrs += 1
        name, data, uidl = self.msgs[n - 1]
        resp = b"+OK %d octets\r\n" % len(data) + _stuff(data)
        if self.faults.get("drop_retr") == self.retrs:
            self.send(resp[:len(resp) // 2])
            self.log(retr_cut=n, name=name)
            self.close_now()
        if self.faults.get("stall_retr") == self.retrs:
            self.send(resp[:len(resp) // 2])
            self.log(retr_stalled=n, name=name)
            while self.conn.recv(65536):
                pass
            raise _Closed()
        if self.faults.get("flood_retr") == self.retrs:
            self.send(resp[:len(resp) // 2])
            self.log(retr_flood=n, name=name)
            line = b"flood " + b"x" * 72 + b"\r\n"
            chunk = line * 800
            sent = 0
            try:
                while sent < 4 * 1024 * 1024 * 1024:
                    self.conn.sendall(chunk)
                    sent += len(chunk)
            except OSError:
                pass
            self.log(flood_sent=sent)
            raise _Closed()
        self.send(resp)
        self.log(retr_done=n, name=name)

    def cmd_dele(self, arg):
        if not self.need_auth():
            return
        n = self._msgno(arg)
        if n is None:
            return
        self.marked.add(n)
        self.send("+OK marked\r\n")

    def cmd_rset(self, arg):
        self.marked.clear()
        self.send("+OK\r\n")

    def _delete(self, which):
        for n in which:
            name = self.msgs[n - 1][0]
            try:
                os.unlink(os.path.join(self.srv.drop, name))
            except FileNotFoundError:
                pass
            self.log(deleted=n, name=name)

    def cmd_quit(self, arg):
        q = self.faults.get("quit")
        marked = sorted(self.marked)
        if not self.authed:
            self.send("+OK bye\r\n")
            raise _Closed()
        if q == "drop_before":
            self.close_now()
        if q == "drop_after":
            self._delete(marked)
            self.close_now()
        if q == "err":
            self.send("-ERR [SYS/TEMP] could not remove messages\r\n")
            raise _Closed()
        if q == "err_half":
            self._delete(marked[:len(marked) // 2])
            self.send("-ERR [SYS/TEMP] some messages not removed\r\n")
            raise _Closed()
        self._delete(marked)
        self.send("+OK bye\r\n")
        raise _Closed()


def main(argv):
    """fakepop3.py DIR: serve DIR until killed; prints the port."""
    if len(argv) != 1:
        sys.stderr.write("usage: fakepop3.py DIR\n")
        return 2
    f = FakePop3(argv[0]).start()
    print(f.port, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        f.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
