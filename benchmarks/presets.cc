#include "benchmarks/presets.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"

namespace rnnprune {
namespace {

template <typename T>
absl::Status Bad(const std::string& field, const T& value, const std::string& rule) {
  return absl::InvalidArgumentError(absl::StrCat(field, "=", value, " must be ", rule));
}

absl::Status CheckOneOf(const std::string& field, const std::string& value,
                        const std::vector<std::string>& allowed) {
  for (const std::string& a : allowed) {
    if (value == a) return absl::OkStatus();
  }
  return Bad(field, absl::StrCat("'", value, "'"),
             absl::StrCat("one of ", absl::StrJoin(allowed, ", ")));
}

absl::Status CheckPositive(const std::string& field, double value) {
  if (std::isfinite(value) && value > 0) return absl::OkStatus();
  return Bad(field, value, "finite and > 0");
}

// The pruning protocol: each phase in steps or in epochs, never both.
absl::Status CheckPhases(const Preset& p) {
  if (p.search_steps < 0) return Bad("search_steps", p.search_steps, ">= 0");
  if (p.recovery_steps < 0) return Bad("recovery_steps", p.recovery_steps, ">= 0");
  if (p.search_epochs < 0) return Bad("search_epochs", p.search_epochs, ">= 0");
  if (p.recovery_epochs < 0) return Bad("recovery_epochs", p.recovery_epochs, ">= 0");
  if (p.search_epochs > 0 && p.search_steps > 0) {
    return Bad("search_epochs", p.search_epochs, "0 when search_steps is set");
  }
  if (p.recovery_epochs > 0 && p.recovery_steps > 0) {
    return Bad("recovery_epochs", p.recovery_epochs, "0 when recovery_steps is set");
  }
  RETURN_IF_ERROR(CheckPositive("search_learning_rate", p.search_learning_rate));
  return CheckPositive("recovery_learning_rate", p.recovery_learning_rate);
}

absl::Status CheckSquad(const Preset& p) {
  RETURN_IF_ERROR(CheckOneOf("squad_word_vocabulary", p.squad_word_vocabulary, {"train", "all"}));
  RETURN_IF_ERROR(
      CheckOneOf("squad_word_embedding", p.squad_word_embedding, {"auto", "fixed", "trained"}));
  RETURN_IF_ERROR(
      CheckOneOf("squad_random_word_rows", p.squad_random_word_rows, {"uniform", "normal"}));
  RETURN_IF_ERROR(CheckOneOf("squad_optimizer", p.squad_optimizer, {"adam", "adadelta"}));
  if (p.squad_epochs < 1) return Bad("squad_epochs", p.squad_epochs, ">= 1");
  if (p.squad_batch_size < 1) return Bad("squad_batch_size", p.squad_batch_size, ">= 1");
  for (const auto& [field, size] :
       {std::pair<const char*, int64_t>{"squad_hidden_size", p.squad_hidden_size},
        {"squad_word_dim", p.squad_word_dim},
        {"squad_char_channels", p.squad_char_channels}}) {
    if (size < 1) return Bad(field, size, ">= 1");
  }
  RETURN_IF_ERROR(CheckPositive("squad_learning_rate", p.squad_learning_rate));
  if (!(p.squad_dropout >= 0 && p.squad_dropout < 1)) {
    return Bad("squad_dropout", p.squad_dropout, "in [0, 1)");
  }
  if (!(p.squad_ema_decay >= 0 && p.squad_ema_decay < 1)) {
    return Bad("squad_ema_decay", p.squad_ema_decay, "in [0, 1) (0: no moving average)");
  }
  if (p.squad_search_epochs < 1) return Bad("squad_search_epochs", p.squad_search_epochs, ">= 1");
  if (p.squad_recovery_epochs < 0) {
    return Bad("squad_recovery_epochs", p.squad_recovery_epochs, ">= 0");
  }
  for (const auto& [method, values] : p.squad_settings) {
    for (const std::string& v : values) {
      double lambda = 0;
      if (!absl::SimpleAtod(v, &lambda) || !std::isfinite(lambda) || lambda < 0) {
        return Bad(absl::StrCat("squad_settings.", method), absl::StrCat("'", v, "'"),
                   "a lambda: a finite number >= 0");
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

bool IsValidPresetName(const std::string& name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return std::islower(c) || std::isdigit(c) || c == '_';
  });
}

absl::Status ValidatePreset(const Preset& p) {
  // The name is part of file names (results, reports, checkpoints).
  if (!IsValidPresetName(p.name))
    return Bad("name", absl::StrCat("'", p.name, "'"), "non-empty [a-z0-9_]");
  if (p.configs.empty()) return absl::InvalidArgumentError("configs must name a Zaremba config");
  if (p.epochs < 0) return Bad("epochs", p.epochs, ">= 0 (0: the published schedule's)");
  if (p.seed < 0) return Bad("seed", p.seed, ">= 0");
  RETURN_IF_ERROR(CheckPhases(p));
  return CheckSquad(p);
}

}  // namespace rnnprune
