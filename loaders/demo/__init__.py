"""Demo partner program: a realistic, deterministic set of extracts.

Owns the generator behind ``python -m loaders demo DIR``: one CSV per table, in the
canonical columns of the data contract (docs/design.md, "Data contract"), plus
ground truth under ``DIR/truth/`` that tests compare the analytics against:
``truth/archetypes.csv`` (each partner's story and the days it turned: stopped, paused,
resumed, began to decline, and how much of its rate it kept), ``truth/effort_rate.csv``
(each partner's expected effort per week, as steps: what its activities were drawn from)
and ``truth/planted_errors.csv`` (every disagreement planted on purpose). The loader ignores
``truth/``; loading, validation and every metric belong to ``loaders`` and ``queries``.

The data is clean (no bad rows): what it plants are business processes (partners who grow,
stop, pause, decline by varying depths from varying days, dip for a while, keep a slow rhythm;
tickets and certifications from their own rates; seasonality, slips) and the seven disagreement
kinds, each at its own share. Partner behaviour is drawn from these processes alone: nothing
here knows the app's detectors or their thresholds (it imports nothing from ``settings.py`` nor
``queries``; tests/test_demo.py scans its imports), so partners fall on both sides of every
rule and the detectors are judged against what was drawn, not against a copy of themselves.

Everything is vectorised over whole columns (numpy / polars; the only Python loops run
over weeks, classes or a handful of rounds, never over deals, touchpoints or activities),
so scale 100 (2M opportunities, 20M activities) stays feasible. Each generation step
draws from its own seeded stream: the same seed and scale give byte-identical files.

The package, a module per table or table family: ``program`` (the demo program's plan, size
and error shares), ``vocabulary`` (the values it writes: the data contract's allowed values
read from loaders/schema.py, and the program's own), ``behaviour`` (each partner's story and
weekly rates: growth, declines, stops and dormancy, pauses and returns, dips, onboarding
bursts, friction), ``partners``, ``opportunities``, ``history``, ``touchpoints``,
``registrations``, ``payouts``, ``activities``, ``truth``; ``days``, ``draws``, ``names`` and
``columns`` hold what they share; ``driver`` runs them in order.
"""

from loaders.demo.days import DEMO_END
from loaders.demo.driver import write_demo
from loaders.demo.program import ERROR_KINDS, LOOKBACK_DAYS, PAYMENT_TERMS_DAYS, PLAN_MODEL, TIER_RATES

__all__ = ["DEMO_END", "ERROR_KINDS", "LOOKBACK_DAYS", "PAYMENT_TERMS_DAYS", "PLAN_MODEL", "TIER_RATES", "write_demo"]
