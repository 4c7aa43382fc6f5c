// TreeSHAP, path-dependent (Lundberg et al. 2018, Algorithm 2), after the paper's pseudocode: the
// path of unique features from the root, with for each the fraction of "zero" paths (feature
// absent: both branches, by cover) and "one" paths (present: x's branch), and the permutation
// weights extended and unwound as the recursion goes down and meets a feature again.
#include "genoforest/ml/shap.hpp"

#include <algorithm>
#include <functional>

#include "genoforest/core/error.hpp"

namespace genoforest::ml {

namespace {

struct PathElement {
  std::int32_t d;  // feature (-1 at the root)
  double z;        // fraction of zero paths (feature absent) through this element
  double o;        // fraction of one paths (feature present): 1 or 0
  double w;        // permutation weight
};

/// Appends (pz, po, pi) to the path m[0..l) (l = its length), updating the weights.
void extend(PathElement* m, int l, double pz, double po, std::int32_t pi) {
  m[l] = {pi, pz, po, l == 0 ? 1.0 : 0.0};
  for (int i = l - 1; i >= 0; --i) {
    m[i + 1].w += po * m[i].w * (i + 1) / static_cast<double>(l + 1);
    m[i].w = pz * m[i].w * (l - i) / static_cast<double>(l + 1);
  }
}

/// Removes element i from the path m[0..l] (l: the last index), undoing its extension.
void unwind(PathElement* m, int l, int i) {
  const double o = m[i].o, z = m[i].z;
  double n = m[l].w;
  for (int j = l - 1; j >= 0; --j) {
    if (o != 0) {
      const double t = m[j].w;
      m[j].w = n * (l + 1) / ((j + 1) * o);
      n = t - m[j].w * z * (l - j) / static_cast<double>(l + 1);
    } else {
      m[j].w = m[j].w * (l + 1) / (z * (l - j));
    }
  }
  for (int j = i; j < l; ++j) {
    m[j].d = m[j + 1].d;
    m[j].z = m[j + 1].z;
    m[j].o = m[j + 1].o;
  }
}

/// The total permutation weight of the path m[0..l] with element i removed (without removing it).
double unwound_sum(const PathElement* m, int l, int i) {
  const double o = m[i].o, z = m[i].z;
  double n = m[l].w, total = 0;
  for (int j = l - 1; j >= 0; --j) {
    if (o != 0) {
      const double t = n * (l + 1) / ((j + 1) * o);
      total += t;
      n = m[j].w - t * z * (l - j) / static_cast<double>(l + 1);
    } else {
      total += m[j].w / z * (l + 1) / static_cast<double>(l - j);
    }
  }
  return total;
}

bool goes_left(const ShapTree& t, const FeatureMatrix& x, std::int64_t r, std::int32_t n) {
  const std::int32_t f = t.feature[static_cast<std::size_t>(n)];
  const int c = x.code(f, r);
  return c >= x.bins(f) ? t.missing_left[static_cast<std::size_t>(n)] != 0 : c <= t.threshold[static_cast<std::size_t>(n)];
}

struct Walk {
  const ShapTree& t;
  const FeatureMatrix& x;
  std::int64_t r;
  double scale;
  double* phi;
  int condition = 0;                   // +1: condition_feature present, -1: absent, 0: none
  std::int32_t condition_feature = -1;

  // As shap's tree_shap_recursive (Lundberg et al.), with the conditioning of its interaction
  // values: a conditioned feature is not put on the path; present, only x's branch is followed;
  // absent, both, weighted by cover, through `cf`.
  void recurse(std::int32_t n, PathElement* parent, int parent_len, double pz, double po, std::int32_t pi, double cf = 1.0) {
    if (cf == 0) return;
    PathElement* m = parent + parent_len;  // this level's copy of the path, after the parent's
    std::copy(parent, parent + parent_len, m);
    int len = parent_len;
    if (condition == 0 || pi != condition_feature) {
      extend(m, parent_len, pz, po, pi);
      len = parent_len + 1;
    }
    const auto un = static_cast<std::size_t>(n);
    if (t.feature[un] < 0) {
      for (int i = 1; i < len; ++i) {
        const double w = unwound_sum(m, len - 1, i) * (m[i].o - m[i].z) * scale * cf;
        const auto f = static_cast<std::size_t>(m[i].d);
        for (int k = 0; k < t.width; ++k) phi[f * static_cast<std::size_t>(t.width) + static_cast<std::size_t>(k)] += w * t.value[un * static_cast<std::size_t>(t.width) + static_cast<std::size_t>(k)];
      }
      return;
    }
    const std::int32_t f = t.feature[un];
    const bool left = goes_left(t, x, r, n);
    const std::int32_t hot = left ? t.left[un] : t.right[un], cold = left ? t.right[un] : t.left[un];
    double iz = 1, io = 1;
    for (int i = 1; i < len; ++i) {
      if (m[i].d == f) {  // the feature was met higher up: its earlier fractions carry on
        iz = m[i].z;
        io = m[i].o;
        unwind(m, len - 1, i);
        --len;
        break;
      }
    }
    const double c = t.cover[un];
    const double hz = t.cover[static_cast<std::size_t>(hot)] / c, cz = t.cover[static_cast<std::size_t>(cold)] / c;
    double hot_cf = cf, cold_cf = cf;
    if (condition > 0 && f == condition_feature) {
      cold_cf = 0;
    } else if (condition < 0 && f == condition_feature) {
      hot_cf *= hz;
      cold_cf *= cz;
    }
    recurse(hot, m, len, iz * hz, io, f, hot_cf);
    recurse(cold, m, len, iz * cz, 0, f, cold_cf);
  }
};

}  // namespace

int ShapTree::depth() const {
  std::function<int(std::int32_t)> d = [&](std::int32_t n) -> int {
    const auto u = static_cast<std::size_t>(n);
    return feature[u] < 0 ? 0 : 1 + std::max(d(left[u]), d(right[u]));
  };
  return feature.empty() ? 0 : d(0);
}

ShapTree shap_tree(const GbtTree& t) {
  ShapTree s;
  s.width = 1;
  for (const auto& n : t.nodes) {
    s.feature.push_back(n.feature);
    s.left.push_back(n.left);
    s.right.push_back(n.right);
    s.threshold.push_back(n.threshold);
    s.missing_left.push_back(n.default_left);
    s.cover.push_back(n.cover);
    s.value.push_back(n.feature < 0 ? n.value : 0.0);
  }
  return s;
}

ShapTree shap_tree(const Tree& t, const std::vector<double>& cover) {
  if (cover.size() != t.nodes.size()) throw InternalError("shap_tree: a cover per node is needed");
  ShapTree s;
  s.width = t.width;
  for (std::size_t i = 0; i < t.nodes.size(); ++i) {
    const Node& n = t.nodes[i];
    s.feature.push_back(n.feature);
    s.left.push_back(n.feature < 0 ? 0 : n.left);
    s.right.push_back(n.right);
    s.threshold.push_back(n.threshold);
    s.missing_left.push_back(n.missing_left);
    s.cover.push_back(cover[i]);
    for (int k = 0; k < t.width; ++k) s.value.push_back(n.feature < 0 ? t.leaf_values[static_cast<std::size_t>(n.left + k)] : 0.0);
  }
  return s;
}

void tree_shap(const ShapTree& t, const FeatureMatrix& x, std::int64_t r, double scale, double* phi, double* bias) {
  if (t.feature.empty()) return;
  // The expected value: leaves weighted by cover.
  std::function<void(std::int32_t, double)> expect = [&](std::int32_t n, double w) {
    const auto u = static_cast<std::size_t>(n);
    if (t.feature[u] < 0) {
      for (int k = 0; k < t.width; ++k) bias[k] += w * t.value[u * static_cast<std::size_t>(t.width) + static_cast<std::size_t>(k)] * scale;
      return;
    }
    expect(t.left[u], w * t.cover[static_cast<std::size_t>(t.left[u])] / t.cover[u]);
    expect(t.right[u], w * t.cover[static_cast<std::size_t>(t.right[u])] / t.cover[u]);
  };
  expect(0, 1.0);
  const int d = t.depth();
  std::vector<PathElement> storage(static_cast<std::size_t>((d + 2) * (d + 3) / 2 + 1));
  Walk w{t, x, r, scale, phi};
  w.recurse(0, storage.data(), 0, 1, 1, -1);
}

void tree_shap_conditioned(const ShapTree& t, const FeatureMatrix& x, std::int64_t r, double scale, std::int32_t feature, bool present,
                           double* phi) {
  if (t.feature.empty()) return;
  const int d = t.depth();
  std::vector<PathElement> storage(static_cast<std::size_t>((d + 2) * (d + 3) / 2 + 1));
  Walk w{t, x, r, scale, phi, present ? 1 : -1, feature};
  w.recurse(0, storage.data(), 0, 1, 1, -1);
}

void count_node_visits(const Tree& t, const FeatureMatrix& x, std::span<const std::int64_t> rows, std::int64_t* counts) {
  for (const auto r : rows) {
    std::int32_t i = 0;
    for (;;) {
      ++counts[static_cast<std::size_t>(i)];
      const Node& nd = t.nodes[static_cast<std::size_t>(i)];
      if (nd.feature < 0) break;
      const int c = x.code(nd.feature, r);
      i = (c == x.bins(nd.feature) ? nd.missing_left != 0 : c <= nd.threshold) ? nd.left : nd.right;
    }
  }
}

std::vector<double> covers_from_counts(const Tree& t, const std::int64_t* counts, double leaf_pseudo_count) {
  std::vector<double> cover(t.nodes.size(), 0.0);
  std::function<double(std::int32_t)> sum = [&](std::int32_t n) -> double {
    const auto u = static_cast<std::size_t>(n);
    const Node& nd = t.nodes[u];
    return cover[u] = nd.feature < 0 ? static_cast<double>(counts[u]) + leaf_pseudo_count : sum(nd.left) + sum(nd.right);
  };
  if (!t.nodes.empty()) (void)sum(0);
  return cover;
}

std::vector<double> conditional_expectation(const ShapTree& t, const FeatureMatrix& x, std::int64_t r, const std::vector<char>& in_s) {
  std::vector<double> out(static_cast<std::size_t>(t.width), 0.0);
  std::function<void(std::int32_t, double)> go = [&](std::int32_t n, double w) {
    const auto u = static_cast<std::size_t>(n);
    if (t.feature[u] < 0) {
      for (int k = 0; k < t.width; ++k) out[static_cast<std::size_t>(k)] += w * t.value[u * static_cast<std::size_t>(t.width) + static_cast<std::size_t>(k)];
      return;
    }
    if (in_s[static_cast<std::size_t>(t.feature[u])]) {
      go(goes_left(t, x, r, n) ? t.left[u] : t.right[u], w);
    } else {
      go(t.left[u], w * t.cover[static_cast<std::size_t>(t.left[u])] / t.cover[u]);
      go(t.right[u], w * t.cover[static_cast<std::size_t>(t.right[u])] / t.cover[u]);
    }
  };
  go(0, 1.0);
  return out;
}

}  // namespace genoforest::ml
