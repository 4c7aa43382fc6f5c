#pragma once
/// @file gbt.hpp
/// Gradient-boosted trees on the forest's matrix (docs/gbt.md): second-order boosting as XGBoost
/// does it (logistic, softmax and squared-error objectives; learning rate, depth, min child
/// weight, L2 and gamma; row and column subsampling; early stopping on a validation fraction),
/// with exact split finding: a genotype column has 3 codes plus missing, so a feature's histogram
/// is its codes and no binning is needed; missing calls learn a default direction (XGBoost's
/// sparsity-aware split).
///
/// **Distributed, data-parallel, exact.** The training rows are split over the ranks of a
/// Collectives group (contiguous blocks). Each rank sums, per level, the gradients and hessians of
/// its rows per (node, feature, code); the sums are of gradients rounded to a fixed-point grid (a
/// power of two chosen from the round's largest |gradient| and the row count, so that no sum can
/// overflow 62 bits) and added as 64-bit integers, which makes the reduction exact and
/// order-independent: **the model is the same, bit for bit, for any rank count**. The sums are
/// reduce-scattered by blocks of features; each rank searches its block and an all-gather of the
/// candidates picks each node's split. The sibling of a built node takes parent − built (exact for
/// integers: half the histogram work). Ties between splits go to the earliest feature, then the
/// lowest threshold, then missing-right before missing-left.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <boost/serialization/string.hpp>
#include <boost/serialization/vector.hpp>

#include "genoforest/ml/collectives.hpp"
#include "genoforest/ml/forest.hpp"
#include "genoforest/ml/matrix.hpp"

namespace genoforest::ml {

/// The parameters, with XGBoost's names in the comments; defaults as XGBoost's except where said.
struct GbtParams {
  int rounds = 100;                  ///< boosting rounds (n_estimators)
  double eta = 0.3;                  ///< learning rate (eta)
  int max_depth = 6;                 ///< max_depth (>= 1)
  double min_child_weight = 1.0;     ///< least hessian sum in a child (min_child_weight)
  double lambda = 1.0;               ///< L2 penalty on leaf weights (lambda)
  double gamma = 0.0;                ///< least loss reduction to split (gamma)
  double subsample = 1.0;            ///< fraction of the training rows per round (subsample)
  double colsample = 1.0;            ///< fraction of the features per tree (colsample_bytree)
  int early_stopping = 0;            ///< stop after this many rounds without a better validation loss (0: never)
  double validation_fraction = 0.1;  ///< rows held out for early stopping (stratified); used only with early_stopping
  bool balanced = false;             ///< class weights n / (k n_c), as the forest's --class-weight balanced
  std::uint64_t seed = 1;
  /// Throws UsageError naming the option (genoforest's --gbt-* names) and its range.
  void validate() const;
  template <class Ar>
  void serialize(Ar& ar, unsigned) {
    ar & rounds & eta & max_depth & min_child_weight & lambda & gamma & subsample & colsample & early_stopping &
        validation_fraction & balanced & seed;
  }
};

/// A node of a boosted tree: internal when feature >= 0 (code <= threshold goes left, a missing
/// code goes left when default_left), else a leaf adding `value` (learning rate included) to the margin.
struct GbtNode {
  std::int32_t feature = -1;
  std::int32_t left = 0, right = 0;
  std::uint8_t threshold = 0;
  std::uint8_t default_left = 0;
  double value = 0;  ///< leaf: its weight times the learning rate; internal: the split's gain
  double cover = 0;  ///< hessian sum of the node's training rows
  template <class Ar>
  void serialize(Ar& ar, unsigned) {
    ar & feature & left & right & threshold & default_left & value & cover;
  }
};

struct GbtTree {
  std::vector<GbtNode> nodes;  ///< nodes[0] is the root
  template <class Ar>
  void serialize(Ar& ar, unsigned) {
    ar & nodes;
  }
};

/// The objective, from the labels: "binary:logistic" (2 classes), "multi:softprob" (more),
/// "reg:squarederror" (a quantitative label).
struct GbtModel {
  std::string objective;
  int groups = 1;                   ///< trees per round: the classes for softmax, else 1
  std::vector<double> base_margin;  ///< per group: the starting margin (log-odds of the weighted class frequency, or the mean)
  std::vector<GbtTree> trees;       ///< round after round, `groups` trees per round
  int best_rounds = 0;              ///< rounds kept (early stopping keeps the best)
  std::vector<double> validation_loss;  ///< per round, with early stopping
  template <class Ar>
  void serialize(Ar& ar, unsigned) {
    ar & objective & groups & base_margin & trees & best_rounds & validation_loss;
  }
};

/// What train_gbt returns besides the model.
struct GbtResult {
  GbtModel model;
  std::vector<double> gain;  ///< per feature: total gain of its splits (kept rounds), in tree order
  std::vector<std::int64_t> validation_rows;  ///< the rows held out for early stopping (ascending; none without)
};

/// Boosts on `rows` of `x` (every rank passes the same rows and the same x; each works on its
/// block). `y` gives classes (2: logistic; more: softmax) or values. Collective: every rank of
/// `coll` calls it with the same arguments and gets the same result. Throws DataError when the
/// rows hold one class only, or too few rows to hold out a validation set.
[[nodiscard]] GbtResult train_gbt(const FeatureMatrix& x, const Labels& y, std::span<const std::int64_t> rows, const GbtParams& p,
                                  Collectives& coll);

/// The margins of row `r` of `x`: `model.groups` values.
void gbt_margins(const GbtModel& model, const FeatureMatrix& x, std::int64_t r, double* out);

/// Class probabilities (logistic or softmax of the margins: k values) or the value (1) of row r.
void gbt_predict(const GbtModel& model, const FeatureMatrix& x, std::int64_t r, double* out);

/// Permutation importance on `rows` (held-out rows, or the training rows): per feature, the mean
/// loss (log loss, or squared error) with the feature's codes permuted among the rows minus the
/// loss without, over `repeats` permutations seeded by (seed, feature). Only features the model
/// splits on can change a prediction; the others get 0. Collective over `coll`, each rank taking
/// a block of the rows; exact sums: the same values for any rank count.
[[nodiscard]] std::vector<double> gbt_permutation_importance(const GbtModel& model, const FeatureMatrix& x, const Labels& y,
                                                             std::span<const std::int64_t> rows, std::uint64_t seed, Collectives& coll);

/// Sum over the ranks of per-rank vectors of doubles, the same bits for any rank count and any
/// split of the terms: each term is rounded to a grid of 2^-k, k chosen from the largest |term| of
/// any rank and the number of terms `n_terms` in all, and summed as 64-bit integers.
[[nodiscard]] std::vector<double> exact_global_sum(std::span<const double> mine, std::int64_t n_terms, Collectives& coll);

}  // namespace genoforest::ml
