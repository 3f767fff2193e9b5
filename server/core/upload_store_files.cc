// The UploadStore's files: their names, recovery at start, and the writes
// that commit an accepted upload (the admission checks are in
// upload_store.cc).
#include <glog/logging.h>

#include <filesystem>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/spec/spec_conversion.h"
#include "common/util/file_io.h"
#include "common/util/sha256.h"
#include "common/util/status_macros.h"
#include "server/core/record_io.h"
#include "server/core/server_state.pb.h"
#include "server/core/upload_store.h"

namespace epgfn {
namespace {

// Recovery reads files this server wrote itself; the bound only guards
// against a corrupted directory.
constexpr int64_t kMaxStoredModelBytes = int64_t{4} << 30;

}  // namespace

std::string UploadStore::ModelFileName(const std::string& client_id,
                                       int64_t round) {
  return absl::StrCat(client_id, ".r", round, ".model");
}

void UploadStore::RemoveStaleModels(const std::string& client_id,
                                    const std::string& keep) const {
  // "<id>.r<digits>.model" and the legacy "<id>.model"; a name that is
  // another member's legacy file ("<id>.r1" is a valid id) is left alone.
  const std::string prefix = client_id + ".";
  std::vector<std::filesystem::path> stale;
  std::error_code error;
  for (const auto& entry :
       std::filesystem::directory_iterator(directory_, error)) {
    const std::string name = entry.path().filename().string();
    if (name == keep || name.rfind(prefix, 0) != 0) continue;
    const std::string rest = name.substr(prefix.size());
    const bool per_round =
        rest.size() > 7 && rest[0] == 'r' &&
        rest.substr(rest.size() - 6) == ".model" &&
        rest.find_first_not_of("0123456789", 1) == rest.size() - 6;
    if (!per_round && rest != "model") continue;
    if (name != client_id + ".model" &&
        config_->IsClient(name.substr(0, name.size() - 6))) {
      continue;
    }
    stale.push_back(entry.path());
  }
  for (const std::filesystem::path& path : stale) {
    std::error_code ignored;
    std::filesystem::remove(path, ignored);
  }
}

std::string UploadStore::RecordPath(const std::string& client_id) const {
  return absl::StrCat(directory_, "/", client_id, ".meta");
}

void UploadStore::RemoveStagingFiles() const {
  constexpr absl::string_view kSuffix = ".staging";
  std::vector<std::filesystem::path> staging;
  std::error_code error;
  for (const auto& entry :
       std::filesystem::directory_iterator(directory_, error)) {
    const std::string name = entry.path().filename().string();
    if (absl::EndsWith(name, kSuffix)) staging.push_back(entry.path());
  }
  for (const std::filesystem::path& path : staging) {
    LOG(INFO) << "removing an unfinished upload's staging file " << path;
    std::error_code ignored;
    std::filesystem::remove(path, ignored);
  }
}

std::unique_ptr<StagedFile> UploadStore::StageModel(
    const UploadRequest& request) {
  const std::string name =
      absl::StrCat(ModelFileName(request.client_id, request.round), ".",
                   ++staging_sequence_, ".staging");
  return std::make_unique<StagedFile>(absl::StrCat(directory_, "/", name),
                                      request.payload);
}

void UploadStore::Recover() {
  // A crash during an upload's validation leaves its staging file, which no
  // record names: it was never accepted.
  RemoveStagingFiles();
  for (const std::string& client_id : config_->spec.client_ids()) {
    server::v1::UploadRecord record;
    absl::Status status = ReadTextProtoFile(RecordPath(client_id), &record);
    if (absl::IsNotFound(status)) continue;
    if (!status.ok()) {
      LOG(WARNING) << "skipping stored upload of " << client_id << ": "
                   << status;
      continue;
    }
    if (record.spec_digest() != config_->spec_digest ||
        record.client_id() != client_id) {
      LOG(WARNING) << "skipping stored upload of " << client_id
                   << ": it belongs to another federation spec";
      continue;
    }
    const std::string model_file = record.model_file().empty()
                                       ? client_id + ".model"
                                       : record.model_file();
    if (model_file.find('/') != std::string::npos) {
      LOG(WARNING) << "skipping stored upload of " << client_id
                   << ": its record names a file outside the directory";
      continue;
    }
    absl::StatusOr<std::string> payload = ReadFileToString(
        absl::StrCat(directory_, "/", model_file), kMaxStoredModelBytes);
    if (!payload.ok() || Sha256Hex(*payload) != record.payload_sha256()) {
      LOG(WARNING) << "skipping stored upload of " << client_id
                   << ": model file missing or does not match its record";
      continue;
    }
    // A crash after writing a newer round's model but before its record
    // leaves that file behind; the record decides which one counts.
    RemoveStaleModels(client_id, model_file);
    std::string reason;
    absl::StatusOr<PolicyNet> policy =
        ValidateModel(*payload, record.payload_sha256(), &reason);
    if (!policy.ok()) {
      LOG(WARNING) << "skipping stored upload of " << client_id << ": "
                   << policy.status();
      continue;
    }
    auto upload = std::make_shared<AcceptedUpload>();
    upload->client_id = client_id;
    upload->round = record.round();
    upload->base_round = record.base_round();
    upload->payload_sha256 = record.payload_sha256();
    upload->payload_bytes = static_cast<int64_t>(payload->size());
    if (record.has_diagnostics()) {
      upload->diagnostics = DiagnosticsFromProto(record.diagnostics());
    }
    upload->accepted_unix_seconds = record.accepted_unix_seconds();
    upload->policy = *policy;
    absl::MutexLock lock(&mutex_);
    accepted_[client_id] = std::move(upload);
    LOG(INFO) << "recovered upload of " << client_id << " round "
              << record.round();
  }
}

absl::Status UploadStore::WriteUpload(const AcceptedUpload& upload,
                                      StagedFile& staged) const {
  server::v1::UploadRecord record;
  record.set_client_id(upload.client_id);
  record.set_spec_digest(config_->spec_digest);
  record.set_round(upload.round);
  record.set_base_round(upload.base_round);
  record.set_payload_sha256(upload.payload_sha256);
  record.set_payload_bytes(upload.payload_bytes);
  if (upload.diagnostics) {
    *record.mutable_diagnostics() = DiagnosticsToProto(*upload.diagnostics);
  }
  record.set_accepted_unix_seconds(upload.accepted_unix_seconds);
  const std::string model_file = ModelFileName(upload.client_id, upload.round);
  record.set_model_file(model_file);
  // The new round's model (fsynced while the upload was validated) renamed
  // beside the accepted one, then the record that switches to it: a crash in
  // between leaves the old record naming the old, untouched file, so the
  // previously accepted upload survives.
  const std::string model_path = absl::StrCat(directory_, "/", model_file);
  RETURN_IF_ERROR(staged.CommitAs(model_path));
  if (absl::Status written =
          WriteTextProtoFile(RecordPath(upload.client_id), record);
      !written.ok()) {
    server::v1::UploadRecord on_disk;
    if (!ReadTextProtoFile(RecordPath(upload.client_id), &on_disk).ok() ||
        on_disk.model_file() != model_file) {
      // The old record still rules; the unused file goes (recovery would
      // remove it too).
      std::error_code ignored;
      std::filesystem::remove(model_path, ignored);
    }
    return written;
  }
  RemoveStaleModels(upload.client_id, model_file);
  return absl::OkStatus();
}

}  // namespace epgfn
