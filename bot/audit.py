"""The tamper-evident audit trail.

Each row is signed with HMAC-SHA256 over its own content and the previous row's signature.
A plain hash chain can be recomputed by anyone who can write to the database; the HMAC key is
derived from COMPLIANCE_BOT_SECRET_KEY, which the database administrator does not hold, so an
edited, deleted, inserted or reordered row cannot be re-sealed. `seq` is gap-free (assigned
under the head row's lock, not from a sequence that skips on rollback), and the head row makes
truncation at the end visible too. On PostgreSQL (and SQLite) triggers refuse UPDATE and
DELETE on the table outright; verification is what catches someone who disabled them.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.keys import Keyring, derive
from bot.models import AuditEvent, AuditHead

GENESIS = "0" * 64
SYSTEM = "system"
EXPORT_FIELDS = (
    "seq", "ts", "actor", "action", "subject", "details", "before", "after",
    "key_id", "prev_hash", "hash",
)


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def _timestamp(value: datetime) -> str:
    # SQLite hands timestamps back naive; they were written as UTC.
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _seal(key: bytes, row: AuditEvent) -> str:
    fields = [
        row.seq, _timestamp(row.ts), row.actor, row.action, row.subject, row.details,
        row.before, row.after, row.key_id, row.prev_hash,
    ]
    return hmac.new(derive(key, "audit-chain"), canonical_json(fields).encode(), hashlib.sha256)\
        .hexdigest()


class AuditTrail:
    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring

    def record(
        self,
        session: Session,
        *,
        actor: str,
        action: str,
        subject: str,
        details: dict[str, Any] | None = None,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
    ) -> AuditEvent:
        """Append one event in the caller's transaction, so it commits with the change it records.

        `actor` must already be a pseudonym or a role ("system", "cli"); never a platform id.
        """
        head = session.execute(
            select(AuditHead).where(AuditHead.id == 1).with_for_update()
        ).scalar_one()
        row = AuditEvent(
            seq=head.seq + 1,
            ts=datetime.now(UTC),
            actor=actor,
            action=action,
            subject=subject,
            details=canonical_json(details or {}),
            before=None if before is None else canonical_json(before),
            after=None if after is None else canonical_json(after),
            key_id=self.keyring.current_id,
            prev_hash=head.hash,
        )
        row.hash = _seal(self.keyring.current, row)
        session.add(row)
        head.seq, head.hash = row.seq, row.hash
        session.flush()
        return row


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    rows: int
    problem: str | None = None
    bad_seq: int | None = None


def verify(session: Session, keyring: Keyring) -> VerifyResult:
    """Walk the chain in order and name the first row that does not fit."""
    keys = keyring.by_id()
    previous_hash = GENESIS
    expected_seq = 1
    count = 0
    for row in session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars():
        count += 1
        if row.seq != expected_seq:
            return VerifyResult(False, count, f"row {expected_seq} is missing: found row {row.seq} "
                                "in its place (rows deleted)", expected_seq)
        if row.prev_hash != previous_hash:
            return VerifyResult(False, count, f"row {row.seq} does not follow row {row.seq - 1} "
                                "(rows deleted, inserted or reordered)", row.seq)
        key = keys.get(row.key_id)
        if key is None:
            return VerifyResult(False, count, f"row {row.seq} is signed with unknown key "
                                f"{row.key_id} (set COMPLIANCE_BOT_OLD_SECRET_KEYS)", row.seq)
        if not hmac.compare_digest(_seal(key, row), row.hash):
            return VerifyResult(False, count, f"row {row.seq} has been altered "
                                "(its content does not match its signature)", row.seq)
        previous_hash = row.hash
        expected_seq += 1
    head = session.get(AuditHead, 1)
    last = expected_seq - 1
    if head is None or head.seq != last or head.hash != previous_hash:
        head_seq = head.seq if head else 0
        return VerifyResult(False, count, f"the trail ends at row {last} but its head says "
                            f"{head_seq} (rows deleted at the end)", last + 1)
    return VerifyResult(True, count)


def _row_dict(row: AuditEvent) -> dict[str, Any]:
    return {
        "seq": row.seq, "ts": _timestamp(row.ts), "actor": row.actor, "action": row.action,
        "subject": row.subject, "details": json.loads(row.details),
        "before": None if row.before is None else json.loads(row.before),
        "after": None if row.after is None else json.loads(row.after),
        "key_id": row.key_id, "prev_hash": row.prev_hash, "hash": row.hash,
    }


def export_rows(session: Session, since: datetime | None) -> Iterator[dict[str, Any]]:
    query = select(AuditEvent).order_by(AuditEvent.seq)
    if since is not None:
        query = query.where(AuditEvent.ts >= since)
    for row in session.execute(query).scalars():
        yield _row_dict(row)


def format_rows(rows: Iterator[dict[str, Any]], fmt: str) -> Iterator[str]:
    """CSV keeps the JSON columns as JSON text, so an auditor's spreadsheet shows them verbatim."""
    if fmt == "jsonl":
        for row in rows:
            yield canonical_json(row) + "\n"
        return
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=EXPORT_FIELDS)
    writer.writeheader()
    for row in rows:
        writer.writerow({
            key: canonical_json(value) if isinstance(value, dict | list) else value
            for key, value in row.items()
        })
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()
