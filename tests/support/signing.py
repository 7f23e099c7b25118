"""Stand-ins that speak the real protocols: a Google-style JWKS on loopback, Telegram signatures."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlencode

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

CLIENT_ID = "tessera-test.apps.googleusercontent.com"
BOT_TOKEN = "123456:TEST-bot-token-abcdefghijklmnopqrstuv"


class GoogleStandIn:
    """Google's role in sign-in: an RSA key, its JWKS on a loopback URL, and ID tokens."""

    def __init__(self, kid: str = "test-key-1") -> None:
        self.kid = kid
        self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.fetches = 0
        self.failing = False
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                stand_in.fetches += 1
                if stand_in.failing:
                    self.send_response(503)
                    self.end_headers()
                    return
                body = json.dumps(stand_in.jwks()).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Cache-Control", "public, max-age=3600")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/oauth2/v3/certs"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def jwks(self) -> dict[str, Any]:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private_key.public_key()))
        public |= {"kid": self.kid, "use": "sig", "alg": "RS256"}
        return {"keys": [public]}

    def id_token(self, *, kid: str | None = None, **overrides: Any) -> str:
        now = int(time.time())
        claims = {
            "iss": "https://accounts.google.com",
            "aud": CLIENT_ID,
            "sub": "1098765432101234567890",
            "email": "ann@example.com",
            "email_verified": True,
            "name": "Ann Example",
            "iat": now,
            "exp": now + 3600,
        } | overrides
        return jwt.encode(claims, self.private_key, algorithm="RS256",
                          headers={"kid": kid or self.kid})

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def telegram_init_data(user_id: int = 777, *, auth_date: int | None = None,
                       bot_token: str = BOT_TOKEN, name: str = "Tele") -> str:
    fields = {
        "query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
        "user": json.dumps({"id": user_id, "first_name": name, "username": "tele"},
                           separators=(",", ":")),
        "auth_date": str(auth_date if auth_date is not None else int(time.time())),
    }
    data_check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    key = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(key, data_check.encode(), hashlib.sha256).hexdigest()
    return urlencode(fields)


def telegram_widget(user_id: int = 778, *, auth_date: int | None = None,
                    bot_token: str = BOT_TOKEN) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "id": user_id, "first_name": "Widget", "username": "widgeter",
        "auth_date": auth_date if auth_date is not None else int(time.time()),
    }
    data_check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    key = hashlib.sha256(bot_token.encode()).digest()
    fields["hash"] = hmac.new(key, data_check.encode(), hashlib.sha256).hexdigest()
    return fields
