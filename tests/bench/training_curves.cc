#include "tests/bench/training_curves.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "common/util/file_io.h"
#include "common/util/status_macros.h"
#include "tests/demo/figure.h"

namespace epgfn {

absl::Status WriteCurves(const std::vector<Curve>& curves,
                         const std::string& dir) {
  RETURN_IF_ERROR(MakeDirectories(dir));
  std::string tsv = "curve\titeration\tloss\ttv_to_target\n";
  for (const Curve& curve : curves) {
    for (size_t i = 0; i < curve.iteration.size(); ++i) {
      absl::StrAppend(&tsv, curve.name, "\t", curve.iteration[i], "\t",
                      curve.loss[i], "\t",
                      i < curve.total_variation.size()
                          ? absl::StrCat(curve.total_variation[i])
                          : std::string("nan"),
                      "\n");
    }
  }
  RETURN_IF_ERROR(WriteFileAtomically(dir + "/curves.tsv", tsv));
  LineFigure loss{"Training loss (mean over each interval)",
                  "iteration",
                  "loss (log scale)",
                  false,
                  true,
                  {}};
  LineFigure tv{"Exact total variation to the product target",
                "iteration",
                "TV distance (log scale)",
                false,
                true,
                {}};
  for (const Curve& curve : curves) {
    loss.series.push_back({curve.name, curve.iteration, curve.loss});
    if (!curve.total_variation.empty()) {
      tv.series.push_back({curve.name, curve.iteration, curve.total_variation});
    }
  }
  RETURN_IF_ERROR(WriteFigure(loss, dir + "/loss"));
  if (!tv.series.empty()) RETURN_IF_ERROR(WriteFigure(tv, dir + "/tv"));
  std::printf(
      "\nfigures: %s/loss.png (training loss vs iteration, every client, the "
      "aggregation and the centralized run), %s/tv.png (exact TV to the "
      "product target vs iteration), each with its .tsv; all curves in "
      "%s/curves.tsv\n",
      dir.c_str(), dir.c_str(), dir.c_str());
  return absl::OkStatus();
}

}  // namespace epgfn
