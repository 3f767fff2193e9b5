// Versions read back from disk: recovery at start, the resident-version
// policy (ModelStoreOptions) and on-demand loads of evicted versions.
#include <glog/logging.h>

#include <algorithm>
#include <filesystem>
#include <regex>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/model/model_codec.h"
#include "common/util/file_io.h"
#include "common/util/sha256.h"
#include "common/util/status_macros.h"
#include "server/core/model_store.h"
#include "server/core/record_io.h"
#include "server/core/server_state.pb.h"

namespace epgfn {
namespace {

constexpr int64_t kMaxStoredModelBytes = int64_t{4} << 30;

}  // namespace

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
  for (int i = 0; i < record.client_ids_size(); ++i) {
    loaded->included.push_back({record.client_ids(i), record.client_rounds(i)});
  }
  for (int i = 0; i < record.excluded_client_ids_size(); ++i) {
    loaded->excluded.push_back(
        {record.excluded_client_ids(i), record.exclusion_reasons(i)});
  }
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

std::vector<int64_t> ModelStore::ResidentVersions() const {
  absl::ReaderMutexLock lock(&mutex_);
  std::vector<int64_t> resident;
  for (const auto& [version, entry] : versions_) {
    if (entry.resident != nullptr) resident.push_back(version);
  }
  return resident;
}

}  // namespace epgfn
