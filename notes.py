"""The notes database: what people record about partners (the outreach log) and the digests
sent, in a SQLite file of its own that the analytics rebuild never touches.

This module owns that file: where it is (`$PULSE_NOTES_DB`, else `notes.sqlite` beside the
analytics database), its schema and versions (the file is copied aside before a schema change),
the outreach log's rules, and the record of digests sent (`queries/program/digest.py` reads it to say
what is new since the last one). Who may read and write which partner's log is decided in
`access.py` (`outreach_partners`); a `Log` is opened for that set of partners and refuses any
other.

The outreach log is append-only: recording a contact writes its version 1, and an edit writes
the next version, naming the version it was made from. Two people editing one contact at once
cannot overwrite each other: the second save is refused as a conflict (with their text kept by
the form), and every earlier version stays readable (`history`).

SQLite rather than DuckDB: the app's sessions (threads) and the digest (cron, another process)
write at once, and SQLite takes its lock per write transaction (WAL mode, waiting up to
`BUSY_SECONDS` for it), where a DuckDB file is held by one process. The analytics connection
stays read-only with external access off: this file is never attached to it.
"""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, model_validator

import access
import queries

NOTES_FILE = "notes.sqlite"
CHANNELS = ("email", "call", "meeting", "event")
# How long a writer waits for another's write transaction before giving up, seconds.
BUSY_SECONDS = 15.0

# The schema, one list of statements per version (version = position + 1). Add a version at the
# end; never edit one that has shipped (files in use are at it). A file behind is copied aside first.
MIGRATIONS: list[tuple[str, list[str]]] = [
    (
        "the outreach log",
        [
            """
            create table contacts (
                contact_id text not null,
                version integer not null check (version >= 1),
                partner_id text not null,
                contact_date text not null,      -- ISO date of the contact
                channel text not null check (channel in ('email', 'call', 'meeting', 'event')),
                outcome text not null default '',
                next_step text not null default '',
                next_step_due text,              -- ISO date, or null: no next step planned
                note text not null default '',
                recorded_by text not null,       -- who saved this version (the signed-in email)
                recorded_at text not null,       -- when, ISO timestamp in UTC
                primary key (contact_id, version)
            )
            """,
            "create index contacts_by_partner on contacts (partner_id)",
            # Append-only: a version, once written, is history.
            """
            create trigger contacts_keep_history_on_update before update on contacts
            begin select raise(abort, 'the outreach log keeps history: write a new version instead'); end
            """,
            """
            create trigger contacts_keep_history_on_delete before delete on contacts
            begin select raise(abort, 'the outreach log keeps history: versions are never deleted'); end
            """,
        ],
    ),
    (
        "the record of digests sent",
        [
            """
            create table digests_sent (
                recipient text not null,         -- the partner lead's email
                managers text not null,          -- JSON list of the partner_manager names it covered
                since text not null,             -- ISO date: what changed after this day...
                data_as_of text not null,        -- ...up to the data's as-of day (the next digest's since)
                sent_at text not null,           -- ISO timestamp in UTC
                sent_via text not null           -- email or webhook
            )
            """,
            "create index digests_by_recipient on digests_sent (recipient, sent_at)",
        ],
    ),
]
SCHEMA_VERSION = len(MIGRATIONS)


class NotesError(RuntimeError):
    """The notes database cannot be read or written; the message says why, in words."""


class NotSaved(NotesError):
    """A write that did not happen (the form keeps what was typed)."""


class Conflict(NotSaved):
    """An edit made from a version someone else has changed since."""


def notes_path(db: Path | str | None = None) -> Path:
    """The notes file: `$PULSE_NOTES_DB`, else notes.sqlite beside the analytics database."""
    given = os.environ.get("PULSE_NOTES_DB")
    if given:
        return Path(given)
    return Path(db or queries.db_path()).with_name(NOTES_FILE)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def schema_version(con: sqlite3.Connection) -> int:
    listed = con.execute("select count(*) from sqlite_master where type = 'table' and name = 'schema_version'").fetchone()[0]
    return con.execute("select coalesce(max(version), 0) from schema_version").fetchone()[0] if listed else 0


def backup(con: sqlite3.Connection, path: Path, version: int) -> Path:
    """A consistent copy of the file beside it, before its schema changes: notes.sqlite.v1-<UTC time>.bak."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = path.with_name(f"{path.name}.v{version}-{stamp}.bak")
    copy = sqlite3.connect(target)
    try:
        con.backup(copy)
    finally:
        copy.close()
    return target


def migrate(con: sqlite3.Connection, path: Path) -> None:
    """Bring the file to SCHEMA_VERSION, copying it aside first when it holds an older schema."""
    current = schema_version(con)
    if current > SCHEMA_VERSION:
        raise NotesError(
            f"{path} was written by a newer Partner Pulse (notes schema {current}; this version reads up to "
            f"{SCHEMA_VERSION}): upgrade Partner Pulse, or point PULSE_NOTES_DB at another file"
        )
    if current == SCHEMA_VERSION:
        return
    if current > 0:
        backup(con, path, current)
    con.execute("begin immediate")
    try:
        current = schema_version(con)  # another process may have moved it on while we waited
        if current == 0:
            con.execute(
                "create table if not exists schema_version "
                "(version integer primary key, what text not null, applied_at text not null)"
            )
        for version, (what, statements) in enumerate(MIGRATIONS[current:], start=current + 1):
            for statement in statements:
                con.execute(statement)
            con.execute("insert into schema_version values (?, ?, ?)", (version, what, now()))
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def connect(path: Path, create: bool = False) -> sqlite3.Connection | None:
    """A connection to the notes file at the current schema, or None when it does not exist and
    `create` is false (reading a log nobody has written yet creates no file). Raises NotesError."""
    if not create and not path.exists():
        return None
    try:
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
        # Autocommit: each write is one statement, or an explicit `begin immediate` transaction.
        con = sqlite3.connect(path, timeout=BUSY_SECONDS, isolation_level=None)
    except (sqlite3.Error, OSError) as exc:
        raise NotesError(f"the notes database {path} cannot be opened ({exc})") from None
    try:
        con.execute("pragma journal_mode = wal")
        migrate(con, path)
    except sqlite3.Error as exc:
        con.close()
        raise NotesError(f"the notes database {path} cannot be used ({exc})") from None
    except BaseException:
        con.close()
        raise
    return con


# ---- the outreach log ----------------------------------------------------------------------


class Contact(BaseModel):
    """One contact with a partner, as the form records it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    partner_id: str = Field(min_length=1)
    contact_date: date
    channel: Literal["email", "call", "meeting", "event"]
    outcome: str = Field("", max_length=2_000)
    next_step: str = Field("", max_length=2_000)
    next_step_due: date | None = None
    note: str = Field("", max_length=20_000)

    @model_validator(mode="after")
    def due_date_needs_a_step(self) -> Contact:
        if self.next_step_due is not None and not self.next_step:
            raise ValueError("a next step's due date needs the next step: say what is due")
        return self


@dataclass(frozen=True)
class Saved:
    contact_id: str
    version: int


CONTACT_COLUMNS = {
    "contact_id": pl.String,
    "version": pl.Int64,
    "partner_id": pl.String,
    "contact_date": pl.Date,
    "channel": pl.String,
    "outcome": pl.String,
    "next_step": pl.String,
    "next_step_due": pl.Date,
    "note": pl.String,
    "recorded_by": pl.String,
    "recorded_at": pl.Datetime("us", "UTC"),
}
LATEST_COLUMNS = {
    "partner_id": pl.String,
    "last_contact_on": pl.Date,
    "last_channel": pl.String,
    "next_step": pl.String,
    "next_step_due": pl.Date,
}

# Each contact's latest version, with when it was first recorded (its place among a partner's
# contacts of one day does not change when it is edited), for a JSON list of partner ids.
LATEST_VERSIONS = """
with latest as (
    select contact_id, max(version) as version, min(recorded_at) as first_recorded_at
    from contacts
    where partner_id in (select value from json_each(:partners))
    group by contact_id
)
"""
# Each contact as its latest version.
CURRENT = (
    LATEST_VERSIONS
    + """select c.contact_id, c.version, c.partner_id, c.contact_date, c.channel, c.outcome, c.next_step,
    c.next_step_due, c.note, c.recorded_by, c.recorded_at, l.first_recorded_at
from contacts as c
join latest as l on l.contact_id = c.contact_id and l.version = c.version
order by c.contact_date desc, l.first_recorded_at desc
"""
)
# Per partner, its last contact (by the contact's day, then the order they were recorded in).
LATEST = (
    LATEST_VERSIONS.rstrip("\n")  # noqa: S608 - fixed text, partners bound as :partners
    + """,
ranked as (
    select c.partner_id, c.contact_date, c.channel, nullif(c.next_step, '') as next_step, c.next_step_due,
        row_number() over (partition by c.partner_id order by c.contact_date desc, l.first_recorded_at desc) as place
    from contacts as c
    join latest as l on l.contact_id = c.contact_id and l.version = c.version
)
select partner_id, contact_date, channel, next_step, next_step_due from ranked where place = 1 order by partner_id
"""
)
HISTORY = """
select * from contacts
where partner_id in (select value from json_each(:partners))
order by contact_date desc, contact_id, version
"""


def frame(rows: list[tuple], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Rows read from SQLite (dates as ISO text) as a typed frame."""
    text = pl.DataFrame(rows, schema=dict.fromkeys(schema, pl.String), orient="row")
    casts = []
    for name, dtype in schema.items():
        if dtype == pl.Date:
            casts.append(pl.col(name).str.to_date("%Y-%m-%d"))
        elif isinstance(dtype, pl.Datetime):
            casts.append(pl.col(name).str.to_datetime(time_zone="UTC", time_unit="us"))
        else:
            casts.append(pl.col(name).cast(dtype))
    return text.with_columns(casts)


@dataclass(frozen=True)
class Log:
    """The outreach log as one person may use it: `partners` are those access.outreach_partners
    gives them; `by` is who they are (saved with every version they write)."""

    path: Path
    partners: frozenset[str]
    by: str

    def _check(self, partner_id: str) -> None:
        if partner_id not in self.partners:
            raise access.Refused(f"{partner_id} is not one of your partners: you cannot read or write its outreach log")

    def _write(self, contact_id: str, version: int, contact: Contact) -> Saved:
        values = (
            contact_id,
            version,
            contact.partner_id,
            contact.contact_date.isoformat(),
            contact.channel,
            contact.outcome,
            contact.next_step,
            contact.next_step_due.isoformat() if contact.next_step_due else None,
            contact.note,
            self.by,
            now(),
        )
        try:
            con = connect(self.path, create=True)
        except NotesError as exc:
            raise NotSaved(f"Not saved: {exc}.") from None
        try:
            con.execute("insert into contacts values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", values)
        except sqlite3.IntegrityError:
            raise Conflict(self._conflict(con, contact_id)) from None
        except sqlite3.Error as exc:
            raise NotSaved(f"Not saved: the notes database {self.path} refused the write ({exc}).") from None
        finally:
            con.close()
        return Saved(contact_id, version)

    def _conflict(self, con: sqlite3.Connection, contact_id: str) -> str:
        row = con.execute(
            "select version, recorded_by, recorded_at from contacts where contact_id = ? order by version desc limit 1",
            (contact_id,),
        ).fetchone()
        return (
            f"Not saved: {row[1]} changed this contact at {row[2]} (now version {row[0]}) after you opened it. "
            "Your text is still in the form: reload the contact to see theirs, then save yours again."
        )

    def record(self, contact: Contact) -> Saved:
        """Record a new contact (its version 1). Raises access.Refused for a partner not theirs, NotSaved."""
        self._check(contact.partner_id)
        return self._write(uuid.uuid4().hex[:12], 1, contact)

    def edit(self, contact_id: str, based_on: int, contact: Contact) -> Saved:
        """Save a changed contact as version `based_on + 1`. Raises Conflict when someone saved that
        version first, access.Refused when the contact is not one of theirs, NotSaved."""
        self._check(contact.partner_id)
        current = self.history(contact.partner_id).filter(pl.col("contact_id") == contact_id)
        if current.is_empty():
            raise access.Refused(f"contact {contact_id} is not in {contact.partner_id}'s outreach log")
        return self._write(contact_id, based_on + 1, contact)

    def _read(self, sql: str, partners: frozenset[str] | set[str]) -> list[tuple]:
        con = connect(self.path)
        if con is None:
            return []
        try:
            return con.execute(sql, {"partners": json.dumps(sorted(partners))}).fetchall()
        except sqlite3.Error as exc:
            raise NotesError(f"the notes database {self.path} cannot be read ({exc})") from None
        finally:
            con.close()

    def _scope(self, partner_id: str | None) -> frozenset[str]:
        if partner_id is None:
            return self.partners
        self._check(partner_id)
        return frozenset({partner_id})

    def contacts(self, partner_id: str | None = None) -> pl.DataFrame:
        """Each contact as last saved (one partner's, or all of theirs), latest contact first."""
        rows = self._read(CURRENT, self._scope(partner_id))
        return frame([row[:-1] for row in rows], CONTACT_COLUMNS)

    def history(self, partner_id: str | None = None) -> pl.DataFrame:
        """Every version of every contact (one partner's, or all of theirs): contact by contact, oldest version first."""
        return frame(self._read(HISTORY, self._scope(partner_id)), CONTACT_COLUMNS)

    def latest_by_partner(self, partner_ids: list[str] | None = None) -> pl.DataFrame:
        """Per partner with a contact: its last contact's day and channel, and the next step that contact
        set with its due date ("next step due": a later contact's plan replaces an earlier one's)."""
        scope = self.partners if partner_ids is None else self.partners & set(partner_ids)
        return frame(self._read(LATEST, scope), LATEST_COLUMNS)

    def follow_ups_due(self, through: date) -> pl.DataFrame:
        """The partners whose next step (from their last contact) is due on or before `through`, soonest first."""
        due = self.latest_by_partner().filter(pl.col("next_step_due") <= through)
        return due.sort("next_step_due", "partner_id")


# ---- digests sent --------------------------------------------------------------------------


def last_digest(path: Path, recipient: str) -> date | None:
    """The data's as-of day of the last digest sent to this person (None: none recorded)."""
    con = connect(path)
    if con is None:
        return None
    try:
        row = con.execute(
            "select data_as_of from digests_sent where recipient = ? order by sent_at desc, rowid desc limit 1", (recipient,)
        ).fetchone()
    finally:
        con.close()
    return date.fromisoformat(row[0]) if row else None


def record_digest(path: Path, recipient: str, managers: list[str], since: date, data_as_of: date, sent_via: str) -> None:
    """Keep that a digest went out, so the next one to this person starts where it ended."""
    con = connect(path, create=True)
    try:
        con.execute(
            "insert into digests_sent values (?, ?, ?, ?, ?, ?)",
            (recipient, json.dumps(managers), since.isoformat(), data_as_of.isoformat(), now(), sent_via),
        )
    finally:
        con.close()
