#ifndef EPGFN_CLIENT_CORE_SUMMARY_FORMAT_H_
#define EPGFN_CLIENT_CORE_SUMMARY_FORMAT_H_

#include <cstdint>
#include <string>

#include "proto/sampler.pb.h"

namespace epgfn {

// A Summarize answer as text for people: a table of the top objects (count,
// frequency with its standard error, the importance-sampled p_T), each
// marginal table as rows of "p (se)" cells (at most `max_table_rows` rows of
// each, the rest counted), and each text summary (e.g. the consensus tree).
std::string FormatSummary(const v1::Summary& summary,
                          int64_t max_table_rows = 100);

}  // namespace epgfn

#endif  // EPGFN_CLIENT_CORE_SUMMARY_FORMAT_H_
