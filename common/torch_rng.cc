#include "common/torch_rng.h"

#include <mutex>

#include "ATen/CPUGeneratorImpl.h"
#include "ATen/core/Generator.h"

namespace rnnprune {

torch::Tensor CaptureTorchCpuRng() {
  at::Generator gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  return gen.get_state();
}

void RestoreTorchCpuRng(const torch::Tensor& state) {
  at::Generator gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(state);
}

}  // namespace rnnprune
