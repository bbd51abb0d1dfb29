#include "models/batch_share.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

// `local` with dimension `batch_dim` widened to the global row count.
std::vector<int64_t> GlobalSizes(torch::IntArrayRef local, const BatchShare& share,
                                 int64_t batch_dim) {
  TORCH_CHECK(batch_dim >= 0 && batch_dim < static_cast<int64_t>(local.size()), "batch_dim ",
              batch_dim, " is not a dimension of ", local);
  TORCH_CHECK(local[static_cast<size_t>(batch_dim)] == share.count, "dimension ", batch_dim, " of ",
              local, " must hold the share's ", share.count, " rows (", share.ToString(), ")");
  std::vector<int64_t> sizes(local.begin(), local.end());
  sizes[static_cast<size_t>(batch_dim)] = share.global;
  return sizes;
}

}  // namespace

std::string BatchShare::ToString() const {
  if (global == 0) return "the whole batch";
  return absl::StrCat("rows [", first, ", ", first + count, ") of ", global);
}

absl::Status BatchShare::Validate() const {
  if (global == 0 && first == 0 && count == 0) return absl::OkStatus();
  if (global < 1 || count < 1 || first < 0 || first + count > global) {
    return absl::InvalidArgumentError(
        absl::StrCat("batch share first=", first, " count=", count, " global=", global,
                     " must satisfy count >= 1 and 0 <= first, first + count <= global"));
  }
  return absl::OkStatus();
}

BatchShare ShareOfRows(int64_t global, int rank, int world_size) {
  TORCH_CHECK(world_size >= 1 && rank >= 0 && rank < world_size && world_size <= global,
              "ShareOfRows: rank ", rank, " of ", world_size, " ranks over ", global,
              " rows: need 0 <= rank < world_size <= rows");
  const int64_t base = global / world_size, extra = global % world_size;
  BatchShare s;
  s.global = global;
  s.count = base + (rank < extra ? 1 : 0);
  s.first = rank * base + std::min<int64_t>(rank, extra);
  return s;
}

torch::Tensor DropoutForShare(const torch::Tensor& x, double p, bool train, const BatchShare& share,
                              int64_t batch_dim) {
  if (!train || p == 0) return x;
  if (share.whole()) return torch::dropout(x, p, train);
  // torch::dropout draws its mask into a contiguous tensor of x's sizes (LibTorch 1.13:
  // empty_like(x, LEGACY_CONTIGUOUS_MEMORY_FORMAT)), whatever x's strides: the same here, with
  // the global row count.
  torch::Tensor noise = torch::empty(GlobalSizes(x.sizes(), share, batch_dim), x.options());
  noise.bernoulli_(1 - p).div_(1 - p);
  return x * noise.narrow(batch_dim, share.first, share.count);
}

torch::Tensor RandForShare(torch::IntArrayRef local_sizes, const BatchShare& share,
                           int64_t batch_dim) {
  if (share.whole()) return torch::rand(local_sizes);
  return torch::rand(GlobalSizes(local_sizes, share, batch_dim))
      .narrow(batch_dim, share.first, share.count)
      .contiguous();
}

}  // namespace rnnprune
