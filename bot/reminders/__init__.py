"""Scheduled reminders: definitions in YAML, sweeps that decide from the database what is due,
paced delivery that never sends the same reminder twice, and acknowledgements.

- `definitions`: the YAML format and its validation (a bad file stops start-up).
- `models`: the tables (deliveries unique on reminder, occurrence and recipient).
- `lease`: only one instance sweeps at a time; another takes over when it dies.
- `planner`: what is due now (cron occurrences, per-user intervals, follow-ups).
- `delivery`: claims rows, paces posts, honours Retry-After, resolves in-doubt sends.
- `service`: acknowledgements, a user's pending reminders, the desk's status report.
- `scheduler`: the APScheduler jobs that run the sweeps.
"""
