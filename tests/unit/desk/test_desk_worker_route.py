"""The desks' service worker is served from `/desk/sw.js`, allowed the scope `/desk`, and does
not shadow the desk pages."""

from tests.support.clock import ManualClock
from tests.unit.desk.test_desk_api import desk_parts, serve


async def test_the_service_worker_is_javascript_allowed_the_whole_desk_scope():
    async with serve(desk_parts(ManualClock())) as http:
        worker = await http.get("/desk/sw.js")
        page = await http.get("/desk/AAAAAAAAAAAAAAAAAAAAAA")
    assert worker.status_code == 200
    assert worker.headers["service-worker-allowed"] == "/desk"
    assert worker.headers["content-type"].startswith("text/javascript")
    assert "no-cache" in worker.headers["cache-control"]
    assert page.status_code == 200 and "<tessera-header" in page.text
