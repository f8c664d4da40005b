"""`write_demo`: draws the demo program table by table, in the order each step needs the last,
and writes one CSV per table plus the truth."""

from __future__ import annotations

from pathlib import Path

from loaders.demo.activities import make_activities
from loaders.demo.behaviour import ARCHETYPES, weekly_rates
from loaders.demo.columns import ids, write_csv
from loaders.demo.draws import stream
from loaders.demo.history import history_frame, make_history
from loaders.demo.names import human_names
from loaders.demo.opportunities import decide_outcomes, make_accounts, make_deals, opportunities_frame
from loaders.demo.partners import make_partners
from loaders.demo.payouts import make_payouts, payouts_frame
from loaders.demo.program import BASE_ACTIVITIES, BASE_OPPORTUNITIES, BASE_PARTNERS
from loaders.demo.registrations import make_registrations, registrations_frame
from loaders.demo.touchpoints import make_touches, touchpoints_frame
from loaders.demo.truth import Planted, effort_frame, planted_frame, story_frame
from loaders.demo.vocabulary import REGIONS


def write_demo(out_dir: Path, scale: float = 1.0, seed: int = 7) -> dict[str, int]:
    """Write a demo partner program's extracts, one CSV per table, into out_dir.

    About 500 partners, 20,000 opportunities, 60,000 touchpoints, 4,000 registrations and
    200,000 activities per unit of scale, over three years ending on DEMO_END. Ground truth
    for tests goes to ``out_dir/truth/`` (archetypes.csv, effort_rate.csv, planted_errors.csv).

    Returns rows written per table. The same seed and scale give byte-identical files.
    """
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale}")
    out_dir = Path(out_dir)
    (out_dir / "truth").mkdir(parents=True, exist_ok=True)
    n_partners = max(len(ARCHETYPES), round(BASE_PARTNERS * scale))
    n_deals = max(100, round(BASE_OPPORTUNITIES * scale))
    n_accounts = max(20, round(0.5 * n_deals))  # ~2 deals per customer account
    n_managers = max(1, round(n_partners / 40))
    n_reps = max(len(REGIONS), round(60 * scale))

    people = human_names(stream(seed, "people"), n_managers + n_reps)
    p = make_partners(n_partners, people[:n_managers], seed)
    # ~3% of activities come from registrations and planted signals, outside the rates.
    rates = weekly_rates(p, 0.97 * BASE_ACTIVITIES * scale, seed)
    accounts = make_accounts(n_accounts, seed)

    d = make_deals(n_deals, accounts, rates, seed)
    t = make_touches(d, p, rates, seed)
    decide_outcomes(d, t, p, seed)
    h = make_history(d, seed)
    planted = Planted.empty()
    reg = make_registrations(d, t, p, rates, accounts.region, planted, seed)
    pay = make_payouts(d, t, p, rates, planted, seed)

    partner_ids = p.frame["partner_id"]
    deal_ids = ids("O", n_deals, 7)
    registrations, reg_ids = registrations_frame(reg, partner_ids, deal_ids, accounts.names)
    payouts, payout_ids = payouts_frame(pay, partner_ids, deal_ids)
    tables = {
        "partners": p.frame,
        "partner_activities": make_activities(p, rates, reg, reg_ids, seed),
        "opportunities": opportunities_frame(d, h, accounts, people[n_managers:], deal_ids, partner_ids, seed),
        "opportunity_history": history_frame(h, deal_ids),
        "touchpoints": touchpoints_frame(t, deal_ids, partner_ids),
        "deal_registrations": registrations,
        "payouts": payouts,
    }
    for name, frame in tables.items():
        write_csv(frame, out_dir / f"{name}.csv")
    write_csv(story_frame(p, partner_ids), out_dir / "truth" / "archetypes.csv")
    effort_frame(p, rates, partner_ids).write_csv(out_dir / "truth" / "effort_rate.csv", float_precision=4)
    write_csv(planted_frame(planted, payout_ids, deal_ids, partner_ids, reg_ids), out_dir / "truth" / "planted_errors.csv")
    return {name: frame.height for name, frame in tables.items()}
