// Every (role, RPC) pair over real mutual TLS with certificates from
// deploy/gen_certs.sh (issue #15, item 7): the Federation service's client
// RPCs are for member certificates only, GetStatus for an admin token only,
// and the Sampler keeps its own access (token mode here). A certificate
// signed by the federation's CA for a non-member (as sampler users get them
// from provision.sh) no longer reads the model, the spec or the status.
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "common/util/sha256.h"
#include "gtest/gtest.h"
#include "proto/federation.grpc.pb.h"
#include "proto/sampler.grpc.pb.h"
#include "server/core/sampler_access.h"
#include "server/testing/rpc_client.h"
#include "server/testing/sampler_server.h"
#include "server/testing/test_federation.h"

namespace epgfn {
namespace {

using grpc::StatusCode;

// Who calls: the certificate presented ("" for none) and the bearer token.
struct Role {
  std::string name;
  std::string certificate;
  std::string token;
};

class AuthorizationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto certs = test_support::GenerateCertificates(
        {"client-0", "client-1", "sampler-alice"});
    ASSERT_TRUE(certs.ok()) << certs.status();
    SamplerAccessOptions sampler_access;
    sampler_access.mode = SamplerAuthMode::kToken;
    sampler_access.tokens = *ParseSamplerTokens(
        "alice:" + test_support::TestToken(1), "sampler tokens");
    auto server = test_support::StartSamplerServer(*certs, /*mutual_tls=*/true,
                                                   sampler_access);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = server->release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  static std::chrono::system_clock::time_point Deadline() {
    return std::chrono::system_clock::now() + std::chrono::seconds(10);
  }

  static void Prepare(grpc::ClientContext& context, const Role& role) {
    context.set_deadline(Deadline());
    if (!role.token.empty()) {
      context.AddMetadata("authorization", "Bearer " + role.token);
    }
  }

  // Reads a server stream to its end; its status code.
  template <typename Message>
  static StatusCode DrainCode(grpc::ClientReader<Message>& reader) {
    Message message;
    while (reader.Read(&message)) {
    }
    return reader.Finish().error_code();
  }

  // The status code of each RPC when `role` calls it.
  static std::map<std::string, StatusCode> Codes(const Role& role) {
    std::shared_ptr<grpc::Channel> channel = server_->Channel(role.certificate);
    auto federation = v1::Federation::NewStub(channel);
    auto sampler = v1::Sampler::NewStub(channel);
    std::map<std::string, StatusCode> codes;
    {
      grpc::ClientContext context;
      Prepare(context, role);
      v1::GetSpecRequest request;
      request.set_client_id(role.certificate);
      v1::GetSpecResponse response;
      codes["GetSpec"] =
          federation->GetSpec(&context, request, &response).error_code();
    }
    {
      // Uploads as the certificate's own client, so that only the role
      // decides; a member's upload is valid and accepted.
      const std::string payload =
          test_support::LocalModelPayload(server_->core->config(), 0, 2, 0);
      grpc::ClientContext context;
      Prepare(context, role);
      v1::UploadResponse response;
      auto writer = federation->UploadModel(&context, &response);
      v1::UploadChunk chunk;
      v1::UploadHeader* header = chunk.mutable_header();
      header->set_client_id(role.certificate);
      header->set_spec_digest(server_->core->config().spec_digest);
      header->set_round(1);
      header->set_total_bytes(static_cast<int64_t>(payload.size()));
      header->set_payload_sha256(Sha256Hex(payload));
      if (writer->Write(chunk)) {
        chunk.Clear();
        chunk.set_data(payload);
        if (writer->Write(chunk)) writer->WritesDone();
      }
      codes["UploadModel"] = writer->Finish().error_code();
    }
    {
      grpc::ClientContext context;
      Prepare(context, role);
      auto reader = federation->WatchGlobalModel(&context, {});
      v1::GlobalModelAnnouncement announcement;
      if (reader->Read(&announcement)) {
        EXPECT_EQ(announcement.version(), 1);
        codes["WatchGlobalModel"] = StatusCode::OK;
        context.TryCancel();
        reader->Finish().IgnoreError();
      } else {
        codes["WatchGlobalModel"] = reader->Finish().error_code();
      }
    }
    {
      grpc::ClientContext context;
      Prepare(context, role);
      v1::DownloadRequest request;
      request.set_version(1);
      codes["DownloadGlobalModel"] =
          DrainCode(*federation->DownloadGlobalModel(&context, request));
    }
    {
      grpc::ClientContext context;
      Prepare(context, role);
      v1::GetStatusResponse response;
      codes["GetStatus"] =
          federation->GetStatus(&context, {}, &response).error_code();
    }
    {
      grpc::ClientContext context;
      Prepare(context, role);
      v1::SampleRequest request;
      request.set_num_samples(3);
      codes["Sample"] = DrainCode(*sampler->Sample(&context, request));
    }
    {
      grpc::ClientContext context;
      Prepare(context, role);
      v1::ListModelsResponse response;
      codes["ListModels"] =
          sampler->ListModels(&context, {}, &response).error_code();
    }
    return codes;
  }

  static test_support::SamplerServer* server_;
};

test_support::SamplerServer* AuthorizationTest::server_ = nullptr;

constexpr StatusCode OK = StatusCode::OK;
constexpr StatusCode DENIED = StatusCode::PERMISSION_DENIED;
constexpr StatusCode UNAUTHENTICATED = StatusCode::UNAUTHENTICATED;
constexpr StatusCode UNAVAILABLE = StatusCode::UNAVAILABLE;

using Expected = std::map<std::string, StatusCode>;

void ExpectCodes(const Role& role, const Expected& expected,
                 const std::map<std::string, StatusCode>& got) {
  for (const auto& [rpc, code] : expected) {
    ASSERT_EQ(got.count(rpc), 1u) << rpc;
    EXPECT_EQ(got.at(rpc), code)
        << role.name << " calling " << rpc << ": got code "
        << static_cast<int>(got.at(rpc)) << ", want " << static_cast<int>(code);
  }
}

TEST_F(AuthorizationTest, MemberClientCallsTheClientRpcsOnly) {
  const Role role{"member client-0", "client-0", ""};
  ExpectCodes(role,
              {{"GetSpec", OK},
               {"UploadModel", OK},
               {"WatchGlobalModel", OK},
               {"DownloadGlobalModel", OK},
               {"GetStatus", UNAUTHENTICATED},
               {"Sample", UNAUTHENTICATED},
               {"ListModels", UNAUTHENTICATED}},
              Codes(role));
}

TEST_F(AuthorizationTest, NonMemberCertificateOfTheCaGetsNothing) {
  const Role role{"non-member certificate", "sampler-alice", ""};
  ExpectCodes(role,
              {{"GetSpec", DENIED},
               {"UploadModel", DENIED},
               {"WatchGlobalModel", DENIED},
               {"DownloadGlobalModel", DENIED},
               {"GetStatus", UNAUTHENTICATED},
               {"Sample", UNAUTHENTICATED},
               {"ListModels", UNAUTHENTICATED}},
              Codes(role));
}

TEST_F(AuthorizationTest, SamplerTokenCallsTheSamplerOnly) {
  const Role role{"sampler token", "sampler-alice", test_support::TestToken(1)};
  ExpectCodes(role,
              {{"GetSpec", DENIED},
               {"UploadModel", DENIED},
               {"WatchGlobalModel", DENIED},
               {"DownloadGlobalModel", DENIED},
               // A sampler token is not an admin token.
               {"GetStatus", UNAUTHENTICATED},
               {"Sample", OK},
               {"ListModels", OK}},
              Codes(role));
}

TEST_F(AuthorizationTest, AdminTokenCallsGetStatusOnly) {
  const Role role{"admin token", "sampler-alice",
                  test_support::TestAdminToken()};
  ExpectCodes(role,
              {{"GetSpec", DENIED},
               {"UploadModel", DENIED},
               {"WatchGlobalModel", DENIED},
               {"DownloadGlobalModel", DENIED},
               {"GetStatus", OK},
               // An admin token is not a sampler token.
               {"Sample", UNAUTHENTICATED},
               {"ListModels", UNAUTHENTICATED}},
              Codes(role));
}

TEST_F(AuthorizationTest, AMemberWithAnAdminTokenIsBoth) {
  const Role role{"member + admin token", "client-1",
                  test_support::TestAdminToken()};
  const auto codes = Codes(role);
  EXPECT_EQ(codes.at("GetSpec"), OK);
  EXPECT_EQ(codes.at("GetStatus"), OK);
}

TEST_F(AuthorizationTest, NoCredentialsNeverPassTheHandshake) {
  const Role role{"no credentials", "", ""};
  Expected expected;
  for (const char* rpc :
       {"GetSpec", "UploadModel", "WatchGlobalModel", "DownloadGlobalModel",
        "GetStatus", "Sample", "ListModels"}) {
    expected[rpc] = UNAVAILABLE;
  }
  ExpectCodes(role, expected, Codes(role));
}

TEST_F(AuthorizationTest, GetSpecUnderAnotherMembersIdIsRefused) {
  auto federation = v1::Federation::NewStub(server_->Channel("client-1"));
  grpc::ClientContext context;
  context.set_deadline(Deadline());
  v1::GetSpecRequest request;
  request.set_client_id("client-0");
  v1::GetSpecResponse response;
  const grpc::Status status = federation->GetSpec(&context, request, &response);
  EXPECT_EQ(status.error_code(), DENIED);
  EXPECT_EQ(status.error_message(),
            "the client certificate names 'client-1' but the call is made as "
            "client 'client-0'; run the client with --client_id=client-1 or "
            "with that client's certificate");
  EXPECT_FALSE(response.has_spec());
}

}  // namespace
}  // namespace epgfn
