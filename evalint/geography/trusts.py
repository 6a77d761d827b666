"""NHS trusts on the 2022 ICB geography: attribution weights (trust -> ICB) and successions.

Four attributions, each a table ``trust, icb22_code, weight`` with weights summing to 1 per trust:

``"activity"``
    Share of the trust's type 1 A&E attendances (ECDS, 2022) by the patient's ICB of residence,
    from the Nuffield Trust QualityWatch trust-to-ICS file (124 acute trusts with a type 1 ED;
    counts suppressed and rounded to 10 at source).
``"catchment"``
    Share of the trust's admissions coming from each ICB (OHID "NHS Acute (Hospital) Trust
    Catchment Populations", published 18 October 2022; 138 trusts).
``"main"``
    Weight 1 on the trust's largest ICB of residence: the ECDS main ICB where the trust has
    activity weights, else the largest catchment share.
``"host"``
    Weight 1 on the ICB the trust itself belongs to (the trust's STP 2021 carried to the ICB 2022
    holding most of the STP's LSOAs; 209 trusts). This is the provider-based grouping NHS England
    uses for its ICB ("system level") rows, so it reproduces them (three trusts corrected to
    NHS England's grouping: :data:`HOST_OVERRIDES`).

Residence-based attributions (``activity``, ``catchment``, ``main``) fall back, trust by trust,
to the next basis (activity -> catchment -> host; catchment -> host) for trusts the first
source does not cover; the ``basis`` column says which was used.

References
----------
Nuffield Trust (2023). *Chain reaction? Winter 2022/23* (QualityWatch), trust-to-ICS weights.
Office for Health Improvement and Disparities (2022). NHS Acute (Hospital) Trust Catchment
Populations. NHS Digital, Organisation Data Service successor records.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

import pandas as pd

from evalint._typing import check_option
from evalint.data.timeparse import parse_date
from evalint.errors import ColumnNotFoundError, format_examples
from evalint.geography._source import LOOKUPS, check_vintage, read_lookup
from evalint.geography.errors import AmbiguousSuccessionError, UnknownCodeError

__all__ = [
    "WEIGHT_BASES",
    "HOST_OVERRIDES",
    "LATER_MERGERS",
    "trust_icb_weights",
    "trust_main_icb",
    "trust_successors",
    "harmonise_trust_codes",
]

WEIGHT_BASES = ("activity", "catchment", "main", "host")


def _activity(source_dir: str | Path | None) -> pd.DataFrame:
    df = read_lookup(LOOKUPS, "nuffield_trust_to_icb_type1_weights.csv", source_dir=source_dir)
    out = pd.DataFrame({
        "trust": df["Trust_code"].astype(str).str.strip().str.upper(),
        "icb22_code": df["ICS_code1"].astype(str).str.strip(),
        "weight": df["Weighting"].astype(float),
        "rank": df["Trust_ICS_N"].astype(int),
    })
    return out


def _catchment(source_dir: str | Path | None) -> pd.DataFrame:
    df = read_lookup(LOOKUPS, "lookup_nhs_trusts22_icb22.csv", source_dir=source_dir)
    out = pd.DataFrame({
        "trust": df["nhs_trust22_code"].astype(str).str.strip().str.upper(),
        "icb22_code": df["icb22_code"].astype(str).str.strip(),
        "weight": df["proportion_trust_came_from_icb"].astype(float),
    })
    out = out[out["weight"] > 0]
    # renormalise away floating-point drift (sums are 1 to 1e-15 at source)
    out["weight"] = out["weight"] / out.groupby("trust")["weight"].transform("sum")
    return out


def _stp_to_icb(source_dir: str | Path | None) -> pd.Series:
    """STP 2021 code -> the ICB 2022 holding most of its LSOAs (via the CCG 2021 lookups)."""
    c2s = read_lookup(LOOKUPS, "ccg21_to_stp21.csv", source_dir=source_dir)
    c2i = read_lookup(LOOKUPS, "ccg21_to_icb22.csv", source_dir=source_dir)
    both = c2s[["ccg21_code", "stp21_code"]].merge(
        c2i[["ccg21_code", "icb22_code", "n_lsoa11"]], on="ccg21_code"
    )
    sizes = both.groupby(["stp21_code", "icb22_code"], as_index=False)["n_lsoa11"].sum()
    sizes = sizes.sort_values(["stp21_code", "n_lsoa11"], ascending=[True, False])
    return sizes.drop_duplicates("stp21_code").set_index("stp21_code")["icb22_code"]


#: Host-ICB corrections: trusts whose STP 2021 in the lookup differs from the ICB NHS England
#: groups them under in its ICB ("system level") A&E rows, 2022-2025. Found by matching the
#: published ICB rows; each reproduces them exactly once applied (methods/geography.md).
HOST_OVERRIDES = {
    "RP6": "E54000028",  # Moorfields Eye Hospital: lookup North East London; NHSE North Central London
    "RAN": "E54000028",  # Royal National Orthopaedic: lookup North West London; NHSE North Central London
    "RWX": "E54000044",  # Berkshire Healthcare: lookup Frimley; NHSE Buckinghamshire, Oxfordshire and Berkshire West
}


def _host(source_dir: str | Path | None) -> pd.DataFrame:
    df = read_lookup(LOOKUPS, "lookup_nhs_trusts22_stp21.csv", source_dir=source_dir)
    stp = _stp_to_icb(source_dir)
    out = pd.DataFrame({
        "trust": df["nhs_trust22_code"].astype(str).str.strip().str.upper(),
        "icb22_code": df["stp21_code"].map(stp),
        "weight": 1.0,
    })
    fix = out["trust"].map(HOST_OVERRIDES)
    out["icb22_code"] = fix.fillna(out["icb22_code"])
    return out.dropna(subset=["icb22_code"]).drop_duplicates("trust")


def _with_fallback(frames: list[tuple[str, pd.DataFrame]]) -> pd.DataFrame:
    parts, seen = [], set()
    for basis, frame in frames:
        take = frame[~frame["trust"].isin(seen)].assign(basis=basis)
        seen |= set(take["trust"])
        parts.append(take[["trust", "icb22_code", "weight", "basis"]])
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["trust", "weight"], ascending=[True, False]).reset_index(drop=True)


@lru_cache(maxsize=16)
def _weights_cached(weights: str, source_key: str | None) -> pd.DataFrame:
    src = source_key
    if weights == "host":
        return _with_fallback([("host", _host(src))])
    if weights == "catchment":
        return _with_fallback([("catchment", _catchment(src)), ("host", _host(src))])
    if weights == "activity":
        act = _activity(src).drop(columns="rank")
        return _with_fallback([("activity", act), ("catchment", _catchment(src)), ("host", _host(src))])
    # main: the largest residence share, activity first
    act = _activity(src)
    act_main = act[act["rank"] == 1].drop(columns="rank")
    cat = _catchment(src).sort_values(["trust", "weight"], ascending=[True, False])
    cat_main = cat.drop_duplicates("trust")
    frames = [("activity", act_main), ("catchment", cat_main), ("host", _host(src))]
    out = _with_fallback(frames)
    out["weight"] = 1.0
    return out


def trust_icb_weights(
    weights: str = "activity", *, vintage: str = "2022", source_dir: str | Path | None = None
) -> pd.DataFrame:
    """Trust -> ICB attribution weights on the 2022 ICB geography.

    Parameters
    ----------
    weights : {"activity", "catchment", "main", "host"}
        The attribution (see the module docstring).
    vintage : str
        Geography vintage; only ``"2022"``.
    source_dir : path, optional
        Real-data folder holding ``lookups_trust_icb_la/`` (default: :func:`realdata_dir`).

    Returns
    -------
    pandas.DataFrame
        ``trust`` (ODS code, 2022), ``icb22_code`` (ONS), ``weight`` (sums to 1 per trust),
        ``basis`` (the source used for that trust). A fresh copy.

    References
    ----------
    Nuffield Trust (2023) trust-to-ICS weights; OHID (2022) trust catchment populations.
    """
    check_option("weights", weights, WEIGHT_BASES)
    check_vintage(vintage)
    key = None if source_dir is None else str(Path(source_dir).expanduser().resolve())
    return _weights_cached(weights, key).copy()


def trust_main_icb(
    trusts: str | list[str] | None = None,
    *,
    basis: str = "main",
    vintage: str = "2022",
    source_dir: str | Path | None = None,
) -> pd.Series:
    """The one ICB of each trust: ``basis="main"`` (largest ICB of residence) or ``"host"``
    (the ICB the trust belongs to). Returns a Series trust -> icb22_code.

    Raises
    ------
    UnknownCodeError
        Naming trust codes absent from the lookup (map predecessor codes first with
        :func:`harmonise_trust_codes`).
    """
    check_option("basis", basis, ("main", "host"))
    table = trust_icb_weights(basis, vintage=vintage, source_dir=source_dir)
    mapping = table.set_index("trust")["icb22_code"]
    if trusts is None:
        return mapping.copy()
    items = [trusts] if isinstance(trusts, str) else list(trusts)
    codes = [str(t).strip().upper() for t in items]
    unknown = sorted({c for c in codes if c not in mapping.index})
    if unknown:
        raise UnknownCodeError(
            f"{len(unknown)} trust code(s) have no ICB in the {vintage} trust lookup: "
            f"{format_examples(unknown)}. Predecessor codes: map them with "
            "harmonise_trust_codes(); other organisations (independent sector, non-acute) are "
            "not in lookups_trust_icb_la/lookup_nhs_trusts22_stp21.csv."
        )
    return mapping.loc[codes]


# ---------------------------------------------------------------- successions
#: Acute-trust mergers after the ODS successor records in the lookup end (April 2022), each
#: seen in NHS England's provider A&E rows as one code stopping and its successor's admissions
#: rising by the same amount the next month (methods/geography.md): old -> (new, date).
LATER_MERGERS = {
    "RA4": ("RH5", "2023-04-01"),  # Yeovil District Hospital -> Somerset NHS FT
    "RVY": ("RBN", "2023-07-01"),  # Southport and Ormskirk -> Mersey and West Lancashire (St Helens and Knowsley)
    "RAP": ("RAL", "2025-01-01"),  # North Middlesex University Hospital -> Royal Free London
}


@lru_cache(maxsize=4)
def _successions(source_key: str | None) -> dict[str, list[tuple[str, str]]]:
    df = read_lookup(LOOKUPS, "lookup_trust_trust.csv", str_columns=("old_code", "new_code", "date"),
                     source_dir=source_key)
    table: dict[str, list[tuple[str, str]]] = {}
    for old, new, date in zip(df["old_code"].str.upper(), df["new_code"].str.upper(), df["date"]):
        if old != new:
            table.setdefault(old, []).append((new, date))
    for old, (new, date) in LATER_MERGERS.items():
        table.setdefault(old, []).append((new, date))
    return table


def trust_successors(
    code: str, *, as_of: str | None = None, source_dir: str | Path | None = None
) -> list[str]:
    """The organisation code(s) that ``code`` became by ``as_of``, following ODS successor
    records transitively (A -> B -> C gives C). A code with no succession returns itself;
    a split returns several codes.

    Parameters
    ----------
    code : str
        ODS organisation code (e.g. ``"RDZ"``, Royal Bournemouth and Christchurch, which became
        ``"R0D"`` University Hospitals Dorset on 2020-10-01).
    as_of : date-like, optional
        Read as intervention dates are (:func:`evalint.data.timeparse.parse_date`): ISO dates,
        NHS month labels (``"Oct-20"``: 1 October 2020), unambiguous day-first dates; an
        ambiguous ``"01/10/2020"`` or a date without a year raises ``TimeParseError``.
        Successions dated after this are ignored (default: none ignored, so a 2021-2025 series
        ends on the codes its organisations carry at the end). The ODS records run to April
        2022; :data:`LATER_MERGERS` adds three acute-trust mergers of 2023-2025.
    """
    key = None if source_dir is None else str(Path(source_dir).expanduser().resolve())
    table = _successions(key)
    cutoff = "9999-12-31" if as_of is None else parse_date(as_of, "as_of").strftime("%Y-%m-%d")
    finals: list[str] = []
    stack, visited = [str(code).strip().upper()], set()
    while stack:
        current = stack.pop()
        if current in visited:
            continue
        visited.add(current)
        nexts = [new for new, date in table.get(current, []) if date <= cutoff]
        if not nexts:
            if current not in finals:
                finals.append(current)
        else:
            stack.extend(reversed(nexts))
    return finals


def harmonise_trust_codes(
    frame: pd.DataFrame,
    trust: str = "trust",
    *,
    time: str | None = None,
    as_of: str | None = None,
    splits: Mapping[str, str] | None = None,
    source_dir: str | Path | None = None,
) -> pd.DataFrame:
    """A copy of ``frame`` with predecessor trust codes in column ``trust`` replaced by their
    successors as of ``as_of`` (the input is not modified). Rows of merged predecessors then
    share the successor's code; with ``time`` given they are combined.

    Parameters
    ----------
    time : str, optional
        Period column. When given, rows that share a (successor) trust and period are combined
        into one: numeric columns summed (all-missing stays missing), other columns dropped.
    splits : mapping, optional
        Successor to use for a predecessor that split (e.g. ``{"RW6": "R0A"}``: Pennine Acute
        split into Northern Care Alliance and Manchester University in October 2021).

    Raises
    ------
    ColumnNotFoundError
        When ``trust`` is not a column.
    AmbiguousSuccessionError
        Naming each split predecessor and its successors when ``splits`` does not settle it.
    """
    if trust not in frame.columns:
        raise ColumnNotFoundError(f"trust column {trust!r} not in the frame; columns: "
                                  f"{format_examples(frame.columns)}")
    splits = {str(k).strip().upper(): str(v).strip().upper() for k, v in (splits or {}).items()}
    # a missing code stays missing (not the text "NAN"), for trust_to_icb's unknown= to handle
    codes = frame[trust].astype("string").str.strip().str.upper().astype(object)
    codes = codes.where(codes.notna(), None)
    mapping, ambiguous = {}, {}
    for code in codes.dropna().unique():
        if code in splits:
            mapping[code] = splits[code]
            continue
        succ = trust_successors(code, as_of=as_of, source_dir=source_dir)
        if len(succ) == 1:
            mapping[code] = succ[0]
        else:
            ambiguous[code] = succ
    if ambiguous:
        shown = "; ".join(f"{k} -> {', '.join(v)}" for k, v in list(ambiguous.items())[:5])
        raise AmbiguousSuccessionError(
            f"{len(ambiguous)} trust code(s) split into several successors: {shown}. "
            "Say which successor takes each one's rows with splits={'OLD': 'NEW'}."
        )
    out = frame.copy()
    out[trust] = codes.map(mapping)
    if time is not None:
        if time not in frame.columns:
            raise ColumnNotFoundError(f"time column {time!r} not in the frame; columns: "
                                      f"{format_examples(frame.columns)}")
        numeric = [c for c in out.columns
                   if c not in (trust, time) and pd.api.types.is_numeric_dtype(out[c])]
        out = (out.groupby([trust, time], sort=True, dropna=False)[numeric].sum(min_count=1)
               .reset_index())
    return out
