// Test support for the pruning protocol (pruning/protocol.h): the short two-phase layout that
// the protocol's own tests and the baselines' conformance tests run on tiny models.
#ifndef RNNPRUNE_PRUNING_PROTOCOL_TESTING_H_
#define RNNPRUNE_PRUNING_PROTOCOL_TESTING_H_

#include <cstdint>
#include <functional>
#include <string>

#include "pruning/protocol.h"

namespace rnnprune {

// A search phase of `search_steps` windows from window 0 at lr 0.5, then a recovery phase of
// `recovery_steps` windows from window `search_steps` at lr 0.25: batch 4, BPTT `bptt`, no
// learning-rate decay, on a training stream of `windows` windows of batch 4 x `bptt` tokens
// (ProtocolOptions' other fields keep their defaults). Both phases must fit in one epoch
// (search_steps + recovery_steps <= windows); the test stops with a gtest failure otherwise.
ProtocolOptions TinyTwoPhaseProtocol(int64_t bptt, int64_t search_steps, int64_t recovery_steps,
                                     int64_t windows);

// A ProtocolOptions::log that simulates a crash: it throws std::runtime_error at the `n`-th
// training progress line ("epoch ...") after the protocol logged a line starting with `phase`
// (e.g. "recovery phase"), so that a test can resume from the files left behind.
std::function<void(const std::string&)> CrashAt(const std::string& phase, int n);

}  // namespace rnnprune

#endif  // RNNPRUNE_PRUNING_PROTOCOL_TESTING_H_
