#ifndef EPGFN_TESTS_BENCH_BEAST_XML_H_
#define EPGFN_TESTS_BENCH_BEAST_XML_H_

#include <string>

#include "absl/status/statusor.h"

namespace epgfn {

// An alignment converted to FASTA, and its taxon count.
struct Converted {
  std::string path;
  int taxa = 0;
};

// BEAST 1 XML (DS1-DS8 as Debian's beast2-mcmc-examples ships them, .xml or
// .xml.gz): <sequence> <taxon idref="NAME"/> SEQUENCE </sequence>, written
// as FASTA to `out`. NotFound when zcat cannot read a .gz file.
absl::StatusOr<Converted> BeastXmlAsFasta(const std::string& path,
                                          const std::string& out);

}  // namespace epgfn

#endif  // EPGFN_TESTS_BENCH_BEAST_XML_H_
