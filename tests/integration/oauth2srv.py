"""A local OAuth2 authorization server for the tests (loopback only).

It plays both sides a provider plays:

- the **token introspection** endpoint (RFC 7662) that the private
  Dovecot's `oauth2` passdb asks whether an access token is good
  (POST /introspect token=...: {"active": true, "username": ...});
- the **authorization server** petrel talks to in `petrel auth`:
  GET /authorize (authorization code with PKCE, RFC 7636: the user's
  consent is the test fetching the URL petrel prints, which redirects to
  petrel's loopback redirect, RFC 8252), POST /device (device
  authorization, RFC 8628; the test approves the user code), and
  POST /token (authorization_code, refresh_token and device_code grants).

Tokens are random; each access token has a lifetime (expires_in), and
every request is kept in `requests` so tests can check what petrel sent.
"""

import base64
import hashlib
import http.server
import json
import secrets
import threading
import time
import urllib.parse


class OAuth2Server:
    def __init__(self, users=("alice",), access_ttl=3600, client_id="petrel-test"):
        self.users = set(users)
        self.access_ttl = access_ttl
        self.client_id = client_id
        self.access = {}        # token -> (user, expiry)
        self.refresh = {}       # refresh token -> user
        self.codes = {}         # code -> (user, challenge, redirect_uri)
        self.devices = {}       # device_code -> {"user_code", "user", "ok"}
        self.requests = []      # (path, dict of form fields)
        self.fail_token = None  # a JSON error body /token answers with
        self.lock = threading.Lock()
        srv = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def _reply(self, code, body, headers=None):
                data = json.dumps(body).encode() if not isinstance(body, bytes) else body
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                u = urllib.parse.urlsplit(self.path)
                q = dict(urllib.parse.parse_qsl(u.query))
                with srv.lock:
                    srv.requests.append((u.path, q))
                if u.path == "/authorize":
                    return srv._authorize(self, q)
                self._reply(404, {"error": "not_found"})

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n).decode()
                f = dict(urllib.parse.parse_qsl(body))
                u = urllib.parse.urlsplit(self.path)
                with srv.lock:
                    srv.requests.append((u.path, f))
                if u.path == "/introspect":
                    return self._reply(200, srv._introspect(f.get("token", "")))
                if u.path == "/token":
                    code, out = srv._token(f)
                    return self._reply(code, out)
                if u.path == "/device":
                    return self._reply(200, srv._device(f, self))
                self._reply(404, {"error": "not_found"})

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.base = "http://127.0.0.1:%d" % self.port
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

    # ---- tokens ------------------------------------------------------------

    def issue(self, user="alice", ttl=None):
        """A fresh access token for user (what a provider would hand out)."""
        t = secrets.token_urlsafe(24)
        with self.lock:
            self.access[t] = (user, time.time() + (ttl if ttl is not None
                                                   else self.access_ttl))
        return t

    def revoke_all(self):
        with self.lock:
            self.access.clear()

    def _introspect(self, token):
        with self.lock:
            v = self.access.get(token)
        if v is None or v[1] < time.time():
            return {"active": False}
        return {"active": True, "username": v[0]}

    def _grant(self, user):
        access = self.issue(user)
        refresh = secrets.token_urlsafe(24)
        with self.lock:
            self.refresh[refresh] = user
        return {"access_token": access, "token_type": "Bearer",
                "expires_in": self.access_ttl, "refresh_token": refresh,
                "scope": "mail"}

    # ---- the authorization server -------------------------------------------

    def _authorize(self, h, q):
        if q.get("client_id") != self.client_id or q.get("response_type") != "code":
            return h._reply(400, {"error": "invalid_request"})
        if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            return h._reply(400, {"error": "invalid_request",
                                  "error_description": "PKCE S256 required"})
        redirect = q.get("redirect_uri", "")
        ru = urllib.parse.urlsplit(redirect)
        if ru.scheme != "http" or ru.hostname not in ("127.0.0.1", "::1", "localhost"):
            return h._reply(400, {"error": "invalid_request",
                                  "error_description": "loopback redirect only"})
        user = q.get("login_hint") or "alice"
        code = secrets.token_urlsafe(16)
        with self.lock:
            self.codes[code] = (user, q["code_challenge"], redirect)
        loc = redirect + ("&" if "?" in redirect else "?") + urllib.parse.urlencode(
            {"code": code, "state": q.get("state", "")})
        h.send_response(302)
        h.send_header("Location", loc)
        h.send_header("Content-Length", "0")
        h.end_headers()

    def _device(self, f, h):
        dc = secrets.token_urlsafe(16)
        uc = "%04d-%04d" % (secrets.randbelow(10000), secrets.randbelow(10000))
        with self.lock:
            self.devices[dc] = {"user_code": uc, "user": None}
        return {"device_code": dc, "user_code": uc,
                "verification_uri": self.base + "/device/verify",
                "expires_in": 600, "interval": 1}

    def approve_device(self, user_code, user="alice"):
        with self.lock:
            for d in self.devices.values():
                if d["user_code"] == user_code:
                    d["user"] = user
                    return True
        return False

    def _token(self, f):
        if self.fail_token is not None:
            return 400, self.fail_token
        if f.get("client_id") != self.client_id:
            return 401, {"error": "invalid_client"}
        g = f.get("grant_type")
        if g == "authorization_code":
            with self.lock:
                v = self.codes.pop(f.get("code", ""), None)
            if v is None:
                return 400, {"error": "invalid_grant"}
            user, challenge, redirect = v
            verifier = f.get("code_verifier", "")
            want = base64.urlsafe_b64encode(
                hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if want != challenge or f.get("redirect_uri") != redirect:
                return 400, {"error": "invalid_grant",
                             "error_description": "PKCE verifier mismatch"}
            return 200, self._grant(user)
        if g == "refresh_token":
            with self.lock:
                user = self.refresh.get(f.get("refresh_token", ""))
            if user is None:
                return 400, {"error": "invalid_grant"}
            out = self._grant(user)
            del out["refresh_token"]        # the old one stays good
            return 200, out
        if g == "urn:ietf:params:oauth:grant-type:device_code":
            with self.lock:
                d = self.devices.get(f.get("device_code", ""))
            if d is None:
                return 400, {"error": "expired_token"}
            if d["user"] is None:
                return 400, {"error": "authorization_pending"}
            with self.lock:
                self.devices.pop(f["device_code"], None)
            return 200, self._grant(d["user"])
        return 400, {"error": "unsupported_grant_type"}
