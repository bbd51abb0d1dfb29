#include "common/files.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace rnnprune {
namespace {

std::string TmpDir() {
  const char* d = std::getenv("TEST_TMPDIR");
  return d ? d : "/tmp";
}

TEST(Files, Sha256KnownVectors) {
  // FIPS 180-4 examples.
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Files, AtomicWriteReplacesAndReadsBack) {
  const std::string path = TmpDir() + "/sub/dir/out.txt";
  ASSERT_TRUE(WriteFileAtomically(path, "first").ok());
  ASSERT_TRUE(WriteFileAtomically(path, "second").ok());
  auto got = ReadFile(path);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, "second");
  EXPECT_FALSE(PathExists(path + ".tmp." + std::to_string(::getpid())));
}

TEST(Files, FilesInListsMatchingNamesSorted) {
  const std::string dir = TmpDir() + "/listed";
  for (const char* name : {"squad_b.json", "squad_a.json", "squad_c.jsonl", "ptb_a.json"}) {
    ASSERT_TRUE(WriteFileAtomically(dir + "/" + name, "{}").ok());
  }
  EXPECT_EQ(FilesIn(dir, "squad_", ".json"),
            (std::vector<std::string>{dir + "/squad_a.json", dir + "/squad_b.json"}));
  EXPECT_TRUE(FilesIn(dir + "/absent", "squad_", ".json").empty());
}

TEST(Files, ErrorsNameThePath) {
  auto missing = ReadFile("/nonexistent/rnnprune/file.txt");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("/nonexistent/rnnprune/file.txt"), std::string::npos);

  // A folder that cannot be created (its parent is a file): the old file is not touched.
  const std::string file = TmpDir() + "/plain_file";
  ASSERT_TRUE(WriteFileAtomically(file, "keep me").ok());
  absl::Status s = WriteFileAtomically(file + "/child.txt", "x");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("plain_file"), std::string::npos) << s;
  EXPECT_EQ(*ReadFile(file), "keep me");
}

TEST(Files, StreamedAtomicWriteJoinsPieces) {
  const std::string path = TmpDir() + "/streamed/out.bin";
  absl::Status s = WriteFileAtomicallyWith(path, [](const FileAppender& append) {
    for (const char* piece : {"ab", "", "cde"}) {
      absl::Status a = append(piece);
      if (!a.ok()) return a;
    }
    return absl::OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(*ReadFile(path), "abcde");
  EXPECT_FALSE(PathExists(path + ".tmp." + std::to_string(::getpid())));
}

TEST(Files, FailedProducerLeavesTheOldFileAndNoTemporary) {
  const std::string path = TmpDir() + "/streamed/keep.bin";
  ASSERT_TRUE(WriteFileAtomically(path, "old").ok());
  absl::Status s = WriteFileAtomicallyWith(path, [](const FileAppender& append) {
    absl::Status a = append("half of the new");
    if (!a.ok()) return a;
    return absl::DataLossError("producer gave up");
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(*ReadFile(path), "old");
  EXPECT_FALSE(PathExists(path + ".tmp." + std::to_string(::getpid())));
}

}  // namespace
}  // namespace rnnprune

namespace rnnprune {
namespace {

// A write that runs out of space fails with ResourceExhausted naming the file, and the file it
// would have replaced is intact. RLIMIT_FSIZE stands in for a full disk (the same write(2)
// failure path; mounting a small file system needs privileges tests do not have).
TEST(Files, OutOfSpaceKeepsTheOldFile) {
  const std::string file = TmpDir() + "/results.jsonl";
  ASSERT_TRUE(WriteFileAtomically(file, "finished run\n").ok());
  struct rlimit old_limit;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  signal(SIGXFSZ, SIG_IGN);  // write(2) then fails with EFBIG instead of killing the process
  struct rlimit small = old_limit;
  small.rlim_cur = 4096;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  const absl::Status s = WriteFileAtomically(file, std::string(1 << 20, 'x'));
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &old_limit), 0);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
  EXPECT_NE(s.message().find("results.jsonl"), std::string::npos) << s;
  EXPECT_EQ(*ReadFile(file), "finished run\n");
}

// A process killed while writing leaves `path`.tmp.<pid>; the next successful write of `path`
// removes it, but not the temporary of a process that still runs, nor another file's.
TEST(Files, AWriteRemovesTemporariesOfDeadWriters) {
  const std::string path = TmpDir() + "/stale/model.ckpt";
  ASSERT_TRUE(WriteFileAtomically(path, "v1").ok());
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ASSERT_GT(child, 0);
  ASSERT_EQ(::waitpid(child, nullptr, 0), child);  // `child` is now a pid that does not run
  const std::string dead = path + ".tmp." + std::to_string(child);
  const std::string alive = path + ".tmp." + std::to_string(::getppid());
  const std::string other = TmpDir() + "/stale/other.ckpt.tmp." + std::to_string(child);
  for (const std::string& f : {dead, alive, other}) ASSERT_TRUE(WriteFileAtomically(f, "x").ok());
  ASSERT_TRUE(WriteFileAtomically(path, "v2").ok());
  EXPECT_FALSE(PathExists(dead));
  EXPECT_TRUE(PathExists(alive));
  EXPECT_TRUE(PathExists(other));
  EXPECT_EQ(*ReadFile(path), "v2");
}

TEST(Files, TemporaryFilesInListsOnlyWritesInProgressOrInterrupted) {
  const std::string dir = TmpDir() + "/temporaries";
  ASSERT_TRUE(MakeDirs(dir).ok());
  for (const char* f : {"b.pt.tmp.12", "a.jsonl.tmp.7", "plot.svg.tmp.svg", "notes.tmp.", "c.pt"}) {
    ASSERT_TRUE(WriteFileAtomically(dir + "/" + f, "x").ok());
  }
  const std::vector<TemporaryFile> found = TemporaryFilesIn(dir);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].path, dir + "/a.jsonl.tmp.7");
  EXPECT_EQ(found[0].target_name, "a.jsonl");
  EXPECT_EQ(found[0].pid, 7);
  EXPECT_EQ(found[1].target_name, "b.pt");
  EXPECT_TRUE(TemporaryFilesIn(dir + "/missing").empty());
}

TEST(Files, ALockIsExclusiveUntilReleased) {
  const std::string path = TmpDir() + "/locked/.lock";
  absl::StatusOr<FileLock> first = LockFile(path, "folder 'locked'");
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->path(), path);
  EXPECT_EQ(*ReadFile(path), std::to_string(::getpid()) + "\n");
  absl::StatusOr<FileLock> second = LockFile(path, "folder 'locked'");
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(second.status().message().find("folder 'locked' is in use by another run (pid " +
                                           std::to_string(::getpid()) + ")"),
            std::string::npos)
      << second.status();
  // Held across a move; released when the holder goes.
  FileLock moved = *std::move(first);
  EXPECT_FALSE(LockFile(path, "x").ok());
  moved = FileLock();
  EXPECT_TRUE(LockFile(path, "x").ok());

  // Another process cannot take it either.
  {
    absl::StatusOr<FileLock> held = LockFile(path, "x");
    ASSERT_TRUE(held.ok());
    const pid_t child = ::fork();
    if (child == 0) ::_exit(LockFile(path, "x").ok() ? 1 : 0);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the child took a held lock";
  }

  // A holder killed with SIGKILL leaves no stale lock.
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t holder = ::fork();
  if (holder == 0) {
    absl::StatusOr<FileLock> mine = LockFile(path, "x");
    const char ok = mine.ok() ? 'y' : 'n';
    if (::write(ready[1], &ok, 1) != 1) ::_exit(2);
    for (;;) ::pause();  // holds the lock until killed
  }
  char ok = 0;
  ASSERT_EQ(::read(ready[0], &ok, 1), 1);
  ASSERT_EQ(ok, 'y');
  absl::StatusOr<FileLock> while_held = LockFile(path, "x");
  EXPECT_FALSE(while_held.ok());
  EXPECT_NE(while_held.status().message().find("(pid " + std::to_string(holder) + ")"),
            std::string::npos)
      << while_held.status();
  ASSERT_EQ(::kill(holder, SIGKILL), 0);
  ASSERT_EQ(::waitpid(holder, nullptr, 0), holder);
  EXPECT_TRUE(LockFile(path, "x").ok()) << "the killed holder's lock stayed";
  ::close(ready[0]);
  ::close(ready[1]);
}

}  // namespace
}  // namespace rnnprune
