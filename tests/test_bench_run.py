"""``bench/run.py`` (``make bench``): the suite, and the cached data built before anything is measured."""

from __future__ import annotations

import json
from pathlib import Path

from bench import run


def test_the_suite_and_its_data_builds_are_read_from_the_sources() -> None:
    names = [path.name for path in run.suite()]
    assert {"import_100k.py", "intake.py", "reports_scale.py", "report_history.py"} <= set(names)
    assert "run.py" not in names and "generate.py" not in names
    builds = run.data_builds(run.suite())
    assert builds[0][1] == ["-m", "bench.generate", "1000000"]  # the longest first
    assert [seconds for seconds, _ in builds] == sorted((seconds for seconds, _ in builds), reverse=True)
    assert ["bench/report_history.py", "--prepare", "--years", "10"] in [args for _, args in builds]
    # notice_timing.py and reports_scale.py both read the 10,000-response province: built once, not twice at once
    assert [args for _, args in builds].count(["-m", "bench.generate", "10000"]) == 1


def test_builds_run_side_by_side_and_a_failure_is_reported_without_stopping_the_others(tmp_path: Path) -> None:
    script = tmp_path / "step.py"
    script.write_text("import json, sys, time\n"
                      "start = time.time(); time.sleep(0.4)\n"
                      "open(sys.argv[1], 'w').write(json.dumps([start, time.time()]))\n", encoding="utf-8")
    marks = [tmp_path / f"{n}.json" for n in range(2)]
    lines = run.prepare([(2.0, [str(script), str(marks[0])]), (1.0, ["-c", "raise SystemExit('no disk')"]),
                         (1.0, [str(script), str(marks[1])])], workers=2)
    assert "FAILED (exit 1)" in lines[1] and "no disk" in lines[1]
    assert "FAILED" not in lines[0] and "FAILED" not in lines[2]
    (a_start, a_end), (b_start, b_end) = (json.loads(mark.read_text()) for mark in marks)
    assert b_start < a_end and a_start < b_end  # two at a time: the third began while the first still ran

