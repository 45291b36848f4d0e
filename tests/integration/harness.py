#!/usr/bin/env python3
"""A private Dovecot 2.3, and a Postfix, for petrel's integration tests
(stdlib only).

Each Dovecot() is its own instance: its own config, base_dir, state_dir,
log and Maildirs in a fresh temporary directory, listening on 127.0.0.1
on ports picked at run time (IMAP with STARTTLS, IMAPS, POP3 with STLS,
POP3S), with a self-signed certificate made at start.  It never reads or
touches /etc/dovecot or the system service.

    with Dovecot() as d:
        d.seed("alice", "INBOX", 100)
        d.write_petrel_config(None, account="alice")
        status, out, err = d.run_petrel(["sync"])
        m = d.imap_client("alice")

The master runs in the foreground as our child with PR_SET_PDEATHSIG, so
it dies with the test process even when that is killed outright; stop()
is also called by the context manager, atexit and SIGTERM.

Postfix(dovecot) (root only) is a private Postfix submission server in
front of a Dovecot, the same way: its own main.cf, master.cf, queue and
log (maillog_file) in a temporary directory, run as `master -c DIR`, on
two 127.0.0.1 ports: submission_port (STARTTLS required before AUTH) and
smtps_port (implicit TLS), with the Dovecot's certificate (cert_file).
AUTH PLAIN/LOGIN asks the Dovecot (its users and passwords, over the auth
socket Dovecot(smtp=True) or enable_smtp() adds); mail for
user@example.test (domain) goes over LMTP into that Dovecot user's INBOX,
each RCPT delivered, the message as sent; mail for other domains is
accepted from an authenticated client and discarded. No DNS, nothing off
loopback. A watchdog stops it if the test process is killed outright.

    with Dovecot(smtp=True) as d, Postfix(d) as p:
        c = p.smtp_client("alice")          # STARTTLS, AUTH as alice
        c.sendmail("alice@example.test", ["bob@example.test"], msg)
        p.wait_delivered("bob", 1)          # bob's INBOX holds 1 message
        p.deliveries()                      # from the log: who got what
        p.defer_all()                       # 451 at RCPT (reject_all: 554)
        p.refuse_recipient("carol@example.test")      # 550 to that one
        p.accept_all()

Command line (used by scripts/demo.sh):
    harness.py serve [--dir DIR] [--demo] [--env-file FILE] ...
starts a server, optionally seeds sample mail, writes a petrel config,
prints the settings to use and stays up until SIGINT/SIGTERM.
"""

import atexit
import ctypes
import errno
import grp
import imaplib
import json
import os
import poplib
import pwd
import re
import shlex
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from collections import namedtuple

SPECIAL_USE = (("Sent", "\\Sent"), ("Drafts", "\\Drafts"),
               ("Trash", "\\Trash"), ("Junk", "\\Junk"),
               ("Archive", "\\Archive"))
DEFAULT_USERS = {"alice": "alice-secret", "bob": "bob-secret",
                 "carol": "carol-secret", "dave": "dave-secret"}
DH_FILE = "/usr/share/dovecot/dh.pem"
START_TRIES = 5

PetrelResult = namedtuple("PetrelResult", "status stdout stderr")

_live = set()           # running instances, for atexit and signals


class HarnessError(Exception):
    pass


def _which(name, extra=("/usr/sbin", "/usr/bin", "/sbin", "/bin")):
    p = shutil.which(name)
    if p:
        return p
    for d in extra:
        c = os.path.join(d, name)
        if os.access(c, os.X_OK):
            return c
    raise HarnessError("%s not found: apt-get install dovecot-imapd "
                       "dovecot-pop3d openssl" % name)


def _free_ports(n):
    """n distinct free TCP ports on 127.0.0.1 (held open while picking)."""
    socks, ports = [], []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in socks:
            s.close()
    return ports


def _pdeathsig():
    """preexec_fn: SIGTERM the child when its parent dies (Linux)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except Exception:
        pass
    os.setpgid(0, 0)


_subreaper_set = False


def _become_subreaper():
    """Adopt the orphans of our Dovecots (their master exits before some
    children) so we can reap them: PID 1 here may not."""
    global _subreaper_set
    if _subreaper_set:
        return
    _subreaper_set = True
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_CHILD_SUBREAPER = 36
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except Exception:
        pass


def group_members(pgid):
    """Live (not zombie) processes of process group pgid."""
    out = []
    for n in os.listdir("/proc"):
        if not n.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % n) as f:
                st = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(st[2]) == pgid and st[0] not in ("Z", "X"):
            out.append(int(n))
    return out


def mutf7_encode(name):
    """IMAP modified UTF-7 (RFC 3501 5.1.3), as Dovecot stores folder names."""
    out, run = [], []

    def flush():
        if run:
            import base64
            b = "".join(run).encode("utf-16-be")
            out.append("&" + base64.b64encode(b).decode().rstrip("=")
                       .replace("/", ",") + "-")
            run.clear()
    for ch in name:
        if 0x20 <= ord(ch) <= 0x7e:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            run.append(ch)
    flush()
    return "".join(out)


def _imap_quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def imap_mailbox(name):
    """A folder name as an imaplib argument: modified UTF-7, quoted."""
    return _imap_quote(mutf7_encode(name))


def _kv(text):
    """key=value pairs of a logout line; values like 12/345 become tuples."""
    d = {}
    for k, v in re.findall(r"\b([a-z_]+)=([0-9]+(?:/[0-9]+)?)", text):
        if "/" in v:
            a, b = v.split("/")
            d[k] = (int(a), int(b))
        else:
            d[k] = int(v)
    return d


_LOG_RE = re.compile(r"(?P<proto>imap|pop3|imap-login|pop3-login|auth|"
                     r"master|doveadm|log|anvil|config|lmtp|stats)"
                     r"(?:\((?P<user>[^)]*)\))?(?:<(?P<pid>\d+)>)?"
                     r"(?:<(?P<session>[^>]*)>)?: "
                     r"(?P<level>Info|Warning|Error|Fatal|Panic|Debug): "
                     r"(?P<msg>.*)$")

# What a client session ends with in the log (the logout_format follows).
_LOGOUT_MARKERS = ("Logged out", "Disconnected")


def parse_log_line(line):
    """A dict for a Dovecot log line (proto, user, pid, session, level,
    msg) or None when it has not that shape."""
    m = _LOG_RE.search(line)
    if not m:
        return None
    d = m.groupdict()
    if d["pid"] is not None:
        d["pid"] = int(d["pid"])
    return d


def parse_logout(line):
    """The logout record of an IMAP or POP3 session log line, else None.

    IMAP: in, out, deleted, expunged, trashed, hdr_count, hdr_bytes,
    body_count, body_bytes.  POP3: top=(n,bytes), retr=(n,bytes),
    del=(n,msgs), size.  Also proto, user, session and reason (the text
    before the counters, e.g. "Logged out" or "Disconnected: ...")."""
    d = parse_log_line(line)
    if d is None or d["proto"] not in ("imap", "pop3"):
        return None
    msg = d["msg"]
    if not msg.startswith(_LOGOUT_MARKERS):
        return None
    if d["proto"] == "imap":
        i = msg.find(" in=")
    else:
        i = msg.find(" top=")
    if i < 0:
        return None
    rec = _kv(msg[i:])
    rec.update(proto=d["proto"], user=d["user"], pid=d["pid"],
               session=d["session"], reason=msg[:i].strip(), line=line)
    return rec


class Dovecot:
    """A private Dovecot instance; see the module documentation."""

    def __init__(self, users=None, plaintext_auth=False, rawlog=False,
                 zlib=False, max_userip_connections=200, dir=None,
                 keep=False, extra_conf="", strict_plain=False, quota=None,
                 acl=False, auth_mechanisms="plain login",
                 oauth2_introspect_url=None, client_certs=False,
                 smtp=False):
        self.users = dict(DEFAULT_USERS if users is None else users)
        self.plaintext_auth = plaintext_auth
        self.rawlog_enabled = rawlog
        self.zlib = zlib
        self.max_userip_connections = max_userip_connections
        self.extra_conf = extra_conf
        self.quota = quota          # e.g. "1M": a storage quota (IMAP QUOTA)
        self.acl = acl              # the acl plugin (IMAP ACL, vfile)
        self.auth_mechanisms = auth_mechanisms
        # An oauth2 passdb (XOAUTH2, OAUTHBEARER) asking this RFC 7662
        # endpoint (oauth2srv.OAuth2Server) whether a token is good.
        self.oauth2_introspect_url = oauth2_introspect_url
        # Client certificates (SASL EXTERNAL): the server certificate,
        # a CA too, signs one per user (client_cert()); Dovecot takes the
        # user name from its CN.
        self.client_certs = client_certs
        # For a Postfix in front (Postfix(dovecot)): an auth socket for its
        # SASL and LMTP delivery into the users' INBOXes (enable_smtp()).
        self.smtp = smtp
        self.keep = keep
        if dir is None:
            self.dir = tempfile.mkdtemp(prefix="petrel-dovecot-")
            self._own_dir = True
        else:
            os.makedirs(dir, exist_ok=True)
            self.dir = os.path.abspath(dir)
            self._own_dir = False
        # The mail processes run as "mail" and must reach the homes below.
        os.chmod(self.dir, 0o755)
        self.conf = os.path.join(self.dir, "dovecot.conf")
        self.base_dir = os.path.join(self.dir, "run")
        self.state_dir = os.path.join(self.dir, "state")
        self.log_path = os.path.join(self.dir, "log", "dovecot.log")
        self.home_root = os.path.join(self.dir, "home")
        self.rawlog_root = os.path.join(self.dir, "rawlog")
        self.passwd_file = os.path.join(self.dir, "passwd")
        self.cert_file = os.path.join(self.dir, "cert.pem")
        self.key_file = os.path.join(self.dir, "key.pem")
        self.ca_file = self.cert_file       # self-signed: its own anchor
        self.petrel_root = os.path.join(self.dir, "petrel")
        # Unix sockets (listening with smtp=True): Postfix's SASL and LMTP.
        self.auth_socket = os.path.join(self.base_dir, "auth-postfix")
        self.lmtp_socket = os.path.join(self.base_dir, "lmtp")
        self.instance = "petrel-test-%d-%d" % (os.getpid(), id(self) % 100000)
        self.host = "127.0.0.1"
        # Dovecot counts a connection whose remote IP equals its local IP
        # as secured, so on 127.0.0.1 it allows plaintext LOGIN whatever
        # disable_plaintext_auth says. strict_plain puts the plain IMAP
        # and POP3 ports on 127.0.0.2 (still loopback; the kernel connects
        # from 127.0.0.1) where Dovecot enforces it and says LOGINDISABLED.
        self.plain_host = "127.0.0.2" if strict_plain else self.host
        self.imap_port = self.imaps_port = None
        self.pop3_port = self.pop3s_port = None
        self.proc = None
        self._stderr = None
        self._dovecot = _which("dovecot")
        self._doveadm = _which("doveadm")
        if os.geteuid() == 0:
            pw = pwd.getpwnam("mail")
            self.mail_uid, self.mail_gid = pw.pw_uid, pw.pw_gid
            self.mail_user = "mail"
        else:
            # Unprivileged: everything runs as ourselves.
            self.mail_uid, self.mail_gid = os.geteuid(), os.getegid()
            self.mail_user = pwd.getpwuid(self.mail_uid).pw_name
        for d in (self.base_dir, self.state_dir, os.path.dirname(self.log_path),
                  self.home_root, self.rawlog_root, self.petrel_root):
            os.makedirs(d, exist_ok=True)
        os.chown(self.home_root, self.mail_uid, self.mail_gid)
        os.chown(self.rawlog_root, self.mail_uid, self.mail_gid)
        self._make_cert()
        self._write_passwd()
        for u in self.users:
            self._make_home(u)

    # ---- lifecycle -------------------------------------------------------

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        self.cleanup()
        return False

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout=20):
        """Start (or start again, on the same data) the server."""
        if self.running:
            return self
        last = ""
        for _ in range(START_TRIES):
            if self.imap_port is None or last:
                (self.imap_port, self.imaps_port, self.pop3_port,
                 self.pop3s_port) = _free_ports(4)
            self._write_conf()
            err = os.path.join(self.dir, "log", "master.stderr")
            self._stderr = open(err, "ab")
            self.proc = subprocess.Popen(
                [self._dovecot, "-F", "-c", self.conf],
                stdin=subprocess.DEVNULL, stdout=self._stderr,
                stderr=self._stderr, preexec_fn=_pdeathsig, close_fds=True)
            _live.add(self)
            _install_signal_handlers()
            _become_subreaper()
            ok, last = self._wait_ready(timeout)
            if ok:
                return self
            self._kill_master()
            if "in use" not in last and "Address already" not in last:
                break
        raise HarnessError("dovecot did not start: %s" % last.strip())

    def _wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        ports = ((self.plain_host, self.imap_port),
                 (self.host, self.imaps_port),
                 (self.plain_host, self.pop3_port),
                 (self.host, self.pop3s_port))
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False, self._tail_errors()
            up = 0
            for hp in ports:
                try:
                    with socket.create_connection(hp, 1):
                        up += 1
                except OSError:
                    break
            if up == len(ports) and (not self.smtp or all(
                    os.path.exists(p) for p in (self.auth_socket,
                                                self.lmtp_socket))):
                return True, ""
            time.sleep(0.02)
        return False, "timeout; " + self._tail_errors()

    def _tail_errors(self):
        out = []
        for f in (os.path.join(self.dir, "log", "master.stderr"),
                  self.log_path):
            try:
                with open(f, errors="replace") as fp:
                    out += [l for l in fp.read().splitlines()
                            if "Error" in l or "Fatal" in l or "rror:" in l]
            except OSError:
                pass
        return "\n".join(out[-5:])

    def _kill_master(self, timeout=10):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                # Its process group: the master and every child it forked.
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except OSError:
                    pass
                self.proc.wait(5)
        # Children that outlived the master (they share its group): kill
        # them and reap the ones we adopted as subreaper.
        pgid = self.proc.pid
        try:
            os.killpg(pgid, signal.SIGKILL)
        except OSError:
            pass
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                pid, _ = os.waitpid(-pgid, os.WNOHANG)
            except ChildProcessError:
                pid = -1
            if pid == 0 or group_members(pgid):
                time.sleep(0.02)
            elif pid < 0:
                break
        self.proc = None
        if self._stderr:
            self._stderr.close()
            self._stderr = None

    def stop(self):
        """Stop the server; data stays, start() brings it back."""
        self._kill_master()
        _live.discard(self)

    def cleanup(self):
        """Remove the temporary directory (unless keep or given by caller)."""
        if self.running:
            self.stop()
        if self._own_dir and not self.keep and os.path.isdir(self.dir):
            shutil.rmtree(self.dir, ignore_errors=True)

    # ---- setup files -----------------------------------------------------

    def _make_cert(self):
        cnf = os.path.join(self.dir, "openssl.cnf")
        with open(cnf, "w") as f:
            f.write("[req]\ndistinguished_name = dn\nprompt = no\n"
                    "x509_extensions = ext\n[dn]\nCN = localhost\n"
                    "O = petrel test\n[ext]\n"
                    "subjectAltName = IP:127.0.0.1,IP:::1,DNS:localhost%s\n"
                    "basicConstraints = critical,CA:TRUE\n"
                    "keyUsage = critical,digitalSignature,keyEncipherment,"
                    "keyCertSign\n"
                    "extendedKeyUsage = serverAuth, clientAuth\n"
                    "subjectKeyIdentifier = hash\n"
                    % (",IP:" + self.plain_host
                       if self.plain_host != self.host else ""))
        r = subprocess.run([_which("openssl"), "req", "-x509", "-config", cnf,
                            "-newkey", "ec", "-pkeyopt",
                            "ec_paramgen_curve:prime256v1", "-nodes",
                            "-days", "30", "-keyout", self.key_file,
                            "-out", self.cert_file],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if r.returncode != 0:
            raise HarnessError("openssl: " + r.stdout.decode(errors="replace"))
        os.chmod(self.key_file, 0o600)
        os.chmod(self.cert_file, 0o644)

    def client_cert(self, user, signed=True):
        """(cert, key) PEM files of a client certificate with CN=user,
        signed by the server's CA, or self-signed (a stranger's)."""
        base = os.path.join(self.dir, "client-%s-%s" % (user, signed))
        key, csr, crt = base + ".key", base + ".csr", base + ".pem"
        ext = base + ".ext"
        with open(ext, "w") as f:
            f.write("extendedKeyUsage = clientAuth\n")
        run = lambda *a: subprocess.run(a, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, check=True)
        run(_which("openssl"), "req", "-new", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:prime256v1", "-nodes", "-subj",
            "/CN=%s" % user, "-keyout", key, "-out", csr)
        if signed:
            run(_which("openssl"), "x509", "-req", "-in", csr, "-CA",
                self.cert_file, "-CAkey", self.key_file, "-CAcreateserial",
                "-days", "30", "-extfile", ext, "-out", crt)
        else:
            run(_which("openssl"), "x509", "-req", "-in", csr, "-signkey",
                key, "-days", "30", "-extfile", ext, "-out", crt)
        os.chmod(key, 0o600)
        return crt, key

    def new_cert(self):
        """A new certificate with a new key, served from now on (what a
        server that changed its key, or a man in the middle, shows)."""
        self._make_cert()
        self.doveadm("reload")
        time.sleep(1)

    def cert_fingerprint(self):
        """'sha256:AB:CD:...' of the server certificate (for tls_fingerprint)."""
        import hashlib
        with open(self.cert_file) as f:
            der = ssl.PEM_cert_to_DER_cert(f.read())
        h = hashlib.sha256(der).hexdigest().upper()
        return "sha256:" + ":".join(h[i:i + 2] for i in range(0, len(h), 2))

    def _write_passwd(self):
        tmp = self.passwd_file + ".tmp"
        with open(tmp, "w") as f:
            for u, p in self.users.items():
                f.write("%s:{PLAIN}%s\n" % (u, p))
        os.chmod(tmp, 0o644)     # read by the auth process (test passwords)
        os.replace(tmp, self.passwd_file)

    def _make_home(self, user):
        for d in (self.home(user), self.maildir(user)):
            os.makedirs(d, exist_ok=True)
            os.chown(d, self.mail_uid, self.mail_gid)
        for sub in ("cur", "new", "tmp"):
            p = os.path.join(self.maildir(user), sub)
            os.makedirs(p, exist_ok=True)
            os.chown(p, self.mail_uid, self.mail_gid)
        rl = os.path.join(self.rawlog_root, user)
        os.makedirs(rl, exist_ok=True)
        os.chown(rl, self.mail_uid, self.mail_gid)

    def add_user(self, user, password):
        """Add (or change the password of) a user; works while running
        (returns once the auth process has seen the change)."""
        self.users[user] = password
        self._make_home(user)
        self._write_passwd()
        self._touch_passwd()
        self._wait_auth(user, password, True)

    def remove_user(self, user):
        """Remove a user's login (the mail stays on disk)."""
        pw = self.users.pop(user, None)
        self._write_passwd()
        self._touch_passwd()
        if pw is not None:
            self._wait_auth(user, pw, False)

    def _wait_auth(self, user, password, ok, timeout=10):
        # passwd-file is stat()ed at most once a second: poll until the
        # auth process answers as wanted.
        if not self.running:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r = subprocess.run([self._doveadm, "-c", self.conf, "auth",
                                "test", user, password],
                               stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
            if (r.returncode == 0) == ok:
                return
            time.sleep(0.1)
        raise HarnessError("auth of %s did not change" % user)

    def _touch_passwd(self):
        # passwd-file is re-read when its mtime changes; make sure it does.
        st = os.stat(self.passwd_file)
        os.utime(self.passwd_file, ns=(st.st_atime_ns,
                                       st.st_mtime_ns + 1000000000))

    def _write_conf(self):
        mailboxes = "".join(
            "  mailbox %s {\n    special_use = %s\n    auto = subscribe\n  }\n"
            % (name, flag) for name, flag in SPECIAL_USE)
        imap_plugins = " imap_zlib" if self.zlib else ""
        quota = ""
        if self.quota:
            imap_plugins += " imap_quota"
            quota = ("mail_plugins = $mail_plugins quota\n"
                     "plugin {\n  quota = maildir:User quota\n"
                     "  quota_rule = *:storage=%s\n}\n" % self.quota)
        if self.acl:
            imap_plugins += " imap_acl"
            quota += ("mail_plugins = $mail_plugins acl\n"
                      "plugin {\n  acl = vfile\n}\n")
        rawlog = ("rawlog_dir = %s/%%n\n" % self.rawlog_root
                  if self.rawlog_enabled else "")
        internal = ""
        if os.geteuid() != 0:
            internal = ("default_internal_user = %s\ndefault_login_user = %s\n"
                        "default_internal_group = %s\n"
                        % (self.mail_user, self.mail_user, self.mail_user))
        oauth2 = ""
        if self.oauth2_introspect_url:
            ext = os.path.join(self.dir, "oauth2.conf.ext")
            with open(ext, "w") as f:
                f.write("introspection_mode = post\n"
                        "introspection_url = %s\n"
                        "force_introspection = yes\n"
                        "username_attribute = username\n"
                        "active_attribute = active\n"
                        "active_value = true\n" % self.oauth2_introspect_url)
            oauth2 = ("passdb {\n  driver = oauth2\n"
                      "  mechanisms = xoauth2 oauthbearer\n"
                      "  args = %s\n}\n" % ext)
        if self.client_certs:
            oauth2 += ("ssl_ca = <%s\nssl_verify_client_cert = yes\n"
                       "ssl_require_crl = no\n"
                       "auth_ssl_username_from_cert = yes\n"
                       "ssl_cert_username_field = commonName\n"
                       "passdb {\n  driver = static\n  args = nopassword=y\n"
                       "  mechanisms = external\n}\n" % self.cert_file)
        protocols = "imap pop3"
        smtp = ""
        if self.smtp:
            # Postfix's smtpd asks this socket (smtpd_sasl_type = dovecot)
            # and delivers to the lmtp one as rcpt@domain: the passwd-file
            # and the homes are keyed by the bare name.
            protocols += " lmtp"
            # The auth penalty (2, 4, 8, 15 s before each AUTH from an IP
            # that failed one lately) made every AUTH after a refused one
            # slow or time out in smtpd (it waits 10 s): the auth process
            # cannot reach anvil's penalty socket.
            smtp = ("service auth {\n  unix_listener %s {\n"
                    "    mode = 0666\n  }\n}\n"
                    "service anvil {\n  unix_listener anvil-auth-penalty {\n"
                    "    mode = 0\n  }\n}\n"
                    "protocol lmtp {\n  auth_username_format = %%Ln\n"
                    "  postmaster_address = postmaster@localhost\n}\n"
                    % os.path.basename(self.auth_socket))
        conf = f"""# Private Dovecot for petrel tests (generated by harness.py).
instance_name = {self.instance}
base_dir = {self.base_dir}
state_dir = {self.state_dir}
log_path = {self.log_path}
info_log_path = {self.log_path}
debug_log_path = {self.log_path}
{internal}listen = 127.0.0.1
protocols = {protocols}
ssl = yes
ssl_cert = <{self.cert_file}
ssl_key = <{self.key_file}
ssl_dh = <{DH_FILE}
disable_plaintext_auth = {"no" if self.plaintext_auth else "yes"}
auth_mechanisms = {self.auth_mechanisms}
auth_verbose = yes
# A refused login answers at once (the default waits 2 s): tests refuse many.
auth_failure_delay = 0
{oauth2}passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%n {self.passwd_file}
}}
userdb {{
  driver = static
  args = uid={self.mail_uid} gid={self.mail_gid} home={self.home_root}/%n
}}
first_valid_uid = {self.mail_uid}
first_valid_gid = {self.mail_gid}
mail_location = maildir:{self.home_root}/%n/Maildir
mail_fsync = never
mail_max_userip_connections = {self.max_userip_connections}
pop3_uidl_format = %08Xu%08Xv
{quota}namespace inbox {{
  inbox = yes
  separator = /
{mailboxes}}}
service imap-login {{
  inet_listener imap {{
    address = {self.plain_host}
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.imaps_port}
    ssl = yes
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    address = {self.plain_host}
    port = {self.pop3_port}
  }}
  inet_listener pop3s {{
    address = 127.0.0.1
    port = {self.pop3s_port}
    ssl = yes
  }}
}}
service lmtp {{
  unix_listener lmtp {{
    mode = {"0666" if self.smtp else "0600"}
  }}
}}
{smtp}protocol imap {{
  mail_plugins = $mail_plugins{imap_plugins}
  {rawlog}}}
protocol pop3 {{
  {rawlog}}}
{self.extra_conf}
"""
        with open(self.conf, "w") as f:
            f.write(conf)

    def enable_smtp(self, timeout=10):
        """Listen on auth_socket and lmtp_socket (see smtp=True), also
        on a running server (reload; returns once both accept)."""
        if self.smtp:
            return
        self.smtp = True
        if not self.running:
            return
        self._write_conf()
        self.doveadm("reload")
        deadline = time.monotonic() + timeout
        for path in (self.auth_socket, self.lmtp_socket):
            while True:
                try:
                    with socket.socket(socket.AF_UNIX) as s:
                        s.connect(path)
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise HarnessError("dovecot: no %s after reload"
                                           % path)
                    time.sleep(0.02)

    # ---- paths -----------------------------------------------------------

    def home(self, user):
        return os.path.join(self.home_root, user)

    def maildir(self, user, folder="INBOX"):
        """The Maildir++ directory of a folder ("a/b" -> .a.b, INBOX -> root)."""
        root = os.path.join(self.home(user), "Maildir")
        if folder.upper() == "INBOX":
            return root
        return os.path.join(root, "." + mutf7_encode(folder).replace("/", "."))

    # ---- server-side helpers --------------------------------------------

    def doveadm(self, *args, check=True, input=None, timeout=300):
        """Run doveadm -c CONF ARGS; returns its stdout (str)."""
        r = subprocess.run([self._doveadm, "-c", self.conf] + list(args),
                           input=input, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout)
        if check and r.returncode != 0:
            raise HarnessError("doveadm %s: %s" % (" ".join(args),
                               r.stderr.decode(errors="replace").strip()))
        return r.stdout.decode(errors="replace")

    def kick(self, user):
        """Drop every session of user (doveadm kick)."""
        return self.doveadm("kick", user, check=False)

    def mailbox_status(self, user, folder="INBOX",
                       fields="messages unseen uidvalidity uidnext "
                              "highestmodseq"):
        out = self.doveadm("-f", "flow", "mailbox", "status", "-u", user,
                           fields, folder)
        return {k: (int(v) if v.isdigit() else v)
                for k, v in re.findall(r"(\w+)=(\S*)", out)}

    def create_folder(self, user, folder, subscribe=True):
        args = ["mailbox", "create", "-u", user]
        if subscribe:
            args.append("-s")
        self.doveadm(*(args + [folder]), check=False)
        d = self.maildir(user, folder)
        for sub in ("", "cur", "new", "tmp"):
            os.makedirs(os.path.join(d, sub), exist_ok=True)
        self._chown_tree(d, files=False)

    def _chown_tree(self, path, files=True):
        for root, dirs, fs in os.walk(path):
            os.chown(root, self.mail_uid, self.mail_gid)
            if files:
                for f in fs:
                    os.chown(os.path.join(root, f), self.mail_uid,
                             self.mail_gid)

    def index(self, user, folder="INBOX"):
        """doveadm index: so the first client does not pay for indexing."""
        self.doveadm("index", "-u", user, folder)

    def force_resync(self, user, folder="INBOX"):
        """After files of a folder were replaced under a running server."""
        self.doveadm("force-resync", "-u", user, folder)

    def seed_tool(self):
        """The seed tool, copied into our own directory: it runs as the
        mail user, who may not reach a checkout under a 0700 directory
        (mktemp -d)."""
        tool = os.path.join(self.dir, "seed")
        if not os.path.exists(tool):
            shutil.copy(find_seed_tool(), tool)
            os.chmod(tool, 0o755)
        return tool

    def seed(self, user, folder="INBOX", count=100, seed=1, start_time=None,
             manifest=True, index=True, extra_args=()):
        """Put count generated messages into user's folder with the seed
        tool; returns the manifest (a list of dicts) when asked."""
        if folder.upper() != "INBOX":
            if self.running:
                self.create_folder(user, folder)
            else:
                d = self.maildir(user, folder)
                os.makedirs(d, exist_ok=True)
                self._chown_tree(d, files=False)
        mf = None
        args = [self.seed_tool(), "--maildir",
                os.path.join(self.home(user), "Maildir"),
                "--count", str(count), "--seed", str(seed)]
        if folder.upper() != "INBOX":
            args += ["--folder", mutf7_encode(folder)]
        if start_time is not None:
            args += ["--start-time", str(int(start_time))]
        if manifest:
            fd, mf = tempfile.mkstemp(prefix="manifest-", suffix=".jsonl",
                                      dir=self.dir)
            os.close(fd)
            os.chmod(mf, 0o666)
            args += ["--manifest", mf]
        args += list(extra_args)
        kw = {}
        if os.geteuid() == 0:
            kw = dict(user=self.mail_uid, group=self.mail_gid,
                      extra_groups=[])
        r = subprocess.run(args, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, **kw)
        if r.returncode != 0:
            raise HarnessError("seed: " + r.stderr.decode(errors="replace"))
        if index and self.running:
            self.index(user, folder)
        if not manifest:
            return None
        with open(mf, encoding="utf-8") as f:
            out = [json.loads(l) for l in f if l.strip()]
        os.unlink(mf)
        return out

    def append(self, user, folder, message, flags="", date=None):
        """APPEND one message (bytes or str) through IMAP; returns its UID."""
        if isinstance(message, str):
            message = message.encode()
        message = message.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        m = self.imap_client(user)
        try:
            if date is None:
                date = time.time()
            typ, data = m.append(imap_mailbox(folder),
                                 "(%s)" % flags if flags else None,
                                 imaplib.Time2Internaldate(date), message)
            if typ != "OK":
                raise HarnessError("APPEND: %r" % data)
            mm = re.search(rb"APPENDUID \d+ (\d+)", data[0] or b"")
            return int(mm.group(1)) if mm else None
        finally:
            m.logout()

    # ---- client-side helpers --------------------------------------------

    def ssl_context(self):
        ctx = ssl.create_default_context(cafile=self.ca_file)
        ctx.check_hostname = True
        return ctx

    def imap_client(self, user="alice", password=None, starttls=False):
        """An authenticated imaplib client (IMAPS, or STARTTLS on the
        143-style port), for an independent view of the server state."""
        pw = self.users[user] if password is None else password
        if starttls:
            m = imaplib.IMAP4(self.plain_host, self.imap_port, timeout=60)
            m.starttls(ssl_context=self.ssl_context())
        else:
            m = imaplib.IMAP4_SSL(self.host, self.imaps_port,
                                  ssl_context=self.ssl_context(), timeout=60)
        m.login(user, pw)
        return m

    def pop3_client(self, user="alice", password=None, stls=False):
        """An authenticated poplib client (POP3S, or STLS on the plain port)."""
        pw = self.users[user] if password is None else password
        if stls:
            p = poplib.POP3(self.plain_host, self.pop3_port, timeout=60)
            p.stls(context=self.ssl_context())
        else:
            p = poplib.POP3_SSL(self.host, self.pop3s_port,
                                context=self.ssl_context(), timeout=60)
        p.user(user)
        p.pass_(pw)
        return p

    def fetch_index(self, user="alice", folder="INBOX"):
        """{uid: {"flags": [...], "size": N, "internaldate": str,
        "message_id": str}} read with imaplib (EXAMINE; \\Recent left out)."""
        m = self.imap_client(user)
        try:
            typ, _ = m.select(imap_mailbox(folder), readonly=True)
            if typ != "OK":
                raise HarnessError("SELECT %s failed" % folder)
            typ, data = m.uid("FETCH", "1:*",
                              "(UID FLAGS RFC822.SIZE INTERNALDATE "
                              "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
            out = {}
            for item in data:
                if not isinstance(item, tuple):
                    continue
                meta = item[0].decode()
                uid = int(re.search(r"UID (\d+)", meta).group(1))
                # \Recent is session state, not a flag of the message.
                flags = [f for f in re.search(r"FLAGS \(([^)]*)\)",
                                              meta).group(1).split()
                         if f != "\\Recent"]
                size = int(re.search(r"RFC822.SIZE (\d+)", meta).group(1))
                idate = re.search(r'INTERNALDATE "([^"]*)"', meta).group(1)
                mid = item[1].decode(errors="replace").strip()
                mid = mid.split(":", 1)[1].strip() if ":" in mid else ""
                out[uid] = dict(flags=flags, size=size, internaldate=idate,
                                message_id=mid)
            return out
        finally:
            m.logout()

    # ---- logs ------------------------------------------------------------

    def log_mark(self):
        """A position in the log; pass it as since= to read only what follows."""
        try:
            return os.path.getsize(self.log_path)
        except OSError:
            return 0

    def log_lines(self, since=0):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(since)
                return f.read().decode(errors="replace").splitlines()
        except OSError:
            return []

    def logouts(self, since=0, user=None, proto=None):
        """Parsed logout records (see parse_logout) after since."""
        out = []
        for l in self.log_lines(since):
            r = parse_logout(l)
            if r is None:
                continue
            if user is not None and r["user"] != user:
                continue
            if proto is not None and r["proto"] != proto:
                continue
            out.append(r)
        return out

    def wait_logouts(self, n=1, since=0, user=None, proto=None, timeout=10):
        """Wait until at least n logout records appear after since (the log
        process writes them a moment after the client went away)."""
        deadline = time.monotonic() + timeout
        while True:
            r = self.logouts(since, user, proto)
            if len(r) >= n or time.monotonic() > deadline:
                return r
            time.sleep(0.05)

    def errors(self, since=0):
        """Log lines at Error/Fatal/Panic level."""
        return [l for l in self.log_lines(since)
                if re.search(r": (Error|Fatal|Panic)", l)]

    def rawlog(self, user):
        """Rawlog sessions of user, oldest first: a list of dicts with
        "in" and "out" (bytes) and the file base name. Needs rawlog=True."""
        d = os.path.join(self.rawlog_root, user)
        sessions = {}
        try:
            names = sorted(os.listdir(d), key=lambda n: (
                os.stat(os.path.join(d, n)).st_mtime_ns, n))
        except OSError:
            return []
        for n in names:
            base, _, kind = n.rpartition(".")
            if kind not in ("in", "out"):
                continue
            with open(os.path.join(d, n), "rb") as f:
                sessions.setdefault(base, {"name": base})[kind] = f.read()
        return list(sessions.values())

    def rawlog_commands(self, user):
        """The client lines (str) of every rawlog session, concatenated."""
        out = []
        for s in self.rawlog(user):
            out += s.get("in", b"").decode(errors="replace").splitlines()
        return out

    def wait_rawlog(self, user, text, timeout=10):
        """Wait until a rawlog session of user shows the client sending
        text (the imap process writes it as it goes and closes it when it
        exits); returns the client lines, as rawlog_commands()."""
        deadline = time.monotonic() + timeout
        while True:
            cmds = self.rawlog_commands(user)
            if any(text in c for c in cmds) or time.monotonic() > deadline:
                return cmds
            time.sleep(0.05)

    def clear_rawlog(self, user):
        d = os.path.join(self.rawlog_root, user)
        for n in os.listdir(d):
            os.unlink(os.path.join(d, n))

    # ---- petrel ----------------------------------------------------------

    def petrel_home(self, name="default"):
        """A private XDG home for petrel runs: dict with cache and config."""
        base = os.path.join(self.petrel_root, name)
        h = {"base": base, "cache": os.path.join(base, "cache"),
             "config": os.path.join(base, "config"),
             "data": os.path.join(base, "data")}
        for k in ("cache", "config", "data"):
            os.makedirs(h[k], mode=0o700, exist_ok=True)
        return h

    def petrel_config_path(self, home="default"):
        return os.path.join(self.petrel_home(home)["config"], "petrel",
                            "config")

    def account_url(self, user, proto="imap", tls="imaps"):
        scheme = {("imap", "imaps"): "imaps", ("imap", "starttls"): "imap",
                  ("imap", "insecure"): "imap+insecure",
                  ("pop3", "imaps"): "pop3s", ("pop3", "pop3s"): "pop3s",
                  ("pop3", "starttls"): "pop3",
                  ("pop3", "insecure"): "pop3+insecure"}[(proto, tls)]
        port = {"imaps": self.imaps_port, "imap": self.imap_port,
                "imap+insecure": self.imap_port, "pop3s": self.pop3s_port,
                "pop3": self.pop3_port,
                "pop3+insecure": self.pop3_port}[scheme]
        host = self.host if scheme in ("imaps", "pop3s") else self.plain_host
        return "%s://%s@%s:%d" % (scheme, user, host, port)

    def account_section(self, account="alice", proto="imap", tls="imaps",
                        user=None, password=None, extra=None,
                        ca_file=True):
        user = user or account
        pw = self.users.get(user, "") if password is None else password
        lines = ["[account %s]" % account,
                 "%s = %s" % ("pop3" if proto == "pop3" else "imap",
                              self.account_url(user, proto, tls))]
        if pw is not False:
            lines.append("password = %s" % pw)
        if ca_file and tls != "insecure":
            lines.append("tls_ca_file = %s" % self.ca_file)
        for k, v in (extra or {}).items():
            if v is None:
                continue
            lines.append("%s = %s" % (k, v))
        return "\n".join(lines) + "\n"

    def write_petrel_config(self, path=None, account="alice", proto="imap",
                            tls="imaps", extra=None, user=None, password=None,
                            append=False, home="default", ca_file=True):
        """Write petrel's INI config for one account (path None: the
        default location in petrel_home(home)). tls: imaps (implicit, also
        for pop3s), starttls, insecure. password=False leaves it out;
        extra: more keys, e.g. {"password_command": "echo x"}. append adds
        a section to an existing file. Returns the path."""
        if path is None:
            path = self.petrel_config_path(home)
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        sec = self.account_section(account, proto, tls, user, password,
                                   extra, ca_file)
        mode = "a" if append and os.path.exists(path) else "w"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT |
                     (os.O_APPEND if mode == "a" else os.O_TRUNC), 0o600)
        with os.fdopen(fd, mode) as f:
            if mode == "a":
                f.write("\n")
            f.write(sec)
        os.chmod(path, 0o600)
        return path

    def petrel_env(self, home="default", env=None):
        h = self.petrel_home(home)
        e = dict(os.environ)
        e.pop("PETREL_CONFIG", None)
        e.update(XDG_CACHE_HOME=h["cache"], XDG_CONFIG_HOME=h["config"],
                 XDG_DATA_HOME=h["data"], HOME=h["base"],
                 LANG=e.get("LANG", "C.UTF-8"))
        if env:
            e.update(env)
        return e

    def run_petrel(self, args, home="default", input=None, timeout=300,
                   env=None, text=True, petrel=None):
        """Run $PETREL ARGS with a private XDG_CACHE_HOME/XDG_CONFIG_HOME
        (petrel_home(home)); returns (status, stdout, stderr)."""
        exe = petrel or petrel_binary()
        if isinstance(input, str):
            input = input.encode()
        r = subprocess.run([exe] + list(args), input=input,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=self.petrel_env(home, env), timeout=timeout,
                           stdin=None if input is not None
                           else subprocess.DEVNULL)
        out, err = r.stdout, r.stderr
        if text:
            out = out.decode("utf-8", errors="replace")
            err = err.decode("utf-8", errors="replace")
        return PetrelResult(r.returncode, out, err)

    def describe(self):
        return {"dir": self.dir, "conf": self.conf, "host": self.host,
                "imap_port": self.imap_port, "imaps_port": self.imaps_port,
                "pop3_port": self.pop3_port, "pop3s_port": self.pop3s_port,
                "ca_file": self.ca_file, "log": self.log_path,
                "users": self.users, "smtp": self.smtp,
                "auth_socket": self.auth_socket,
                "lmtp_socket": self.lmtp_socket}


# ---- a private Postfix ---------------------------------------------------

POSTFIX_DAEMON_DIR = "/usr/lib/postfix/sbin"

# The queue directory as Postfix's own postfix-files lays it out: name,
# owner (None: root), group (None: the owner's), mode.
_POSTFIX_QUEUE_DIRS = (
    ("active", "postfix", None, 0o700), ("bounce", "postfix", None, 0o700),
    ("corrupt", "postfix", None, 0o700), ("defer", "postfix", None, 0o700),
    ("deferred", "postfix", None, 0o700), ("flush", "postfix", None, 0o700),
    ("hold", "postfix", None, 0o700), ("incoming", "postfix", None, 0o700),
    ("private", "postfix", None, 0o700), ("saved", "postfix", None, 0o700),
    ("trace", "postfix", None, 0o700),
    ("maildrop", "postfix", "postdrop", 0o730),
    ("public", "postfix", "postdrop", 0o710), ("pid", None, None, 0o755))

# A delivery (or discard, bounce, deferral) in the Postfix log.
_PF_DELIVERY_RE = re.compile(
    r"postfix/(?:[\w.-]+/)?(?P<agent>lmtp|discard|error|smtp|virtual|local)"
    r"\[\d+\]: (?P<queue_id>[0-9A-Za-z]+): to=<(?P<to>[^>]*)>"
    r"(?:, orig_to=<(?P<orig_to>[^>]*)>)?, relay=(?P<relay>[^,]*),"
    r".*? dsn=(?P<dsn>[^,]*), status=(?P<status>\w+) \((?P<text>.*)\)$")
_PF_MSGID_RE = re.compile(r"postfix/cleanup\[\d+\]: "
                          r"(?P<queue_id>[0-9A-Za-z]+): "
                          r"message-id=(?P<mid>\S*)")
_PF_FROM_RE = re.compile(r"postfix/qmgr\[\d+\]: (?P<queue_id>[0-9A-Za-z]+): "
                         r"from=<(?P<sender>[^>]*)>, size=(?P<size>\d+), "
                         r"nrcpt=(?P<nrcpt>\d+)")
_PF_SASL_RE = re.compile(r"postfix/(?:[\w.-]+/)?smtpd\[\d+\]: "
                         r"(?P<queue_id>[0-9A-Za-z]+): client=[^,]*"
                         r"(?:, sasl_method=[^,]*, sasl_username=(?P<u>\S+))?")


def _postfix_regexp_literal(s):
    """s as a Postfix regexp (POSIX ERE) matching exactly s."""
    return "^" + re.sub(r"([.\[\]()*+?{}|^$\\/])", r"\\\1", s) + "$"


class Postfix:
    """A private Postfix submission server in front of a Dovecot (see the
    module documentation)."""

    def __init__(self, dovecot, domain="example.test",
                 message_size_limit=10240000, dir=None, keep=False,
                 extra_main=None):
        if os.geteuid() != 0:
            raise HarnessError("a private Postfix needs root (its master "
                               "runs the daemons as the postfix user)")
        try:
            pwd.getpwnam("postfix")
            grp.getgrnam("postdrop")
        except KeyError:
            raise HarnessError("no postfix user or postdrop group: "
                               "apt-get install postfix (scripts/deps.sh)")
        self._master = os.path.join(POSTFIX_DAEMON_DIR, "master")
        if not os.access(self._master, os.X_OK):
            raise HarnessError("%s not found: apt-get install postfix "
                               "(scripts/deps.sh)" % self._master)
        self._postqueue = _which("postqueue")
        self._postfix = _which("postfix")
        self.dovecot = dovecot
        dovecot.enable_smtp()
        self.domain = domain
        self.message_size_limit = message_size_limit
        self.extra_main = dict(extra_main or {})
        self.keep = keep
        if dir is None:
            self.dir = tempfile.mkdtemp(prefix="petrel-postfix-")
            self._own_dir = True
        else:
            os.makedirs(dir, exist_ok=True)
            self.dir = os.path.abspath(dir)
            self._own_dir = False
        os.chmod(self.dir, 0o755)       # the daemons run as postfix
        up = os.path.dirname(self.dir)
        while up != os.path.dirname(up):
            if not os.stat(up).st_mode & 0o001:
                raise HarnessError("the postfix user cannot reach %s: %s "
                                   "is not searchable by others"
                                   % (self.dir, up))
            up = os.path.dirname(up)
        self.conf_dir = os.path.join(self.dir, "conf")
        self.queue_dir = os.path.join(self.dir, "queue")
        self.data_dir = os.path.join(self.dir, "data")
        self.map_dir = os.path.join(self.dir, "maps")
        self.log_path = os.path.join(self.dir, "log", "postfix.log")
        self.host = "127.0.0.1"
        self.submission_port = self.smtps_port = None
        self.proc = None
        self._stderr = None
        self._watchdog = self._watchdog_fd = None
        self._rcpt_rules = {}           # regexp -> response (RCPT TO)
        self._data_rule = None          # response after the message data
        for d in (self.conf_dir, self.map_dir, os.path.dirname(self.log_path)):
            os.makedirs(d, exist_ok=True)
            os.chmod(d, 0o755)
        self._make_queue()
        self._write_maps()

    # ---- paths and names -------------------------------------------------

    @property
    def cert_file(self):
        """The CA file a client trusts (the Dovecot's self-signed cert)."""
        return self.dovecot.ca_file

    @property
    def users(self):
        return self.dovecot.users

    def address(self, user):
        return "%s@%s" % (user, self.domain)

    # ---- lifecycle -------------------------------------------------------

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        self.cleanup()
        return False

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout=20):
        """Start (or start again, on the same queue) the server."""
        if self.running:
            return self
        last = ""
        for _ in range(START_TRIES):
            if self.submission_port is None or last:
                self.submission_port, self.smtps_port = _free_ports(2)
            self._write_conf()
            mark = self.log_mark()
            self._stderr = open(os.path.join(self.dir, "log",
                                             "master.stderr"), "ab")
            # The master in the foreground (-d: no setsid) as our child,
            # leading a process group of its own with every daemon it
            # starts; its SIGTERM handler takes the group along.
            self.proc = subprocess.Popen(
                [self._master, "-c", self.conf_dir, "-d"],
                stdin=subprocess.DEVNULL, stdout=self._stderr,
                stderr=self._stderr, preexec_fn=_pdeathsig, close_fds=True)
            self._start_watchdog()
            _live.add(self)
            _install_signal_handlers()
            _become_subreaper()
            ok, last = self._wait_ready(mark, timeout)
            if ok:
                return self
            self._kill_master()
            if "in use" not in last:
                break
        raise HarnessError("postfix did not start: %s\n%s"
                           % (last.strip(), self.check()))

    def _wait_ready(self, mark, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                # A master that fails early (a port taken since we picked
                # it) cannot log yet: nothing listens on the postlog socket.
                return False, (self._busy_ports() +
                               self._tail_errors(mark))
            # The master logs this once it listens on every port, and
            # through the postlogd: the log works too. (No probing
            # connections: each would start an smtpd.)
            if any("daemon started" in l for l in self.log_lines(mark)):
                return True, ""
            time.sleep(0.01)
        return False, "timeout; " + self._tail_errors(mark)

    def _busy_ports(self):
        out = ""
        for port in (self.submission_port, self.smtps_port):
            with socket.socket() as s:
                try:
                    s.bind((self.host, port))
                except OSError as e:
                    out += "bind %s:%d: %s\n" % (self.host, port, e)
        return out

    def _tail_errors(self, since=0):
        out = []
        try:
            with open(os.path.join(self.dir, "log", "master.stderr"),
                      errors="replace") as f:
                out += f.read().splitlines()
        except OSError:
            pass
        out += [l for l in self.log_lines(since)
                if re.search(r"\]: (warning|error|fatal|panic): ", l)]
        return "\n".join(out[-5:])

    def check(self):
        """`postfix -c DIR check`: its complaints (str, empty when none)."""
        r = subprocess.run([self._postfix, "-c", self.conf_dir, "check"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        return r.stdout.decode(errors="replace").strip()

    def _start_watchdog(self):
        # The master loses PR_SET_PDEATHSIG (it changes its effective ids
        # for a moment as it starts), so a test killed outright would
        # leave it running. A shell in a group of its own waits on a pipe
        # only we hold the write end of (O_CLOEXEC): at its EOF, our
        # death, it stops the instance and removes its directory.
        rd, self._watchdog_fd = os.pipe()
        rm = ('; rm -rf -- "$2"' if self._own_dir and not self.keep else "")
        try:
            self._watchdog = subprocess.Popen(
                ["/bin/sh", "-c", 'read x; kill -s TERM -- -"$1"; sleep 1; '
                 'kill -s KILL -- -"$1"' + rm, "petrel-postfix-watchdog",
                 str(self.proc.pid), self.dir],
                stdin=rd, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, preexec_fn=os.setpgrp,
                close_fds=True)
        finally:
            os.close(rd)

    def _stop_watchdog(self):
        if self._watchdog is not None:
            self._watchdog.kill()
            self._watchdog.wait()
            self._watchdog = None
        if self._watchdog_fd is not None:
            os.close(self._watchdog_fd)
            self._watchdog_fd = None

    def _kill_master(self, timeout=10):
        """What `postfix stop` does (SIGTERM to the master, which passes it
        to its process group), without its one-second polls; then SIGKILL
        whatever of the group is left and reap it."""
        self._stop_watchdog()
        if self.proc is None:
            return
        pgid = self.proc.pid
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(pgid, signal.SIGKILL)
        except OSError:
            pass
        if self.proc.poll() is None:
            self.proc.wait(5)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                pid, _ = os.waitpid(-pgid, os.WNOHANG)
            except ChildProcessError:
                pid = -1
            left = self.processes(pgid)
            for p in left:
                try:
                    os.kill(p, signal.SIGKILL)
                except OSError:
                    pass
            if pid == 0 or left:
                time.sleep(0.01)
            elif pid < 0:
                break
        self.proc = None
        if self._stderr:
            self._stderr.close()
            self._stderr = None

    def processes(self, pgid=None):
        """Live processes of this instance: of the master's process group,
        or (should one have left it) with our MAIL_CONFIG."""
        if pgid is None:
            pgid = self.proc.pid if self.proc else -1
        out = set(group_members(pgid))
        tag = ("MAIL_CONFIG=%s" % self.conf_dir).encode()
        for n in os.listdir("/proc"):
            if not n.isdigit() or int(n) in out:
                continue
            try:
                with open("/proc/%s/environ" % n, "rb") as f:
                    if tag not in f.read().split(b"\0"):
                        continue
                with open("/proc/%s/stat" % n) as f:
                    if f.read().rsplit(")", 1)[1].split()[0] in "ZX":
                        continue
            except OSError:
                continue
            out.add(int(n))
        return sorted(out)

    def stop(self):
        """Stop the server; the queue stays, start() brings it back."""
        self._kill_master()
        _live.discard(self)

    def cleanup(self):
        """Remove the temporary directory (unless keep or given by caller)."""
        if self.running:
            self.stop()
        if self._own_dir and not self.keep and os.path.isdir(self.dir):
            shutil.rmtree(self.dir, ignore_errors=True)

    def reload(self):
        """`postfix reload`: main.cf and master.cf written again from the
        attributes (e.g. a changed message_size_limit or extra_main), then
        SIGHUP to the master (what the command sends it) so the daemons
        re-read them; a new smtpd (each connection has one) reads them at
        once."""
        self._write_conf()
        if self.running:
            self.proc.send_signal(signal.SIGHUP)

    # ---- setup files -----------------------------------------------------

    def _make_queue(self):
        pw = pwd.getpwnam("postfix")
        for path, uid, gid, mode in (
                [(self.queue_dir, 0, 0, 0o755),
                 (self.data_dir, pw.pw_uid, pw.pw_gid, 0o700)] +
                [(os.path.join(self.queue_dir, n),
                  0 if owner is None else pw.pw_uid,
                  (0 if owner is None else pw.pw_gid) if group is None
                  else grp.getgrnam(group).gr_gid, mode)
                 for n, owner, group, mode in _POSTFIX_QUEUE_DIRS]):
            os.makedirs(path, exist_ok=True)
            os.chown(path, uid, gid)
            os.chmod(path, mode)

    def _write_file(self, path, text):
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        # Postfix rereads a main.cf changed in the last second or so in
        # 300 ms pauses until it "cools down" (2 s at each daemon start):
        # date it back.
        t = time.time() - 10
        os.utime(tmp, (t, t))
        os.replace(tmp, path)

    def _write_maps(self):
        self._write_file(os.path.join(self.map_dir, "vmailbox"), "".join(
            "%s OK\n" % self.address(u) for u in sorted(self.users)))
        self._write_file(os.path.join(self.map_dir, "rcpt_access"), "".join(
            "/%s/ %s\n" % (rx, resp) for rx, resp in self._rcpt_rules.items()))
        self._write_file(os.path.join(self.map_dir, "data_access"),
                         "/./ %s\n" % self._data_rule
                         if self._data_rule else "")

    def _write_conf(self):
        maps = self.map_dir
        main = {
            "compatibility_level": "3.6",
            "queue_directory": self.queue_dir,
            "data_directory": self.data_dir,
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "maillog_file": self.log_path,
            "maillog_file_prefixes": os.path.dirname(self.log_path),
            "myhostname": "localhost",
            "mydomain": self.domain,
            "myorigin": "$mydomain",
            "mydestination": "",
            "mynetworks": "127.0.0.1/32",
            "inet_interfaces": self.host,
            "inet_protocols": "ipv4",
            "relayhost": "",
            "smtpd_banner": "$myhostname ESMTP petrel test Postfix",
            # Mail is delivered as the client sent it (but for Received):
            # no Date, Message-ID or From added, no address rewritten.
            "local_header_rewrite_clients": "",
            "biff": "no",
            "append_dot_mydomain": "no",
            # Nothing beyond loopback: no DNS, and mail for other domains
            # is accepted (from authenticated users) but not sent on.
            "smtp_dns_support_level": "disabled",
            "lmtp_dns_support_level": "disabled",
            "smtp_host_lookup": "native",
            "lmtp_host_lookup": "native",
            "smtpd_peername_lookup": "no",
            "default_transport": "discard:not sent on by the test server",
            "relay_transport": "discard:not sent on by the test server",
            # No local (passwd) users: the domain's mailboxes are Dovecot's.
            "local_transport": "error:5.1.1 no local delivery here",
            "local_recipient_maps": "",
            "alias_maps": "",
            "alias_database": "",
            "virtual_mailbox_domains": self.domain,
            "virtual_mailbox_maps": "texthash:%s/vmailbox" % maps,
            "virtual_alias_maps": "",
            "virtual_transport": "lmtp:unix:%s" % self.dovecot.lmtp_socket,
            "message_size_limit": str(self.message_size_limit),
            "mailbox_size_limit": "0",
            "virtual_mailbox_limit": "0",
            # TLS with the Dovecot's certificate (SAN 127.0.0.1, localhost).
            "smtpd_tls_cert_file": self.dovecot.cert_file,
            "smtpd_tls_key_file": self.dovecot.key_file,
            "smtpd_tls_security_level": "encrypt",
            "smtpd_tls_auth_only": "yes",
            "smtpd_tls_loglevel": "1",
            "smtpd_tls_session_cache_database": "",
            "smtpd_tls_received_header": "yes",
            # AUTH through the Dovecot (its users and passwords).
            "smtpd_sasl_auth_enable": "yes",
            "smtpd_sasl_type": "dovecot",
            "smtpd_sasl_path": self.dovecot.auth_socket,
            "smtpd_sasl_security_options": "noanonymous",
            "smtpd_sasl_tls_security_options": "noanonymous",
            "smtpd_sasl_authenticated_header": "no",
            "broken_sasl_auth_clients": "no",
            # Submission: nothing without AUTH; the refusals a test sets
            # (defer_all, reject_all, refuse_recipient) come first.
            "smtpd_client_restrictions": "",
            "smtpd_helo_restrictions": "",
            "smtpd_sender_restrictions": "",
            "smtpd_relay_restrictions": "permit_sasl_authenticated, reject",
            "smtpd_recipient_restrictions":
                "check_recipient_access regexp:%s/rcpt_access, "
                "permit_sasl_authenticated, reject" % maps,
            "smtpd_end_of_data_restrictions":
                "check_client_access regexp:%s/data_access" % maps,
            # Each connection a fresh smtpd: a changed map or main.cf
            # holds for the very next one.
            "max_use": "1",
            # Tests are quick: no penalty pauses, short retries.
            "smtpd_error_sleep_time": "0",
            "smtpd_soft_error_limit": "100",
            "smtpd_hard_error_limit": "200",
            "in_flow_delay": "0",
            "queue_run_delay": "1s",
            "minimal_backoff_time": "1s",
            "maximal_backoff_time": "2s",
            "delay_warning_time": "0",
        }
        main.update(self.extra_main)
        self._write_file(os.path.join(self.conf_dir, "main.cf"),
                         "# Private Postfix for petrel tests (generated by "
                         "harness.py).\n" + "".join(
                             "%s = %s\n" % kv for kv in main.items()))
        # type private unpriv chroot wakeup maxproc command
        services = """\
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""
        master = ("# Generated by harness.py.\n"
                  "%s:%d inet n - n - - smtpd\n"
                  "  -o syslog_name=postfix/submission\n"
                  "%s:%d inet n - n - - smtpd\n"
                  "  -o syslog_name=postfix/submissions\n"
                  "  -o smtpd_tls_wrappermode=yes\n"
                  % (self.host, self.submission_port,
                     self.host, self.smtps_port)) + services
        self._write_file(os.path.join(self.conf_dir, "master.cf"), master)

    # ---- refusals --------------------------------------------------------

    def _set_rules(self):
        # Only smtpd reads these maps, and each connection has a fresh one
        # (max_use = 1): no reload, whose restarted daemons might log
        # warnings about connections lost to each other.
        self._write_maps()

    def defer_all(self, response="451 4.3.0 Try again later (test server)",
                  stage="rcpt"):
        """Refuse every recipient (stage "rcpt") or every message after
        its data (stage "data") for now: 4xx. accept_all() ends it."""
        self._refuse(response, stage)

    def reject_all(self, response="554 5.7.1 Refused by the test server",
                   stage="rcpt"):
        """As defer_all, for good: 5xx."""
        self._refuse(response, stage)

    def _refuse(self, response, stage):
        if stage == "rcpt":
            self._rcpt_rules.pop(".", None)
            self._rcpt_rules["."] = response      # after the addresses
        elif stage == "data":
            self._data_rule = response
        else:
            raise ValueError("stage: rcpt or data")
        self._set_rules()

    def refuse_recipient(self, address, response="550 5.1.1 No such user "
                         "(test server)"):
        """Answer RCPT TO:<address> with response (4xx or 5xx)."""
        rules = {_postfix_regexp_literal(address): response}
        rules.update((k, v) for k, v in self._rcpt_rules.items()
                     if k != _postfix_regexp_literal(address))
        self._rcpt_rules = rules
        self._set_rules()

    def accept_all(self):
        """Undo defer_all, reject_all and refuse_recipient."""
        self._rcpt_rules = {}
        self._data_rule = None
        self._set_rules()

    def refresh_users(self):
        """After dovecot.add_user/remove_user: the domain's mailboxes."""
        self._set_rules()

    # ---- queue -----------------------------------------------------------

    def queue(self):
        """The queue (postqueue -c DIR -j): a list of dicts, one a message
        (queue_name, queue_id, sender, recipients [{address,
        delay_reason}], ...)."""
        r = subprocess.run([self._postqueue, "-c", self.conf_dir, "-j"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if r.returncode != 0:
            raise HarnessError("postqueue: " +
                               r.stderr.decode(errors="replace").strip())
        return [json.loads(l) for l in r.stdout.decode().splitlines()
                if l.strip()]

    def queue_empty(self):
        return not self.queue()

    def wait_queue_empty(self, timeout=10):
        deadline = time.monotonic() + timeout
        while True:
            if self.queue_empty():
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)

    def flush(self):
        """postqueue -f: try the deferred mail again now."""
        subprocess.run([self._postqueue, "-c", self.conf_dir, "-f"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def wait_delivered(self, user, n, timeout=10, folder="INBOX"):
        """Wait until user's folder (in the Dovecot) holds at least n
        messages; returns how many it holds."""
        deadline = time.monotonic() + timeout
        while True:
            have = self.dovecot.mailbox_status(user, folder,
                                               "messages")["messages"]
            if have >= n or time.monotonic() > deadline:
                return have
            time.sleep(0.05)

    # ---- logs ------------------------------------------------------------

    def log_mark(self):
        """A position in the log: since= of log_lines and deliveries."""
        try:
            return os.path.getsize(self.log_path)
        except OSError:
            return 0

    def log_lines(self, since=0):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(since)
                return f.read().decode(errors="replace").splitlines()
        except OSError:
            return []

    def errors(self, since=0):
        """Log lines at error, fatal or panic level."""
        return [l for l in self.log_lines(since)
                if re.search(r"\]: (error|fatal|panic): ", l)]

    def warnings(self, since=0):
        """Log lines at warning level (a refused AUTH is one)."""
        return [l for l in self.log_lines(since)
                if re.search(r"\]: warning: ", l)]

    def deliveries(self, since=0):
        """What became of each recipient after since: dicts with queue_id,
        to, orig_to, relay, dsn, status (sent, deferred, bounced), text,
        agent (lmtp: into a Dovecot INBOX; discard: another domain), and
        sender, size, nrcpt, message_id ("<...>", "<>" when it had none)
        and sasl_username of its message."""
        msgs, out = {}, []
        for l in self.log_lines(since):
            m = _PF_SASL_RE.search(l)
            if m:
                msgs.setdefault(m.group("queue_id"), {})["sasl_username"] = \
                    m.group("u")
                continue
            m = _PF_MSGID_RE.search(l)
            if m:
                msgs.setdefault(m.group("queue_id"), {})["message_id"] = \
                    m.group("mid")
                continue
            m = _PF_FROM_RE.search(l)
            if m:
                msgs.setdefault(m.group("queue_id"), {}).update(
                    sender=m.group("sender"), size=int(m.group("size")),
                    nrcpt=int(m.group("nrcpt")))
                continue
            m = _PF_DELIVERY_RE.search(l)
            if m:
                d = m.groupdict()
                d.update(msgs.get(d["queue_id"], {}))
                out.append(d)
        return out

    def wait_deliveries(self, n, since=0, timeout=10):
        """Wait until at least n records of deliveries(since) appear."""
        deadline = time.monotonic() + timeout
        while True:
            r = self.deliveries(since)
            if len(r) >= n or time.monotonic() > deadline:
                return r
            time.sleep(0.05)

    # ---- client-side helpers --------------------------------------------

    def ssl_context(self):
        return self.dovecot.ssl_context()

    def smtp_client(self, user="alice", password=None, implicit_tls=False,
                    login=True, timeout=30):
        """An smtplib client: STARTTLS on the submission port, or implicit
        TLS on smtps_port; logged in as user unless login=False."""
        if implicit_tls:
            c = smtplib.SMTP_SSL(self.host, self.smtps_port,
                                 context=self.ssl_context(), timeout=timeout)
        else:
            c = smtplib.SMTP(self.host, self.submission_port,
                             timeout=timeout)
            c.starttls(context=self.ssl_context())
        c.ehlo()
        if login:
            c.login(user, self.users[user] if password is None
                    else password)
        return c

    def describe(self):
        return {"dir": self.dir, "conf_dir": self.conf_dir,
                "host": self.host, "submission_port": self.submission_port,
                "smtps_port": self.smtps_port, "cert_file": self.cert_file,
                "log": self.log_path, "domain": self.domain}


# ---- module-level helpers ------------------------------------------------

def source_dir():
    return os.environ.get("PETREL_SOURCE_DIR") or os.path.dirname(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _build_dirs():
    env = os.environ.get("PETREL_BUILD_DIR")
    if env:
        yield env
    src = source_dir()
    for n in ["build"] + sorted(x for x in os.listdir(src)
                                if x.startswith("build-")):
        yield os.path.join(src, n)


def _find_built(rel, envvar=None):
    if envvar and os.environ.get(envvar):
        return os.environ[envvar]
    for d in _build_dirs():
        p = os.path.join(d, rel)
        if os.access(p, os.X_OK):
            return p
    raise HarnessError("%s not built (set PETREL_BUILD_DIR or %s)"
                       % (rel, envvar or "build it"))


def petrel_binary():
    return _find_built("petrel", "PETREL")


def find_seed_tool():
    return _find_built(os.path.join("tests", "tools", "seed"),
                       "PETREL_SEED")


def _stop_all():
    for d in list(_live):
        try:
            d.stop()
            d.cleanup()
        except Exception:
            pass


atexit.register(_stop_all)
_handlers_set = False


def _on_signal(sig, frame):
    _stop_all()
    raise SystemExit(128 + sig)


def _install_signal_handlers():
    global _handlers_set
    if _handlers_set:
        return
    _handlers_set = True
    for s in (signal.SIGTERM, signal.SIGHUP):
        try:
            if signal.getsignal(s) in (signal.SIG_DFL, None):
                signal.signal(s, _on_signal)
        except (ValueError, OSError):
            pass        # not the main thread


# ---- test helpers --------------------------------------------------------

class Check:
    """Tiny assertion collector for the integration test scripts, which
    print "N passed, N failed" at the end and exit non-zero on failure."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def __call__(self, cond, what):
        if cond:
            self.passed += 1
            print("ok   %s" % what, flush=True)
        else:
            self.failed += 1
            print("FAIL %s" % what, flush=True)
        return cond

    def eq(self, got, want, what):
        ok = got == want
        if not ok:
            what = "%s: got %r, want %r" % (what, got, want)
        return self(ok, what)

    def done(self):
        print("%d passed, %d failed" % (self.passed, self.failed))
        sys.exit(1 if self.failed or not self.passed else 0)


# ---- command line --------------------------------------------------------

DEMO_FOLDERS = (("INBOX", 300), ("Archive", 200), ("Lists/petrel-dev", 150),
                ("Sent", 40))


def _serve(argv):
    import argparse
    ap = argparse.ArgumentParser(prog="harness.py serve",
                                 description="Run a private Dovecot until "
                                 "interrupted.")
    ap.add_argument("--dir", help="directory for the instance (kept); "
                    "default: a fresh temporary one, removed at exit")
    ap.add_argument("--demo", action="store_true",
                    help="seed sample mail for alice (%s)" % ", ".join(
                        "%s: %d" % f for f in DEMO_FOLDERS))
    ap.add_argument("--seed-count", type=int, default=0,
                    help="seed N messages into alice's INBOX")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--plaintext-auth", action="store_true")
    ap.add_argument("--rawlog", action="store_true")
    ap.add_argument("--zlib", action="store_true")
    ap.add_argument("--account", default="alice")
    ap.add_argument("--config-out", help="write a petrel config here "
                    "(default: DIR/petrel/demo/config/petrel/config)")
    ap.add_argument("--env-file", help="write shell variables here once "
                    "ready (PETREL_CONFIG, XDG_CACHE_HOME, ports, ...)")
    a = ap.parse_args(argv)

    d = Dovecot(dir=a.dir, plaintext_auth=a.plaintext_auth,
                rawlog=a.rawlog, zlib=a.zlib, keep=a.dir is not None)
    d.start()
    t0 = time.monotonic()
    total = 0
    if a.demo:
        for i, (folder, n) in enumerate(DEMO_FOLDERS):
            d.seed(a.account, folder, n, seed=a.seed + i, manifest=False)
            total += n
    if a.seed_count:
        d.seed(a.account, "INBOX", a.seed_count, seed=a.seed + 100,
               manifest=False)
        total += a.seed_count
    seeded = time.monotonic() - t0
    h = d.petrel_home("demo")
    cfg = d.write_petrel_config(a.config_out, account=a.account,
                                home="demo")
    env = {"PETREL_CONFIG": cfg, "XDG_CACHE_HOME": h["cache"],
           "XDG_CONFIG_HOME": h["config"], "PETREL_DOVECOT_DIR": d.dir,
           "PETREL_DOVECOT_CONF": d.conf, "PETREL_IMAPS_PORT": d.imaps_port,
           "PETREL_IMAP_PORT": d.imap_port, "PETREL_POP3S_PORT": d.pop3s_port,
           "PETREL_POP3_PORT": d.pop3_port, "PETREL_CA_FILE": d.ca_file}
    print("Private Dovecot running in %s (pid %d)" % (d.dir, d.proc.pid))
    print("  IMAPS 127.0.0.1:%d  IMAP+STARTTLS :%d  POP3S :%d  POP3+STLS :%d"
          % (d.imaps_port, d.imap_port, d.pop3s_port, d.pop3_port))
    print("  users: " + ", ".join("%s/%s" % kv for kv in d.users.items()))
    if total:
        print("  seeded %d messages in %.1f s" % (total, seeded))
    print("petrel config (%s):" % cfg)
    with open(cfg) as f:
        sys.stdout.write("".join("  " + l for l in f))
    print("environment:")
    for k, v in env.items():
        print("  export %s=%s" % (k, shlex.quote(str(v))))
    if a.env_file:
        tmp = a.env_file + ".tmp"
        with open(tmp, "w") as f:
            for k, v in env.items():
                f.write("%s=%s\n" % (k, shlex.quote(str(v))))
        os.replace(tmp, a.env_file)
    print("Ready; Ctrl-C or SIGTERM stops it.", flush=True)

    stop = []
    signal.signal(signal.SIGTERM, lambda s, f: stop.append(s))
    signal.signal(signal.SIGINT, lambda s, f: stop.append(s))
    while not stop and d.running:
        time.sleep(0.5)
    died = not stop
    if died:
        print("dovecot exited:\n" + d._tail_errors(), file=sys.stderr)
    d.stop()
    d.cleanup()
    return 1 if died else 0


def main(argv):
    if len(argv) >= 1 and argv[0] == "serve":
        return _serve(argv[1:])
    sys.stderr.write("usage: harness.py serve [--demo] [--dir DIR] "
                     "[--env-file FILE] ...\n")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
