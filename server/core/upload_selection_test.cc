#include "server/core/upload_selection.h"

#include <cmath>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace epgfn {
namespace {

using ::testing::ElementsAre;
using ::testing::Optional;

std::shared_ptr<const AcceptedUpload> Upload(
    const std::string& client_id, std::optional<LocalDiagnostics> diagnostics) {
  auto upload = std::make_shared<AcceptedUpload>();
  upload->client_id = client_id;
  upload->round = 1;
  upload->diagnostics = diagnostics;
  return upload;
}

LocalDiagnostics Diagnostics(double alpha, double beta) {
  LocalDiagnostics diagnostics;
  diagnostics.alpha = alpha;
  diagnostics.beta = beta;
  return diagnostics;
}

TEST(ExclusionReasonTest, NoLimitExcludesNothing) {
  EXPECT_FALSE(ExclusionReason(std::nullopt, ExclusionLimits{}).has_value());
  EXPECT_FALSE(
      ExclusionReason(Diagnostics(0.99, 1e9), ExclusionLimits{}).has_value());
}

TEST(ExclusionReasonTest, EachLimitOnItsOwn) {
  const ExclusionLimits alpha_only{0.5, 0.0};
  EXPECT_FALSE(ExclusionReason(Diagnostics(0.5, 100.0), alpha_only)
                   .has_value());  // the limit itself is allowed
  EXPECT_THAT(ExclusionReason(Diagnostics(0.6, 0.0), alpha_only),
              Optional(std::string("alpha 0.6 > max_alpha 0.5")));
  const ExclusionLimits beta_only{0.0, 2.0};
  EXPECT_FALSE(ExclusionReason(Diagnostics(0.9, 2.0), beta_only).has_value());
  EXPECT_THAT(ExclusionReason(Diagnostics(0.0, 2.5), beta_only),
              Optional(std::string("beta 2.5 > max_beta 2")));
  EXPECT_TRUE(
      ExclusionReason(Diagnostics(std::nan(""), 0.0), alpha_only).has_value());
  EXPECT_THAT(ExclusionReason(std::nullopt, beta_only),
              Optional(std::string("no diagnostics reported")));
}

TEST(SelectUploadsTest, SplitsByThePolicy) {
  UploadMap uploads;
  uploads["a"] = Upload("a", Diagnostics(0.1, 0.1));
  uploads["b"] = Upload("b", Diagnostics(0.1, 5.0));
  uploads["c"] = Upload("c", std::nullopt);
  uploads["d"] = Upload("d", Diagnostics(0.2, 0.3));
  UploadSelection selection = SelectUploads(uploads, ExclusionLimits{0.5, 1.0});
  std::vector<std::string> included;
  for (const auto& [id, upload] : selection.included) included.push_back(id);
  EXPECT_THAT(included, ElementsAre("a", "d"));
  ASSERT_EQ(selection.excluded.size(), 2u);
  EXPECT_EQ(selection.excluded[0].client_id, "b");
  EXPECT_EQ(selection.excluded[0].round, 1);
  EXPECT_EQ(selection.excluded[1].client_id, "c");

  UploadSelection all = SelectUploads(uploads, ExclusionLimits{});
  EXPECT_EQ(all.included.size(), 4u);
  EXPECT_TRUE(all.excluded.empty());
}

}  // namespace
}  // namespace epgfn
