// Helpers shared by the libFuzzer targets in //fuzz.
#ifndef RNNPRUNE_FUZZ_FUZZ_UTIL_H_
#define RNNPRUNE_FUZZ_FUZZ_UTIL_H_

#include <cstdio>
#include <cstdlib>
#include <string>

// Aborts (a libFuzzer finding, with the input saved as crash-*) when `cond` is false: an
// invariant of a reader's output that must hold for every input it accepts.
#define FUZZ_CHECK(cond)                                                                 \
  do {                                                                                   \
    if (!(cond)) {                                                                       \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                      \
    }                                                                                    \
  } while (false)

namespace rnnprune {

// Creates a fresh folder under $TMPDIR (else /tmp) named after `name` and the process id, and
// removes it (with its files) when the process exits normally. Aborts when it cannot be made.
std::string MakeFuzzTempDir(const std::string& name);

}  // namespace rnnprune

#endif  // RNNPRUNE_FUZZ_FUZZ_UTIL_H_
