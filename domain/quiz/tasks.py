"""The tasks of a game: their kinds, their validation, and what players are shown of them.

A task is stored as a plain dict (it travels inside events):

    {"id", "kind", "text", "image", "time_limit_s", "points",
     "options": [{"text", "image", "correct"}],          # single, multiple, true_false, order, poll
     "accepted": [str], "case_sensitive": bool,           # type_answer
     "slider": {"min", "max", "answer", "tolerance"}}     # slider

For `order`, `options` are listed in the right order; players see them shuffled (`presented`).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping
from typing import Any

from domain.quiz.errors import InvalidTask

SINGLE, MULTIPLE, TRUE_FALSE = "single", "multiple", "true_false"
TYPE_ANSWER, SLIDER, ORDER, POLL = "type_answer", "slider", "order", "poll"
KINDS = (SINGLE, MULTIPLE, TRUE_FALSE, TYPE_ANSWER, SLIDER, ORDER, POLL)
WITH_OPTIONS = (SINGLE, MULTIPLE, TRUE_FALSE, ORDER, POLL)
POINTS = (0, 1000, 2000)
MIN_LIMIT_S, MAX_LIMIT_S = 5, 240
MAX_TEXT = 500
MAX_OPTION_TEXT = 120
MAX_OPTIONS = 6
MAX_ACCEPTED = 10
MAX_TASKS = 100
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def check_image(image: Any, what: str) -> str | None:
    if image is None:
        return None
    if not isinstance(image, str) or not _SHA256.match(image):
        raise InvalidTask(f"{what} is an image id (64 hex digits) or null")
    return image


def _text(value: Any, what: str, limit: int, *, empty: bool = False) -> str:
    if not isinstance(value, str):
        raise InvalidTask(f"{what} is a string")
    value = value.strip()
    if not empty and not value:
        raise InvalidTask(f"{what} may not be empty")
    if len(value) > limit:
        raise InvalidTask(f"{what} has at most {limit} characters")
    return value


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidTask(f"{what} is a finite number")
    return float(value)


def validate_task(raw: Mapping[str, Any], task_id: str) -> dict[str, Any]:
    """A task as stored, from what an editor sent; raises `InvalidTask` naming the problem."""
    kind = raw.get("kind")
    if kind not in KINDS:
        raise InvalidTask(f"kind is one of {', '.join(KINDS)}")
    limit = raw.get("time_limit_s", 20)
    if isinstance(limit, bool) or not isinstance(limit, int):
        raise InvalidTask("time_limit_s is an integer")
    if not MIN_LIMIT_S <= limit <= MAX_LIMIT_S:
        raise InvalidTask(f"time_limit_s is between {MIN_LIMIT_S} and {MAX_LIMIT_S}")
    points = 0 if kind == POLL else raw.get("points", 1000)
    if points not in POINTS or isinstance(points, bool):
        raise InvalidTask("points is 0, 1000 (standard) or 2000 (double)")
    task: dict[str, Any] = {
        "id": task_id,
        "kind": kind,
        "text": _text(raw.get("text"), "text", MAX_TEXT),
        "image": check_image(raw.get("image"), "image"),
        "time_limit_s": limit,
        "points": points,
        "options": [],
        "accepted": [],
        "case_sensitive": bool(raw.get("case_sensitive", False)),
        "slider": None,
    }
    if kind in WITH_OPTIONS:
        task["options"] = _options(kind, raw.get("options"))
    elif kind == TYPE_ANSWER:
        task["accepted"] = _accepted(raw.get("accepted"))
    else:
        task["slider"] = _slider(raw.get("slider"))
    return task


def _options(kind: str, raw: Any) -> list[dict[str, Any]]:
    if kind == TRUE_FALSE:
        truth = raw if isinstance(raw, bool) else None
        if truth is None and isinstance(raw, list) and len(raw) == 2:
            flags = [isinstance(o, Mapping) and o.get("correct") is True for o in raw]
            truth = flags == [True, False]
            if flags not in ([True, False], [False, True]):
                raise InvalidTask("true/false has exactly one right option")
        if truth is None:
            raise InvalidTask("true/false options: [{'text': 'True', ...}, {'text': 'False'}]")
        return [
            {"text": "True", "image": None, "correct": truth},
            {"text": "False", "image": None, "correct": not truth},
        ]
    if not isinstance(raw, list) or not 2 <= len(raw) <= MAX_OPTIONS:
        raise InvalidTask(f"a {kind} task has 2 to {MAX_OPTIONS} options")
    options = []
    for index, option in enumerate(raw):
        if not isinstance(option, Mapping):
            raise InvalidTask(f"options[{index}] is an object")
        options.append(
            {
                "text": _text(option.get("text", ""), f"options[{index}].text", MAX_OPTION_TEXT,
                              empty=option.get("image") is not None),
                "image": check_image(option.get("image"), f"options[{index}].image"),
                "correct": kind in (SINGLE, MULTIPLE) and option.get("correct") is True,
            }
        )
    right = sum(1 for option in options if option["correct"] is True)
    if kind == SINGLE and right != 1:
        raise InvalidTask("a single-choice task has exactly one right option")
    if kind == MULTIPLE and right < 1:
        raise InvalidTask("a multiple-choice task has at least one right option")
    return options


def _accepted(raw: Any) -> list[str]:
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_ACCEPTED:
        raise InvalidTask(f"a type-the-answer task has 1 to {MAX_ACCEPTED} accepted answers")
    return [_text(answer, f"accepted[{i}]", MAX_OPTION_TEXT) for i, answer in enumerate(raw)]


def _slider(raw: Any) -> dict[str, float]:
    if not isinstance(raw, Mapping):
        raise InvalidTask("a slider task has slider: {min, max, answer, tolerance}")
    low, high = _number(raw.get("min"), "slider.min"), _number(raw.get("max"), "slider.max")
    answer = _number(raw.get("answer"), "slider.answer")
    tolerance = _number(raw.get("tolerance", 0), "slider.tolerance")
    if not low < high or not low <= answer <= high or not 0 <= tolerance <= high - low:
        raise InvalidTask("slider: min < max, answer within them, 0 <= tolerance <= max - min")
    return {"min": low, "max": high, "answer": answer, "tolerance": tolerance}


def images_of(task: Mapping[str, Any]) -> set[str]:
    found = {option["image"] for option in task.get("options", ()) if option.get("image")}
    if task.get("image"):
        found.add(task["image"])
    return found


def presented(task: Mapping[str, Any]) -> list[int]:
    """The order in which players see the options: as listed, but shuffled for `order` tasks
    (deterministically, from the task's id, so every node and every replay shows the same)."""
    count = len(task.get("options", ()))
    if task["kind"] != ORDER:
        return list(range(count))
    keyed = sorted(
        range(count), key=lambda i: hashlib.sha256(f"{task['id']}:{i}".encode()).digest()
    )
    if keyed == list(range(count)) and count > 1:  # never shown already in order
        keyed = keyed[1:] + keyed[:1]
    return keyed


def public_view(task: Mapping[str, Any], index: int, count: int) -> dict[str, Any]:
    """What a player is shown of a task: no right answers."""
    view: dict[str, Any] = {
        "index": index,
        "count": count,
        "id": task["id"],
        "kind": task["kind"],
        "text": task["text"],
        "image": task["image"],
        "time_limit_s": task["time_limit_s"],
        "points": task["points"],
    }
    options = task.get("options") or []
    if options:
        view["options"] = [
            {"id": i, "text": options[i]["text"], "image": options[i]["image"]}
            for i in presented(task)
        ]
    if task["kind"] == "slider":
        slider = task["slider"]
        view["slider"] = {"min": slider["min"], "max": slider["max"]}
    return view


def solution(task: Mapping[str, Any]) -> Any:
    """The right answer, as revealed when the task closes."""
    match task["kind"]:
        case "single" | "true_false":
            return next(i for i, o in enumerate(task["options"]) if o["correct"])
        case "multiple":
            return [i for i, o in enumerate(task["options"]) if o["correct"]]
        case "order":
            return list(range(len(task["options"])))
        case "type_answer":
            return task["accepted"]
        case "slider":
            return task["slider"]["answer"]
    return None
