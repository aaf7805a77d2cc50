"""The command line's progress bar: one line a tenth of the way when the output is a file,
and the same reports a job makes."""

from __future__ import annotations

import io

from app.evaluate.progress_bar import ProgressBar


def test_a_file_gets_a_line_at_the_start_and_each_tenth_and_the_bar_says_how_far():
    stream = io.StringIO()
    bar = ProgressBar(40, stream)
    progress = bar.progress()
    for step in range(1, 41):
        progress.report(step, 0.1)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 11  # the first step, then each tenth
    assert lines[-1].startswith("[" + "#" * 30 + "] 40/40 ")
    assert "elapsed" in lines[0] and "left" in lines[0]


def test_the_bar_lets_the_run_go_on():
    assert ProgressBar(3, io.StringIO()).report(1, 0.5) == "running"
