"""Progress bars for long work on a terminal (tqdm), drawn however the terminal reports its size.

tqdm sizes its bar from the terminal; a terminal that reports no size (some emulators, `script`, a
terminal multiplexer starting up) made it draw nothing (it took the bar for one below a screen of
-1 rows), and a two-minute build showed nothing at all. Every bar in Verbatim comes from here, with
a size that falls back to 80 x 24, and only when asked for (the callers pass whether standard error
is a terminal).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")


def _size() -> tuple[int, int]:
    size = shutil.get_terminal_size(fallback=(80, 24))
    return size.columns or 80, size.lines or 24


def bar(total: int, desc: str, unit: str, *, enabled: bool) -> Any:
    """A bar to update by hand (`with bar(...) as b: b.update(n)`); a silent one when not enabled."""
    from tqdm import tqdm

    columns, lines = _size()
    return tqdm(total=total, desc=desc, unit=unit, disable=not enabled, leave=False, ncols=columns, nrows=lines)


def over(items: Iterable[T], total: int, desc: str, unit: str, *, enabled: bool) -> Iterator[T]:
    """The items, with a bar while they are worked through."""
    with bar(total, desc, unit, enabled=enabled) as b:
        for item in items:
            yield item
            b.update(1)
