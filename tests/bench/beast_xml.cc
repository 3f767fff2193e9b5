#include "tests/bench/beast_xml.h"

#include <cctype>
#include <cstdint>
#include <cstdio>
#include <regex>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/util/file_io.h"
#include "common/util/status_macros.h"

namespace epgfn {

absl::StatusOr<Converted> BeastXmlAsFasta(const std::string& path,
                                          const std::string& out) {
  std::string xml;
  if (path.size() > 3 && path.substr(path.size() - 3) == ".gz") {
    FILE* pipe = popen(absl::StrCat("zcat '", path, "'").c_str(), "r");
    if (pipe == nullptr) return absl::InternalError("cannot run zcat");
    char buffer[1 << 16];
    size_t got;
    while ((got = fread(buffer, 1, sizeof(buffer), pipe)) > 0) {
      xml.append(buffer, got);
    }
    if (pclose(pipe) != 0) {
      return absl::NotFoundError(absl::StrCat("zcat ", path, " failed"));
    }
  } else {
    ASSIGN_OR_RETURN(xml, ReadFileToString(path, int64_t{1} << 30));
  }
  const std::regex sequence(
      "<sequence[^>]*>\\s*<taxon\\s+idref=\"([^\"]+)\"\\s*/>\\s*([^<]+)</"
      "sequence>");
  std::string fasta;
  int count = 0;
  for (auto it = std::sregex_iterator(xml.begin(), xml.end(), sequence);
       it != std::sregex_iterator(); ++it, ++count) {
    std::string residues;
    for (char c : (*it)[2].str()) {
      if (!std::isspace(static_cast<unsigned char>(c))) residues.push_back(c);
    }
    absl::StrAppend(&fasta, ">", (*it)[1].str(), "\n", residues, "\n");
  }
  if (count == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": no <sequence><taxon idref=.../>...</sequence>"));
  }
  RETURN_IF_ERROR(WriteFileAtomically(out, fasta));
  return Converted{out, count};
}

}  // namespace epgfn
