"""The declared field mapping from HES-like episode columns to the roles evalint.records uses.

Defaults follow Hospital Episode Statistics admitted patient care (HES APC) names; override
any role with ``fields={"admission_date": "ADMIDATE", ...}``, or drop an optional role with
``None``.

References
----------
NHS Digital. HES Data Dictionary - Admitted Patient Care.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from evalint.errors import ColumnNotFoundError, SpecificationError, format_examples

__all__ = ["HES_FIELDS", "ROLE_DESCRIPTIONS", "FieldMap", "resolve_fields"]

#: role -> default HES APC column
HES_FIELDS: dict[str, str] = {
    "patient_id": "hesid",
    "spell_id": "provspno",
    "episode_order": "epiorder",
    "admission_date": "admidate",
    "discharge_date": "disdate",
    "admission_method": "admimeth",
    "discharge_destination": "disdest",
    "provider": "procode3",
    "residence": "resicb",
    "gp_practice": "gpprac",
    "age": "startage",
    "sex": "sex",
    "discharge_ready_date": "disreadydate",
}

ROLE_DESCRIPTIONS: dict[str, str] = {
    "patient_id": "pseudonymised patient id",
    "spell_id": "hospital provider spell key (episodes of one stay share it)",
    "episode_order": "episode order within the spell (1 = first)",
    "admission_date": "spell admission date",
    "discharge_date": "spell discharge date",
    "admission_method": "admission method code (HES ADMIMETH)",
    "discharge_destination": "discharge destination code (HES DISDEST)",
    "provider": "provider (trust) code",
    "residence": "ICB of residence (ODS or ONS code)",
    "gp_practice": "registered GP practice code",
    "age": "age at the start of the episode, years",
    "sex": "sex code",
    "discharge_ready_date": "date the patient was ready for discharge (no longer met the "
                            "criteria to reside)",
}

_ALWAYS = ("patient_id", "spell_id", "episode_order", "admission_date", "discharge_date",
           "admission_method")
UNIT_ROLES = {"icb": "residence", "provider": "provider", "gp_practice": "gp_practice"}


@dataclass(frozen=True)
class FieldMap:
    """Role -> column name for the roles a query needs (``None`` = not available)."""

    columns: dict[str, str | None]

    def __getitem__(self, role: str) -> str | None:
        return self.columns.get(role)

    def has(self, role: str) -> bool:
        return self.columns.get(role) is not None

    def describe(self) -> str:
        return "; ".join(f"{r} -> {c!r}" for r, c in self.columns.items())


def resolve_fields(fields: Mapping[str, str | None] | None, *, unit: str,
                   age_bands: Sequence[int] | None, available: Sequence[str]) -> FieldMap:
    """Merge user overrides into the HES defaults and check the columns exist.

    Raises
    ------
    SpecificationError
        An override names an unknown role.
    ColumnNotFoundError
        A needed column is absent; the message lists the whole mapping expected.
    """
    overrides = dict(fields or {})
    unknown = sorted(set(overrides) - set(HES_FIELDS))
    if unknown:
        raise SpecificationError(
            f"fields names unknown role(s) {format_examples(unknown)}. Roles: "
            f"{format_examples(list(HES_FIELDS), limit=20)}.")
    if unit not in UNIT_ROLES:
        raise SpecificationError(
            f"unit={unit!r} is not one of {sorted(UNIT_ROLES)}.")
    mapping = {**HES_FIELDS, **overrides}
    needed = list(_ALWAYS) + [UNIT_ROLES[unit]]
    if age_bands is not None:
        needed.append("age")
    optional = ["discharge_ready_date"]
    for role in needed:
        if mapping.get(role) is None:
            raise SpecificationError(
                f"role {role!r} ({ROLE_DESCRIPTIONS[role]}) is needed for unit={unit!r} but "
                f"fields maps it to None.")
    have = set(map(str, available))
    missing = [r for r in needed + optional if mapping.get(r) is not None and mapping[r] not in have]
    # an optional role whose default column is absent and was not asked for is simply unused
    hard = [r for r in missing if r in needed or r in overrides]
    if hard:
        expected = "\n".join(
            f"  {r:<22} -> {mapping[r]!r:<16} {ROLE_DESCRIPTIONS[r]}"
            + ("   <- MISSING" if r in hard else "")
            for r in needed + optional if mapping.get(r) is not None)
        raise ColumnNotFoundError(
            f"{len(hard)} field(s) not in the data: "
            f"{format_examples([mapping[r] for r in hard])}. The mapping expected:\n{expected}\n"
            f"Columns that exist: {format_examples(sorted(have), limit=30)}. Pass "
            f"fields={{'<role>': '<your column>'}} for the missing role(s), or "
            f"fields={{'discharge_ready_date': None}} when there is no discharge-ready date.")
    used = {r: mapping[r] for r in needed}
    used["discharge_ready_date"] = (mapping["discharge_ready_date"]
                                    if mapping.get("discharge_ready_date") in have else None)
    if used["discharge_ready_date"] is None and overrides.get("discharge_ready_date", "") is not None:
        # the default column is absent and the user did not opt out
        raise ColumnNotFoundError(
            f"discharge-ready date column {mapping['discharge_ready_date']!r} is not in the data "
            f"(needed for delayed_discharge_days). Pass fields={{'discharge_ready_date': "
            f"'<your column>'}}, or fields={{'discharge_ready_date': None}} to build the panel "
            f"without delayed_discharge_days.")
    return FieldMap(used)
