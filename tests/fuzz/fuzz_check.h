#ifndef EPGFN_TESTS_FUZZ_FUZZ_CHECK_H_
#define EPGFN_TESTS_FUZZ_FUZZ_CHECK_H_

// Invariant checks for fuzz targets: a failed check prints where and why and
// aborts, which libFuzzer reports as a crash and saves the input for.

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/status/status.h"

#define FUZZ_CHECK_MSG(condition, message)                                   \
  do {                                                                       \
    if (!(condition)) {                                                      \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n  %s\n", __FILE__, \
                   __LINE__, #condition, std::string(message).c_str());      \
      std::abort();                                                          \
    }                                                                        \
  } while (false)

#define FUZZ_CHECK(condition) FUZZ_CHECK_MSG(condition, "")

#define FUZZ_CHECK_OK(status_expression)                                  \
  do {                                                                    \
    const absl::Status fuzz_check_status = (status_expression);           \
    FUZZ_CHECK_MSG(fuzz_check_status.ok(), fuzz_check_status.ToString()); \
  } while (false)

#endif  // EPGFN_TESTS_FUZZ_FUZZ_CHECK_H_
