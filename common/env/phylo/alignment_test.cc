#include "common/env/phylo/alignment.h"

#include <torch/types.h>
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/env/phylo/alignment_writer.h"
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

// One 4 x 7 alignment in every format: RNA letters, lower case, IUPAC codes
// and missing data, names in a different row order in some.
const std::vector<std::string> kTaxa = {"alpha", "beta", "gamma", "delta"};
const at::Tensor& ExpectedStates() {
  static const at::Tensor states =
      torch::tensor({{1, 2, 4, 8, 8, 1, 15},   // ACGUuA?
                     {1, 2, 4, 8, 5, 10, 15},  // ACGTRYN
                     {2, 2, 4, 8, 14, 13, 1},  // ccgtBDA
                     {8, 4, 2, 1, 12, 3, 7}},  // TGCAKMV
                    torch::kInt64);
  return states;
}

constexpr char kNexus[] = R"(#NEXUS
begin data; dimensions ntax=4 nchar=7; format datatype=rna missing=? gap=-;
matrix
alpha ACGUuA?
beta  ACGTRYN
gamma ccgtBDA
delta TGCAKMV
;
end;
)";
constexpr char kFasta[] =
    ">delta\nTGCA\nKMV\n>alpha\nACGUuA?\n>gamma\nccgtBDA\n"
    ">beta\nACGTRYN\n";
constexpr char kPhylip[] =
    " 4 7\nalpha ACGUuA?\nbeta  ACG TRYN\n"
    "gamma ccgtBDA\ndelta TGCAKMV\n";
constexpr char kPhylipMultiline[] =
    "4 7\nalpha ACGU\nuA?\nbeta ACGT\nRYN\n"
    "gamma ccgt\nBDA\ndelta TGCA\nKMV\n";
constexpr char kPhylipInterleaved[] =
    "4 7\nalpha ACGU\nbeta ACGT\n"
    "gamma ccgt\ndelta TGCA\n\nuA?\nRYN\n"
    "BDA\nKMV\n";
constexpr char kBeast1[] = R"(<?xml version="1.0" standalone="yes"?>
<beast>
  <!-- <sequence> in a comment is not a sequence -->
  <taxa id="taxa"><taxon id="alpha"/><taxon id="beta"/></taxa>
  <alignment id="alignment" dataType="nucleotide">
    <sequence>
      <taxon idref="beta"/>
      ACGTRYN
    </sequence>
    <sequence>
      <taxon idref="alpha"/>
      ACGU
      uA?
    </sequence>
    <sequence><taxon idref="delta"/>TGCAKMV</sequence>
    <sequence>
      <taxon idref="gamma"/>ccgtBDA
    </sequence>
  </alignment>
</beast>
)";
constexpr char kBeast2[] = R"(<beast version="2.0">
<data id="alignment" dataType="nucleotide">
  <sequence id="seq_gamma" spec="Sequence" taxon="gamma" totalcount="4" value="ccgtBDA"/>
  <sequence id="seq_alpha" spec="Sequence" taxon='alpha' totalcount="4" value="ACGUuA?"/>
  <sequence id="seq_beta" spec="Sequence" taxon="beta" totalcount="4" value="ACGTRYN"/>
  <sequence id="seq_delta" spec="Sequence" taxon="delta" totalcount="4" value="TGCAKMV"/>
</data>
</beast>
)";

// The rows of `alignment` in kTaxa order.
at::Tensor RowsByName(const Alignment& alignment) {
  std::vector<at::Tensor> rows;
  for (const std::string& name : kTaxa) {
    auto it = std::find(alignment.taxa.begin(), alignment.taxa.end(), name);
    EXPECT_NE(it, alignment.taxa.end()) << name;
    if (it == alignment.taxa.end()) return at::Tensor();
    rows.push_back(alignment.states[it - alignment.taxa.begin()]);
  }
  return torch::stack(rows);
}

TEST(AlignmentTest, EveryFormatParsesToTheSameAlignment) {
  for (const auto& [name, text] :
       std::vector<std::pair<std::string, std::string>>{
           {"nexus", kNexus},
           {"fasta", kFasta},
           {"phylip", kPhylip},
           {"phylip multiline", kPhylipMultiline},
           {"phylip interleaved", kPhylipInterleaved},
           {"beast1", kBeast1},
           {"beast2", kBeast2}}) {
    SCOPED_TRACE(name);
    auto alignment = ParseAlignment(text);
    ASSERT_TRUE(alignment.ok()) << alignment.status();
    EXPECT_EQ(alignment->num_taxa(), 4);
    at::Tensor rows = RowsByName(*alignment);
    ASSERT_TRUE(rows.defined());
    EXPECT_TRUE(rows.equal(ExpectedStates())) << rows;
  }
}

std::string TempPath(const std::string& name) {
  return std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
}

TEST(AlignmentTest, WrittenAlignmentsReadBackUnchanged) {
  auto alignment = ParseAlignment(kNexus);
  ASSERT_TRUE(alignment.ok()) << alignment.status();
  for (AlignmentFormat format :
       {AlignmentFormat::kFasta, AlignmentFormat::kNexus,
        AlignmentFormat::kPhylip}) {
    auto again = ParseAlignment(FormatAlignment(*alignment, format));
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_EQ(again->taxa, alignment->taxa);
    EXPECT_TRUE(again->states.equal(alignment->states));
  }
}

TEST(AlignmentTest, ReadsGzippedFilesDirectly) {
  const std::string path = TempPath("alignment.xml.gz");
  gzFile file = gzopen(path.c_str(), "wb");
  ASSERT_NE(file, nullptr);
  ASSERT_EQ(gzwrite(file, kBeast1, sizeof(kBeast1) - 1),
            static_cast<int>(sizeof(kBeast1) - 1));
  ASSERT_EQ(gzclose(file), Z_OK);
  auto alignment = ReadAlignment(path);
  ASSERT_TRUE(alignment.ok()) << alignment.status();
  EXPECT_TRUE(RowsByName(*alignment).equal(ExpectedStates()));
  // A truncated gzip file is refused with the path.
  std::FILE* truncated = std::fopen(TempPath("bad.xml.gz").c_str(), "wb");
  ASSERT_NE(truncated, nullptr);
  std::fwrite("\x1f\x8b\x08\x00", 1, 4, truncated);
  std::fclose(truncated);
  auto bad = ReadAlignment(TempPath("bad.xml.gz"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("bad.xml.gz: "), std::string::npos)
      << bad.status();
  EXPECT_NE(bad.status().message().find("gzip"), std::string::npos)
      << bad.status();
}

TEST(AlignmentTest, PhylipAndXmlErrorsNameTheLine) {
  ExpectErrorAt(ParseAlignment("3 4\none ACGT\ntwo ACGT\n"), 3,
                "announces 3 taxa");
  ExpectErrorAt(ParseAlignment("2 4\none ACGT\ntwo ACG\n"), 3, "'two'");
  ExpectErrorAt(ParseAlignment("2 0\n"), 1, "no site");
  ExpectErrorAt(ParseAlignment("<beast>\n<sequence>\nACGT\n</sequence>\n"), 2,
                "names no taxon");
  ExpectErrorAt(ParseAlignment("<beast>\n<sequence taxon=\"a\" value=\"AC\"/>"
                               "\n<sequence taxon=\"b\" value=\"A!\"/>\n"),
                3, "'!'");
}

// DS1 (Hedges et al. 1990; 27 taxa x 1949 sites) as Debian's
// beast2-mcmc-examples ships it: gzipped BEAST 1 XML with RNA letters.
constexpr char kDs1[] =
    "/usr/share/doc/beast2-mcmc/examples/benchmark/1/testHKY336.xml.gz";

TEST(AlignmentTest, ReadsDs1AsShipped) {
  if (std::FILE* probe = std::fopen(kDs1, "rb")) {
    std::fclose(probe);
  } else {
    GTEST_SKIP() << kDs1 << " is absent: install beast2-mcmc-examples "
                 << "(deploy/setup.sh does)";
  }
  auto alignment = ReadAlignment(kDs1);
  ASSERT_TRUE(alignment.ok()) << alignment.status();
  EXPECT_EQ(alignment->num_taxa(), 27);
  EXPECT_EQ(alignment->num_sites(), 1949);
  EXPECT_EQ(alignment->taxa[0], "Oryctolagus_cuniculus");
  EXPECT_EQ(alignment->taxa[26], "Latimeria_chalumnae");
  // Oryctolagus starts UACCUGG.
  EXPECT_TRUE(alignment->states[0].narrow(0, 0, 7).equal(
      torch::tensor({8, 1, 2, 2, 8, 4, 4}, torch::kInt64)));
  // DS1 is heavily gapped: a fifth or so of its cells are unknown.
  const double unknown = (alignment->states == kNucleotideUnknown)
                             .to(torch::kFloat64)
                             .mean()
                             .item<double>();
  EXPECT_GT(unknown, 0.1);
  EXPECT_LT(unknown, 0.4);
}

}  // namespace
}  // namespace epgfn
