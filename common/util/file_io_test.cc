#include "common/util/file_io.h"

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

}  // namespace
}  // namespace epgfn
