// Writes the seed corpus of //fuzz:checkpoint_fuzzer into the folder given as the only argument:
// real small checkpoints written by SaveLstmLm (dense and pruned), truncated and byte-corrupted
// copies of them, and archives with semantic faults (wrong format tag, missing or ill-typed
// entries, a config that does not match the parameters, absurd sizes).
//   bazel run //fuzz:make_checkpoint_corpus -- fuzz/corpus/checkpoint_fuzzer
// With --check FILE..., prints what LoadLstmLm says about each file instead (exit 1 if one fails).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/data_dir.h"
#include "common/files.h"
#include "models/checkpoint.h"
#include "models/checkpoint_testing.h"
#include "models/lstm_lm.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

LstmLmConfig Tiny(std::vector<int64_t> hidden, std::vector<int64_t> input_sizes = {}) {
  LstmLmConfig c;
  c.vocab_size = 5;
  c.embedding_size = 3;
  c.hidden_sizes = std::move(hidden);
  c.input_sizes = std::move(input_sizes);
  c.dropout = 0.0;
  c.init_scale = 0.1;
  return c;
}

bool Ok(const absl::Status& s) {
  if (!s.ok()) std::fprintf(stderr, "%s\n", std::string(s.message()).c_str());
  return s.ok();
}

int Main(const std::string& dir) {
  torch::manual_seed(1);
  const LstmLm dense(Tiny({4}));
  const LstmLm pruned(Tiny({4, 2}, {3, 3}));
  if (!Ok(MakeDirs(dir)) || !Ok(SaveLstmLm(dense, dir + "/dense.pt", "{\"seed\": 1}")) ||
      !Ok(SaveLstmLm(pruned, dir + "/pruned.pt"))) {
    return 1;
  }
  auto bytes = ReadFile(dir + "/dense.pt");
  if (!bytes.ok()) return Ok(bytes.status()) ? 0 : 1;
  const std::string& b = *bytes;
  // Truncations and single-byte corruptions of the dense checkpoint.
  for (size_t keep : {size_t{0}, size_t{30}, b.size() / 4, b.size() / 2, 3 * b.size() / 4,
                      b.size() - 22, b.size() - 1}) {
    const std::string name = absl::StrCat(dir, "/truncated_", keep, ".pt");
    if (!Ok(WriteFileAtomically(name, b.substr(0, keep)))) return 1;
  }
  for (size_t at : {size_t{8}, b.size() / 3, b.size() / 2, b.size() - 10}) {
    std::string c = b;
    c[at] = static_cast<char>(c[at] ^ 0x5A);
    if (!Ok(WriteFileAtomically(absl::StrCat(dir, "/flipped_", at, ".pt"), c))) return 1;
  }
  // Semantic faults, each in an otherwise well-formed archive.
  auto variant = [&](const std::string& name, auto&& edit) {
    RawCheckpoint raw = RawCheckpointOf(dense);
    edit(raw);
    return Ok(WriteRawCheckpoint(raw, absl::StrCat(dir, "/", name, ".pt")));
  };
  const bool ok =
      variant("wrong_format", [](RawCheckpoint& r) { r.format = c10::IValue("other.v1"); }) &&
      variant("no_config", [](RawCheckpoint& r) { r.config.reset(); }) &&
      variant("config_not_string", [](RawCheckpoint& r) { r.config = c10::IValue(int64_t{7}); }) &&
      variant("config_bad_json",
              [](RawCheckpoint& r) { r.config = c10::IValue("{\"vocab_size\""); }) &&
      variant("config_mismatch",
              [](RawCheckpoint& r) { r.config = c10::IValue(Tiny({5}).ToJson()); }) &&
      variant("config_huge",
              [](RawCheckpoint& r) {
                LstmLmConfig c = Tiny({4});
                c.vocab_size = int64_t{1} << 40;
                r.config = c10::IValue(c.ToJson());
              }) &&
      variant("config_float_size",
              [](RawCheckpoint& r) {
                r.config = c10::IValue(
                    "{\"vocab_size\":1e300,\"embedding_size\":3,\"hidden_sizes\":[4],"
                    "\"dropout\":0.0,\"init_scale\":0.1}");
              }) &&
      variant("missing_param", [](RawCheckpoint& r) { r.params.erase("lstm0_w_hh"); }) &&
      variant("int_param",
              [](RawCheckpoint& r) {
                r.params["lstm0_b_ih"] = r.params["lstm0_b_ih"].to(torch::kInt64);
              }) &&
      variant("metadata_not_string", [](RawCheckpoint& r) { r.metadata = c10::IValue(1.5); });
  if (!ok) return 1;
  // Crafted files: data.pkl edited with its CRC-32 fixed, so that only the pickle check stops
  // them (LibTorch itself would allocate 4 GiB, or read past a record).
  auto crafted = [&](const std::string& name, const std::string& suffix,
                     const std::function<void(std::string*)>& edit) {
    std::string c = b;
    return Ok(EditStoredEntry(&c, suffix, edit)) &&
           Ok(WriteFileAtomically(absl::StrCat(dir, "/", name, ".pt"), c));
  };
  const std::string key0(
      "X\x01\x00\x00\x00"
      "0",
      6);
  const bool crafted_ok =
      crafted("pickle_huge_length", "/data.pkl",
              [](std::string* d) { d->replace(d->find('X') + 1, 4, "\xff\xff\xff\xff"); }) &&
      crafted("pickle_storage_key_swapped", "/data.pkl",
              [&](std::string* d) { (*d)[d->find(key0) + 5] = '6'; }) &&
      crafted("pickle_memo_skip", "/data.pkl",
              [](std::string* d) { (*d)[d->find('q') + 1] = '\x7f'; }) &&
      crafted("weight_flipped_crc_fixed", "/data/0", [](std::string* d) { (*d)[5] ^= 0x40; });
  if (!crafted_ok) return 1;
  // What the loader says about each seed (a corrupt seed that loads is worth a look).
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.push_back(entry.path().string());
  }
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    auto loaded = LoadLstmLm(name);
    std::printf("%s: %s\n", name.c_str(),
                loaded.ok() ? "loads" : std::string(loaded.status().message()).c_str());
  }
  return 0;
}

}  // namespace
}  // namespace rnnprune

int main(int argc, char** argv) {
  if (argc >= 3 && std::string(argv[1]) == "--check") {
    // What the loader says about existing checkpoints (e.g. that real ones still load).
    int failed = 0;
    for (int i = 2; i < argc; ++i) {
      auto loaded = rnnprune::LoadLstmLm(rnnprune::ResolveUserPath(argv[i]));
      failed += loaded.ok() ? 0 : 1;
      std::printf("%s: %s\n", argv[i],
                  loaded.ok() ? "loads" : std::string(loaded.status().message()).c_str());
    }
    return failed == 0 ? 0 : 1;
  }
  if (argc != 2) {
    std::fprintf(stderr,
                 "usage: make_checkpoint_corpus OUTPUT_DIR\n"
                 "       make_checkpoint_corpus --check CHECKPOINT...\n");
    return 2;
  }
  return rnnprune::Main(rnnprune::ResolveUserPath(argv[1]));
}
