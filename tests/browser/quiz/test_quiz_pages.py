"""The quiz's web client in headless Chromium: a host screen and three phones play a game to the
podium, a phone reloads mid-task and keeps its score, a stranger cannot load a private image."""

from __future__ import annotations

import asyncio
from uuid import uuid4

from playwright.async_api import Page

from tests.browser.conftest import NOT_LOOPBACK, WAIT_MS, Site
from tests.integration.quiz.images_helpers import png

RIGHT = [1, 0, 2]


def tasks(image: str | None = None) -> list[dict]:
    return [
        {"kind": "single", "text": f"Task {n}", "time_limit_s": 60, "image": image if n == 0 else None,
         "options": [{"text": f"choice {i}", "correct": i == RIGHT[n]} for i in range(4)]}
        for n in range(3)
    ]


async def until_true(page: Page, expression: str) -> None:
    """Polls `expression` in the page until it is true (or fails, showing what it was)."""
    for _ in range(WAIT_MS // 100):
        if await page.evaluate(expression):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{expression} never held: {await page.evaluate(DEBUG)}")


DEBUG = "JSON.stringify([window.quiz, window.quizHost, document.getElementById('problem')?.textContent])"


async def a_page(site: Site, path: str) -> Page:
    context = await site.browser.new_context(viewport={"width": 420, "height": 800})
    context.set_default_timeout(WAIT_MS)
    await context.route(NOT_LOOPBACK, lambda route: route.abort())
    site.contexts.append(context)
    page = await context.new_page()
    page.on("pageerror", lambda error: site.page_errors.append(str(error)))
    await page.goto(f"{site.url}{path}", wait_until="domcontentloaded")
    return page


async def signed_in_host(site: Site) -> tuple[Page, dict]:
    page = await a_page(site, "/quiz/edit")
    await until_true(page, "window.quiz && window.quiz.ready !== null")
    token = site.google.id_token(sub=f"sub-{uuid4().hex}", name="Hosting Hana")
    await page.evaluate("token => window.tessera.signInWithGoogle(token)", token)
    access = await page.evaluate("JSON.parse(localStorage.getItem('tessera.session')).access")
    return page, {"Authorization": f"Bearer {access}"}


async def a_running_session(site: Site, headers: dict, image: str | None = None) -> dict:
    game = await site.http.post("/api/quiz/games", json={"title": "Browser quiz",
                                                          "tasks": tasks(image)}, headers=headers)
    assert game.status_code == 201, game.text
    started = await site.http.post("/api/quiz/sessions", json={"game_id": game.json()["id"]},
                                   headers=headers)
    assert started.status_code == 201, started.text
    return started.json()


async def a_phone(site: Site, code: str, nickname: str) -> Page:
    page = await a_page(site, f"/quiz?code={code}")
    await page.fill("#nickname", nickname)
    await page.click("#join button[type=submit]")
    await until_true(page, "window.quiz.ready === true && window.quiz.phase === 'lobby'")
    return page


async def answer(phone: Page, index: int, option: int) -> None:
    await until_true(phone, f"window.quiz.phase === 'question' && window.quiz.task === {index}")
    await phone.click(f".answers button[data-option='{option}']")


async def test_a_host_and_three_phones_play_a_game_to_the_podium(site: Site):
    host, headers = await signed_in_host(site)
    session = await a_running_session(site, headers)
    await host.goto(f"{site.url}/quiz/host/{session['session_id']}")
    await until_true(host, "window.quizHost && window.quizHost.ready === true")
    assert (await host.text_content("#code")) == session["code"]
    phones = {name: await a_phone(site, session["code"], name) for name in ("Ann", "Bob", "Cat")}
    await until_true(host, "window.quizHost.players.length === 3")
    for index in range(3):
        await host.click("#next")
        for name, phone in phones.items():
            await answer(phone, index, RIGHT[index] if name != "Cat" else (RIGHT[index] + 1) % 4)
        await host.wait_for_selector("#results")
        for name, phone in phones.items():
            await until_true(phone, "window.quiz.phase === 'results'")
            verdict = await phone.text_content("#verdict")
            assert verdict == ("Not this time" if name == "Cat" else "Right!")
    await host.click("#next")
    await host.wait_for_selector("#podium")
    podium = await host.text_content("#podium")
    assert "Ann" in podium and "Bob" in podium and "Cat" in podium
    for name, phone in phones.items():
        await until_true(phone, "window.quiz.phase === 'ended'")
        final = await phone.text_content("#final")
        assert final.startswith("You finished #")
    assert await phones["Cat"].text_content("#final") == "You finished #3"
    await host.screenshot(path="/tmp/quiz-host-podium.png")
    await phones["Ann"].screenshot(path="/tmp/quiz-phone-ended.png")


async def test_a_phone_that_reloads_mid_task_keeps_its_score_and_answers(site: Site):
    host, headers = await signed_in_host(site)
    session = await a_running_session(site, headers)
    await host.goto(f"{site.url}/quiz/host/{session['session_id']}")
    await until_true(host, "window.quizHost && window.quizHost.ready === true")
    ann = await a_phone(site, session["code"], "Ann")
    await host.click("#next")
    await answer(ann, 0, RIGHT[0])
    await until_true(ann, "window.quiz.phase === 'results'")
    score = await ann.evaluate("window.quiz.score")
    assert score > 0
    await host.click("#next")
    await until_true(ann, "window.quiz.phase === 'question' && window.quiz.task === 1")
    await ann.screenshot(path="/tmp/quiz-phone-task.png")
    await ann.reload(wait_until="domcontentloaded")
    await until_true(ann, "window.quiz.ready === true && window.quiz.phase === 'question'")
    assert await ann.evaluate("window.quiz.score") == score
    await ann.click(f".answers button[data-option='{RIGHT[1]}']")
    await until_true(ann, "window.quiz.phase === 'results'")
    assert await ann.evaluate("window.quiz.score") > score


async def test_a_non_participant_cannot_load_a_private_image(site: Site):
    host, headers = await signed_in_host(site)
    uploaded = await site.http.put("/api/quiz/images", content=png((250, 0, 0)),
                                   headers={**headers, "Content-Type": "image/png"})
    sha = uploaded.json()["id"]
    session = await a_running_session(site, headers, image=sha)
    await host.goto(f"{site.url}/quiz/host/{session['session_id']}")
    await until_true(host, "window.quizHost && window.quizHost.ready === true")
    ann = await a_phone(site, session["code"], "Ann")
    await host.click("#next")
    await until_true(ann, "window.quiz.phase === 'question'")
    await until_true(ann, 
        "document.querySelector('.task-image') && document.querySelector('.task-image').src"
        ".startsWith('blob:')")
    stranger = await a_page(site, "/quiz")
    status = await stranger.evaluate(
        "sha => fetch('/api/quiz/images/' + sha).then(r => r.status)", sha)
    assert status == 404
    plain = await stranger.evaluate(
        "sha => fetch('/api/quiz/images/' + sha, {headers: {'X-Quiz-Player': 'guess'}})"
        ".then(r => r.status)", sha)
    assert plain == 404
