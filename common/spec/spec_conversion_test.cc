#include "common/spec/spec_conversion.h"

#include "gtest/gtest.h"

namespace epgfn {
namespace {

TEST(SpecConversionTest, EnvironmentRoundTrips) {
  EnvironmentConfig config =
      *EnvironmentConfig::Parse("hypergrid:dim=2,side=8");
  EXPECT_EQ(EnvironmentConfigFromProto(EnvironmentConfigToProto(config)),
            config);
}

TEST(SpecConversionTest, ArchitectureIsValidated) {
  v1::PolicyArchitecture proto;
  proto.set_hidden_width(0);
  proto.set_hidden_layers(2);
  EXPECT_FALSE(ArchitectureFromProto(proto).ok());
  proto.set_hidden_width(64);
  auto architecture = ArchitectureFromProto(proto);
  ASSERT_TRUE(architecture.ok());
  EXPECT_EQ(architecture->hidden_width, 64);
}

TEST(SpecConversionTest, TrainingConfigOverridesOnlySetFields) {
  TrainingOptions defaults;
  defaults.iterations = 7;
  v1::TrainingConfig proto;
  proto.set_loss("tb");
  proto.set_batch_size(32);
  auto options = TrainingOptionsFromProto(proto, defaults);
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(options->loss, LossKind::kTrajectoryBalance);
  EXPECT_EQ(options->batch_size, 32);
  EXPECT_EQ(options->iterations, 7);
  proto.set_loss("nope");
  EXPECT_FALSE(TrainingOptionsFromProto(proto, defaults).ok());
  proto.set_loss("cb");
  proto.set_epsilon(2.0);
  EXPECT_FALSE(TrainingOptionsFromProto(proto, defaults).ok());
}

TEST(SpecConversionTest, TrainingConfigCarriesTheGradientCap) {
  TrainingOptions defaults;
  v1::TrainingConfig proto;
  auto unset = TrainingOptionsFromProto(proto, defaults);
  ASSERT_TRUE(unset.ok());
  EXPECT_EQ(unset->max_gradient_norm, 0.0);
  proto.set_max_gradient_norm(5.0);
  auto capped = TrainingOptionsFromProto(proto, defaults);
  ASSERT_TRUE(capped.ok());
  EXPECT_EQ(capped->max_gradient_norm, 5.0);
  proto.set_max_gradient_norm(-1.0);
  EXPECT_EQ(TrainingOptionsFromProto(proto, defaults).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(SpecConversionTest, DigestIsStableAndSensitive) {
  v1::FederationSpec spec;
  spec.set_name("demo");
  (*spec.mutable_environment()->mutable_params())["side"] = "8";
  (*spec.mutable_environment()->mutable_params())["dim"] = "2";
  const std::string digest = FederationSpecDigest(spec);
  EXPECT_EQ(digest.size(), 64u);
  v1::FederationSpec copy = spec;
  EXPECT_EQ(FederationSpecDigest(copy), digest);
  copy.add_client_ids("a");
  EXPECT_NE(FederationSpecDigest(copy), digest);
}

}  // namespace
}  // namespace epgfn
