"""`POST /api/checklists`: HR systems start checklists (a transfer, a disaster deployment).

Checked at the boundary before anything else runs: the bearer token from the environment
(compared in constant time, as digests, so neither its value nor its length leaks), the size,
the content type, JSON that parses within bounds, then every row. Any problem is a 4xx that
names it (one error per bad row) and starts nothing. A call starts one run, once: its key is
the caller's `request_id`, or the body's digest, so a replayed call finds the first run.

    POST /api/checklists
    Authorization: Bearer <CHECKLISTS_WEBHOOK_TOKEN>
    Content-Type: application/json

    {"checklist": "transfer", "request_id": "HR-2027-0412-001",
     "people": [{"person": "slack:U0123ABCD", "confirmer": "slack:U0456EFGH",
                 "due": "2027-04-19", "person_name": "山田 太郎"}]}

201 {"run": 12, "started": true, "people": 1}; the same call again: 200 with "started": false.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from typing import Any

from bot.audit import canonical_json
from bot.checklists.rows import RowError, check_rows
from bot.checklists.service import ChecklistService
from bot.server import Request, Response
from bot.untrusted import parse_json

log = logging.getLogger(__name__)

PATH = "/api/checklists"
MAX_BODY = 1024 * 1024
MAX_REQUEST_ID = 100


def _json(status: int, data: dict[str, Any], headers: list[tuple[str, str]] | None = None
          ) -> Response:
    response = Response.json(status, json.dumps(data, ensure_ascii=False).encode("utf-8"))
    response.headers = [("Content-Type", "application/json; charset=utf-8"), *(headers or [])]
    return response


def _error(status: int, message: str, **extra: Any) -> Response:
    headers = [("WWW-Authenticate", 'Bearer realm="checklists"')] if status == 401 else None
    return _json(status, {"error": message, **extra}, headers)


class ChecklistWebhook:
    def __init__(self, service: ChecklistService, token: str, *, max_rows: int) -> None:
        self.service = service
        self._digest = hashlib.sha256(token.encode("utf-8")).digest()
        self.max_rows = max_rows

    def authorised(self, request: Request) -> bool:
        scheme, _, given = (request.header("authorization") or "").partition(" ")
        offered = hashlib.sha256(given.strip().encode("utf-8", "replace")).digest()
        return scheme.lower() == "bearer" and hmac.compare_digest(offered, self._digest)

    def __call__(self, request: Request) -> Response:
        if request.method != "POST":
            return _error(405, "use POST")
        if not self.authorised(request):
            log.warning("checklists webhook: refused a call without the right token")
            return _error(401, "a valid bearer token is required")
        if request.content_type() != "application/json":
            return _error(415, "Content-Type must be application/json")
        if request.too_large(MAX_BODY):
            return _error(413, f"the body is larger than {MAX_BODY} bytes")
        body = request.body(MAX_BODY)
        if body is None:
            return _error(413, f"the body is larger than {MAX_BODY} bytes")
        try:
            data = parse_json(body)
        except (ValueError, RecursionError):
            return _error(400, "the body is not JSON")
        return self.start(data)

    def start(self, data: Any) -> Response:
        if not isinstance(data, dict):
            return _error(400, "the body must be a JSON object")
        unknown = sorted(set(data) - {"checklist", "request_id", "people"})
        if unknown:
            return _error(400, f"{unknown[0]}: unknown field (fields: checklist, request_id, "
                          "people)")
        name = data.get("checklist")
        if not isinstance(name, str) or not name:
            return _error(400, "checklist: missing (the id of a checklist, e.g. transfer)")
        request_id = data.get("request_id")
        if request_id is not None and (not isinstance(request_id, str) or not request_id
                                       or len(request_id) > MAX_REQUEST_ID):
            return _error(400, f"request_id: a text of 1 to {MAX_REQUEST_ID} characters")
        people = data.get("people")
        if not isinstance(people, list) or not people:
            return _error(400, "people: missing (a list of objects with person and confirmer)")
        checklist = self.service.checklists.get(name)
        if checklist is None or not checklist.enabled:
            known = ", ".join(sorted(self.service.checklists)) or "none"
            return _error(422, f"checklist: no checklist {name[:40]!r} (known: {known})")
        raws: list[tuple[str, dict[str, Any]]] = []
        errors: dict[int, str] = {}
        for index, raw in enumerate(people):
            if isinstance(raw, dict):
                raws.append((f"people[{index}]", raw))
            else:
                errors[index] = f"people[{index}]: must be an object"
        rows = []
        try:
            rows = check_rows(checklist, raws, today=self.service.today(),
                              max_rows=self.max_rows) if raws else []
        except RowError as exc:
            for error in exc.errors:
                where = error.partition(":")[0]
                index = int(where[7:-1]) if where.startswith("people[") else len(people)
                errors[index] = error
        if errors:
            return _json(422, {"error": "no checklist was started",
                               "errors": [errors[index] for index in sorted(errors)]})
        key = "webhook:" + (request_id or hashlib.sha256(
            canonical_json(data).encode("utf-8")).hexdigest())
        started = self.service.start(checklist.id, rows, key=key, source="webhook",
                                     actor="webhook")
        return _json(201 if started.created else 200,
                     {"run": started.run_id, "started": started.created,
                      "people": started.people})
