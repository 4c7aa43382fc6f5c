#pragma once
/// @file site.hpp
/// From VCF/BCF records to dosage columns: one column per ALT allele, filtered.
///
/// Dosage of a sample in the column of ALT allele a = the number of copies of allele a in its GT:
/// 0, 1 or 2 for diploid calls, 0 or 1 for haploid calls, -1 (kMissingDosage) when any allele of
/// the call is missing ("./.", "0/.", "."). Phase is ignored ("0|1" = "0/1"). A multi-allelic
/// site with k ALT alleles gives k columns, as plink2 and hail split them.
#include <htslib/vcf.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <boost/serialization/string.hpp>
#include <boost/serialization/vector.hpp>

#include "genoforest/core/subset.hpp"
#include "genoforest/io/vcf.hpp"

namespace genoforest::features {

inline constexpr std::int8_t kMissingDosage = -1;

/// Variant class of one ALT column.
enum class VariantType : std::int8_t {
  kSnv = 0,    ///< REF and ALT single bases from ACGT
  kIndel = 1,  ///< REF and ALT plain sequences of different lengths
  kOther = 2,  ///< MNPs, symbolic (<DEL>, <CN2>), '*' and breakends
};

/// Which columns are kept. Defaults keep everything.
struct FeatureFilters {
  double min_maf = 0.0;        ///< keep columns with min(AF, 1-AF) >= this (AF over called alleles)
  double max_missing = 1.0;    ///< keep columns whose fraction of missing calls <= this
  bool pass_only = false;      ///< keep records whose FILTER is PASS or '.' (as plink2 --var-filter)
  bool snps_only = false;      ///< keep SNV columns only
  bool biallelic_only = false; ///< keep records with exactly one ALT allele
  /// The sample columns kept (0-based VCF columns, ascending: --keep/--remove); null: all. The
  /// other filters (MAF, missingness) are computed on these samples only, as plink2 does.
  std::shared_ptr<const std::vector<std::int64_t>> samples;
  /// The variants kept (--extract/--exclude); null: all.
  std::shared_ptr<const VariantSubset> variants;
  /// Throws UsageError naming the option when a value is out of range.
  void validate() const;
  /// "min-maf=0.01 max-missing=1 ..." for provenance.
  [[nodiscard]] std::string describe() const;
};

/// One row of the variant table (one dosage column).
struct VariantRow {
  std::string chrom;
  std::int64_t pos = 0;  ///< 1-based, as in the VCF
  std::string id;        ///< "." when absent
  std::string ref;
  std::string alt;
  float qual = 0;        ///< NaN when '.'
  std::string filter;    ///< "PASS", "." or the ';'-joined filter names
  std::int32_t allele_index = 1;  ///< which ALT of the record (1-based)
  std::int32_t n_alleles = 2;     ///< REF + ALTs of the record
  VariantType type = VariantType::kSnv;
  double af = 0;          ///< ALT allele frequency among called alleles; NaN if none called
  double call_rate = 0;   ///< fraction of samples with a complete call
  bool transition = false;  ///< SNV A<->G or C<->T

  template <class Ar>
  void serialize(Ar& ar, unsigned /*version*/) {
    ar & chrom & pos & id & ref & alt & qual & filter & allele_index & n_alleles & type & af & call_rate & transition;
  }
};

/// How many columns each filter removed (a column counts under the first filter that removes it).
struct FilterCounts {
  std::uint64_t records = 0;
  std::uint64_t columns_seen = 0;
  std::uint64_t kept = 0;
  std::uint64_t not_pass = 0;
  std::uint64_t not_biallelic = 0;
  std::uint64_t not_snv = 0;
  std::uint64_t too_missing = 0;
  std::uint64_t low_maf = 0;
  std::uint64_t records_without_gt = 0;
  std::uint64_t not_selected = 0;  ///< left out by --extract/--exclude

  FilterCounts& operator+=(const FilterCounts& o);
  template <class Ar>
  void serialize(Ar& ar, unsigned /*version*/) {
    ar & records & columns_seen & kept & not_pass & not_biallelic & not_snv & too_missing & low_maf &
        records_without_gt & not_selected;
  }
};

/// Classifies an ALT allele against its REF.
[[nodiscard]] VariantType classify(const char* ref, const char* alt) noexcept;
/// True for a transition SNV (A<->G, C<->T, any case).
[[nodiscard]] bool is_transition(char ref, char alt) noexcept;

/// Turns records into dosage columns. Keeps reusable buffers: one extractor per thread.
class SiteExtractor {
 public:
  SiteExtractor(const bcf_hdr_t* header, FeatureFilters filters);

  /// Appends one VariantRow and `sample_count` dosages per kept ALT column of `rec` (unpacked up
  /// to alleles and filters) to `rows` and `dosages` (column after column), `gt` holding the
  /// record's genotypes. `file` names the input in errors, which also give the record's chrom:pos.
  /// Throws InputError for a GT allele index beyond the record's alleles. A record without GT
  /// gives all-missing columns (counted in records_without_gt).
  std::size_t extract(const bcf1_t* rec, const io::Genotypes& gt, const std::string& file,
                      std::vector<VariantRow>& rows, std::vector<std::int8_t>& dosages);
  /// The same, taking the genotypes from `rec` (unpacked up to FORMAT).
  std::size_t extract(bcf1_t* rec, const std::string& file, std::vector<VariantRow>& rows,
                      std::vector<std::int8_t>& dosages);

  [[nodiscard]] const FilterCounts& counts() const noexcept { return counts_; }
  [[nodiscard]] int sample_count() const noexcept { return nsamples_; }

 private:
  /// The ALT column of a biallelic record that passed the record filters, from its dosages
  /// (io::Genotypes::biallelic_dosage).
  std::size_t extract_biallelic(const bcf1_t* rec, const std::vector<std::int8_t>& dosage,
                                std::vector<VariantRow>& rows, std::vector<std::int8_t>& dosages);
  /// Applies the missingness and MAF filters to ALT allele `a`'s column `col` and keeps it (row
  /// and dosages) when it passes. Returns whether it was kept.
  bool keep_column(const bcf1_t* rec, int a, VariantType type, std::int64_t alt_copies, std::int64_t called_alleles,
                   std::int64_t missing, const std::int8_t* col, std::vector<VariantRow>& rows,
                   std::vector<std::int8_t>& dosages);

  /// The genotypes of the kept samples (filters_.samples) of `in`, in sub_.
  const io::Genotypes& subset(const io::Genotypes& in);
  /// The VCF column of kept sample `i`.
  [[nodiscard]] std::int64_t column_of(std::int64_t i) const { return filters_.samples ? (*filters_.samples)[static_cast<std::size_t>(i)] : i; }

  const bcf_hdr_t* hdr_;
  FeatureFilters filters_;
  int nsamples_;
  io::Genotypes gt_, sub_;
  std::vector<std::int8_t> column_;
  FilterCounts counts_;
};

}  // namespace genoforest::features
