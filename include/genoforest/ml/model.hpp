#pragma once
/// @file model.hpp
/// A trained forest with everything needed to use it on new samples, and its file format.
///
/// File: the line "genoforest-model\n", a little-endian uint32 format version, uint64 payload size,
/// uint64 payload checksum, then the payload (a Boost.Serialization binary archive of Model).
/// Loading a file of another format version, a truncated file or one whose checksum does not
/// match is an InputError naming the file and the reason.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <boost/serialization/string.hpp>
#include <boost/serialization/vector.hpp>
#include <boost/serialization/version.hpp>

#include "genoforest/ml/forest.hpp"
#include "genoforest/ml/gbt.hpp"

namespace genoforest::ml {

inline constexpr std::uint32_t kModelFormatVersion = 1;

/// A genotype feature: one ALT column of the feature store.
struct VariantKey {
  std::string chrom;
  std::int64_t pos = 0;
  std::string id, ref, alt;
  /// CHROM:POS:REF:ALT, as written.
  [[nodiscard]] std::string name() const { return chrom + ':' + std::to_string(pos) + ':' + ref + ':' + alt; }
  /// The key a variant is found by in another file: name() with the contig's "chr" prefix dropped
  /// and chrM written MT, so that "chr1" and "1" namings (UCSC and Ensembl/1000 Genomes) match.
  [[nodiscard]] std::string match_key() const;
  template <class Ar>
  void serialize(Ar& ar, unsigned) {
    ar & chrom & pos & id & ref & alt;
  }
};

/// A continuous feature (a per-sample statistic), with its bin edges from the training samples.
struct ExtraFeature {
  std::string name;  ///< dataset path in the store, with a column index for 2-D datasets ("sample_stats/n_het")
  std::vector<double> edges;
  template <class Ar>
  void serialize(Ar& ar, unsigned) {
    ar & name & edges;
  }
};

struct Model {
  std::string tool_version;
  std::string created;
  std::string training_data;     ///< the store it was trained on
  ForestParams params;
  std::vector<std::string> classes;    ///< classification: class names, code order
  std::vector<VariantKey> variants;    ///< matrix columns 0..V-1
  std::vector<ExtraFeature> extras;    ///< matrix columns V..V+E-1
  std::vector<Tree> trees;
  std::int64_t n_training_samples = 0;
  double oob_error = 0;                ///< misclassification rate, or MSE; NaN without OOB sample
  std::vector<double> importance_impurity;     ///< per feature, mean over trees
  std::vector<double> importance_permutation;  ///< per feature, mean over trees (empty when not computed)
  // A linear SVM instead of a forest (class version 1; older files hold forests only):
  std::string kind = "forest";                 ///< "forest", "svm" or "gbt"
  double svm_c = 0;                            ///< the penalty C
  std::vector<std::vector<double>> svm_weights;  ///< per problem (one-vs-rest, or 1 for two classes): p + 1, bias last
  std::vector<float> svm_fill;                 ///< per feature: the training mean that replaces a missing value
  // Gradient-boosted trees instead (kind "gbt", class version 2):
  GbtParams gbt_params;
  GbtModel gbt;

  [[nodiscard]] std::int64_t n_features() const noexcept {
    return static_cast<std::int64_t>(variants.size() + extras.size());
  }
  [[nodiscard]] std::string feature_name(std::int64_t f) const;

  template <class Ar>
  void serialize(Ar& ar, unsigned version) {
    ar & tool_version & created & training_data & params & classes & variants & extras & trees & n_training_samples &
        oob_error & importance_impurity & importance_permutation;
    if (version >= 1) ar & kind & svm_c & svm_weights & svm_fill;
    if (version >= 2) ar & gbt_params & gbt;
  }
};

}  // namespace genoforest::ml

BOOST_CLASS_VERSION(genoforest::ml::Model, 2)

namespace genoforest::ml {

/// Writes `m` to `path` atomically (temporary name, then rename).
void save_model(const Model& m, const std::filesystem::path& path);
/// Reads a model; throws InputError for a file that is not a model, of another format version,
/// truncated or corrupt.
[[nodiscard]] Model load_model(const std::filesystem::path& path);

/// The model as JSON (`genoforest model dump`, documented in docs/forest.md) for other tools:
/// its features (variants by chrom/pos/id/ref/alt, statistics with their bin edges) and
/// importances, and each tree's nodes (feature, threshold as a dosage or a statistic's value,
/// where a missing value goes, children) and leaves (class probabilities or the mean), or the
/// SVM's weights. Deterministic: the same model gives the same bytes.
[[nodiscard]] std::string model_to_json(const Model& m);

}  // namespace genoforest::ml
