#include "pruning/protocol_testing.h"

#include <memory>
#include <stdexcept>

#include "gtest/gtest.h"
#include "models/zaremba.h"

namespace rnnprune {

ProtocolOptions TinyTwoPhaseProtocol(int64_t bptt, int64_t search_steps, int64_t recovery_steps,
                                     int64_t windows) {
  ZarembaSchedule s;
  s.batch_size = 4;
  s.bptt = bptt;
  s.lr_decay = 1.0;
  s.learning_rate = 0.5;
  ProtocolOptions o;
  absl::StatusOr<PhaseOptions> search = LayOutPhase(s, search_steps, 0, windows);
  EXPECT_TRUE(search.ok()) << search.status();
  if (search.ok()) o.search = *search;
  s.learning_rate = 0.25;
  absl::StatusOr<PhaseOptions> recovery = LayOutPhase(s, recovery_steps, search_steps, windows);
  EXPECT_TRUE(recovery.ok()) << recovery.status();
  if (recovery.ok()) o.recovery = *recovery;
  return o;
}

std::function<void(const std::string&)> CrashAt(const std::string& phase, int n) {
  auto seen = std::make_shared<bool>(false);
  auto count = std::make_shared<int>(0);
  return [=](const std::string& line) {
    if (line.rfind(phase, 0) == 0) *seen = true;
    if (*seen && line.rfind("epoch ", 0) == 0 && ++*count == n) {
      throw std::runtime_error("simulated crash");
    }
  };
}

}  // namespace rnnprune
