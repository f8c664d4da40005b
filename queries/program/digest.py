"""The partner leads' weekly digest: for each partner lead in the roles, what changed for their
partners since their last digest (or `--since`), written as an email (HTML and plain text) or a
Slack-style webhook message, and sent or written to files (`python -m queries digest`).

What a digest lists, for the partners of the recipient's partner_manager names (`--manager`
narrows them), between `since` and the data's as-of day:
- newly dormant, newly burning out (with the signals that fired), newly at risk (with why, and
  the money at stake as their role may see it): flagged by `partner_signals` as of the data's
  day and not as of `since`;
- returned: back after a gap (`partner_signals.returned`), on a day after `since`;
- the biggest health-score moves between the two days (`partner_health` on each, compared by
  `health_score.movers_between`), of at least the settings' `mover_min_points`;
- follow-ups due: next steps from the outreach log (notes.py) due within `follow_up_days` of
  the day the digest is made, overdue ones included.

This module owns choosing, wording and sending those. Every number comes from an output run as
the recipient through the runner (`access.run`: their partners, their role's money), so a
digest can hold nothing their role may not see; nothing here decides who sees what. Each digest
sent is recorded in the notes database, and the next one to that person starts where it ended.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import smtplib
import ssl
import sys
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from email.message import EmailMessage
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import duckdb
import polars as pl

import access
import notes
import queries
from queries import glossary, meta
from queries.formatting import money
from queries.health import health_score
from settings import Digest as DigestSettings
from settings import Settings

# A list longer than this shows its first ones and says how many more (the app has them all).
MOST_ITEMS = 25
SMTP_USER = "PULSE_SMTP_USER"
SMTP_PASSWORD = "PULSE_SMTP_PASSWORD"  # noqa: S105 - the variable's name, not a password
# What each list means, from the glossary (shown at the end of every digest).
DEFINED = {
    "dormant": "is_dormant",
    "burning_out": "burnout_risk",
    "returned": "returned",
    "at_risk": "at_risk",
    "movers": "health_score",
    "follow_ups": "next_step_due",
}


@dataclass(frozen=True)
class Recipient:
    """A partner lead from the roles, and the partner_manager names their digest covers."""

    email: str
    viewer: access.Viewer
    managers: tuple[str, ...]
    webhook_env: str | None = None


@dataclass(frozen=True)
class Item:
    partner_id: str
    partner_name: str
    text: str
    change: float | None = None  # health-score movers: points, for the chart


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    items: list[Item]


@dataclass(frozen=True)
class Digest:
    recipient: Recipient
    since: date
    as_of: date
    made_on: date
    settings: DigestSettings
    sections: list[Section] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not any(section.items for section in self.sections)

    def link(self, partner_id: str | None = None) -> str:
        """Partner 360 for the partner (or the Engagement page), in the recipient's own view: their
        partner managers' partners ("My partners")."""
        view = [("manager", name) for name in self.recipient.managers]
        base = self.settings.base_url.rstrip("/")
        if partner_id is None:
            return f"{base}/engagement?{urlencode(view)}"
        return f"{base}/partner?{urlencode([('partner', partner_id), *view])}"

    def subject(self) -> str:
        # "1 follow-up due", "2 follow-ups due"; the other titles read right with any count.
        counts = [
            f"{len(s.items)} {s.title.lower().replace('follow-ups', 'follow-up') if len(s.items) == 1 else s.title.lower()}"
            for s in self.sections
            if s.items and s.key != "movers"
        ]
        news = ", ".join(counts) if counts else "nothing new"
        return f"Partner Pulse: {news} ({self.since:%Y-%m-%d} to {self.as_of:%Y-%m-%d})"

    def file_stem(self) -> str:
        return f"digest_{re.sub(r'[^A-Za-z0-9]+', '_', self.recipient.email).strip('_')}_{self.as_of:%Y-%m-%d}"


class DeliveryError(RuntimeError):
    """A digest that could not be sent; the message says why."""


# ---- who gets one ----------------------------------------------------------------------------


def program_settings(con: duckdb.DuckDBPyConnection) -> Settings:
    """The settings the database was built with (its roles and the [digest] section)."""
    meta = dict(queries.execute(con, "program_meta").iter_rows())
    return Settings.model_validate_json(meta["settings_json"]) if meta.get("settings_json") else Settings()


def recipients(settings: Settings, managers: list[str] | None = None) -> list[Recipient]:
    """Every partner lead in the roles with partner managers (those in `managers` when given)."""
    settings_json = settings.model_dump_json()
    found = []
    for email, role in sorted(settings.roles.items()):
        if role.role != "partner_lead":
            continue
        covered = [name for name in role.partner_managers if managers is None or name in managers]
        if not covered:
            continue
        viewer = access.viewer_for({"is_logged_in": True, "email": email}, settings_json)
        found.append(Recipient(email.lower(), viewer, tuple(covered), role.digest_webhook_env))
    return found


def since_for(recipient: Recipient, notes_file: Path, as_of: date, settings: DigestSettings, given: date | None) -> date:
    """Where a digest starts: --since, else where the last one sent to them ended, else first_days before as_of."""
    since = given or notes.last_digest(notes_file, recipient.email) or as_of - timedelta(days=settings.first_days)
    return min(since, as_of)


# ---- what is in one --------------------------------------------------------------------------


def items(frame: pl.DataFrame, words: Callable[[dict], str]) -> list[Item]:
    return [Item(row["partner_id"], row["partner_name"], words(row)) for row in frame.iter_rows(named=True)]


def newly(now: pl.DataFrame, then: pl.DataFrame, flag: str) -> pl.DataFrame:
    """Partners flagged now and not then (a partner not on the books then counts as not flagged)."""
    before = then.select("partner_id", pl.col(flag).alias("_before"))
    joined = now.join(before, on="partner_id", how="left", maintain_order="left")
    return joined.filter(pl.col(flag) & ~pl.col("_before").fill_null(False)).drop("_before")


def dormant_words(currency: str) -> Callable[[dict], str]:
    def words(row: dict) -> str:
        text = f"quiet {row['days_since_activity']} days"
        if row["last_activity_at"] is not None:
            text += f", last activity {row['last_activity_at']:%Y-%m-%d}"
        if row["p_alive"] is not None:
            text += f"; P(still engaged) {row['p_alive']:.0%}"
        if row["open_pipeline"]:
            text += f"; open pipeline {money(row['open_pipeline'], currency, 'whole')}"
        return text

    return words


def mover_words(row: dict) -> str:
    return (
        f"health score {row['score_before']:.0f} -> {row['health_score']:.0f} ({row['change']:+.1f} points), "
        f"moved most by {row['moved_most_by']} ({row['moved_most_points']:+.1f})"
    )


def follow_up_words(made_on: date) -> Callable[[dict], str]:
    def words(row: dict) -> str:
        late = " (overdue)" if row["next_step_due"] < made_on else ""
        return (
            f"{row['next_step'] or 'next step'}, due {row['next_step_due']:%Y-%m-%d}{late}; "
            f"last contact {row['last_contact_on']:%Y-%m-%d} ({row['last_channel']})"
        )

    return words


def build(
    con: duckdb.DuckDBPyConnection,
    recipient: Recipient,
    since: date,
    as_of: date,
    made_on: date,
    settings: DigestSettings,
    notes_file: Path,
) -> Digest:
    """One person's digest: every output run as them (access.run), so it holds only what they may see."""
    run = partial(access.run, con, recipient.viewer)
    scope = {"managers": list(recipient.managers)}
    now = run("partner_signals", as_of=as_of, **scope)
    then = run("partner_signals", as_of=since, **scope)

    dormant = newly(now, then, "is_dormant")
    burning = newly(now, then, "burnout_risk")
    returned = now.filter(pl.col("returned") & (pl.col("returned_at") > since)).sort("returned_at", descending=True)
    at_risk = newly(now, then, "at_risk")

    health_now = run("partner_health", as_of=as_of, **scope)
    health_then = run("partner_health", as_of=since, **scope)
    movers = (
        health_score.movers_between(health_now, health_then, since)
        .filter(pl.col("change").abs() >= settings.mover_min_points)
        .sort(pl.col("change").abs(), "partner_id", descending=[True, False])
        .head(settings.movers)
    )

    names = now.select("partner_id", "partner_name")
    log = notes.Log(notes_file, access.outreach_partners(recipient.viewer, run), recipient.email)
    due = (
        log.latest_by_partner(names["partner_id"].to_list())
        .filter(pl.col("next_step_due") <= made_on + timedelta(days=settings.follow_up_days))
        .join(names, on="partner_id")
        .sort("next_step_due", "partner_id")
    )

    sections = [
        Section(
            "dormant",
            "Newly dormant",
            items(dormant.sort("days_since_activity", descending=True), dormant_words(meta.currency(con))),
        ),
        Section(
            "burning_out",
            "Newly burning out",
            items(burning, lambda r: f"{r['burnout_signal_count']} signals: {r['burnout_signals'] or 'see Partner 360'}"),
        ),
        Section(
            "returned",
            "Returned",
            items(returned, lambda r: f"back on {r['returned_at']:%Y-%m-%d} after {r['gap_before_return_days']} quiet days"),
        ),
        Section("at_risk", "Newly at risk", items(at_risk, lambda r: r["at_risk_reasons"] or "at risk")),
        Section(
            "movers",
            "Biggest health-score moves",
            [Item(r["partner_id"], r["partner_name"], mover_words(r), r["change"]) for r in movers.iter_rows(named=True)],
        ),
        Section("follow_ups", "Follow-ups due", items(due, follow_up_words(made_on))),
    ]
    return Digest(recipient, since, as_of, made_on, settings, sections)


# ---- words -----------------------------------------------------------------------------------

NOTES_ON_SECTIONS = {
    "returned": "they often expect priority support",
    "at_risk": "with the money at stake",
    "follow_ups": "next steps from your outreach log",
}


def heading(digest: Digest) -> tuple[str, str]:
    who = ", ".join(digest.recipient.managers)
    return (
        "Partner Pulse: your partners' week",
        f"Partners of {who}: what changed from {digest.since:%Y-%m-%d} to {digest.as_of:%Y-%m-%d} (the data's as-of day).",
    )


def section_title(section: Section, digest: Digest) -> str:
    note = NOTES_ON_SECTIONS.get(section.key)
    if section.key == "movers":
        note = f"since {digest.since:%Y-%m-%d}, {digest.settings.mover_min_points:g} points or more"
    if section.key == "follow_ups":
        due_by = digest.made_on + timedelta(days=digest.settings.follow_up_days)
        note = f"{note}, due by {due_by:%Y-%m-%d} (overdue ones too)"
    return f"{section.title} ({len(section.items)})" + (f": {note}" if note else "")


def shown(section: Section) -> tuple[list[Item], int]:
    return section.items[:MOST_ITEMS], max(0, len(section.items) - MOST_ITEMS)


def definitions(digest: Digest) -> list[str]:
    """What each list shown means, from the glossary, named."""
    found = []
    for section in digest.sections:
        if section.items:
            term = glossary.by_key()[DEFINED[section.key]]
            text = term.definition
            found.append(text if text.startswith(term.term) else f"{term.term}: {text}")
    return found


def plain_text(digest: Digest) -> str:
    title, lead = heading(digest)
    lines = [title, lead, ""]
    if digest.is_empty:
        lines += ["Nothing new for your partners since the last digest.", ""]
    for section in digest.sections:
        if not section.items:
            continue
        title = section_title(section, digest)
        lines += [title, "-" * len(title)]
        listed, more = shown(section)
        for item in listed:
            lines += [f"- {item.partner_name} ({item.partner_id}): {item.text}", f"  {digest.link(item.partner_id)}"]
        if more:
            lines.append(f"- and {more} more: {digest.link()}")
        lines.append("")
    if not digest.is_empty:
        lines += ["What the lists mean:", *[f"- {text}" for text in definitions(digest)], ""]
    lines.append(f"Sent to {digest.recipient.email}: the partners you manage, as you see them in Partner Pulse.")
    return "\n".join(lines) + "\n"


STYLE = {
    "body": "font-family:Arial,Helvetica,sans-serif;color:#1f2933;font-size:14px;line-height:1.45;max-width:680px",
    "h1": "font-size:20px;margin:0 0 4px 0",
    "lead": "color:#52606d;margin:0 0 16px 0",
    "h2": "font-size:15px;margin:20px 0 6px 0;border-bottom:1px solid #e4e7eb;padding-bottom:4px",
    "item": "margin:0 0 6px 0",
    "link": "color:#1f6feb;text-decoration:none;font-weight:bold",
    "small": "color:#7b8794;font-size:12px",
}


def movers_chart(section: Section) -> str:
    """The health-score moves as horizontal bars (a table with inline styles: mail clients draw it)."""
    largest = max((abs(item.change or 0) for item in section.items), default=0) or 1
    rows = []
    for item in section.items:
        change = item.change or 0
        width = max(2, round(140 * abs(change) / largest))
        colour = "#2e7d32" if change >= 0 else "#c62828"
        bar = f'<div style="background:{colour};height:12px;width:{width}px"></div>'
        left, right = ("", bar) if change >= 0 else (bar, "")
        rows.append(
            f'<tr><td style="padding:2px 8px 2px 0;{STYLE["small"]}">{html.escape(item.partner_name)}</td>'
            f'<td style="width:150px;padding:2px 0" align="right">{left}</td>'
            f'<td style="width:150px;padding:2px 0;border-left:1px solid #9aa5b1">{right}</td>'
            f'<td style="padding:2px 0 2px 8px;{STYLE["small"]}">{change:+.1f}</td></tr>'
        )
    return f'<table cellspacing="0" cellpadding="0" role="presentation" style="margin:4px 0 8px 0">{"".join(rows)}</table>'


def html_text(digest: Digest) -> str:
    title, lead = heading(digest)
    parts = [f'<h1 style="{STYLE["h1"]}">{html.escape(title)}</h1>', f'<p style="{STYLE["lead"]}">{html.escape(lead)}</p>']
    if digest.is_empty:
        parts.append("<p>Nothing new for your partners since the last digest.</p>")
    for section in digest.sections:
        if not section.items:
            continue
        parts.append(f'<h2 style="{STYLE["h2"]}">{html.escape(section_title(section, digest))}</h2>')
        if section.key == "movers":
            parts.append(movers_chart(section))
        listed, more = shown(section)
        for item in listed:
            name = html.escape(item.partner_name)
            parts.append(
                f'<p style="{STYLE["item"]}"><a style="{STYLE["link"]}" href="{html.escape(digest.link(item.partner_id))}">'
                f'{name}</a> <span style="{STYLE["small"]}">{html.escape(item.partner_id)}</span><br>{html.escape(item.text)}</p>'
            )
        if more:
            parts.append(f'<p style="{STYLE["item"]}"><a href="{html.escape(digest.link())}">and {more} more</a></p>')
    if not digest.is_empty:
        meaning = "".join(f"<li>{html.escape(text)}</li>" for text in definitions(digest))
        parts.append(f'<p style="{STYLE["small"]}">What the lists mean:</p><ul style="{STYLE["small"]}">{meaning}</ul>')
    parts.append(
        f'<p style="{STYLE["small"]}">Sent to {html.escape(digest.recipient.email)}: the partners you manage, '
        "as you see them in Partner Pulse.</p>"
    )
    body = "\n".join(parts)
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(digest.subject())}</title></head>'
        f'<body style="{STYLE["body"]}">\n{body}\n</body></html>\n'
    )


def slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_message(digest: Digest) -> dict:
    """Slack-style JSON: `text` (the fallback) and blocks, a section per list, partners linked."""
    title, lead = heading(digest)
    blocks: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "text": title}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": slack_escape(lead)}]},
    ]
    if digest.is_empty:
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": "Nothing new for your partners since the last digest."}}
        )
    for section in digest.sections:
        if not section.items:
            continue
        listed, more = shown(section)
        lines = [f"*{slack_escape(section_title(section, digest))}*"]
        lines += [f"• <{digest.link(i.partner_id)}|{slack_escape(i.partner_name)}>: {slack_escape(i.text)}" for i in listed]
        if more:
            lines.append(f"• <{digest.link()}|and {more} more>")
        text = "\n".join(lines)
        # Slack takes up to 3,000 characters in a section's text.
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text[:2990]}})
    return {"text": digest.subject(), "blocks": blocks}


# ---- sending ---------------------------------------------------------------------------------


def send_email(digest: Digest, settings: DigestSettings) -> None:
    """By SMTP: host, port, STARTTLS and from address from the settings; user and password from
    the environment (PULSE_SMTP_USER, PULSE_SMTP_PASSWORD) only."""
    if not settings.smtp_host:
        raise DeliveryError("no SMTP server: set smtp_host under [digest] in the program settings (and rebuild)")
    message = EmailMessage()
    message["Subject"] = digest.subject()
    message["From"] = settings.from_address
    message["To"] = digest.recipient.email
    message.set_content(plain_text(digest))
    message.add_alternative(html_text(digest), subtype="html")
    user, password = os.environ.get(SMTP_USER), os.environ.get(SMTP_PASSWORD)
    if user and not settings.smtp_starttls:
        raise DeliveryError(
            f"${SMTP_USER} is set but smtp_starttls is false: Partner Pulse will not send the SMTP password over a "
            "connection without STARTTLS; nothing was sent"
        )
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if user:
                smtp.login(user, password or "")
            smtp.send_message(message)
    except smtplib.SMTPNotSupportedError as exc:
        raise DeliveryError(
            f"{settings.smtp_host}:{settings.smtp_port} does not offer STARTTLS ({exc}); nothing was sent. "
            "Use a server that does, or set smtp_starttls = false for a trusted relay"
        ) from None
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"the mail to {digest.recipient.email} via {settings.smtp_host} failed: {exc}") from None


def post_webhook(digest: Digest, url: str) -> None:
    """POST the Slack-style JSON to the webhook URL."""
    if not url.startswith(("https://", "http://")):
        raise DeliveryError(f"the webhook URL in ${digest.recipient.webhook_env} is not an http(s) URL")
    body = json.dumps(slack_message(digest)).encode("utf-8")
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"}, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - an http(s) URL, checked above
            answer.read()
    except OSError as exc:
        raise DeliveryError(f"the webhook in ${digest.recipient.webhook_env} refused the digest: {exc}") from None


def deliver(digest: Digest, settings: DigestSettings) -> str:
    """Send the digest the recipient's way; returns how ("email" or "webhook")."""
    env = digest.recipient.webhook_env
    if env:
        url = os.environ.get(env)
        if not url:
            raise DeliveryError(f"the roles send {digest.recipient.email}'s digest to the webhook in ${env}, which is not set")
        post_webhook(digest, url)
        return "webhook"
    send_email(digest, settings)
    return "email"


# ---- command line ----------------------------------------------------------------------------


def add_command(commands: Any) -> None:
    """The `digest` subcommand (DESIGN.md, "Command line")."""
    digest = commands.add_parser("digest", help="each partner lead's weekly digest: send it, or write it to files")
    digest.add_argument("--db", type=Path, default=None, help="database file (default: $PULSE_DB or data/pulse.duckdb)")
    digest.add_argument(
        "--manager", nargs="+", action="extend", metavar="NAME", help="only these partner managers' partners (and their leads)"
    )
    digest.add_argument(
        "--since",
        type=date.fromisoformat,
        help="what changed after this day (default: where each person's last digest ended, else a week before the data's day)",
    )
    where = digest.add_mutually_exclusive_group(required=True)
    where.add_argument(
        "--out", type=Path, metavar="DIR", help="write each digest as .txt and .html to DIR (nothing is sent or recorded)"
    )
    where.add_argument("--send", action="store_true", help="send each digest (email, or the person's webhook) and record it")
    digest.add_argument(
        "--notes", type=Path, help="the notes database (default: $PULSE_NOTES_DB, else notes.sqlite beside the database)"
    )
    digest.set_defaults(handler=digest_command)


def digest_command(args: argparse.Namespace) -> int:
    from queries.workbook import write_atomically

    notes_file = args.notes or notes.notes_path(args.db or queries.db_path())
    try:
        con = queries.connect(args.db)
        settings = program_settings(con)
        as_of = meta.data_as_of(con)
    except (FileNotFoundError, duckdb.Error) as exc:
        print(f"digest failed: {exc}", file=sys.stderr)
        return 1
    people = recipients(settings, args.manager)
    led = {name for person in recipients(settings) for name in person.managers}
    for name in sorted(set(args.manager or []) - led):
        print(f"no partner lead in the roles manages {name!r}: no digest for those partners", file=sys.stderr)
    if not people:
        print(
            "no digest to make: the roles name no partner lead with partner managers"
            + (" among those given" if args.manager else "")
            + ' (settings: [roles."someone@example.com"] role = "partner_lead", partner_managers = [...]; then rebuild)',
            file=sys.stderr,
        )
        return 2
    failed = 0
    for person in people:
        try:
            since = since_for(person, notes_file, as_of, settings.digest, args.since)
            digest = build(con, person, since, as_of, date.today(), settings.digest, notes_file)
        except (duckdb.Error, notes.NotesError, access.Refused) as exc:
            print(f"digest for {person.email} failed: {exc}", file=sys.stderr)
            failed += 1
            continue
        if args.out:
            args.out.mkdir(parents=True, exist_ok=True)
            write_atomically(args.out / f"{digest.file_stem()}.txt", plain_text(digest).encode("utf-8"))
            write_atomically(args.out / f"{digest.file_stem()}.html", html_text(digest).encode("utf-8"))
            print(f"wrote {digest.file_stem()}.txt and .html to {args.out}: {digest.subject()}", file=sys.stderr)
            continue
        try:
            via = deliver(digest, settings.digest)
        except DeliveryError as exc:
            print(f"digest for {person.email} not sent: {exc}", file=sys.stderr)
            failed += 1
            continue
        print(f"sent {person.email} their digest by {via}: {digest.subject()}", file=sys.stderr)
        try:
            notes.record_digest(notes_file, person.email, list(person.managers), since, as_of, via)
        except notes.NotesError as exc:
            print(f"the digest sent to {person.email} was not recorded ({exc}): their next one repeats it", file=sys.stderr)
            failed += 1
    if failed:
        print(f"{failed} of {len(people)} digests failed", file=sys.stderr)
    return 1 if failed else 0
