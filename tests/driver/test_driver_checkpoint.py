from __future__ import annotations

import json

from tests.driver.rig import Rig, ref


def test_restart_keeps_prepared_claims(rig: Rig) -> None:
    claim = rig.add("c", ["gpu-0", "gpu-1"])
    uid = claim["metadata"]["uid"]
    before = rig.kubelet.prepare([ref(claim)]).claims[uid]
    checkpoint = json.loads(rig.cfg.checkpoint_file.read_text())
    assert checkpoint["version"] == 1 and list(checkpoint["claims"]) == [uid]
    assert not list(rig.cfg.checkpoint_file.parent.glob(".checkpoint.json.*"))  # no temp file left

    rig.restart()  # a new server process state on the same directories
    rig.claims.delete("ns", "c")  # the answer must now come from the checkpoint alone
    assert rig.control.state()["prepared"][uid]["devices"][0]["deviceName"] == "gpu-0"
    assert rig.kubelet.prepare([ref(claim)]).claims[uid] == before

    assert rig.kubelet.unprepare([ref(claim)]).claims[uid].error == ""
    assert not rig.spec_file(claim).exists()
    rig.restart()
    assert rig.control.state()["prepared"] == {}


def test_restart_removes_sockets_and_serves_again(rig: Rig) -> None:
    dra, reg = rig.cfg.dra_socket, rig.cfg.registration_socket
    rig.stop()
    assert not dra.exists() and not reg.exists()
    rig.start()
    assert dra.exists() and reg.exists()
    assert rig.kubelet.get_info().endpoint == str(dra)
