#include "tests/demo/evaluation_inputs.h"

#include <google/protobuf/text_format.h>
#include <torch/utils.h>

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/eval/exact_distribution.h"
#include "common/model/model_codec.h"
#include "common/util/file_io.h"
#include "common/util/status_macros.h"

namespace epgfn {
namespace {

constexpr int64_t kMaxFileBytes = int64_t{1} << 30;

}  // namespace

absl::StatusOr<v1::FederationSpec> ReadSpec(const std::string& path) {
  ASSIGN_OR_RETURN(const std::string text, ReadFileToString(path, 1 << 20));
  v1::FederationSpec spec;
  if (!google::protobuf::TextFormat::ParseFromString(text, &spec)) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, " is not a FederationSpec textproto"));
  }
  return spec;
}

absl::StatusOr<torch::Tensor> ReadSampleStates(const std::string& path,
                                               int64_t state_dim) {
  ASSIGN_OR_RETURN(const std::string text,
                   ReadFileToString(path, kMaxFileBytes));
  std::vector<int64_t> values;
  int64_t rows = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    const std::vector<absl::string_view> fields = absl::StrSplit(line, '\t');
    const std::vector<absl::string_view> ints =
        absl::StrSplit(fields[0], ' ', absl::SkipEmpty());
    if (static_cast<int64_t>(ints.size()) != state_dim) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, " line ", rows + 1, ": expected ", state_dim, " integers"));
    }
    for (absl::string_view field : ints) {
      int64_t value = 0;
      if (!absl::SimpleAtoi(field, &value)) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, " line ", rows + 1, ": not an integer"));
      }
      values.push_back(value);
    }
    ++rows;
  }
  if (rows == 0) return absl::InvalidArgumentError(path + " holds no samples");
  return torch::tensor(values, torch::kInt64).reshape({rows, state_dim});
}

torch::Tensor NormalizedReward(const LogReward& reward,
                               const torch::Tensor& states) {
  torch::NoGradGuard no_grad;
  return torch::softmax(reward(states).to(torch::kFloat64), 0);
}

absl::StatusOr<torch::Tensor> LearnedProbabilities(
    const std::string& path, const Environment& environment,
    const torch::Tensor& states) {
  ASSIGN_OR_RETURN(v1::ModelWeights weights, ReadModelFile(path));
  ASSIGN_OR_RETURN(PolicyNet policy,
                   ImportModel(weights, environment, torch::kCPU));
  return ExactLearnedProbabilities(policy, environment, states);
}

std::string WithShare(const std::string& reward, int index, int count) {
  return absl::StrCat(reward, reward.find(':') == std::string::npos ? ":" : ",",
                      "index=", index, ",count=", count);
}

}  // namespace epgfn
