"""Synthetic HES-like admitted patient care episodes, written as partitioned parquet.

Patients live in one of the 42 ICBs and have a chain of hospital spells; each spell has one
or more consultant episodes. The calibration targets (read from the project's
``domain/magnitudes.md``; methods/records.md lists each with its source):

* emergency share of admissions ~40% (HES 2019-20: 574k emergency vs 813k elective FAEs at
  the October peak);
* mean length of stay 7.9 days for emergency spells and 5.2 days for elective spells (Health
  Foundation, 2019), each a mixture of a mass at zero days and a lognormal tail;
* a winter peak in emergency admissions of about +/-6% around the mean, a trend of +3.2% a
  year (Health Foundation: 4.25m -> 6.02m, 2006/07 -> 2017/18);
* delayed discharges concentrated in emergency spells of older patients, with ~18% more in
  winter (NCtR peak January vs June 2023);
* ICB populations between ~0.5m and ~3m (King's Fund).

Known injected effects: from ``effect_date`` the emergency admission rate of the treated ICBs
is multiplied by ``1 + effect`` (default -10%), and their delayed-discharge waits by
``1 + delay_effect`` before rounding to whole days.

References
----------
NHS Digital (2020). Hospital Admitted Patient Care Activity 2019-20.
The Health Foundation (2023). Longer hospital stays and fewer admissions.
DHSC (2023). Rapid evaluation of the 2022 to 2023 discharge funds.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from evalint.errors import SpecificationError
from evalint.records.lookup import icb_table
from evalint._parallel import parallel_map

__all__ = ["ELECTIVE_CODES", "EMERGENCY_CODES", "SimulatedEpisodes", "simulate_episodes"]

EMERGENCY_CODES = ("21", "22", "23", "24", "25", "2A", "2B", "2C", "2D", "28")
_EMERGENCY_P = (0.70, 0.08, 0.02, 0.04, 0.03, 0.02, 0.04, 0.01, 0.02, 0.04)
ELECTIVE_CODES = ("11", "12", "13")
_ELECTIVE_P = (0.70, 0.20, 0.10)
OTHER_CODES = ("31", "32", "81", "82")
_OTHER_P = (0.45, 0.25, 0.20, 0.10)

_CHUNK = 2_000_000  # episodes generated and written per chunk (bounds memory)


@dataclass(frozen=True)
class SimulatedEpisodes:
    """What :func:`simulate_episodes` wrote and the truth it injected."""

    path: str
    n_episodes: int
    seed: int
    start: str
    months: int
    effect: float
    delay_effect: float
    effect_date: str
    treated_icbs: tuple[str, ...]
    icbs: tuple[str, ...] = field(repr=False)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["treated_icbs"] = list(self.treated_icbs)
        d["icbs"] = list(self.icbs)
        return d


def _icb_sizes(rng: np.random.Generator, n: int) -> np.ndarray:
    """ICB populations (millions), lognormal clipped to the published 0.5m-3m range."""
    return np.clip(rng.lognormal(np.log(1.2), 0.45, n), 0.5, 3.2)


def simulate_episodes(
    n_episodes: int,
    *,
    seed: int,
    path: str | Path,
    start: str = "2019-01-01",
    months: int = 48,
    n_treated: int = 6,
    effect: float = -0.10,
    delay_effect: float = -0.20,
    effect_date: str = "2021-04-01",
    overwrite: bool = True,
    n_jobs: int = 1,
    backend: str = "loky",
) -> SimulatedEpisodes:
    """Write ``n_episodes`` synthetic HES-like episodes as hive-partitioned parquet.

    Parameters
    ----------
    n_episodes : int
        Exact number of episode rows written.
    seed : int
        The only source of randomness; the same seed writes the same rows.
    path : str or Path
        Output folder: ``year=<admission year>/chunk<k>-0.parquet`` files and ``_truth.json``.
    start, months : str, int
        First day of the admission window and its length in months.
    n_treated : int
        ICBs receiving the injected effect (chosen with ``seed``).
    effect : float
        Proportional change of the emergency admission rate in treated ICBs from
        ``effect_date`` (``-0.10`` = 10% fewer).
    delay_effect : float
        Proportional change of delayed-discharge waits in treated ICBs from ``effect_date``.
    effect_date : str
        First day of the effect.
    overwrite : bool
        Remove ``path`` first when it exists.
    n_jobs, backend : int, str
        Chunks of 2 million episodes are written in parallel through
        :func:`evalint._parallel.parallel_map`; the files are identical for any value.

    Returns
    -------
    SimulatedEpisodes
        Path, truth and treated ICBs (also written to ``path/_truth.json``).

    References
    ----------
    NHS Digital (2020). Hospital Admitted Patient Care Activity 2019-20.
    """
    if int(n_episodes) != n_episodes or n_episodes < 1:
        raise SpecificationError(f"n_episodes must be a positive integer; got {n_episodes!r}.")
    if not -1.0 < effect <= 0.0 or not -1.0 < delay_effect <= 1.0:
        raise SpecificationError(
            f"effect must lie in (-1, 0] (a reduction) and delay_effect in (-1, 1]; got "
            f"effect={effect!r}, delay_effect={delay_effect!r}.")
    _check_window(start, months, effect_date, treated=int(n_treated) > 0)
    if int(n_treated) != n_treated or not 0 <= n_treated <= len(icb_table()):
        raise SpecificationError(
            f"n_treated must be a whole number of ICBs from 0 to {len(icb_table())}; got "
            f"{n_treated!r}.")
    if int(n_jobs) != n_jobs or int(n_jobs) == 0:
        raise SpecificationError(f"n_jobs must be a non-zero whole number (1 = serial, -1 = "
                                 f"every core); got {n_jobs!r}.")
    n_episodes = int(n_episodes)
    path = Path(path)
    if path.exists() and overwrite:
        shutil.rmtree(path)
    path.mkdir(parents=True, exist_ok=True)

    icbs = icb_table()["icb"].tolist()
    root = np.random.SeedSequence(int(seed))
    setup_ss, chunks_ss = root.spawn(2)
    chunk_seed = int(chunks_ss.generate_state(1, np.uint64)[0])
    setup = np.random.default_rng(setup_ss)
    sizes = _icb_sizes(setup, len(icbs))
    treated_idx = np.sort(setup.choice(len(icbs), size=min(n_treated, len(icbs)), replace=False))
    world = _World.build(setup, icbs, sizes, treated_idx, start, months, effect_date)

    n_chunks = -(-n_episodes // _CHUNK)
    tasks = [(k, min(_CHUNK, n_episodes - k * _CHUNK)) for k in range(n_chunks)]
    parallel_map(_ChunkWriter(world, str(path), effect, delay_effect), tasks, seed=chunk_seed,
                 n_jobs=n_jobs, backend=backend)
    out = SimulatedEpisodes(
        path=str(path), n_episodes=n_episodes, seed=int(seed), start=str(start), months=int(months),
        effect=float(effect), delay_effect=float(delay_effect), effect_date=str(effect_date),
        treated_icbs=tuple(icbs[i] for i in treated_idx), icbs=tuple(icbs),
    )
    (path / "_truth.json").write_text(json.dumps(out.to_dict(), indent=1))
    return out


def _check_window(start: str, months: int, effect_date: str, *, treated: bool
                  ) -> tuple[pd.Timestamp, pd.Timestamp, pd.Timestamp]:
    """The admission window and the effect date, checked: at least one month, and with treated
    ICBs the effect date inside the window (else the truth written would claim an effect the
    files do not hold)."""
    if isinstance(months, bool) or int(months) != months or months < 1:
        raise SpecificationError(f"months must be a whole number of months >= 1; got {months!r}.")
    stamps = []
    for name, value in (("start", start), ("effect_date", effect_date)):
        try:
            stamps.append(pd.Timestamp(value).normalize())
        except (ValueError, TypeError) as exc:
            raise SpecificationError(
                f"{name}={value!r} is not a date; pass an ISO date such as '2021-04-01'.") from exc
    start_ts, effect_ts = stamps
    if pd.isna(start_ts) or pd.isna(effect_ts):
        raise SpecificationError(f"start and effect_date must be dates; got start={start!r}, "
                                 f"effect_date={effect_date!r}.")
    end_ts = start_ts + pd.DateOffset(months=int(months))
    if treated and not start_ts <= effect_ts < end_ts:
        raise SpecificationError(
            f"effect_date={effect_date!r} lies outside the admission window {start_ts.date()} to "
            f"{(end_ts - pd.Timedelta(days=1)).date()} (start={start!r}, months={months!r}); "
            f"move it inside, lengthen months, or pass n_treated=0 for no effect.")
    return start_ts, effect_ts, end_ts


@dataclass(frozen=True)
class _ChunkWriter:
    """Writes chunk ``k`` of the extract (picklable for process backends)."""

    world: _World
    path: str
    effect: float
    delay_effect: float

    def __call__(self, task: tuple[int, int], rng: np.random.Generator) -> int:
        import pyarrow as pa
        import pyarrow.dataset as ds

        k, target = task
        table = _chunk_table(self.world, rng.bit_generator.seed_seq, k, target, self.effect,
                             self.delay_effect)
        ds.write_dataset(
            table, self.path, format="parquet",
            partitioning=ds.partitioning(pa.schema([("year", pa.int16())]), flavor="hive"),
            basename_template=f"chunk{k:04d}-{{i}}.parquet",
            existing_data_behavior="overwrite_or_ignore",
        )
        return table.num_rows


@dataclass
class _World:
    icbs: list[str]
    weights: np.ndarray
    treated: np.ndarray  # bool per ICB
    day0: np.datetime64
    n_days: int
    effect_day: int
    providers: list[np.ndarray]  # provider indices per ICB
    provider_codes: list[str]
    practice_offset: np.ndarray
    practice_count: np.ndarray
    practice_codes: list[str]
    cell_noise: np.ndarray  # ICB x month multiplicative noise (<= 1)

    @classmethod
    def build(cls, rng, icbs, sizes, treated_idx, start, months, effect_date) -> _World:
        day0 = np.datetime64(pd.Timestamp(start).date(), "D")
        end = np.datetime64((pd.Timestamp(start) + pd.DateOffset(months=int(months))).date(), "D")
        n_days = int((end - day0).astype(int))
        effect_day = int((np.datetime64(pd.Timestamp(effect_date).date(), "D") - day0).astype(int))
        treated = np.zeros(len(icbs), bool)
        treated[treated_idx] = True
        providers, codes = [], []
        for i, _ in enumerate(icbs):
            n_p = 1 + int(np.ceil(sizes[i] / 0.8))
            providers.append(np.arange(len(codes), len(codes) + n_p))
            codes += [f"R{i:02d}{j}" for j in range(n_p)]
        n_prac = np.maximum(5, np.round(sizes * 1e6 / 8500).astype(int))
        offset = np.concatenate([[0], np.cumsum(n_prac)[:-1]])
        prac_codes = [f"P{i:02d}{j:03d}" for i in range(len(icbs)) for j in range(n_prac[i])]
        # 3% overdispersion per ICB-month, scaled so the keep probability stays <= 1
        noise = np.exp(rng.normal(0.0, 0.03, (len(icbs), int(months) + 1)))
        noise = noise / noise.max()
        return cls(icbs, sizes / sizes.sum(), treated, day0, n_days, effect_day, providers, codes,
                   offset, n_prac, prac_codes, noise)


def _spells(world: _World, rng: np.random.Generator, n_pat: int) -> pd.DataFrame:
    """Chains of spells for ``n_pat`` patients, thinned for season, trend and effect."""
    icb = rng.choice(len(world.icbs), size=n_pat, p=world.weights)
    age = np.clip(rng.gamma(2.2, 22.0, n_pat), 0, 104).astype(np.int16)
    frail = rng.gamma(2.0, 0.5, n_pat) * (1 + (age >= 75))
    k = 1 + rng.poisson(0.8 * frail)
    pat = np.repeat(np.arange(n_pat), k)
    n = pat.size
    seq = np.arange(n) - np.repeat(np.cumsum(k) - k, k)
    a = age[pat]
    # spell type: 0 emergency, 1 elective, 2 maternity/other
    p_em = np.clip(0.33 + 0.25 * (a >= 65), 0, 1)
    u = rng.random(n)
    kind = np.where(u < p_em, 0, np.where(u < p_em + (1 - p_em) * 0.92, 1, 2))
    readmit = np.zeros(n, bool)
    readmit[1:] = (seq[1:] > 0) & (rng.random(n - 1) < 0.10 + 0.10 * (kind[:-1] == 0))
    kind[readmit] = 0
    zero = np.where(kind == 0, rng.random(n) < 0.30, rng.random(n) < 0.60)
    zero |= (kind == 2) & (rng.random(n) < 0.2)
    tail_mean = np.where(kind == 0, 10.4 * (1 + 0.35 * (a >= 85)), 13.0)
    los = np.where(zero, 0, np.maximum(1, np.round(rng.lognormal(np.log(tail_mean) - 0.405, 0.9)))
                   ).astype(np.int32)
    gap = np.where(readmit, rng.integers(1, 31, n), 31 + rng.exponential(420, n).astype(np.int32))
    step = los + gap  # days from this admission to the next one of the same patient
    first = rng.integers(-400, world.n_days, n_pat)
    csum = np.cumsum(step) - step
    admit = first[pat] + csum - np.repeat(csum[np.cumsum(k) - k], k)
    keep = (admit >= 0) & (admit < world.n_days)
    # thinning: season (winter peak, +/-6%), trend (+3.2%/yr), ICB-month noise, the effect
    month = _month_index(world, admit.clip(0, world.n_days - 1))
    doy = admit % 365.25
    season = np.where(kind == 0, (1 + 0.06 * np.cos(2 * np.pi * (doy - 10) / 365.25)) / 1.06, 1.0)
    trend = np.where(kind == 0, np.exp(np.log(1.032) * (admit - world.n_days) / 365.25), 1.0)
    cell = world.cell_noise[icb[pat], month]
    treated_now = world.treated[icb[pat]] & (admit >= world.effect_day)
    prob = season * trend * cell
    keep &= rng.random(n) < prob
    return pd.DataFrame({"pat": pat, "icb": icb[pat], "age": a, "kind": kind, "los": los,
                         "admit": admit, "treated_now": treated_now})[keep]


def _month_index(world: _World, day: np.ndarray) -> np.ndarray:
    dates = world.day0 + day.astype("timedelta64[D]")
    m = dates.astype("datetime64[M]") - world.day0.astype("datetime64[M]")
    return m.astype(int)


def _chunk_table(world: _World, ss: np.random.SeedSequence, k: int, target: int,
                 effect: float, delay_effect: float):
    import pyarrow as pa

    draw_ss, detail_ss = ss.spawn(2)
    rng = np.random.default_rng(draw_ss)
    n_pat = int(target / 1.7) + 100
    while True:
        sp = _spells(world, rng, n_pat)
        # the effect: emergency spells of treated ICBs kept with probability 1 + effect
        if effect < 0:
            drop = (sp["kind"].to_numpy() == 0) & sp["treated_now"].to_numpy()
            drop &= rng.random(len(sp)) >= 1 + effect
            sp = sp[~drop]
        if len(sp) * 1.12 >= target * 1.02:
            break
        n_pat = int(n_pat * 1.3)
    rng = np.random.default_rng(detail_ss)
    n = len(sp)
    kind = sp["kind"].to_numpy()
    los = sp["los"].to_numpy()
    age = sp["age"].to_numpy()
    admit = sp["admit"].to_numpy()
    icb = sp["icb"].to_numpy()
    pat = sp["pat"].to_numpy()
    # episodes per spell: more for long stays
    extra = rng.random(n)
    n_ep = 1 + (extra < 0.10 + 0.15 * (los >= 7)) + (extra < 0.03 + 0.05 * (los >= 14))
    n_ep = np.minimum(n_ep, np.maximum(1, los))
    cum = np.cumsum(n_ep)
    n_spells = int(np.searchsorted(cum, target, side="left")) + 1
    n_spells = min(n_spells, n)
    if cum[n_spells - 1] < target:
        raise RuntimeError("generator under-produced episodes")  # pragma: no cover
    sl = slice(0, n_spells)
    kind, los, age, admit, icb, pat, n_ep = (x[sl] for x in (kind, los, age, admit, icb, pat, n_ep))
    n_ep = n_ep.copy()
    n_ep[-1] -= int(cum[n_spells - 1] - target)  # the last spell loses trailing episodes
    n = n_spells
    # admission method codes
    code = np.empty(n, dtype=object)
    for kk, (codes, p) in enumerate(((EMERGENCY_CODES, _EMERGENCY_P), (ELECTIVE_CODES, _ELECTIVE_P),
                                     (OTHER_CODES, _OTHER_P))):
        m = kind == kk
        code[m] = rng.choice(np.array(codes, dtype=object), size=int(m.sum()), p=p)
    # delayed discharge: ready date before discharge for some spells with los >= 2
    winter = np.isin(((world.day0 + admit.astype("timedelta64[D]")).astype("datetime64[M]")
                      .astype(int) % 12), [10, 11, 0, 1])
    p_delay = np.where(kind == 0, 0.12 + 0.30 * (age >= 75), 0.03) * (1 + 0.18 * winter)
    delayed = (los >= 2) & (rng.random(n) < p_delay)
    wait = rng.exponential(6.0, n)
    treated_now = world.treated[icb] & (admit >= world.effect_day)
    wait = np.where(treated_now, wait * (1 + delay_effect), wait)
    wait = np.minimum(np.maximum(1, np.round(wait)), np.maximum(los - 1, 1)).astype(np.int32)
    # provider: home ICB 90%, elsewhere 10%; GP practice: fixed per patient within its ICB
    home = rng.random(n) < 0.90
    prov = np.empty(n, np.int32)
    for i, plist in enumerate(world.providers):
        m = icb == i
        prov[m] = rng.choice(plist, int(m.sum()))
    away = ~home
    prov[away] = rng.integers(0, len(world.provider_codes), int(away.sum()))
    pat_u, pat_inv = np.unique(pat, return_inverse=True)
    prac_rank = np.random.default_rng(detail_ss.spawn(1)[0]).random(pat_u.size)
    prac = world.practice_offset[icb] + np.floor(prac_rank[pat_inv] * world.practice_count[icb]
                                                 ).astype(int)
    sex = np.random.default_rng(detail_ss.spawn(2)[1]).integers(1, 3, pat_u.size)[pat_inv]
    disdest = np.where(rng.random(n) < 0.03, "79", np.where(rng.random(n) < 0.05, "54", "19"))
    # expand to episodes
    sp_idx = np.repeat(np.arange(n), n_ep)
    epiorder = (np.arange(sp_idx.size) - np.repeat(np.cumsum(n_ep) - n_ep, n_ep) + 1).astype(np.int16)
    # episode boundaries split the stay evenly
    ep_start = admit[sp_idx] + (los[sp_idx] * (epiorder - 1)) // n_ep[sp_idx]
    ep_end = admit[sp_idx] + (los[sp_idx] * epiorder) // n_ep[sp_idx]
    disch = admit + los
    ready = np.where(delayed, disch - wait, -10**6)

    def date_arr(days):
        return pa.array((world.day0 + days.astype("timedelta64[D]")).astype("datetime64[D]"))

    def dict_arr(idx, values):
        return pa.DictionaryArray.from_arrays(pa.array(idx, pa.int32()), pa.array(values))

    base_pat = np.int64(k) * 10**9
    ready_ep = ready[sp_idx]
    ready_mask = ready_ep < -10**5
    ready_dates = pa.array((world.day0 + np.where(ready_mask, 0, ready_ep).astype("timedelta64[D]"))
                           .astype("datetime64[D]"), mask=ready_mask)
    code_values = np.array(EMERGENCY_CODES + ELECTIVE_CODES + OTHER_CODES, dtype=object)
    code_idx = pd.Index(code_values).get_indexer(code[sp_idx])
    dest_values = np.array(["19", "54", "79"], dtype=object)
    adm_dates = world.day0 + admit[sp_idx].astype("timedelta64[D]")
    year = adm_dates.astype("datetime64[Y]").astype(int) + 1970
    return pa.table({
        "hesid": pa.array(base_pat + pat[sp_idx].astype(np.int64)),
        "provspno": pa.array(np.int64(k) * 10**10 + sp_idx.astype(np.int64)),
        "epiorder": pa.array(epiorder),
        "epistart": date_arr(ep_start),
        "epiend": date_arr(ep_end),
        "admidate": date_arr(admit[sp_idx]),
        "disdate": date_arr(disch[sp_idx]),
        "disreadydate": ready_dates,
        "admimeth": dict_arr(code_idx, code_values.tolist()),
        "disdest": dict_arr(pd.Index(dest_values).get_indexer(disdest[sp_idx]), dest_values.tolist()),
        "procode3": dict_arr(prov[sp_idx], world.provider_codes),
        "resicb": dict_arr(icb[sp_idx], world.icbs),
        "gpprac": dict_arr(prac[sp_idx], world.practice_codes),
        "startage": pa.array(age[sp_idx].astype(np.int16)),
        "sex": pa.array(sex[sp_idx].astype(str)),
        "year": pa.array(year.astype(np.int16)),
    })
