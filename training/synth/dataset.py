"""Write synthetic clips in exactly the 20BN Jester layout, in parallel, and time it.

    OUT/<id>/00001.jpg ...          one folder per clip, ids unique integers (as strings)
    OUT/jester-v1-labels.csv        one label a line, in class order
    OUT/jester-v1-train.csv         id;label  (no header)
    OUT/jester-v1-validation.csv    id;label
    OUT/jester-v1-test.csv          ids only (empty here)
    OUT/lcr-synth.json              how the set was made (not part of Jester; readers ignore it)

Frames are written first and the CSVs last, each atomically, so an interrupted run never leaves a
CSV pointing at missing frames. Each clip's pixels depend only on (seed, label, index in class,
frames, size, style): the worker count does not matter. `frames` may be a range (lo, hi): each
clip then has its own length in it, as Jester's 30-40 do (readers must pad short clips).

>>> import tempfile
>>> summary = write_dataset(tempfile.mkdtemp() + "/set", 1, frames=2, size=(32, 24), workers=1,
...                         progress=False)
>>> summary["clips"], summary["train"] + summary["validation"]
(27, 27)
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
import zlib
from dataclasses import asdict, dataclass
from multiprocessing import get_context
from pathlib import Path

import cv2
import numpy as np

from lcr_edge.errors import LCRError
from lcr_edge.io import atomic_path, write_json
from lcr_edge.labels import IDLE_LABELS, JESTER_LABELS
from lcr_edge.training.synth.backgrounds import PHOTO_DIRS, photo_files
from lcr_edge.training.synth.render import _check_size, render_clip
from lcr_edge.training.synth.scene import get_style

MARKER = "lcr-synth.json"
STREAM_FPS = 12.0  # streams are drawn at Jester's recording rate


def clip_seed(seed: int, label: str, index: int) -> int:
    """The render seed of clip `index` of `label`: independent of the class list and clip count."""
    ss = np.random.SeedSequence([seed & 0xFFFFFFFF, zlib.crc32(label.encode()), index])
    return int(ss.generate_state(1, np.uint64)[0])


def _render_one(task) -> tuple[int, int]:
    """Worker: render one clip and write its JPEGs into out/<id>/. Returns (id, frames)."""
    out, clip_id, label, seed, frames, size, style, quality = task
    folder = Path(out) / str(clip_id)
    folder.mkdir(exist_ok=True)
    params = [cv2.IMWRITE_JPEG_QUALITY, quality]
    for i, img in enumerate(render_clip(label, seed, frames, size, style), 1):
        ok, buf = cv2.imencode(".jpg", img, params)
        if not ok:
            raise RuntimeError(f"JPEG encoding failed for clip {clip_id}")
        # os-level write: file creation dominates the cost of a 10 kB JPEG; skip Python's buffering
        fd = os.open(folder / f"{i:05d}.jpg", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(fd, buf)
        finally:
            os.close(fd)
    return clip_id, frames


def _prepare_out(out: Path, overwrite: bool) -> None:
    if out.exists() and not out.is_dir():
        raise LCRError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()):
        if not overwrite:
            raise LCRError(f"{out}: folder is not empty; pick a new folder or pass --overwrite to "
                           "replace an earlier output of lcr-edge synth or chain")
        if not (out / MARKER).is_file():
            raise LCRError(f"{out}: folder is not empty and has no {MARKER}, so it was not made by "
                           "`lcr-edge synth` or `chain`; refusing to delete it, pick a new folder")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)


def _write_lines(path: Path, lines: list[str]) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text("".join(line + "\n" for line in lines))


def write_dataset(out: str | os.PathLike, clips_per_class: int, seed: int = 0,
                  frames: int | tuple[int, int] = 36,
                  size: tuple[int, int] = (176, 100), val_fraction: float = 0.2,
                  workers: int | None = None, labels: tuple[str, ...] | list[str] = JESTER_LABELS,
                  style: str = "default", quality: int = 90, overwrite: bool = False,
                  progress: bool = True) -> dict:
    """Render clips_per_class clips of every label into `out` (Jester layout, see the module).

    Per class, round(clips_per_class * val_fraction) clips go to validation (at least one and at
    most all but one when 0 < val_fraction < 1 and there are two or more clips). Returns a summary
    dict (counts, seconds, clips per second)."""
    if clips_per_class < 1:
        raise LCRError(f"--clips-per-class must be at least 1, got {clips_per_class}")
    lo, hi = (frames, frames) if isinstance(frames, int) else (int(frames[0]), int(frames[1]))
    if lo < 1 or hi < lo:
        raise LCRError(f"--frames must be at least 1 (a range must be LO-HI with LO <= HI), "
                       f"got {frames}")
    if not 0.0 <= val_fraction < 1.0:
        raise LCRError(f"--val-fraction must be in [0, 1), got {val_fraction}")
    if workers is not None and workers < 1:
        raise LCRError(f"--workers must be at least 1, got {workers}")
    if not 1 <= quality <= 100:
        raise LCRError(f"--quality must be 1-100, got {quality}")
    size = _check_size(size)
    get_style(style)  # fail early on an unknown style name
    labels = list(labels)
    from lcr_edge.training.synth.gestures import motion_builder

    for label in labels:
        motion_builder(label)
    if len(set(labels)) != len(labels):
        raise LCRError("the class list names a class twice")
    out = Path(out)
    _prepare_out(out, overwrite)
    n_val = int(round(clips_per_class * val_fraction))
    if 0 < val_fraction and clips_per_class >= 2:
        n_val = min(max(n_val, 1), clips_per_class - 1)
    total = clips_per_class * len(labels)
    ids = np.random.default_rng(seed).permutation(total) + 1
    tasks, train, val = [], [], []
    for c, label in enumerate(labels):
        for k in range(clips_per_class):
            clip_id = int(ids[c * clips_per_class + k])
            (val if k < n_val else train).append((clip_id, label))
            s = clip_seed(seed, label, k)
            tasks.append((str(out), clip_id, label, s, lo + s % (hi - lo + 1), size, style,
                          quality))
    info = {"generator": "lcr-edge synth", "seed": seed, "clips_per_class": clips_per_class,
            "frames": frames if lo == hi else [lo, hi], "size": list(size),
            "val_fraction": val_fraction, "style": style, "labels": labels,
            "photographs": len(photo_files()), "complete": False}
    write_json(out / MARKER, info)

    from tqdm import tqdm

    workers = workers or os.cpu_count() or 1
    t0 = time.perf_counter()
    bar = tqdm(total=total, unit="clip", desc="synth", disable=not progress)
    n_frames = 0
    if workers == 1:
        for task in tasks:
            n_frames += _render_one(task)[1]
            bar.update()
    else:
        # never fork: a process that already ran torch, OpenCV or Qt threads can deadlock its forked
        # children (CI hung here once, inside the test suite); forkserver starts them clean
        ctx = get_context("forkserver" if "forkserver" in _start_methods() else "spawn")
        with ctx.Pool(workers) as pool:
            for _, n in pool.imap_unordered(_render_one, tasks, chunksize=4):
                n_frames += n
                bar.update()
            pool.close()
            pool.join()  # reap the workers cleanly (their CPU time then counts in os.times())
    bar.close()
    seconds = time.perf_counter() - t0
    # CSVs last: until they exist, no reader sees a clip
    _write_lines(out / "jester-v1-labels.csv", labels)
    _write_lines(out / "jester-v1-train.csv", [f"{i};{lab}" for i, lab in sorted(train)])
    _write_lines(out / "jester-v1-validation.csv", [f"{i};{lab}" for i, lab in sorted(val)])
    _write_lines(out / "jester-v1-test.csv", [])
    summary = {"out": str(out), "clips": total, "train": len(train), "validation": len(val),
               "total_frames": n_frames, "seconds": round(seconds, 3),
               "clips_per_s": round(total / max(seconds, 1e-9), 1), "workers": workers}
    write_json(out / MARKER, {**info, "complete": True, **summary})
    return summary


@dataclass(frozen=True)
class StreamPlan:
    """What one synthetic stream holds (frame counts at the source rate, STREAM_FPS)."""

    gestures: tuple[int, int] = (3, 8)  # gestures per stream
    idle_frames: tuple[int, int] = (8, 36)  # an ordinary gap between two gestures
    long_idle_p: float = 0.25  # the chance that a gap is a long idle stretch instead
    long_idle_frames: tuple[int, int] = (180, 480)  # 15-40 s: nothing may fire in them
    other_fraction: float = 0.2  # chance of a "Doing other things" before a gesture


def plan_stream(rng: np.random.Generator, labels: list[str], plan: StreamPlan):
    """(gesture labels in order, gap lengths) of one stream."""
    pool = [lb for lb in labels if lb not in IDLE_LABELS]
    n = int(rng.integers(plan.gestures[0], plan.gestures[1] + 1))
    names = []
    for _ in range(n):
        if "Doing other things" in labels and rng.random() < plan.other_fraction:
            names.append("Doing other things")  # a distractor: its own class, never an event
        names.append(str(rng.choice(pool)))
    return names, draw_gaps(rng, len(names) + 1, plan.idle_frames, plan.long_idle_p,
                            plan.long_idle_frames)


def draw_gaps(rng: np.random.Generator, n: int, idle_frames: tuple[int, int], long_idle_p: float,
              long_idle_frames: tuple[int, int]) -> list[int]:
    """n gap lengths: idle_frames[0]..idle_frames[1] frames, or with chance long_idle_p a long
    idle stretch of long_idle_frames[0]..long_idle_frames[1] - 1 frames."""
    return [int(rng.integers(*long_idle_frames)) if rng.random() < long_idle_p
            else int(rng.integers(idle_frames[0], idle_frames[1] + 1)) for _ in range(n)]


def _render_stream_one(task) -> dict:
    """Worker: render one stream to OUT/<id>.mp4; returns its line of streams.jsonl."""
    from lcr_edge.training.synth.render import render_stream, write_video

    out, sid, seed, labels, plan, size, style, split = task
    names, gaps = plan_stream(np.random.default_rng(seed), labels, plan)
    frames, events = render_stream(names, seed, size=size, style=style, gaps=gaps)
    write_video(Path(out) / f"{sid}.mp4", frames, fps=STREAM_FPS)  # appears only when complete
    return {"id": sid, "video": f"{sid}.mp4", "frames": len(frames), "fps": STREAM_FPS,
            "split": split, "events": [[lb, int(a), int(b)] for lb, a, b in events]}


def write_streams(out: str | os.PathLike, streams: int, seed: int = 0,
                  size: tuple[int, int] = (176, 100), val_fraction: float = 0.1,
                  workers: int | None = None, style: str = "default", plan: StreamPlan = StreamPlan(),
                  overwrite: bool = False, progress: bool = True) -> dict:
    """Render `streams` long synthetic recordings (a person, gestures back to back, idle, "Doing
    other things", long idle stretches) as a stream set for `lcr-edge train --mode stream`
    (layout in `lcr_edge.training.streams`). Same seed, same pixels, whatever the worker count."""
    if streams < 1:
        raise LCRError(f"--streams must be at least 1, got {streams}")
    if not 0.0 <= val_fraction < 1.0:
        raise LCRError(f"--val-fraction must be in [0, 1), got {val_fraction}")
    size = _check_size(size)
    get_style(style)
    out = Path(out)
    _prepare_out(out, overwrite)
    labels = list(JESTER_LABELS)
    n_val = min(streams - 1, int(round(streams * val_fraction))) if streams > 1 else 0
    info = {"generator": "lcr-edge synth --streams", "seed": seed, "streams": streams,
            "size": list(size), "style": style, "plan": asdict(plan),
            "photographs": len(photo_files()), "complete": False}
    write_json(out / MARKER, info)
    tasks = [(str(out), f"s{k + 1:05d}", clip_seed(seed, "stream", k), labels, plan, size, style,
              "validation" if k < n_val else "train") for k in range(streams)]
    from tqdm import tqdm

    workers = workers or os.cpu_count() or 1
    t0 = time.perf_counter()
    lines = []
    with tqdm(total=streams, unit="stream", desc="synth", disable=not progress) as bar:
        if workers == 1:
            for task in tasks:
                lines.append(_render_stream_one(task))
                bar.update()
        else:
            ctx = get_context("forkserver" if "forkserver" in _start_methods() else "spawn")
            with ctx.Pool(workers) as pool:
                for line in pool.imap_unordered(_render_stream_one, tasks):
                    lines.append(line)
                    bar.update()
    lines.sort(key=lambda d: d["id"])
    _write_lines(out / "labels.txt", labels)
    _write_lines(out / "streams.jsonl", [json.dumps(d) for d in lines])  # last: the set is complete
    n_frames = sum(d["frames"] for d in lines)
    summary = {"out": str(out), "streams": streams, "validation": n_val,
               "total_frames": n_frames, "minutes": round(n_frames / STREAM_FPS / 60, 1),
               "seconds": round(time.perf_counter() - t0, 3), "workers": workers}
    write_json(out / MARKER, {**info, "complete": True, **summary})
    return summary


def missing_photos(style=None) -> str | None:
    """A warning when the style draws photographs but this machine has none: its "photo"
    backgrounds become rooms, so the set differs from one made with them (same seed)."""
    if "photo" not in get_style(style).backgrounds or photo_files():
        return None
    where = os.environ.get("LCR_SYNTH_PHOTOS") or " or ".join(PHOTO_DIRS)
    return (f"no photographs in {where}: the style's photo backgrounds are drawn as rooms, so this "
            f"set differs from one made with them; install them with `apt-get install "
            f"gnome-backgrounds mate-backgrounds` or point $LCR_SYNTH_PHOTOS at a folder")


def _start_methods() -> list[str]:
    import multiprocessing

    return multiprocessing.get_all_start_methods()


def bench(clips_per_class: int = 8, workers: int | None = None, frames: int = 36,
          size: tuple[int, int] = (176, 100), where: str | os.PathLike = ".") -> dict:
    """Time `write_dataset` (render, JPEG-encode, write) into a temporary folder inside `where`
    (file creation costs differ a lot between folders and file systems: bench where you write).

    Reports wall-clock clips/s, and CPU seconds per clip (this process and its workers, user +
    system) with the rate that CPU cost allows on `workers` otherwise idle cores: on a shared
    machine the wall clock says more about the neighbours than about the renderer."""
    t0 = os.times()
    Path(where).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".lcr-synth-bench-", dir=where) as tmp:
        summary = write_dataset(Path(tmp) / "set", clips_per_class, frames=frames, size=size,
                                workers=workers, progress=False)
    t1 = os.times()
    cpu = sum(getattr(t1, f) - getattr(t0, f)
              for f in ("user", "system", "children_user", "children_system"))
    cpu_per_clip = cpu / summary["clips"]
    return {"clips": summary["clips"], "frames_per_clip": frames, "size": f"{size[0]}x{size[1]}",
            "workers": summary["workers"], "seconds": summary["seconds"],
            "clips_per_s": summary["clips_per_s"], "cpu_ms_per_clip": round(cpu_per_clip * 1e3, 2),
            "cpu_bound_clips_per_s": round(summary["workers"] / max(cpu_per_clip, 1e-9), 1),
            "load_average": [round(x, 2) for x in os.getloadavg()], "where": str(where)}


def read_marker(out: str | os.PathLike) -> dict:
    """The lcr-synth.json of a synth output (how it was made)."""
    path = Path(out) / MARKER
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise LCRError(f"{path}: cannot read synth metadata ({exc})") from None
