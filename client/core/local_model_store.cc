#include "client/core/local_model_store.h"

#include <google/protobuf/text_format.h>

#include "absl/strings/str_cat.h"
#include "common/model/model_codec.h"
#include "common/util/file_io.h"
#include "common/util/sha256.h"
#include "common/util/status_macros.h"

namespace epgfn {
namespace {

constexpr int64_t kMaxRecordBytes = 1 << 20;
constexpr int64_t kMaxModelBytes = int64_t{1} << 30;

absl::Status PersistFiles(const std::string& record_path,
                          const std::string& model_path,
                          client::v1::LocalModelRecord record,
                          const v1::ModelWeights& weights) {
  // The model first: a crash in between leaves a record that does not match
  // the new model's digest, which reads as "no usable model".
  RETURN_IF_ERROR(WriteModelFile(model_path, weights));
  // The digest of the bytes as written (map fields make re-serializing an
  // unreliable way to get them).
  ASSIGN_OR_RETURN(const std::string model_bytes,
                   ReadFileToString(model_path, kMaxModelBytes));
  record.set_model_sha256(Sha256Hex(model_bytes));
  std::string text;
  if (!google::protobuf::TextFormat::PrintToString(record, &text)) {
    return absl::InternalError("could not print the local model record");
  }
  return WriteFileAtomically(record_path, text);
}

}  // namespace

std::string LocalModelPath(const std::string& state_dir) {
  return absl::StrCat(state_dir, "/local.model");
}

std::string LocalRecordPath(const std::string& state_dir) {
  return absl::StrCat(state_dir, "/local.record");
}

std::string LocalRoundModelPath(const std::string& state_dir, int64_t round) {
  return absl::StrCat(state_dir, "/local_round_", round, ".model");
}

std::string LocalRoundRecordPath(const std::string& state_dir, int64_t round) {
  return absl::StrCat(state_dir, "/local_round_", round, ".record");
}

std::optional<PersistedModel> LoadPersistedFiles(
    const std::string& record_path, const std::string& model_path,
    const Environment& environment) {
  absl::StatusOr<std::string> text =
      ReadFileToString(record_path, kMaxRecordBytes);
  if (!text.ok()) return std::nullopt;
  PersistedModel persisted;
  if (!google::protobuf::TextFormat::ParseFromString(*text,
                                                     &persisted.record)) {
    return std::nullopt;
  }
  absl::StatusOr<std::string> model_bytes =
      ReadFileToString(model_path, kMaxModelBytes);
  if (!model_bytes.ok() ||
      Sha256Hex(*model_bytes) != persisted.record.model_sha256() ||
      !persisted.weights.ParseFromString(*model_bytes)) {
    return std::nullopt;
  }
  // The model must also still fit the state graph (a spec digest collision
  // is not a concern; a stale binary with another encoding could be).
  if (!ImportModel(persisted.weights, environment, torch::kCPU).ok()) {
    return std::nullopt;
  }
  return persisted;
}

std::optional<PersistedModel> LoadPersisted(const std::string& state_dir,
                                            const Environment& environment) {
  return LoadPersistedFiles(LocalRecordPath(state_dir),
                            LocalModelPath(state_dir), environment);
}

absl::Status Persist(const std::string& state_dir,
                     const client::v1::LocalModelRecord& record,
                     const v1::ModelWeights& weights) {
  RETURN_IF_ERROR(MakeDirectories(state_dir));
  RETURN_IF_ERROR(PersistFiles(LocalRoundRecordPath(state_dir, record.round()),
                               LocalRoundModelPath(state_dir, record.round()),
                               record, weights));
  return PersistFiles(LocalRecordPath(state_dir), LocalModelPath(state_dir),
                      record, weights);
}

std::vector<std::string> DataOf(const client::v1::LocalModelRecord& record) {
  if (record.data_size() == 0) return {record.reward()};
  return {record.data().begin(), record.data().end()};
}

}  // namespace epgfn
