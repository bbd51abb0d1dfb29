// Random BiDAF questions and padded batches for the tests of models/ and pruning/ (no dataset
// needed: ids drawn uniformly from a config's vocabularies).
#ifndef RNNPRUNE_MODELS_BIDAF_TESTING_H_
#define RNNPRUNE_MODELS_BIDAF_TESTING_H_

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "models/bidaf.h"
#include "models/bidaf_config.h"
#include "torch/torch.h"

namespace rnnprune {
namespace bidaf_testing {

// A BiDAF small enough for exhaustive tests: vocabularies of 40 words and 20 characters, d = 7,
// one highway layer, two modelling layers.
inline BidafConfig TinyConfig() {
  BidafConfig c;
  c.word_vocab_size = 40;
  c.char_vocab_size = 20;
  c.word_dim = 6;
  c.char_dim = 4;
  c.char_channels = 5;
  c.char_kernel_width = 3;
  c.hidden_size = 7;
  c.highway_layers = 1;
  c.modelling_layers = 2;
  return c;
}

// One question: word ids and each token's character ids (no padding inside).
struct Example {
  std::vector<int64_t> context_words, question_words;
  std::vector<std::vector<int64_t>> context_chars, question_chars;
  int64_t first = 0, last = 0;
};

inline Example RandomExample(std::mt19937* rng, const BidafConfig& c, int64_t tc, int64_t tq) {
  std::uniform_int_distribution<int64_t> word(1, c.word_vocab_size - 1);
  std::uniform_int_distribution<int64_t> ch(1, c.char_vocab_size - 1);
  std::uniform_int_distribution<int64_t> chars(1, 6);
  Example e;
  auto fill = [&](int64_t n, std::vector<int64_t>* words, std::vector<std::vector<int64_t>>* cs) {
    for (int64_t t = 0; t < n; ++t) {
      words->push_back(word(*rng));
      cs->emplace_back(static_cast<size_t>(chars(*rng)));
      for (int64_t& x : cs->back()) x = ch(*rng);
    }
  };
  fill(tc, &e.context_words, &e.context_chars);
  fill(tq, &e.question_words, &e.question_chars);
  e.first = std::uniform_int_distribution<int64_t>(0, tc - 1)(*rng);
  e.last = std::min(tc - 1, e.first + std::uniform_int_distribution<int64_t>(0, 3)(*rng));
  return e;
}

// Right-padded batch, at least min_t{c,q} tokens and min_w characters wide. Padded word ids
// are `pad_word` (0 = the real padding id; other values check that padding is ignored).
inline BidafBatch ToBatch(const std::vector<Example>& examples, int64_t min_tc = 0,
                          int64_t min_tq = 0, int64_t min_w = 0, int64_t pad_word = 0) {
  int64_t tc = min_tc, tq = min_tq, w = min_w;
  for (const Example& e : examples) {
    tc = std::max<int64_t>(tc, static_cast<int64_t>(e.context_words.size()));
    tq = std::max<int64_t>(tq, static_cast<int64_t>(e.question_words.size()));
    for (const auto& c : e.context_chars) w = std::max<int64_t>(w, static_cast<int64_t>(c.size()));
    for (const auto& c : e.question_chars) w = std::max<int64_t>(w, static_cast<int64_t>(c.size()));
  }
  const int64_t b = static_cast<int64_t>(examples.size());
  BidafBatch x;
  auto side = [&](int64_t t, torch::Tensor* words, torch::Tensor* chars, torch::Tensor* mask,
                  bool context) {
    *words = torch::full({b, t}, pad_word, torch::kLong);
    *chars = torch::zeros({b, t, w}, torch::kLong);
    *mask = torch::zeros({b, t}, torch::kBool);
    for (int64_t r = 0; r < b; ++r) {
      const Example& e = examples[static_cast<size_t>(r)];
      const auto& ws = context ? e.context_words : e.question_words;
      const auto& cs = context ? e.context_chars : e.question_chars;
      for (size_t i = 0; i < ws.size(); ++i) {
        const int64_t ti = static_cast<int64_t>(i);
        (*words)[r][ti] = ws[i];
        (*mask)[r][ti] = true;
        for (size_t k = 0; k < cs[i].size(); ++k)
          (*chars)[r][ti][static_cast<int64_t>(k)] = cs[i][k];
      }
    }
  };
  side(tc, &x.context_words, &x.context_chars, &x.context_mask, true);
  side(tq, &x.question_words, &x.question_chars, &x.question_mask, false);
  x.answer_first = torch::empty({b}, torch::kLong);
  x.answer_last = torch::empty({b}, torch::kLong);
  for (int64_t r = 0; r < b; ++r) {
    x.answer_first[r] = examples[static_cast<size_t>(r)].first;
    x.answer_last[r] = examples[static_cast<size_t>(r)].last;
  }
  return x;
}

}  // namespace bidaf_testing
}  // namespace rnnprune

#endif  // RNNPRUNE_MODELS_BIDAF_TESTING_H_
