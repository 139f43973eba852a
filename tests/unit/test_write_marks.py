"""The host's write marks (db/write_marks.py): shared by processes, only growing, started afresh for another
primary."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from wealthgate.db.write_marks import WriteMarks, marks_file
from wealthgate.throttling.shared import counters_file

SYSTEM = 7_412_345_678_901_234_567


def _mark_in_another_process(path: str, lsn: int) -> None:
    marks = WriteMarks(Path(path), SYSTEM)
    marks.mark(1, 42, lsn)
    marks.close()


def test_a_mark_made_by_another_process_is_seen(tmp_path: Path) -> None:
    path = tmp_path / "marks"
    mine = WriteMarks(path, SYSTEM)
    assert mine.get(1, 42) == 0
    other = multiprocessing.get_context("spawn").Process(
        target=_mark_in_another_process, args=(str(path), 5000)
    )
    other.start()
    other.join(timeout=60)
    assert other.exitcode == 0
    assert mine.get(1, 42) == 5000  # through the shared mapping, no reopening
    assert mine.get(2, 42) == 0  # another firm's key of the same id is another key
    mine.close()


def test_marks_only_grow(tmp_path: Path) -> None:
    marks = WriteMarks(tmp_path / "marks", SYSTEM)
    marks.mark(1, 1, 900)
    marks.mark(1, 1, 300)  # a slower request finishing after a later write's
    assert marks.get(1, 1) == 900
    marks.mark(1, 1, 901)
    assert marks.get(1, 1) == 901
    marks.close()


def test_marks_of_another_primary_are_forgotten(tmp_path: Path) -> None:
    path = tmp_path / "marks"
    first = WriteMarks(path, SYSTEM)
    first.mark(1, 1, 10**12)
    first.close()
    assert WriteMarks(path, SYSTEM).get(1, 1) == 10**12  # the same primary: kept
    assert WriteMarks(path, SYSTEM + 1).get(1, 1) == 0  # positions of another WAL history mean nothing here


def test_the_file_is_named_after_the_primary_without_its_credentials(tmp_path: Path) -> None:
    one = marks_file(tmp_path, "postgresql://app:secret@/wealthgate?host=/run/a")
    two = marks_file(tmp_path, "postgresql://app:other@/wealthgate?host=/run/b")
    assert one != two  # servers on Unix sockets differ only in the socket directory
    assert one == marks_file(tmp_path, "postgresql://app:changed@/wealthgate?host=/run/a")
    assert "secret" not in str(one)


def test_the_rate_counters_are_named_the_same_way(tmp_path: Path) -> None:
    """One naming rule for the host's shared files (host_files.run_file). Before, the counters' name kept only
    host, port and path: two services on different Unix sockets, with one home, counted keys together."""
    one = counters_file(tmp_path, "postgresql://app:secret@/wealthgate?host=/run/a")
    assert one != counters_file(tmp_path, "postgresql://app:secret@/wealthgate?host=/run/b")
    assert one == counters_file(tmp_path, "postgresql://app:changed@/wealthgate?host=/run/a")
    assert counters_file(tmp_path, None) != one  # the embedded database
    assert (
        one.parent
        == marks_file(tmp_path, "postgresql://x@/wealthgate?host=/run/a").parent
        == tmp_path / "run"
    )
