#ifndef EPGFN_SERVER_CORE_SERVER_CORE_H_
#define EPGFN_SERVER_CORE_SERVER_CORE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/util/directory_lock.h"
#include "server/core/coordinator.h"
#include "server/core/federation_config.h"
#include "server/core/model_store.h"
#include "server/core/sampler.h"
#include "server/core/summarizer.h"
#include "server/core/upload_admission.h"
#include "server/core/upload_selection.h"
#include "server/core/upload_store.h"

namespace epgfn {

struct ClientState {
  std::string client_id;
  int64_t accepted_round = 0;  // 0: none
  std::optional<LocalDiagnostics> diagnostics;
  // The accepted upload is left out of aggregation by the exclusion policy.
  bool excluded = false;
  std::string exclusion_reason;
};

// A named aggregate's part of the status.
struct NamedAggregateStatus {
  std::string name;
  std::map<std::string, double> weights;
  AggregationState aggregation;
  // Its latest version; 0 before the first.
  int64_t current_version = 0;
};

struct FederationStatus {
  std::string federation;
  std::string spec_digest;
  std::vector<ClientState> clients;
  AggregationState aggregation;
  int64_t current_version = 0;
  std::map<std::string, int64_t> refused_uploads;
  // The config's named aggregates, in its order.
  std::vector<NamedAggregateStatus> aggregates;
};

// The aggregation server without any RPC (as TensorFlow Serving's
// ServerCore): the federation's config, the upload and model stores, the
// aggregation coordinator and the sampler. Each named aggregate of the
// config has its own model store and coordinator under
// <state_dir>/aggregates/<name>/ over the same uploads. The RPC handlers are
// thin translations onto these methods; tests drive it in-process.
class ServerCore {
 public:
  struct Options {
    // Uploads and published versions live here; created when missing.
    std::string state_dir;
    // Where every store imports its models and the coordinators aggregate;
    // the sub-options have no device of their own.
    torch::Device device = torch::kCPU;
    SamplerOptions sampler;
    CoordinatorOptions coordinator;
    UploadStoreOptions uploads;
    ModelStoreOptions models;
    UploadLimits upload_limits;

    // The defaults with these three set, validated.
    static absl::StatusOr<Options> Create(const std::string& state_dir,
                                          torch::Device device,
                                          int64_t max_samples_per_request);
    // The first problem with any of them (ServerCore::Create refuses them
    // before it touches the state directory).
    absl::Status Validate() const;
  };

  // Locks the state directory for the life of the core (FAILED_PRECONDITION
  // when another process holds it or it is not writable; see
  // DirectoryLock), recovers it and starts the coordinator.
  static absl::StatusOr<std::unique_ptr<ServerCore>> Create(
      std::shared_ptr<const FederationConfig> config, const Options& options);
  ~ServerCore();

  const FederationConfig& config() const { return *config_; }

  // See UploadStore::CheckHeader / Submit; logs the outcome and wakes the
  // coordinator on acceptance.
  absl::Status CheckUploadHeader(const std::string& client_id,
                                 const std::string& spec_digest, int64_t round,
                                 int64_t base_round = 0);
  absl::StatusOr<std::shared_ptr<const AcceptedUpload>> SubmitUpload(
      const UploadRequest& request);
  // Counts and logs an upload refused before it reached the store.
  void RecordRefusedUpload(const std::string& client_id,
                           const std::string& reason,
                           const absl::Status& status);

  FederationStatus Status() const;

  const ModelStore& models() const { return *models_; }
  // Adds a named aggregate at run time (an operator's request, `caller`
  // for the log): validated as a config's (InvalidArgument, nothing
  // changes), then created and started as the config's are; it starts from
  // the uploads already accepted. It lasts until the server stops.
  absl::StatusOr<NamedAggregateStatus> AddNamedAggregate(
      const v1::NamedAggregate& aggregate, const std::string& caller);

  // The store of the aggregate `aggregate` (empty or "default": models());
  // NotFound, naming the known aggregates, for an unknown name.
  absl::StatusOr<const ModelStore*> FindModels(
      const std::string& aggregate) const;
  Sampler& sampler() { return *sampler_; }
  // Admission of upload streams (concurrency and memory caps, idle timeout).
  UploadAdmission& upload_admission() { return *admission_; }
  Summarizer& summarizer() { return *summarizer_; }

  // Wakes and ends every watcher and stops aggregation; the stores stay
  // readable until destruction.
  void BeginShutdown();
  bool shutting_down() const { return models_->closed(); }

 private:
  ServerCore() = default;

  struct NamedAggregate {
    NamedAggregateConfig config;
    std::unique_ptr<ModelStore> models;
    std::unique_ptr<Coordinator> coordinator;
  };

  // First, so that it is released last, after every store is closed.
  std::unique_ptr<DirectoryLock> lock_;
  std::shared_ptr<const FederationConfig> config_;
  std::unique_ptr<UploadStore> uploads_;
  std::unique_ptr<ModelStore> models_;
  std::unique_ptr<Coordinator> coordinator_;
  // Creates (not starts) a named aggregate's store and coordinator.
  absl::StatusOr<std::unique_ptr<NamedAggregate>> MakeNamedAggregate(
      const NamedAggregateConfig& aggregate) const;
  NamedAggregateStatus StatusOf(const NamedAggregate& named) const;

  // What MakeNamedAggregate needs of the options (coordinator's without a
  // checkpoint directory or aggregate).
  std::string state_dir_;
  torch::Device device_ = torch::kCPU;
  ModelStoreOptions model_options_;
  CoordinatorOptions coordinator_options_;
  // The config's, in its order, then those added at run time. Never
  // removed, so the stores' addresses stay valid for the sampler.
  mutable absl::Mutex named_mutex_;
  std::vector<std::unique_ptr<NamedAggregate>> named_
      ABSL_GUARDED_BY(named_mutex_);
  std::unique_ptr<Sampler> sampler_;
  std::unique_ptr<UploadAdmission> admission_;
  std::unique_ptr<Summarizer> summarizer_;
};

// For tests/bench, which another change updates; new code says
// ServerCore::Options.
using ServerCoreOptions = ServerCore::Options;

}  // namespace epgfn

#endif  // EPGFN_SERVER_CORE_SERVER_CORE_H_
