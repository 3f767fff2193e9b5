#include "common/model/model_codec.h"

#include <torch/types.h>
#include <torch/utils.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <limits>
#include <map>
#include <new>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "common/model/deterministic_bytes.h"
#include "common/util/file_io.h"
#include "common/util/status_macros.h"

namespace epgfn {
namespace {

// TensorData.data is little-endian IEEE 754 binary32, which is the host's
// own layout on every platform this builds for; copying bytes is then exact.
#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__)
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "model_codec copies float32 bytes as they are and needs a "
              "little-endian host");
#else
#error "model_codec cannot tell the host's byte order"
#endif
static_assert(sizeof(float) == 4 && std::numeric_limits<float>::is_iec559,
              "model_codec needs IEEE 754 binary32 floats");

using ::epgfn::v1::DType;
using ::epgfn::v1::ModelWeights;
using ::epgfn::v1::TensorData;

constexpr int64_t kBytesPerFloat = 4;
// Untrusted strings are clipped to this many bytes in error messages.
constexpr size_t kMaxQuotedBytes = 80;
// Untrusted shapes are clipped to this many dimensions in error messages.
constexpr int kMaxFormattedDims = 8;

// `text` from an untrusted message, quoted, escaped and clipped, for errors.
std::string Quoted(absl::string_view text) {
  const bool clipped = text.size() > kMaxQuotedBytes;
  return absl::StrCat("'", absl::CHexEscape(text.substr(0, kMaxQuotedBytes)),
                      clipped ? "...'" : "'");
}

template <typename Dims>
std::string FormatShape(const Dims& dims) {
  const int size = static_cast<int>(dims.size());
  std::vector<int64_t> shown(dims.begin(),
                             dims.begin() + std::min(size, kMaxFormattedDims));
  return absl::StrCat("[", absl::StrJoin(shown, ", "),
                      size > kMaxFormattedDims ? ", ...]" : "]");
}

std::string DTypeName(int dtype) {
  return v1::DType_IsValid(dtype) ? v1::DType_Name(static_cast<DType>(dtype))
                                  : absl::StrCat("<unknown dtype ", dtype, ">");
}

// Parameters, then buffers, in registration order. Undefined tensors (a
// module may register a placeholder) carry no data and are left out.
std::vector<std::pair<std::string, torch::Tensor>> NamedTensors(
    const PolicyNetImpl& policy) {
  std::vector<std::pair<std::string, torch::Tensor>> tensors;
  for (const auto& item : policy.named_parameters(/*recurse=*/true)) {
    if (item.value().defined()) tensors.emplace_back(item.key(), item.value());
  }
  for (const auto& item : policy.named_buffers(/*recurse=*/true)) {
    if (item.value().defined()) tensors.emplace_back(item.key(), item.value());
  }
  return tensors;
}

// A lower bound of the number of float32 values in a policy of `architecture`
// on `environment`: the weight matrices of the torso and the forward head
// (biases and the optional heads come on top). Import refuses an architecture
// that needs more data than the message carries before allocating anything,
// so a small hostile message cannot make the server allocate a huge policy.
// Cannot overflow: Validate() bounds width by 2^16 and layers by 64.
int64_t MinimumFloatCount(const PolicyArchitecture& architecture,
                          const Environment& environment) {
  const int64_t width = architecture.hidden_width;
  return environment.encoding_dim() * width +
         (architecture.hidden_layers - 1) * width * width +
         width * environment.num_forward_actions();
}

absl::Status CheckDimension(const char* field, int64_t value, int64_t expected,
                            const EnvironmentConfig& config) {
  if (value == expected) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("model ", field, " is ", value, " but environment ",
                   config.ToString(), " has ", expected));
}

// The flat index of the first NaN or infinity among the `count` float32 values
// at `bytes` (any alignment), or -1: those with all exponent bits set. Whole
// blocks are scanned with a fixed trip count and no early exit, which GCC
// vectorises at -O2 (3x faster than an isfinite loop that stops at the first
// hit); the block holding a hit and the tail are then scanned one by one.
int64_t FirstNonFinite(const char* bytes, int64_t count) {
  constexpr uint32_t kExponentBits = 0x7f800000u;
  constexpr int64_t kBlock = 4096;
  auto bits_at = [bytes](int64_t i) {
    uint32_t bits;
    std::memcpy(&bits, bytes + i * kBytesPerFloat, sizeof(bits));
    return bits & kExponentBits;
  };
  int64_t start = 0;
  for (; start + kBlock <= count; start += kBlock) {
    uint32_t found = 0;
    for (int64_t i = 0; i < kBlock; ++i) {
      found |= static_cast<uint32_t>(bits_at(start + i) == kExponentBits);
    }
    if (found != 0) break;
  }
  for (int64_t i = start; i < count; ++i) {
    if (bits_at(i) == kExponentBits) return i;
  }
  return -1;
}

// Checks `data` against `expected` (a parameter or buffer of a fresh policy):
// dtype, shape, byte size and finiteness, all on the message's bytes.
absl::Status CheckTensor(const TensorData& data,
                         const torch::Tensor& expected) {
  const std::string name = Quoted(data.name());
  if (data.dtype() != v1::DTYPE_FLOAT32) {
    return absl::InvalidArgumentError(
        absl::StrCat("tensor ", name, " has dtype ", DTypeName(data.dtype()),
                     ", expected DTYPE_FLOAT32"));
  }
  const torch::IntArrayRef sizes = expected.sizes();
  if (data.shape_size() != static_cast<int>(sizes.size()) ||
      !std::equal(sizes.begin(), sizes.end(), data.shape().begin())) {
    return absl::InvalidArgumentError(
        absl::StrCat("tensor ", name, " has shape ", FormatShape(data.shape()),
                     ", expected ", FormatShape(sizes)));
  }
  const int64_t numel = expected.numel();
  if (data.data().size() != static_cast<size_t>(numel * kBytesPerFloat)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tensor ", name, " carries ", data.data().size(), " bytes, expected ",
        numel * kBytesPerFloat, " (", numel, " float32 values)"));
  }
  const int64_t bad = FirstNonFinite(data.data().data(), numel);
  if (bad >= 0) {
    float value;
    std::memcpy(&value, data.data().data() + bad * kBytesPerFloat,
                sizeof(value));
    return absl::InvalidArgumentError(
        absl::StrCat("tensor ", name, " holds a non-finite value (", value,
                     ") at flat index ", bad));
  }
  return absl::OkStatus();
}

// Copies the bytes of `data` (checked by CheckTensor against `target`) into
// `target`: one copy, from the message straight into the parameter.
void CopyInto(const TensorData& data, torch::Tensor target) {
  const std::string& bytes = data.data();
  if (bytes.empty()) return;
  if (target.device().is_cpu() && target.is_contiguous() &&
      target.scalar_type() == torch::kFloat32) {
    std::memcpy(target.data_ptr<float>(), bytes.data(), bytes.size());
    return;
  }
  // Another device or layout: a view of the bytes, copied once by LibTorch.
  // from_blob wants a mutable pointer; copy_ only reads its source.
  target.copy_(torch::from_blob(const_cast<char*>(bytes.data()), target.sizes(),
                                torch::kFloat32));
}

// The model's state graph must be this environment's: same config, same
// encoding width and action counts.
absl::Status CheckModelEnvironment(const ModelWeights& weights,
                                   const Environment& environment) {
  const EnvironmentConfig& config = environment.config();
  const v1::EnvironmentSpec& spec = weights.environment();
  EnvironmentConfig model_config{
      spec.kind(), ParamMap(std::map<std::string, std::string>(
                       spec.params().begin(), spec.params().end()))};
  if (model_config != config) {
    return absl::FailedPreconditionError(absl::StrCat(
        "model was built for ",
        model_config.kind.empty() ? "no environment"
                                  : Quoted(model_config.ToString()),
        ", this federation uses '", config.ToString(), "'"));
  }
  RETURN_IF_ERROR(CheckDimension("encoding_dim", weights.encoding_dim(),
                                 environment.encoding_dim(), config));
  RETURN_IF_ERROR(CheckDimension("num_forward_actions",
                                 weights.num_forward_actions(),
                                 environment.num_forward_actions(), config));
  return CheckDimension("num_backward_actions", weights.num_backward_actions(),
                        environment.num_backward_actions(), config);
}

// The model's architecture, valid and small enough for the bytes its tensors
// carry (checked before a policy of that size is allocated).
absl::StatusOr<PolicyArchitecture> ModelArchitecture(
    const ModelWeights& weights, const Environment& environment) {
  PolicyArchitecture architecture;
  architecture.hidden_width = weights.architecture().hidden_width();
  architecture.hidden_layers = weights.architecture().hidden_layers();
  architecture.learned_backward = weights.architecture().learned_backward();
  architecture.state_flow = weights.architecture().state_flow();
  if (absl::Status status = architecture.Validate(); !status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("model architecture: ", status.message()));
  }
  size_t data_bytes = 0;
  for (const TensorData& tensor : weights.tensors()) {
    data_bytes += tensor.data().size();
  }
  const int64_t minimum_floats = MinimumFloatCount(architecture, environment);
  if (static_cast<uint64_t>(minimum_floats) * kBytesPerFloat > data_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "model architecture ", architecture.ToString(), " needs at least ",
        minimum_floats, " float32 values but the tensors carry only ",
        data_bytes, " bytes"));
  }
  return architecture;
}

// The model's tensors in the order of `expected` (a fresh policy's names),
// each checked by CheckTensor: exactly those names, each once.
absl::StatusOr<std::vector<const TensorData*>> CheckNamedTensors(
    const ModelWeights& weights,
    const std::vector<std::pair<std::string, torch::Tensor>>& expected,
    const PolicyArchitecture& architecture) {
  std::unordered_map<std::string, const TensorData*> by_name;
  for (const auto& [name, tensor] : expected) by_name.emplace(name, nullptr);
  for (const TensorData& tensor : weights.tensors()) {
    auto it = by_name.find(tensor.name());
    if (it == by_name.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown tensor ", Quoted(tensor.name()),
          " (not a parameter or buffer of ", architecture.ToString(), ")"));
    }
    if (it->second != nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "tensor ", Quoted(tensor.name()), " appears more than once"));
    }
    it->second = &tensor;
  }
  std::vector<const TensorData*> ordered;
  ordered.reserve(expected.size());
  for (const auto& [name, tensor] : expected) {
    const TensorData* data = by_name.at(name);
    if (data == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("missing tensor '", name, "' (needed by ",
                       architecture.ToString(), ")"));
    }
    RETURN_IF_ERROR(CheckTensor(*data, tensor));
    ordered.push_back(data);
  }
  return ordered;
}

absl::StatusOr<PolicyNet> ImportModelOrThrow(const ModelWeights& weights,
                                             const Environment& environment,
                                             torch::Device device) {
  RETURN_IF_ERROR(CheckModelEnvironment(weights, environment));
  ASSIGN_OR_RETURN(const PolicyArchitecture architecture,
                   ModelArchitecture(weights, environment));
  // Every weight is overwritten below, so none is drawn first. The policy is
  // this function's own until it returns: a refused model leaves nothing.
  ASSIGN_OR_RETURN(PolicyNet policy,
                   MakeUninitialisedPolicy(environment, architecture, device));
  const std::vector<std::pair<std::string, torch::Tensor>> expected =
      NamedTensors(*policy);
  ASSIGN_OR_RETURN(const std::vector<const TensorData*> checked,
                   CheckNamedTensors(weights, expected, architecture));
  // Everything checked: only now write the policy's weights.
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < expected.size(); ++i) {
    CopyInto(*checked[i], expected[i].second);
  }
  return policy;
}

}  // namespace

v1::ModelWeights ExportModel(const Environment& environment,
                             PolicyNet& policy) {
  ModelWeights weights;
  const EnvironmentConfig& config = environment.config();
  v1::EnvironmentSpec* spec = weights.mutable_environment();
  spec->set_kind(config.kind);
  for (const auto& [key, value] : config.params.values()) {
    (*spec->mutable_params())[key] = value;
  }
  const PolicyArchitecture& architecture = policy->architecture();
  v1::PolicyArchitecture* out_architecture = weights.mutable_architecture();
  out_architecture->set_hidden_width(architecture.hidden_width);
  out_architecture->set_hidden_layers(architecture.hidden_layers);
  out_architecture->set_learned_backward(architecture.learned_backward);
  out_architecture->set_state_flow(architecture.state_flow);
  // The policy's own dimensions, which its tensors follow; ImportModel checks
  // them against the importing environment.
  weights.set_encoding_dim(policy->encoding_dim());
  weights.set_num_forward_actions(policy->num_forward_actions());
  weights.set_num_backward_actions(policy->num_backward_actions());

  torch::NoGradGuard no_grad;
  for (const auto& [name, tensor] : NamedTensors(*policy)) {
    const torch::Tensor host =
        tensor.detach().to(torch::kCPU, torch::kFloat32).contiguous();
    TensorData* data = weights.add_tensors();
    data->set_name(name);
    for (const int64_t size : host.sizes()) data->add_shape(size);
    data->set_dtype(v1::DTYPE_FLOAT32);
    if (host.numel() > 0) {
      data->set_data(host.data_ptr<float>(), host.numel() * kBytesPerFloat);
    }
  }
  return weights;
}

absl::StatusOr<PolicyNet> ImportModel(const v1::ModelWeights& weights,
                                      const Environment& environment,
                                      torch::Device device) {
  // Every check on the message returns a status; what can still throw is
  // LibTorch itself (no memory, an unusable device). Nothing escapes.
  try {
    return ImportModelOrThrow(weights, environment, device);
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(
        "out of memory while importing a model");
  } catch (const std::exception& error) {
    return absl::InternalError(
        absl::StrCat("cannot import model: ", error.what()));
  }
}

absl::Status WriteModelFile(const std::string& path,
                            const v1::ModelWeights& weights) {
  absl::StatusOr<std::string> bytes = DeterministicBytes(weights);
  if (!bytes.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot serialize model for '", path, "': ", bytes.status().message()));
  }
  return WriteFileAtomically(path, *bytes);
}

absl::StatusOr<v1::ModelWeights> ReadModelFile(const std::string& path) {
  ASSIGN_OR_RETURN(const std::string bytes,
                   ReadFileToString(path, /*max_bytes=*/INT_MAX));
  if (bytes.empty()) {
    return absl::DataLossError(absl::StrCat("'", path, "' is empty"));
  }
  v1::ModelWeights weights;
  if (!weights.ParseFromString(bytes)) {
    return absl::DataLossError(absl::StrCat(
        "'", path, "' does not parse as an epgfn.v1.ModelWeights"));
  }
  return weights;
}

}  // namespace epgfn
