"""PostgreSQL as the shared store, against a real server started in a temporary folder: the same
behaviour as the embedded SQLite file, migrations, writers one at a time, moving an installation
between the two, and a server that goes away and comes back."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from embeddings.answer.conversation import Turn
from embeddings.answer.search import Answer
from embeddings.errors import VerbatimError
from embeddings.postgres import MIGRATIONS, PostgresState, redacted
from embeddings.state import State, StateError, Store
from tests.postgres_server import Server, postgres_server
from tests.test_bot_e2e import settings  # noqa: F401  (fixture)


@pytest.fixture(scope="module")
def pg() -> Iterator[Server]:
    with postgres_server() as server:
        yield server


@pytest.fixture
def pg_url(pg: Server) -> str:
    url = pg.new_database()
    PostgresState(url, check=False).migrate()
    return url


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    if request.param == "sqlite":
        return State(tmp_path / "verbatim.sqlite3")
    return PostgresState(request.getfixturevalue("pg_url"))


def test_migrations_bring_an_empty_database_up_and_a_process_refuses_one_not_migrated(pg: Server) -> None:
    url = pg.new_database()
    with pytest.raises(StateError, match=r"has schema 0, this Verbatim knows \d+: run `verbatim migrate`"):
        PostgresState(url)
    fresh = PostgresState(url, check=False)
    assert fresh.migrate() == (0, len(MIGRATIONS))
    assert fresh.migrate() == (len(MIGRATIONS), len(MIGRATIONS)), "a second migrate changes nothing"
    PostgresState(url).add_watch("g", "c", "cod", "m")  # usable once migrated


def test_both_engines_keep_the_same_things_the_same_way(store: Store) -> None:
    answer_id = store.record_answer(Answer("Hokkaido ICBM", False))
    assert store.vote(answer_id, "m1", "wrong", "off topic", "the right words")
    assert store.vote(answer_id, "m1", "answers"), "a second vote of a member replaces the first"
    assert not store.vote("unknown", "m1", "answers")
    (row,) = store.export()
    assert row["feedback"] == "answers" and row["question"] == "Hokkaido ICBM"
    assert [total for _, _, total in store.weekly()] == [1]
    query = store.remember_query({"topic": "cod"})
    assert store.query(query) == {"topic": "cod"} and store.query("nope") is None
    assert store.add_watch("g", "c", "cod", "m") and not store.add_watch("g", "c", "cod", "m")
    (watch,) = store.watches("g")
    assert store.remove_watch("g", watch.watch_id) and store.watches() == []
    assert store.new_documents({"a": "1"}) == [], "before any watch, the corpus present is not news"
    assert store.new_documents({"a": "1", "b": "2"}) == ["b"] and store.new_documents({"a": "9", "b": "2"}) == ["a"]
    store.keep_turn("thread:1", Turn("q", "Japan"))
    assert store.turn("thread:1", dt.timedelta(minutes=5)) == Turn("q", "Japan")
    assert store.turn("thread:2", dt.timedelta(minutes=5)) is None


def test_votes_cast_at_the_same_moment_are_all_kept(store: Store) -> None:
    answer_id = store.record_answer(Answer("q", False))
    start = threading.Barrier(12)
    errors: list[BaseException] = []

    def vote(member: int) -> None:
        try:
            start.wait(timeout=30)
            store.vote(answer_id, f"m{member}", "answers")
            store.new_documents({f"d{member}": "h"})
        except BaseException as exc:  # reported below, with the others
            errors.append(exc)

    threads = [threading.Thread(target=vote, args=(n,)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors and len(store.export()) == 12
    assert {row[0] for row in store.dump()["seen_documents"]} == {f"d{n}" for n in range(12)}


def test_an_installation_moves_between_the_engines_losing_nothing(tmp_path: Path, pg_url: str) -> None:
    embedded = State(tmp_path / "verbatim.sqlite3")
    answer_id = embedded.record_answer(Answer("q", False))
    embedded.vote(answer_id, "m", "wrong", "c", "e")
    embedded.add_watch("g", "c", "cod", "m")
    embedded.keep_turn("message:5", Turn("q"))
    embedded.remember_query({"a": "b"})
    embedded.new_documents({"x": "1"})
    shared = PostgresState(pg_url)
    added = shared.load(json.loads(json.dumps(embedded.dump())))
    assert added == {"answers": 1, "votes": 1, "watches": 1, "queries": 1, "seen_documents": 1, "conversations": 1}
    assert shared.dump() == embedded.dump()
    assert shared.load(embedded.dump()) == dict.fromkeys(added, 0), "importing twice adds nothing"
    assert shared.add_watch("g", "c2", "tuna", "m"), "new watches get ids after the imported ones"
    back = State(tmp_path / "back.sqlite3")
    back.load(shared.dump())
    assert back.dump() == shared.dump()


def test_a_server_that_goes_away_is_one_clear_error_and_comes_back_without_a_restart(pg: Server, pg_url: str) -> None:
    shared = PostgresState(pg_url)
    shared.add_watch("g", "c", "cod", "m")
    pg.stop()
    try:
        with pytest.raises(StateError, match="cannot be reached"):
            shared.watches()
    finally:
        pg.start()
    assert [w.topic for w in shared.watches()] == ["cod"], "the next call after the restart works"


def test_a_password_never_reaches_a_message() -> None:
    assert redacted("postgresql://verbatim:s3cret@db:5432/v") == "postgresql://verbatim:***@db:5432/v"
    with pytest.raises(StateError) as caught:
        PostgresState("postgresql://verbatim:s3cret@127.0.0.1:1/v")
    assert "s3cret" not in str(caught.value) and "cannot be reached" in str(caught.value)


def test_the_setting_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    from embeddings.settings import load_settings

    with pytest.raises(VerbatimError, match="must start with postgresql://"):
        load_settings({"VERBATIM_DATABASE_URL": "mysql://x"})
    assert load_settings({"VERBATIM_DATABASE_URL": " postgresql://u@h/d "}).database_url == "postgresql://u@h/d"


def test_a_whole_installation_moves_to_postgresql_from_the_command_line(
    tmp_path: Path, pg: Server, run: Any, corpus_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from embeddings.cli import main

    State.beside(tmp_path / "ix").add_watch("g", "c", "cod", "m")
    code, out, _ = run("export", "--out", str(tmp_path / "all.json"))
    assert code == 0 and "6 corpus file(s) (statements and alias list) and 1 state row(s)" in out
    url = pg.new_database()
    monkeypatch.setenv("VERBATIM_DATABASE_URL", url)
    elsewhere = tmp_path / "elsewhere"
    args = ["--corpus", str(elsewhere), "--index", str(tmp_path / "ix2")]
    assert main([*args, "migrate"]) == 0
    assert main([*args, "import", str(tmp_path / "all.json")]) == 0
    assert [w.topic for w in PostgresState(url).watches()] == ["cod"]
    assert sorted(p.name for p in elsewhere.glob("*.txt")) == sorted(p.name for p in corpus_dir.glob("*.txt"))
    assert all((elsewhere / p.name).read_bytes() == p.read_bytes() for p in corpus_dir.glob("*.txt")), "byte for byte"
    (elsewhere / "000_4a0e896c0c50d79f.txt").write_text("changed here")
    assert main([*args, "import", str(tmp_path / "all.json")]) == 1, "a file that differs is reported"
    assert (elsewhere / "000_4a0e896c0c50d79f.txt").read_text() == "changed here", "and never overwritten"


def test_an_export_cannot_write_outside_the_corpus(tmp_path: Path, run: Any) -> None:
    bad = {"format": "verbatim-installation-1", "statements": [{"path": "../evil.txt", "text": "x"}], "state": {}}
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    code, _, err = run("import", str(tmp_path / "bad.json"))
    assert code == 2 and "outside the corpus folder" in err and not (tmp_path / "evil.txt").exists()


async def test_two_bot_processes_share_watches_through_postgresql(
    settings: Any,  # noqa: F811
    tmp_path: Path,
    pg_url: str,
) -> None:
    import dataclasses

    from tests.test_bot_e2e import option, running_bot

    shared = dataclasses.replace(settings.core, database_url=pg_url)
    one = dataclasses.replace(settings, core=shared)
    other = dataclasses.replace(settings, core=dataclasses.replace(shared, index_dir=tmp_path / "other-ix"))
    async with running_bot(one) as fake:
        iid = await fake.slash(
            "watch", [{"name": "add", "type": 1, "options": [option("topic", "cod fisheries")]}], uid="1", admin=True
        )
        assert "Watching" in (await fake.answer_to(iid, 30)).body["data"]["content"]
    async with running_bot(other) as fake:  # another process, its own index folder, the same database
        listing = await fake.slash("watch", [{"name": "list", "type": 1, "options": []}])
        assert "cod fisheries" in (await fake.answer_to(listing, 30)).body["data"]["content"]
    assert not (tmp_path / "other-ix" / "verbatim.sqlite3").exists(), "nothing kept beside the index"


async def test_a_statement_added_on_another_machine_reaches_a_running_bot_and_its_watch(
    settings: Any,  # noqa: F811
    tmp_path: Path,
    pg_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The bot runs with its own corpus folder and index; a moderator adds a statement from a
    laptop (another corpus folder, the same database). The bot hears of it, fetches it, rebuilds,
    and its watch posts the new statement: within the wait, with no restart."""
    import dataclasses

    from embeddings.cli import main
    from tests.fake_discord import CHANNEL_ID
    from tests.test_bot_e2e import option, running_bot

    bot_settings = dataclasses.replace(settings, core=dataclasses.replace(settings.core, database_url=pg_url))
    laptop = tmp_path / "laptop"
    laptop.mkdir()
    async with running_bot(bot_settings) as fake:
        iid = await fake.slash(
            "watch", [{"name": "add", "type": 1, "options": [option("topic", "cod fisheries")]}], uid="1", admin=True
        )
        assert "Watching" in (await fake.answer_to(iid, 30)).body["data"]["content"]
        (tmp_path / "cod.txt").write_text("Freedonia calls for a moratorium on cod fisheries in the northern waters.\n")
        monkeypatch.setenv("VERBATIM_DATABASE_URL", pg_url)
        fields = ["--title", "Freedonia on cod", "--speaker", "Freedonia", "--venue", "OSCE", "--date", "2025-02-03"]
        argv = ["--corpus", str(laptop), "--index", str(tmp_path / "laptop-ix"), "add", str(tmp_path / "cod.txt")]
        assert await asyncio.to_thread(main, [*argv, *fields, "--yes", "--no-index"]) == 0
        posted = await fake.wait_for(
            lambda r: r.path == f"/channels/{CHANNEL_ID}/messages" and "New on a watched topic" in r.body["content"],
            60,
        )
        assert "cod fisheries" in posted.body["content"]
    assert any("moratorium on cod" in p.read_text() for p in bot_settings.core.corpus_dir.glob("*.txt")), "fetched"


async def test_a_process_runs_its_range_of_shards(settings: Any) -> None:  # noqa: F811
    import dataclasses

    from tests.fake_discord import APP_ID, CHANNEL_ID
    from tests.test_bot_e2e import running_bot

    sharded = dataclasses.replace(settings, shard_ids=(0,), shard_count=1)
    async with running_bot(sharded) as fake:
        identify = next(r for r in fake.requests if r.method == "WS" and r.body.get("op") == 2)
        assert identify.body["d"]["shard"] == [0, 1], "the shard this process runs, of how many"
        await fake.say(f"<@{APP_ID}> Yoshimasa Hayashi briefing")
        reply = await fake.wait_for(lambda r: r.path == f"/channels/{CHANNEL_ID}/messages", 30)
        assert reply.body["embeds"], "a sharded process answers as the single one does"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"VERBATIM_SHARD_IDS": "0,1"}, "needs VERBATIM_SHARD_COUNT"),
        ({"VERBATIM_SHARD_IDS": "0-4", "VERBATIM_SHARD_COUNT": "4"}, "numbered 0 to VERBATIM_SHARD_COUNT - 1"),
        ({"VERBATIM_SHARD_IDS": "one", "VERBATIM_SHARD_COUNT": "2"}, "must list shard numbers"),
    ],
)
def test_shard_settings_are_checked(env: dict[str, str], message: str) -> None:
    from bot.settings import load_bot_settings

    with pytest.raises(VerbatimError, match=message):
        load_bot_settings(env)
    assert load_bot_settings({"VERBATIM_SHARD_IDS": "2-3", "VERBATIM_SHARD_COUNT": "4"}).shard_ids == (2, 3)


def test_edits_and_deletions_on_either_machine_win_over_the_copy_they_changed(tmp_path: Path, pg_url: str) -> None:
    from embeddings.sharing import sync

    shared = PostgresState(pg_url)
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    header = "---\ntitle: T{n}\nspeaker: S\nvenue: V\ndate: 2024-01-0{n}\n---\n"
    (one / "a.txt").write_text(header.format(n=1) + "First text.\n")
    (one / "broken.txt").write_text("no header at all\n")
    first = sync(one, tmp_path / "ix1", shared)
    assert first.published == ["a.txt"] and first.refused == ["broken.txt"], "a file that does not load stays here"
    assert sync(two, tmp_path / "ix2", shared).fetched == ["a.txt"]
    (two / "a.txt").write_text(header.format(n=1) + "Corrected text.\n")  # a hand edit on machine two
    assert sync(two, tmp_path / "ix2", shared).published == ["a.txt"], "an edit here is published, not undone"
    assert sync(one, tmp_path / "ix1", shared).fetched == ["a.txt"]
    assert "Corrected" in (one / "a.txt").read_text()
    (one / "a.txt").unlink()  # deleted on machine one
    assert sync(one, tmp_path / "ix1", shared).withdrawn == ["a.txt"]
    assert sync(two, tmp_path / "ix2", shared).removed == ["a.txt"] and not (two / "a.txt").exists()
    (one / "b.txt").write_text(header.format(n=2) + "B.\n")
    sync(one, tmp_path / "ix1", shared)
    sync(two, tmp_path / "ix2", shared)
    (one / "b.txt").write_text(header.format(n=2) + "B, edited on one.\n")
    (two / "b.txt").write_text(header.format(n=2) + "B, edited on two.\n")
    sync(one, tmp_path / "ix1", shared)
    both = sync(two, tmp_path / "ix2", shared)
    assert both.conflicts == ["b.txt"] and "edited on two" in (two / "b.txt").read_text(), "kept, and named"


@pytest.mark.parametrize(
    ("export", "reason"),
    [
        ({"statements": "oops", "state": []}, "'statements' must be a list"),
        ({"statements": [{"path": "x.txt", "text": "no header"}], "state": {}}, "x.txt:1: missing header"),
        ({"statements": [], "state": {"votes": [{"bogus": 1}]}}, "row 1 of votes"),
        ({"statements": [], "state": {"nonsense": []}}, "unknown table"),
    ],
)
def test_a_bad_export_imports_nothing_and_says_why(
    tmp_path: Path, pg_url: str, export: dict[str, object], reason: str
) -> None:
    from embeddings.moving import EXPORT_FORMAT, import_installation

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    with pytest.raises(VerbatimError, match=reason):
        import_installation({"format": EXPORT_FORMAT, **export}, corpus, PostgresState(pg_url))
    assert list(corpus.iterdir()) == [] and PostgresState(pg_url).dump()["votes"] == []


def test_questions_are_answered_when_the_shared_store_is_down(
    tmp_path: Path, corpus_dir: Path, pg: Server, pg_url: str
) -> None:
    from embeddings.service import Verbatim
    from embeddings.settings import Settings
    from embeddings.types import HashingEmbedder

    notices: list[str] = []
    service = Verbatim(
        Settings(corpus_dir=corpus_dir, index_dir=tmp_path / "ix", database_url=pg_url),
        HashingEmbedder(),
        on_notice=notices.append,
    )
    pg.stop()
    try:
        assert service.ask("ICBM launch Hokkaido").answered, "answering does not need the members' store"
    finally:
        pg.start()
    assert any("cannot be reached" in n and "this machine's statements" in n for n in notices)


def test_a_rebuild_on_one_machine_makes_the_other_answer_from_the_new_statement(
    tmp_path: Path, corpus_dir: Path, pg_url: str
) -> None:
    """A moderator drops a file into one machine's corpus folder and runs /reindex there: the other
    machine hears of it, fetches it, rebuilds and answers from it."""
    import shutil

    from embeddings.service import Verbatim
    from embeddings.settings import Settings
    from embeddings.types import HashingEmbedder

    def machine(name: str) -> Verbatim:
        folder = tmp_path / name
        shutil.copytree(corpus_dir, folder)
        chosen = Settings(corpus_dir=folder, index_dir=tmp_path / f"{name}-ix", database_url=pg_url)
        return Verbatim(chosen, HashingEmbedder()).open()

    one, two = machine("one"), machine("two")
    rebuilt, ready, stop = threading.Event(), threading.Event(), threading.Event()
    listening = threading.Thread(
        target=two.listen_for_statements,
        args=(lambda _path: (two.reindex(), rebuilt.set()), stop, ready),
        daemon=True,
    )
    listening.start()
    try:
        assert ready.wait(30), "listening"
        question = "moratorium on cod fisheries"
        assert not any("cod" in r.quote for r in two.ask(question).results)
        (tmp_path / "one" / "cod.txt").write_text(
            "---\ntitle: Freedonia on cod\nspeaker: Delegation of Freedonia\nvenue: OSCE Permanent Council\n"
            "date: 2025-02-03\n---\nFreedonia calls for a moratorium on cod fisheries in the northern waters.\n"
        )
        one.reindex()  # /reindex on machine one
        rebuilt.wait(60)
        assert rebuilt.is_set(), "the other machine heard of the new statement"
        assert any("moratorium on cod" in r.quote for r in two.ask(question).results)
    finally:
        stop.set()
        listening.join(10)


async def test_two_bot_processes_running_at_once_on_two_shards_announce_once_and_take_over(
    settings: Any,  # noqa: F811
    tmp_path: Path,
    pg_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two bot processes, shards 0 and 1 of 2, one database, connected to Discord at the same time:
    a watch added through the shard that has the server fires once, from whichever process claims
    the new statement first, after a third process (the CLI on a laptop) adds it; with that process
    gone, the other one announces the next statement."""
    import dataclasses
    import shutil

    from bot.client import create_bot
    from embeddings.cli import main
    from embeddings.index.embedder import HashingEmbedder
    from tests.fake_discord import CHANNEL_ID
    from tests.test_bot_e2e import TOKEN, local_discord, option

    def process(shard: int) -> Any:
        corpus = tmp_path / f"corpus{shard}"
        shutil.copytree(settings.core.corpus_dir, corpus)
        core = dataclasses.replace(
            settings.core, corpus_dir=corpus, index_dir=tmp_path / f"ix{shard}", database_url=pg_url
        )
        chosen = dataclasses.replace(settings, core=core, shard_ids=(shard,), shard_count=2)
        return create_bot(chosen, HashingEmbedder(), guild_ready_timeout=0.05, chunk_guilds_at_startup=False)

    def announcements(fake: Any) -> list[Any]:
        return [
            r
            for r in fake.requests
            if r.path == f"/channels/{CHANNEL_ID}/messages"
            and "New on a watched topic" in (r.body or {}).get("content", "")
        ]

    async def add_from_laptop(n: int) -> None:
        (tmp_path / f"cod{n}.txt").write_text(f"Freedonia calls for a moratorium on cod fisheries, round {n}.\n")
        fields = ["--title", f"Freedonia on cod {n}", "--speaker", "Freedonia", "--venue", "OSCE"]
        fields += ["--date", f"2025-02-0{n}", "--yes", "--no-index"]
        argv = ["--corpus", str(tmp_path / "laptop"), "--index", str(tmp_path / "laptop-ix"), "add"]
        assert await asyncio.to_thread(main, [*argv, str(tmp_path / f"cod{n}.txt"), *fields]) == 0

    (tmp_path / "laptop").mkdir()
    monkeypatch.setenv("VERBATIM_DATABASE_URL", pg_url)
    async with local_discord() as fake:
        bots = [process(0), process(1)]
        tasks = [asyncio.create_task(bot.start(TOKEN)) for bot in bots]
        try:
            for bot in bots:
                await asyncio.wait_for(bot.wait_until_ready(), 30)
            owner = bots[fake.guild_shard()]
            assert owner.get_guild(int(settings.guild_id)) is not None
            assert bots[1 - fake.guild_shard()].get_guild(int(settings.guild_id)) is None, "the other shard's"
            iid = await fake.slash(
                "watch",
                [{"name": "add", "type": 1, "options": [option("topic", "cod fisheries")]}],
                uid="1",
                admin=True,
            )
            assert "Watching" in (await fake.answer_to(iid, 30)).body["data"]["content"]
            await add_from_laptop(1)
            await fake.wait_for(lambda r: len(announcements(fake)) >= 1, 60)
            await owner.close()  # the process that has the server goes away
            await add_from_laptop(2)
            await fake.wait_for(lambda r: any("round 2" in str(a.body) for a in announcements(fake)), 60)
            # The remaining process announced round 2, so it had long finished with round 1.
            rounds = [str(a.body) for a in announcements(fake)]
            assert sum("round 1" in a for a in rounds) == 1, "each new statement is announced by one process only"
            assert sum("round 2" in a for a in rounds) == 1
        finally:
            for bot in bots:
                await bot.close()
            await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 30)


def test_votes_while_the_database_restarts_are_kept_or_refused_never_lost(pg: Server, pg_url: str) -> None:
    """Members keep voting while the server restarts: each vote is either kept or refused with a
    clear error (the member can vote again); none is reported kept and then missing."""
    store = PostgresState(pg_url)
    answer_id = store.record_answer(Answer("q", False))
    kept: list[str] = []
    refused: list[str] = []
    voting = threading.Event()
    lock = threading.Lock()
    recovered: set[int] = set()

    def member(n: int) -> None:
        """Vote until a vote was refused (the server is down) and a later one kept (it is back)."""
        saw_refusal = False
        for k in range(5000):
            who = f"m{n}-{k}"
            try:
                store.vote(answer_id, who, "answers")
                with lock:
                    kept.append(who)
                if saw_refusal:
                    recovered.add(n)
                    return
            except StateError as exc:
                assert "cannot be reached" in str(exc) or "database" in str(exc)
                saw_refusal = True
                with lock:
                    refused.append(who)
            voting.set()

    threads = [threading.Thread(target=member, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    assert voting.wait(30)
    pg.restart()
    for t in threads:
        t.join(timeout=120)
    recorded = {row["id"].split("-", 2)[2] for row in store.export()}
    assert set(kept) <= recorded, "every vote reported kept is in the database"
    assert refused and recovered == {0, 1, 2, 3}, "every member saw a vote refused and then one kept"
    assert store.vote(answer_id, "after", "answers"), "and voting works again without a restart of anything"


class CountingEmbedder:
    """The hashing embedder, counting what it embeds: a machine that fetches a build embeds nothing."""

    def __init__(self) -> None:
        from embeddings.index.embedder import HashingEmbedder

        self.inner = HashingEmbedder()
        self.embedded = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def encode(self, texts: Any, **options: Any) -> Any:
        return self.inner.encode(texts, **options)

    def encode_passages(self, texts: Any, spans: Any, **options: Any) -> Any:
        self.embedded += len(texts)
        return self.inner.encode_passages(texts, spans, **options)

    def clone(self, **options: Any) -> CountingEmbedder:
        return self


def _machine(tmp_path: Path, corpus_dir: Path, pg_url: str, name: str) -> tuple[Any, CountingEmbedder, list[str]]:
    import shutil

    from embeddings.service import Verbatim
    from embeddings.settings import Settings

    folder = tmp_path / name
    if not folder.exists():
        shutil.copytree(corpus_dir, folder)
    embedder, notices = CountingEmbedder(), []
    chosen = Settings(corpus_dir=folder, index_dir=tmp_path / f"{name}-ix", database_url=pg_url)
    return Verbatim(chosen, embedder, on_notice=notices.append), embedder, notices  # type: ignore[arg-type]


def test_a_build_made_on_one_machine_is_fetched_by_the_others_not_made_again(
    tmp_path: Path, corpus_dir: Path, pg_url: str
) -> None:
    one, one_embedder, _ = _machine(tmp_path, corpus_dir, pg_url, "one")
    one.reindex()
    assert one_embedder.embedded > 0
    two, two_embedder, notices = _machine(tmp_path, corpus_dir, pg_url, "two")
    two.reindex()
    assert two_embedder.embedded == 0, "nothing embedded: the build was fetched"
    assert any("answering from the shared build" in n for n in notices)
    same = (tmp_path / "one-ix" / "CURRENT").read_text() == (tmp_path / "two-ix" / "CURRENT").read_text()
    assert same, "both answer from the same build, checksum and all"
    question = "ICBM launch Hokkaido"
    assert [r.quote for r in two.ask(question).results] == [r.quote for r in one.ask(question).results]


def test_a_damaged_shared_build_is_refused_and_the_machine_builds_its_own(
    tmp_path: Path, corpus_dir: Path, pg_url: str
) -> None:
    import psycopg

    one, _, _ = _machine(tmp_path, corpus_dir, pg_url, "one")
    one.reindex()
    with psycopg.connect(pg_url, autocommit=True) as db:  # one stored file damaged on the server
        db.execute(
            "UPDATE blobs SET content = 'damaged'::bytea WHERE (sha256, part) IN (SELECT sha256, 0 FROM blobs LIMIT 1)"
        )
    two, two_embedder, notices = _machine(tmp_path, corpus_dir, pg_url, "two")
    two.reindex()
    assert any("was refused" in n and "does not match its checksum" in n for n in notices), notices
    assert two_embedder.embedded > 0 and two.ask("ICBM launch Hokkaido").answered, "built here instead"


def test_two_builds_at_once_on_two_machines_one_waits_naming_the_other(pg_url: str) -> None:
    first, second = PostgresState(pg_url), PostgresState(pg_url)
    said: list[str] = []
    inside = threading.Event()
    entered: list[str] = []

    with first.build_lock("laptop (pid 1)", said.append):
        waiting = threading.Thread(target=lambda: _take(second, said, entered, inside))
        waiting.start()
        assert not inside.wait(1.0), "the second build waits while the first holds the lock"
        entered.append("first done")
    waiting.join(30)
    assert inside.is_set() and entered == ["first done", "second"]
    assert said == ["waiting for the build by laptop (pid 1) (since " + said[0].split("(since ")[1]]


def _take(store: PostgresState, said: list[str], entered: list[str], inside: threading.Event) -> None:
    with store.build_lock("server (pid 2)", said.append):
        entered.append("second")
        inside.set()


def test_the_database_restarting_in_the_middle_of_a_build_loses_nothing(
    tmp_path: Path, corpus_dir: Path, pg: Server, pg_url: str
) -> None:
    """The server restarts after the statements are synced, while the build runs: the build
    finishes and answers, the build lock (which died with the server's session) is not an error,
    and the build is shared once the server is back."""
    one, _, notices = _machine(tmp_path, corpus_dir, pg_url, "one")
    restarted: list[bool] = []

    def notice(line: str) -> None:
        notices.append(line)
        if line.startswith("published to the shared store") and not restarted:
            restarted.append(True)
            pg.restart()  # between the sync and the build's publication

    one._on_notice = notice
    one.reindex()
    assert restarted and one.ask("ICBM launch Hokkaido").answered
    shared = PostgresState(pg_url).current_build()
    assert shared is not None and (tmp_path / "one-ix" / "CURRENT").read_text().split()[0] == shared[0]


async def test_votes_cast_at_the_same_moment_through_two_bot_processes_are_all_kept(
    settings: Any,  # noqa: F811
    tmp_path: Path,
    pg_url: str,
) -> None:
    """Two servers, one on each shard of two; each bot process answers its own, and members of both
    vote on their answers at the same moment: every vote is in the one database."""
    import dataclasses
    import shutil

    from bot.client import create_bot
    from embeddings.index.embedder import HashingEmbedder
    from tests.fake_discord import GUILD_ID, SECOND_GUILD_ID
    from tests.test_bot_e2e import TOKEN, local_discord, option

    def process(shard: int) -> Any:
        corpus = tmp_path / f"corpus{shard}"
        shutil.copytree(settings.core.corpus_dir, corpus)
        core = dataclasses.replace(
            settings.core, corpus_dir=corpus, index_dir=tmp_path / f"ix{shard}", database_url=pg_url
        )
        chosen = dataclasses.replace(settings, core=core, shard_ids=(shard,), shard_count=2, cooldown_seconds=0.0)
        return create_bot(chosen, HashingEmbedder(), guild_ready_timeout=0.05, chunk_guilds_at_startup=False)

    async with local_discord() as fake:
        fake.guilds.append(SECOND_GUILD_ID)
        bots = [process(0), process(1)]
        tasks = [asyncio.create_task(bot.start(TOKEN)) for bot in bots]
        try:
            for bot in bots:
                await asyncio.wait_for(bot.wait_until_ready(), 30)
            assert {g.id for b in bots for g in b.guilds} == {int(GUILD_ID), int(SECOND_GUILD_ID)}
            assert all(len(b.guilds) == 1 for b in bots), "each process has the server on its shard"
            answers = []
            for guild in (GUILD_ID, SECOND_GUILD_ID):
                iid = await fake.slash("ask", [option("question", "Hokkaido ICBM launch")], uid="600", guild=guild)
                answers.append((await fake.followup_to(iid, 30)).response)
            voters = [(message, f"7{n}{i}") for n, message in enumerate(answers) for i in range(3)]
            clicks = await asyncio.gather(*(fake.click(message, "answers it", uid=uid) for message, uid in voters))
            for click in clicks:
                assert "noted" in (await fake.answer_to(click, 30)).body["data"]["content"]
        finally:
            for bot in bots:
                await bot.close()
            await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 30)
    votes = PostgresState(pg_url).export()
    assert len(votes) == 6 and len({row["id"] for row in votes}) == 6, "all six votes, through both processes"
