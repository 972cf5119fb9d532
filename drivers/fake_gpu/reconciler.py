"""Keep the published pool as the inventory says while the plugin serves the kubelet.

The kubelet deletes a node's ResourceSlices at its own start-up, racing with the plugin's
re-registration (which republishes); others may delete or edit them too. Like the ResourceSlice
controller of upstream's kubelet-plugin helper, compare every `interval` seconds and write what
differs. Not while the plugin does not serve: a plugin gone to the kubelet has no slices.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class Reconciler:
    def __init__(self, publish: Callable[[], object], serving: Callable[[], bool], interval: float) -> None:
        self._publish, self._serving, self.interval = publish, serving, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="reconcile-slices", daemon=True)

    def start(self) -> Reconciler:
        if self.interval > 0:
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            if not self._serving():
                continue
            try:
                self._publish()
            except Exception as exc:  # noqa: BLE001 - try again next round; /state shows the error
                log.warning("reconciling ResourceSlices failed: %s", exc)
