// epgfn_sample: draws objects from a published global model through the
// Sampler service and summarises them.
//
//   epgfn_sample --server=host:port --tls_ca=ca.pem --tls_cert=me.pem
//     --tls_key=me.key --sampler_token_file=token.txt --num_samples=10000
//     --output=samples.tsv
//
// --output holds one object per line, tab-separated: the raw state integers
// (space-separated), the description, and the log p_T estimate ("nan" unless
// --log_probability_samples > 0).
//
// --summary asks the server for posterior summaries instead (Summarize RPC):
// of --num_samples objects it draws, or of the objects in --summarize_file
// (a file --output wrote), and prints the top objects, the feature marginals
// with standard errors and, for trees, the majority-rule consensus.
#include <glog/logging.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "client/channel_flags.h"
#include "client/core/channel.h"
#include "client/core/sampler_client.h"
#include "client/core/summary_format.h"
#include "common/util/file_io.h"
#include "common/util/guarded_run.h"
#include "common/util/status_macros.h"

ABSL_FLAG(std::string, sampler_token_file, "",
          "File holding the bearer token for a server started with "
          "--sampler_auth=token (surrounding whitespace is ignored).");
ABSL_FLAG(int64_t, num_samples, 1000, "Number of objects to draw.");
ABSL_FLAG(int64_t, model_version, 0,
          "Global model version to sample from (0: the latest).");
ABSL_FLAG(std::string, aggregate, "",
          "Named aggregate (the federation config's aggregate { name }) to "
          "sample or summarize; empty or \"default\": the default product "
          "of every client. An unknown name is NOT_FOUND.");
ABSL_FLAG(int64_t, seed, -1,
          "Seed for reproducible samples; negative: unseeded.");
ABSL_FLAG(int32_t, log_probability_samples, 0,
          "Backward trajectories per object for the log p_T estimate (0: "
          "skip it, fastest).");
ABSL_FLAG(std::string, output, "",
          "Optional file for the objects, one per line (state integers, "
          "description, log p), tab-separated.");
ABSL_FLAG(int64_t, max_per_request, 100000,
          "Largest num_samples per Sample request (the server's cap); larger "
          "--num_samples are drawn in several requests.");
ABSL_FLAG(int32_t, top, 10, "How many of the most frequent objects to list.");
ABSL_FLAG(bool, summary, false,
          "Print posterior summaries computed on the server (the Summarize "
          "RPC) instead of drawing objects here: the --top most frequent "
          "objects with frequency and importance-sampled p_T "
          "(--log_probability_samples backward trajectories each; 0: the "
          "server's default), the feature marginals with standard errors, "
          "and for trees the majority-rule consensus tree. --num_samples "
          "objects are drawn on the server (at most its per-request cap).");
ABSL_FLAG(std::string, summarize_file, "",
          "With --summary: summarize the objects in this file (one per line, "
          "the state integers in the first tab-separated column, as "
          "--output writes them) instead of drawing new ones.");
ABSL_FLAG(std::string, variable_names, "",
          "With --summary: comma-separated names of the environment's "
          "variables for the marginal tables (DAG nodes, grid coordinates, "
          "multiset items or sequence positions).");
ABSL_FLAG(int32_t, rpc_attempts, 6,
          "Attempts when the server is unreachable: gRPC's own retry policy "
          "for unary calls (at most 5), exponential backoff with jitter "
          "between attempts of Sample streams.");

namespace epgfn {
namespace {

absl::Status WriteObjects(const std::string& path,
                          const std::vector<v1::SampledObject>& objects) {
  std::ofstream out(path);
  if (!out) return absl::UnavailableError(absl::StrCat("cannot write ", path));
  for (const v1::SampledObject& object : objects) {
    out << absl::StrJoin(object.state(), " ") << '\t' << object.description()
        << '\t';
    if (std::isnan(object.log_probability())) {
      out << "nan";
    } else {
      out << absl::StrCat(object.log_probability());
    }
    out << '\n';
  }
  out.close();
  if (!out) return absl::DataLossError(absl::StrCat("error writing ", path));
  return absl::OkStatus();
}

// The objects of a file that --output wrote: the first tab-separated column
// of each non-empty line holds the state integers.
absl::Status ReadObjects(const std::string& path,
                         v1::SummarizeRequest* request) {
  ASSIGN_OR_RETURN(const std::string text,
                   ReadFileToString(path, int64_t{1} << 30));
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    if (line.empty()) continue;
    const absl::string_view state = line.substr(0, line.find('\t'));
    v1::ObjectState* object = request->add_objects();
    for (absl::string_view field :
         absl::StrSplit(state, ' ', absl::SkipEmpty())) {
      int64_t value = 0;
      if (!absl::SimpleAtoi(field, &value)) {
        return absl::InvalidArgumentError(absl::StrCat(
            path, ":", line_number, ": '", field, "' is not a state integer"));
      }
      object->add_state(value);
    }
  }
  if (request->objects_size() == 0) {
    return absl::InvalidArgumentError(absl::StrCat(path, " holds no objects"));
  }
  return absl::OkStatus();
}

absl::Status Summarize(SamplerClient& sampler) {
  v1::SummarizeRequest request;
  if (!absl::GetFlag(FLAGS_summarize_file).empty()) {
    RETURN_IF_ERROR(ReadObjects(absl::GetFlag(FLAGS_summarize_file), &request));
  } else {
    request.set_num_samples(absl::GetFlag(FLAGS_num_samples));
  }
  request.set_model_version(absl::GetFlag(FLAGS_model_version));
  request.set_aggregate(absl::GetFlag(FLAGS_aggregate));
  if (absl::GetFlag(FLAGS_seed) >= 0) {
    request.set_use_seed(true);
    request.set_seed(static_cast<uint64_t>(absl::GetFlag(FLAGS_seed)));
  }
  request.set_log_probability_samples(
      absl::GetFlag(FLAGS_log_probability_samples));
  request.set_top_objects(std::max(1, absl::GetFlag(FLAGS_top)));
  if (!absl::GetFlag(FLAGS_variable_names).empty()) {
    for (absl::string_view name :
         absl::StrSplit(absl::GetFlag(FLAGS_variable_names), ',')) {
      request.add_variable_names(std::string(name));
    }
  }
  const absl::Time start = absl::Now();
  ASSIGN_OR_RETURN(const v1::Summary summary, sampler.Summarize(request));
  std::printf("%s", FormatSummary(summary).c_str());
  std::printf("(%.3f s)\n", absl::ToDoubleSeconds(absl::Now() - start));
  return absl::OkStatus();
}

// --num_samples objects in requests of at most --max_per_request.
absl::StatusOr<SampleResult> DrawSamples(SamplerClient& sampler,
                                         int64_t num_samples) {
  const int64_t max_per_request = absl::GetFlag(FLAGS_max_per_request);
  if (max_per_request < 1) {
    return absl::InvalidArgumentError("--max_per_request must be >= 1");
  }
  SampleResult result;
  for (int64_t drawn = 0, part = 0; drawn < num_samples; ++part) {
    v1::SampleRequest request;
    request.set_num_samples(std::min(max_per_request, num_samples - drawn));
    request.set_aggregate(absl::GetFlag(FLAGS_aggregate));
    // Later requests pin the version the first one got, so every object
    // comes from one model even if a new version is published meanwhile.
    request.set_model_version(part == 0 ? absl::GetFlag(FLAGS_model_version)
                                        : result.model_version);
    if (absl::GetFlag(FLAGS_seed) >= 0) {
      request.set_use_seed(true);
      request.set_seed(static_cast<uint64_t>(absl::GetFlag(FLAGS_seed)) + part);
    }
    request.set_log_probability_samples(
        absl::GetFlag(FLAGS_log_probability_samples));
    ASSIGN_OR_RETURN(SampleResult batch, sampler.Sample(request));
    result.model_version = batch.model_version;
    for (v1::SampledObject& object : batch.objects) {
      result.objects.push_back(std::move(object));
    }
    drawn += request.num_samples();
  }
  return result;
}

// The version, counts and the --top most frequent objects.
void PrintSummary(const SampleResult& result, double seconds) {
  std::map<std::string, int64_t> counts;
  for (const v1::SampledObject& object : result.objects) {
    ++counts[object.description()];
  }
  std::vector<std::pair<std::string, int64_t>> ranked(counts.begin(),
                                                      counts.end());
  std::stable_sort(
      ranked.begin(), ranked.end(),
      [](const auto& a, const auto& b) { return a.second > b.second; });
  const std::string aggregate =
      absl::GetFlag(FLAGS_aggregate).empty()
          ? std::string()
          : absl::StrCat("aggregate ", absl::GetFlag(FLAGS_aggregate), " ");
  std::printf("%smodel version %lld: %zu objects in %.3f s, %zu distinct\n",
              aggregate.c_str(), static_cast<long long>(result.model_version),
              result.objects.size(), seconds, counts.size());
  const size_t top = std::min<size_t>(
      ranked.size(),
      static_cast<size_t>(std::max(0, absl::GetFlag(FLAGS_top))));
  if (top > 0) std::printf("top %zu:\n", top);
  for (size_t i = 0; i < top; ++i) {
    std::printf("  %-24s %7lld  %.4f\n", ranked[i].first.c_str(),
                static_cast<long long>(ranked[i].second),
                static_cast<double>(ranked[i].second) / result.objects.size());
  }
}

absl::Status Run() {
  const int64_t num_samples = absl::GetFlag(FLAGS_num_samples);
  if (num_samples < 1) {
    return absl::InvalidArgumentError("--num_samples must be >= 1");
  }
  ASSIGN_OR_RETURN(const ChannelOptions channel_options,
                   ChannelOptionsFromFlags(ChannelFlagsFromCommandLine(
                       absl::GetFlag(FLAGS_rpc_attempts))));
  ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel,
                   MakeChannel(channel_options));
  SamplerClientOptions options;
  options.retry.max_attempts = absl::GetFlag(FLAGS_rpc_attempts);
  if (!absl::GetFlag(FLAGS_sampler_token_file).empty()) {
    ASSIGN_OR_RETURN(
        options.token,
        ReadSamplerTokenFile(absl::GetFlag(FLAGS_sampler_token_file)));
  }
  SamplerClient sampler(channel, options);
  if (absl::GetFlag(FLAGS_summary)) return Summarize(sampler);
  if (!absl::GetFlag(FLAGS_summarize_file).empty() ||
      !absl::GetFlag(FLAGS_variable_names).empty()) {
    return absl::InvalidArgumentError(
        "--summarize_file and --variable_names need --summary");
  }
  const absl::Time start = absl::Now();
  ASSIGN_OR_RETURN(const SampleResult result,
                   DrawSamples(sampler, num_samples));
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  const std::string output = absl::GetFlag(FLAGS_output);
  if (!output.empty()) RETURN_IF_ERROR(WriteObjects(output, result.objects));
  PrintSummary(result, seconds);
  if (!output.empty()) std::printf("objects written to %s\n", output.c_str());
  return absl::OkStatus();
}

}  // namespace
}  // namespace epgfn

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Draws objects from the federation's published global model.");
  absl::ParseCommandLine(argc, argv);
  // Retries are logged (event=rpc_retry) on stderr.
  FLAGS_logtostderr = true;
  google::InitGoogleLogging(argv[0]);
  return epgfn::GuardedRun("epgfn_sample", [] { return epgfn::Run(); });
}
