"""fixtures/counters.py predicts from published numbers what fits a counter set; the suites'
partitionable-devices tests stand on it (they run it against a real pool)."""

from __future__ import annotations

from fixtures.counters import CounterSet
from fixtures.driver import Device


def _dev(name: str, draw: str) -> Device:
    spec = {"name": name, "consumesCounters": [{"counterSet": "s", "counters": {"memory": {"value": draw}}}]}
    return Device("n", "p", name, {}, {}, spec)


def test_what_fits_follows_the_counters() -> None:
    whole, half_a, half_b, quarter = _dev("w", "8Gi"), _dev("a", "4Gi"), _dev("b", "4Gi"), _dev("q", "2Gi")
    cs = CounterSet("n", "p", "s", "slice-0", {"memory": 8 * 2**30}, (whole, half_a, half_b, quarter))
    assert cs.draw(half_a) == {"memory": 4 * 2**30}
    assert cs.fits([half_a, half_b]) and cs.fits([whole])
    assert not cs.fits([whole, quarter]) and not cs.fits([half_a, half_b, quarter])
    assert cs.fits([half_a, quarter])
    assert cs.draw(Device("n", "p", "plain", {}, {}, {"name": "plain"})) == {}
