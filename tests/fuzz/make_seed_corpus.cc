// Writes the seed inputs of model_upload_fuzzer into the directory given as
// the only argument (tests/fuzz/corpus/model_upload): real exported models
// of the fuzz federation in several chunkings, and models that each check of
// the upload path refuses. Deterministic (fixed seeds).
//
//   bazel run //tests/fuzz:make_seed_corpus --
//   $PWD/tests/fuzz/corpus/model_upload

#include <torch/types.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/env/environment_config.h"
#include "common/env/environment_registry.h"
#include "common/model/model_codec.h"
#include "common/policy/policy_net.h"

namespace epgfn {
namespace {

// The fuzz federation of model_upload_fuzzer.cc.
constexpr char kEnvironment[] = "hypergrid:dim=2,side=3";

PolicyArchitecture Architecture(bool full) {
  PolicyArchitecture architecture;
  architecture.hidden_width = 8;
  architecture.hidden_layers = 1;
  architecture.learned_backward = full;
  architecture.state_flow = full;
  return architecture;
}

std::string ExportedPayload(const std::string& environment_text, bool full,
                            uint64_t seed) {
  auto config = EnvironmentConfig::Parse(environment_text);
  auto environment = MakeEnvironment(*config);
  if (!environment.ok()) {
    std::fprintf(stderr, "%s\n", environment.status().ToString().c_str());
    std::exit(1);
  }
  auto policy =
      MakePolicy(**environment, Architecture(full), seed, torch::kCPU);
  return ExportModel(**environment, *policy).SerializeAsString();
}

// Replaces the first float of tensor `index` with `value`.
std::string WithFirstValue(const std::string& payload, int index, float value) {
  v1::ModelWeights weights;
  weights.ParseFromString(payload);
  std::string* data = weights.mutable_tensors(index)->mutable_data();
  std::memcpy(data->data(), &value, sizeof(value));
  return weights.SerializeAsString();
}

// Every value of every tensor set to `value`.
std::string WithAllValues(const std::string& payload, float value) {
  v1::ModelWeights weights;
  weights.ParseFromString(payload);
  for (v1::TensorData& tensor : *weights.mutable_tensors()) {
    std::string* data = tensor.mutable_data();
    for (size_t i = 0; i + sizeof(value) <= data->size(); i += sizeof(value)) {
      std::memcpy(data->data() + i, &value, sizeof(value));
    }
  }
  return weights.SerializeAsString();
}

// The fuzzer's input: flags, chunk size (little-endian), payload.
void Write(const std::string& directory, const std::string& name, uint8_t flags,
           uint16_t chunk_bytes, const std::string& payload) {
  std::string input;
  input.push_back(static_cast<char>(flags));
  input.push_back(static_cast<char>(chunk_bytes & 0xff));
  input.push_back(static_cast<char>(chunk_bytes >> 8));
  input += payload;
  std::ofstream(absl::StrCat(directory, "/", name), std::ios::binary) << input;
}

}  // namespace
}  // namespace epgfn

int main(int argc, char** argv) {
  using epgfn::Write;
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUTPUT_DIRECTORY\n", argv[0]);
    return 2;
  }
  const std::string out = argv[1];
  const std::string valid =
      epgfn::ExportedPayload(epgfn::kEnvironment, /*full=*/false, 1);
  Write(out, "valid_one_chunk", 0x00, 4096, valid);
  Write(out, "valid_64_byte_chunks_replayed", 0x08, 64, valid);
  Write(out, "valid_alternating_7_and_1_byte_chunks", 0x04, 7, valid);
  Write(out, "valid_after_empty_chunk", 0x10, 300, valid);
  Write(out, "wrong_digest", 0x01, 128, valid);
  Write(out, "size_announced_too_large", 0x42, 128, valid);
  Write(out, "other_architecture", 0x00, 4096,
        epgfn::ExportedPayload(epgfn::kEnvironment, true, 2));
  Write(out, "other_environment", 0x00, 4096,
        epgfn::ExportedPayload("hypergrid:dim=2,side=4", false, 3));
  Write(out, "nan_weight", 0x00, 4096,
        epgfn::WithFirstValue(valid, 0, std::nanf("")));
  Write(out, "huge_weights_overflow_outputs", 0x00, 4096,
        epgfn::WithAllValues(valid, 3e38f));
  Write(out, "truncated_protobuf", 0x00, 4096,
        valid.substr(0, valid.size() / 2));
  return 0;
}
