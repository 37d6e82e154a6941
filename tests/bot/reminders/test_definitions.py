"""Reminder definitions: the shipped examples, and bad files that must stop start-up."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.config import ConfigError
from bot.core import build_core
from bot.reminders.definitions import load_reminders, parse_reminders
from bot.wiring import assemble
from tests.bot.reminders.fakes import SHIPPED

GOOD = """\
reminders:
  - id: training
    message: {ja: "研修の時期です。{training_url}", en: "Training time. {training_url}"}
    schedule: {cron: "0 10 1 2,8 *"}
    audience: {all_members: slack}
    acknowledge: {ja: 受講しました, en: Done}
"""


def test_shipped_examples_cover_each_obligation_of_the_plan():
    reminders = {r.id: r for r in load_reminders(SHIPPED)}
    assert set(reminders) == {"conduct-rule-training", "password-change",
                              "id-password-annual-check", "terminal-inventory",
                              "access-log-review"}
    training = reminders["conduct-rule-training"]
    assert training.schedule.cron is not None and training.schedule.cron.split()[3] == "2,8"
    assert training.schedule.timezone == "Asia/Tokyo"
    assert training.acknowledge is not None and training.acknowledge.ja == "受講しました"
    password = reminders["password-change"]
    assert password.is_interval and password.acknowledge is not None
    assert password.acknowledge.ja == "パスワードを変更しました"
    assert reminders["access-log-review"].schedule.cron.split()[3] == "4,10"  # type: ignore[union-attr]
    assert reminders["access-log-review"].broadcast
    for yearly in ("id-password-annual-check", "terminal-inventory"):
        fields = reminders[yearly].schedule.cron.split()  # type: ignore[union-attr]
        assert fields[3].isdigit()  # one month: once a year
    for reminder in reminders.values():
        assert reminder.message.ja and reminder.message.en and reminder.title is not None


def test_missed_occurrences_coalesce_into_the_latest():
    [training] = parse_reminders(GOOD, "x.yaml")
    schedule = training.schedule
    latest = schedule.latest_between(datetime(2026, 12, 1, tzinfo=UTC),
                                     datetime(2027, 9, 1, tzinfo=UTC))
    assert latest == datetime(2027, 8, 1, 1, tzinfo=UTC)
    assert schedule.next_after(latest) == datetime(2028, 2, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(("change", "reason"), [
    (("{cron: \"0 10 1 2,8 *\"}", "{cron: \"0 10 1 13 *\"}"), "schedule: cron '0 10 1 13 *'"),
    (("{cron: \"0 10 1 2,8 *\"}", "{cron: \"0 10 * * 1\"}"), "day of week as mon-sun"),
    (("{cron: \"0 10 1 2,8 *\"}", "{cron: \"0 10 1 2 *\", timezone: Mars/Olympus}"),
     "unknown time zone 'Mars/Olympus'"),
    (("{cron: \"0 10 1 2,8 *\"}", "{cron: \"0 10 1 2 *\", every_days: 90}"),
     "exactly one of cron or every_days"),
    (("{all_members: slack}", "{channel: C0123}"), "expected platform:id"),
    (("{all_members: slack}", "{all_members: slack, users: [slack:U1]}"),
     "exactly one of channel, usergroup"),
    (("{training_url}\"}", "{trainig_url}\"}"), "unknown placeholder {trainig_url}"),
    (("    acknowledge: {ja: 受講しました, en: Done}\n", "    follow_up: {after_days: 7, "
      "max_times: 2}\n"), "follow_up needs acknowledge"),
    (("    audience:", "    colour: red\n    audience:"), "colour: unknown setting"),
    (("en: \"Training time. {training_url}\"", "fr: x"), "message.en: missing"),
])
def test_a_bad_definition_names_file_line_id_and_reason(change, reason):
    old, new = change
    assert old in GOOD
    with pytest.raises(ConfigError) as error:
        parse_reminders(GOOD.replace(old, new), "reminders.yaml")
    message = str(error.value)
    assert message.startswith("reminders.yaml:2: training: "), message
    assert reason in message and "\n" not in message


def test_interval_reminders_need_an_acknowledgement_and_one_dm_each():
    text = GOOD.replace('{cron: "0 10 1 2,8 *"}', "{every_days: 90}")
    assert parse_reminders(text, "r.yaml")[0].is_interval
    with pytest.raises(ConfigError, match="every_days counts from the user's acknowledgement"):
        parse_reminders(text.replace("    acknowledge: {ja: 受講しました, en: Done}\n", ""),
                        "r.yaml")
    broadcast = text.replace("{all_members: slack}", "{channel: slack:C1}")
    with pytest.raises(ConfigError, match="use delivery: dm"):
        parse_reminders(broadcast, "r.yaml")
    assert parse_reminders(broadcast.replace("    audience:", "    delivery: dm\n    audience:"),
                           "r.yaml")[0].is_interval


def test_duplicate_ids_and_broken_yaml_are_refused():
    twice = GOOD + GOOD.split("\n", 1)[1]
    with pytest.raises(ConfigError, match=r"r.yaml:7: training: duplicate id \(first on line 2\)"):
        parse_reminders(twice, "r.yaml")
    with pytest.raises(ConfigError, match=r"r.yaml:\d+: "):
        parse_reminders("reminders:\n  - id: [unclosed\n", "r.yaml")
    with pytest.raises(ConfigError, match="one top-level key, reminders"):
        parse_reminders("- id: x\n", "r.yaml")


def test_settings_path_is_relative_to_the_config_file_and_a_bad_file_stops_start_up(
        tmp_path, make_settings, database):
    mine = GOOD.replace("id: training", "id: ok-one")
    (tmp_path / "mine.yaml").write_text(mine, encoding="utf-8")
    settings = make_settings("reminders:\n  path: mine.yaml\n", DATABASE_URL=database.url)
    assert settings.file.reminders.path == tmp_path / "mine.yaml"
    core = build_core(settings)
    try:
        assert assemble(core).feature("reminders").service.reminders.keys() == {"ok-one"}
        (tmp_path / "mine.yaml").write_text(GOOD.replace("2,8", "2,13"), encoding="utf-8")
        with pytest.raises(ConfigError, match=r"mine.yaml:2: training: schedule: cron"):
            assemble(core)
    finally:
        core.database.dispose()


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match=r"reminders.path: .* does not exist"):
        load_reminders(tmp_path / "nope.yaml")
