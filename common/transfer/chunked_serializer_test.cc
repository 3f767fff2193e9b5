#include "common/transfer/chunked_serializer.h"

#include <gtest/gtest.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "common/model/deterministic_bytes.h"
#include "common/util/sha256.h"
#include "proto/model.pb.h"

namespace epgfn {
namespace {

// A model message of several tensors with distinct bytes, and map entries
// inserted in reverse so that only deterministic serialization orders them.
v1::ModelWeights Weights(int tensors, int bytes_each) {
  v1::ModelWeights weights;
  weights.mutable_environment()->set_kind("hypergrid");
  for (int i = 9; i >= 0; --i) {
    (*weights.mutable_environment()->mutable_params())[absl::StrCat("k", i)] =
        absl::StrCat("v", i);
  }
  weights.set_encoding_dim(17);
  for (int t = 0; t < tensors; ++t) {
    v1::TensorData* tensor = weights.add_tensors();
    tensor->set_name(absl::StrCat("layer.", t));
    tensor->add_shape(bytes_each / 4);
    tensor->set_dtype(v1::DTYPE_FLOAT32);
    std::string data(static_cast<size_t>(bytes_each), '\0');
    for (size_t b = 0; b < data.size(); ++b) {
      data[b] = static_cast<char>((b * 31 + t * 7) & 0xff);
    }
    tensor->set_data(std::move(data));
  }
  return weights;
}

void ExpectSameAsDeterministicBytes(const v1::ModelWeights& weights,
                                    int64_t chunk_bytes) {
  const std::string expected = *DeterministicBytes(weights);
  absl::StatusOr<ChunkedPayload> payload =
      SerializeInChunks(weights, chunk_bytes);
  ASSERT_TRUE(payload.ok()) << payload.status();
  std::string joined;
  for (size_t i = 0; i < payload->chunks.size(); ++i) {
    const std::string& chunk = payload->chunks[i];
    EXPECT_FALSE(chunk.empty()) << "chunk " << i;
    EXPECT_LE(static_cast<int64_t>(chunk.size()), chunk_bytes) << "chunk " << i;
    if (i + 1 < payload->chunks.size()) {
      // Full chunks, so that a payload travels in as few messages as can be.
      EXPECT_EQ(static_cast<int64_t>(chunk.size()), chunk_bytes)
          << "chunk " << i;
    }
    joined += chunk;
  }
  EXPECT_EQ(joined, expected);
  EXPECT_EQ(payload->total_bytes, static_cast<int64_t>(expected.size()));
  EXPECT_EQ(payload->sha256_hex, Sha256Hex(expected));
}

TEST(ChunkedSerializerTest, ChunksJoinToTheDeterministicBytesWithTheirDigest) {
  // Chunk boundaries inside tensors, inside headers, and at odd sizes.
  const v1::ModelWeights weights = Weights(5, 10000);
  for (int64_t chunk_bytes : {1, 7, 4096, 10007, 1 << 20}) {
    SCOPED_TRACE(absl::StrCat("chunk_bytes ", chunk_bytes));
    ExpectSameAsDeterministicBytes(weights, chunk_bytes);
  }
}

TEST(ChunkedSerializerTest, ExactMultipleOfTheChunkSizeHasNoEmptyChunk) {
  const v1::ModelWeights weights = Weights(3, 4000);
  const int64_t size = static_cast<int64_t>(weights.ByteSizeLong());
  ExpectSameAsDeterministicBytes(weights, size);
  ExpectSameAsDeterministicBytes(weights, size / 2 + (size % 2));
  const absl::StatusOr<ChunkedPayload> one = SerializeInChunks(weights, size);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->chunks.size(), 1u);
}

TEST(ChunkedSerializerTest, LargeModelOverManyChunks) {
  ExpectSameAsDeterministicBytes(Weights(4, 3 << 20), kMaxChunkBytes);
}

TEST(ChunkedSerializerTest, EmptyMessageHasNoChunks) {
  const absl::StatusOr<ChunkedPayload> payload =
      SerializeInChunks(v1::ModelWeights());
  ASSERT_TRUE(payload.ok()) << payload.status();
  EXPECT_TRUE(payload->chunks.empty());
  EXPECT_EQ(payload->total_bytes, 0);
  EXPECT_EQ(payload->sha256_hex, Sha256Hex(""));
}

TEST(ChunkedSerializerTest, RefusesAChunkSizeBelowOne) {
  EXPECT_EQ(SerializeInChunks(Weights(1, 8), 0).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace epgfn
