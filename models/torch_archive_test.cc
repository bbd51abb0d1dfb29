#include "models/torch_archive.h"

#include <cstdint>
#include <cstdlib>
#include <string>

#include "common/files.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "models/checkpoint.h"
#include "models/checkpoint_testing.h"
#include "models/lstm_lm.h"
#include "torch/torch.h"

namespace rnnprune {
namespace {

using ::testing::HasSubstr;

std::string TempDir() { return std::string(std::getenv("TEST_TMPDIR")); }

LstmLmConfig Tiny() {
  LstmLmConfig c;
  c.vocab_size = 7;
  c.embedding_size = 3;
  c.hidden_sizes = {4, 2};
  return c;
}

// A checkpoint written by SaveLstmLm, as bytes.
std::string CheckpointBytes(const std::string& name, const LstmLm& model) {
  const std::string path = TempDir() + "/" + name;
  EXPECT_TRUE(SaveLstmLm(model, path).ok());
  auto bytes = ReadFile(path);
  EXPECT_TRUE(bytes.ok());
  return bytes.ok() ? *bytes : "";
}

void PutLe32(std::string* b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) (*b)[at + i] = static_cast<char>((v >> (8 * i)) & 0xFF);
}

TEST(TorchArchive, CheckpointsOfSaveLstmLmPass) {
  torch::manual_seed(1);
  EXPECT_TRUE(CheckTorchArchive(CheckpointBytes("tiny.pt", LstmLm(Tiny()))).ok());
  LstmLmConfig big = Tiny();
  big.vocab_size = 1000;
  big.embedding_size = 40;
  big.hidden_sizes = {64, 30};
  big.input_sizes = {40, 50};
  const absl::Status s = CheckTorchArchive(CheckpointBytes("big.pt", LstmLm(big)));
  EXPECT_TRUE(s.ok()) << s;
}

// The property the check exists for: a file with any one byte changed either fails the check or
// loads the very same weights (the byte was in a field nobody reads, e.g. a timestamp). Before
// the check, LibTorch (whose miniz skips CRC-32) loaded a flipped weight byte silently.
TEST(TorchArchive, NoSingleByteCorruptionLoadsDifferentWeights) {
  torch::manual_seed(2);
  const LstmLm model(Tiny());
  const std::string good = CheckpointBytes("good.pt", model);
  const auto want = model->named_parameters();
  int refused = 0, harmless = 0;
  for (size_t at = 0; at < good.size(); ++at) {
    std::string bad = good;
    bad[at] = static_cast<char>(bad[at] ^ 0x01);
    if (!CheckTorchArchive(bad).ok()) {
      ++refused;
      continue;
    }
    const std::string path = TempDir() + "/flipped.pt";
    ASSERT_TRUE(WriteFileAtomically(path, bad).ok());
    auto loaded = LoadLstmLm(path);
    if (!loaded.ok()) continue;  // refused by LibTorch or the loader: fine too
    ++harmless;
    for (const auto& p : loaded->model->named_parameters()) {
      ASSERT_TRUE(torch::equal(p.value(), want[p.key()])) << "byte " << at << ": " << p.key();
    }
  }
  EXPECT_GT(refused, static_cast<int>(good.size()) / 2);
  EXPECT_GT(harmless, 0);  // e.g. the zip timestamps
}

TEST(TorchArchive, EveryTruncationIsRefused) {
  torch::manual_seed(3);
  const std::string good = CheckpointBytes("cut.pt", LstmLm(Tiny()));
  for (size_t keep = 0; keep < good.size(); ++keep) {
    EXPECT_FALSE(CheckTorchArchive(good.substr(0, keep)).ok()) << keep << " bytes";
  }
  EXPECT_THAT(std::string(CheckTorchArchive(good.substr(0, good.size() - 1)).message()),
              HasSubstr("no end-of-central-directory record"));
  EXPECT_THAT(std::string(CheckTorchArchive("PTMF flatbuffer").message()),
              HasSubstr("not a LibTorch zip archive"));
}

TEST(TorchArchive, FlippedWeightFailsItsCrc) {
  torch::manual_seed(4);
  std::string b = CheckpointBytes("crc.pt", LstmLm(Tiny()));
  // The first entry (a weight record) starts the file: 30-byte local header, name, extra field.
  auto u16 = [&b](size_t at) {
    return static_cast<size_t>(static_cast<unsigned char>(b[at])) |
           static_cast<size_t>(static_cast<unsigned char>(b[at + 1])) << 8;
  };
  b[30 + u16(26) + u16(28) + 5] ^= 0x40;
  EXPECT_THAT(std::string(CheckTorchArchive(b).message()), HasSubstr("/data/0' fails its CRC-32"));
}

// A second end-of-central-directory record in the comment of the real one: LibTorch's miniz would
// read the directory the last record names (here: one entry fewer), libzip may pick the other.
// The check refuses an archive whose last record disagrees with the directory libzip read.
TEST(TorchArchive, EndRecordInTheCommentIsRefused) {
  torch::manual_seed(7);
  std::string b = CheckpointBytes("comment.pt", LstmLm(Tiny()));
  ASSERT_TRUE(CheckTorchArchive(b).ok());
  const size_t end = b.size() - 22;
  ASSERT_EQ(b.substr(end, 4), std::string("PK\x05\x06", 4));
  std::string fake = b.substr(end, 22);
  const int entries = static_cast<unsigned char>(fake[10]) | static_cast<unsigned char>(fake[11])
                                                                 << 8;
  fake[8] = fake[10] = static_cast<char>((entries - 1) & 0xFF);
  fake[9] = fake[11] = static_cast<char>((entries - 1) >> 8);
  b[end + 20] = 22;  // the real record's comment is the fake record
  b += fake;
  EXPECT_FALSE(CheckTorchArchive(b).ok());
}

// A crafted data.pkl (valid CRC) whose first BINUNICODE declares 4 GiB: LibTorch's unpickler
// would allocate and zero-fill that much before failing; the check refuses it.
TEST(TorchArchive, PickleLengthBeyondTheEntryIsRefused) {
  torch::manual_seed(5);
  std::string b = CheckpointBytes("pickle.pt", LstmLm(Tiny()));
  ASSERT_TRUE(EditStoredEntry(&b, "/data.pkl", [](std::string* d) {
                const size_t x = d->find('X');
                ASSERT_NE(x, std::string::npos);
                PutLe32(d, x + 1, 0xFFFFFFFF);
              }).ok());
  const absl::Status s = CheckTorchArchive(b);
  EXPECT_THAT(std::string(s.message()), HasSubstr("declares 4294967295 bytes"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("data.pkl"));
}

// BINUNICODE `text`.
std::string Str(const std::string& text) {
  std::string out = "X    " + text;
  PutLe32(&out, 1, static_cast<uint32_t>(text.size()));
  return out;
}

// A pickle that references storage `key`: ('storage', torch.<type>, key, 'cpu', numel).
std::string StoragePickle(const std::string& type, const std::string& key, int numel) {
  return "(" + Str("storage") + "ctorch\n" + type + "\n" + Str(key) + Str("cpu") + "K" +
         std::string(1, static_cast<char>(numel)) + "tQ.";
}

absl::Status Check(const std::string& pickle) {
  return CheckPickle(pickle, [](const std::string& key) -> int64_t {
    return key == "0" ? 20 : key == "1" ? 16 : -1;  // records of 20 and 16 bytes
  });
}

TEST(TorchArchive, PickleChecks) {
  using std::string_literals::operator""s;
  // PROTO 2, BINUNICODE "abc", BINPUT 0, BINGET 0, TUPLE2, STOP.
  EXPECT_TRUE(Check("\x80\x02"s + Str("abc") + "q\x00h\x00\x86."s).ok());
  // Memo indices from LONG_BINPUT, MEMOIZE and text PUT count on.
  EXPECT_TRUE(Check("N\x94Nr\x01\x00\x00\x00Np2\nh\x02."s).ok());
  // GLOBAL with two lines, SHORT_BINUNICODE, BINFLOAT, BININT, a list built with APPENDS.
  EXPECT_TRUE(Check("ctorch\nFloatStorage\n\x8c\x01"
                    "aG12345678J\x01\x02\x03\x04](N)e."s)
                  .ok());
  // A storage of 5 floats in a 20-byte record; none at all for an empty storage.
  EXPECT_TRUE(Check(StoragePickle("FloatStorage", "0", 5)).ok());
  EXPECT_TRUE(Check(StoragePickle("FloatStorage", "9", 0)).ok());
  const std::pair<std::string, std::string> bad[] = {
      {"X\xff\xff\xff\xff"
       "abc."s,
       "0x58 at byte 0: declares 4294967295 bytes; only 4 remain"},
      {"\x8d\xff\xff\xff\xff\xff\xff\xff\x7f."s, "declares 9223372036854775807 bytes"},
      {"T\xff\xff\xff\xff."s, "negative length"},
      {"\x8b\x00\x00\x00\x80."s, "negative length"},
      {"Nq\x05."s, "at byte 1: memo index 5 skips past the 0 entries"},
      {"Nr\x00\x00\x00\x7f."s, "skips past"},
      {"q\x00."s, "needs a value on the stack"},
      {"h\x00."s, "reads memo index 0; only 0 entries are memoised"},
      {"Nq\x00j\x01\x00\x00\x00."s, "reads memo index 1"},
      {"Ng12x\n."s, "not a memo index"},
      {"Z."s, "0x5a at byte 0: unknown opcode"},
      {"N"s, "ends without a STOP"},
      {"cmodule_only\n"s, "cut off"},
      {"J\x01\x02"s, "cut off"},
      {"\x95\x10\x00\x00\x00\x00\x00\x00\x00N."s, "cut off"},
      {"a."s, "pops more values than the stack holds"},
      {"N(0."s, "pops more values than the stack holds"},
      {"N(a."s, "pops more values"},
      {"t."s, "needs a MARK"},
      {"NQ."s, "a persistent id other than ('storage'"},
      {StoragePickle("FloatStorage", "0", 6),
       "storage '0' claims 6 elements of 4 bytes; its record has 20"},
      {StoragePickle("DoubleStorage", "1", 3), "storage '1' claims 3 elements of 8 bytes"},
      {StoragePickle("FloatStorage", "7", 1), "storage '7' has no record"},
      {StoragePickle("FooStorage", "0", 1), "a storage of an unknown type"},
  };
  for (const auto& [pickle, message] : bad) {
    const absl::Status s = Check(pickle);
    EXPECT_THAT(std::string(s.message()), HasSubstr(message)) << s;
  }
}

// Regression (//fuzz:checkpoint_fuzzer seed): data.pkl edited (CRC fixed) to point the first
// weight, 48 floats, at a 5-float record. LibTorch 1.13 loaded it, reading past the record's
// buffer; the check refuses it.
TEST(TorchArchive, StorageLargerThanItsRecordIsRefused) {
  torch::manual_seed(6);
  LstmLmConfig c = Tiny();
  c.hidden_sizes = {4};
  std::string b = CheckpointBytes("swapped.pt", LstmLm(c));
  // The first storage key, BINUNICODE "0" (lstm0_w_ih, 48 floats), becomes "6" (decoder.bias,
  // 7 floats).
  ASSERT_TRUE(EditStoredEntry(&b, "/data.pkl", [](std::string* d) {
                const size_t at = d->find(Str("0"));
                ASSERT_NE(at, std::string::npos);
                (*d)[at + 5] = '6';
              }).ok());
  const absl::Status s = CheckTorchArchive(b);
  EXPECT_THAT(std::string(s.message()), HasSubstr("storage '6' claims 48 elements of 4 bytes"));
}

}  // namespace
}  // namespace rnnprune
