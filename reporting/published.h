// Published figures that stand beside ours in the reports, always labelled with their source.
// Never mixed into our own results.
#ifndef RNNPRUNE_REPORTING_PUBLISHED_H_
#define RNNPRUNE_REPORTING_PUBLISHED_H_

namespace rnnprune {

// A published PTB perplexity pair (word level, 10k vocabulary, Mikolov's splits).
struct PublishedPtbPerplexity {
  const char* model;         // "small", "medium", "large"
  const char* architecture;  // e.g. "2x200 LSTM, no dropout"
  double valid_perplexity;
  double test_perplexity;
  const char* source;
};

// Zaremba, Sutskever, Vinyals 2014, "Recurrent Neural Network Regularization", Table 1
// (the small model is the non-regularized LSTM).
inline constexpr PublishedPtbPerplexity kZarembaPublished[] = {
    {"small", "2x200 LSTM, no dropout", 120.7, 114.5, "Zaremba et al. 2014, Table 1"},
    {"medium", "2x650 LSTM, dropout 0.5", 86.2, 82.7, "Zaremba et al. 2014, Table 1"},
    {"large", "2x1500 LSTM, dropout 0.65", 82.2, 78.4, "Zaremba et al. 2014, Table 1"},
};

// Published pruning results on PTB quoted beside ours.
struct PublishedPruningResult {
  const char* method;
  const char* model;
  const char* result;
  const char* source;
};

inline constexpr PublishedPruningResult kPruningPublished[] = {
    {"L0 neuron selection", "PTB LSTM language models",
     "nearly 20x practical inference speedup without perplexity loss",
     "Wen, Zhang, Bai, Xu 2020 (Neural Networks 123), abstract"},
    {"ISS group Lasso", "Zaremba large (2x1500), hidden sizes pruned to 373 and 315",
     "10.59x inference speedup", "Wen et al., ICLR 2018 (Learning Intrinsic Sparse Structures)"},
};

// A published SQuAD v1.1 dev result (official protocol: trained on train-v1.1.json).
struct PublishedSquadResult {
  const char* model;
  double exact_match;  // percent
  double f1;           // percent
  const char* source;
};

inline constexpr PublishedSquadResult kBidafPublished = {
    "BiDAF, single model, d = 100, GloVe 6B 100d", 67.7, 77.3,
    "Seo, Kembhavi, Farhadi, Hajishirzi, ICLR 2017 (arXiv 1611.01603), Table 1, SQuAD v1.1 dev"};

}  // namespace rnnprune

#endif  // RNNPRUNE_REPORTING_PUBLISHED_H_
