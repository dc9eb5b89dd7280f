"""mypy: no error at all in engine/ and handlers/ (strict), and elsewhere none beyond the baseline.

The baseline (mypy-baseline.txt beside this file) lists the errors the code had when the checker came
in, without line numbers so that edits around them do not matter. It may only shrink: a new error
fails, and so does a listed error that is gone until its line is deleted from the file
(``python -m tests.architecture.test_types`` writes the file anew from the current errors).
"""
from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BASELINE = Path(__file__).with_name("mypy-baseline.txt")
STRICT = ("engine/", "handlers/")
ERROR = re.compile(r"^(?P<path>[^:\s]+\.py):\d+(?::\d+)?: error: (?P<message>.*)$")


def current_errors() -> Counter[str]:
    done = subprocess.run([sys.executable, "-m", "mypy", "--no-error-summary", "--no-pretty"], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode in (0, 1), done.stdout + done.stderr  # 2: mypy itself failed
    return Counter(f"{m['path']}: {m['message']}" for line in done.stdout.splitlines() if (m := ERROR.match(line)))


def baseline() -> Counter[str]:
    return Counter(line for line in BASELINE.read_text().splitlines() if line and not line.startswith("#"))


def test_mypy_strict_packages_and_the_baseline():
    errors = current_errors()
    strict = sorted(e for e in errors if e.startswith(STRICT))
    assert strict == [], "strict packages must type-check:\n" + "\n".join(strict)
    new = errors - baseline()
    assert not new, "new type errors (fix them; never add them to the baseline):\n" + "\n".join(sorted(new))
    fixed = baseline() - errors
    assert not fixed, ("errors fixed: delete these lines from tests/architecture/mypy-baseline.txt:\n"
                       + "\n".join(sorted(fixed)))


if __name__ == "__main__":
    lines = sorted(current_errors().elements())
    BASELINE.write_text("# mypy errors outside engine/ and handlers/ when the checker came in; may only shrink\n"
                        + "\n".join(lines) + "\n")
    print(f"{len(lines)} errors in the baseline")
