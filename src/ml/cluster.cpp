#include "genoforest/ml/cluster.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>

#include "genoforest/core/error.hpp"

namespace genoforest::ml {

void add_pairwise_sq_distances(const Eigen::MatrixXf& x, ExactSum& acc) {
  const Eigen::MatrixXf g = x * x.transpose();
  const Eigen::Index n = x.rows();
  std::size_t at = 0;
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = i + 1; j < n; ++j) acc.add(at++, static_cast<double>(g(i, i)) + g(j, j) - 2.0 * g(i, j));
}

Eigen::MatrixXd pairs_to_matrix(const ExactSum& acc, Eigen::Index n) {
  Eigen::MatrixXd out = Eigen::MatrixXd::Zero(n, n);
  std::size_t at = 0;
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = i + 1; j < n; ++j) out(i, j) = out(j, i) = std::max(0.0, acc.value(at++));
  return out;
}

Eigen::MatrixXd slab_sq_distances(const Eigen::MatrixXf& x, const Eigen::MatrixXd& centres) {
  const Eigen::MatrixXd xd = x.cast<double>();
  Eigen::MatrixXd d(x.rows(), centres.rows());
  for (Eigen::Index c = 0; c < centres.rows(); ++c) d.col(c) = (xd.rowwise() - centres.row(c)).rowwise().squaredNorm();
  return d;
}

std::vector<int> nearest(const Eigen::MatrixXd& d2, double& inertia) {
  std::vector<int> out(static_cast<std::size_t>(d2.rows()));
  inertia = 0;
  for (Eigen::Index i = 0; i < d2.rows(); ++i) {
    Eigen::Index best = 0;
    for (Eigen::Index c = 1; c < d2.cols(); ++c)
      if (d2(i, c) < d2(i, best)) best = c;
    out[static_cast<std::size_t>(i)] = static_cast<int>(best);
    inertia += d2(i, best);
  }
  return out;
}

Eigen::MatrixXd slab_centroids(const Eigen::MatrixXf& x, const std::vector<int>& cluster, int k,
                               const Eigen::MatrixXd& previous) {
  Eigen::MatrixXd sum = Eigen::MatrixXd::Zero(k, x.cols());
  std::vector<std::int64_t> count(static_cast<std::size_t>(k), 0);
  for (Eigen::Index i = 0; i < x.rows(); ++i) {
    const int c = cluster[static_cast<std::size_t>(i)];
    sum.row(c) += x.row(i).cast<double>();
    ++count[static_cast<std::size_t>(c)];
  }
  for (int c = 0; c < k; ++c) {
    if (count[static_cast<std::size_t>(c)] == 0) {
      sum.row(c) = previous.row(c);
    } else {
      sum.row(c) /= static_cast<double>(count[static_cast<std::size_t>(c)]);
    }
  }
  return sum;
}

std::int64_t kmeanspp_draw(const std::vector<double>& d2, Rng& rng) {
  const double total = std::accumulate(d2.begin(), d2.end(), 0.0);
  if (!(total > 0.0)) return static_cast<std::int64_t>(rng.below(d2.size()));
  double u = rng.uniform() * total;
  for (std::size_t i = 0; i < d2.size(); ++i) {
    u -= d2[i];
    if (u < 0.0 && d2[i] > 0.0) return static_cast<std::int64_t>(i);
  }
  for (std::size_t i = d2.size(); i-- > 0;)
    if (d2[i] > 0.0) return static_cast<std::int64_t>(i);
  return 0;
}

Linkage parse_linkage(const std::string& s) {
  if (s == "average") return Linkage::kAverage;
  if (s == "complete") return Linkage::kComplete;
  if (s == "ward") return Linkage::kWard;
  throw UsageError("--linkage must be average, complete or ward");
}

std::vector<int> canonical_labels(const std::vector<int>& labels) {
  std::map<int, int> id;
  std::vector<int> out(labels.size());
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const auto it = id.emplace(labels[i], static_cast<int>(id.size())).first;
    out[i] = it->second;
  }
  return out;
}

std::vector<int> hierarchical(const Eigen::MatrixXd& d2, Linkage linkage, int k) {
  const Eigen::Index n = d2.rows();
  if (k < 1 || k > n) throw InternalError("hierarchical: bad k");
  // Working dissimilarities: squared for Ward, Euclidean otherwise.
  Eigen::MatrixXd d = linkage == Linkage::kWard ? d2 : d2.cwiseMax(0.0).cwiseSqrt();
  std::vector<std::int64_t> size(static_cast<std::size_t>(n), 1);
  std::vector<char> active(static_cast<std::size_t>(n), 1);
  struct Merge {
    Eigen::Index a, b;
    double height;
  };
  std::vector<Merge> merges;
  std::vector<Eigen::Index> chain;
  Eigen::Index remaining = n;
  while (remaining > 1) {
    if (chain.empty()) {
      for (Eigen::Index i = 0; i < n; ++i)
        if (active[static_cast<std::size_t>(i)]) {
          chain.push_back(i);
          break;
        }
    }
    const Eigen::Index a = chain.back();
    const Eigen::Index prev = chain.size() > 1 ? chain[chain.size() - 2] : -1;
    // Nearest active neighbour of a; ties favour the previous chain element, then the lower index.
    Eigen::Index best = prev;
    double best_d = prev >= 0 ? d(a, prev) : std::numeric_limits<double>::infinity();
    for (Eigen::Index j = 0; j < n; ++j) {
      if (j == a || !active[static_cast<std::size_t>(j)]) continue;
      if (d(a, j) < best_d) {
        best_d = d(a, j);
        best = j;
      }
    }
    if (best == prev) {
      chain.pop_back();
      chain.pop_back();
      const Eigen::Index lo = std::min(a, best), hi = std::max(a, best);
      merges.push_back({lo, hi, best_d});
      const auto nl = static_cast<double>(size[static_cast<std::size_t>(lo)]);
      const auto nh = static_cast<double>(size[static_cast<std::size_t>(hi)]);
      for (Eigen::Index j = 0; j < n; ++j) {
        if (!active[static_cast<std::size_t>(j)] || j == lo || j == hi) continue;
        double v = 0.0;
        switch (linkage) {
          case Linkage::kComplete: v = std::max(d(j, lo), d(j, hi)); break;
          case Linkage::kAverage: v = (nl * d(j, lo) + nh * d(j, hi)) / (nl + nh); break;
          case Linkage::kWard: {
            const auto nj = static_cast<double>(size[static_cast<std::size_t>(j)]);
            v = ((nl + nj) * d(j, lo) + (nh + nj) * d(j, hi) - nj * best_d) / (nl + nh + nj);
            break;
          }
        }
        d(j, lo) = d(lo, j) = v;
      }
      active[static_cast<std::size_t>(hi)] = 0;
      size[static_cast<std::size_t>(lo)] += size[static_cast<std::size_t>(hi)];
      --remaining;
    } else {
      chain.push_back(best);
    }
  }
  // Apply the n - k lowest merges (stable in the order found) with union-find.
  std::vector<std::size_t> order(merges.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) { return merges[x].height < merges[y].height; });
  std::vector<Eigen::Index> parent(static_cast<std::size_t>(n));
  std::iota(parent.begin(), parent.end(), 0);
  auto find = [&](Eigen::Index x) {
    while (parent[static_cast<std::size_t>(x)] != x) x = parent[static_cast<std::size_t>(x)] = parent[static_cast<std::size_t>(parent[static_cast<std::size_t>(x)])];
    return x;
  };
  for (std::size_t m = 0; m < static_cast<std::size_t>(n - k); ++m) {
    const auto& mg = merges[order[m]];
    parent[static_cast<std::size_t>(find(mg.b))] = find(mg.a);
  }
  std::vector<int> roots(static_cast<std::size_t>(n));
  for (Eigen::Index i = 0; i < n; ++i) roots[static_cast<std::size_t>(i)] = static_cast<int>(find(i));
  return canonical_labels(roots);
}

double silhouette(const Eigen::MatrixXd& d2, const std::vector<int>& labels) {
  const auto n = static_cast<Eigen::Index>(labels.size());
  const int k = labels.empty() ? 0 : *std::max_element(labels.begin(), labels.end()) + 1;
  if (k < 2) return std::numeric_limits<double>::quiet_NaN();
  std::vector<std::int64_t> size(static_cast<std::size_t>(k), 0);
  for (int l : labels) ++size[static_cast<std::size_t>(l)];
  double total = 0;
  std::vector<double> sum(static_cast<std::size_t>(k));
  for (Eigen::Index i = 0; i < n; ++i) {
    std::fill(sum.begin(), sum.end(), 0.0);
    for (Eigen::Index j = 0; j < n; ++j)
      if (j != i) sum[static_cast<std::size_t>(labels[static_cast<std::size_t>(j)])] += std::sqrt(std::max(0.0, d2(i, j)));
    const int own = labels[static_cast<std::size_t>(i)];
    if (size[static_cast<std::size_t>(own)] <= 1) continue;  // singleton: 0
    const double a = sum[static_cast<std::size_t>(own)] / static_cast<double>(size[static_cast<std::size_t>(own)] - 1);
    double b = std::numeric_limits<double>::infinity();
    for (int c = 0; c < k; ++c)
      if (c != own && size[static_cast<std::size_t>(c)] > 0) b = std::min(b, sum[static_cast<std::size_t>(c)] / static_cast<double>(size[static_cast<std::size_t>(c)]));
    const double m = std::max(a, b);
    total += m > 0 ? (b - a) / m : 0.0;
  }
  return total / static_cast<double>(n);
}

double adjusted_rand_index(const std::vector<int>& a, const std::vector<int>& b) {
  std::map<std::pair<int, int>, std::int64_t> cell;
  std::map<int, std::int64_t> ra, rb;
  std::int64_t n = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (b[i] < 0) continue;
    ++cell[{a[i], b[i]}];
    ++ra[a[i]];
    ++rb[b[i]];
    ++n;
  }
  auto c2 = [](std::int64_t x) { return static_cast<double>(x) * static_cast<double>(x - 1) / 2.0; };
  double index = 0, sa = 0, sb = 0;
  for (const auto& [k, v] : cell) index += c2(v);
  for (const auto& [k, v] : ra) sa += c2(v);
  for (const auto& [k, v] : rb) sb += c2(v);
  const double expected = n > 1 ? sa * sb / c2(n) : 0.0;
  const double max_index = 0.5 * (sa + sb);
  if (max_index == expected) return 1.0;
  return (index - expected) / (max_index - expected);
}

}  // namespace genoforest::ml
