"""The desk report's weekly chart: open escalations at the end of each week, stacked by
urgency, with the overdue part of each week's bar hatched at its bottom.

The points are the ends of whole weeks (Sunday 24:00 in the desk's time zone, as the title
says), labelled with their dates and years, in the desk's language. Drawn on a bare
`Figure` (no pyplot, no global settings), so the weekly job may draw in a scheduler thread
while the CLI or another job draws too.

Japanese labels need a Japanese font: the IPAex Gothic that the `matplotlib-fontja` wheel
ships (a project dependency, found by path, since importing that package changes
matplotlib's default font for the whole process), else a Japanese font installed on the
system. Without either, the chart is labelled in English and a warning says so.
"""

from __future__ import annotations

import functools
import importlib.util
import io
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.escalations.report import WeekCounts, week_sunday
from bot.escalations.settings import URGENCIES
from bot.escalations.sla import BusinessCalendar
from bot.escalations.views import urgency_label
from bot.i18n import t

if TYPE_CHECKING:
    from matplotlib.figure import Figure

log = logging.getLogger(__name__)


COLORS = {"high": "#c0392b", "normal": "#2874a6", "low": "#7d8c8d"}
LIGHT = {"high": "#eba59e", "normal": "#9cc3e0", "low": "#c9d0d1"}  # the same, within target
HATCH = "////"
# Japanese fonts matplotlib may find on a system, in order of preference.
SYSTEM_JAPANESE_FONTS = ("Noto Sans CJK JP", "Noto Sans JP", "IPAexGothic", "IPAGothic",
                         "TakaoGothic", "VL Gothic")
LATIN_FONT = "DejaVu Sans"  # matplotlib's own


@functools.cache
def japanese_font() -> str | None:
    """The family name of a font with Japanese glyphs, registered with matplotlib; or None."""
    from matplotlib import font_manager

    spec = importlib.util.find_spec("matplotlib_fontja")
    for location in (spec.submodule_search_locations or []) if spec else []:
        path = Path(location) / "fonts" / "ipaexg.ttf"
        if path.is_file():
            font_manager.fontManager.addfont(str(path))
            return str(font_manager.FontProperties(fname=str(path)).get_name())
    installed = {font.name for font in font_manager.fontManager.ttflist}
    return next((name for name in SYSTEM_JAPANESE_FONTS if name in installed), None)


def chart_language(lang: str) -> tuple[str, list[str]]:
    """The language the chart can be labelled in, and the font families to draw it with."""
    if lang != "ja":
        return "en", [LATIN_FONT]
    font = japanese_font()
    if font is None:
        log.warning("no Japanese font for the desk chart (install matplotlib-fontja): "
                    "its labels are in English")
        return "en", [LATIN_FONT]
    return "ja", [font, LATIN_FONT]


def draw_chart(counts: list[WeekCounts], calendar: BusinessCalendar, lang: str, *,
               size: tuple[float, float] = (9.0, 4.5)) -> Figure:
    """Stacked bars, bottom to top: overdue per urgency (hatched), then open within target."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch
    from matplotlib.ticker import MaxNLocator

    lang, fonts = chart_language(lang)
    text: dict[str, Any] = {"fontfamily": fonts}
    figure = Figure(figsize=size, layout="constrained")
    axes = figure.add_subplot()
    positions = list(range(len(counts)))
    bottoms = [0] * len(counts)
    layers = [("overdue", u) for u in reversed(URGENCIES)] + [
        ("within", u) for u in reversed(URGENCIES)]
    for part, urgency in layers:  # high first: the most pressing sits lowest
        heights = [c.overdue[urgency] if part == "overdue"
                   else c.open[urgency] - c.overdue[urgency] for c in counts]
        style: dict[str, Any] = (
            {"color": COLORS[urgency], "hatch": HATCH, "edgecolor": "white"}
            if part == "overdue" else {"color": LIGHT[urgency], "edgecolor": "white"})
        axes.bar(positions, heights, width=0.7, bottom=bottoms, linewidth=0.6,
                 label=f"{part} {urgency}", **style)
        bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
    for position, week in zip(positions, counts, strict=True):
        if week.total_open:
            overdue = f" ({week.total_overdue})" if week.total_overdue else ""
            axes.annotate(f"{week.total_open}{overdue}", (position, week.total_open),
                          xytext=(0, 2), textcoords="offset points", ha="center",
                          va="bottom", fontsize=8, **text)
    labels = [week_sunday(calendar, week.end).isoformat() for week in counts]
    crowded = len(counts) > 8
    axes.set_xticks(positions, labels, rotation=30 if crowded else 0,
                    ha="right" if crowded else "center", fontsize=8, **text)
    axes.set_title(t("chart.title", lang, zone=calendar.zone.key), fontsize=11, **text)
    axes.set_ylabel(t("chart.ylabel", lang), **text)
    axes.set_xlabel(t("chart.xlabel", lang), **text)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))  # whole escalations only
    top = max((week.total_open for week in counts), default=0)
    axes.set_ylim(0, max(1, top) * 1.15)  # room for the numbers above the bars
    axes.spines[["top", "right"]].set_visible(False)
    handles = [Patch(facecolor=LIGHT[u], edgecolor=COLORS[u], label=urgency_label(u, lang))
               for u in reversed(URGENCIES)]
    handles.append(Patch(facecolor="#666666", edgecolor="white", hatch=HATCH,
                         label=t("chart.overdue", lang)))
    figure.legend(handles=handles, title=t("chart.urgency", lang), loc="outside right upper",
                  frameon=False, prop={"family": fonts, "size": 8},
                  title_fontproperties={"family": fonts, "size": 8})
    return figure


def chart_alt(counts: list[WeekCounts], calendar: BusinessCalendar, lang: str) -> str:
    """What the chart shows, in words: for screen readers and where it cannot be shown."""
    if not counts:
        return t("chart.title", lang, zone=calendar.zone.key)
    last = counts[-1]
    return t("chart.alt", lang, date=week_sunday(calendar, last.end).isoformat(),
             open=last.total_open, overdue=last.total_overdue)


def render_chart(counts: list[WeekCounts], calendar: BusinessCalendar, lang: str, *,
                 size: tuple[float, float] = (9.0, 4.5), dpi: int = 100) -> bytes:
    """The chart as a PNG, small enough to travel inside a chat message (see compact_png)."""
    figure = draw_chart(counts, calendar, lang, size=size)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return compact_png(buffer.getvalue())


def compact_png(png: bytes, colors: int = 64) -> bytes:
    """A chart has few colours: as a palette PNG it is several times smaller, which is what
    lets it fit in a Teams message (about 28 KB in all, the image base64-encoded in it).
    Octree quantization keeps a small area's colour (one urgent bar) that median cut merges
    into its neighbours'."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        palette = image.convert("RGB").quantize(colors=colors,
                                                method=Image.Quantize.FASTOCTREE)
    out = io.BytesIO()
    palette.save(out, format="PNG", optimize=True)
    return out.getvalue() if out.tell() < len(png) else png


def write_chart(counts: list[WeekCounts], calendar: BusinessCalendar, path: Path,
                lang: str) -> None:
    path.write_bytes(render_chart(counts, calendar, lang))
