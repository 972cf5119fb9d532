"""Which node image source a cluster gets (no cluster, no pull, no build)."""

from __future__ import annotations

import pytest

from clusters.kind import cluster, node_source, versions
from clusters.kind.config import ClusterSpec
from clusters.kind.forge.node_image import tag_for
from clusters.kind.forge.versions_data import components
from dra_conformance.errors import HarnessError

RELEASED = [m for m in versions.minors() if not versions.prerelease(m)]


def _spec(version: str, cgroup: int = 2) -> ClusterSpec:
    return ClusterSpec(version, "default", 1, cgroup)


def test_the_published_list_is_the_pinned_kind_release_s():
    assert node_source.kind_release() == components()["kind"]


@pytest.mark.parametrize("minor", RELEASED)
def test_a_published_patch_is_pulled_from_kindest_under_auto_on_cgroup_v2(minor):
    choice = node_source.choose(_spec(minor))
    assert (choice.source, choice.fallback) == ("kindest", True)
    assert cluster.node_image(_spec(minor)) == versions.release(minor).node_image


@pytest.mark.parametrize("version", ["1.38", "v1.34.1"])
def test_an_unpublished_or_pre_release_patch_goes_straight_to_the_forge(version):
    patch = versions.release(version).patch
    assert not node_source.published(patch)
    choice = node_source.choose(_spec(version))
    assert (choice.source, choice.fallback) == ("forge", False)
    assert patch in choice.why
    assert cluster.node_image(_spec(version)) == tag_for(patch)


@pytest.mark.parametrize("minor", RELEASED)
def test_cgroup_v1_hosts_get_the_forge_even_for_a_published_patch(minor):
    choice = node_source.choose(_spec(minor, cgroup=1))
    assert choice.source == "forge" and "cgroup v1" in choice.why


@pytest.mark.parametrize(("source", "cgroup"), [("kindest", 1), ("forge", 2)])
def test_an_explicit_source_is_taken_as_asked_without_fallback(source, cgroup):
    choice = node_source.choose(_spec("1.38", cgroup), source)
    assert (choice.source, choice.fallback) == (source, False)


def test_an_unknown_source_is_a_one_line_error():
    with pytest.raises(HarnessError, match="unknown image source"):
        node_source.choose(_spec("1.34"), "dockerhub")
