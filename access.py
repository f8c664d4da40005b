"""Who sees what: the viewer's identity, role and partner scope, the one registry of what each
role may open and run, and the runner's side of it (applied below the pages).

Identity comes from Streamlit's OIDC login (`st.login` / `st.user`) when `.streamlit/secrets.toml`
has an `[auth]` section; without one the app runs in local mode as admin, and says so.
Roles map emails to executive, partner_lead, finance or admin in the program settings
(`[roles."someone@example.com"]`); everyone else is denied (deny by default).

The registry (`PAGES`, `OUTPUTS`, `ACTIONS`) holds a role decision for every page, every named
output and every action; a name without one is refused (tests/test_access_runner.py names any
page or output missing here). Every output declares its payout-money columns and whether it is
partner-level (`queries/__init__.py`); `bound` and `shown` apply those declarations for a
viewer, for the pages (`queries.serving.run`) and the command line (`run`) alike:
- a role the registry does not name for the output is refused;
- a partner lead (a viewer with a partner scope) is refused a partner-level output that does
  not take `$managers` (deny by default), and gets their scope injected into every output that
  does, whatever the caller passed, so a page cannot forget it;
- an output that writes money into rows or text gets `sees_money` from the viewer (a caller may
  not pass it), and the money columns it declares are dropped for a viewer without money access.
Pages only choose what to draw (`may`): they hold no role rule of their own.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import duckdb
import polars as pl

import queries

ROLES = ("executive", "partner_lead", "finance", "admin")
# Payout amounts, commissions and the finance pages.
FINANCE_ROLES = {"finance", "executive", "admin"}
# A manager value no partner has: a scope that matches nothing still filters (deny by default).
NO_PARTNER = "\x00no partner"


@dataclass(frozen=True)
class Viewer:
    email: str | None
    role: str | None
    # None = every partner; a list = only partners with one of these partner_manager values.
    managers: tuple[str, ...] | None
    local_mode: bool = False

    @property
    def sees_money(self) -> bool:
        """Payout amounts and commissions are confidential to finance, executives and admins."""
        return self.role in FINANCE_ROLES

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def scope(self, selected: list[str] | None) -> list[str] | None:
        """The managers a query may see: the selection, narrowed to the viewer's own partners."""
        if self.managers is None:
            return selected
        if selected:
            return [m for m in selected if m in self.managers] or [NO_PARTNER]
        return list(self.managers) or [NO_PARTNER]


LOCAL_ADMIN = Viewer(email=None, role="admin", managers=None, local_mode=True)


def viewer_for(user: dict, settings_json: str | None) -> Viewer | None:
    """The viewer for an `st.user` dict, or None when login is configured but not done yet.

    `is_logged_in` is absent from st.user when no [auth] section is configured (local mode).
    """
    logged_in = user.get("is_logged_in")
    if logged_in is None:
        return LOCAL_ADMIN
    if not logged_in:
        return None
    email = str(user.get("email") or "").lower()
    roles = json.loads(settings_json).get("roles", {}) if settings_json else {}
    entry = next((value for key, value in roles.items() if key.lower() == email), None)
    if entry is None:
        return Viewer(email=email, role=None, managers=())
    managers = tuple(entry.get("partner_managers") or ()) if entry["role"] == "partner_lead" else None
    return Viewer(email=email, role=entry["role"], managers=managers)


class Refused(PermissionError):
    """The viewer may not open this page or run this output."""


# ---- the registry: one role decision per page, output and action ---------------------------

EVERYONE = frozenset(ROLES)
MONEY_ROLES = frozenset(FINANCE_ROLES)
ADMINS = frozenset({"admin"})
# A partner's statement is what finance sends the partner: finance and admins only (issue 24).
STATEMENT_ROLES = frozenset({"finance", "admin"})
# Read by the frame before it knows who is looking (the roles are in it): no viewer (None) too.
BEFORE_SIGN_IN = EVERYONE | {None}

# Pages, by their file's stem in pages/.
PAGES: dict[str, frozenset[str | None]] = {
    "health": EVERYONE,
    "forecast": EVERYONE,
    "changes": EVERYONE,  # the pipeline and forecast moves, scoped to a partner lead's partners
    "engagement": EVERYONE,
    "partner": EVERYONE,
    "attribution": MONEY_ROLES,  # credit and payout liability per scenario
    "disagreements": MONEY_ROLES,  # money at stake, payouts against the plan
    "statement": STATEMENT_ROLES,  # a partner's commission, payouts and what is owed
    "data": EVERYONE,
    "glossary": EVERYONE,
}

ACTIONS: dict[str, frozenset[str | None]] = {
    "load_extracts": ADMINS,  # upload extracts and rebuild the served database
    # Read and record contacts with partners (notes.py): the people who talk to partners. A
    # partner lead's log holds their own partners only (`outreach_partners`).
    "outreach_log": frozenset({"partner_lead", "executive", "admin"}),
}


def _decided(*groups: tuple[frozenset[str | None], str]) -> dict[str, frozenset[str | None]]:
    decided: dict[str, frozenset[str | None]] = {}
    for roles, names in groups:
        for name in names.split():
            if name in decided:
                raise ValueError(f"{name} has two role decisions")
            decided[name] = roles
    return decided


OUTPUTS: dict[str, frozenset[str | None]] = _decided(
    (BEFORE_SIGN_IN, "program_meta"),
    # What the pages every role is offered show; a partner lead's are scoped to their partners and
    # lose their money columns (partner_signals, tier_check, partner_payouts, partner_profile, ...).
    (
        EVERYONE,
        """
        filter_options load_report stale_tables quarantine_alarms
        program_kpis kpi_trend_by_quarter kpi_breakdown tier_check
        partner_health partner_health_movers partner_health_history
        win_model_evaluation win_model_calibration win_model_coefficients
        partner_signals partner_flags engagement_by_month cohort_curves
        partner_search partners_matching partner_profile partner_deals partner_timeline partner_payouts
        partner_activity_by_month partner_credit_by_model
        pipeline_forecast forecast_deals forecast_backtest forecast_accuracy forecast_caveats
        pipeline_changes pipeline_change_totals forecast_history
        """,
    ),
    # The finance pages and commission: payout money throughout.
    (
        MONEY_ROLES,
        """
        attribution_scenario attribution_credit attribution_commission_rules attribution_payouts_by_quarter
        attribution_won_revenue attribution_partners
        attribution_disagreements attribution_trust_by_quarter disagreement_evidence disagreement_plan
        unpaid_credit_by_partner unpaid_credit_by_partner_from_attribution
        attribution_moves
        """,
    ),
    (
        STATEMENT_ROLES,
        "partner_statement partner_statement_disagreements partner_statement_payouts partner_statement_deal_payments",
    ),
    # Rows as read (any partner, payout amounts), and the building blocks other outputs and the
    # build read (no page shows them; `python -m queries export` runs them as an admin).
    (
        ADMINS,
        """
        quarantine
        attribution_closed_deals attribution_eligible_touches
        attribution_partner_groups attribution_path_codes_stored attribution_path_deals_stored
        attribution_paths_stored attribution_sourced_weights attribution_stored_touches attribution_tied_touches
        attribution_touch_codes attribution_disagreements_stored
        attribution_trust_by_quarter_stored attribution_trust_deals
        forecast_stored_backtest forecast_stored_caveats forecast_stored_deals forecast_stored_forecast
        forecast_stored_states pipeline_as_of
        pipeline_changes_stored pipeline_change_totals_stored forecast_history_stored
        pipeline_changes_stored_dates forecast_history_stored_quarter
        health_inputs partner_health_scores health_stored_days health_stored_movers health_stored_scores
        health_won_deals_by_quarter
        kpis_by_period kpis_stored_by_period partner_activity_summary signals_stored partner_signal_rows
        """,
    ),
)


def _role(viewer: Viewer | None) -> str | None:
    return viewer.role if viewer is not None else None


def sees_money(viewer: Viewer | None) -> bool:
    return viewer is not None and viewer.sees_money


def may_open(viewer: Viewer | None, page: str) -> bool:
    """Whether the viewer is offered this page (its file's stem in pages/)."""
    return _role(viewer) in PAGES.get(page, frozenset())


def may(viewer: Viewer | None, name: str) -> bool:
    """Whether the viewer may run this output or do this action: what a page asks to choose what to draw."""
    if name in ACTIONS:
        return _role(viewer) in ACTIONS[name]
    try:
        return refusal(viewer, queries.output(name)) is None
    except KeyError:
        return False


def refusal(viewer: Viewer | None, output: queries.Output) -> str | None:
    """Why the viewer may not run the output, in words, or None when they may."""
    roles = OUTPUTS.get(output.name)
    if roles is None:
        return f"{output.name} has no role decision in access.OUTPUTS, so it is shown to no one"
    if _role(viewer) not in roles:
        who = f"a viewer with the role {viewer.role}" if viewer is not None and viewer.role else "a viewer without a role"
        return f"{output.name} is not shown to {who}"
    if viewer is not None and viewer.managers is not None and output.scope != "program" and not output.takes("managers"):
        return f"{output.name} names partners and cannot be narrowed to a partner lead's own (it takes no managers filter)"
    return None


def bound(viewer: Viewer | None, name: str, params: dict[str, Any]) -> tuple[queries.Output, dict[str, Any]]:
    """The output and the parameters it runs with for this viewer.

    Raises Refused when the viewer may not run it, queries.ParamError for a parameter it does not
    take, a required one missing, or a `sees_money` passed by the caller (it is the viewer's)."""
    try:
        output = queries.output(name)
    except KeyError:
        raise Refused(f"no output named {name!r}") from None
    why = refusal(viewer, output)
    if why:
        raise Refused(why)
    if "sees_money" in params:
        raise queries.ParamError(f"{name}: sees_money is set from the viewer, not by the caller")
    params = dict(params)
    if output.takes("managers"):
        params["managers"] = viewer.scope(params.get("managers")) if viewer is not None else [NO_PARTNER]
    if output.takes("sees_money"):
        params["sees_money"] = sees_money(viewer)
    queries.checked_params(name, params)
    return output, params


def shown(viewer: Viewer | None, output: queries.Output, frame: pl.DataFrame) -> pl.DataFrame:
    """The frame as the viewer may see it: without the output's money columns unless they see money.
    A new frame: the (cached) one passed in is left as it is."""
    if sees_money(viewer) or not output.money:
        return frame
    return frame.drop(output.money, strict=False)


def outreach_partners(viewer: Viewer | None, run_output: Callable[..., pl.DataFrame]) -> frozenset[str]:
    """The partners whose outreach log the viewer may read and write (notes.Log refuses any other).

    Their role must have the `outreach_log` action; a partner lead gets the partners the runner
    leaves them in `partner_search` (their own: the same scope rule as every output). `run_output`
    runs an output as this viewer: `queries.run` on a page, `run` bound to a connection elsewhere."""
    if not may(viewer, "outreach_log"):
        who = f"the role {viewer.role}" if viewer is not None and viewer.role else "a viewer without a role"
        raise Refused(f"the outreach log is not open to {who}")
    return frozenset(run_output("partner_search")["partner_id"].to_list())


def run(con: duckdb.DuckDBPyConnection, viewer: Viewer | None, name: str, **params: Any) -> pl.DataFrame:
    """A named output on `con` as the viewer may see it (the command line's path; pages use
    `queries.run`, which does the same on the served database, cached)."""
    output, params = bound(viewer, name, params)
    return shown(viewer, output, queries.execute(con, name, **params))
