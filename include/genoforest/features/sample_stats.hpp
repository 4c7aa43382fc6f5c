#pragma once
/// @file sample_stats.hpp
/// Per-sample statistical features computed from the dosage matrix and the variant table.
///
/// Counts are per ALT column (a "1/2" call at a two-ALT site is one het in each of its columns):
///   n_called / n_missing   columns with a complete / missing call
///   n_hom_ref / n_het / n_hom_alt   dosage 0 / 1 / 2 (a haploid ALT call, dosage 1, counts as het)
///   n_snv / n_indel        SNV / indel columns where the sample carries the ALT (dosage >= 1)
///   n_transitions / n_transversions  SNV columns carried, split by transition or transversion
///   titv                   n_transitions / n_transversions (NaN when no transversion)
/// Windows: columns grouped by contig and floor((pos - 1) / window_size); per sample and window,
/// the mean and population variance of the called dosages (NaN when none is called).
#include <cstdint>
#include <string>
#include <vector>

#include "genoforest/features/site.hpp"

namespace genoforest::features {

/// The genomic windows that hold at least one column, in column order.
struct WindowTable {
  std::int64_t window_size = 0;
  std::vector<std::string> chrom;
  std::vector<std::int64_t> start;      ///< 1-based, inclusive
  std::vector<std::int64_t> end;        ///< 1-based, inclusive
  std::vector<std::int32_t> n_variants;
  std::vector<std::int32_t> column_window;  ///< per column: its window index
};

/// Groups columns (given by contig and 1-based position, in matrix order) into windows.
/// Throws UsageError for window_size < 1.
[[nodiscard]] WindowTable assign_windows(const std::vector<std::string>& chrom, const std::vector<std::int64_t>& pos,
                                         std::int64_t window_size);

/// What the statistics need to know of each column.
struct ColumnClass {
  VariantType type = VariantType::kSnv;
  bool transition = false;
};

/// Statistics of a block of samples (rows).
struct SampleStats {
  std::size_t n_samples = 0;
  std::size_t n_windows = 0;
  std::vector<std::int64_t> n_called, n_missing, n_hom_ref, n_het, n_hom_alt, n_snv, n_indel, n_transitions,
      n_transversions;
  std::vector<double> titv;
  std::vector<float> window_mean;  ///< n_samples x n_windows, row-major
  std::vector<float> window_var;   ///< n_samples x n_windows, row-major
};

/// Computes the statistics of `n_rows` samples from their dosages `block` (n_rows x n_cols,
/// row-major). `columns` and `windows.column_window` have n_cols entries. Deterministic; does not
/// depend on how samples are split into blocks.
[[nodiscard]] SampleStats compute_sample_stats(const std::int8_t* block, std::size_t n_rows, std::size_t n_cols,
                                               const std::vector<ColumnClass>& columns, const WindowTable& windows);

}  // namespace genoforest::features
