#include "client/core/summary_format.h"

#include <string>

#include "gtest/gtest.h"

namespace epgfn {
namespace {

v1::Summary TwoByTwoSummary() {
  v1::Summary summary;
  summary.set_model_version(3);
  summary.set_num_objects(200);
  summary.set_num_distinct(4);
  summary.set_log_probability_samples(16);
  v1::TopObject* top = summary.add_top_objects();
  top->set_description("(1,0)");
  top->set_count(120);
  top->set_frequency(0.6);
  top->set_frequency_standard_error(0.0346);
  top->set_probability(0.5873);
  v1::MarginalTable* table = summary.add_tables();
  table->set_name("edge probabilities: P(row -> column)");
  for (const char* name : {"raf", "mek"}) {
    table->add_row_labels(name);
    table->add_column_labels(name);
  }
  for (double p : {0.0, 0.25, 0.5, 0.0}) table->add_probabilities(p);
  for (double se : {0.0, 0.031, 0.035, 0.0}) table->add_standard_errors(se);
  v1::SummaryText* text = summary.add_texts();
  text->set_name("majority_rule_consensus");
  text->set_text("((A,B)0.93,C);");
  return summary;
}

TEST(SummaryFormatTest, PrintsTopObjectsTablesAndTexts) {
  const std::string text = FormatSummary(TwoByTwoSummary());
  EXPECT_NE(text.find("model version 3: summary of 200 objects, 4 distinct"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("16 backward trajectories"), std::string::npos) << text;
  // Rank, count, frequency (se), p_T, object.
  EXPECT_NE(text.find("1       120  0.6000 (0.0346)    0.5873      (1,0)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("edge probabilities: P(row -> column)"),
            std::string::npos);
  EXPECT_NE(text.find("raf  0.000 (0.000)  0.250 (0.031)"), std::string::npos)
      << text;
  EXPECT_NE(text.find("mek  0.500 (0.035)  0.000 (0.000)"), std::string::npos)
      << text;
  EXPECT_NE(text.find("majority_rule_consensus:\n  ((A,B)0.93,C);"),
            std::string::npos)
      << text;
}

TEST(SummaryFormatTest, LongTablesAreCutAndMalformedOnesNamed) {
  v1::Summary summary = TwoByTwoSummary();
  EXPECT_NE(FormatSummary(summary, 1).find("... 1 more rows"),
            std::string::npos);
  summary.mutable_tables(0)->add_probabilities(0.1);
  EXPECT_NE(FormatSummary(summary).find("malformed table"), std::string::npos);
}

}  // namespace
}  // namespace epgfn
