"""components.yaml, read once."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml


@cache
def components() -> dict[str, Any]:
    return yaml.safe_load(Path(__file__).with_name("components.yaml").read_text())
