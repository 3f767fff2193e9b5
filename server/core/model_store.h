#ifndef EPGFN_SERVER_CORE_MODEL_STORE_H_
#define EPGFN_SERVER_CORE_MODEL_STORE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/policy/policy_net.h"
#include "server/core/federation_config.h"

namespace epgfn {

// An upload that a version aggregated.
struct IncludedUpload {
  std::string client_id;
  int64_t round = 0;
};

// A client whose accepted upload the exclusion policy left out of a version.
struct ExcludedClient {
  std::string client_id;
  std::string reason;
};

// A published global model. Immutable once published, so downloads and
// sampling use it while the next aggregation trains another policy.
struct GlobalVersion {
  int64_t version = 0;
  std::vector<IncludedUpload> included;
  std::vector<ExcludedClient> excluded;
  // The named aggregate this version belongs to and its exponents (client
  // id -> weight); empty for the default aggregate.
  std::string aggregate_name;
  std::map<std::string, double> client_weights;
  // The serialized v1::ModelWeights that downloads stream.
  std::string payload;
  std::string payload_sha256;
  int64_t published_unix_seconds = 0;
  // Imported from `payload`; used for forward passes only.
  PolicyNet policy{nullptr};

  // The fields of `included` and `excluded`, in their order (the wire and
  // disk formats list them so).
  std::vector<std::string> ClientIds() const;
  std::vector<int64_t> ClientRounds() const;
  std::vector<std::string> ExcludedClientIds() const;
  std::vector<std::string> ExclusionReasons() const;
};

using GlobalVersionPtr = std::shared_ptr<const GlobalVersion>;

// Writes a file so that a crash leaves the old or the whole new one
// (WriteFileAtomically); replaceable so that tests can inject a full disk or
// a slow one.
using FileWriter = std::function<absl::Status(const std::string& path,
                                              absl::string_view bytes)>;

struct ModelStoreOptions {
  // Version policy (as TensorFlow Serving's): the latest `resident_versions`
  // versions stay in memory (payload and imported policy) as long as their
  // payloads total at most `max_resident_bytes`; the latest one always
  // stays. Older versions are read back from disk when asked for.
  int64_t resident_versions = 4;
  int64_t max_resident_bytes = int64_t{1} << 30;
  FileWriter write_file;  // empty: WriteFileAtomically
  // Set for a named aggregate's store: every version records its name and
  // weights, and recovery skips versions recorded with others.
  std::optional<NamedAggregateConfig> aggregate;

  // InvalidArgument when a retention limit is < 1.
  absl::Status Validate() const;
};

// A version written to disk but not yet visible (ModelStore::Prepare).
struct PreparedVersion {
  std::shared_ptr<GlobalVersion> version;
};

// Published versions under <state_dir>/global/v<N>.model (+ v<N>.meta, a
// textproto GlobalVersionRecord), recovered on start, and a version counter
// that watchers wait on. Every version's record stays indexed in memory; the
// payloads and policies only of the resident ones (ModelStoreOptions).
class ModelStore {
 public:
  // Recovers every intact version of this spec (the resident ones fully,
  // older ones by their record); leftover *.tmp files, corrupt files and
  // other specs' versions are logged and skipped. Policies live on
  // `device`.
  static absl::StatusOr<std::unique_ptr<ModelStore>> Create(
      std::shared_ptr<const FederationConfig> config,
      const std::string& state_dir, const ModelStoreOptions& options = {},
      torch::Device device = torch::kCPU);

  // Exports `policy`, writes it as the next version and wakes watchers:
  // Prepare() then Commit().
  absl::StatusOr<GlobalVersionPtr> Publish(
      PolicyNet policy, std::vector<IncludedUpload> included,
      std::vector<ExcludedClient> excluded = {});

  // The slow half of Publish, which takes none of the store's reader locks:
  // export, serialization, re-import and the fsynced writes of the next
  // version's files. Nothing is visible until Commit(); a failure (a full
  // disk) leaves the published versions as they were and may be retried.
  // On disk the record is the commit point: a crash after Prepare recovers
  // the version as published.
  absl::StatusOr<PreparedVersion> Prepare(
      PolicyNet policy, std::vector<IncludedUpload> included,
      std::vector<ExcludedClient> excluded = {});
  // Makes a prepared version the latest and wakes watchers (fast).
  GlobalVersionPtr Commit(PreparedVersion prepared);

  // nullptr when none.
  GlobalVersionPtr Latest() const;
  // version 0: the latest. nullptr when there is no such version (or an
  // evicted one can no longer be read back, which is logged).
  GlobalVersionPtr Get(int64_t version) const;
  // Every version, oldest first, as metadata: `payload` is empty and
  // `policy` null for the versions not resident (Get() loads those).
  std::vector<GlobalVersionPtr> List() const;
  // The versions whose payload and policy are in memory, oldest first.
  std::vector<int64_t> ResidentVersions() const;

  // The latest version when it is newer than `after_version`, waiting up to
  // `timeout` for one; nullptr on timeout or once Close() was called.
  GlobalVersionPtr WaitForNewer(int64_t after_version,
                                absl::Duration timeout) const;

  // Wakes every waiter for good (server shutdown).
  void Close();
  bool closed() const;

 private:
  struct Entry {
    GlobalVersionPtr metadata;  // payload empty, policy null
    GlobalVersionPtr resident;  // null when evicted
  };

  ModelStore(std::shared_ptr<const FederationConfig> config,
             std::string directory, ModelStoreOptions options,
             torch::Device device);
  void Recover();
  // `metadata_only`: the record alone (the model file must exist).
  absl::StatusOr<GlobalVersionPtr> LoadVersion(int64_t version,
                                               bool metadata_only) const;
  std::string ModelPath(int64_t version) const;
  std::string RecordPath(int64_t version) const;
  void Insert(GlobalVersionPtr version) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  void Evict() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  const std::shared_ptr<const FederationConfig> config_;
  const std::string directory_;
  const ModelStoreOptions options_;
  const torch::Device device_;

  absl::Mutex publish_mutex_;  // One Prepare at a time.
  // The highest version number handed out by Prepare.
  int64_t last_prepared_ ABSL_GUARDED_BY(publish_mutex_) = 0;
  mutable absl::Mutex mutex_;
  std::map<int64_t, Entry> versions_ ABSL_GUARDED_BY(mutex_);
  bool closed_ ABSL_GUARDED_BY(mutex_) = false;
};

}  // namespace epgfn

#endif  // EPGFN_SERVER_CORE_MODEL_STORE_H_
