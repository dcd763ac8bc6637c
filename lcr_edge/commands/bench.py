"""`lcr-edge bench [--model DIR]`: per-frame latency, stages, fps, memory and MAC rate per backend."""

from __future__ import annotations

import json
import os
from pathlib import Path

import typer

from lcr_edge import artifact


def _table(rows: list[dict], peak: dict | None) -> list[str]:
    lines = [f"{'backend':<12} {'prec':<5} {'median':>7} {'p90':>7} {'p99':>7} | {'prep':>5} "
             f"{'edges':>5} {'infer':>6} {'inf p90':>7} | {'fps':>6} {'peak MB':>7} "
             f"{'GMAC/s':>7} {'of peak':>7}"]
    for r in rows:
        s, lat = r["stages_ms"], r["latency_ms"]
        frac = "-"
        if peak and r.get("gmacs_per_s"):
            frac = f"{100 * r['gmacs_per_s'] / peak[r['precision']]:.0f} %"
        gm = f"{r['gmacs_per_s']:.1f}" if r.get("gmacs_per_s") else "-"
        lines.append(
            f"{r['backend']:<12} {r['precision']:<5} {lat['median']:>7.3f} {lat['p90']:>7.3f} "
            f"{lat['p99']:>7.3f} | {s['preprocess']['median']:>5.2f} {s['edges']['median']:>5.2f} "
            f"{s['inference']['median']:>6.3f} {s['inference']['p90']:>7.3f} | {r['fps']:>6.0f} "
            f"{r['peak_rss_mb']:>7.0f} {gm:>7} {frac:>7}")
    return lines


def _app_table(rows: list[dict]) -> list[str]:
    """The frame as `lcr-edge run` and the app run it: Engine, events, the model's horizon."""
    lines = [f"{'backend':<12} {'prec':<5} {'horizon':>7} {'infer/f':>7} {'median':>7} {'p90':>7} "
             f"{'x one':>6} | {'fps':>5} {'CPU ms/frame':>12} {'CPU ms per s of video':>21}"]
    for r in rows:
        a = r["app"]
        lines.append(
            f"{r['backend']:<12} {r['precision']:<5} {a['horizon'] or 'none':>7} "
            f"{a['inferences_per_frame']:>7} {a['latency_ms']['median']:>7.3f} "
            f"{a['latency_ms']['p90']:>7.3f} {a['vs_one_inference']:>5.2f}x | {a['frame_rate']:>5.1f} "
            f"{a['cpu_ms_per_frame']:>12.3f} {a['cpu_ms_per_video_s']:>21.2f}")
    return lines


def _profile_table(prof: dict, top: int = 12) -> list[str]:
    total = prof["total_ms"]
    lines = [f"openvino {prof['precision']}: {total:.3f} ms in layers (median of "
             f"{prof['frames']} frames), by layer type:"]
    for r in prof["rows"][:top]:
        lines.append(f"  {r['type']:<20} {r['ms']:>6.3f} ms {100 * r['ms'] / total:>4.0f} %  "
                     f"{r['layers']:>3} layers  {', '.join(r['kernels'])[:60]}")
    rest = prof["rows"][top:]
    if rest:
        lines.append(f"  {len(rest)} other types {sum(r['ms'] for r in rest):.3f} ms")
    return lines


def register(app: typer.Typer) -> None:
    @app.command()
    def bench(
        model: Path = typer.Option(None, "--model", "-m", help="Exported model folder "
                                   "[default: $LCR_EDGE_MODEL or the bundled LCR-S]."),
        backend: list[str] = typer.Option(list(artifact.BACKENDS), "--backend",
                                          help="Backend(s) to run (repeatable)."),
        precision: list[str] = typer.Option(None, "--precision",
                                            help="int8 and/or fp32 (default: all present)."),
        frames: int = typer.Option(500, "--frames", help="Timed frames per configuration.", min=1),
        threads: int = typer.Option(None, "--threads",
                                    help="Inference threads [default: the backend's: all "
                                    "cores, torch 1].", min=1),
        peak: bool = typer.Option(True, "--peak/--no-peak",
                                  help="Measure this CPU's MatMul peak (OpenVINO) for the "
                                       "'of peak' column."),
        bench_app: bool = typer.Option(False, "--benchmark-app",
                                       help="Cross-check OpenVINO rows with benchmark_app."),
        profile: bool = typer.Option(False, "--profile",
                                     help="Also show where OpenVINO's inference time goes, per "
                                          "layer type (PERF_COUNT)."),
        horizon: int = typer.Option(None, "--horizon", min=0, help="The app-path rows: restart "
                                    "the state every N frames in two lanes, 0 = one state for ever "
                                    "[default: the model's, as run and app use it]."),
        as_json: bool = typer.Option(False, "--json", help="Print results as JSON."),
    ):
        """Benchmark every backend/precision of a model folder, frame by frame, single stream.
        Each configuration runs in its own process. Latency = preprocess + edges + inference, with
        one state (one inference a frame); a second table times the frame as `lcr-edge run` and
        the app run it (the model's horizon, the event rules) and the CPU it costs per second of
        video at the model's frame rate."""
        from lcr_edge.bench import (
            benchmark_app,
            configurations,
            matmul_peak,
            openvino_profile,
            run_isolated,
        )
        from lcr_edge.errors import LCRError

        if model is None:
            from lcr_edge.paths import default_model_dir

            model = default_model_dir()
            if model is None:
                raise LCRError("no bundled model in this install: give one with --model DIR")
        meta = artifact.read_metadata(model)
        configs = configurations(meta, backend)
        if precision:
            configs = [c for c in configs if c[1] in precision]
        if not configs:
            raise LCRError(f"{model}: nothing to benchmark for backend(s) {', '.join(backend)}")
        rows = []
        for b, p in configs:
            if not as_json:
                typer.echo(f"running {b} {p} ({frames} frames) ...", err=True)
            try:
                rows.append(run_isolated(str(model), b, p, frames, threads, 20, horizon))
            except LCRError as exc:
                if b != "torch":
                    raise
                typer.echo(f"skipping torch: {exc}", err=True)
        peak_rates = matmul_peak(threads) if peak else None
        cross = {}
        if bench_app:  # benchmark_app feeds random inputs, the state too: the stateless IR
            for f in artifact.FORMATS:
                if f.backend == "openvino" and not f.stateful and artifact.is_listed(meta, f):
                    path = artifact.model_file(model, meta, f.group, f.kind)
                    cross[f.precision] = benchmark_app(str(path), threads)
        profiles = []
        if profile:
            for b, p in configs:
                if b == "openvino":
                    if not as_json:
                        typer.echo(f"profiling openvino {p} ...", err=True)
                    profiles.append(openvino_profile(str(model), p, min(frames, 300), threads))
        load = os.getloadavg()
        result = {"model": str(model), "variant": meta["variant"], "threads": threads,
                  "cpu_count": os.cpu_count(), "load_average": load, "rows": rows,
                  "matmul_peak_gmacs": peak_rates, "benchmark_app": cross,
                  "openvino_profile": profiles}
        if as_json:
            typer.echo(json.dumps(result, indent=2))
            return
        typer.echo(f"{meta['variant']}: {meta['macs_per_frame'] / 1e6:.0f} M MACs/frame, "
                   f"threads {threads or 'default'}, {os.cpu_count()} cores, load average "
                   f"{load[0]:.2f} (latency in ms per frame)")
        for line in _table(rows, peak_rates):
            typer.echo(line)
        typer.echo("as lcr-edge run and the app run it (engine, event rules, the model's horizon; "
                   "x one: its median over the one-inference median above):")
        for line in _app_table(rows):
            typer.echo(line)
        if peak_rates:
            k = peak_rates["kernels"]
            typer.echo(f"MatMul peak (OpenVINO, 512x1024x1024): FP32 {peak_rates['fp32']:.0f} "
                       f"({k['fp32']}), INT8 {peak_rates['int8']:.0f} GMAC/s ({k['int8']})")
        for p, r in cross.items():
            if r:
                typer.echo(f"benchmark_app {p}: median {r.get('median', float('nan')):.3f} ms "
                           f"({r['command']})")
        for prof in profiles:
            for line in _profile_table(prof):
                typer.echo(line)
        fp = {r["backend"]: r for r in rows if r["precision"] == "fp32"}
        for r in rows:
            if r["precision"] == "int8" and r["backend"] in fp:
                ratio = fp[r["backend"]]["stages_ms"]["inference"]["median"] / \
                    r["stages_ms"]["inference"]["median"]
                typer.echo(f"{r['backend']}: INT8 inference {ratio:.2f}x faster than FP32")
