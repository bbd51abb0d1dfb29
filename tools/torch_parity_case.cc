// Writes models and what they compute on real data, for a comparison with the PyTorch modules of
// tools/rnnprune_torch.py (tools/torch_parity_test.sh). Each folder holds config.json (the
// model's config, models/*_config ToJson), model.pt (its state dict in PyTorch's names,
// models/torch_export.h) and case.pt (inputs and outputs, below):
//   OUT/lm_dense       a dense LSTM LM (E = 64, H = 64/64, the PTB vocabulary);
//   OUT/lm_compacted   the same model compacted under a mask that closes embedding dims, hidden
//                      units and layer-2 inputs and scales others (heterogeneous sizes);
//     case.pt: input1, input2 [35, 4] int64 (two consecutive windows of PTB valid), logits1,
//     logits2 [35, 4, V] float32 (the state carried from the first window to the second);
//   OUT/bidaf          a small BiDAF (d = 16) trained for a few Adam steps on dev questions;
//     case.pt: a batch of dev questions (context_words, context_chars, context_mask,
//     question_*, answer_first, answer_last), the eval-mode start_logits and end_logits [B, Tc],
//     the loss [] (nats) and each parameter's gradient of the loss as "grad.<PyTorch name>".
//
//   torch_parity_case --data_dir=../shared/data --out=/tmp/parity
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/data_dir.h"
#include "common/files.h"
#include "common/status_macros.h"
#include "common/torch_status.h"
#include "datasets/ptb.h"
#include "datasets/squad.h"
#include "models/bidaf.h"
#include "models/lstm_lm.h"
#include "models/torch_export.h"
#include "pruning/compaction.h"
#include "pruning/neuron_mask.h"
#include "torch/torch.h"
#include "training/squad_batch.h"

ABSL_FLAG(std::string, data_dir, "", "data folder (flag > $RNNPRUNE_DATA > ../shared/data)");
ABSL_FLAG(std::string, out, "", "output folder (created)");
ABSL_FLAG(int, seed, 1, "seed of the initial weights and of the mask");
ABSL_FLAG(int, bidaf_train_steps, 20, "Adam steps (batches of 16 dev questions) before the case");

namespace rnnprune {
namespace {

absl::Status WriteCase(const std::string& dir, const std::string& config_json,
                       const torch::nn::Module& model, const StateDict& case_tensors) {
  RETURN_IF_ERROR(ExportTorchModel(model, config_json, dir));
  RETURN_IF_ERROR(WriteTorchStateDict(case_tensors, dir + "/case.pt"));
  std::printf("wrote %s/{config.json,model.pt,case.pt}\n", dir.c_str());
  return absl::OkStatus();
}

// Two consecutive windows through `model` (eval mode), the state carried between them.
absl::Status WriteLmCase(const std::string& dir, LstmLm& model, const torch::Tensor& input1,
                         const torch::Tensor& input2) {
  torch::NoGradGuard no_grad;
  model->eval();
  LstmState state = model->InitialState(input1.size(1));
  const torch::Tensor logits1 = model->forward(input1, &state);
  const torch::Tensor logits2 = model->forward(input2, &state);
  return WriteCase(
      dir, model->config().ToJson(), *model,
      {{"input1", input1}, {"input2", input2}, {"logits1", logits1}, {"logits2", logits2}});
}

// A mask that removes and scales neurons of every set: every 3rd embedding dim closed, every 5th
// scaled by 0.5; every 4th hidden unit of each layer closed, the others scaled by values in
// (0.5, 1]; every 7th input of layer 2 closed.
NeuronMask MixedMask(const LstmLmConfig& config) {
  NeuronMask mask = NeuronMask::AllOpen(config);
  mask.input[0].slice(0, 0, c10::nullopt, 3).zero_();
  mask.input[0].slice(0, 1, c10::nullopt, 5).mul_(0.5);
  for (torch::Tensor& h : mask.hidden) {
    h.copy_(torch::rand({h.size(0)}) * 0.5 + 0.5);
    h.slice(0, 0, c10::nullopt, 4).zero_();
  }
  mask.input[1].slice(0, 2, c10::nullopt, 7).zero_();
  return mask;
}

absl::Status WriteLmCases(const std::string& data_dir, const std::string& out) {
  ASSIGN_OR_RETURN(const PtbCorpus ptb, LoadPtb(data_dir + "/ptb"));
  ASSIGN_OR_RETURN(const torch::Tensor valid, Batchify(ptb.valid, 4));  // [N / 4, 4]
  return CatchTorch("torch_parity_case (LM)", [&]() -> absl::Status {
    const torch::Tensor input1 = valid.slice(0, 0, 35).contiguous();
    const torch::Tensor input2 = valid.slice(0, 35, 70).contiguous();
    LstmLmConfig config;
    config.vocab_size = ptb.vocab.size();
    config.embedding_size = 64;
    config.hidden_sizes = {64, 64};
    LstmLm dense(config);
    RETURN_IF_ERROR(WriteLmCase(out + "/lm_dense", dense, input1, input2));
    ASSIGN_OR_RETURN(CompactionResult compacted, Compact(dense, MixedMask(config)));
    return WriteLmCase(out + "/lm_compacted", compacted.model, input1, input2);
  });
}

// The parameters' gradients under their PyTorch names (TorchStateDict's order), "grad." first.
StateDict Gradients(const BidafImpl& model) {
  const StateDict names = TorchStateDict(model);
  const auto params = model.named_parameters(/*recurse=*/true);
  StateDict out;
  for (size_t i = 0; i < params.size(); ++i) {
    const torch::Tensor& g = params[i].value().grad();
    out.emplace_back("grad." + names[i].first,
                     g.defined() ? g.clone() : torch::zeros_like(params[i].value()));
  }
  return out;
}

absl::Status WriteBidafCase(const std::string& data_dir, const std::string& out) {
  ASSIGN_OR_RETURN(const SquadDataset dev, LoadSquad(data_dir + "/squad/dev-v1.1.json"));
  const SquadVocab words = BuildWordVocab(dev, 1), chars = BuildCharVocab(dev, 1);
  ASSIGN_OR_RETURN(const std::vector<SquadExample> examples,
                   MakeSquadExamples(dev, words, chars, 16));
  return CatchTorch("torch_parity_case (BiDAF)", [&]() -> absl::Status {
    BidafConfig config;
    config.word_vocab_size = words.size();
    config.char_vocab_size = chars.size();
    config.word_dim = 24;
    config.char_channels = 12;
    config.hidden_size = 16;
    config.freeze_word_embedding = false;  // its gradient is compared too
    Bidaf model(config);
    torch::optim::Adam adam(model->parameters(), torch::optim::AdamOptions(1e-2));
    model->train();
    for (int step = 0; step < absl::GetFlag(FLAGS_bidaf_train_steps); ++step) {
      std::vector<int64_t> indices;
      for (int64_t i = 0; i < 16; ++i) indices.push_back(1000 + 16 * step + i);
      ASSIGN_OR_RETURN(const BidafBatch batch, MakeBidafBatch(examples, indices));
      adam.zero_grad();
      BidafLoss(model->forward(batch), batch).backward();
      adam.step();
    }
    // Questions of several articles, with contexts and questions of different lengths.
    const std::vector<int64_t> picked = {0, 37, 2500, 5001, 7777, 10569};
    ASSIGN_OR_RETURN(const BidafBatch batch, MakeBidafBatch(examples, picked));
    model->eval();
    model->zero_grad();
    const BidafOutput output = model->forward(batch);
    const torch::Tensor loss = BidafLoss(output, batch);
    loss.backward();
    StateDict case_tensors = {{"context_words", batch.context_words},
                              {"context_chars", batch.context_chars},
                              {"context_mask", batch.context_mask},
                              {"question_words", batch.question_words},
                              {"question_chars", batch.question_chars},
                              {"question_mask", batch.question_mask},
                              {"answer_first", batch.answer_first},
                              {"answer_last", batch.answer_last},
                              {"start_logits", output.start_logits.detach()},
                              {"end_logits", output.end_logits.detach()},
                              {"loss", loss.detach()}};
    for (auto& g : Gradients(*model)) case_tensors.push_back(std::move(g));
    return WriteCase(out + "/bidaf", config.ToJson(), *model, case_tensors);
  });
}

absl::Status Run() {
  const std::string out = absl::GetFlag(FLAGS_out);
  if (out.empty()) return absl::InvalidArgumentError("--out is required");
  ASSIGN_OR_RETURN(const std::string data_dir, ResolveDataDir(absl::GetFlag(FLAGS_data_dir)));
  torch::manual_seed(static_cast<uint64_t>(absl::GetFlag(FLAGS_seed)));
  RETURN_IF_ERROR(WriteLmCases(data_dir, out));
  return WriteBidafCase(data_dir, out);
}

}  // namespace
}  // namespace rnnprune

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  torch::set_num_threads(1);
  const absl::Status s = rnnprune::Run();
  if (!s.ok()) {
    std::fprintf(stderr, "torch_parity_case: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  return 0;
}
