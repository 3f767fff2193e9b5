#include "server/core/model_store.h"

#include <glog/logging.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <filesystem>
#include <regex>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/model/model_codec.h"
#include "common/util/file_io.h"
#include "common/util/sha256.h"
#include "common/util/status_macros.h"
#include "server/core/record_io.h"
#include "server/core/server_state.pb.h"

namespace epgfn {
namespace {

constexpr int64_t kMaxStoredModelBytes = int64_t{4} << 30;

std::string SerializeDeterministically(const v1::ModelWeights& weights) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    weights.SerializeToCodedStream(&coded);
  }
  return bytes;
}

}  // namespace

ModelStore::ModelStore(std::shared_ptr<const FederationConfig> config,
                       std::string directory, torch::Device device)
    : config_(std::move(config)),
      directory_(std::move(directory)),
      device_(device) {}

absl::StatusOr<std::unique_ptr<ModelStore>> ModelStore::Create(
    std::shared_ptr<const FederationConfig> config,
    const std::string& state_dir, torch::Device device) {
  const std::string directory = state_dir + "/global";
  RETURN_IF_ERROR(MakeDirectories(directory));
  std::unique_ptr<ModelStore> store(
      new ModelStore(std::move(config), directory, device));
  store->Recover();
  return store;
}

std::string ModelStore::ModelPath(int64_t version) const {
  return absl::StrCat(directory_, "/v", version, ".model");
}

std::string ModelStore::RecordPath(int64_t version) const {
  return absl::StrCat(directory_, "/v", version, ".meta");
}

absl::StatusOr<GlobalVersionPtr> ModelStore::LoadVersion(
    int64_t version) const {
  server::v1::GlobalVersionRecord record;
  RETURN_IF_ERROR(ReadTextProtoFile(RecordPath(version), &record));
  if (record.version() != version) {
    return absl::DataLossError(
        absl::StrCat("record says version ", record.version()));
  }
  if (record.spec_digest() != config_->spec_digest) {
    return absl::FailedPreconditionError("published under another spec");
  }
  if (record.client_ids_size() != record.client_rounds_size()) {
    return absl::DataLossError("client ids and rounds differ in length");
  }
  if (record.excluded_client_ids_size() != record.exclusion_reasons_size()) {
    return absl::DataLossError(
        "excluded client ids and reasons differ in length");
  }
  ASSIGN_OR_RETURN(std::string payload,
                   ReadFileToString(ModelPath(version), kMaxStoredModelBytes));
  if (Sha256Hex(payload) != record.payload_sha256()) {
    return absl::DataLossError("model file does not match its record");
  }
  v1::ModelWeights weights;
  if (!weights.ParseFromString(payload)) {
    return absl::DataLossError("model file does not parse");
  }
  ASSIGN_OR_RETURN(PolicyNet policy,
                   ImportModel(weights, *config_->environment, device_));
  policy->eval();
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
  loaded->payload = std::move(payload);
  loaded->payload_sha256 = record.payload_sha256();
  loaded->published_unix_seconds = record.published_unix_seconds();
  loaded->policy = policy;
  return GlobalVersionPtr(std::move(loaded));
}

void ModelStore::Recover() {
  static const std::regex kModelName("v([1-9][0-9]{0,17})\\.model");
  std::error_code error;
  for (const auto& entry :
       std::filesystem::directory_iterator(directory_, error)) {
    const std::string name = entry.path().filename().string();
    std::smatch match;
    // Anything else (notably *.tmp left by a crash mid-write) is not a
    // published version.
    if (!std::regex_match(name, match, kModelName)) continue;
    int64_t version = 0;
    if (!absl::SimpleAtoi(match[1].str(), &version)) continue;
    absl::StatusOr<GlobalVersionPtr> loaded;
    try {
      loaded = LoadVersion(version);
    } catch (const std::exception& e) {
      loaded = absl::DataLossError(e.what());
    }
    if (!loaded.ok()) {
      LOG(WARNING) << "skipping stored global version " << version << ": "
                   << loaded.status();
      continue;
    }
    absl::MutexLock lock(&mutex_);
    versions_[version] = *loaded;
  }
  if (error) {
    LOG(WARNING) << "cannot list " << directory_ << ": " << error.message();
  }
  absl::MutexLock lock(&mutex_);
  if (!versions_.empty()) {
    LOG(INFO) << "recovered " << versions_.size()
              << " global versions; latest v" << versions_.rbegin()->first;
  }
}

absl::StatusOr<GlobalVersionPtr> ModelStore::Publish(
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
  std::string payload =
      SerializeDeterministically(ExportModel(*config_->environment, policy));
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
    published->version = versions_.empty() ? 1 : versions_.rbegin()->first + 1;
  }
  published->client_ids = client_ids;
  published->client_rounds = client_rounds;
  published->excluded_client_ids = excluded_client_ids;
  published->exclusion_reasons = exclusion_reasons;
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
  record.set_payload_sha256(published->payload_sha256);
  record.set_payload_bytes(static_cast<int64_t>(published->payload.size()));
  record.set_published_unix_seconds(published->published_unix_seconds);
  RETURN_IF_ERROR(
      WriteFileAtomically(ModelPath(published->version), published->payload));
  RETURN_IF_ERROR(WriteTextProtoFile(RecordPath(published->version), record));

  absl::MutexLock lock(&mutex_);
  versions_[published->version] = published;
  return GlobalVersionPtr(published);
}

GlobalVersionPtr ModelStore::Latest() const {
  absl::ReaderMutexLock lock(&mutex_);
  return versions_.empty() ? nullptr : versions_.rbegin()->second;
}

GlobalVersionPtr ModelStore::Get(int64_t version) const {
  if (version == 0) return Latest();
  absl::ReaderMutexLock lock(&mutex_);
  auto it = versions_.find(version);
  return it == versions_.end() ? nullptr : it->second;
}

std::vector<GlobalVersionPtr> ModelStore::List() const {
  absl::ReaderMutexLock lock(&mutex_);
  std::vector<GlobalVersionPtr> list;
  for (const auto& [version, published] : versions_) list.push_back(published);
  return list;
}

GlobalVersionPtr ModelStore::WaitForNewer(int64_t after_version,
                                          absl::Duration timeout) const {
  absl::MutexLock lock(&mutex_);
  auto ready = [&]() {
    return closed_ ||
           (!versions_.empty() && versions_.rbegin()->first > after_version);
  };
  mutex_.AwaitWithTimeout(absl::Condition(&ready), timeout);
  if (closed_ || versions_.empty() ||
      versions_.rbegin()->first <= after_version) {
    return nullptr;
  }
  return versions_.rbegin()->second;
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
