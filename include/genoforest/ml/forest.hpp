#pragma once
/// @file forest.hpp
/// Random forests on a FeatureMatrix: growing one tree, predicting, out-of-bag results.
///
/// One tree is one task: grow_tree() depends only on the data, the parameters and the tree's seed,
/// so a forest is the same whichever process grows which tree. Results that sum over trees
/// (out-of-bag predictions, importances) are summed by the caller in tree order.
///
/// Splits: a node is split on "code <= t" of one feature; samples with a missing code go to the
/// side chosen for them when the split was learned (the side that gives the better impurity; the
/// right side when the node had no missing code).
#include <cstdint>
#include <string>
#include <vector>

#include <boost/serialization/vector.hpp>

#include "genoforest/ml/collectives.hpp"
#include "genoforest/ml/matrix.hpp"

namespace genoforest::ml {

enum class Task : std::int8_t { kClassification = 0, kRegression = 1 };
enum class Criterion : std::int8_t { kGini = 0, kEntropy = 1, kVariance = 2 };

/// Forest parameters, named as ranger and scikit-learn users expect.
struct ForestParams {
  Task task = Task::kClassification;
  Criterion criterion = Criterion::kGini;
  static constexpr std::int64_t kMaxTrees = 1'000'000;  ///< a bound on --trees (each tree costs memory)
  std::int64_t n_trees = 500;
  std::int64_t mtry = 0;           ///< features tried per split; 0: sqrt(p) (classification), p/3 (regression)
  std::int64_t min_node_size = 0;  ///< nodes with at most this many samples are leaves; 0: 1 (classification), 5 (regression)
  std::int64_t max_depth = 0;      ///< 0: unlimited
  double sample_fraction = 0;      ///< of the training samples per tree; 0: 1 with replacement, 0.632 without
  bool replace = true;             ///< bootstrap (with replacement) or subsampling
  bool balanced = false;           ///< class weights n / (K n_k), as scikit-learn's class_weight='balanced'
  std::uint64_t seed = 1;

  /// Fills the defaults for `p` features and checks every value; throws UsageError naming the option.
  void resolve(std::int64_t p);

  template <class Ar>
  void serialize(Ar& ar, unsigned) {
    ar & task & criterion & n_trees & mtry & min_node_size & max_depth & sample_fraction & replace & balanced & seed;
  }
};

/// The labels of the training rows: class codes 0..K-1 or values.
struct Labels {
  Task task = Task::kClassification;
  int n_classes = 0;
  std::vector<std::int32_t> code;  ///< per matrix row (classification)
  std::vector<double> value;       ///< per matrix row (regression)
};

/// A node: internal when feature >= 0 (left child = left, right child = right), else a leaf whose
/// values start at leaf_values[left].
struct Node {
  std::int32_t feature = -1;
  std::int32_t left = 0;
  std::int32_t right = 0;
  std::uint8_t threshold = 0;     ///< go left when code <= threshold
  std::uint8_t missing_left = 0;  ///< a missing code goes left
  template <class Ar>
  void serialize(Ar& ar, unsigned) {
    ar & feature & left & right & threshold & missing_left;
  }
};

class Tree {
 public:
  std::vector<Node> nodes;
  std::vector<float> leaf_values;  ///< K class probabilities (classification) or 1 mean per leaf
  int width = 1;                   ///< values per leaf

  /// The leaf values for row `r` of `x`, whose columns are the features the tree was grown on.
  [[nodiscard]] const float* predict(const FeatureMatrix& x, std::int64_t r) const noexcept {
    std::int32_t i = 0;
    for (;;) {
      const Node& nd = nodes[static_cast<std::size_t>(i)];
      if (nd.feature < 0) return leaf_values.data() + nd.left;
      const int c = x.code(nd.feature, r);
      const bool left = c == x.bins(nd.feature) ? nd.missing_left != 0 : c <= nd.threshold;
      i = left ? nd.left : nd.right;
    }
  }
  [[nodiscard]] std::int64_t depth() const;
  template <class Ar>
  void serialize(Ar& ar, unsigned) {
    ar & nodes & leaf_values & width;
  }
};

/// One tree and what it contributes to forest-level results.
struct TreeResult {
  Tree tree;
  std::vector<std::int64_t> oob_rows;  ///< training positions (indices into `rows`) out of bag
  std::vector<float> oob_values;       ///< width values per oob row
  std::vector<std::int32_t> impurity_features;  ///< features split on, ascending
  std::vector<double> impurity_values;          ///< their weighted impurity decrease / root weight
  std::vector<std::int32_t> perm_features;  ///< features with a permutation importance in this tree
  std::vector<double> perm_values;          ///< their OOB accuracy decrease (or MSE increase)
  template <class Ar>
  void serialize(Ar& ar, unsigned) {
    ar & tree & oob_rows & oob_values & impurity_features & impurity_values & perm_features & perm_values;
  }
};

/// What to compute besides the tree.
struct TreeOptions {
  bool oob = true;
  bool permutation_importance = false;
  bool impurity_importance = true;
  /// Grow two-class trees on genotype columns level by level (grow_trees); false: depth first,
  /// one node after the other. The same trees either way; kept for tests and comparisons.
  bool level_by_level = true;
};

/// A matrix split by columns over the ranks of a group (the variant-sharded forest): rank r holds
/// the bytes of columns [bounds[r], bounds[r + 1]) only, every rank the labels and every column's
/// layout. Functions given a Sharding are collective: every rank of `comm` calls them alike.
struct Sharding {
  Collectives* comm = nullptr;
  std::vector<std::int64_t> bounds;  ///< comm->size() + 1 column numbers, from 0 to the column count
  /// The rank that holds column f.
  [[nodiscard]] int owner(std::int64_t f) const;
  [[nodiscard]] bool owns(std::int64_t f) const { return f >= bounds[static_cast<std::size_t>(comm->rank())] &&
                                                          f < bounds[static_cast<std::size_t>(comm->rank()) + 1]; }
  /// Contiguous blocks of columns, one per rank, of about equal bytes (`col_bytes` per column).
  [[nodiscard]] static std::vector<std::int64_t> balanced(const std::vector<std::size_t>& col_bytes, int ranks);
};

/// Grows one tree on the matrix rows `rows` (training samples), seeded by `seed`. `params` must be
/// resolved. Deterministic.
[[nodiscard]] TreeResult grow_tree(const FeatureMatrix& x, const Labels& y, const std::vector<std::int64_t>& rows,
                                   const ForestParams& params, std::uint64_t seed, const TreeOptions& options);

/// Grows one tree per seed, as grow_tree does for each: the same trees, bit for bit. Trees of two
/// classes on genotype columns grow level by level together, each level's trials of all of them
/// taken feature by feature (a column is read once for every node that tries it): several trees
/// per call run faster than one call per tree.
///
/// With `shard`, the matrix's columns are spread over the ranks of a group (Sharding): all trees
/// grow level by level; each rank tries the (node, feature) draws whose feature it holds, the
/// best split of each node is agreed on (best score, then earliest draw: the same rule), the
/// holder of the winning feature sends the node's partition of its samples as a bitmap, and
/// out-of-bag rows (with a feature permuted, for permutation importance) are routed down the
/// finished trees the same way, one level per exchange. Every rank returns the whole result:
/// the same trees, values and importances as without sharding, bit for bit.
[[nodiscard]] std::vector<TreeResult> grow_trees(const FeatureMatrix& x, const Labels& y,
                                                 const std::vector<std::int64_t>& rows, const ForestParams& params,
                                                 const std::vector<std::uint64_t>& seeds, const TreeOptions& options,
                                                 const Sharding* shard = nullptr);

/// The leaf values (width per row) of each tree for matrix rows `rows`: out[t][i * width + c].
/// Collective with `shard`.
[[nodiscard]] std::vector<std::vector<float>> predict_rows(const std::vector<Tree>& trees, const FeatureMatrix& x,
                                                           const std::vector<std::int64_t>& rows,
                                                           const Sharding* shard = nullptr);

/// Balanced class weights n / (K n_k) over `rows` (1 for a class without sample), or all 1.
[[nodiscard]] std::vector<double> class_weights(const Labels& y, const std::vector<std::int64_t>& rows, bool balanced);

}  // namespace genoforest::ml
