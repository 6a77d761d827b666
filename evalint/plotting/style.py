"""One look for every evalint figure: the Okabe–Ito colour-blind-safe palette, a font with broad
glyph coverage (DejaVu Sans, with any installed CJK/emoji fonts as fallbacks), text that no
installed font can draw replaced rather than drawn as empty boxes, and long labels wrapped or
abbreviated with a key.

References
----------
Okabe, M. & Ito, K. (2008). Color Universal Design (CUD): how to make figures and
presentations that are friendly to colorblind people. https://jfly.uni-koeln.de/color/
"""

from __future__ import annotations

import textwrap
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

__all__ = ["OKABE_ITO", "SEVERITY_COLOURS", "DESIGN_COLOURS", "font_families", "drawable", "wrap_label",
           "short_labels", "apply_style"]

#: Okabe & Ito (2008): distinguishable under the common colour-vision deficiencies
OKABE_ITO = {"black": "#000000", "orange": "#E69F00", "sky_blue": "#56B4E9", "green": "#009E73",
             "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7",
             "grey": "#999999"}
SEVERITY_COLOURS = {"high": OKABE_ITO["vermillion"], "medium": OKABE_ITO["orange"], "low": OKABE_ITO["sky_blue"],
                    "info": OKABE_ITO["grey"]}
#: one colour per design family, the same in every figure
DESIGN_COLOURS = {"its": OKABE_ITO["blue"], "its_units": OKABE_ITO["sky_blue"], "did": OKABE_ITO["orange"],
                  "scm": OKABE_ITO["green"], "sdid": OKABE_ITO["purple"]}
_CYCLE = [OKABE_ITO[k] for k in ("blue", "orange", "green", "vermillion", "purple", "sky_blue", "yellow", "black")]
#: fallback fonts tried after DejaVu Sans, when installed (matplotlib >= 3.6 falls back per glyph)
_FALLBACKS = ("Noto Sans", "Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans Arabic", "Noto Sans Devanagari",
              "Noto Color Emoji", "Noto Emoji", "Segoe UI Emoji", "Segoe UI Symbol", "Apple Color Emoji",
              "Arial Unicode MS", "Symbola")


@lru_cache(maxsize=1)
def font_families() -> tuple[str, ...]:
    """DejaVu Sans (shipped with matplotlib) followed by the installed fallback fonts."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    return ("DejaVu Sans", *(f for f in _FALLBACKS if f in installed))


@lru_cache(maxsize=1)
def _charmaps() -> tuple[frozenset[int], ...]:
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    maps = []
    for fam in font_families():
        try:
            path = font_manager.findfont(font_manager.FontProperties(family=fam), fallback_to_default=False)
            maps.append(frozenset(FT2Font(path).get_charmap()))
        except Exception:  # noqa: BLE001 - a font that cannot be read is skipped
            continue
    return tuple(maps)


def drawable(text: Any) -> str:
    """``text`` with every character no installed font can draw replaced.

    Symbols and emoji are dropped; letters of an uncovered script become "?" (so the label
    keeps its length and the figure's key or caption names the unit in full). Spaces and
    combining marks pass through.
    """
    s = str(text)
    maps = _charmaps()
    out = []
    for ch in s:
        cp = ord(ch)
        if cp < 128 or ch.isspace() or any(cp in m for m in maps):
            out.append(ch)
            continue
        cat = unicodedata.category(ch)
        if cat.startswith("M") or cat in ("Cf",):  # combining marks, zero-width joiners, variation selectors
            continue
        if cat.startswith("S"):  # emoji and other symbols
            continue
        out.append("?")
    return " ".join("".join(out).split()) or "?"


def wrap_label(text: Any, width: int = 22, max_lines: int = 2) -> str:
    """Wrap a label to ``max_lines`` lines of ``width`` characters, cutting with "…"."""
    s = drawable(text)
    lines = textwrap.wrap(s, width) or [s]
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: width - 1].rstrip() + "…"
    return "\n".join(lines)


def short_labels(names: Sequence[Any], width: int = 22, start: int = 1) -> tuple[list[str], list[str]]:
    """Labels for a list of unit names and a key for the ones abbreviated.

    Names that fit (and that every character of is drawable) are kept; the others are wrapped
    to two lines, and when that still cuts them they are numbered, "[1] Bedfordshire, Luton…",
    with the full name in the key.
    """
    labels: list[str] = []
    key: list[str] = []
    for n in names:
        full = str(n)
        lab = wrap_label(full, width)
        if lab.replace("\n", " ") != " ".join(full.split()):
            tag = f"[{len(key) + start}]"
            key.append(f"{tag} {drawable(full)}" if drawable(full) == full else f"{tag} {full!a}"[: 200])
            lab = f"{tag} " + wrap_label(full, width - len(tag) - 1)
        labels.append(lab)
    return labels, key


def apply_style(fig: Any) -> None:
    """Okabe–Ito colour cycle on every axes of ``fig``."""
    from cycler import cycler

    for ax in fig.axes:
        ax.set_prop_cycle(cycler(color=_CYCLE))


def rc() -> dict[str, Any]:
    """rcParams every evalint figure is drawn with (use in ``matplotlib.rc_context``)."""
    return {"font.family": list(font_families()), "axes.prop_cycle": __import__("cycler").cycler(color=_CYCLE),
            "axes.spines.top": False, "axes.spines.right": False, "axes.titlesize": 10, "axes.titlelocation": "left"}


def styled(func: Any) -> Any:
    """Decorator: draw inside ``matplotlib.rc_context(rc())`` (fonts, palette, spines)."""
    import functools

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        import matplotlib

        with matplotlib.rc_context(rc()):
            return func(*args, **kwargs)

    return wrapper
