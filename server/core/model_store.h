#ifndef EPGFN_SERVER_CORE_MODEL_STORE_H_
#define EPGFN_SERVER_CORE_MODEL_STORE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/policy/policy_net.h"
#include "server/core/federation_config.h"

namespace epgfn {

// A published global model. Immutable once published, so downloads and
// sampling use it while the next aggregation trains another policy.
struct GlobalVersion {
  int64_t version = 0;
  // Aggregated clients and the round of each one's upload (same order).
  std::vector<std::string> client_ids;
  std::vector<int64_t> client_rounds;
  // Clients whose accepted uploads the exclusion policy left out, and why
  // (same order).
  std::vector<std::string> excluded_client_ids;
  std::vector<std::string> exclusion_reasons;
  // The serialized v1::ModelWeights that downloads stream.
  std::string payload;
  std::string payload_sha256;
  int64_t published_unix_seconds = 0;
  // Imported from `payload`; used for forward passes only.
  PolicyNet policy{nullptr};
};

using GlobalVersionPtr = std::shared_ptr<const GlobalVersion>;

// Published versions under <state_dir>/global/v<N>.model (+ v<N>.meta, a
// textproto GlobalVersionRecord), recovered on start, and a version counter
// that watchers wait on.
class ModelStore {
 public:
  // Recovers every intact version of this spec; leftover *.tmp files,
  // corrupt files and other specs' versions are logged and skipped.
  static absl::StatusOr<std::unique_ptr<ModelStore>> Create(
      std::shared_ptr<const FederationConfig> config,
      const std::string& state_dir, torch::Device device = torch::kCPU);

  // Exports `policy`, writes it as the next version and wakes watchers.
  absl::StatusOr<GlobalVersionPtr> Publish(
      PolicyNet policy, const std::vector<std::string>& client_ids,
      const std::vector<int64_t>& client_rounds,
      const std::vector<std::string>& excluded_client_ids = {},
      const std::vector<std::string>& exclusion_reasons = {});

  // nullptr when none.
  GlobalVersionPtr Latest() const;
  // version 0: the latest. nullptr when there is no such version.
  GlobalVersionPtr Get(int64_t version) const;
  std::vector<GlobalVersionPtr> List() const;

  // The latest version when it is newer than `after_version`, waiting up to
  // `timeout` for one; nullptr on timeout or once Close() was called.
  GlobalVersionPtr WaitForNewer(int64_t after_version,
                                absl::Duration timeout) const;

  // Wakes every waiter for good (server shutdown).
  void Close();
  bool closed() const;

 private:
  ModelStore(std::shared_ptr<const FederationConfig> config,
             std::string directory, torch::Device device);
  void Recover();
  absl::StatusOr<GlobalVersionPtr> LoadVersion(int64_t version) const;
  std::string ModelPath(int64_t version) const;
  std::string RecordPath(int64_t version) const;

  const std::shared_ptr<const FederationConfig> config_;
  const std::string directory_;
  const torch::Device device_;

  absl::Mutex publish_mutex_;  // One publisher at a time.
  mutable absl::Mutex mutex_;
  std::map<int64_t, GlobalVersionPtr> versions_ ABSL_GUARDED_BY(mutex_);
  bool closed_ ABSL_GUARDED_BY(mutex_) = false;
};

}  // namespace epgfn

#endif  // EPGFN_SERVER_CORE_MODEL_STORE_H_
