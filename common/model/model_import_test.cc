// ImportModel's finiteness scan on the message's bytes, at the edges of the
// blocks it scans in, and on the largest and smallest finite floats.

#include <torch/types.h>

#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/env/environment_testing.h"
#include "common/model/model_codec.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace epgfn {
namespace {

using ::epgfn::v1::ModelWeights;
using ::epgfn::v1::TensorData;
using ::testing::HasSubstr;

class ModelImportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grid_ = MakeTestEnvironment("hypergrid:dim=2,side=4");
    ASSERT_NE(grid_, nullptr);
    PolicyArchitecture architecture;
    architecture.hidden_width = 128;  // torso.2.weight: 16,384 floats
    auto policy = MakePolicy(*grid_, architecture, /*seed=*/3, torch::kCPU);
    ASSERT_TRUE(policy.ok()) << policy.status();
    policy_ = *policy;
    weights_ = ExportModel(*grid_, policy_);
  }

  // Sets float `index` of tensor `name` to `value`.
  void Set(const std::string& name, int64_t index, float value) {
    for (TensorData& tensor : *weights_.mutable_tensors()) {
      if (tensor.name() != name) continue;
      ASSERT_LE((index + 1) * 4, static_cast<int64_t>(tensor.data().size()));
      std::memcpy(&(*tensor.mutable_data())[index * 4], &value, 4);
      return;
    }
    ADD_FAILURE() << "no tensor " << name;
  }

  std::unique_ptr<Environment> grid_;
  PolicyNet policy_{nullptr};
  ModelWeights weights_;
};

TEST_F(ModelImportTest, NamesTheFirstNonFiniteValueWhereverItLies) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  for (const int64_t index : {0, 4095, 4096, 4097, 12345, 16383}) {
    SCOPED_TRACE(index);
    const ModelWeights clean = weights_;
    Set("torso.2.weight", index, index % 2 == 0 ? nan : -inf);
    if (index < 16383) Set("torso.2.weight", 16383, inf);  // a later one
    absl::StatusOr<PolicyNet> imported =
        ImportModel(weights_, *grid_, torch::kCPU);
    ASSERT_FALSE(imported.ok());
    EXPECT_EQ(imported.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(imported.status().message()),
                HasSubstr(absl::StrCat("tensor 'torso.2.weight' holds a "
                                       "non-finite value (",
                                       index % 2 == 0 ? "nan" : "-inf",
                                       ") at flat index ", index)));
    weights_ = clean;
  }
}

TEST_F(ModelImportTest, KeepsExtremeFiniteValues) {
  const float values[] = {std::numeric_limits<float>::max(),
                          std::numeric_limits<float>::lowest(),
                          std::numeric_limits<float>::denorm_min(), -0.0f};
  for (int64_t i = 0; i < 4; ++i) Set("torso.2.weight", 4094 + i, values[i]);
  absl::StatusOr<PolicyNet> imported =
      ImportModel(weights_, *grid_, torch::kCPU);
  ASSERT_TRUE(imported.ok()) << imported.status();
  const torch::Tensor flat =
      (*imported)->named_parameters()["torso.2.weight"].flatten();
  for (int64_t i = 0; i < 4; ++i) {
    const float got = flat[4094 + i].item<float>();
    EXPECT_EQ(std::memcmp(&got, &values[i], 4), 0) << i;
  }
}

TEST_F(ModelImportTest, ImportsEveryParameterBitForBit) {
  absl::StatusOr<PolicyNet> imported =
      ImportModel(weights_, *grid_, torch::kCPU);
  ASSERT_TRUE(imported.ok()) << imported.status();
  const auto want = policy_->named_parameters(/*recurse=*/true);
  for (const auto& item : (*imported)->named_parameters(/*recurse=*/true)) {
    const torch::Tensor* expected = want.find(item.key());
    ASSERT_NE(expected, nullptr) << item.key();
    EXPECT_TRUE(torch::equal(item.value(), *expected)) << item.key();
    EXPECT_TRUE(item.value().requires_grad()) << item.key();
  }
  EXPECT_EQ((*imported)->named_parameters().size(), want.size());
}

}  // namespace
}  // namespace epgfn
