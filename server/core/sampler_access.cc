#include "server/core/sampler_access.h"

#include <glog/logging.h>

#include <utility>

#include "absl/strings/str_cat.h"

namespace epgfn {
namespace {

constexpr size_t kMaxSeenCallersLogged = 1000;

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

absl::StatusOr<std::vector<SamplerToken>> ParseSamplerTokens(
    absl::string_view text, absl::string_view source) {
  return ParseBearerTokens(text, source);
}

absl::StatusOr<std::vector<SamplerToken>> LoadSamplerTokens(
    const std::string& path) {
  return LoadBearerTokens(path, "sampler tokens file");
}

SamplerAccessOptions SamplerAccessOptions::Open() {
  SamplerAccessOptions options;
  options.mode = SamplerAuthMode::kOpen;
  return options;
}

absl::StatusOr<SamplerAccessOptions> SamplerAccessOptions::Create(
    const SamplerAccessFlags& flags) {
  const std::string& tokens_file = flags.tokens_file;
  absl::StatusOr<SamplerAuthMode> mode = ParseSamplerAuthMode(flags.auth);
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
      if (!flags.mutual_tls) {
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
        flags.auth));
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
  const BearerMatch match =
      MatchBearerToken(credentials.authorization, options_.tokens);
  if (match.token == nullptr) {
    return Refuse(match.reason,
                  absl::StrCat("the Sampler refused the call: ", match.message),
                  credentials);
  }
  NoteCaller(match.token->caller, credentials);
  return match.token->caller;
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
