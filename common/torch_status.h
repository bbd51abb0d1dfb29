// Converting LibTorch exceptions (c10::Error, thrown by TORCH_CHECK) into absl::Status at module
// boundaries, so that no exception crosses a public API of rnnprune.
#ifndef RNNPRUNE_COMMON_TORCH_STATUS_H_
#define RNNPRUNE_COMMON_TORCH_STATUS_H_

#include <exception>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "c10/util/Exception.h"

namespace rnnprune {

// Runs `fn` (returning absl::Status or absl::StatusOr<T>) and converts a c10::Error or any other
// std::exception it throws into InternalError / InvalidArgumentError prefixed by `context`.
template <typename Fn>
auto CatchTorch(const std::string& context, Fn&& fn) -> decltype(fn()) {
  try {
    return std::forward<Fn>(fn)();
  } catch (const c10::Error& e) {
    return absl::InvalidArgumentError(absl::StrCat(context, ": ", e.what_without_backtrace()));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat(context, ": ", e.what()));
  }
}

}  // namespace rnnprune

#endif  // RNNPRUNE_COMMON_TORCH_STATUS_H_
