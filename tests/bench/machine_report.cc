#include "tests/bench/machine_report.h"

#include <ATen/Parallel.h>
#include <sched.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <thread>

#include "absl/strings/str_format.h"

namespace epgfn {

std::string EnvOrUnset(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? "unset" : value;
}

int UsableCpus() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) != 0) {
    return static_cast<int>(std::thread::hardware_concurrency());
  }
  return CPU_COUNT(&set);
}

double MeasureSgemmGflops(int threads) {
  using Clock = std::chrono::steady_clock;
  const int previous = at::get_num_threads();
  at::set_num_threads(threads);
  constexpr int64_t kN = 1024;
  torch::manual_seed(0);
  torch::Tensor a = torch::randn({kN, kN});
  torch::Tensor b = torch::randn({kN, kN});
  torch::Tensor c = torch::empty({kN, kN});
  for (int i = 0; i < 3; ++i) torch::mm_out(c, a, b);
  double best = 1e30;
  for (int rep = 0; rep < 10; ++rep) {
    const auto start = Clock::now();
    torch::mm_out(c, a, b);
    best = std::min(
        best, std::chrono::duration<double>(Clock::now() - start).count());
  }
  at::set_num_threads(previous);
  return 2.0 * kN * kN * kN / best / 1e9;
}

std::string LoadAverage() {
  std::ifstream file("/proc/loadavg");
  double one = 0, five = 0, fifteen = 0;
  if (!(file >> one >> five >> fifteen)) return "unknown";
  return absl::StrFormat("%.2f %.2f %.2f", one, five, fifteen);
}

std::string MachineReportLine() {
  char date[64];
  const std::time_t now = std::time(nullptr);
  std::strftime(date, sizeof(date), "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
  return absl::StrFormat(
      "Machine: %s; one-thread sgemm %.1f GFLOP/s; load average %s; %d usable "
      "CPUs; OPENBLAS_CORETYPE=%s",
      date, MeasureSgemmGflops(1), LoadAverage(), UsableCpus(),
      EnvOrUnset("OPENBLAS_CORETYPE"));
}

}  // namespace epgfn
