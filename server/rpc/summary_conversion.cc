#include "server/rpc/summary_conversion.h"

namespace epgfn {

SummaryQuery SummaryQueryFromProto(const v1::SummarizeRequest& request) {
  SummaryQuery query;
  query.num_samples = request.num_samples();
  query.aggregate = request.aggregate();
  query.model_version = request.model_version();
  if (request.use_seed()) query.seed = request.seed();
  query.log_probability_samples = request.log_probability_samples();
  query.top_objects = request.top_objects();
  query.objects.reserve(request.objects_size());
  for (const v1::ObjectState& object : request.objects()) {
    query.objects.emplace_back(object.state().begin(), object.state().end());
  }
  query.variable_names.assign(request.variable_names().begin(),
                              request.variable_names().end());
  return query;
}

void SummaryToProto(const PosteriorSummary& summary, v1::Summary* out) {
  out->set_model_version(summary.model_version);
  out->set_num_objects(summary.num_objects);
  out->set_num_distinct(summary.num_distinct);
  out->set_log_probability_samples(summary.log_probability_samples);
  for (const TopObjectSummary& object : summary.top_objects) {
    v1::TopObject* top = out->add_top_objects();
    top->mutable_state()->Add(object.state.begin(), object.state.end());
    top->set_description(object.description);
    top->set_count(object.count);
    top->set_frequency(object.frequency);
    top->set_frequency_standard_error(object.frequency_standard_error);
    top->set_log_probability(object.log_probability);
    top->set_probability(object.probability);
  }
  for (const MarginalTable& table : summary.features.tables) {
    v1::MarginalTable* t = out->add_tables();
    t->set_name(table.name);
    for (const std::string& label : table.row_labels) t->add_row_labels(label);
    for (const std::string& label : table.column_labels) {
      t->add_column_labels(label);
    }
    t->mutable_probabilities()->Add(table.probabilities.begin(),
                                    table.probabilities.end());
    t->mutable_standard_errors()->Add(table.standard_errors.begin(),
                                      table.standard_errors.end());
  }
  for (const SummaryText& text : summary.features.texts) {
    v1::SummaryText* t = out->add_texts();
    t->set_name(text.name);
    t->set_text(text.text);
  }
}

}  // namespace epgfn
