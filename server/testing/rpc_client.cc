#include "server/testing/rpc_client.h"

#include <chrono>
#include <vector>

#include "common/transfer/payload.h"
#include "common/util/sha256.h"

namespace epgfn {
namespace test_support {
namespace {

void SetDeadline(grpc::ClientContext& context) {
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(60));
}

}  // namespace

UploadOutcome Upload(
    v1::Federation::Stub& stub, const std::string& client_id,
    const std::string& spec_digest, int64_t round, const std::string& payload,
    const std::function<void(std::vector<v1::UploadChunk>&)>& tamper) {
  std::vector<v1::UploadChunk> chunks(1);
  v1::UploadHeader* header = chunks[0].mutable_header();
  header->set_client_id(client_id);
  header->set_spec_digest(spec_digest);
  header->set_round(round);
  header->set_total_bytes(static_cast<int64_t>(payload.size()));
  header->set_payload_sha256(Sha256Hex(payload));
  header->mutable_diagnostics()->set_alpha(0.2);
  header->mutable_diagnostics()->set_beta(0.3);
  header->mutable_diagnostics()->set_num_trajectories(64);
  for (absl::string_view piece : SplitIntoChunks(payload)) {
    chunks.emplace_back().set_data(piece.data(), piece.size());
  }
  if (tamper) tamper(chunks);

  UploadOutcome outcome;
  grpc::ClientContext context;
  SetDeadline(context);
  auto writer = stub.UploadModel(&context, &outcome.response);
  for (const v1::UploadChunk& chunk : chunks) {
    if (!writer->Write(chunk)) break;
  }
  writer->WritesDone();
  outcome.status = writer->Finish();
  return outcome;
}

Download DownloadModel(v1::Federation::Stub& stub, int64_t version) {
  Download download;
  grpc::ClientContext context;
  SetDeadline(context);
  v1::DownloadRequest request;
  request.set_version(version);
  auto reader = stub.DownloadGlobalModel(&context, request);
  v1::DownloadChunk chunk;
  while (reader->Read(&chunk)) {
    if (chunk.has_header()) {
      download.header = chunk.header();
    } else {
      download.payload += chunk.data();
    }
  }
  download.status = reader->Finish();
  return download;
}

std::string TestAdminToken() { return std::string(48, 'A') + "-test-admin"; }

FederationAccessOptions TestAdminAccess() {
  FederationAccessOptions options;
  options.admin_tokens =
      *ParseBearerTokens("test-operator:" + TestAdminToken(), "test admins");
  return options;
}

void AddAdminToken(grpc::ClientContext& context) {
  context.AddMetadata("authorization", "Bearer " + TestAdminToken());
}

}  // namespace test_support
}  // namespace epgfn
