"""`make bench`: every benchmark, printed as a table of ratios against its baseline, and written
to bench/results.json. Targets are reported, never asserted (tests stay free of timings)."""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import tools  # noqa: F401  (puts plugins/ on sys.path)
from bench import bench_alerting, bench_extract, bench_parse, bench_security, bench_sources
from tools import topology

RESULTS = Path(__file__).resolve().parent / "results.json"


def main() -> int:
    quick = "--quick" in sys.argv  # skips the 10M-row table and the 5-minute alert-latency run
    # `--only security|pipeline|rotation|rtbf`: that benchmark alone, merged into the existing results.json
    only = sys.argv[sys.argv.index("--only") + 1] if "--only" in sys.argv else None
    started = time.monotonic()
    # Benchmarks reach the local topology through the same Airflow connection ids as the DAGs.
    os.environ.update(topology.connection_env())
    figures = []
    if only == "security":
        return _report(bench_security.run(), started, merge=True)
    if only == "pipeline":
        from bench import bench_pipeline  # airflow's components with the real schedules (~15 min)

        return _report(bench_pipeline.run(quick=quick), started, merge=True)
    if only == "rotation":  # the 1M-user salt rotation alone (issue 8)
        from bench import bench_rotation

        return _report(bench_rotation.run(users=100_000 if quick else 1_000_000), started, merge=True)
    if only == "rtbf":  # one right-to-be-forgotten user through 1M- and 10M-row tables (issue 9)
        from bench import bench_rtbf

        return _report(bench_rtbf.run(with_10m=not quick), started, merge=True)
    figures += bench_security.run()
    figures += bench_parse.run()
    figures += bench_extract.run(with_10m=not quick)
    figures += bench_sources.run()
    try:
        from bench import bench_transform
    except ImportError:
        bench_transform = None
    if bench_transform is not None:
        figures += bench_transform.run(with_10m=not quick)
    from bench import bench_rotation, bench_rtbf

    figures += bench_rotation.run(users=100_000 if quick else 1_000_000)
    figures += bench_rtbf.run(with_10m=not quick)
    if not quick:
        import tempfile

        with tempfile.TemporaryDirectory() as state:
            figures += bench_alerting.run(Path(state))
        from bench import bench_pipeline  # airflow's components with the real schedules (~15 min)

        figures += bench_pipeline.run()
    return _report(figures, started)


def _report(figures: list[dict], started: float, merge: bool = False) -> int:
    if merge and RESULTS.exists():  # keep the other benchmarks' last figures
        names = {f["name"].split(" (")[0] for f in figures}
        kept = [f for f in json.loads(RESULTS.read_text())["figures"] if f["name"].split(" (")[0] not in names]
        figures = kept + figures
    print(f"\n{'benchmark':<62} {'value':>9} {'baseline':>9} {'ratio':>7}  target      ok")
    for f in figures:
        baseline = "" if f["baseline"] is None else f"{f['baseline']:.3f}"
        ratio = "" if f["ratio"] is None else f"{f['ratio']:.2f}"
        ok = {True: "yes", False: "NO", None: ""}[f["meets_target"]]
        print(f"{f['name']:<62} {f['value']:>8.3f}{f['unit']:<1} {baseline:>9} {ratio:>7}  {f['target']:<10}  {ok}")
        if f.get("note"):
            print(f"{'':<4}{f['note']}")
    RESULTS.write_text(
        json.dumps(
            {
                "measured_at": datetime.now(UTC).isoformat(),
                "machine": f"{platform.machine()} {platform.processor() or ''} python {platform.python_version()}",
                "command": " ".join(["make bench", *sys.argv[1:]]),
                "seconds": round(time.monotonic() - started, 1),
                "figures": figures,
            },
            indent=2,
        )
    )
    print(f"\nwritten to {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
