#include "models/lstm_kernels.h"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>

#include "Eigen/Core"

namespace rnnprune {
namespace {

// y [8 p0, 8 p1) (clipped to n) += P[p0:p1, j0:j1] x [0, j1 - j0), AVX2 + FMA, four independent
// accumulators per panel.
__attribute__((target("avx2,fma"))) void PackedGemvPanels(const PackedMatrix& m, int64_t p0,
                                                          int64_t p1, int64_t j0, int64_t j1,
                                                          const float* x, float* y) {
  for (int64_t p = p0; p < p1; ++p) {
    const float* w = m.data.data() + (p * m.k + j0) * 8;
    const int64_t len = j1 - j0, len4 = len & ~int64_t{3};
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(),
           a3 = _mm256_setzero_ps();
    int64_t j = 0;
    for (; j < len4; j += 4) {
      a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + 8 * j), _mm256_broadcast_ss(x + j), a0);
      a1 = _mm256_fmadd_ps(_mm256_loadu_ps(w + 8 * j + 8), _mm256_broadcast_ss(x + j + 1), a1);
      a2 = _mm256_fmadd_ps(_mm256_loadu_ps(w + 8 * j + 16), _mm256_broadcast_ss(x + j + 2), a2);
      a3 = _mm256_fmadd_ps(_mm256_loadu_ps(w + 8 * j + 24), _mm256_broadcast_ss(x + j + 3), a3);
    }
    for (; j < len; ++j) {
      a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + 8 * j), _mm256_broadcast_ss(x + j), a0);
    }
    const __m256 sum = _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3));
    const int64_t r0 = 8 * p, rows = std::min<int64_t>(8, m.n - r0);
    if (rows == 8) {
      _mm256_storeu_ps(y + r0, _mm256_add_ps(_mm256_loadu_ps(y + r0), sum));
    } else {
      alignas(32) float tmp[8];
      _mm256_store_ps(tmp, sum);
      for (int64_t i = 0; i < rows; ++i) y[r0 + i] += tmp[i];
    }
  }
}

}  // namespace

PackedMatrix PackedMatrix::Pack(const float* w, int64_t n, int64_t k, int64_t ldw) {
  if (ldw == 0) ldw = k;
  PackedMatrix p;
  p.n = n;
  p.k = k;
  p.panels = (n + 7) / 8;
  p.data.assign(static_cast<size_t>(p.panels * k * 8), 0.0f);
  for (int64_t r = 0; r < n; ++r) {
    float* dst = p.data.data() + (r / 8) * k * 8 + (r % 8);
    const float* src = w + r * ldw;
    for (int64_t j = 0; j < k; ++j) dst[j * 8] = src[j];
  }
  return p;
}

bool HasAvx2Fma() {
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return has;
}

void PackedGemv(const PackedMatrix& m, int64_t j0, int64_t j1, const float* x, float* y) {
  const int threads = m.n * (j1 - j0) < (int64_t{1} << 16) ? 1 : omp_get_max_threads();
  if (threads == 1) {
    PackedGemvPanels(m, 0, m.panels, j0, j1, x, y);
    return;
  }
#pragma omp parallel num_threads(threads)
  {
    const int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
    PackedGemvPanels(m, m.panels * t / nt, m.panels * (t + 1) / nt, j0, j1, x, y);
  }
}

void LstmCellUpdate(const float* gates, int64_t hs, float* c, float* h) {
  using Vec = Eigen::Map<Eigen::ArrayXf>;
  using ConstVec = Eigen::Map<const Eigen::ArrayXf>;
  Vec cv(c, hs);
  cv = ConstVec(gates + hs, hs).logistic() * cv +
       ConstVec(gates, hs).logistic() * ConstVec(gates + 2 * hs, hs).tanh();
  Vec(h, hs) = ConstVec(gates + 3 * hs, hs).logistic() * cv.tanh();
}

}  // namespace rnnprune
