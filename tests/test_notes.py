"""The notes database (notes.py): the outreach log keeps every version and refuses a partner not
the viewer's, two writers at once lose nothing, a failed write says so, the file is copied aside
before its schema changes, and the analytics rebuild never touches it."""

from __future__ import annotations

import multiprocessing
import sqlite3
import sys
import threading
import types
from datetime import date
from pathlib import Path

import pytest
from polars.testing import assert_frame_equal

import access
import notes
import queries
from loaders.build import build_database
from tests.conftest import TINY, write_extracts

MINE = frozenset({"P1", "P2"})


def contact(partner_id: str = "P1", **given) -> notes.Contact:
    values = {"contact_date": date(2026, 6, 1), "channel": "call"} | given
    return notes.Contact(partner_id=partner_id, **values)


@pytest.fixture
def log(tmp_path: Path) -> notes.Log:
    return notes.Log(tmp_path / "notes.sqlite", MINE, "maria@example.com")


def test_a_contact_is_recorded_with_who_saved_it_and_when(log: notes.Log):
    saved = log.record(contact(outcome="Agreed a webinar", next_step="Send the deck", next_step_due=date(2026, 6, 25)))
    row = log.contacts("P1").row(0, named=True)
    assert saved.version == 1 and row["contact_id"] == saved.contact_id
    assert (row["contact_date"], row["channel"], row["outcome"], row["next_step"], row["next_step_due"]) == (
        date(2026, 6, 1),
        "call",
        "Agreed a webinar",
        "Send the deck",
        date(2026, 6, 25),
    )
    assert row["recorded_by"] == "maria@example.com" and row["recorded_at"] is not None


def test_an_edit_is_a_new_version_and_the_first_stays_in_the_history(log: notes.Log):
    first = log.record(contact(outcome="Left a voicemail"))
    second = log.edit(first.contact_id, 1, contact(outcome="Spoke to their CEO"))
    assert second == notes.Saved(first.contact_id, 2)
    assert log.contacts("P1")["outcome"].to_list() == ["Spoke to their CEO"]
    history = log.history("P1")
    assert history.select("version", "outcome").rows() == [(1, "Left a voicemail"), (2, "Spoke to their CEO")]


def test_a_saved_version_cannot_be_changed_or_deleted_even_by_hand(log: notes.Log):
    log.record(contact(outcome="First"))
    con = sqlite3.connect(log.path)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="keeps history"):
            con.execute("update contacts set outcome = 'rewritten'")
        with pytest.raises(sqlite3.IntegrityError, match="keeps history"):
            con.execute("delete from contacts")
    finally:
        con.close()
    assert log.history("P1")["outcome"].to_list() == ["First"]


def test_two_people_editing_the_same_version_the_second_is_refused_and_nothing_is_lost(tmp_path: Path):
    path = tmp_path / "notes.sqlite"
    maria, sam = notes.Log(path, MINE, "maria@example.com"), notes.Log(path, MINE, "sam@example.com")
    first = maria.record(contact(outcome="First call"))
    maria.edit(first.contact_id, 1, contact(outcome="Maria's version"))
    with pytest.raises(notes.Conflict, match="maria@example.com changed this contact .* Your text is still in the form"):
        sam.edit(first.contact_id, 1, contact(outcome="Sam's version"))
    assert maria.history("P1")["outcome"].to_list() == ["First call", "Maria's version"]


def test_the_log_refuses_to_read_or_write_a_partner_not_the_viewers(log: notes.Log):
    other = notes.Log(log.path, frozenset({"P3"}), "sam@example.com")
    other.record(contact("P3", outcome="Sam's partner"))
    with pytest.raises(access.Refused, match="P3 is not one of your partners"):
        log.record(contact("P3"))
    with pytest.raises(access.Refused, match="P3 is not one of your partners"):
        log.contacts("P3")
    assert log.contacts().is_empty() and log.history().is_empty()
    assert log.latest_by_partner(["P1", "P3"]).is_empty()


def test_next_step_due_is_the_plan_of_the_partners_last_contact(log: notes.Log):
    log.record(contact(contact_date=date(2026, 5, 1), next_step="Send pricing", next_step_due=date(2026, 5, 10)))
    latest = log.record(contact(contact_date=date(2026, 6, 1), next_step="Book a QBR", next_step_due=date(2026, 6, 30)))
    log.record(contact("P2", contact_date=date(2026, 6, 2), outcome="No answer"))
    assert log.latest_by_partner().rows() == [
        ("P1", date(2026, 6, 1), "call", "Book a QBR", date(2026, 6, 30)),
        ("P2", date(2026, 6, 2), "call", None, None),
    ]
    # Editing the latest contact's plan moves the due date; it stays the latest contact.
    log.edit(
        latest.contact_id, 1, contact(contact_date=date(2026, 6, 1), next_step="Book a QBR", next_step_due=date(2026, 6, 20))
    )
    assert log.latest_by_partner(["P1"])["next_step_due"].to_list() == [date(2026, 6, 20)]


def test_follow_ups_due_are_next_steps_due_on_or_before_the_day_given(log: notes.Log):
    log.record(contact(next_step="Send the deck", next_step_due=date(2026, 6, 25)))
    log.record(contact("P2", next_step="Renewal call", next_step_due=date(2026, 6, 26)))
    assert log.follow_ups_due(date(2026, 6, 25))["partner_id"].to_list() == ["P1"]
    assert log.follow_ups_due(date(2026, 6, 26))["partner_id"].to_list() == ["P1", "P2"]
    assert log.follow_ups_due(date(2026, 6, 24)).is_empty()


def test_a_due_date_needs_a_next_step_and_the_channel_is_one_of_four():
    with pytest.raises(ValueError, match="needs the next step"):
        contact(next_step_due=date(2026, 6, 25))
    with pytest.raises(ValueError, match="channel"):
        contact(channel="carrier pigeon")


def test_reading_a_log_nobody_has_written_creates_no_file(log: notes.Log):
    assert log.contacts().is_empty() and log.latest_by_partner().is_empty()
    assert notes.last_digest(log.path, "maria@example.com") is None
    assert not log.path.exists()


def test_a_write_that_cannot_happen_says_so_in_words(tmp_path: Path):
    blocker = tmp_path / "a file"
    blocker.write_text("not a folder")
    log = notes.Log(blocker / "notes.sqlite", MINE, "maria@example.com")
    with pytest.raises(notes.NotSaved, match="Not saved: the notes database .* cannot be opened"):
        log.record(contact())


def test_threads_writing_at_once_lose_nothing(log: notes.Log):
    def write(worker: int) -> None:
        for i in range(15):
            log.record(contact("P1" if worker % 2 else "P2", outcome=f"worker {worker} note {i}"))

    threads = [threading.Thread(target=write, args=(worker,)) for worker in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    outcomes = log.contacts()["outcome"].to_list()
    assert sorted(outcomes) == sorted(f"worker {w} note {i}" for w in range(6) for i in range(15))


def write_from_a_process(path: str, worker: int) -> None:
    log = notes.Log(Path(path), MINE, f"worker{worker}@example.com")
    for i in range(15):
        log.record(contact(outcome=f"process {worker} note {i}"))


def test_processes_writing_at_once_lose_nothing(log: notes.Log, monkeypatch: pytest.MonkeyPatch):
    # A spawned process first runs the parent's __main__ again; after an AppTest in this worker that is
    # app.py, which fails outside Streamlit. The children need only this module: give them a bare __main__.
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=write_from_a_process, args=(str(log.path), worker)) for worker in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [worker.exitcode for worker in workers] == [0, 0, 0]
    contacts = log.contacts()
    assert contacts.height == 45 and contacts["contact_id"].n_unique() == 45
    assert contacts.group_by("recorded_by").len().sort("recorded_by")["len"].to_list() == [15, 15, 15]


def test_a_notes_file_at_an_older_schema_is_copied_aside_before_it_is_upgraded(log: notes.Log, monkeypatch: pytest.MonkeyPatch):
    with monkeypatch.context() as old_version:  # a file written when the log was all there was
        old_version.setattr(notes, "MIGRATIONS", notes.MIGRATIONS[:1])
        old_version.setattr(notes, "SCHEMA_VERSION", 1)
        log.record(contact(outcome="Written by version 1"))
    assert list(log.path.parent.glob("*.bak")) == []

    notes.record_digest(log.path, "maria@example.com", ["Maria Lopez"], date(2026, 6, 13), date(2026, 6, 20), "email")

    [backup] = list(log.path.parent.glob("notes.sqlite.v1-*.bak"))
    copy = sqlite3.connect(backup)
    try:
        assert copy.execute("select outcome from contacts").fetchall() == [("Written by version 1",)]
        assert copy.execute("select max(version) from schema_version").fetchone() == (1,)
        assert copy.execute("select count(*) from sqlite_master where name = 'digests_sent'").fetchone() == (0,)
    finally:
        copy.close()
    assert log.contacts()["outcome"].to_list() == ["Written by version 1"]
    assert notes.last_digest(log.path, "maria@example.com") == date(2026, 6, 20)


def test_a_notes_file_from_a_newer_version_is_refused_and_left_as_it_is(log: notes.Log):
    log.record(contact())
    con = sqlite3.connect(log.path)
    con.execute("insert into schema_version values (99, 'the future', '2030-01-01')")
    con.commit()
    con.close()
    before = log.path.read_bytes()
    with pytest.raises(notes.NotesError, match="written by a newer Partner Pulse"):
        log.contacts()
    assert log.path.read_bytes() == before


def test_the_last_digest_is_the_latest_sent_to_that_person(log: notes.Log):
    notes.record_digest(log.path, "maria@example.com", ["Maria Lopez"], date(2026, 6, 6), date(2026, 6, 13), "email")
    notes.record_digest(log.path, "maria@example.com", ["Maria Lopez"], date(2026, 6, 13), date(2026, 6, 20), "email")
    notes.record_digest(log.path, "sam@example.com", ["Sam Reed"], date(2026, 6, 1), date(2026, 6, 8), "webhook")
    assert notes.last_digest(log.path, "maria@example.com") == date(2026, 6, 20)
    assert notes.last_digest(log.path, "sam@example.com") == date(2026, 6, 8)
    assert notes.last_digest(log.path, "nobody@example.com") is None


def test_the_notes_file_sits_beside_the_database_unless_the_environment_names_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv("PULSE_NOTES_DB", raising=False)
    monkeypatch.setenv("PULSE_DB", str(tmp_path / "served" / "pulse.duckdb"))
    assert notes.notes_path() == tmp_path / "served" / "notes.sqlite"
    monkeypatch.setenv("PULSE_NOTES_DB", str(tmp_path / "elsewhere.sqlite"))
    assert notes.notes_path() == tmp_path / "elsewhere.sqlite"


def test_rebuilding_the_analytics_database_leaves_the_notes_alone(tmp_path: Path):
    db = tmp_path / "data" / "pulse.duckdb"
    extracts = write_extracts(tmp_path / "x", TINY)
    build_database(extracts, db)
    log = notes.Log(notes.notes_path(db), MINE, "maria@example.com")
    log.record(contact(outcome="Before the rebuild"))
    before = log.history()
    build_database(extracts, db)
    assert log.path.parent == db.parent
    assert_frame_equal(log.history(), before)


def test_a_partner_lead_keeps_the_log_of_their_own_partners_and_finance_keeps_none(tiny_db: Path):
    from settings import Role, Settings

    settings = Settings(
        roles={
            "maria@example.com": Role(role="partner_lead", partner_managers=["Maria Lopez"]),
            "cfo@example.com": Role(role="finance"),
            "exec@example.com": Role(role="executive"),
        }
    ).model_dump_json()
    con = queries.connect(tiny_db)

    def partners(email: str) -> frozenset[str]:
        viewer = access.viewer_for({"is_logged_in": True, "email": email}, settings)
        return access.outreach_partners(viewer, lambda name, **params: access.run(con, viewer, name, **params))

    assert partners("maria@example.com") == {"P1"}  # TINY: Maria Lopez manages P1; Sam Reed P2 and P3
    assert partners("exec@example.com") == {"P1", "P2", "P3"}
    with pytest.raises(access.Refused, match="not open to the role finance"):
        partners("cfo@example.com")
