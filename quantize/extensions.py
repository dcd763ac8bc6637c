"""NNCF's fake quantizers run through a small C++ extension that NNCF compiles on first use (about
30 s; far longer on a busy machine). Three things go wrong with it: its 60-second build timeout
fires under load, a build killed midway leaves a `lock` file that makes the next run wait for ever,
and a machine without a compiler cannot build it at all.

`prepare()` raises the timeout (unless the user set one) and removes locks no running build can
own. `choose_fake_quant()` settles, before QAT needs it, which functions the quantizers run: the
extension when it is built or builds in time (in a child process that a timeout stops, lock and
all), otherwise NNCF's own pure-PyTorch reference functions (the same numbers, slower).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

BUILD_TIMEOUT_S = "900"  # NNCF_EXTENSION_LOAD_TIMEOUT: NNCF's own default is 60
STALE_LOCK_S = 1800  # a build takes minutes at most: an older lock was left by a killed one
FALLBACK_BUILD_S = 300.0  # with the PyTorch functions to fall back on, wait this long for a build
FAKE_QUANT_MODES = ("auto", "extension", "torch")

# Run in a child process: build (or load) the extension; the last line says which functions NNCF got.
BUILD_CODE = """
from nncf.torch.quantization.extensions import QuantizedFunctionsCPU
from nncf.torch.quantization.reference import ReferenceQuantizedFunctions
QuantizedFunctionsCPU.get("Quantize_forward")
print("reference" if QuantizedFunctionsCPU._loaded_namespace is ReferenceQuantizedFunctions
      else "extension")
"""


def extensions_dir() -> Path:
    """Where torch.utils.cpp_extension builds (what NNCF's extension uses)."""
    env = os.environ.get("TORCH_EXTENSIONS_DIR")
    return Path(env) if env else Path.home() / ".cache" / "torch_extensions"


def prepare(now: float | None = None) -> list[Path]:
    """Raise NNCF's build timeout and delete stale build locks; returns the locks removed."""
    os.environ.setdefault("NNCF_EXTENSION_LOAD_TIMEOUT", BUILD_TIMEOUT_S)
    now = time.time() if now is None else now
    removed = []
    root = extensions_dir()
    if not root.is_dir():
        return removed
    for lock in root.glob("*/nncf/**/lock"):
        try:
            if now - lock.stat().st_mtime > STALE_LOCK_S:
                lock.unlink()
                removed.append(lock)
        except OSError:
            continue
    for lock in removed:
        warnings.warn(f"removed a stale build lock left by an interrupted run: {lock}", stacklevel=2)
    return removed


def build_in_child(build_dir: Path, timeout_s: float, code: str = BUILD_CODE) -> tuple[bool, str]:
    """Build the extension in a child process -> (built, why not). A child past `timeout_s` is
    killed with its compiler, and the lock it took in `build_dir` is removed."""
    started = time.time()
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = child.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)  # the compiler runs in the child's process group
        child.communicate()
        lock = Path(build_dir) / "lock"
        try:
            if lock.stat().st_mtime >= started - 1:  # taken by this child, not by another run
                lock.unlink()
        except OSError:
            pass
        return False, f"it did not build within {timeout_s:.0f} s"
    said = out.strip().splitlines()[-1:] or [""]
    if child.returncode == 0 and said == ["extension"]:
        return True, ""
    reason = [ln for ln in err.strip().splitlines() if ln.strip()][-1:] or ["no compiler output"]
    return False, f"it could not be built ({reason[0].strip()[:160]})"


def use_reference_functions() -> None:
    """Point NNCF's CPU quantizers at its pure-PyTorch functions instead of the C++ extension."""
    from nncf.torch.quantization.extensions import QuantizedFunctionsCPU
    from nncf.torch.quantization.reference import ReferenceQuantizedFunctions

    QuantizedFunctionsCPU._loaded_namespace = ReferenceQuantizedFunctions


def choose_fake_quant(mode: str = "auto", timeout_s: float | None = None, log=print) -> str:
    """Which functions NNCF's quantizers run -> "extension" or "torch".

    mode "torch": NNCF's pure-PyTorch functions, no build. "extension": the C++ extension, which
    must build (an LCRError otherwise). "auto": the extension when it is built or builds within
    `timeout_s` (NNCF_EXTENSION_LOAD_TIMEOUT if set, else FALLBACK_BUILD_S), else the PyTorch
    functions, with one line saying why."""
    from lcr_edge.errors import LCRError

    if mode not in FAKE_QUANT_MODES:
        raise LCRError(f"fake quantization {mode!r}: choose one of {', '.join(FAKE_QUANT_MODES)}")
    if mode == "torch":
        use_reference_functions()
        return "torch"
    from nncf.torch.quantization.extensions import QuantizedFunctionsCPU, QuantizedFunctionsCPULoader
    from nncf.torch.quantization.reference import ReferenceQuantizedFunctions

    if QuantizedFunctionsCPU._loaded_namespace is not None:  # settled earlier in this process
        loaded = QuantizedFunctionsCPU._loaded_namespace is not ReferenceQuantizedFunctions
        if loaded or mode == "auto":
            return "extension" if loaded else "torch"
    build_dir = Path(QuantizedFunctionsCPULoader.get_build_dir())
    built, why = (build_dir / f"{QuantizedFunctionsCPULoader.name()}.so").is_file(), ""
    if not built:
        if timeout_s is None:
            env = os.environ.get("NNCF_EXTENSION_LOAD_TIMEOUT", "")
            timeout_s = float(env) if env.strip().lstrip("-").isdigit() and float(env) > 0 \
                else FALLBACK_BUILD_S
            if mode == "auto":
                timeout_s = min(timeout_s, FALLBACK_BUILD_S)
        log(f"building NNCF's C++ quantization extension (once per machine; at most "
            f"{timeout_s:.0f} s) ...")
        built, why = build_in_child(build_dir, timeout_s)
    if built:
        try:
            QuantizedFunctionsCPU.get("Quantize_forward")  # the build is there: this only loads it
            if QuantizedFunctionsCPU._loaded_namespace is not ReferenceQuantizedFunctions:
                return "extension"
            why = "NNCF could not load it"
        except Exception as exc:  # noqa: BLE001 - any failure to load means: use the fallback
            why = f"it could not be loaded ({type(exc).__name__}: {str(exc)[:160]})"
    if mode == "extension":
        raise LCRError(f"NNCF's C++ quantization extension: {why}; pass --fake-quant torch to "
                       f"quantize with its pure-PyTorch functions instead (slower, same numbers)")
    use_reference_functions()
    log(f"NNCF's C++ quantization extension: {why}; quantizing with its pure-PyTorch functions "
        f"(the same numbers, slower)")
    return "torch"
