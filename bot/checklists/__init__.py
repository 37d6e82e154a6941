"""Checklists with a second confirmer: a person answers yes/no items, a second person (their
manager, an information manager or the desk) confirms them or sends them back.

- `definitions`: the YAML curators edit under knowledge/checklists/, and its lint.
- `settings`: the `checklists:` section of config.yaml (starters, schedules, pacing).
- `models`: runs, a row per (run, person), the outbox of messages, links to escalations.
- `rows`: who a start names (CSV, webhook, command line, chat), checked row by row.
- `service`: start, submit, confirm, send back, what a person has to do, status, evidence.
- `delivery`: the outbox sender, on the reminders' pacing, lease and in-doubt look-ups.
- `planner`: scheduled runs, follow-ups and the overdue escalation.
- `scheduler`: the jobs that run both sweeps under the lease.
- `webhook`: `POST /api/checklists` for HR systems.
- `cli`: `compliance-bot checklists lint | start | status | export`.
"""
