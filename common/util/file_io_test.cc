#include "common/util/file_io.h"

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>

#include "gtest/gtest.h"

namespace epgfn {
namespace {

std::string TempPath(const std::string& name) {
  return std::string(std::getenv("TEST_TMPDIR") ? std::getenv("TEST_TMPDIR")
                                                : "/tmp") +
         "/" + name;
}

TEST(FileIoTest, AtomicWriteReplacesTheWholeFileAndLeavesNoTemporary) {
  const std::string path = TempPath("atomic.bin");
  ASSERT_TRUE(WriteFileAtomically(path, "first version").ok());
  ASSERT_TRUE(WriteFileAtomically(path, "second").ok());
  EXPECT_EQ(*ReadFileToString(path, 1 << 20), "second");
  EXPECT_EQ(ReadFileToString(path + ".tmp", 1 << 20).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(FileIoTest, ReadRefusesMissingAndOversizedFiles) {
  EXPECT_EQ(ReadFileToString(TempPath("absent"), 10).status().code(),
            absl::StatusCode::kNotFound);
  const std::string path = TempPath("big.bin");
  ASSERT_TRUE(WriteFileAtomically(path, std::string(100, 'x')).ok());
  EXPECT_EQ(ReadFileToString(path, 99).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(FileIoTest, MakeDirectoriesCreatesParentsAndRefusesFiles) {
  const std::string nested = TempPath("a/b/c");
  ASSERT_TRUE(MakeDirectories(nested).ok());
  ASSERT_TRUE(MakeDirectories(nested).ok());
  ASSERT_TRUE(WriteFileAtomically(nested + "/file", "x").ok());
  EXPECT_FALSE(MakeDirectories(nested + "/file").ok());
  EXPECT_FALSE(WriteFileAtomically(TempPath("missing/dir/file"), "x").ok());
}

TEST(FileIoTest, TemporaryDirectoriesAreFreshAndPrivate) {
  // Under bazel test, TEST_TMPDIR; the function reads TMPDIR.
  ASSERT_EQ(setenv("TMPDIR", TempPath("").c_str(), 1), 0);
  auto first = MakeTemporaryDirectory("run.");
  auto second = MakeTemporaryDirectory("run.");
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_NE(*first, *second);
  EXPECT_EQ(first->rfind(TempPath("run."), 0), 0u) << *first;
  struct stat info;
  ASSERT_EQ(::stat(first->c_str(), &info), 0);
  EXPECT_TRUE(S_ISDIR(info.st_mode));
  EXPECT_EQ(info.st_mode & 0777, 0700u);

  ASSERT_EQ(setenv("TMPDIR", TempPath("absent/dir").c_str(), 1), 0);
  EXPECT_FALSE(MakeTemporaryDirectory("run.").ok());
}

}  // namespace
}  // namespace epgfn
