#include "common/util/event_log.h"

namespace epgfn {
namespace {

bool NeedsQuotes(absl::string_view value) {
  if (value.empty()) return true;
  for (const char c : value) {
    if (c == ' ' || c == '=' || c == '"' || c == '\\' ||
        static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return true;
    }
  }
  return false;
}

}  // namespace

std::string EventValue(absl::string_view value) {
  if (!NeedsQuotes(value)) return std::string(value);
  std::string out = "\"";
  for (const char c : value) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += c;
    }
  }
  return out + "\"";
}

Event::Event(absl::string_view name) : text_(absl::StrCat("event=", name)) {}

Event& Event::Add(absl::string_view key, absl::string_view value) {
  absl::StrAppend(&text_, " ", key, "=", EventValue(value));
  return *this;
}

Event& Event::WithStatus(const absl::Status& status) {
  Add("code", absl::StatusCodeToString(status.code()));
  if (!status.ok()) Add("error", status.message());
  return *this;
}

std::ostream& operator<<(std::ostream& out, const Event& event) {
  return out << event.text();
}

}  // namespace epgfn
