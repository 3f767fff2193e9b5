#include "server/core/federation_access.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace epgfn {
namespace {

using ::testing::HasSubstr;

const std::string kAdminToken(40, 'a');

FederationAccess Access(bool mutual_tls, bool with_admin_tokens) {
  FederationAccessOptions options;
  options.require_member_certificate = mutual_tls;
  if (with_admin_tokens) {
    options.admin_tokens = *ParseBearerTokens("ops:" + kAdminToken, "admins");
  }
  return FederationAccess(options, "fed", {"client-0", "client-1"});
}

CallCredentials Certificate(const std::string& identity) {
  CallCredentials credentials;
  credentials.certificate_identity = identity;
  return credentials;
}

TEST(FederationAccessTest, MembersOnlyWithMutualTls) {
  const FederationAccess access = Access(true, true);
  auto member = access.AuthorizeMember(Certificate("client-1"), "", "GetSpec");
  ASSERT_TRUE(member.ok()) << member.status();
  EXPECT_EQ(*member, "client-1");
  EXPECT_TRUE(
      access.AuthorizeMember(Certificate("client-1"), "client-1", "GetSpec")
          .ok());

  auto stranger =
      access.AuthorizeMember(Certificate("sampler-alice"), "", "GetSpec");
  EXPECT_EQ(stranger.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(stranger.status().message()),
              HasSubstr("'sampler-alice', which is not a member"));

  auto other =
      access.AuthorizeMember(Certificate("client-1"), "client-0", "GetSpec");
  EXPECT_EQ(other.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(other.status().message()),
              HasSubstr("names 'client-1' but the call is made as client "
                        "'client-0'"));

  EXPECT_EQ(access.AuthorizeMember({}, "", "GetSpec").status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(FederationAccessTest, WithoutMutualTlsNobodyIsAuthenticated) {
  const FederationAccess access = Access(false, false);
  auto member = access.AuthorizeMember({}, "client-0", "GetSpec");
  ASSERT_TRUE(member.ok());
  EXPECT_EQ(*member, "client-0");
}

TEST(FederationAccessTest, OperatorsNeedAnAdminToken) {
  const FederationAccess access = Access(true, true);
  CallCredentials admin = Certificate("client-0");
  admin.authorization = {"Bearer " + kAdminToken};
  auto name = access.AuthorizeOperator(admin, "GetStatus");
  ASSERT_TRUE(name.ok()) << name.status();
  EXPECT_EQ(*name, "ops");

  // A member's certificate alone is not an operator's.
  EXPECT_EQ(access.AuthorizeOperator(Certificate("client-0"), "GetStatus")
                .status()
                .code(),
            absl::StatusCode::kUnauthenticated);
  CallCredentials wrong;
  wrong.authorization = {"Bearer " + std::string(40, 'b')};
  EXPECT_EQ(access.AuthorizeOperator(wrong, "GetStatus").status().code(),
            absl::StatusCode::kUnauthenticated);

  auto none = Access(true, false).AuthorizeOperator(admin, "GetStatus");
  EXPECT_EQ(none.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(none.status().message()),
              HasSubstr("--admin_tokens_file"));
}

TEST(FederationAccessOptionsTest, LoadsTheAdminTokensFile) {
  FederationAccessFlags flags;
  flags.mutual_tls = true;
  EXPECT_TRUE(FederationAccessOptions::Create(flags)->admin_tokens.empty());
  flags.admin_tokens_file = "/nonexistent/admins";
  auto missing = FederationAccessOptions::Create(flags);
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(std::string(missing.status().message()),
              HasSubstr("cannot read the admin tokens file"));
}

}  // namespace
}  // namespace epgfn
