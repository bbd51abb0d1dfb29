#include "training/data_parallel.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <map>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "torch/csrc/distributed/c10d/PrefixStore.hpp"
#include "torch/csrc/distributed/c10d/ProcessGroupGloo.hpp"
#include "torch/csrc/distributed/c10d/TCPStore.hpp"
#include "torch/torch.h"
#include "training/checkpoint.h"

namespace rnnprune {
namespace {

constexpr auto kHeartbeatPeriod = std::chrono::seconds(1);
// How long DescribeFailure watches the heartbeats: a few periods.
constexpr auto kHeartbeatWatch = std::chrono::milliseconds(3500);

std::chrono::milliseconds Millis(absl::Duration d) {
  return std::chrono::milliseconds(absl::ToInt64Milliseconds(d));
}

std::string HeartbeatKey(int rank) { return absl::StrCat("heartbeat/", rank); }
std::string HashKey(int rank) { return absl::StrCat("config_hash/", rank); }

std::string AsString(const std::vector<uint8_t>& bytes) {
  return std::string(bytes.begin(), bytes.end());
}
std::vector<uint8_t> AsBytes(const std::string& s) {
  return std::vector<uint8_t>(s.begin(), s.end());
}

c10::intrusive_ptr<c10d::Store> ConnectStore(const DataParallelOptions& o, bool server) {
  c10d::TCPStoreOptions so;
  so.port = static_cast<std::uint16_t>(o.master_port);
  so.isServer = server;
  so.numWorkers = static_cast<std::size_t>(o.world_size);
  so.waitWorkers = false;
  so.timeout = Millis(o.timeout);
  return c10::make_intrusive<c10d::TCPStore>(o.master_addr, so);
}

// The network device Gloo's pairs bind on this machine, as PyTorch chooses it: the interface
// $GLOO_SOCKET_IFNAME when set; loopback when the master is on loopback (every rank on this
// machine); else the address this machine's host name resolves to.
std::shared_ptr<::gloo::transport::Device> GlooDevice(const std::string& master_addr) {
  if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname != nullptr && *ifname) {
    return c10d::ProcessGroupGloo::createDeviceForInterface(ifname);
  }
  if (master_addr == "localhost" || master_addr.rfind("127.", 0) == 0) {
    return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  }
  return c10d::ProcessGroupGloo::createDefaultDevice();
}

// The integer in environment variable `name`, or `fallback` when unset or empty.
absl::StatusOr<int> EnvInt(const std::function<const char*(const char*)>& getenv, const char* name,
                           int fallback) {
  const char* v = getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  int out = 0;
  if (!absl::SimpleAtoi(v, &out)) {
    return absl::InvalidArgumentError(
        absl::StrCat("environment variable ", name, "='", v, "' is not an integer"));
  }
  return out;
}

}  // namespace

absl::Status DataParallelOptions::Validate() const {
  auto bad = [](const char* field, const auto& value, const char* rule) {
    return absl::InvalidArgumentError(absl::StrCat(field, "=", value, " must be ", rule));
  };
  if (world_size < 1) return bad("world_size", world_size, ">= 1");
  if (rank < 0 || rank >= world_size) {
    return bad("rank", rank, absl::StrCat("in [0, world_size) = [0, ", world_size, ")").c_str());
  }
  if (world_size > 1 && master_addr.empty()) return bad("master_addr", "''", "a host name or IP");
  if (master_port < 1 || master_port > 65535)
    return bad("master_port", master_port, "in [1, 65535]");
  if (timeout <= absl::ZeroDuration()) {
    return bad("timeout", absl::FormatDuration(timeout), "> 0");
  }
  return absl::OkStatus();
}

absl::StatusOr<DataParallelOptions> ResolveDataParallelOptions(
    int world_size_flag, int rank_flag, const std::string& master_addr_flag, int master_port_flag,
    double timeout_seconds, const std::function<const char*(const char*)>& getenv) {
  DataParallelOptions o;
  if (world_size_flag >= 0) {
    o.world_size = world_size_flag;
  } else {
    ASSIGN_OR_RETURN(o.world_size, EnvInt(getenv, "WORLD_SIZE", o.world_size));
  }
  if (rank_flag >= 0) {
    o.rank = rank_flag;
  } else {
    ASSIGN_OR_RETURN(o.rank, EnvInt(getenv, "RANK", o.rank));
  }
  if (!master_addr_flag.empty()) {
    o.master_addr = master_addr_flag;
  } else if (const char* a = getenv("MASTER_ADDR"); a != nullptr && *a != '\0') {
    o.master_addr = a;
  }
  if (master_port_flag >= 0) {
    o.master_port = master_port_flag;
  } else {
    ASSIGN_OR_RETURN(o.master_port, EnvInt(getenv, "MASTER_PORT", o.master_port));
  }
  if (!(timeout_seconds > 0) || !std::isfinite(timeout_seconds)) {
    return absl::InvalidArgumentError(
        absl::StrCat("timeout=", timeout_seconds, " s must be finite and > 0"));
  }
  o.timeout = absl::Seconds(timeout_seconds);
  absl::Status s = o.Validate();
  if (!s.ok()) return s;
  return o;
}

DataParallel::DataParallel(const DataParallelOptions& options) : options_(options) {}

DataParallel::~DataParallel() {
  stop_heartbeat_ = true;
  if (heartbeat_.joinable()) heartbeat_.join();
}

absl::StatusOr<std::unique_ptr<DataParallel>> DataParallel::Join(const DataParallelOptions& options,
                                                                 const std::string& config_hash) {
  absl::Status valid = options.Validate();
  if (!valid.ok()) return valid;
  std::unique_ptr<DataParallel> dp(new DataParallel(options));
  if (options.world_size == 1) return dp;
  absl::Status s = dp->Rendezvous(config_hash);
  if (!s.ok()) return s;
  return dp;
}

absl::Status DataParallel::Rendezvous(const std::string& config_hash) {
  const DataParallelOptions& o = options_;
  const std::string where = absl::StrCat("rank ", o.rank, " of ", o.world_size, " at ",
                                         o.master_addr, ":", o.master_port);
  try {
    store_ = ConnectStore(o, o.rank == 0);
  } catch (const std::exception& e) {
    return absl::UnavailableError(
        absl::StrCat("data-parallel rendezvous (", where, "): cannot reach the store: ", e.what()));
  }
  try {
    store_->set(HashKey(o.rank), AsBytes(config_hash));
    store_->add(HeartbeatKey(o.rank), 1);
    absl::Status verdict;
    for (int r = 0; r < o.world_size && verdict.ok(); ++r) {
      try {
        store_->wait({HashKey(r)}, Millis(o.timeout));
      } catch (const std::exception& e) {
        return absl::DeadlineExceededError(absl::StrCat(
            "data-parallel rendezvous (", where, "): rank ", r, " did not join within ",
            absl::FormatDuration(o.timeout), " (start every rank with the same --world_size, ",
            "--master_addr and --master_port)"));
      }
      const std::string theirs = AsString(store_->get(HashKey(r)));
      if (theirs != config_hash) {
        verdict = absl::FailedPreconditionError(
            absl::StrCat("data-parallel rendezvous (", where, "): rank ", r, " runs config hash ",
                         theirs, ", rank ", o.rank, " runs ", config_hash,
                         ": every rank must run the same configuration (the same flags and data)"));
      }
    }
    // Rank 0 hosts the store: it stays until every rank has read the hashes, so that each
    // refuses with the reason rather than a lost connection.
    store_->add("checked", 1);
    if (o.rank == 0) {
      const auto deadline = std::chrono::steady_clock::now() + Millis(o.timeout);
      while (store_->add("checked", 0) < o.world_size &&
             std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
    if (!verdict.ok()) return verdict;
    auto gloo = c10d::ProcessGroupGloo::Options::create();
    gloo->timeout = Millis(o.timeout);
    gloo->devices.push_back(GlooDevice(o.master_addr));
    group_ = c10::make_intrusive<c10d::ProcessGroupGloo>(
        c10::make_intrusive<c10d::PrefixStore>("gloo", store_), o.rank, o.world_size, gloo);
  } catch (const std::exception& e) {
    return absl::UnavailableError(
        absl::StrCat("data-parallel rendezvous (", where, ") failed: ", e.what()));
  }
  StartHeartbeat();
  return absl::OkStatus();
}

void DataParallel::StartHeartbeat() {
  heartbeat_ = std::thread([this] {
    c10::intrusive_ptr<c10d::Store> own;
    try {
      own = ConnectStore(options_, /*server=*/false);  // a client of its own: not thread-shared
    } catch (const std::exception&) {
      return;
    }
    while (!stop_heartbeat_) {
      try {
        own->add(HeartbeatKey(options_.rank), 1);
      } catch (const std::exception&) {
        return;  // the store is gone (rank 0 ended): nothing left to tell
      }
      for (int i = 0; i < 10 && !stop_heartbeat_; ++i)
        std::this_thread::sleep_for(kHeartbeatPeriod / 10);
    }
  });
}

std::string DataParallel::DescribeFailure() {
  std::vector<int64_t> before(static_cast<size_t>(options_.world_size));
  try {
    for (int r = 0; r < options_.world_size; ++r) before[r] = store_->add(HeartbeatKey(r), 0);
    std::this_thread::sleep_for(kHeartbeatWatch);
    std::vector<std::string> stopped;
    for (int r = 0; r < options_.world_size; ++r) {
      if (r != options_.rank && store_->add(HeartbeatKey(r), 0) == before[r]) {
        stopped.push_back(absl::StrCat(r));
      }
    }
    if (stopped.empty()) return "every other rank's heartbeat still moves (a desynchronised run?)";
    return absl::StrCat(stopped.size() == 1 ? "rank " : "ranks ", absl::StrJoin(stopped, ", "),
                        " stopped (no heartbeat for ", kHeartbeatWatch.count(), " ms)");
  } catch (const std::exception&) {
    return absl::StrCat("rank 0 stopped (the store it hosts at ", options_.master_addr, ":",
                        options_.master_port, " is gone)");
  }
}

absl::Status DataParallel::Failed(absl::string_view where, const std::exception& e) {
  return absl::UnavailableError(
      absl::StrCat("data-parallel ", where, " failed on rank ", options_.rank, " of ",
                   options_.world_size, ": ", DescribeFailure(),
                   "; stopping (run the same command on every rank to resume from "
                   "the last checkpoint). Gloo said: ",
                   e.what()));
}

absl::StatusOr<BatchShare> DataParallel::ShareOf(int64_t rows) const {
  if (options_.world_size == 1) return BatchShare{};
  if (rows < options_.world_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("a batch of ", rows, " rows cannot be shared by ", options_.world_size,
                     " ranks (one row each at least)"));
  }
  return ShareOfRows(rows, options_.rank, options_.world_size);
}

absl::Status DataParallel::AllReduceSum(const std::vector<torch::Tensor>& tensors,
                                        absl::string_view where) {
  if (options_.world_size == 1 || tensors.empty()) return absl::OkStatus();
  std::vector<std::vector<at::Tensor>> buckets(1);
  int64_t bytes = 0;
  for (const torch::Tensor& t : tensors) {
    if (!t.is_contiguous() || t.scalar_type() != torch::kFloat) {
      return absl::InvalidArgumentError(
          absl::StrCat("data-parallel ", where, ": all-reduce takes contiguous float32 tensors"));
    }
    const int64_t b = t.numel() * static_cast<int64_t>(sizeof(float));
    if (bytes > 0 && bytes + b > kBucketBytes) {
      buckets.emplace_back();
      bytes = 0;
    }
    buckets.back().push_back(t);
    bytes += b;
  }
  try {
    std::vector<c10::intrusive_ptr<c10d::Work>> work;
    for (std::vector<at::Tensor>& bucket : buckets) {
      work.push_back(group_->allreduce_coalesced(bucket));
    }
    for (auto& w : work) w->wait();
  } catch (const std::exception& e) {
    return Failed(absl::StrCat("all-reduce (", where, ")"), e);
  }
  return absl::OkStatus();
}

absl::StatusOr<torch::Tensor> DataParallel::GatherRows(const torch::Tensor& local, int64_t dim,
                                                       absl::string_view where) {
  if (options_.world_size == 1) return local;
  try {
    // Shares may differ by a row: each rank's rows are padded to the widest share.
    std::vector<at::Tensor> counts = {torch::full({1}, local.size(dim), torch::kLong)};
    std::vector<std::vector<at::Tensor>> all_counts(1);
    for (int r = 0; r < options_.world_size; ++r)
      all_counts[0].push_back(torch::empty({1}, torch::kLong));
    group_->allgather(all_counts, counts)->wait();
    int64_t widest = 0;
    for (const at::Tensor& c : all_counts[0]) widest = std::max(widest, c.item<int64_t>());
    std::vector<int64_t> padded_sizes = local.sizes().vec();
    padded_sizes[static_cast<size_t>(dim)] = widest;
    std::vector<at::Tensor> mine = {torch::zeros(padded_sizes, local.options())};
    mine[0].narrow(dim, 0, local.size(dim)).copy_(local);
    std::vector<std::vector<at::Tensor>> all(1);
    for (int r = 0; r < options_.world_size; ++r) all[0].push_back(torch::empty_like(mine[0]));
    group_->allgather(all, mine)->wait();
    std::vector<torch::Tensor> rows;
    for (int r = 0; r < options_.world_size; ++r) {
      rows.push_back(
          all[0][static_cast<size_t>(r)].narrow(dim, 0, all_counts[0][r].item<int64_t>()));
    }
    return torch::cat(rows, dim);
  } catch (const std::exception& e) {
    return Failed(absl::StrCat("all-gather (", where, ")"), e);
  }
}

absl::Status DataParallel::Agree(absl::string_view what, const std::string& value) {
  if (options_.world_size == 1) return absl::OkStatus();
  const std::string prefix = absl::StrCat("agree/", agreements_++, "/");
  try {
    store_->set(absl::StrCat(prefix, options_.rank), AsBytes(value));
    for (int r = 0; r < options_.world_size; ++r) {
      const std::string key = absl::StrCat(prefix, r);
      store_->wait({key}, Millis(options_.timeout));
      const std::string theirs = AsString(store_->get(key));
      if (theirs != value) {
        return absl::FailedPreconditionError(absl::StrCat("data-parallel ranks disagree on ", what,
                                                          ": rank ", r, " has ", theirs, ", rank ",
                                                          options_.rank, " has ", value));
      }
    }
  } catch (const std::exception& e) {
    return Failed(absl::StrCat("agreement on ", what), e);
  }
  return absl::OkStatus();
}

absl::StatusOr<double> DataParallel::AllReduceGradients(
    const std::vector<torch::Tensor>& parameters, double local_mean, const BatchShare& share,
    absl::string_view where) {
  std::vector<torch::Tensor> sums;
  for (const torch::Tensor& p : parameters) {
    torch::Tensor g = p.grad();
    if (!g.defined()) continue;
    if (!g.is_contiguous()) {
      g = g.contiguous();
      const_cast<torch::Tensor&>(p).mutable_grad() = g;
    }
    sums.push_back(g);
  }
  torch::Tensor loss_sum =
      torch::full({1}, local_mean * static_cast<double>(share.count), torch::kFloat);
  sums.push_back(loss_sum);
  RETURN_IF_ERROR(AllReduceSum(sums, where));
  return loss_sum.item<double>() / static_cast<double>(share.global);
}

absl::Status DataParallel::AgreeOnStart(int64_t step,
                                        const std::vector<torch::Tensor>& parameters) {
  RETURN_IF_ERROR(Agree("the starting step (global optimizer steps)", absl::StrCat(step)));
  NamedTensors named;
  for (size_t i = 0; i < parameters.size(); ++i) {
    named.emplace_back(absl::StrCat(i), parameters[i]);
  }
  return Agree("the parameters' SHA-256 at the start", TensorsSha256(named));
}

}  // namespace rnnprune
