"""Every button, view and form the bot defines inherits the guarded bases, so no callback can skip
the error handler, and every custom_id round-trips through its typed value."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import discord
import pytest

import bot
from bot import ids
from bot.interactions import Guarded, GuardedModal, GuardedView


def _bot_classes() -> list[type]:
    found = []
    for info in pkgutil.walk_packages(bot.__path__, prefix="bot."):
        module = importlib.import_module(info.name)
        found += [c for _, c in inspect.getmembers(module, inspect.isclass) if c.__module__ == module.__name__]
    return found


def test_every_item_view_and_form_is_guarded() -> None:
    classes = _bot_classes()
    items = [c for c in classes if issubclass(c, discord.ui.DynamicItem)]
    views = [c for c in classes if issubclass(c, discord.ui.View)]
    modals = [c for c in classes if issubclass(c, discord.ui.Modal)]
    assert len(items) >= 5 and views and modals, "the walk finds the bot's components"
    for item in items:
        assert issubclass(item, Guarded) and item.__mro__.index(Guarded) < item.__mro__.index(discord.ui.DynamicItem)
        assert "callback" not in vars(item), f"{item.__name__} does its work in act(), not callback()"
    assert all(issubclass(v, GuardedView) for v in views), views
    assert all(issubclass(m, GuardedModal) for m in modals), modals


def test_no_view_is_built_outside_the_guarded_base() -> None:
    for info in pkgutil.walk_packages(bot.__path__, prefix="bot."):
        source = inspect.getsource(importlib.import_module(info.name))
        assert not re.search(r"discord\.ui\.View\(", source), f"{info.name} builds a plain View"


@pytest.mark.parametrize(
    "value",
    [
        ids.FullText("001_9a301a089a780dac", 12),
        ids.Page(ids.Direction.NEXT, 123456789012345678, 3, ""),
        ids.Page(ids.Direction.PREVIOUS, 5, 0, ids.doc_ref("x" * 90)),
        ids.Download("ungd77_ALB_2022"),
        ids.Vote(ids.Verdict.WRONG_DECLINE, "0123456789abcdef"),
        ids.TimelinePage(ids.Direction.NEXT, 42, 7, "fedcba9876543210"),
    ],
)
def test_every_custom_id_round_trips_and_fits(value: object) -> None:
    encoded = value.encode()  # type: ignore[attr-defined]
    assert len(encoded) <= 100
    matches = [kind for kind in ids.CUSTOM_IDS if re.fullmatch(kind.PATTERN, encoded)]
    assert matches == [type(value)], "exactly one kind of button claims an id"
    match = re.fullmatch(type(value).PATTERN, encoded)  # type: ignore[attr-defined]
    assert match is not None and type(value).decode(match) == value  # type: ignore[attr-defined]
