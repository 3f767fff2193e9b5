// Quality of a phylogenetics model where nothing can be enumerated (DS1:
// 27 taxa): draws --num_samples trees from a model file and prints the best
// and mean full-data log-likelihood among them (--likelihood, the data term
// without prior or temperature), the number of distinct trees, and the
// sampled FCS (common/eval/flow_consistency.h) against --reward (the reward
// the model was trained for: a client's own for a local model, the
// full-data one for the global model).
//
//   phylo_model_quality --config=spec.textproto --model=global_v1.model
//     --reward=jc69:alignment=full.fasta,temperature=100 --num_clients=1
//     --likelihood=jc69:alignment=full.fasta --label=global
//
// With --curve_tsv=PATH it instead trains a model in process on --reward
// (the federation's processes keep no intermediate models) and writes, every
// --curve_every iterations, the best and mean log-likelihood of
// --curve_samples on-policy trees.
#include <ATen/Parallel.h>
#include <google/protobuf/text_format.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "common/env/environment_registry.h"
#include "common/env/phylo/phylo.h"
#include "common/eval/flow_consistency.h"
#include "common/model/model_codec.h"
#include "common/sampling/trajectories.h"
#include "common/spec/spec_conversion.h"
#include "common/train/trainer.h"
#include "common/util/file_io.h"
#include "common/util/status_macros.h"
#include "proto/federation_spec.pb.h"
#include "tests/bench/bench_main.h"
#include "tests/bench/machine_report.h"
#include "tests/bench/stopwatch.h"

ABSL_FLAG(std::string, config, "", "FederationSpec textproto.");
ABSL_FLAG(std::string, model, "", "Model file to assess.");
ABSL_FLAG(std::string, label, "model", "Name printed in the RESULT line.");
ABSL_FLAG(std::string, reward, "", "Reward the model targets (for FCS).");
ABSL_FLAG(int32_t, num_clients, 1, "RewardContext of --reward.");
ABSL_FLAG(std::string, likelihood, "",
          "Full-data phylo reward whose log_likelihood scores the samples.");
ABSL_FLAG(int64_t, num_samples, 10000, "Trees drawn for the best log L.");
ABSL_FLAG(int64_t, fcs_samples, 1024, "Trajectories of the FCS pool.");
ABSL_FLAG(uint64_t, seed, 1, "Sampling seed.");
ABSL_FLAG(std::string, curve_tsv, "", "Train in process and write a curve.");
ABSL_FLAG(int64_t, curve_iterations, 1000, "Training iterations (curve).");
ABSL_FLAG(int64_t, curve_every, 100, "Curve point every this many.");
ABSL_FLAG(int64_t, curve_samples, 1000, "Trees per curve point.");
ABSL_FLAG(int64_t, hidden_width, 128, "Hidden width (curve).");
ABSL_FLAG(int64_t, batch_size, 64, "Batch size (curve).");
ABSL_FLAG(int32_t, threads, 1, "Intra-op threads.");

namespace epgfn {
namespace {

struct SampleScore {
  double best = -1e300;
  double mean = 0.0;
  int64_t distinct = 0;
  std::string best_tree;
};

SampleScore ScoreSamples(PolicyNet& policy, const Environment& environment,
                         const LogReward& likelihood, int64_t count,
                         RandomSource& random) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> states;
  std::vector<torch::Tensor> values;
  for (int64_t done = 0; done < count; done += 1000) {
    Trajectories t = SampleTrajectories(
        policy, environment, std::min<int64_t>(1000, count - done), {}, random);
    states.push_back(t.terminal_states);
    values.push_back(likelihood.LogRewardFloat64(t.terminal_states));
  }
  torch::Tensor all_states = torch::cat(states);
  torch::Tensor all = torch::cat(values);
  SampleScore score;
  const int64_t best = all.argmax().item<int64_t>();
  score.best = all[best].item<double>();
  score.mean = all.mean().item<double>();
  score.distinct = std::get<0>(at::unique_dim(all_states, 0)).size(0);
  score.best_tree = environment.Describe(all_states[best]);
  return score;
}

// What both modes score with: the spec's environment, the full-data
// likelihood (--likelihood) and the model's own reward (--reward).
struct Inputs {
  std::unique_ptr<Environment> environment;
  RewardParts full;
  std::unique_ptr<LogReward> reward;
};

absl::StatusOr<Inputs> LoadInputs() {
  ASSIGN_OR_RETURN(const std::string text,
                   ReadFileToString(absl::GetFlag(FLAGS_config), 1 << 20));
  v1::FederationSpec spec;
  if (!google::protobuf::TextFormat::ParseFromString(text, &spec)) {
    return absl::InvalidArgumentError("--config is not a FederationSpec");
  }
  Inputs inputs;
  ASSIGN_OR_RETURN(
      inputs.environment,
      MakeEnvironment(EnvironmentConfigFromProto(spec.environment())));
  const auto* phylo =
      dynamic_cast<const PhyloEnvironment*>(inputs.environment.get());
  if (phylo == nullptr) return absl::InvalidArgumentError("not phylo");
  ASSIGN_OR_RETURN(
      inputs.full,
      MakePhyloReward(*phylo,
                      *RewardConfig::Parse(absl::GetFlag(FLAGS_likelihood))));
  ASSIGN_OR_RETURN(
      inputs.reward,
      MakeLogReward(*inputs.environment,
                    *RewardConfig::Parse(absl::GetFlag(FLAGS_reward)),
                    RewardContext{absl::GetFlag(FLAGS_num_clients)}));
  return inputs;
}

// --curve_tsv: trains in process on --reward, scoring --curve_samples
// on-policy trees every --curve_every iterations.
absl::Status WriteCurve(const Inputs& inputs, RandomSource& random) {
  const Environment& environment = *inputs.environment;
  PolicyArchitecture architecture;
  architecture.hidden_width = absl::GetFlag(FLAGS_hidden_width);
  ASSIGN_OR_RETURN(PolicyNet policy,
                   MakePolicy(environment, architecture, 1, torch::kCPU));
  TrainingOptions options;
  options.iterations = absl::GetFlag(FLAGS_curve_iterations);
  options.batch_size = absl::GetFlag(FLAGS_batch_size);
  options.exploration.epsilon = 0.05;
  options.seed = 2;
  RewardTarget target(inputs.reward.get());
  ASSIGN_OR_RETURN(auto trainer,
                   Trainer::Create(&environment, policy, &target, options));
  std::string tsv =
      "iteration\tseconds\tbest_log_likelihood\tmean_log_likelihood\n";
  double train_seconds = 0.0;
  for (int64_t it = 0; it <= options.iterations;
       it += absl::GetFlag(FLAGS_curve_every)) {
    const auto start = Clock::now();
    RETURN_IF_ERROR(trainer->RunUntil(it));
    train_seconds += SecondsSince(start);
    SampleScore score =
        ScoreSamples(policy, environment, *inputs.full.log_likelihood,
                     absl::GetFlag(FLAGS_curve_samples), random);
    absl::StrAppend(&tsv, it, "\t", train_seconds, "\t", score.best, "\t",
                    score.mean, "\n");
    std::printf("curve iteration %lld: best %.2f mean %.2f\n",
                static_cast<long long>(it), score.best, score.mean);
    std::fflush(stdout);
  }
  return WriteFileAtomically(absl::GetFlag(FLAGS_curve_tsv), tsv);
}

// --model: the best and mean log-likelihood of its samples, and its
// sampled FCS against --reward, as a RESULT line.
absl::Status AssessModel(const Inputs& inputs, RandomSource& random) {
  const Environment& environment = *inputs.environment;
  ASSIGN_OR_RETURN(v1::ModelWeights weights,
                   ReadModelFile(absl::GetFlag(FLAGS_model)));
  ASSIGN_OR_RETURN(PolicyNet policy,
                   ImportModel(weights, environment, torch::kCPU));
  SampleScore score =
      ScoreSamples(policy, environment, *inputs.full.log_likelihood,
                   absl::GetFlag(FLAGS_num_samples), random);
  FcsOptions fcs;
  fcs.num_samples = absl::GetFlag(FLAGS_fcs_samples);
  ASSIGN_OR_RETURN(
      const double fcs_value,
      SampledFlowConsistency(policy, environment, *inputs.reward, fcs, random));
  std::printf("# %s\n", MachineReportLine().c_str());
  std::printf("best tree of %s: %s\n", absl::GetFlag(FLAGS_label).c_str(),
              score.best_tree.c_str());
  std::printf(
      "RESULT label=%s samples=%lld distinct=%lld best_log_likelihood=%.3f "
      "mean_log_likelihood=%.3f fcs=%.4f\n",
      absl::GetFlag(FLAGS_label).c_str(),
      static_cast<long long>(absl::GetFlag(FLAGS_num_samples)),
      static_cast<long long>(score.distinct), score.best, score.mean,
      fcs_value);
  return absl::OkStatus();
}

absl::Status Run() {
  at::set_num_threads(absl::GetFlag(FLAGS_threads));
  ASSIGN_OR_RETURN(Inputs inputs, LoadInputs());
  RandomSource random(absl::GetFlag(FLAGS_seed));
  if (!absl::GetFlag(FLAGS_curve_tsv).empty()) {
    return WriteCurve(inputs, random);
  }
  return AssessModel(inputs, random);
}

}  // namespace
}  // namespace epgfn

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return epgfn::ExitCode("phylo_model_quality", epgfn::Run());
}
