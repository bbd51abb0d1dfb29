// The command-line flags of data-parallel training, shared by every binary that trains
// (tools/train_lm, benchmarks/all): --world_size, --rank, --master_addr, --master_port,
// --dp_timeout_seconds, with torchrun's environment variables (WORLD_SIZE, RANK, MASTER_ADDR,
// MASTER_PORT) used for any of the first four left unset.
#ifndef RNNPRUNE_TRAINING_DATA_PARALLEL_FLAGS_H_
#define RNNPRUNE_TRAINING_DATA_PARALLEL_FLAGS_H_

#include "absl/status/statusor.h"
#include "training/data_parallel.h"

namespace rnnprune {

// The options the flags and the environment give (training/data_parallel.h
// ResolveDataParallelOptions). Errors: InvalidArgument naming the flag or variable and its rule.
absl::StatusOr<DataParallelOptions> DataParallelOptionsFromFlags();

}  // namespace rnnprune

#endif  // RNNPRUNE_TRAINING_DATA_PARALLEL_FLAGS_H_
