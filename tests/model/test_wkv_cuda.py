"""The Bi-WKV CUDA kernel: its algorithm (CPU emulation of the kernel's loops, runs everywhere),
its sources (compile check with the local nvcc) and, on a GPU, the kernel itself against the dense
reference: values and all five gradients, fp32 and bf16, and a whole LCR training step."""

import copy
import shutil
import subprocess
import sysconfig
from pathlib import Path

import pytest
import torch

from lcr_edge.model import wkv_cuda
from lcr_edge.model.wkv import bi_wkv, force_reference, use_reference
from lcr_edge.model.wkv import bi_wkv_reference as _reference
from lcr_edge.model.wkv_emulate import bi_wkv_emulated


def bi_wkv_reference(*args):
    """The reference in the kernel's own form (the 3-way product in the diagonal blocks): the
    matmul form differs from it by rounding, which is all a zero gradient (dw at T = 2) is made of."""
    return _reference(*args, matmul_blocks=False)


cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
NAMES = ("y", "dr", "dk", "dv", "dw", "du")


def dense_truth(r, k, v, w, u):
    """y_t = sum_j sum_c r_t[c] k_j[c] D[t,j,c] v_j with the T x T x H x N tensor D spelled out."""
    T = r.shape[1]
    pos = torch.arange(T, device=r.device)
    lag = (pos[:, None] - pos[None, :]).abs()[..., None, None]  # [T, T, 1, 1]
    d = torch.where(lag == 0, u, w ** (lag - 1).clamp(min=0))  # [T, T, H, N]
    return torch.einsum("bthc,bjhc,tjhc,bjhi->bthi", r, k, d, v)


def make_inputs(B, T, H, N, decay, seed=0, dtype=torch.float32, device="cpu"):
    g = torch.Generator().manual_seed(seed)
    r, k, v = (torch.randn(B, T, H, N, generator=g, dtype=torch.float64) for _ in range(3))
    omega = {"strong": (0.0, 5.0), "weak": (-8.0, -4.0), "mixed": (-6.0, 1.0)}[decay]
    w = torch.exp(-torch.exp(torch.linspace(*omega, H * N, dtype=torch.float64))).view(H, N)
    u = torch.randn(H, N, generator=g, dtype=torch.float64)
    return [x.to(device=device, dtype=dtype if x.dim() == 4 else w_dtype(dtype)).requires_grad_()
            for x in (r, k, v, w, u)]


def w_dtype(dtype):  # w and u are model parameters: fp32 unless the test runs in float64
    return torch.float64 if dtype == torch.float64 else torch.float32


def values_and_grads(fn, args, seed=1):
    """[y, dr, dk, dv, dw, du] for loss = sum(y * g) with a fixed random g."""
    y = fn(*args)
    g = torch.randn(y.shape, generator=torch.Generator().manual_seed(seed)).to(y)
    return [y, *torch.autograd.grad((y * g).sum(), args)]


def assert_close_rel(got, want, rel, what=""):
    """max |got - want| <= rel * max |want| for each of y and the five gradients."""
    names = NAMES if len(got) == len(NAMES) else [f"#{i}" for i in range(len(got))]
    for name, a, b in zip(names, got, want, strict=True):
        assert a.dtype == b.dtype and a.shape == b.shape, name
        err = (a.double() - b.double()).abs().max().item()
        scale = b.double().abs().max().item()
        assert err <= rel * scale + 1e-30, f"{what} {name}: max error {err:.3g} vs max {scale:.3g}"


# -- the algorithm, on CPU: emulation of the kernel's loops ---------------------------------------
@pytest.mark.parametrize("T", [1, 2, 3, 17])
@pytest.mark.parametrize("decay", ["strong", "weak", "mixed"])
def test_emulated_kernel_formulas_are_exact_in_float64(T, decay):
    args = make_inputs(2, T, 2, 5, decay, seed=T, dtype=torch.float64)
    got = values_and_grads(lambda *a: bi_wkv_emulated(*a, acc=torch.float64), args)
    assert_close_rel(got, values_and_grads(dense_truth, args), 1e-12, f"T={T} {decay}")


@pytest.mark.parametrize("T,N", [(1, 8), (2, 8), (197, 48), (1024, 8)])
@pytest.mark.parametrize("decay", ["strong", "weak", "mixed"])
def test_emulated_kernel_matches_reference_in_fp32(T, N, decay):
    args = make_inputs(1 if T > 200 else 2, T, 2, N, decay, seed=T)
    got = values_and_grads(bi_wkv_emulated, args)
    assert_close_rel(got, values_and_grads(bi_wkv_reference, args), 1e-4, f"T={T} {decay}")


def test_emulated_kernel_in_bf16_stays_within_bf16_rounding_of_the_reference():
    args = [a.detach() for a in make_inputs(2, 40, 2, 16, "mixed", seed=3)]
    low = [a.bfloat16().requires_grad_() if a.dim() == 4 else a.requires_grad_() for a in args]
    got = values_and_grads(bi_wkv_emulated, low)
    assert got[0].dtype == got[1].dtype == torch.bfloat16 and got[4].dtype == torch.float32
    assert_close_rel(got, values_and_grads(bi_wkv_reference, low), 2e-2, "bf16")


def test_force_reference_flag_nests_and_restores():
    assert not use_reference()
    with force_reference():
        with force_reference():
            assert use_reference()
        assert use_reference()
    assert not use_reference()


def test_unsupported_operands_are_left_to_the_reference():
    assert wkv_cuda.supports(torch.zeros(1, 2, 4, 48)) and wkv_cuda.supports(
        torch.zeros(1, 2, 4, 96, dtype=torch.bfloat16))
    assert not wkv_cuda.supports(torch.zeros(1, 2, 4, 50))
    assert not wkv_cuda.supports(torch.zeros(1, 2, 4, 48, dtype=torch.float64))


# -- the sources compile (here, without a GPU) ----------------------------------------------------
def cuda_include() -> Path | None:
    """The CUDA toolkit's include folder (for cuda_runtime.h), if one is installed."""
    import os

    homes = [os.environ.get("CUDA_HOME"), os.environ.get("CUDA_PATH"), "/usr/local/cuda"]
    if shutil.which("nvcc"):
        homes.append(Path(shutil.which("nvcc")).resolve().parent.parent)
    for home in filter(None, homes):
        if (Path(home) / "include" / "cuda_runtime.h").exists():
            return Path(home) / "include"
    return None


@pytest.fixture(scope="module")
def kernel_objects(tmp_path_factory):
    """arch -> (object file, nvcc stderr) of bi_wkv.cu, compiled once per arch with the flags
    torch.utils.cpp_extension uses."""
    from torch.utils.cpp_extension import COMMON_NVCC_FLAGS

    folder, built = tmp_path_factory.mktemp("nvcc"), {}

    def compile_for(arch):
        if arch not in built:
            obj = folder / f"bi_wkv_{arch}.o"
            done = subprocess.run(
                ["nvcc", "-c", "-O3", "-std=c++20", f"-arch={arch}", *COMMON_NVCC_FLAGS,
                 "-Xptxas", "-warn-spills", str(wkv_cuda.CSRC / "bi_wkv.cu"), "-o", str(obj)],
                capture_output=True, text=True)
            assert done.returncode == 0, done.stderr
            built[arch] = (obj, done.stderr)
        return built[arch]

    return compile_for


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("nvcc") is None, reason="nvcc not installed")
@pytest.mark.parametrize("arch", ["sm_80", "sm_90"])
def test_kernel_source_compiles_with_nvcc(arch, kernel_objects):
    _, stderr = kernel_objects(arch)
    lines = stderr.strip().splitlines()
    spills = [line for line in lines if "Registers are spilled" in line]
    assert lines == spills, stderr  # no other warnings
    # Head sizes 48 and 96 (our variants) keep their state in registers; 128 with dw may spill.
    assert not [line for line in spills if "Li48E" in line or "Li96E" in line], stderr


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("g++") is None or shutil.which("nm") is None
                    or shutil.which("nvcc") is None or cuda_include() is None,
                    reason="g++, nm or the CUDA toolkit not installed")
def test_binding_compiles_against_torch_headers_and_links_to_the_kernel(kernel_objects, tmp_path):
    from torch.utils.cpp_extension import include_paths

    # A CPU torch wheel ships the c10/cuda headers but not this generated one.
    stub = tmp_path / "c10" / "cuda" / "impl" / "cuda_cmake_macros.h"
    stub.parent.mkdir(parents=True)
    stub.write_text("#pragma once\n")
    obj = tmp_path / "binding.o"
    cmd = ["g++", "-std=c++20", "-c", "-O0", "-fPIC", "-Wall", "-DTORCH_EXTENSION_NAME=lcr_bi_wkv",
           *(f"-I{p}" for p in include_paths()), f"-I{tmp_path}",
           f"-I{sysconfig.get_paths()['include']}", f"-I{cuda_include()}",
           str(wkv_cuda.CSRC / "bi_wkv.cpp"), "-o", str(obj)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "bi_wkv.cpp" not in done.stderr, done.stderr  # no warnings in our own file

    def symbols(path, kind):  # our launchers' mangled names, as nm lists them
        out = subprocess.run(["nm", str(path)], capture_output=True, text=True, check=True).stdout
        return {line.split()[-1] for line in out.splitlines()
                if "lcr_bi_wkv_" in line and line.split()[-2] == kind}

    wanted = symbols(obj, "U")
    assert len(wanted) == 2, wanted
    assert wanted <= symbols(kernel_objects("sm_90")[0], "T")  # same signatures on both sides


# -- the kernel, on a GPU -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def kernel():
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA GPU")
    wkv_cuda.load_extension()  # a build error fails here, loudly
    return wkv_cuda.bi_wkv_cuda


@cuda
@pytest.mark.parametrize("T", [1, 2, 197, 1024])
@pytest.mark.parametrize("N", [48, 96])
@pytest.mark.parametrize("decay", ["strong", "weak", "mixed"])
def test_kernel_matches_reference_in_fp32(kernel, T, N, decay):
    args = make_inputs(3, T, 2, N, decay, seed=T + N, device="cuda")
    got = values_and_grads(kernel, args)
    assert_close_rel(got, values_and_grads(bi_wkv_reference, args), 1e-4, f"T={T} N={N} {decay}")


@cuda
@pytest.mark.parametrize("N", [16, 32, 64, 128])
def test_kernel_other_head_sizes(kernel, N):
    args = make_inputs(2, 33, 2, N, "mixed", seed=N, device="cuda")
    assert_close_rel(values_and_grads(kernel, args), values_and_grads(bi_wkv_reference, args), 1e-4)


@cuda
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_kernel_in_low_precision_stays_within_its_rounding_of_the_reference(kernel, dtype):
    args = make_inputs(4, 197, 4, 48, "mixed", seed=5, dtype=dtype, device="cuda")
    got = values_and_grads(kernel, args)
    assert got[0].dtype == dtype
    assert_close_rel(got, values_and_grads(bi_wkv_reference, args), 2e-2, str(dtype))


@cuda
def test_kernel_handles_non_contiguous_and_mixed_dtype_operands(kernel):
    r, k, v, w, u = make_inputs(2, 19, 2, 48, "mixed", device="cuda")
    kt = k.detach().transpose(0, 1).contiguous().transpose(0, 1).requires_grad_()  # strided
    args = [r, kt, v.detach().bfloat16().requires_grad_(), w, u]  # v in bf16, the rest fp32
    got, want = values_and_grads(kernel, args), values_and_grads(bi_wkv_reference, args)
    assert got[3].dtype == torch.bfloat16
    assert_close_rel(got[:3] + got[4:], want[:3] + want[4:], 1e-4)
    assert_close_rel(got[3:4], want[3:4], 1e-2)  # dv: both cast to bf16


@cuda
def test_public_op_dispatches_cuda_tensors_to_the_kernel(kernel, monkeypatch):
    calls = []
    monkeypatch.setattr(wkv_cuda, "bi_wkv_cuda", lambda *a: calls.append(1) or kernel(*a))
    args = [a.detach() for a in make_inputs(1, 9, 2, 48, "mixed", device="cuda")]
    bi_wkv(*args)
    assert calls == [1]
    with force_reference():
        bi_wkv(*args)
    bi_wkv(*[a.double() for a in args])  # float64: the reference
    bi_wkv(*[a[..., :40] for a in args])  # head size 40: the reference
    monkeypatch.setenv("LCR_WKV_REFERENCE", "1")
    bi_wkv(*args)
    assert calls == [1]


def assert_training_step_paths_agree(variant, device):
    """One SGD step of a small LCR clip batch with the kernel path and with force_reference():
    equal loss, gradients (1e-3 of each tensor's largest) and updated parameters."""
    from lcr_edge.model import create_model

    lr = 0.1
    torch.manual_seed(0)
    model = create_model(variant, num_classes=5).to(device)
    with torch.no_grad():  # a non-zero edge embedding, so that K and V carry signal
        model.edge_embed.weight.normal_(std=0.05)
        model.edge_cls.normal_(std=0.5)
    models = {"kernel": model, "reference": copy.deepcopy(model)}
    frames = torch.randn(2, 2, 3, 112, 112, device=device)
    edges = (torch.rand(2, 2, 1, 112, 112, device=device) > 0.8).float()
    labels = torch.tensor([1, 3], device=device)
    out = {}
    for name, m in models.items():
        opt = torch.optim.SGD(m.parameters(), lr=lr)  # the update is lr * grad: comparable
        with force_reference(name == "reference"):
            logits = m(frames, edges)
            loss = torch.nn.functional.cross_entropy(logits[:, -1], labels, label_smoothing=0.1)
            opt.zero_grad()
            loss.backward()
            grads = {n: p.grad.clone() for n, p in m.named_parameters() if p.grad is not None}
            opt.step()
        out[name] = (loss.detach(), grads, {n: p.detach().clone() for n, p in m.named_parameters()})
    (loss_k, grads_k, params_k), (loss_r, grads_r, params_r) = out["kernel"], out["reference"]
    torch.testing.assert_close(loss_k, loss_r, rtol=1e-5, atol=1e-6)
    assert grads_k.keys() == grads_r.keys()
    assert grads_r["units.0.gate.omega"].abs().max() > 0  # the decay is being trained
    for n in grads_r:
        scale = grads_r[n].abs().max().item()
        err = (grads_k[n] - grads_r[n]).abs().max().item()
        assert err <= 1e-3 * scale + 1e-7, f"grad of {n}: {err:.3g} vs max {scale:.3g}"
    for n in params_r:
        scale = grads_r[n].abs().max().item() if n in grads_r else 0.0
        err = (params_k[n] - params_r[n]).abs().max().item()
        assert err <= lr * (1e-3 * scale + 1e-7) + 1e-7, f"parameter {n} after the step"


def test_lcr_training_step_with_emulated_kernel_equals_the_reference_step(monkeypatch):
    import lcr_edge.model.lcr as lcr

    def bi_wkv_cpu(*args, matmul_blocks=None):  # what bi_wkv does on CUDA, the kernel emulated
        return _reference(*args, matmul_blocks=matmul_blocks) if use_reference() \
            else bi_wkv_emulated(*args)

    monkeypatch.setattr(lcr, "bi_wkv", bi_wkv_cpu)
    assert_training_step_paths_agree("lcr-s", "cpu")


@cuda
@pytest.mark.parametrize("variant", ["lcr-s", "lcr"])
def test_lcr_training_step_with_kernel_equals_the_reference_step(kernel, variant):
    assert_training_step_paths_agree(variant, "cuda")
