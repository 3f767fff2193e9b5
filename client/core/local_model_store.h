#ifndef EPGFN_CLIENT_CORE_LOCAL_MODEL_STORE_H_
#define EPGFN_CLIENT_CORE_LOCAL_MODEL_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "client/core/local_state.pb.h"
#include "common/env/environment.h"
#include "proto/model.pb.h"

namespace epgfn {

// File names under the state dir: the current model and its record, and
// every round's model and record (the record is each one's commit point).
std::string LocalModelPath(const std::string& state_dir);
std::string LocalRecordPath(const std::string& state_dir);
std::string LocalRoundModelPath(const std::string& state_dir, int64_t round);
std::string LocalRoundRecordPath(const std::string& state_dir, int64_t round);

struct PersistedModel {
  client::v1::LocalModelRecord record;
  v1::ModelWeights weights;
};

// The record and model an earlier run left, if both are there and intact
// (the model matches the record's digest and fits `environment`). Anything
// unreadable counts as absent: the model is then retrained.
std::optional<PersistedModel> LoadPersistedFiles(
    const std::string& record_path, const std::string& model_path,
    const Environment& environment);
// The current model.
std::optional<PersistedModel> LoadPersisted(const std::string& state_dir,
                                            const Environment& environment);

// Writes the round's own files (kept for resumption and rollback), then the
// current model's: a crash in between leaves the previous round current.
// Each model is written before its record, which gets the model's digest.
absl::Status Persist(const std::string& state_dir,
                     const client::v1::LocalModelRecord& record,
                     const v1::ModelWeights& weights);

// What a record's model includes (records from before streaming updates
// list nothing: just their reward).
std::vector<std::string> DataOf(const client::v1::LocalModelRecord& record);

}  // namespace epgfn

#endif  // EPGFN_CLIENT_CORE_LOCAL_MODEL_STORE_H_
