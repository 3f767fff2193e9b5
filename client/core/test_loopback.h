#ifndef EPGFN_CLIENT_CORE_TEST_LOOPBACK_H_
#define EPGFN_CLIENT_CORE_TEST_LOOPBACK_H_

// For the client's unit tests: an in-process gRPC server on loopback, the
// upload stream as a fake Federation service reads it, and the log lines a
// test wants to assert on.

#include <glog/logging.h>
#include <grpcpp/server.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "proto/federation.grpc.pb.h"

namespace epgfn {

struct LoopbackServer {
  std::unique_ptr<grpc::Server> server;  // null when it did not start
  int port = 0;
  std::string address;  // "127.0.0.1:<port>"
};

// Serves `service` (which must outlive the server) in plaintext on a free
// loopback port.
LoopbackServer StartLoopbackServer(grpc::Service& service);

// An upload stream as a Federation service receives it.
struct ReceivedUpload {
  v1::UploadHeader header;
  std::string payload;  // the chunks' data, concatenated
  std::vector<int64_t> chunk_sizes;
};

// Reads the header, then every chunk; nullopt when the stream does not start
// with a header.
std::optional<ReceivedUpload> ReadUpload(
    grpc::ServerReader<v1::UploadChunk>& reader);

// The answer of a server that stored `upload`.
void AcknowledgeUpload(const ReceivedUpload& upload,
                       v1::UploadResponse& response);

// While it lives, keeps the log lines that contain any of `needles`.
class CapturingLogSink : public google::LogSink {
 public:
  explicit CapturingLogSink(std::vector<std::string> needles);
  ~CapturingLogSink() override;

  void send(google::LogSeverity, const char*, const char*, int,
            const struct ::tm*, const char* message,
            size_t message_len) override;
  std::vector<std::string> lines();

 private:
  const std::vector<std::string> needles_;
  absl::Mutex mutex_;
  std::vector<std::string> lines_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace epgfn

#endif  // EPGFN_CLIENT_CORE_TEST_LOOPBACK_H_
