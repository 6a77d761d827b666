"""Turn time columns and intervention dates into pandas Periods.

evalint keeps time as :class:`pandas.Period` values of one frequency per panel:
daily ``D``, weekly ``W``, monthly ``M``, quarterly ``Q`` or annual ``Y``. Dates such as
``"2022-07-01"`` are mapped to the period that contains them, so a date works as an
intervention point on monthly or quarterly data.
"""

from __future__ import annotations

import re
from typing import Any, cast

import numpy as np
import pandas as pd

from evalint.errors import SpecificationError, TimeParseError, format_examples

__all__ = ["normalise_freq", "to_periods", "to_period", "parse_date", "period_named", "FREQ_NAMES"]

#: Canonical frequency code -> plain name.
FREQ_NAMES = {"D": "daily", "W": "weekly", "M": "monthly", "Q": "quarterly", "Y": "annual"}

_ALIASES = {
    "d": "D", "day": "D", "daily": "D",
    "w": "W", "week": "W", "weekly": "W",
    "m": "M", "ms": "M", "me": "M", "month": "M", "monthly": "M",
    "q": "Q", "qs": "Q", "qe": "Q", "quarter": "Q", "quarterly": "Q",
    "y": "Y", "a": "Y", "ys": "Y", "ye": "Y", "as": "Y", "year": "Y", "annual": "Y", "yearly": "Y",
}

_PATTERNS = [
    ("Y", re.compile(r"^\d{4}$")),
    ("Q", re.compile(r"^\d{4}\s*-?\s*Q[1-4]$", re.IGNORECASE)),
    ("M", re.compile(r"^\d{4}-\d{1,2}$")),
    ("W", re.compile(r"^\d{4}-W\d{1,2}$", re.IGNORECASE)),
]


def normalise_freq(freq: Any) -> str:
    """Return the canonical frequency code (``D``, ``W``, ``M``, ``Q`` or ``Y``) for ``freq``."""
    if freq is None:
        raise SpecificationError("freq is required here; use one of 'D', 'W', 'M', 'Q', 'Y'.")
    key = str(getattr(freq, "freqstr", freq)).strip()
    base = key.split("-")[0].lower()
    if base in _ALIASES:
        return _ALIASES[base]
    raise SpecificationError(
        f"freq={freq!r} is not supported. Use 'D' (daily), 'W' (weekly), 'M' (monthly), "
        "'Q' (quarterly) or 'Y' (annual)."
    )


def _period_freq(series: pd.Series) -> str:
    return normalise_freq(cast(pd.PeriodDtype, series.dtype).freq)


#: Period anchors whose periods coincide with evalint's (calendar quarters, Monday-Sunday
#: weeks, calendar years): converting them only relabels, it never shifts a boundary.
_SAME_SPANS = {"Q": {"Q-DEC", "Q-MAR", "Q-JUN", "Q-SEP"}, "W": {"W-SUN", "W"}, "Y": {"Y-DEC", "Y", "A-DEC"}}


def _require_standard_anchor(freqstr: str, fcode: str, column: str) -> None:
    """Raise for period anchors that evalint's periods cannot hold without shifting spans."""
    allowed = _SAME_SPANS.get(fcode)
    if allowed is None or freqstr.upper() in allowed:
        return
    spans = {"Q": "calendar quarters (Jan-Mar, ...)", "W": "Monday-Sunday weeks",
             "Y": "calendar years (January-December)"}[fcode]
    fix = {
        "Y": "Use monthly or quarterly data (NHS financial years are April-March), or relabel "
             "each year deliberately by the calendar year it starts in (s.dt.start_time.dt.year) "
             "and give intervention dates on that scale.",
        "Q": "Use monthly data, or relabel each quarter deliberately (s.dt.start_time with "
             "freq='Q' puts it in the calendar quarter it starts in).",
        "W": "Convert to dates deliberately (s.dt.start_time or s.dt.end_time) and pass freq='W': "
             "each date then goes to the Monday-Sunday week containing it.",
    }[fcode]
    raise TimeParseError(
        f"time column {column!r} holds {FREQ_NAMES[fcode]} periods anchored {freqstr!r}, whose "
        f"boundaries differ from evalint's {spans}; relabelling them would silently move "
        f"interventions and policy events into the wrong period. {fix}"
    )


def _infer_from_dates(dates: pd.DatetimeIndex, column: str) -> str:
    uniq = dates.unique().sort_values()
    if len(uniq) < 2:
        if len(uniq) == 1 and uniq[0].day == 1:
            return "M"
        raise TimeParseError(
            f"time column {column!r}: cannot infer a frequency from a single date; pass freq=."
        )
    diffs = np.asarray((uniq[1:] - uniq[:-1]) / pd.Timedelta(days=1), dtype=float)
    step = float(diffs.min())
    if step == 1:
        return "D"
    if step == 7 and np.all(np.mod(diffs, 7) == 0):
        return "W"
    if 28 <= step <= 31:
        return "M"
    if 89 <= step <= 92:
        return "Q"
    if 365 <= step <= 366:
        return "Y"
    days = pd.Series(uniq.day_of_week)
    def _weekly(g: pd.DatetimeIndex) -> bool:
        return bool(np.all(np.mod(np.asarray((g[1:] - g[:-1]) / pd.Timedelta(days=1)), 7) == 0))

    if step < 7 and days.nunique() > 1 and all(_weekly(uniq[(days == d).to_numpy()]) for d in days.unique()):
        names = ", ".join(pd.Series(uniq.day_name()).unique()[:7])
        raise TimeParseError(
            f"time column {column!r} looks weekly, but the weeks end (or start) on different "
            f"weekdays ({names}), so dates of the same week are {step:g} day(s) apart. Pass "
            "freq='W' to put each date in the Monday-Sunday week containing it, or align the "
            "dates to one weekday first."
        )
    raise TimeParseError(
        f"time column {column!r}: consecutive dates are {step:g} days apart at the closest, "
        "which is not daily, weekly, monthly, quarterly or annual (or the column mixes "
        "frequencies). Pass freq= explicitly or fix the dates. For survey waves at irregular "
        f"dates, number the waves instead (e.g. df[{column!r}] = df[{column!r}].rank(method='dense') - 1) "
        "to use them as an ordinal time axis (no calendar placement)."
    )


#: frequencies from finest to coarsest
_ORDER = "DWMQY"
#: day and month first, then the year: '01/04/2019', '1.4.19', '01-04-2019' (UK spreadsheets)
_SLASHED = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})$")
#: a month name then its year, as NHS England's spreadsheets label months: 'Apr-22', 'Apr 2022',
#: 'April-22', "Sept '22"
_MONTH_YEAR = re.compile(r"^([A-Za-z]{3,9})\.?[\s/'-]*(\d{2}|\d{4})$")
_MONTHS = {name: i for i, names in enumerate(
    [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",),
     ("jun", "june"), ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"),
     ("oct", "october"), ("nov", "november"), ("dec", "december")], start=1) for name in names}


def _month_year_iso(text: str) -> str | None:
    """``'2022-04'`` for a month label such as ``'Apr-22'``, ``'April 2022'``; None for anything else.

    Two-digit years follow the POSIX ``%y`` rule: 69-99 are 1969-1999, 00-68 are 2000-2068.
    """
    m = _MONTH_YEAR.match(text.strip())
    if m is None or m.group(1).lower() not in _MONTHS:
        return None
    year = int(m.group(2))
    if len(m.group(2)) == 2:
        year += 1900 if year >= 69 else 2000
    return f"{year:04d}-{_MONTHS[m.group(1).lower()]:02d}"


_FINANCIAL_YEAR = re.compile(r"^(\d{4})\s*([-/])\s*(\d{2})$")


def _refuse_financial_years(text: pd.Series, values: pd.Series, column: str) -> None:
    """Refuse NHS financial years ('2016-17', '2016/17': April 2016 to March 2017), read otherwise
    as month 17 or not at all: evalint's annual periods are calendar years, and placing them on
    the policy calendar a quarter out would be silently wrong."""
    m = text.str.extract(_FINANCIAL_YEAR)
    if m[0].isna().any() or not len(m):
        return
    first, sep, second = m[0].astype(int), m[1], m[2].astype(int)
    if not ((first + 1) % 100 == second).all() or not ((sep == "/") | (second > 12)).any():
        return
    raise TimeParseError(
        f"time column {column!r} holds financial years ({_rows_of(values, text.tolist()[:3])}: April to "
        "March), which evalint does not place on the calendar: its annual periods are calendar years. "
        f"Give monthly or quarterly data, or number the years as periods: df[{column!r}].str[:4].astype(int) "
        "with time_kind='ordinal' (the policy calendar is then not checked).")


def _require_a_year(parsed: pd.Series, text: pd.Series, values: pd.Series, column: str) -> None:
    """Refuse dates read without their year: pandas reads ``'04/22'`` or ``'22-Apr'`` as the
    22nd of April of year 1, which would put a year's months in the wrong order, silently."""
    bad = text[(parsed.dt.year < 1000).to_numpy()]
    if len(bad):
        raise TimeParseError(
            f"time column {column!r}: {len(bad)} value(s) hold no year evalint can read: "
            f"{_rows_of(values, bad.tolist())} (read as dates of year "
            f"{int(parsed.dt.year.min())}). Use ISO months ('2022-04'), or a month name with its "
            "year ('Apr-22', 'April 2022'), or full dates ('01/04/2022').")


def _rows_of(values: pd.Series, bad: list[Any]) -> str:
    """``'2021-13' (row 5)`` for the first few bad values: where to look in the frame."""
    shown = []
    key = values.astype(str).str.strip()
    for b in bad[:3]:
        rows = values.index[key == str(b)].tolist()
        shown.append(f"{b!r} (row {format_examples(rows, limit=3)})" if rows else repr(b))
    more = f" and {len(bad) - 3} more value(s)" if len(bad) > 3 else ""
    return ", ".join(shown) + more


def _require_matching_freq(have: str, freq: str, column: str, examples: list[Any]) -> None:
    """Raise when ``freq=`` differs from the frequency the values themselves show."""
    if have == freq:
        return
    finer = _ORDER.index(freq) < _ORDER.index(have)
    why = (f"freq={freq!r} is finer, so each {FREQ_NAMES[have][:-2] if have != 'D' else 'day'} would become "
           f"one {FREQ_NAMES[freq]} period and the {FREQ_NAMES[freq]} periods between them would look missing"
           if finer else
           f"freq={freq!r} is coarser, so several {FREQ_NAMES[have]} values would fall in one "
           f"{FREQ_NAMES[freq]} period and look like duplicates")
    fix = (f"Pass freq={have!r} (or leave freq= out)" if finer else
           f"Pass freq={have!r}, or aggregate the data to {FREQ_NAMES[freq]} totals first")
    raise TimeParseError(
        f"time column {column!r} holds {FREQ_NAMES[have]} values (e.g. {format_examples(examples, limit=3)}) "
        f"but {why}. {fix}."
    )


def _dayfirst(text: pd.Series, column: str) -> bool | None:
    """Day-first or month-first for ``dd/mm/yyyy``-like strings; None when none are slashed."""
    m = text.str.extract(_SLASHED)
    if m[0].isna().all():
        return None
    m = m.dropna().astype(int)
    a, b = m[0], m[1]
    if (a > 12).any() and (b > 12).any():
        examples = (text[(a > 12).reindex(text.index, fill_value=False)].tolist()[:1]
                    + text[(b > 12).reindex(text.index, fill_value=False)].tolist()[:1])
        raise TimeParseError(
            f"time column {column!r} mixes day-first and month-first dates (e.g. "
            f"{format_examples(examples)}). "
            "Use one format, ideally ISO ('2019-04-01')."
        )
    if (a > 12).any():
        return True
    if (b > 12).any():
        return False
    # every value is ambiguous (both parts <= 12): monthly data on one day of the month
    # show it — the constant part is the day
    if a.nunique() == 1 and b.nunique() > 1:
        return True
    if b.nunique() == 1 and a.nunique() > 1:
        return False
    raise TimeParseError(
        f"time column {column!r}: dates such as {format_examples(text.iloc[:3].tolist())} could be day-first "
        "(UK, 01/04/2019 = 1 April) or month-first (US, = 4 January), and the values do not show which. "
        f"Convert them first: df[{column!r}] = pd.to_datetime(df[{column!r}], dayfirst=True) for UK dates, "
        "or format='%m/%d/%Y' for US dates; ISO dates ('2019-04-01') need nothing."
    )


_LOCAL_ZONE = "Europe/London"


def local_dates(dates: pd.DatetimeIndex, column: str, what: str = "time column") -> pd.DatetimeIndex:
    """Time-zone-aware ``dates`` as the dates and times of their own zone (naive); naive dates as given.

    A timestamp is read as the date its own zone shows. That is also its date in Europe/London
    for midnights in any zone west of Asia (``2022-07-01 01:00+02:00`` is 1 July in both).
    Timestamps whose London date differs from their own and that are all London midnights
    (``2022-03-31 23:00 UTC`` is 1 April 2022 in London, as a system exporting local dates in
    UTC writes them) are refused: read in their own zone every British Summer Time date would
    fall a day, and a month or quarter, early.

    Raises
    ------
    TimeParseError
        Local midnights stored in UTC (or another zone whose date differs from London's).
    """
    if dates.tz is None:
        return dates
    seen = np.asarray(dates.notna())
    _refuse_shifted_midnights(dates.tz_localize(None)[seen],
                              dates[seen].tz_convert(_LOCAL_ZONE).tz_localize(None),
                              [str(t) for t in dates[seen]], str(dates.tz), column, what)
    return dates.tz_localize(None)


def _refuse_shifted_midnights(wall: pd.DatetimeIndex, london: pd.DatetimeIndex, shown: list[str],
                              zone: str, column: str, what: str) -> None:
    """The check of :func:`local_dates` on aware values' own-zone (``wall``) and London times."""
    moved = np.asarray(wall.normalize() != london.normalize())
    if not moved.any() or not (london == london.normalize()).all():
        return
    i = int(np.flatnonzero(moved)[0])
    example, there = shown[i], london[i].date()
    if what != "time column":
        raise TimeParseError(
            f"{what}={column!r} is {wall[i].strftime('%H:%M')} {zone}, midnight of {there} in "
            f"{_LOCAL_ZONE}; read in {zone} it would be the day before. Give the date: "
            f"'{there.isoformat()}'.")
    held, read = ((f"{zone} timestamps", f"in {zone}") if zone else
                  ("timestamps with differing UTC offsets", "at their own offsets"))
    raise TimeParseError(
        f"time column {column!r} holds {held} that are midnights in {_LOCAL_ZONE} "
        f"({int(moved.sum())} of {len(wall)} distinct values on another date {read}, e.g. "
        f"{example} = {there} in London): read {read}, British Summer Time dates would fall a day "
        f"early (a month or quarter early on the 1st). Convert them first: df[{column!r}] = "
        f"pd.to_datetime(df[{column!r}], utc=True).dt.tz_convert({_LOCAL_ZONE!r})."
    )


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _date_periods(dates: pd.DatetimeIndex, text: pd.Series, freq: str | None, column: str
                  ) -> tuple[str, pd.PeriodIndex]:
    """The frequency and the periods of distinct parsed dates (``text``: their strings, for messages)."""
    if freq is not None and len(dates.unique()) > 1:
        try:
            seen = _infer_from_dates(dates, column)
        except TimeParseError:
            seen = None
        if seen is not None:
            _require_matching_freq(seen, freq, column, text.tolist())
    use = freq or _infer_from_dates(dates, column)
    per = dates.to_period(use)
    if per.nunique() != len(per):
        clash = pd.Series(text.to_numpy(), index=per.asi8)
        dup = clash[clash.index.duplicated(keep=False)]
        raise TimeParseError(
            f"time column {column!r}: distinct dates fall in the same {FREQ_NAMES[use]} period "
            f"(e.g. {format_examples(dup.tolist()[:2])}); the column mixes frequencies"
            f"{'' if freq is None else f' or is finer than freq={freq!r}'}. "
            + ("Pass freq= explicitly." if freq is None else "Aggregate to that frequency first.")
        )
    return use, per


def _factorize_text(values: pd.Series) -> tuple[np.ndarray, Any]:
    """``pd.factorize`` of a text column without missing values; pyarrow strings are encoded by
    pyarrow directly, keeping its 32-bit codes (pandas widens them to 64 bits: on a national
    panel a second full-length array)."""
    if getattr(values.dtype, "storage", None) == "pyarrow" and len(values):
        import pyarrow as pa

        arr = pa.array(values.array)
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.chunk(0) if arr.num_chunks == 1 else arr.combine_chunks()
        enc = arr.dictionary_encode()
        if enc.indices.null_count == 0:
            return enc.indices.to_numpy(zero_copy_only=False), enc.dictionary.to_pylist()
    return pd.factorize(values)


def _own_wall_times(text: pd.Series, dayfirst: bool, column: str) -> pd.Series:
    """Date strings whose offsets differ ('+00:00' in winter, '+01:00' in summer, 'Z'), each as the
    date and time of its own offset (naive; NaT if not a date), checked as :func:`local_dates`."""
    out: list[Any] = []
    wall: list[pd.Timestamp] = []
    london: list[pd.Timestamp] = []
    shown: list[str] = []
    for t in text:
        try:
            ts = pd.to_datetime(t, dayfirst=dayfirst)
        except (TypeError, ValueError, OverflowError):
            ts = pd.NaT
        if ts is not pd.NaT and ts.tz is not None:
            wall.append(ts.tz_localize(None))
            london.append(ts.tz_convert(_LOCAL_ZONE).tz_localize(None))
            shown.append(str(ts))
            ts = ts.tz_localize(None)
        out.append(ts)
    if wall:
        _refuse_shifted_midnights(pd.DatetimeIndex(wall), pd.DatetimeIndex(london), shown,
                                  "", column, "time column")
    return cast(pd.Series, pd.Series(out, index=text.index, dtype="datetime64[ns]"))


def _string_periods(values: pd.Series, freq: str | None, column: str) -> tuple[pd.Series, str]:
    # each distinct value parsed once (a panel repeats every date once per unit), then taken by code
    codes, distinct = _factorize_text(values)
    raw = np.asarray(distinct, dtype=object)
    if len(raw) and all(isinstance(v, str) and _ISO_DATE.fullmatch(v) for v in raw):
        # ISO dates ('2019-04-01', as read from a CSV): none matches a period pattern or is
        # slashed, so the general steps below would parse them as dates, month first; parsed
        # here without them (each distinct string once); any that does not parse goes the
        # general way, which names it
        dates = pd.DatetimeIndex(pd.to_datetime(pd.Index(raw), errors="coerce", format="%Y-%m-%d"))
        if not dates.isna().any():
            use_iso, per_iso = _date_periods(dates, pd.Series(raw), freq, column)
            return pd.Series(pd.PeriodIndex(per_iso, freq=use_iso).take(codes), index=values.index), use_iso
    uniq = pd.Series(raw)
    text = uniq.astype(str).str.strip()
    _refuse_financial_years(text, values, column)
    iso = text.map(_month_year_iso)
    if iso.notna().any():  # 'Apr-22' is April 2022 (pandas would read the 22nd of April of year 1)
        # as the month's first day: the spacing of the dates then tells monthly from quarterly
        # labels ('Jan-18', 'Apr-18', ...), as it does for ISO dates
        text = (iso + "-01").fillna(text)
    kinds = pd.Series("date", index=text.index)
    for kind, pat in _PATTERNS:
        kinds[text.str.match(pat)] = kind
    if (kinds == "date").any() and (kinds != "date").any():
        # values that are neither a period pattern nor a date are typos, not another frequency
        maybe = text[kinds == "date"]
        junk = maybe[pd.to_datetime(maybe, errors="coerce", format="mixed").isna()]
        if len(junk):
            raise TimeParseError(
                f"time column {column!r}: {len(junk)} value(s) are not dates or periods: "
                f"{_rows_of(values, junk.tolist())}. The other values look like "
                f"{FREQ_NAMES[kinds[kinds != 'date'].iloc[0]]} periods such as {text[kinds != 'date'].iloc[0]!r}; "
                "fix or drop those rows."
            )
    found = sorted(set(kinds))
    if len(found) > 1:
        examples = [text[kinds == k].iloc[0] for k in found]
        raise TimeParseError(
            f"time column {column!r} mixes frequencies: values such as "
            f"{format_examples(examples)} are of different kinds ({', '.join(found)}). "
            "Use one frequency for the whole panel."
        )
    kind = found[0]
    if kind == "date":
        dayfirst = _dayfirst(text, column)
        try:
            parsed = pd.to_datetime(text, errors="coerce", format="mixed", dayfirst=bool(dayfirst))
        except ValueError:  # offsets that differ ('+00:00' in winter, '+01:00' in summer)
            parsed = _own_wall_times(text, bool(dayfirst), column)
        if getattr(parsed.dt, "tz", None) is not None:
            parsed = pd.Series(local_dates(pd.DatetimeIndex(parsed), column), index=text.index)
        bad = text[parsed.isna()]
        if len(bad):
            raise TimeParseError(
                f"time column {column!r}: {len(bad)} value(s) do not parse as dates: "
                f"{_rows_of(values, bad.tolist())}. Use ISO dates such as '2022-07-01', "
                "'2022-07' (month), '2022Q3' (quarter) or '2022' (year)."
            )
        _require_a_year(parsed, text, values, column)
        use, per_d = _date_periods(pd.DatetimeIndex(parsed), text, freq, column)
        per: Any = per_d
    else:
        use = freq or kind
        if kind == "W":
            per = pd.PeriodIndex(
                [pd.Timestamp.fromisocalendar(int(t[:4]), int(t.split("W")[-1].split("w")[-1]), 1)
                 for t in text.str.upper()], freq="W") if use == "W" else None
            if per is None:
                raise TimeParseError(f"time column {column!r}: ISO weeks need freq='W'.")
        else:
            if freq is not None:
                _require_matching_freq(kind, freq, column, text.tolist())
            clean = text.str.replace(r"\s|-(?=Q)", "", regex=True)
            try:
                per = pd.PeriodIndex(clean, freq=kind)
            except (ValueError, TypeError):
                bad = []
                for t, c in zip(text, clean):
                    try:
                        pd.Period(c, freq=kind)
                    except (ValueError, TypeError):
                        bad.append(t)
                raise TimeParseError(
                    f"time column {column!r}: {len(bad)} value(s) are not valid {FREQ_NAMES[kind]} periods: "
                    f"{_rows_of(values, bad)} (months run 1-12, quarters Q1-Q4). Fix those rows."
                ) from None
    return pd.Series(pd.PeriodIndex(per, freq=use).take(codes), index=values.index), use


def to_periods(values: pd.Series, freq: str | None = None, column: str = "time") -> tuple[pd.Series, str]:
    """Convert a time column to a Series of Periods of one frequency.

    Parameters
    ----------
    values : pandas.Series
        Periods, datetimes, date strings (``'2022-07-01'``, ``'2022-07'``, ``'2022Q3'``,
        ``'2022'``; day-first ``'01/07/2022'`` or ``'01-07-2022'``; NHS month labels
        ``'Jul-22'``, ``'July 2022'``) or integer years.
    freq : str, optional
        ``'D'``, ``'W'``, ``'M'``, ``'Q'`` or ``'Y'``; inferred when omitted.
    column : str
        Column name, for error messages.

    Returns
    -------
    (periods, freq) : (pandas.Series of Period, str)

    Raises
    ------
    TimeParseError
        Values that do not parse, or that mix frequencies.
    """
    fcode = normalise_freq(freq) if freq is not None else None
    if values.isna().any():
        rows = values.index[values.isna()].tolist()
        raise TimeParseError(
            f"time column {column!r} has {len(rows)} missing value(s) (rows {format_examples(rows)}). "
            "Every row needs a period; drop or fill these rows first."
        )
    dtype = values.dtype
    if isinstance(dtype, pd.PeriodDtype):
        have = _period_freq(values)
        _require_standard_anchor(values.array.freqstr, have, column)
        if fcode is not None and fcode != have:
            raise TimeParseError(
                f"time column {column!r} holds {FREQ_NAMES[have]} periods but freq={freq!r} was given."
            )
        return pd.Series(pd.PeriodIndex(values, freq=have), index=values.index), have
    if pd.api.types.is_datetime64_any_dtype(dtype):
        dt = pd.DatetimeIndex(values)
        # each distinct date converted once (a panel repeats every date once per unit)
        codes, uniq_dates = pd.factorize(dt)
        uniq_dates = local_dates(pd.DatetimeIndex(uniq_dates), column)
        if fcode is not None and len(uniq_dates) > 1:
            try:
                seen = _infer_from_dates(uniq_dates, column)
            except TimeParseError:
                seen = None
            if seen is not None:
                _require_matching_freq(seen, fcode, column, [str(d.date()) for d in uniq_dates.sort_values()[:3]])
        use = fcode or _infer_from_dates(uniq_dates, column)
        uniq_periods = uniq_dates.to_period(use)
        if fcode is None and uniq_periods.nunique() != len(uniq_dates):
            raise TimeParseError(
                f"time column {column!r}: distinct dates fall in the same {FREQ_NAMES[use]} period; "
                "the column mixes frequencies or needs freq=."
            )
        return pd.Series(uniq_periods.take(codes), index=values.index), use
    if pd.api.types.is_bool_dtype(dtype):
        raise TimeParseError(f"time column {column!r} is boolean; it must hold dates or periods.")
    if pd.api.types.is_timedelta64_dtype(dtype):
        raise TimeParseError(
            f"time column {column!r} holds durations "
            f"(e.g. {format_examples(values.astype(str).unique()[:3].tolist())}), "
            "not dates or periods. Add them to the start date they count from (start + df[col]) first."
        )
    if pd.api.types.is_numeric_dtype(dtype):
        arr = values.to_numpy(dtype=float)
        if not np.all(np.mod(arr, 1) == 0):
            raise TimeParseError(
                f"time column {column!r} holds non-integer numbers (e.g. "
                f"{format_examples(values[np.mod(arr, 1) != 0].unique().tolist())}); "
                "use dates, periods or integer years."
            )
        if np.all((arr >= 1000) & (arr <= 3000)):
            if fcode not in (None, "Y"):
                raise TimeParseError(
                    f"time column {column!r} holds integer years but freq={freq!r}; integers are "
                    "read as years only. Convert to dates for finer frequencies."
                )
            years, inv = np.unique(arr, return_inverse=True)   # each distinct year once
            per = pd.PeriodIndex([pd.Period(year=int(v), freq="Y") for v in years], freq="Y")
            return pd.Series(per.take(inv.ravel()), index=values.index), "Y"
        first = int(arr.min())
        raise TimeParseError(
            f"time column {column!r} holds integers that are not calendar years (e.g. "
            f"{format_examples(values.unique()[:5].tolist())}). With time_kind='calendar' integers are read "
            "as years (1000-3000, annual periods). An ordinal index (survey waves 0/1, periods 1..T) is "
            "accepted as period numbers with time_kind='ordinal' (no calendar placement); to place "
            "interventions and policy events by date, give the calendar time it stands for: "
            f"e.g. df[{column!r}] = pd.period_range('2016-04', periods=T, freq='M')[df[{column!r}] - {first}] "
            "for consecutive months, or the wave dates themselves with freq= set to the interval between "
            "them (e.g. freq='Q')."
        )
    return _string_periods(values, fcode, column)


def parse_date(value: Any, what: str = "date") -> pd.Timestamp:
    """One date given by a user (an intervention, a window end, a CLI argument) as a naive Timestamp.

    ISO dates and anything :class:`pandas.Timestamp` reads; NHS month labels (``'Jul-22'``: the
    month's first day); slashed or dashed day-month-year dates (``'01/07/2022'``) when the values
    show the order: the first part above 12 is day-first, the second above 12 month-first.

    Raises
    ------
    TimeParseError
        Not a date; a slashed date that could be 1 July or 7 January (``'01/07/2022'``: pandas
        alone reads it month first); a date without a year (``'04/22'``, read as year 1).
    """
    if isinstance(value, pd.Period):
        return value.start_time
    text = value.strip() if isinstance(value, str) else None
    slashed = _SLASHED.match(text) if text is not None else None
    if slashed is not None:
        a, b, y = int(slashed.group(1)), int(slashed.group(2)), slashed.group(3)
        if a <= 12 and b <= 12 and a != b:
            year = y if len(y) == 4 else f"20{y}"
            raise TimeParseError(
                f"{what}={value!r} could be day-first (UK: {a} {_MONTH_NAMES[b - 1]}) or month-first "
                f"(US: {b} {_MONTH_NAMES[a - 1]}). Give it as an ISO date, e.g. '{year}-{b:02d}-{a:02d}' "
                "for the UK reading.")
    ts: Any = None
    try:
        if text is not None and (iso := _month_year_iso(text)) is not None:
            ts = pd.Timestamp(iso + "-01")
        elif slashed is not None:  # the order the values show: month first only when the second part is above 12
            ts = pd.to_datetime(slashed.group(0), dayfirst=int(slashed.group(2)) <= 12)
        else:
            ts = pd.Timestamp(value)
    except (TypeError, ValueError, OverflowError):
        ts = None
    if ts is None or pd.isna(ts):
        raise TimeParseError(f"{what}={value!r} is not a date. Use e.g. '2022-07-01', '2022-07', 'Jul-22' or '2022Q3'.")
    if ts.tz is not None:
        ts = local_dates(pd.DatetimeIndex([ts]), str(value), what=what)[0]
    if ts.year < 1000:
        raise TimeParseError(
            f"{what}={value!r} holds no year evalint can read (read as a date of year {ts.year}). "
            "Use e.g. '2022-07-01', '2022-07', 'Jul-22' or '2022Q3'.")
    return cast(pd.Timestamp, ts)


_MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
                "October", "November", "December")


def to_period(value: Any, freq: str, what: str = "date") -> pd.Period:
    """Map one date-like ``value`` to the period of frequency ``freq`` containing it.

    ``'2022-07-01'`` on monthly data gives ``Period('2022-07', 'M')``; on quarterly data
    ``Period('2022Q3', 'Q')``. Integers are read as years (annual data only).
    """
    fcode = normalise_freq(freq)
    if isinstance(value, pd.Period):
        if normalise_freq(value.freqstr) == fcode:
            return value
        return value.start_time.to_period(fcode)
    if isinstance(value, (bool, np.bool_)):
        raise TimeParseError(f"{what}={value!r} is not a date. Use e.g. '2022-07-01', '2022-07' or '2022Q3'.")
    if isinstance(value, (float, np.floating)) and np.isfinite(value) and float(value).is_integer():
        value = int(value)  # 2022.0 is the year 2022 (pd.Timestamp would read it as nanoseconds)
    elif isinstance(value, (float, np.floating)):
        raise TimeParseError(
            f"{what}={value!r}: a non-integer number is not a period. Give a year as an integer "
            "(annual data) or a date such as '2022-07-01'."
        )
    if isinstance(value, (int, np.integer)):
        if fcode == "Y" and 1000 <= int(value) <= 3000:
            return pd.Period(year=int(value), freq="Y")
        if fcode == "Y":
            raise TimeParseError(
                f"{what}={value!r}: integers are read as calendar years (1000-3000); {value!r} is "
                "not one. Give the year (e.g. 2022) or a date such as '2022-07-01'."
            )
        raise TimeParseError(
            f"{what}={value!r}: integers are read as years, which needs annual data; "
            f"this panel is {FREQ_NAMES[fcode]}. Give a date such as '2022-07-01'."
        )
    if isinstance(value, str):
        s = _month_year_iso(value) or value.strip()
        for kind, pat in _PATTERNS:
            if kind in ("Y", "Q", "M") and pat.match(s):
                try:
                    return pd.Period(s.replace(" ", ""), freq=kind).start_time.to_period(fcode)
                except (ValueError, TypeError):
                    break
    return parse_date(value, what).to_period(fcode)


_PERIOD_WORDS = {"Y": "year", "Q": "quarter", "M": "month"}


def period_named(value: Any, what: str = "date") -> pd.Period | None:
    """The year, quarter or month that ``value`` names as a whole, else ``None``.

    ``'2022'``, ``2022`` (an integer year, 1000-3000), ``'2022Q3'``, ``'2022-07'``, ``'Jul-22'``
    and a :class:`pandas.Period` name a period; a day (``'2022-07-01'``, a Timestamp) does not.
    Used where a period given as an end must mean its last day (``to_period`` and
    ``parse_date`` give its first).

    Raises
    ------
    TimeParseError
        A text that names a period but not a valid one (``'2022-13'``), or an integer that is
        not a calendar year.
    """
    if isinstance(value, pd.Period):
        return value
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return to_period(int(value), "Y", what)
    if not isinstance(value, str):
        return None
    s = _month_year_iso(value) or value.strip()
    for kind, pat in _PATTERNS:
        if kind in ("Y", "Q", "M") and pat.match(s):
            try:
                return pd.Period(s.replace(" ", ""), freq=kind)
            except (ValueError, TypeError):
                raise TimeParseError(f"{what}={value!r} is not a valid {_PERIOD_WORDS[kind]}. Use e.g. "
                                     "'2022', '2022Q3', '2022-07' or 'Jul-22'.") from None
    return None

