// Measures training throughput (tokens/s) of a Zaremba config on real PTB for a few hundred steps.
#include <cstdio>
#include <cstdlib>

#include "common/data_dir.h"
#include "datasets/ptb.h"
#include "models/zaremba.h"
#include "pruning/trainer.h"
#include "torch/torch.h"

int main(int argc, char** argv) {
  using namespace rnnprune;
  const int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  const int steps = argc > 2 ? std::atoi(argv[2]) : 200;
  torch::set_num_threads(threads);
  auto dir = ResolveDataDir("");
  auto corpus = LoadPtb(*dir + "/ptb");
  if (!corpus.ok()) { std::fprintf(stderr, "%s\n", corpus.status().ToString().c_str()); return 1; }
  auto cfg = GetZarembaConfig(argc > 3 ? argv[3] : "small");
  torch::manual_seed(1);
  LstmLm model(cfg->model);
  TrainOptions o;
  o.schedule = cfg->schedule;
  o.schedule.epochs = 1;
  o.max_steps_per_epoch = steps;
  o.log_every_steps = 50;
  o.max_eval_tokens = 20000;
  auto r = Train(model, corpus->train, corpus->valid, o);
  if (!r.ok()) { std::fprintf(stderr, "%s\n", r.status().ToString().c_str()); return 1; }
  std::printf("threads %d: %.0f tokens/s\n", threads, r->tokens_per_second);
  return 0;
}
