"""Progress of a long operator task (an export, a rebuild): a bar with its rate and the time left
redrawn in place on a terminal, else a log-friendly line every few seconds."""

from __future__ import annotations

import logging
import math
import sys
import time
from collections.abc import Callable
from typing import Protocol


class Progress(Protocol):
    def __call__(self, done: int, total: int) -> None: ...


def reporter(
    say: Callable[[str], None],
    *,
    tty: bool,
    what: str = "export",
    unit: str = "events",
    every_s: float = 5.0,
) -> Progress:
    """`say` is given `\\r`-led redraws on a terminal (`tty`), else a line every `every_s`
    seconds and at the end; `what` names the task in those lines, `unit` what it counts."""
    started = time.monotonic()
    shown = [-math.inf]  # the first call always says something

    def report(done: int, total: int) -> None:
        now = time.monotonic()
        rate = done / max(now - started, 1e-9)
        share = done / total if total else 1.0
        left = f"{(total - done) / rate:,.0f} s left" if rate > 0 and done < total else "done"
        if tty:
            bar = "#" * int(share * 30)
            say(f"\r{what} [{bar:<30}] {share:6.1%} {done:,}/{total:,} {unit} {rate:,.0f}/s, "
                f"{left}   ")
        elif now - shown[0] >= every_s or done >= total:
            shown[0] = now
            say(f"{what}: {done:,} of {total:,} {unit} ({share:.1%}), {rate:,.0f} {unit}/s, "
                f"{left}")

    return report


Bar = tuple[Progress, Callable[[], None]]
"""A reporter, and what ends it (on a terminal, the bar's last newline)."""


def on_stderr(what: str, log: logging.Logger, unit: str = "events") -> Bar:
    """A reporter drawing on standard error when it is a terminal, else writing to `log`."""
    tty = sys.stderr.isatty()

    def say(text: str) -> None:
        if tty:
            sys.stderr.write(text)
            sys.stderr.flush()
        else:
            log.info("%s", text)

    def end() -> None:
        if tty:
            sys.stderr.write("\n")

    return reporter(say, tty=tty, what=what, unit=unit), end
