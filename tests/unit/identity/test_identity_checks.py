import base64
import json
import time
from uuid import uuid4

import jwt
import nats.errors
import pytest

from api.auth import Gate
from api.errors import ApiError
from domain.account import Account, LastIdentity, UnknownRole
from infra.identity.telegram import TelegramAuthError, verify_init_data, verify_login_widget
from infra.identity.tickets import UsedTickets
from infra.identity.tokens import TICKET, InvalidToken, SigningKeys, TokenIssuer
from infra.ratelimit import Limiter, RateLimited
from tests.factories import T0
from tests.support.api import identity_parts, unit_settings
from tests.support.fakes import InMemoryKeyValue
from tests.support.signing import BOT_TOKEN, telegram_init_data, telegram_widget

SECRET = base64.urlsafe_b64encode(b"k" * 32).decode()
OTHER = base64.urlsafe_b64encode(b"o" * 32).decode()


def an_issuer(spec: str = f"k1:{SECRET}") -> TokenIssuer:
    return TokenIssuer(SigningKeys.parse(spec))


def a_token(issuer: TokenIssuer, **kwargs) -> str:
    return issuer.issue(account_id=uuid4(), roles=["admin"], session_id=uuid4(),
                        now=int(time.time()), **kwargs)


# -- accounts --------------------------------------------------------------------------------


def an_account() -> Account:
    return Account.register(account_id=uuid4(), provider="google", subject="g1",
                            display_name="  Ann   Example ", now=T0)


def test_a_registered_account_has_its_identity_and_a_clean_name():
    account = an_account()
    assert account.identities == ["google:g1"] and account.display_name == "Ann Example"


def test_the_last_identity_cannot_be_unlinked():
    account = an_account()
    with pytest.raises(LastIdentity):
        account.unlink(provider="google", subject="g1", now=T0)
    account.link(provider="telegram", subject="7", now=T0)
    account.unlink(provider="google", subject="g1", now=T0)
    assert account.identities == ["telegram:7"]


def test_only_known_roles_are_granted():
    account = an_account()
    with pytest.raises(UnknownRole):
        account.grant(role="emperor", by="x", now=T0)
    account.grant(role="admin", by="x", now=T0)
    account.grant(role="admin", by="x", now=T0)
    assert account.roles == ["admin"] and account.version == 2


# -- access tokens ---------------------------------------------------------------------------


def test_an_access_token_verifies_with_its_claims():
    issuer = an_issuer()
    account_id, session_id = uuid4(), uuid4()
    token = issuer.issue(account_id=account_id, roles=["admin"], session_id=session_id,
                         now=int(time.time()))
    claims = issuer.verify(token)
    assert (claims.account_id, claims.session_id, claims.is_admin) == (account_id, session_id, True)


def test_an_expired_token_is_refused():
    issuer = an_issuer()
    token = issuer.issue(account_id=uuid4(), roles=[], session_id=uuid4(), now=int(time.time()) - 901)
    with pytest.raises(InvalidToken):
        issuer.verify(token)


def test_a_tampered_token_is_refused():
    issuer = an_issuer()
    header, _, signature = a_token(issuer).split(".")
    claims = jwt.decode(a_token(issuer), options={"verify_signature": False})
    claims["roles"] = ["admin", "god"]
    forged_payload = base64.urlsafe_b64encode(
        json.dumps(claims).encode()
    ).decode().rstrip("=")
    with pytest.raises(InvalidToken):
        issuer.verify(f"{header}.{forged_payload}.{signature}")


def test_alg_none_is_refused():
    claims = jwt.decode(a_token(an_issuer()), options={"verify_signature": False})
    unsigned = jwt.encode(claims, None, algorithm="none", headers={"kid": "k1"})
    with pytest.raises(InvalidToken):
        an_issuer().verify(unsigned)


def test_a_token_signed_with_another_secret_is_refused():
    claims = jwt.decode(a_token(an_issuer()), options={"verify_signature": False})
    forged = jwt.encode(claims, b"o" * 32, algorithm="HS256", headers={"kid": "k1"})
    with pytest.raises(InvalidToken):
        an_issuer().verify(forged)


def test_keys_rotate_by_kid():
    old = an_issuer(f"k1:{SECRET}")
    rotated = an_issuer(f"k2:{OTHER},k1:{SECRET}")
    retired = an_issuer(f"k2:{OTHER}")
    token = a_token(old)
    assert rotated.verify(token)
    assert jwt.get_unverified_header(a_token(rotated))["kid"] == "k2"
    with pytest.raises(InvalidToken):
        retired.verify(token)


def test_a_websocket_ticket_is_not_an_access_token_and_back():
    issuer = an_issuer()
    with pytest.raises(InvalidToken):
        issuer.verify(a_token(issuer, kind=TICKET))
    with pytest.raises(InvalidToken):
        issuer.verify(a_token(issuer), kind=TICKET)


def a_gate(tickets) -> Gate:
    settings = unit_settings()
    gate = identity_parts(settings).gate
    return Gate(settings, gate.issuer, gate.revocations, gate.account_limiter, tickets)


async def test_a_websocket_ticket_is_taken_once():
    gate = a_gate(UsedTickets(InMemoryKeyValue("tickets")))
    ticket = a_token(gate.issuer, kind=TICKET)
    assert (await gate.actor_from_ticket(ticket)).is_admin
    with pytest.raises(ApiError) as again:
        await gate.actor_from_ticket(ticket)
    assert again.value.code == "ticket_used"


class Unreachable:
    """The tickets bucket while NATS does not answer."""

    async def create(self, key: str, value: bytes) -> int:
        raise nats.errors.TimeoutError


async def test_a_websocket_ticket_is_refused_while_nobody_can_say_whether_it_was_used():
    gate = a_gate(UsedTickets(Unreachable()))
    with pytest.raises(ApiError) as refused:
        await gate.actor_from_ticket(a_token(gate.issuer, kind=TICKET))
    assert refused.value.code == "unavailable"


def test_short_signing_keys_are_refused():
    with pytest.raises(ValueError):
        SigningKeys.parse("k1:" + base64.urlsafe_b64encode(b"short").decode())


# -- Telegram --------------------------------------------------------------------------------


def test_mini_app_init_data_signed_with_the_bot_token_is_accepted():
    user = verify_init_data(telegram_init_data(42, name="Tele"), BOT_TOKEN, max_age_s=60,
                            now=int(time.time()))
    assert (user.id, user.display_name) == (42, "Tele")


def test_tampered_init_data_is_refused():
    data = telegram_init_data(42).replace("42", "43")
    with pytest.raises(TelegramAuthError):
        verify_init_data(data, BOT_TOKEN, max_age_s=60, now=int(time.time()))


def test_init_data_signed_for_another_bot_is_refused():
    data = telegram_init_data(42, bot_token="999:other")
    with pytest.raises(TelegramAuthError):
        verify_init_data(data, BOT_TOKEN, max_age_s=60, now=int(time.time()))


def test_stale_init_data_is_refused():
    data = telegram_init_data(42, auth_date=int(time.time()) - 3600)
    with pytest.raises(TelegramAuthError):
        verify_init_data(data, BOT_TOKEN, max_age_s=600, now=int(time.time()))


def test_the_login_widget_hash_uses_the_sha256_of_the_token():
    fields = telegram_widget(5)
    assert verify_login_widget(fields, BOT_TOKEN, max_age_s=60, now=int(time.time())).id == 5
    with pytest.raises(TelegramAuthError):
        verify_login_widget(fields | {"first_name": "Mallory"}, BOT_TOKEN, max_age_s=60,
                            now=int(time.time()))


# -- rate limits -----------------------------------------------------------------------------


def test_a_bucket_trips_then_recovers():
    now = [0.0]
    limiter = Limiter(2.0, 3, clock=lambda: now[0])
    for _ in range(3):
        limiter.take("ann")
    with pytest.raises(RateLimited) as limited:
        limiter.take("ann")
    assert limited.value.wait_ms == 501
    limiter.take("bob")  # others are unaffected
    now[0] = 0.5
    limiter.take("ann")
