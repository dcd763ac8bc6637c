"""Per-frame speed of an exported model folder: `lcr-edge bench`.

For each backend and precision: per-frame latency (median, p90, p99) of the whole step and of its
stages (preprocess, edges, inference), frames per second, peak memory, MACs per frame (model.json)
and the fraction of this CPU's measured MatMul peak that the inference stage reaches. Each
configuration runs in a fresh process (spawn), so its peak memory is its own and the openvino and
onnxruntime runs import no torch. No torch here.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import resource
import shutil
import subprocess
import time

import numpy as np

from lcr_edge import artifact
from lcr_edge.errors import LCRError

STAGES = ("preprocess", "edges", "inference")


def synthetic_frames(n: int = 64, height: int = 100, width: int = 176, seed: int = 0):
    """A moving bright hand-sized blob over a textured background, Jester-sized BGR uint8 frames."""
    rng = np.random.default_rng(seed)
    bg = rng.integers(40, 120, (height, width, 3), dtype=np.uint8)
    frames = []
    for t in range(n):
        f = bg.copy()
        x = int((width - 40) * (0.5 + 0.4 * np.sin(2 * np.pi * t / n)))
        f[30:80, x : x + 36] = (150, 180, 220)
        frames.append(f)
    return frames


def configurations(meta: dict, backends: list[str]) -> list[tuple[str, str]]:
    """(backend, precision) pairs the folder has the files for (`artifact.runnable`), INT8 first."""
    return [(f.backend, f.precision) for b in backends for f in artifact.runnable(meta, b)]


def _percentiles(ms: np.ndarray) -> dict:
    return {"median": float(np.median(ms)), "p90": float(np.percentile(ms, 90)),
            "p99": float(np.percentile(ms, 99)), "mean": float(ms.mean())}


def run_one(folder: str, backend: str, precision: str, frames: int, threads: int | None,
            warmup: int = 20, horizon: int | None = None) -> dict:
    """One configuration in this process -> a result row (latencies in ms).

    Two measurements: one inference a frame (the recognizer with one state, its stages), and the
    frame as `lcr-edge run` and the app run it (`app`): the same recognizer with the model's own
    horizon (or `horizon`) inside the Engine, events and all, with the CPU time it costs."""
    import sys

    from lcr_edge.runtime import Recognizer

    t0 = time.perf_counter()
    rec = Recognizer.open(folder, backend=backend, threads=threads, precision=precision, horizon=0)
    load_s = time.perf_counter() - t0
    clip = synthetic_frames()
    for i in range(warmup):
        rec.step(clip[i % len(clip)])
    per_stage = {s: np.empty(frames) for s in STAGES}
    total = np.empty(frames)
    for i in range(frames):
        t = time.perf_counter()
        rec.step(clip[i % len(clip)])
        total[i] = (time.perf_counter() - t) * 1e3
        for s in STAGES:
            per_stage[s][i] = rec.timings[s]
    macs = rec.metadata.get("macs_per_frame")
    inf = _percentiles(per_stage["inference"])
    del rec  # one compiled model at a time: a second one beside it slowed the app path by 30-90 %
    app = run_app_path(folder, backend, precision, frames, threads, warmup, horizon, clip)
    app["vs_one_inference"] = app["latency_ms"]["median"] / float(np.median(total))
    return {
        "backend": backend, "precision": precision, "threads": threads, "frames": frames,
        "latency_ms": _percentiles(total),
        "stages_ms": {s: _percentiles(v) for s, v in per_stage.items()},
        "fps": 1e3 / float(np.median(total)),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "load_s": load_s, "macs_per_frame": macs,
        "gmacs_per_s": macs / inf["median"] / 1e6 if macs else None,
        "torch_imported": "torch" in sys.modules, "app": app,
    }


def run_app_path(folder: str, backend: str, precision: str, frames: int, threads: int | None,
                 warmup: int, horizon: int | None, clip) -> dict:
    """Frames through the Engine as `lcr-edge run` and the app feed it (the model's horizon, the
    media profile's event rules) at the model's frame rate: wall latency per frame, and process
    CPU time (every thread's) per frame and per second of video."""
    from lcr_edge.actions import profile_for
    from lcr_edge.engine import Engine
    from lcr_edge.runtime import Recognizer

    rec = Recognizer.open(folder, backend=backend, threads=threads, precision=precision,
                          horizon=horizon)
    engine = Engine(rec, profile_for(rec, "media").events)
    dt = 1.0 / engine.frame_rate
    for i in range(warmup):
        engine.step(clip[i % len(clip)], i * dt, i)
    wall = np.empty(frames)
    cpu0 = time.process_time()
    for i in range(frames):
        t = time.perf_counter()
        engine.step(clip[i % len(clip)], (warmup + i) * dt, warmup + i)
        wall[i] = (time.perf_counter() - t) * 1e3
    cpu_ms = (time.process_time() - cpu0) * 1e3 / frames
    return {"horizon": rec.horizon, "inferences_per_frame": 2 if rec.horizon else 1,
            "frame_rate": engine.frame_rate, "latency_ms": _percentiles(wall),
            "cpu_ms_per_frame": cpu_ms, "cpu_ms_per_video_s": cpu_ms * engine.frame_rate}


def openvino_profile(folder: str, precision: str, frames: int = 300, threads: int | None = None,
                     warmup: int = 20) -> dict:
    """Where the OpenVINO inference time goes: the stateful IR compiled with PERF_COUNT, run on
    `frames` synthetic frames; per layer type (OpenVINO's node type after its fusions) the
    median over frames of the summed layer times, the number of layers and the kernels used.
    Per-layer times do not include the Python call and the copies the `inference` stage has."""
    from lcr_edge.preprocess import Preprocess
    from lcr_edge.runtime import OpenVINOBackend

    meta = artifact.read_metadata(folder)
    backend = OpenVINOBackend(folder, meta, precision, threads, stateful=True, profile=True)
    pre = Preprocess.from_dict(meta)
    clip = [tuple(a[None] for a in pre(f)) for f in synthetic_frames()]
    per_type: dict[str, list[float]] = {}
    kernels: dict[str, set[str]] = {}
    layers: dict[str, int] = {}
    totals = []
    for i in range(warmup + frames):
        backend.infer(*clip[i % len(clip)])
        if i < warmup:
            continue
        run: dict[str, float] = {}
        count: dict[str, int] = {}
        for info in backend.request.profiling_info:
            if info.status != info.Status.EXECUTED:
                continue
            ms = info.real_time.total_seconds() * 1e3
            run[info.node_type] = run.get(info.node_type, 0.0) + ms
            count[info.node_type] = count.get(info.node_type, 0) + 1
            kernels.setdefault(info.node_type, set()).add(info.exec_type)
        for k, v in run.items():
            per_type.setdefault(k, []).append(v)
            layers[k] = max(layers.get(k, 0), count[k])  # some run on some frames only
        totals.append(sum(run.values()))
    rows = [{"type": k, "ms": float(np.median(v)), "layers": layers.get(k, 0),
             "kernels": sorted(kernels[k])} for k, v in per_type.items()]
    rows.sort(key=lambda r: -r["ms"])
    return {"precision": precision, "frames": frames, "threads": threads,
            "total_ms": float(np.median(totals)), "rows": rows}


def _child(queue, *args):
    try:
        queue.put(("ok", run_one(*args)))
    except LCRError as exc:
        queue.put(("error", str(exc)))
    except Exception as exc:  # report, don't hang the parent
        queue.put(("error", f"{type(exc).__name__}: {exc}"))


def run_isolated(*args) -> dict:
    """`run_one` in a fresh spawned process (own peak memory, no torch inherited)."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(queue, *args))
    proc.start()
    status, value = queue.get()
    proc.join()
    if status != "ok":
        raise LCRError(value)
    return value


def matmul_peak(threads: int | None, seconds: float = 1.0, shape=(512, 1024, 1024)) -> dict:
    """This CPU's practical MatMul rate under OpenVINO (GMAC/s), FP32 and INT8: an [M x K] by
    [K x N] product (`shape` = M, K, N). INT8 is quantized as NNCF quantizes our Linear layers:
    unsigned 8-bit activations, signed 8-bit weights on a [-128, 127] grid (FakeQuantize on both,
    weights transposed as in a Linear); OpenVINO then runs an INT8 kernel. (A symmetric [-a, a]
    256-level weight range is not an int8 grid: OpenVINO falls back to an FP32 product, which an
    earlier version of this probe measured as "INT8".) -> {"fp32": .., "int8": .., "kernels": {..}}"""
    from lcr_edge.telemetry import decline_openvino_telemetry

    decline_openvino_telemetry()
    import openvino as ov
    import openvino.opset13 as ops

    M, K, N = shape
    rng = np.random.default_rng(0)
    w = rng.standard_normal((N, K)).astype(np.float32)  # a Linear's [out, in]
    config = {"PERFORMANCE_HINT": "LATENCY", "NUM_STREAMS": 1, "INFERENCE_PRECISION_HINT": "f32",
              "PERF_COUNT": True}
    if threads:
        config["INFERENCE_NUM_THREADS"] = int(threads)

    def fq(node, lo, hi):
        c = [ops.constant(np.float32(v)) for v in (lo, hi, lo, hi)]
        return ops.fake_quantize(node, *c, 256)

    out: dict = {"kernels": {}}
    for precision in ("fp32", "int8"):
        x = ops.parameter([M, K], np.float32, name="x")
        if precision == "fp32":
            y = ops.matmul(x, ops.constant(w), False, True)
        else:
            y = ops.matmul(fq(x, 0.0, 4.0), fq(ops.constant(w), -4.0, 4.0 * 127 / 128), False, True)
        compiled = ov.Core().compile_model(ov.Model([y], [x]), "CPU", config)
        req = compiled.create_infer_request()
        data = rng.standard_normal((M, K)).astype(np.float32)
        for _ in range(3):
            req.infer({0: data})
        t0 = time.perf_counter()
        times = []
        while time.perf_counter() - t0 < seconds or len(times) < 3:
            t = time.perf_counter()
            req.infer({0: data}, share_inputs=True)
            times.append(time.perf_counter() - t)
        out[precision] = M * K * N / float(np.median(times)) / 1e9
        out["kernels"][precision] = max(
            (p for p in req.profiling_info if p.status == p.Status.EXECUTED),
            key=lambda p: p.real_time).exec_type
    return out


def _benchmark_app_value(line: str) -> float | None:
    """'[ INFO ]    Median:        615.85 us' -> 0.61585 (latencies in ms whatever unit it
    prints: newer releases print us, older ms); throughput stays in FPS."""
    parts = line.split(":")[-1].split()
    try:
        value = float(parts[0])
    except (ValueError, IndexError):
        return None
    unit = parts[1].lower() if len(parts) > 1 else "ms"
    return value * {"us": 1e-3, "ns": 1e-6, "s": 1e3}.get(unit, 1.0)


def benchmark_app(path: str, threads: int | None, seconds: int = 10) -> dict | None:
    """OpenVINO's own benchmark_app on one IR (stateless; random inputs), if it is installed."""
    exe = shutil.which("benchmark_app")
    if exe is None:
        return None
    cmd = [exe, "-m", path, "-d", "CPU", "-hint", "none", "-nstreams", "1", "-nireq", "1",
           "-api", "sync", "-t", str(seconds), "-infer_precision", "f32"]
    if threads:
        cmd += ["-nthreads", str(threads)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ})
    res = {"command": " ".join(cmd[1:])}
    for line in proc.stdout.splitlines():
        for key in ("Median", "Average", "Min", "Throughput"):
            if line.replace(" ", "").startswith(f"[INFO]{key}:"):
                res[key.lower()] = _benchmark_app_value(line)
    if proc.returncode != 0:
        res["error"] = (proc.stderr or proc.stdout).strip().splitlines()[-1:]
    return res
