"""`make bench` keeps working: its clients still fit the intake, at a size that takes seconds."""

import subprocess
import sys

from tests import postgres


def test_the_load_benchmark_runs_its_throughput_and_contention_parts():
    server = postgres.server_url()
    run = subprocess.run(
        [sys.executable, "-m", "bench.load", "--only", "throughput,contention",
         "--clients", "4", "--contenders", "6", "--slots", "2", "--postgres", server],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    assert "updates in 4 complete intakes with booking" in run.stdout
    assert "| updates handled per second |" in run.stdout
    assert "## Throughput with the defaults" in run.stdout
    assert "## Throughput with the limits off" in run.stdout
    assert "won the time they pressed: 2 (then confirmed: 2 pending bookings on 2 slots)" in (
        run.stdout
    )
    assert "told it was taken: 4" in run.stdout
