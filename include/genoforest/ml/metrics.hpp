#pragma once
/// @file metrics.hpp
/// Evaluation: classification and regression metrics, and fold assignment for cross-validation.
#include <cstdint>
#include <string>
#include <vector>

namespace genoforest::ml {

/// Metrics of predicted class probabilities against true classes.
struct ClassMetrics {
  std::int64_t n = 0;
  double accuracy = 0;
  /// Per class, as scikit-learn with zero_division=0: 0 where undefined (a class never predicted
  /// has precision 0); NaN for a class absent from both the truth and the predictions.
  std::vector<double> precision, recall, f1;
  double macro_precision = 0, macro_recall = 0, macro_f1 = 0;  ///< means over the classes that occur
  double auc = 0;  ///< binary: AUC-ROC of class 1's probability; multiclass: one-vs-rest macro; NaN if undefined
  std::vector<std::vector<std::int64_t>> confusion;  ///< [true class][predicted class]
};

/// `prob` holds n x k probabilities (row-major). The predicted class is the most probable (the
/// lowest class index on ties).
[[nodiscard]] ClassMetrics classification_metrics(const std::vector<std::int32_t>& truth, const std::vector<double>& prob,
                                                  int k);

/// AUC-ROC of `score` for telling `positive` samples from the others (Mann-Whitney U, ties
/// counted one half). NaN when either group is empty.
[[nodiscard]] double auc_roc(const std::vector<double>& score, const std::vector<bool>& positive);

struct RegressionMetrics {
  std::int64_t n = 0;
  double rmse = 0;
  double r2 = 0;  ///< 1 - SSE/SST; NaN when the truth is constant
};
[[nodiscard]] RegressionMetrics regression_metrics(const std::vector<double>& truth, const std::vector<double>& pred);

/// Fold (0..k-1) of each sample: stratified by class when `classes` is given (each class's samples
/// shuffled, then dealt in turn, continuing where the previous class stopped), else shuffled and
/// dealt. Deterministic for `seed`. Throws UsageError when k < 2 or k > the number of samples, and
/// DataError when k is larger than the smallest class (naming it).
[[nodiscard]] std::vector<std::int32_t> assign_folds(const std::vector<std::int32_t>& classes, std::int64_t n, int k,
                                                     std::uint64_t seed, const std::vector<std::string>& class_names);

}  // namespace genoforest::ml
