#ifndef EPGFN_COMMON_UTIL_DEVICE_H_
#define EPGFN_COMMON_UTIL_DEVICE_H_

#include <string>

#include <c10/core/Device.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace epgfn {

// Parses a --device flag: "cpu", "cuda" or "cuda:N". CUDA is accepted only
// when the LibTorch this binary is linked against has it and sees a GPU
// (Debian's LibTorch is CPU-only), so the error says so up front instead of
// failing at the first tensor.
absl::StatusOr<c10::Device> ParseDevice(absl::string_view name);

// Sets LibTorch's intra-op thread count (it defaults to 1 on these machines);
// InvalidArgument unless 1 <= threads <= 1024.
absl::Status SetIntraOpThreads(int threads);

}  // namespace epgfn

#endif  // EPGFN_COMMON_UTIL_DEVICE_H_
