#include "server/core/federation_config.h"

#include <google/protobuf/text_format.h>

#include <cmath>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/testing/test_federation.h"

namespace epgfn {
namespace {

using ::testing::HasSubstr;

absl::Status ErrorOf(const v1::FederationSpec& spec) {
  return FederationConfigFromSpec(spec).status();
}

TEST(FederationConfigTest, AcceptsSmallSpecAndResolvesQuorum) {
  auto config = FederationConfigFromSpec(test_support::SmallHypergridSpec(3));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ((*config)->quorum, 3);
  EXPECT_EQ((*config)->spec_digest.size(), 64u);
  EXPECT_EQ((*config)->environment->config().kind, "hypergrid");
  EXPECT_EQ((*config)->global_architecture.hidden_width, 64);
  EXPECT_TRUE((*config)->IsClient("client-2"));
  EXPECT_FALSE((*config)->IsClient("client-3"));
}

TEST(FederationConfigTest, ReadsTheExclusionPolicy) {
  v1::FederationSpec spec = test_support::SmallHypergridSpec(3);
  auto unlimited = FederationConfigFromSpec(spec);
  ASSERT_TRUE(unlimited.ok()) << unlimited.status();
  EXPECT_FALSE((*unlimited)->exclusion.any());
  spec.mutable_exclusion()->set_max_alpha(0.5);
  spec.mutable_exclusion()->set_max_beta(2.0);
  auto limited = FederationConfigFromSpec(spec);
  ASSERT_TRUE(limited.ok()) << limited.status();
  EXPECT_TRUE((*limited)->exclusion.any());
  EXPECT_EQ((*limited)->exclusion.max_alpha, 0.5);
  EXPECT_EQ((*limited)->exclusion.max_beta, 2.0);
}

TEST(FederationConfigTest, LoadsTheDemoConfig) {
  auto config = LoadFederationConfig("deploy/configs/hypergrid_demo.textproto");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ((*config)->num_clients(), 4);
  EXPECT_EQ((*config)->aggregation.iterations, 1000);
  EXPECT_EQ((*config)->local_training.exploration.epsilon, 0.05);
}

TEST(FederationConfigTest, RefusesEachInvalidFieldByName) {
  struct Case {
    std::function<void(v1::FederationSpec&)> mutate;
    std::string field;
  };
  const std::vector<Case> cases = {
      {[](auto& s) { s.mutable_environment()->set_kind("nope"); },
       "environment"},
      {[](auto& s) { s.mutable_environment()->clear_kind(); }, "environment"},
      {[](auto& s) {
         (*s.mutable_environment()->mutable_params())["side"] = "1";
       },
       "environment"},
      {[](auto& s) { s.mutable_local_architecture()->set_hidden_width(0); },
       "local_architecture"},
      {[](auto& s) { s.mutable_global_architecture()->set_hidden_layers(-1); },
       "global_architecture"},
      {[](auto& s) { s.clear_client_ids(); }, "client_ids"},
      {[](auto& s) { s.add_client_ids("client-0"); }, "client_ids[3]"},
      {[](auto& s) { s.add_client_ids("bad/id"); }, "client_ids[3]"},
      {[](auto& s) { s.add_client_ids(""); }, "client_ids[3]"},
      {[](auto& s) { s.set_quorum(4); }, "quorum"},
      {[](auto& s) { s.set_quorum(-1); }, "quorum"},
      {[](auto& s) { s.set_upload_deadline_seconds(-5); },
       "upload_deadline_seconds"},
      {[](auto& s) { s.mutable_local_training()->set_loss("xyz"); },
       "local_training"},
      {[](auto& s) { s.mutable_aggregation()->set_batch_size(-3); },
       "aggregation"},
      {[](auto& s) { s.mutable_aggregation()->set_loss("db"); },
       "aggregation.loss"},
      {[](auto& s) { s.mutable_exclusion()->set_max_alpha(-0.1); },
       "exclusion.max_alpha"},
      {[](auto& s) { s.mutable_exclusion()->set_max_alpha(1.0); },
       "exclusion.max_alpha"},
      {[](auto& s) { s.mutable_exclusion()->set_max_alpha(std::nan("")); },
       "exclusion.max_alpha"},
      {[](auto& s) { s.mutable_exclusion()->set_max_beta(-2); },
       "exclusion.max_beta"},
      {[](auto& s) { s.mutable_exclusion()->set_max_beta(HUGE_VAL); },
       "exclusion.max_beta"},
  };
  for (const Case& c : cases) {
    v1::FederationSpec spec = test_support::SmallHypergridSpec(3);
    c.mutate(spec);
    absl::Status status = ErrorOf(spec);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument)
        << c.field << ": " << status;
    EXPECT_THAT(std::string(status.message()), HasSubstr(c.field)) << status;
  }
}

TEST(FederationConfigTest, ReportsTextprotoSyntaxErrorsWithThePath) {
  const std::string path =
      test_support::FreshDirectory("config") + "/broken.textproto";
  std::ofstream(path) << "name: \"x\"\nenvironment { kind: }\n";
  absl::Status status = LoadFederationConfig(path).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr(path));
  EXPECT_THAT(std::string(status.message()), HasSubstr("2:"));
  EXPECT_EQ(LoadFederationConfig(path + ".missing").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(FederationConfigTest, ParsesTextAndNamesTheSourceInErrors) {
  auto config = ParseFederationConfig(
      "name: \"t\" environment { kind: \"hypergrid\" } "
      "local_architecture { hidden_width: 8 hidden_layers: 1 } "
      "global_architecture { hidden_width: 8 hidden_layers: 1 } "
      "client_ids: \"a\"",
      "inline");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ((*config)->num_clients(), 1);
  absl::Status status =
      ParseFederationConfig("environment { kind: ", "my-source").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("my-source"));
}

// Seen while writing the config fuzzer: a spec whose architecture needs
// terabytes (hidden_width 65536 x 64 layers, or a 64x1024 hypergrid input) was
// accepted, and the server then died allocating its global policy.
TEST(FederationConfigTest, RefusesPoliciesAboveTheParameterLimit) {
  v1::FederationSpec huge_width = test_support::SmallHypergridSpec(3);
  huge_width.mutable_global_architecture()->set_hidden_width(65536);
  huge_width.mutable_global_architecture()->set_hidden_layers(64);
  absl::Status status = ErrorOf(huge_width);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("global_architecture"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("parameters"));

  v1::FederationSpec huge_input = test_support::SmallHypergridSpec(3);
  auto& params = *huge_input.mutable_environment()->mutable_params();
  params["dim"] = "64";
  params["side"] = "1024";
  huge_input.mutable_local_architecture()->set_hidden_width(8192);
  status = ErrorOf(huge_input);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("local_architecture"));

  // Just below the limit is still accepted (nothing is allocated here).
  v1::FederationSpec large = test_support::SmallHypergridSpec(3);
  large.mutable_global_architecture()->set_hidden_width(4096);
  large.mutable_global_architecture()->set_hidden_layers(16);
  EXPECT_TRUE(FederationConfigFromSpec(large).ok());
}

// Found by config_fuzzer: TextFormat accepts "\377" escapes in string fields
// with only a logged error, the server accepted the spec, and every client's
// parse of it (GetSpec, binary proto3) would then fail.
TEST(FederationConfigTest, RefusesStringFieldsThatAreNotUtf8) {
  v1::FederationSpec bad_name = test_support::SmallHypergridSpec(3);
  bad_name.set_name("hypergrid-d\x97\x92o");
  absl::Status status = ErrorOf(bad_name);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("name"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("UTF-8"));

  v1::FederationSpec bad_param = test_support::SmallHypergridSpec(3);
  (*bad_param.mutable_environment()->mutable_params())["side"] = "4\xff";
  status = ErrorOf(bad_param);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("environment.params"));

  // Through the text parser, as in a config file.
  status = ParseFederationConfig(
               "name: \"x\\377\" environment { kind: \"hypergrid\" } "
               "client_ids: \"a\"",
               "inline")
               .status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("UTF-8"));

  // Non-ASCII UTF-8 is fine.
  v1::FederationSpec unicode = test_support::SmallHypergridSpec(3);
  unicode.set_name(
      "f\xc3\xb6"
      "deration");
  EXPECT_TRUE(FederationConfigFromSpec(unicode).ok());
}

TEST(FederationConfigTest, ValidatesClientIds) {
  EXPECT_TRUE(IsValidClientId("client-0"));
  EXPECT_TRUE(IsValidClientId("A.b_c-9"));
  EXPECT_FALSE(IsValidClientId(""));
  EXPECT_FALSE(IsValidClientId(".."));
  EXPECT_FALSE(IsValidClientId("a b"));
  EXPECT_FALSE(IsValidClientId("a/b"));
}

// The spec as a config file would name it: aggregate { name weights {...} }.
absl::StatusOr<std::shared_ptr<const FederationConfig>> WithAggregates(
    const std::string& aggregates_text) {
  std::string text;
  google::protobuf::TextFormat::PrintToString(
      test_support::SmallHypergridSpec(3), &text);
  return ParseFederationConfig(text + aggregates_text, "named.textproto");
}

TEST(NamedAggregateConfigTest, ReadsNamedAggregatesWithoutChangingTheDigest) {
  auto plain = FederationConfigFromSpec(test_support::SmallHypergridSpec(3));
  ASSERT_TRUE(plain.ok()) << plain.status();
  auto config = WithAggregates(
      "aggregate { name: \"labs-A-B\" weights { key: \"client-0\" value: 1 }"
      " weights { key: \"client-1\" value: 0.5 } }"
      "aggregate { name: \"c2\" weights { key: \"client-2\" value: 2 }"
      " weights { key: \"client-0\" value: 0 } }");
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ((*config)->aggregates.size(), 2u);
  const NamedAggregateConfig& first = (*config)->aggregates[0];
  EXPECT_EQ(first.name, "labs-A-B");
  EXPECT_EQ(first.WeightOf("client-1"), 0.5);
  EXPECT_EQ(first.WeightOf("client-2"), 0.0);
  EXPECT_EQ(first.Members(),
            (std::vector<std::string>{"client-0", "client-1"}));
  // A zero weight is recorded but leaves the client out.
  EXPECT_EQ((*config)->aggregates[1].weights.size(), 2u);
  EXPECT_EQ((*config)->aggregates[1].Members(),
            std::vector<std::string>{"client-2"});
  // Uploads quote the same digest with or without named aggregates.
  EXPECT_EQ((*config)->spec_digest, (*plain)->spec_digest);
}

TEST(NamedAggregateConfigTest, RefusesEachBadAggregateByName) {
  struct Case {
    std::string text;
    std::string message;
  };
  const std::string ok_weights = " weights { key: \"client-0\" value: 1 }";
  const std::vector<Case> cases = {
      {"aggregate { name: \"a\" weights { key: \"client-0\" value: -1 } }",
       "aggregate[0] ('a'): weights['client-0'] = -1: weights must be finite "
       "and >= 0"},
      {"aggregate { name: \"a\" weights { key: \"client-0\" value: nan } }",
       "weights must be finite"},
      {"aggregate { name: \"a\" weights { key: \"client-0\" value: inf } }",
       "weights must be finite"},
      {"aggregate { name: \"a\" weights { key: \"client-0\" value: 0 }"
       " weights { key: \"client-1\" value: 0 } }",
       "aggregate[0] ('a'): every weight is 0"},
      {"aggregate { name: \"a\" }", "weights must list at least one client"},
      {"aggregate { name: \"a\" weights { key: \"client-9\" value: 1 } }",
       "aggregate[0] ('a'): weights['client-9']: unknown client"},
      {"aggregate { name: \"a\"" + ok_weights + " } aggregate { name: \"a\"" +
           ok_weights + " }",
       "aggregate[1].name = 'a' is used twice"},
      {"aggregate { name: \"default\"" + ok_weights + " }",
       "aggregate[0].name = 'default' is the default aggregate's name"},
      {"aggregate { name: \"a/b\"" + ok_weights + " }",
       "aggregate[0].name = 'a/b' is not a valid aggregate name"},
      {"aggregate { name: \"..\"" + ok_weights + " }",
       "is not a valid aggregate name"},
      {"aggregate {" + ok_weights + " }", "is not a valid aggregate name"},
  };
  for (const Case& c : cases) {
    absl::Status status = WithAggregates(c.text).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument)
        << c.text << ": " << status;
    EXPECT_THAT(std::string(status.message()), HasSubstr(c.message)) << c.text;
    EXPECT_THAT(std::string(status.message()), HasSubstr("named.textproto"));
  }
}

}  // namespace
}  // namespace epgfn
