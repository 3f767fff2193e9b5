// What makes two streaming updates of a client the same update: its reward,
// spelled at the base reward's temperature, and the options it was trained
// with. A restart that asks for the same update reuses the trained one.
#ifndef EPGFN_CLIENT_CORE_UPDATE_IDENTITY_H_
#define EPGFN_CLIENT_CORE_UPDATE_IDENTITY_H_

#include <string>

#include "absl/status/statusor.h"
#include "client/core/local_state.pb.h"
#include "common/env/environment_config.h"
#include "common/train/streaming_update.h"

namespace epgfn {

// The update's reward at the base reward's temperature: inherited when the
// update names none, refused (InvalidArgument) when it names another. The
// result spells the temperature as the base does, so that "4.0" and "4" make
// the same update.
absl::StatusOr<RewardConfig> UpdateAtBaseTemperature(
    const RewardConfig& base, const std::string& update_text);

// The options that make two trainings of the same update differ, as text
// (LocalModelRecord.update_options).
std::string UpdateOptionsKey(const StreamingUpdateOptions& update);

// Why reusing the update `record` holds ignores `options_key`, with how to
// retrain it; empty when the two agree or the record predates the field.
std::string IgnoredUpdateOptions(const client::v1::LocalModelRecord& record,
                                 const std::string& options_key);

}  // namespace epgfn

#endif  // EPGFN_CLIENT_CORE_UPDATE_IDENTITY_H_
