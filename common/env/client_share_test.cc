#include "common/env/client_share.h"

#include "gtest/gtest.h"

namespace epgfn {
namespace {

ParamMap Params(const std::string& text) {
  absl::StatusOr<ParamMap> params = ParamMap::Parse(text);
  EXPECT_TRUE(params.ok()) << params.status();
  return *params;
}

TEST(ClientShareTest, DefaultsToTheWholeTarget) {
  absl::StatusOr<ClientShare> share = ReadClientShare(Params(""));
  ASSERT_TRUE(share.ok()) << share.status();
  EXPECT_EQ(share->index, 0);
  EXPECT_EQ(share->count, 1);
}

TEST(ClientShareTest, ReadsIndexAndCount) {
  absl::StatusOr<ClientShare> share =
      ReadClientShare(Params("index=2,count=3"));
  ASSERT_TRUE(share.ok()) << share.status();
  EXPECT_EQ(share->index, 2);
  EXPECT_EQ(share->count, 3);
}

TEST(ClientShareTest, RefusesAnIndexOutsideTheCount) {
  absl::StatusOr<ClientShare> share =
      ReadClientShare(Params("index=3,count=3"));
  EXPECT_EQ(share.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(share.status().message().find("index"), std::string::npos);
  EXPECT_FALSE(ReadClientShare(Params("count=0")).ok());
  EXPECT_FALSE(ReadClientShare(Params("index=-1,count=2")).ok());
}

TEST(ClientShareTest, SeedIsNonNegative) {
  EXPECT_EQ(*ReadRewardSeed(Params("")), 0);
  EXPECT_EQ(*ReadRewardSeed(Params("seed=17")), 17);
  EXPECT_FALSE(ReadRewardSeed(Params("seed=-1")).ok());
}

}  // namespace
}  // namespace epgfn
