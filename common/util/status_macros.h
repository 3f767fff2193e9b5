#ifndef EPGFN_COMMON_UTIL_STATUS_MACROS_H_
#define EPGFN_COMMON_UTIL_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Abseil 20220623 ships no status macros; these are the usual two.
#define EPGFN_CONCAT_INNER_(a, b) a##b
#define EPGFN_CONCAT_(a, b) EPGFN_CONCAT_INNER_(a, b)

#define RETURN_IF_ERROR(expr)                    \
  do {                                           \
    const ::absl::Status epgfn_status_ = (expr); \
    if (!epgfn_status_.ok()) return epgfn_status_; \
  } while (0)

#define ASSIGN_OR_RETURN(lhs, rexpr)                                   \
  ASSIGN_OR_RETURN_IMPL_(EPGFN_CONCAT_(epgfn_statusor_, __LINE__), lhs, \
                         rexpr)

#define ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                           \
  if (!statusor.ok()) return statusor.status();      \
  lhs = std::move(statusor).value()

#endif  // EPGFN_COMMON_UTIL_STATUS_MACROS_H_
