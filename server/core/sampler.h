#ifndef EPGFN_SERVER_CORE_SAMPLER_H_
#define EPGFN_SERVER_CORE_SAMPLER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "server/core/federation_config.h"
#include "server/core/model_store.h"
#include "server/core/sample_limits.h"

namespace epgfn {

struct SamplerOptions {
  // Objects per rollout (and per streamed batch).
  int64_t batch_size = 1024;
  // limits.max_objects_per_request is the server's --max_samples_per_request.
  SampleWorkLimits limits;

  // InvalidArgument naming the field when a size or limit is < 1.
  absl::Status Validate() const;
};

struct SampleQuery {
  int64_t num_samples = 0;
  // The named aggregate to draw from; empty (or "default"): the default one.
  std::string aggregate;
  // 0: the latest.
  int64_t model_version = 0;
  std::optional<uint64_t> seed;
  // Backward trajectories per object for the log p_T estimate; 0: none.
  int32_t log_probability_samples = 0;
  // The caller's cancellation and deadline, checked before every rollout
  // and every estimation pass.
  RequestControl control;
};

struct SampledObject {
  std::vector<int64_t> state;
  std::string description;
  // NaN when not requested.
  double log_probability = 0.0;
};

// The published version `model_version` (0: the latest); NotFound, with the
// message Sample and Summarize share, when there is none. `aggregate` names
// the store's named aggregate in the message (empty: the default one).
absl::StatusOr<GlobalVersionPtr> FindPublishedVersion(
    const ModelStore& models, int64_t model_version,
    const std::string& aggregate = "");

// The model store of an aggregate by name (empty or "default": the default
// aggregate's); NotFound, naming the known aggregates, for any other name.
using ModelStoreLookup = std::function<absl::StatusOr<const ModelStore*>(
    const std::string& aggregate)>;

// A lookup that knows only the default aggregate's `models`.
ModelStoreLookup DefaultAggregateOnly(const ModelStore* models);

// True for the names that select the default aggregate ("" and "default").
bool IsDefaultAggregateName(const std::string& aggregate);

// Receives one batch; returning false stops sampling (the caller went away).
using SampleBatchCallback =
    std::function<bool(int64_t version, std::vector<SampledObject> batch)>;

// Draws objects from a published global model. Requests run concurrently
// with each other and with aggregation: each uses an immutable version and
// its own seeded RandomSource.
class Sampler {
 public:
  Sampler(std::shared_ptr<const FederationConfig> config,
          const ModelStore* models, SamplerOptions options);
  // Serves every aggregate `lookup` resolves (SampleQuery::aggregate).
  Sampler(std::shared_ptr<const FederationConfig> config,
          ModelStoreLookup lookup, SamplerOptions options);

  // The store of the aggregate named `aggregate` (see ModelStoreLookup).
  absl::StatusOr<const ModelStore*> FindStore(
      const std::string& aggregate) const {
    return lookup_(aggregate);
  }

  // InvalidArgument for a bad query (num_samples outside [1, cap], work
  // above the limit, ...; CheckSampleWork), ResourceExhausted when too many
  // heavy requests run already, NotFound when the aggregate or the version
  // does not exist (or none is published yet), Cancelled when `on_batch`
  // returned false or the caller cancelled, DeadlineExceeded past the caller's
  // deadline.
  absl::Status Sample(const SampleQuery& query,
                      const SampleBatchCallback& on_batch);

  // The per-request limits, which Summarize shares.
  const SamplerOptions& options() const { return options_; }

 private:
  const std::shared_ptr<const FederationConfig> config_;
  const ModelStoreLookup lookup_;
  const SamplerOptions options_;
  HeavyRequestGate heavy_gate_;
  std::atomic<uint64_t> next_seed_;
};

}  // namespace epgfn

#endif  // EPGFN_SERVER_CORE_SAMPLER_H_
