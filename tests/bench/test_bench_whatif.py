"""bench/whatif.py stays runnable: its synthetic history replays with a control equal to what it stored."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_whatif_benchmark_runs_on_a_small_history(tmp_path):
    spec = importlib.util.spec_from_file_location("bench_whatif", ROOT / "bench" / "whatif.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    figures = module.run_backend("sqlite", f"sqlite:///{tmp_path / 'bench.db'}", 120, 30)
    assert figures["cases"] == 120 and figures["targets"] >= 240
    assert figures["control_cases_per_second"] > 0  # run_backend fails unless the control equals the stored
