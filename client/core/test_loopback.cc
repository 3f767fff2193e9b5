#include "client/core/test_loopback.h"

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/util/sha256.h"

namespace epgfn {

LoopbackServer StartLoopbackServer(grpc::Service& service) {
  LoopbackServer loopback;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                           &loopback.port);
  builder.RegisterService(&service);
  loopback.server = builder.BuildAndStart();
  loopback.address = absl::StrCat("127.0.0.1:", loopback.port);
  return loopback;
}

std::optional<ReceivedUpload> ReadUpload(
    grpc::ServerReader<v1::UploadChunk>& reader) {
  v1::UploadChunk chunk;
  if (!reader.Read(&chunk) || !chunk.has_header()) return std::nullopt;
  ReceivedUpload upload;
  upload.header = chunk.header();
  while (reader.Read(&chunk)) {
    upload.chunk_sizes.push_back(static_cast<int64_t>(chunk.data().size()));
    upload.payload += chunk.data();
  }
  return upload;
}

void AcknowledgeUpload(const ReceivedUpload& upload,
                       v1::UploadResponse& response) {
  response.set_client_id(upload.header.client_id());
  response.set_round(upload.header.round());
  response.set_received_bytes(static_cast<int64_t>(upload.payload.size()));
  response.set_payload_sha256(Sha256Hex(upload.payload));
}

CapturingLogSink::CapturingLogSink(std::vector<std::string> needles)
    : needles_(std::move(needles)) {
  google::AddLogSink(this);
}

CapturingLogSink::~CapturingLogSink() { google::RemoveLogSink(this); }

void CapturingLogSink::send(google::LogSeverity, const char*, const char*, int,
                            const struct ::tm*, const char* message,
                            size_t message_len) {
  const std::string line(message, message_len);
  for (const std::string& needle : needles_) {
    if (absl::StrContains(line, needle)) {
      absl::MutexLock lock(&mutex_);
      lines_.push_back(line);
      return;
    }
  }
}

std::vector<std::string> CapturingLogSink::lines() {
  absl::MutexLock lock(&mutex_);
  return lines_;
}

}  // namespace epgfn
