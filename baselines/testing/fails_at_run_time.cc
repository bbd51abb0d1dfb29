// A test-only method (linked into the suite's test only) whose every run fails once training has
// started: the main job must record the failure and go on with the other runs, its exit status
// saying that something failed (issue 17.4). A real method fails this way when, for example, its
// loss diverges.
#include <memory>

#include "absl/status/status.h"
#include "pruning/method.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

class FailsAtRunTime : public PruningMethod {
 public:
  absl::Status Begin(LstmLm& model) override {
    return absl::InternalError("fails_at_run_time: this test-only method always fails here");
  }
  absl::StatusOr<PruningStructure> Finish(LstmLm& model) override {
    return absl::InternalError("fails_at_run_time: never reached");
  }
};

PruningMethodInfo FailsAtRunTimeInfo() {
  PruningMethodInfo info;
  info.name = "fails_at_run_time";
  info.description = "test only: fails at the start of every run (issue 17.4)";
  info.structured = true;
  info.create = [](const MethodOptions&) -> absl::StatusOr<std::unique_ptr<PruningMethod>> {
    return std::unique_ptr<PruningMethod>(new FailsAtRunTime());
  };
  return info;
}

}  // namespace

RNNPRUNE_REGISTER_PRUNING_METHOD(FailsAtRunTimeInfo());

}  // namespace rnnprune
