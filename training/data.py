"""Clip datasets: the real 20BN Jester layout (also what `lcr-edge synth` writes) and a plain folder
of videos per class, both into (frames [F,3,S,S], edges [F,1,S,S], label) through the one
preprocessing in `lcr_edge.preprocess`.

Jester:  ROOT/<id>/00001.jpg ... (or ROOT/20bn-jester-v1/<id>/...), ROOT/jester-v1-labels.csv (one
         label a line), ROOT/jester-v1-train.csv, ROOT/jester-v1-validation.csv (`id;label`, no
         header), ROOT/jester-v1-test.csv (ids only).
Videos:  ROOT/<label>/*.mp4|avi|mov|mkv, or ROOT/train/<label>/... and ROOT/validation/<label>/...;
         without split folders, a file goes to validation when a hash of its name says so.

Sampling (paper: F frames a clip, short clips padded by repeating frames): F frames `stride` apart
(stride 1 = every frame, as the paper), a random start when training, centred otherwise. Training
adds a mild random crop (the same for every frame of a clip) and, with probability `flip`, a
horizontal flip of the whole clip that also swaps its label for the mirrored one (Swiping Left <->
Swiping Right and the other pairs of `lcr_edge.labels.MIRRORED`); classes whose mirror is not in
the set, and classes that are not Jester's, are never flipped. Randomness is a function of (seed,
epoch, clip index), so a resumed run sees exactly the batches an unbroken one would.

A missing or corrupt frame skips its clip: the item is a `Skipped`, `collate` drops and names it.
An unknown label or a malformed CSV line stops with the file and line named.
"""

from __future__ import annotations

import copy
import hashlib
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from lcr_edge.errors import LCRError
from lcr_edge.io import is_plain_name, read_image, read_text
from lcr_edge.labels import CLIP_FRAMES, JESTER_FPS, mirror_index
from lcr_edge.preprocess import Preprocess

VIDEO_EXTS = (".mp4", ".avi", ".mov", ".mkv", ".webm")
SPLIT_FILES = {"train": "jester-v1-train.csv", "validation": "jester-v1-validation.csv",
               "test": "jester-v1-test.csv"}


@dataclass(frozen=True)
class Sampling:
    frames: int = CLIP_FRAMES
    stride: int = 1
    source_fps: float = JESTER_FPS

    @property
    def frame_rate(self) -> float:
        """The rate the model sees frames at; the app must feed it frames at this rate."""
        return self.source_fps / self.stride


@dataclass(frozen=True)
class Clip:
    key: str  # Jester id or video path
    label: int  # -1 when unlabelled (test split)
    frames_dir: Path | None = None
    video: Path | None = None


def read_labels(path: Path) -> list[str]:
    if not path.is_file():
        raise LCRError(f"{path}: labels file not found")
    labels = [ln.strip() for ln in read_text(path).splitlines()]
    labels = [lb for lb in labels if lb]
    dupes = {lb for lb in labels if labels.count(lb) > 1}
    if not labels or dupes:
        raise LCRError(f"{path}: {'no labels' if not labels else f'duplicate labels {sorted(dupes)}'}")
    return labels


def read_split(path: Path, labels: list[str], with_labels: bool = True) -> list[tuple[str, int]]:
    """Parse `id;label` lines (or ids only); any bad line stops with file:line."""
    if not path.is_file():
        raise LCRError(f"{path}: split file not found")
    index = {lb: i for i, lb in enumerate(labels)}
    rows = []
    for n, line in enumerate(read_text(path).splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        parts = line.split(";")
        if with_labels:
            if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
                raise LCRError(f"{path}:{n}: malformed line {line!r}; expected 'id;label'")
            clip_id, label = parts[0].strip(), parts[1].strip()
            _check_id(path, n, clip_id)
            if label not in index:
                raise LCRError(f"{path}:{n}: unknown label {label!r} (not in jester-v1-labels.csv)")
            rows.append((clip_id, index[label]))
        else:
            if len(parts) != 1 or not parts[0].strip():
                raise LCRError(f"{path}:{n}: malformed line {line!r}; expected an id")
            _check_id(path, n, parts[0].strip())
            rows.append((parts[0].strip(), -1))
    seen: dict[str, int] = {}
    for k, (clip_id, _) in enumerate(rows):
        if clip_id in seen:
            raise LCRError(f"{path}: clip {clip_id!r} is listed twice (rows {seen[clip_id] + 1} and "
                           f"{k + 1} of the file's clips)")
        seen[clip_id] = k
    return rows


def _check_id(path: Path, n: int, clip_id: str) -> None:
    """A clip id names one folder inside the set: no path separators, no way out of it."""
    if not is_plain_name(clip_id):
        raise LCRError(f"{path}:{n}: clip id {clip_id!r} is not a folder name inside the set")


def jester_clips(root: Path, split: str) -> tuple[list[Clip], list[str]]:
    if split not in SPLIT_FILES:
        raise LCRError(f"unknown split {split!r}; choose one of {', '.join(SPLIT_FILES)}")
    labels = read_labels(root / "jester-v1-labels.csv")
    rows = read_split(root / SPLIT_FILES[split], labels, with_labels=split != "test")
    if split == "train" and (root / SPLIT_FILES["validation"]).is_file():  # no clip in both splits
        other = {cid for cid, _ in read_split(root / SPLIT_FILES["validation"], labels)}
        both = sorted({cid for cid, _ in rows} & other)
        if both:
            raise LCRError(f"{root}: clip(s) {', '.join(both[:5])} are in both the train and the "
                           f"validation split; a clip belongs to one")
    frames_root = root / "20bn-jester-v1" if (root / "20bn-jester-v1").is_dir() else root
    return [Clip(cid, lab, frames_dir=frames_root / cid) for cid, lab in rows], labels


def video_clips(root: Path, split: str, val_fraction: float = 0.2) -> tuple[list[Clip], list[str]]:
    split_dir = root / split
    base = split_dir if split_dir.is_dir() else root
    labels = sorted(d.name for d in base.iterdir() if d.is_dir() and d.name not in SPLIT_FILES)
    labels_file = root / "labels.txt"
    if labels_file.is_file():
        known = read_labels(labels_file)
        unknown = [lb for lb in labels if lb not in known]
        if unknown:
            raise LCRError(f"{base}: class folder(s) {unknown} not in {labels_file}")
        labels = known
    clips = []
    for li, label in enumerate(labels):
        for f in sorted((base / label).glob("*")) if (base / label).is_dir() else []:
            if f.suffix.lower() not in VIDEO_EXTS:
                continue
            if base is root:  # no split folders: a stable hash of the name picks the split
                h = int(hashlib.sha1(f.name.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
                if (h < val_fraction) != (split == "validation"):
                    continue
            clips.append(Clip(str(f), li, video=f))
    return clips, labels


def is_jester(root: Path) -> bool:
    return (root / "jester-v1-labels.csv").is_file()


def find_clips(root: Path, split: str) -> tuple[list[Clip], list[str], float]:
    """A split's clips (maybe none), the set's labels and its frame rate (Jester's, or the first
    video's) in either layout `ClipDataset` reads; LCRError when `root` is neither."""
    if not root.is_dir():
        raise LCRError(f"{root}: data folder not found")
    if is_jester(root):
        clips, labels = jester_clips(root, split)
        return clips, labels, JESTER_FPS
    clips, labels = video_clips(root, split)
    if not labels or not any(f.suffix.lower() in VIDEO_EXTS for f in root.rglob("*")):
        raise LCRError(f"{root}: neither a Jester layout (jester-v1-labels.csv) nor class "
                       f"folders of videos")
    return clips, labels, _video_fps(clips[0].video) if clips else JESTER_FPS


def sample_indices(n: int, s: Sampling, rng: np.random.Generator | None) -> np.ndarray:
    """F indices into n frames, `stride` apart; short clips padded by repeating frames."""
    span = (s.frames - 1) * s.stride + 1
    if n >= span:
        start = int(rng.integers(0, n - span + 1)) if rng is not None else (n - span) // 2
        return start + s.stride * np.arange(s.frames)
    have = np.arange(0, n, s.stride)
    if len(have) >= s.frames:
        return have[: s.frames]
    if rng is not None:  # the paper: pad by randomly duplicating frames
        extra = rng.choice(have, size=s.frames - len(have), replace=True)
    else:
        extra = have[np.linspace(0, len(have) - 1, s.frames - len(have)).round().astype(int)]
    return np.sort(np.concatenate([have, extra]))


def read_jester_frames(frames_dir: Path) -> list[Path]:
    if not frames_dir.is_dir():
        raise FileNotFoundError(f"{frames_dir}: clip folder missing")
    files = sorted(p for p in frames_dir.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    if not files:
        raise FileNotFoundError(f"{frames_dir}: no frames")
    return files


def read_frame(path: Path) -> np.ndarray:
    """One Jester frame (BGR uint8); ValueError when unreadable or cut short."""
    img = read_image(path)
    if img is None:
        raise ValueError(f"{path}: unreadable or cut-short image")
    return img


def decode_video(path: Path) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    frames = []
    try:
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            frames.append(frame)
    finally:
        cap.release()
    if not frames:
        raise ValueError(f"{path}: no decodable frames")
    return frames


class ClipDataset(Dataset):
    """Items: (frames float32 [F,3,S,S], edges float32 [F,1,S,S], label int, key str), or a
    `Skipped` when the clip is unreadable (see `collate`)."""

    def __init__(self, clips: list[Clip], labels: list[str], sampling: Sampling = Sampling(),
                 train: bool = False, preprocess: Preprocess = Preprocess(), seed: int = 0,
                 jitter: float = 0.1, flip: float = 0.0):
        if not 0.0 <= flip <= 1.0:
            raise LCRError(f"flip must be a probability in [0, 1], got {flip}")
        self.clips, self.labels, self.sampling = clips, labels, sampling
        self.train, self.preprocess, self.seed, self.jitter = train, preprocess, seed, jitter
        self.flip, self.mirror = flip, mirror_index(labels)
        self.epoch = 0

    @classmethod
    def from_dir(cls, root, split: str = "train", frames: int = CLIP_FRAMES, train: bool = False,
                 preprocess: Preprocess = Preprocess(), stride: int = 1, source_fps: float | None = None,
                 seed: int = 0, labels: list[str] | None = None, jitter: float = 0.1,
                 flip: float = 0.0) -> ClipDataset:
        root = Path(root)
        clips, found, fps = find_clips(root, split)
        if labels is not None and list(labels) != list(found):
            raise LCRError(f"{root}: its labels {found} differ from the model's {list(labels)}")
        if not clips:
            raise LCRError(f"{root}: no clips in split {split!r}")
        return cls(clips, found, Sampling(frames, stride, source_fps or fps), train, preprocess, seed,
                   jitter, flip)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.clips)

    def load_frames(self, clip: Clip) -> list[np.ndarray]:
        """All frames of a clip as BGR uint8 (Jester: only the sampled ones are decoded)."""
        if clip.video is not None:
            return decode_video(clip.video)
        return read_jester_frames(clip.frames_dir)

    def __getitem__(self, i: int):
        clip = self.clips[i]
        rng = np.random.default_rng([self.seed, self.epoch, i]) if self.train else None
        try:
            frames = self.load_frames(clip)
            idx = sample_indices(len(frames), self.sampling, rng)
            picked = [frames[j] for j in idx]
            if clip.video is None:  # paths: decode only the sampled frames, once each
                cache = {}
                for p in picked:
                    if p not in cache:
                        cache[p] = read_frame(p)
                picked = [cache[p] for p in picked]
        except (OSError, ValueError, cv2.error) as exc:
            return Skipped(clip.key, str(exc))
        crop = crop_box(picked[0].shape, self.jitter, rng)
        label, flip = clip.label, False
        if rng is not None and self.flip > 0 and label >= 0 and self.mirror[label] >= 0:
            flip = bool(rng.random() < self.flip)
            label = self.mirror[label] if flip else label
        xs, es = [], []
        for img in picked:
            if crop is not None:
                y0, y1, x0, x1 = crop
                img = img[y0:y1, x0:x1]
            if flip:
                img = cv2.flip(img, 1)
            x, e = self.preprocess(img)
            xs.append(x)
            es.append(e)
        return torch.from_numpy(np.stack(xs)), torch.from_numpy(np.stack(es)), label, clip.key


def crop_box(shape, jitter: float, rng: np.random.Generator | None):
    """Mild spatial jitter, the same for every frame of a clip or stream: a random crop keeping
    1 - jitter .. 1 of each side, as (y0, y1, x0, x1); None without jitter or rng."""
    if rng is None or jitter <= 0:
        return None
    h, w = shape[:2]
    sh, sw = rng.uniform(1 - jitter, 1.0, size=2)
    ch, cw = max(2, int(h * sh)), max(2, int(w * sw))
    y0, x0 = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
    return y0, y0 + ch, x0, x0 + cw


def clips_for_model(data, split: str, info: dict, frames: int | None = None, train: bool = False,
                    limit: int | None = None) -> ClipDataset:
    """`split` of `data` as the model that `info` describes (a checkpoint, or an exported folder's
    model.json) was trained to see it: its labels in its order, its preprocessing, its frames a
    clip (unless `frames`) and its stride (without one: the data's rate over the model's, else 1).
    limit: at most that many clips, evenly spaced so that every class keeps some."""
    sampling = info.get("sampling") or {}
    pre = Preprocess.from_dict(info.get("preprocess", info))

    def dataset(stride: int) -> ClipDataset:
        return ClipDataset.from_dir(data, split, frames or sampling.get("frames") or CLIP_FRAMES,
                                    train=train, preprocess=pre, stride=stride, labels=info["labels"])

    ds = dataset(int(sampling.get("stride") or 1))
    if not sampling.get("stride") and info.get("frame_rate"):
        stride = max(1, round(ds.sampling.source_fps / float(info["frame_rate"])))
        ds = dataset(stride) if stride != 1 else ds
    if limit and limit < len(ds.clips):
        idx = np.linspace(0, len(ds.clips) - 1, limit).round().astype(int)
        ds.clips = [ds.clips[i] for i in idx]
    return ds


def hold_out(ds: ClipDataset, n: int) -> tuple[ClipDataset, ClipDataset | None]:
    """Set `n` evenly spaced clips of `ds` aside (every class keeps some; a small set keeps at least
    three quarters for training and may hold none out) -> (the rest, the held-out clips as
    validation sees them, without augmentation; None where none are held out)."""
    n = min(n, len(ds.clips) // 4)
    held = set(np.linspace(0, len(ds.clips) - 1, n).round().astype(int).tolist()) if n else set()
    rest, kept = copy.copy(ds), copy.copy(ds)
    rest.clips = [c for i, c in enumerate(ds.clips) if i not in held]
    kept.clips, kept.train = [c for i, c in enumerate(ds.clips) if i in held], False
    return rest, kept if kept.clips else None


def _video_fps(path: Path | None) -> float:
    if path is None:
        return JESTER_FPS
    cap = cv2.VideoCapture(str(path))
    fps = cap.get(cv2.CAP_PROP_FPS)
    cap.release()
    return float(fps) if fps and fps > 0 else 30.0


@dataclass(frozen=True)
class Skipped:
    """What a worker returns for an unreadable clip, so the loop can name and count it."""

    key: str
    reason: str


@dataclass
class Batch:
    frames: torch.Tensor  # (B, F, 3, S, S)
    edges: torch.Tensor  # (B, F, 1, S, S)
    labels: torch.Tensor  # (B,)
    keys: list[str]
    skipped: list[Skipped]  # clips dropped from this batch as unreadable

    def __iter__(self):  # unpacks as (frames, edges, labels), as the tests' tuples of tensors do
        return iter((self.frames, self.edges, self.labels))


def collate(items) -> Batch:
    good = [it for it in items if not isinstance(it, Skipped)]
    skipped = [it for it in items if isinstance(it, Skipped)]
    for it in skipped:
        warnings.warn(f"skipping clip {it.key}: {it.reason}", stacklevel=1)
    if not good:
        return Batch(torch.empty(0), torch.empty(0), torch.empty(0, dtype=torch.long), [], skipped)
    return Batch(torch.stack([g[0] for g in good]), torch.stack([g[1] for g in good]),
                 torch.tensor([g[2] for g in good], dtype=torch.long), [g[3] for g in good], skipped)


def make_loader(dataset: ClipDataset, batch_size: int = 8, shuffle: bool = False, workers: int = 2,
                batches: list[list[int]] | None = None) -> DataLoader:
    """Decoding and edges run in the workers; `collate` drops unreadable clips. `batches` (lists
    of indices) fixes the batches and their order, overriding batch_size and shuffle."""
    common = dict(num_workers=workers, collate_fn=collate,
                  worker_init_fn=_quiet_worker if workers else None)
    if batches is not None:
        return DataLoader(dataset, batch_sampler=batches, **common)
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, **common)


def _quiet_worker(_):
    torch.set_num_threads(1)  # workers decode; the main process owns the cores for the model


def epoch_order(n: int, seed: int, epoch: int) -> list[int]:
    """The shuffled order of an epoch: a pure function of (seed, epoch), so a resumed run can skip
    exactly the batches it already trained on."""
    g = torch.Generator().manual_seed(zlib.crc32(f"{seed}:{epoch}".encode()))
    return torch.randperm(n, generator=g).tolist()
