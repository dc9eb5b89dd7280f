"""What script isolation costs per step: in-process sandbox vs worker process (engine/isolation).

    .venv/bin/python bench/scripts.py            # 1,000 evaluations of each kind
    .venv/bin/python bench/scripts.py -n 5000

For each kind of step — a gateway condition the inline check keeps in-process, the same
condition forced into a worker, a DMN-style cell, and a script task — it times ``-n``
evaluations with the plain :class:`Sandbox` and with the :class:`IsolatedSandbox` (2 workers,
warm), against task data shaped like a support case's (about 40 variables). It reports the wall
time per evaluation (median of 5 rounds), the CPU time of this process per evaluation, and the
CPU time the worker processes spent (from /proc). The last stdout line is one JSON object.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

from engine.isolation.pool import Limits, WorkerPool
from engine.isolation.sandbox import IsolatedSandbox
from engine.sandbox import Sandbox

TICKS = os.sysconf("SC_CLK_TCK")


def case_data() -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "打印机无法打印 printer offline", "description": "报错 0x00f after the update " * 5,
        "environment": "Windows 11, driver 5.2", "category": "hardware_repair", "priority": "high",
        "customer_tier": "vip", "reopen_count": 1, "info_requests": 0, "max_reopens": 3,
        "max_info_requests": 5, "max_turns": 30, "confirm_wait": "P7D", "confirmed": False,
        "resolution_hours": {"urgent": 4, "high": 16, "medium": 48, "low": 120},
        "sla_alarm": "R/9000-01-01T00:00:00+00:00/P36500D", "owner": "consultant1",
        "opened_at": dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.timezone.utc),
        "classification_rule": {"rule": "R04", "reason": "Hardware", "proposed_category": "hardware_repair"},
        "history": [{"step": f"s{i}", "by": "agent1", "note": "checked the cable" * 3} for i in range(10)],
    }
    data.update({f"field_{i}": i * 1.5 for i in range(20)})
    data["case_text"] = " ".join([data["title"], data["description"], data["environment"]]).lower()
    return data


STEPS: dict[str, tuple[str, str]] = {
    "condition": ("eval", 'category == "hardware_repair" and reopen_count < max_reopens'),
    "dmn_cell": ("eval", 'any(w in case_text for w in ("硬件", "打印机", "扫描", "hardware", "printer", "scanner"))'),
    "condition_isolated": ("eval", 'category == "hardware_repair" and len([r for r in (1,)]) == 1'),
    "script": ("exec", 'reopen_count = reopen_count + 1\nconfirmed = True\n'
                       'due_at = (now() + timedelta(hours=resolution_hours.get(priority, 48))).isoformat()'),
}


def _worker_cpu(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / TICKS
        except OSError:
            pass
    return total


def measure(run: Callable[[], None], n: int, pool: WorkerPool | None) -> dict[str, float]:
    run()  # warm: compile caches, a worker started
    walls, cpus, worker_cpus = [], [], []
    for _ in range(5):
        pids = pool.workers() if pool else []
        before_worker = _worker_cpu(pids)
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(n):
            run()
        walls.append((time.perf_counter() - wall) / n)
        cpus.append((time.process_time() - cpu) / n)
        worker_cpus.append((_worker_cpu(pids) - before_worker) / n)
    return {"wall_us": round(statistics.median(walls) * 1e6, 1), "cpu_us": round(statistics.median(cpus) * 1e6, 1),
            "worker_cpu_us": round(statistics.median(worker_cpus) * 1e6, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000)
    args = parser.parse_args()
    pool = WorkerPool(Limits(workers=2))
    plain, isolated = Sandbox(), IsolatedSandbox(pool)
    results: dict[str, Any] = {"n": args.n}
    for name, (mode, source) in STEPS.items():
        for label, sandbox, which in (("in_process", plain, None), ("isolated", isolated, pool)):
            def run(sandbox: Sandbox = sandbox, mode: str = mode, source: str = source) -> None:
                data = case_data() if mode == "exec" else DATA
                if mode == "eval":
                    sandbox.evaluate(source, data)
                else:
                    sandbox.execute(source, data)
            figures = measure(run, args.n, which)
            results[f"{name}.{label}"] = figures
            print(f"{name:20} {label:11} wall {figures['wall_us']:8.1f} µs  cpu {figures['cpu_us']:8.1f} µs  "
                  f"worker cpu {figures['worker_cpu_us']:8.1f} µs")
    copy_cost = measure(lambda: case_data(), args.n, None)  # the script rows include making fresh data
    results["fresh_data"] = copy_cost
    print(f"{'(fresh task data)':20} {'':11} wall {copy_cost['wall_us']:8.1f} µs")
    pool.close()
    print(json.dumps(results))


DATA = case_data()

if __name__ == "__main__":
    main()
