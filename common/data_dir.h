// Where the data sets live (never committed): flag > $RNNPRUNE_DATA > ../shared/data.
#ifndef RNNPRUNE_COMMON_DATA_DIR_H_
#define RNNPRUNE_COMMON_DATA_DIR_H_

#include <string>

#include "absl/status/statusor.h"

namespace rnnprune {

// Returns the workspace root: $BUILD_WORKSPACE_DIRECTORY under `bazel run`, else the current
// working directory.
std::string WorkspaceRoot();

// A path given on the command line, made absolute: a relative `path` is taken relative to the
// directory `bazel run` was called from ($BUILD_WORKING_DIRECTORY; Bazel runs the binary from its
// runfiles tree), else it is returned unchanged. Empty and absolute paths are returned as is.
std::string ResolveUserPath(const std::string& path);

// Resolves the data folder: `flag_value` when non-empty, else $RNNPRUNE_DATA when set, else
// <workspace root>/../shared/data when it exists. Errors: NotFound naming every place looked at.
absl::StatusOr<std::string> ResolveDataDir(const std::string& flag_value);

// For tests: the data folder exposed by the @rnnprune_data repository in the test's runfiles
// ($TEST_SRCDIR/rnnprune_data), or "" when it holds no file at `relative_file` (e.g.
// "ptb/ptb.train.txt"), in which case the caller should GTEST_SKIP.
std::string TestDataDir(const std::string& relative_file);

}  // namespace rnnprune

#endif  // RNNPRUNE_COMMON_DATA_DIR_H_
