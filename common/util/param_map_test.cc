#include "common/util/param_map.h"

#include "gtest/gtest.h"

namespace epgfn {
namespace {

TEST(ParamMapTest, ParsesAndPrintsCanonically) {
  auto params = ParamMap::Parse(" side = 8 ,dim=2");
  ASSERT_TRUE(params.ok()) << params.status();
  EXPECT_EQ(params->ToString(), "dim=2,side=8");
  EXPECT_EQ(*params->GetInt("side", 0, 0, 100), 8);
  EXPECT_EQ(*params->GetInt("absent", 5, 0, 100), 5);
  EXPECT_TRUE(ParamMap::Parse("")->values().empty());
}

TEST(ParamMapTest, RefusesMalformedInputNamingTheKey) {
  EXPECT_FALSE(ParamMap::Parse("dim").ok());
  EXPECT_FALSE(ParamMap::Parse("=3").ok());
  EXPECT_FALSE(ParamMap::Parse("a=1,a=2").ok());
  auto params = *ParamMap::Parse("side=eight,scale=nan,big=99");
  auto side = params.GetInt("side", 0, 0, 100);
  ASSERT_FALSE(side.ok());
  EXPECT_NE(side.status().message().find("side"), std::string::npos);
  EXPECT_FALSE(params.GetDouble("scale", 0, -1, 1).ok());
  auto big = params.GetInt("big", 0, 0, 10);
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.status().message().find("[0, 10]"), std::string::npos);
  auto unknown = params.CheckKeys({"side", "scale"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.message().find("big"), std::string::npos);
}

}  // namespace
}  // namespace epgfn
