// The phenotype table: read, then encoded against the samples it names plus one it does not; the
// same bytes as a covariate table (all columns, then a named range), aligned the same way.
#include "fuzz_common.hpp"
#include "genoforest/io/phenotype.hpp"

using namespace genoforest;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = fuzz::as_file(data, size, ".tsv");
  fuzz::expect_clean([&] {
    const auto table = io::read_phenotypes(path);
    std::vector<std::string> samples;
    for (const auto& r : table.rows) samples.push_back(r.sample_id);
    samples.push_back("not-in-the-table");
    for (auto type : {io::LabelType::kAuto, io::LabelType::kClass, io::LabelType::kQuantitative}) {
      fuzz::expect_clean([&] { (void)io::encode_labels(table, samples, type, "the fuzz input"); });
    }
  });
  fuzz::expect_clean([&] {
    const auto table = io::read_covariates(path);
    std::vector<std::string> samples = table.sample_ids;
    samples.push_back("not-in-the-table");
    fuzz::expect_clean([&] { (void)io::align_covariates(table, samples, "the fuzz input"); });
    if (table.names.size() >= 2) {
      fuzz::expect_clean([&] { (void)io::read_covariates(path, {table.names.front() + "-" + table.names.back()}); });
    }
  });
  return 0;
}
