#include "server/core/staged_file.h"

#include <filesystem>
#include <string>

#include "common/util/file_io.h"
#include "gtest/gtest.h"
#include "server/testing/test_federation.h"

namespace epgfn {
namespace {

TEST(StagedFileTest, CommitMovesTheWrittenBytesToTheirFinalName) {
  const std::string dir = test_support::FreshDirectory("staged_commit");
  const std::string bytes(3 << 20, 'x');
  {
    StagedFile staged(dir + "/a.staging", bytes);
    ASSERT_TRUE(staged.CommitAs(dir + "/a.model").ok());
  }
  EXPECT_FALSE(std::filesystem::exists(dir + "/a.staging"));
  EXPECT_EQ(*ReadFileToString(dir + "/a.model", 1 << 30), bytes);
}

TEST(StagedFileTest, WithoutCommitTheFileIsRemoved) {
  const std::string dir = test_support::FreshDirectory("staged_discard");
  {
    StagedFile staged(dir + "/b.staging", "bytes");
    ASSERT_TRUE(staged.Wait().ok());
    // Written and durable, but never committed.
    EXPECT_TRUE(std::filesystem::exists(dir + "/b.staging"));
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir));
}

TEST(StagedFileTest, AFailedWriteIsReportedAndCommitsNothing) {
  const std::string dir = test_support::FreshDirectory("staged_failure");
  StagedFile staged(dir + "/missing/c.staging", "bytes");
  const absl::Status committed = staged.CommitAs(dir + "/c.model");
  EXPECT_EQ(committed.code(), absl::StatusCode::kNotFound) << committed;
  EXPECT_FALSE(std::filesystem::exists(dir + "/c.model"));
}

}  // namespace
}  // namespace epgfn
