"""`make bench`: every page's queries timed at demo scales 1, 10 and 100, the attribution
benchmark at 1M deals, then every page in the browser at scales 1, 10 and 100 against a trivial
page, deep links after fresh starts, the new-data check's cost and 20 sessions under load.
Each writes its own section of bench/RESULTS.md. On a shared machine, run it under
`flock /tmp/pulse-heavy.lock make bench`.

The other benchmarks run on their own (each documents its command in its section):
`python -m bench.forecast`, `python -m bench.load` (bench.browser runs it with 20 sessions at
scale 1), `python -m bench.signals_accuracy`, `python -m bench.health_score_eval`, `python -m bench.newtab`
(what a new tab costs per page: server time, bytes sent, DOM and chart nodes).
"""

from __future__ import annotations

import subprocess
import sys

STEPS = [
    ["-m", "bench.pages", "--scales", "1,10,100", "--runs", "5"],
    ["-m", "bench.attribution", "--deals", "1000000", "--partners", "20,2000"],
    ["-m", "bench.browser", "--scales", "1,10,100", "--write"],
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
