#include "genoforest/ml/svm.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "genoforest/core/rng.hpp"

namespace genoforest::ml {

void DenseRows::compute_fill() {
  std::vector<std::int64_t> sum(static_cast<std::size_t>(p), 0), cnt(static_cast<std::size_t>(p), 0);
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int8_t* r = g.data() + i * p;
    for (std::int64_t j = 0; j < p; ++j)
      if (r[j] >= 0) {
        sum[static_cast<std::size_t>(j)] += r[j];
        ++cnt[static_cast<std::size_t>(j)];
      }
  }
  fill.resize(static_cast<std::size_t>(p));
  for (std::size_t j = 0; j < fill.size(); ++j)
    fill[j] = cnt[j] ? static_cast<float>(static_cast<double>(sum[j]) / static_cast<double>(cnt[j])) : 0.0f;
}

void DenseRows::index() {
  start_.assign(static_cast<std::size_t>(3 * n + 1), 0);
  col_.clear();
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int8_t* r = g.data() + i * p;
    for (int kind = 0; kind < 3; ++kind) {
      start_[static_cast<std::size_t>(3 * i + kind)] = static_cast<std::int64_t>(col_.size());
      for (std::int64_t j = 0; j < p; ++j) {
        const bool take = kind == 0 ? r[j] == 1 : kind == 1 ? r[j] >= 2 : r[j] < 0;
        if (take) col_.push_back(static_cast<std::uint32_t>(j));
      }
    }
  }
  start_.back() = static_cast<std::int64_t>(col_.size());
}

double DenseRows::dot(std::int64_t i, const std::vector<double>& w) const {
  const auto* s = start_.data() + 3 * i;
  double ones = 0, twos = 0, miss = 0;
  for (auto k = s[0]; k < s[1]; ++k) ones += w[col_[static_cast<std::size_t>(k)]];
  const std::int8_t* r = g.data() + i * p;
  for (auto k = s[1]; k < s[2]; ++k) {
    const auto j = col_[static_cast<std::size_t>(k)];
    twos += r[j] * w[j];
  }
  for (auto k = s[2]; k < s[3]; ++k) {
    const auto j = col_[static_cast<std::size_t>(k)];
    miss += fill[j] * w[j];
  }
  return ones + twos + miss + w[static_cast<std::size_t>(p)];
}

void DenseRows::axpy(std::int64_t i, double a, std::vector<double>& w) const {
  const auto* s = start_.data() + 3 * i;
  const std::int8_t* r = g.data() + i * p;
  for (auto k = s[0]; k < s[1]; ++k) w[col_[static_cast<std::size_t>(k)]] += a;
  for (auto k = s[1]; k < s[2]; ++k) {
    const auto j = col_[static_cast<std::size_t>(k)];
    w[j] += a * r[j];
  }
  for (auto k = s[2]; k < s[3]; ++k) {
    const auto j = col_[static_cast<std::size_t>(k)];
    w[j] += a * fill[j];
  }
  w[static_cast<std::size_t>(p)] += a;
}

double DenseRows::sq_norm(std::int64_t i) const {
  const auto* s = start_.data() + 3 * i;
  const std::int8_t* r = g.data() + i * p;
  double v = 1.0 + static_cast<double>(s[1] - s[0]);
  for (auto k = s[1]; k < s[2]; ++k) {
    const double x = r[col_[static_cast<std::size_t>(k)]];
    v += x * x;
  }
  for (auto k = s[2]; k < s[3]; ++k) {
    const double x = fill[col_[static_cast<std::size_t>(k)]];
    v += x * x;
  }
  return v;
}

SvmFit train_binary_svm(const DenseRows& x, const std::vector<std::int64_t>& rows, const std::vector<bool>& positive,
                        const std::vector<double>& weight, const SvmParams& prm) {
  const std::size_t l = rows.size();
  SvmFit fit;
  fit.w.assign(static_cast<std::size_t>(x.p + 1), 0.0);
  std::vector<double> alpha(l, 0.0), qd(l), upper(l);
  std::vector<std::size_t> index(l);
  for (std::size_t k = 0; k < l; ++k) {
    qd[k] = x.sq_norm(rows[k]);
    upper[k] = prm.c * weight[k];
    index[k] = k;
  }
  const double inf = std::numeric_limits<double>::infinity();
  double pg_max_old = inf, pg_min_old = -inf;
  std::size_t active = l;
  Rng rng(prm.seed);
  for (fit.iterations = 0; fit.iterations < prm.max_iter;) {
    double pg_max_new = -inf, pg_min_new = inf;
    for (std::size_t s = 0; s < active; ++s) std::swap(index[s], index[s + rng.below(active - s)]);
    for (std::size_t s = 0; s < active; ++s) {
      const std::size_t k = index[s];
      const double y = positive[k] ? 1.0 : -1.0;
      const double g = y * x.dot(rows[k], fit.w) - 1.0;
      double pg = 0.0;
      if (alpha[k] == 0.0) {
        if (g > pg_max_old) {  // shrink: stays at the lower bound
          std::swap(index[s], index[--active]);
          --s;
          continue;
        }
        if (g < 0.0) pg = g;
      } else if (alpha[k] == upper[k]) {
        if (g < pg_min_old) {  // shrink: stays at the upper bound
          std::swap(index[s], index[--active]);
          --s;
          continue;
        }
        if (g > 0.0) pg = g;
      } else {
        pg = g;
      }
      pg_max_new = std::max(pg_max_new, pg);
      pg_min_new = std::min(pg_min_new, pg);
      if (std::fabs(pg) > 1e-12) {
        const double old = alpha[k];
        alpha[k] = std::min(std::max(alpha[k] - g / qd[k], 0.0), upper[k]);
        x.axpy(rows[k], (alpha[k] - old) * y, fit.w);
      }
    }
    ++fit.iterations;
    if (pg_max_new - pg_min_new <= prm.tol) {
      if (active == l) {
        fit.converged = true;
        break;
      }
      active = l;  // check the shrunk variables once more
      pg_max_old = inf;
      pg_min_old = -inf;
      continue;
    }
    pg_max_old = pg_max_new <= 0 ? inf : pg_max_new;
    pg_min_old = pg_min_new >= 0 ? -inf : pg_min_new;
  }
  return fit;
}

DenseRows dense_rows(const FeatureMatrix& x) {
  DenseRows d;
  d.n = x.rows();
  d.p = x.cols();
  d.g.resize(static_cast<std::size_t>(d.n * d.p));
  for (std::int64_t c = 0; c < d.p; ++c) {
    const int missing = x.packed(c) ? 3 : x.bins(c);
    for (std::int64_t r = 0; r < d.n; ++r) {
      const int v = x.code(c, r);
      d.g[static_cast<std::size_t>(r * d.p + c)] = static_cast<std::int8_t>(v == missing ? -1 : std::min(v, 127));
    }
  }
  d.index();
  return d;
}

std::vector<double> svm_probabilities(const std::vector<double>& decision, std::int64_t n, int problems, int k) {
  std::vector<double> prob(static_cast<std::size_t>(n * k));
  for (std::int64_t i = 0; i < n; ++i) {
    double* out = prob.data() + i * k;
    const double* f = decision.data() + i * problems;
    if (problems == 1) {
      out[1] = 1.0 / (1.0 + std::exp(-f[0]));
      out[0] = 1.0 - out[1];
      continue;
    }
    const double m = *std::max_element(f, f + problems);
    double z = 0;
    for (int c = 0; c < k; ++c) z += out[c] = std::exp(f[c] - m);
    for (int c = 0; c < k; ++c) out[c] /= z;
  }
  return prob;
}

}  // namespace genoforest::ml
