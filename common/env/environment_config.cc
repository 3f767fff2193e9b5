#include "common/env/environment_config.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/util/status_macros.h"

namespace epgfn {
namespace {

absl::Status ParseKindAndParams(absl::string_view text, std::string* kind,
                                ParamMap* params) {
  text = absl::StripAsciiWhitespace(text);
  const size_t colon = text.find(':');
  *kind = std::string(absl::StripAsciiWhitespace(text.substr(0, colon)));
  if (kind->empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", text, "' names no kind (expected kind:key=value,...)"));
  }
  if (colon == absl::string_view::npos) return absl::OkStatus();
  ASSIGN_OR_RETURN(*params, ParamMap::Parse(text.substr(colon + 1)));
  return absl::OkStatus();
}

std::string FormatKindAndParams(const std::string& kind,
                                const ParamMap& params) {
  const std::string rest = params.ToString();
  return rest.empty() ? kind : absl::StrCat(kind, ":", rest);
}

}  // namespace

absl::StatusOr<EnvironmentConfig> EnvironmentConfig::Parse(
    absl::string_view text) {
  EnvironmentConfig config;
  RETURN_IF_ERROR(ParseKindAndParams(text, &config.kind, &config.params));
  return config;
}

std::string EnvironmentConfig::ToString() const {
  return FormatKindAndParams(kind, params);
}

absl::StatusOr<RewardConfig> RewardConfig::Parse(absl::string_view text) {
  RewardConfig config;
  RETURN_IF_ERROR(ParseKindAndParams(text, &config.kind, &config.params));
  return config;
}

std::string RewardConfig::ToString() const {
  return FormatKindAndParams(kind, params);
}

}  // namespace epgfn
