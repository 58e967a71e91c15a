"""The embedded store against PostgreSQL, side by side in one run (read the ratios; these machines
are noisy):

    .venv/bin/python benchmarks/shared_store.py          # about a minute; starts its own PostgreSQL

- a member's message as the bot handles it: the conversation looked up, the question answered,
  the turn kept and the answer recorded (p50/p95 over the seed corpus, the real model), with the
  state in the SQLite file and in PostgreSQL;
- the state operations alone (record an answer and a vote; look up and keep a conversation);
- propagation: a statement added by one process (another corpus folder, the same database) until
  a listening service has fetched it, rebuilt and answers from it, with the listener in this
  process and in a second process. The embedded store has nothing to propagate to: one folder, one
  process.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from embeddings.answer.conversation import Turn  # noqa: E402
from embeddings.answer.search import Answer  # noqa: E402
from embeddings.postgres import PostgresState  # noqa: E402
from embeddings.service import Verbatim  # noqa: E402
from embeddings.settings import Settings  # noqa: E402
from embeddings.state import State, Store  # noqa: E402
from tests.postgres_server import postgres_server  # noqa: E402

QUESTIONS = [
    "What did Japan say about the ICBM launch in November 2024?",
    "and the US?",
    "what about 2023?",
    "did they mention sanctions?",
    "Who supplies Russia with artillery shells?",
    "more",
]
ROUNDS = 20
HOUR = dt.timedelta(hours=1)
STATEMENT = (
    "---\ntitle: Freedonia on cod, {n}\nspeaker: Delegation of Freedonia\nvenue: OSCE Permanent Council\n"
    "date: 2025-02-0{n}\n---\nFreedonia calls for a moratorium on cod fisheries number {n} in the northern waters.\n"
)


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def timed(work: Callable[[], object], rounds: int) -> list[float]:
    out = []
    for _ in range(rounds):
        start = time.perf_counter()
        work()
        out.append((time.perf_counter() - start) * 1000)
    return out


def message_path(service: Verbatim, store: Store) -> list[float]:
    """What the bot does for each mention, conversation included."""
    samples: list[float] = []
    for round_ in range(ROUNDS):
        key = f"message:{round_}"
        previous: Turn | None = None
        for question in QUESTIONS:
            start = time.perf_counter()
            found = store.turn(key, HOUR) if previous else None
            followed = service.follow(question, found, k=3)
            store.keep_turn(key, followed.turn)
            store.record_answer(followed.answer)
            samples.append((time.perf_counter() - start) * 1000)
            previous = followed.turn
    return samples


def state_ops(store: Store) -> tuple[list[float], list[float]]:
    answer = Answer("q", False)

    def vote() -> None:
        store.vote(store.record_answer(answer), "m", "answers")

    def conversation() -> None:
        store.keep_turn("thread:1", Turn("q", "Japan"))
        store.turn("thread:1", HOUR)

    return timed(vote, 200), timed(conversation, 200)


LISTENER = """
import sys, threading, time
from pathlib import Path
from embeddings.service import Verbatim
from embeddings.settings import Settings
service = Verbatim(Settings(corpus_dir=Path(sys.argv[1]), index_dir=Path(sys.argv[2]), database_url=sys.argv[3]))
service.open()
stop = threading.Event()
def heard(path):
    service.reindex()
    print(f"{time.time():.6f} {len(service.corpus)}", flush=True)
threading.Thread(target=service.listen_for_statements, args=(heard, stop), daemon=True).start()
print("ready", flush=True)
sys.stdin.readline()
"""


def propagation(url: str, seeds: Path, work: Path, rounds: int = 3) -> tuple[list[float], list[float]]:
    """Seconds from a statement's publication by another corpus folder to a listener answering from
    it: the listener in this process, then in a second one."""
    adder = Verbatim(Settings(corpus_dir=work / "adder", index_dir=work / "adder-ix", database_url=url))
    here = Verbatim(Settings(corpus_dir=work / "here", index_dir=work / "here-ix", database_url=url))
    shutil.copytree(seeds, work / "here")
    here.open()
    heard = threading.Event()
    stop = threading.Event()
    threading.Thread(
        target=here.listen_for_statements, args=(lambda _p: (here.reindex(), heard.set()), stop), daemon=True
    ).start()
    time.sleep(1.0)  # LISTEN registered (a benchmark, not a test: nothing to await on)
    same: list[float] = []
    for n in range(1, rounds + 1):
        heard.clear()
        start = time.perf_counter()
        adder.state.publish(f"cod{n}.txt", STATEMENT.format(n=n).encode())
        heard.wait(120)
        same.append(time.perf_counter() - start)
    stop.set()
    shutil.copytree(seeds, work / "there")
    child = subprocess.Popen(
        [sys.executable, "-c", LISTENER, str(work / "there"), str(work / "there-ix"), url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert child.stdout is not None and child.stdin is not None
    assert child.stdout.readline().strip() == "ready"
    time.sleep(1.0)
    other: list[float] = []
    for n in range(rounds + 1, 2 * rounds + 1):
        start = time.time()
        adder.state.publish(f"cod{n}.txt", STATEMENT.format(n=n).encode())
        stamp, _count = child.stdout.readline().split()
        other.append(float(stamp) - start)
    child.stdin.write("\n")
    child.stdin.flush()
    child.wait(30)
    return same, other


def fetch_or_build(url: str, seeds: Path, work: Path) -> tuple[float, float]:
    """Seconds for a machine joining with the same statements: fetching the shared build (made by
    the machines above) against building it here with the embedded store."""
    joining = Verbatim(Settings(corpus_dir=work / "joining", index_dir=work / "joining-ix", database_url=url))
    start = time.perf_counter()
    joining.reindex()
    fetched = time.perf_counter() - start
    alone = Verbatim(Settings(corpus_dir=work / "joining", index_dir=work / "alone-ix"))
    start = time.perf_counter()
    alone.reindex()
    return fetched, time.perf_counter() - start


def main() -> int:
    seeds = ROOT / "corpus"
    work = Path(tempfile.mkdtemp(prefix="verbatim-store-bench-"))
    try:
        with postgres_server() as server:
            url = server.new_database()
            PostgresState(url, check=False).migrate()
            settings = Settings(corpus_dir=seeds, index_dir=work / "ix")
            service = Verbatim(settings).open()
            stores: dict[str, Store] = {
                "embedded (SQLite)": State(work / "s.sqlite3"),
                "PostgreSQL": PostgresState(url),
            }
            print(f"{'':<20}{'message p50':>13}{'p95':>8}{'vote p50':>10}{'p95':>8}{'turn p50':>10}{'p95':>8}  (ms)")
            for name, store in stores.items():
                mp50, mp95 = percentiles(message_path(service, store))
                votes, turns = state_ops(store)
                (v50, v95), (t50, t95) = percentiles(votes), percentiles(turns)
                print(f"{name:<20}{mp50:>13.1f}{mp95:>8.1f}{v50:>10.2f}{v95:>8.2f}{t50:>10.2f}{t95:>8.2f}")
            shared = server.new_database()
            PostgresState(shared, check=False).migrate()
            same, other = propagation(shared, seeds, work)
            print("\npropagation of a new statement to a listener answering from it (s, median of 3):")
            for where, seconds in (("the same process", same), ("a second process", other)):
                runs = ", ".join(f"{x:.2f}" for x in seconds)
                print(f"  listener in {where}: {statistics.median(seconds):.2f}  ({runs})")
            print("  embedded store: no other process to reach (one folder, one process)")
            fetched, built = fetch_or_build(shared, seeds, work)
            print(f"\na machine joining: the shared build fetched in {fetched:.2f} s, built here in {built:.2f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
