#pragma once
/// @file cluster.hpp
/// Clustering of samples: k-means (k-means++ seeding, Lloyd iterations) over column slabs that
/// may live on different processes, hierarchical clustering (average, complete, Ward) by the
/// nearest-neighbour chain, silhouette and adjusted Rand index.
///
/// Data are samples x features (PC scores, or standardised genotypes). Distances are Euclidean.
/// Every quantity summed over columns is a per-slab contribution added to an ExactSum (see
/// core/exact_sum.hpp), so assignments, centres and scores are the same for any process count.
#include <Eigen/Dense>

#include <cstdint>
#include <string>
#include <vector>

#include "genoforest/core/exact_sum.hpp"
#include "genoforest/core/rng.hpp"
#include "genoforest/ml/pca.hpp"

namespace genoforest::ml {

/// Adds a slab's contribution to the squared distances between all n rows of `x` (n x w) to
/// `acc`, which holds the n(n-1)/2 pairs i < j in row order.
void add_pairwise_sq_distances(const Eigen::MatrixXf& x, ExactSum& acc);

/// The symmetric n x n matrix of the pairs held in `acc` (negative rounding residue clipped to 0).
[[nodiscard]] Eigen::MatrixXd pairs_to_matrix(const ExactSum& acc, Eigen::Index n);

/// Squared distances, restricted to a slab's columns, of every row of `x` (n x w) to every row of
/// `centres` (k x w): n x k.
[[nodiscard]] Eigen::MatrixXd slab_sq_distances(const Eigen::MatrixXf& x, const Eigen::MatrixXd& centres);

/// Nearest centre of each row of `d2` (n x k; ties: the lower index) and the summed distance.
[[nodiscard]] std::vector<int> nearest(const Eigen::MatrixXd& d2, double& inertia);

/// Column means over each cluster's rows (k x w); an empty cluster keeps its `previous` row.
[[nodiscard]] Eigen::MatrixXd slab_centroids(const Eigen::MatrixXf& x, const std::vector<int>& cluster, int k,
                                             const Eigen::MatrixXd& previous);

/// k-means++: the next centre, a row drawn with probability proportional to `d2` (uniformly when
/// all are 0).
[[nodiscard]] std::int64_t kmeanspp_draw(const std::vector<double>& d2, Rng& rng);

enum class Linkage { kAverage, kComplete, kWard };
[[nodiscard]] Linkage parse_linkage(const std::string& s);  ///< throws UsageError

/// Hierarchical agglomerative clustering of n points from their squared Euclidean distances
/// (`d2`, n x n, symmetric), cut into k clusters. Average and complete linkage use Euclidean
/// distances, Ward the Lance-Williams update on squared distances (as scipy). Labels 0..k-1 in
/// order of first appearance.
[[nodiscard]] std::vector<int> hierarchical(const Eigen::MatrixXd& d2, Linkage linkage, int k);

/// Relabels clusters 0..k-1 in order of first appearance.
[[nodiscard]] std::vector<int> canonical_labels(const std::vector<int>& labels);

/// Mean silhouette (Euclidean) from squared distances; NaN when k < 2 or every cluster is a
/// singleton. A singleton's silhouette is 0 (as scikit-learn).
[[nodiscard]] double silhouette(const Eigen::MatrixXd& d2, const std::vector<int>& labels);

/// Adjusted Rand index between two labellings of the same items (entries < 0 in `b` are left out).
[[nodiscard]] double adjusted_rand_index(const std::vector<int>& a, const std::vector<int>& b);

}  // namespace genoforest::ml
