#include "models/engines/engine.h"

#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/torch_status.h"
#include "torch/torch.h"

extern "C" void openblas_set_num_threads(int num_threads);

namespace rnnprune {
namespace {

std::map<std::string, InferenceEngineInfo>& Registry() {
  static auto* registry = new std::map<std::string, InferenceEngineInfo>();
  return *registry;
}

bool ValidName(const std::string& name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

}  // namespace

absl::Status InferenceEngine::CheckReset(int64_t batch, int64_t max_steps) {
  if (batch <= 0) return absl::InvalidArgumentError(absl::StrCat("batch ", batch, " must be > 0"));
  if (max_steps <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("max_steps ", max_steps, " must be > 0"));
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> InferenceEngine::CheckRun(absl::Span<const int64_t> tokens, int64_t batch,
                                                  int64_t max_steps) const {
  if (batch <= 0) return absl::FailedPreconditionError("Run() before Reset()");
  const int64_t n = static_cast<int64_t>(tokens.size());
  if (n == 0 || n % batch != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(n, " token ids are not a positive multiple of the batch size ", batch));
  }
  if (n / batch > max_steps) {
    return absl::InvalidArgumentError(
        absl::StrCat(n / batch, " time steps exceed max_steps ", max_steps, " given to Reset()"));
  }
  const int64_t vocab = config_.vocab_size;
  for (int64_t i = 0; i < n; ++i) {
    if (tokens[i] < 0 || tokens[i] >= vocab) {
      return absl::InvalidArgumentError(
          absl::StrCat("token id ", tokens[i], " at position ", i, " is outside [0, ", vocab, ")"));
    }
  }
  return n / batch;
}

bool RegisterInferenceEngine(InferenceEngineInfo info) {
  if (!ValidName(info.name) || !info.factory || Registry().count(info.name) > 0) {
    std::fprintf(stderr, "RegisterInferenceEngine: bad or duplicate engine name '%s'\n",
                 info.name.c_str());
    std::abort();
  }
  std::string name = info.name;
  Registry().emplace(std::move(name), std::move(info));
  return true;
}

std::vector<std::string> RegisteredInferenceEngines() {
  std::vector<std::string> dense, sparse;
  for (const auto& [name, info] : Registry()) (info.sparse ? sparse : dense).push_back(name);
  dense.insert(dense.end(), sparse.begin(), sparse.end());
  return dense;
}

absl::StatusOr<InferenceEngineInfo> GetInferenceEngineInfo(const std::string& name) {
  auto it = Registry().find(name);
  if (it == Registry().end()) {
    return absl::NotFoundError(absl::StrCat("unknown inference engine '", name, "'; registered: ",
                                            absl::StrJoin(RegisteredInferenceEngines(), ", ")));
  }
  return it->second;
}

absl::StatusOr<std::unique_ptr<InferenceEngine>> CreateInferenceEngine(const std::string& name,
                                                                       const LstmLm& model) {
  auto info = GetInferenceEngineInfo(name);
  if (!info.ok()) return info.status();
  return CatchTorch(absl::StrCat("building inference engine '", name, "'"),
                    [&]() { return info->factory(model); });
}

absl::Status SetInferenceThreads(int threads) {
  if (threads <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("threads ", threads, " must be > 0"));
  }
  at::set_num_threads(threads);
  omp_set_num_threads(threads);
  openblas_set_num_threads(threads);
  return absl::OkStatus();
}

}  // namespace rnnprune
