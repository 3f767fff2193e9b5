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
namespace {

constexpr int64_t kMaxStoredModelBytes = int64_t{4} << 30;

}  // namespace

absl::StatusOr<ModelStoreOptions> ModelStoreOptions::Create(
    torch::Device device, int64_t resident_versions,
    int64_t max_resident_bytes) {
  if (resident_versions < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "resident_versions must be >= 1, got ", resident_versions));
  }
  if (max_resident_bytes < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "max_resident_bytes must be >= 1, got ", max_resident_bytes));
  }
  ModelStoreOptions options;
  options.device = device;
  options.resident_versions = resident_versions;
  options.max_resident_bytes = max_resident_bytes;
  return options;
}

ModelStore::ModelStore(std::shared_ptr<const FederationConfig> config,
                       std::string directory, ModelStoreOptions options)
    : config_(std::move(config)),
      directory_(std::move(directory)),
      options_(std::move(options)),
      device_(options_.device) {}

absl::StatusOr<std::unique_ptr<ModelStore>> ModelStore::Create(
    std::shared_ptr<const FederationConfig> config,
    const std::string& state_dir, const ModelStoreOptions& options) {
  if (options.resident_versions < 1 || options.max_resident_bytes < 1) {
    return absl::InvalidArgumentError(
        "resident_versions and max_resident_bytes must be >= 1");
  }
  const std::string directory = state_dir + "/global";
  RETURN_IF_ERROR(MakeDirectories(directory));
  std::unique_ptr<ModelStore> store(
      new ModelStore(std::move(config), directory, options));
  store->Recover();
  return store;
}

absl::StatusOr<std::unique_ptr<ModelStore>> ModelStore::Create(
    std::shared_ptr<const FederationConfig> config,
    const std::string& state_dir, torch::Device device) {
  ModelStoreOptions options;
  options.device = device;
  return Create(std::move(config), state_dir, options);
}

std::string ModelStore::ModelPath(int64_t version) const {
  return absl::StrCat(directory_, "/v", version, ".model");
}

std::string ModelStore::RecordPath(int64_t version) const {
  return absl::StrCat(directory_, "/v", version, ".meta");
}

absl::StatusOr<GlobalVersionPtr> ModelStore::LoadVersion(
    int64_t version, bool metadata_only) const {
  server::v1::GlobalVersionRecord record;
  RETURN_IF_ERROR(ReadTextProtoFile(RecordPath(version), &record));
  if (record.version() != version) {
    return absl::DataLossError(
        absl::StrCat("record says version ", record.version()));
  }
  if (record.spec_digest() != config_->spec_digest) {
    return absl::FailedPreconditionError("published under another spec");
  }
  const std::string aggregate_name =
      options_.aggregate ? options_.aggregate->name : std::string();
  const std::map<std::string, double> weights =
      options_.aggregate ? options_.aggregate->weights
                         : std::map<std::string, double>();
  if (record.aggregate_name() != aggregate_name ||
      std::map<std::string, double>(record.client_weights().begin(),
                                    record.client_weights().end()) != weights) {
    return absl::FailedPreconditionError(
        absl::StrCat("published for aggregate '", record.aggregate_name(),
                     "' with other weights than the config's"));
  }
  if (record.client_ids_size() != record.client_rounds_size()) {
    return absl::DataLossError("client ids and rounds differ in length");
  }
  if (record.excluded_client_ids_size() != record.exclusion_reasons_size()) {
    return absl::DataLossError(
        "excluded client ids and reasons differ in length");
  }
  std::string payload;
  PolicyNet policy{nullptr};
  if (metadata_only) {
    // The bytes are checked when the version is loaded on demand.
    std::error_code error;
    const auto size = std::filesystem::file_size(ModelPath(version), error);
    if (error || static_cast<int64_t>(size) != record.payload_bytes()) {
      return absl::DataLossError(
          "model file missing or not of its record's size");
    }
  } else {
    ASSIGN_OR_RETURN(
        payload, ReadFileToString(ModelPath(version), kMaxStoredModelBytes));
    if (Sha256Hex(payload) != record.payload_sha256()) {
      return absl::DataLossError("model file does not match its record");
    }
    v1::ModelWeights weights;
    if (!weights.ParseFromString(payload)) {
      return absl::DataLossError("model file does not parse");
    }
    ASSIGN_OR_RETURN(policy,
                     ImportModel(weights, *config_->environment, device_));
    policy->eval();
  }
  auto loaded = std::make_shared<GlobalVersion>();
  loaded->version = version;
  loaded->client_ids.assign(record.client_ids().begin(),
                            record.client_ids().end());
  loaded->client_rounds.assign(record.client_rounds().begin(),
                               record.client_rounds().end());
  loaded->excluded_client_ids.assign(record.excluded_client_ids().begin(),
                                     record.excluded_client_ids().end());
  loaded->exclusion_reasons.assign(record.exclusion_reasons().begin(),
                                   record.exclusion_reasons().end());
  loaded->aggregate_name = record.aggregate_name();
  loaded->client_weights = weights;
  loaded->payload = std::move(payload);
  loaded->payload_sha256 = record.payload_sha256();
  loaded->published_unix_seconds = record.published_unix_seconds();
  loaded->policy = policy;
  return GlobalVersionPtr(std::move(loaded));
}

namespace {

// A version's metadata without its payload and policy.
GlobalVersionPtr MetadataOf(const GlobalVersion& version) {
  auto metadata = std::make_shared<GlobalVersion>(version);
  metadata->payload.clear();
  metadata->payload.shrink_to_fit();
  metadata->policy = PolicyNet(nullptr);
  return metadata;
}

}  // namespace

void ModelStore::Recover() {
  static const std::regex kModelName("v([1-9][0-9]{0,17})\\.model");
  std::error_code error;
  std::vector<int64_t> found;
  for (const auto& entry :
       std::filesystem::directory_iterator(directory_, error)) {
    const std::string name = entry.path().filename().string();
    std::smatch match;
    // Anything else (notably *.tmp left by a crash mid-write) is not a
    // published version.
    if (!std::regex_match(name, match, kModelName)) continue;
    int64_t version = 0;
    if (!absl::SimpleAtoi(match[1].str(), &version)) continue;
    found.push_back(version);
  }
  if (error) {
    LOG(WARNING) << "cannot list " << directory_ << ": " << error.message();
  }
  // Newest first: the resident ones are loaded whole, the rest by record.
  std::sort(found.rbegin(), found.rend());
  int64_t loaded_whole = 0;
  for (int64_t version : found) {
    const bool whole = loaded_whole < options_.resident_versions;
    absl::StatusOr<GlobalVersionPtr> loaded;
    try {
      loaded = LoadVersion(version, /*metadata_only=*/!whole);
    } catch (const std::exception& e) {
      loaded = absl::DataLossError(e.what());
    }
    if (!loaded.ok()) {
      LOG(WARNING) << "skipping stored global version " << version << ": "
                   << loaded.status();
      continue;
    }
    if (whole) ++loaded_whole;
    absl::MutexLock lock(&mutex_);
    versions_[version] = Entry{whole ? MetadataOf(**loaded) : *loaded,
                               whole ? *loaded : nullptr};
  }
  absl::MutexLock lock(&mutex_);
  Evict();
  if (!versions_.empty()) {
    LOG(INFO) << "recovered " << versions_.size()
              << " global versions; latest v" << versions_.rbegin()->first
              << "; " << loaded_whole << " resident";
  }
}

void ModelStore::Insert(GlobalVersionPtr version) {
  versions_[version->version] = Entry{MetadataOf(*version), version};
  Evict();
}

void ModelStore::Evict() {
  int64_t resident = 0;
  int64_t bytes = 0;
  // Newest first; the latest always stays.
  for (auto it = versions_.rbegin(); it != versions_.rend(); ++it) {
    Entry& entry = it->second;
    if (entry.resident == nullptr) continue;
    const int64_t size = static_cast<int64_t>(entry.resident->payload.size());
    const bool keep = it == versions_.rbegin() ||
                      (resident < options_.resident_versions &&
                       bytes + size <= options_.max_resident_bytes);
    if (keep) {
      ++resident;
      bytes += size;
    } else {
      entry.resident = nullptr;
    }
  }
}

absl::StatusOr<GlobalVersionPtr> ModelStore::Publish(
    PolicyNet policy, const std::vector<std::string>& client_ids,
    const std::vector<int64_t>& client_rounds,
    const std::vector<std::string>& excluded_client_ids,
    const std::vector<std::string>& exclusion_reasons) {
  ASSIGN_OR_RETURN(PreparedVersion prepared,
                   Prepare(policy, client_ids, client_rounds,
                           excluded_client_ids, exclusion_reasons));
  return Commit(std::move(prepared));
}

absl::StatusOr<PreparedVersion> ModelStore::Prepare(
    PolicyNet policy, const std::vector<std::string>& client_ids,
    const std::vector<int64_t>& client_rounds,
    const std::vector<std::string>& excluded_client_ids,
    const std::vector<std::string>& exclusion_reasons) {
  if (client_ids.size() != client_rounds.size() ||
      excluded_client_ids.size() != exclusion_reasons.size()) {
    return absl::InvalidArgumentError(
        "client ids and rounds (or exclusions and reasons) differ in length");
  }
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
  published->client_ids = client_ids;
  published->client_rounds = client_rounds;
  published->excluded_client_ids = excluded_client_ids;
  published->exclusion_reasons = exclusion_reasons;
  if (options_.aggregate) {
    published->aggregate_name = options_.aggregate->name;
    published->client_weights = options_.aggregate->weights;
  }
  published->payload_sha256 = Sha256Hex(payload);
  published->payload = std::move(payload);
  published->published_unix_seconds = absl::ToUnixSeconds(absl::Now());
  published->policy = snapshot;

  server::v1::GlobalVersionRecord record;
  record.set_version(published->version);
  record.set_spec_digest(config_->spec_digest);
  for (const std::string& id : client_ids) record.add_client_ids(id);
  for (int64_t round : client_rounds) record.add_client_rounds(round);
  for (const std::string& id : excluded_client_ids) {
    record.add_excluded_client_ids(id);
  }
  for (const std::string& reason : exclusion_reasons) {
    record.add_exclusion_reasons(reason);
  }
  record.set_aggregate_name(published->aggregate_name);
  for (const auto& [client_id, weight] : published->client_weights) {
    (*record.mutable_client_weights())[client_id] = weight;
  }
  record.set_payload_sha256(published->payload_sha256);
  record.set_payload_bytes(static_cast<int64_t>(published->payload.size()));
  record.set_published_unix_seconds(published->published_unix_seconds);
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

GlobalVersionPtr ModelStore::Get(int64_t version) const {
  if (version == 0) return Latest();
  {
    absl::ReaderMutexLock lock(&mutex_);
    auto it = versions_.find(version);
    if (it == versions_.end()) return nullptr;
    if (it->second.resident != nullptr) return it->second.resident;
  }
  // Evicted: read back from disk, outside the lock, and not kept (the
  // caller holds it as long as it needs it).
  absl::StatusOr<GlobalVersionPtr> loaded;
  try {
    loaded = LoadVersion(version, /*metadata_only=*/false);
  } catch (const std::exception& e) {
    loaded = absl::DataLossError(e.what());
  }
  if (!loaded.ok()) {
    LOG(WARNING) << "cannot load evicted global version " << version << ": "
                 << loaded.status();
    return nullptr;
  }
  return *loaded;
}

std::vector<GlobalVersionPtr> ModelStore::List() const {
  absl::ReaderMutexLock lock(&mutex_);
  std::vector<GlobalVersionPtr> list;
  for (const auto& [version, entry] : versions_) {
    list.push_back(entry.resident != nullptr ? entry.resident : entry.metadata);
  }
  return list;
}

std::vector<int64_t> ModelStore::ResidentVersions() const {
  absl::ReaderMutexLock lock(&mutex_);
  std::vector<int64_t> resident;
  for (const auto& [version, entry] : versions_) {
    if (entry.resident != nullptr) resident.push_back(version);
  }
  return resident;
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
