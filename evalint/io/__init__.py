"""Readers for published NHS England statistics, returning tidy frames for ``Panel.from_frame``.

- :func:`read_ae_monthly`: monthly "A&E Attendances and Emergency Admissions" provider CSVs
  (sitrep MSitAE), provider x month or England x month.
- :func:`read_discharge_sitrep` and :func:`aggregate_to_month`: the acute discharge situation
  report (patients no longer meeting the criteria to reside, discharges), organisation x day,
  then x month (stocks averaged per day, flows summed).
- :func:`ae_attendances_panel`, :func:`panel_coverage`, :func:`build_ae_panel`: the
  NHSRdatasets ``ae_attendances`` frame (``evalint.datasets.load("nhs_ae_attendances")``)
  as an org x month panel, with orgs that have gaps reported and handled explicitly;
  :func:`combine_org_codes` sums merged trusts' predecessor codes into the successor.

- Published layouts read as downloaded: :func:`read_ae_workbook` (the monthly A&E workbook's
  provider and ICB sheets, .xls/.xlsx), :func:`read_ae_england_timeseries` (Monthly A&E Time
  Series workbook), :func:`read_discharge_sitrep` on the monthly ``.xlsx`` webfiles (trust, ICB,
  region, England rows), :func:`read_discharge_timeseries` (England daily from Apr 2021),
  :func:`read_dtoc_england` (DTOC national), :func:`read_kh03_beds` (KH03 trust x quarter),
  :func:`read_ons_mye` (ONS mid-year estimates by ICB / LTLA), :func:`read_uec_beds_sitrep` (UEC bed
  sitrep monthly CSV: G&A and critical-care beds by trust, ICB, region, England).
- :func:`read_healthyr` / :func:`read_healthyr_discharge`: the healthyr tidy copies (A&E trust
  and ICB, criteria to reside, discharges, beds) with their copied months dropped and zero-filled
  days set missing.
- :mod:`evalint.io.quality`: copied months, zero-filled days, organisations that appear or
  vanish, disagreeing vintages, as flags. :mod:`evalint.io.sources`: the catalogue of known file
  versions (sha256, licence, citation) and ``read_source(name)``.

Headers are matched case-insensitively and tolerate known variants; "-" and blanks become NaN
and are counted (:class:`MissingValuesWarning`), never filled with 0. See
``methods/data_sources.md``.
"""

from evalint.io._headers import InconsistentTotalsWarning, MissingValuesWarning, normalise_header
from evalint.io.ae_monthly import AE_MEASURES, parse_msitae_period, read_ae_monthly
from evalint.io.ae_panel import (
    CombinedCodesWarning,
    ae_attendances_panel,
    build_ae_panel,
    combine_org_codes,
    panel_coverage,
)
from evalint.io.ae_workbook import AE_WORKBOOK_SHEETS, read_ae_workbook
from evalint.io.ae_timeseries import AE_TIMESERIES_MEASURES, read_ae_england_timeseries
from evalint.io.discharge_timeseries import read_discharge_timeseries
from evalint.io.dtoc import read_dtoc_england
from evalint.io.healthyr import HEALTHYR_TABLES, read_healthyr, read_healthyr_discharge
from evalint.io.bcf import read_bcf_intermediate_care
from evalint.io.kh03 import read_kh03_beds
from evalint.io._layout import LayoutNotRecognisedError, UnreadableFileError
from evalint.io.uec_beds import BED_METRICS, read_uec_beds_sitrep
from evalint.io.ons_population import read_ons_mye
from evalint.io.quality import (
    check_copied_months,
    check_org_changes,
    check_vintages,
    check_zero_filled,
    quality_checks,
)
from evalint.io.sources import SourceInfo, list_sources, read_source, source_info, source_paths
from evalint.io.tidy import to_monthly, to_panel
from evalint.io.discharge_sitrep import (
    FLOWS,
    SITREP_MEASURES,
    STOCKS,
    aggregate_to_month,
    read_discharge_sitrep,
)

__all__ = [
    "AE_MEASURES",
    "AE_TIMESERIES_MEASURES",
    "HEALTHYR_TABLES",
    "check_copied_months",
    "check_org_changes",
    "check_vintages",
    "check_zero_filled",
    "quality_checks",
    "SourceInfo",
    "list_sources",
    "read_bcf_intermediate_care",
    "read_source",
    "source_info",
    "source_paths",
    "to_monthly",
    "to_panel",
    "read_ae_england_timeseries",
    "read_discharge_timeseries",
    "read_dtoc_england",
    "read_healthyr",
    "read_healthyr_discharge",
    "read_kh03_beds",
    "BED_METRICS",
    "LayoutNotRecognisedError",
    "UnreadableFileError",
    "read_uec_beds_sitrep",
    "read_ons_mye",
    "FLOWS",
    "SITREP_MEASURES",
    "STOCKS",
    "CombinedCodesWarning",
    "InconsistentTotalsWarning",
    "MissingValuesWarning",
    "ae_attendances_panel",
    "aggregate_to_month",
    "build_ae_panel",
    "combine_org_codes",
    "normalise_header",
    "panel_coverage",
    "parse_msitae_period",
    "read_ae_monthly",
    "AE_WORKBOOK_SHEETS",
    "read_ae_workbook",
    "read_discharge_sitrep",
]
