"""The `verbatim` command line of the core: index, ask, search, sources, source, eval, chat, add, compare,
timeline, feedback, migrate, export, import.

Argument parsing and error mapping only: every command is one call to the service
(`embeddings.service.Verbatim`) shown with the shared wording (`embeddings.presentation`). A user
mistake is one line on standard error and exit status 2, never a traceback. Front ends add their own
commands through `main(extensions=...)` (the Discord bot adds `run` and `sync`, see `bot/cli.py`);
the core never imports them.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from embeddings.presentation import (
    comparison_json,
    progress_bar,
    render_answer,
    render_comparison,
    render_draft,
    render_source,
    render_sources,
    render_timeline,
    timeline_json,
)
from embeddings.service import Verbatim
from embeddings.settings import Settings, load_settings
from embeddings.types import Filters, IngestError, Turn, UnknownDocumentError, VerbatimError

log = logging.getLogger("verbatim")


def filters_from(args: argparse.Namespace) -> Filters:
    return Filters.parse(args.doc or (), args.speaker or "", args.venue or "", args.since or "", args.until or "")


def _add_filters(p: argparse.ArgumentParser) -> None:
    p.add_argument("--doc", action="append", metavar="DOC_ID", help="only this document (repeatable)")
    p.add_argument("--speaker", help="speaker or organisation contains this text")
    p.add_argument("--venue", help="venue contains this text")
    p.add_argument("--since", metavar="DATE", help="on or after YYYY[-MM[-DD]]")
    p.add_argument("--until", metavar="DATE", help="on or before YYYY[-MM[-DD]]")


Handler = Callable[[argparse.Namespace, Settings], int]
Extension = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]", dict[str, Handler]], None]
"""Adds a front end's subcommands to the parser and their handlers to the table."""


def build_parser(extensions: Sequence[Extension] = ()) -> tuple[argparse.ArgumentParser, dict[str, Handler]]:
    parser = argparse.ArgumentParser(prog="verbatim", description=_first_paragraph(__doc__ or ""))
    parser.add_argument("--corpus", type=_folder, help="statements folder (default: $VERBATIM_CORPUS or corpus)")
    parser.add_argument("--index", type=_folder, help="index folder (default: $VERBATIM_INDEX or .index)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _question_commands(sub)
    _statement_commands(sub)
    _analyst_commands(sub)
    handlers = dict(COMMANDS)
    for extend in extensions:
        extend(sub, handlers)
    return parser, handlers


def _question_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("ask", help="answer a question with quotes and citations")
    p.add_argument("question")
    p.add_argument("--k", type=int, default=3, help="how many passages (1-10, default 3)")
    _add_filters(p)
    p = sub.add_parser("search", help="machine-readable search (one JSON object per question)")
    p.add_argument("question", nargs="?", help="omit to read one question per line from standard input")
    p.add_argument("--json", action="store_true", help="JSON output (the only format; accepted for clarity)")
    p.add_argument("--k", type=int, default=3, help="how many passages (1-10, default 3)")
    _add_filters(p)
    p = sub.add_parser("eval", help="answer quality on question files (JSON lines), by style, with misses explained")
    p.add_argument("questions", type=Path, nargs="+", help="question files in the format of the shared eval set")
    p.add_argument("--styles", type=Path, action="append", help="id -> style map (default: *styles.json beside them)")
    p.add_argument("--misses", action="store_true", help="explain every miss, grouped by class")
    p.add_argument("--json", action="store_true", help="print the metrics, overall and by style, as JSON")
    p.add_argument("--verbose-rows", action="store_true", help="one JSON line per question")
    sub.add_parser("chat", help="a terminal conversation that answers like the bot")


def _statement_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("index", help="build or update the index after adding statements")
    p.add_argument(
        "--verify", action="store_true", help="read every index file against its checksum; rebuild what fails"
    )
    sub.add_parser("sources", help="list the documents with their metadata")
    p = sub.add_parser("source", help="show a document's full text with paragraph numbers")
    p.add_argument("doc_id")
    p.add_argument("--paragraph", type=int, help="only this paragraph")
    p = sub.add_parser("add", help="add statements from PDF files, web pages, text files, folders or links")
    p.add_argument(
        "sources", nargs="+", metavar="PATH_OR_URL", help="files, folders (every PDF, HTML and .txt) or links"
    )
    for name in ADD_FIELDS:
        p.add_argument(f"--{name}", help=f"the statement's {name} (overrides what is detected)")
    p.add_argument("-y", "--yes", action="store_true", help="save without asking (a closed input saves too)")
    p.add_argument("--no-index", action="store_true", help="save the files only; run `verbatim index` later")


def _analyst_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("compare", help="each speaker's position on a topic, quoted side by side")
    p.add_argument("topic")
    p.add_argument("speakers", nargs="*", help="speakers or organisations to compare (default: all who address it)")
    p.add_argument("--since", metavar="DATE", help="on or after YYYY[-MM[-DD]]")
    p.add_argument("--until", metavar="DATE", help="on or before YYYY[-MM[-DD]]")
    p.add_argument("--json", action="store_true", help="per speaker its verdict, passages and offsets, or its silence")
    p = sub.add_parser("timeline", help="the statements on a topic, oldest first, one quote each")
    p.add_argument("topic")
    p.add_argument("--speaker", help="only this speaker or organisation")
    p.add_argument("--since", metavar="DATE", help="on or after YYYY[-MM[-DD]]")
    p.add_argument("--until", metavar="DATE", help="on or before YYYY[-MM[-DD]]")
    p.add_argument("--json", action="store_true", help="per statement its date, speaker and passage with offsets")
    p = sub.add_parser("feedback", help="members' votes on answers: export them as questions, or weekly figures")
    p.add_argument("action", choices=["export", "stats"])
    p.add_argument("--out", type=Path, help="export to this file (default: standard output)")
    sub.add_parser("migrate", help="bring the store's schema up to date (PostgreSQL with VERBATIM_DATABASE_URL)")
    p = sub.add_parser("export", help="the statements and the members' state as one file, to move an installation")
    p.add_argument("--out", type=Path, required=True, help="the file to write (JSON)")
    p = sub.add_parser("import", help="add an export's statements and state to this installation (nothing overwritten)")
    p.add_argument("file", type=Path, help="a file written by `verbatim export`")


def _first_paragraph(doc: str) -> str:
    """A docstring's first paragraph as one line: what --help says before the commands."""
    return " ".join(doc.split("\n\n")[0].split())


def _check_k(k: int) -> int:
    if not 1 <= k <= 10:
        raise VerbatimError(f"--k must be between 1 and 10, not {k}")
    return k


def main(argv: Sequence[str] | None = None, extensions: Sequence[Extension] = ()) -> int:
    parser, handlers = build_parser(extensions)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    quiet_libraries()
    # Bytes that are not UTF-8 reach a question as surrogates instead of ending the program;
    # the question check then names them, and a batch goes on with the next line.
    if isinstance(sys.stdin, io.TextIOWrapper):
        sys.stdin.reconfigure(errors="surrogateescape")
    try:
        settings = load_settings()
        if args.corpus:
            settings = _with(settings, corpus_dir=args.corpus)
        if args.index:
            settings = _with(settings, index_dir=args.index)
        return handlers[args.command](args, settings)
    except VerbatimError as exc:
        print(f"verbatim: {printable(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # Builds write to a fresh folder and switch at the end: what was there still answers.
        print("verbatim: interrupted; nothing half-written is used", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`| head -1`): stop quietly, and keep Python from complaining
        # again when it flushes standard output on exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


def _folder(text: str) -> Path:
    """A folder named on the command line; an empty name would silently mean the current folder."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty name is not a folder")
    return Path(text)


def printable(text: str) -> str:
    """Text safe to print: bytes that were not UTF-8 shown as the replacement character."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def quiet_libraries() -> None:
    """bm25s and transformers print their own debug lines and loading bars; a user wants answers."""
    import os

    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    for name in ("bm25s", "sentence_transformers", "transformers", "faiss"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _with(settings: Settings, **changes: object) -> Settings:
    from dataclasses import replace

    return replace(settings, **changes)  # type: ignore[arg-type]


def _notice(message: str) -> None:
    print(f"verbatim: {message}", file=sys.stderr)


def service_for(settings: Settings) -> Verbatim:
    """The service the commands use, with notices and progress on standard error (bars on a
    terminal, a few plain lines for long work in a log)."""
    return Verbatim(settings, on_notice=_notice, progress=True)


def opened(settings: Settings) -> Verbatim:
    """The service with its index open (built or updated first when needed), files it skipped noted."""
    service = service_for(settings).open()
    skipped = len(service.corpus.issues)
    if skipped:
        _notice(f"{skipped} file{'s' if skipped > 1 else ''} skipped; `verbatim index` lists them with the reason")
    return service


def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    done = service_for(settings).reindex(verify=args.verify)
    for issue in done.issues:
        print(f"skipped {issue}", file=sys.stderr)
    print(done.report.summary())
    return 1 if done.issues else 0


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    k, filters = _check_k(args.k), filters_from(args)
    service = service_for(settings)
    service.check_question(args.question)
    service = opened(settings)
    check_filters(service, args)
    answer = service.ask(args.question, k=k, filters=filters)
    print(render_answer(answer, service.corpus, color=sys.stdout.isatty()))
    return 0


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    """One JSON line per question; with questions on standard input, exactly one output line per
    input line, in order (an error object for a line that is not a question)."""
    k, filters = _check_k(args.k), filters_from(args)
    if args.question is not None:
        try:
            service_for(settings).check_question(args.question)
        except VerbatimError as exc:
            # The output is JSON whatever happens: a question that cannot be asked is an error object.
            print(json.dumps(_error_object(args.question, exc), ensure_ascii=False))
            return 2
    service = opened(settings)
    check_filters(service, args)
    questions = [args.question] if args.question is not None else (line.rstrip("\r\n") for line in sys.stdin)
    for question in questions:
        try:
            payload = service.ask(question, k=k, filters=filters).to_json()
        except VerbatimError as exc:
            if args.question is not None:
                print(json.dumps(_error_object(question, exc), ensure_ascii=False))
                return 2
            payload = _error_object(question, exc)
        print(json.dumps(payload, ensure_ascii=False), flush=True)
    return 0


ECHOED_CHARS = 200
"""How much of a question that cannot be asked its error object repeats: enough to find the line,
not a pasted document a second time."""


def _error_object(question: str, exc: VerbatimError) -> dict[str, object]:
    shown = question if len(question) <= ECHOED_CHARS else question[:ECHOED_CHARS] + "…"
    return {"question": printable(shown), "answered": False, "results": [], "error": printable(str(exc))}


def cmd_sources(args: argparse.Namespace, settings: Settings) -> int:
    service = service_for(settings)
    print(render_sources(service.documents()))
    for issue in service.corpus.issues:
        print(f"skipped {issue}", file=sys.stderr)
    return 0


def check_filters(service: Verbatim, args: argparse.Namespace) -> None:
    """A `--doc` that names no document is a mistake to point out, not a question nobody can answer."""
    for doc_id in args.doc or ():
        service.document(doc_id)


def cmd_source(args: argparse.Namespace, settings: Settings) -> int:
    service = service_for(settings)
    doc = service.document(args.doc_id)
    paras = service.paragraphs(doc.doc_id)
    if args.paragraph is not None and not 1 <= args.paragraph <= len(paras):
        raise UnknownDocumentError(f"{doc.doc_id} has paragraphs 1 to {len(paras)}, not {args.paragraph}")
    print(render_source(doc, paras, args.paragraph))
    return 0


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    evaluation = service_for(settings).evaluate(args.questions, args.styles, misses=args.misses)
    report = evaluation.report
    if args.verbose_rows:
        for o in report.outcomes:
            print(json.dumps({"id": o.question.qid, "style": o.style, "answered": o.answer.answered, "rank": o.rank}))
    if evaluation.unknown_documents:
        names = ", ".join(evaluation.unknown_documents[:5]) + (" ..." if len(evaluation.unknown_documents) > 5 else "")
        _notice(f"{len(evaluation.unknown_documents)} statement(s) named in the files are not in the corpus: {names}")
    if args.json:
        figures: dict[str, object] = {
            "all": report.metrics(),
            "by_style": {k: t.metrics() for k, t in report.tallies.items()},
        }
        if evaluation.analysis is not None:
            figures["compare_timeline"] = evaluation.analysis.metrics()
        if evaluation.conversations is not None:
            figures["conversations"] = evaluation.conversations.metrics()
        print(json.dumps(figures))
    else:
        print(evaluation.table())
    for kind, lines in evaluation.misses.items():
        print(f"\n== {kind}: {len(lines)}")
        for text in lines:
            print(text)
    return 0


def cmd_compare(args: argparse.Namespace, settings: Settings) -> int:
    filters = Filters.parse(since=args.since or "", until=args.until or "")
    service_for(settings).check_question(args.topic, "topic")
    comparison = opened(settings).compare(args.topic, args.speakers, filters)
    if args.json:
        print(json.dumps(comparison_json(comparison), ensure_ascii=False))
    else:
        print(render_comparison(comparison, color=sys.stdout.isatty()))
    return 0


def cmd_timeline(args: argparse.Namespace, settings: Settings) -> int:
    filters = Filters.parse(since=args.since or "", until=args.until or "")
    service_for(settings).check_question(args.topic, "topic")
    line = opened(settings).timeline(args.topic, args.speaker or "", filters)
    if args.json:
        print(json.dumps(timeline_json(line), ensure_ascii=False))
    else:
        print(render_timeline(line, color=sys.stdout.isatty()))
    return 0


def cmd_feedback(args: argparse.Namespace, settings: Settings) -> int:
    state = service_for(settings).feedback()
    if args.action == "stats":
        weeks = state.weekly(on_damage=_notice)
        if not weeks:
            print("no votes yet")
        for week, right, total in weeks:
            print(f"{week}  {right} of {total} votes say the answer was right ({right / total:.0%})")
        return 0
    lines = [json.dumps(row, ensure_ascii=False) for row in state.export(on_damage=_notice)]
    text = "\n".join(lines) + ("\n" if lines else "")
    if args.out:
        args.out.write_text(text, encoding="utf-8")
        print(f"{len(lines)} voted question(s) written to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    print(service_for(settings).migrate())
    return 0


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    data = service_for(settings).export_installation()
    try:
        args.out.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    except OSError as exc:
        raise VerbatimError(f"cannot write {args.out}: {exc.strerror or exc}") from None
    rows = sum(len(v) for v in data["state"].values())
    files = len(data["statements"])
    print(f"{files} corpus file(s) (statements and alias list) and {rows} state row(s) written to {args.out}")
    return 0


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    try:
        data = json.loads(args.file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise VerbatimError(f"cannot read {args.file} as an export ({exc})") from None
    done = service_for(settings).import_installation(data)
    rows = ", ".join(f"{n} {table}" for table, n in done.rows.items() if n) or "no new state rows"
    print(f"{len(done.written)} corpus file(s) written, {done.unchanged} already here; {rows}")
    for rel in done.different:
        print(f"not overwritten: {rel} differs from the file here", file=sys.stderr)
    if done.written:
        print("run `verbatim index` (or /reindex) to answer from them")
    return 1 if done.different else 0


ADD_FIELDS = ("id", "title", "speaker", "organisation", "venue", "date", "symbol", "kind")


def cmd_add(args: argparse.Namespace, settings: Settings) -> int:
    """Each source is prepared, shown, confirmed (on a terminal) and saved on its own: one bad file
    is reported and the others are still added; the index is updated once at the end."""
    service = service_for(settings)
    overrides = {name: getattr(args, name) for name in ADD_FIELDS if getattr(args, name)}
    service.check_fields(overrides)
    sources = service.addable(args.sources)
    if len(sources) > 1 and "id" in overrides:
        raise VerbatimError("--id names one statement; give one file or link with it")
    terminal = sys.stderr.isatty()
    added, failed = [], 0
    with progress_bar(len(sources), "adding", "file", enabled=len(sources) > 2 and terminal) as shown:
        for source in sources:
            try:
                if terminal and len(sources) < 3:
                    # One large page or PDF can take a minute to read and clean: say what is going on.
                    shown.write(f"verbatim: reading {_size_of(source)}{source} …", file=sys.stderr)
                draft = service.prepare(source, overrides)
                draft.check_complete()  # not asked about what could not be saved
                shown.write(render_draft(draft), file=sys.stdout)
                if not args.yes and not _confirmed():
                    shown.write(f"not added: {source}", file=sys.stdout)
                    continue
                path = service.save(draft)
                shown.write(f"added {source} as {path}", file=sys.stdout)
                added.append(path)
            except IngestError as exc:
                failed += 1
                shown.write(f"not added: {printable(str(exc))}", file=sys.stderr)
            finally:
                shown.update()
    print(f"{len(added)} statement{'s' if len(added) != 1 else ''} added, {failed} refused")
    if added and not args.no_index:
        print(service.reindex().report.summary())
    return 1 if failed else 0


def _size_of(source: str) -> str:
    path = Path(source)
    return f"({path.stat().st_size / 1e6:.1f} MB) " if path.is_file() and path.stat().st_size > 1_000_000 else ""


def _confirmed() -> bool:
    """Asks on standard input, so answers can be piped ("n" keeps a file out); with nothing to read
    (a script, a closed input) the statement is saved, as with --yes."""
    try:
        answer = input("save it? [Y/n] ")
    except (EOFError, OSError):
        print()
        return True
    return answer.strip().lower() in ("", "y", "yes")


def _chat_reply(service: Verbatim, line: str, color: bool, previous: Turn | None) -> tuple[str, Turn | None]:
    """A question (read against the one before it: "and Russia?", "more"), or `/compare TOPIC;
    SPEAKER, SPEAKER`, `/timeline TOPIC`, `/new`, as in Discord; and the conversation after it."""
    command, _, rest = line.partition(" ")
    if command == "/help":
        return (
            "Ask a question, then follow it up (“and Russia?”, “what about 2023?”, “more”), or:\n"
            "  /compare TOPIC; SPEAKER, SPEAKER   positions side by side\n"
            "  /timeline TOPIC                    the statements on it, oldest first\n"
            "  /new                               start a new conversation\n"
            "  /quit                              end (Ctrl-D too)\n"
            "For dates and more, use `verbatim compare` and `verbatim timeline` (see --help)."
        ), previous
    if command == "/new":
        return "A new conversation: the next question stands on its own.", None
    if command == "/compare":
        topic, _, names = rest.partition(";")
        speakers = [n.strip() for n in names.split(",") if n.strip()]
        return render_comparison(service.compare(topic, speakers), color=color), previous
    if command == "/timeline":
        return render_timeline(service.timeline(rest), color=color), previous
    if command.startswith("/") and command[1:].isalpha():
        return (
            f"No command {command} here: /compare, /timeline, /new and /help are; anything else is a question.",
            previous,
        )
    followed = service.follow(line, previous, k=3)
    answer = render_answer(followed.answer, service.corpus, color=color)
    return (f"{followed.reading.line}\n{answer}" if followed.reading.line else answer), followed.turn


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    service = opened(settings)
    print(
        f"Verbatim console: {len(service.corpus)} statements. Ask a question and follow it up (“and Russia?”,"
        " “more”), or `/compare TOPIC; SPEAKER, ...`, `/timeline TOPIC`, `/new`, `/help`; `/quit` or Ctrl-D ends."
    )
    color = sys.stdout.isatty()
    previous: Turn | None = None
    while True:
        try:
            question = input("you> ").strip()
            if not sys.stdin.isatty():
                print(question)  # piped in: the transcript shows what was asked
        except EOFError:
            print()
            return 0
        if not question:
            continue  # an Enter pressed by mistake does not end the conversation
        if question in ("/quit", "/exit"):
            return 0
        try:
            reply, previous = _chat_reply(service, question, color, previous)
            print(reply)
        except VerbatimError as exc:
            print(f"verbatim> {exc}")
            continue
        print()


COMMANDS: dict[str, Handler] = {
    "index": cmd_index,
    "ask": cmd_ask,
    "search": cmd_search,
    "sources": cmd_sources,
    "source": cmd_source,
    "eval": cmd_eval,
    "chat": cmd_chat,
    "migrate": cmd_migrate,
    "export": cmd_export,
    "import": cmd_import,
    "add": cmd_add,
    "compare": cmd_compare,
    "timeline": cmd_timeline,
    "feedback": cmd_feedback,
}


if __name__ == "__main__":
    raise SystemExit(main())
