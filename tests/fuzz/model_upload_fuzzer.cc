// libFuzzer target: bytes -> what the server does with an upload.
//
// The input is a 3-byte header followed by a payload (normally a serialized
// epgfn.v1.ModelWeights):
//   byte 0     flags: bit 0 announces a wrong digest, bit 1 a wrong size
//              (bits 5-7 pick by how much), bit 2 alternates the chunk size
//              with 1-byte chunks, bit 3 submits the payload a second time
//              (a replay), bit 4 appends an empty chunk first
//   bytes 1-2  chunk size, little-endian (0 means 1)
// The payload goes through PayloadAssembler in those chunks and, once
// assembled, through UploadStore::Submit of a small hypergrid federation:
// protobuf parse, ImportModel with every check, the architecture check
// against the federation and the finite-outputs probe. A crash, a sanitizer
// report, an escaping exception or a broken invariant below is a bug.

#include <stdlib.h>
#include <torch/types.h>
#include <torch/utils.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/model/model_codec.h"
#include "common/transfer/payload.h"
#include "common/util/sha256.h"
#include "server/core/federation_config.h"
#include "server/core/upload_store.h"
#include "tests/fuzz/fuzz_check.h"

namespace epgfn {
namespace {

// Small enough that a valid model is ~1 KB, so mutations reach every check.
// Keep in sync with make_seed_corpus.cc.
constexpr char kFederation[] = R"pb(
  name: "fuzz-upload"
  environment {
    kind: "hypergrid"
    params { key: "dim" value: "2" }
    params { key: "side" value: "3" }
  }
  local_architecture { hidden_width: 8 hidden_layers: 1 }
  global_architecture { hidden_width: 8 hidden_layers: 1 }
  client_ids: "client-0"
)pb";
constexpr char kClient[] = "client-0";
// The server's --max_upload_bytes is larger; a small cap keeps the fuzzer's
// inputs and memory small while still exercising the refusal.
constexpr int64_t kMaxUploadBytes = 1 << 16;

struct Fixture {
  std::shared_ptr<const FederationConfig> config;
  std::unique_ptr<UploadStore> store;
  int64_t next_round = 1;
};

std::string MakeStateDirectory() {
  // tmpfs when there is one: accepted uploads are written with fsync.
  const char* base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : nullptr;
  if (base == nullptr) base = getenv("TMPDIR");
  if (base == nullptr) base = "/tmp";
  std::string pattern = std::string(base) + "/epgfn_upload_fuzz.XXXXXX";
  FUZZ_CHECK(mkdtemp(pattern.data()) != nullptr);
  return pattern;
}

Fixture& GetFixture() {
  static Fixture* fixture = [] {
    torch::set_num_threads(1);
    auto* f = new Fixture;
    auto config = ParseFederationConfig(kFederation, "fuzz fixture");
    FUZZ_CHECK_OK(config.status());
    f->config = *config;
    static const std::string directory = MakeStateDirectory();
    // The store is kept on tmpfs; remove it when the fuzzer exits.
    atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(directory, ignored);
    });
    auto store = UploadStore::Create(f->config, directory);
    FUZZ_CHECK_OK(store.status());
    f->store = std::move(store).value();
    return f;
  }();
  return *fixture;
}

// Chunks of `payload` as the flags and chunk size say.
std::vector<absl::string_view> Chunk(absl::string_view payload, uint8_t flags,
                                     size_t chunk_bytes) {
  std::vector<absl::string_view> chunks;
  if (flags & 0x10) chunks.push_back(absl::string_view());
  bool small = false;
  size_t offset = 0;
  while (offset < payload.size()) {
    const size_t size = (flags & 0x04) && small ? 1 : chunk_bytes;
    chunks.push_back(payload.substr(offset, size));
    offset += chunks.back().size();
    small = !small;
  }
  return chunks;
}

// The assembled payload when the transfer succeeds; checks the assembler
// against what it was given.
absl::StatusOr<std::string> Assemble(absl::string_view payload, uint8_t flags,
                                     size_t chunk_bytes) {
  int64_t announced_size = static_cast<int64_t>(payload.size());
  if (flags & 0x02) announced_size += 1 + (flags >> 5);
  std::string digest = Sha256Hex(payload);
  if (flags & 0x01) digest[0] = digest[0] == '0' ? '1' : '0';
  absl::StatusOr<PayloadAssembler> assembler =
      PayloadAssembler::Create(announced_size, digest, kMaxUploadBytes);
  if (!assembler.ok()) {
    FUZZ_CHECK(announced_size > kMaxUploadBytes);
    return assembler.status();
  }
  bool all_appended = true;
  for (absl::string_view chunk : Chunk(payload, flags, chunk_bytes)) {
    const int64_t before = assembler->received_bytes();
    absl::Status appended = assembler->Append(chunk);
    FUZZ_CHECK(assembler->received_bytes() <= announced_size);
    if (chunk.empty()) {
      FUZZ_CHECK(!appended.ok());
    }
    if (!appended.ok()) {
      // A refused chunk leaves the assembler as it was.
      FUZZ_CHECK(assembler->received_bytes() == before);
      FUZZ_CHECK(chunk.empty() ||
                 static_cast<int64_t>(chunk.size()) > kMaxChunkBytes ||
                 before + static_cast<int64_t>(chunk.size()) > announced_size);
      if (!chunk.empty()) all_appended = false;
    }
  }
  absl::StatusOr<std::string> assembled = std::move(*assembler).Finish();
  if (getenv("EPGFN_FUZZ_VERBOSE") != nullptr) {
    fprintf(stderr, "transfer: %s\n", assembled.status().ToString().c_str());
  }
  if (all_appended && announced_size == static_cast<int64_t>(payload.size()) &&
      !(flags & 0x01)) {
    FUZZ_CHECK_OK(assembled.status());
    FUZZ_CHECK(*assembled == payload);
  } else {
    // Missing bytes or a wrong digest: the transfer must fail.
    FUZZ_CHECK(!assembled.ok());
  }
  return assembled;
}

void SubmitUpload(const std::string& payload, bool replay) {
  Fixture& fixture = GetFixture();
  UploadRequest request;
  request.client_id = kClient;
  request.spec_digest = fixture.config->spec_digest;
  request.round = fixture.next_round++;
  request.payload = payload;
  absl::StatusOr<std::shared_ptr<const AcceptedUpload>> accepted =
      fixture.store->Submit(request);
  if (getenv("EPGFN_FUZZ_VERBOSE") != nullptr) {
    fprintf(stderr, "submit: %s\n", accepted.status().ToString().c_str());
  }
  if (!accepted.ok()) {
    const absl::StatusCode code = accepted.status().code();
    // A bad model is the client's fault, never an internal error.
    FUZZ_CHECK_MSG(code == absl::StatusCode::kInvalidArgument,
                   accepted.status().ToString());
    return;
  }
  const AcceptedUpload& upload = **accepted;
  FUZZ_CHECK(upload.payload_sha256 == Sha256Hex(payload));
  FUZZ_CHECK(upload.policy->architecture() ==
             fixture.config->local_architecture);
  // What was accepted exports and imports again.
  PolicyNet policy = upload.policy;
  const v1::ModelWeights exported =
      ExportModel(*fixture.config->environment, policy);
  absl::StatusOr<PolicyNet> reimported =
      ImportModel(exported, *fixture.config->environment, torch::kCPU);
  FUZZ_CHECK_OK(reimported.status());
  if (replay) {
    absl::Status again = fixture.store->Submit(request).status();
    FUZZ_CHECK_MSG(again.code() == absl::StatusCode::kAlreadyExists,
                   again.ToString());
  }
}

}  // namespace
}  // namespace epgfn

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  const uint8_t flags = data[0];
  size_t chunk_bytes = data[1] | (static_cast<size_t>(data[2]) << 8);
  if (chunk_bytes == 0) chunk_bytes = 1;
  const absl::string_view payload(reinterpret_cast<const char*>(data + 3),
                                  size - 3);
  absl::StatusOr<std::string> assembled =
      epgfn::Assemble(payload, flags, chunk_bytes);
  if (assembled.ok()) epgfn::SubmitUpload(*assembled, flags & 0x08);
  return 0;
}
