"""Neutral replies and forms as Adaptive Cards, and dialog submissions read back.

Replies become message cards: the title, the text one block per line (Teams joins single
newlines inside a TextBlock), fields as a FactSet, the source small and subtle, and every
button an Action.Submit whose data is `{"action": ..., "value": ...}`, which Teams sends back
as the `value` of a message activity.

Forms are shown in Teams dialogs (task modules), never posted as messages: a dialog is not kept
in the chat history, its exports or legal holds, which is where a report's receipt or the desk's
view of a case must never end up (the same reason the Slack adapter uses modals). A dialog is
opened by a button whose data carries `msteams.type = task/fetch`; the form card's own submit
carries the form's definition, so its errors can be shown on it again without any server state.

Card limits: Teams refuses messages over about 28 KB, so a message's text is capped well below
that; a dialog's form may carry more (the desk reads a whole case there). A reply's image goes
in the card as a `data:` URL (Teams fetches no file from the bot's server) when the whole
message stays under `MESSAGE_LIMIT`; else the card says so and describes the image in words.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import asdict
from typing import Any

from bot.i18n import t
from bot.messages import CHOICES, FIELD_KINDS, Button, Choice, Form, FormField, Image, Reply
from bot.platforms.shared import button_rows, cut
from bot.untrusted import clean_text

CARD = "application/vnd.microsoft.card.adaptive"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"
TEXT_LIMIT = 4_000  # characters per message text: 12 KB of UTF-8 at most, under Teams' 28
FORM_TEXT_LIMIT = 20_000  # a form's introduction in a dialog (a case's content and mailbox)
SUMMARY_LIMIT = 200
FORM_KEY = "__form"  # the submit data key carrying the form's definition
TASK_FETCH = {"type": "task/fetch"}
MAX_FIELDS = 40
MAX_OPTIONS = 100
MAX_ACTIONS_PER_SET = 5  # what fits across a Teams message
MESSAGE_LIMIT = 26_000  # bytes of a message activity with an image: Teams' ~28 KB, less a margin
def printable(text: str) -> str:
    """Control characters and lone surrogates out, as at every input boundary."""
    return clean_text(text)


_MARKDOWN = re.compile(r"\]\s*\(|\*\*|__|~~")


def inert(text: str) -> str:
    """Text a TextBlock shows as typed, not as markdown: a zero-width space goes inside each
    link's "](" and each doubled emphasis mark, so "[Reset your password](https://evil)"
    cannot become a disguised link. Done here, where every reply's text is rendered, so no
    flow can forget it; the bot's own strings use no markdown in Teams."""
    return _MARKDOWN.sub(lambda m: m.group()[0] + "\u200b" + m.group()[1:], text)


def text_blocks(text: str, limit: int = TEXT_LIMIT, **style: Any) -> list[dict[str, Any]]:
    """One TextBlock per line; a blank line becomes space above the next block."""
    blocks: list[dict[str, Any]] = []
    gap = False
    for line in cut(text.strip(), limit).split("\n"):
        if not line.strip():
            gap = True
            continue
        block: dict[str, Any] = {"type": "TextBlock", "text": inert(line), "wrap": True,
                                 **style}
        if blocks:
            block["spacing"] = "medium" if gap else "small"
        blocks.append(block)
        gap = False
    return blocks


def submit_action(button: Button) -> dict[str, Any]:
    data: dict[str, Any] = {"action": button.action, "value": button.value}
    if button.opens_form:  # the dialog opens from the button itself: one click
        data["msteams"] = TASK_FETCH
    action: dict[str, Any] = {"type": "Action.Submit", "title": cut(button.label, 80),
                              "data": data}
    if button.style == "primary":
        action["style"] = "positive"
    elif button.style == "danger":
        action["style"] = "destructive"
    return action


def button_sets(buttons: list[Button], lang: str = "ja") -> list[dict[str, Any]]:
    """One ActionSet per row of the shared rule (`shared.button_rows`), so 👍/👎 never sit in
    a row of suggestions. Choices (whole questions as labels) are rows of wrapped text under
    a heading saying what they are, each row the button: Teams cuts a long button title."""
    body: list[dict[str, Any]] = []
    for row in button_rows(buttons, long_label=20, per_row=MAX_ACTIONS_PER_SET):
        if row[0].group == CHOICES:
            if not body or body[-1].get("id") != "choices":
                body.append({"type": "TextBlock", "id": "choices", "text": t("choices", lang),
                             "wrap": True, "weight": "bolder", "spacing": "medium"})
            body.append({"type": "Container", "style": "emphasis", "spacing": "small",
                         "selectAction": submit_action(row[0]), "items": [
                             {"type": "TextBlock", "text": "▸ " + inert(cut(row[0].label, 300)),
                              "wrap": True, "color": "accent"}]})
        else:
            body.append({"type": "ActionSet",
                         "actions": [submit_action(button) for button in row]})
    return body


def _card(body: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "AdaptiveCard", "$schema": SCHEMA, "version": VERSION, "body": body,
            "msteams": {"width": "Full"}}


def image_element(image: Image) -> dict[str, Any]:
    data = base64.b64encode(image.data).decode("ascii")
    return {"type": "Image", "url": f"data:{image.mime};base64,{data}",
            "altText": cut(image.alt, 1000), "size": "stretch"}


def reply_body(reply: Reply, *, buttons: bool = True,
               image: bool = True) -> list[dict[str, Any]]:
    body: list[dict[str, Any]] = []
    if reply.title:
        body.append({"type": "TextBlock", "text": inert(cut(reply.title, 300)), "wrap": True,
                     "size": "medium", "weight": "bolder"})
    body += text_blocks(reply.text)
    shown = [f for i, f in enumerate(reply.fields) if i not in reply.secret_fields]
    if shown:
        body.append({"type": "FactSet", "facts": [
            {"title": inert(cut(name, 200)), "value": inert(cut(value, 2000))}
            for name, value in shown]})
    for index in reply.secret_fields:
        if index < len(reply.fields):
            body += _secret(index, *reply.fields[index], reply.lang)
    if reply.image is not None:
        body += ([image_element(reply.image)] if image else text_blocks(
            t("teams.image_too_large", reply.lang, alt=reply.image.alt), isSubtle=True))
    if reply.footnote:
        body += text_blocks(reply.footnote, size="small", isSubtle=True)
    if buttons:
        body += button_sets(reply.buttons, reply.lang)
    return body


def _secret(index: int, name: str, value: str, lang: str) -> list[dict[str, Any]]:
    """A field hidden until its button shows it (Action.ToggleVisibility: no round trip)."""
    target = f"secret{index}"
    return [
        {"type": "TextBlock", "text": inert(cut(name, 200)), "weight": "bolder", "wrap": True},
        {"type": "TextBlock", "id": target, "text": inert(cut(value, 2000)), "isVisible": False,
         "fontType": "monospace", "wrap": True},
        {"type": "ActionSet", "actions": [{"type": "Action.ToggleVisibility",
                                           "title": t("form.reveal", lang),
                                           "targetElements": [target]}]},
    ]


def reply_card(reply: Reply) -> dict[str, Any]:
    return _card(reply_body(reply))


def summary(reply: Reply) -> str:
    """The notification preview, since a card alone shows as "sent a card"."""
    head = f"{reply.title}: " if reply.title else ""
    return cut((head + reply.text).replace("\n", " ").strip(), SUMMARY_LIMIT)


def card_activity(card: dict[str, Any], summary_text: str) -> dict[str, Any]:
    activity: dict[str, Any] = {"type": "message",
                                "attachments": [{"contentType": CARD, "content": card}]}
    if summary_text:
        activity["summary"] = summary_text
    return activity


def message_activity(reply: Reply) -> dict[str, Any]:
    activity = card_activity(reply_card(reply), summary(reply))
    if reply.image is not None and len(encode(activity)) > MESSAGE_LIMIT:
        # Teams would refuse the whole message: the text goes, the image is described.
        activity = card_activity(_card(reply_body(reply, image=False)), summary(reply))
    return activity


def combined_activity(replies: list[Reply]) -> dict[str, Any]:
    """Several replies in one card, separated by lines (the home screen)."""
    body: list[dict[str, Any]] = []
    for reply in replies:
        section = reply_body(reply)
        if body and section:
            section[0] = {**section[0], "separator": True, "spacing": "large"}
        body += section
    return card_activity(_card(body), summary(replies[0]) if replies else "")


# -- dialogs ----------------------------------------------------------------------------------


def launcher_activity(reply: Reply, data: dict[str, Any], label: str) -> dict[str, Any]:
    """A message that opens a form in a dialog: the form itself is fetched when pressed."""
    body = reply_body(Reply(reply.text, reply.lang, title=reply.title,
                            footnote=reply.footnote), buttons=False)
    title = reply.form.title if reply.form else ""
    body.append({"type": "ActionSet", "actions": [{
        "type": "Action.Submit", "title": cut(label, 80), "style": "positive",
        "data": {**data, "msteams": TASK_FETCH}}]})
    return card_activity(_card(body), cut(title or reply.text, SUMMARY_LIMIT))


def _input(item: FormField, value: str | None, lang: str) -> dict[str, Any]:
    element: dict[str, Any] = {"id": item.name, "label": item.label,
                               "isRequired": item.required}
    if item.required:
        element["errorMessage"] = t("form.required", lang)
    if item.kind in ("select", "multiselect"):
        element.update(type="Input.ChoiceSet", style="compact", choices=[
            {"title": cut(choice.label, 200), "value": choice.value}
            for choice in item.options[:MAX_OPTIONS]])
        if item.kind == "multiselect":  # Teams submits the values joined by commas
            element["isMultiSelect"] = True
    elif item.kind == "date":
        element["type"] = "Input.Date"
    else:
        element.update(type="Input.Text", isMultiline=item.kind == "multiline")
        if item.max_length:
            element["maxLength"] = item.max_length
    if value:
        element["value"] = value
    return element


def form_card(form: Form, *, values: dict[str, str] | None = None,
              errors: dict[str, str] | None = None, lead: str | None = None) -> dict[str, Any]:
    """The form as a dialog card; `values` and `errors` show a refused submission again."""
    values, errors = values or {}, errors or {}
    body: list[dict[str, Any]] = []
    if lead:
        body += text_blocks(lead, weight="bolder")
    if form.intro:
        body += text_blocks(form.intro, FORM_TEXT_LIMIT)
    for item in form.fields[:MAX_FIELDS]:
        value = values.get(item.name, item.initial)
        body.append(_input(item, value, form.lang))
        if item.hint:
            body += text_blocks(item.hint, size="small", isSubtle=True)
        if item.name in errors:
            body += text_blocks(errors[item.name], color="attention", size="small")
    known = {item.name for item in form.fields}
    for name, message in errors.items():
        if name not in known:
            body += text_blocks(message, color="attention")
    card = _card(body)
    card["actions"] = [{"type": "Action.Submit", "title": cut(form.submit, 80),
                        "style": "positive", "data": {FORM_KEY: form_data(form)}}]
    return card


def result_card(reply: Reply) -> dict[str, Any]:
    """What replaces a submitted form in its dialog: the reply, no buttons."""
    return _card(reply_body(reply, buttons=False))


def task_continue(title: str, card: dict[str, Any]) -> dict[str, Any]:
    return {"task": {"type": "continue", "value": {
        "title": cut(title, 100), "card": {"contentType": CARD, "content": card}}}}


def task_message(text: str) -> dict[str, Any]:
    return {"task": {"type": "message", "value": cut(text, 500)}}


# -- the form's definition, carried by its own submit button -----------------------------------


def form_data(form: Form) -> dict[str, Any]:
    data = asdict(form)
    for item in data["fields"]:
        item["options"] = [[c["value"], c["label"]] for c in item["options"]]
    return data


def _str(value: object, default: str = "") -> str:
    return value if isinstance(value, str) else default


def _opt_str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def form_from_data(data: object) -> Form | None:
    """The definition back from a submission; None when it is not one we could have sent."""
    if not isinstance(data, dict):
        return None
    fields_data = data.get("fields")
    if not isinstance(data.get("id"), str) or not isinstance(fields_data, list) \
            or len(fields_data) > MAX_FIELDS:
        return None
    fields: list[FormField] = []
    for item in fields_data:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            return None
        kind = item.get("kind")
        listed = item.get("options")
        options: list[Any] = listed if isinstance(listed, list) else []
        choices = tuple(Choice(o[0], o[1]) for o in options[:MAX_OPTIONS]
                        if isinstance(o, list) and len(o) == 2
                        and all(isinstance(part, str) for part in o))
        max_length = item.get("max_length")
        fields.append(FormField(
            name=item["name"], label=_str(item.get("label")),
            kind=kind if kind in FIELD_KINDS else "text",
            required=item.get("required") is True,
            max_length=max_length if isinstance(max_length, int) and max_length > 0 else None,
            options=choices, initial=_opt_str(item.get("initial")),
            hint=_opt_str(item.get("hint"))))
    lang = data.get("lang")
    return Form(id=printable(data["id"]), title=_str(data.get("title")),
                submit=_str(data.get("submit"), "OK"), lang=lang if lang in ("ja", "en") else "ja",
                fields=fields, intro=_opt_str(data.get("intro")),
                state=printable(_str(data.get("state"))))


def submitted_values(form: Form, data: dict[str, Any]) -> dict[str, str]:
    """Field name -> text ("" when left empty or not text), for the form's own fields only."""
    return {item.name: printable(_str(data.get(item.name))) for item in form.fields}


def encode(payload: dict[str, Any]) -> bytes:
    """UTF-8 JSON: Japanese is 3 bytes a character instead of the 6 of \\uXXXX escapes."""
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")
