#include "common/util/directory_lock.h"

#include <unistd.h>

#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace epgfn {
namespace {

using ::testing::HasSubstr;

std::string TempDirectory(const std::string& name) {
  const char* root = std::getenv("TEST_TMPDIR");
  return absl::StrCat(root != nullptr ? root : "/tmp", "/", name);
}

TEST(DirectoryLockTest, ASecondClaimIsRefusedNamingTheHoldersPid) {
  const std::string directory = TempDirectory("locked/state");
  auto first = DirectoryLock::Acquire(directory, "epgfn_test");
  ASSERT_TRUE(first.ok()) << first.status();
  // flock belongs to the open file, so a second open in this very process
  // conflicts like another process would.
  auto second = DirectoryLock::Acquire(directory, "epgfn_test");
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(second.status().message()),
              HasSubstr(absl::StrCat("in use by another process (pid ",
                                     getpid(), ",")));
  EXPECT_THAT(std::string(second.status().message()), HasSubstr(directory));
  first->reset();
  EXPECT_TRUE(DirectoryLock::Acquire(directory, "epgfn_test").ok());
}

TEST(DirectoryLockTest, ADirectoryThatCannotBeWrittenIsRefused) {
  // /proc takes no new files, even from root.
  auto lock = DirectoryLock::Acquire("/proc", "epgfn_test");
  ASSERT_FALSE(lock.ok());
  EXPECT_EQ(lock.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(lock.status().message()),
              HasSubstr("state directory /proc is not writable"));
}

TEST(DirectoryLockTest, AnExistingFileIsNotADirectory) {
  const std::string path = TempDirectory("plain-file");
  ASSERT_EQ(std::system(absl::StrCat("touch ", path).c_str()), 0);
  EXPECT_FALSE(DirectoryLock::Acquire(path, "epgfn_test").ok());
}

}  // namespace
}  // namespace epgfn
