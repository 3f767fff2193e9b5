#ifndef EPGFN_COMMON_UTIL_EVENT_LOG_H_
#define EPGFN_COMMON_UTIL_EVENT_LOG_H_

#include <ostream>
#include <string>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace epgfn {

// One log line per event as logfmt key=value pairs, event name first:
//
//   LOG(INFO) << Event("upload_accepted").With("federation", name)
//                    .With("client", id).With("round", 3);
//   -> event=upload_accepted federation=demo client=client-0 round=3
//
// glog adds the timestamp and severity in front. A value is quoted (with \"
// \\ \n \r \t escaped) when it is empty or holds a space, '=', '"', a
// backslash or a control character, so every line splits unambiguously on
// unquoted spaces.
class Event {
 public:
  explicit Event(absl::string_view name);

  // Strings, integers, floating point (6 significant digits) and bools.
  template <typename T>
  Event& With(absl::string_view key, const T& value) {
    // A string literal would otherwise convert to bool.
    if constexpr (std::is_same_v<T, bool>) {
      return Add(key, value ? "true" : "false");
    } else {
      return Add(key, absl::AlphaNum(value).Piece());
    }
  }
  // code=<CANONICAL_CODE> error="<message>"; code=OK alone when ok.
  Event& WithStatus(const absl::Status& status);

  const std::string& text() const { return text_; }

 private:
  Event& Add(absl::string_view key, absl::string_view value);

  std::string text_;
};

std::ostream& operator<<(std::ostream& out, const Event& event);

// `value` as it appears after "key=" (quoted and escaped when needed).
std::string EventValue(absl::string_view value);

}  // namespace epgfn

#endif  // EPGFN_COMMON_UTIL_EVENT_LOG_H_
