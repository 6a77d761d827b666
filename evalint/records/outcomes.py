"""One definition of each derived outcome and data-quality rule, over the spell table.

Every engine first reduces episodes to one row per spell with the columns

``spell``, ``patient`` (the lowest of its episodes' ids; ``patient_last`` the highest),
``admit``, ``disch``, ``ready``, ``method``, ``area``, ``unit``, ``age``, ``prev_disch`` (the
discharge date of the same patient's previous spell in admission order), ``period``

and then evaluates the expressions below (rendered to SQL for DuckDB and Spark, evaluated
directly for pandas) and sums them by unit and period. methods/records.md states the
definitions in words.

References
----------
NHS Digital. HES Data Dictionary - Admitted Patient Care (ADMIMETH, spell definitions).
NHS Digital. Emergency readmissions to hospital within 30 days of discharge (indicator
specification).
"""

from __future__ import annotations

from evalint.records.expr import (
           And,
           Cmp,
           Col,
           Days,
           Expr,
           Flag,
           IfElse,
           In,
           IsNull,
           Lit,
           NotNull,
           Or,
)

__all__ = [
           "EMERGENCY_METHODS",
           "KNOWN_METHODS",
           "OUTCOMES",
           "QUALITY_TERMS",
           "RATIO_OUTCOMES",
           "SPELL_TERMS",
           "included",
]

#: HES ADMIMETH codes of an emergency admission
EMERGENCY_METHODS = ("21", "22", "23", "24", "25", "2A", "2B", "2C", "2D", "28")
#: every valid ADMIMETH code (elective 11-13, emergency, maternity 31-32, other 81-83)
KNOWN_METHODS = ("11", "12", "13") + EMERGENCY_METHODS + ("31", "32", "81", "82", "83", "99")

admit, disch, ready, method = Col("admit"), Col("disch"), Col("ready"), Col("method")
prev_disch, unit, patient = Col("prev_disch"), Col("unit"), Col("patient")

#: a spell enters the panel when its dates are present and in order and its unit is known
dates_ok = Cmp(disch, ">=", admit)  # false when either date is null
unit_ok = NotNull(unit)
is_emergency = In(method, EMERGENCY_METHODS)
los: Expr = Days(admit, disch)
ready_in_spell = Cmp(ready, "<=", disch)
delay = IfElse(ready_in_spell, IfElse(Cmp(ready, ">=", admit), Days(ready, disch), los), Lit(0))
gap = Days(prev_disch, admit)

# 30-day emergency readmission: an emergency spell starting 0-30 days after the discharge of
# the same patient's previous spell (any method); counted in the readmission's period
is_readmission = And((is_emergency, Cmp(gap, ">=", Lit(0)), Cmp(gap, "<=", Lit(30))))

#: per-spell terms summed into the panel (name -> integer expression)
SPELL_TERMS: dict[str, Expr] = {
    "spells": Lit(1),
    "emergency_admissions": Flag(is_emergency),
    "bed_days": IfElse(is_emergency, los, Lit(0)),
    "delayed_discharge_days": delay,
    "emergency_readmissions_30d": Flag(is_readmission),
}

#: outcomes that are ratios of two summed terms: name -> (numerator, denominator)
RATIO_OUTCOMES: dict[str, tuple[str, str]] = {
    "length_of_stay": ("bed_days", "emergency_admissions"),
}

#: the panel's outcome columns, in order
OUTCOMES = ("emergency_admissions", "length_of_stay", "bed_days", "delayed_discharge_days",
            "emergency_readmissions_30d")

#: a spell counts towards the panel when this holds
included: Expr = And((dates_ok, unit_ok))

#: data-quality rules over all spells: name -> (flag expression, what is done with the spell)
QUALITY_TERMS: dict[str, tuple[Expr, str]] = {
    "missing_admission_or_discharge_date": (
        Flag(Or((IsNull(admit), IsNull(disch)))), "spell excluded from the panel"),
    "discharge_before_admission": (
        Flag(Cmp(disch, "<", admit)), "spell excluded from the panel"),
    "area_not_in_lookup": (
        Flag(IsNull(unit)), "spell excluded from the panel (no unit)"),
    "unknown_admission_method": (
        Flag(Or((IsNull(method), In(method, KNOWN_METHODS, negate=True)))),
        "spell kept; not counted as an emergency admission"),
    "overlapping_spells": (
        Flag(Cmp(admit, "<", prev_disch)),
        "spell kept; starts before the same patient's previous spell ended"),
    "discharge_ready_after_discharge": (
        Flag(Cmp(ready, ">", disch)), "spell kept; delayed-discharge days taken as 0"),
    "discharge_ready_before_admission": (
        Flag(Cmp(ready, "<", admit)), "spell kept; delay capped at the length of stay"),
    "spell_with_several_patients": (
        Flag(Cmp(patient, "<", Col("patient_last"))),
        "spell kept under its lowest patient id; make the spell key unique across patients "
        "(e.g. provider code + spell number)"),
    "missing_patient_id": (
        Flag(IsNull(patient)),
        "spell kept; not linked to other spells (never a readmission or an overlap)"),
}
