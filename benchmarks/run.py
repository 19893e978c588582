"""Run the benchmark suite and write ``benchmarks/RESULTS.md`` (``make bench``).

Usage: ``python benchmarks/run.py [--scale full|tiny] [--out benchmarks/RESULTS.md] [--only NAME …]``.
Figures are measured in this run, side by side (the NumPy baseline and the engine on the same
book), on whatever machine runs it; the file records the machine and the date.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import suite  # noqa: E402

TARGETS = {
    "throughput": 1.0e9,  # buyer-simulations per second, 100k buyers, 2 cores
    "numpy_ratio": 25.0,
    "million_seconds": 180.0,  # 1M buyers × 100k sims
    "million_memory": 4 * 2**30,
    "dask_overhead": 0.15,
    "cold_compile": 30.0,
    "warm_start": 3.0,
    "monitoring_ratio": 1.25,  # monitoring on / off, sample book
}

BENCHES = {
    "rng": suite.bench_rng_ceiling,
    "throughput": suite.bench_throughput,
    "numpy": suite.bench_numpy_ratio,
    "dask": suite.bench_dask_overhead,
    "compile": suite.bench_compile,
    "memory": suite.bench_memory,
    "monitoring": suite.bench_monitoring,
}


def _g(x: float) -> str:
    for s, suf in ((1e9, " G"), (1e6, " M"), (1e3, " k")):
        if abs(x) >= s:
            return f"{x / s:.2f}{suf}"
    return f"{x:.3g}"


def _ok(flag: bool) -> str:
    return "met" if flag else "**not met**"


def plot_throughput(results: dict[str, Any], path: Path) -> None:
    """Throughput against portfolio size (log-log), with the RNG ceiling and the target."""
    from matplotlib.figure import Figure

    rows = results["throughput"]["by_buyers"]
    fig = Figure(figsize=(7, 4.2), layout="constrained")
    ax = fig.subplots()
    x = [r["buyers"] for r in rows]
    ax.plot(x, [r["buyer_sims_per_s"] for r in rows], marker="o", label="riskengine (2 cores)")
    if "numpy" in results:
        ax.scatter(
            [results["numpy"]["buyers"]],
            [results["numpy"]["numpy_buyer_sims_per_s"]],
            color="C3",
            marker="s",
            label="plain NumPy",
        )
    if "rng" in results:
        ax.axhline(
            results["rng"]["uniforms_per_s"],
            color="grey",
            linestyle=":",
            label="RNG ceiling (uniforms/s)",
        )
    ax.axhline(TARGETS["throughput"], color="C2", linestyle="--", label="target 1e9")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("buyers in the book")
    ax.set_ylabel("buyer-simulations per second")
    ax.set_title("Throughput against portfolio size (full model)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.savefig(path, dpi=110)


def render(results: dict[str, Any], scale: str) -> str:
    m = results["machine"]
    lines = [
        "# Benchmark results",
        "",
        f"Measured {m['date']} on {m['cpu']} ({m['cores']} cores, {m['simd'] or 'no AVX2'}), "
        f"{m['numba_threads']} Numba threads; Python {m['python']}, NumPy {m['numpy']}, Numba {m['numba']}, "
        f"Polars {m['polars']}, riskengine {m['riskengine']}. Scale: `{scale}`. Regenerate with `make bench`.",
        "",
        "The model is the full one: structured factors, political events with regional correlation and contagion,",
        "beta LGD, utilisation and fx, policy terms, sums by country and sector (`scenarios/baseline.yaml` on",
        "`generate_book(n, seed=2026)`). Throughput is buyer-simulations per second of the simulation step.",
        "",
        "## Targets",
        "",
        "| target | measured | status |",
        "|---|---|---|",
    ]
    rows = []
    if "throughput" in results:
        t100 = [r for r in results["throughput"]["by_buyers"] if r["buyers"] == 100_000] or results[
            "throughput"
        ]["by_buyers"][-1:]
        r = t100[0]
        rows.append(
            (
                f"≥ 1.0 × 10⁹ buyer-sims/s ({r['buyers']:,} buyers)",
                f"{_g(r['buyer_sims_per_s'])}/s",
                _ok(r["buyer_sims_per_s"] >= TARGETS["throughput"]),
            )
        )
    if "numpy" in results:
        r = results["numpy"]
        rows.append(
            (
                "≥ 25 × the plain NumPy implementation",
                f"{r['ratio']:.1f} ×",
                _ok(r["ratio"] >= TARGETS["numpy_ratio"]),
            )
        )
    if "memory" in results:
        r = results["memory"]
        per = r["simulate_s"] / (r["buyers"] * r["sims"])
        est = per * 1_000_000 * 100_000
        rows.append(
            (
                "1,000,000 buyers × 100,000 sims ≤ 3 min",
                f"{est:,.0f} s (extrapolated from {r['buyers']:,} × {r['sims']:,} in {r['simulate_s']:.1f} s)",
                _ok(est <= TARGETS["million_seconds"]),
            )
        )
        rows.append(
            (
                "peak memory ≤ 4 GiB",
                f"{r['peak_rss_bytes'] / 2**30:.2f} GiB ({r['buyers']:,} buyers; kernel arrays {r['kernel_bytes'] / 2**20:.0f} MiB)",
                _ok(r["peak_rss_bytes"] <= TARGETS["million_memory"]),
            )
        )
    if "dask" in results:
        r = results["dask"]
        rows.append(
            (
                "Dask LocalCluster (2 × 1) within 15 % of in-process",
                f"{100 * r['overhead']:+.1f} % ({r['dask_s']:.1f} s vs {r['in_process_s']:.1f} s; identical: {r['identical']})",
                _ok(r["overhead"] <= TARGETS["dask_overhead"]),
            )
        )
    if "compile" in results:
        r = results["compile"]
        rows.append(
            (
                "cold first-run compilation ≤ 30 s",
                f"{r['cold_s']:.1f} s",
                _ok(r["cold_s"] <= TARGETS["cold_compile"]),
            )
        )
        rows.append(
            ("warm start ≤ 3 s", f"{r['warm_s']:.1f} s", _ok(r["warm_s"] <= TARGETS["warm_start"]))
        )
    if "monitoring" in results:
        r = results["monitoring"]
        rows.append(
            (
                "dynamic limit management on ≤ 1.25 × off (sample book)",
                f"{r['ratio']:.2f} × ({r['ms_per_year']['on']:.2f} vs "
                f"{r['ms_per_year']['off']:.2f} ms a year, one thread)",
                _ok(r["ratio"] <= TARGETS["monitoring_ratio"]),
            )
        )
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    if "throughput" in results:
        lines += [
            "",
            "## Throughput against buyers",
            "",
            "| buyers | sims | cells | defaults / year | seconds | buyer-sims/s |",
            "|---:|---:|---:|---:|---:|---:|",
        ]
        for r in results["throughput"]["by_buyers"]:
            lines.append(
                f"| {r['buyers']:,} | {r['sims']:,} | {r['cells']:,} | {r['mean_defaults']:,.0f} | {r['seconds']:.2f} | {_g(r['buyer_sims_per_s'])} |"
            )
        lines += [
            "",
            "![throughput](throughput.png)",
            "",
            "## Throughput against simulations",
            "",
            "| buyers | sims | seconds | buyer-sims/s |",
            "|---:|---:|---:|---:|",
        ]
        for r in results["throughput"]["by_sims"]:
            lines.append(
                f"| {r['buyers']:,} | {r['sims']:,} | {r['seconds']:.2f} | {_g(r['buyer_sims_per_s'])} |"
            )
    if "numpy" in results:
        r = results["numpy"]
        lines += [
            "",
            "## Against plain NumPy",
            "",
            f"Same book ({r['buyers']:,} buyers), same model. NumPy: {r['numpy_sims']:,} sims in {r['numpy_seconds']:.1f} s "
            f"({_g(r['numpy_buyer_sims_per_s'])}/s, one core — NumPy's kernels are single-threaded); riskengine: "
            f"{r['engine']['sims']:,} sims in {r['engine']['seconds']:.1f} s ({_g(r['engine']['buyer_sims_per_s'])}/s). "
            f"Ratio **{r['ratio']:.1f} ×**. The baseline is checked to be the same model: its mean ground-up loss "
            f"{r['numpy_ground_up_mean']:,.0f} ± {r['numpy_ground_up_se']:,.0f} vs the exact {r['exact_ground_up']:,.0f}.",
        ]
    if "rng" in results:
        r = results["rng"]
        lines += [
            "",
            "## RNG ceiling",
            "",
            f"Counter-based uniforms on all cores: {_g(r['uniforms_per_s'])}/s ({r['uniforms']:,} in {r['seconds']:.2f} s).",
        ]
    if "compile" in results:
        r = results["compile"]
        lines += ["", "## Compilation", "", "| step | cold (s) | warm (s) |", "|---|---:|---:|"]
        for k, v in r["cold_steps"].items():
            lines.append(f"| {k} | {v:.2f} | {r['warm_steps'].get(k, float('nan')):.2f} |")
    if "monitoring" in results:
        r = results["monitoring"]
        lines += [
            "",
            "## Dynamic limit management",
            "",
            f"{r['buyers']:,} buyers, {r['sims']:,} years, {r['mean_defaults']:,.0f} defaults a "
            f"year ({100 * r['caught_share']:.0f} % caught), one thread, best of the interleaved "
            "runs; default monitoring parameters (monthly reviews, noise 0.5, 30 days' notice).",
            "",
            "| run | ms / year | × off |",
            "|---|---:|---:|",
        ]
        for k, v in r["ms_per_year"].items():
            lines.append(f"| {k} | {v:.3f} | {v / r['ms_per_year']['off']:.2f} |")
        ns = r["ns_per_default"]
        lines += [
            "",
            f"Per default: {ns['reviews']:.0f} ns for its reviews, {ns['rest']:.0f} ns for the "
            "rest (its year-end latent value given default, flags, the turnover sample).",
        ]
    if "notes" in results:
        lines += ["", "## Notes", "", results["notes"]]
    lines += [
        "",
        "<details><summary>raw figures (JSON)</summary>",
        "",
        "```json",
        json.dumps(results, indent=1, default=str),
        "```",
        "",
        "</details>",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--scale", default="full", choices=sorted(suite.SCALES))
    ap.add_argument("--out", default=str(HERE / "RESULTS.md"))
    ap.add_argument("--only", nargs="*", choices=sorted(BENCHES), default=None)
    ap.add_argument(
        "--notes",
        default=str(HERE / "NOTES.md"),
        help="Markdown file appended as notes (profile, analysis).",
    )
    args = ap.parse_args(argv)
    results: dict[str, Any] = {"machine": suite.machine()}
    for name, fn in BENCHES.items():
        if args.only and name not in args.only:
            continue
        t0 = time.perf_counter()
        print(f"[bench] {name} …", flush=True)
        results[name] = fn(args.scale)
        print(
            f"[bench] {name} done in {time.perf_counter() - t0:.1f} s: {json.dumps(results[name], default=str)[:300]}",
            flush=True,
        )
    if args.notes and Path(args.notes).exists():
        results["notes"] = Path(args.notes).read_text()
    out = Path(args.out)
    if "throughput" in results:
        plot_throughput(results, out.parent / "throughput.png")
    out.write_text(render(results, args.scale))
    print(f"[bench] wrote {out}")
    return results


if __name__ == "__main__":
    main()
