#ifndef EPGFN_SERVER_CORE_SUMMARIZER_H_
#define EPGFN_SERVER_CORE_SUMMARIZER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/eval/feature_summary.h"
#include "server/core/federation_config.h"
#include "server/core/model_store.h"
#include "server/core/sampler.h"

namespace epgfn {

// Limits of a summary request beyond Sample's (whose per-request cap on
// objects and on backward trajectories Summarize shares, see SamplerOptions).
inline constexpr int32_t kDefaultSummaryTopObjects = 10;
inline constexpr int32_t kMaxSummaryTopObjects = 1000;
inline constexpr int32_t kDefaultSummaryLogProbabilitySamples = 16;

struct SummaryQuery {
  // K objects to draw from the model; 0 when `objects` are given.
  int64_t num_samples = 0;
  // The named aggregate (empty or "default": the default one), resolved by
  // the Sampler.
  std::string aggregate;
  // 0: the latest.
  int64_t model_version = 0;
  std::optional<uint64_t> seed;
  // Backward trajectories per top object for its p_T estimate; 0: the
  // default.
  int32_t log_probability_samples = 0;
  // 0: the default.
  int32_t top_objects = 0;
  // Objects (raw states) to summarize instead of drawing.
  std::vector<std::vector<int64_t>> objects;
  // See FeatureLabels.
  std::vector<std::string> variable_names;
};

struct TopObjectSummary {
  std::vector<int64_t> state;
  std::string description;
  int64_t count = 0;
  double frequency = 0.0;
  double frequency_standard_error = 0.0;
  // Importance-sampled log p_T(x) under the model, and p_T(x).
  double log_probability = 0.0;
  double probability = 0.0;
};

struct PosteriorSummary {
  int64_t model_version = 0;
  int64_t num_objects = 0;
  int64_t num_distinct = 0;
  // Most frequent first; ties by increasing state.
  std::vector<TopObjectSummary> top_objects;
  FeatureSummary features;
  int32_t log_probability_samples = 0;
};

// The server-side workflow of a summary request: draws K objects through the
// Sampler (so a summary has exactly Sample's caps, cancellation and seeding)
// or takes the request's objects after checking them, counts the distinct
// objects, estimates p_T of the most frequent ones by importance sampling
// under the same model version, and computes the environment's feature
// marginals (common/eval/feature_summary.h). No gRPC here.
class Summarizer {
 public:
  // Both must outlive the summarizer. `models` is the default aggregate's
  // store; the sampler resolves named aggregates.
  Summarizer(std::shared_ptr<const FederationConfig> config,
             const ModelStore* models, Sampler* sampler);

  // InvalidArgument for a bad query (K outside [1, cap], both K and objects,
  // objects that are not of the environment, too many top objects, ...),
  // NotFound when the version does not exist, Cancelled when `keep_going`
  // returned false (it is polled between batches and steps).
  absl::StatusOr<PosteriorSummary> Summarize(
      const SummaryQuery& query, const std::function<bool()>& keep_going);

 private:
  absl::StatusOr<PosteriorSummary> SummarizeOrThrow(
      const SummaryQuery& query, const std::function<bool()>& keep_going);

  const std::shared_ptr<const FederationConfig> config_;
  const ModelStore* const models_;
  Sampler* const sampler_;
};

}  // namespace epgfn

#endif  // EPGFN_SERVER_CORE_SUMMARIZER_H_
