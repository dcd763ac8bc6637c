// Bi-WKV CUDA kernels (forward and backward) for lcr_edge.model.wkv; design: docs/wkv.md.
//
// Per (batch row b, head h), rows of length N over T tokens, decay w in (0, 1), bonus u:
//   y_t = r_t . [ diag(u) k_t^T v_t + sum_{j != t} diag(w)^(|t-j|-1) k_j^T v_j ]
//       = sum_j sum_c r_t[c] k_j[c] D[t, j, c] v_j,   D[t,t,c] = u[c], else w[c]^(|t-j|-1).
// D is symmetric in (t, j), so the whole op and its gradients are two kinds of pass:
//
//   value pass  out_t[i] = sum_j sum_c p_t[c] q_j[c] D[t,j,c] s_j[i]      (one thread per i)
//     y  = value(r, k, v),  dv = value(k, r, dy)
//   key pass    out_t[c] = sum_j D[t,j,c] a_j[c] (q_t . b_j)               (one thread per c)
//     dr = key(q=dy, a=k, b=v),  dk = key(q=v, a=r, b=dy)
//     with x = r the dr pass also gives per-(b, h) partial sums of
//     du[c] = sum_t r_t[c] k_t[c] (dy_t . v_t)   and   dw[c] = sum_t r_t[c] (dy_t . dM_t[c]/dw).
//
// Each pass is one causal scan (t = 0..T-1, with the bonus) and one reverse scan (t = T-1..0,
// without it) over an N-long slice of the N x N state held in fp32 registers; both are plain
// additive scans (no subtraction, no division by powers of w). One block per (b, h), N threads.
// Inputs: [B, T, H, N] contiguous, fp32 / bf16 / fp16; w, u: [H, N] fp32; outputs fp32.

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace {

__device__ __forceinline__ float to_float(float x) { return x; }
__device__ __forceinline__ float to_float(__nv_bfloat16 x) { return __bfloat162float(x); }
__device__ __forceinline__ float to_float(__half x) { return __half2float(x); }

// Four consecutive floats of a 16-byte aligned shared array as an array (one 128-bit load).
struct Four {
  float v[4];
};
__device__ __forceinline__ Four load4(const float* shared, int at) {
  const float4 x = *reinterpret_cast<const float4*>(shared + at);
  return Four{{x.x, x.y, x.z, x.w}};
}

// out_t[i] = sum_c p_t[c] (u[c] q_t[c] s_t[i] + F_t[c][i] + R_t[c][i]), thread i owns column i of
// F_t = sum_{j<t} diag(w)^(t-1-j) q_j^T s_j (causal scan) and R_t (reverse scan).
template <int N, typename scalar_t>
__global__ void __launch_bounds__(N) value_pass_kernel(
    const int T, const int H, const scalar_t* __restrict__ p, const scalar_t* __restrict__ q,
    const scalar_t* __restrict__ s, const float* __restrict__ w, const float* __restrict__ u,
    float* __restrict__ out) {
  const int b = blockIdx.x / H, h = blockIdx.x % H, i = threadIdx.x;
  const int64_t step = (int64_t)H * N;             // distance between tokens t and t + 1
  const int64_t base = (int64_t)b * T * step + (int64_t)h * N + i;
  static_assert(N % 4 == 0, "head size must be a multiple of 4");
  __shared__ __align__(16) float p_s[N];           // 16-byte aligned for load4
  __shared__ __align__(16) float q_s[N];
  __shared__ __align__(16) float w_s[N];
  __shared__ __align__(16) float u_s[N];
  w_s[i] = w[h * N + i];
  u_s[i] = u[h * N + i];

  float state[N];
#pragma unroll
  for (int c = 0; c < N; ++c) state[c] = 0.f;
  for (int t = 0; t < T; ++t) {                    // causal scan, with the bonus
    const int64_t at = base + t * step;
    __syncthreads();                               // everyone is done with the previous token
    p_s[i] = to_float(p[at]);
    q_s[i] = to_float(q[at]);
    __syncthreads();
    const float si = to_float(s[at]);
    float acc = 0.f;
#pragma unroll
    for (int c4 = 0; c4 < N; c4 += 4) {
      const Four p4 = load4(p_s, c4), q4 = load4(q_s, c4), w4 = load4(w_s, c4), u4 = load4(u_s, c4);
#pragma unroll
      for (int d = 0; d < 4; ++d) {
        const int c = c4 + d;
        const float qs = q4.v[d] * si;
        acc += p4.v[d] * (u4.v[d] * qs + state[c]);
        state[c] = state[c] * w4.v[d] + qs;
      }
    }
    out[at] = acc;
  }
#pragma unroll
  for (int c = 0; c < N; ++c) state[c] = 0.f;
  for (int t = T - 1; t >= 0; --t) {               // reverse scan, no bonus
    const int64_t at = base + t * step;
    __syncthreads();
    p_s[i] = to_float(p[at]);
    q_s[i] = to_float(q[at]);
    __syncthreads();
    const float si = to_float(s[at]);
    float acc = 0.f;
#pragma unroll
    for (int c4 = 0; c4 < N; c4 += 4) {
      const Four p4 = load4(p_s, c4), q4 = load4(q_s, c4), w4 = load4(w_s, c4);
#pragma unroll
      for (int d = 0; d < 4; ++d) {
        const int c = c4 + d;
        acc += p4.v[d] * state[c];
        state[c] = state[c] * w4.v[d] + q4.v[d] * si;
      }
    }
    out[at] += acc;                                // this thread wrote out[at] in the causal scan
  }
}

// out_t[c] = u[c] a_t[c] (q_t . b_t) + q_t . F_t[c] + q_t . R_t[c], thread c owns row c of
// F_t = sum_{j<t} w[c]^(t-1-j) a_j[c] b_j (causal) and R_t (reverse). With WITH_WU it also
// carries G = dF/dw (G_{t+1} = w G_t + F_t, likewise in reverse) and writes for x:
//   du_part[c] = sum_t x_t[c] a_t[c] (q_t . b_t),  dw_part[c] = sum_t x_t[c] q_t . (G_t + GR_t)[c].
template <int N, typename scalar_t, bool WITH_WU>
__global__ void __launch_bounds__(N) key_pass_kernel(
    const int T, const int H, const scalar_t* __restrict__ q, const scalar_t* __restrict__ a,
    const scalar_t* __restrict__ bv, const scalar_t* __restrict__ x, const float* __restrict__ w,
    const float* __restrict__ u, float* __restrict__ out, float* __restrict__ dw_part,
    float* __restrict__ du_part) {
  const int b = blockIdx.x / H, h = blockIdx.x % H, c = threadIdx.x;
  const int64_t step = (int64_t)H * N;
  const int64_t base = (int64_t)b * T * step + (int64_t)h * N + c;
  static_assert(N % 4 == 0, "head size must be a multiple of 4");
  __shared__ __align__(16) float q_s[N];
  __shared__ __align__(16) float b_s[N];
  const float wc = w[h * N + c], uc = u[h * N + c];

  float state[N];
  float grad_w[N];                                 // d state / d w[c] (dropped if !WITH_WU)
  float du_acc = 0.f, dw_acc = 0.f;
#pragma unroll
  for (int i = 0; i < N; ++i) state[i] = 0.f;
  if (WITH_WU) {
#pragma unroll
    for (int i = 0; i < N; ++i) grad_w[i] = 0.f;
  }
  for (int t = 0; t < T; ++t) {                    // causal scan, with the bonus
    const int64_t at = base + t * step;
    __syncthreads();
    q_s[c] = to_float(q[at]);
    b_s[c] = to_float(bv[at]);
    __syncthreads();
    const float ac = to_float(a[at]);
    float q_state = 0.f, q_b = 0.f, q_grad = 0.f;
#pragma unroll
    for (int i4 = 0; i4 < N; i4 += 4) {
      const Four q4 = load4(q_s, i4), b4 = load4(b_s, i4);
#pragma unroll
      for (int d = 0; d < 4; ++d) {
        const int i = i4 + d;
        q_state += q4.v[d] * state[i];
        q_b += q4.v[d] * b4.v[d];
        if (WITH_WU) {
          q_grad += q4.v[d] * grad_w[i];
          grad_w[i] = grad_w[i] * wc + state[i];   // uses the state before this token's update
        }
        state[i] = state[i] * wc + ac * b4.v[d];
      }
    }
    out[at] = uc * ac * q_b + q_state;
    if (WITH_WU) {
      const float xc = to_float(x[at]);
      du_acc += xc * ac * q_b;
      dw_acc += xc * q_grad;
    }
  }
#pragma unroll
  for (int i = 0; i < N; ++i) state[i] = 0.f;
  if (WITH_WU) {
#pragma unroll
    for (int i = 0; i < N; ++i) grad_w[i] = 0.f;
  }
  for (int t = T - 1; t >= 0; --t) {               // reverse scan, no bonus
    const int64_t at = base + t * step;
    __syncthreads();
    q_s[c] = to_float(q[at]);
    b_s[c] = to_float(bv[at]);
    __syncthreads();
    const float ac = to_float(a[at]);
    float q_state = 0.f, q_grad = 0.f;
#pragma unroll
    for (int i4 = 0; i4 < N; i4 += 4) {
      const Four q4 = load4(q_s, i4), b4 = load4(b_s, i4);
#pragma unroll
      for (int d = 0; d < 4; ++d) {
        const int i = i4 + d;
        q_state += q4.v[d] * state[i];
        if (WITH_WU) {
          q_grad += q4.v[d] * grad_w[i];
          grad_w[i] = grad_w[i] * wc + state[i];
        }
        state[i] = state[i] * wc + ac * b4.v[d];
      }
    }
    out[at] += q_state;
    if (WITH_WU) dw_acc += to_float(x[at]) * q_grad;
  }
  if (WITH_WU) {
    dw_part[blockIdx.x * N + c] = dw_acc;          // [B, H, N]: summed over B by the caller
    du_part[blockIdx.x * N + c] = du_acc;
  }
}

template <int N, typename scalar_t>
void launch_value(int B, int T, int H, const void* p, const void* q, const void* s,
                  const float* w, const float* u, float* out, cudaStream_t stream) {
  value_pass_kernel<N, scalar_t><<<B * H, N, 0, stream>>>(
      T, H, static_cast<const scalar_t*>(p), static_cast<const scalar_t*>(q),
      static_cast<const scalar_t*>(s), w, u, out);
}

template <int N, typename scalar_t>
void launch_key(int B, int T, int H, const void* q, const void* a, const void* b, const void* x,
                const float* w, const float* u, float* out, float* dw_part, float* du_part,
                cudaStream_t stream) {
  if (x != nullptr) {
    key_pass_kernel<N, scalar_t, true><<<B * H, N, 0, stream>>>(
        T, H, static_cast<const scalar_t*>(q), static_cast<const scalar_t*>(a),
        static_cast<const scalar_t*>(b), static_cast<const scalar_t*>(x), w, u, out, dw_part,
        du_part);
  } else {
    key_pass_kernel<N, scalar_t, false><<<B * H, N, 0, stream>>>(
        T, H, static_cast<const scalar_t*>(q), static_cast<const scalar_t*>(a),
        static_cast<const scalar_t*>(b), nullptr, w, u, out, nullptr, nullptr);
  }
}

// CALL(N, scalar_t) for a runtime (dtype code, head size); cudaErrorInvalidValue if unsupported.
#define LCR_WKV_FOR_N(N_, DTYPE_, CALL)                                               \
  switch (N_) {                                                                       \
    case 16: CALL(16, DTYPE_); break;                                                 \
    case 32: CALL(32, DTYPE_); break;                                                 \
    case 48: CALL(48, DTYPE_); break;                                                 \
    case 64: CALL(64, DTYPE_); break;                                                 \
    case 96: CALL(96, DTYPE_); break;                                                 \
    case 128: CALL(128, DTYPE_); break;                                               \
    default: return cudaErrorInvalidValue;                                            \
  }

#define LCR_WKV_DISPATCH(DTYPE_CODE, N_, CALL)                                        \
  switch (DTYPE_CODE) {                                                               \
    case 0: LCR_WKV_FOR_N(N_, float, CALL); break;                                    \
    case 1: LCR_WKV_FOR_N(N_, __nv_bfloat16, CALL); break;                            \
    case 2: LCR_WKV_FOR_N(N_, __half, CALL); break;                                   \
    default: return cudaErrorInvalidValue;                                            \
  }

}  // namespace

// dtype_code: 0 fp32, 1 bf16, 2 fp16. Head sizes: 16, 32, 48, 64, 96, 128. Returns a cudaError_t
// (cudaErrorInvalidValue for an unsupported dtype or head size).
int lcr_bi_wkv_value_pass(int dtype_code, int B, int T, int H, int N, const void* p,
                          const void* q, const void* s, const float* w, const float* u,
                          float* out, cudaStream_t stream) {
  if (B * H == 0 || T == 0) return cudaSuccess;
#define CALL(NN, TT) launch_value<NN, TT>(B, T, H, p, q, s, w, u, out, stream)
  LCR_WKV_DISPATCH(dtype_code, N, CALL)
#undef CALL
  return cudaGetLastError();
}

// x == nullptr: no dw/du (dw_part, du_part unused).
int lcr_bi_wkv_key_pass(int dtype_code, int B, int T, int H, int N, const void* q, const void* a,
                        const void* b, const void* x, const float* w, const float* u, float* out,
                        float* dw_part, float* du_part, cudaStream_t stream) {
  if (B * H == 0 || T == 0) return cudaSuccess;
#define CALL(NN, TT) launch_key<NN, TT>(B, T, H, q, a, b, x, w, u, out, dw_part, du_part, stream)
  LCR_WKV_DISPATCH(dtype_code, N, CALL)
#undef CALL
  return cudaGetLastError();
}
