#ifndef EPGFN_TESTS_BENCH_MACHINE_INFO_H_
#define EPGFN_TESTS_BENCH_MACHINE_INFO_H_

#include <string>

namespace epgfn {

// What the benchmarks print with their tables (BENCHMARKS.md asks for the
// machine's sgemm figure and load with every measured number).

// sgemm figure at `threads` intra-op threads: torch::mm on 1024x1024
// float32 into a preallocated output (no allocation or page faults timed),
// best of 10 timed repetitions after a warm-up. GFLOP/s.
double MeasureSgemmGflops(int threads);

// What `nproc` prints: the CPUs this process may run on.
int UsableCpus();

// /proc/cpuinfo's first "model name", or "unknown".
std::string CpuModel();

// The first three fields of /proc/loadavg ("2.01 1.50 0.90"), or "unknown".
std::string LoadAverage();

// The current UTC time as "YYYY-MM-DD HH:MM UTC".
std::string UtcNow();

}  // namespace epgfn

#endif  // EPGFN_TESTS_BENCH_MACHINE_INFO_H_
