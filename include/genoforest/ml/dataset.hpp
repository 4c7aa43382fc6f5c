#pragma once
/// @file dataset.hpp
/// Loading feature-store data into a FeatureMatrix for training or prediction (serial HDF5 reads:
/// every process reads what it needs itself).
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "genoforest/core/subset.hpp"
#include "genoforest/io/phenotype.hpp"
#include "genoforest/ml/matrix.hpp"
#include "genoforest/ml/model.hpp"

namespace genoforest::ml {

struct Dataset {
  FeatureMatrix x;
  Labels y;                           ///< per matrix row (empty for prediction data)
  std::vector<std::string> samples;   ///< per matrix row
  std::vector<VariantKey> variants;   ///< genotype columns
  std::vector<ExtraFeature> extras;   ///< binned columns after them
  std::vector<std::string> classes;   ///< classification: class names by code
  std::int64_t unlabelled = 0;        ///< store samples left out for a missing label
  std::int64_t not_kept = 0;          ///< store samples left out by --keep/--remove
  std::int64_t not_selected = 0;      ///< store variants left out by --extract/--exclude
};

/// What a training matrix holds: the samples (labelled, and kept by --keep/--remove) and, besides
/// the store's variants, extra columns, binned (at most 32 bins at the training samples'
/// quantiles, missing values in a bin of their own).
struct DataSelection {
  bool sample_stats = false;  ///< the per-sample statistics (/sample_stats), named "sample_stats/..."
  bool covariates = false;    ///< the store's covariates (/covariates), named "covariates/NAME"
  SampleSubset samples;       ///< --keep/--remove
  VariantSubset variants;     ///< --extract/--exclude: the variant columns kept
};
/// The prefix of a covariate's feature name.
inline constexpr const char* kCovariatePrefix = "covariates/";

/// The labelled samples of a store, with every variant column and the `extra` columns. Throws
/// DataError for a store without labels, without the extra columns asked for, or with fewer than
/// two classes among the labelled samples (naming them).
[[nodiscard]] Dataset load_training_data(const std::filesystem::path& store, DataSelection extra);

/// load_training_data() in parts, for a matrix filled by several processes in one block of
/// memory (one copy per node): plan_training_data() reads everything but the genotypes (labels,
/// names, the binned statistics) and lays the matrix out; each process then fills the genotype
/// columns of its own range of store columns with fill_training_genotypes(), and one of them the
/// binned columns with fill_training_extras().
struct TrainingPlan {
  Dataset meta;                                   ///< all but x (x is empty)
  std::vector<std::int64_t> rows;                 ///< store row of each matrix row
  std::int64_t n_genotypes = 0;                   ///< genotype columns
  std::int64_t n_store_variants = 0;              ///< the store's columns
  std::vector<std::int64_t> columns;              ///< store column of each genotype column (--extract/--exclude); empty: all
  std::vector<std::vector<std::uint8_t>> extra_codes;  ///< the binned columns' codes
  FeatureMatrix::Layout layout;                   ///< genotype columns, then the binned ones
};
[[nodiscard]] TrainingPlan plan_training_data(const std::filesystem::path& store, DataSelection extra);
/// Packs the genotypes of the matrix's genotype columns [begin, end) (store columns, or
/// plan.columns of them) into `bytes` (plan.layout.bytes of them).
void fill_training_genotypes(const std::filesystem::path& store, const TrainingPlan& plan, std::int64_t begin,
                             std::int64_t end, std::uint8_t* bytes);
/// Writes the binned columns into `bytes`.
void fill_training_extras(const TrainingPlan& plan, std::uint8_t* bytes);
/// The training data of a plan already made: its matrix filled by this process alone.
[[nodiscard]] Dataset load_training_data(const std::filesystem::path& store, TrainingPlan plan);

/// How a model's variants were found in an input (VariantKey::match_key(): chrom:pos:ref:alt,
/// "chr1" and "1" one contig).
struct ModelMatch {
  std::int64_t absent = 0;                // model variants not in the input: all missing
  std::vector<std::string> absent_names;  // their names
  std::int64_t aliased = 0;               // found under another naming of their contig
  std::string alias_example;              // "chr1 (model) is 1 (input)"
};

/// Every sample of a store, with the model's features: variant columns matched by
/// chrom:pos:ref:alt (absent ones all missing), statistics binned with the model's edges. Throws
/// DataError when the model uses statistics the store lacks.
/// Only store rows [row_begin, row_end) (row_end -1: to the last) are read: a rank's share.
[[nodiscard]] Dataset load_for_model(const std::filesystem::path& store, const Model& m, ModelMatch& match,
                                     std::int64_t row_begin = 0, std::int64_t row_end = -1);

}  // namespace genoforest::ml

namespace genoforest::ml {

/// The same from a VCF/BCF read from start to end (no index needed): each ALT column whose
/// chrom:pos:ref:alt the model knows fills that feature; the model's covariates come from
/// `covariates` (a table read with io::read_covariates; samples it lacks are missing). Throws
/// DataError when the model uses per-sample statistics (they come from a feature store only) or
/// covariates and no table holds them.
[[nodiscard]] Dataset load_vcf_for_model(const std::filesystem::path& vcf, const Model& m, ModelMatch& match,
                                         const io::CovariateTable* covariates = nullptr);

}  // namespace genoforest::ml
