#include "client/core/progress_fcs.h"

#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <cmath>
#include <optional>
#include <vector>

#include "client/core/local_training.h"
#include "client/core/test_spec.h"
#include "common/spec/spec_conversion.h"

namespace epgfn {
namespace {

v1::FederationSpec SmallSpec() {
  return SmallHypergridSpec("progress fcs", /*iterations=*/20, /*seed=*/5);
}

LocalTrainingOptions Options(int64_t progress_fcs_samples) {
  LocalTrainingOptions options;
  options.reward = "client:index=1,count=2";
  options.diagnostics_trajectories = 64;
  options.progress_every = 5;
  options.progress_fcs_samples = progress_fcs_samples;
  options.progress_fcs_every = 10;
  return options;
}

struct TrainedRun {
  LocalTrainingResult result;
  std::vector<LocalTrainingProgress> reports;
};

TrainedRun Train(const LocalTrainingOptions& options) {
  const v1::FederationSpec spec = SmallSpec();
  TrainedRun run;
  absl::StatusOr<LocalTrainingResult> result =
      TrainOrReuseLocalModel(spec, FederationSpecDigest(spec), options,
                             [&](const LocalTrainingProgress& report) {
                               run.reports.push_back(report);
                             });
  EXPECT_TRUE(result.ok()) << result.status();
  if (result.ok()) run.result = *std::move(result);
  return run;
}

TEST(ProgressFcsTest, ReportsTheFcsWithoutChangingTraining) {
  const TrainedRun off = Train(Options(0));
  const TrainedRun on = Train(Options(64));

  using google::protobuf::util::MessageDifferencer;
  EXPECT_TRUE(MessageDifferencer::Equals(on.result.weights, off.result.weights))
      << "measuring the FCS at progress changed the trained weights";
  EXPECT_TRUE(MessageDifferencer::Equals(on.result.diagnostics,
                                         off.result.diagnostics));

  ASSERT_EQ(off.reports.size(), 4u);  // iterations 5, 10, 15, 20
  ASSERT_EQ(on.reports.size(), off.reports.size());
  for (size_t i = 0; i < on.reports.size(); ++i) {
    const TrainingProgress& training = on.reports[i].training;
    EXPECT_EQ(training.iteration, off.reports[i].training.iteration);
    EXPECT_EQ(training.loss, off.reports[i].training.loss);
    EXPECT_FALSE(off.reports[i].fcs.has_value());
    // Every 10 iterations: at 10 and at 20 (the last).
    if (training.iteration % 10 != 0) {
      EXPECT_FALSE(on.reports[i].fcs.has_value()) << training.iteration;
      continue;
    }
    ASSERT_TRUE(on.reports[i].fcs.has_value()) << training.iteration;
    const double fcs = *on.reports[i].fcs;
    EXPECT_TRUE(std::isfinite(fcs));
    EXPECT_GT(fcs, 0.0);  // a 20-iteration model is not exact
    EXPECT_LT(fcs, 1.0);
  }
  // The same random numbers at every report: a different value is a
  // different model.
  EXPECT_NE(*on.reports[1].fcs, *on.reports[3].fcs);
}

TEST(ProgressFcsTest, RestoresTheTrainingModeBeforeForwarding) {
  const v1::FederationSpec spec = SmallSpec();
  absl::StatusOr<LocalSetup> setup = PrepareLocalTraining(spec, Options(64));
  ASSERT_TRUE(setup.ok()) << setup.status();
  absl::StatusOr<PolicyNet> policy =
      MakePolicy(*setup->environment, setup->architecture, 1, torch::kCPU);
  ASSERT_TRUE(policy.ok()) << policy.status();
  ProgressFcsOptions options;
  options.num_samples = 64;
  options.seed = 9;

  std::optional<double> fcs;
  bool training_mode = false;
  ProgressCallback callback =
      WithProgressFcs(*policy, *setup->environment, *setup->reward, options,
                      [&](const LocalTrainingProgress& report) {
                        fcs = report.fcs;
                        training_mode = (*policy)->is_training();
                      });
  TrainingProgress progress;
  progress.iteration = 3;
  progress.total_iterations = 10;
  (*policy)->train();
  callback(progress);
  ASSERT_TRUE(fcs.has_value());
  EXPECT_TRUE(training_mode);

  (*policy)->eval();  // a caller in eval mode stays there
  callback(progress);
  EXPECT_FALSE(training_mode);
  EXPECT_FALSE((*policy)->is_training());

  EXPECT_EQ(WithProgressFcs(*policy, *setup->environment, *setup->reward,
                            options, nullptr),
            nullptr);
}

}  // namespace
}  // namespace epgfn
