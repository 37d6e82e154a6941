"""The tamper-evident audit trail.

Each row is signed with HMAC-SHA256 over its own content and the previous row's signature.
A plain hash chain can be recomputed by anyone who can write to the database; the HMAC key is
derived from COMPLIANCE_BOT_SECRET_KEY, which the database administrator does not hold, so an
edited, deleted, inserted or reordered row cannot be re-sealed. `seq` is gap-free (assigned
under the head row's lock, not from a sequence that skips on rollback), and the head row makes
truncation at the end visible too. On PostgreSQL (and SQLite) triggers refuse UPDATE and
DELETE on the table outright; verification is what catches someone who disabled them.

The head row lives in the same database, so someone who can write to it could delete the last
rows, or every row, and rewrite the head to match. Checkpoints anchor the trail outside the
database: a signed (seq, hash, time) appended to a file and posted to the auditors' channel at
a fixed interval (`compliance-bot audit checkpoint`, and `run` when `audit.checkpoint_minutes`
is set). The chat platform keeps a copy the database administrator cannot edit, and the
signature (keyed like the chain) means no one without the secret key can write a lower one.
`audit verify --checkpoint FILE` then requires the trail to reach the checkpoint's row with the
checkpoint's hash: truncation or a wipe below the last checkpoint is caught; rows written after
it are protected by the chain and the head alone, until the next checkpoint.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, bindparam, event, select
from sqlalchemy.orm import Session

from bot.keys import Keyring, derive
from bot.models import AuditEvent, AuditHead

log = logging.getLogger(__name__)

GENESIS = "0" * 64
SYSTEM = "system"
EXPORT_FIELDS = (
    "seq", "ts", "actor", "action", "subject", "details", "before", "after",
    "key_id", "prev_hash", "hash",
)


_EVENTS = cast(Table, AuditEvent.__table__)
_HEAD = cast(Table, AuditHead.__table__)
_HEAD_FOR_UPDATE = select(_HEAD.c.seq, _HEAD.c.hash).where(_HEAD.c.id == 1).with_for_update()
_HEAD_MOVE = _HEAD.update().where(_HEAD.c.id == 1).values(
    seq=bindparam("seq"), hash=bindparam("hash"))


_HEAD_KEY = "audit_head"  # Session.info: (seq, hash) after this transaction's last append


@event.listens_for(Session, "after_soft_rollback")
def _forget_head(session: Session, _previous: Any) -> None:
    session.info.pop(_HEAD_KEY, None)


@event.listens_for(Session, "after_commit")
def _forget_head_at_commit(session: Session) -> None:
    # The lock ends with the transaction: a later one on this session must read again.
    session.info.pop(_HEAD_KEY, None)


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def _timestamp(value: datetime) -> str:
    # SQLite hands timestamps back naive; they were written as UTC.
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_SEALED = ("seq", "ts", "actor", "action", "subject", "details", "before", "after", "key_id",
           "prev_hash")


def _seal(key: bytes, row: Mapping[str, Any]) -> str:
    """The row's signature: HMAC over its sealed fields (all but `hash`) in a fixed order."""
    fields = [_timestamp(row[name]) if name == "ts" else row[name] for name in _SEALED]
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
    ) -> int:
        """Append one event in the caller's transaction, so it commits with the change it records.
        Returns its `seq`.

        `actor` must already be a pseudonym or a role ("system", "cli"); never a platform id.
        """
        # Core statements and a plain dict, not ORM objects: an append is on the path of every
        # button press, and building a mapped row and flushing it cost more than the three
        # statements themselves.
        # The head is locked by the transaction's first append; later appends in the same
        # transaction (a group commit's presses) take it from the session instead of reading
        # it again. A rollback drops it (_forget_head).
        known = session.info.get(_HEAD_KEY)
        head_seq, head_hash = known if known else session.execute(_HEAD_FOR_UPDATE).one()
        row: dict[str, Any] = {
            "seq": head_seq + 1,
            "ts": datetime.now(UTC),
            "actor": actor,
            "action": action,
            "subject": subject,
            "details": canonical_json(details or {}),
            "before": None if before is None else canonical_json(before),
            "after": None if after is None else canonical_json(after),
            "key_id": self.keyring.current_id,
            "prev_hash": head_hash,
        }
        row["hash"] = _seal(self.keyring.current, row)
        session.execute(_EVENTS.insert(), row)
        session.execute(_HEAD_MOVE, {"seq": row["seq"], "hash": row["hash"]})
        session.info[_HEAD_KEY] = (row["seq"], row["hash"])
        return int(row["seq"])


@dataclass(frozen=True)
class Checkpoint:
    """Where the trail stood at a moment, signed: the anchor `verify` checks it against."""

    seq: int
    hash: str
    ts: str
    key_id: str
    mac: str

    def to_json(self) -> str:
        return canonical_json({"seq": self.seq, "hash": self.hash, "ts": self.ts,
                               "key_id": self.key_id, "mac": self.mac})

    @staticmethod
    def parse(line: str, keyring: Keyring) -> Checkpoint:
        """A checkpoint line, its signature checked; ValueError if malformed or not ours."""
        try:
            data = json.loads(line)
            point = Checkpoint(int(data["seq"]), str(data["hash"]), str(data["ts"]),
                               str(data["key_id"]), str(data["mac"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"not a checkpoint: {exc}") from None
        key = keyring.by_id().get(point.key_id)
        if key is None or not hmac.compare_digest(
                _checkpoint_mac(key, point.seq, point.hash, point.ts).encode(),
                point.mac.encode("utf-8", "replace")):
            raise ValueError("checkpoint signature does not match (forged, or another key)")
        return point


def _checkpoint_mac(key: bytes, seq: int, hash_: str, ts: str) -> str:
    return hmac.new(derive(key, "audit-checkpoint"), canonical_json([seq, hash_, ts]).encode(),
                    hashlib.sha256).hexdigest()


def checkpoint(session: Session, keyring: Keyring) -> Checkpoint:
    """The trail's head now, signed. Reading it changes nothing, so it is not itself audited."""
    head = session.get(AuditHead, 1)
    seq, hash_ = (head.seq, head.hash) if head is not None else (0, GENESIS)
    ts = _timestamp(datetime.now(UTC))
    return Checkpoint(seq, hash_, ts, keyring.current_id,
                      _checkpoint_mac(keyring.current, seq, hash_, ts))


def last_checkpoint(path: Path, keyring: Keyring) -> Checkpoint | None:
    """The highest valid checkpoint in a file of them (None if the file has none)."""
    best: Checkpoint | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            point = Checkpoint.parse(line, keyring)
            if best is None or point.seq >= best.seq:
                best = point
    return best


class CheckpointWriter:
    """Appends a checkpoint to the checkpoint file and posts it to the auditors' channel.

    Run by the one scheduler (a job the wiring registers): one write per interval, and a failed
    post is logged and retried at the next interval (the file keeps every checkpoint).
    """

    def __init__(self, core: Any, messengers: Any) -> None:
        self.core = core
        self.messengers = messengers
        audit = core.settings.file.audit
        self.path = audit.checkpoint_file or core.settings.data_dir / "audit-checkpoints.jsonl"
        self.channel = audit.checkpoint_channel

    def write(self) -> Checkpoint:
        with self.core.database.transaction() as session:
            point = checkpoint(session, self.core.keyring)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as out:
            out.write(point.to_json() + "\n")
        if self.channel:
            self._post(point)
        return point

    def _post(self, point: Checkpoint) -> None:
        from bot.i18n import t
        from bot.messages import Address, MessengerError, Reply

        platform, _, channel = self.channel.partition(":")
        messenger = self.messengers.get(platform)
        lang = self.core.settings.file.default_language
        if messenger is None:
            log.warning("audit checkpoint not posted: no %s messenger", platform)
            return
        try:
            messenger.post(Address("channel", channel),
                           Reply(t("audit.checkpoint", lang, line=point.to_json()), lang))
        except MessengerError as exc:
            log.warning("audit checkpoint not posted to %s: %s", self.channel, exc)


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    rows: int
    problem: str | None = None
    bad_seq: int | None = None


def verify(
    session: Session, keyring: Keyring, anchor: Checkpoint | None = None
) -> VerifyResult:
    """Walk the chain in order and name the first row that does not fit; with an anchor, the
    trail must also reach the anchor's row, with the anchor's hash."""
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
        if not hmac.compare_digest(_seal(key, {n: getattr(row, n) for n in _SEALED}),
                                   row.hash):
            return VerifyResult(False, count, f"row {row.seq} has been altered "
                                "(its content does not match its signature)", row.seq)
        if anchor is not None and row.seq == anchor.seq and row.hash != anchor.hash:
            return VerifyResult(False, count, f"row {row.seq} is not the row checkpointed at "
                                f"{anchor.ts} (the trail was rewritten)", row.seq)
        previous_hash = row.hash
        expected_seq += 1
    head = session.get(AuditHead, 1)
    last = expected_seq - 1
    if anchor is not None and last < anchor.seq:
        return VerifyResult(False, count, f"the trail ends at row {last} but a checkpoint at "
                            f"{anchor.ts} saw row {anchor.seq} (rows deleted at the end)",
                            last + 1)
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
