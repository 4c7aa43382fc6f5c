#pragma once
/// @file shap.hpp
/// Exact TreeSHAP (Lundberg, Erion and Lee, "Consistent individualized feature attribution for
/// tree ensembles", 2018, Algorithm 2: path-dependent, polynomial time) for the forest's and the
/// boosted trees (docs/explain.md).
///
/// The SHAP value of feature i for a sample is its Shapley value in the game whose value of a set
/// S of features is E[f(x) | x_S]: the tree followed along x's branch at a split on a feature of S,
/// and averaged over both branches weighted by their cover (training samples, or hessian sums for
/// boosted trees) at a split on any other feature. The values of a sample add up to f(x) minus the
/// expected value E[f] (the "bias"). Deterministic: a sample's values depend on it and the model
/// alone.
#include <cstdint>
#include <span>
#include <vector>

#include "genoforest/ml/forest.hpp"
#include "genoforest/ml/gbt.hpp"
#include "genoforest/ml/matrix.hpp"

namespace genoforest::ml {

/// A tree as TreeSHAP reads it. Node n: internal when feature[n] >= 0 (code <= threshold goes to
/// left[n], a missing code to left[n] when missing_left[n]), with cover[n] > 0; a leaf's `width`
/// values start at value[n * width].
struct ShapTree {
  int width = 1;
  std::vector<std::int32_t> feature, left, right;
  std::vector<std::uint8_t> threshold, missing_left;
  std::vector<double> cover;
  std::vector<double> value;
  [[nodiscard]] int depth() const;
};

/// A boosted tree, its covers the hessian sums it was grown with (as XGBoost's `pred_contribs`).
[[nodiscard]] ShapTree shap_tree(const GbtTree& t);
/// A forest tree with covers counted elsewhere (the model keeps none): `cover` per node; a leaf
/// holds the tree's class probabilities (or value).
[[nodiscard]] ShapTree shap_tree(const Tree& t, const std::vector<double>& cover);

/// How many of `rows` of x reach each node of forest tree t, added to counts[first + node]: the
/// data a forest's covers are counted from (sum them over the ranks: exact, integers).
void count_node_visits(const Tree& t, const FeatureMatrix& x, std::span<const std::int64_t> rows, std::int64_t* counts);

/// Covers of forest tree t from its nodes' visit counts: a leaf's count plus `leaf_pseudo_count`
/// (so that a node nobody reaches keeps a weight), an internal node's the sum of its children's.
[[nodiscard]] std::vector<double> covers_from_counts(const Tree& t, const std::int64_t* counts, double leaf_pseudo_count);

/// Adds the SHAP values of row r of x under tree t to phi (feature f, output k at
/// phi[f * t.width + k]) and the tree's expected value to bias[k] (scaled by `scale`, e.g. 1/trees
/// for a forest's mean). Every node's cover must be > 0 where a sample can reach it.
void tree_shap(const ShapTree& t, const FeatureMatrix& x, std::int64_t r, double scale, double* phi, double* bias);

/// tree_shap() with feature `feature` held present (x's branch only) or absent (both branches by
/// cover) and out of the game: the SHAP interaction value of (i, j) is half the difference of
/// feature i's values with j present and absent (Lundberg et al. 2018, section 4).
void tree_shap_conditioned(const ShapTree& t, const FeatureMatrix& x, std::int64_t r, double scale, std::int32_t feature, bool present,
                           double* phi);

/// The conditional expectation E[f(x) | x_S] of tree t for row r (the value function TreeSHAP's
/// Shapley values are taken of; `in_s[f]` says whether feature f is in S), for tests and checks.
[[nodiscard]] std::vector<double> conditional_expectation(const ShapTree& t, const FeatureMatrix& x, std::int64_t r,
                                                          const std::vector<char>& in_s);

}  // namespace genoforest::ml
