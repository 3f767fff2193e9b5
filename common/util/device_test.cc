#include "common/util/device.h"

#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/types.h>

#include "gtest/gtest.h"

namespace epgfn {
namespace {

TEST(DeviceTest, ParsesCpuAndRefusesUnknownNames) {
  auto cpu = ParseDevice("cpu");
  ASSERT_TRUE(cpu.ok());
  EXPECT_TRUE(cpu->is_cpu());
  EXPECT_EQ(ParseDevice("tpu").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(ParseDevice("cuda:x").ok());
}

TEST(DeviceTest, CudaIsAcceptedExactlyWhenLibTorchHasIt) {
  auto cuda = ParseDevice("cuda");
  EXPECT_EQ(cuda.ok(), torch::cuda::is_available());
  if (!cuda.ok()) {
    EXPECT_EQ(cuda.status().code(), absl::StatusCode::kFailedPrecondition);
  }
}

TEST(DeviceTest, ThreadsAreSetAndBounded) {
  ASSERT_TRUE(SetIntraOpThreads(2).ok());
  EXPECT_EQ(at::get_num_threads(), 2);
  EXPECT_FALSE(SetIntraOpThreads(0).ok());
}

}  // namespace
}  // namespace epgfn
