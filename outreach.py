"""The outreach log in the app: Partner 360's form to record and edit contacts with a partner,
the log and its history (CSV), and the last contact and next step due beside the Engagement
lists.

This module owns the widgets and their state; the log itself (storage, versions, conflicts) is
`notes.py`, and who may read and write which partner's log is `access.outreach_partners`.
A save runs in the save button's callback: when it succeeds the form is emptied, when it fails
the form keeps every field as typed and says why (a conflict, a locked or unwritable file).

The forms sit in tabs drawn only when opened (a new tab of Partner 360 does not build them). So
their fields are plain widgets that keep their value while the tab is closed (`persist_state`),
not a `st.form`: a closed form loses what was typed and not yet sent.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
import streamlit as st
from pydantic import ValidationError

import access
import notes
import queries
import state
import ui
from queries import glossary

FIELDS = ("contact_date", "channel", "outcome", "next_step", "next_step_due", "note")
TEXTS = ("outcome", "next_step", "note")
# Each version's columns in words (the CSV keeps the names).
COLUMNS = {
    "contact_id": st.column_config.TextColumn("Contact", width="small"),  # its versions share it
    "version": st.column_config.NumberColumn("Version", format="%d"),  # 1 when recorded, one more per edit
    "contact_date": st.column_config.DateColumn("Date", format=ui.DATE_FORMAT),
    "channel": st.column_config.TextColumn("Channel"),
    "outcome": st.column_config.TextColumn("Outcome", width="medium"),
    "next_step": st.column_config.TextColumn("Next step", width="medium"),
    "next_step_due": st.column_config.DateColumn("Next step due", format=ui.DATE_FORMAT, help=glossary.tooltip("next_step_due")),
    "note": st.column_config.TextColumn("Note", width="large"),
    "recorded_by": st.column_config.TextColumn("Saved by"),
    "recorded_at": st.column_config.DatetimeColumn("Saved at (UTC)", format="YYYY-MM-DD HH:mm"),
}
# The Engagement lists' columns from the log.
LIST_COLUMNS = {
    "last_contact_on": st.column_config.DateColumn("Last contact", format=ui.DATE_FORMAT, help=glossary.tooltip("last_contact")),
    "next_step_due": st.column_config.DateColumn("Next step due", format=ui.DATE_FORMAT, help=glossary.tooltip("next_step_due")),
}


def open_log() -> notes.Log | None:
    """The signed-in viewer's log (their partners only), or None when their role has no outreach log."""
    viewer = ui.viewer()
    if not access.may(viewer, "outreach_log"):
        return None
    by = viewer.email or "local mode (no login)"
    return notes.Log(notes.notes_path(), access.outreach_partners(viewer, queries.run), by)


def with_last_contact(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame (one row per partner) with `last_contact_on` and `next_step_due` from the log, when the
    viewer has one; as it was otherwise (or when the log cannot be read, which is said once)."""
    log = open_log()
    if log is None:
        return frame
    try:
        latest = log.latest_by_partner(frame["partner_id"].to_list())
    except notes.NotesError as exc:
        st.warning(f"The outreach log cannot be read, so no last contact is shown: {exc}.", icon=":material/sync_problem:")
        return frame
    return frame.join(latest.select("partner_id", "last_contact_on", "next_step_due"), on="partner_id", how="left")


def download_log(key: str) -> None:
    """The whole log of the viewer's partners, current versions, as CSV."""
    log = open_log()
    if log is None:
        return
    try:
        contacts = log.contacts()
    except notes.NotesError as exc:
        st.warning(f"The outreach log cannot be read: {exc}.", icon=":material/sync_problem:")
        return
    if not contacts.is_empty():
        ui.download(contacts, "outreach_log.csv", label="Download the outreach log (CSV)", key=key)


# ---- Partner 360 -----------------------------------------------------------------------------


def _key(partner_id: str, contact_id: str | None, name: str) -> str:
    return f"partner_outreach_{name}_{partner_id}_{contact_id or 'new'}"


def _seed(partner_id: str, contact_id: str | None, values: dict[str, Any]) -> None:
    """The form's starting values, once (a rerun keeps what was typed)."""
    for name in FIELDS:
        st.session_state.setdefault(_key(partner_id, contact_id, name), values.get(name))


def _clear(partner_id: str, contact_id: str | None) -> None:
    for name in (*FIELDS, "based_on"):
        st.session_state.pop(_key(partner_id, contact_id, name), None)


def _save(log: notes.Log, partner_id: str, contact_id: str | None) -> None:
    """The save button's callback: save, and empty the form; or keep it as typed and say why."""
    typed = {name: st.session_state.get(_key(partner_id, contact_id, name)) for name in FIELDS}
    result = _key(partner_id, None, "result")
    try:
        contact = notes.Contact(partner_id=partner_id, **typed)
        if contact_id is None:
            saved = log.record(contact)
        else:
            saved = log.edit(contact_id, st.session_state[_key(partner_id, contact_id, "based_on")], contact)
    except ValidationError as exc:
        problems = "; ".join(error["msg"].removeprefix("Value error, ") for error in exc.errors())
        st.session_state[result] = ("error", f"Not saved: {problems}. Your text is still in the form.")
        return
    except (notes.NotesError, access.Refused) as exc:
        st.session_state[result] = ("error", str(exc) if isinstance(exc, notes.NotSaved) else f"Not saved: {exc}.")
        return
    _clear(partner_id, contact_id)
    if contact_id is not None:
        st.session_state.pop(_key(partner_id, None, "editing"), None)
    what = "Contact recorded" if saved.version == 1 else f"Changes saved as version {saved.version}"
    st.session_state[result] = ("success", f"{what}, as {log.by}.")


def _form(log: notes.Log, partner_id: str, contact_id: str | None) -> None:
    key = lambda name: _key(partner_id, contact_id, name)  # noqa: E731 - a short local alias
    kept = {"persist_state": "page"}  # what was typed outlives its tab being closed
    label = "Save contact" if contact_id is None else "Save changes (a new version)"
    with st.container(border=True):
        left, right = st.columns(2)
        left.date_input("Date of contact", key=key("contact_date"), format="YYYY-MM-DD", **kept)
        right.selectbox("Channel", notes.CHANNELS, key=key("channel"), format_func=str.capitalize, **kept)
        st.text_input("Outcome", key=key("outcome"), placeholder="What came of it, in a line", **kept)
        step, due = st.columns([2, 1])
        step.text_input("Next step", key=key("next_step"), placeholder="What you agreed to do next", **kept)
        due.date_input(
            "Next step due", key=key("next_step_due"), format="YYYY-MM-DD", help=glossary.tooltip("next_step_due"), **kept
        )
        st.text_area("Note", key=key("note"), placeholder="Anything the next person to talk to them should know", **kept)
        st.button(label, key=key("save"), type="primary", on_click=_save, args=(log, partner_id, contact_id))


def contact_label(row: dict) -> str:
    """A contact in the edit picker: 2026-06-01 call: agreed a joint webinar."""
    return f"{row['contact_date']:%Y-%m-%d} {row['channel']}: {row['outcome'] or row['note'][:40] or 'no outcome'}"


def show_log(partner_id: str) -> None:
    """Partner 360's Outreach log: the contacts recorded (every version under History), and tabs to
    record a contact or edit one (saved as a new version), each table with its CSV. Shown to the
    roles with an outreach log (access.ACTIONS)."""
    log = open_log()
    if log is None:
        return
    st.subheader("Outreach log", help=glossary.tooltip("outreach_log"))
    try:
        contacts = log.contacts(partner_id)
        history = log.history(partner_id)
    except notes.NotesError as exc:
        st.warning(f"The outreach log cannot be read: {exc}.", icon=":material/sync_problem:")
        return
    except access.Refused:
        st.info("This partner's outreach log is kept by the partner lead who manages it.", icon=":material/lock:")
        return

    result = st.session_state.pop(_key(partner_id, None, "result"), None)
    if result:
        kind, message = result
        if kind == "success":
            st.success(message, icon=":material/check:")
        else:
            st.error(message, icon=":material/error:")

    # The log first: a new tab of Partner 360 does not build the forms until one is opened.
    log_tab, record_tab, edit_tab = ui.tabs(
        [f"Contacts ({contacts.height:,})", "Record a contact", "Edit a contact"], state.PARTNER_OUTREACH
    )
    if log_tab.open:
        with log_tab:
            ui.table(
                contacts.drop("partner_id"),
                f"outreach_{partner_id}.csv",
                COLUMNS,
                empty="No contact recorded with this partner yet: record the first in the next tab.",
            )
            if not history.is_empty():
                every_version = ui.expander(
                    f"History: every version ({history.height})", state.PARTNER_OUTREACH_HISTORY, ":material/history:"
                )
                if every_version.open:
                    with every_version:
                        ui.table(history.drop("partner_id"), f"outreach_history_{partner_id}.csv", COLUMNS)
    if record_tab.open:
        with record_tab:
            _seed(partner_id, None, {"contact_date": date.today(), "channel": notes.CHANNELS[0]} | dict.fromkeys(TEXTS, ""))
            _form(log, partner_id, None)
    if edit_tab.open:
        with edit_tab:
            _edit(log, partner_id, contacts)


def _edit(log: notes.Log, partner_id: str, contacts: pl.DataFrame) -> None:
    if contacts.is_empty():
        st.caption("No contact recorded yet: record one in the previous tab.")
        return
    labels = {row["contact_id"]: contact_label(row) for row in contacts.iter_rows(named=True)}
    chosen = st.selectbox(
        "Contact to edit",
        list(labels),
        format_func=labels.get,
        index=None,
        key=_key(partner_id, None, "editing"),
        placeholder="Choose a contact",
        persist_state="page",
    )
    if not chosen:
        return
    row = contacts.filter(pl.col("contact_id") == chosen).row(0, named=True)
    if _key(partner_id, chosen, "based_on") not in st.session_state:
        st.session_state[_key(partner_id, chosen, "based_on")] = row["version"]
    _seed(partner_id, chosen, row)
    st.caption(
        f"Editing version {st.session_state[_key(partner_id, chosen, 'based_on')]}, saved by {row['recorded_by']}; "
        "saving keeps it in the history."
    )
    _form(log, partner_id, chosen)
    st.button(
        "Discard my changes and load the latest version",
        key=_key(partner_id, chosen, "reload"),
        on_click=_clear,
        args=(partner_id, chosen),
    )
