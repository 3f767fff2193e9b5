#include "common/transfer/payload.h"

#include "gtest/gtest.h"

namespace epgfn {
namespace {

TEST(PayloadTest, SplitsAndReassemblesExactly) {
  std::string payload(3 * kMaxChunkBytes + 17, '\0');
  for (size_t i = 0; i < payload.size(); ++i)
    payload[i] = static_cast<char>(i * 7);
  std::vector<absl::string_view> chunks = SplitIntoChunks(payload);
  ASSERT_EQ(chunks.size(), 4u);
  EXPECT_EQ(chunks.back().size(), 17u);
  auto assembler =
      PayloadAssembler::Create(payload.size(), Sha256Hex(payload), 1 << 30);
  ASSERT_TRUE(assembler.ok());
  for (absl::string_view chunk : chunks)
    ASSERT_TRUE(assembler->Append(chunk).ok());
  auto result = std::move(*assembler).Finish();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(*result, payload);
}

TEST(PayloadTest, RefusesTamperedTruncatedAndOversizedPayloads) {
  const std::string payload = "model bytes";
  const std::string digest = Sha256Hex(payload);
  {
    auto assembler = PayloadAssembler::Create(payload.size(), digest, 100);
    ASSERT_TRUE(assembler->Append("model bytez").ok());
    EXPECT_EQ(std::move(*assembler).Finish().status().code(),
              absl::StatusCode::kDataLoss);
  }
  {
    auto assembler = PayloadAssembler::Create(payload.size(), digest, 100);
    ASSERT_TRUE(assembler->Append("model").ok());
    EXPECT_EQ(std::move(*assembler).Finish().status().code(),
              absl::StatusCode::kDataLoss);
  }
  {
    auto assembler = PayloadAssembler::Create(payload.size(), digest, 100);
    EXPECT_FALSE(assembler->Append(payload + "!").ok());
    EXPECT_FALSE(assembler->Append("").ok());
  }
  EXPECT_FALSE(PayloadAssembler::Create(101, digest, 100).ok());
  EXPECT_FALSE(PayloadAssembler::Create(-1, digest, 100).ok());
  EXPECT_FALSE(PayloadAssembler::Create(5, "ABC", 100).ok());
}

// The digest is taken chunk by chunk as they arrive: a chunk refused for its
// size must leave it untouched, and an empty payload still hashes as "".
TEST(PayloadTest, RefusedChunkDoesNotEnterTheDigest) {
  const std::string payload = "model bytes";
  auto assembler =
      PayloadAssembler::Create(payload.size(), Sha256Hex(payload), 100);
  ASSERT_TRUE(assembler.ok());
  ASSERT_TRUE(assembler->Append("model ").ok());
  EXPECT_FALSE(assembler->Append("bytes, and more than announced").ok());
  ASSERT_TRUE(assembler->Append("bytes").ok());
  auto result = std::move(*assembler).Finish();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(*result, payload);

  auto empty = PayloadAssembler::Create(0, Sha256Hex(""), 100);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(std::move(*empty).Finish().ok());
}

}  // namespace
}  // namespace epgfn
