#include "tests/demo/figure.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/util/file_io.h"
#include "common/util/status_macros.h"

extern char** environ;

namespace epgfn {
namespace {

// Series colours (colour-blind-safe, Okabe-Ito), in legend order.
constexpr const char* kColours[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                    "#E69F00", "#56B4E9", "#F0E442", "#000000"};
constexpr int kNumColours = sizeof(kColours) / sizeof(kColours[0]);

// A TSV cell: tabs and newlines would break the table.
std::string Cell(const std::string& text) {
  return absl::StrReplaceAll(text, {{"\t", " "}, {"\n", " "}, {"\r", " "}});
}

std::string Number(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Inf" : "-Inf";
  return absl::StrFormat("%.10g", value);
}

// A gnuplot single-quoted string ('' is its only escape).
std::string Quoted(const std::string& text) {
  return absl::StrCat("'", absl::StrReplaceAll(Cell(text), {{"'", "''"}}), "'");
}

std::string Basename(const std::string& path) {
  return std::filesystem::path(path).filename().string();
}

std::string Directory(const std::string& path) {
  const std::string parent = std::filesystem::path(path).parent_path().string();
  return parent.empty() ? "." : parent;
}

// The lines every script starts with: terminal, output, TSV input, labels.
std::string Preamble(const std::string& stem, const FigureOptions& options,
                     const std::string& title, const std::string& x_label,
                     const std::string& y_label) {
  // noenhanced: labels are literal (tree and edge names hold '_', '{', '^').
  return absl::StrCat(
      "# Redraw with: gnuplot ", Basename(stem), ".gp (in this folder)\n",
      "set terminal pngcairo noenhanced size ", options.width_px, ",",
      options.height_px, " font 'DejaVu Sans,11'\n", "set output ",
      Quoted(Basename(stem) + ".png"), "\n", "set datafile separator tab\n",
      "set title ", Quoted(title), " font ',13'\n", "set xlabel ",
      Quoted(x_label), "\n", "set ylabel ", Quoted(y_label), "\n",
      "set grid back lc rgb '#dddddd'\n");
}

absl::Status FindExecutable(const std::string& name) {
  if (name.find('/') != std::string::npos) {
    if (access(name.c_str(), X_OK) == 0) return absl::OkStatus();
  } else if (const char* path = std::getenv("PATH")) {
    for (absl::string_view dir : absl::StrSplit(path, ':', absl::SkipEmpty())) {
      if (access(absl::StrCat(dir, "/", name).c_str(), X_OK) == 0) {
        return absl::OkStatus();
      }
    }
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "cannot draw figures: '", name,
      "' is not installed (or not on PATH); install Debian's gnuplot-nox "
      "(deploy/setup.sh does)"));
}

// Runs `gnuplot <stem>.gp` in the script's folder; its stderr goes to
// <stem>.gnuplot.log, quoted in the error when it fails.
absl::Status RunGnuplot(const std::string& stem, const FigureOptions& options) {
  RETURN_IF_ERROR(FindExecutable(options.gnuplot));
  const std::string dir = Directory(stem);
  const std::string script = Basename(stem) + ".gp";
  const std::string log = stem + ".gnuplot.log";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null",
                                   O_WRONLY, 0);
  posix_spawn_file_actions_addchdir_np(&actions, dir.c_str());
  std::vector<std::string> args = {options.gnuplot, script};
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int spawned = posix_spawnp(&pid, options.gnuplot.c_str(), &actions,
                                   nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    return absl::InternalError(
        absl::StrCat("cannot start ", options.gnuplot, ": errno ", spawned));
  }
  int wait_status = 0;
  if (waitpid(pid, &wait_status, 0) != pid) {
    return absl::InternalError("waitpid on gnuplot failed");
  }
  if (!WIFEXITED(wait_status) || WEXITSTATUS(wait_status) != 0) {
    absl::StatusOr<std::string> messages = ReadFileToString(log, 1 << 16);
    return absl::InternalError(absl::StrCat(
        "gnuplot failed on ", stem, ".gp: ",
        messages.ok() ? absl::StripAsciiWhitespace(*messages) : "(no log)"));
  }
  std::remove(log.c_str());
  return absl::OkStatus();
}

absl::Status WriteAndRun(const std::string& stem, const std::string& tsv,
                         const std::string& script,
                         const FigureOptions& options) {
  RETURN_IF_ERROR(MakeDirectories(Directory(stem)));
  RETURN_IF_ERROR(WriteFileAtomically(stem + ".tsv", tsv));
  RETURN_IF_ERROR(WriteFileAtomically(stem + ".gp", script));
  return RunGnuplot(stem, options);
}

// The plot command of one heatmap reading `tsv` (basename).
std::string HeatmapCommands(const HeatmapFigure& figure,
                            const std::string& tsv) {
  double max_value = figure.max_value;
  if (max_value <= 0) {
    for (double v : figure.values) max_value = std::max(max_value, v);
  }
  if (!(max_value > 0)) max_value = 1;
  return absl::StrCat(
      "set xrange [-0.5:", figure.columns - 0.5, "]\n",
      "set yrange [-0.5:", figure.rows - 0.5, "]\n",
      "set cbrange [0:", Number(max_value), "]\n", "set cblabel ",
      Quoted(figure.value_label), "\n",
      // Integer coordinates label the cells; no grid lines through them.
      "set xtics 1 out nomirror\nset ytics 1 out nomirror\nunset grid\n",
      "set size ratio -1\n",
      // viridis: perceptually uniform, readable in grey.
      "set palette defined (0 '#440154', 0.25 '#3b528b', 0.5 '#21918c', "
      "0.75 '#5ec962', 1 '#fde725')\n",
      "plot ", Quoted(tsv), " using 1:2:3 skip 1 with image notitle\n");
}

absl::Status CheckHeatmap(const HeatmapFigure& figure) {
  if (figure.columns <= 0 || figure.rows <= 0 ||
      figure.values.size() !=
          static_cast<size_t>(figure.columns) * figure.rows) {
    return absl::InvalidArgumentError(absl::StrCat(
        "heatmap '", figure.title, "': ", figure.values.size(), " values for ",
        figure.columns, "x", figure.rows, " cells"));
  }
  return absl::OkStatus();
}

std::string HeatmapTsv(const HeatmapFigure& figure) {
  std::string tsv =
      absl::StrCat(Cell(figure.x_label), "\t", Cell(figure.y_label), "\t",
                   Cell(figure.value_label), "\n");
  for (int y = 0; y < figure.rows; ++y) {
    for (int x = 0; x < figure.columns; ++x) {
      absl::StrAppend(&tsv, x, "\t", y, "\t",
                      Number(figure.values[y * figure.columns + x]), "\n");
    }
  }
  return tsv;
}

}  // namespace

absl::Status WriteFigure(const LineFigure& figure, const std::string& stem,
                         const FigureOptions& options) {
  if (figure.series.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("line figure '", figure.title, "' has no series"));
  }
  std::string tsv = absl::StrCat("series\t", Cell(figure.x_label), "\t",
                                 Cell(figure.y_label), "\n");
  std::string script =
      Preamble(stem, options, figure.title, figure.x_label, figure.y_label);
  if (figure.log_x) absl::StrAppend(&script, "set logscale x\n");
  if (figure.log_y) absl::StrAppend(&script, "set logscale y\n");
  // Below the plot, so that long series names (the sites-scaling figure's)
  // do not take width from the curves.
  absl::StrAppend(&script,
                  "set key outside center bottom horizontal box opaque\n"
                  "set bmargin 7\n");
  // One block per series: the rows whose first column names it.
  std::vector<std::string> plots;
  for (size_t s = 0; s < figure.series.size(); ++s) {
    const LineSeries& series = figure.series[s];
    if (series.x.size() != series.y.size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "line figure '", figure.title, "', series '", series.name, "': ",
          series.x.size(), " x values but ", series.y.size(), " y values"));
    }
    for (size_t i = 0; i < series.x.size(); ++i) {
      // Log axes cannot show <= 0: those points are gaps, not errors.
      double y = series.y[i];
      if (figure.log_y && !(y > 0)) y = NAN;
      absl::StrAppend(&tsv, Cell(series.name), "\t", Number(series.x[i]), "\t",
                      Number(y), "\n");
    }
    plots.push_back(absl::StrCat(
        s == 0 ? Quoted(Basename(stem) + ".tsv") : "''", " using ",
        "(strcol(1) eq ", Quoted(series.name), " ? $2 : NaN):3 skip 1",
        " with linespoints pt 7 ps 0.5 lw 2 lc rgb '",
        kColours[s % kNumColours], "' title ", Quoted(series.name)));
  }
  absl::StrAppend(&script, "plot ", absl::StrJoin(plots, ", \\\n     "), "\n");
  return WriteAndRun(stem, tsv, script, options);
}

absl::Status WriteFigure(const BarFigure& figure, const std::string& stem,
                         const FigureOptions& options) {
  if (figure.categories.empty() || figure.series.empty() ||
      figure.values.size() != figure.categories.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("bar figure '", figure.title,
                     "' needs one row of values per "
                     "category and at least one series"));
  }
  std::string tsv = Cell(figure.x_label);
  for (const std::string& name : figure.series) {
    absl::StrAppend(&tsv, "\t", Cell(name));
  }
  absl::StrAppend(&tsv, "\n");
  size_t longest = 0;
  for (size_t c = 0; c < figure.categories.size(); ++c) {
    if (figure.values[c].size() != figure.series.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("bar figure '", figure.title, "', category '",
                       figure.categories[c], "': ", figure.values[c].size(),
                       " values for ", figure.series.size(), " series"));
    }
    longest = std::max(longest, figure.categories[c].size());
    absl::StrAppend(&tsv, Cell(figure.categories[c]));
    for (double v : figure.values[c]) absl::StrAppend(&tsv, "\t", Number(v));
    absl::StrAppend(&tsv, "\n");
  }
  // Rotated category labels need room below the axis: at 40 degrees in the
  // 9-point tick font, about 0.3 text lines per character; at least 4 lines.
  FigureOptions sized = options;
  const int bottom = std::max<int>(4, static_cast<int>(longest * 0.3) + 3);
  sized.height_px = std::max(options.height_px, 420 + bottom * 15);
  sized.width_px = std::max(
      options.width_px, 160 + 60 * static_cast<int>(figure.categories.size()) *
                                  static_cast<int>(figure.series.size()));
  std::string script =
      Preamble(stem, sized, figure.title, figure.x_label, figure.y_label);
  // gnuplot places the x label below where it thinks the rotated tick
  // labels end, which can be off the canvas: pin it to the bottom edge.
  absl::StrAppend(&script, "unset xlabel\nset label 101 ",
                  Quoted(figure.x_label),
                  " at screen 0.45, screen 0.03 center\n");
  // The first category's label, right-aligned at its tick, reaches left of
  // the plot by about half a character per character.
  const int left = std::max<int>(10, static_cast<int>(longest * 0.5));
  absl::StrAppend(&script, "set bmargin ", bottom, "\n", "set lmargin ", left,
                  "\n", "set xtics rotate by 40 right nomirror font ',9'\n",
                  "set yrange [0:*]\n", "set style data histograms\n",
                  "set style histogram clustered gap 1\n",
                  "set style fill solid 0.9 border -1\n",
                  "set key outside right top box opaque\n");
  std::vector<std::string> plots;
  for (size_t s = 0; s < figure.series.size(); ++s) {
    plots.push_back(
        absl::StrCat(s == 0 ? Quoted(Basename(stem) + ".tsv") : "''", " using ",
                     s + 2, s == 0 ? ":xtic(1)" : "", " lc rgb '",
                     kColours[s % kNumColours], "' title columnheader"));
  }
  absl::StrAppend(&script, "plot ", absl::StrJoin(plots, ", \\\n     "), "\n");
  return WriteAndRun(stem, tsv, script, sized);
}

absl::Status WriteFigure(const HeatmapFigure& figure, const std::string& stem,
                         const FigureOptions& options) {
  RETURN_IF_ERROR(CheckHeatmap(figure));
  FigureOptions square = options;
  square.height_px = std::min(options.height_px, options.width_px);
  square.width_px = square.height_px + 160;
  const std::string script = absl::StrCat(
      Preamble(stem, square, figure.title, figure.x_label, figure.y_label),
      HeatmapCommands(figure, Basename(stem) + ".tsv"));
  return WriteAndRun(stem, HeatmapTsv(figure), script, square);
}

absl::Status WriteHeatmapPage(const std::string& title,
                              const std::vector<HeatmapFigure>& panels,
                              const std::vector<std::string>& panel_stems,
                              int columns, const std::string& stem,
                              const FigureOptions& options) {
  if (panels.size() != panel_stems.size() || columns <= 0 || panels.empty()) {
    return absl::InvalidArgumentError(
        "a heatmap page needs one stem per panel and columns >= 1");
  }
  const int rows = (static_cast<int>(panels.size()) + columns - 1) / columns;
  FigureOptions page = options;
  page.width_px = 380 * columns;
  page.height_px = 330 * rows + 40;
  std::string script = absl::StrCat(
      "# Redraw with: gnuplot ", Basename(stem), ".gp (in this folder)\n",
      "set terminal pngcairo noenhanced size ", page.width_px, ",",
      page.height_px, " font 'DejaVu Sans,9'\n", "set output ",
      Quoted(Basename(stem) + ".png"), "\n", "set datafile separator tab\n",
      "set multiplot layout ", rows, ",", columns, " title ", Quoted(title),
      " font ',13'\n");
  for (size_t i = 0; i < panels.size(); ++i) {
    const HeatmapFigure& panel = panels[i];
    if (panel.values.empty()) {
      absl::StrAppend(&script, "set multiplot next\n");
      continue;
    }
    RETURN_IF_ERROR(CheckHeatmap(panel));
    const std::string panel_stem = absl::StrCat(stem, "_", panel_stems[i]);
    RETURN_IF_ERROR(WriteFigure(panel, panel_stem, options));
    absl::StrAppend(&script, "set title ", Quoted(panel.title), "\n",
                    "set xlabel ", Quoted(panel.x_label), "\n", "set ylabel ",
                    Quoted(panel.y_label), "\n",
                    HeatmapCommands(panel, Basename(panel_stem) + ".tsv"));
  }
  absl::StrAppend(&script, "unset multiplot\n");
  RETURN_IF_ERROR(WriteFileAtomically(stem + ".gp", script));
  return RunGnuplot(stem, page);
}

}  // namespace epgfn
