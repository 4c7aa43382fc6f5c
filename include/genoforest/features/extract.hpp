#pragma once
/// @file extract.hpp
/// Planning the regions of a `features` run and extracting one region's columns.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "genoforest/core/region.hpp"
#include "genoforest/features/site.hpp"
#include "genoforest/io/phenotype.hpp"
#include "genoforest/io/vcf.hpp"

namespace genoforest::features {

/// Cuts the work into regions of at most `region_size` bp, in genome (header) order.
///
/// Without `requested` regions: every contig the index holds records for, whole. With them: their
/// union, each clipped to its contig. Contig lengths come from the header, or, where the header
/// gives none, from `reader` by probing the index for the last record. The plan depends only on
/// the inputs and `region_size`, never on the number of ranks. Regions that the index shows empty
/// are left out. Throws InconsistentInputError for a
/// requested contig that the file's header does not declare, UsageError for region_size < 1.
[[nodiscard]] std::vector<Region> plan_regions(io::VcfReader& reader, const std::vector<Region>& requested,
                                               std::int64_t region_size);

/// The columns of one region: rows of the variant table and their dosages, column-major.
struct RegionColumns {
  std::vector<VariantRow> rows;
  std::vector<std::int8_t> dosages;  ///< rows.size() columns of sample_count values each
  FilterCounts counts;
};

/// Reads every record whose POS lies in `region` (records that start before it belong to the
/// previous region) and extracts its columns. Throws InputError naming the record for malformed
/// or unsorted input. `reader` must have an index.
[[nodiscard]] RegionColumns extract_region(io::VcfReader& reader, const Region& region,
                                           const FeatureFilters& filters);

/// Columns that are drawn rather than read (`simulate -O h` draws its cohort straight into a
/// store): what `features` needs of its input. Implementations are thread-compatible.
class ColumnSource {
 public:
  virtual ~ColumnSource() = default;
  /// Names the source in messages ("simulated cohort").
  [[nodiscard]] virtual std::string name() const = 0;
  [[nodiscard]] virtual std::vector<std::string> samples() const = 0;
  /// As plan_regions over the whole genome, for the same `region_size`.
  [[nodiscard]] virtual std::vector<Region> plan_regions(std::int64_t region_size) const = 0;
  /// As extract_region.
  [[nodiscard]] virtual RegionColumns extract_region(const Region& region, const FeatureFilters& filters) const = 0;
  /// The files it reads (an output must not be one of them); none for a drawn cohort.
  [[nodiscard]] virtual std::vector<std::string> input_files() const { return {}; }
  /// Labels it carries itself (a PLINK .fam's phenotypes), used when no table is given.
  [[nodiscard]] virtual std::optional<io::PhenotypeTable> phenotypes() const { return std::nullopt; }
};

/// Copies `cols` dosage columns of `n` samples each (column after column at `src`, as
/// RegionColumns holds them) into rows of `dst`: sample r's values at dst + r * stride.
void columns_to_rows(const std::int8_t* src, std::int64_t n, std::int64_t cols, std::int8_t* dst, std::int64_t stride);

}  // namespace genoforest::features
