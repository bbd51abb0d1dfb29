#include "models/torch_archive.h"

#include <zlib.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace rnnprune {
namespace {

constexpr uint32_t kLocalHeader = 0x04034b50;
constexpr uint32_t kCentralHeader = 0x02014b50;
constexpr uint32_t kEnd = 0x06054b50;
constexpr uint32_t kEnd64 = 0x06064b50;
constexpr uint32_t kEnd64Locator = 0x07064b50;
constexpr size_t kLocalHeaderBytes = 30, kCentralHeaderBytes = 46, kEndBytes = 22;

// Little-endian unsigned integer of `n` bytes at b[at]; the caller has checked the bounds.
uint64_t Le(absl::string_view b, uint64_t at, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(b[at + i]);
  return v;
}

// True when [offset, offset + length) lies inside [0, size).
bool Fits(uint64_t offset, uint64_t length, uint64_t size) {
  return offset <= size && length <= size - offset;
}

absl::Status Bad(const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat("corrupt LibTorch archive: ", what));
}

struct Entry {
  std::string name;
  uint64_t flags = 0, method = 0, crc = 0, compressed = 0, uncompressed = 0, local = 0;
};

// Checks the sizes and CRC-32 of `e`'s data `data` (stored or raw deflate). When `inflated` is
// non-null and the entry is deflated, the uncompressed bytes are appended to it.
absl::Status CheckData(const Entry& e, absl::string_view data, std::string* inflated) {
  if (e.method == 0) {
    if (e.compressed != e.uncompressed) {
      return Bad(absl::StrCat("entry '", e.name, "' is stored but its sizes differ (",
                              e.compressed, " and ", e.uncompressed, " bytes)"));
    }
    const uint64_t crc = crc32_z(0, reinterpret_cast<const Bytef*>(data.data()), data.size());
    if (crc != e.crc) {
      return Bad(absl::StrFormat("entry '%s' fails its CRC-32 (%08x, expected %08x)", e.name,
                                 crc, e.crc));
    }
    return absl::OkStatus();
  }
  if (e.method != 8) {
    return Bad(absl::StrCat("entry '", e.name, "' has compression method ", e.method,
                            " (only stored and deflated are read)"));
  }
  if (data.size() > UINT32_MAX) {
    return Bad(absl::StrCat("deflated entry '", e.name, "' is over 4 GiB"));
  }
  z_stream zs{};
  if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) return absl::InternalError("zlib inflateInit2 failed");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  unsigned char buffer[1 << 16];
  uint64_t total = 0, crc = crc32_z(0, nullptr, 0);
  int rc = Z_OK;
  std::string error;
  while (rc != Z_STREAM_END) {
    zs.next_out = buffer;
    zs.avail_out = sizeof(buffer);
    rc = inflate(&zs, Z_NO_FLUSH);
    const size_t got = sizeof(buffer) - zs.avail_out;
    if (rc != Z_OK && rc != Z_STREAM_END) {
      error = absl::StrCat("entry '", e.name, "' has corrupt or truncated deflate data");
      break;
    }
    total += got;
    if (total > e.uncompressed) {
      error = absl::StrCat("entry '", e.name, "' inflates to more than its ", e.uncompressed,
                           " bytes");
      break;
    }
    crc = crc32_z(crc, buffer, got);
    if (inflated != nullptr) inflated->append(reinterpret_cast<const char*>(buffer), got);
  }
  inflateEnd(&zs);
  if (!error.empty()) return Bad(error);
  if (total != e.uncompressed) {
    return Bad(absl::StrCat("entry '", e.name, "' inflates to ", total, " bytes, not ",
                            e.uncompressed));
  }
  if (crc != e.crc) {
    return Bad(absl::StrFormat("entry '%s' fails its CRC-32 (%08x, expected %08x)", e.name, crc,
                               e.crc));
  }
  return absl::OkStatus();
}

// Reads the zip64 extended-information extra field of a central entry for the fields that are
// saturated (0xFFFFFFFF) in its fixed part.
absl::Status ReadZip64Extra(absl::string_view extra, Entry* e) {
  size_t at = 0;
  while (at + 4 <= extra.size()) {
    const uint64_t id = Le(extra, at, 2), len = Le(extra, at + 2, 2);
    if (!Fits(at + 4, len, extra.size())) break;
    if (id == 1) {
      uint64_t field = at + 4;
      const uint64_t end = at + 4 + len;
      for (uint64_t* v : {&e->uncompressed, &e->compressed, &e->local}) {
        if (*v != 0xFFFFFFFF) continue;
        if (!Fits(field, 8, end)) break;
        *v = Le(extra, field, 8);
        field += 8;
      }
      if (e->uncompressed != 0xFFFFFFFF && e->compressed != 0xFFFFFFFF && e->local != 0xFFFFFFFF) {
        return absl::OkStatus();
      }
      break;
    }
    at += 4 + len;
  }
  return Bad(absl::StrCat("entry '", e->name, "' lacks the zip64 sizes it needs"));
}

}  // namespace

namespace {

// Bytes per element of the storage classes LibTorch 1.13 pickles ("torch FloatStorage", ...);
// 0 for any other global.
int64_t StorageItemBytes(const std::string& global) {
  static const std::pair<const char*, int64_t> kSizes[] = {
      {"torch FloatStorage", 4},        {"torch DoubleStorage", 8},
      {"torch HalfStorage", 2},         {"torch BFloat16Storage", 2},
      {"torch LongStorage", 8},         {"torch IntStorage", 4},
      {"torch ShortStorage", 2},        {"torch CharStorage", 1},
      {"torch ByteStorage", 1},         {"torch BoolStorage", 1},
      {"torch ComplexHalfStorage", 4},  {"torch ComplexFloatStorage", 8},
      {"torch ComplexDoubleStorage", 16}, {"torch QInt8Storage", 1},
      {"torch QUInt8Storage", 1},       {"torch QInt32Storage", 4},
      {"torch QUInt4x2Storage", 1},     {"torch QUInt2x4Storage", 1},
  };
  for (const auto& [name, bytes] : kSizes) {
    if (global == name) return bytes;
  }
  return 0;
}

// What the check knows of a value on the unpickler's stack: ints, strings and globals (to read
// storage references), tuples of those, and everything else as kOther. Copies are cheap (shared).
struct Value {
  enum Kind { kOther, kInt, kStr, kGlobal, kTuple } kind = kOther;
  int64_t i = 0;
  std::shared_ptr<const std::string> s;                 // kStr; kGlobal: "module name"
  std::shared_ptr<const std::vector<Value>> items;      // kTuple
  static Value Int(int64_t v) {
    Value x;
    x.kind = kInt;
    x.i = v;
    return x;
  }
  static Value Str(Value::Kind kind, std::string text) {
    Value x;
    x.kind = kind;
    x.s = std::make_shared<const std::string>(std::move(text));
    return x;
  }
};

// Runs a pickle on an abstract stack, the way LibTorch's unpickler would, without building any
// object: checks every opcode's argument against the end of the pickle, the stack and mark depths
// each opcode needs, the memo indices, and that every storage reference (the BINPERSID tuple
// ('storage', torch.<T>Storage, key, location, numel)) fits in the archive entry its key names.
class PickleChecker {
 public:
  PickleChecker(absl::string_view p, const std::function<int64_t(const std::string&)>& record)
      : p_(p), record_(record) {}

  absl::Status Run() {
    while (i_ < p_.size()) {
      op_at_ = i_;
      const unsigned char op = static_cast<unsigned char>(p_[i_++]);
      if (op == '.') return absl::OkStatus();  // STOP: the unpickler reads no further
      absl::Status s = Step(op);
      if (!s.ok()) return s;
    }
    return absl::InvalidArgumentError("pickle ends without a STOP opcode");
  }

 private:
  absl::Status Error(const std::string& what) const {
    return absl::InvalidArgumentError(
        absl::StrFormat("pickle opcode 0x%02x at byte %d: %s",
                        static_cast<unsigned char>(p_[op_at_]), op_at_, what));
  }
  absl::Status Truncated() const { return Error("cut off by the end of the pickle"); }

  // Reads `n` bytes of argument (little-endian when used as a number).
  bool Take(uint64_t n, absl::string_view* out) {
    if (n > p_.size() - i_) return false;
    *out = p_.substr(i_, n);
    i_ += n;
    return true;
  }
  bool Line(absl::string_view* out) {
    const size_t nl = p_.find('\n', i_);
    if (nl == absl::string_view::npos) return false;
    *out = p_.substr(i_, nl - i_);
    i_ = nl + 1;
    return true;
  }
  // A counted argument: a `length_bytes` length prefix, then that many bytes.
  absl::Status Counted(int length_bytes, bool is_signed, absl::string_view* out) {
    absl::string_view len;
    if (!Take(length_bytes, &len)) return Truncated();
    const uint64_t n = Le(len, 0, length_bytes);
    if (is_signed && length_bytes == 4 && (n & 0x80000000u) != 0) return Error("negative length");
    if (n > p_.size() - i_) {
      return Error(absl::StrFormat("declares %d bytes; only %d remain", n, p_.size() - i_));
    }
    Take(n, out);
    return absl::OkStatus();
  }

  absl::Status Pop(size_t n, std::vector<Value>* out = nullptr) {
    const size_t floor = marks_.empty() ? 0 : marks_.back();
    if (stack_.size() < floor + n) return Error("pops more values than the stack holds");
    if (out != nullptr) out->assign(stack_.end() - n, stack_.end());
    stack_.resize(stack_.size() - n);
    return absl::OkStatus();
  }
  absl::Status PopMark(std::vector<Value>* out = nullptr) {
    if (marks_.empty()) return Error("needs a MARK");
    const size_t mark = marks_.back();
    marks_.pop_back();
    if (out != nullptr) out->assign(stack_.begin() + mark, stack_.end());
    stack_.resize(mark);
    return absl::OkStatus();
  }
  absl::Status NeedTop() const {
    const size_t floor = marks_.empty() ? 0 : marks_.back();
    return stack_.size() > floor ? absl::OkStatus() : Error("needs a value on the stack");
  }
  absl::Status Put(uint64_t id) {
    absl::Status s = NeedTop();
    if (!s.ok()) return s;
    if (id > memo_.size()) {
      return Error(absl::StrFormat("memo index %d skips past the %d entries memoised so far", id,
                                   memo_.size()));
    }
    if (id == memo_.size()) {
      memo_.push_back(stack_.back());
    } else {
      memo_[id] = stack_.back();
    }
    return absl::OkStatus();
  }
  absl::Status Get(uint64_t id) {
    if (id >= memo_.size()) {
      return Error(absl::StrFormat("reads memo index %d; only %d entries are memoised", id,
                                   memo_.size()));
    }
    stack_.push_back(memo_[id]);
    return absl::OkStatus();
  }
  absl::Status Persistent(const Value& id) {
    if (id.kind != Value::kTuple || id.items->size() != 5 ||
        (*id.items)[0].kind != Value::kStr || *(*id.items)[0].s != "storage") {
      return Error("a persistent id other than ('storage', type, key, location, numel)");
    }
    const std::vector<Value>& t = *id.items;
    const int64_t item = t[1].kind == Value::kGlobal ? StorageItemBytes(*t[1].s) : 0;
    if (item == 0) return Error("a storage of an unknown type");
    if (t[2].kind != Value::kStr || t[4].kind != Value::kInt || t[4].i < 0) {
      return Error("a storage without a string key or a count >= 0");
    }
    if (t[4].i == 0) return absl::OkStatus();  // LibTorch reads no record for it
    const int64_t have = record_(*t[2].s);
    if (have < 0) return Error(absl::StrCat("storage '", *t[2].s, "' has no record"));
    if (t[4].i > have / item) {
      return Error(absl::StrCat("storage '", *t[2].s, "' claims ", t[4].i, " elements of ", item,
                                " bytes; its record has ", have, " bytes"));
    }
    return absl::OkStatus();
  }

  absl::Status Step(unsigned char op) {
    absl::string_view arg;
    absl::Status s;
    std::vector<Value> items;
    switch (op) {
      case 0x80:  // PROTO
        return Take(1, &arg) ? absl::OkStatus() : Truncated();
      case 0x95:  // FRAME: the length of the frame that follows
        if (!Take(8, &arg)) return Truncated();
        return Le(arg, 0, 8) <= p_.size() - i_ ? absl::OkStatus() : Truncated();
      case '(':  // MARK
        marks_.push_back(stack_.size());
        return absl::OkStatus();
      case '0':  // POP
        return Pop(1);
      case '1':  // POP_MARK
        return PopMark();
      case '2':  // DUP
        if (!(s = NeedTop()).ok()) return s;
        stack_.push_back(stack_.back());
        return absl::OkStatus();
      case 'N': case 0x88: case 0x89: case ']': case '}': case 0x8f:  // NONE, TRUE, FALSE, [] {} set
      case 0x97:  // NEXT_BUFFER
        stack_.emplace_back();
        return absl::OkStatus();
      case ')':  // EMPTY_TUPLE
        stack_.push_back(Value());
        stack_.back().kind = Value::kTuple;
        stack_.back().items = std::make_shared<const std::vector<Value>>();
        return absl::OkStatus();
      case 0x98:  // READONLY_BUFFER
        return NeedTop();
      case 'R': case 0x81:  // REDUCE, NEWOBJ: callable/class and arguments
        if (!(s = Pop(2)).ok()) return s;
        stack_.emplace_back();
        return absl::OkStatus();
      case 0x92:  // NEWOBJ_EX
        if (!(s = Pop(3)).ok()) return s;
        stack_.emplace_back();
        return absl::OkStatus();
      case 'b': case 'a':  // BUILD, APPEND: pop one onto the object below
        if (!(s = Pop(1)).ok()) return s;
        return NeedTop();
      case 's':  // SETITEM
        if (!(s = Pop(2)).ok()) return s;
        return NeedTop();
      case 'e': case 'u': case 0x90:  // APPENDS, SETITEMS, ADDITEMS
        if (!(s = PopMark()).ok()) return s;
        return NeedTop();
      case 'd': case 'l': case 0x91: case 'o':  // DICT, LIST, FROZENSET, OBJ
        if (!(s = PopMark()).ok()) return s;
        stack_.emplace_back();
        return absl::OkStatus();
      case 't':  // TUPLE
        if (!(s = PopMark(&items)).ok()) return s;
        break;
      case 0x85: case 0x86: case 0x87:  // TUPLE1, TUPLE2, TUPLE3
        if (!(s = Pop(op - 0x84, &items)).ok()) return s;
        break;
      case 'Q':  // BINPERSID
        if (!(s = Pop(1, &items)).ok()) return s;
        if (!(s = Persistent(items[0])).ok()) return s;
        stack_.emplace_back();
        return absl::OkStatus();
      case 'c': {  // GLOBAL: module and name, one line each
        absl::string_view module, name;
        if (!Line(&module) || !Line(&name)) return Truncated();
        stack_.push_back(Value::Str(Value::kGlobal, absl::StrCat(module, " ", name)));
        return absl::OkStatus();
      }
      case 0x93:  // STACK_GLOBAL
        if (!(s = Pop(2, &items)).ok()) return s;
        if (items[0].kind == Value::kStr && items[1].kind == Value::kStr) {
          stack_.push_back(Value::Str(Value::kGlobal, absl::StrCat(*items[0].s, " ", *items[1].s)));
        } else {
          stack_.emplace_back();
        }
        return absl::OkStatus();
      case 'i': {  // INST: module and name lines, arguments from the mark
        absl::string_view module, name;
        if (!Line(&module) || !Line(&name)) return Truncated();
        if (!(s = PopMark()).ok()) return s;
        stack_.emplace_back();
        return absl::OkStatus();
      }
      case 'P':  // PERSID (text)
        if (!Line(&arg)) return Truncated();
        stack_.emplace_back();
        return absl::OkStatus();
      case 'K':  // BININT1
        if (!Take(1, &arg)) return Truncated();
        stack_.push_back(Value::Int(static_cast<int64_t>(Le(arg, 0, 1))));
        return absl::OkStatus();
      case 'M':  // BININT2
        if (!Take(2, &arg)) return Truncated();
        stack_.push_back(Value::Int(static_cast<int64_t>(Le(arg, 0, 2))));
        return absl::OkStatus();
      case 'J':  // BININT (signed)
        if (!Take(4, &arg)) return Truncated();
        stack_.push_back(Value::Int(static_cast<int32_t>(static_cast<uint32_t>(Le(arg, 0, 4)))));
        return absl::OkStatus();
      case 0x8a: {  // LONG1: a little-endian two's-complement integer of n <= 255 bytes
        if (!(s = Counted(1, false, &arg)).ok()) return s;
        if (arg.empty() || arg.size() > 8) {
          stack_.emplace_back();
          return absl::OkStatus();
        }
        uint64_t v = Le(arg, 0, static_cast<int>(arg.size()));
        if (arg.size() < 8 && (static_cast<unsigned char>(arg.back()) & 0x80) != 0) {
          v |= ~uint64_t{0} << (8 * arg.size());  // sign-extend
        }
        stack_.push_back(Value::Int(static_cast<int64_t>(v)));
        return absl::OkStatus();
      }
      case 0x8b:  // LONG4
        if (!(s = Counted(4, true, &arg)).ok()) return s;
        stack_.emplace_back();
        return absl::OkStatus();
      case 'I': case 'L': case 'F': case 'S':  // INT, LONG, FLOAT, STRING (text)
        if (!Line(&arg)) return Truncated();
        stack_.emplace_back();
        return absl::OkStatus();
      case 'V':  // UNICODE (text, raw-unicode-escaped)
        if (!Line(&arg)) return Truncated();
        stack_.emplace_back();
        return absl::OkStatus();
      case 'G':  // BINFLOAT
        if (!Take(8, &arg)) return Truncated();
        stack_.emplace_back();
        return absl::OkStatus();
      case 'X': case 'T':  // BINUNICODE, BINSTRING
        if (!(s = Counted(4, op == 'T', &arg)).ok()) return s;
        stack_.push_back(Value::Str(Value::kStr, std::string(arg)));
        return absl::OkStatus();
      case 0x8c: case 'U':  // SHORT_BINUNICODE, SHORT_BINSTRING
        if (!(s = Counted(1, false, &arg)).ok()) return s;
        stack_.push_back(Value::Str(Value::kStr, std::string(arg)));
        return absl::OkStatus();
      case 0x8d:  // BINUNICODE8
        if (!(s = Counted(8, false, &arg)).ok()) return s;
        stack_.push_back(Value::Str(Value::kStr, std::string(arg)));
        return absl::OkStatus();
      case 'B': case 'C': case 0x8e: case 0x96:  // BINBYTES, SHORT_BINBYTES, BINBYTES8, BYTEARRAY8
        if (!(s = Counted(op == 'C' ? 1 : op == 'B' ? 4 : 8, false, &arg)).ok()) return s;
        stack_.emplace_back();
        return absl::OkStatus();
      case 'q':  // BINPUT
        if (!Take(1, &arg)) return Truncated();
        return Put(Le(arg, 0, 1));
      case 'r':  // LONG_BINPUT
        if (!Take(4, &arg)) return Truncated();
        return Put(Le(arg, 0, 4));
      case 0x94:  // MEMOIZE
        return Put(memo_.size());
      case 'h':  // BINGET
        if (!Take(1, &arg)) return Truncated();
        return Get(Le(arg, 0, 1));
      case 'j':  // LONG_BINGET
        if (!Take(4, &arg)) return Truncated();
        return Get(Le(arg, 0, 4));
      case 'p': case 'g': {  // PUT, GET: a decimal memo index
        if (!Line(&arg)) return Truncated();
        uint64_t id = 0;
        for (const char c : arg) {
          if (c < '0' || c > '9' || id > (UINT64_MAX - 9) / 10) return Error("not a memo index");
          id = id * 10 + static_cast<uint64_t>(c - '0');
        }
        if (arg.empty()) return Error("not a memo index");
        return op == 'p' ? Put(id) : Get(id);
      }
      case 0x82: case 0x83: case 0x84:  // EXT1, EXT2, EXT4
        if (!Take(op == 0x82 ? 1 : op == 0x83 ? 2 : 4, &arg)) return Truncated();
        stack_.emplace_back();
        return absl::OkStatus();
      default:
        return Error("unknown opcode");
    }
    // TUPLE, TUPLE1-3: `items` become a tuple.
    Value t;
    t.kind = Value::kTuple;
    t.items = std::make_shared<const std::vector<Value>>(std::move(items));
    stack_.push_back(std::move(t));
    return absl::OkStatus();
  }

  const absl::string_view p_;
  const std::function<int64_t(const std::string&)>& record_;
  size_t i_ = 0, op_at_ = 0;
  std::vector<Value> stack_, memo_;
  std::vector<size_t> marks_;  // stack depth at each open MARK
};

}  // namespace

absl::Status CheckPickle(absl::string_view pickle,
                         const std::function<int64_t(const std::string& key)>& record_bytes) {
  return PickleChecker(pickle, record_bytes).Run();
}

absl::Status CheckTorchArchive(absl::string_view b) {
  const uint64_t size = b.size();
  if (size < kEndBytes || Le(b, 0, 4) != kLocalHeader) {
    return absl::InvalidArgumentError("not a LibTorch zip archive (no zip header at the start)");
  }
  // End-of-central-directory record: the last 22 bytes plus a comment of at most 65535. Found as
  // LibTorch's miniz finds it (the signature nearest the end), and its comment must end the file.
  uint64_t end = size;
  const uint64_t lowest = size >= kEndBytes + 0xFFFF ? size - kEndBytes - 0xFFFF : 0;
  for (uint64_t at = size - kEndBytes + 1; at-- > lowest;) {
    if (Le(b, at, 4) == kEnd) {
      end = at;
      break;
    }
  }
  if (end == size || end + kEndBytes + Le(b, end + 20, 2) != size) {
    return Bad("no end-of-central-directory record (truncated?)");
  }
  uint64_t disk = Le(b, end + 4, 2), cd_disk = Le(b, end + 6, 2);
  uint64_t disk_entries = Le(b, end + 8, 2), entries = Le(b, end + 10, 2);
  uint64_t cd_size = Le(b, end + 12, 4), cd_offset = Le(b, end + 16, 4);
  // As in miniz: with a zip64 locator right before it, the zip64 record's values are the ones used
  // (PyTorch writes both). The 32-bit fields must then agree with them unless saturated.
  if (end >= 20 && Le(b, end - 20, 4) == kEnd64Locator) {
    const uint64_t end64 = Le(b, end - 12, 8);
    if (!Fits(end64, 56, end - 20) || Le(b, end64, 4) != kEnd64) {
      return Bad("zip64 end-of-central-directory record missing");
    }
    if (Le(b, end - 4, 4) != 1) return Bad("multi-disk archive");
    const uint64_t values64[] = {Le(b, end64 + 16, 4), Le(b, end64 + 20, 4), Le(b, end64 + 24, 8),
                                 Le(b, end64 + 32, 8), Le(b, end64 + 40, 8), Le(b, end64 + 48, 8)};
    uint64_t* values[] = {&disk, &cd_disk, &disk_entries, &entries, &cd_size, &cd_offset};
    const uint64_t saturated[] = {0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF};
    for (int k = 0; k < 6; ++k) {
      if (*values[k] != saturated[k] && *values[k] != values64[k]) {
        return Bad("the zip64 end-of-central-directory record disagrees with the 32-bit one");
      }
      *values[k] = values64[k];
    }
  } else if (entries == 0xFFFF || cd_size == 0xFFFFFFFF || cd_offset == 0xFFFFFFFF) {
    return Bad("zip64 locator missing");
  }
  if (disk != 0 || cd_disk != 0 || disk_entries != entries) {
    return Bad("multi-disk archive");
  }
  if (!Fits(cd_offset, cd_size, end)) return Bad("central directory outside the file");
  if (entries > cd_size / kCentralHeaderBytes) {
    return Bad(absl::StrCat(entries, " entries do not fit in a ", cd_size,
                            "-byte central directory"));
  }
  const uint64_t cd_end = cd_offset + cd_size;
  uint64_t at = cd_offset;
  absl::flat_hash_map<std::string, int64_t> record_bytes;  // uncompressed size of each entry
  std::vector<std::pair<Entry, uint64_t>> entries_read;     // each entry and its data's offset
  for (uint64_t k = 0; k < entries; ++k) {
    if (!Fits(at, kCentralHeaderBytes, cd_end) || Le(b, at, 4) != kCentralHeader) {
      return Bad(absl::StrCat("central directory entry ", k, " is corrupt"));
    }
    Entry e;
    e.flags = Le(b, at + 8, 2);
    e.method = Le(b, at + 10, 2);
    e.crc = Le(b, at + 16, 4);
    e.compressed = Le(b, at + 20, 4);
    e.uncompressed = Le(b, at + 24, 4);
    const uint64_t name_len = Le(b, at + 28, 2), extra_len = Le(b, at + 30, 2),
                   comment_len = Le(b, at + 32, 2);
    e.local = Le(b, at + 42, 4);
    if (!Fits(at + kCentralHeaderBytes, name_len + extra_len + comment_len, cd_end)) {
      return Bad(absl::StrCat("central directory entry ", k, " runs past the directory"));
    }
    e.name = std::string(b.substr(at + kCentralHeaderBytes, name_len));
    if (e.uncompressed == 0xFFFFFFFF || e.compressed == 0xFFFFFFFF || e.local == 0xFFFFFFFF) {
      absl::Status s =
          ReadZip64Extra(b.substr(at + kCentralHeaderBytes + name_len, extra_len), &e);
      if (!s.ok()) return s;
    }
    at += kCentralHeaderBytes + name_len + extra_len + comment_len;
    if ((e.flags & 1) != 0) return Bad(absl::StrCat("entry '", e.name, "' is encrypted"));
    // The local header, then the data, all before the central directory.
    if (!Fits(e.local, kLocalHeaderBytes, cd_offset) || Le(b, e.local, 4) != kLocalHeader) {
      return Bad(absl::StrCat("entry '", e.name, "' has no local header at byte ", e.local));
    }
    const uint64_t local_name = Le(b, e.local + 26, 2), local_extra = Le(b, e.local + 28, 2);
    if (!Fits(e.local + kLocalHeaderBytes, local_name + local_extra, cd_offset) ||
        b.substr(e.local + kLocalHeaderBytes, local_name) != e.name ||
        Le(b, e.local + 8, 2) != e.method) {
      return Bad(absl::StrCat("entry '", e.name, "': its local header does not match"));
    }
    const uint64_t data = e.local + kLocalHeaderBytes + local_name + local_extra;
    if (!Fits(data, e.compressed, cd_offset)) {
      return Bad(absl::StrCat("entry '", e.name, "' runs past the end of the data"));
    }
    absl::Status s = CheckData(e, b.substr(data, e.compressed), nullptr);
    if (!s.ok()) return s;
    record_bytes[e.name] = static_cast<int64_t>(e.uncompressed);
    entries_read.push_back({std::move(e), data});
  }
  // Pickles last, once every record a storage may name is known. The storages of
  // "<dir>/<name>.pkl" are the records "<dir>/<name>/<key>" (LibTorch's readArchiveAndTensors).
  for (const auto& [e, data] : entries_read) {
    const bool pickle = absl::EndsWith(e.name, ".pkl") || absl::EndsWith(e.name, "_pkl");
    if (!pickle) continue;
    std::string inflated;
    if (e.method != 0) {
      absl::Status s = CheckData(e, b.substr(data, e.compressed), &inflated);
      if (!s.ok()) return s;
    }
    const std::string base = e.name.substr(0, e.name.size() - 4) + "/";
    const std::function<int64_t(const std::string&)> record = [&](const std::string& key) {
      auto it = record_bytes.find(base + key);
      return it == record_bytes.end() ? int64_t{-1} : it->second;
    };
    absl::Status s =
        CheckPickle(e.method == 0 ? b.substr(data, e.compressed) : absl::string_view(inflated),
                    record);
    if (!s.ok()) return Bad(absl::StrCat("entry '", e.name, "': ", s.message()));
  }
  return absl::OkStatus();
}

}  // namespace rnnprune
