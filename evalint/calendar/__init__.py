"""The policy calendar: dated, sourced events that can confound integration evaluations.

- :class:`PolicyEvent`, :class:`PolicyCalendar` (``PolicyCalendar.default()`` loads the
  curated calendar shipped as ``events.csv``).
- :meth:`PolicyCalendar.check` / :func:`check_confounding` list the events that threaten
  an evaluation of an intervention on an outcome (rules in ``methods/policy_churn.md``).
- :func:`resolve_preset` / :func:`list_presets`: named interventions
  (``ics_golive_2022``, ``ics_waves``, ``asc_discharge_fund_2022``, ``bcf_2015``,
  ``vanguards_2015``).
- :func:`load_icbs`: the 42 ICBs with their ICS waves.
- :class:`IntensityTable`, :func:`read_intensity_csv`: per-area intensity of an event
  (:meth:`PolicyCalendar.with_intensity`); :func:`rank_threats` / :func:`combine_threats`:
  the ranked short list (``CheckResult.ranked_threats()``).
"""

from evalint.calendar.confounding import check_confounding
from evalint.calendar.event_records import PolicyEvent
from evalint.calendar.events import PolicyCalendar
from evalint.calendar.intensity import IntensityTable, read_intensity_csv
from evalint.calendar.overlap_rules import INDIRECT_CHANNELS
from evalint.calendar.presets import Intervention, describe_presets, list_presets, resolve_preset
from evalint.calendar.ranking import combine_threats, rank_threats
from evalint.geography.icbs import load_icbs

__all__ = [
    "PolicyCalendar",
    "PolicyEvent",
    "Intervention",
    "resolve_preset",
    "list_presets",
    "describe_presets",
    "check_confounding",
    "INDIRECT_CHANNELS",
    "load_icbs",
    "IntensityTable",
    "read_intensity_csv",
    "rank_threats",
    "combine_threats",
]
