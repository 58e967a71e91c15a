"""Progress bars for long work on a terminal (tqdm), drawn however the terminal reports its size.

tqdm sizes its bar from the terminal; a terminal that reports no size (some emulators, `script`, a
terminal multiplexer starting up) made it draw nothing (it took the bar for one below a screen of
-1 rows), and a two-minute build showed nothing at all. Every bar in Verbatim comes from here, with
a size that falls back to 80 x 24, and only when asked for. Asked for with standard error not a
terminal (a log file, a CI job), a long piece of work prints a plain line at its start and every
quarter instead, so a build of thousands of statements is never silent for minutes.
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")


def _size() -> tuple[int, int]:
    size = shutil.get_terminal_size(fallback=(80, 24))
    return size.columns or 80, size.lines or 24


PLAIN_FROM = 500
"""Items from which work shows plain progress lines when standard error is not a terminal."""


class PlainProgress:
    """The part of tqdm's interface Verbatim uses, as a few whole lines for a log."""

    def __init__(self, total: int, desc: str, unit: str) -> None:
        self.total, self.desc, self.unit, self.done, self._next = total, desc, unit, 0, 0.25
        self._start = time.monotonic()
        print(f"verbatim: {desc}: {total:,} {unit}s", file=sys.stderr, flush=True)

    def update(self, n: int = 1) -> None:
        self.done += n
        while self.total and self.done / self.total >= self._next and self._next < 1:
            elapsed = time.monotonic() - self._start
            print(f"verbatim: {self.desc}: {self._next:.0%} ({elapsed:.0f} s)", file=sys.stderr, flush=True)
            self._next += 0.25

    def write(self, text: str, file: Any = None) -> None:
        print(text, file=file or sys.stdout)

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def bar(total: int, desc: str, unit: str, *, enabled: bool) -> Any:
    """A bar to update by hand (`with bar(...) as b: b.update(n)`); a silent one when not enabled,
    plain lines when enabled for long work but standard error is not a terminal."""
    from tqdm import tqdm

    if enabled and not sys.stderr.isatty():
        if total >= PLAIN_FROM:
            return PlainProgress(total, desc, unit)
        enabled = False
    columns, lines = _size()
    return tqdm(total=total, desc=desc, unit=unit, disable=not enabled, leave=False, ncols=columns, nrows=lines)


def over(items: Iterable[T], total: int, desc: str, unit: str, *, enabled: bool) -> Iterator[T]:
    """The items, with a bar while they are worked through."""
    with bar(total, desc, unit, enabled=enabled) as b:
        for item in items:
            yield item
            b.update(1)
