// Gradient-boosted trees (docs/gbt.md): exact split finding on the matrix's codes, fixed-point
// gradient sums reduced as integers over the ranks.
#include "genoforest/ml/gbt.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include "genoforest/core/error.hpp"
#include "genoforest/core/rng.hpp"

namespace genoforest::ml {

namespace {

constexpr double kMaxSum = 0x1p62;  // no fixed-point sum may reach 2^63
constexpr double kRtEps = 1e-6;     // XGBoost's least loss change for a split
constexpr std::uint64_t kStreamRows = 0x6762742d726f7773ULL;     // "gbt-rows"
constexpr std::uint64_t kStreamCols = 0x6762742d636f6c73ULL;     // "gbt-cols"
constexpr std::uint64_t kStreamValid = 0x6762742d76616c69ULL;    // "gbt-vali"
constexpr std::uint64_t kStreamPermute = 0x6762742d7065726dULL;  // "gbt-perm"

/// 2^e, the largest power of two with which n terms of magnitude <= max_abs sum below 2^62.
double grid_scale(double max_abs, std::int64_t n) {
  if (!(max_abs > 0) || n <= 0) return 1.0;
  const double e = std::floor(std::log2(kMaxSum / (max_abs * static_cast<double>(n))));
  return std::ldexp(1.0, static_cast<int>(std::clamp(e, -1000.0, 1000.0)));
}

/// Element-wise maximum over the ranks (records of one double).
std::vector<double> global_max(std::vector<double> v, Collectives& coll) {
  std::vector<std::uint8_t> bytes(v.size() * sizeof(double));
  std::memcpy(bytes.data(), v.data(), bytes.size());
  coll.all_reduce(bytes, sizeof(double), [](const std::uint8_t* a, std::uint8_t* b) {
    double x, y;
    std::memcpy(&x, a, sizeof x);
    std::memcpy(&y, b, sizeof y);
    if (x > y) std::memcpy(b, a, sizeof x);
  });
  std::memcpy(v.data(), bytes.data(), bytes.size());
  return v;
}

/// Column sums over the ranks of per-rank terms laid out as rows of `width`: each term rounded to
/// a grid of 2^-k per column (k from the largest |term| of any rank and the row count), summed as
/// integers: the same bits for any rank count.
std::vector<double> column_sums(std::span<const double> terms, std::size_t width, std::int64_t n_rows_total, Collectives& coll) {
  std::vector<double> mx(width, 0.0);
  for (std::size_t i = 0; i < terms.size(); ++i) mx[i % width] = std::max(mx[i % width], std::fabs(terms[i]));
  mx = global_max(std::move(mx), coll);
  std::vector<double> scale(width);
  for (std::size_t c = 0; c < width; ++c) scale[c] = grid_scale(mx[c], std::max<std::int64_t>(n_rows_total, 1));
  std::vector<std::int64_t> q(width, 0);
  for (std::size_t i = 0; i < terms.size(); ++i) q[i % width] += std::llround(terms[i] * scale[i % width]);
  coll.all_sum(q);
  std::vector<double> out(width);
  for (std::size_t c = 0; c < width; ++c) out[c] = static_cast<double>(q[c]) / scale[c];
  return out;
}

/// Rows [b, e) of n that are this rank's: contiguous blocks, in order.
std::pair<std::size_t, std::size_t> my_block(std::size_t n, const Collectives& coll) {
  const auto r = static_cast<std::size_t>(coll.rank()), s = static_cast<std::size_t>(coll.size());
  return {n * r / s, n * (r + 1) / s};
}

/// Probabilities from margins: logistic (one margin, two classes) or softmax; a value for regression.
void probabilities(const std::string& objective, int groups, const double* m, double* out) {
  if (objective == "binary:logistic") {
    const double p = 1.0 / (1.0 + std::exp(-m[0]));
    out[0] = 1 - p;
    out[1] = p;
  } else if (objective == "multi:softprob") {
    double mx = m[0];
    for (int g = 1; g < groups; ++g) mx = std::max(mx, m[g]);
    double sum = 0;
    for (int g = 0; g < groups; ++g) sum += (out[g] = std::exp(m[g] - mx));
    for (int g = 0; g < groups; ++g) out[g] /= sum;
  } else {
    out[0] = m[0];
  }
}

/// The loss of one row: log loss (probability clipped to [1e-15, 1 - 1e-15]) or squared error.
double row_loss(const GbtModel& model, const double* m, const Labels& y, std::int64_t r) {
  if (model.objective == "reg:squarederror") {
    const double d = m[0] - y.value[static_cast<std::size_t>(r)];
    return d * d;
  }
  std::vector<double> p(static_cast<std::size_t>(std::max(model.groups, 2)));
  probabilities(model.objective, model.groups, m, p.data());
  return -std::log(std::clamp(p[static_cast<std::size_t>(y.code[static_cast<std::size_t>(r)])], 1e-15, 1 - 1e-15));
}

/// The leaf a row reaches; `code(f)` gives the row's code of feature f.
template <class Code>
const GbtNode& leaf_of(const GbtTree& t, const FeatureMatrix& x, Code&& code) {
  std::int32_t n = 0;
  while (t.nodes[static_cast<std::size_t>(n)].feature >= 0) {
    const GbtNode& node = t.nodes[static_cast<std::size_t>(n)];
    const int c = code(node.feature);
    const bool missing = c >= x.bins(node.feature);
    n = (missing ? node.default_left != 0 : c <= node.threshold) ? node.left : node.right;
  }
  return t.nodes[static_cast<std::size_t>(n)];
}

/// This rank's rows' non-zero codes, feature by feature (genotype columns only): most genotypes
/// are 0 (hom-ref), so a histogram adds the rows of codes 1, 2 and missing and takes code 0's
/// sums as the node's totals minus theirs (exact in integers) — XGBoost's sparsity-aware scan
/// with 0 as the implicit value.
struct SparseCodes {
  std::vector<std::size_t> start;  // per feature: its entries [start[f], start[f + 1]); empty for binned columns
  std::vector<std::uint32_t> pos;  // position of the row in this rank's rows
  std::vector<std::uint8_t> code;

  SparseCodes(const FeatureMatrix& x, std::span<const std::int64_t> rows) {
    start.reserve(static_cast<std::size_t>(x.cols()) + 1);
    for (std::int64_t f = 0; f < x.cols(); ++f) {
      start.push_back(pos.size());
      if (!x.packed(f)) continue;
      const std::uint8_t* d = x.data(f);
      for (std::size_t i = 0; i < rows.size(); ++i) {
        const std::int64_t r = rows[i];
        const int c = (d[r >> 2] >> ((r & 3) << 1)) & 3;
        if (c != 0) {
          pos.push_back(static_cast<std::uint32_t>(i));
          code.push_back(static_cast<std::uint8_t>(c));
        }
      }
    }
    start.push_back(pos.size());
  }
  [[nodiscard]] std::size_t count(std::int32_t f) const { return start[static_cast<std::size_t>(f) + 1] - start[static_cast<std::size_t>(f)]; }
};

/// One tree, grown level by level from the fixed-point gradients of this rank's rows.
///
/// Each rank sums its rows into a histogram of every feature; a reduce-scatter then gives rank q
/// the sums of its block of features only (contiguous, about 1/R of the codes). Each rank keeps
/// its block's histograms, derives siblings in it, and finds the best split among its features;
/// an all-gather of the candidates picks each node's split (best gain, then the earliest feature:
/// the rule of one scan over all features). So the splits are those of one rank, bit for bit.
struct Grower {
  const FeatureMatrix& x;
  const GbtParams& p;
  Collectives& coll;
  std::span<const std::int64_t> rows;  // this rank's rows of this round, ascending
  std::span<const std::int64_t> qg{}, qh{};
  const SparseCodes* sparse = nullptr;        // over all this rank's rows
  std::span<const std::int32_t> kept_of_pos{};  // per position in this rank's rows: index in `rows`, or -1
  double scale_g = 1, scale_h = 1;
  std::vector<std::int32_t> features{};  // the tree's features, ascending
  std::vector<std::size_t> offset{};     // per feature position: its first code in a node's histogram
  std::size_t width = 0;               // codes in a node's histogram
  /// Buffers reused from level to level and tree to tree (fresh multi-megabyte blocks cost page
  /// faults and a copy each): this rank's block of the level's and the parents' histograms, and
  /// the full local sums of the nodes built.
  std::vector<std::int64_t>* cur = nullptr;
  std::vector<std::int64_t>* prev = nullptr;
  std::vector<std::int64_t>* local = nullptr;

  // Feature blocks: rank q owns feature positions [fb[q], fb[q + 1]), codes [cb[q], cb[q + 1]).
  std::vector<std::size_t> fb{}, cb{}, block_of{};
  std::size_t me = 0, nranks = 1, w_me = 0;

  struct Split {
    double gain = -1;
    std::int32_t feature = -1;
    std::int32_t threshold = 0;
    std::int32_t default_left = 0;
    std::int64_t nl = 0, nr = 0;
  };

  void prepare() {
    nranks = static_cast<std::size_t>(coll.size());
    me = static_cast<std::size_t>(coll.rank());
    fb.assign(nranks + 1, features.size());
    cb.assign(nranks + 1, width);
    for (std::size_t q = 0; q < nranks; ++q) {
      const std::size_t target = width * q / nranks;
      fb[q] = static_cast<std::size_t>(std::lower_bound(offset.begin(), offset.end(), target) - offset.begin());
      cb[q] = fb[q] < features.size() ? offset[fb[q]] : width;
    }
    block_of.assign(features.size(), 0);
    for (std::size_t q = 0; q < nranks; ++q)
      for (std::size_t fi = fb[q]; fi < fb[q + 1]; ++fi) block_of[fi] = q;
    w_me = cb[me + 1] - cb[me];
  }

  /// The best split among this rank's features of a node from its block (g, h, n per code). Ties:
  /// the earliest feature, the lowest threshold, missing right before missing left.
  [[nodiscard]] Split best_split(const std::int64_t* h, double G, double H) const {
    Split best;
    const double parent = G * G / (H + p.lambda);
    for (std::size_t fi = fb[me]; fi < fb[me + 1]; ++fi) {
      const std::int32_t f = features[fi];
      const int b = x.bins(f);
      const std::int64_t* c = h + (offset[fi] - cb[me]) * 3;
      const std::int64_t mg = c[b * 3], mh = c[b * 3 + 1], mn = c[b * 3 + 2];
      std::int64_t tg = mg, th = mh, tn = mn;
      for (int k = 0; k < b; ++k) {
        tg += c[k * 3];
        th += c[k * 3 + 1];
        tn += c[k * 3 + 2];
      }
      std::int64_t lg = 0, lh = 0, ln = 0;
      for (int t = 0; t + 1 < b; ++t) {
        lg += c[t * 3];
        lh += c[t * 3 + 1];
        ln += c[t * 3 + 2];
        for (int dl = 0; dl < 2; ++dl) {
          const std::int64_t gl = lg + (dl ? mg : 0), hl = lh + (dl ? mh : 0), nl = ln + (dl ? mn : 0);
          const std::int64_t gr = tg - gl, hr = th - hl, nr = tn - nl;
          if (nl == 0 || nr == 0) continue;
          const double GL = static_cast<double>(gl) / scale_g, HL = static_cast<double>(hl) / scale_h;
          const double GR = static_cast<double>(gr) / scale_g, HR = static_cast<double>(hr) / scale_h;
          if (HL < p.min_child_weight || HR < p.min_child_weight) continue;
          const double gain = GL * GL / (HL + p.lambda) + GR * GR / (HR + p.lambda) - parent;
          if (gain > best.gain) best = Split{gain, f, t, dl, nl, nr};
        }
      }
    }
    return best;
  }

  /// Adds this rank's rows of the nodes to build into `out` (block-major: block q, then slot,
  /// then block q's codes), feature by feature: a genotype column through its non-zero codes when
  /// they are fewer than the rows to add. `total` gets each slot's sums (g, h, n).
  void fill(std::vector<std::int64_t>& out, const std::vector<std::int32_t>& node_of, const std::vector<std::int32_t>& slot_of_node,
            std::size_t slots, std::vector<std::int64_t>& total) const {
    const std::size_t n_pos = kept_of_pos.size();
    std::vector<std::int32_t> slot_pos(n_pos, -1), slot(rows.size(), -1);
    std::vector<std::int64_t> g_pos(n_pos, 0), h_pos(n_pos, 0), r_row, r_g, r_h;
    std::vector<std::int32_t> r_slot;
    total.assign(slots * 3, 0);
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const std::int32_t nd = node_of[i];
      if (nd < 0) continue;
      const std::int32_t s = slot_of_node[static_cast<std::size_t>(nd)];
      if (s < 0) continue;
      slot[i] = s;
      r_row.push_back(rows[i]);
      r_slot.push_back(s);
      r_g.push_back(qg[i]);
      r_h.push_back(qh[i]);
      total[static_cast<std::size_t>(s) * 3] += qg[i];
      total[static_cast<std::size_t>(s) * 3 + 1] += qh[i];
      total[static_cast<std::size_t>(s) * 3 + 2] += 1;
    }
    for (std::size_t pos = 0; pos < n_pos; ++pos) {
      const std::int32_t j = kept_of_pos[pos];
      if (j < 0 || slot[static_cast<std::size_t>(j)] < 0) continue;
      slot_pos[pos] = slot[static_cast<std::size_t>(j)];
      g_pos[pos] = qg[static_cast<std::size_t>(j)];
      h_pos[pos] = qh[static_cast<std::size_t>(j)];
    }
    // Plain pointers in the loops: stores through int64_t* would otherwise make the compiler
    // reload every vector's data pointer (measured: a third of the loop).
    std::int64_t* const hist = out.data();
    const std::int32_t* const sp = slot_pos.data();
    const std::int64_t* const gp = g_pos.data();
    const std::int64_t* const hp = h_pos.data();
    for (std::size_t fi = 0; fi < features.size(); ++fi) {
      const std::int32_t f = features[fi];
      const std::size_t q = block_of[fi];
      const std::size_t stride = (cb[q + 1] - cb[q]) * 3;
      std::int64_t* const base = hist + (slots * cb[q] + offset[fi] - cb[q]) * 3;  // slot 0 of this feature
      const std::uint8_t* d = x.data(f);
      const bool packed = x.packed(f);
      if (packed && sparse && sparse->count(f) < r_row.size()) {
        const std::size_t b = sparse->start[static_cast<std::size_t>(f)], e = sparse->start[static_cast<std::size_t>(f) + 1];
        const std::uint32_t* pos = sparse->pos.data();
        const std::uint8_t* code = sparse->code.data();
        for (std::size_t k = b; k < e; ++k) {
          const std::uint32_t at = pos[k];
          const std::int32_t s = sp[at];
          if (s < 0) continue;
          std::int64_t* h = base + static_cast<std::size_t>(s) * stride + static_cast<std::size_t>(code[k]) * 3;
          h[0] += gp[at];
          h[1] += hp[at];
          h[2] += 1;
        }
        for (std::size_t s = 0; s < slots; ++s) {  // code 0: the node's totals minus codes 1, 2, missing
          std::int64_t* h = base + s * stride;
          for (int v = 0; v < 3; ++v) h[v] = total[s * 3 + static_cast<std::size_t>(v)] - h[3 + v] - h[6 + v] - h[9 + v];
        }
        continue;
      }
      const std::int64_t* rr = r_row.data();
      const std::int64_t* rg = r_g.data();
      const std::int64_t* rh = r_h.data();
      const std::int32_t* rs = r_slot.data();
      const std::size_t n = r_row.size();
      for (std::size_t i = 0; i < n; ++i) {
        const std::int64_t r = rr[i];
        const int c = packed ? (d[r >> 2] >> ((r & 3) << 1)) & 3 : d[r];
        std::int64_t* h = base + static_cast<std::size_t>(rs[i]) * stride + static_cast<std::size_t>(c) * 3;
        h[0] += rg[i];
        h[1] += rh[i];
        h[2] += 1;
      }
    }
  }

  GbtTree grow() {
    prepare();
    GbtTree tree;
    tree.nodes.emplace_back();
    std::vector<std::int32_t> node_of(rows.size(), 0);  // each row's node; -1 once in a leaf
    struct Open {
      std::int32_t node;
      std::int64_t n;                 // rows, all ranks
      std::int32_t parent_slot = -1;  // the parent's block in the previous level's buffer
      std::int32_t slot = -1;         // this node's block in this level's buffer
      std::int64_t tot[3] = {0, 0, 0};   // sums of g, h, n over the node's rows (all ranks)
      std::int64_t ptot[3] = {0, 0, 0};  // the parent's
    };
    std::int64_t n_all = static_cast<std::int64_t>(rows.size());
    {
      std::vector<std::int64_t> n{n_all};
      coll.all_sum(n);
      n_all = n[0];
    }
    const std::size_t wb = w_me * 3;  // this rank's block of one node's histogram
    std::vector<Open> level;
    level.push_back({0, n_all, -1, -1, {0, 0, 0}, {0, 0, 0}});
    std::vector<std::int64_t> total;
    for (int depth = 0; !level.empty(); ++depth) {
      // 1. Histograms: the root, or the smaller child of each pair (ties: the left), in the first
      // slots; its sibling, after them, is the parent's minus it.
      std::vector<std::size_t> build;
      for (std::size_t i = 0; i < level.size(); ++i) {
        if (level[i].parent_slot < 0) build.push_back(i);
        else if (i % 2 == 0) build.push_back(level[i].n <= level[i + 1].n ? i : i + 1);
      }
      const std::size_t B = build.size();
      std::int32_t next_slot = 0;
      for (auto b : build) level[b].slot = next_slot++;
      for (auto& o : level)
        if (o.slot < 0) o.slot = next_slot++;
      if (cur->size() < level.size() * wb) cur->resize(level.size() * wb);
      // One rank: the local sums are the block, written in place (the layouts are the same).
      std::vector<std::int64_t>* sums = nranks == 1 ? cur : local;
      if (sums->size() < B * width * 3) sums->resize(B * width * 3);
      std::fill_n(sums->begin(), B * width * 3, 0);
      std::vector<std::int32_t> slot_of_node(tree.nodes.size(), -1);
      for (auto b : build) slot_of_node[static_cast<std::size_t>(level[b].node)] = level[b].slot;
      fill(*sums, node_of, slot_of_node, B, total);
      coll.all_sum(total);
      if (nranks > 1) {
        std::vector<std::size_t> counts(nranks);
        for (std::size_t q = 0; q < nranks; ++q) counts[q] = B * (cb[q + 1] - cb[q]) * 3;
        coll.reduce_scatter_sum(std::span<std::int64_t>(local->data(), B * width * 3), counts);
        std::copy_n(local->data() + B * cb[me] * 3, B * wb, cur->data());
      }
      for (std::size_t s = 0; s < B; ++s)
        for (int v = 0; v < 3; ++v) level[build[s]].tot[v] = total[s * 3 + static_cast<std::size_t>(v)];
      for (std::size_t i = 0; i < level.size(); ++i) {
        if (level[i].slot < static_cast<std::int32_t>(B)) continue;
        const std::size_t sib = i % 2 == 0 ? i + 1 : i - 1;
        const std::int64_t* par = prev->data() + static_cast<std::size_t>(level[i].parent_slot) * wb;
        const std::int64_t* other = cur->data() + static_cast<std::size_t>(level[sib].slot) * wb;
        std::int64_t* dst = cur->data() + static_cast<std::size_t>(level[i].slot) * wb;
        for (std::size_t j = 0; j < wb; ++j) dst[j] = par[j] - other[j];
        for (int v = 0; v < 3; ++v) level[i].tot[v] = level[i].ptot[v] - level[sib].tot[v];
      }
      // 2. Splits: each rank's best among its features, then every rank picks the same.
      std::vector<Split> mine_best(level.size());
      std::vector<char> tried(level.size(), 0);
      for (std::size_t i = 0; i < level.size(); ++i) {
        const Open& o = level[i];
        const double G = static_cast<double>(o.tot[0]) / scale_g, H = static_cast<double>(o.tot[1]) / scale_h;
        if (depth < p.max_depth && o.n >= 2 && H >= 2 * p.min_child_weight) {
          tried[i] = 1;
          mine_best[i] = best_split(cur->data() + static_cast<std::size_t>(o.slot) * wb, G, H);
        }
      }
      std::vector<Split> chosen(level.size());
      if (nranks == 1) {
        chosen = mine_best;
      } else {
        std::vector<std::uint8_t> bytes(level.size() * sizeof(Split));
        std::memcpy(bytes.data(), mine_best.data(), bytes.size());
        const auto all = coll.all_gather(bytes);
        for (const auto& part : all) {
          if (part.size() != bytes.size()) throw InternalError("gbt: split candidates of different lengths");
          for (std::size_t i = 0; i < level.size(); ++i) {
            Split c;
            std::memcpy(&c, part.data() + i * sizeof(Split), sizeof(Split));
            Split& b = chosen[i];
            if (c.feature >= 0 && (b.feature < 0 || c.gain > b.gain || (c.gain == b.gain && c.feature < b.feature))) b = c;
          }
        }
      }
      std::vector<Open> next;
      for (std::size_t i = 0; i < level.size(); ++i) {
        const Open& o = level[i];
        const double G = static_cast<double>(o.tot[0]) / scale_g, H = static_cast<double>(o.tot[1]) / scale_h;
        const Split& s = chosen[i];
        if (!tried[i] || s.feature < 0 || !(s.gain > kRtEps) || s.gain < p.gamma) {
          GbtNode& leaf = tree.nodes[static_cast<std::size_t>(o.node)];
          leaf.value = -G / (H + p.lambda) * p.eta;
          leaf.cover = H;
          continue;
        }
        const auto l = static_cast<std::int32_t>(tree.nodes.size());
        tree.nodes.emplace_back();
        tree.nodes.emplace_back();
        GbtNode& node = tree.nodes[static_cast<std::size_t>(o.node)];
        node.feature = s.feature;
        node.threshold = static_cast<std::uint8_t>(s.threshold);
        node.default_left = s.default_left ? 1 : 0;
        node.left = l;
        node.right = l + 1;
        node.value = s.gain;
        node.cover = H;
        Open a{l, s.nl, o.slot, -1, {0, 0, 0}, {o.tot[0], o.tot[1], o.tot[2]}};
        Open b{l + 1, s.nr, o.slot, -1, {0, 0, 0}, {o.tot[0], o.tot[1], o.tot[2]}};
        next.push_back(a);
        next.push_back(b);
      }
      // 3. Rows move to their children, or settle in their leaf.
      for (std::size_t i = 0; i < rows.size(); ++i) {
        const std::int32_t nd = node_of[i];
        if (nd < 0) continue;
        const GbtNode& node = tree.nodes[static_cast<std::size_t>(nd)];
        if (node.feature < 0) {
          node_of[i] = -1;
          continue;
        }
        const int c = x.code(node.feature, rows[i]);
        const bool missing = c >= x.bins(node.feature);
        node_of[i] = (missing ? node.default_left != 0 : c <= node.threshold) ? node.left : node.right;
      }
      level = std::move(next);
      std::swap(cur, prev);
    }
    return tree;
  }
};

}  // namespace

std::vector<double> exact_global_sum(std::span<const double> mine, std::int64_t n_terms, Collectives& coll) {
  return column_sums(mine, 1, n_terms, coll);
}

void GbtParams::validate() const {
  if (rounds < 1 || rounds > 1000000) throw UsageError("--rounds must be between 1 and 1000000");
  if (!(eta > 0 && eta <= 1)) throw UsageError("--eta (the learning rate) must be in (0, 1]");
  if (max_depth < 1 || max_depth > 30) throw UsageError("--max-depth must be between 1 and 30 with --model gbt");
  if (!(min_child_weight >= 0)) throw UsageError("--min-child-weight must be >= 0");
  if (!(lambda >= 0)) throw UsageError("--lambda must be >= 0");
  if (!(gamma >= 0)) throw UsageError("--gamma must be >= 0");
  if (!(subsample > 0 && subsample <= 1)) throw UsageError("--subsample must be in (0, 1]");
  if (!(colsample > 0 && colsample <= 1)) throw UsageError("--colsample must be in (0, 1]");
  if (early_stopping < 0) throw UsageError("--early-stopping must be >= 0");
  if (!(validation_fraction > 0 && validation_fraction < 1)) throw UsageError("--validation-fraction must be in (0, 1)");
}

void gbt_margins(const GbtModel& model, const FeatureMatrix& x, std::int64_t r, double* out) {
  const auto G = static_cast<std::size_t>(model.groups);
  for (std::size_t g = 0; g < G; ++g) out[g] = model.base_margin[g];
  for (std::size_t t = 0; t < model.trees.size(); ++t)
    out[t % G] += leaf_of(model.trees[t], x, [&](std::int32_t f) { return x.code(f, r); }).value;
}

void gbt_predict(const GbtModel& model, const FeatureMatrix& x, std::int64_t r, double* out) {
  std::vector<double> m(static_cast<std::size_t>(model.groups));
  gbt_margins(model, x, r, m.data());
  probabilities(model.objective, model.groups, m.data(), out);
}

GbtResult train_gbt(const FeatureMatrix& x, const Labels& y, std::span<const std::int64_t> rows, const GbtParams& p, Collectives& coll) {
  p.validate();
  const bool cls = y.task == Task::kClassification;
  const int k = cls ? y.n_classes : 1;
  GbtResult res;
  GbtModel& model = res.model;
  model.objective = !cls ? "reg:squarederror" : k == 2 ? "binary:logistic" : "multi:softprob";
  model.groups = cls && k > 2 ? k : 1;
  const auto G = static_cast<std::size_t>(model.groups);
  if (x.cols() < 1) throw DataError("no feature to boost on");
  if (rows.empty()) throw DataError("no training rows");

  // Rows held out for early stopping: a stratified fraction, shuffled from (seed, class).
  std::vector<std::int64_t> train(rows.begin(), rows.end()), valid;
  if (p.early_stopping > 0) {
    std::vector<std::vector<std::int64_t>> strata(static_cast<std::size_t>(k));
    for (auto r : rows) strata[cls ? static_cast<std::size_t>(y.code[static_cast<std::size_t>(r)]) : 0].push_back(r);
    train.clear();
    for (std::size_t c = 0; c < strata.size(); ++c) {
      auto& s = strata[c];
      Rng rng(task_seed(p.seed, kStreamValid, c));
      for (std::size_t i = s.size(); i > 1; --i) std::swap(s[i - 1], s[rng.below(i)]);
      const auto nv = std::min(s.size(), static_cast<std::size_t>(std::llround(p.validation_fraction * static_cast<double>(s.size()))));
      valid.insert(valid.end(), s.begin(), s.begin() + static_cast<std::ptrdiff_t>(nv));
      train.insert(train.end(), s.begin() + static_cast<std::ptrdiff_t>(nv), s.end());
    }
    std::sort(train.begin(), train.end());
    std::sort(valid.begin(), valid.end());
    if (valid.empty() || train.empty()) {
      throw DataError("--early-stopping holds out --validation-fraction of the " + std::to_string(rows.size()) +
                      " training samples, which leaves none on one side");
    }
  }
  // Class weights and starting margins: the same on every rank (every rank reads every label).
  std::vector<double> cw(static_cast<std::size_t>(k), 1.0);
  if (cls) {
    std::vector<std::int64_t> count(static_cast<std::size_t>(k), 0);
    for (auto r : train) ++count[static_cast<std::size_t>(y.code[static_cast<std::size_t>(r)])];
    int present = 0;
    for (auto c : count) present += c > 0;
    if (present < 2) throw DataError("the training samples hold one class only: nothing to boost");
    if (p.balanced) {
      for (std::size_t c = 0; c < count.size(); ++c)
        cw[c] = count[c] ? static_cast<double>(train.size()) / (static_cast<double>(k) * static_cast<double>(count[c])) : 0.0;
    }
    std::vector<double> mass(static_cast<std::size_t>(k));
    double total = 0;
    for (std::size_t c = 0; c < mass.size(); ++c) total += (mass[c] = cw[c] * static_cast<double>(count[c]));
    if (G == 1) {
      const double q = std::clamp(mass[1] / total, 1e-6, 1 - 1e-6);
      model.base_margin = {std::log(q / (1 - q))};
    } else {
      for (std::size_t c = 0; c < mass.size(); ++c) model.base_margin.push_back(std::log(std::max(mass[c] / total, 1e-6)));
    }
  } else {
    double sum = 0;
    for (auto r : train) sum += y.value[static_cast<std::size_t>(r)];
    model.base_margin = {sum / static_cast<double>(train.size())};
  }

  // This rank's rows and their margins.
  const auto [tb, te] = my_block(train.size(), coll);
  const auto [vb, ve] = my_block(valid.size(), coll);
  const std::vector<std::int64_t> my_train(train.begin() + static_cast<std::ptrdiff_t>(tb), train.begin() + static_cast<std::ptrdiff_t>(te));
  const std::vector<std::int64_t> my_valid(valid.begin() + static_cast<std::ptrdiff_t>(vb), valid.begin() + static_cast<std::ptrdiff_t>(ve));
  std::vector<double> mt(my_train.size() * G), mv(my_valid.size() * G);
  for (std::size_t i = 0; i < mt.size(); ++i) mt[i] = model.base_margin[i % G];
  for (std::size_t i = 0; i < mv.size(); ++i) mv[i] = model.base_margin[i % G];

  const auto F = static_cast<std::size_t>(x.cols());
  const SparseCodes sparse(x, my_train);
  std::vector<std::int32_t> kept_of_pos(my_train.size(), -1);
  std::vector<std::int64_t> hist_a, hist_b, hist_local;  // the trees' histogram buffers (Grower::cur, prev, local)
  double best_loss = INFINITY;
  int best_round = 0;
  std::vector<double> prob(std::max<std::size_t>(G, 2));
  for (int round = 0; round < p.rounds; ++round) {
    // The round's rows (subsample): kept or not by (seed, round, row), whatever the rank count.
    std::vector<std::int64_t> kept;
    std::vector<std::size_t> kept_at;
    const std::uint64_t rs = task_seed(p.seed, kStreamRows, static_cast<std::uint64_t>(round));
    for (std::size_t i = 0; i < my_train.size(); ++i) {
      kept_of_pos[i] = -1;
      if (p.subsample < 1 && static_cast<double>(mix64(rs ^ static_cast<std::uint64_t>(my_train[i])) >> 11) * 0x1.0p-53 >= p.subsample) continue;
      kept_of_pos[i] = static_cast<std::int32_t>(kept.size());
      kept.push_back(my_train[i]);
      kept_at.push_back(i);
    }
    for (std::size_t g = 0; g < G; ++g) {
      std::vector<double> gd(kept.size()), hd(kept.size());
      double mg = 0, mh = 0;
      for (std::size_t j = 0; j < kept.size(); ++j) {
        const std::int64_t r = kept[j];
        const double* m = mt.data() + kept_at[j] * G;
        if (!cls) {
          gd[j] = m[0] - y.value[static_cast<std::size_t>(r)];
          hd[j] = 1;
        } else {
          const int label = y.code[static_cast<std::size_t>(r)];
          const double w = cw[static_cast<std::size_t>(label)];
          probabilities(model.objective, model.groups, m, prob.data());
          const double pk = G == 1 ? prob[1] : prob[g];
          const double target = G == 1 ? (label == 1 ? 1.0 : 0.0) : (static_cast<std::size_t>(label) == g ? 1.0 : 0.0);
          gd[j] = (pk - target) * w;
          hd[j] = std::max((G == 1 ? 1.0 : 2.0) * pk * (1 - pk), 1e-16) * w;
        }
        mg = std::max(mg, std::fabs(gd[j]));
        mh = std::max(mh, hd[j]);
      }
      const auto mx = global_max({mg, mh}, coll);
      Grower grow{.x = x,
                  .p = p,
                  .coll = coll,
                  .rows = kept,
                  .scale_g = grid_scale(mx[0], static_cast<std::int64_t>(train.size())),
                  .scale_h = grid_scale(mx[1], static_cast<std::int64_t>(train.size()))};
      std::vector<std::int64_t> qg(kept.size()), qh(kept.size());
      for (std::size_t j = 0; j < kept.size(); ++j) {
        qg[j] = std::llround(gd[j] * grow.scale_g);
        qh[j] = std::llround(hd[j] * grow.scale_h);
      }
      grow.qg = qg;
      grow.qh = qh;
      grow.sparse = &sparse;
      grow.kept_of_pos = kept_of_pos;
      grow.cur = &hist_a;
      grow.prev = &hist_b;
      grow.local = &hist_local;
      // The tree's features (colsample_bytree), drawn from (seed, tree).
      grow.features.resize(F);
      std::iota(grow.features.begin(), grow.features.end(), 0);
      if (p.colsample < 1) {
        Rng rng(task_seed(p.seed, kStreamCols, static_cast<std::uint64_t>(round) * G + g));
        const auto want = std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil(p.colsample * static_cast<double>(F))));
        for (std::size_t i = 0; i < want; ++i) std::swap(grow.features[i], grow.features[i + rng.below(F - i)]);
        grow.features.resize(want);
        std::sort(grow.features.begin(), grow.features.end());
      }
      for (auto f : grow.features) {
        grow.offset.push_back(grow.width);
        grow.width += static_cast<std::size_t>(x.bins(f)) + 1;
      }
      model.trees.push_back(grow.grow());
    }
    // Margins of all this rank's rows (kept this round or not) after the round's trees.
    for (std::size_t g = 0; g < G; ++g) {
      const GbtTree& t = model.trees[model.trees.size() - G + g];
      for (std::size_t i = 0; i < my_train.size(); ++i)
        mt[i * G + g] += leaf_of(t, x, [&](std::int32_t f) { return x.code(f, my_train[i]); }).value;
      for (std::size_t i = 0; i < my_valid.size(); ++i)
        mv[i * G + g] += leaf_of(t, x, [&](std::int32_t f) { return x.code(f, my_valid[i]); }).value;
    }
    model.best_rounds = round + 1;
    if (p.early_stopping > 0) {
      std::vector<double> loss(my_valid.size());
      for (std::size_t i = 0; i < my_valid.size(); ++i) loss[i] = row_loss(model, mv.data() + i * G, y, my_valid[i]);
      const double mean = column_sums(loss, 1, static_cast<std::int64_t>(valid.size()), coll)[0] / static_cast<double>(valid.size());
      model.validation_loss.push_back(mean);
      if (mean < best_loss) {
        best_loss = mean;
        best_round = round + 1;
      } else if (round + 1 - best_round >= p.early_stopping) {
        break;
      }
    }
  }
  if (p.early_stopping > 0) {
    model.best_rounds = best_round;
    model.trees.resize(static_cast<std::size_t>(best_round) * G);
  }
  res.validation_rows = valid;
  // Gain importance: the loss change of every split of the kept trees, in tree order.
  res.gain.assign(F, 0.0);
  for (const auto& t : model.trees)
    for (const auto& n : t.nodes)
      if (n.feature >= 0) res.gain[static_cast<std::size_t>(n.feature)] += n.value;
  return res;
}

std::vector<double> gbt_permutation_importance(const GbtModel& model, const FeatureMatrix& x, const Labels& y,
                                               std::span<const std::int64_t> rows, std::uint64_t seed, Collectives& coll) {
  const auto F = static_cast<std::size_t>(x.cols());
  const auto G = static_cast<std::size_t>(model.groups);
  // The features the model splits on, and the trees that use each: only those can change.
  std::vector<std::vector<std::size_t>> trees_of(F);
  for (std::size_t t = 0; t < model.trees.size(); ++t) {
    for (const auto& n : model.trees[t].nodes) {
      if (n.feature < 0) continue;
      auto& v = trees_of[static_cast<std::size_t>(n.feature)];
      if (v.empty() || v.back() != t) v.push_back(t);
    }
  }
  std::vector<std::size_t> used;
  for (std::size_t f = 0; f < F; ++f)
    if (!trees_of[f].empty()) used.push_back(f);
  const auto [b, e] = my_block(rows.size(), coll);
  const std::size_t nt = model.trees.size(), nr = e - b;
  // Per row of mine: its leaf value in every tree, and its margins.
  std::vector<double> leaf(nr * nt), margin(nr * G);
  for (std::size_t i = 0; i < nr; ++i) {
    const std::int64_t r = rows[b + i];
    for (std::size_t g = 0; g < G; ++g) margin[i * G + g] = model.base_margin[g];
    for (std::size_t t = 0; t < nt; ++t) {
      leaf[i * nt + t] = leaf_of(model.trees[t], x, [&](std::int32_t f) { return x.code(f, r); }).value;
      margin[i * G + t % G] += leaf[i * nt + t];
    }
  }
  // Terms per row of mine: the loss as is, then with each used feature permuted.
  const std::size_t width = 1 + used.size();
  std::vector<double> terms(nr * width), m(G);
  for (std::size_t i = 0; i < nr; ++i) terms[i * width] = row_loss(model, margin.data() + i * G, y, rows[b + i]);
  std::vector<std::size_t> perm(rows.size());
  for (std::size_t u = 0; u < used.size(); ++u) {
    const auto f = static_cast<std::int32_t>(used[u]);
    // One permutation of the rows from (seed, feature): row i takes the code of row perm[i].
    std::iota(perm.begin(), perm.end(), 0);
    Rng rng(task_seed(seed, kStreamPermute, static_cast<std::uint64_t>(f)));
    for (std::size_t i = perm.size(); i > 1; --i) std::swap(perm[i - 1], perm[rng.below(i)]);
    for (std::size_t i = 0; i < nr; ++i) {
      const std::int64_t r = rows[b + i], donor = rows[perm[b + i]];
      std::copy_n(margin.data() + i * G, G, m.data());
      for (std::size_t t : trees_of[static_cast<std::size_t>(f)]) {
        const double v = leaf_of(model.trees[t], x, [&](std::int32_t c) { return x.code(c, c == f ? donor : r); }).value;
        m[t % G] += v - leaf[i * nt + t];
      }
      terms[i * width + 1 + u] = row_loss(model, m.data(), y, r);
    }
  }
  const auto sums = column_sums(terms, width, static_cast<std::int64_t>(rows.size()), coll);
  std::vector<double> imp(F, 0.0);
  const double n = static_cast<double>(std::max<std::size_t>(rows.size(), 1));
  for (std::size_t u = 0; u < used.size(); ++u) imp[used[u]] = (sums[1 + u] - sums[0]) / n;
  return imp;
}

}  // namespace genoforest::ml
