#pragma once
/// @file features_stage.hpp
/// `genoforest features`: VCF/BCF (+ phenotypes) → one HDF5 feature store, written by all ranks.
#include <cstdint>
#include <string>
#include <vector>

#include "comm.hpp"
#include "genoforest/features/extract.hpp"
#include "genoforest/features/site.hpp"
#include "genoforest/features/store.hpp"

namespace genoforest::mpi {

struct FeaturesOptions {
  std::string input;        ///< indexed bgzipped VCF or BCF
  std::string phenotypes;   ///< optional TSV (sample_id, label, population)
  std::string output;       ///< HDF5 file
  std::string regions;      ///< "chr:beg-end,..." (1-based), optional
  std::string regions_file; ///< BED, optional
  std::int64_t region_size = 1'000'000;  ///< bp per task
  std::int64_t window_size = 1'000'000;  ///< bp per statistics window
  std::string label_type = "auto";
  std::string pheno_name;   ///< the label column of the phenotype table (plink2's --pheno-name)
  std::string covar;        ///< optional covariate table (plink2's --covar)
  std::string keep, remove;      ///< sample lists (plink2's --keep/--remove)
  std::string extract, exclude;  ///< variant lists or BED files (plink2's --extract/--exclude)
  std::vector<std::string> covar_names;  ///< its columns to keep (plink2's --covar-name); empty: all numeric
  features::FeatureFilters filters;
  features::StoreLayout layout;
  std::string command_line;  ///< for provenance
  /// Instead of `input`: columns drawn by the caller (`simulate -O h`); whole genome only.
  const features::ColumnSource* source = nullptr;
  /// Throws UsageError naming the option.
  void validate() const;
};

/// Runs the stage on every rank of `comm` (collective). Throws JobError on every rank on failure;
/// the output is then absent (or the earlier file untouched).
void run_features(const Comm& comm, const FeaturesOptions& opt);

}  // namespace genoforest::mpi
