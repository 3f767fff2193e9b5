#ifndef EPGFN_SERVER_RPC_SUMMARY_CONVERSION_H_
#define EPGFN_SERVER_RPC_SUMMARY_CONVERSION_H_

#include "proto/sampler.pb.h"
#include "server/core/summarizer.h"

namespace epgfn {

// The Summarize RPC's messages to and from the core's structs.
SummaryQuery SummaryQueryFromProto(const v1::SummarizeRequest& request);
void SummaryToProto(const PosteriorSummary& summary, v1::Summary* out);

}  // namespace epgfn

#endif  // EPGFN_SERVER_RPC_SUMMARY_CONVERSION_H_
