#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <numeric>

#include "genoforest/core/error.hpp"
#include "genoforest/core/rng.hpp"
#include "genoforest/ml/forest.hpp"
#include "genoforest/ml/metrics.hpp"
#include "genoforest/ml/model.hpp"
#include "temp_dir.hpp"

namespace gf = genoforest;
namespace ml = genoforest::ml;

namespace {
/// n samples x p random genotype columns (with some missing), labels from `rule`.
struct Toy {
  ml::FeatureMatrix x;
  ml::Labels y;
  std::vector<std::vector<std::int8_t>> g;  // [feature][sample]
  std::vector<std::int64_t> rows;
};
template <class Rule>
Toy make_toy(std::int64_t n, std::int64_t p, std::uint64_t seed, Rule rule, double missing = 0.0) {
  Toy t;
  gf::Rng rng(seed);
  t.x = ml::FeatureMatrix(n);
  t.g.assign(static_cast<std::size_t>(p), std::vector<std::int8_t>(static_cast<std::size_t>(n)));
  for (auto& col : t.g)
    for (auto& v : col) v = rng.chance(missing) ? -1 : static_cast<std::int8_t>(rng.below(3));
  for (const auto& col : t.g) t.x.add_genotypes(col.data());
  t.y.task = ml::Task::kClassification;
  t.y.n_classes = 2;
  for (std::int64_t i = 0; i < n; ++i) t.y.code.push_back(rule(t.g, static_cast<std::size_t>(i), rng));
  t.rows.resize(static_cast<std::size_t>(n));
  std::iota(t.rows.begin(), t.rows.end(), 0);
  return t;
}
ml::ForestParams params(std::int64_t p, std::int64_t mtry = 0) {
  ml::ForestParams fp;
  fp.mtry = mtry;
  fp.resolve(p);
  return fp;
}
}  // namespace

TEST(FeatureMatrix, PacksFourGenotypesPerByteWithMissingAsCode3) {
  const std::vector<std::int8_t> d = {0, 1, 2, -1, 2, 5, 0};
  ml::FeatureMatrix x(7);
  x.add_genotypes(d.data());
  x.add_binned({0, 1, 2, 3, 4, 5, 6}, 6);
  EXPECT_EQ(x.cols(), 2);
  const int want[] = {0, 1, 2, 3, 2, 2, 0};  // a dosage above 2 counts as 2
  for (int r = 0; r < 7; ++r) EXPECT_EQ(x.code(0, r), want[r]) << r;
  EXPECT_EQ(x.bins(0), 3);
  EXPECT_EQ(x.code(1, 6), 6);  // the missing code of a 6-bin column
  x.set_genotypes(0, std::vector<std::int8_t>(7, 1).data());
  EXPECT_EQ(x.code(0, 3), 1);
}

TEST(Binning, QuantileEdgesAndCodes) {
  EXPECT_EQ(ml::quantile_edges({3, 1, 2, NAN, 2}, 32), (std::vector<double>{1.5, 2.5}));  // one bin per distinct value
  std::vector<double> v(100);
  std::iota(v.begin(), v.end(), 0.0);
  const auto e = ml::quantile_edges(v, 4);
  EXPECT_EQ(e, (std::vector<double>{24.5, 49.5, 74.5}));
  EXPECT_EQ(ml::bin_values({0, 24.5, 25, 99, NAN}, e), (std::vector<std::uint8_t>{0, 0, 1, 3, 4}));
}

TEST(Tree, FindsAPerfectSplitAndMakesPureLeaves) {
  // class = genotype of feature 3 >= 1
  auto t = make_toy(200, 6, 5, [](auto& g, std::size_t i, auto&) { return g[3][i] >= 1 ? 1 : 0; });
  auto fp = params(6, 6);
  fp.replace = false;
  fp.sample_fraction = 1.0;
  const auto r = ml::grow_tree(t.x, t.y, t.rows, fp, 11, {});
  ASSERT_EQ(r.tree.nodes.size(), 3u);
  EXPECT_EQ(r.tree.nodes[0].feature, 3);
  EXPECT_EQ(r.tree.nodes[0].threshold, 0);
  for (std::int64_t i = 0; i < 200; ++i) {
    const float* v = r.tree.predict(t.x, i);
    EXPECT_FLOAT_EQ(v[t.y.code[static_cast<std::size_t>(i)]], 1.0f);
  }
  EXPECT_TRUE(r.oob_rows.empty());  // no bootstrap: nothing out of bag
  EXPECT_EQ(r.impurity_features, (std::vector<std::int32_t>{3}));
}

TEST(Tree, SendsMissingCallsToTheSideThatFitsThem) {
  // Missing calls of feature 0 are all cases; called genotypes: case iff dosage 2.
  auto t = make_toy(300, 1, 6, [](auto& g, std::size_t i, auto&) { return g[0][i] == 2 || g[0][i] == -1 ? 1 : 0; }, 0.2);
  auto fp = params(1, 1);
  fp.replace = false;
  const auto r = ml::grow_tree(t.x, t.y, t.rows, fp, 3, {});
  ASSERT_EQ(r.tree.nodes.size(), 3u);
  EXPECT_EQ(r.tree.nodes[0].threshold, 1);
  EXPECT_EQ(r.tree.nodes[0].missing_left, 0);  // missing goes right, with the dosage-2 cases
}

TEST(Tree, BootstrapIsDeterministicForASeedAndVariesAcrossSeeds) {
  auto t = make_toy(150, 40, 7, [](auto& g, std::size_t i, auto& rng) { return (g[1][i] + g[2][i] >= 2) ^ rng.chance(0.1) ? 1 : 0; });
  const auto fp = params(40);
  ml::TreeOptions o;
  o.permutation_importance = true;
  const auto a = ml::grow_tree(t.x, t.y, t.rows, fp, 42, o), b = ml::grow_tree(t.x, t.y, t.rows, fp, 42, o),
             c = ml::grow_tree(t.x, t.y, t.rows, fp, 43, o);
  EXPECT_EQ(a.oob_rows, b.oob_rows);
  EXPECT_EQ(a.oob_values, b.oob_values);
  EXPECT_EQ(a.perm_values, b.perm_values);
  EXPECT_EQ(a.tree.nodes.size(), b.tree.nodes.size());
  EXPECT_NE(a.oob_rows, c.oob_rows);
  // About 1/e of the samples are out of bag.
  EXPECT_GT(a.oob_rows.size(), 150 * 0.25);
  EXPECT_LT(a.oob_rows.size(), 150 * 0.5);
}

TEST(Forest, PlantedSignalRanksFirstInBothImportances) {
  auto t = make_toy(400, 30, 8, [](auto& g, std::size_t i, auto& rng) {
    return (g[17][i] + g[29][i] >= 2) ^ rng.chance(0.05) ? 1 : 0;
  });
  const auto fp = params(30);
  ml::TreeOptions o;
  o.permutation_importance = true;
  std::vector<double> perm(30, 0.0), imp(30, 0.0), oob(400 * 2, 0.0);
  std::vector<int> oobn(400, 0);
  for (int tr = 0; tr < 150; ++tr) {
    const auto r = ml::grow_tree(t.x, t.y, t.rows, fp, gf::task_seed(1, 2, static_cast<std::uint64_t>(tr)), o);
    for (std::size_t i = 0; i < r.perm_features.size(); ++i) perm[static_cast<std::size_t>(r.perm_features[i])] += r.perm_values[i];
    for (std::size_t i = 0; i < r.impurity_features.size(); ++i) imp[static_cast<std::size_t>(r.impurity_features[i])] += r.impurity_values[i];
    for (std::size_t i = 0; i < r.oob_rows.size(); ++i) {
      for (int c = 0; c < 2; ++c) oob[static_cast<std::size_t>(r.oob_rows[i] * 2 + c)] += r.oob_values[i * 2 + static_cast<std::size_t>(c)];
      ++oobn[static_cast<std::size_t>(r.oob_rows[i])];
    }
  }
  for (const auto* v : {&perm, &imp}) {
    std::vector<std::size_t> order(30);
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](auto a, auto b) { return (*v)[a] > (*v)[b]; });
    EXPECT_TRUE((order[0] == 17 && order[1] == 29) || (order[0] == 29 && order[1] == 17)) << order[0] << " " << order[1];
  }
  int correct = 0, counted = 0;
  for (std::size_t i = 0; i < 400; ++i) {
    if (!oobn[i]) continue;
    ++counted;
    correct += (oob[2 * i + 1] > oob[2 * i]) == (t.y.code[i] == 1);
  }
  EXPECT_GT(static_cast<double>(correct) / counted, 0.85);
}

TEST(Forest, LevelByLevelGrowsTheDepthFirstTrees) {
  // Trees grown together level by level are the trees grown one by one depth first: the same
  // nodes in the same numbering, leaf values, out-of-bag predictions and importances; with
  // missing calls, ties (duplicated columns) and a depth limit.
  auto t = make_toy(300, 40, 9, [](auto& g, std::size_t i, auto& rng) {
    return (g[3][i] + g[11][i] >= 2) ^ rng.chance(0.1) ? 1 : 0;
  }, 0.05);
  for (const std::int64_t depth : {0, 4}) {
    auto fp = params(40, 7);
    fp.max_depth = depth;
    ml::TreeOptions batch, single;
    batch.permutation_importance = single.permutation_importance = true;
    single.level_by_level = false;
    std::vector<std::uint64_t> seeds;
    for (std::uint64_t s = 0; s < 12; ++s) seeds.push_back(gf::task_seed(5, 6, s));
    const auto together = ml::grow_trees(t.x, t.y, t.rows, fp, seeds, batch);
    ASSERT_EQ(together.size(), seeds.size());
    for (std::size_t i = 0; i < seeds.size(); ++i) {
      SCOPED_TRACE(i);
      const auto one = ml::grow_tree(t.x, t.y, t.rows, fp, seeds[i], single);
      const auto& a = together[i].tree;
      ASSERT_EQ(a.nodes.size(), one.tree.nodes.size());
      for (std::size_t k = 0; k < a.nodes.size(); ++k) {
        EXPECT_EQ(a.nodes[k].feature, one.tree.nodes[k].feature) << k;
        EXPECT_EQ(a.nodes[k].left, one.tree.nodes[k].left) << k;
        EXPECT_EQ(a.nodes[k].right, one.tree.nodes[k].right) << k;
        EXPECT_EQ(a.nodes[k].threshold, one.tree.nodes[k].threshold) << k;
        EXPECT_EQ(a.nodes[k].missing_left, one.tree.nodes[k].missing_left) << k;
      }
      EXPECT_EQ(a.leaf_values, one.tree.leaf_values);
      EXPECT_EQ(together[i].oob_rows, one.oob_rows);
      EXPECT_EQ(together[i].oob_values, one.oob_values);
      EXPECT_EQ(together[i].perm_features, one.perm_features);
      EXPECT_EQ(together[i].impurity_features, one.impurity_features);
      for (std::size_t k = 0; k < one.impurity_values.size() && k < together[i].impurity_values.size(); ++k) {
        EXPECT_NEAR(together[i].impurity_values[k], one.impurity_values[k], 1e-12);
      }
    }
  }
}

TEST(ForestParams, DefaultsAndErrors) {
  ml::ForestParams a;
  a.resolve(50000);
  EXPECT_EQ(a.mtry, 223);
  EXPECT_EQ(a.min_node_size, 1);
  EXPECT_DOUBLE_EQ(a.sample_fraction, 1.0);
  ml::ForestParams r;
  r.task = ml::Task::kRegression;
  r.replace = false;
  r.resolve(30);
  EXPECT_EQ(r.mtry, 10);
  EXPECT_EQ(r.min_node_size, 5);
  EXPECT_DOUBLE_EQ(r.sample_fraction, 0.632);
  EXPECT_EQ(r.criterion, ml::Criterion::kVariance);
  ml::ForestParams bad;
  bad.mtry = 11;
  try {
    bad.resolve(10);
    FAIL();
  } catch (const gf::UsageError& e) {
    EXPECT_STREQ(e.what(), "--mtry 11 is larger than the number of features (10)");
  }
}

TEST(ClassWeights, BalancedIsNOverKTimesClassSize) {
  ml::Labels y;
  y.n_classes = 2;
  y.code = {0, 0, 0, 1};
  const auto w = ml::class_weights(y, {0, 1, 2, 3}, true);
  EXPECT_DOUBLE_EQ(w[0], 4.0 / 6.0);
  EXPECT_DOUBLE_EQ(w[1], 2.0);
}

TEST(Regression, TreeFitsAStepFunction) {
  auto t = make_toy(200, 5, 9, [](auto&, std::size_t, auto&) { return 0; });
  t.y.task = ml::Task::kRegression;
  for (std::size_t i = 0; i < 200; ++i) t.y.value.push_back(t.g[2][i] == 0 ? 1.0 : 5.0);
  ml::ForestParams fp;
  fp.task = ml::Task::kRegression;
  fp.mtry = 5;
  fp.replace = false;
  fp.sample_fraction = 1.0;
  fp.resolve(5);
  const auto r = ml::grow_tree(t.x, t.y, t.rows, fp, 1, {});
  EXPECT_EQ(r.tree.nodes[0].feature, 2);
  for (std::int64_t i = 0; i < 200; ++i) EXPECT_DOUBLE_EQ(r.tree.predict(t.x, i)[0], t.y.value[static_cast<std::size_t>(i)]);
}

TEST(Metrics, ClassificationAgainstHandComputedValues) {
  // truth 0 0 1 1 1; P(class 1): .1 .6 .4 .8 .9 -> predictions 0 1 0 1 1
  const std::vector<std::int32_t> truth = {0, 0, 1, 1, 1};
  const std::vector<double> prob = {.9, .1, .4, .6, .6, .4, .2, .8, .1, .9};
  const auto m = ml::classification_metrics(truth, prob, 2);
  EXPECT_DOUBLE_EQ(m.accuracy, 0.6);
  EXPECT_EQ(m.confusion, (std::vector<std::vector<std::int64_t>>{{1, 1}, {1, 2}}));
  EXPECT_DOUBLE_EQ(m.precision[1], 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(m.recall[1], 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(m.precision[0], 0.5);
  EXPECT_DOUBLE_EQ(m.f1[0], 0.5);
  EXPECT_DOUBLE_EQ(m.macro_f1, (0.5 + 2.0 / 3.0) / 2);
  // AUC: positives .4 .8 .9 vs negatives .1 .6: pairs won 1+2+2 = 5 of 6
  EXPECT_DOUBLE_EQ(m.auc, 5.0 / 6.0);
}

TEST(Metrics, AClassNeverPredictedCountsAsZeroInTheMacroMeansAsScikitLearn) {
  // One class predicted for everyone. scikit-learn (zero_division=0), over the 3 classes that
  // occur: precision [0.5, 0, 0] -> 1/6; recall [1, 0, 0] -> 1/3; f1 [2/3, 0, 0] -> 2/9. Class 3
  // occurs nowhere: left out.
  const std::vector<std::int32_t> truth = {0, 0, 1, 2};
  std::vector<double> prob;
  for (int i = 0; i < 4; ++i) prob.insert(prob.end(), {.7, .1, .1, .1});
  const auto m = ml::classification_metrics(truth, prob, 4);
  EXPECT_DOUBLE_EQ(m.precision[1], 0.0);
  EXPECT_TRUE(std::isnan(m.precision[3]));
  EXPECT_DOUBLE_EQ(m.macro_precision, 0.5 / 3.0);
  EXPECT_DOUBLE_EQ(m.macro_recall, 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(m.macro_f1, 2.0 / 9.0);
}

TEST(Metrics, AucCountsTiesAsHalfAndRegressionMetrics) {
  EXPECT_DOUBLE_EQ(ml::auc_roc({0.5, 0.5, 0.5, 0.9}, {false, true, false, true}), (1.0 + 1.0 + 0.5 + 0.5) / 4);
  EXPECT_TRUE(std::isnan(ml::auc_roc({0.1, 0.2}, {true, true})));
  const auto r = ml::regression_metrics({1, 2, 3, 4}, {1, 2, 3, 6});
  EXPECT_DOUBLE_EQ(r.rmse, 1.0);
  EXPECT_DOUBLE_EQ(r.r2, 1.0 - 4.0 / 5.0);
}

TEST(Folds, StratifiedDeterministicAndCheckedAgainstTheSmallestClass) {
  std::vector<std::int32_t> cls;
  for (int i = 0; i < 103; ++i) cls.push_back(i % 3 == 0 ? 1 : 0);
  const auto f = ml::assign_folds(cls, 103, 5, 7, {"0", "1"});
  EXPECT_EQ(f, ml::assign_folds(cls, 103, 5, 7, {"0", "1"}));
  EXPECT_NE(f, ml::assign_folds(cls, 103, 5, 8, {"0", "1"}));
  for (int c = 0; c < 2; ++c) {
    std::vector<int> per(5, 0);
    for (std::size_t i = 0; i < cls.size(); ++i)
      if (cls[i] == c) ++per[static_cast<std::size_t>(f[i])];
    EXPECT_LE(*std::max_element(per.begin(), per.end()) - *std::min_element(per.begin(), per.end()), 1) << "class " << c;
  }
  try {
    (void)ml::assign_folds({0, 0, 0, 0, 1, 1}, 6, 3, 1, {"control", "case"});
    FAIL();
  } catch (const gf::DataError& e) {
    EXPECT_STREQ(e.what(), "--folds 3 is larger than class 'case', which has only 2 labelled samples: use at most 2 folds");
  }
}

class ModelFile : public TempDir {};

TEST_F(ModelFile, RoundTripsAndRejectsOtherVersionsAndCorruption) {
  ml::Model m;
  m.tool_version = "x";
  m.classes = {"0", "1"};
  m.variants.push_back({"chr1", 10, "rs1", "A", "G"});
  m.trees.emplace_back();
  m.trees[0].nodes.emplace_back();
  m.trees[0].leaf_values = {0.25f, 0.75f};
  m.trees[0].width = 2;
  const auto path = dir_ / "m.gfm";
  ml::save_model(m, path);
  const auto back = ml::load_model(path);
  EXPECT_EQ(back.variants[0].name(), "chr1:10:A:G");
  EXPECT_EQ(back.variants[0].match_key(), "1:10:A:G");  // chr1 and 1 match
  EXPECT_EQ(back.trees[0].leaf_values, m.trees[0].leaf_values);

  std::string bytes;
  {
    std::ifstream f(path, std::ios::binary);
    bytes.assign((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  }
  auto write = [&](const std::string& b) {
    std::ofstream f(path, std::ios::binary);
    f << b;
  };
  auto error = [&]() {
    try {
      (void)ml::load_model(path);
    } catch (const gf::InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  std::string v = bytes;
  v[17] = 9;  // the format version, right after the magic line
  write(v);
  EXPECT_NE(error().find("model format version 9, but this genoforest reads version 1"), std::string::npos) << error();
  std::string c = bytes;
  c[c.size() - 3] ^= 0x55;
  write(c);
  EXPECT_NE(error().find("corrupt model file (checksum mismatch)"), std::string::npos) << error();
  write(bytes.substr(0, bytes.size() - 10));
  EXPECT_NE(error().find("truncated"), std::string::npos) << error();
  write("hello");
  EXPECT_NE(error().find("not a genoforest model file"), std::string::npos) << error();
}

// ---- population structure: PCA and clustering -------------------------------------------------
#include "genoforest/ml/cluster.hpp"
#include "genoforest/ml/pca.hpp"

namespace {
/// Two populations with different allele frequencies: n x m dosages, row-major.
genoforest::ml::GenotypeSlab structured_slab(std::int64_t n, std::int64_t m, std::int64_t col0, std::uint64_t seed) {
  genoforest::ml::GenotypeSlab s;
  s.n = n;
  s.width = m;
  s.col0 = col0;
  s.g.resize(static_cast<std::size_t>(n * m));
  genoforest::Rng rng(seed);
  for (std::int64_t j = 0; j < m; ++j) {
    const double p0 = 0.1 + 0.8 * rng.uniform(), p1 = 0.1 + 0.8 * rng.uniform();
    for (std::int64_t i = 0; i < n; ++i) {
      const double p = i < n / 2 ? p0 : p1;
      s.g[static_cast<std::size_t>(i * m + j)] = static_cast<std::int8_t>(rng.chance(0.02) ? -1 : rng.chance(p) + rng.chance(p));
    }
  }
  s.standardise();
  return s;
}
}  // namespace

TEST(Pca, MatchesTheExactEigenvectorsOfTheRelationshipMatrix) {
  namespace ml = genoforest::ml;
  std::vector<ml::GenotypeSlab> slabs{structured_slab(80, 300, 0, 1), structured_slab(80, 200, 300, 2)};
  const int l = 8;
  genoforest::ExactSum acc(80 * l);
  for (const auto& s : slabs) ml::add_random_projection(s, l, 5, acc);
  Eigen::MatrixXd y = ml::to_matrix(acc, 80, l);
  for (int it = 0; it < 6; ++it) {
    const Eigen::MatrixXd q = ml::orthonormalize(y);
    acc.resize(80 * l);
    for (const auto& s : slabs) ml::add_power_step(s, q, acc);
    y = ml::to_matrix(acc, 80, l);
  }
  const Eigen::MatrixXd q = ml::orthonormalize(y);
  genoforest::ExactSum t(l * l);
  for (const auto& s : slabs) ml::add_projected_gram(s, q, t);
  const auto r = ml::finish_pca(q, ml::to_matrix(t, l, l), 2, 500);
  // The naive answer: the dense standardised matrix and its relationship matrix.
  Eigen::MatrixXd x(80, 500);
  x << slabs[0].matrix().cast<double>(), slabs[1].matrix().cast<double>();
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(x * x.transpose() / 500.0);
  EXPECT_NEAR(r.eigenvalues[0], es.eigenvalues()(79), 1e-3 * es.eigenvalues()(79));
  EXPECT_NEAR(std::abs(r.scores.col(0).dot(es.eigenvectors().col(79))), 1.0, 1e-6);
  EXPECT_GT(r.eigenvalues[0], 5 * r.eigenvalues[1]);  // one real axis: the two populations
}

TEST(ExactSum, SameBitsInAnyOrderAndGrouping) {
  std::vector<double> terms;
  genoforest::Rng rng(3);
  for (int i = 0; i < 1000; ++i) terms.push_back((rng.uniform() - 0.5) * std::pow(10.0, static_cast<double>(rng.below(12))));
  genoforest::ExactSum a(1), b(1), c(1), d(1);
  for (double t : terms) a.add(0, t);
  for (auto it = terms.rbegin(); it != terms.rend(); ++it) b.add(0, *it);
  for (std::size_t i = 0; i < terms.size(); ++i) (i % 2 ? c : d).add(0, terms[i]);
  c.raw()[0] += d.raw()[0];
  EXPECT_EQ(a.value(0), b.value(0));
  EXPECT_EQ(a.value(0), c.value(0));
  EXPECT_THROW(a.add(0, 1e30), genoforest::InternalError);
}

TEST(Hierarchical, LinkagesOnPointsOnALine) {
  namespace ml = genoforest::ml;
  // Points 0, 1, 2 | 10, 11 | 30: three clear groups for every linkage.
  const std::vector<double> p{0, 1, 2, 10, 11, 30};
  Eigen::MatrixXd d2(6, 6);
  for (int i = 0; i < 6; ++i)
    for (int j = 0; j < 6; ++j) d2(i, j) = (p[i] - p[j]) * (p[i] - p[j]);
  for (auto l : {ml::Linkage::kAverage, ml::Linkage::kComplete, ml::Linkage::kWard}) {
    EXPECT_EQ(ml::hierarchical(d2, l, 3), (std::vector<int>{0, 0, 0, 1, 1, 2}));
    EXPECT_EQ(ml::hierarchical(d2, l, 6), (std::vector<int>{0, 1, 2, 3, 4, 5}));
    EXPECT_EQ(ml::hierarchical(d2, l, 1), (std::vector<int>(6, 0)));
  }
  // Silhouette by hand: (b - a) / max(a, b) per point; the singleton 30 counts 0.
  const std::vector<int> lab{0, 0, 0, 1, 1, 2};
  const double want = ((10.5 - 1.5) / 10.5 + (9.5 - 1.0) / 9.5 + (8.5 - 1.5) / 8.5 + (9.0 - 1.0) / 9.0 + (10.0 - 1.0) / 10.0 + 0.0) / 6.0;
  EXPECT_NEAR(ml::silhouette(d2, lab), want, 1e-12);
}

TEST(Clustering, AdjustedRandIndexAndKmeansPlusPlus) {
  namespace ml = genoforest::ml;
  EXPECT_DOUBLE_EQ(ml::adjusted_rand_index({0, 0, 1, 1}, {1, 1, 0, 0}), 1.0);
  // Hand value: a = {0,0,0,1,1,1}, b = {0,0,1,1,2,2}: index 2, row pairs 6, column pairs 3,
  // expected 6 * 3 / 15 = 1.2, max 4.5.
  EXPECT_NEAR(ml::adjusted_rand_index({0, 0, 0, 1, 1, 1}, {0, 0, 1, 1, 2, 2}), (2.0 - 1.2) / (4.5 - 1.2), 1e-12);
  EXPECT_NEAR(ml::adjusted_rand_index({0, 1, 0, 1}, {0, 0, -1, 1}), ml::adjusted_rand_index({0, 1, 1}, {0, 0, 1}), 1e-12);
  genoforest::Rng rng(1);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(ml::kmeanspp_draw({0, 0, 5, 0}, rng), 2);
  EXPECT_EQ(ml::canonical_labels({5, 5, 2, 7, 2}), (std::vector<int>{0, 0, 1, 2, 1}));
  Eigen::MatrixXf x(4, 1);
  x << 0, 1, 10, 11;
  Eigen::MatrixXd c(2, 1);
  c << 0, 10;
  double inertia = 0;
  const auto a = ml::nearest(ml::slab_sq_distances(x, c), inertia);
  EXPECT_EQ(a, (std::vector<int>{0, 0, 1, 1}));
  EXPECT_DOUBLE_EQ(inertia, 2.0);
  const auto cent = ml::slab_centroids(x, a, 2, c);
  EXPECT_DOUBLE_EQ(cent(0, 0), 0.5);
  EXPECT_DOUBLE_EQ(cent(1, 0), 10.5);
}

// ---- linear SVM ---------------------------------------------------------------------------------
#include "genoforest/ml/svm.hpp"

TEST(LinearSvm, HardMarginOnALineAndMissingValuesTakeTheFill) {
  namespace ml = genoforest::ml;
  // One feature, x in {0, 0, 2, 2} (classes -, -, +, +), bias feature 1, C large: minimise
  // (w^2 + b^2) / 2 subject to y (w x + b) >= 1, so b = -1 (x = 0 side) and 2w + b = 1: w = 1.
  ml::DenseRows x;
  x.n = 4;
  x.p = 1;
  x.g = {0, 0, 2, 2};
  x.compute_fill();
  x.index();
  EXPECT_FLOAT_EQ(x.fill[0], 1.0f);
  ml::SvmParams p;
  p.c = 1e6;
  p.tol = 1e-9;
  p.max_iter = 100000;
  const auto fit = ml::train_binary_svm(x, {0, 1, 2, 3}, {false, false, true, true}, {1, 1, 1, 1}, p);
  ASSERT_TRUE(fit.converged);
  EXPECT_NEAR(fit.w[0], 1.0, 1e-6);
  EXPECT_NEAR(fit.w[1], -1.0, 1e-6);
  // A missing value counts as the fill (1): decision 1 * 1 - 1 = 0.
  x.g[0] = -1;
  x.index();
  EXPECT_NEAR(x.dot(0, fit.w), 0.0, 1e-6);
  EXPECT_NEAR(x.sq_norm(3), 5.0, 1e-12);  // 2^2 + bias 1
  // Probabilities: the logistic of the margin for two classes, softmax for one-vs-rest.
  const auto pr = ml::svm_probabilities({0.0, 2.0}, 2, 1, 2);
  EXPECT_DOUBLE_EQ(pr[0], 0.5);
  EXPECT_NEAR(pr[3], 1.0 / (1.0 + std::exp(-2.0)), 1e-12);
  const auto pm = ml::svm_probabilities({1.0, 1.0, 1.0}, 1, 3, 3);
  EXPECT_NEAR(pm[1], 1.0 / 3.0, 1e-12);
}

// ---- collectives and the variant-sharded forest ------------------------------------------------

#include <thread>

#include "genoforest/ml/collectives.hpp"
#include "threads.hpp"

namespace {
void expect_same(const ml::TreeResult& a, const ml::TreeResult& b) {
  ASSERT_EQ(a.tree.nodes.size(), b.tree.nodes.size());
  for (std::size_t k = 0; k < a.tree.nodes.size(); ++k) {
    EXPECT_EQ(a.tree.nodes[k].feature, b.tree.nodes[k].feature) << k;
    EXPECT_EQ(a.tree.nodes[k].left, b.tree.nodes[k].left) << k;
    EXPECT_EQ(a.tree.nodes[k].right, b.tree.nodes[k].right) << k;
    EXPECT_EQ(a.tree.nodes[k].threshold, b.tree.nodes[k].threshold) << k;
    EXPECT_EQ(a.tree.nodes[k].missing_left, b.tree.nodes[k].missing_left) << k;
  }
  EXPECT_EQ(a.tree.leaf_values, b.tree.leaf_values);
  EXPECT_EQ(a.oob_rows, b.oob_rows);
  EXPECT_EQ(a.oob_values, b.oob_values);
  EXPECT_EQ(a.impurity_features, b.impurity_features);
  EXPECT_EQ(a.impurity_values, b.impurity_values);  // bit for bit
  EXPECT_EQ(a.perm_features, b.perm_features);
  EXPECT_EQ(a.perm_values, b.perm_values);
}
}  // namespace

TEST(Collectives, ThreadGroupGathersSumsAndBroadcasts) {
  const auto out = on_threads(3, [](ml::Collectives& c) {
    std::vector<std::uint8_t> mine(static_cast<std::size_t>(c.rank()), static_cast<std::uint8_t>(10 + c.rank()));
    auto all = c.all_gather(mine);
    std::vector<std::int64_t> v{c.rank() + 1, 100LL * c.rank()};
    c.all_sum(v);
    std::vector<std::uint8_t> b;
    if (c.rank() == 2) b = {7, 8, 9};
    c.broadcast(b, 2);
    return std::make_tuple(all, v, b, c.bytes_moved());
  });
  for (int r = 0; r < 3; ++r) {
    const auto& [all, v, b, moved] = out[static_cast<std::size_t>(r)];
    ASSERT_EQ(all.size(), 3u);
    EXPECT_TRUE(all[0].empty());
    EXPECT_EQ(all[1], std::vector<std::uint8_t>({11}));
    EXPECT_EQ(all[2], std::vector<std::uint8_t>({12, 12}));
    EXPECT_EQ(v, std::vector<std::int64_t>({6, 300}));
    EXPECT_EQ(b, std::vector<std::uint8_t>({7, 8, 9}));
    EXPECT_GT(moved, 0u);
  }
  ml::SoloCollectives solo;
  EXPECT_EQ(solo.all_gather(std::vector<std::uint8_t>{1, 2}).front(), std::vector<std::uint8_t>({1, 2}));
}

TEST(Collectives, AllReduceKeepsEachRecordsBestForAnyRankCount) {
  // Records (score, owner): the highest score, the lowest owner on ties; each rank's records vary
  // so that every rank wins some, and ties cross ranks.
  const ml::Collectives::Keep keep = [](const std::uint8_t* a, std::uint8_t* b) {
    if (a[0] > b[0] || (a[0] == b[0] && a[1] < b[1])) std::memcpy(b, a, 2);
  };
  for (int n = 1; n <= 5; ++n) {
    const auto out = on_threads(n, [&](ml::Collectives& c) {
      std::vector<std::uint8_t> v;
      for (int i = 0; i < 7; ++i) {
        v.push_back(static_cast<std::uint8_t>((i * 3 + c.rank() * 5) % 4));
        v.push_back(static_cast<std::uint8_t>(c.rank()));
      }
      c.all_reduce(v, 2, keep);
      return v;
    });
    std::vector<std::uint8_t> want;
    for (int i = 0; i < 7; ++i) {
      int best = -1, who = 0;
      for (int r = 0; r < n; ++r) {
        const int s = (i * 3 + r * 5) % 4;
        if (s > best) best = s, who = r;
      }
      want.push_back(static_cast<std::uint8_t>(best));
      want.push_back(static_cast<std::uint8_t>(who));
    }
    for (int r = 0; r < n; ++r) EXPECT_EQ(out[static_cast<std::size_t>(r)], want) << n << " ranks, rank " << r;
  }
}

TEST(Sharding, BalancedBlocksAndOwners) {
  const std::vector<std::size_t> bytes(10, 4);
  const auto b = ml::Sharding::balanced(bytes, 3);
  ASSERT_EQ(b.size(), 4u);
  EXPECT_EQ(b.front(), 0);
  EXPECT_EQ(b.back(), 10);
  for (std::size_t r = 0; r + 1 < b.size(); ++r) EXPECT_LE(b[r], b[r + 1]);
  for (std::size_t r = 0; r < 3; ++r) EXPECT_GE(b[r + 1] - b[r], 3);
  ml::SoloCollectives solo;
  ml::Sharding s{&solo, {0, 10}};
  EXPECT_EQ(s.owner(9), 0);
  EXPECT_TRUE(s.owns(0));
  const auto more = ml::Sharding::balanced(std::vector<std::size_t>(2, 1), 4);  // more ranks than columns
  EXPECT_EQ(more, std::vector<std::int64_t>({0, 1, 1, 2, 2}));
}

TEST(Forest, ShardedTreesAreTheSingleCopyTreesForAnyRankCountAndSharding) {
  // Each rank holds only its block of columns (the others are filled with noise, so that a read
  // of a column it does not hold would change the trees): the trees, out-of-bag values and both
  // importances are bit for bit those of the whole matrix, on every rank. Two classes on
  // genotypes (the fast path), three classes, a quantitative label, class weights, statistics
  // columns, no bootstrap and a depth limit.
  constexpr std::int64_t n = 240, p = 30;
  auto t = make_toy(n, p, 21, [](auto& g, std::size_t i, auto& rng) {
    return (g[4][i] + g[22][i] >= 2) ^ rng.chance(0.1) ? 1 : 0;
  }, 0.04);
  gf::Rng rng(77);
  std::vector<std::uint8_t> stat(static_cast<std::size_t>(n));
  for (auto& v : stat) v = static_cast<std::uint8_t>(rng.below(9));  // 8 bins, 8 = missing
  struct Case {
    const char* name;
    bool extras;
    int classes;  // 0: quantitative
    bool balanced, replace;
    std::int64_t depth;
  };
  const Case cases[] = {{"binary genotypes", false, 2, false, true, 0},
                        {"three classes, statistic", true, 3, true, true, 0},
                        {"quantitative, no bootstrap", true, 0, false, false, 0},
                        {"binary, statistic, depth 3", true, 2, false, true, 3}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto make = [&](const std::vector<std::int64_t>* bounds, int rank) {
      ml::FeatureMatrix x(n);
      gf::Rng noise(static_cast<std::uint64_t>(1000 + rank));
      const std::int64_t cols = p + (c.extras ? 1 : 0);
      for (std::int64_t f = 0; f < cols; ++f) {
        const bool mine = !bounds || (f >= (*bounds)[static_cast<std::size_t>(rank)] && f < (*bounds)[static_cast<std::size_t>(rank) + 1]);
        if (f < p) {
          std::vector<std::int8_t> col = t.g[static_cast<std::size_t>(f)];
          if (!mine) for (auto& v : col) v = static_cast<std::int8_t>(noise.below(3));
          x.add_genotypes(col.data());
        } else {
          std::vector<std::uint8_t> col = stat;
          if (!mine) for (auto& v : col) v = static_cast<std::uint8_t>(noise.below(9));
          x.add_binned(col, 8);
        }
      }
      return x;
    };
    ml::Labels y;
    if (c.classes == 0) {
      y.task = ml::Task::kRegression;
      for (std::int64_t i = 0; i < n; ++i) y.value.push_back(t.g[4][static_cast<std::size_t>(i)] * 1.5 + stat[static_cast<std::size_t>(i)] * 0.25 + rng.uniform());
    } else {
      y.task = ml::Task::kClassification;
      y.n_classes = c.classes;
      for (std::int64_t i = 0; i < n; ++i) y.code.push_back(c.classes == 3 ? (t.g[9][static_cast<std::size_t>(i)] + 3) % 3 : t.y.code[static_cast<std::size_t>(i)]);
    }
    const std::int64_t cols = p + (c.extras ? 1 : 0);
    ml::ForestParams fp;
    fp.task = y.task;
    fp.mtry = 6;
    fp.balanced = c.balanced;
    fp.replace = c.replace;
    fp.max_depth = c.depth;
    fp.resolve(cols);
    ml::TreeOptions o;
    o.permutation_importance = true;
    std::vector<std::uint64_t> seeds;
    for (std::uint64_t s = 0; s < 6; ++s) seeds.push_back(gf::task_seed(3, 4, s));
    const auto whole = make(nullptr, 0);
    const auto want = ml::grow_trees(whole, y, t.rows, fp, seeds, o);
    ml::TreeOptions depth_first = o;
    depth_first.level_by_level = false;
    const auto want_df = ml::grow_trees(whole, y, t.rows, fp, seeds, depth_first);
    for (std::size_t i = 0; i < seeds.size(); ++i) expect_same(want[i], want_df[i]);
    for (const int ranks : {1, 2, 3, 4}) {
      std::vector<std::vector<std::int64_t>> shardings{ml::Sharding::balanced(std::vector<std::size_t>(static_cast<std::size_t>(cols), 1), ranks)};
      if (ranks == 3) shardings.push_back({0, 2, 2, cols});  // uneven, one rank holding nothing
      for (const auto& bounds : shardings) {
        SCOPED_TRACE(ranks);
        const auto got = on_threads(ranks, [&](ml::Collectives& comm) {
          const auto x = make(&bounds, comm.rank());
          ml::Sharding sh{&comm, bounds};
          return ml::grow_trees(x, y, t.rows, fp, seeds, o, &sh);
        });
        for (const auto& per_rank : got) {
          ASSERT_EQ(per_rank.size(), seeds.size());
          for (std::size_t i = 0; i < seeds.size(); ++i) expect_same(per_rank[i], want[i]);
        }
        // Predictions of the finished trees, routed the same way.
        std::vector<ml::Tree> trees;
        for (const auto& r : want) trees.push_back(r.tree);
        const auto local = ml::predict_rows(trees, whole, t.rows);
        const auto routed = on_threads(ranks, [&](ml::Collectives& comm) {
          const auto x = make(&bounds, comm.rank());
          ml::Sharding sh{&comm, bounds};
          return ml::predict_rows(trees, x, t.rows, &sh);
        });
        for (const auto& r : routed) EXPECT_EQ(r, local);
        EXPECT_EQ(local[0].size(), static_cast<std::size_t>(n * trees[0].width));
      }
    }
  }
}
