// The sample sheet of `align` (its sample IDs name output files), and each entry's read group.
#include "fuzz_common.hpp"
#include "genoforest/align/sample_sheet.hpp"

using namespace genoforest;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = fuzz::as_file(data, size, ".samples.tsv");
  fuzz::expect_clean([&] {
    for (const auto& e : align::read_sample_sheet(path)) {
      // Whatever the sheet accepts must be a safe file name.
      if (!align::sample_id_problem(e.id).empty() || e.id.find('/') != std::string::npos || e.id.empty() ||
          e.id[0] == '.') {
        std::fprintf(stderr, "finding: the sheet accepted the sample ID '%s'\n", e.id.c_str());
        std::abort();
      }
      (void)e.read_group_line();
    }
  });
  return 0;
}
