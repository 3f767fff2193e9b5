#include "common/util/sha256.h"

#include "gtest/gtest.h"

namespace epgfn {
namespace {

TEST(Sha256Test, MatchesKnownDigestsInOneOrManyChunks) {
  EXPECT_EQ(Sha256Hex(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256 chunked;
  chunked.Update("a");
  chunked.Update("bc");
  EXPECT_EQ(chunked.HexDigest(), Sha256Hex("abc"));
}

}  // namespace
}  // namespace epgfn
