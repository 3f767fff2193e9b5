#include "common/eval/phylo/dnapars.h"

#include <torch/types.h>
#include <unistd.h>

#include <algorithm>

#include "common/env/phylo/phylo_target.h"
#include "gtest/gtest.h"

namespace epgfn {
namespace {

TEST(DnaparsTest, WritesPhylipWithIupacLetters) {
  EXPECT_EQ(IupacOfMask(1), 'A');
  EXPECT_EQ(IupacOfMask(8), 'T');
  EXPECT_EQ(IupacOfMask(5), 'R');   // A or G
  EXPECT_EQ(IupacOfMask(10), 'Y');  // C or T
  EXPECT_EQ(IupacOfMask(15), 'N');  // gaps too: "any base" for both
  auto text =
      PhylipAlignment(torch::tensor({{1, 2, 15}, {4, 8, 5}}, torch::kInt64));
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text, "2 3\nt0        ACN\nt1        GTR\n");
  EXPECT_FALSE(PhylipAlignment(torch::tensor({{1, 0}, {1, 1}})).ok());
}

TEST(DnaparsTest, ParsesEveryTreesScore) {
  const char outfile[] =
      "DNA parsimony algorithm, version 3.697\n\n2 trees in all found\n"
      "  +--t1\n\nrequires a total of      7.000\n\n  between ...\n"
      "  +--t2\n\nrequires a total of      7.000\n";
  auto scores = ParseDnaparsScores(outfile);
  ASSERT_TRUE(scores.ok()) << scores.status();
  EXPECT_EQ(*scores, (std::vector<double>{7.0, 7.0}));
  EXPECT_FALSE(ParseDnaparsScores("no trees here").ok());
  EXPECT_FALSE(ParseDnaparsScores("requires a total of  x\n").ok());
}

bool HaveDnapars() {
  return access(DnaparsOptions().binary.c_str(), X_OK) == 0;
}

TEST(DnaparsTest, ScoresAHandExample) {
  if (!HaveDnapars()) GTEST_SKIP() << "Debian's phylip is not installed";
  // Columns 2 and 5 need one change each on ((t0,t1),(t2,t3)) and column 3
  // one more: 3 in all.
  const char phylip[] =
      "4 5\nt0        ACGTA\nt1        ACGTT\nt2        AGGTT\n"
      "t3        AGCTN\n";
  auto result = RunDnapars(phylip, DnaparsOptions());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->best_score, 3.0);
  DnaparsOptions missing;
  missing.binary = "/nonexistent/dnapars";
  EXPECT_EQ(RunDnapars(phylip, missing).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(DnaparsTest, BestScoreIsTheBestFitchScoreOverAllTrees) {
  if (!HaveDnapars()) GTEST_SKIP() << "Debian's phylip is not installed";
  auto target = MakePhyloTarget(
      "phylo:alignment=common/env/phylo/testdata/primates.nex,"
      "taxa=Homo_sapiens;Pan;Gorilla;Pongo;Hylobates;Macaca_fuscata;"
      "Lemur_catta",
      "parsimony");
  ASSERT_TRUE(target.ok()) << target.status();
  auto states = target->environment->EnumerateTerminalStates();
  ASSERT_TRUE(states.ok());
  auto scores = ParsimonyScores(*target, *states);
  ASSERT_TRUE(scores.ok()) << scores.status();
  const int64_t best = *std::min_element(scores->begin(), scores->end());
  auto phylip = PhylipAlignment(target->site_masks);
  ASSERT_TRUE(phylip.ok()) << phylip.status();
  DnaparsOptions options;
  options.jumbles = 3;
  auto result = RunDnapars(*phylip, options);
  ASSERT_TRUE(result.ok()) << result.status();
  std::printf("dnapars %.0f, exhaustive Fitch %lld over %lld trees\n",
              result->best_score, static_cast<long long>(best),
              static_cast<long long>(scores->size()));
  EXPECT_EQ(result->best_score, static_cast<double>(best));
}

}  // namespace
}  // namespace epgfn
