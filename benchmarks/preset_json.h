// A preset (benchmarks/presets.h) as JSON, and `--set FIELD=VALUE` overrides of its fields: one
// list of the fields (VisitPresetFields) serves writing, strict reading and overriding, so a
// field added to Preset is added there once.
#ifndef RNNPRUNE_BENCHMARKS_PRESET_JSON_H_
#define RNNPRUNE_BENCHMARKS_PRESET_JSON_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "benchmarks/presets.h"
#include "nlohmann/json.hpp"

namespace rnnprune {

// Calls `visit(name, field)` for every field of `p`, in declaration order, with the field's
// name in Preset (the JSON key) and a reference to it (int, int64_t, double, std::string,
// std::vector<std::string>, std::vector<int> or std::map<std::string,
// std::vector<std::string>>).
template <typename PresetT, typename Visitor>
void VisitPresetFields(PresetT& p, Visitor&& visit) {
  visit("name", p.name);
  visit("description", p.description);
  visit("seed", p.seed);
  visit("configs", p.configs);
  visit("epochs", p.epochs);
  visit("decay_after_epochs", p.decay_after_epochs);
  visit("max_steps_per_epoch", p.max_steps_per_epoch);
  visit("budget", p.budget);
  visit("methods", p.methods);
  visit("settings", p.settings);
  visit("target_sizes", p.target_sizes);
  visit("search_steps", p.search_steps);
  visit("search_epochs", p.search_epochs);
  visit("recovery_steps", p.recovery_steps);
  visit("recovery_epochs", p.recovery_epochs);
  visit("search_learning_rate", p.search_learning_rate);
  visit("recovery_learning_rate", p.recovery_learning_rate);
  visit("diagnostics_every_steps", p.diagnostics_every_steps);
  visit("max_eval_tokens", p.max_eval_tokens);
  visit("timing_repeats", p.timing_repeats);
  visit("speed_min_time", p.speed_min_time);
  visit("speed_threads", p.speed_threads);
  visit("speed_max_parameters", p.speed_max_parameters);
  visit("squad_hidden_size", p.squad_hidden_size);
  visit("squad_word_dim", p.squad_word_dim);
  visit("squad_char_channels", p.squad_char_channels);
  visit("squad_epochs", p.squad_epochs);
  visit("squad_max_steps_per_epoch", p.squad_max_steps_per_epoch);
  visit("squad_batch_size", p.squad_batch_size);
  visit("squad_optimizer", p.squad_optimizer);
  visit("squad_dropout", p.squad_dropout);
  visit("squad_learning_rate", p.squad_learning_rate);
  visit("squad_max_eval_questions", p.squad_max_eval_questions);
  visit("squad_max_answer_tokens", p.squad_max_answer_tokens);
  visit("squad_word_vocabulary", p.squad_word_vocabulary);
  visit("squad_word_embedding", p.squad_word_embedding);
  visit("squad_random_word_rows", p.squad_random_word_rows);
  visit("squad_ema_decay", p.squad_ema_decay);
  visit("squad_budget", p.squad_budget);
  visit("squad_methods", p.squad_methods);
  visit("squad_settings", p.squad_settings);
  visit("squad_search_epochs", p.squad_search_epochs);
  visit("squad_recovery_epochs", p.squad_recovery_epochs);
}

// Every field of `p` as a JSON object keyed by field name.
nlohmann::json PresetToJson(const Preset& p);

// The preset `j` describes: every key must be a field of Preset and hold a value of its type
// (integers for integer fields, any number for real ones, arrays of strings or of integers,
// `settings` an object of arrays of strings), except keys starting with '_' ("_comment"), which
// are ignored; fields absent from `j` keep Preset's defaults.
// Errors: InvalidArgument naming the key, the value and the rule (unknown key, wrong type);
// ValidatePreset's errors.
absl::StatusOr<Preset> PresetFromJson(const nlohmann::json& j);

// The JSON of a preset file, with // and /* */ comments allowed (and removed), not yet checked
// against Preset's fields. Errors: those of ReadFile (NotFound, ...); InvalidArgument for
// malformed JSON, naming `path`.
absl::StatusOr<nlohmann::json> LoadPresetJson(const std::string& path);

// The preset of a file (`--config=PATH`): LoadPresetJson read by PresetFromJson. Errors: those
// of LoadPresetJson; PresetFromJson's errors naming `path`.
absl::StatusOr<Preset> LoadPresetFile(const std::string& path);

// Applies `--set` overrides, each "FIELD=VALUE" or "settings.METHOD=VALUE", in order. VALUE is
// JSON (a number, "text", [1, 2]) or, for a text field, bare text; for a list field also a
// comma-separated list ("l0,dense", "1,2"); for a settings entry a slash-separated list as in
// --settings ("0.1/1"). The result is validated (ValidatePreset).
// Errors: InvalidArgument naming the override and the rule it breaks (no '=', unknown field,
// wrong type, invalid value).
absl::Status ApplyPresetOverrides(const std::vector<std::string>& overrides, Preset* p);

// ApplyPresetOverrides on a preset's JSON, without validating the result: a value may still be
// a list that sweeps its field (benchmarks/preset_sweep.h), e.g. `seed=[1,2]`. Errors: the
// override's own (no '=', unknown field, entries of a field other than settings).
absl::Status ApplyPresetOverridesToJson(const std::vector<std::string>& overrides,
                                        nlohmann::json* j);

}  // namespace rnnprune

#endif  // RNNPRUNE_BENCHMARKS_PRESET_JSON_H_
