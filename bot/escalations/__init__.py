"""Escalations to the compliance desk: storage, routing, business-time SLAs and reports.

Everything here is platform-neutral; the chat flows live in handlers/escalate.py (the
employee's side) and handlers/desk.py (the desk's side).
"""
