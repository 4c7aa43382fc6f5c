// The VCF record reader and the dosage extraction of `features`: the input as a plain VCF read
// record by record (htslib's parser, our genotype decoding), then bgzipped and indexed and read
// through the region scan of `features` (our line splitter and text-to-dosage fast path).
#include <htslib/bgzf.h>

#include "fuzz_common.hpp"
#include "genoforest/features/extract.hpp"
#include "genoforest/features/site.hpp"
#include "genoforest/io/vcf.hpp"

using namespace genoforest;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool quiet = (io::quiet_htslib(), true);
  (void)quiet;
  const auto plain = fuzz::as_file(data, size, ".vcf");
  fuzz::expect_clean([&] {
    io::VcfReader reader(plain, false);
    features::SiteExtractor sites(reader.header(), features::FeatureFilters{});
    auto rec = io::make_record();
    io::Genotypes gt;
    std::vector<features::VariantRow> rows;
    std::vector<std::int8_t> dosages;
    for (int n = 0; n < 10000 && reader.next(rec.get(), gt); ++n) {
      sites.extract(rec.get(), gt, plain.string(), rows, dosages);
      rows.clear();
      dosages.clear();
    }
  });
  // The same text bgzipped and indexed (unsorted input fails to index: a refusal).
  auto gz = plain;
  gz += ".gz";
  {
    BGZF* b = bgzf_open(gz.c_str(), "w1");
    if (!b) std::abort();
    if (size && bgzf_write(b, data, size) < 0) std::abort();
    if (bgzf_close(b) != 0) std::abort();
  }
  fuzz::expect_clean([&] {
    auto tbi = gz;
    tbi += ".tbi";
    std::filesystem::remove(tbi);
    io::build_index(gz, tbi, false, 1);
    io::VcfReader reader(gz, true);
    const auto regions = features::plan_regions(reader, {}, 1 << 20);
    for (std::size_t i = 0; i < regions.size() && i < 64; ++i) {
      (void)features::extract_region(reader, regions[i], features::FeatureFilters{});
    }
  });
  return 0;
}
