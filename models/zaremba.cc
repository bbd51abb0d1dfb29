#include "models/zaremba.h"

#include "absl/strings/str_cat.h"

namespace rnnprune {

absl::StatusOr<ZarembaConfig> GetZarembaConfig(const std::string& name) {
  ZarembaConfig c;
  c.name = name;
  if (name == "small") {
    c.model.embedding_size = 200;
    c.model.hidden_sizes = {200, 200};
    c.model.dropout = 0.0;
    c.model.init_scale = 0.1;
    c.schedule.lr_decay = 0.5;
    c.schedule.decay_after_epochs = 4;
    c.schedule.epochs = 13;
    c.schedule.max_grad_norm = 5.0;
  } else if (name == "medium") {
    c.model.embedding_size = 650;
    c.model.hidden_sizes = {650, 650};
    c.model.dropout = 0.5;
    c.model.init_scale = 0.05;
    c.schedule.lr_decay = 1.0 / 1.2;
    c.schedule.decay_after_epochs = 6;
    c.schedule.epochs = 39;
    c.schedule.max_grad_norm = 5.0;
  } else if (name == "large") {
    c.model.embedding_size = 1500;
    c.model.hidden_sizes = {1500, 1500};
    c.model.dropout = 0.65;
    c.model.init_scale = 0.04;
    c.schedule.lr_decay = 1.0 / 1.15;
    c.schedule.decay_after_epochs = 14;
    c.schedule.epochs = 55;
    c.schedule.max_grad_norm = 10.0;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown Zaremba config '", name, "': must be small, medium or large"));
  }
  c.model.vocab_size = 10000;
  c.schedule.learning_rate = 1.0;
  c.schedule.batch_size = 20;
  c.schedule.bptt = 35;
  return c;
}

}  // namespace rnnprune
