#include "common/env/phylo/alignment.h"

#include <torch/torch.h>

#include <string>

#include "gtest/gtest.h"

namespace epgfn {
namespace {

constexpr char kPrimates[] = "common/env/phylo/testdata/primates.nex";

void ExpectErrorAt(const absl::StatusOr<Alignment>& alignment, int line,
                   const std::string& what) {
  ASSERT_FALSE(alignment.ok());
  EXPECT_EQ(alignment.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string message(alignment.status().message());
  EXPECT_NE(message.find("line " + std::to_string(line) + ":"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find(what), std::string::npos) << message;
}

TEST(AlignmentTest, ReadsTheMrBayesPrimates) {
  auto alignment = ReadAlignment(kPrimates);
  ASSERT_TRUE(alignment.ok()) << alignment.status();
  EXPECT_EQ(alignment->num_taxa(), 12);
  EXPECT_EQ(alignment->num_sites(), 898);
  EXPECT_EQ(alignment->taxa[0], "Tarsius_syrichta");
  EXPECT_EQ(alignment->taxa[2], "Homo_sapiens");
  EXPECT_EQ(alignment->taxa[11], "Saimiri_sciureus");
  // Tarsius starts AAGTTTCATT.
  EXPECT_TRUE(alignment->states[0].narrow(0, 0, 6).equal(
      torch::tensor({1, 1, 4, 8, 8, 8}, torch::kInt64)));
  EXPECT_EQ(alignment->states.scalar_type(), torch::kInt64);
  EXPECT_TRUE(
      ((alignment->states > 0) & (alignment->states < 16)).all().item<bool>());
}

TEST(AlignmentTest, MasksOfAmbiguityCodes) {
  EXPECT_EQ(NucleotideMask('a'), kNucleotideA);
  EXPECT_EQ(NucleotideMask('U'), kNucleotideT);
  EXPECT_EQ(NucleotideMask('R'), kNucleotideA | kNucleotideG);
  EXPECT_EQ(NucleotideMask('y'), kNucleotideC | kNucleotideT);
  EXPECT_EQ(NucleotideMask('N'), kNucleotideUnknown);
  EXPECT_EQ(NucleotideMask('?'), kNucleotideUnknown);
  EXPECT_EQ(NucleotideMask('-'), kNucleotideUnknown);
  EXPECT_EQ(NucleotideMask('X'), 0);
  EXPECT_EQ(NucleotideMask('1'), 0);
}

// The same 3 x 10 alignment, sequential and interleaved, with comments,
// mixed-case keywords and a TAXA block.
constexpr char kSequential[] = R"(#NEXUS
[ a comment [nested] ]
BEGIN DATA;
  Dimensions NTAX=3 nchar=10;
  format datatype=DNA missing=? gap=- ;
  MATRIX
    alpha  ACGTA
           CGTAC
    beta   ACGTN-?RAC  [trailing comment]
    'gamma delta' acgtacgtac
  ;
END;
)";

constexpr char kInterleaved[] = R"(#nexus
begin taxa;
  dimensions ntax=3;
  taxlabels alpha beta 'gamma delta';
end;
begin characters;
  dimensions nchar=10;
  format datatype=dna interleave;
  matrix
  alpha ACGTA
  beta ACGTN
  'gamma delta' ACGTA
  [ second block ]
  alpha CGTAC
  beta -?RAC
  'gamma delta' CGTAC
  ;
endblock;
)";

TEST(AlignmentTest, SequentialAndInterleavedAgree) {
  auto sequential = ParseNexusAlignment(kSequential);
  ASSERT_TRUE(sequential.ok()) << sequential.status();
  auto interleaved = ParseNexusAlignment(kInterleaved);
  ASSERT_TRUE(interleaved.ok()) << interleaved.status();
  EXPECT_EQ(sequential->taxa,
            (std::vector<std::string>{"alpha", "beta", "gamma delta"}));
  EXPECT_EQ(interleaved->taxa, sequential->taxa);
  EXPECT_TRUE(interleaved->states.equal(sequential->states));
  EXPECT_TRUE(sequential->states[1].equal(
      torch::tensor({1, 2, 4, 8, 15, 15, 15, 5, 1, 2}, torch::kInt64)));
}

TEST(AlignmentTest, MatchCharacterCopiesTheFirstTaxon) {
  auto alignment = ParseNexusAlignment(R"(#NEXUS
begin data; dimensions ntax=2 nchar=4; format datatype=dna matchchar=.;
matrix
one ACGT
two .C.A
;
end;)");
  ASSERT_TRUE(alignment.ok()) << alignment.status();
  EXPECT_TRUE(
      alignment->states[1].equal(torch::tensor({1, 2, 4, 1}, torch::kInt64)));
}

TEST(AlignmentTest, NexusErrorsNameTheLine) {
  ExpectErrorAt(ParseNexusAlignment("#NEXUS\nbegin data;\n"
                                    "dimensions ntax=2 nchar=4;\n"
                                    "matrix\none ACGT\ntwo ACG\n;\nend;\n"),
                7, "'two' has 3 characters but NCHAR=4");
  ExpectErrorAt(ParseNexusAlignment("#NEXUS\nbegin data;\n"
                                    "dimensions ntax=2 nchar=4;\n"
                                    "matrix\none ACGT\ntwo ACXT\n;\nend;\n"),
                6, "'X'");
  ExpectErrorAt(ParseNexusAlignment("#NEXUS\nbegin data;\n"
                                    "dimensions ntax=3 nchar=4;\n"
                                    "matrix\none ACGT\ntwo ACGT\n;\nend;\n"),
                7, "2 taxa but NTAX=3");
  ExpectErrorAt(ParseNexusAlignment("#NEXUS\nbegin data;\n"
                                    "dimensions ntax=1 nchar=4;\n"
                                    "matrix\none ACGT\ntwo ACGT\n;\nend;\n"),
                6, "'two'");
  ExpectErrorAt(ParseNexusAlignment("#NEXUS\n\n[ never closed\nbegin data;\n"),
                3, "comment");
  ExpectErrorAt(ParseNexusAlignment("#NEXUS\nbegin data;\n"
                                    "dimensions ntax=1 nchar=4;\n"
                                    "format datatype=protein;\n"),
                4, "DATATYPE=protein");
  ExpectErrorAt(ParseNexusAlignment("#NEXUS\nbegin data;\n"
                                    "dimensions ntax=two nchar=4;\n"),
                3, "NTAX");
  ExpectErrorAt(ParseNexusAlignment("begin data;"), 1, "#NEXUS");
  ExpectErrorAt(ParseNexusAlignment("#NEXUS\nbegin data;\nmatrix\na ACGT;\n"),
                3, "NTAX");
  ExpectErrorAt(ParseNexusAlignment("#NEXUS\n\nbegin data;\n"
                                    "dimensions ntax=1 nchar=4;\n"),
                3, "never closed");
}

TEST(AlignmentTest, ReadsFasta) {
  auto alignment =
      ParseAlignment(">one first sequence\nACGT\nAC\n\n>two\nRYN-\n?t\n");
  ASSERT_TRUE(alignment.ok()) << alignment.status();
  EXPECT_EQ(alignment->taxa, (std::vector<std::string>{"one", "two"}));
  EXPECT_TRUE(alignment->states.equal(torch::tensor(
      {{1, 2, 4, 8, 1, 2}, {5, 10, 15, 15, 15, 8}}, torch::kInt64)));
}

TEST(AlignmentTest, FastaErrorsNameTheLine) {
  ExpectErrorAt(ParseFastaAlignment(">one\nACGT\n>two\nACG\n"), 3,
                "'two' has 3 characters");
  ExpectErrorAt(ParseFastaAlignment(">one\nACGT\n>two\nAC!T\n"), 4, "'!'");
  ExpectErrorAt(ParseFastaAlignment("ACGT\n>one\nACGT\n"), 1, "before");
  ExpectErrorAt(ParseFastaAlignment(">one\nACGT\n>one\nACGT\n"), 3, "twice");
}

TEST(AlignmentTest, UnknownFormatAndMissingFileAreRefused) {
  EXPECT_EQ(ParseAlignment("hello").status().code(),
            absl::StatusCode::kInvalidArgument);
  auto missing = ReadAlignment("no/such/file.nex");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace epgfn
