#include "server/core/model_store.h"

#include <glog/logging.h>
#include <google/protobuf/text_format.h>

#include <algorithm>
#include <filesystem>
#include <regex>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/model/deterministic_bytes.h"
#include "common/model/model_codec.h"
#include "common/util/file_io.h"
#include "common/util/sha256.h"
#include "common/util/status_macros.h"
#include "server/core/record_io.h"
#include "server/core/server_state.pb.h"

namespace epgfn {
std::vector<std::string> GlobalVersion::ClientIds() const {
  std::vector<std::string> ids;
  for (const IncludedUpload& upload : included) ids.push_back(upload.client_id);
  return ids;
}

std::vector<int64_t> GlobalVersion::ClientRounds() const {
  std::vector<int64_t> rounds;
  for (const IncludedUpload& upload : included) rounds.push_back(upload.round);
  return rounds;
}

std::vector<std::string> GlobalVersion::ExcludedClientIds() const {
  std::vector<std::string> ids;
  for (const ExcludedClient& client : excluded) ids.push_back(client.client_id);
  return ids;
}

std::vector<std::string> GlobalVersion::ExclusionReasons() const {
  std::vector<std::string> reasons;
  for (const ExcludedClient& client : excluded)
    reasons.push_back(client.reason);
  return reasons;
}

absl::Status ModelStoreOptions::Validate() const {
  if (resident_versions < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "resident_versions must be >= 1, got ", resident_versions));
  }
  if (max_resident_bytes < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "max_resident_bytes must be >= 1, got ", max_resident_bytes));
  }
  return absl::OkStatus();
}

ModelStore::ModelStore(std::shared_ptr<const FederationConfig> config,
                       std::string directory, ModelStoreOptions options,
                       torch::Device device)
    : config_(std::move(config)),
      directory_(std::move(directory)),
      options_(std::move(options)),
      device_(device) {}

absl::StatusOr<std::unique_ptr<ModelStore>> ModelStore::Create(
    std::shared_ptr<const FederationConfig> config,
    const std::string& state_dir, const ModelStoreOptions& options,
    torch::Device device) {
  RETURN_IF_ERROR(options.Validate());
  const std::string directory = state_dir + "/global";
  RETURN_IF_ERROR(MakeDirectories(directory));
  std::unique_ptr<ModelStore> store(
      new ModelStore(std::move(config), directory, options, device));
  store->Recover();
  return store;
}

std::string ModelStore::ModelPath(int64_t version) const {
  return absl::StrCat(directory_, "/v", version, ".model");
}

std::string ModelStore::RecordPath(int64_t version) const {
  return absl::StrCat(directory_, "/v", version, ".meta");
}

namespace {

// What v<N>.meta holds of `version`.
server::v1::GlobalVersionRecord RecordOf(const GlobalVersion& version,
                                         const std::string& spec_digest) {
  server::v1::GlobalVersionRecord record;
  record.set_version(version.version);
  record.set_spec_digest(spec_digest);
  for (const IncludedUpload& upload : version.included) {
    record.add_client_ids(upload.client_id);
    record.add_client_rounds(upload.round);
  }
  for (const ExcludedClient& client : version.excluded) {
    record.add_excluded_client_ids(client.client_id);
    record.add_exclusion_reasons(client.reason);
  }
  record.set_aggregate_name(version.aggregate_name);
  for (const auto& [client_id, weight] : version.client_weights) {
    (*record.mutable_client_weights())[client_id] = weight;
  }
  record.set_payload_sha256(version.payload_sha256);
  record.set_payload_bytes(static_cast<int64_t>(version.payload.size()));
  record.set_published_unix_seconds(version.published_unix_seconds);
  return record;
}

}  // namespace

absl::StatusOr<GlobalVersionPtr> ModelStore::Publish(
    PolicyNet policy, std::vector<IncludedUpload> included,
    std::vector<ExcludedClient> excluded) {
  ASSIGN_OR_RETURN(PreparedVersion prepared,
                   Prepare(policy, std::move(included), std::move(excluded)));
  return Commit(std::move(prepared));
}

absl::StatusOr<PreparedVersion> ModelStore::Prepare(
    PolicyNet policy, std::vector<IncludedUpload> included,
    std::vector<ExcludedClient> excluded) {
  absl::MutexLock publishing(&publish_mutex_);
  ASSIGN_OR_RETURN(std::string payload, DeterministicBytes(ExportModel(
                                            *config_->environment, policy)));
  v1::ModelWeights weights;
  if (!weights.ParseFromString(payload)) {
    return absl::InternalError("exported model does not parse");
  }
  // A private copy, so that the caller may keep training its policy.
  ASSIGN_OR_RETURN(PolicyNet snapshot,
                   ImportModel(weights, *config_->environment, device_));
  snapshot->eval();

  auto published = std::make_shared<GlobalVersion>();
  {
    absl::ReaderMutexLock lock(&mutex_);
    published->version =
        std::max(last_prepared_,
                 versions_.empty() ? int64_t{0} : versions_.rbegin()->first) +
        1;
  }
  published->included = std::move(included);
  published->excluded = std::move(excluded);
  if (options_.aggregate) {
    published->aggregate_name = options_.aggregate->name;
    published->client_weights = options_.aggregate->weights;
  }
  published->payload_sha256 = Sha256Hex(payload);
  published->payload = std::move(payload);
  published->published_unix_seconds = absl::ToUnixSeconds(absl::Now());
  published->policy = snapshot;

  const server::v1::GlobalVersionRecord record =
      RecordOf(*published, config_->spec_digest);
  const FileWriter& write = options_.write_file
                                ? options_.write_file
                                : FileWriter(WriteFileAtomically);
  // Model first, record second: recovery needs both, so a failure between
  // them leaves no version (the next attempt writes the same number again).
  RETURN_IF_ERROR(write(ModelPath(published->version), published->payload));
  std::string record_text;
  if (!google::protobuf::TextFormat::PrintToString(record, &record_text)) {
    return absl::InternalError("cannot print the version record");
  }
  RETURN_IF_ERROR(write(RecordPath(published->version), record_text));
  last_prepared_ = published->version;
  return PreparedVersion{std::move(published)};
}

GlobalVersionPtr ModelStore::Commit(PreparedVersion prepared) {
  GlobalVersionPtr published = std::move(prepared.version);
  absl::MutexLock lock(&mutex_);
  Insert(published);
  return published;
}

GlobalVersionPtr ModelStore::Latest() const {
  absl::ReaderMutexLock lock(&mutex_);
  return versions_.empty() ? nullptr : versions_.rbegin()->second.resident;
}

std::vector<GlobalVersionPtr> ModelStore::List() const {
  absl::ReaderMutexLock lock(&mutex_);
  std::vector<GlobalVersionPtr> list;
  for (const auto& [version, entry] : versions_) {
    list.push_back(entry.resident != nullptr ? entry.resident : entry.metadata);
  }
  return list;
}

GlobalVersionPtr ModelStore::WaitForNewer(int64_t after_version,
                                          absl::Duration timeout) const {
  absl::MutexLock lock(&mutex_);
  auto ready = [&]() ABSL_SHARED_LOCKS_REQUIRED(mutex_) {
    return closed_ ||
           (!versions_.empty() && versions_.rbegin()->first > after_version);
  };
  mutex_.AwaitWithTimeout(absl::Condition(&ready), timeout);
  if (closed_ || versions_.empty() ||
      versions_.rbegin()->first <= after_version) {
    return nullptr;
  }
  return versions_.rbegin()->second.resident;
}

void ModelStore::Close() {
  absl::MutexLock lock(&mutex_);
  closed_ = true;
}

bool ModelStore::closed() const {
  absl::ReaderMutexLock lock(&mutex_);
  return closed_;
}

}  // namespace epgfn
