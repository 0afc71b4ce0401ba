"""The agents' memory: error signatures, attempts and lessons, retrieval."""

from __future__ import annotations

from alchemist.aca import AttemptRow, Lesson, Memory, error_signature, normalize


def test_signatures_drop_what_varies_between_runs():
    a = "E   KeyError: 17 at /tmp/alchemist-x1/optimizer/model.py line 40 0x7fab12"
    b = "E   KeyError: 3 at /tmp/alchemist-y9/optimizer/model.py line 41 0x7fcc00"
    assert error_signature(a) == error_signature(b) == "KeyError: <n> at <path> line <n> <hex>"
    out = (
        "E       AssertionError: missing keys: {'solve_seconds'}\n"
        "FAILED tests/test_contract.py::test_cli_prints_the_contract - AssertionError: ...\n"
        "1 failed, 5 passed in 3.21s"
    )
    assert error_signature(out) == (
        "AssertionError: missing keys: {'solve_seconds'} in test_cli_prints_the_contract"
    )
    tb = 'Traceback (most recent call last):\n  File "x.py", line 3\nmodule.sub.ValueError: bad 12'
    assert error_signature(tb) == "ValueError: bad <n>"
    assert normalize("took 12.5s in /a/b/c.py") == "took <n>s in <path>"


def test_attempts_and_lessons_round_trip(tmp_path):
    path = tmp_path / "mem.sqlite"
    with Memory(path) as mem:
        mem.record_attempt(
            AttemptRow(
                task="t1",
                agent="optimizer",
                spec_hash="h",
                kinds=["cover"],
                attempt=1,
                error_signature="KeyError: <n>",
                diff="--- a\n+++ b",
                outcome="failed",
            )
        )
        mem.add_lesson(
            Lesson(
                task="t1",
                agent="optimizer",
                kinds=["cover", "fatigue"],
                error_signature="KeyError: <n>",
                what_failed="fatigue window",
                why="off by one",
                next_step="use days + 1",
            )
        )
    with Memory(path) as again:  # persisted
        assert again.attempts("t1")[0].diff == "--- a\n+++ b"
        (lesson,) = again.lessons()
        assert lesson.kinds == ["cover", "fatigue"] and "use days + 1" in lesson.text()


def test_retrieval_by_kinds_and_signature():
    mem = Memory(":memory:")

    def add(task: str, kinds: list[str], sig: str = "") -> None:
        mem.add_lesson(
            Lesson(
                task=task,
                agent="optimizer",
                kinds=kinds,
                error_signature=sig,
                what_failed=task,
                why="-",
                next_step="-",
            )
        )

    add("fatigue", ["cover", "fatigue"])
    add("weekends", ["cover", "max_weekends", "complete_weekends"])
    add("only-cover", ["cover"])
    add("by-signature", ["budget"], "KeyError: <n>")
    mem.add_lesson(
        Lesson(
            task="sim",
            agent="simulator",
            kinds=["fatigue"],
            what_failed="x",
            why="-",
            next_step="-",
        )
    )
    found = [x.task for x in mem.lessons_for("optimizer", ["cover", "fatigue", "max_weekends"])]
    assert found == ["weekends", "fatigue"]  # cover alone is too weak a link; other agents apart
    found = [x.task for x in mem.lessons_for("optimizer", ["cover"], signature="KeyError: <n>")]
    assert found == ["by-signature"]
    assert mem.lessons_for("optimizer", ["fatigue"], exclude_task="fatigue") == []
