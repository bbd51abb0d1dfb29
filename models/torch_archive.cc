#include "models/torch_archive.h"

#include <zip.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace rnnprune {
namespace {

constexpr uint32_t kLocalHeader = 0x04034b50;
constexpr uint32_t kEnd = 0x06054b50;
constexpr size_t kEndBytes = 22;

// Little-endian unsigned integer of `n` bytes at b[at]; the caller has checked the bounds.
uint64_t Le(absl::string_view b, uint64_t at, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(b[at + i]);
  return v;
}

absl::Status Bad(const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat("corrupt LibTorch archive: ", what));
}

// The entry count of the end-of-central-directory record LibTorch's miniz uses: the signature
// nearest the end of the file. That record and its comment must end the file, so that a second
// record hidden in a comment cannot make miniz read another directory than the one libzip
// checked (libzip picks among every record it finds). 0xFFFF when the count is in the zip64
// record. Errors: InvalidArgument when there is no such record.
absl::StatusOr<uint64_t> LastEndRecordEntries(absl::string_view b) {
  const uint64_t size = b.size();
  const uint64_t lowest = size >= kEndBytes + 0xFFFF ? size - kEndBytes - 0xFFFF : 0;
  for (uint64_t at = size - kEndBytes + 1; at-- > lowest;) {
    if (Le(b, at, 4) != kEnd) continue;
    if (at + kEndBytes + Le(b, at + 20, 2) != size) break;
    return Le(b, at + 10, 2);
  }
  return Bad("no end-of-central-directory record (truncated?)");
}

// An archive opened by libzip over `bytes` (which must outlive it), closed with it.
struct ZipCloser {
  void operator()(zip_t* z) const { zip_discard(z); }
};
using ZipArchive = std::unique_ptr<zip_t, ZipCloser>;

// Opens `bytes` with libzip's consistency checks (ZIP_CHECKCONS: every local header matches its
// central entry, entries do not overlap and lie before the directory). Errors: InvalidArgument
// with libzip's reason.
absl::StatusOr<ZipArchive> OpenZip(absl::string_view bytes) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
  if (source == nullptr) {
    const std::string why = zip_error_strerror(&error);
    zip_error_fini(&error);
    return absl::InternalError(absl::StrCat("libzip: ", why));
  }
  zip_t* archive = zip_open_from_source(source, ZIP_CHECKCONS | ZIP_RDONLY, &error);
  if (archive == nullptr) {
    zip_source_free(source);
    const std::string why = zip_error_strerror(&error);
    zip_error_fini(&error);
    return Bad(why);
  }
  zip_error_fini(&error);
  return ZipArchive(archive);
}

// Reads entry `index` (named `name`, of `size` bytes once uncompressed) to its end, so that
// libzip checks its data and CRC-32, appending the bytes to `out` when it is non-null.
absl::Status ReadEntry(zip_t* archive, zip_uint64_t index, const std::string& name, uint64_t size,
                       std::string* out) {
  zip_file_t* file = zip_fopen_index(archive, index, 0);
  if (file == nullptr) {
    return Bad(absl::StrCat("entry '", name, "': ", zip_strerror(archive)));
  }
  char buffer[1 << 16];
  uint64_t total = 0;
  std::string error;
  for (;;) {
    const zip_int64_t got = zip_fread(file, buffer, sizeof(buffer));
    if (got < 0) {
      const bool crc = zip_error_code_zip(zip_file_get_error(file)) == ZIP_ER_CRC;
      error = crc ? absl::StrCat("entry '", name, "' fails its CRC-32")
                  : absl::StrCat("entry '", name, "': ", zip_file_strerror(file));
      break;
    }
    if (got == 0) break;
    total += static_cast<uint64_t>(got);
    if (total > size) {
      error = absl::StrCat("entry '", name, "' holds more than its ", size, " bytes");
      break;
    }
    if (out != nullptr) out->append(buffer, static_cast<size_t>(got));
  }
  zip_fclose(file);
  if (!error.empty()) return Bad(error);
  if (total != size) {
    return Bad(absl::StrCat("entry '", name, "' holds ", total, " bytes, not ", size));
  }
  return absl::OkStatus();
}

// What the pickle check needs of an entry.
struct Entry {
  zip_uint64_t index = 0;
  std::string name;
  uint64_t size = 0;  // uncompressed
};

// Every entry of `archive`, each stored or deflated and unencrypted, with its data read once
// (sizes and CRC-32 checked by libzip).
absl::StatusOr<std::vector<Entry>> ReadEntries(zip_t* archive) {
  std::vector<Entry> entries;
  const zip_int64_t n = zip_get_num_entries(archive, 0);
  for (zip_int64_t i = 0; i < n; ++i) {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(archive, static_cast<zip_uint64_t>(i), 0, &st) != 0) {
      return Bad(absl::StrCat("central directory entry ", i, ": ", zip_strerror(archive)));
    }
    Entry e{static_cast<zip_uint64_t>(i), st.name != nullptr ? st.name : "", st.size};
    if (st.encryption_method != ZIP_EM_NONE) {
      return Bad(absl::StrCat("entry '", e.name, "' is encrypted"));
    }
    if (st.comp_method != ZIP_CM_STORE && st.comp_method != ZIP_CM_DEFLATE) {
      return Bad(absl::StrCat("entry '", e.name, "' has compression method ", st.comp_method,
                              " (only stored and deflated are read)"));
    }
    if (absl::Status s = ReadEntry(archive, e.index, e.name, e.size, nullptr); !s.ok()) return s;
    entries.push_back(std::move(e));
  }
  return entries;
}

}  // namespace

namespace {

// Bytes per element of the storage classes LibTorch 1.13 pickles ("torch FloatStorage", ...);
// 0 for any other global.
int64_t StorageItemBytes(const std::string& global) {
  static const std::pair<const char*, int64_t> kSizes[] = {
      {"torch FloatStorage", 4},          {"torch DoubleStorage", 8},
      {"torch HalfStorage", 2},           {"torch BFloat16Storage", 2},
      {"torch LongStorage", 8},           {"torch IntStorage", 4},
      {"torch ShortStorage", 2},          {"torch CharStorage", 1},
      {"torch ByteStorage", 1},           {"torch BoolStorage", 1},
      {"torch ComplexHalfStorage", 4},    {"torch ComplexFloatStorage", 8},
      {"torch ComplexDoubleStorage", 16}, {"torch QInt8Storage", 1},
      {"torch QUInt8Storage", 1},         {"torch QInt32Storage", 4},
      {"torch QUInt4x2Storage", 1},       {"torch QUInt2x4Storage", 1},
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
  std::shared_ptr<const std::string> s;             // kStr; kGlobal: "module name"
  std::shared_ptr<const std::vector<Value>> items;  // kTuple
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
    return absl::InvalidArgumentError(absl::StrFormat("pickle opcode 0x%02x at byte %d: %s",
                                                      static_cast<unsigned char>(p_[op_at_]),
                                                      op_at_, what));
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
      return Error(
          absl::StrFormat("reads memo index %d; only %d entries are memoised", id, memo_.size()));
    }
    stack_.push_back(memo_[id]);
    return absl::OkStatus();
  }
  absl::Status Persistent(const Value& id) {
    if (id.kind != Value::kTuple || id.items->size() != 5 || (*id.items)[0].kind != Value::kStr ||
        *(*id.items)[0].s != "storage") {
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
      case 'N':
      case 0x88:
      case 0x89:
      case ']':
      case '}':
      case 0x8f:  // NONE, TRUE, FALSE, [] {} set
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
      case 'R':
      case 0x81:  // REDUCE, NEWOBJ: callable/class and arguments
        if (!(s = Pop(2)).ok()) return s;
        stack_.emplace_back();
        return absl::OkStatus();
      case 0x92:  // NEWOBJ_EX
        if (!(s = Pop(3)).ok()) return s;
        stack_.emplace_back();
        return absl::OkStatus();
      case 'b':
      case 'a':  // BUILD, APPEND: pop one onto the object below
        if (!(s = Pop(1)).ok()) return s;
        return NeedTop();
      case 's':  // SETITEM
        if (!(s = Pop(2)).ok()) return s;
        return NeedTop();
      case 'e':
      case 'u':
      case 0x90:  // APPENDS, SETITEMS, ADDITEMS
        if (!(s = PopMark()).ok()) return s;
        return NeedTop();
      case 'd':
      case 'l':
      case 0x91:
      case 'o':  // DICT, LIST, FROZENSET, OBJ
        if (!(s = PopMark()).ok()) return s;
        stack_.emplace_back();
        return absl::OkStatus();
      case 't':  // TUPLE
        if (!(s = PopMark(&items)).ok()) return s;
        break;
      case 0x85:
      case 0x86:
      case 0x87:  // TUPLE1, TUPLE2, TUPLE3
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
      case 'I':
      case 'L':
      case 'F':
      case 'S':  // INT, LONG, FLOAT, STRING (text)
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
      case 'X':
      case 'T':  // BINUNICODE, BINSTRING
        if (!(s = Counted(4, op == 'T', &arg)).ok()) return s;
        stack_.push_back(Value::Str(Value::kStr, std::string(arg)));
        return absl::OkStatus();
      case 0x8c:
      case 'U':  // SHORT_BINUNICODE, SHORT_BINSTRING
        if (!(s = Counted(1, false, &arg)).ok()) return s;
        stack_.push_back(Value::Str(Value::kStr, std::string(arg)));
        return absl::OkStatus();
      case 0x8d:  // BINUNICODE8
        if (!(s = Counted(8, false, &arg)).ok()) return s;
        stack_.push_back(Value::Str(Value::kStr, std::string(arg)));
        return absl::OkStatus();
      case 'B':
      case 'C':
      case 0x8e:
      case 0x96:  // BINBYTES, SHORT_BINBYTES, BINBYTES8, BYTEARRAY8
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
      case 'p':
      case 'g': {  // PUT, GET: a decimal memo index
        if (!Line(&arg)) return Truncated();
        uint64_t id = 0;
        for (const char c : arg) {
          if (c < '0' || c > '9' || id > (UINT64_MAX - 9) / 10) return Error("not a memo index");
          id = id * 10 + static_cast<uint64_t>(c - '0');
        }
        if (arg.empty()) return Error("not a memo index");
        return op == 'p' ? Put(id) : Get(id);
      }
      case 0x82:
      case 0x83:
      case 0x84:  // EXT1, EXT2, EXT4
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
  if (b.size() < kEndBytes || Le(b, 0, 4) != kLocalHeader) {
    return absl::InvalidArgumentError("not a LibTorch zip archive (no zip header at the start)");
  }
  absl::StatusOr<uint64_t> last_entries = LastEndRecordEntries(b);
  if (!last_entries.ok()) return last_entries.status();
  absl::StatusOr<ZipArchive> archive = OpenZip(b);
  if (!archive.ok()) return archive.status();
  absl::StatusOr<std::vector<Entry>> entries = ReadEntries(archive->get());
  if (!entries.ok()) return entries.status();
  if (*last_entries != 0xFFFF && *last_entries != entries->size()) {
    return Bad(absl::StrCat("the last end-of-central-directory record lists ", *last_entries,
                            " entries, the directory read ", entries->size()));
  }
  absl::flat_hash_map<std::string, int64_t> record_bytes;  // uncompressed size of each entry
  for (const Entry& e : *entries) record_bytes[e.name] = static_cast<int64_t>(e.size);
  // Pickles last, once every record a storage may name is known. The storages of
  // "<dir>/<name>.pkl" are the records "<dir>/<name>/<key>" (LibTorch's readArchiveAndTensors).
  for (const Entry& e : *entries) {
    const bool pickle = absl::EndsWith(e.name, ".pkl") || absl::EndsWith(e.name, "_pkl");
    if (!pickle) continue;
    std::string bytes;
    if (absl::Status s = ReadEntry(archive->get(), e.index, e.name, e.size, &bytes); !s.ok()) {
      return s;
    }
    const std::string base = e.name.substr(0, e.name.size() - 4) + "/";
    const std::function<int64_t(const std::string&)> record = [&](const std::string& key) {
      auto it = record_bytes.find(base + key);
      return it == record_bytes.end() ? int64_t{-1} : it->second;
    };
    absl::Status s = CheckPickle(bytes, record);
    if (!s.ok()) return Bad(absl::StrCat("entry '", e.name, "': ", s.message()));
  }
  return absl::OkStatus();
}

}  // namespace rnnprune
