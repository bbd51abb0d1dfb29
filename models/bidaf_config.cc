#include "models/bidaf_config.h"

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace rnnprune {
namespace {

absl::Status CheckAtLeast(const char* field, int64_t value, int64_t min) {
  if (value >= min) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("BidafConfig: ", field, "=", value, " must be >= ", min));
}

// Parameters of one direction of one LSTM layer with input size `in` and `h` units.
int64_t LstmDirectionParameters(int64_t in, int64_t h) { return 4 * h * (in + h) + 8 * h; }

}  // namespace

absl::Status BidafConfig::Validate() const {
  const struct {
    const char* field;
    int64_t value, min;
  } checks[] = {
      {"word_vocab_size", word_vocab_size, 2},
      {"char_vocab_size", char_vocab_size, 2},
      {"word_dim", word_dim, 1},
      {"char_dim", char_dim, 1},
      {"char_channels", char_channels, 1},
      {"char_kernel_width", char_kernel_width, 1},
      {"hidden_size", hidden_size, 1},
      {"highway_layers", highway_layers, 0},
      {"modelling_layers", modelling_layers, 1},
      {"max_answer_tokens", max_answer_tokens, 0},
  };
  for (const auto& c : checks) {
    absl::Status s = CheckAtLeast(c.field, c.value, c.min);
    if (!s.ok()) return s;
  }
  if (!(dropout >= 0.0 && dropout < 1.0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("BidafConfig: dropout=", dropout, " must be in [0, 1)"));
  }
  return absl::OkStatus();
}

std::string BidafConfig::ToJson() const {
  nlohmann::json j;
  j["word_vocab_size"] = word_vocab_size;
  j["char_vocab_size"] = char_vocab_size;
  j["word_dim"] = word_dim;
  j["char_dim"] = char_dim;
  j["char_channels"] = char_channels;
  j["char_kernel_width"] = char_kernel_width;
  j["hidden_size"] = hidden_size;
  j["highway_layers"] = highway_layers;
  j["modelling_layers"] = modelling_layers;
  j["dropout"] = dropout;
  j["max_answer_tokens"] = max_answer_tokens;
  j["freeze_word_embedding"] = freeze_word_embedding;
  return j.dump();
}

absl::StatusOr<BidafConfig> BidafConfig::FromJson(const std::string& json) {
  BidafConfig c;
  try {
    const nlohmann::json j = nlohmann::json::parse(json);
    c.word_vocab_size = j.at("word_vocab_size").get<int64_t>();
    c.char_vocab_size = j.at("char_vocab_size").get<int64_t>();
    c.word_dim = j.at("word_dim").get<int64_t>();
    c.char_dim = j.at("char_dim").get<int64_t>();
    c.char_channels = j.at("char_channels").get<int64_t>();
    c.char_kernel_width = j.at("char_kernel_width").get<int64_t>();
    c.hidden_size = j.at("hidden_size").get<int64_t>();
    c.highway_layers = j.at("highway_layers").get<int64_t>();
    c.modelling_layers = j.at("modelling_layers").get<int64_t>();
    c.dropout = j.at("dropout").get<double>();
    c.max_answer_tokens = j.at("max_answer_tokens").get<int64_t>();
    c.freeze_word_embedding = j.at("freeze_word_embedding").get<bool>();
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("BidafConfig JSON: ", e.what()));
  }
  absl::Status s = c.Validate();
  if (!s.ok()) return s;
  return c;
}

int64_t BidafConfig::NumParameters() const {
  const int64_t e = EmbeddingWidth(), d = hidden_size;
  int64_t n = word_vocab_size * word_dim + char_vocab_size * char_dim;
  n += char_channels * char_dim * char_kernel_width + char_channels;  // Conv1d
  n += highway_layers * 2 * (e * e + e);                              // transform and gate
  n += 2 * LstmDirectionParameters(e, d);                             // contextual
  for (int64_t l = 0; l < modelling_layers; ++l) {
    n += 2 * LstmDirectionParameters(l == 0 ? 8 * d : 2 * d, d);  // modelling
  }
  n += 2 * LstmDirectionParameters(2 * d, d);  // output (end pointer)
  return n + 6 * d + 10 * d + 10 * d;          // w_S, w_p1, w_p2
}

int64_t BidafConfig::NumTrainableParameters() const {
  return NumParameters() - (freeze_word_embedding ? word_vocab_size * word_dim : 0);
}

}  // namespace rnnprune
