#include "common/eval/phylo/dnapars.h"

#include <torch/types.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/util/file_io.h"
#include "common/util/status_macros.h"

namespace epgfn {

char IupacOfMask(int64_t mask) {
  // Index = mask: A=1 C=2 M=3 G=4 R=5 S=6 V=7 T=8 W=9 Y=10 H=11 K=12 D=13
  // B=14 N=15.
  static constexpr char kLetters[] = "?ACMGRSVTWYHKDBN";
  return mask >= 1 && mask <= 15 ? kLetters[mask] : '?';
}

absl::StatusOr<std::string> PhylipAlignment(const at::Tensor& masks) {
  if (masks.dim() != 2 || masks.size(0) < 2 || masks.size(1) < 1) {
    return absl::InvalidArgumentError(
        "PHYLIP alignment needs [taxa >= 2, sites >= 1] masks");
  }
  at::Tensor cpu = masks.to(torch::kCPU).to(torch::kInt64).contiguous();
  const int64_t n = cpu.size(0);
  const int64_t sites = cpu.size(1);
  const int64_t* data = cpu.data_ptr<int64_t>();
  std::string text = absl::StrCat(n, " ", sites, "\n");
  for (int64_t k = 0; k < n; ++k) {
    absl::StrAppendFormat(&text, "%-10s", absl::StrCat("t", k));
    for (int64_t s = 0; s < sites; ++s) {
      const int64_t mask = data[k * sites + s];
      if (mask < 1 || mask > 15) {
        return absl::InvalidArgumentError(absl::StrCat(
            "mask ", mask, " of taxon ", k, " at site ", s, " is not 1..15"));
      }
      text.push_back(IupacOfMask(mask));
    }
    text.push_back('\n');
  }
  return text;
}

absl::StatusOr<std::vector<double>> ParseDnaparsScores(
    absl::string_view outfile) {
  constexpr absl::string_view kMarker = "requires a total of";
  std::vector<double> scores;
  for (size_t at = outfile.find(kMarker); at != absl::string_view::npos;
       at = outfile.find(kMarker, at + 1)) {
    size_t begin = at + kMarker.size();
    const size_t end = outfile.find('\n', begin);
    absl::string_view number = outfile.substr(begin, end - begin);
    double score = 0.0;
    if (!absl::SimpleAtod(absl::StripAsciiWhitespace(number), &score)) {
      return absl::InvalidArgumentError(
          absl::StrCat("dnapars outfile: cannot read a score in '",
                       outfile.substr(at, end - at), "'"));
    }
    scores.push_back(score);
  }
  if (scores.empty()) {
    return absl::InvalidArgumentError(
        "dnapars outfile holds no 'requires a total of' line");
  }
  return scores;
}

absl::StatusOr<DnaparsResult> RunDnapars(const std::string& phylip_alignment,
                                         const DnaparsOptions& options) {
  if (access(options.binary.c_str(), X_OK) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("dnapars not found at ", options.binary,
                     "; install Debian's phylip package (deploy/setup.sh)"));
  }
  ASSIGN_OR_RETURN(const std::string folder,
                   MakeTemporaryDirectory("epgfn-dnapars-"));
  RETURN_IF_ERROR(WriteFileAtomically(folder + "/infile", phylip_alignment));
  // The menu: optional J (seed, times), then Y to accept the settings.
  std::string menu;
  if (options.jumbles > 0) {
    absl::StrAppend(&menu, "J\n", options.seed | 1, "\n", options.jumbles,
                    "\n");
  }
  menu += "Y\n";
  RETURN_IF_ERROR(WriteFileAtomically(folder + "/menu", menu));
  const std::string command =
      absl::StrCat("cd '", folder, "' && timeout ", options.timeout_seconds,
                   " '", options.binary, "' < menu > screen 2>&1");
  const auto start = std::chrono::steady_clock::now();
  const int rc = std::system(command.c_str());
  DnaparsResult result;
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  auto outfile = ReadFileToString(folder + "/outfile", int64_t{1} << 28);
  if (rc != 0 || !outfile.ok()) {
    auto screen = ReadFileToString(folder + "/screen", int64_t{1} << 24);
    return absl::InternalError(absl::StrCat(
        "dnapars failed (exit ", rc, ") in ", folder, ": ",
        screen.ok()
            ? screen->substr(screen->size() > 400 ? screen->size() - 400 : 0)
            : std::string("no screen output")));
  }
  ASSIGN_OR_RETURN(std::vector<double> scores, ParseDnaparsScores(*outfile));
  result.best_score = *std::min_element(scores.begin(), scores.end());
  result.trees_found = static_cast<int>(scores.size());
  std::error_code ignored;
  std::filesystem::remove_all(folder, ignored);
  return result;
}

}  // namespace epgfn
