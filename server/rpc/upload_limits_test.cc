// Resource limits on upload streams over real gRPC on loopback (issue #15,
// item 8): an idle stream is closed by the server, a client may hold only so
// many streams, the server only so many in total, and the bytes all streams
// buffer are bounded; each excess is RESOURCE_EXHAUSTED before any data is
// received, and the state directory is left as it was.
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/util/sha256.h"
#include "gtest/gtest.h"
#include "proto/federation.grpc.pb.h"
#include "server/core/server_core.h"
#include "server/rpc/rpc_server.h"
#include "server/testing/loopback_rpc_options.h"
#include "server/testing/test_federation.h"

namespace epgfn {
namespace {

// An upload stream that has sent its header and then nothing.
struct OpenUpload {
  std::unique_ptr<grpc::ClientContext> context =
      std::make_unique<grpc::ClientContext>();
  v1::UploadResponse response;
  std::unique_ptr<grpc::ClientWriter<v1::UploadChunk>> writer;

  // Ends the stream and returns the server's verdict.
  grpc::Status Finish() {
    writer->WritesDone();
    return writer->Finish();
  }
};

class UploadLimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = test_support::SmallHypergridConfig(3);
    payload_ = test_support::LocalModelPayload(*config_, 0, 3, 0);
    auto options = *ServerCore::Options::Create(
        test_support::FreshDirectory("limits"), torch::kCPU, 100);
    options.upload_limits.max_concurrent_uploads = 2;
    options.upload_limits.max_concurrent_uploads_per_client = 1;
    options.upload_limits.max_buffered_bytes =
        static_cast<int64_t>(payload_.size() * 3 / 2);
    options.upload_limits.idle_timeout = absl::Milliseconds(300);
    core_ = *ServerCore::Create(config_, options);
    RpcServerOptions rpc =
        test_support::InsecureLoopbackOptions(int64_t{1} << 20);
    server_ = *RpcServer::Start(core_.get(), rpc);
    stub_ = v1::Federation::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                            grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    server_->Shutdown(absl::Seconds(2));
    server_.reset();
    core_.reset();
  }

  std::unique_ptr<OpenUpload> Open(const std::string& client_id,
                                   bool send_header = true) {
    auto upload = std::make_unique<OpenUpload>();
    upload->context->set_deadline(std::chrono::system_clock::now() +
                                  std::chrono::seconds(60));
    upload->writer =
        stub_->UploadModel(upload->context.get(), &upload->response);
    if (send_header) {
      v1::UploadChunk chunk;
      v1::UploadHeader* header = chunk.mutable_header();
      header->set_client_id(client_id);
      header->set_spec_digest(config_->spec_digest);
      header->set_round(1);
      header->set_total_bytes(static_cast<int64_t>(payload_.size()));
      header->set_payload_sha256(Sha256Hex(payload_));
      // Not asserted: a stream the server refuses at once (too many
      // streams) may be closed before the header is written, which fails
      // the write under load. Each test checks admission and Finish().
      upload->writer->Write(chunk);
    }
    return upload;
  }

  // Waits until the server holds `streams` streams buffering `bytes`.
  bool WaitForAdmission(int64_t streams, int64_t bytes) {
    const absl::Time give_up = absl::Now() + absl::Seconds(30);
    while (absl::Now() < give_up) {
      if (core_->upload_admission().open_streams() == streams &&
          core_->upload_admission().buffered_bytes() == bytes) {
        return true;
      }
      absl::SleepFor(absl::Milliseconds(5));
    }
    return false;
  }

  std::shared_ptr<const FederationConfig> config_;
  std::string payload_;
  std::unique_ptr<ServerCore> core_;
  std::unique_ptr<RpcServer> server_;
  std::unique_ptr<v1::Federation::Stub> stub_;
};

TEST_F(UploadLimitsTest, TheServerClosesAnIdleStream) {
  const absl::Time start = absl::Now();
  auto idle = Open("client-0");
  auto silent = Open("client-1", /*send_header=*/false);
  ASSERT_TRUE(WaitForAdmission(2, static_cast<int64_t>(payload_.size())));
  // Both are cancelled by the server after ~300 ms without a message.
  ASSERT_TRUE(WaitForAdmission(0, 0));
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  EXPECT_FALSE(idle->Finish().ok());
  EXPECT_FALSE(silent->Finish().ok());
  EXPECT_EQ(core_->Status().refused_uploads.at(kRefusedTransfer), 2);
  EXPECT_EQ(core_->Status().clients[0].accepted_round, 0);
}

TEST_F(UploadLimitsTest, CapsStreamsPerClientInTotalAndInBufferedBytes) {
  const int64_t size = static_cast<int64_t>(payload_.size());
  auto first = Open("client-0");
  ASSERT_TRUE(WaitForAdmission(1, size));
  // A second stream of the same client.
  grpc::Status same_client = Open("client-0")->Finish();
  EXPECT_EQ(same_client.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(same_client.error_message().find("client-0"), std::string::npos);
  // Another client, but both payloads would exceed the memory bound.
  grpc::Status memory = Open("client-1")->Finish();
  EXPECT_EQ(memory.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(memory.error_message().find("cannot buffer"), std::string::npos);
  // Two streams open (one before its header): a third is refused at once.
  auto second = Open("client-1", /*send_header=*/false);
  ASSERT_TRUE(WaitForAdmission(2, size));
  grpc::Status total = Open("client-2")->Finish();
  EXPECT_EQ(total.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(total.error_message().find("limit"), std::string::npos);
  second->context->TryCancel();

  // The first stream completes normally and frees its places.
  v1::UploadChunk chunk;
  chunk.set_data(payload_);
  ASSERT_TRUE(first->writer->Write(chunk));
  grpc::Status accepted = first->Finish();
  EXPECT_TRUE(accepted.ok()) << accepted.error_message();
  ASSERT_TRUE(WaitForAdmission(0, 0));
  EXPECT_EQ(core_->Status().clients[0].accepted_round, 1);
  EXPECT_EQ(core_->Status().clients[1].accepted_round, 0);
}

}  // namespace
}  // namespace epgfn
