// Data-parallel training over LibTorch's c10d: N processes (ranks), each training its share of
// every global batch, join a group through a TCPStore rendezvous on the master's address and
// sum their gradients with ProcessGroupGloo's bucketed all-reduce, so that every rank takes the
// update one process would take on the whole batch. One rank (0) writes checkpoints and
// records; every rank resumes from them.
//
// Failure behaviour: a rank that dies (its connections close) or hangs (no answer within the
// timeout) makes every collective of the others fail; they stop with an error naming the ranks
// whose heartbeat (a counter each rank bumps in the store every second) stopped. A rank whose
// config hash differs from the others' is refused at the rendezvous, before any collective.
#ifndef RNNPRUNE_TRAINING_DATA_PARALLEL_H_
#define RNNPRUNE_TRAINING_DATA_PARALLEL_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "models/batch_share.h"
#include "torch/types.h"

namespace c10d {
class ProcessGroupGloo;
class Store;
}  // namespace c10d

namespace rnnprune {

// Where a process sits in a data-parallel group.
struct DataParallelOptions {
  int world_size = 1;  // processes in the group; 1: no communication at all
  int rank = 0;        // this process, in [0, world_size); rank 0 hosts the store
  // Rank 0's address (IPv4 or host name). Gloo's connections between ranks bind to loopback
  // when it is 127.x or localhost, else to $GLOO_SOCKET_IFNAME's address when set, else to the
  // address this machine's host name resolves to (as PyTorch does).
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;  // the store's TCP port on it
  // How long a rank waits at the rendezvous for the others, and at a collective for a peer that
  // does not answer, before giving up.
  absl::Duration timeout = absl::Seconds(300);

  // Errors: InvalidArgument naming the field, its value and the rule.
  absl::Status Validate() const;
};

// The options from flag values and torchrun's environment variables (RANK, WORLD_SIZE,
// MASTER_ADDR, MASTER_PORT, read through `getenv`): a flag given (world_size/rank/master_port
// >= 0, master_addr non-empty) wins over its variable; unset both ways: the defaults above.
// Errors: InvalidArgument naming a variable that is not an integer, or the options' rule broken.
absl::StatusOr<DataParallelOptions> ResolveDataParallelOptions(
    int world_size_flag, int rank_flag, const std::string& master_addr_flag, int master_port_flag,
    double timeout_seconds, const std::function<const char*(const char*)>& getenv);

class DataParallel {
 public:
  // Joins the group of `options.world_size` ranks (world_size 1: a group of one, no store, no
  // sockets): rendezvous at master_addr:master_port, where every rank publishes `config_hash`
  // (common/config_hash.h: the run's identity; threads and paths excluded) and checks every
  // other rank's; then the Gloo process group. Errors: FailedPrecondition when a rank's config
  // hash differs (naming both ranks and hashes; every rank refuses); DeadlineExceeded when a rank
  // has not joined within the timeout (naming it); Unavailable for a store or socket failure.
  static absl::StatusOr<std::unique_ptr<DataParallel>> Join(const DataParallelOptions& options,
                                                            const std::string& config_hash);
  ~DataParallel();
  DataParallel(const DataParallel&) = delete;
  DataParallel& operator=(const DataParallel&) = delete;

  int rank() const { return options_.rank; }
  int world_size() const { return options_.world_size; }
  // Whether this rank writes checkpoints, records and logs (rank 0).
  bool writes() const { return options_.rank == 0; }
  // This rank's rows of a global batch of `rows` (models/batch_share.h ShareOfRows; the whole
  // batch for a group of one). Errors: InvalidArgument when rows < world_size.
  absl::StatusOr<BatchShare> ShareOf(int64_t rows) const;

  // Sums `tensors` (float32, contiguous, the same shapes on every rank) over the ranks, in
  // place: all-reduce in buckets of about kBucketBytes (Gloo's allreduce_coalesced per bucket,
  // every bucket in flight at once). `where` names the call in errors. Errors: Unavailable
  // naming the ranks that stopped answering (see the file comment).
  absl::Status AllReduceSum(const std::vector<torch::Tensor>& tensors, absl::string_view where);
  // Every rank's `local` (the same shape on every rank but for dimension `dim`, at most
  // ShareOf's counts) concatenated along `dim` in rank order. Errors: as AllReduceSum.
  absl::StatusOr<torch::Tensor> GatherRows(const torch::Tensor& local, int64_t dim,
                                           absl::string_view where);
  // Checks that every rank holds the same `value` for `what` (a resumed position, a parameter
  // hash). Errors: FailedPrecondition naming the ranks and values that differ; Unavailable.
  absl::Status Agree(absl::string_view what, const std::string& value);
  // A training step's sum: the gradients of `parameters` (those defined: which are is
  // structural, the same on every rank; made contiguous in place) summed over the ranks in
  // place, with this rank's loss (`local_mean` over its share.count examples) riding in the same
  // all-reduce. Returns the whole batch's mean loss (over share.global). Errors: as AllReduceSum.
  absl::StatusOr<double> AllReduceGradients(const std::vector<torch::Tensor>& parameters,
                                            double local_mean, const BatchShare& share,
                                            absl::string_view where);
  // Checks that every rank starts (or resumes) training at optimizer step `step` with the same
  // `parameters` (their SHA-256): the same checkpoint, or the same seed. Errors: as Agree.
  absl::Status AgreeOnStart(int64_t step, const std::vector<torch::Tensor>& parameters);

  // Bytes per all-reduce bucket (PyTorch DDP's default bucket_cap_mb, 25 MiB).
  static constexpr int64_t kBucketBytes = 25 << 20;

 private:
  explicit DataParallel(const DataParallelOptions& options);
  absl::Status Rendezvous(const std::string& config_hash);
  void StartHeartbeat();
  // Which ranks stopped answering (heartbeats that no longer move), for an error message.
  std::string DescribeFailure();
  absl::Status Failed(absl::string_view where, const std::exception& e);

  DataParallelOptions options_;
  c10::intrusive_ptr<c10d::Store> store_;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group_;
  int64_t agreements_ = 0;  // Agree calls so far: the same on every rank (keys of the store)
  std::atomic<bool> stop_heartbeat_{false};
  std::thread heartbeat_;
};

}  // namespace rnnprune

#endif  // RNNPRUNE_TRAINING_DATA_PARALLEL_H_
