#ifndef EPGFN_SERVER_CORE_MODEL_PROBE_H_
#define EPGFN_SERVER_CORE_MODEL_PROBE_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/env/environment.h"
#include "common/policy/policy_net.h"
#include "common/sampling/trajectories.h"

namespace epgfn {

// The largest magnitude (in nats) that the probe accepts for any per-step
// log p_F or log p_B, any trajectory's sum of either, any log state flow and
// log Z. Trained models on the shipped workloads stay within a few thousand
// nats; past ~1e19 the aggregation's squared float32 loss overflows, and long
// before that its gradients are meaningless.
inline constexpr double kMaxProbeLogMagnitude = 1e6;

// Complete trajectories from s0 that draw every action (exit included)
// uniformly among the allowed ones, independent of any model, so that a
// broken model cannot steer the probe.
Trajectories UniformProbeTrajectories(const Environment& environment,
                                      int64_t num_walks, uint64_t seed,
                                      torch::Device device);

// The policy evaluated on a probe: its outputs on each distinct probe state,
// and what ComputeTrajectoryLogProbs computes on the probe, read off those
// outputs. The uniform walks revisit a few states over and over (an 8x8
// hypergrid has 64, a 64-walk probe ~900 steps), so one forward pass per
// distinct state costs a fraction of the pass over every step.
struct ProbeEvaluation {
  int64_t num_states = 0;         // rows of probe.states, repeats included
  torch::Tensor distinct_states;  // [num_distinct, raw_state_dim]
  PolicyNetImpl::Output outputs;  // one row per distinct state
  // Undefined when the probe holds no trajectory.
  TrajectoryLogProbs log_probs;
};

// Without gradients. A probe of no steps is evaluated at s0 only.
ProbeEvaluation EvaluateProbe(PolicyNet& policy, const Environment& environment,
                              const Trajectories& probe);

// ImportModel proves that every weight is finite, but finite weights can
// still overflow (huge magnitudes): either in the raw outputs, or only in
// the masked log-softmax that aggregation computes (a head bias of
// [3e38, -3e38, 3e38] has finite logits and an infinite log-probability).
// This checks what aggregation will compute: on `num_walks` uniform probe
// trajectories (UniformProbeTrajectories), the raw outputs and each step's
// log p_F and log p_B must be finite, and those, their per-trajectory sums,
// the log flows and log Z bounded by kMaxProbeLogMagnitude. InvalidArgument
// otherwise, saying which quantity failed.
absl::Status CheckOutputsFinite(PolicyNet& policy,
                                const Environment& environment, uint64_t seed,
                                int64_t num_walks = 64);

// The probe seed of an upload: the first 8 bytes of
// SHA-256(secret || payload_sha256), so that a client can predict the probe
// neither across servers nor across payloads, while one payload is always
// probed the same way on one server.
uint64_t ProbeSeed(absl::string_view secret, absl::string_view payload_sha256);

}  // namespace epgfn

#endif  // EPGFN_SERVER_CORE_MODEL_PROBE_H_
