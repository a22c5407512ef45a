"""Benchmarks (`make bench`): each module's run() returns figures, bench/__main__.py prints them."""


def figure(name, value, baseline, target, meets, note="", unit="s") -> dict:
    """One benchmark figure as bench/results.json stores it (ratio = value / baseline)."""
    return {
        "name": name,
        "value": round(value, 3),
        "unit": unit,
        "baseline": None if baseline is None else round(baseline, 3),
        "ratio": None if not baseline else round(value / baseline, 2),
        "target": target,
        "meets_target": meets,
        "note": note,
    }
