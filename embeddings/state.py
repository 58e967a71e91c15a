"""What members leave behind: votes on answers, watched topics, and which statements they have
already been told about. One SQLite file in the index folder (`verbatim.sqlite3`), which builds
never touch.

Every call opens its own connection (any thread may call), waits up to ten seconds for another
writer, and writes inside one transaction; WAL journaling lets readers go on meanwhile. The schema
is versioned with `PRAGMA user_version`: an older file is upgraded in place, a newer one refused.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
import sqlite3
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from embeddings.answer.conversation import Turn
from embeddings.answer.search import Answer
from embeddings.errors import VerbatimError

log = logging.getLogger(__name__)

STATE_FILE = "verbatim.sqlite3"
SCHEMA_VERSION = 2
_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    answer_id TEXT PRIMARY KEY,
    question TEXT NOT NULL,
    shown TEXT NOT NULL,            -- JSON: [{doc_id, start, end, paragraph, quote, highlight}]
    asked_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS votes (
    answer_id TEXT NOT NULL REFERENCES answers(answer_id),
    member_id TEXT NOT NULL,
    verdict TEXT NOT NULL CHECK (verdict IN ('answers', 'wrong')),
    comment TEXT NOT NULL DEFAULT '',
    evidence TEXT NOT NULL DEFAULT '',
    voted_at TEXT NOT NULL,
    PRIMARY KEY (answer_id, member_id)
);
CREATE TABLE IF NOT EXISTS watches (
    watch_id INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    topic TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (channel_id, topic)
);
CREATE TABLE IF NOT EXISTS queries (
    query_id TEXT PRIMARY KEY,
    params TEXT NOT NULL,           -- JSON: what a paged reply was asked for, to page it after a restart
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS seen_documents (
    doc_id TEXT PRIMARY KEY,
    content_hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS conversations (
    conversation TEXT PRIMARY KEY,  -- "message:<id>" (a reply chain), "thread:<id>", "terminal"
    turn TEXT NOT NULL,             -- JSON: the last question's parts and what it showed
    updated_at TEXT NOT NULL
);
"""


class StateError(VerbatimError):
    """The state file cannot be used (written by a newer Verbatim, or not a database)."""


@dataclass(frozen=True)
class Watch:
    watch_id: int
    guild_id: str
    channel_id: str
    topic: str


def _exported(
    answer_id: str,
    question: str,
    shown_json: str,
    member: str,
    verdict: str,
    comment: str,
    evidence: str,
    voted_at: str,
) -> dict[str, object]:
    shown = json.loads(shown_json)
    if not isinstance(shown, list):
        raise TypeError("what was shown is not a list")
    dt.datetime.fromisoformat(str(voted_at))
    row: dict[str, object] = {"id": f"fb-{answer_id}-{member}", "question": str(question)}
    if verdict == "answers" and shown:
        top = shown[0]
        start, end = top["highlight"]
        row["evidence"] = [str(top["quote"])[int(start) : int(end)]]
        row["docs"] = [str(top["doc_id"])]
    else:
        row["evidence"] = [evidence] if evidence else []
        row["docs"] = []
    row.update({"feedback": verdict, "comment": comment, "voted_at": voted_at, "shown": shown})
    return row


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


TABLES: dict[str, tuple[str, ...]] = {
    "answers": ("answer_id", "question", "shown", "asked_at"),
    "votes": ("answer_id", "member_id", "verdict", "comment", "evidence", "voted_at"),
    "watches": ("watch_id", "guild_id", "channel_id", "topic", "created_by", "created_at"),
    "queries": ("query_id", "params", "created_at"),
    "seen_documents": ("doc_id", "content_hash"),
    "conversations": ("conversation", "turn", "updated_at"),
}
"""Every table and its columns, in the order export and import use."""


class Store(ABC):
    """What members leave behind, whichever engine keeps it: every method is one transaction, with
    SQL both engines read the same way (`?` placeholders, `ON CONFLICT` upserts)."""

    TABLES = TABLES

    @abstractmethod
    def _connect(self) -> AbstractContextManager[Any]:
        """A connection inside one transaction that writers take one at a time."""

    @abstractmethod
    def describe(self) -> str:
        """Where the state lives, for messages (never a password)."""

    shares_statements = False
    """Whether the statements themselves live in the store too (PostgreSQL), so that one added on
    any machine reaches every other; the embedded store leaves them to the corpus folder."""

    def publish(self, path: str, content: bytes) -> bool:
        """Record a statement file for every process; True when it was new or changed."""
        return False

    def published(self) -> dict[str, str]:
        """Every shared statement file: path in the corpus folder -> sha256 of its bytes."""
        return {}

    def fetch(self, path: str) -> bytes | None:
        """A shared statement file's bytes."""
        return None

    def build_lock(self, holder: str, notice: Callable[[str], None]) -> AbstractContextManager[None]:
        """One build at a time across every process sharing the store (the embedded store has only
        this machine's index lock, taken by the build itself)."""
        return nullcontext()

    def publish_build(self, folder: Path, digest: str, holder: str) -> None:  # noqa: B027
        """Make a sealed build the one every process can fetch (nothing to do for the embedded store)."""

    def current_build(self) -> tuple[str, bytes, str] | None:
        """The shared current build's name, manifest and manifest checksum, if any."""
        return None

    def fetch_blob(self, sha: str, target: Path) -> None:
        raise StateError("the embedded store shares no builds")

    def withdraw(self, path: str) -> None:  # noqa: B027  (nothing is shared by the embedded store)
        """Remove a statement file from what every process shares (it was deleted on one machine)."""

    def listen(  # noqa: B027
        self, on_statement: Callable[[str], None], stop: threading.Event, ready: threading.Event | None = None
    ) -> None:
        """Call `on_statement(path)` whenever another process publishes a statement, until `stop`
        is set (in a thread of its own). The embedded store has no other process to hear."""

    # -- answers and votes ---------------------------------------------------------------------

    @staticmethod
    def new_answer_id() -> str:
        return secrets.token_hex(8)

    def record_answer(self, answer: Answer, answer_id: str | None = None) -> str:
        """Keep what was shown for a question, so a vote on it can be exported later; the id goes in
        the answer's buttons."""
        answer_id = answer_id or self.new_answer_id()
        results = answer.results if answer.answered else []
        shown = [
            {
                "doc_id": r.doc_id,
                "start": r.start,
                "end": r.end,
                "paragraph": r.paragraph.to_json(),
                "quote": r.quote,
                "highlight": list(r.highlight),
            }
            for r in results
        ]
        with self._connect() as db:
            db.execute(
                "INSERT INTO answers VALUES (?, ?, ?, ?)", (answer_id, answer.question, json.dumps(shown), _now())
            )
        return answer_id

    def vote(self, answer_id: str, member_id: str, verdict: str, comment: str = "", evidence: str = "") -> bool:
        """One vote per member per answer (a second replaces the first). False when the answer is
        unknown (its record was lost), so the member can be told."""
        with self._connect() as db:
            if db.execute("SELECT 1 FROM answers WHERE answer_id = ?", (answer_id,)).fetchone() is None:
                return False
            db.execute(
                """INSERT INTO votes VALUES (?, ?, ?, ?, ?, ?)
                   ON CONFLICT (answer_id, member_id) DO UPDATE SET
                   verdict = excluded.verdict, comment = excluded.comment, evidence = excluded.evidence,
                   voted_at = excluded.voted_at""",
                (answer_id, member_id, verdict, comment.strip(), evidence.strip(), _now()),
            )
        return True

    def export(self, on_damage: Callable[[str], None] = log.warning) -> list[dict[str, object]]:
        """Voted questions in the question-file format of the shared eval set: a "wrong passage"
        with the words a member gave as its evidence, or with none (nothing answers); an "answers
        it" with the sentence it highlighted. A damaged record is named to `on_damage` and left out;
        the rest are exported."""
        rows = []
        with self._connect() as db:
            cursor = db.execute(
                """SELECT a.answer_id, a.question, a.shown, v.member_id, v.verdict, v.comment, v.evidence, v.voted_at
                   FROM votes v JOIN answers a USING (answer_id) ORDER BY v.voted_at, v.answer_id, v.member_id"""
            )
            for answer_id, question, shown_json, member, verdict, comment, evidence, voted_at in cursor:
                try:
                    rows.append(
                        _exported(answer_id, question, shown_json, member, verdict, comment, evidence, voted_at)
                    )
                except (ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
                    on_damage(f"vote of member {member} on answer {answer_id} skipped: its record is damaged ({exc})")
        return rows

    def weekly(self, on_damage: Callable[[str], None] = log.warning) -> list[tuple[str, int, int]]:
        """(ISO week, answers marked right, answers voted on), oldest first; a vote with a damaged
        date is named to `on_damage` and left out."""
        with self._connect() as db:
            cursor = db.execute("SELECT answer_id, member_id, voted_at, verdict FROM votes ORDER BY voted_at")
            weeks: dict[str, list[int]] = {}
            for answer_id, member, voted_at, verdict in cursor:
                try:
                    year, week, _ = dt.datetime.fromisoformat(str(voted_at)).isocalendar()
                except ValueError:
                    on_damage(
                        f"vote of member {member} on answer {answer_id} skipped: its date {voted_at!r} is damaged"
                    )
                    continue
                tally = weeks.setdefault(f"{year}-W{week:02d}", [0, 0])
                tally[0] += verdict == "answers"
                tally[1] += 1
        return [(w, right, total) for w, (right, total) in weeks.items()]

    # -- paged replies -------------------------------------------------------------------------

    def remember_query(self, params: dict[str, str]) -> str:
        """An id for what a paged reply was asked, short enough for a button's custom_id, so its
        pages turn after a restart too."""
        query_id = secrets.token_hex(8)
        with self._connect() as db:
            db.execute("INSERT INTO queries VALUES (?, ?, ?)", (query_id, json.dumps(params), _now()))
        return query_id

    def query(self, query_id: str) -> dict[str, str] | None:
        with self._connect() as db:
            row = db.execute("SELECT params FROM queries WHERE query_id = ?", (query_id,)).fetchone()
        return None if row is None else {str(k): str(v) for k, v in json.loads(row[0]).items()}

    # -- watches -------------------------------------------------------------------------------

    def add_watch(self, guild_id: str, channel_id: str, topic: str, member_id: str) -> bool:
        """False when the channel already watches this topic."""
        with self._connect() as db:
            cursor = db.execute(
                "INSERT INTO watches (guild_id, channel_id, topic, created_by, created_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (guild_id, channel_id, topic, member_id, _now()),
            )
            return cursor.rowcount == 1

    def watches(self, guild_id: str | None = None) -> list[Watch]:
        with self._connect() as db:
            query = "SELECT watch_id, guild_id, channel_id, topic FROM watches"
            args: Sequence[str] = ()
            if guild_id is not None:
                query += " WHERE guild_id = ?"
                args = (guild_id,)
            return [Watch(*row) for row in db.execute(query + " ORDER BY watch_id", args)]

    def remove_watch(self, guild_id: str, watch_id: int) -> bool:
        with self._connect() as db:
            return (
                db.execute("DELETE FROM watches WHERE guild_id = ? AND watch_id = ?", (guild_id, watch_id)).rowcount
                == 1
            )

    # -- statements already announced ----------------------------------------------------------

    def new_documents(self, hashes: dict[str, str]) -> list[str]:
        """Documents added or changed since the last call, recorded as seen. The first call only
        records: a corpus present before anyone watched is not news."""
        with self._connect() as db:
            seen = dict(db.execute("SELECT doc_id, content_hash FROM seen_documents").fetchall())
            first = not seen and db.execute("SELECT COUNT(*) FROM watches").fetchone()[0] == 0
            fresh = [d for d, h in hashes.items() if seen.get(d) != h]
            db.executemany(
                "INSERT INTO seen_documents VALUES (?, ?) "
                "ON CONFLICT (doc_id) DO UPDATE SET content_hash = excluded.content_hash",
                [(d, hashes[d]) for d in fresh],
            )
        return [] if first else fresh

    # -- conversations ---------------------------------------------------------------------------

    def turn(self, conversation: str, max_age: dt.timedelta) -> Turn | None:
        """The last question of a conversation, unless it is older than `max_age` (a follow-up an
        hour later is more likely a new question) or its record is damaged."""
        with self._connect() as db:
            row = db.execute(
                "SELECT turn, updated_at FROM conversations WHERE conversation = ?", (conversation,)
            ).fetchone()
        if row is None:
            return None
        try:
            if dt.datetime.now(dt.UTC) - dt.datetime.fromisoformat(row[1]) > max_age:
                return None
            return Turn.from_json(json.loads(row[0]))
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("conversation %s starts afresh: its record is damaged (%s)", conversation, exc)
            return None

    def keep_turn(self, conversation: str, turn: Turn, keep: dt.timedelta = dt.timedelta(days=7)) -> None:
        """Record the last question of a conversation; conversations idle past `keep` are dropped."""
        now = dt.datetime.now(dt.UTC)
        with self._connect() as db:
            db.execute(
                "INSERT INTO conversations VALUES (?, ?, ?) ON CONFLICT (conversation) "
                "DO UPDATE SET turn = excluded.turn, updated_at = excluded.updated_at",
                (conversation, json.dumps(turn.to_json()), now.isoformat(timespec="seconds")),
            )
            db.execute("DELETE FROM conversations WHERE updated_at < ?", ((now - keep).isoformat(timespec="seconds"),))

    # -- moving an installation --------------------------------------------------------------

    def dump(self) -> dict[str, list[list[Any]]]:
        """Every row of every table, in column order: what `verbatim export` writes."""
        with self._connect() as db:
            return {
                table: [list(row) for row in db.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY 1")]
                for table, columns in TABLES.items()
            }

    def load(self, rows: dict[str, list[list[Any]]]) -> dict[str, int]:
        """Rows from `dump` (of either engine) added in one transaction; a row already here is kept.
        Answers before votes, so every vote finds its answer."""
        added: dict[str, int] = {}
        with self._connect() as db:
            for table, columns in TABLES.items():
                marks = ", ".join("?" for _ in columns)
                sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks}) ON CONFLICT DO NOTHING"
                before = db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
                db.executemany(sql, [tuple(r) for r in rows.get(table, [])])
                added[table] = db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] - before
            self._after_load(db)
        return added

    def _after_load(self, db: Any) -> None:  # noqa: B027  (only PostgreSQL has anything to do)
        """What an engine must do after rows with their own ids arrive (PostgreSQL: move a sequence on)."""


class State(Store):
    """The embedded store: one SQLite file in the index folder, the default."""

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.path = path
        self.read_only = read_only
        if read_only:
            return  # reading votes needs no write access: no folder made, no schema written
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with sqlite3.connect(path, timeout=10.0) as setup:
                setup.execute("PRAGMA journal_mode = WAL")  # kept in the file: set once, not per call
            setup.close()
        except sqlite3.DatabaseError as exc:
            raise StateError(f"{path} is not a Verbatim state file ({exc})") from None
        with self._connect() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StateError(
                    f"{path} was written by a newer Verbatim (schema {version}, this one knows {SCHEMA_VERSION})"
                )
            for statement in _SCHEMA.split(";"):  # executescript would commit the open transaction
                if statement.strip():
                    db.execute(statement)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @classmethod
    def beside(cls, index_dir: Path, *, read_only: bool = False) -> State:
        return cls(index_dir / STATE_FILE, read_only=read_only)

    def describe(self) -> str:
        return str(self.path)

    def _open(self) -> sqlite3.Connection:
        if self.read_only and not self.path.is_file():
            empty = sqlite3.connect(":memory:", isolation_level=None)  # nothing voted yet: an empty state
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    empty.execute(statement)
            return empty
        if not self.read_only:
            return sqlite3.connect(self.path, timeout=10.0, isolation_level=None)
        uri = self.path.resolve().as_uri()
        try:
            db = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=10.0, isolation_level=None)
            db.execute("SELECT 1 FROM sqlite_master").fetchone()
            return db
        except sqlite3.OperationalError:
            # A WAL file in a folder this user cannot write: read it as it stands.
            return sqlite3.connect(f"{uri}?immutable=1", uri=True, timeout=10.0, isolation_level=None)

    @contextmanager
    def _connect(self) -> Iterator[Any]:
        try:
            db = self._open()
        except sqlite3.Error as exc:
            raise StateError(f"{self.path} cannot be opened ({exc})") from None
        try:
            # WAL with NORMAL sync: a commit is safe against a crash of Verbatim, and only a power
            # loss can cost the last votes; an fsync per answer would queue simultaneous answers.
            if not self.read_only:
                db.execute("PRAGMA synchronous = NORMAL")
            db.execute("PRAGMA foreign_keys = ON")
            db.execute("BEGIN" if self.read_only else "BEGIN IMMEDIATE")
            yield db
            db.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            if db.in_transaction:
                db.execute("ROLLBACK")
            if "no such table" in str(exc):  # another program's database, or one never set up
                raise StateError(f"{self.path} is not a Verbatim state file ({exc}); move it aside") from None
            raise StateError(f"{self.path}: {exc}") from None
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        finally:
            db.close()
