"""Atomic file writes: a checkpoint, export or metadata file is either the old one or the new one,
never half of each (write to a temporary file in the same folder, fsync, rename)."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from lcr_edge.errors import LCRError


def _read_umask() -> int:
    mask = os.umask(0)  # the only portable way to read it is to set it: do it once, at import,
    os.umask(mask)      # not on every write (another thread creating a file meanwhile gets 0)
    return mask


_UMASK = _read_umask()


@contextmanager
def atomic_path(path: str | os.PathLike):
    """Yield a temporary path next to `path`; on success it replaces `path` atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(path.parent, f".{path.name}.*.tmp")  # from writes that were killed
    fd, tmp = tempfile.mkstemp(prefix=owned_prefix(f".{path.name}."), suffix=".tmp",
                               dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes it 0600; a plain open() would not
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_json(path: str | os.PathLike, obj) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=False) + "\n")


def file_sha256(path: str | os.PathLike) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_text(path: Path) -> str:
    """A small text file users write (CSV, labels): UTF-8 (a byte-order mark is dropped);
    anything else is one clear error."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[:exc.start].count(b"\n") + 1
        raise LCRError(f"{path}:{line}: not UTF-8 text (byte {exc.object[exc.start]:#04x}); save "
                       f"it as UTF-8") from None
    except OSError as exc:
        raise LCRError(f"{path}: cannot read ({exc.strerror})") from None


# How a whole JPEG or PNG file ends; a file cut short (a copy broken off, a full disk) does not,
# and OpenCV decodes it anyway, grey where the bytes ran out ("Premature end of JPEG file").
_IMAGE_ENDS = ((b"\xff\xd8", b"\xff\xd9"), (b"\x89PNG", b"IEND\xaeB`\x82"))


def read_image(path: str | os.PathLike):
    """A JPEG/PNG/... frame as BGR uint8, or None when it is unreadable or cut short (a partial
    frame is not a frame: callers skip it as they skip an unreadable one)."""
    import cv2
    import numpy as np

    try:
        data = np.fromfile(str(path), np.uint8)
    except OSError:
        return None
    head, tail = data[:4].tobytes(), data[-64:].tobytes()  # not a copy of the whole file
    for start, end in _IMAGE_ENDS:
        if head.startswith(start) and end not in tail.rstrip(b"\0\r\n "):
            return None
    return cv2.imdecode(data, cv2.IMREAD_COLOR) if len(data) else None


def is_plain_name(name) -> bool:
    """A file or folder name that stays inside its folder: no separators, no '..', not hidden."""
    return isinstance(name, str) and name not in ("", ".", "..") and "/" not in name \
        and "\\" not in name and not name.startswith(".")


def check_output_folder(path, what: str = "--out", create: bool = True) -> Path:
    """Fail at once, before any work, when `path` cannot become a writable folder (it is a file, or
    the place is not writable). create=True makes the folder; create=False checks its parent (an
    export publishes the whole folder at the end). Returns it as a Path."""
    path = Path(path).expanduser()
    if path.exists() and not path.is_dir():
        raise LCRError(f"{what} {path}: is a file, not a folder")
    where = path if create or path.is_dir() else path.parent
    try:
        where.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=where, prefix=".write-test-"):
            pass
    except OSError as exc:
        raise LCRError(f"{what} {path}: cannot write there ({exc.strerror or exc})") from None
    return path


def one_model_argument(positional, option) -> Path:
    """The checkpoint given as `CHECKPOINT` or as `--model` (commands take it either way)."""
    if positional is not None and option is not None and Path(positional) != Path(option):
        raise LCRError(f"two checkpoints given: {positional} and --model {option}; give one")
    chosen = positional if positional is not None else option
    if chosen is None:
        raise LCRError("no checkpoint: give it as the first argument or with --model CKPT")
    return Path(chosen)


LEFTOVER_AGE_S = 3600.0  # a write in progress is minutes old at most; older ones were killed


def owned_prefix(prefix: str) -> str:
    """A temporary name's prefix that says which process writes it (`remove_leftovers` removes
    the leftovers of processes that have ended at once, not only once they are old)."""
    return f"{prefix}{os.getpid()}-"


def _ended(pid: int) -> bool:
    """No process has this id (another user's process raises PermissionError: it runs)."""
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        pass
    return False


def remove_leftovers(folder, pattern: str, older_than: float = LEFTOVER_AGE_S) -> list[Path]:
    """Delete what interrupted runs left in `folder` (temporary files or folders matching
    `pattern`): at once when the process named in it (`owned_prefix`) has ended, else once
    untouched for `older_than` seconds; returns what was removed."""
    import shutil
    import time

    folder = Path(folder)
    removed = []
    if not folder.is_dir():
        return removed
    now = time.time()
    head = pattern.split("*", 1)[0]
    for p in folder.glob(pattern):
        pid, sep, _ = p.name[len(head):].partition("-")
        ended = bool(sep) and pid.isdigit() and _ended(int(pid))
        try:
            if not ended and now - p.stat().st_mtime < older_than:
                continue
            shutil.rmtree(p) if p.is_dir() and not p.is_symlink() else p.unlink()
            removed.append(p)
        except OSError:
            continue
    return removed


@contextmanager
def building(out: str | os.PathLike):
    """Build a whole folder beside `out`, then put it in out's place in one step: a reader sees
    the old folder or the new one, never a mix, and a run killed before the end leaves the old one
    as it was. The new folder starts as a copy of the old one (an export adds to what is there).

    >>> import tempfile
    >>> out = Path(tempfile.mkdtemp()) / "model"
    >>> with building(out) as work:
    ...     _ = (work / "model.json").write_text("{}")
    ...     out.exists()
    False
    >>> sorted(p.name for p in out.iterdir())
    ['model.json']
    """
    import shutil

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(out.parent, f".{out.name}.building-*")  # from runs that were killed
    work = Path(tempfile.mkdtemp(prefix=owned_prefix(f".{out.name}.building-"), dir=out.parent))
    try:
        os.chmod(work, 0o777 & ~_UMASK)  # mkdtemp makes it 0700; the folder is the user's
        if out.is_dir():
            shutil.copytree(out, work, symlinks=True, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns(".staging-*", ".finetune-*", ".*.tmp"))
        yield work
        _swap_in(work, out)
    finally:
        shutil.rmtree(work, ignore_errors=True)  # after an exchange: the old folder


def _swap_in(work: Path, out: Path) -> None:
    """work takes out's place: Linux exchanges the two in one step; elsewhere two renames."""
    import shutil

    if not out.exists():
        os.rename(work, out)
    elif not exchange_paths(work, out):
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.previous-", dir=out.parent))
        os.rmdir(old)
        os.rename(out, old)
        os.rename(work, out)
        shutil.rmtree(old, ignore_errors=True)


def exchange_paths(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    return renameat2(at_fdcwd, os.fsencode(str(a)), at_fdcwd, os.fsencode(str(b)),
                     rename_exchange) == 0


class VideoOut:
    """Frames -> a video file (.mp4/.mov: mp4v, else MJPG), written beside the target and renamed
    into place by `close(ok=True)` only when it holds every frame written (a full disk or a
    file-size limit leaves a short video that OpenCV writes without a word)."""

    def __init__(self, path: Path, fps: float):
        self.path, self.fps, self.writer = Path(path), fps, None
        self.tmp = self.path.with_name(f".{self.path.stem}.partial{self.path.suffix}")
        self.size: tuple[int, int] | None = None
        self.frames = 0

    def write(self, image) -> None:
        import cv2

        if self.writer is None:
            fourcc = "mp4v" if self.path.suffix.lower() in (".mp4", ".m4v", ".mov") else "MJPG"
            self.path.parent.mkdir(parents=True, exist_ok=True)
            h, w = image.shape[:2]
            self.writer = cv2.VideoWriter(str(self.tmp), cv2.VideoWriter_fourcc(*fourcc),
                                          self.fps, (w, h))
            if not self.writer.isOpened():
                raise LCRError(f"{self.path}: cannot write a video here (use .mp4 or .avi)")
            self.size = (w, h)
        if image.shape[1::-1] != self.size:  # a writer silently drops frames of another size
            image = cv2.resize(image, self.size, interpolation=cv2.INTER_AREA)
        self.writer.write(image)
        self.frames += 1

    def close(self, ok: bool) -> None:
        """Publish the video if it holds every frame written; say so when it does not."""
        import cv2

        problem = None
        if self.writer is not None:
            self.writer.release()
            if ok:
                cap = cv2.VideoCapture(str(self.tmp))
                got = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) if cap.isOpened() else 0
                cap.release()
                if got < self.frames:  # a full disk or a file-size limit cut it short
                    problem = (f"{self.path}: the video holds {got} of {self.frames} frames (disk "
                               f"full or a file-size limit?); not written")
                else:
                    os.replace(self.tmp, self.path)
        if self.tmp.exists():
            self.tmp.unlink()
        if problem:
            raise LCRError(problem)
