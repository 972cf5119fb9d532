"""Node reservations on a real API server: one test hands its reservation to the next, which takes
it over; one nobody takes goes with the namespace that owned it; a reserver waits for the pods
of tests still running on the node, not for those of tests that ended (namespace being deleted)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from clusters.kind import cluster
from dra_conformance import kube
from dra_conformance.waiting import wait_for
from fixtures import reservation
from fixtures.kubeapi import Api
from fixtures.liveness import LABEL_RUN, LABEL_TEST
from fixtures.liveness import NAMESPACE as PIN_NAMESPACE

pytestmark = [pytest.mark.cluster, pytest.mark.xdist_group("real-cluster")]
NODE = "selftest-no-such-node"  # reservations are Leases: the node need not exist


@pytest.fixture
def api(selftest_cluster: cluster.Cluster) -> Api:
    return Api(kube.api_client(str(selftest_cluster.kubeconfig)))


@pytest.fixture
def run() -> str:
    return f"selftest-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def namespaces(api: Api, run: str) -> Iterator[list[str]]:
    """Three test namespaces of this run."""
    names = [f"selftest-reserve-{i}-{uuid.uuid4().hex[:6]}" for i in range(3)]
    for n in names:
        api.create({"apiVersion": "v1", "kind": "Namespace",
                    "metadata": {"name": n, "labels": {LABEL_RUN: run, LABEL_TEST: "true"}}})
    yield names
    for n in names:
        api.delete("Pod", "on-node", n, grace_seconds=0)  # no kubelet would ever confirm its end
        api.delete("Namespace", n)
    api.delete("Lease", reservation.lease_name(NODE), PIN_NAMESPACE)


def _lease(api: Api) -> dict | None:
    return api.get_or_none("Lease", reservation.lease_name(NODE), PIN_NAMESPACE)


def test_the_next_test_takes_a_handed_over_reservation(api: Api, run: str, namespaces: list[str]) -> None:
    first, second, _ = namespaces
    reservation.reserve(api, first, run, NODE)
    reservation.release(api, NODE, hand_over=True)
    handed = _lease(api)
    assert handed and handed["metadata"]["labels"][reservation.LABEL_HANDED_OVER] == "true", handed
    assert reservation.reserved(api)[NODE] == first, "a handed-over node stays reserved for the others"

    reservation.reserve(api, second, run, NODE)
    taken = _lease(api)
    assert taken["spec"]["holderIdentity"] == second
    assert [o["name"] for o in taken["metadata"]["ownerReferences"]] == [second]
    assert reservation.LABEL_HANDED_OVER not in taken["metadata"]["labels"]
    reservation.release(api, NODE)
    assert _lease(api) is None


def test_a_reservation_nobody_takes_goes_with_its_namespace(api: Api, run: str, namespaces: list[str]) -> None:
    first = namespaces[0]
    reservation.reserve(api, first, run, NODE)
    reservation.release(api, NODE, hand_over=True)
    api.delete("Namespace", first)
    wait_for("the garbage collector to delete the handed-over Lease", lambda: (_lease(api) is None, _lease(api)),
             "namespace_delete")


def test_a_reserver_waits_for_running_tests_not_for_ended_ones(api: Api, run: str, namespaces: list[str]) -> None:
    running, ended, reserver = namespaces
    for ns in (running, ended):  # bound to the node: no kubelet ever runs or ends them
        api.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "on-node", "namespace": ns},
                    "spec": {"nodeName": NODE, "containers": [{"name": "c", "image": "none"}]}})
    assert reservation.others_on(api, reserver, NODE) == ([], [f"{running}/on-node", f"{ended}/on-node"])
    api.delete("Namespace", ended)
    wait_for(f"namespace {ended} to be terminating", lambda: (
        bool(api.get("Namespace", ended)["metadata"].get("deletionTimestamp")), "not yet"), "namespace_ready")
    assert reservation.others_on(api, reserver, NODE) == ([], [f"{running}/on-node"])
    api.delete("Pod", "on-node", running, grace_seconds=0)
    wait_for("the running test's pod to go", lambda: (
        reservation.others_on(api, reserver, NODE) == ([], []), reservation.others_on(api, reserver, NODE)),
        "object_gone")
    assert reservation.reserve(api, reserver, run, NODE) == NODE
