#include "server/core/sampler_access.h"

#include <glog/logging.h>
#include <openssl/crypto.h>

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/util/file_io.h"
#include "common/util/sha256.h"

namespace epgfn {
namespace {

constexpr int64_t kMaxTokensFileBytes = 1 << 20;
constexpr size_t kMaxSeenCallersLogged = 1000;

bool IsCallerName(absl::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(c) && c != '.' && c != '_' && c != '-') {
      return false;
    }
  }
  return true;
}

bool IsTokenText(absl::string_view token) {
  for (char c : token) {
    // Printable ASCII without the space: what fits in an HTTP header value
    // and cannot be confused with the surrounding whitespace.
    if (c <= ' ' || c > '~') return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<SamplerAuthMode> ParseSamplerAuthMode(absl::string_view name) {
  if (name == "open") return SamplerAuthMode::kOpen;
  if (name == "token") return SamplerAuthMode::kToken;
  if (name == "mtls") return SamplerAuthMode::kMutualTls;
  return absl::InvalidArgumentError(absl::StrCat(
      "sampler auth mode must be token, mtls or open, got '", name, "'"));
}

absl::string_view SamplerAuthModeName(SamplerAuthMode mode) {
  switch (mode) {
    case SamplerAuthMode::kOpen:
      return "open";
    case SamplerAuthMode::kToken:
      return "token";
    case SamplerAuthMode::kMutualTls:
      return "mtls";
  }
  return "?";
}

bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

absl::StatusOr<std::vector<SamplerToken>> ParseSamplerTokens(
    absl::string_view text, absl::string_view source) {
  std::vector<SamplerToken> tokens;
  std::set<std::string> callers;
  std::set<std::string> digests;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || absl::StartsWith(line, "#")) continue;
    auto error = [&](absl::string_view what) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, " line ", line_number, ": ", what));
    };
    const size_t colon = line.find(':');
    if (colon == absl::string_view::npos) {
      return error("expected <caller-name>:<token>");
    }
    const absl::string_view caller = line.substr(0, colon);
    const absl::string_view token = line.substr(colon + 1);
    if (!IsCallerName(caller)) {
      return error(absl::StrCat("caller name '", absl::CEscape(caller),
                                "' must be non-empty [A-Za-z0-9._-]"));
    }
    if (!IsTokenText(token)) {
      return error(absl::StrCat("the token of '", caller,
                                "' must be printable ASCII without spaces"));
    }
    if (token.size() < static_cast<size_t>(kMinSamplerTokenLength)) {
      return error(absl::StrCat("the token of '", caller, "' has ",
                                token.size(), " characters, fewer than ",
                                kMinSamplerTokenLength));
    }
    if (!callers.insert(std::string(caller)).second) {
      return error(absl::StrCat("caller '", caller, "' is listed twice"));
    }
    SamplerToken entry{std::string(caller), Sha256Hex(token)};
    if (!digests.insert(entry.sha256_hex).second) {
      return error(absl::StrCat("the token of '", caller,
                                "' is also given to another caller"));
    }
    tokens.push_back(std::move(entry));
  }
  if (tokens.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(source, " lists no tokens"));
  }
  return tokens;
}

absl::StatusOr<std::vector<SamplerToken>> LoadSamplerTokens(
    const std::string& path) {
  absl::StatusOr<std::string> text =
      ReadFileToString(path, kMaxTokensFileBytes);
  if (!text.ok()) {
    return absl::Status(text.status().code(),
                        absl::StrCat("cannot read the sampler tokens file ",
                                     path, ": ", text.status().message()));
  }
  return ParseSamplerTokens(*text, path);
}

SamplerAccessOptions SamplerAccessOptions::Open() {
  SamplerAccessOptions options;
  options.mode = SamplerAuthMode::kOpen;
  return options;
}

absl::StatusOr<SamplerAccessOptions> SamplerAccessOptions::Create(
    absl::string_view mode_name, const std::string& tokens_file,
    bool mutual_tls) {
  absl::StatusOr<SamplerAuthMode> mode = ParseSamplerAuthMode(mode_name);
  if (!mode.ok()) return mode.status();
  SamplerAccessOptions options;
  options.mode = *mode;
  switch (*mode) {
    case SamplerAuthMode::kToken: {
      if (tokens_file.empty()) {
        return absl::InvalidArgumentError(
            "--sampler_auth=token needs --sampler_tokens_file (lines "
            "<caller-name>:<token>); use --sampler_auth=open to serve "
            "samples to anyone");
      }
      absl::StatusOr<std::vector<SamplerToken>> tokens =
          LoadSamplerTokens(tokens_file);
      if (!tokens.ok()) return tokens.status();
      options.tokens = std::move(tokens).value();
      return options;
    }
    case SamplerAuthMode::kMutualTls:
      if (!mutual_tls) {
        return absl::InvalidArgumentError(
            "--sampler_auth=mtls needs client certificates to be verified: "
            "give --tls_client_ca");
      }
      break;
    case SamplerAuthMode::kOpen:
      break;
  }
  if (!tokens_file.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--sampler_tokens_file is only used with --sampler_auth=token, not ",
        mode_name));
  }
  return options;
}

SamplerAccess::SamplerAccess(SamplerAccessOptions options)
    : options_(std::move(options)) {}

absl::StatusOr<std::string> SamplerAccess::Authorize(
    const SamplerCallCredentials& credentials) {
  switch (options_.mode) {
    case SamplerAuthMode::kOpen:
      return std::string("anonymous");
    case SamplerAuthMode::kMutualTls: {
      if (!credentials.certificate_identity.has_value()) {
        return Refuse(kSamplerRefusedNoCertificate,
                      "the Sampler needs a verified client certificate",
                      credentials);
      }
      NoteCaller(*credentials.certificate_identity, credentials);
      return *credentials.certificate_identity;
    }
    case SamplerAuthMode::kToken:
      break;
  }
  if (options_.tokens.empty()) {
    return Refuse(kSamplerRefusedNotConfigured,
                  "the server has no sampler tokens configured", credentials);
  }
  if (credentials.authorization.empty()) {
    return Refuse(kSamplerRefusedMissingToken,
                  "the Sampler needs 'authorization: Bearer <token>' metadata",
                  credentials);
  }
  if (credentials.authorization.size() != 1) {
    return Refuse(kSamplerRefusedMalformedAuthorization,
                  "the call carries more than one authorization value",
                  credentials);
  }
  // "Bearer" is case-insensitive (RFC 6750 via RFC 7235).
  absl::string_view value = credentials.authorization[0];
  constexpr absl::string_view kScheme = "bearer ";
  if (value.size() <= kScheme.size() ||
      !absl::EqualsIgnoreCase(value.substr(0, kScheme.size()), kScheme)) {
    return Refuse(kSamplerRefusedMalformedAuthorization,
                  "the authorization metadata must be 'Bearer <token>'",
                  credentials);
  }
  const std::string presented =
      Sha256Hex(absl::StripAsciiWhitespace(value.substr(kScheme.size())));
  // Every entry is compared, so the time does not tell which one matched.
  const SamplerToken* match = nullptr;
  for (const SamplerToken& token : options_.tokens) {
    if (ConstantTimeEquals(presented, token.sha256_hex)) match = &token;
  }
  if (match == nullptr) {
    return Refuse(kSamplerRefusedWrongToken, "the sampler token is not valid",
                  credentials);
  }
  NoteCaller(match->caller, credentials);
  return match->caller;
}

absl::Status SamplerAccess::Refuse(const char* reason,
                                   absl::string_view message,
                                   const SamplerCallCredentials& credentials) {
  {
    absl::MutexLock lock(&mutex_);
    ++refusals_[reason];
  }
  LOG(WARNING) << "sampler call refused (" << reason << ") from "
               << (credentials.peer_address.empty() ? "unknown peer"
                                                    : credentials.peer_address)
               << ": " << message;
  return absl::UnauthenticatedError(message);
}

void SamplerAccess::NoteCaller(const std::string& caller,
                               const SamplerCallCredentials& credentials) {
  {
    absl::MutexLock lock(&mutex_);
    if (seen_callers_.size() >= kMaxSeenCallersLogged ||
        !seen_callers_.insert(caller).second) {
      return;
    }
  }
  LOG(INFO) << "sampler caller '" << caller << "' ("
            << SamplerAuthModeName(options_.mode) << ") first seen from "
            << credentials.peer_address;
}

std::map<std::string, int64_t> SamplerAccess::RefusalCounts() const {
  absl::MutexLock lock(&mutex_);
  return refusals_;
}

}  // namespace epgfn
