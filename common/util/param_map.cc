#include "common/util/param_map.h"

#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace epgfn {

absl::StatusOr<ParamMap> ParamMap::Parse(absl::string_view text) {
  ParamMap params;
  text = absl::StripAsciiWhitespace(text);
  if (text.empty()) return params;
  for (absl::string_view item : absl::StrSplit(text, ',')) {
    item = absl::StripAsciiWhitespace(item);
    std::vector<absl::string_view> kv = absl::StrSplit(item, '=');
    if (kv.size() != 2 || absl::StripAsciiWhitespace(kv[0]).empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "parameter '", item, "' is not of the form key=value in '", text,
          "'"));
    }
    std::string key(absl::StripAsciiWhitespace(kv[0]));
    if (params.Has(key)) {
      return absl::InvalidArgumentError(
          absl::StrCat("parameter '", key, "' given twice in '", text, "'"));
    }
    params.Set(key, std::string(absl::StripAsciiWhitespace(kv[1])));
  }
  return params;
}

absl::StatusOr<int64_t> ParamMap::GetInt(const std::string& key,
                                         int64_t default_value,
                                         int64_t min_value,
                                         int64_t max_value) const {
  int64_t value = default_value;
  auto it = values_.find(key);
  if (it != values_.end() && !absl::SimpleAtoi(it->second, &value)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "parameter '", key, "' must be an integer, got '", it->second, "'"));
  }
  if (value < min_value || value > max_value) {
    return absl::InvalidArgumentError(
        absl::StrCat("parameter '", key, "' must lie in [", min_value, ", ",
                     max_value, "], got ", value));
  }
  return value;
}

absl::StatusOr<double> ParamMap::GetDouble(const std::string& key,
                                           double default_value,
                                           double min_value,
                                           double max_value) const {
  double value = default_value;
  auto it = values_.find(key);
  if (it != values_.end() &&
      (!absl::SimpleAtod(it->second, &value) || !std::isfinite(value))) {
    return absl::InvalidArgumentError(absl::StrCat(
        "parameter '", key, "' must be a finite number, got '", it->second,
        "'"));
  }
  if (value < min_value || value > max_value) {
    return absl::InvalidArgumentError(
        absl::StrCat("parameter '", key, "' must lie in [", min_value, ", ",
                     max_value, "], got ", value));
  }
  return value;
}

std::string ParamMap::GetString(const std::string& key,
                                const std::string& default_value) const {
  auto it = values_.find(key);
  return it == values_.end() ? default_value : it->second;
}

absl::Status ParamMap::CheckKeys(const std::vector<std::string>& allowed) const {
  std::vector<std::string> unknown;
  for (const auto& [key, value] : values_) {
    bool found = false;
    for (const auto& name : allowed) found = found || name == key;
    if (!found) unknown.push_back(key);
  }
  if (unknown.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("unknown parameter(s) ", absl::StrJoin(unknown, ", "),
                   "; allowed: ", absl::StrJoin(allowed, ", ")));
}

std::string ParamMap::ToString() const {
  return absl::StrJoin(values_, ",", absl::PairFormatter("="));
}

}  // namespace epgfn
