// libFuzzer target: bytes -> the server's configuration parsers.
//
// Every input is tried two ways:
//  1. as a FederationSpec textproto, through ParseFederationConfig (what
//     LoadFederationConfig runs on a config file): TextFormat parse, then
//     validation, which builds the environment from the registry;
//  2. its first line as an environment string ("kind:key=value,...", the
//     --environment flag) and its second line as a reward string, through
//     EnvironmentConfig::Parse, MakeEnvironment, RewardConfig::Parse and
//     MakeLogReward.
// A crash, a sanitizer report, an escaping exception or a broken invariant
// below is a bug.

#include <google/protobuf/text_format.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/string_view.h"
#include "common/env/environment_config.h"
#include "common/env/environment_registry.h"
#include "common/policy/policy_net.h"
#include "common/spec/spec_conversion.h"
#include "server/core/federation_config.h"
#include "tests/fuzz/fuzz_check.h"

namespace epgfn {
namespace {

// Policies up to this size are built from an accepted config (a few ms);
// larger ones are valid but would only slow the fuzzer down.
constexpr int64_t kMaxBuiltParameters = 1 << 16;
// Synthetic dag data sets up to this many rows are generated.
constexpr int64_t kMaxSyntheticRows = 2000;

// Environments and rewards may name files (phylo alignment=, dag data=).
// The fuzzer may read the repository's own test data, nothing else: a path
// such as /dev/stdin would block and /dev/zero is endless.
bool ReadsOnlyTestData(const ParamMap& params) {
  for (const char* key : {"alignment", "data"}) {
    const std::string path = params.GetString(key, "");
    if (path.empty()) continue;
    if (!absl::StartsWith(path, "common/env/") ||
        absl::StrContains(path, "..")) {
      return false;
    }
  }
  return true;
}

// Sizes the harness does not let a reward allocate (the library accepts
// them; they are slow, not wrong).
bool RewardWithinHarnessLimits(const RewardConfig& reward) {
  int64_t rows = 0;
  const std::string samples = reward.params.GetString("samples", "");
  return samples.empty() ||
         (absl::SimpleAtoi(samples, &rows) && rows <= kMaxSyntheticRows);
}

int64_t ApproximateParameters(const PolicyArchitecture& architecture,
                              const Environment& environment) {
  const int64_t width = architecture.hidden_width;
  return (environment.encoding_dim() + 1) * width +
         (architecture.hidden_layers - 1) * (width + 1) * width +
         (width + 1) * (environment.num_forward_actions() +
                        environment.num_backward_actions() + 1);
}

// Builds a policy of `architecture` when it is small and runs it on s0.
void BuildSmallPolicy(const PolicyArchitecture& architecture,
                      const Environment& environment) {
  if (ApproximateParameters(architecture, environment) > kMaxBuiltParameters) {
    return;
  }
  absl::StatusOr<PolicyNet> policy =
      MakePolicy(environment, architecture, /*seed=*/1, torch::kCPU);
  FUZZ_CHECK_OK(policy.status());
  torch::NoGradGuard no_grad;
  const torch::Tensor states = environment.InitialStates(2, torch::kCPU);
  const PolicyNetImpl::Output output =
      (*policy)->forward(environment.Encode(states));
  FUZZ_CHECK(output.forward_logits.size(0) == 2);
  FUZZ_CHECK(output.forward_logits.size(1) ==
             environment.num_forward_actions());
}

void FuzzFederationConfig(absl::string_view text) {
  absl::StatusOr<std::shared_ptr<const FederationConfig>> loaded =
      ParseFederationConfig(text, "fuzz input");
  if (getenv("EPGFN_FUZZ_VERBOSE") != nullptr) {
    fprintf(stderr, "config: %s\n", loaded.status().ToString().c_str());
  }
  if (!loaded.ok()) {
    FUZZ_CHECK(loaded.status().code() == absl::StatusCode::kInvalidArgument);
    return;
  }
  const FederationConfig& config = **loaded;
  FUZZ_CHECK(config.environment != nullptr);
  FUZZ_CHECK(config.quorum >= 1 && config.quorum <= config.num_clients());
  FUZZ_CHECK(config.spec_digest == FederationSpecDigest(config.spec));
  FUZZ_CHECK(config.spec_digest.size() == 64);

  // Clients receive the spec as binary protobuf (GetSpec) and operators keep
  // it as text: both forms must come back as the same federation.
  v1::FederationSpec from_binary;
  FUZZ_CHECK(from_binary.ParseFromString(config.spec.SerializeAsString()));
  FUZZ_CHECK(FederationSpecDigest(from_binary) == config.spec_digest);
  std::string printed;
  FUZZ_CHECK(
      google::protobuf::TextFormat::PrintToString(config.spec, &printed));
  absl::StatusOr<std::shared_ptr<const FederationConfig>> reparsed =
      ParseFederationConfig(printed, "printed spec");
  FUZZ_CHECK_OK(reparsed.status());
  FUZZ_CHECK((*reparsed)->spec_digest == config.spec_digest);

  BuildSmallPolicy(config.local_architecture, *config.environment);
  BuildSmallPolicy(config.global_architecture, *config.environment);
}

void FuzzEnvironmentStrings(absl::string_view text) {
  const size_t newline = text.find('\n');
  const absl::string_view environment_text = text.substr(0, newline);
  absl::StatusOr<EnvironmentConfig> parsed =
      EnvironmentConfig::Parse(environment_text);
  if (!parsed.ok()) return;
  // ToString is documented as the inverse of Parse.
  absl::StatusOr<EnvironmentConfig> again =
      EnvironmentConfig::Parse(parsed->ToString());
  FUZZ_CHECK_OK(again.status());
  FUZZ_CHECK_MSG(*again == *parsed, parsed->ToString());
  if (!ReadsOnlyTestData(parsed->params)) return;

  absl::StatusOr<std::unique_ptr<Environment>> environment =
      MakeEnvironment(*parsed);
  if (!environment.ok()) return;
  // The environment's own config is canonical: it builds the same graph.
  const EnvironmentConfig& canonical = (*environment)->config();
  absl::StatusOr<std::unique_ptr<Environment>> rebuilt =
      MakeEnvironment(canonical);
  FUZZ_CHECK_OK(rebuilt.status());
  FUZZ_CHECK((*rebuilt)->config() == canonical);
  FUZZ_CHECK((*rebuilt)->encoding_dim() == (*environment)->encoding_dim());
  FUZZ_CHECK((*environment)->encoding_dim() > 0);
  FUZZ_CHECK((*environment)->num_forward_actions() > 0);

  if (newline == absl::string_view::npos) return;
  absl::string_view reward_text = text.substr(newline + 1);
  reward_text = reward_text.substr(0, reward_text.find('\n'));
  absl::StatusOr<RewardConfig> reward = RewardConfig::Parse(reward_text);
  if (!reward.ok() || !ReadsOnlyTestData(reward->params) ||
      !RewardWithinHarnessLimits(*reward)) {
    return;
  }
  absl::StatusOr<std::unique_ptr<LogReward>> log_reward =
      MakeSplitLogReward(**environment, *reward);
  if (getenv("EPGFN_FUZZ_VERBOSE") != nullptr) {
    fprintf(stderr, "environment %s, reward: %s\n",
            (*environment)->config().ToString().c_str(),
            log_reward.status().ToString().c_str());
  }
}

}  // namespace
}  // namespace epgfn

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool initialised = [] {
    torch::set_num_threads(1);
    return true;
  }();
  (void)initialised;
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  epgfn::FuzzFederationConfig(text);
  epgfn::FuzzEnvironmentStrings(text);
  return 0;
}
