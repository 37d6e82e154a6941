"""The ask feature's action and form ids (prefix "ask")."""

OPEN = "ask.open"  # the home screen's "Ask" button: opens the question form
FORM = "ask.question"  # that form
PICK = "ask.pick"  # a "did you mean" suggestion
FEEDBACK = "ask.feedback"  # helpful / not helpful
