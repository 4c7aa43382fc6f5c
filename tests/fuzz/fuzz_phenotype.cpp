// The phenotype table: read, then encoded against the samples it names plus one it does not.
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
  return 0;
}
