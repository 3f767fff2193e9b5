#include "server/core/sampler_access.h"

#include <cstdlib>
#include <fstream>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/util/sha256.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace epgfn {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string kAliceToken(64, 'a');
const std::string kBobToken = "0123456789abcdef0123456789abcdef";  // 32

std::string TokensText() {
  return absl::StrCat("# sampler callers\n\nalice:", kAliceToken,
                      "\n  bob:", kBobToken, "  \n");
}

SamplerCallCredentials Bearer(const std::string& value) {
  SamplerCallCredentials credentials;
  credentials.authorization.push_back(value);
  credentials.peer_address = "ipv4:127.0.0.1:1234";
  return credentials;
}

SamplerAccessOptions TokenOptions() {
  SamplerAccessOptions options;
  options.mode = SamplerAuthMode::kToken;
  options.tokens = *ParseSamplerTokens(TokensText(), "tokens");
  return options;
}

TEST(SamplerTokensTest, ParsesCallersAndKeepsOnlyDigests) {
  auto tokens = ParseSamplerTokens(TokensText(), "tokens");
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  ASSERT_EQ(tokens->size(), 2u);
  EXPECT_EQ((*tokens)[0].caller, "alice");
  EXPECT_EQ((*tokens)[0].sha256_hex, Sha256Hex(kAliceToken));
  EXPECT_EQ((*tokens)[1].caller, "bob");
  EXPECT_EQ((*tokens)[1].sha256_hex, Sha256Hex(kBobToken));
}

TEST(SamplerTokensTest, MalformedLinesAreNamedWithoutTheToken) {
  const std::string short_token(31, 'x');
  struct Case {
    std::string text;
    std::string line;
  };
  const Case cases[] = {
      {"# header\nno-colon-here\n", "line 2"},
      {absl::StrCat("alice:", short_token, "\n"), "line 1"},
      {absl::StrCat("alice:", kAliceToken, "\n:", kBobToken, "\n"), "line 2"},
      {absl::StrCat("al ice:", kAliceToken, "\n"), "line 1"},
      {absl::StrCat("alice:", kAliceToken, "\nalice:", kBobToken), "line 2"},
      {absl::StrCat("alice:", kAliceToken, "\nbob:", kAliceToken), "line 2"},
      {absl::StrCat("\n\nbob:", kBobToken.substr(0, 16), " ",
                    kBobToken.substr(16), "\n"),
       "line 3"},
  };
  for (const Case& c : cases) {
    auto tokens = ParseSamplerTokens(c.text, "tokens.txt");
    ASSERT_FALSE(tokens.ok()) << c.text;
    EXPECT_EQ(tokens.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(tokens.status().message(),
                HasSubstr(absl::StrCat("tokens.txt ", c.line, ":")));
    EXPECT_THAT(tokens.status().message(), Not(HasSubstr(short_token)));
    EXPECT_THAT(tokens.status().message(), Not(HasSubstr(kAliceToken)));
    EXPECT_THAT(tokens.status().message(), Not(HasSubstr(kBobToken)));
  }
  EXPECT_FALSE(ParseSamplerTokens("# only a comment\n\n", "t").ok());
}

// The Sampler flags of one server, as the daemon reads them.
absl::StatusOr<SamplerAccessOptions> FromFlags(std::string auth,
                                               std::string tokens_file,
                                               bool mutual_tls) {
  SamplerAccessFlags flags;
  flags.auth = std::move(auth);
  flags.tokens_file = std::move(tokens_file);
  flags.mutual_tls = mutual_tls;
  return SamplerAccessOptions::Create(flags);
}

TEST(SamplerAccessOptionsTest, RefusesIncompleteConfigurations) {
  const char* root = std::getenv("TEST_TMPDIR");
  const std::string path = absl::StrCat(root ? root : "/tmp", "/tokens.txt");
  std::ofstream(path) << TokensText();

  auto token = FromFlags("token", path, false);
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(token->tokens.size(), 2u);
  EXPECT_THAT(FromFlags("token", "", true).status().message(),
              HasSubstr("--sampler_tokens_file"));
  EXPECT_EQ(FromFlags("token", path + ".missing", true).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_THAT(FromFlags("mtls", "", false).status().message(),
              HasSubstr("--tls_client_ca"));
  EXPECT_TRUE(FromFlags("mtls", "", true).ok());
  EXPECT_FALSE(FromFlags("mtls", path, true).ok());
  EXPECT_TRUE(FromFlags("open", "", false).ok());
  EXPECT_FALSE(FromFlags("none", "", false).ok());
}

TEST(SamplerAccessTest, AcceptsEachListedTokenAsItsCaller) {
  SamplerAccess access(TokenOptions());
  EXPECT_EQ(*access.Authorize(Bearer("Bearer " + kAliceToken)), "alice");
  EXPECT_EQ(*access.Authorize(Bearer("bearer " + kBobToken)), "bob");
  EXPECT_TRUE(access.RefusalCounts().empty());
}

TEST(SamplerAccessTest, RefusesAndCountsBadTokens) {
  SamplerAccess access(TokenOptions());
  std::string same_length = kAliceToken;
  same_length.back() = 'b';
  const SamplerCallCredentials refused[] = {
      Bearer("Bearer " + same_length),
      Bearer("Bearer " + kAliceToken + "a"),
      Bearer("Bearer " + kAliceToken.substr(1)),
      Bearer("Bearer"),
      Bearer(kAliceToken),
      Bearer("Basic " + kAliceToken),
      SamplerCallCredentials{},
  };
  for (const SamplerCallCredentials& credentials : refused) {
    auto caller = access.Authorize(credentials);
    EXPECT_EQ(caller.status().code(), absl::StatusCode::kUnauthenticated)
        << (credentials.authorization.empty() ? ""
                                              : credentials.authorization[0]);
    EXPECT_THAT(caller.status().message(),
                Not(HasSubstr(kAliceToken.substr(1))));
  }
  SamplerCallCredentials two = Bearer("Bearer " + kAliceToken);
  two.authorization.push_back("Bearer " + kBobToken);
  EXPECT_FALSE(access.Authorize(two).ok());

  const auto counts = access.RefusalCounts();
  EXPECT_EQ(counts.at(kSamplerRefusedWrongToken), 3);
  EXPECT_EQ(counts.at(kSamplerRefusedMalformedAuthorization), 4);
  EXPECT_EQ(counts.at(kSamplerRefusedMissingToken), 1);
}

TEST(SamplerAccessTest, MutualTlsNeedsACertificateIdentity) {
  SamplerAccessOptions options;
  options.mode = SamplerAuthMode::kMutualTls;
  SamplerAccess access(options);
  SamplerCallCredentials credentials = Bearer("Bearer " + kAliceToken);
  EXPECT_EQ(access.Authorize(credentials).status().code(),
            absl::StatusCode::kUnauthenticated);
  credentials.certificate_identity = "client-3";
  EXPECT_EQ(*access.Authorize(credentials), "client-3");
  EXPECT_EQ(access.RefusalCounts().at(kSamplerRefusedNoCertificate), 1);
}

TEST(SamplerAccessTest, OpenLetsEveryoneInAndDefaultLetsNoOneIn) {
  SamplerAccess open(SamplerAccessOptions::Open());
  EXPECT_TRUE(open.Authorize(SamplerCallCredentials{}).ok());
  SamplerAccess unconfigured{SamplerAccessOptions{}};
  EXPECT_EQ(
      unconfigured.Authorize(Bearer("Bearer " + kAliceToken)).status().code(),
      absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(unconfigured.RefusalCounts().at(kSamplerRefusedNotConfigured), 1);
}

TEST(ConstantTimeEqualsTest, ComparesContents) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abcd"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
}

}  // namespace
}  // namespace epgfn
