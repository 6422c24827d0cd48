"""The shipped catalogue of public controls (FSBP, other Security Hub controls, CIS v3.0.0 and v4.0.1).

Checks declare the controls they evidence (`Control("aws-fsbp", "S3.8")`); the catalogue lets tests prove each
declaration names a real control, and lets coverage be computed rather than claimed.
"""
from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any, Mapping


@lru_cache(maxsize=1)
def catalogue() -> Mapping[str, Any]:
    text = resources.files("auditor").joinpath("catalogues/controls.json").read_text(encoding="utf-8")
    return json.loads(text)["frameworks"]


def frameworks() -> list[str]:
    return sorted(catalogue())


def control(framework: str, control_id: str) -> Mapping[str, Any] | None:
    return catalogue().get(framework, {}).get("controls", {}).get(control_id)
