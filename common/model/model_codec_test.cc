#include "common/model/model_codec.h"

#include <torch/types.h>
#include <torch/utils.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <limits>
#include <memory>
#include <random>
#include <set>
#include <string>

#include "common/env/environment_testing.h"
#include "common/policy/policy_testing.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace epgfn {
namespace {

using ::epgfn::v1::ModelWeights;
using ::epgfn::v1::TensorData;
using ::testing::HasSubstr;

std::string TestFile(const std::string& name) {
  return testing::TempDir() + "/" + name;
}

void WriteBytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
  ASSERT_TRUE(out.good());
}

class ModelCodecTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grid_ = MakeTestEnvironment("hypergrid:dim=2,side=4");
    auto policy =
        MakePolicy(*grid_, AllHeadsTestArchitecture(/*hidden_layers=*/2),
                   /*seed=*/7, torch::kCPU);
    ASSERT_TRUE(policy.ok()) << policy.status();
    policy_ = *policy;
    weights_ = ExportModel(*grid_, policy_);
  }

  TensorData* Tensor(const std::string& name) {
    for (TensorData& tensor : *weights_.mutable_tensors()) {
      if (tensor.name() == name) return &tensor;
    }
    ADD_FAILURE() << "no tensor " << name;
    static TensorData* unused = new TensorData;
    return unused;
  }

  void RemoveTensor(const std::string& name) {
    auto* tensors = weights_.mutable_tensors();
    for (int i = 0; i < tensors->size(); ++i) {
      if (tensors->Get(i).name() == name) {
        tensors->SwapElements(i, tensors->size() - 1);
        tensors->RemoveLast();
        return;
      }
    }
    ADD_FAILURE() << "no tensor " << name;
  }

  // Imports weights_ into grid_ and expects `code` with `message` in it.
  void ExpectRefused(absl::StatusCode code, const std::string& message) {
    absl::StatusOr<PolicyNet> imported =
        ImportModel(weights_, *grid_, torch::kCPU);
    ASSERT_FALSE(imported.ok());
    EXPECT_EQ(imported.status().code(), code) << imported.status();
    EXPECT_THAT(std::string(imported.status().message()), HasSubstr(message));
  }

  std::unique_ptr<Environment> grid_;
  PolicyNet policy_{nullptr};
  ModelWeights weights_;
};

TEST_F(ModelCodecTest, ExportHoldsEveryParameterAsFloat32) {
  EXPECT_EQ(weights_.environment().kind(), "hypergrid");
  EXPECT_EQ(weights_.environment().params().at("dim"), "2");
  EXPECT_EQ(weights_.environment().params().at("side"), "4");
  EXPECT_EQ(weights_.architecture().hidden_width(), 32);
  EXPECT_EQ(weights_.architecture().hidden_layers(), 2);
  EXPECT_TRUE(weights_.architecture().learned_backward());
  EXPECT_TRUE(weights_.architecture().state_flow());
  EXPECT_EQ(weights_.encoding_dim(), 8);
  EXPECT_EQ(weights_.num_forward_actions(), 3);
  EXPECT_EQ(weights_.num_backward_actions(), 2);

  std::set<std::string> names;
  for (const TensorData& tensor : weights_.tensors()) {
    names.insert(tensor.name());
    EXPECT_EQ(tensor.dtype(), v1::DTYPE_FLOAT32) << tensor.name();
    int64_t numel = 1;
    for (int64_t size : tensor.shape()) numel *= size;
    EXPECT_EQ(tensor.data().size(), numel * 4) << tensor.name();
  }
  EXPECT_EQ(names,
            (std::set<std::string>{
                "torso.0.weight", "torso.0.bias", "torso.2.weight",
                "torso.2.bias", "forward_head.weight", "forward_head.bias",
                "backward_head.weight", "backward_head.bias",
                "flow_head.weight", "flow_head.bias", "log_z"}));
  EXPECT_THAT(Tensor("torso.0.weight")->shape(), ::testing::ElementsAre(32, 8));
  float first;
  std::memcpy(&first, Tensor("torso.0.weight")->data().data(), 4);
  EXPECT_EQ(first,
            policy_->named_parameters()["torso.0.weight"][0][0].item<float>());
}

TEST_F(ModelCodecTest, RoundTripThroughBytesGivesIdenticalOutputs) {
  std::string bytes;
  ASSERT_TRUE(weights_.SerializeToString(&bytes));
  ModelWeights parsed;
  ASSERT_TRUE(parsed.ParseFromString(bytes));

  absl::StatusOr<PolicyNet> imported = ImportModel(parsed, *grid_, torch::kCPU);
  ASSERT_TRUE(imported.ok()) << imported.status();
  EXPECT_EQ((*imported)->architecture(),
            AllHeadsTestArchitecture(/*hidden_layers=*/2));

  torch::NoGradGuard no_grad;
  torch::manual_seed(11);
  torch::Tensor encodings = torch::rand({64, grid_->encoding_dim()});
  PolicyNetImpl::Output expected = policy_->forward(encodings);
  PolicyNetImpl::Output actual = (*imported)->forward(encodings);
  EXPECT_TRUE(actual.forward_logits.equal(expected.forward_logits));
  EXPECT_TRUE(actual.backward_logits.equal(expected.backward_logits));
  EXPECT_TRUE(actual.log_flow.equal(expected.log_flow));
  EXPECT_TRUE((*imported)->log_z().equal(policy_->log_z()));

  // The weights really came from the message, not from the fresh policy's
  // own initialisation.
  auto fresh = MakePolicy(*grid_, AllHeadsTestArchitecture(/*hidden_layers=*/2),
                          /*seed=*/0, torch::kCPU);
  ASSERT_TRUE(fresh.ok());
  EXPECT_FALSE((*fresh)->forward(encodings).forward_logits.equal(
      expected.forward_logits));

  // Exporting the import gives the same message back.
  EXPECT_EQ(ExportModel(*grid_, *imported).DebugString(),
            weights_.DebugString());
}

TEST_F(ModelCodecTest, RefusesAnotherEnvironment) {
  auto other = MakeTestEnvironment("hypergrid:dim=2,side=5");
  absl::StatusOr<PolicyNet> imported =
      ImportModel(weights_, *other, torch::kCPU);
  ASSERT_FALSE(imported.ok());
  EXPECT_EQ(imported.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(imported.status().message()),
              HasSubstr("model was built for 'hypergrid:dim=2,side=4', this "
                        "federation uses 'hypergrid:dim=2,side=5'"));
}

TEST_F(ModelCodecTest, RefusesWrongEnvironmentParams) {
  (*weights_.mutable_environment()->mutable_params())["side"] = "5";
  ExpectRefused(absl::StatusCode::kFailedPrecondition, "side=5");
}

TEST_F(ModelCodecTest, RefusesExtraEnvironmentParam) {
  (*weights_.mutable_environment()->mutable_params())["seed"] = "1";
  ExpectRefused(absl::StatusCode::kFailedPrecondition, "seed=1");
}

TEST_F(ModelCodecTest, RefusesAnEmptyMessage) {
  weights_.Clear();
  ExpectRefused(absl::StatusCode::kFailedPrecondition,
                "model was built for no environment");
}

TEST_F(ModelCodecTest, RefusesWrongDimensions) {
  weights_.set_encoding_dim(9);
  ExpectRefused(absl::StatusCode::kInvalidArgument, "encoding_dim is 9");
}

TEST_F(ModelCodecTest, RefusesWrongActionCount) {
  weights_.set_num_backward_actions(3);
  ExpectRefused(absl::StatusCode::kInvalidArgument, "num_backward_actions");
}

TEST_F(ModelCodecTest, RefusesMissingTensor) {
  RemoveTensor("forward_head.bias");
  ExpectRefused(absl::StatusCode::kInvalidArgument,
                "missing tensor 'forward_head.bias'");
}

TEST_F(ModelCodecTest, RefusesUnknownTensor) {
  TensorData* extra = weights_.add_tensors();
  *extra = *Tensor("log_z");
  extra->set_name("bogus");
  ExpectRefused(absl::StatusCode::kInvalidArgument, "unknown tensor 'bogus'");
}

TEST_F(ModelCodecTest, RefusesDuplicateTensor) {
  TensorData copy = *Tensor("torso.2.bias");
  *weights_.add_tensors() = copy;
  ExpectRefused(absl::StatusCode::kInvalidArgument,
                "tensor 'torso.2.bias' appears more than once");
}

TEST_F(ModelCodecTest, RefusesWrongShape) {
  // Same number of elements, transposed.
  Tensor("torso.0.weight")->set_shape(0, 8);
  Tensor("torso.0.weight")->set_shape(1, 32);
  ExpectRefused(absl::StatusCode::kInvalidArgument,
                "tensor 'torso.0.weight' has shape [8, 32], expected [32, 8]");
}

TEST_F(ModelCodecTest, RefusesWrongRank) {
  Tensor("log_z")->add_shape(1);
  ExpectRefused(absl::StatusCode::kInvalidArgument,
                "tensor 'log_z' has shape [1, 1], expected [1]");
}

TEST_F(ModelCodecTest, RefusesWrongDtype) {
  Tensor("flow_head.bias")->set_dtype(v1::DTYPE_UNSPECIFIED);
  ExpectRefused(absl::StatusCode::kInvalidArgument,
                "tensor 'flow_head.bias' has dtype DTYPE_UNSPECIFIED");
}

TEST_F(ModelCodecTest, RefusesUnknownDtypeValue) {
  Tensor("flow_head.bias")->set_dtype(static_cast<v1::DType>(42));
  ExpectRefused(absl::StatusCode::kInvalidArgument, "<unknown dtype 42>");
}

TEST_F(ModelCodecTest, RefusesShortData) {
  Tensor("backward_head.weight")->mutable_data()->pop_back();
  ExpectRefused(absl::StatusCode::kInvalidArgument,
                "tensor 'backward_head.weight' carries 255 bytes, expected "
                "256");
}

TEST_F(ModelCodecTest, RefusesLongData) {
  Tensor("log_z")->mutable_data()->append(4, '\0');
  ExpectRefused(absl::StatusCode::kInvalidArgument,
                "tensor 'log_z' carries 8 bytes, expected 4");
}

TEST_F(ModelCodecTest, RefusesNaN) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::memcpy(&(*Tensor("forward_head.bias")->mutable_data())[4], &nan, 4);
  ExpectRefused(absl::StatusCode::kInvalidArgument,
                "tensor 'forward_head.bias' holds a non-finite value (nan) at "
                "flat index 1");
}

TEST_F(ModelCodecTest, RefusesInfinity) {
  const float inf = -std::numeric_limits<float>::infinity();
  std::memcpy(&(*Tensor("log_z")->mutable_data())[0], &inf, 4);
  ExpectRefused(absl::StatusCode::kInvalidArgument,
                "tensor 'log_z' holds a non-finite value (-inf)");
}

TEST_F(ModelCodecTest, RefusesNarrowerArchitectureThanTheTensors) {
  weights_.mutable_architecture()->set_hidden_width(16);
  ExpectRefused(absl::StatusCode::kInvalidArgument,
                "tensor 'torso.0.weight' has shape [32, 8], expected [16, 8]");
}

TEST_F(ModelCodecTest, RefusesWiderArchitectureBeforeAllocatingIt) {
  // 65536 x 65536 x 63 would be ~1 TB of floats: refused from the message
  // size alone.
  weights_.mutable_architecture()->set_hidden_width(65536);
  weights_.mutable_architecture()->set_hidden_layers(64);
  ExpectRefused(absl::StatusCode::kInvalidArgument,
                "float32 values but the tensors carry only");
}

TEST_F(ModelCodecTest, RefusesInvalidArchitecture) {
  weights_.mutable_architecture()->set_hidden_width(0);
  ExpectRefused(absl::StatusCode::kInvalidArgument,
                "model architecture: hidden_width");
}

TEST_F(ModelCodecTest, RefusesArchitectureWithoutTheHeadsItsTensorsHave) {
  weights_.mutable_architecture()->set_learned_backward(false);
  ExpectRefused(absl::StatusCode::kInvalidArgument,
                "unknown tensor 'backward_head.");
}

TEST_F(ModelCodecTest, ClipsHostileNamesInMessages) {
  TensorData* extra = weights_.add_tensors();
  extra->set_name(std::string(10000, 'x') + "\n\x01");
  absl::StatusOr<PolicyNet> imported =
      ImportModel(weights_, *grid_, torch::kCPU);
  ASSERT_FALSE(imported.ok());
  EXPECT_LT(imported.status().message().size(), 300u);
}

TEST_F(ModelCodecTest, CorruptedBytesNeverCrash) {
  std::string bytes;
  ASSERT_TRUE(weights_.SerializeToString(&bytes));
  std::mt19937 random(123);
  std::uniform_int_distribution<size_t> position(0, bytes.size() - 1);
  std::uniform_int_distribution<int> value(0, 255);
  int parsed = 0;
  for (int trial = 0; trial < 300; ++trial) {
    std::string corrupted = bytes;
    if (trial % 3 == 0) {
      corrupted.resize(position(random));
    } else {
      for (int flips = 1 + trial % 4; flips > 0; --flips) {
        corrupted[position(random)] = static_cast<char>(value(random));
      }
    }
    ModelWeights weights;
    if (!weights.ParseFromString(corrupted)) continue;
    ++parsed;
    // Any outcome but a crash is fine; a success must be a usable policy.
    absl::StatusOr<PolicyNet> imported =
        ImportModel(weights, *grid_, torch::kCPU);
    if (imported.ok()) {
      torch::NoGradGuard no_grad;
      (*imported)->forward(torch::zeros({1, grid_->encoding_dim()}));
    }
  }
  EXPECT_GT(parsed, 0);
}

TEST_F(ModelCodecTest, FileRoundTrip) {
  const std::string path = TestFile("model_codec_test_round_trip.epgfn");
  ASSERT_TRUE(WriteModelFile(path, weights_).ok());
  EXPECT_NE(::access((path + ".tmp").c_str(), F_OK), 0);
  absl::StatusOr<ModelWeights> read = ReadModelFile(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->DebugString(), weights_.DebugString());

  // Overwriting replaces the file.
  weights_.set_encoding_dim(99);
  ASSERT_TRUE(WriteModelFile(path, weights_).ok());
  read = ReadModelFile(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->encoding_dim(), 99);
}

TEST(ModelFileTest, MissingFileIsNotFound) {
  absl::StatusOr<ModelWeights> read =
      ReadModelFile(TestFile("no_such_model.epgfn"));
  EXPECT_EQ(read.status().code(), absl::StatusCode::kNotFound) << read.status();
}

TEST(ModelFileTest, GarbageIsDataLoss) {
  const std::string path = TestFile("garbage.epgfn");
  // 0x0f: field 1 with wire type 7, which does not exist.
  WriteBytes(path, "\x0f\xff\xff\xff garbage, not a model");
  absl::StatusOr<ModelWeights> read = ReadModelFile(path);
  EXPECT_EQ(read.status().code(), absl::StatusCode::kDataLoss) << read.status();
}

TEST(ModelFileTest, EmptyFileIsDataLoss) {
  const std::string path = TestFile("empty.epgfn");
  WriteBytes(path, "");
  absl::StatusOr<ModelWeights> read = ReadModelFile(path);
  EXPECT_EQ(read.status().code(), absl::StatusCode::kDataLoss) << read.status();
}

TEST(ModelFileTest, WriteIntoMissingDirectoryFails) {
  absl::Status status =
      WriteModelFile(TestFile("no_such_directory/model.epgfn"), ModelWeights());
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound) << status;
}

}  // namespace
}  // namespace epgfn
