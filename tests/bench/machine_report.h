#ifndef EPGFN_TESTS_BENCH_MACHINE_REPORT_H_
#define EPGFN_TESTS_BENCH_MACHINE_REPORT_H_

#include <string>

namespace epgfn {

// sgemm figure at `threads` intra-op threads, in GFLOP/s: torch::mm on
// 1024x1024 float32 into a preallocated output (no allocation or page faults
// timed), best of 10 timed repetitions after a warm-up.
double MeasureSgemmGflops(int threads);

// The 1-, 5- and 15-minute load averages, as /proc/loadavg gives them.
std::string LoadAverage();

// The environment variable `name`, or "unset".
std::string EnvOrUnset(const char* name);

// What `nproc` prints: the CPUs this process may run on.
int UsableCpus();

// One line for BENCHMARKS.md: UTC date, one-thread sgemm, load, usable CPUs
// and the OpenBLAS variables that change the kernels it runs.
std::string MachineReportLine();

}  // namespace epgfn

#endif  // EPGFN_TESTS_BENCH_MACHINE_REPORT_H_
