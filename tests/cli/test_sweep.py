"""The dead-run sweep on a real API server: a namespace that cannot finish terminating because a pod
in it is never finalized gets that pod force-deleted, once it has waited long enough."""

from __future__ import annotations

import uuid

import pytest

from clusters.kind import cluster
from dra_conformance import kube
from dra_conformance.waiting import wait_for
from fixtures.kubeapi import Api
from fixtures.liveness import LABEL_RUN, stuck_pods, sweep

pytestmark = [pytest.mark.cluster, pytest.mark.xdist_group("real-cluster")]


def test_a_dead_runs_stuck_namespace_gets_its_pods_force_deleted(selftest_cluster: cluster.Cluster) -> None:
    api = Api(kube.api_client(str(selftest_cluster.kubeconfig)))
    run, ns = f"dead-{uuid.uuid4().hex[:8]}", f"selftest-stuck-{uuid.uuid4().hex[:6]}"
    api.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": {LABEL_RUN: run}}})
    # Bound to a node that does not exist: no kubelet ever confirms its end, as for a pod whose
    # claim's driver is gone.
    api.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "stuck", "namespace": ns},
                "spec": {"nodeName": "no-such-node", "containers": [{"name": "c", "image": "none"}]}})
    api.delete("Namespace", ns)
    dead = {run}.__contains__
    assert stuck_pods(api, dead) == [], "a namespace deleted just now is not stuck yet"
    wait_for(f"namespace {ns} to be terminating", lambda: (
        bool(api.get("Namespace", ns)["metadata"].get("deletionTimestamp")), "not yet"), "namespace_ready")
    assert stuck_pods(api, dead, older_than=0) == [(ns, "stuck")]
    assert stuck_pods(api, lambda r: False, older_than=0) == [], "a live run's namespace is left alone"
    wait_for(f"the sweep to free namespace {ns}", lambda: (
        (sweep(api, dead, stuck_after=0) or True) and api.get_or_none("Namespace", ns) is None, "still there"),
        "namespace_delete")
