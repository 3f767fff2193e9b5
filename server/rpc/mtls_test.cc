// Mutual TLS with certificates from deploy/gen_certs.sh: only clients with a
// certificate from the federation's CA get in, and each may upload only as
// the client its certificate names.
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/util/file_io.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/federation.grpc.pb.h"
#include "server/core/server_core.h"
#include "server/rpc/rpc_server.h"
#include "server/testing/rpc_client.h"
#include "server/testing/test_federation.h"

namespace epgfn {
namespace {

using ::testing::HasSubstr;

std::string Read(const std::string& path) {
  auto bytes = ReadFileToString(path, 1 << 20);
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  return bytes.ok() ? *bytes : "";
}

class MutualTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    certs_ = new std::string(test_support::FreshDirectory("certs"));
    const std::string command = absl::StrCat(
        "bash deploy/gen_certs.sh ", *certs_, " client-0 client-1 >/dev/null");
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
    // A certificate without a common name whose first DNS SAN is client-1.
    const std::string& d = *certs_;
    const std::string san_only = absl::StrCat(
        "set -e; cd ", d,
        "; openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256"
        " -out san-only.key 2>/dev/null"
        "; openssl req -new -key san-only.key -subj '/O=epgfn test'"
        " -out san-only.csr 2>/dev/null"
        "; printf 'basicConstraints=CA:FALSE\\nextendedKeyUsage=clientAuth"
        "\\nsubjectAltName=DNS:client-1,DNS:client-0\\n' > san-only.ext"
        "; openssl x509 -req -in san-only.csr -CA ca.pem -CAkey ca.key"
        " -CAcreateserial -CAserial san-only.srl -days 30 -sha256"
        " -extfile san-only.ext -out san-only.pem 2>/dev/null");
    ASSERT_EQ(std::system(san_only.c_str()), 0) << san_only;
  }

  void SetUp() override {
    config_ = test_support::SmallHypergridConfig(2);
    core_ = *ServerCore::Create(
        config_, *ServerCore::Options::Create(
                     test_support::FreshDirectory("mtls"), torch::kCPU, 100));
    RpcServerOptions options;
    options.listen_address = "127.0.0.1:0";
    options.tls_cert_file = *certs_ + "/server.pem";
    options.tls_key_file = *certs_ + "/server.key";
    options.tls_client_ca_file = *certs_ + "/ca.pem";
    options.max_upload_bytes = 64 << 20;
    ASSERT_TRUE(options.Validate().ok()) << options.Validate();
    auto server = RpcServer::Start(core_.get(), options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(server).value();
  }

  void TearDown() override {
    server_->Shutdown(absl::Seconds(2));
    server_.reset();
    core_.reset();
  }

  // A stub over TLS that trusts the federation's CA and presents the
  // certificate of `client_id` (none when empty).
  std::unique_ptr<v1::Federation::Stub> Stub(const std::string& client_id) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = Read(*certs_ + "/ca.pem");
    if (!client_id.empty()) {
      ssl.pem_private_key = Read(*certs_ + "/" + client_id + ".key");
      ssl.pem_cert_chain = Read(*certs_ + "/" + client_id + ".pem");
    }
    return StubOver(grpc::SslCredentials(ssl));
  }

  std::unique_ptr<v1::Federation::Stub> StubOver(
      std::shared_ptr<grpc::ChannelCredentials> credentials) {
    grpc::ChannelArguments arguments;
    // The server certificate is issued for "localhost".
    arguments.SetSslTargetNameOverride("localhost");
    return v1::Federation::NewStub(grpc::CreateCustomChannel(
        absl::StrCat("127.0.0.1:", server_->port()), credentials, arguments));
  }

  static grpc::Status GetSpec(v1::Federation::Stub& stub) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(10));
    v1::GetSpecResponse response;
    return stub.GetSpec(&context, {}, &response);
  }

  static std::string* certs_;
  std::shared_ptr<const FederationConfig> config_;
  std::unique_ptr<ServerCore> core_;
  std::unique_ptr<RpcServer> server_;
};

std::string* MutualTlsTest::certs_ = nullptr;

TEST_F(MutualTlsTest, ClientWithCertificateCanCall) {
  EXPECT_TRUE(GetSpec(*Stub("client-0")).ok());
}

TEST_F(MutualTlsTest, ChannelWithoutClientCertificateCannotCall) {
  grpc::Status status = GetSpec(*Stub(""));
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE)
      << status.error_message();
  EXPECT_FALSE(GetSpec(*StubOver(grpc::InsecureChannelCredentials())).ok());
}

TEST_F(MutualTlsTest, UploadsOnlyAsTheCertificatesClient) {
  const std::string payload =
      test_support::LocalModelPayload(*config_, 0, 2, 0);
  auto stub = Stub("client-0");
  test_support::UploadOutcome outcome =
      test_support::Upload(*stub, "client-1", config_->spec_digest, 1, payload);
  EXPECT_EQ(outcome.status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << outcome.status.error_message();
  EXPECT_EQ(core_->Status().refused_uploads.at("identity_mismatch"), 1);
  outcome =
      test_support::Upload(*stub, "client-0", config_->spec_digest, 1, payload);
  EXPECT_TRUE(outcome.status.ok()) << outcome.status.error_message();
  EXPECT_EQ(core_->Status().clients[0].accepted_round, 1);
  EXPECT_EQ(core_->Status().clients[1].accepted_round, 0);
}

TEST_F(MutualTlsTest, IdentityIsTheFirstDnsNameWithoutACommonName) {
  const std::string payload =
      test_support::LocalModelPayload(*config_, 1, 2, 0);
  auto stub = Stub("san-only");
  test_support::UploadOutcome outcome =
      test_support::Upload(*stub, "client-0", config_->spec_digest, 1, payload);
  EXPECT_EQ(outcome.status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << outcome.status.error_message();
  outcome =
      test_support::Upload(*stub, "client-1", config_->spec_digest, 1, payload);
  EXPECT_TRUE(outcome.status.ok()) << outcome.status.error_message();
  EXPECT_EQ(core_->Status().clients[1].accepted_round, 1);
  EXPECT_EQ(core_->Status().clients[0].accepted_round, 0);
}

// The transport flags of one server, checked as the daemon checks them.
absl::Status ValidateTransport(std::string listen_address,
                               std::string tls_cert_file,
                               std::string tls_key_file,
                               std::string tls_client_ca_file, bool insecure) {
  RpcServerOptions options;
  options.listen_address = std::move(listen_address);
  options.tls_cert_file = std::move(tls_cert_file);
  options.tls_key_file = std::move(tls_key_file);
  options.tls_client_ca_file = std::move(tls_client_ca_file);
  options.insecure = insecure;
  options.max_upload_bytes = 1;
  return options.Validate();
}

TEST_F(MutualTlsTest, OptionsRequireTlsOrInsecure) {
  const std::string cert = *certs_ + "/server.pem";
  const std::string key = *certs_ + "/server.key";
  EXPECT_FALSE(ValidateTransport("127.0.0.1:0", "", "", "", false).ok());
  EXPECT_FALSE(ValidateTransport("127.0.0.1:0", cert, key, "", true).ok());
  EXPECT_FALSE(ValidateTransport("127.0.0.1:0", cert, "", "", false).ok());
  EXPECT_TRUE(ValidateTransport("127.0.0.1:0", cert, key, "", false).ok());
  EXPECT_TRUE(ValidateTransport("127.0.0.1:0", "", "", "", true).ok());
}

// The files are checked with OpenSSL when the options are made, and each
// fault is named (gRPC alone only fails to listen).
TEST_F(MutualTlsTest, OptionsNameABadKeyOrAKeyOfAnotherCertificate) {
  const std::string cert = *certs_ + "/server.pem";
  const std::string garbage =
      test_support::FreshDirectory("tls") + "/garbage.key";
  std::ofstream(garbage) << "-----BEGIN PRIVATE KEY-----\nnot base64 at all"
                            "\n-----END PRIVATE KEY-----\n";
  auto options = ValidateTransport("127.0.0.1:0", cert, garbage, "", false);
  ASSERT_FALSE(options.ok());
  EXPECT_THAT(std::string(options.message()),
              HasSubstr("is not a PEM private key"));
  options = ValidateTransport("127.0.0.1:0", cert, *certs_ + "/client-0.key",
                              "", false);
  ASSERT_FALSE(options.ok());
  EXPECT_THAT(std::string(options.message()),
              HasSubstr("client-0.key does not belong to the certificate"));
  options = ValidateTransport("127.0.0.1:0", garbage, garbage, "", false);
  ASSERT_FALSE(options.ok());
  EXPECT_THAT(std::string(options.message()),
              HasSubstr("is not a PEM certificate"));
}

TEST(RpcServerOptionsTest, ThePortMustBeInRange) {
  for (const char* bad :
       {"127.0.0.1:99999", "127.0.0.1:65536", "127.0.0.1:-1",
        "127.0.0.1:", "127.0.0.1", ":50051", "::1:50051", "127.0.0.1:5x"}) {
    auto options = ValidateTransport(bad, "", "", "", true);
    ASSERT_FALSE(options.ok()) << bad;
    EXPECT_EQ(options.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(options.message()), HasSubstr("--listen='"));
  }
  EXPECT_TRUE(ValidateTransport("[::1]:65535", "", "", "", true).ok());
  EXPECT_TRUE(ValidateTransport("0.0.0.0:0", "", "", "", true).ok());
}

}  // namespace
}  // namespace epgfn
