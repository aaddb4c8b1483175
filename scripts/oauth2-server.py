#!/usr/bin/env python3
"""A local OAuth2 provider for the test mail stack (scripts/mailstack.sh starts it on loopback).

- POST /token, grant_type=refresh_token, client_id=vdpd-test: the token endpoint vdpd refreshes against.
  A refresh token names its user and the lifetime of the access tokens it buys: "rt:<user>:<seconds>".
  "rt:<user>:<seconds>:rotate" is single-use and answered with a new refresh token, as Microsoft's endpoint
  does. Any other refresh token gets 400 invalid_grant.
- GET /tokeninfo?access_token=T: what Dovecot's oauth2 passdb asks (XOAUTH2 for IMAP, and for SMTP through
  Postfix's Dovecot SASL): 200 {"email": user, "active": "true"} while the token lives, else 401.
- GET /refreshes?user=U: how many times U's tokens were refreshed (for the tests).
"""
import argparse
import json
import os
import secrets
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
ACCESS = {}  # access token -> (user, expiry)
USED = set()  # single-use refresh tokens already used
REFRESHES = {}  # user -> count


class Handler(BaseHTTPRequestHandler):
    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        url = urllib.parse.urlparse(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        form = urllib.parse.parse_qs(self.rfile.read(length).decode())
        get = lambda k: (form.get(k) or [""])[0]
        if url.path != "/token":
            return self.reply(404, {"error": "not_found"})
        if get("grant_type") != "refresh_token" or get("client_id") != "vdpd-test":
            return self.reply(400, {"error": "invalid_request", "error_description": "refresh_token grant for vdpd-test only"})
        token = get("refresh_token")
        parts = token.split(":")
        if len(parts) < 3 or parts[0] != "rt" or not parts[2].isdigit():
            return self.reply(400, {"error": "invalid_grant", "error_description": "AADSTS70008: the refresh token has expired or is invalid"})
        user, lifetime, rotate = parts[1], int(parts[2]), len(parts) > 3 and parts[3] == "rotate"
        with LOCK:
            if rotate and token in USED:
                return self.reply(400, {"error": "invalid_grant", "error_description": "the refresh token was already used"})
            access = "at-" + secrets.token_hex(16)
            ACCESS[access] = (user, time.time() + lifetime)
            REFRESHES[user] = REFRESHES.get(user, 0) + 1
            body = {"access_token": access, "token_type": "Bearer", "expires_in": lifetime}
            if rotate:
                USED.add(token)
                body["refresh_token"] = f"rt:{user}:{lifetime}:rotate:{secrets.token_hex(4)}"
        self.reply(200, body)

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        query = urllib.parse.parse_qs(url.query)
        if url.path == "/tokeninfo":
            token = (query.get("access_token") or [""])[0]
            with LOCK:
                user, expiry = ACCESS.get(token, (None, 0))
            if user is None or expiry < time.time():
                return self.reply(401, {"error": "invalid_token"})
            return self.reply(200, {"email": user, "active": "true"})
        if url.path == "/refreshes":
            user = (query.get("user") or [""])[0]
            with LOCK:
                return self.reply(200, {"refreshes": REFRESHES.get(user, 0)})
        self.reply(404, {"error": "not_found"})

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (time.strftime("%H:%M:%S"), fmt % args))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--pidfile")
    a = p.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    if a.pidfile:
        with open(a.pidfile, "w") as f:
            f.write(str(os.getpid()))
    server.serve_forever()


if __name__ == "__main__":
    main()
