#pragma once
/// @file svm.hpp
/// Linear support vector machine: hinge loss, L2 penalty, as scikit-learn's
/// LinearSVC(loss="hinge") and liblinear's solver 3 (L2R_L1LOSS_SVC_DUAL): dual coordinate descent
/// (Hsieh et al. 2008) with liblinear's shrinking, on the genotype dosages (missing calls: the
/// column's mean) plus a constant bias feature of 1 whose weight is penalised like the others
/// (liblinear's -B 1, scikit-learn's intercept_scaling=1). Multiclass: one-vs-rest.
#include <cstdint>
#include <vector>

#include "genoforest/ml/matrix.hpp"

namespace genoforest::ml {

/// Rows of int8 dosages (-1 missing) and the value that replaces a missing call, per column. Dot
/// products visit only the non-zero entries (as liblinear's sparse rows): each row's columns with
/// dosage 1, with dosage 2 and missing, listed by index() (call it once g is set).
struct DenseRows {
  std::int64_t n = 0, p = 0;
  std::vector<std::int8_t> g;  ///< n x p, row-major
  std::vector<float> fill;     ///< p: column means over called genotypes
  /// Computes `fill` from g.
  void compute_fill();
  /// Builds the per-row lists of non-zero entries from g.
  void index();
  /// x_i . w (w has p + 1 entries: the last is the bias weight).
  [[nodiscard]] double dot(std::int64_t i, const std::vector<double>& w) const;
  /// w += a * x_i (bias included).
  void axpy(std::int64_t i, double a, std::vector<double>& w) const;
  /// x_i . x_i (bias included).
  [[nodiscard]] double sq_norm(std::int64_t i) const;

 private:
  // Row i's entries: [start[3i], start[3i+1]) dosage 1, [.., start[3i+2]) dosage 2, [.., start[3i+3]) missing.
  std::vector<std::int64_t> start_;
  std::vector<std::uint32_t> col_;
};

struct SvmParams {
  double c = 1.0;           ///< penalty
  double tol = 1e-4;        ///< stop when the projected-gradient spread is below it
  int max_iter = 1000;      ///< passes over the data
  std::uint64_t seed = 1;   ///< order of the coordinate updates
};

struct SvmFit {
  std::vector<double> w;  ///< p + 1 (bias last)
  int iterations = 0;
  bool converged = false;
};

/// Trains one binary problem on `rows` of `x`: `positive[i]` says whether rows[i] is in the
/// positive class; `weight[i]` multiplies C for that sample (class weights).
[[nodiscard]] SvmFit train_binary_svm(const DenseRows& x, const std::vector<std::int64_t>& rows, const std::vector<bool>& positive,
                                      const std::vector<double>& weight, const SvmParams& p);

/// The rows of a training or prediction matrix: genotype codes as dosages, binned features as
/// their bin index; missing codes as -1; indexed. `fill` is left empty (compute_fill, or a model's).
[[nodiscard]] DenseRows dense_rows(const FeatureMatrix& x);

/// Class probabilities (n x k, row-major) from decision values: one problem per class
/// (one-vs-rest: softmax), or one problem for two classes (the logistic of the value is class 1's).
/// Not calibrated: a monotone map of the margins, for ranking (AUC) and the argmax.
[[nodiscard]] std::vector<double> svm_probabilities(const std::vector<double>& decision, std::int64_t n, int problems, int k);

}  // namespace genoforest::ml
