#include "common/subprocess_for_test.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <thread>

namespace rnnprune {

pid_t SpawnForTest(const std::vector<std::string>& args, const std::string& log) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

int RunToEndForTest(const std::vector<std::string>& args, const std::string& log) {
  const pid_t pid = SpawnForTest(args, log);
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

KillOutcome WaitThenKill(pid_t pid, const std::function<bool()>& ready,
                         std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (ready()) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      // It may have ended on its own between the poll and the signal.
      return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL ? KillOutcome::kKilled
                                                                : KillOutcome::kExitedFirst;
    }
    if (::waitpid(pid, &status, WNOHANG) == pid) return KillOutcome::kExitedFirst;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return KillOutcome::kTimedOut;
}

std::string TestTmpPath(const std::string& name) {
  const char* d = std::getenv("TEST_TMPDIR");
  return std::string(d ? d : "/tmp") + "/" + name;
}

}  // namespace rnnprune
