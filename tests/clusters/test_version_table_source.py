"""The version table's gate stages match each release's own source (kube_features.go).

The source is the k8s.io/kubernetes module at the table's patch; the offline forge downloads it
anyway, so this runs wherever a node image was built (else `go mod download` fetches it).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from clusters.kind import versions
from clusters.kind.gatesource import gate_specs


def _source(patch: str) -> Path:
    if shutil.which("go") is None:
        pytest.skip("no Go toolchain to fetch the Kubernetes source")
    res = subprocess.run(["go", "mod", "download", "-json", f"k8s.io/kubernetes@{patch}"],
                         capture_output=True, text=True, timeout=600)
    info = json.loads(res.stdout or "{}")
    if "Dir" not in info:
        pytest.skip(f"k8s.io/kubernetes@{patch} unavailable: {info.get('Error', res.stderr.strip())}")
    return Path(info["Dir"])


@pytest.mark.parametrize("minor", versions.minors())
def test_gate_stages_match_the_release_source(minor):
    source = gate_specs(_source(versions.release(minor).patch), minor)
    mismatches = {}
    for gate, ours in versions.gates_at(minor).items():
        theirs = source.get(gate)
        if theirs is None or (theirs.stage, theirs.default, theirs.locked) != (ours.stage, ours.default,
                                                                               ours.locked):
            mismatches[gate] = (ours, theirs)
    assert not mismatches


@pytest.mark.parametrize("minor", versions.minors())
def test_every_dra_gate_of_the_release_is_in_the_table(minor):
    source = gate_specs(_source(versions.release(minor).patch), minor)
    dra = {g for g in source if g.startswith(("DRA", "ResourceHealth", "KubeletPodResources"))}
    missing = dra - set(versions.gates_at(minor)) - {"KubeletPodResourcesListUseActivePods"}
    assert not missing
