#include "training/data_parallel_flags.h"

#include <cstdlib>
#include <string>

#include "absl/flags/flag.h"

ABSL_FLAG(int, world_size, -1,
          "data-parallel processes (default: $WORLD_SIZE, else 1: this process alone)");
ABSL_FLAG(int, rank, -1, "this process's rank in [0, world_size) (default: $RANK, else 0)");
ABSL_FLAG(std::string, master_addr, "",
          "address of rank 0, which hosts the rendezvous store (default: $MASTER_ADDR, else "
          "127.0.0.1)");
ABSL_FLAG(int, master_port, -1,
          "TCP port of the rendezvous store on master_addr (default: $MASTER_PORT, else 29500)");
ABSL_FLAG(double, dp_timeout_seconds, 300,
          "how long a rank waits for the others at the rendezvous and at each all-reduce before "
          "it stops with an error naming the ranks that stopped answering");

namespace rnnprune {

absl::StatusOr<DataParallelOptions> DataParallelOptionsFromFlags() {
  return ResolveDataParallelOptions(
      absl::GetFlag(FLAGS_world_size), absl::GetFlag(FLAGS_rank), absl::GetFlag(FLAGS_master_addr),
      absl::GetFlag(FLAGS_master_port), absl::GetFlag(FLAGS_dp_timeout_seconds),
      [](const char* name) { return std::getenv(name); });
}

}  // namespace rnnprune
