#ifndef EPGFN_TESTS_BENCH_BENCH_MAIN_H_
#define EPGFN_TESTS_BENCH_BENCH_MAIN_H_

#include "absl/status/status.h"

namespace epgfn {

// A tool's exit code for the status its run ended with: 0 when it is OK,
// else 1 after "<program>: <status>" on stderr. Keeps each main() to parsing
// its flags and calling its Run().
int ExitCode(const char* program, const absl::Status& status);

}  // namespace epgfn

#endif  // EPGFN_TESTS_BENCH_BENCH_MAIN_H_
