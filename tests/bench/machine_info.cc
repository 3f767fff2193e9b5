#include "tests/bench/machine_info.h"

#include <sched.h>  // sched_getaffinity
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <fstream>
#include <string>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace epgfn {

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

int UsableCpus() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) != 0) {
    return static_cast<int>(std::thread::hardware_concurrency());
  }
  return CPU_COUNT(&set);
}

std::string CpuModel() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (absl::StartsWith(line, "model name")) {
      const size_t colon = line.find(':');
      if (colon != std::string::npos) {
        return std::string(absl::StripAsciiWhitespace(line.substr(colon + 1)));
      }
    }
  }
  return "unknown";
}

std::string LoadAverage() {
  std::ifstream loadavg("/proc/loadavg");
  std::string line;
  if (!std::getline(loadavg, line)) return "unknown";
  std::vector<std::string> fields =
      absl::StrSplit(line, ' ', absl::SkipEmpty());
  if (fields.size() < 3) return "unknown";
  fields.resize(3);
  return absl::StrJoin(fields, " ");
}

std::string UtcNow() {
  char date[64];
  const std::time_t now = std::time(nullptr);
  std::strftime(date, sizeof(date), "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
  return date;
}

}  // namespace epgfn
