"""Estimated monthly costs from the small price table shipped in `catalogues/prices.json`.

The table holds on-demand prices (USD) for a few items in a few regions, with its source and date. A price it
lacks is unknown: an estimate is never borrowed from another region or another type, so a finding says "unknown"
rather than a wrong number.

    estimate = hourly(region, "nat_gateway_hour")                 # one NAT gateway for a month
    estimate = per_gb_month(region, "ebs_gb_month", 100, "gp2")   # 100 GB of gp2
    finding evidence: {**estimate.evidence(), ...}
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Mapping

UNKNOWN = "unknown"


@lru_cache(maxsize=1)
def price_table() -> Mapping[str, Any]:
    text = resources.files("auditor").joinpath("catalogues/prices.json").read_text(encoding="utf-8")
    return json.loads(text)


def hours_per_month() -> float:
    return float(price_table()["hours_per_month"])


def price(region: str, item: str, kind: str | None = None) -> float | None:
    """The listed price of `item` (of type `kind`, for items priced by type) in `region`; None when not listed."""
    entry = price_table()["regions"].get(region, {}).get(item)
    if kind is not None:
        entry = entry.get(kind) if isinstance(entry, Mapping) else None
    elif isinstance(entry, Mapping):
        return None
    return float(entry) if isinstance(entry, (int, float)) and not isinstance(entry, bool) else None


@dataclass(frozen=True)
class Estimate:
    """An estimated monthly cost in USD (None: unknown) and what it rests on."""

    usd: float | None
    basis: str

    @property
    def known(self) -> bool:
        return self.usd is not None

    def text(self) -> str:
        """For messages: 'about $10.00 a month' or 'an unknown amount (no listed price ...)'."""
        return f"about ${self.usd:,.2f} a month" if self.usd is not None else "an unknown amount a month"

    def evidence(self, key: str = "estimated_monthly_cost_usd") -> dict[str, Any]:
        return {key: round(self.usd, 2) if self.usd is not None else UNKNOWN, "price_basis": self.basis}


def _source() -> str:
    return f"AWS public price list, as of {price_table()['as_of']}"


def _label(item: str, kind: str | None) -> str:
    return f"{item}[{kind}]" if kind else item


def hourly(region: str, item: str, kind: str | None = None, count: float = 1) -> Estimate:
    """`count` of an hourly-priced item running all month."""
    unit = price(region, item, kind)
    if unit is None:
        return Estimate(None, f"no listed price for {_label(item, kind)} in {region}")
    hours = hours_per_month()
    return Estimate(unit * hours * count,
                    f"{_label(item, kind)} ${unit}/hour x {hours:g} hours x {count:g} in {region} ({_source()})")


def per_gb_month(region: str, item: str, gb: float, kind: str | None = None) -> Estimate:
    """`gb` GB of a storage item priced per GB-month."""
    unit = price(region, item, kind)
    if unit is None:
        return Estimate(None, f"no listed price for {_label(item, kind)} in {region}")
    return Estimate(unit * gb, f"{_label(item, kind)} ${unit}/GB-month x {gb:g} GB in {region} ({_source()})")
