#ifndef EPGFN_COMMON_UTIL_PARAM_MAP_H_
#define EPGFN_COMMON_UTIL_PARAM_MAP_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace epgfn {

// Named string parameters of an environment or reward, e.g. "dim=2,side=8".
// Keys are kept sorted so that ToString() is canonical: two configs that mean
// the same thing print the same, which is what model compatibility checks and
// federation digests compare.
class ParamMap {
 public:
  ParamMap() = default;
  explicit ParamMap(std::map<std::string, std::string> values)
      : values_(std::move(values)) {}

  // Parses "key=value,key=value" (empty string -> empty map).
  static absl::StatusOr<ParamMap> Parse(absl::string_view text);

  void Set(const std::string& key, const std::string& value) {
    values_[key] = value;
  }
  bool Has(const std::string& key) const { return values_.count(key) > 0; }
  const std::map<std::string, std::string>& values() const { return values_; }

  // Typed getters: return `default_value` when the key is absent and an
  // InvalidArgument naming the key when the value does not parse or lies
  // outside [min_value, max_value].
  absl::StatusOr<int64_t> GetInt(const std::string& key, int64_t default_value,
                                 int64_t min_value, int64_t max_value) const;
  absl::StatusOr<double> GetDouble(const std::string& key, double default_value,
                                   double min_value, double max_value) const;
  std::string GetString(const std::string& key,
                        const std::string& default_value) const;

  // InvalidArgument listing any key not in `allowed`, so that a typo in a
  // config is reported instead of silently ignored.
  absl::Status CheckKeys(const std::vector<std::string>& allowed) const;

  std::string ToString() const;
  bool operator==(const ParamMap& other) const {
    return values_ == other.values_;
  }

 private:
  std::map<std::string, std::string> values_;
};

}  // namespace epgfn

#endif  // EPGFN_COMMON_UTIL_PARAM_MAP_H_
