#include "pruning/agreement.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_format.h"
#include "common/status_macros.h"

namespace rnnprune {

absl::StatusOr<nlohmann::json> CheckAgreement(const std::string& what,
                                              const std::string& reference_name,
                                              LstmLm& reference_model, TrainingHooks* reference,
                                              LstmLm& pruned, TrainingHooks* pruned_hooks,
                                              const torch::Tensor& valid, int64_t bptt,
                                              int64_t tokens) {
  const int64_t n = std::min<int64_t>(tokens, valid.size(0));
  ASSIGN_OR_RETURN(EvalResult a, EvaluatePerplexity(reference_model, valid, 1, bptt, n, reference));
  ASSIGN_OR_RETURN(EvalResult b, EvaluatePerplexity(pruned, valid, 1, bptt, n, pruned_hooks));
  const double gap = std::abs(a.perplexity - b.perplexity) / a.perplexity;
  if (!(gap <= 1e-3)) {
    return absl::InternalError(absl::StrFormat(
        "%s: perplexity %.4f of the pruned model differs from %.4f of its reference by %.2g "
        "relative on the first %d valid tokens; compaction or the sparse path is wrong",
        what, b.perplexity, a.perplexity, gap, n));
  }
  return nlohmann::json{{"reference", reference_name},
                        {"tokens", n},
                        {"reference_perplexity", a.perplexity},
                        {"perplexity", b.perplexity}};
}

}  // namespace rnnprune
