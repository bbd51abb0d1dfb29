#include "benchmarks/speed_shapes.h"

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"

namespace rnnprune {
namespace {

using nlohmann::json;

bool ValidName(const std::string& name) {
  if (name.empty()) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string Resolve(const std::string& path, const std::string& base_dir) {
  if (path.empty() || path[0] == '/' || base_dir.empty()) return path;
  return absl::StrCat(base_dir, "/", path);
}

// Reads `what`.sizes from a shape object into `config` (sizes only; the rest stays default).
absl::Status ReadSizes(const json& j, const std::string& where, LstmLmConfig* config) {
  try {
    config->vocab_size = j.at("vocab_size").get<int64_t>();
    config->embedding_size = j.at("embedding_size").get<int64_t>();
    config->hidden_sizes = j.at("hidden_sizes").get<std::vector<int64_t>>();
    config->input_sizes = j.value("input_sizes", std::vector<int64_t>{});
  } catch (const json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": ", e.what()));
  }
  config->dropout = 0.0;
  if (absl::Status s = config->Validate(); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": ", s.message()));
  }
  return absl::OkStatus();
}

bool SameSizes(const LstmLmConfig& a, const LstmLmConfig& b) {
  if (a.vocab_size != b.vocab_size || a.embedding_size != b.embedding_size ||
      a.hidden_sizes != b.hidden_sizes) {
    return false;
  }
  for (size_t l = 0; l < a.hidden_sizes.size(); ++l) {
    if (a.InputSize(l) != b.InputSize(l)) return false;
  }
  return true;
}

}  // namespace

// Replaces each ${name} of `text` by vars[name]. Errors: InvalidArgument for an unknown name or an
// unclosed ${.
static absl::StatusOr<std::string> Substitute(const std::string& text,
                                              const std::map<std::string, std::string>& vars) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    const size_t start = text.find("${", i);
    if (start == std::string::npos) {
      out += text.substr(i);
      break;
    }
    const size_t end = text.find('}', start);
    if (end == std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat("unclosed ${ in '", text, "'"));
    }
    const std::string name = text.substr(start + 2, end - start - 2);
    auto it = vars.find(name);
    if (it == vars.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown variable ${", name, "} in '", text, "'"));
    }
    out += text.substr(i, start - i) + it->second;
    i = end + 1;
  }
  return out;
}

absl::StatusOr<SpeedShapes> LoadSpeedShapes(const std::string& path, const std::string& base_dir,
                                            const std::map<std::string, std::string>& vars) {
  const std::string file = Resolve(path, base_dir);
  std::ifstream in(file);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open the shapes file ", file));
  json doc;
  try {
    doc = json::parse(in);
  } catch (const json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(file, ": not valid JSON: ", e.what()));
  }
  if (!doc.is_object() || !doc.contains("shapes") || !doc["shapes"].is_array()) {
    return absl::InvalidArgumentError(absl::StrCat(file, ": needs an array \"shapes\""));
  }
  SpeedShapes out;
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < doc["shapes"].size(); ++i) {
    const json& j = doc["shapes"][i];
    const std::string where = absl::StrCat(file, ": shapes[", i, "]");
    if (!j.is_object() || !j.contains("name") || !j["name"].is_string()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": needs a string \"name\""));
    }
    SpeedShape shape;
    shape.name = j["name"].get<std::string>();
    if (!ValidName(shape.name)) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": name '", shape.name, "' must match [A-Za-z0-9_.:-]+"));
    }
    if (index.count(shape.name) > 0) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": duplicate name '", shape.name, "'"));
    }
    try {
      shape.source = j.value("source", std::string());
      shape.parent = j.value("parent", std::string());
      shape.sparsity = j.value("sparsity", 0.0);
    } catch (const json::exception& e) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": ", e.what()));
    }
    if (!(shape.sparsity >= 0.0 && shape.sparsity < 1.0)) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": sparsity ", shape.sparsity, " must be in [0, 1)"));
    }
    const SpeedShape* parent = nullptr;
    if (!shape.parent.empty()) {
      auto it = index.find(shape.parent);
      if (it == index.end()) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": parent '", shape.parent,
                                                       "' is not a shape listed before this one"));
      }
      parent = &out.shapes[it->second];
      if (!parent->parent.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": parent '", shape.parent, "' is itself a pruned shape"));
      }
    }
    if (shape.sparsity > 0.0) {
      if (parent == nullptr) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": a sparse shape needs a \"parent\" (its dense sizes)"));
      }
      shape.config = parent->config;
    } else if (absl::Status s = ReadSizes(j, where, &shape.config); !s.ok()) {
      return s;
    }
    index[shape.name] = out.shapes.size();
    out.shapes.push_back(std::move(shape));
  }

  for (const json& run : doc.value("compacted_runs", json::array())) {
    if (!run.is_object() || !run.contains("results") || !run["results"].is_string()) {
      return absl::InvalidArgumentError(
          absl::StrCat(file, ": each compacted_runs entry needs a string \"results\""));
    }
    absl::StatusOr<std::string> substituted = Substitute(run["results"].get<std::string>(), vars);
    if (!substituted.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(file, ": compacted_runs: ", substituted.status().message()));
    }
    const std::string results = Resolve(*substituted, base_dir);
    std::ifstream rin(results);
    if (!rin) {
      out.notes.push_back(absl::StrCat("compacted runs: ", results,
                                       " not found, skipped (run the main job to create it)"));
      continue;
    }
    const json parents = run.value("parents", json::object());
    std::string line;
    int line_no = 0;
    while (std::getline(rin, line)) {
      ++line_no;
      if (line.empty()) continue;
      json r;
      try {
        r = json::parse(line);
      } catch (const json::exception& e) {
        return absl::InvalidArgumentError(
            absl::StrCat(results, ":", line_no, ": not valid JSON: ", e.what()));
      }
      const std::string where = absl::StrCat(results, ":", line_no);
      try {
        if (!r.is_object() || r.value("method", "") == "dense" || !r.value("structured", false) ||
            r.contains("collapsed") || !r.contains("model")) {
          continue;
        }
      } catch (const json::exception& e) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": ", e.what()));
      }
      SpeedShape shape;
      std::string setting;
      try {
        setting = r.value("setting", std::string());
        shape.name = absl::StrCat(r.at("method").get<std::string>(), "_", setting);
        const std::string config_name = r.value("config_name", std::string());
        shape.parent = parents.value(config_name, std::string());
        shape.source = absl::StrCat("our ", r.at("method").get<std::string>(), " run (", setting,
                                    "), ", r.value("preset", std::string("?")), " preset, commit ",
                                    r.value("git_commit", std::string("?")).substr(0, 7));
      } catch (const json::exception& e) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": ", e.what()));
      }
      if (absl::Status s = ReadSizes(r["model"], where, &shape.config); !s.ok()) return s;
      if (shape.parent.empty() || index.count(shape.parent) == 0) {
        out.notes.push_back(
            absl::StrCat(where, ": ", shape.name, " skipped: no parent shape for its config"));
        continue;
      }
      bool merged = false;
      for (SpeedShape& other : out.shapes) {
        if (other.sparsity == 0.0 && other.parent == shape.parent &&
            SameSizes(other.config, shape.config)) {
          other.also.push_back(shape.name);
          merged = true;
          break;
        }
      }
      if (merged) continue;
      if (!ValidName(shape.name) || index.count(shape.name) > 0) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": run name '", shape.name, "' is malformed or duplicated"));
      }
      index[shape.name] = out.shapes.size();
      out.shapes.push_back(std::move(shape));
    }
  }
  return out;
}

}  // namespace rnnprune
