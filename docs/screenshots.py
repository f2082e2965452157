"""The screenshots in docs/, taken by the browser tests that check those pages (`make docs`).

A test keeps what it sees in tests/artifacts/ (git-ignored), so a test run leaves the checkout as it
found it. This script runs those tests and copies their screenshots over the ones in docs/: the picture
in the docs is always one a test has checked. It needs what the server tests need (`make setup
test-deps`: Debian's chromium, the Argilla server venv built on first use); 40 s on 2 cores.

    python docs/screenshots.py                 # all of them
    python docs/screenshots.py dashboard.png   # one
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
ARTIFACTS = ROOT / "tests" / "artifacts"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# a screenshot in docs/ -> the test that takes it (under the same name, in tests/artifacts/)
SHOTS = {
    "dashboard.png": (
        "tests/test_dashboard.py::test_dashboard_in_the_browser_shows_the_answers_and_backs_up_when_changed"
    ),
    "annotation-ja.png": "tests/test_annotation_browser.py::test_annotator_rates_a_completion_in_the_browser",
    "annotation-flag-ja.png": (
        "tests/test_annotation_browser.py::test_annotator_rates_a_completion_in_the_browser"
    ),
}


def is_png(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(len(PNG_SIGNATURE)) == PNG_SIGNATURE


def main(names: list[str]) -> int:
    unknown = sorted(set(names) - set(SHOTS))
    if unknown:
        print(f"error: no screenshot {', '.join(unknown)} (known: {', '.join(SHOTS)})", file=sys.stderr)
        return 2
    names = names or list(SHOTS)
    start = time.time()
    tests = [SHOTS[name] for name in names]
    print(f"$ pytest {' '.join(tests)}", flush=True)
    if subprocess.run([sys.executable, "-m", "pytest", "-q", *tests], cwd=ROOT).returncode != 0:
        print("error: a screenshot test failed (see above); docs/ is unchanged", file=sys.stderr)
        return 1
    for name in names:
        shot = ARTIFACTS / name
        if not shot.is_file() or shot.stat().st_mtime < start or not is_png(shot):
            print(f"error: {SHOTS[name]} passed but left no new PNG at {shot}", file=sys.stderr)
            return 1
        shutil.copyfile(shot, DOCS / name)
        print(f"docs/{name} <- {shot.relative_to(ROOT)} ({shot.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"default: all ({', '.join(SHOTS)})")
    sys.exit(main(parser.parse_args().names))
