"""Recording your own gesture clips into the 20BN Jester layout the trainer reads (no torch, no Qt:
used by `lcr-edge record` and the app's "Teach a gesture" dialog).

    DIR/<id>/00001.jpg ...        one folder per clip, ids are integers that never repeat
    DIR/<id>/clip.json            label, time, source of that clip (Jester's readers ignore it)
    DIR/jester-v1-labels.csv      one label a line, in the order they were first recorded
    DIR/jester-v1-train.csv       id;label (every recorded clip: `finetune` picks its hold-out)
    DIR/jester-v1-validation.csv  id;label (empty; kept for `train`/`quantize`)
    DIR/jester-v1-test.csv        (empty)

Nothing is ever half-written: a clip's frames go to a hidden temporary folder that is renamed to
its id only when complete; the CSVs are rewritten atomically after that. A clip folder whose CSV
line was never written (the process died in between) is found by its clip.json and listed again
the next time the set is opened.

>>> import tempfile, numpy as np
>>> rs = RecordingSet.open(tempfile.mkdtemp())
>>> clip_id = rs.add_clip("Waving Hello", [np.zeros((100, 176, 3), np.uint8)] * 12)
>>> rs.counts()
{'Waving Hello': 1}
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from lcr_edge.errors import LCRError
from lcr_edge.io import atomic_path, owned_prefix, read_image, read_text, remove_leftovers
from lcr_edge.labels import IDLE_LABELS, JESTER_FPS, JESTER_LABELS, close_names
from lcr_edge.sources import FrameSource, LatestFrameReader, iter_frames

RECORD_FPS = JESTER_FPS  # Jester's rate: the Jester reader assumes it, the models' strides build on it
MIN_FRAMES = 8  # shorter clips teach nothing (a gesture takes about a second: 12 frames)
STORE_HEIGHT = 240  # frames are kept at most this high (models read 112x112)
LABELS_CSV, TRAIN_CSV, VAL_CSV, TEST_CSV = ("jester-v1-labels.csv", "jester-v1-train.csv",
                                            "jester-v1-validation.csv", "jester-v1-test.csv")
CLIP_INFO = "clip.json"
MAX_LABEL = 60
# Characters that break a path on some file system, or our ';'-separated CSVs.
BAD_CHARS = set('/\\:*?"<>|;')
RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)),
            *(f"lpt{i}" for i in range(1, 10))}


def check_label(label: str, known=()) -> str:
    """A gesture name safe everywhere it goes (CSV lines, folder names in other layouts, TOML
    profile keys) -> the name to use. Spaces are tidied; a case-insensitive match of a known name
    (this set's or Jester's) becomes that name; anything else bad is one clear LCRError."""
    name = " ".join(unicodedata.normalize("NFC", str(label)).split())
    if not name:
        raise LCRError("empty gesture name: give --label a name such as 'Waving Hello'")
    bad = sorted({c for c in name if c in BAD_CHARS or unicodedata.category(c)[0] == "C"})
    if bad:
        shown = " ".join(repr(c) for c in bad)
        raise LCRError(f"gesture name {label!r}: contains {shown}, which file systems or the "
                       f"Jester CSV files cannot hold; use letters, digits, spaces and - _ . , ' "
                       f"( ) & +")
    if name.startswith(".") or name.endswith("."):
        raise LCRError(f"gesture name {label!r}: may not start or end with '.'")
    if name.lower() in RESERVED:
        raise LCRError(f"gesture name {label!r}: a reserved device name on Windows; choose another")
    if len(name) > MAX_LABEL:
        raise LCRError(f"gesture name {label!r}: longer than {MAX_LABEL} characters")
    for k in [*known, *JESTER_LABELS]:
        if k.lower() == name.lower():
            return k
    return name


def set_warnings(counts: dict[str, int]) -> list[str]:
    """What a gesture set lacks for a good fine-tune, from its clips per gesture (checked before
    training starts, by `finetune` and the Teach dialog)."""
    out = [f"only {n} clip(s) of {g!r}: 5 or more work much better; with fewer than 3 none is "
           f"held out, so its accuracy is not measured" for g, n in counts.items() if n < 3]
    if not any(g in IDLE_LABELS for g in counts):
        out.append("no 'No gesture' clips: the model will always name one of your gestures; record "
                   "some idle clips (label 'No gesture') for fewer false triggers")
    return out


def near_misses(name: str, known=()) -> list[str]:
    """Known names (this set's or Jester's) that `name` is probably a typo of, e.g. 'Thumbs Up' ->
    ['Thumb Up']; [] for a known name or one that is clearly new."""
    names = list(dict.fromkeys([*known, *JESTER_LABELS]))
    return [] if name in names else close_names(name, names)


@dataclass(frozen=True)
class Recorded:
    clip_id: str
    label: str
    frames: int


class RecordingSet:
    """A Jester-layout folder that grows clip by clip. `open` creates it or checks an existing one."""

    def __init__(self, root: Path):
        self.root = root
        self.labels: list[str] = []
        self.rows: list[tuple[str, str]] = []  # (id, label) of train.csv
        self.val_rows: list[tuple[str, str]] = []
        self.recovered: list[str] = []  # ids re-listed from an interrupted recording

    @classmethod
    def open(cls, root) -> RecordingSet:
        root = Path(root).expanduser()
        if root.exists() and not root.is_dir():
            raise LCRError(f"{root}: exists and is not a folder")
        rs = cls(root)
        labels_file = root / LABELS_CSV
        if labels_file.is_file():
            rs._read()
        elif root.is_dir() and any(p for p in root.iterdir() if not p.name.startswith(".")):
            raise LCRError(f"{root}: not a gesture set (no {LABELS_CSV}) and not empty; give a new "
                           f"or empty folder, or one written by `lcr-edge record`")
        root.mkdir(parents=True, exist_ok=True)
        rs._recover()
        return rs

    # ------------------------------------------------------------ reading
    def _read(self) -> None:
        from_lines = [ln.strip() for ln in read_text(self.root / LABELS_CSV).splitlines()]
        self.labels = [ln for ln in from_lines if ln]
        self.rows = self._read_rows(TRAIN_CSV)
        self.val_rows = self._read_rows(VAL_CSV)

    def _read_rows(self, name: str) -> list[tuple[str, str]]:
        path = self.root / name
        if not path.is_file():
            return []
        rows = []
        for n, line in enumerate(read_text(path).splitlines(), start=1):
            if not line.strip():
                continue
            parts = [p.strip() for p in line.split(";")]
            if len(parts) != 2 or not all(parts):
                raise LCRError(f"{path}:{n}: malformed line {line!r}; expected 'id;label'")
            if parts[1] not in self.labels:
                raise LCRError(f"{path}:{n}: label {parts[1]!r} is not in {LABELS_CSV}")
            rows.append((parts[0], parts[1]))
        return rows

    @property
    def frames_root(self) -> Path:
        sub = self.root / "20bn-jester-v1"  # a real Jester download keeps clips one level down
        return sub if sub.is_dir() else self.root

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for _, label in self.rows + self.val_rows:
            out[label] = out.get(label, 0) + 1
        return out

    def _recover(self) -> None:
        """Clip folders with a clip.json but no CSV line: the process died between the rename
        and the CSV update. List them again (their frames are complete: the rename came last)."""
        remove_leftovers(self.frames_root, ".recording-*")  # clips whose writing was killed
        listed = {cid for cid, _ in self.rows + self.val_rows}
        found = []
        for d in self.frames_root.iterdir():
            if d.is_dir() and d.name.isdigit() and d.name not in listed \
                    and (d / CLIP_INFO).is_file():
                try:
                    label = json.loads((d / CLIP_INFO).read_text("utf-8"))["label"]
                except (OSError, ValueError, KeyError):
                    continue
                found.append((d.name, check_label(label, self.labels)))
        for cid, label in sorted(found, key=lambda r: int(r[0])):
            self._register(cid, label)
            self.recovered.append(cid)

    # ------------------------------------------------------------ writing
    def _next_id(self) -> int:
        """One more than any id in use: in the CSVs or as a folder (listed or not)."""
        used = [int(c) for c, _ in self.rows + self.val_rows if c.isdigit()]
        used += [int(d.name) for d in self.frames_root.iterdir() if d.name.isdigit()]
        return max(used, default=0) + 1

    def add_clip(self, label: str, frames: list[np.ndarray], source: str = "",
                 fps: float = RECORD_FPS) -> str:
        """Write one complete clip (BGR uint8 frames) -> its id. Raises LCRError if too short."""
        label = check_label(label, self.labels)
        if len(frames) < MIN_FRAMES:
            raise LCRError(f"clip of {label!r} too short: {len(frames)} frames, at least "
                           f"{MIN_FRAMES} needed ({MIN_FRAMES / fps:.1f} s at {fps:g} fps); not saved")
        tmp = Path(tempfile.mkdtemp(prefix=owned_prefix(".recording-"), dir=self.frames_root))
        try:
            for i, img in enumerate(frames, start=1):
                small = _shrink(img)
                if not cv2.imwrite(str(tmp / f"{i:05d}.jpg"), small,
                                   [cv2.IMWRITE_JPEG_QUALITY, 92]):
                    raise LCRError(f"{tmp}: cannot write frame {i} (disk full or read-only?)")
            info = {"label": label, "frames": len(frames), "fps": fps, "source": source,
                    "recorded": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
            (tmp / CLIP_INFO).write_text(json.dumps(info, indent=1), "utf-8")
            clip_id = self._claim(tmp)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        self._register(clip_id, label)
        return clip_id

    def _claim(self, tmp: Path) -> str:
        """Rename the finished folder to a fresh id; another recorder taking the same id at the
        same moment makes the rename fail and we take the next one."""
        nid = self._next_id()
        for _ in range(1000):
            target = self.frames_root / str(nid)
            if not target.exists():
                try:
                    os.rename(tmp, target)
                    return str(nid)
                except OSError:
                    pass
            nid += 1
        raise LCRError(f"{self.frames_root}: could not find a free clip id")

    def _register(self, clip_id: str, label: str) -> None:
        if label not in self.labels:
            self.labels.append(label)
            self._write_lines(LABELS_CSV, self.labels)
        self.rows.append((clip_id, label))
        self._write_lines(TRAIN_CSV, [f"{c};{lb}" for c, lb in self.rows])
        for name in (VAL_CSV, TEST_CSV):
            if not (self.root / name).exists():
                self._write_lines(name, [])

    def discard(self, clip_id: str) -> None:
        """Remove a clip (the dialog's "discard"): its CSV line first, then its folder."""
        self.rows = [r for r in self.rows if r[0] != clip_id]
        self.val_rows = [r for r in self.val_rows if r[0] != clip_id]
        self._write_lines(TRAIN_CSV, [f"{c};{lb}" for c, lb in self.rows])
        if (self.root / VAL_CSV).exists():
            self._write_lines(VAL_CSV, [f"{c};{lb}" for c, lb in self.val_rows])
        shutil.rmtree(self.frames_root / clip_id, ignore_errors=True)

    def clip_frames(self, clip_id: str) -> list[np.ndarray]:
        folder = self.frames_root / clip_id
        files = sorted(folder.glob("*.jpg"))
        return [img for f in files if (img := read_image(f)) is not None]

    def _write_lines(self, name: str, lines: list[str]) -> None:
        with atomic_path(self.root / name) as tmp:
            tmp.write_text("".join(f"{ln}\n" for ln in lines), "utf-8")


def _shrink(img: np.ndarray) -> np.ndarray:
    if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
        raise LCRError(f"a frame must be HxWx3 uint8 (BGR), got {img.shape} {img.dtype}")
    h, w = img.shape[:2]
    if h <= STORE_HEIGHT:
        return img
    return cv2.resize(img, (round(w * STORE_HEIGHT / h), STORE_HEIGHT), interpolation=cv2.INTER_AREA)


# ---------------------------------------------------------------- capturing

class SourceFailed(LCRError):
    """The source stopped delivering frames in the middle of a clip."""

    def __init__(self, message: str, frames: list[np.ndarray]):
        super().__init__(message)
        self.frames = frames


class ClipCapture:
    """Frames at RECORD_FPS from a source, clip after clip, the source kept open in between.

    Pulled (`lcr-edge record`): `with ClipCapture(source) as cap: frames = cap.capture(n)`. A live
    camera is read by a `LatestFrameReader` (its own thread); a file or folder frame by frame with
    `iter_frames` (nothing dropped). `capture(n)` returns n frames; fewer when a file ends (the
    caller decides whether that is enough).

    Pushed (the app's Teach dialog, whose window has the camera open already): `ClipCapture()`
    without a source, `start(n)`, then `offer(newest image)` at about RECORD_FPS until it says the
    clip is complete.

    Either way a camera that gives no new frame within `stall_s` (before the clip's first frame:
    2.5 times that) raises SourceFailed, holding the frames of the clip so far.
    """

    def __init__(self, source: FrameSource | None = None, fps: float = RECORD_FPS,
                 stall_s: float = 2.0):
        self.source, self.fps, self.stall_s = source, fps, stall_s
        self.name = "the source" if source is None else source.name
        self.live = source is None or source.live
        self.ended = False  # a file or folder ran out
        self.frames: list[np.ndarray] = []  # the clip being captured
        self.want = 0  # its length in frames
        self._since = 0.0  # when its last frame came (or it started)
        self._seen: np.ndarray | None = None  # the image `offer` took last
        self._reader: LatestFrameReader | None = None
        self._iter: Iterator | None = None

    def __enter__(self) -> ClipCapture:
        if self.source is not None and self.live:
            self.source.open()  # fail now, with the source's message, rather than retry for ever
            self.source.close()
            self._reader = LatestFrameReader(self.source, self.fps, retry_s=0.5).start()
        elif self.source is not None:
            self._iter = iter_frames(self.source, self.fps)
        return self

    def __exit__(self, *exc) -> None:
        if self._reader is not None:
            self._reader.stop()
        if self._iter is not None:
            self._iter.close()

    def preview(self) -> np.ndarray | None:
        """The newest camera image (for a live view during the countdown); None for files."""
        if self._reader is None:
            return None
        latest = self._reader.latest()
        return None if latest is None else latest.image

    def flush(self) -> None:
        """Forget a frame waiting from before now (the countdown's) so a clip starts fresh."""
        if self._reader is not None:
            self._reader.take(0)

    def start(self, n: int) -> None:
        """Begin a clip of n frames (`capture` begins its own)."""
        self.frames, self.want, self._since = [], n, time.monotonic()

    def capture(self, n: int, on_frame=None) -> list[np.ndarray]:
        """The next clip of n frames from the source; `on_frame(i, n, image)` after each."""
        self.start(n)
        while len(self.frames) < n:
            if self._reader is not None:
                frame = self._reader.take(timeout=self._patience())
                if frame is None:
                    raise self._failed(self._reader.error or "no frames")
                image = frame.image
            else:
                nxt = next(self._iter, None)
                if nxt is None:
                    self.ended = True
                    break
                image = nxt.image
            self._add(image, on_frame)
        return self.frames

    def offer(self, image: np.ndarray | None, on_frame=None) -> bool:
        """One look at the source's newest image (None: none yet) -> True once the clip has its
        frames. A new image is the clip's next frame (a copy: the caller keeps its own), the one
        taken last time is not."""
        if image is None or image is self._seen:
            if time.monotonic() - self._since > self._patience():
                raise self._failed("no new frame")
            return False
        self._seen = image
        self._add(image.copy(), on_frame)
        return len(self.frames) >= self.want

    def _add(self, image: np.ndarray, on_frame) -> None:
        self.frames.append(image)
        self._since = time.monotonic()
        if on_frame is not None:
            on_frame(len(self.frames), self.want, image)

    def _patience(self) -> float:
        """Seconds to wait for the next frame: a camera may take a moment to deliver its first."""
        return self.stall_s * (1 if self.frames else 2.5)

    def _failed(self, why: str) -> SourceFailed:
        return SourceFailed(f"{self.name} stopped delivering frames after {len(self.frames)} of "
                            f"{self.want} ({why})", self.frames)


# ---------------------------------------------------------------- recording a series of clips

@dataclass
class Session:
    """What `record_clips` did."""

    saved: list[str] = field(default_factory=list)  # ids of the clips written, in order
    notes: list[str] = field(default_factory=list)  # to say at the end: a source that ran out, ^C
    failure: str | None = None  # why the camera stopped mid-clip (that clip dropped; no more tried)


def record_clips(rs: RecordingSet, label: str, source: FrameSource, count: int, n_frames: int,
                 say: Callable[..., None], countdown_s: float = 3.0, redraw: bool = True) -> Session:
    """`lcr-edge record`'s loop: `count` clips of `n_frames` frames of `label` from `source` into
    `rs`, each after a countdown when the source is a camera. `say(text, end="\\n")` shows the
    progress; "\\r" lines redraw in place (redraw=False, e.g. into a log file: one line a clip).
    Ctrl+C ends it, keeping the clips saved so far."""
    session = Session()

    def progress(i: int, n: int, _img) -> None:
        if not redraw and i < n:
            return
        done = int(20 * i / n)
        say(f"\r  ● REC clip {len(session.saved) + 1}/{count} [{'#' * done}{'.' * (20 - done)}] "
            f"{i / RECORD_FPS:4.1f}/{n / RECORD_FPS:.1f} s", end="")

    try:
        with ClipCapture(source) as cap:
            for k in range(count):
                if source.live and countdown_s > 0:
                    for left in range(int(round(countdown_s)), 0, -1):
                        say(f"\r  clip {k + 1}/{count}: get ready ... {left} ", end="")
                        time.sleep(1.0)
                    say(f"\r  clip {k + 1}/{count}: GO!{' ' * 20}", end="")
                    cap.flush()
                try:
                    frames = cap.capture(n_frames, progress)
                except SourceFailed as exc:
                    say("")
                    session.failure = str(exc)
                    return session
                say("")
                if len(frames) < n_frames:  # a video or folder ran out
                    if len(frames) < MIN_FRAMES:
                        session.notes.append(f"the source ended: the last clip had only "
                                             f"{len(frames)} frames (fewer than {MIN_FRAMES}), not "
                                             f"saved")
                        break
                    session.notes.append(f"the source ended: clip {k + 1} kept with {len(frames)} "
                                         f"of {n_frames} frames (the trainer pads short clips)")
                session.saved.append(rs.add_clip(label, frames, source=source.name))
                if cap.ended:
                    if k + 1 < count:
                        session.notes.append(f"the source ended after {len(session.saved)} of "
                                             f"{count} clips")
                    break
    except KeyboardInterrupt:
        say("")
        session.notes.append(f"interrupted: {len(session.saved)} clip(s) saved, the one in "
                             f"progress dropped")
    return session
