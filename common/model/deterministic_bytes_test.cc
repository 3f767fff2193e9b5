#include "common/model/deterministic_bytes.h"

#include <gtest/gtest.h>

#include "proto/model.pb.h"

namespace epgfn {
namespace {

v1::EnvironmentSpec Spec(const std::vector<std::string>& insertion_order) {
  v1::EnvironmentSpec spec;
  spec.set_kind("hypergrid");
  for (const std::string& key : insertion_order) {
    (*spec.mutable_params())[key] = key + "-value";
  }
  return spec;
}

TEST(DeterministicBytesTest, MapOrderDoesNotChangeTheBytes) {
  std::vector<std::string> keys;
  for (int i = 0; i < 64; ++i) keys.push_back("key" + std::to_string(i));
  std::vector<std::string> reversed(keys.rbegin(), keys.rend());
  absl::StatusOr<std::string> forward = DeterministicBytes(Spec(keys));
  absl::StatusOr<std::string> backward = DeterministicBytes(Spec(reversed));
  ASSERT_TRUE(forward.ok()) << forward.status();
  ASSERT_TRUE(backward.ok()) << backward.status();
  EXPECT_EQ(*forward, *backward);
  // Still ordinary wire bytes.
  v1::EnvironmentSpec parsed;
  ASSERT_TRUE(parsed.ParseFromString(*forward));
  EXPECT_EQ(parsed.params().size(), 64u);
  EXPECT_EQ(parsed.params().at("key7"), "key7-value");
}

}  // namespace
}  // namespace epgfn
