#include "common/util/device.h"

#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/types.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace epgfn {

absl::StatusOr<c10::Device> ParseDevice(absl::string_view name) {
  if (name == "cpu") return c10::Device(c10::kCPU);
  if (name == "cuda" || absl::StartsWith(name, "cuda:")) {
    int index = 0;
    if (name.size() > 4 &&
        (!absl::SimpleAtoi(name.substr(5), &index) || index < 0)) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad device '", name, "'; expected cuda:N"));
    }
    if (!torch::cuda::is_available()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "device '", name,
          "' requested, but this LibTorch has no CUDA or sees no GPU; use "
          "--device=cpu or link a CUDA build of LibTorch"));
    }
    if (index >= static_cast<int>(torch::cuda::device_count())) {
      return absl::InvalidArgumentError(
          absl::StrCat("device '", name, "' requested, but only ",
                       torch::cuda::device_count(), " GPU(s) are visible"));
    }
    return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown device '", name, "'; expected cpu, cuda or cuda:N"));
}

absl::Status SetIntraOpThreads(int threads) {
  if (threads < 1 || threads > 1024) {
    return absl::InvalidArgumentError(
        absl::StrCat("threads must lie in [1, 1024], got ", threads));
  }
  at::set_num_threads(threads);
  return absl::OkStatus();
}

}  // namespace epgfn
