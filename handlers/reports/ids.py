"""The report feature's action and form ids (prefixes "report" and "case") and field limits."""

from bot.reports.desk import OPEN  # "report.open": the desk notice's button opens the case

NEW = "report.new"  # the home screen's "Report anonymously": opens the intake form
CHECK_OPEN = "case.check"  # the home screen's "Check my case": opens the mailbox form
INTAKE = "report.submit"
CHECK = "case.open"
ANSWER = "case.reply"
DESK = "case.desk"
LIMITS = {"what": 4000, "when": 200, "where": 200, "who": 1000, "exclude": 500,
          "case_number": 40, "key": 80, "message": 4000, "note": 4000}
MAX_LISTED = 25

__all__ = ["ANSWER", "CHECK", "CHECK_OPEN", "DESK", "INTAKE", "LIMITS", "MAX_LISTED", "NEW",
           "OPEN"]
