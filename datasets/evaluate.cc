// The official SQuAD v1.1 evaluation in C++ (evaluate-v1.1.py's behaviour):
//   bazel run //datasets:evaluate -- path/to/dev-v1.1.json path/to/predictions.json
// predictions.json is {"question id": "answer text", ...}. Prints {"exact_match": .., "f1": ..}
// on stdout; unanswered questions and a dataset version other than 1.1 are reported on stderr.
// Exit status: 0 on success, 2 for bad arguments, 1 for unreadable or malformed files.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/data_dir.h"
#include "common/files.h"
#include "datasets/squad_metric.h"
#include "nlohmann/json.hpp"

namespace {

absl::StatusOr<nlohmann::json> ReadJson(const std::string& path) {
  absl::StatusOr<std::string> text = rnnprune::ReadFile(path);
  if (!text.ok()) return text.status();
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not valid JSON"));
  }
  return j;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr,
                 "usage: evaluate <dataset.json> <predictions.json>\n"
                 "Evaluation for SQuAD 1.1 (exact match and F1, percent)\n");
    return 2;
  }
  const std::string dataset_path = rnnprune::ResolveUserPath(argv[1]);
  const std::string predictions_path = rnnprune::ResolveUserPath(argv[2]);
  absl::StatusOr<nlohmann::json> dataset = ReadJson(dataset_path);
  if (!dataset.ok()) {
    std::fprintf(stderr, "error: %s\n", std::string(dataset.status().message()).c_str());
    return 1;
  }
  absl::StatusOr<nlohmann::json> predictions = ReadJson(predictions_path);
  if (!predictions.ok()) {
    std::fprintf(stderr, "error: %s\n", std::string(predictions.status().message()).c_str());
    return 1;
  }
  std::vector<std::string> messages;
  absl::StatusOr<rnnprune::SquadScore> score =
      rnnprune::EvaluateSquad(*dataset, *predictions, &messages);
  for (const std::string& m : messages) std::fprintf(stderr, "%s\n", m.c_str());
  if (!score.ok()) {
    std::fprintf(stderr, "error: %s\n", std::string(score.status().message()).c_str());
    return 1;
  }
  std::printf("%s\n", score->ToOfficialJson().c_str());
  return 0;
}
