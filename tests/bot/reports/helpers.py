"""Driving the report flows as adapters do: commands, forms and buttons through the dispatcher."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.core import Core
from bot.messages import (
    ActionEvent,
    Address,
    Form,
    FormOutcome,
    FormSubmission,
    IncomingMessage,
    MessageRef,
    Reply,
    User,
)
from tests.chat import TestChat

REPORTER = User("slack", "U0REPORTER9", "Taro Whistle")
DESK_A = User("slack", "U0DESKA")
DESK_B = User("slack", "U0DESKB")
OUTSIDER = User("slack", "U0OUTSIDER")
DESK_CONFIG = ("desk:\n  members: ['slack:U0DESKA', 'slack:U0DESKB']\n"
               "  names: {'slack:U0DESKA': 佐藤, 'slack:U0DESKB': 鈴木}\n")
REPORTS_CONFIG = ("reports:\n  desk_channel: 'slack:C0DESK'\n"
                  "  notice_delay_min_minutes: 0\n  notice_delay_max_minutes: 0\n")
START = datetime(2026, 12, 1, 0, 30, tzinfo=UTC)


class Clock:
    """The time the flows see; tests move it forward instead of patching."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class ReportChat(TestChat):
    __test__ = False

    def __init__(self, core: Core, user: User = REPORTER, clock: Clock | None = None) -> None:
        super().__init__(core, user)
        self.clock = clock or Clock()
        self.bot.feature("reports").clock = self.clock

    def command(self, text: str, user: User | None = None) -> Reply:
        reply = self.bot.dispatcher.command(IncomingMessage(user or self.user, text))
        self.replies.append(reply)
        return reply

    def submit(self, form: Form, values: dict[str, str], user: User | None = None
               ) -> FormOutcome:
        return self.bot.dispatcher.submit(FormSubmission(user or self.user, form.id, values,
                                                         form.state))

    def act(self, action: str, value: str, user: User) -> Reply:
        reply = self.bot.dispatcher.action(ActionEvent(user, action, value))
        assert reply is not None
        return reply

    # -- whole steps -----------------------------------------------------------------------

    def report(self, user: User | None = None, **values: str) -> tuple[str, str]:
        """Submit a report; the case number and key from the receipt."""
        form = self.command("report", user).form
        assert form is not None
        outcome = self.submit(form, {"category": "info_leak", "what": "顧客情報が共有フォルダに",
                                     **values}, user)
        assert not outcome.errors, outcome.errors
        assert outcome.reply is not None and outcome.followup is None
        fields = dict(outcome.reply.fields)
        return fields["Case number"], fields["Secret key"]

    def check(self, case_number: str, key: str, user: User | None = None) -> FormOutcome:
        form = self.command("case", user).form
        assert form is not None
        return self.submit(form, {"case_number": case_number, "key": key}, user)

    def desk_form(self, case_number: str, user: User) -> Form:
        reply = self.command(f"case {case_number}", user)
        assert reply.form is not None, reply.text
        return reply.form


@dataclass
class RecordingMessenger:
    """A platform that accepts every post and remembers it."""
    threads = True


    platform: str = "slack"
    posts: list[tuple[Address, Reply]] = field(default_factory=list)

    def post(self, to: Address, reply: Reply) -> MessageRef:
        self.posts.append((to, reply))
        return MessageRef(self.platform, to.id, f"{len(self.posts)}.0001")

    def update(self, ref: MessageRef, reply: Reply) -> None:
        raise AssertionError("desk notices are never updated")


def report_core(database, make_settings, config: str = "") -> Core:  # type: ignore[no-untyped-def]
    """A core whose desk has two members and whose reports go to a desk channel at once."""
    from bot.core import build_core

    settings = make_settings(DESK_CONFIG + REPORTS_CONFIG + config, DATABASE_URL=database.url)
    return build_core(settings)


def dump_database(database) -> str:  # type: ignore[no-untyped-def]
    """Every row of every table as text, plus the raw bytes of an SQLite file (with its WAL)."""
    import sqlalchemy as sa

    parts: list[str] = []
    with database.engine.connect() as connection:
        for table in sa.inspect(connection).get_table_names():
            if database.dialect == "postgresql":
                rows = connection.exec_driver_sql(f'SELECT t::text FROM "{table}" t')
            else:
                rows = connection.exec_driver_sql(f'SELECT * FROM "{table}"')
            parts += [table, *(repr(tuple(row)) for row in rows)]
    if database.dialect == "sqlite":
        from pathlib import Path

        path = Path(database.engine.url.database)
        for file in path.parent.glob(path.name + "*"):
            parts.append(file.read_bytes().decode("utf-8", errors="replace"))
    return "\n".join(parts)


def audit_export(core: Core) -> str:
    from bot.audit import export_rows, format_rows

    with core.database.transaction() as session:
        return "".join(
            chunk for fmt in ("csv", "jsonl")
            for chunk in format_rows(export_rows(session, None), fmt)
        )


def assert_no_timing_link(core, pseudonym: str) -> None:
    """The reporter's own audit rows (their pseudonym's) and the report's cannot be matched by
    order or time: the report has no audit row yet, its arrival will be audited at least
    `notice_delay_min_minutes` after the reporter's last row, and its stored time is on the
    hour."""
    from datetime import UTC, timedelta

    import sqlalchemy as sa

    from bot.models import AuditEvent
    from bot.reports.models import Report

    def aware(value):
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    with core.database.transaction() as session:
        own = list(session.scalars(sa.select(AuditEvent).where(AuditEvent.actor == pseudonym)))
        [report] = session.scalars(sa.select(Report)).all()
        about_it = list(session.scalars(sa.select(AuditEvent).where(
            AuditEvent.subject == f"report:{report.case_number}")))
        assert own, "the reporter did something under their pseudonym first"
        assert about_it == []  # nothing in the trail yet: no neighbour in order
        minimum = timedelta(minutes=core.settings.file.reports.notice_delay_min_minutes)
        assert minimum >= timedelta(minutes=5)
        assert aware(report.notify_after) - max(aware(e.ts) for e in own) >= minimum - \
            timedelta(seconds=5)
        received = aware(report.received_at)
        assert (received.minute, received.second, received.microsecond) == (0, 0, 0)
