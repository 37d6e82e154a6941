"""Neutral replies and forms rendered as Block Kit, and modal submissions read back.

Slack's limits shape this module: a section's text holds at most 3,000 characters, a message
at most 50 blocks, a button label 75, a modal title 24 and a header 150; action ids must be
unique within a message, so the buttons' position is appended to the flow's action name.
"""

from __future__ import annotations

import json
from typing import Any

from bot.i18n import t
from bot.messages import Button, Form, FormField, Reply
from bot.platforms.shared import button_rows, cut

SECTION_LIMIT = 3000
MAX_BLOCKS = 50
BUTTON_LIMIT = 75
MODAL_TITLE_LIMIT = 24
HEADER_LIMIT = 150
FALLBACK_LIMIT = 3000
COMMENT_LIMIT = 4000  # an uploaded file's initial_comment, shown as a message's text
ACTION_SEPARATOR = "|"
MAX_BUTTONS_PER_BLOCK = 5


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": cut(text, limit), "emoji": True}


def escape(text: str) -> str:
    """Slack's mrkdwn needs &, < and > escaped, or `<@U…>` in a question pings someone."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def split_text(text: str, limit: int = SECTION_LIMIT) -> list[str]:
    """Split at paragraph, then line, then hard boundaries so no section exceeds Slack's limit."""
    chunks: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind("\n\n"), window.rfind("\n"), window.rfind("。"), window.rfind(". "))
        if cut < limit // 2:
            cut = limit - 1
        chunks.append(rest[: cut + 1].rstrip())
        rest = rest[cut + 1 :].lstrip()
    if rest:
        chunks.append(rest)
    return chunks


def action_id(button: Button, position: int) -> str:
    return f"{button.action}{ACTION_SEPARATOR}{position}"


def flow_action(slack_action_id: str) -> str:
    return slack_action_id.split(ACTION_SEPARATOR, 1)[0]


def _button(button: Button, position: int) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "text": _plain(button.label, BUTTON_LIMIT),
        "action_id": action_id(button, position),
        "value": button.value[:2000],
    }
    if button.style in ("primary", "danger"):
        element["style"] = button.style
    return element


def button_blocks(buttons: list[Button]) -> list[dict[str, Any]]:
    """One actions block per row of the shared rule (`shared.button_rows`)."""
    blocks: list[dict[str, Any]] = []
    position = 0
    for row in button_rows(buttons, long_label=30, per_row=MAX_BUTTONS_PER_BLOCK):
        elements = []
        for button in row:
            elements.append(_button(button, position))
            position += 1
        blocks.append({"type": "actions", "elements": elements})
    return blocks


def reply_blocks(reply: Reply) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if reply.title:
        blocks.append({"type": "header", "text": _plain(reply.title, HEADER_LIMIT)})
    for chunk in split_text(escape(reply.text)):
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": chunk}})
    if reply.fields:
        fields = [{"type": "mrkdwn", "text": cut(f"*{escape(name)}*\n{escape(value)}", 2000)}
                  for name, value in reply.fields]
        for start in range(0, len(fields), 10):  # a section holds at most 10 fields
            blocks.append({"type": "section", "fields": fields[start : start + 10]})
    if reply.footnote:
        blocks.append({"type": "context", "elements": [
            {"type": "mrkdwn", "text": cut(escape(reply.footnote), SECTION_LIMIT)}]})
    buttons = button_blocks(reply.buttons)
    room = MAX_BLOCKS - len(buttons)
    if len(blocks) > room:
        blocks = [*blocks[:room - 1], {"type": "section", "text": {"type": "mrkdwn", "text": "…"}}]
    return blocks + buttons


def fallback_text(reply: Reply) -> str:
    """The notification text and what screen readers read; Slack wants it beside blocks."""
    head = f"{reply.title}\n" if reply.title else ""
    # Slack parses `text` as mrkdwn too: escaped like every block, or a user's "<!channel>"
    # becomes a mass ping and "<https://evil|Reset your password>" a disguised link.
    return cut(escape(head + reply.text), FALLBACK_LIMIT)


def message_args(reply: Reply) -> dict[str, Any]:
    return {"text": fallback_text(reply), "blocks": reply_blocks(reply)}


def file_comment(reply: Reply) -> str:
    """A reply as the comment of an uploaded file (mrkdwn, no blocks): title, text, fields
    and footnote, escaped like every block."""
    parts = [f"*{escape(reply.title)}*"] if reply.title else []
    parts.append(escape(reply.text.strip()))
    parts += [f"*{escape(name)}*: {escape(value)}" for name, value in reply.fields]
    if reply.footnote:
        parts.append(f"_{escape(reply.footnote)}_")
    return cut("\n".join(part for part in parts if part), COMMENT_LIMIT)


# -- modals -----------------------------------------------------------------------------------

VALUE_ACTION = "value"


def _element(item: FormField) -> dict[str, Any]:
    if item.kind == "multiselect":
        return {"type": "multi_static_select", "action_id": VALUE_ACTION,
                "options": [{"text": _plain(choice.label, 75), "value": choice.value}
                            for choice in item.options[:100]]}
    if item.kind == "select":
        element: dict[str, Any] = {
            "type": "static_select",
            "action_id": VALUE_ACTION,
            "options": [{"text": _plain(choice.label, 75), "value": choice.value}
                        for choice in item.options],
        }
        initial = next((c for c in item.options if c.value == item.initial), None)
        if initial is not None:
            element["initial_option"] = {"text": _plain(initial.label, 75),
                                         "value": initial.value}
        return element
    if item.kind == "date":
        element = {"type": "datepicker", "action_id": VALUE_ACTION}
        if item.initial:
            element["initial_date"] = item.initial
        return element
    element = {"type": "plain_text_input", "action_id": VALUE_ACTION,
               "multiline": item.kind == "multiline"}
    if item.max_length:
        element["max_length"] = min(item.max_length, 3000)
    if item.initial:
        element["initial_value"] = item.initial
    return element


def modal_view(form: Form) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = []
    if form.intro:
        blocks += [{"type": "section", "text": {"type": "mrkdwn", "text": chunk}}
                   for chunk in split_text(escape(form.intro))]
    for item in form.fields:
        block: dict[str, Any] = {
            "type": "input",
            "block_id": item.name,
            "label": _plain(item.label, 2000),
            "element": _element(item),
            "optional": not item.required,
        }
        if item.hint:
            block["hint"] = _plain(item.hint, 2000)
        blocks.append(block)
    return {
        "type": "modal",
        "callback_id": form.id,
        "title": _plain(form.title, MODAL_TITLE_LIMIT),
        "submit": _plain(form.submit, MODAL_TITLE_LIMIT),
        "close": _plain(t("form.close", form.lang), MODAL_TITLE_LIMIT),
        "private_metadata": json.dumps({"state": form.state, "lang": form.lang}),
        "blocks": blocks,
    }


def result_view(reply: Reply, *, title: str) -> dict[str, Any]:
    """What replaces a submitted modal (`response_action: update`): the reply, no submit."""
    return {
        "type": "modal",
        "title": _plain(title, MODAL_TITLE_LIMIT),
        "close": _plain(t("form.close", reply.lang), MODAL_TITLE_LIMIT),
        "blocks": [b for b in reply_blocks(reply) if b["type"] != "actions"],
    }


def submitted_values(view: dict[str, Any]) -> dict[str, str]:
    """Read a view_submission's state back into field name -> text ("" when left empty)."""
    values: dict[str, str] = {}
    state = view.get("state")
    blocks = state.get("values") if isinstance(state, dict) else None
    if not isinstance(blocks, dict):
        return values
    for block_id, actions in blocks.items():
        if not isinstance(actions, dict):
            continue
        element = actions.get(VALUE_ACTION)
        if not isinstance(element, dict):
            continue
        value: Any = element.get("value")
        if element.get("type") == "static_select":
            option = element.get("selected_option")
            value = option.get("value") if isinstance(option, dict) else None
        elif element.get("type") == "multi_static_select":
            options = element.get("selected_options")
            value = ",".join(o["value"] for o in options if isinstance(o, dict)
                             and isinstance(o.get("value"), str)) \
                if isinstance(options, list) else None
        elif element.get("type") == "datepicker":
            value = element.get("selected_date")
        values[str(block_id)] = value if isinstance(value, str) else ""
    return values


def view_state(view: dict[str, Any]) -> tuple[str, str | None]:
    """The form's opaque state and language, from private_metadata."""
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except (TypeError, ValueError):
        return "", None
    if not isinstance(meta, dict):
        return "", None
    state = meta.get("state")
    lang = meta.get("lang")
    return (state if isinstance(state, str) else "",
            lang if lang in ("ja", "en") else None)
