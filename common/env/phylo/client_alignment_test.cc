#include "common/env/phylo/client_alignment.h"

#include <torch/types.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/env/phylo/alignment.h"
#include "common/env/phylo/phylo.h"
#include "gtest/gtest.h"

namespace epgfn {
namespace {

constexpr char kPrimates[] = "common/env/phylo/testdata/primates.nex";
const char kSixTaxa[] =
    "Homo_sapiens;Pan;Gorilla;Pongo;Hylobates;Macaca_fuscata";

std::string WriteFile(const std::string& name, const std::string& text) {
  const std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
  std::FILE* file = std::fopen(path.c_str(), "wb");
  EXPECT_NE(file, nullptr) << path;
  std::fwrite(text.data(), 1, text.size(), file);
  std::fclose(file);
  return path;
}

char MaskChar(int64_t mask) {
  const std::string symbols = "?ACMGRSVTWYHKDBN";
  return mask == kNucleotideUnknown ? '?' : symbols[mask];
}

// FASTA of primates.nex rows `rows` (in that order); `unknown` rows are
// written all '?'.
std::string PrimatesFasta(const std::vector<std::string>& rows,
                          const std::string& unknown = "") {
  const Alignment primates = *ReadAlignment(kPrimates);
  std::string text;
  for (const std::string& name : rows) {
    const auto it = std::find(primates.taxa.begin(), primates.taxa.end(), name);
    EXPECT_NE(it, primates.taxa.end()) << name;
    const at::Tensor row = primates.states[it - primates.taxa.begin()];
    text += ">" + name + "\n";
    for (int64_t s = 0; s < primates.num_sites(); ++s) {
      text += name == unknown ? '?' : MaskChar(row[s].item<int64_t>());
    }
    text += "\n";
  }
  return text;
}

std::unique_ptr<PhyloEnvironment> SixPrimates() {
  auto environment = PhyloEnvironment::Create(
      *EnvironmentConfig::Parse(std::string("phylo:taxa=") + kSixTaxa));
  EXPECT_TRUE(environment.ok()) << environment.status();
  return std::move(environment).value();
}

// The client's reward is refused when its file is bad: the message names
// the file, the line and the taxon. The client builds its reward before it
// trains, so this is a refusal before any training.
void ExpectBadFile(const std::string& name, const std::string& text,
                   const std::vector<std::string>& fragments) {
  SCOPED_TRACE(name);
  const std::string path = WriteFile(name, text);
  auto environment = SixPrimates();
  auto reward = MakePhyloReward(*environment,
                                *RewardConfig::Parse("jc69:alignment=" + path));
  ASSERT_FALSE(reward.ok());
  EXPECT_EQ(reward.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string message(reward.status().message());
  EXPECT_NE(message.find(path + ": "), std::string::npos) << message;
  for (const std::string& fragment : fragments) {
    EXPECT_NE(message.find(fragment), std::string::npos) << message;
  }
}

TEST(ClientAlignmentTest, DuplicatedTaxonIsRefused) {
  ExpectBadFile("duplicated.fasta",
                ">Pan\nACGT\n>Homo_sapiens\nACGT\n>Pan\nACGA\n",
                {"line 5:", "taxon 'Pan' appears twice (first on line 1)"});
  ExpectBadFile("duplicated.phy", "3 4\nPan ACGT\nGorilla ACGT\nPan ACGA\n",
                {"line 4:", "'Pan' appears twice"});
}

TEST(ClientAlignmentTest, EmptyFileIsRefused) {
  ExpectBadFile("empty.nex", "", {"the file is empty"});
  ExpectBadFile("blank.fasta", "\n  \n", {"the file is empty"});
}

TEST(ClientAlignmentTest, FileWithoutSitesIsRefused) {
  ExpectBadFile("no_site.fasta", ">Pan\n>Gorilla\n",
                {"line 1:", "taxon 'Pan' has no site"});
}

TEST(ClientAlignmentTest, UnequalSequenceLengthsAreRefused) {
  ExpectBadFile(
      "unequal.fasta", ">Pan\nACGT\n>Gorilla\nACG\n",
      {"line 3:", "taxon 'Gorilla' has 3 characters but 'Pan' has 4"});
  ExpectBadFile("unequal.xml",
                "<beast>\n<sequence taxon=\"Pan\" value=\"ACGT\"/>\n"
                "<sequence taxon=\"Gorilla\" value=\"ACGTA\"/>\n</beast>\n",
                {"line 3:", "'Gorilla' has 5 characters"});
}

TEST(ClientAlignmentTest, FileWithNoneOfTheTaxaIsRefused) {
  ExpectBadFile("strangers.fasta", ">Yeti\nACGT\n>Bigfoot\nACGA\n",
                {"none of the federation's taxa", "Yeti"});
}

// Rows are matched by name: any row order, and taxa outside the spec, give
// the same rewards as the original file.
TEST(ClientAlignmentTest, RowOrderDoesNotChangeTheRewards) {
  auto environment = SixPrimates();
  const at::Tensor trees = *environment->EnumerateTerminalStates();
  const std::string shuffled = WriteFile(
      "shuffled.fasta", PrimatesFasta({"Macaca_fuscata", "Lemur_catta", "Pongo",
                                       "Pan", "Hylobates", "Homo_sapiens",
                                       "Tarsius_syrichta", "Gorilla"}));
  for (const std::string kind : {"jc69", "parsimony"}) {
    auto original = MakePhyloReward(
        *environment, *RewardConfig::Parse(kind + ":alignment=" + kPrimates));
    auto reordered = MakePhyloReward(
        *environment, *RewardConfig::Parse(kind + ":alignment=" + shuffled));
    ASSERT_TRUE(original.ok()) << original.status();
    ASSERT_TRUE(reordered.ok()) << reordered.status();
    const at::Tensor a = original->log_likelihood->LogRewardFloat64(trees);
    const at::Tensor b = reordered->log_likelihood->LogRewardFloat64(trees);
    EXPECT_TRUE(a.equal(b))
        << kind << ": max difference " << (a - b).abs().max().item<double>();
    EXPECT_GT((a.max() - a.min()).item<double>(), 10.0);
  }
  auto matched = ReadClientAlignment(shuffled, environment->taxa());
  ASSERT_TRUE(matched.ok()) << matched.status();
  EXPECT_TRUE(matched->missing.empty());
  EXPECT_EQ(matched->ignored,
            (std::vector<std::string>{"Lemur_catta", "Tarsius_syrichta"}));
}

// A taxon the client's file lacks is missing data: the likelihood equals
// the one of a file whose row for that taxon is all '?'.
TEST(ClientAlignmentTest, MissingTaxonCountsAsAllAmbiguous) {
  auto environment = SixPrimates();
  const at::Tensor trees = *environment->EnumerateTerminalStates();
  const std::vector<std::string> five = {"Homo_sapiens", "Pan", "Pongo",
                                         "Hylobates", "Macaca_fuscata"};
  const std::vector<std::string> six = {
      "Homo_sapiens", "Pan", "Gorilla", "Pongo", "Hylobates", "Macaca_fuscata"};
  const std::string lacking = WriteFile("lacking.fasta", PrimatesFasta(five));
  const std::string unknown =
      WriteFile("unknown.fasta", PrimatesFasta(six, "Gorilla"));
  auto matched = ReadClientAlignment(lacking, environment->taxa());
  ASSERT_TRUE(matched.ok()) << matched.status();
  EXPECT_EQ(matched->missing, (std::vector<std::string>{"Gorilla"}));
  EXPECT_TRUE((matched->masks[2] == kNucleotideUnknown).all().item<bool>());
  for (const std::string kind : {"jc69", "parsimony"}) {
    auto a = MakePhyloReward(
        *environment, *RewardConfig::Parse(kind + ":alignment=" + lacking));
    auto b = MakePhyloReward(
        *environment, *RewardConfig::Parse(kind + ":alignment=" + unknown));
    ASSERT_TRUE(a.ok()) << a.status();
    ASSERT_TRUE(b.ok()) << b.status();
    const at::Tensor la = a->log_likelihood->LogRewardFloat64(trees);
    const at::Tensor lb = b->log_likelihood->LogRewardFloat64(trees);
    EXPECT_TRUE(torch::allclose(la, lb, 1e-12, 1e-9)) << kind;
    EXPECT_NE(a->log_likelihood->Describe().find("missing taxa Gorilla"),
              std::string::npos)
        << a->log_likelihood->Describe();
  }
}

}  // namespace
}  // namespace epgfn
