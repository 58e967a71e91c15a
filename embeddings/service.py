"""One surface over the core for every front end: the terminal, the console, Discord, benchmarks.

`Verbatim` opens the statements and the index and offers what people do with them (ask, compare,
follow a topic, read a statement, add one, rebuild, vote, watch) as typed results
(`embeddings.types`). It owns what must not be done twice or half: the search engine is opened once
and swapped whole after a rebuild, one rebuild runs at a time, and whoever subscribed hears which
statements a rebuild added. Front ends parse a request, call one method, and show the result with
the shared wording of `embeddings.presentation`; none reaches below this class.

Calls block (they read files and run the model): an asynchronous front end runs them in a thread.
Any number of threads may ask at once; a rebuild never stops questions, which are answered from the
previous build until the new one is ready.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
import os
import socket
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from embeddings.answer.analysis import Comparison, Timeline, compare, timeline
from embeddings.answer.conversation import (
    MAX_SHOWN,
    FollowUp,
    Reading,
    Turn,
    for_the_state,
    of_the_quoted,
    parse,
    read,
)
from embeddings.answer.search import Answer, Decline, Filters, SearchEngine, clean_question
from embeddings.corpus.chunking import Paragraph, paragraphs
from embeddings.corpus.documents import Corpus, CorpusIssue, Document, date_problem
from embeddings.engine import default_embedder, load_checked_corpus, open_engine, rebuild
from embeddings.errors import UnknownDocumentError, VerbatimError
from embeddings.index.building import UpdateReport
from embeddings.index.embedder import Embedder
from embeddings.ingest.add import Draft, addable_files, prepare, refuse_duplicates, save
from embeddings.moving import Imported, export_installation, import_installation
from embeddings.postgres import PostgresState
from embeddings.quality.conversations import (
    Conversation,
    ConversationReport,
    evaluate_conversations,
    load_conversations,
    same_reading,
)
from embeddings.quality.evaluation import (
    Report,
    evaluate,
    load_questions,
    load_styles,
    misses_by_class,
    styles_beside,
    table,
)
from embeddings.quality.positions import AnalysisReport, judge_with, load_analysis_items
from embeddings.settings import Settings
from embeddings.sharing import Synced, adopt_build, publish_build, sync
from embeddings.state import STATE_FILE, State, StateError, Store

log = logging.getLogger(__name__)

HOLDER = f"{socket.gethostname()} (pid {os.getpid()})"
"""How this process is named to another that waits for its build."""
WARM_UP_QUESTION = "What did the statement say about the missile launch?"
"""Any question: it loads the question encoder and touches the index before the first member asks."""


@dataclass(frozen=True)
class Reindexed:
    """What a rebuild did: its report, the files it skipped, and the statements it added."""

    report: UpdateReport
    issues: list[CorpusIssue]
    added: list[Document]


@dataclass(frozen=True)
class Evaluation:
    report: Report
    misses: dict[str, list[str]]
    """Miss class -> a few lines per miss (what was shown, where the evidence lies)."""
    analysis: AnalysisReport | None = None
    """Compare and timeline items' figures, when the files hold any."""
    unknown_documents: tuple[str, ...] = ()
    """Statements the questions or items name that the corpus lacks: every one of them is a miss."""
    conversations: ConversationReport | None = None
    """Follow-up turns of conversation items, as typed and as written out in full."""

    def table(self) -> str:
        parts = [table(self.report.tallies)] if self.report.outcomes else []
        if self.analysis is not None:
            parts.append("compare and timeline items\n" + self.analysis.table())
        if self.conversations is not None:
            parts.append(
                "conversations (full@: the turns written out in full; read: read as written out)\n"
                + self.conversations.table()
            )
        return "\n\n".join(parts) or "no questions or items in the files"


StatementsAdded = Callable[[list[Document]], None]


def _quoted(answer: Answer) -> tuple[str, ...]:
    """The statements an answer quoted, best first: what "that statement" points at next."""
    return tuple(dict.fromkeys(r.doc_id for r in answer.results)) if answer.answered else ()


@dataclass(frozen=True)
class Followed:
    """A message answered in its conversation."""

    reading: FollowUp
    """How it was read (`reading.line` is shown with every follow-up's answer)."""
    answer: Answer
    turn: Turn | None
    """What to remember for the next message of the conversation (None: nothing, it was not a question)."""


class Verbatim:
    def __init__(
        self,
        settings: Settings,
        embedder: Embedder | None = None,
        *,
        on_notice: Callable[[str], None] = log.warning,
        progress: bool = False,
        rebuild_threads: int | None = None,
    ) -> None:
        """`rebuild_threads` caps the model's threads during a rebuild (the bot gives it one core, so
        questions keep the other); `progress` shows bars on a terminal."""
        self.settings = settings
        self.embedder = embedder or default_embedder()
        self._on_notice = on_notice
        self._progress = progress
        self._rebuild_threads = rebuild_threads
        self._rebuild_embedder: Embedder | None = None
        self._engine: SearchEngine | None = None
        self._corpus: Corpus | None = None
        self._opening = threading.Lock()
        self._building = threading.Lock()
        self._state: Store | None = None
        self._subscribers: list[StatementsAdded] = []

    # -- the engine, opened once and swapped whole ---------------------------------------------

    def _searcher(self) -> SearchEngine:
        engine = self._engine
        if engine is None:
            with self._opening:
                if self._engine is None:
                    self._engine = self._open()
                engine = self._engine
        return engine

    def _open(self, *, sync: bool = True) -> SearchEngine:
        if sync:  # a machine joining a shared store starts with every statement (a rebuild has synced)
            self.sync_statements()
        return open_engine(
            self.settings.corpus_dir,
            self.settings.index_dir,
            self.embedder,
            on_notice=self._on_notice,
            progress=self._progress,
            max_question_chars=self.settings.max_question_chars,
        )

    def open(self) -> Verbatim:
        """Open (building or updating the index when needed) now rather than at the first question."""
        self._searcher()
        return self

    def warm_up(self) -> None:
        """Answer one question, so the model is in memory before anyone asks."""
        self._searcher().search(WARM_UP_QUESTION, 1)

    @property
    def corpus(self) -> Corpus:
        """The statements as answered from: the open engine's, else read from the folder (listing
        and reading need no index)."""
        if self._engine is not None:
            return self._engine.corpus
        if self._corpus is None:
            self._corpus = load_checked_corpus(self.settings.corpus_dir)
        return self._corpus

    # -- questions ---------------------------------------------------------------------------

    def ask(self, question: str, k: int = 3, filters: Filters | None = None) -> Answer:
        return self._searcher().search(question, k, filters)

    def follow(self, message: str, previous: Turn | None, k: int = 3) -> Followed:
        """A message read against the previous question of its conversation ("and Russia?",
        "what about 2023?", "more") and answered as the question written out in full."""
        engine = self._searcher()
        message = engine.with_names(self.check_question(message))
        reading = read(message, previous, engine.names_a_speaker, engine.names_a_venue)
        quoted = self._quoted_header(previous)
        if previous is not None and quoted:
            reading = of_the_quoted(reading, previous, quoted) or reading
        if reading.kind is Reading.NOTHING_TO_FOLLOW:
            return Followed(reading, Answer(reading.question, False, reason=Decline.NOTHING_TO_FOLLOW), None)
        if reading.kind is Reading.MORE:
            wanted = min(MAX_SHOWN, reading.skip + k)
            found = engine.search(reading.question, wanted) if reading.skip < MAX_SHOWN else None
            results = found.results[reading.skip :] if found is not None and found.answered else []
            answer = (
                Answer(reading.question, True, results)
                if results
                else Answer(reading.question, False, reason=Decline.NO_MORE)
            )
        else:
            filters = Filters(documents=reading.documents) if reading.documents else None
            answer = engine.search(reading.question, k, filters)
            if not answer.answered and quoted:
                reading, answer = self._for_the_state(reading, answer, quoted, k, filters)
        turn = dataclasses.replace(reading.turn, documents=_quoted(answer), shown=reading.skip + len(answer.results))
        return Followed(reading, answer, turn)

    def _quoted_header(self, previous: Turn | None) -> str:
        """Who made the statement quoted first in the conversation's last answer ("" if none)."""
        doc = self.corpus.documents.get(previous.documents[0]) if previous and previous.documents else None
        return f"{doc.speaker} ({doc.organisation})" if doc else ""

    def _for_the_state(
        self, reading: FollowUp, answer: Answer, quoted: str, k: int, filters: Filters | None
    ) -> tuple[FollowUp, Answer]:
        """A person's statement of another year that the corpus lacks, looked for as the state's
        (the reading line says so); the first reading and its decline when that finds nothing."""
        engine = self._searcher()
        state = for_the_state(reading, quoted, engine.names_a_speaker)
        if state is None:
            return reading, answer
        found = engine.search(state.question, k, filters)
        return (state, found) if found.answered else (reading, answer)

    def turn_for(self, question: str, answer: Answer) -> Turn:
        """A question asked on its own (`/ask`), remembered so that a reply to its answer can
        follow it up."""
        engine = self._searcher()
        turn = parse(engine.with_names(question), engine.names_a_speaker, engine.names_a_venue)
        return dataclasses.replace(turn, documents=_quoted(answer), shown=len(answer.results) if answer.answered else 0)

    def conversation(self, key: str) -> Turn | None:
        """The last question of a conversation kept in the state store (a thread, a reply chain),
        unless it is older than the setting allows."""
        return self.state.turn(key, dt.timedelta(minutes=self.settings.conversation_minutes))

    def check_question(self, question: str, what: str = "question") -> str:
        """The question (or a compare or timeline topic) as it will be searched, or a
        BadQuestionError saying what to change: checked before the index is opened or updated."""
        return clean_question(question, self.settings.max_question_chars, what)

    def compare(self, topic: str, speakers: Sequence[str] = (), filters: Filters | None = None) -> Comparison:
        return compare(self._searcher(), topic, speakers, filters)

    def timeline(self, topic: str, speaker: str = "", filters: Filters | None = None) -> Timeline:
        return timeline(self._searcher(), topic, speaker, filters)

    def evaluate(
        self, question_files: Sequence[Path], style_files: Sequence[Path] | None = None, *, misses: bool = False
    ) -> Evaluation:
        """Answer quality on question files in the shared eval format, by style (from `style_files`,
        else the `*styles.json` beside the questions, else each line's own), and with `misses` every
        miss explained by class; compare and timeline items in the same files are judged by what
        `compare` and `timeline` show."""
        questions = [q for path in question_files for q in load_questions(path)]
        items = [it for path in question_files for it in load_analysis_items(path)]
        talks = [c for path in question_files for c in load_conversations(path)]
        styles = load_styles(style_files or styles_beside(question_files))
        engine = self._searcher()
        report = evaluate(questions, lambda q: engine.search(q.question, k=10), styles)
        analysis = judge_with(engine, items) if items else None
        talked = self._converse(talks) if talks else None
        named = {d for q in questions for d in q.documents} | {d for it in items for d in it.documents}
        named |= {d for c in talks for t in c.turns for d in t.docs}
        unknown = tuple(sorted(named - set(engine.corpus.documents)))
        found = {**misses_by_class(engine, report)} if misses else {}
        if misses and analysis is not None:
            found["compare and timeline"] = sorted(analysis.misses)
        if misses and talked is not None:
            found["conversations"] = talked.misses
        return Evaluation(report, found, analysis, unknown, talked)

    def _converse(self, conversations: Sequence[Conversation]) -> ConversationReport:
        engine = self._searcher()

        def follow(message: str, previous: Turn | None) -> tuple[str, Answer, Turn | None]:
            done = self.follow(message, previous, k=10)
            return done.reading.question, done.answer, done.turn

        def same(read: str, full: str) -> bool:
            return same_reading(read, full, engine.tokenizer, engine.names_a_speaker)

        return evaluate_conversations(conversations, follow, lambda q: engine.search(q, k=10), same)

    # -- statements ----------------------------------------------------------------------------

    def document(self, doc_id: str) -> Document:
        """The statement with this id, or an error naming the closest ids (never a path on disk)."""
        return find_document(self.corpus, doc_id)

    def documents(self) -> list[Document]:
        """Newest first: what a reader scanning the corpus looks for."""
        return sorted(self.corpus.documents.values(), key=lambda d: (d.date, d.doc_id), reverse=True)

    def paragraphs(self, doc_id: str) -> list[Paragraph]:
        """A statement's numbered paragraphs, as citations number them."""
        if self._engine is not None:
            return self._engine.paragraphs(doc_id)
        return paragraphs(self.document(doc_id).text)

    def matching(self, typed: str) -> list[Document]:
        """Statements whose title, speaker or date hold every word typed (autocomplete)."""
        return self.corpus.matching(typed)

    # -- adding and rebuilding ----------------------------------------------------------------

    @staticmethod
    def check_fields(overrides: Mapping[str, str]) -> None:
        """Header fields given by hand (`add --date`), refused before any source is read, since
        the same mistake would refuse every one of them."""
        problem = date_problem(overrides["date"]) if overrides.get("date") else ""
        if problem:
            raise VerbatimError(f"--date: {problem}")

    def prepare(self, source: str, overrides: dict[str, str] | None = None, **options: object) -> Draft:
        """A statement read from a file, a link or data in hand, with its proposed header; refused at
        once (IngestError, DuplicateStatementError) when it cannot be saved."""
        draft = prepare(
            source,
            overrides,
            allow_private=self.settings.allow_private_links,
            **options,  # type: ignore[arg-type]
        )
        refuse_duplicates(draft, self.settings.corpus_dir)
        return draft

    @staticmethod
    def addable(given: Sequence[str]) -> list[str]:
        """Links and files as given, and each folder as the PDF, HTML and text files in it."""
        sources: list[str] = []
        for source in given:
            folder = Path(source)
            if not source.startswith(("http://", "https://")) and folder.is_dir():
                sources += [str(p) for p in addable_files(folder)]
            else:
                sources.append(source)
        return sources

    def save(self, draft: Draft) -> Path:
        """Write the statement into the corpus folder (the index is updated by `reindex`) and, with
        a shared store, publish it to every other process."""
        path = save(draft, self.settings.corpus_dir)
        self._corpus = None
        if self.settings.database_url:
            try:
                self.state.publish(path.relative_to(self.settings.corpus_dir).as_posix(), path.read_bytes())
            except StateError as exc:  # saved here; the next rebuild that reaches the store publishes it
                self._on_notice(f"{exc}; {path.name} is saved here and will be shared at the next rebuild")
        return path

    def listen_for_statements(
        self, on_statement: Callable[[str], None], stop: threading.Event, ready: threading.Event | None = None
    ) -> None:
        """Hear statements published by other processes (blocks until `stop`; run it in a thread;
        `ready` is set once nothing published can be missed)."""
        self.state.listen(on_statement, stop, ready)

    def sync_statements(self) -> Synced | None:
        """With a shared store, bring the corpus folder and the shared statements into step (edits
        and deletions here published, those made elsewhere fetched; `embeddings.sharing`). A store
        that cannot be reached is said once and this machine's statements are used as they are:
        answering does not need the members' store."""
        if not self.settings.database_url:  # the embedded store: the folder is the only copy
            return None
        try:
            done = sync(self.settings.corpus_dir, self.settings.index_dir, self.state, self._on_notice)
        except StateError as exc:
            self._on_notice(f"{exc}; answering from this machine's statements as they are")
            return None
        if done.changed_here:
            self._corpus = None
        return done

    def subscribe(self, listener: StatementsAdded) -> None:
        """Told, after each rebuild that added statements, which ones (from the rebuilding thread)."""
        self._subscribers.append(listener)

    @property
    def rebuilding(self) -> bool:
        return self._building.locked()

    def reindex(self, *, verify: bool = False) -> Reindexed:
        """Bring the index in line with the corpus folder and answer from the new build: questions
        asked meanwhile are answered from the previous one. One rebuild at a time."""
        with self._building, self._shared_build():
            self.sync_statements()
            corpus = load_checked_corpus(self.settings.corpus_dir)  # read once for all below
            if self.settings.database_url:
                self._adopt_shared_build(corpus)
            embedder = self.embedder
            if self._rebuild_threads is not None:
                if self._rebuild_embedder is None:
                    self._rebuild_embedder = self.embedder.clone(threads=self._rebuild_threads)
                embedder = self._rebuild_embedder
            before = set(self._engine.corpus.documents) if self._engine is not None else None
            corpus, report = rebuild(
                self.settings.corpus_dir,
                self.settings.index_dir,
                embedder,
                progress=self._progress,
                on_notice=self._on_notice,
                verify=verify,
                corpus=corpus,
            )
            self._engine = self._open(sync=False)  # one assignment: a question sees the old engine or the new
            self._corpus = None
            added = [d for d in self._engine.corpus.documents.values() if before is not None and d.doc_id not in before]
            if self.settings.database_url:
                self._guarded(lambda: publish_build(self.settings.index_dir, self.state, HOLDER))
        done = Reindexed(report, list(corpus.issues), added)
        if added:
            for listener in list(self._subscribers):
                listener(added)
        return done

    def _shared_build(self) -> contextlib.ExitStack[bool | None]:
        """With a shared store, one build at a time on every machine (a second waits, naming the
        first); the build goes on alone, said once, when the store cannot be reached."""
        stack = contextlib.ExitStack()
        if not self.settings.database_url:
            return stack
        try:
            stack.enter_context(self.state.build_lock(HOLDER, self._on_notice))
        except StateError as exc:
            self._on_notice(f"{exc}; building here without the shared lock")
        return stack

    def _adopt_shared_build(self, corpus: Corpus) -> None:
        """The shared build, when another machine made it from exactly these statements, fetched
        and verified instead of built again here."""
        documents = {d.doc_id: d.content_hash for d in corpus.documents.values()}
        self._guarded(lambda: adopt_build(self.settings.index_dir, self.state, documents, self._on_notice))

    def _guarded(self, work: Callable[[], object]) -> None:
        try:
            work()
        except StateError as exc:
            self._on_notice(f"{exc}; this machine's build is kept and not shared")

    # -- what members leave behind ---------------------------------------------------------

    @property
    def state(self) -> Store:
        """Votes, watches, remembered queries and announced statements (in the index folder)."""
        if self._state is None:
            self._state = open_state(self.settings)
        return self._state

    # -- the store, and moving an installation ------------------------------------------------------

    def migrate(self) -> str:
        """Bring the store's schema up to this Verbatim's; what was done, in one line."""
        if self.settings.database_url:
            before, after = PostgresState(self.settings.database_url, check=False).migrate()
            where = PostgresState(self.settings.database_url, check=False).describe()
            return f"{where}: schema {before} -> {after}" if before != after else f"{where}: schema {after}, up to date"
        State.beside(self.settings.index_dir)  # the embedded file upgrades itself when opened
        return f"{self.settings.index_dir / STATE_FILE}: up to date (the embedded store upgrades itself)"

    def export_installation(self) -> dict[str, Any]:
        """The statements and the members' state as one JSON object (`embeddings.moving`)."""
        return export_installation(self.settings.corpus_dir, self.state)

    def import_installation(self, data: object) -> Imported:
        """An export added to this installation, all or nothing (`embeddings.moving`)."""
        done = import_installation(data, self.settings.corpus_dir, self.state)
        self._corpus = None
        return done

    def feedback(self) -> Store:
        """The same, read without write access (for exports and figures)."""
        return open_state(self.settings, read_only=True)

    def unannounced(self) -> list[str]:
        """Statements no watch has been told about yet (remembered as told from now on)."""
        hashes = {d.doc_id: d.content_hash for d in self.corpus.documents.values()}
        return self.state.new_documents(hashes)


def find_document(corpus: Corpus, doc_id: str) -> Document:
    """The document with this id, or an error naming the closest ids: never a path on disk."""
    import difflib

    doc = corpus.get(doc_id)
    if doc is not None:
        return doc
    close = difflib.get_close_matches(doc_id, list(corpus.documents), n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else "; `verbatim sources` lists them"
    raise UnknownDocumentError(f"no document {doc_id!r}{hint}")


def open_state(settings: Settings, *, read_only: bool = False) -> Store:
    """The members' store, chosen once: PostgreSQL when `VERBATIM_DATABASE_URL` names one, else the
    SQLite file beside the index."""
    if settings.database_url:
        return PostgresState(settings.database_url, read_only=read_only)
    return State.beside(settings.index_dir, read_only=read_only)
