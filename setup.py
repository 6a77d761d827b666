"""Packaging glue that pyproject.toml cannot express: ship ``reference_data/`` (the
replication targets) inside the installed package as ``evalint.reference_data`` so that
``evalint replicate`` works after ``pip install .``. All metadata lives in pyproject.toml."""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["evalint", "evalint.*"]) + ["evalint.reference_data"],
    package_dir={"evalint.reference_data": "reference_data"},
    package_data={
        "evalint": ["py.typed"],
        "evalint.calendar": ["*.csv"],
        "evalint.geography": ["*.csv"],
        "evalint.datasets": ["*.csv", "*.toml"],
        "evalint.io": ["*.toml"],
        "evalint.reference_data": ["*.md", "*/*.toml", "*/*.md", "*/*.R", "*/*.py"],
    },
    include_package_data=False,
)
