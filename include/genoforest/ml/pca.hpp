#pragma once
/// @file pca.hpp
/// Principal components of the standardised genotype matrix by randomized subspace iteration,
/// over column slabs that may live on different processes.
///
/// Standardisation (as plink2 --pca): x = (g - 2p) / sqrt(2p(1-p)) with p the ALT frequency among
/// non-missing calls; a missing call becomes 0 (mean imputation); monomorphic columns are left
/// out. The components are the top eigenvectors of the relationship matrix X X^T / M (M: the
/// columns used), the eigenvalues its eigenvalues, as plink2 reports them.
///
/// Algorithm (Halko, Martinsson & Tropp 2011): Y = X Omega with a Gaussian Omega of k + oversample
/// columns; `iterations` times Q = orth(Y), Y = X (X^T Q); finally Q = orth(Y), T = Q^T X X^T Q,
/// T = U S U^T, components Q U. Every product over columns is a sum of per-slab contributions
/// accumulated in an ExactSum, and Omega's rows derive from (seed, column), so the result does
/// not depend on how slabs are spread over processes. No dense copy of X is ever formed.
#include <Eigen/Dense>

#include <cstdint>
#include <vector>

#include "genoforest/core/exact_sum.hpp"

namespace genoforest::ml {

/// A standardised slab, row-major like the dosages it comes from (so filling it is sequential).
using SlabMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// A block of consecutive genotype columns for all samples.
struct GenotypeSlab {
  std::int64_t col0 = 0;   ///< first store column
  std::int64_t width = 0;  ///< columns
  std::int64_t n = 0;      ///< samples (rows)
  std::vector<std::int8_t> g;  ///< n x width, row-major, -1 missing
  std::vector<double> mean;    ///< per column: 2p
  std::vector<double> scale;   ///< per column: 1/sqrt(2p(1-p)), 0 for a monomorphic column
  /// Computes mean and scale from g.
  void standardise();
  /// Columns used (scale > 0).
  [[nodiscard]] std::int64_t used() const;
  /// The standardised block, n x width (float; missing and monomorphic columns 0).
  [[nodiscard]] SlabMatrix matrix() const;
};

/// Adds X_slab Omega_slab (n x l) to `acc`: the random start, Omega's rows drawn from (seed, column).
void add_random_projection(const GenotypeSlab& s, int l, std::uint64_t seed, ExactSum& acc);

/// Adds X_slab (X_slab^T Q) (n x l) to `acc`: one power-iteration step, the slab standardised once.
void add_power_step(const GenotypeSlab& s, const Eigen::MatrixXd& q, ExactSum& acc);

/// Adds (Q^T X_slab)(Q^T X_slab)^T (l x l) to `acc`.
void add_projected_gram(const GenotypeSlab& s, const Eigen::MatrixXd& q, ExactSum& acc);

/// An orthonormal basis of Y's columns (thin Householder QR; deterministic).
[[nodiscard]] Eigen::MatrixXd orthonormalize(const Eigen::MatrixXd& y);

/// Adds a matrix (column-major order) to an ExactSum of the same size.
void add_matrix(ExactSum& acc, const Eigen::MatrixXd& m);

/// An n x l matrix from an ExactSum of n*l entries (column-major).
[[nodiscard]] Eigen::MatrixXd to_matrix(const ExactSum& acc, Eigen::Index rows, Eigen::Index cols);

struct PcaResult {
  Eigen::MatrixXd scores;            ///< n x k, unit-length columns, sign: largest |entry| positive
  std::vector<double> eigenvalues;   ///< k, of X X^T / M, descending
  std::int64_t variants_used = 0;    ///< M
};

/// The final step: from Q (n x l) and T = Q^T X X^T Q, the top k components.
[[nodiscard]] PcaResult finish_pca(const Eigen::MatrixXd& q, const Eigen::MatrixXd& t, int k, std::int64_t variants_used);

}  // namespace genoforest::ml
