#include "server/rpc/peer_identity.h"

#include "gtest/gtest.h"

namespace epgfn {
namespace {

TEST(CertificateIdentityTest, CommonNameFirstThenFirstDnsName) {
  EXPECT_EQ(*CertificateIdentity({"client-0"}, {}), "client-0");
  EXPECT_EQ(*CertificateIdentity({"client-0"}, {"other.example"}), "client-0");
  EXPECT_EQ(*CertificateIdentity({}, {"client-1", "client-2"}), "client-1");
  EXPECT_EQ(*CertificateIdentity({""}, {"client-1"}), "client-1");
}

TEST(CertificateIdentityTest, NoOrAmbiguousNameIsUnauthenticated) {
  EXPECT_EQ(CertificateIdentity({}, {}).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(CertificateIdentity({"a", "b"}, {"c"}).status().code(),
            absl::StatusCode::kUnauthenticated);
}

}  // namespace
}  // namespace epgfn
