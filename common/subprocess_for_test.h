// Test support (testonly): start a binary in a child process, wait for it, or kill it. Used by the
// kill tests (//tools:train_lm_kill_test, //benchmarks:all_kill_test), which SIGKILL a training
// process mid-epoch and resume it.
#ifndef RNNPRUNE_COMMON_SUBPROCESS_FOR_TEST_H_
#define RNNPRUNE_COMMON_SUBPROCESS_FOR_TEST_H_

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace rnnprune {

// Starts `args` (args[0]: the program's path; no PATH lookup) in a child process whose stdout and
// stderr go to the file `log` (created or truncated). Returns the child's pid, or -1 when fork
// fails; a failed exec makes the child exit with status 127.
pid_t SpawnForTest(const std::vector<std::string>& args, const std::string& log);

// Waits for child `pid` (from SpawnForTest) to end. Returns its exit status, or -1 when it did
// not exit normally (killed by a signal) or pid is not a child.
int WaitForTest(pid_t pid);

// Runs `args` to its end (see SpawnForTest). Returns its exit status, or -1 when it did not exit
// normally (killed by a signal) or could not be started.
int RunToEndForTest(const std::vector<std::string>& args, const std::string& log);

// How WaitThenKill ended.
enum class KillOutcome {
  kKilled,       // `ready` became true; the child was killed with SIGKILL and reaped.
  kExitedFirst,  // the child ended on its own before the SIGKILL (reaped).
  kTimedOut,     // `ready` stayed false for `timeout`; the child was SIGKILLed and reaped.
};

// Polls `ready` every 2 ms while child `pid` runs; as soon as it returns true, kills the child
// with SIGKILL and reaps it.
KillOutcome WaitThenKill(pid_t pid, const std::function<bool()>& ready,
                         std::chrono::seconds timeout);

// $TEST_TMPDIR/<name> (/tmp/<name> outside Bazel).
std::string TestTmpPath(const std::string& name);

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, read back, closed), for
// the rendezvous of data-parallel tests that run beside others. -1 when no socket can be bound.
int FreeLoopbackPortForTest();

}  // namespace rnnprune

#endif  // RNNPRUNE_COMMON_SUBPROCESS_FOR_TEST_H_
