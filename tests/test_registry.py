"""The registry as features meet it: a new feature plugs in without touching another one,
help is built from the commands, and every string a feature or the core uses exists in both
languages."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from bot.i18n import CATALOGUE
from bot.messages import ActionEvent, FormSubmission, IncomingMessage, User
from bot.registry import Registry
from bot.wiring import assemble
from handlers import FEATURES
from tests import example_feature
from tests.test_imports import graph, violations

ROOT = Path(__file__).resolve().parents[1]
SLACK_USER = User("slack", "U0EXAMPLE")
TEAMS_USER = User("teams", "6b8f0c2e-1d3a-4e5f-8a9b-0c1d2e3f4a5b")


def test_a_new_feature_plugs_in_through_its_install_alone(core):
    bot = assemble(core, features=[*FEATURES, example_feature])
    example = bot.feature("example")
    # its command, in both languages, through every entry an adapter uses
    pong = bot.dispatcher.command(IncomingMessage(SLACK_USER, "example"))
    assert pong.text == "Yes, this is the example." and pong.lang == "en"
    assert bot.dispatcher.message(IncomingMessage(SLACK_USER, "例")).lang == "ja"
    # its button opens its form in one step, and the form's submission comes back to it
    [button] = pong.buttons
    assert button.opens_form
    opened = bot.dispatcher.action(ActionEvent(SLACK_USER, button.action, button.value))
    assert opened is not None and opened.form is not None
    outcome = bot.dispatcher.submit(FormSubmission(SLACK_USER, opened.form.id,
                                                   {"text": "hello"}, opened.form.state))
    assert outcome.reply is not None and outcome.reply.text == "Note received: hello"
    # its help line, its home section and its job
    help_text = bot.dispatcher.help(SLACK_USER, "en").text
    assert "• /comply example: get an answer from the example" in help_text
    assert [r.text for r in bot.dispatcher.home(SLACK_USER, "en")][-1] == "The example's section"
    [job] = [j for j in bot.registry.jobs if j.name == "example.tick"]
    job.run()
    assert example.ticks == 1
    # and the shipped features still answer as before
    assert bot.dispatcher.command(IncomingMessage(SLACK_USER, "report")).form is not None


def test_the_example_feature_keeps_the_import_rules():
    edges = graph(("bot", "handlers", "tests/example_feature"))
    assert violations(edges) == []
    assert not [m for m in edges.get("tests.example_feature", set())
                if m.startswith(("handlers", "bot.platforms"))]


def test_help_is_built_from_the_commands_and_spelled_per_platform(core):
    bot = assemble(core)
    slack = bot.dispatcher.help(SLACK_USER, "ja").text
    teams = bot.dispatcher.help(TEAMS_USER, "en").text
    for command in bot.registry.commands.values():
        assert f"/comply {command.word('en')}" in slack
        assert f"• {command.word('en')}" in teams
    assert "/comply" not in teams and "`" not in teams + slack
    assert "（通報）" in slack  # the Japanese word beside the English one


def test_a_word_or_a_prefix_claimed_twice_is_refused():
    registry = Registry()
    registry.command("one", lambda m, lang: None, en=["one"], ja=["一"], help="help.help")
    with pytest.raises(ValueError, match="registered twice"):
        registry.command("two", lambda m, lang: None, en=["ONE"], ja=["二"], help="help.help")
    registry.action("thing", object())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="registered twice"):
        registry.action("thing", object())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="one word"):
        registry.form("a.b", object())  # type: ignore[arg-type]


# -- every string key used exists in both languages ---------------------------------------------


# Where t() is given a key held elsewhere: keys the registry declares (checked below), and the
# key a refusal carries (the literal arguments of every `Refusal(...)` are collected instead).
DYNAMIC = {"bot/dispatch.py", "bot/refusal.py"}
KEY_CARRIERS = {"Refusal"}
KEY = re.compile(r"[a-z_]+(\.[a-z_]+)+")


def _strings_in(node: ast.AST) -> set[str]:
    return {n.value for n in ast.walk(node) if isinstance(n, ast.Constant)
            and isinstance(n.value, str) and KEY.fullmatch(n.value)}


def _string_keys_used() -> tuple[set[str], set[str]]:
    """Literal keys of t(...) calls, and f-string keys as patterns, in bot/ and handlers/.

    A key held in a local name is resolved through that name's assignments in the function."""
    literal, patterns = set(), set()
    for path in [*ROOT.joinpath("bot").rglob("*.py"), *ROOT.joinpath("handlers").rglob("*.py")]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for scope in [tree, *[n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]]:
            assigned: dict[str, set[str]] = {}
            for node in ast.walk(scope):
                if isinstance(node, ast.Assign):
                    for target in node.targets:
                        if isinstance(target, ast.Name):
                            assigned.setdefault(target.id, set()).update(_strings_in(node.value))
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                        and node.func.id in KEY_CARRIERS):
                    literal |= {a.value for a in node.args if isinstance(a, ast.Constant)
                                and isinstance(a.value, str) and "." in a.value}
            for node in ast.walk(scope):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                        and node.func.id == "t" and node.args):
                    continue
                key = node.args[0]
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    literal.add(key.value)
                elif isinstance(key, ast.JoinedStr):
                    patterns.add("".join(re.escape(part.value) if isinstance(part, ast.Constant)
                                         else r"[a-z_]+" for part in key.values))
                elif isinstance(key, ast.IfExp):
                    literal |= _strings_in(key)
                elif isinstance(key, ast.Name) and assigned.get(key.id):
                    literal |= assigned[key.id]
                else:
                    where = str(path.relative_to(ROOT))
                    assert where in DYNAMIC, f"{where}:{node.lineno}: t() key not checkable"
    return literal, patterns


def test_every_string_key_used_exists_in_both_languages(core):
    bot = assemble(core)  # every feature's catalogue installed
    literal, patterns = _string_keys_used()
    assert len(literal) > 100 and patterns
    missing = sorted(key for key in literal if key not in CATALOGUE)
    assert missing == []
    for pattern in patterns:
        assert any(re.fullmatch(pattern, key) for key in CATALOGUE), pattern
    registry = bot.registry
    declared = {key for c in registry.commands.values() for key in (c.help, c.argument) if key}
    declared |= {point.label for point in registry.entry_points} | set(registry.help_notes)
    assert sorted(key for key in declared if key not in CATALOGUE) == []
    for key in CATALOGUE:
        assert set(CATALOGUE.messages[key]) == {"ja", "en"}, key


def test_f_string_keys_resolve_for_every_value_they_are_given(core):
    """The families an f-string key is built from, enumerated where the values are known."""
    from bot.reports.service import CONTENT_FIELDS
    from bot.reports.texts import CATEGORIES

    assemble(core)
    families = {
        "report.flag.{}": ("due_soon", "overdue", "met", "pending"),
        "desk.content.{}": CONTENT_FIELDS,
        "report.field.{}": ("category", "what", "when", "where", "who", "anonymity",
                            "exclude"),
        "report.anonymity.{}": ("anonymous", "named"),
        "report.author.{}": ("desk", "reporter", "you"),
    }
    assert CATEGORIES
    for family, values in families.items():
        for value in values:
            key = family.format(value)
            if family == "report.flag.{}" and key not in CATALOGUE:
                continue  # not every deadline state has a flag
            assert key in CATALOGUE, key


def test_strings_that_name_a_command_resolve_per_platform(core):
    """No string hard-codes a platform's command syntax: each names the command through a
    placeholder the flow fills with `Registry.spell_command` for the user's platform."""
    bot = assemble(core)
    for key in CATALOGUE:
        for lang, text in CATALOGUE.messages[key].items():
            assert "/comply" not in text and "`" not in text, (key, lang)
    spelled = {platform: {lang: bot.registry.spell_command(platform, "case", lang)
                          for lang in ("ja", "en")}
               for platform in ("slack", "teams", "console")}
    assert spelled == {"slack": {"ja": "/comply 確認", "en": "/comply case"},
                       "teams": {"ja": "確認", "en": "case"},
                       "console": {"ja": "/確認", "en": "/case"}}
    named = {key for key in CATALOGUE for text in CATALOGUE.messages[key].values()
             if re.search(r"\{(report|case|reminders)\}", text)}
    assert named >= {"report.receipt.text", "case.expired", "esc.form.intro",
                     "reminders.ack_unknown"}
    for key in named:
        for name in re.findall(r"\{(report|case|reminders)\}", CATALOGUE.messages[key]["en"]):
            assert name in bot.registry.commands, (key, name)


def test_a_commands_language_is_its_words_unless_the_text_after_it_says_otherwise(core):
    bot = assemble(core)

    def lang(text: str) -> str:
        return bot.dispatcher.command(IncomingMessage(SLACK_USER, text)).lang

    # ids and mentions after the word say nothing about the language
    assert lang("確認 R-2345ABCD") == "ja" and lang("case R-2345ABCD") == "en"
    assert lang("窓口 <@U0123ABCD>") == "ja" and lang("desk @taro") == "en"
    # words do
    assert lang("窓口 Can I lend my ID?") == "en" and lang("desk IDを貸してもいい？") == "ja"
