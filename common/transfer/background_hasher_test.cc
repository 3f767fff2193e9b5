#include "common/transfer/background_hasher.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/util/sha256.h"

namespace epgfn {
namespace {

TEST(BackgroundHasherTest, DigestOfThePiecesEqualsTheDigestOfTheWhole) {
  std::vector<std::string> pieces;
  std::string whole;
  for (int i = 0; i < 200; ++i) {
    pieces.push_back(
        std::string(static_cast<size_t>(i * 37 % 5000), 'a' + i % 26));
    whole += pieces.back();
  }
  BackgroundHasher hasher;
  for (const std::string& piece : pieces) hasher.Add(piece);
  EXPECT_EQ(hasher.Digest(), Sha256Hex(whole));
}

TEST(BackgroundHasherTest, NoPiecesIsTheEmptyDigest) {
  BackgroundHasher hasher;
  EXPECT_EQ(hasher.Digest(), Sha256Hex(""));
}

TEST(BackgroundHasherTest, DestroyedWithoutDigestJoinsItsThread) {
  const std::string piece = "abc";
  BackgroundHasher hasher;
  hasher.Add(piece);
  // The destructor must wait for the thread (a joinable std::thread would
  // terminate the process).
}

}  // namespace
}  // namespace epgfn
