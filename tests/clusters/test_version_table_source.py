"""The version table says what each release's own source says (what `versions check` checks).

The source is the k8s.io/kubernetes module at the table's patch; the offline forge downloads it
anyway, so this runs wherever a node image was built (else it is downloaded from the Go module
proxy, and the test skips where that is not possible).
"""

from __future__ import annotations

import pytest

from clusters.kind import releasesource, version_draft, versions
from dra_conformance.errors import HarnessError


def _facts(minor: str) -> releasesource.Facts:
    patch = versions.release(minor).patch
    try:
        return releasesource.facts(minor, patch)
    except HarnessError as exc:
        pytest.skip(f"k8s.io/kubernetes@{patch} unavailable: {exc}")


@pytest.mark.parametrize("minor", versions.minors())
def test_gates_apis_and_kubeadm_api_match_the_release_source(minor):
    assert version_draft.drift(versions.table(), _facts(minor)) == []


@pytest.mark.parametrize("minor", versions.minors())
def test_versions_add_leaves_the_table_as_it_is(minor):
    text = versions.TABLE.read_text()
    assert version_draft.unified_diff(text, version_draft.draft(text, _facts(minor)).text, "versions.yaml") == ""
