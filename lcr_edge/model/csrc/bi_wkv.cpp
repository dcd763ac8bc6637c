// Torch binding of the Bi-WKV CUDA passes (bi_wkv.cu); composed into the op and its gradients by
// lcr_edge/model/wkv_cuda.py. Inputs [B, T, H, N] contiguous CUDA tensors of one dtype (fp32,
// bf16, fp16); w, u [H, N] fp32. Outputs fp32.

#include <torch/extension.h>

#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime.h>

#include <tuple>

int lcr_bi_wkv_value_pass(int dtype_code, int B, int T, int H, int N, const void* p,
                          const void* q, const void* s, const float* w, const float* u,
                          float* out, cudaStream_t stream);
int lcr_bi_wkv_key_pass(int dtype_code, int B, int T, int H, int N, const void* q, const void* a,
                        const void* b, const void* x, const float* w, const float* u, float* out,
                        float* dw_part, float* du_part, cudaStream_t stream);

namespace {

bool supported_head_size(int64_t n) {
  return n == 16 || n == 32 || n == 48 || n == 64 || n == 96 || n == 128;
}

int dtype_code(const torch::Tensor& x) {
  switch (x.scalar_type()) {
    case torch::kFloat: return 0;
    case torch::kBFloat16: return 1;
    case torch::kHalf: return 2;
    default: TORCH_CHECK(false, "bi_wkv cuda: dtype must be float32, bfloat16 or float16, got ",
                         x.scalar_type());
  }
  return -1;
}

// Checks p, q, s (the [B, T, H, N] operands) and w, u; returns the dtype code.
int check(const torch::Tensor& p, const torch::Tensor& q, const torch::Tensor& s,
          const torch::Tensor& w, const torch::Tensor& u) {
  TORCH_CHECK(p.dim() == 4, "bi_wkv cuda: operands must be [B, T, H, N], got ", p.sizes());
  for (const auto* x : {&p, &q, &s}) {
    TORCH_CHECK(x->is_cuda() && x->is_contiguous(), "bi_wkv cuda: operands must be contiguous "
                "CUDA tensors");
    TORCH_CHECK(x->sizes() == p.sizes(), "bi_wkv cuda: operand shapes differ: ", p.sizes(),
                " vs ", x->sizes());
    TORCH_CHECK(x->scalar_type() == p.scalar_type(), "bi_wkv cuda: operand dtypes differ");
    TORCH_CHECK(x->get_device() == p.get_device(), "bi_wkv cuda: operands on different GPUs");
  }
  TORCH_CHECK(supported_head_size(p.size(3)), "bi_wkv cuda: head size ", p.size(3),
              " not supported (16, 32, 48, 64, 96, 128)");
  TORCH_CHECK(p.numel() < (int64_t(1) << 40) && p.size(0) * p.size(2) < (int64_t(1) << 31),
              "bi_wkv cuda: too large");
  for (const auto* x : {&w, &u}) {
    TORCH_CHECK(x->is_cuda() && x->is_contiguous() && x->scalar_type() == torch::kFloat &&
                x->get_device() == p.get_device(),
                "bi_wkv cuda: w and u must be contiguous float32 tensors on the operands' GPU");
    TORCH_CHECK(x->dim() == 2 && x->size(0) == p.size(2) && x->size(1) == p.size(3),
                "bi_wkv cuda: w and u must be [H, N]");
  }
  return dtype_code(p);
}

void check_status(int status, const char* what) {
  TORCH_CHECK(status == cudaSuccess, "bi_wkv cuda: ", what, " failed: ",
              cudaGetErrorString(static_cast<cudaError_t>(status)));
}

// out_t = sum_j sum_c p_t[c] q_j[c] D[t,j,c] s_j   (y = value_pass(r, k, v); dv = (k, r, dy))
torch::Tensor value_pass(torch::Tensor p, torch::Tensor q, torch::Tensor s, torch::Tensor w,
                         torch::Tensor u) {
  const int code = check(p, q, s, w, u);
  const c10::cuda::CUDAGuard guard(p.device());
  auto out = torch::empty(p.sizes(), p.options().dtype(torch::kFloat));
  check_status(lcr_bi_wkv_value_pass(code, p.size(0), p.size(1), p.size(2), p.size(3),
                                     p.data_ptr(), q.data_ptr(), s.data_ptr(),
                                     w.data_ptr<float>(), u.data_ptr<float>(),
                                     out.data_ptr<float>(),
                                     c10::cuda::getCurrentCUDAStream().stream()),
               "value pass");
  return out;
}

// out_t[c] = sum_j D[t,j,c] a_j[c] (q_t . b_j)   (dr = key_pass(dy, k, v, x=r); dk = (v, r, dy))
// With x given also returns dw and du partial sums [B, H, N]; else those are empty.
std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> key_pass(
    torch::Tensor q, torch::Tensor a, torch::Tensor b, c10::optional<torch::Tensor> x,
    torch::Tensor w, torch::Tensor u) {
  const int code = check(q, a, b, w, u);
  if (x.has_value()) check(*x, a, b, w, u);
  const c10::cuda::CUDAGuard guard(q.device());
  auto out = torch::empty(q.sizes(), q.options().dtype(torch::kFloat));
  auto part_shape = std::vector<int64_t>{x.has_value() ? q.size(0) : 0, q.size(2), q.size(3)};
  auto dw_part = torch::empty(part_shape, out.options());
  auto du_part = torch::empty(part_shape, out.options());
  check_status(lcr_bi_wkv_key_pass(code, q.size(0), q.size(1), q.size(2), q.size(3),
                                   q.data_ptr(), a.data_ptr(), b.data_ptr(),
                                   x.has_value() ? x->data_ptr() : nullptr, w.data_ptr<float>(),
                                   u.data_ptr<float>(), out.data_ptr<float>(),
                                   x.has_value() ? dw_part.data_ptr<float>() : nullptr,
                                   x.has_value() ? du_part.data_ptr<float>() : nullptr,
                                   c10::cuda::getCurrentCUDAStream().stream()),
               "key pass");
  return {out, dw_part, du_part};
}

}  // namespace

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("value_pass", &value_pass, "Bi-WKV value pass (fp32 out)");
  m.def("key_pass", &key_pass, "Bi-WKV key pass (fp32 out, dw/du partial sums when x is given)");
}
