#include "genoforest/ml/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <span>

#include "genoforest/core/error.hpp"
#include "genoforest/core/rng.hpp"

namespace genoforest::ml {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double mean_defined(const std::vector<double>& v) {
  double s = 0;
  int n = 0;
  for (double x : v)
    if (!std::isnan(x)) {
      s += x;
      ++n;
    }
  return n ? s / n : kNaN;
}
}  // namespace

double auc_roc(const std::vector<double>& score, const std::vector<bool>& positive) {
  const std::size_t n = score.size();
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return score[a] < score[b]; });
  // Sum of the ranks of the positives, tied scores sharing their mean rank.
  double rank_sum = 0;
  std::int64_t n_pos = 0;
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i;
    while (j < n && score[order[j]] == score[order[i]]) ++j;
    const double mean_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;
    for (std::size_t m = i; m < j; ++m)
      if (positive[order[m]]) {
        rank_sum += mean_rank;
        ++n_pos;
      }
    i = j;
  }
  const auto n_neg = static_cast<std::int64_t>(n) - n_pos;
  if (n_pos == 0 || n_neg == 0) return kNaN;
  const double u = rank_sum - static_cast<double>(n_pos) * static_cast<double>(n_pos + 1) / 2.0;
  return u / (static_cast<double>(n_pos) * static_cast<double>(n_neg));
}

ClassMetrics classification_metrics(const std::vector<std::int32_t>& truth, const std::vector<double>& prob, int k) {
  const std::size_t n = truth.size();
  if (prob.size() != n * static_cast<std::size_t>(k)) throw InternalError("classification_metrics: sizes differ");
  ClassMetrics m;
  m.n = static_cast<std::int64_t>(n);
  m.confusion.assign(static_cast<std::size_t>(k), std::vector<std::int64_t>(static_cast<std::size_t>(k), 0));
  std::int64_t correct = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double* p = prob.data() + i * static_cast<std::size_t>(k);
    int best = 0;
    for (int c = 1; c < k; ++c)
      if (p[c] > p[best]) best = c;
    ++m.confusion[static_cast<std::size_t>(truth[i])][static_cast<std::size_t>(best)];
    correct += best == truth[i];
  }
  m.accuracy = n ? static_cast<double>(correct) / static_cast<double>(n) : kNaN;
  for (int c = 0; c < k; ++c) {
    std::int64_t tp = m.confusion[static_cast<std::size_t>(c)][static_cast<std::size_t>(c)], pred = 0, actual = 0;
    for (int o = 0; o < k; ++o) {
      pred += m.confusion[static_cast<std::size_t>(o)][static_cast<std::size_t>(c)];
      actual += m.confusion[static_cast<std::size_t>(c)][static_cast<std::size_t>(o)];
    }
    // As scikit-learn with zero_division=0: a class that occurs (in the truth or the
    // predictions) but is never predicted has precision 0, one never true has recall 0, and both
    // count in the macro means; a class that occurs in neither is left out (NaN).
    const bool present = actual > 0 || pred > 0;
    const double pr = pred ? static_cast<double>(tp) / static_cast<double>(pred) : (present ? 0.0 : kNaN);
    const double re = actual ? static_cast<double>(tp) / static_cast<double>(actual) : (present ? 0.0 : kNaN);
    const double f1 = present ? (pr + re > 0 ? 2 * pr * re / (pr + re) : 0.0) : kNaN;
    m.precision.push_back(pr);
    m.recall.push_back(re);
    m.f1.push_back(f1);
  }
  m.macro_precision = mean_defined(m.precision);
  m.macro_recall = mean_defined(m.recall);
  m.macro_f1 = mean_defined(m.f1);
  if (k == 2) {
    std::vector<double> s(n);
    std::vector<bool> pos(n);
    for (std::size_t i = 0; i < n; ++i) {
      s[i] = prob[i * 2 + 1];
      pos[i] = truth[i] == 1;
    }
    m.auc = auc_roc(s, pos);
  } else {
    std::vector<double> aucs;
    for (int c = 0; c < k; ++c) {
      std::vector<double> s(n);
      std::vector<bool> pos(n);
      for (std::size_t i = 0; i < n; ++i) {
        s[i] = prob[i * static_cast<std::size_t>(k) + static_cast<std::size_t>(c)];
        pos[i] = truth[i] == c;
      }
      aucs.push_back(auc_roc(s, pos));
    }
    m.auc = mean_defined(aucs);
  }
  return m;
}

RegressionMetrics regression_metrics(const std::vector<double>& truth, const std::vector<double>& pred) {
  RegressionMetrics m;
  m.n = static_cast<std::int64_t>(truth.size());
  if (truth.empty()) return {0, kNaN, kNaN};
  double mean = 0;
  for (double t : truth) mean += t;
  mean /= static_cast<double>(truth.size());
  double sse = 0, sst = 0;
  for (std::size_t i = 0; i < truth.size(); ++i) {
    sse += (truth[i] - pred[i]) * (truth[i] - pred[i]);
    sst += (truth[i] - mean) * (truth[i] - mean);
  }
  m.rmse = std::sqrt(sse / static_cast<double>(truth.size()));
  m.r2 = sst > 0 ? 1 - sse / sst : kNaN;
  return m;
}

std::vector<std::int32_t> assign_folds(const std::vector<std::int32_t>& classes, std::int64_t n, int k, std::uint64_t seed,
                                       const std::vector<std::string>& class_names) {
  if (k < 2) throw UsageError("--folds must be at least 2");
  if (k > n) {
    throw UsageError("--folds " + std::to_string(k) + " is larger than the number of labelled samples (" + std::to_string(n) + ")");
  }
  std::vector<std::int32_t> fold(static_cast<std::size_t>(n), 0);
  Rng rng(seed);
  if (classes.empty()) {
    std::vector<std::int64_t> order(static_cast<std::size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    rng.shuffle(std::span<std::int64_t>(order));
    for (std::size_t i = 0; i < order.size(); ++i) fold[static_cast<std::size_t>(order[i])] = static_cast<std::int32_t>(i % static_cast<std::size_t>(k));
    return fold;
  }
  const int n_classes = classes.empty() ? 0 : *std::max_element(classes.begin(), classes.end()) + 1;
  std::vector<std::vector<std::int64_t>> members(static_cast<std::size_t>(std::max(n_classes, static_cast<int>(class_names.size()))));
  for (std::int64_t i = 0; i < n; ++i) members[static_cast<std::size_t>(classes[static_cast<std::size_t>(i)])].push_back(i);
  for (std::size_t c = 0; c < members.size(); ++c) {
    const auto size = static_cast<std::int64_t>(members[c].size());
    if (size > 0 && size < k) {
      const std::string name = c < class_names.size() ? class_names[c] : std::to_string(c);
      throw DataError("--folds " + std::to_string(k) + " is larger than class '" + name + "', which has only " +
                      std::to_string(size) + " labelled sample" + (size == 1 ? "" : "s") + ": use at most " +
                      std::to_string(std::max<std::int64_t>(size, 2)) + " folds");
    }
  }
  std::size_t next = 0;
  for (auto& m : members) {
    rng.shuffle(std::span<std::int64_t>(m));
    for (const auto i : m) fold[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(next++ % static_cast<std::size_t>(k));
  }
  return fold;
}

}  // namespace genoforest::ml
