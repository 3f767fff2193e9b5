// Figures drawn by the real gnuplot: each TSV holds every data point with
// its header, each script redraws from its folder, each PNG decodes with
// libpng to the expected size, and errors name what is wrong.
#include "tests/demo/figure.h"

#include <cstdlib>
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/util/file_io.h"
#include "gtest/gtest.h"
#include "tests/demo/png_check.h"

namespace epgfn {
namespace {

std::string Dir(const std::string& name) {
  const std::string dir =
      absl::StrCat(std::getenv("TEST_TMPDIR"), "/figure_test/", name);
  std::filesystem::remove_all(dir);
  return dir;
}

std::vector<std::string> Lines(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFileToString(path, 1 << 20);
  EXPECT_TRUE(text.ok()) << text.status();
  return absl::StrSplit(text.value_or(""), '\n', absl::SkipEmpty());
}

void ExpectPng(const std::string& path, int width, int height) {
  absl::StatusOr<PngSize> size = DecodePngWithLibpng(path);
  ASSERT_TRUE(size.ok()) << size.status();
  EXPECT_EQ(size->width, width) << path;
  EXPECT_EQ(size->height, height) << path;
  // Axes, labels and data in several colours, not an empty canvas.
  EXPECT_GT(size->colours, 20) << path;
}

TEST(FigureTest, LineFigureWritesEveryPointAndAPng) {
  const std::string stem = Dir("lines") + "/loss";
  LineFigure figure{"Training loss", "iteration", "loss", false, true, {}};
  figure.series.push_back({"client 0", {0, 10, 20}, {1.0, 0.5, 0.25}});
  figure.series.push_back({"aggregation", {0, 10}, {2.0, 0.0}});
  FigureOptions options;
  options.width_px = 640;
  options.height_px = 400;
  ASSERT_TRUE(WriteFigure(figure, stem, options).ok());
  const std::vector<std::string> lines = Lines(stem + ".tsv");
  ASSERT_EQ(lines.size(), 6u);
  EXPECT_EQ(lines[0], "series\titeration\tloss");
  EXPECT_EQ(lines[1], "client 0\t0\t1");
  EXPECT_EQ(lines[3], "client 0\t20\t0.25");
  // A zero on a log axis is a gap, kept in the table as NaN.
  EXPECT_EQ(lines[5], "aggregation\t10\tNaN");
  ExpectPng(stem + ".png", 640, 400);
  // The script names its files relative to its folder.
  const std::vector<std::string> script = Lines(stem + ".gp");
  bool reads_tsv = false;
  for (const std::string& line : script) {
    reads_tsv |= absl::StrContains(line, "plot 'loss.tsv'");
  }
  EXPECT_TRUE(reads_tsv);
}

TEST(FigureTest, BarFigureKeepsCategoryNamesAndSeries) {
  const std::string stem = Dir("bars") + "/top_objects";
  BarFigure figure{"Most probable DAGs",
                   "DAG (edges)",
                   "probability",
                   {"a->b, b->c", "(empty)", "((Human,Chimp),Gorilla)"},
                   {"exact", "learned"},
                   {{0.5, 0.45}, {0.3, 0.35}, {0.2, 0.2}}};
  ASSERT_TRUE(WriteFigure(figure, stem).ok());
  const std::vector<std::string> lines = Lines(stem + ".tsv");
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], "DAG (edges)\texact\tlearned");
  EXPECT_EQ(lines[1], "a->b, b->c\t0.5\t0.45");
  EXPECT_EQ(lines[3], "((Human,Chimp),Gorilla)\t0.2\t0.2");
  absl::StatusOr<PngSize> size = DecodePngWithLibpng(stem + ".png");
  ASSERT_TRUE(size.ok()) << size.status();
  EXPECT_GE(size->width, 900);
  EXPECT_GT(size->colours, 20);
}

TEST(FigureTest, HeatmapAndPageOfPanels) {
  const std::string dir = Dir("heatmaps");
  HeatmapFigure panel{"target",           "x", "y", "probability", 3, 2,
                      {0, 1, 2, 3, 4, 5}, 5};
  ASSERT_TRUE(WriteFigure(panel, dir + "/single").ok());
  const std::vector<std::string> lines = Lines(dir + "/single.tsv");
  ASSERT_EQ(lines.size(), 7u);
  EXPECT_EQ(lines[0], "x\ty\tprobability");
  EXPECT_EQ(lines[2], "1\t0\t1");
  EXPECT_EQ(lines[6], "2\t1\t5");
  ExpectPng(dir + "/single.png", 760, 600);

  // Two rows of two, one slot left empty.
  ASSERT_TRUE(WriteHeatmapPage("Overview", {panel, panel, panel, {}},
                               {"a", "b", "c", "d"}, 2, dir + "/overview")
                  .ok());
  ExpectPng(dir + "/overview.png", 760, 700);
  for (const char* name : {"a", "b", "c"}) {
    EXPECT_EQ(Lines(absl::StrCat(dir, "/overview_", name, ".tsv")).size(), 7u);
  }
  EXPECT_FALSE(std::filesystem::exists(dir + "/overview_d.tsv"));
}

TEST(FigureTest, ErrorsNameTheProblem) {
  const std::string dir = Dir("errors");
  HeatmapFigure bad{"bad", "x", "y", "p", 2, 2, {1, 2, 3}, 0};
  absl::Status status = WriteFigure(bad, dir + "/bad");
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_TRUE(absl::StrContains(status.message(), "3 values for 2x2"))
      << status;

  FigureOptions missing;
  missing.gnuplot = "epgfn-no-such-gnuplot";
  HeatmapFigure good{"good", "x", "y", "p", 1, 1, {1}, 0};
  status = WriteFigure(good, dir + "/good", missing);
  EXPECT_TRUE(absl::IsFailedPrecondition(status));
  EXPECT_TRUE(absl::StrContains(status.message(), "gnuplot-nox")) << status;
  // The data is written before gnuplot runs.
  EXPECT_EQ(Lines(dir + "/good.tsv").size(), 2u);

  // A gnuplot that fails: its messages come back.
  FigureOptions failing;
  failing.gnuplot = "false";
  status = WriteFigure(good, dir + "/failing", failing);
  EXPECT_TRUE(absl::StrContains(status.message(), "gnuplot failed")) << status;
}

}  // namespace
}  // namespace epgfn
