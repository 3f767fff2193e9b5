#ifndef EPGFN_TESTS_BENCH_STREAMING_FLAGS_H_
#define EPGFN_TESTS_BENCH_STREAMING_FLAGS_H_

// streaming_benchmark's flags (defined, with their help, in
// streaming_flags.cc).

#include <cstdint>
#include <string>

#include "absl/flags/declare.h"
#include "common/train/learning_rate_schedule.h"

ABSL_DECLARE_FLAG(std::string, cases);
ABSL_DECLARE_FLAG(std::string, taxa);
ABSL_DECLARE_FLAG(std::string, large_taxa);
ABSL_DECLARE_FLAG(std::string, alignment);
ABSL_DECLARE_FLAG(double, temperature);
ABSL_DECLARE_FLAG(int, updates);
ABSL_DECLARE_FLAG(int64_t, first_iterations);
ABSL_DECLARE_FLAG(int64_t, first_curve_every);
ABSL_DECLARE_FLAG(int64_t, update_iterations);
ABSL_DECLARE_FLAG(int64_t, batch_size);
ABSL_DECLARE_FLAG(double, learning_rate);
ABSL_DECLARE_FLAG(double, epsilon);
ABSL_DECLARE_FLAG(int64_t, hidden_width);
ABSL_DECLARE_FLAG(int64_t, retrain_chunk);
ABSL_DECLARE_FLAG(int64_t, retrain_max_iterations);
ABSL_DECLARE_FLAG(double, tolerance);
ABSL_DECLARE_FLAG(int64_t, diagnostics_trajectories);
ABSL_DECLARE_FLAG(int64_t, fcs_samples);
ABSL_DECLARE_FLAG(int64_t, fcs_subsets);
ABSL_DECLARE_FLAG(int, final_fcs_repeats);
ABSL_DECLARE_FLAG(int64_t, final_fcs_subsets);
ABSL_DECLARE_FLAG(int, fcs_noise_repeats);
ABSL_DECLARE_FLAG(epgfn::LearningRateSchedule, first_lr_schedule);
ABSL_DECLARE_FLAG(double, first_lr_floor);
ABSL_DECLARE_FLAG(std::string, update_lr_schedule);
ABSL_DECLARE_FLAG(double, update_lr_floor);
ABSL_DECLARE_FLAG(double, update_replay_fraction);
ABSL_DECLARE_FLAG(std::string, update_variants);
ABSL_DECLARE_FLAG(bool, retrain);
ABSL_DECLARE_FLAG(uint64_t, seed);
ABSL_DECLARE_FLAG(int, threads);

#endif  // EPGFN_TESTS_BENCH_STREAMING_FLAGS_H_
