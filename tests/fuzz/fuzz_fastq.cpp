// The FASTQ reader of `align` (plain, or gzip read by ISA-L when the input starts with its magic).
#include "fuzz_common.hpp"
#include "genoforest/align/fastq.hpp"

using namespace genoforest;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const bool gz = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
  const auto path = fuzz::as_file(data, size, gz ? ".fq.gz" : ".fq");
  fuzz::expect_clean([&] {
    align::FastqReader reader(path);
    align::FastqRecord rec;
    for (int n = 0; n < 100000 && reader.next(rec); ++n) {
    }
  });
  return 0;
}
