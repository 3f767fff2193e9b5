#ifndef EPGFN_TESTS_BENCH_SITES_ACCURACY_FLAGS_H_
#define EPGFN_TESTS_BENCH_SITES_ACCURACY_FLAGS_H_

// sites_scaling's time-to-accuracy flags (defined, with their help, in
// sites_accuracy_flags.cc).

#include <cstdint>

#include "absl/status/statusor.h"
#include "tests/bench/sites_accuracy.h"

namespace epgfn {

// --target_tv > 0: the time-to-accuracy mode is on.
bool AccuracyModeRequested();

// The options of --target_tv and the flags beside it; InvalidArgument for
// values out of range. `batch_size` and `seed` come from the caller.
absl::StatusOr<AccuracyOptions> AccuracyOptionsFromFlags(int64_t batch_size,
                                                         uint64_t seed);

}  // namespace epgfn

#endif  // EPGFN_TESTS_BENCH_SITES_ACCURACY_FLAGS_H_
