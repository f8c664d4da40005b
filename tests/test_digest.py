"""The partner leads' digest (`python -m queries digest`): what changed for a lead's own partners
since their last digest, with nothing their role may not see; written to files with --out, or
sent with --send through a real SMTP server (aiosmtpd, on this machine) or a Slack-style webhook
(a local HTTP server), and recorded so the next one starts where it ended.

Runs on the roles program of tests/test_roles_pages.py, as of 2026-06-20: Maria Lopez manages P1
(Acme Partners: last busy 2026-02-01, dormant and at risk with $5,000 open pipeline and 203.47
commission owed); Sam Reed manages P2 (Beacon Systems) and P3 (Cobalt Consulting)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
from datetime import date, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

import access
import notes
import queries
from loaders.build import build_database
from queries.__main__ import main
from queries.program import digest
from settings import Digest, Role, Settings
from tests.test_roles_pages import FILES, ROLES, write_extracts

AS_OF = date(2026, 6, 20)
WEBHOOK_ENV = "PULSE_TEST_SAM_WEBHOOK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """An aiosmtpd handler keeping every message it is given."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201, N802 - aiosmtpd's hook
        message = BytesParser(policy=policy.default).parsebytes(envelope.original_content)
        self.messages.append((envelope.rcpt_tos, message))
        return "250 OK"


@pytest.fixture(scope="module")
def smtp() -> tuple[Inbox, int]:
    """A plain SMTP relay on this machine (no STARTTLS, no login)."""
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture(scope="module")
def program(tmp_path_factory: pytest.TempPathFactory, smtp: tuple[Inbox, int]) -> Path:
    """The roles program with two partner leads (Sam's digest goes to a webhook), built by the real
    loaders with the digest settings pointing at the SMTP relay above."""
    folder = tmp_path_factory.mktemp("digest")
    roles = ROLES | {"sam@example.com": Role(role="partner_lead", partner_managers=["Sam Reed"], digest_webhook_env=WEBHOOK_ENV)}
    settings = Settings(
        roles=roles,
        digest=Digest(base_url="https://pulse.example.com/", smtp_host="127.0.0.1", smtp_port=smtp[1], smtp_starttls=False),
    )
    db = folder / "roles.duckdb"
    build_database(write_extracts(folder / "x", FILES), db, settings=settings)
    return db


@pytest.fixture
def notes_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "notes.sqlite"
    monkeypatch.setenv("PULSE_NOTES_DB", str(path))
    return path


@pytest.fixture
def inbox(smtp: tuple[Inbox, int]) -> Inbox:
    smtp[0].messages.clear()
    return smtp[0]


def written(out: Path, who: str) -> tuple[str, str]:
    stem = f"digest_{who}_example_com_{AS_OF:%Y-%m-%d}"
    return (out / f"{stem}.txt").read_text(encoding="utf-8"), (out / f"{stem}.html").read_text(encoding="utf-8")


def test_each_partner_lead_gets_what_changed_for_their_own_partners(program: Path, notes_file: Path, tmp_path: Path):
    out = tmp_path / "out"
    assert main(["digest", "--db", str(program), "--since", "2026-01-01", "--out", str(out)]) == 0
    assert sorted(path.name for path in out.iterdir()) == [
        "digest_maria_example_com_2026-06-20.html",
        "digest_maria_example_com_2026-06-20.txt",
        "digest_sam_example_com_2026-06-20.html",
        "digest_sam_example_com_2026-06-20.txt",
    ]
    text, page = written(out, "maria")
    assert "Partners of Maria Lopez: what changed from 2026-01-01 to 2026-06-20" in text
    # Acme went quiet after 2026-02-01: not dormant on 2026-01-01, dormant (139 days) on 2026-06-20.
    assert (
        "Newly dormant (1)\n-----------------\n"
        "- Acme Partners (P1): quiet 139 days, last activity 2026-02-01; open pipeline $5,000\n"
        "  https://pulse.example.com/partner?partner=P1&manager=Maria+Lopez\n"
    ) in text
    assert "- Acme Partners (P1): quiet 139 days; open pipeline $5,000 (1 deal); unpaid commission\n" in text
    # Sam's partners are not in Maria's digest, and Maria's not in Sam's.
    assert "Beacon" not in text + page and "Cobalt" not in text + page and "P2" not in text
    sam, _ = written(out, "sam")
    assert "Acme" not in sam and "Beacon Systems (P2)" in sam
    # HTML: inline styles only (mail clients drop style sheets), the same partner links.
    assert "<style" not in page and 'style="' in page
    assert 'href="https://pulse.example.com/partner?partner=P1&amp;manager=Maria+Lopez"' in page
    assert not notes_file.exists(), "--out sends nothing and records nothing"


def test_a_partner_leads_digest_holds_no_commission_amount(program: Path, notes_file: Path, tmp_path: Path):
    out = tmp_path / "out"
    assert main(["digest", "--db", str(program), "--manager", "Maria Lopez", "--since", "2026-01-01", "--out", str(out)]) == 0
    text, page = written(out, "maria")
    assert "unpaid commission" in text
    for amount in ("203.47", "$203", "317.29", "$317"):
        assert amount not in text and amount not in page
    # Someone who sees money does see it in the same output (so the check above can fail).
    con = queries.connect(program)
    assert (
        "$203"
        in queries.execute(con, "partner_signals", as_of=AS_OF)
        .filter(queries.pl.col("partner_id") == "P1")["at_risk_reasons"]
        .item()
    )


def test_newly_means_flagged_at_the_end_and_not_at_the_start(program: Path, notes_file: Path, tmp_path: Path):
    # The first digest covers the week before the data's day: Acme was dormant and at risk already.
    out = tmp_path / "out"
    assert main(["digest", "--db", str(program), "--manager", "Maria Lopez", "--out", str(out)]) == 0
    text, _ = written(out, "maria")
    assert "what changed from 2026-06-13 to 2026-06-20" in text
    assert "Newly dormant" not in text and "Newly at risk" not in text
    assert "Nothing new for your partners since the last digest." in text


def test_follow_ups_due_are_the_next_steps_due_within_a_week_overdue_ones_included(
    program: Path, notes_file: Path, tmp_path: Path
):
    today = date.today()
    log = notes.Log(notes_file, frozenset({"P1", "P2", "P3"}), "maria@example.com")
    log.record(
        notes.Contact(
            partner_id="P1",
            contact_date=today,
            channel="call",
            next_step="Send the deck",
            next_step_due=today + timedelta(days=7),
        )
    )
    log.record(
        notes.Contact(
            partner_id="P2", contact_date=today, channel="email", next_step="Renewal", next_step_due=today + timedelta(days=8)
        )
    )
    log.record(
        notes.Contact(
            partner_id="P3", contact_date=today, channel="event", next_step="Intro", next_step_due=today - timedelta(days=1)
        )
    )
    out = tmp_path / "out"
    assert main(["digest", "--db", str(program), "--out", str(out)]) == 0
    maria, _ = written(out, "maria")
    sam, _ = written(out, "sam")
    assert (
        f"- Acme Partners (P1): Send the deck, due {today + timedelta(days=7):%Y-%m-%d}; last contact {today:%Y-%m-%d} (call)"
        in maria
    )
    assert "Follow-ups due (1)" in sam and "Renewal" not in sam
    assert f"- Cobalt Consulting (P3): Intro, due {today - timedelta(days=1):%Y-%m-%d} (overdue)" in sam


def test_a_sent_digest_arrives_by_email_and_the_next_one_starts_where_it_ended(
    program: Path, notes_file: Path, inbox: Inbox, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv(WEBHOOK_ENV, raising=False)
    assert main(["digest", "--db", str(program), "--manager", "Maria Lopez", "--since", "2026-01-01", "--send"]) == 0
    [(to, message)] = inbox.messages
    assert to == ["maria@example.com"] and message["To"] == "maria@example.com"
    assert message["Subject"].strip() == "Partner Pulse: 1 newly dormant, 1 newly at risk (2026-01-01 to 2026-06-20)"
    plain = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Acme Partners (P1): quiet 139 days" in plain and "Acme Partners</a>" in html
    assert notes.last_digest(notes_file, "maria@example.com") == AS_OF

    inbox.messages.clear()
    assert main(["digest", "--db", str(program), "--manager", "Maria Lopez", "--send"]) == 0
    [(_, second)] = inbox.messages
    assert second["Subject"].strip() == "Partner Pulse: nothing new (2026-06-20 to 2026-06-20)"


def test_a_digest_to_a_webhook_is_slack_style_json_with_partner_links(
    program: Path, notes_file: Path, inbox: Inbox, monkeypatch: pytest.MonkeyPatch
):
    received: list[dict] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's hook
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args) -> None:  # noqa: ANN002
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv(WEBHOOK_ENV, f"http://127.0.0.1:{server.server_port}/hook")
        assert main(["digest", "--db", str(program), "--manager", "Sam Reed", "--since", "2026-01-01", "--send"]) == 0
    finally:
        server.shutdown()
    [message] = received
    assert message["text"].startswith("Partner Pulse: ") and message["blocks"][0]["type"] == "header"
    sections = "\n".join(block["text"]["text"] for block in message["blocks"] if block["type"] == "section")
    assert "<https://pulse.example.com/partner?partner=P2&manager=Sam+Reed|Beacon Systems>" in sections
    assert "Acme" not in sections
    assert inbox.messages == [], "a webhook digest is not also emailed"
    assert notes.last_digest(notes_file, "sam@example.com") == AS_OF


def test_a_webhook_that_fails_is_reported_and_not_recorded(
    program: Path, notes_file: Path, monkeypatch: pytest.MonkeyPatch, capsys
):
    monkeypatch.setenv(WEBHOOK_ENV, f"http://127.0.0.1:{free_port()}/nobody-listens")
    assert main(["digest", "--db", str(program), "--manager", "Sam Reed", "--send"]) == 1
    assert (
        "digest for sam@example.com not sent: the webhook in $PULSE_TEST_SAM_WEBHOOK refused the digest"
        in capsys.readouterr().err
    )
    assert notes.last_digest(notes_file, "sam@example.com") is None


# ---- SMTP with STARTTLS and a login -------------------------------------------------------------


def maria_digest(program: Path, notes_file: Path) -> digest.Digest:
    con = queries.connect(program)
    settings = digest.program_settings(con)
    [maria] = digest.recipients(settings, ["Maria Lopez"])
    return digest.build(con, maria, date(2026, 1, 1), AS_OF, AS_OF, settings.digest, notes_file)


@pytest.fixture
def tls_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """An SMTP server that requires STARTTLS (a self-signed certificate this test trusts) and a login."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed: no certificate for the STARTTLS server")
    import ssl

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the client's default context trusts it
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(server, session, envelope, mechanism, data):  # noqa: ANN001, ANN202
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"pulse", b"s3cret")
        logins.append((data.login, data.password))
        # handled=False: the server answers a refused login with 535, as a real one does (aiosmtpd's
        # default, handled=True, leaves the answer to the authenticator, and the client waits out its timeout).
        return AuthResult(success=ok, handled=False)

    inbox, port = Inbox(), free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
    )
    controller.start()
    yield inbox, port, logins
    controller.stop()


def test_email_goes_over_starttls_with_the_login_from_the_environment(
    program: Path, notes_file: Path, tls_server, monkeypatch: pytest.MonkeyPatch
):
    inbox, port, logins = tls_server
    monkeypatch.setenv("PULSE_SMTP_USER", "pulse")
    monkeypatch.setenv("PULSE_SMTP_PASSWORD", "s3cret")
    settings = Digest(smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=True, from_address="pulse@example.com")
    digest.send_email(maria_digest(program, notes_file), settings)
    assert logins == [(b"pulse", b"s3cret")]
    [(to, message)] = inbox.messages
    assert to == ["maria@example.com"] and message["From"] == "pulse@example.com"


def test_a_wrong_password_is_reported_and_nothing_is_sent(
    program: Path, notes_file: Path, tls_server, monkeypatch: pytest.MonkeyPatch
):
    inbox, port, _ = tls_server
    monkeypatch.setenv("PULSE_SMTP_USER", "pulse")
    monkeypatch.setenv("PULSE_SMTP_PASSWORD", "wrong")
    with pytest.raises(digest.DeliveryError, match="the mail to maria@example.com via 127.0.0.1 failed"):
        digest.send_email(maria_digest(program, notes_file), Digest(smtp_host="127.0.0.1", smtp_port=port))
    assert inbox.messages == []


def test_a_server_without_starttls_gets_nothing_when_starttls_is_required(
    program: Path, notes_file: Path, inbox: Inbox, smtp: tuple[Inbox, int]
):
    with pytest.raises(digest.DeliveryError, match="does not offer STARTTLS .* nothing was sent"):
        digest.send_email(maria_digest(program, notes_file), Digest(smtp_host="127.0.0.1", smtp_port=smtp[1], smtp_starttls=True))
    assert inbox.messages == []


def test_the_password_is_never_sent_over_a_connection_without_starttls(
    program: Path, notes_file: Path, inbox: Inbox, smtp: tuple[Inbox, int], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("PULSE_SMTP_USER", "pulse")
    monkeypatch.setenv("PULSE_SMTP_PASSWORD", "s3cret")
    with pytest.raises(digest.DeliveryError, match="will not send the SMTP password over a connection without STARTTLS"):
        digest.send_email(
            maria_digest(program, notes_file), Digest(smtp_host="127.0.0.1", smtp_port=smtp[1], smtp_starttls=False)
        )
    assert inbox.messages == []


def test_no_partner_lead_in_the_roles_means_no_digest_and_says_how_to_add_one(
    tiny_db: Path, notes_file: Path, tmp_path: Path, capsys
):
    assert main(["digest", "--db", str(tiny_db), "--out", str(tmp_path / "out")]) == 2
    assert "the roles name no partner lead with partner managers" in capsys.readouterr().err


def test_a_notes_file_that_cannot_be_read_fails_that_digest_and_says_why(program: Path, notes_file: Path, tmp_path: Path, capsys):
    notes_file.write_text("not a database")
    assert main(["digest", "--db", str(program), "--manager", "Maria Lopez", "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert f"digest for maria@example.com failed: the notes database {notes_file} cannot be used" in err
    assert "1 of 1 digests failed" in err


def test_the_subject_counts_one_follow_up_in_the_singular_and_two_in_the_plural():
    def made(follow_ups: int) -> digest.Digest:
        item = digest.Item("P1", "Acme Partners", "Send the deck")
        lead = access.Viewer("maria@example.com", "partner_lead", ("Maria",))
        return digest.Digest(
            recipient=digest.Recipient("maria@example.com", lead, ("Maria",)),
            since=date(2026, 6, 1),
            as_of=date(2026, 6, 20),
            made_on=date(2026, 6, 20),
            settings=Digest(),
            sections=[digest.Section("follow_ups", "Follow-ups due", [item] * follow_ups)],
        )

    assert made(1).subject() == "Partner Pulse: 1 follow-up due (2026-06-01 to 2026-06-20)"
    assert made(2).subject() == "Partner Pulse: 2 follow-ups due (2026-06-01 to 2026-06-20)"
