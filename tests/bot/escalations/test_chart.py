"""The weekly chart: stacked by urgency with the overdue part at the bottom, whole weeks
ending on Sundays, dates with their year, labels in the desk's language."""

from __future__ import annotations

import io
import logging
import warnings
from collections import defaultdict
from datetime import UTC, datetime

import pytest
from PIL import Image

from bot.escalations import chart
from bot.escalations.report import WeekCounts, week_ends
from bot.escalations.settings import SlaSettings
from bot.escalations.sla import BusinessCalendar

CALENDAR = BusinessCalendar.from_settings(SlaSettings())  # Asia/Tokyo
PNG = b"\x89PNG\r\n\x1a\n"


def _weeks() -> list[WeekCounts]:
    # Wednesday 2027-01-06: the last whole week ended on Sunday 2027-01-03, across a new year.
    ends = week_ends(CALENDAR, datetime(2027, 1, 6, 3, tzinfo=UTC), 3)
    return [
        WeekCounts(ends[0], {"low": 1, "normal": 4, "high": 2},
                   {"low": 0, "normal": 1, "high": 1}),
        WeekCounts(ends[1], {"low": 0, "normal": 0, "high": 0},
                   {"low": 0, "normal": 0, "high": 0}),
        WeekCounts(ends[2], {"low": 2, "normal": 3, "high": 1},
                   {"low": 2, "normal": 0, "high": 1}),
    ]


def _bars(figure) -> dict[float, list[tuple[str, float, float]]]:  # type: ignore[no-untyped-def]
    """x position -> the bar segments there, bottom to top: (layer, bottom, height)."""
    [axes] = figure.axes
    stacks: dict[float, list[tuple[str, float, float]]] = defaultdict(list)
    for container in axes.containers:
        for patch in container.patches:
            stacks[round(patch.get_x() + patch.get_width() / 2, 3)].append(
                (container.get_label(), patch.get_y(), patch.get_height()))
    return {x: sorted(segments, key=lambda s: s[1]) for x, segments in stacks.items()}


def test_bars_are_stacked_open_by_urgency_with_the_overdue_part_at_the_bottom():
    weeks = _weeks()
    stacks = _bars(chart.draw_chart(weeks, CALENDAR, "en"))
    assert sorted(stacks) == [0, 1, 2]  # one bar per week: nothing stands side by side
    for x, week in enumerate(weeks):
        segments = stacks[x]
        top = 0.0
        for _, bottom, height in segments:  # each segment starts where the last one ended
            assert bottom == pytest.approx(top)
            top += height
        assert top == week.total_open
        overdue = [s for s in segments if s[0].startswith("overdue") and s[2]]
        within = [s for s in segments if s[0].startswith("within") and s[2]]
        assert sum(s[2] for s in overdue) == week.total_overdue
        assert all(o[1] < w[1] for o in overdue for w in within)  # overdue lowest
        for urgency in ("low", "normal", "high"):
            heights = {label: height for label, _, height in segments}
            assert heights[f"overdue {urgency}"] == week.overdue[urgency]
            assert (heights[f"overdue {urgency}"] + heights[f"within {urgency}"]
                    == week.open[urgency])


def test_dates_have_their_year_and_points_are_the_week_ends_the_title_names():
    figure = chart.draw_chart(_weeks(), CALENDAR, "en")
    [axes] = figure.axes
    assert [label.get_text() for label in axes.get_xticklabels()] == [
        "2026-12-20", "2026-12-27", "2027-01-03"]
    assert axes.get_title() == "Open escalations at the end of each week (Sunday 24:00, " \
        "Asia/Tokyo)"
    for week in _weeks():  # each point is Sunday 24:00 in the desk's zone: Monday 00:00
        local = CALENDAR.local(week.end)
        assert (local.strftime("%a"), local.hour, local.minute) == ("Mon", 0, 0)
    assert "2027-01-03: 6 open, 3 overdue" in chart.chart_alt(_weeks(), CALENDAR, "en")


def test_japanese_labels_render_with_a_japanese_font():
    font = chart.japanese_font()
    assert font is not None, "the matplotlib-fontja wheel is a dependency"
    figure = chart.draw_chart(_weeks(), CALENDAR, "ja")
    [axes] = figure.axes
    assert axes.get_title() == "各週末（日曜24:00、Asia/Tokyo）時点の未解決の相談"
    assert axes.get_ylabel() == "未解決の相談（件）"
    assert axes.title.get_fontfamily()[0] == font
    legend = [text.get_text() for text in figure.legends[0].get_texts()]
    assert legend[:3] == ["至急", "通常", "低"]
    # A glyph missing from every font is a warning from matplotlib: none may be raised.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        png = chart.render_chart(_weeks(), CALENDAR, "ja")
    assert png.startswith(PNG)


def test_without_a_japanese_font_the_chart_falls_back_to_english_and_says_so(monkeypatch,
                                                                              caplog):
    monkeypatch.setattr(chart, "japanese_font", lambda: None)
    with caplog.at_level(logging.WARNING, logger="bot.escalations.chart"):
        figure = chart.draw_chart(_weeks(), CALENDAR, "ja")
    assert figure.axes[0].get_title().startswith("Open escalations")
    assert "no Japanese font" in caplog.text


def test_the_png_is_small_enough_for_a_chat_message():
    png = chart.render_chart(_weeks() * 4, CALENDAR, "ja")  # twelve weeks
    assert png.startswith(PNG)
    with Image.open(io.BytesIO(png)) as image:
        assert image.size == (900, 450)
        assert image.mode == "P"  # a palette: a few colours, a few bytes
    assert len(png) < 20_000
