#include "common/transfer/payload.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace epgfn {

std::vector<absl::string_view> SplitIntoChunks(absl::string_view payload,
                                               int64_t chunk_bytes) {
  std::vector<absl::string_view> chunks;
  for (size_t offset = 0; offset < payload.size(); offset += chunk_bytes) {
    chunks.push_back(payload.substr(offset, chunk_bytes));
  }
  return chunks;
}

absl::StatusOr<PayloadAssembler> PayloadAssembler::Create(
    int64_t total_bytes, const std::string& sha256_hex, int64_t max_bytes) {
  if (total_bytes < 0 || total_bytes > max_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("announced payload of ", total_bytes,
                     " bytes; the limit is ", max_bytes));
  }
  bool hex = sha256_hex.size() == 64;
  for (char c : sha256_hex) {
    hex = hex && (absl::ascii_isdigit(c) || (c >= 'a' && c <= 'f'));
  }
  if (!hex) {
    return absl::InvalidArgumentError(
        "payload digest must be 64 lower-case hex characters (SHA-256)");
  }
  PayloadAssembler assembler(total_bytes, sha256_hex);
  assembler.data_->reserve(static_cast<size_t>(total_bytes));
  return assembler;
}

absl::Status PayloadAssembler::Append(absl::string_view chunk) {
  if (chunk.empty() || static_cast<int64_t>(chunk.size()) > kMaxChunkBytes) {
    return absl::InvalidArgumentError(absl::StrCat("chunk of ", chunk.size(),
                                                   " bytes; chunks hold 1 to ",
                                                   kMaxChunkBytes));
  }
  if (received_bytes() + static_cast<int64_t>(chunk.size()) > total_bytes_) {
    return absl::InvalidArgumentError(
        absl::StrCat("payload exceeds its announced ", total_bytes_, " bytes"));
  }
  // Within the reserved capacity (checked above): no reallocation moves
  // the bytes handed to the hasher.
  const size_t offset = data_->size();
  data_->append(chunk.data(), chunk.size());
  hasher_->Add(absl::string_view(data_->data() + offset, chunk.size()));
  return absl::OkStatus();
}

absl::StatusOr<std::string> PayloadAssembler::Finish() && {
  if (received_bytes() != total_bytes_) {
    return absl::DataLossError(
        absl::StrCat("payload truncated: ", received_bytes(), " of ",
                     total_bytes_, " bytes arrived"));
  }
  const std::string digest = hasher_->Digest();
  if (digest != sha256_hex_) {
    return absl::DataLossError(
        absl::StrCat("payload digest mismatch: announced ", sha256_hex_,
                     ", received ", digest));
  }
  return std::move(*data_);
}

}  // namespace epgfn
