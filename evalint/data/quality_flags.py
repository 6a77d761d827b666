"""Data-quality flags that travel with a Panel from the reader to the evaluation.

The :mod:`evalint.io` readers record the checks of :mod:`evalint.io.quality` (copied months,
zero-filled days, organisations appearing or vanishing, vintages) in
``frame.attrs["evalint_io"]["checks"]``. :meth:`evalint.Panel.from_frame` keeps their flags on
the panel (``Panel.quality``) so that :func:`evalint.evaluate` lists them among its flags and the
report's Data section states them. Flags are kept as plain dicts (the fields of
:class:`evalint.diagnostics.base.Flag`), so that this bottom layer imports nothing above it.

References
----------
NHS England. Statistical notes of the A&E attendances and acute discharge sitrep collections
    (revisions policy; "unvalidated management information").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from evalint.errors import SpecificationError

__all__ = ["quality_flags"]

_FIELDS = ("kind", "severity", "message", "source", "event_id", "start", "end")


def _as_dict(flag: Any) -> dict[str, Any]:
    if hasattr(flag, "as_dict"):
        flag = flag.as_dict()
    if not isinstance(flag, Mapping) or "message" not in flag:
        raise SpecificationError(f"quality=: {flag!r} is not a flag (give CheckResult, Flag or dict with a "
                                 "'message'; e.g. the results of evalint.io.quality.quality_checks).")
    out = {k: flag.get(k) for k in _FIELDS}
    out["kind"] = out["kind"] or "data"
    out["severity"] = out["severity"] or "medium"
    out["source"] = out["source"] or ""
    return out


def _from_attrs(info: Any) -> list[dict[str, Any]]:
    """Flags of every ``checks`` list in a reader's ``attrs["evalint_io"]`` (nested for readers
    that combine files), with a note on months the reader already dropped."""
    if not isinstance(info, Mapping):
        return []
    flags: list[dict[str, Any]] = []
    dropped = {str(m) for m in info.get("dropped_months", ()) or ()}
    for check in info.get("checks", ()) or ():
        for f in check.get("flags", ()) if isinstance(check, Mapping) else ():
            d = _as_dict(f)
            if d["start"] is not None and str(d["start"]) in dropped:
                d["message"] = f"{d['message']} (The reader dropped {d['start']}: it is missing in the panel.)"
            flags.append(d)
    for v in info.values():
        if isinstance(v, Mapping):
            flags += _from_attrs(v)
    return flags


def quality_flags(df: pd.DataFrame, quality: Iterable[Any] | None = None) -> tuple[dict[str, Any], ...]:
    """The data-quality flags of a panel built from ``df``.

    Parameters
    ----------
    df : pandas.DataFrame
        The frame given to :meth:`Panel.from_frame`; its ``attrs["evalint_io"]`` is read when
        ``quality`` is None.
    quality : iterable of CheckResult, Flag or dict, optional
        Flags given explicitly (e.g. ``evalint.io.quality.quality_checks(frame)``); ``()``
        attaches none.

    Returns
    -------
    tuple of dict
        One dict per flag (kind, severity, message, source, event_id, start, end), duplicates removed.
    """
    if quality is None:
        flags = _from_attrs(df.attrs.get("evalint_io")) if isinstance(df.attrs, Mapping) else []
    else:
        flags = []
        for q in quality:
            if hasattr(q, "flags") and not isinstance(q, Mapping):
                flags += [_as_dict(f) for f in q.flags]
            else:
                flags.append(_as_dict(q))
    seen, out = set(), []
    for f in flags:
        key = (f["kind"], f["severity"], f["message"])
        if key not in seen:
            seen.add(key)
            out.append(f)
    return tuple(out)
