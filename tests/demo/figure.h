#ifndef EPGFN_TESTS_DEMO_FIGURE_H_
#define EPGFN_TESTS_DEMO_FIGURE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace epgfn {

// Figures drawn by gnuplot (Debian gnuplot-nox, pngcairo terminal) from TSV
// data. Writing a figure with stem "dir/name" produces three files:
//   dir/name.tsv  the data, with a header row (what a user re-plots);
//   dir/name.gp   the gnuplot script, which reads name.tsv and writes
//                 name.png relative to its own folder (`cd dir; gnuplot
//                 name.gp` redraws it);
//   dir/name.png  the figure: a title, labelled axes, a legend or colorbar.
// The folder is created if missing. gnuplot runs in that folder; when it is
// not installed or fails, the error says so (the TSV is written first, so
// the data is there either way).

struct FigureOptions {
  int width_px = 900;
  int height_px = 600;
  // The gnuplot executable, looked up on PATH unless it holds a '/'.
  std::string gnuplot = "gnuplot";
};

// One curve of a line plot.
struct LineSeries {
  std::string name;  // its legend entry
  std::vector<double> x;
  std::vector<double> y;  // same length as x; non-finite values are gaps
};

// Curves over a shared x axis. TSV: one row per point, columns
// `series`, x_label, y_label (long format, one block per series).
struct LineFigure {
  std::string title;
  std::string x_label;  // with units, e.g. "iteration" or "CPU time (s)"
  std::string y_label;
  bool log_x = false;
  bool log_y = false;
  std::vector<LineSeries> series;
};

// Clustered bars: one group per category, one bar per series. TSV: one row
// per category, columns x_label then one per series.
struct BarFigure {
  std::string title;
  std::string x_label;
  std::string y_label;
  std::vector<std::string> categories;      // tick labels, e.g. "a->b, b->c"
  std::vector<std::string> series;          // legend entries
  std::vector<std::vector<double>> values;  // [category][series]
};

// A grid of cells coloured by value, with a colorbar. TSV: one row per cell,
// columns x_label, y_label, value_label; integer coordinates as tick labels.
struct HeatmapFigure {
  std::string title;
  std::string x_label;
  std::string y_label;
  std::string value_label;     // the colorbar's label
  int columns = 0;             // x = 0..columns-1
  int rows = 0;                // y = 0..rows-1
  std::vector<double> values;  // [y * columns + x]
  // Upper end of the colour scale; <= 0: the largest value. Panels that are
  // compared share one.
  double max_value = 0;
};

absl::Status WriteFigure(const LineFigure& figure, const std::string& stem,
                         const FigureOptions& options = {});
absl::Status WriteFigure(const BarFigure& figure, const std::string& stem,
                         const FigureOptions& options = {});
absl::Status WriteFigure(const HeatmapFigure& figure, const std::string& stem,
                         const FigureOptions& options = {});

// Several heatmaps on one page (gnuplot multiplot), `columns` per row, under
// a common title. Each panel is also written on its own, as
// <stem>_<panel_stems[i]>.{tsv,gp,png}; the page's script reads those TSVs.
absl::Status WriteHeatmapPage(const std::string& title,
                              const std::vector<HeatmapFigure>& panels,
                              const std::vector<std::string>& panel_stems,
                              int columns, const std::string& stem,
                              const FigureOptions& options = {});

}  // namespace epgfn

#endif  // EPGFN_TESTS_DEMO_FIGURE_H_
