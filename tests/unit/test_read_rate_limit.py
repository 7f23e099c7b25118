"""Reads under /api/ take a token of their IP's read bucket (TESSERA_RATE_READ_IP_PER_S /
_BURST), apart from the commands' bucket; pages and static files take none."""

from infra.settings import load
from tests.support.api import JWT_KEYS, a_node, http_to, identity_parts
from tests.support.settings import overridden


def settings_from(environment: dict[str, str]):
    """The settings as a deployment sets them, with a fixed signing key and dev headers."""
    return overridden(load(environment), dev_auth=True, identity={"jwt_keys": JWT_KEYS})


def serve(settings):
    return http_to(settings, a_node(identity=identity_parts(settings)))


async def test_reads_beyond_the_read_burst_are_429_with_a_wait():
    settings = settings_from({"TESSERA_RATE_READ_IP_PER_S": "1", "TESSERA_RATE_READ_IP_BURST": "2"})
    async with serve(settings) as http:
        answers = [await http.get("/api/auth/whoami") for _ in range(3)]
    assert [answer.status_code for answer in answers] == [200, 200, 429]
    assert answers[2].json()["error"] == "rate_limited"
    assert int(answers[2].headers["retry-after"]) >= 1


async def test_reads_and_commands_of_one_ip_have_buckets_of_their_own():
    settings = settings_from({
        "TESSERA_RATE_READ_IP_PER_S": "1", "TESSERA_RATE_READ_IP_BURST": "1",
        "TESSERA_RATE_IP_PER_S": "1", "TESSERA_RATE_IP_BURST": "1",
    })  # fmt: skip
    async with serve(settings) as http:
        read = await http.get("/api/auth/whoami")
        command = await http.post("/api/auth/logout", json={})
        second_read = await http.get("/api/auth/whoami")
    assert (read.status_code, command.status_code != 429, second_read.status_code) == (
        200, True, 429,
    )


async def test_pages_are_not_counted_as_reads():
    settings = settings_from({"TESSERA_RATE_READ_IP_PER_S": "1", "TESSERA_RATE_READ_IP_BURST": "1"})
    async with serve(settings) as http:
        await http.get("/api/auth/whoami")
        page = await http.get("/health")
    assert page.status_code == 200
