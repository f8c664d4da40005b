"""`make bench`: every page's queries timed at demo scales 1, 10 and 100, then the attribution
benchmark at 1M deals. Each writes its own section of bench/RESULTS.md.

The other benchmarks run on their own (each documents its command in its section):
`python -m bench.forecast`, `python -m bench.load`, `python -m bench.signals_accuracy`,
`python -m bench.health_score_eval`.
"""

from __future__ import annotations

import subprocess
import sys

STEPS = [
    ["-m", "bench.pages", "--scales", "1,10,100", "--runs", "5"],
    ["-m", "bench.attribution", "--deals", "1000000", "--partners", "20,2000"],
]


def main() -> int:
    for step in STEPS:
        print("running", " ".join(step), file=sys.stderr)
        code = subprocess.call([sys.executable, *step])
        if code:
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
