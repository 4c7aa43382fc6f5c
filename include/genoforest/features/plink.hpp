#pragma once
/// @file plink.hpp
/// PLINK 1 binary filesets (.bed + .bim + .fam) as input to `features`
/// (https://www.cog-genomics.org/plink/1.9/formats#bed).
///
/// - .fam: FID IID PAT MAT SEX PHENOTYPE, blank-separated; the sample ID is the IID.
/// - .bim: CHROM ID CM POS A1 A2; the variants must be grouped by contig and sorted by position
///   within it (as plink writes them; `plink2 --sort-vars` sorts others).
/// - .bed: the magic bytes 6c 1b 01 (variant-major), then per variant ceil(n/4) bytes, four samples
///   a byte from the low bits: 00 homozygous A1, 01 missing, 10 heterozygous, 11 homozygous A2.
/// The dosage column counts A1, which plink2's --make-bed writes as the VCF's ALT (A2 as REF):
/// REF = A2 and ALT = A1 in the store. An A1 of "0" (a monomorphic variant) gives no column. A .fam
/// whose phenotypes are not all missing (-9, 0, NA) gives the labels when no phenotype table is
/// given: 1/2 as control/case (plink's coding), other numbers as a quantitative label.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "genoforest/features/extract.hpp"
#include "genoforest/io/phenotype.hpp"
#include "genoforest/io/vcf.hpp"

namespace genoforest::features {

/// True when `input` names a PLINK 1 fileset: PREFIX.bed, or a PREFIX whose .bed exists.
[[nodiscard]] bool is_plink_input(const std::string& input);

class PlinkBedSource final : public ColumnSource {
 public:
  /// Reads the .fam and .bim of the fileset `input` names and checks the .bed's magic bytes and
  /// size. Throws IoError (a missing file) or InputError (naming the file, line and reason).
  explicit PlinkBedSource(const std::string& input);
  [[nodiscard]] std::string name() const override { return bed_.string(); }
  [[nodiscard]] std::vector<std::string> samples() const override { return samples_; }
  [[nodiscard]] std::vector<Region> plan_regions(std::int64_t region_size) const override;
  [[nodiscard]] RegionColumns extract_region(const Region& region, const FeatureFilters& filters) const override;
  [[nodiscard]] std::vector<std::string> input_files() const override { return {bed_.string(), bim_.string(), fam_.string()}; }
  [[nodiscard]] std::optional<io::PhenotypeTable> phenotypes() const override;

 private:
  struct Variant {
    std::int64_t pos = 0;
    std::string id, a1, a2;
  };
  std::filesystem::path bed_, bim_, fam_;
  std::vector<std::string> samples_;
  std::vector<std::string> fam_pheno_;  ///< the .fam's 6th column per sample
  std::vector<std::string> contigs_;    ///< in .bim order
  std::vector<std::int64_t> contig_end_;  ///< last POS of each contig
  std::vector<std::int64_t> first_;     ///< first variant of each contig (+ the total)
  std::vector<Variant> variants_;
  std::int64_t bytes_per_variant_ = 0;
  io::BcfHdrPtr hdr_;
  /// Variants [lo, hi) of `region`.
  [[nodiscard]] std::pair<std::int64_t, std::int64_t> variants_in(const Region& region) const;
};

}  // namespace genoforest::features
