// Writes the seed corpus of //fuzz:training_checkpoint_fuzzer into the folder given as the only
// argument: training checkpoints written by Train on the tiny run of fuzz/tiny_training_run.h
// (mid-epoch, holding the carried LSTM state, and at epoch ends, without), then truncated and
// byte-corrupted copies of the mid-epoch one. Prints what LoadLmTrainingCheckpoint says of each.
//   bazel run //fuzz:make_training_checkpoint_corpus -- $PWD/fuzz/corpus/training_checkpoint_fuzzer
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/files.h"
#include "fuzz/tiny_training_run.h"
#include "torch/torch.h"
#include "training/interrupting_hooks.h"
#include "training/lm_trainer.h"
#include "training/lm_training_checkpoint.h"

namespace rnnprune {
namespace {

bool Ok(const absl::Status& s) {
  if (!s.ok()) std::fprintf(stderr, "%s\n", std::string(s.message()).c_str());
  return s.ok();
}

// Runs the tiny run (a checkpoint after every step), stopped at optimizer step `stop_at` (1-based;
// 0: not stopped), and writes the checkpoint it leaves to `dir`/`name`.
bool Checkpoint(const std::string& dir, const std::string& name, int64_t stop_at) {
  torch::manual_seed(1);
  torch::set_num_threads(1);
  LstmLm model(TinyTrainingConfig());
  TrainOptions o = TinyTrainingOptions();
  o.checkpoint_path = absl::StrCat(dir, "/", name);
  std::remove(o.checkpoint_path.c_str());
  const torch::Tensor ids = torch::arange(0, 60, torch::kInt64).remainder(7);
  TrainingHooks dense;
  InterruptingHooks stop(&dense, stop_at > 0 ? stop_at : 1 << 30, o.checkpoint_path);
  const absl::Status trained = Train(model, ids, torch::Tensor(), o, &stop).status();
  if (stop_at == 0 && !Ok(trained)) return false;
  return PathExists(o.checkpoint_path);
}

int Main(const std::string& dir) {
  // Stopped at step 3: the checkpoint of step 2 (epoch 1, step 2 of 3, with LSTM state); at step
  // 4: that of the first epoch's end; not stopped: the end of training (epoch 3, step 0).
  if (!Ok(MakeDirs(dir)) || !Checkpoint(dir, "mid_epoch.ckpt", 3) ||
      !Checkpoint(dir, "epoch_end.ckpt", 4) || !Checkpoint(dir, "finished.ckpt", 0)) {
    std::fprintf(stderr, "a seed checkpoint was not written\n");
    return 1;
  }
  auto bytes = ReadFile(dir + "/mid_epoch.ckpt");
  if (!Ok(bytes.status())) return 1;
  const std::string& b = *bytes;
  for (size_t keep :
       {size_t{0}, size_t{30}, b.size() / 4, b.size() / 2, b.size() - 22, b.size() - 1}) {
    if (!Ok(WriteFileAtomically(absl::StrCat(dir, "/truncated_", keep, ".ckpt"),
                                b.substr(0, keep)))) {
      return 1;
    }
  }
  for (size_t at : {size_t{8}, b.size() / 3, b.size() / 2, b.size() - 10}) {
    std::string c = b;
    c[at] = static_cast<char>(c[at] ^ 0x5A);
    if (!Ok(WriteFileAtomically(absl::StrCat(dir, "/flipped_", at, ".ckpt"), c))) return 1;
  }
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.push_back(entry.path().string());
  }
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    auto loaded = LoadLmTrainingCheckpoint(name);
    std::printf("%s: %s\n", name.c_str(),
                loaded.ok() ? absl::StrCat("loads (epoch ", loaded->progress.epoch, ", step ",
                                           loaded->progress.step, ")")
                                  .c_str()
                            : std::string(loaded.status().message()).c_str());
  }
  return 0;
}

}  // namespace
}  // namespace rnnprune

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_training_checkpoint_corpus OUTPUT_FOLDER\n");
    return 2;
  }
  return rnnprune::Main(argv[1]);
}
