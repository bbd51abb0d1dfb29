// A short, stable identity for a run's configuration: training checkpoints record it, and a run
// refuses to resume from a checkpoint made under another configuration.
#ifndef RNNPRUNE_COMMON_CONFIG_HASH_H_
#define RNNPRUNE_COMMON_CONFIG_HASH_H_

#include <string>

#include "nlohmann/json.hpp"

namespace rnnprune {

// The canonical text of `config`: nlohmann-json's compact dump (no whitespace). Object keys come
// out sorted (nlohmann::json keeps objects in a std::map), so the order in which keys were set
// does not matter; numbers keep their type (1 and 1.0 differ) and doubles are written with the
// shortest text that reads back to the same value. Strings are written as UTF-8; invalid UTF-8
// throws nlohmann::json::type_error (as dump() does).
std::string CanonicalConfigText(const nlohmann::json& config);

// SHA-256 (64 lowercase hex digits) of CanonicalConfigText(config). Two configurations share a
// hash exactly when their canonical texts are equal. Put in it everything that changes what a
// run computes (model, schedule, data, seed, method and its settings) and nothing that does not
// (thread count, output paths, logging).
std::string ConfigHash(const nlohmann::json& config);

}  // namespace rnnprune

#endif  // RNNPRUNE_COMMON_CONFIG_HASH_H_
