"""Anonymous consultation and whistleblower reports: intake, mailbox, deadlines, retention.

The platform-neutral core; handlers/report.py turns it into chat flows.
"""
