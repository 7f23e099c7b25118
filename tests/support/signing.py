"""Stand-ins that speak the real protocols: a Google-style JWKS on loopback, Telegram signatures."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlencode

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.support.logged_secrets import secret
from tests.support.loopback import JsonHandler, LoopbackServer

CLIENT_ID = "tessera-test.apps.googleusercontent.com"
BOT_TOKEN = secret("123456:TEST-bot-token-abcdefghijklmnopqrstuv")


class GoogleStandIn:
    """Google's role in sign-in: an RSA key, its JWKS on a loopback URL, and ID tokens."""

    def __init__(self, kid: str = "test-key-1") -> None:
        self.kid = kid
        self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.fetches = 0
        self.failing = False
        stand_in = self

        class Handler(JsonHandler):
            def do_GET(self) -> None:
                stand_in.fetches += 1
                if stand_in.failing:
                    self.send_response(503)
                    self.end_headers()
                    return
                self.reply_json(200, stand_in.jwks(), {"Cache-Control": "public, max-age=3600"})

        self._server = LoopbackServer(Handler)
        self.url = f"{self._server.url}/oauth2/v3/certs"

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
        return jwt.encode(
            claims, self.private_key, algorithm="RS256", headers={"kid": kid or self.kid}
        )

    def close(self) -> None:
        self._server.close()


def telegram_init_data(
    user_id: int = 777,
    *,
    auth_date: int | None = None,
    bot_token: str = BOT_TOKEN,
    name: str = "Tele",
    username: str = "tele",
) -> str:
    fields = {
        "query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
        "user": json.dumps(
            {"id": user_id, "first_name": name, "username": username}, separators=(",", ":")
        ),
        "auth_date": str(auth_date if auth_date is not None else int(time.time())),
    }
    data_check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    key = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(key, data_check.encode(), hashlib.sha256).hexdigest()
    return urlencode(fields)


def telegram_widget(
    user_id: int = 778, *, auth_date: int | None = None, bot_token: str = BOT_TOKEN
) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "id": user_id,
        "first_name": "Widget",
        "username": "widgeter",
        "auth_date": auth_date if auth_date is not None else int(time.time()),
    }
    data_check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    key = hashlib.sha256(bot_token.encode()).digest()
    fields["hash"] = hmac.new(key, data_check.encode(), hashlib.sha256).hexdigest()
    return fields
