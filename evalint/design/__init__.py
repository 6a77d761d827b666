"""Design before the data are in: power and minimum detectable effects of planned evaluations.

``evalint.design.power(n_treated=(3, 6, 12), pre=24, post=(12, 24))`` (TWFE DiD; ``design="its"``,
``"sdid"`` or ``"sc"`` for the other designs; ``base=<a real Panel>`` to plan on placebo
assignments in one's own data); on the command line ``evalint power CONFIG.toml``. See
methods/design.md.
"""

from evalint.design.power import DesignPower, power

__all__ = ["DesignPower", "power"]
