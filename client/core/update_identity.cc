#include "client/core/update_identity.h"

#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/train/learning_rate_schedule.h"
#include "common/util/status_macros.h"

namespace epgfn {

// The update's reward at the base reward's temperature: inherited when the
// update names none, refused when it names another. Both belong to one
// posterior, so a forgotten temperature would silently train on a likelihood
// T times too sharp for the model it updates. The result spells the
// temperature as the base does ("4.0" and "4" make the same update, which a
// restart must recognise as already trained).
absl::StatusOr<RewardConfig> UpdateAtBaseTemperature(
    const RewardConfig& base, const std::string& update_text) {
  ASSIGN_OR_RETURN(RewardConfig update, RewardConfig::Parse(update_text));
  constexpr char kTemperature[] = "temperature";
  ASSIGN_OR_RETURN(const double base_temperature,
                   base.params.GetDouble(kTemperature, 1.0, 1e-6, 1e6));
  ASSIGN_OR_RETURN(
      const double update_temperature,
      update.params.GetDouble(kTemperature, base_temperature, 1e-6, 1e6));
  if (update_temperature != base_temperature) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--update_reward '", update_text, "' has temperature ",
        update_temperature, " but the base reward '", base.ToString(),
        "' has temperature ", base_temperature,
        "; a streaming update must use the base reward's temperature (leave "
        "it out of --update_reward to inherit it)"));
  }
  std::map<std::string, std::string> values = update.params.values();
  values.erase(kTemperature);
  if (base.params.Has(kTemperature)) {
    values[kTemperature] = base.params.GetString(kTemperature, "");
  }
  update.params = ParamMap(std::move(values));
  return update;
}

// What makes two trainings of the same update differ; stored in the record.
std::string UpdateOptionsKey(const StreamingUpdateOptions& update) {
  return absl::StrCat(
      "schedule=",
      LearningRateScheduleName(update.training.learning_rate_schedule),
      " floor=", update.training.learning_rate_floor,
      " replay=", update.replay_fraction,
      " iterations=", update.training.iterations,
      " batch=", update.training.batch_size);
}

// Why a reused update ignores this run's options, or empty when it does not.
std::string IgnoredUpdateOptions(const client::v1::LocalModelRecord& record,
                                 const std::string& options_key) {
  if (record.update_options().empty() ||
      record.update_options() == options_key) {
    return "";
  }
  return absl::StrCat("round ", record.round(), " was trained with ",
                      record.update_options(), ", not ", options_key,
                      "; to retrain it, restart once with --rollback_to_round=",
                      record.base_round(), ", then with this update again");
}

}  // namespace epgfn
