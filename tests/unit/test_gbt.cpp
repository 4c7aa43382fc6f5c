// Gradient-boosted trees: the same model for any rank count (ranks as threads), the first split
// against a brute-force search written here, interactions, missing calls, early stopping, the
// permutation importance and the exact sums.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <thread>

#include "genoforest/core/error.hpp"
#include "genoforest/core/rng.hpp"
#include "genoforest/ml/collectives.hpp"
#include "genoforest/ml/gbt.hpp"
#include "threads.hpp"

namespace ml = genoforest::ml;
using genoforest::Rng;

namespace {

/// n samples x p genotype columns (about 5% missing) and labels from `label(genotypes of row)`.
struct Data {
  ml::FeatureMatrix x;
  ml::Labels y;
  std::vector<std::vector<std::int8_t>> g;  // per column
};

template <class L>
Data make_data(int n, int p, std::uint64_t seed, L&& label, int classes = 2) {
  Data d{ml::FeatureMatrix(n), {}, {}};
  Rng rng(seed);
  d.g.assign(static_cast<std::size_t>(p), std::vector<std::int8_t>(static_cast<std::size_t>(n)));
  for (int f = 0; f < p; ++f) {
    const double af = 0.1 + 0.4 * rng.uniform();
    for (int i = 0; i < n; ++i) {
      const int dose = (rng.uniform() < af) + (rng.uniform() < af);
      d.g[static_cast<std::size_t>(f)][static_cast<std::size_t>(i)] = rng.uniform() < 0.05 ? -1 : static_cast<std::int8_t>(dose);
    }
    d.x.add_genotypes(d.g[static_cast<std::size_t>(f)].data());
  }
  d.y.task = classes > 0 ? ml::Task::kClassification : ml::Task::kRegression;
  d.y.n_classes = classes;
  for (int i = 0; i < n; ++i) {
    std::vector<int> row(static_cast<std::size_t>(p));
    for (int f = 0; f < p; ++f) row[static_cast<std::size_t>(f)] = d.g[static_cast<std::size_t>(f)][static_cast<std::size_t>(i)];
    const double v = label(row, rng);
    if (classes > 0) d.y.code.push_back(static_cast<std::int32_t>(v));
    else d.y.value.push_back(v);
  }
  return d;
}

std::vector<std::int64_t> all_rows(const Data& d) {
  std::vector<std::int64_t> r(static_cast<std::size_t>(d.x.rows()));
  for (std::size_t i = 0; i < r.size(); ++i) r[i] = static_cast<std::int64_t>(i);
  return r;
}

void expect_same(const ml::GbtModel& a, const ml::GbtModel& b) {
  EXPECT_EQ(a.base_margin, b.base_margin);
  EXPECT_EQ(a.best_rounds, b.best_rounds);
  EXPECT_EQ(a.validation_loss, b.validation_loss);
  ASSERT_EQ(a.trees.size(), b.trees.size());
  for (std::size_t t = 0; t < a.trees.size(); ++t) {
    ASSERT_EQ(a.trees[t].nodes.size(), b.trees[t].nodes.size()) << "tree " << t;
    for (std::size_t k = 0; k < a.trees[t].nodes.size(); ++k) {
      const auto &x = a.trees[t].nodes[k], &y = b.trees[t].nodes[k];
      EXPECT_EQ(x.feature, y.feature);
      EXPECT_EQ(x.threshold, y.threshold);
      EXPECT_EQ(x.default_left, y.default_left);
      EXPECT_EQ(x.left, y.left);
      EXPECT_EQ(x.value, y.value) << "tree " << t << " node " << k << ": bit for bit";
      EXPECT_EQ(x.cover, y.cover);
    }
  }
}

}  // namespace

TEST(Gbt, TheModelIsTheSameForAnyRankCount) {
  for (int classes : {2, 3, 0}) {
    const Data d = make_data(203, 40, 7, [&](const std::vector<int>& r, Rng& rng) {
      const double s = (r[3] > 0) + (r[11] == 2) + 0.5 * rng.normal();
      return classes == 0 ? s : classes == 2 ? (s > 0.8 ? 1.0 : 0.0) : static_cast<double>(std::clamp(static_cast<int>(s + 0.5), 0, 2));
    }, classes);
    ml::GbtParams p;
    p.rounds = 12;
    p.max_depth = 4;
    p.eta = 0.3;
    p.subsample = 0.8;
    p.colsample = 0.7;
    p.early_stopping = 3;
    p.balanced = classes > 0;
    const auto rows = all_rows(d);
    ml::GbtResult one;
    {
      ml::SoloCollectives solo;
      one = ml::train_gbt(d.x, d.y, rows, p, solo);
    }
    EXPECT_EQ(one.model.groups, classes == 3 ? 3 : 1);
    for (int n : {2, 3, 4}) {
      const auto res = on_threads(n, [&](ml::Collectives& c) { return ml::train_gbt(d.x, d.y, rows, p, c); });
      for (const auto& r : res) {
        expect_same(one.model, r.model);
        EXPECT_EQ(one.gain, r.gain);
      }
      const auto imp = on_threads(n, [&](ml::Collectives& c) { return ml::gbt_permutation_importance(one.model, d.x, d.y, rows, 5, c); });
      ml::SoloCollectives solo;
      const auto imp1 = ml::gbt_permutation_importance(one.model, d.x, d.y, rows, 5, solo);
      for (const auto& v : imp) EXPECT_EQ(v, imp1) << n << " ranks, " << classes << " classes";
    }
  }
}

TEST(Gbt, TheFirstSplitIsTheBestOfABruteForceSearch) {
  const Data d = make_data(300, 12, 3, [](const std::vector<int>& r, Rng& rng) { return (r[5] + r[8] + rng.normal() > 1.2) ? 1.0 : 0.0; });
  ml::GbtParams p;
  p.rounds = 1;
  p.max_depth = 1;
  p.eta = 1;
  p.lambda = 2;
  p.min_child_weight = 0;
  ml::SoloCollectives solo;
  const auto res = ml::train_gbt(d.x, d.y, all_rows(d), p, solo);
  // The oracle: gradients at the base margin, every (feature, threshold, missing side) in doubles.
  double pos = 0;
  for (auto c : d.y.code) pos += c;
  const double q = pos / static_cast<double>(d.y.code.size());
  EXPECT_NEAR(res.model.base_margin[0], std::log(q / (1 - q)), 1e-12);
  const double gp = q - 1, gn = q, h = q * (1 - q);
  auto score = [&](double G, double H) { return G * G / (H + p.lambda); };
  double G = 0, H = 0;
  for (auto c : d.y.code) {
    G += c ? gp : gn;
    H += h;
  }
  double best = -1;
  int bf = -1, bt = -1;
  bool bl = false;
  for (int f = 0; f < 12; ++f) {
    for (int t = 0; t < 2; ++t) {
      for (int left = 0; left < 2; ++left) {
        double gl = 0, hl = 0;
        int nl = 0;
        for (std::size_t i = 0; i < d.y.code.size(); ++i) {
          const int v = d.g[static_cast<std::size_t>(f)][i];
          if (v < 0 ? left == 1 : v <= t) {
            gl += d.y.code[i] ? gp : gn;
            hl += h;
            ++nl;
          }
        }
        if (nl == 0 || nl == static_cast<int>(d.y.code.size())) continue;
        const double gain = score(gl, hl) + score(G - gl, H - hl) - score(G, H);
        if (gain > best + 1e-9) {
          best = gain;
          bf = f;
          bt = t;
          bl = left == 1;
        }
      }
    }
  }
  const auto& root = res.model.trees.at(0).nodes.at(0);
  EXPECT_EQ(root.feature, bf);
  EXPECT_EQ(root.threshold, bt);
  EXPECT_EQ(root.default_left != 0, bl);
  EXPECT_NEAR(root.value, best, 1e-6 * best) << "the node keeps its loss change (gain)";
  // Leaves: -G/(H + lambda) of their rows (eta 1).
  double gl = 0, hl = 0;
  for (std::size_t i = 0; i < d.y.code.size(); ++i) {
    const int v = d.g[static_cast<std::size_t>(bf)][i];
    if (v < 0 ? bl : v <= bt) {
      gl += d.y.code[i] ? gp : gn;
      hl += h;
    }
  }
  EXPECT_NEAR(res.model.trees[0].nodes[static_cast<std::size_t>(root.left)].value, -gl / (hl + p.lambda), 1e-9);
  EXPECT_NEAR(res.model.trees[0].nodes[static_cast<std::size_t>(root.right)].value, -(G - gl) / (H - hl + p.lambda), 1e-9);
}

TEST(Gbt, LearnsAnInteractionOfTwoVariants) {
  // Case when exactly one of two variants is carried: no single variant tells anything.
  const Data d = make_data(400, 20, 11, [](const std::vector<int>& r, Rng&) { return ((r[2] > 0) != (r[9] > 0)) ? 1.0 : 0.0; });
  ml::GbtParams p;
  p.rounds = 30;
  p.max_depth = 3;
  ml::SoloCollectives solo;
  const auto res = ml::train_gbt(d.x, d.y, all_rows(d), p, solo);
  int right = 0, n = 0;
  for (std::int64_t r = 0; r < d.x.rows(); ++r) {
    if (d.g[2][static_cast<std::size_t>(r)] < 0 || d.g[9][static_cast<std::size_t>(r)] < 0) continue;
    double prob[2];
    ml::gbt_predict(res.model, d.x, r, prob);
    right += (prob[1] > 0.5) == (d.y.code[static_cast<std::size_t>(r)] == 1);
    ++n;
  }
  EXPECT_GT(static_cast<double>(right) / n, 0.97);
  std::vector<std::size_t> order(res.gain.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](auto a, auto b) { return res.gain[a] > res.gain[b]; });
  EXPECT_EQ(std::min(order[0], order[1]), 2u);
  EXPECT_EQ(std::max(order[0], order[1]), 9u);
}

TEST(Gbt, MissingCallsGoWhereTheyHelp) {
  // A missing call of variant 0 marks a case; its called values say nothing.
  Data d = make_data(300, 5, 13, [](const std::vector<int>& r, Rng& rng) { return r[0] < 0 ? 1.0 : (rng.uniform() < 0.2 ? 1.0 : 0.0); });
  ml::GbtParams p;
  p.rounds = 30;
  p.max_depth = 2;  // {0, 1} | {2, missing}, then {missing} | {2}: missing calls on their own
  ml::SoloCollectives solo;
  const auto res = ml::train_gbt(d.x, d.y, all_rows(d), p, solo);
  const auto& root = res.model.trees[0].nodes[0];
  ASSERT_EQ(root.feature, 0);
  double missing = 0, called = 0;
  int n_missing = 0;
  for (std::int64_t r = 0; r < d.x.rows(); ++r) {
    double prob[2];
    ml::gbt_predict(res.model, d.x, r, prob);
    if (d.g[0][static_cast<std::size_t>(r)] < 0) {
      missing += prob[1];
      ++n_missing;
    } else {
      called += prob[1];
    }
  }
  ASSERT_GT(n_missing, 5);
  EXPECT_GT(missing / n_missing, 0.8) << "every missing call is a case";
  EXPECT_LT(called / (300 - n_missing), 0.35) << "a fifth of the others are";
}

TEST(Gbt, EarlyStoppingKeepsTheBestRound) {
  const Data d = make_data(300, 30, 17, [](const std::vector<int>&, Rng& rng) { return rng.uniform() < 0.5 ? 1.0 : 0.0; });  // noise
  ml::GbtParams p;
  p.rounds = 200;
  p.eta = 0.5;
  p.early_stopping = 5;
  p.validation_fraction = 0.25;
  ml::SoloCollectives solo;
  const auto res = ml::train_gbt(d.x, d.y, all_rows(d), p, solo);
  const auto& m = res.model;
  ASSERT_LT(m.validation_loss.size(), 200u) << "noise: the validation loss stops falling";
  EXPECT_EQ(static_cast<int>(m.validation_loss.size()), m.best_rounds + p.early_stopping);
  EXPECT_EQ(m.trees.size(), static_cast<std::size_t>(m.best_rounds));
  const double best = *std::min_element(m.validation_loss.begin(), m.validation_loss.end());
  EXPECT_EQ(m.validation_loss[static_cast<std::size_t>(m.best_rounds - 1)], best);
  EXPECT_EQ(res.validation_rows.size(), 75u);
}

TEST(Gbt, PermutationImportanceFindsTheCausalVariantAndIgnoresUnused) {
  const Data d = make_data(400, 15, 19, [](const std::vector<int>& r, Rng& rng) { return (2 * r[4] + rng.normal() > 1.5) ? 1.0 : 0.0; });
  ml::GbtParams p;
  p.rounds = 20;
  p.max_depth = 2;
  ml::SoloCollectives solo;
  const auto rows = all_rows(d);
  const auto res = ml::train_gbt(d.x, d.y, rows, p, solo);
  const auto imp = ml::gbt_permutation_importance(res.model, d.x, d.y, rows, 3, solo);
  EXPECT_EQ(std::max_element(imp.begin(), imp.end()) - imp.begin(), 4);
  EXPECT_GT(imp[4], 0.1);
  for (std::size_t f = 0; f < imp.size(); ++f) {
    if (res.gain[f] == 0) {
      EXPECT_EQ(imp[f], 0.0) << "feature " << f << " is in no split";
    }
  }
}

TEST(Gbt, RegressionFitsTheMeanFirst) {
  const Data d = make_data(250, 10, 23, [](const std::vector<int>& r, Rng& rng) { return 3.0 * r[1] + 10 + 0.1 * rng.normal(); }, 0);
  ml::GbtParams p;
  p.rounds = 50;
  p.max_depth = 2;
  ml::SoloCollectives solo;
  const auto res = ml::train_gbt(d.x, d.y, all_rows(d), p, solo);
  double mean = 0;
  for (double v : d.y.value) mean += v;
  EXPECT_NEAR(res.model.base_margin[0], mean / 250, 1e-9);
  EXPECT_EQ(res.model.objective, "reg:squarederror");
  double sse = 0;
  for (std::int64_t r = 0; r < d.x.rows(); ++r) {
    if (d.g[1][static_cast<std::size_t>(r)] < 0) continue;
    double v;
    ml::gbt_predict(res.model, d.x, r, &v);
    sse += (v - d.y.value[static_cast<std::size_t>(r)]) * (v - d.y.value[static_cast<std::size_t>(r)]);
  }
  EXPECT_LT(sse / 250, 0.05);
}

TEST(Gbt, RefusesOneClassAndTooFewRowsToHoldOut) {
  const Data d = make_data(20, 4, 29, [](const std::vector<int>&, Rng&) { return 1.0; });
  ml::GbtParams p;
  ml::SoloCollectives solo;
  EXPECT_THROW((void)ml::train_gbt(d.x, d.y, all_rows(d), p, solo), genoforest::DataError);
  p.eta = 0;
  EXPECT_THROW((void)ml::train_gbt(d.x, d.y, all_rows(d), p, solo), genoforest::UsageError);
  // Four samples, two per class: a tenth of each class rounds to none held out.
  Data few = make_data(4, 3, 29, [](const std::vector<int>&, Rng&) { return 0.0; });
  few.y.code = {0, 1, 0, 1};
  ml::GbtParams q;
  q.early_stopping = 2;
  EXPECT_THROW((void)ml::train_gbt(few.x, few.y, all_rows(few), q, solo), genoforest::DataError);
}

TEST(Gbt, ExactGlobalSumIsTheSameForAnySplitOfTheTerms) {
  Rng rng(31);
  std::vector<double> terms(1001);
  for (auto& t : terms) t = rng.normal() * std::exp(6 * rng.normal());
  ml::SoloCollectives solo;
  const double one = ml::exact_global_sum(terms, 1001, solo)[0];
  double plain = 0;
  for (double t : terms) plain += t;
  EXPECT_NEAR(one, plain, 1e-9 * std::fabs(plain) + 1e-6);
  for (int n : {2, 3, 5}) {
    const auto sums = on_threads(n, [&](ml::Collectives& c) {
      const std::size_t b = terms.size() * static_cast<std::size_t>(c.rank()) / static_cast<std::size_t>(n);
      const std::size_t e = terms.size() * static_cast<std::size_t>(c.rank() + 1) / static_cast<std::size_t>(n);
      return ml::exact_global_sum(std::span<const double>(terms).subspan(b, e - b), 1001, c)[0];
    });
    for (double s : sums) EXPECT_EQ(s, one) << n << " ranks";
  }
}

// ---- TreeSHAP --------------------------------------------------------------------------------------

#include "genoforest/ml/shap.hpp"

namespace {

/// A random tree of `depth` levels over `p` features (features repeat along paths), covers that
/// add up, two outputs per leaf.
ml::ShapTree random_tree(int depth, int p, Rng& rng) {
  ml::ShapTree t;
  t.width = 2;
  std::function<std::int32_t(int, double)> make = [&](int d, double cover) -> std::int32_t {
    const auto n = static_cast<std::int32_t>(t.feature.size());
    t.feature.push_back(-1);
    t.left.push_back(0);
    t.right.push_back(0);
    t.threshold.push_back(static_cast<std::uint8_t>(rng.below(2)));
    t.missing_left.push_back(static_cast<std::uint8_t>(rng.below(2)));
    t.cover.push_back(cover);
    t.value.push_back(rng.normal());
    t.value.push_back(rng.normal());
    if (d < depth && (d < 2 || rng.uniform() < 0.8)) {
      t.feature[static_cast<std::size_t>(n)] = static_cast<std::int32_t>(rng.below(static_cast<std::uint64_t>(p)));
      const double share = 0.1 + 0.8 * rng.uniform();
      const auto l = make(d + 1, cover * share);
      const auto r = make(d + 1, cover * (1 - share));
      t.left[static_cast<std::size_t>(n)] = l;
      t.right[static_cast<std::size_t>(n)] = r;
    }
    return n;
  };
  make(0, 100.0);
  return t;
}

/// Shapley values of E[f | x_S] by enumerating every subset of the p features.
std::vector<double> brute_force_shapley(const ml::ShapTree& t, const ml::FeatureMatrix& x, std::int64_t r, int p) {
  std::vector<double> phi(static_cast<std::size_t>(p * t.width), 0.0);
  std::vector<double> fact(static_cast<std::size_t>(p + 1), 1.0);
  for (int i = 1; i <= p; ++i) fact[static_cast<std::size_t>(i)] = fact[static_cast<std::size_t>(i - 1)] * i;
  for (int i = 0; i < p; ++i) {
    for (std::uint32_t mask = 0; mask < (1u << p); ++mask) {
      if (mask & (1u << i)) continue;
      std::vector<char> s(static_cast<std::size_t>(p), 0);
      int size = 0;
      for (int j = 0; j < p; ++j)
        if (mask & (1u << j)) s[static_cast<std::size_t>(j)] = 1, ++size;
      const auto without = ml::conditional_expectation(t, x, r, s);
      s[static_cast<std::size_t>(i)] = 1;
      const auto with = ml::conditional_expectation(t, x, r, s);
      const double w = fact[static_cast<std::size_t>(size)] * fact[static_cast<std::size_t>(p - size - 1)] / fact[static_cast<std::size_t>(p)];
      for (int k = 0; k < t.width; ++k) phi[static_cast<std::size_t>(i * t.width + k)] += w * (with[static_cast<std::size_t>(k)] - without[static_cast<std::size_t>(k)]);
    }
  }
  return phi;
}

}  // namespace

TEST(TreeShap, EqualsTheBruteForceShapleyValuesOfRandomTrees) {
  Rng rng(41);
  const int p = 6;
  const Data d = make_data(40, p, 43, [](const std::vector<int>&, Rng&) { return 0.0; });
  int checked = 0;
  for (int tree = 0; tree < 30; ++tree) {
    const auto t = random_tree(2 + tree % 5, p, rng);
    for (std::int64_t r = 0; r < 40; r += 7) {
      std::vector<double> phi(static_cast<std::size_t>(p * 2), 0.0), bias(2, 0.0);
      ml::tree_shap(t, d.x, r, 1.0, phi.data(), bias.data());
      const auto oracle = brute_force_shapley(t, d.x, r, p);
      for (std::size_t i = 0; i < phi.size(); ++i) EXPECT_NEAR(phi[i], oracle[i], 1e-9) << "tree " << tree << " row " << r << " entry " << i;
      // Local accuracy: bias + sum of the values = the tree's output for the row.
      const auto full = ml::conditional_expectation(t, d.x, r, std::vector<char>(p, 1));
      const auto none = ml::conditional_expectation(t, d.x, r, std::vector<char>(p, 0));
      for (int k = 0; k < 2; ++k) {
        double s = bias[static_cast<std::size_t>(k)];
        for (int f = 0; f < p; ++f) s += phi[static_cast<std::size_t>(f * 2 + k)];
        EXPECT_NEAR(s, full[static_cast<std::size_t>(k)], 1e-9);
        EXPECT_NEAR(bias[static_cast<std::size_t>(k)], none[static_cast<std::size_t>(k)], 1e-12);
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, 180);
}

TEST(TreeShap, BoostedTreesAddUpToTheMargin) {
  const Data d = make_data(200, 8, 47, [](const std::vector<int>& r, Rng& rng) { return ((r[1] > 0) != (r[5] == 2)) + 0.3 * rng.normal() > 0.5 ? 1.0 : 0.0; });
  ml::GbtParams p;
  p.rounds = 15;
  p.max_depth = 3;
  ml::SoloCollectives solo;
  const auto res = ml::train_gbt(d.x, d.y, all_rows(d), p, solo);
  for (std::int64_t r = 0; r < 200; r += 13) {
    std::vector<double> phi(8, 0.0);
    double bias = res.model.base_margin[0];
    for (const auto& t : res.model.trees) ml::tree_shap(ml::shap_tree(t), d.x, r, 1.0, phi.data(), &bias);
    double margin;
    ml::gbt_margins(res.model, d.x, r, &margin);
    double s = bias;
    for (double v : phi) s += v;
    EXPECT_NEAR(s, margin, 1e-9) << "row " << r;
    for (int f : {0, 2, 3, 4, 6, 7}) {
      if (res.gain[static_cast<std::size_t>(f)] == 0) {
        EXPECT_EQ(phi[static_cast<std::size_t>(f)], 0.0) << "feature " << f << " is in no split";
      }
    }
  }
}

TEST(TreeShap, InteractionValuesAreTheShapleyInteractionIndex) {
  Rng rng(53);
  const int p = 5;
  const Data d = make_data(30, p, 59, [](const std::vector<int>&, Rng&) { return 0.0; });
  std::vector<double> fact(p + 1, 1.0);
  for (int i = 1; i <= p; ++i) fact[static_cast<std::size_t>(i)] = fact[static_cast<std::size_t>(i - 1)] * i;
  int checked = 0;
  for (int tree = 0; tree < 12; ++tree) {
    const auto t = random_tree(2 + tree % 4, p, rng);
    for (std::int64_t r = 0; r < 30; r += 11) {
      for (int j = 0; j < p; ++j) {
        std::vector<double> on(static_cast<std::size_t>(p * 2), 0.0), off(on.size(), 0.0);
        ml::tree_shap_conditioned(t, d.x, r, 1.0, j, true, on.data());
        ml::tree_shap_conditioned(t, d.x, r, 1.0, j, false, off.data());
        for (int i = 0; i < p; ++i) {
          if (i == j) continue;
          // The oracle: sum over S without i, j of |S|! (p-|S|-2)! / (2 (p-1)!) times the
          // second difference f(S+i+j) - f(S+i) - f(S+j) + f(S).
          std::vector<double> want(2, 0.0);
          for (std::uint32_t mask = 0; mask < (1u << p); ++mask) {
            if (mask & ((1u << i) | (1u << j))) continue;
            std::vector<char> s(static_cast<std::size_t>(p), 0);
            int size = 0;
            for (int q = 0; q < p; ++q)
              if (mask & (1u << q)) s[static_cast<std::size_t>(q)] = 1, ++size;
            auto e = [&](bool with_i, bool with_j) {
              auto c = s;
              c[static_cast<std::size_t>(i)] = with_i;
              c[static_cast<std::size_t>(j)] = with_j;
              return ml::conditional_expectation(t, d.x, r, c);
            };
            const auto ij = e(true, true), i_ = e(true, false), j_ = e(false, true), none = e(false, false);
            const double w = fact[static_cast<std::size_t>(size)] * fact[static_cast<std::size_t>(p - size - 2)] / (2 * fact[static_cast<std::size_t>(p - 1)]);
            for (int k = 0; k < 2; ++k) want[static_cast<std::size_t>(k)] += w * (ij[static_cast<std::size_t>(k)] - i_[static_cast<std::size_t>(k)] - j_[static_cast<std::size_t>(k)] + none[static_cast<std::size_t>(k)]);
          }
          for (int k = 0; k < 2; ++k) {
            const double got = (on[static_cast<std::size_t>(i * 2 + k)] - off[static_cast<std::size_t>(i * 2 + k)]) / 2;
            EXPECT_NEAR(got, want[static_cast<std::size_t>(k)], 1e-9) << "tree " << tree << " row " << r << " pair " << i << "," << j;
          }
          ++checked;
        }
      }
    }
  }
  EXPECT_EQ(checked, 12 * 3 * 20);
}
