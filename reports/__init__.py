"""Run reports: JUnit, Allure, event stream, conformance matrix, certification bundle.

The API for fixtures (everything else is driven by the pytest plugin `reports.plugin`):

    from reports import diagnostics_sink, set_run_metadata, run_dir, log_path
    diagnostics_sink(request, "claims.yaml", text)          # per-test diagnostics on failure
    set_run_metadata(request, k8s_patch="v1.34.3", feature_gates={...}, kind_config=path)
"""

from reports.context import log_path, run_dir
from reports.diagnostics import diagnostics_sink
from reports.metadata import run_metadata, set_run_metadata

__all__ = ["diagnostics_sink", "log_path", "run_dir", "run_metadata", "set_run_metadata"]
