#include "server/testing/sampler_server.h"

#include <cstdlib>
#include <fstream>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/policy/policy_net.h"
#include "common/util/file_io.h"
#include "common/util/status_macros.h"
#include "server/core/model_store.h"
#include "server/testing/rpc_client.h"
#include "server/testing/test_federation.h"

namespace epgfn {
namespace test_support {
namespace {

absl::StatusOr<std::string> ReadPem(const std::string& path) {
  return ReadFileToString(path, 1 << 20);
}

}  // namespace

absl::StatusOr<std::string> GenerateCertificates(
    const std::vector<std::string>& client_ids) {
  const std::string certs = FreshDirectory("certs");
  const std::string command =
      absl::StrCat("bash deploy/gen_certs.sh ", certs, " ",
                   absl::StrJoin(client_ids, " "), " >/dev/null");
  if (std::system(command.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("failed: ", command));
  }
  return certs;
}

std::string TestToken(int seed) {
  std::mt19937 random(seed);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string token(64, '0');
  for (char& c : token) c = kHex[random() % 16];
  return token;
}

std::string WriteTestFile(const std::string& name, const std::string& text) {
  const std::string path = FreshDirectory(name) + "/" + name;
  std::ofstream(path) << text;
  return path;
}

SamplerServer::~SamplerServer() {
  if (server != nullptr) server->Shutdown(absl::Seconds(2));
  server.reset();
  core.reset();
}

std::shared_ptr<grpc::Channel> SamplerServer::Channel(
    const std::string& client_id) const {
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = ReadPem(certs + "/ca.pem").value_or("");
  if (!client_id.empty()) {
    ssl.pem_private_key =
        ReadPem(absl::StrCat(certs, "/", client_id, ".key")).value_or("");
    ssl.pem_cert_chain =
        ReadPem(absl::StrCat(certs, "/", client_id, ".pem")).value_or("");
  }
  grpc::ChannelArguments arguments;
  // The server certificate is issued for "localhost".
  arguments.SetSslTargetNameOverride("localhost");
  // Separate channels get separate connections (load tests spread over
  // several).
  arguments.SetInt("grpc.use_local_subchannel_pool", 1);
  return grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", server->port()),
                                   grpc::SslCredentials(ssl), arguments);
}

absl::StatusOr<std::unique_ptr<SamplerServer>> StartSamplerServer(
    const std::string& certs, bool mutual_tls,
    SamplerAccessOptions sampler_access) {
  std::shared_ptr<const FederationConfig> config = SmallHypergridConfig(2);
  const std::string state_dir = FreshDirectory("sampler-state");
  {
    // Published before the server starts, which recovers it: no aggregation
    // is needed to have something to sample from.
    ASSIGN_OR_RETURN(std::unique_ptr<ModelStore> store,
                     ModelStore::Create(config, state_dir));
    ASSIGN_OR_RETURN(PolicyNet policy,
                     MakePolicy(*config->environment,
                                config->global_architecture, 1, torch::kCPU));
    RETURN_IF_ERROR(
        store->Publish(policy, {{"client-0", 1}, {"client-1", 1}}).status());
  }
  auto server = std::make_unique<SamplerServer>();
  server->certs = certs;
  ASSIGN_OR_RETURN(ServerCore::Options core_options,
                   ServerCore::Options::Create(state_dir, torch::kCPU, 1000));
  ASSIGN_OR_RETURN(server->core, ServerCore::Create(config, core_options));
  if (server->core->models().Latest() == nullptr) {
    return absl::InternalError("the published model was not recovered");
  }
  RpcServerOptions options;
  options.listen_address = "127.0.0.1:0";
  options.tls_cert_file = certs + "/server.pem";
  options.tls_key_file = certs + "/server.key";
  if (mutual_tls) options.tls_client_ca_file = certs + "/ca.pem";
  options.max_upload_bytes = 64 << 20;
  RETURN_IF_ERROR(options.Validate());
  options.sampler_access = std::move(sampler_access);
  options.federation_access = TestAdminAccess();
  ASSIGN_OR_RETURN(server->server,
                   RpcServer::Start(server->core.get(), options));
  return server;
}

}  // namespace test_support
}  // namespace epgfn
