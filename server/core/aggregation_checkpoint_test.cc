// The aggregation checkpoint file: written atomically, loaded only for the
// very inputs it was written for, and removed.
#include "server/core/aggregation_checkpoint.h"

#include <filesystem>
#include <fstream>

#include "common/util/file_io.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/testing/test_federation.h"

namespace epgfn {
namespace {

using ::testing::HasSubstr;

AggregationInputs TwoUploads() {
  AggregationInputs inputs;
  inputs.spec_digest = "spec";
  inputs.uploads = {{"client-0", 1, "aaaa"}, {"client-1", 1, "bbbb"}};
  inputs.warm_start_version = 2;
  inputs.warm_start_sha256 = "cccc";
  return inputs;
}

aggregate::v1::AggregatorCheckpoint AtIteration(int64_t iteration) {
  aggregate::v1::AggregatorCheckpoint checkpoint;
  checkpoint.set_iteration(iteration);
  checkpoint.set_total_iterations(100);
  checkpoint.add_client_ids("client-0");
  checkpoint.add_client_ids("client-1");
  return checkpoint;
}

TEST(AggregationCheckpointStoreTest, LoadsOnlyForTheSameInputs) {
  const std::string dir = test_support::FreshDirectory("checkpoint");
  auto store = AggregationCheckpointStore::Create(dir);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(store->path(), dir + "/aggregation/checkpoint.pb");
  EXPECT_EQ(store->Load(TwoUploads()).status().code(),
            absl::StatusCode::kNotFound);

  ASSERT_TRUE(store->Write(TwoUploads(), AtIteration(30)).ok());
  ASSERT_TRUE(store->Write(TwoUploads(), AtIteration(40)).ok());  // replaces
  EXPECT_FALSE(std::filesystem::exists(store->path() + ".tmp"));
  auto loaded = store->Load(TwoUploads());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->iteration(), 40);

  // Each difference in the inputs makes it another aggregation's.
  std::vector<AggregationInputs> others(7, TwoUploads());
  others[0].spec_digest = "other";
  others[1].uploads[1].client_id = "client-2";
  others[2].uploads[1].round = 2;
  others[3].uploads[0].payload_sha256 = "dddd";
  others[4].warm_start_version = 3;
  others[5].uploads.pop_back();
  others[6].warm_start_client_id = "client-0";
  for (const AggregationInputs& other : others) {
    auto refused = store->Load(other);
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition)
        << other.Describe();
  }
  EXPECT_THAT(std::string(store->Load(others[2]).status().message()),
              HasSubstr("client-1@2"));

  ASSERT_TRUE(store->Remove().ok());
  EXPECT_FALSE(std::filesystem::exists(store->path()));
  EXPECT_TRUE(store->Remove().ok());  // nothing to remove
}

TEST(AggregationCheckpointStoreTest,
     KeepsTheClientAFirstAggregationStartedFrom) {
  const std::string dir = test_support::FreshDirectory("client-start");
  auto store = AggregationCheckpointStore::Create(dir);
  ASSERT_TRUE(store.ok()) << store.status();
  AggregationInputs from_client = TwoUploads();
  from_client.warm_start_version = 0;
  from_client.warm_start_sha256 = "bbbb";
  from_client.warm_start_client_id = "client-1";
  EXPECT_THAT(from_client.Describe(),
              HasSubstr("warm start from client-1's upload"));
  ASSERT_TRUE(store->Write(from_client, AtIteration(10)).ok());
  auto loaded = store->Load(from_client);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->iteration(), 10);
  // The same uploads started cold are another aggregation.
  AggregationInputs cold = from_client;
  cold.warm_start_sha256.clear();
  cold.warm_start_client_id.clear();
  EXPECT_THAT(cold.Describe(), HasSubstr("cold start"));
  EXPECT_EQ(store->Load(cold).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(AggregationCheckpointStoreTest, ACorruptFileIsDataLoss) {
  const std::string dir = test_support::FreshDirectory("corrupt-checkpoint");
  auto store = AggregationCheckpointStore::Create(dir);
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE(
      WriteFileAtomically(store->path(), std::string("\x0a\x7f", 2) + "short")
          .ok());
  EXPECT_EQ(store->Load(TwoUploads()).status().code(),
            absl::StatusCode::kDataLoss);
  ASSERT_TRUE(WriteFileAtomically(store->path(), "").ok());
  EXPECT_EQ(store->Load(TwoUploads()).status().code(),
            absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace epgfn
