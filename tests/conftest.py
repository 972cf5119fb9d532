"""Shared by the harness's self-tests: one real kind cluster for every test that needs one."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from clusters.kind import cluster, config, ownership, versions
from dra_conformance.doctor import hint
from dra_conformance.errors import HarnessError
from dra_conformance.supervise import RUN_ID_ENV

# all-dra, so every gate the profile sets can be checked in the components and alpha behaviour
# (device health in pod status) can be exercised by the driver tests.
SELFTEST_PROFILE = "all-dra"


@pytest.fixture(scope="session")
def selftest_cluster() -> Iterator[cluster.Cluster]:
    """An all-dra cluster (1 control plane + 2 workers) of the default version, or of
    DRA_SELFTEST_K8S; reused when an identical one runs; deleted afterwards if this session created
    it, unless DRA_SELFTEST_KEEP is set."""
    version = os.environ.get("DRA_SELFTEST_K8S") or versions.default_minor()
    spec = config.ClusterSpec(version, SELFTEST_PROFILE, workers=2)
    owner = ownership.Owner.me("selftest", os.environ.get(RUN_ID_ENV) or uuid.uuid4().hex[:10],
                               keep=bool(os.environ.get("DRA_SELFTEST_KEEP")))
    try:
        made = cluster.ensure(spec, owner=owner)
    except HarnessError as exc:  # one line, cached by pytest for every test that needs the cluster
        pytest.fail(f"cannot set up the self-test cluster: {exc}{hint()}", pytrace=False)
    yield made
    if ownership.should_delete(made.name, owner, others_running=False):
        cluster.delete(made.name)
