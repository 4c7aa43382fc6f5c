#include "genoforest/ml/forest.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <numeric>
#include <span>

#include "genoforest/core/error.hpp"
#include "genoforest/core/rng.hpp"

namespace genoforest::ml {

namespace {
constexpr std::uint64_t kPermutationStream = 0x7065726dULL;  // "perm"
constexpr std::uint64_t kNodeStream = 0x6e6f6465ULL;         // "node"

/// The key of a node's child (side 0 left, 1 right): a node's feature draws depend only on its
/// path from the root and the tree's seed, never on the order in which nodes are split.
std::uint64_t child_key(std::uint64_t key, int side) { return task_seed(key, kNodeStream, static_cast<std::uint64_t>(side)); }

/// x log x, with 0 log 0 = 0.
double xlogx(double v) { return v > 0 ? v * std::log(v) : 0.0; }
}  // namespace

void ForestParams::resolve(std::int64_t p) {
  if (p < 1) throw DataError("no feature to train on");
  if (n_trees < 1 || n_trees > kMaxTrees) throw UsageError("--trees must be between 1 and " + std::to_string(kMaxTrees));
  const bool cls = task == Task::kClassification;
  if (cls && criterion == Criterion::kVariance) throw UsageError("--criterion variance is for regression (quantitative labels)");
  if (!cls) criterion = Criterion::kVariance;
  if (mtry == 0) {
    mtry = cls ? std::max<std::int64_t>(1, static_cast<std::int64_t>(std::floor(std::sqrt(static_cast<double>(p)))))
               : std::max<std::int64_t>(1, p / 3);
  }
  if (mtry < 1) throw UsageError("--mtry must be at least 1");
  if (mtry > p) {
    throw UsageError("--mtry " + std::to_string(mtry) + " is larger than the number of features (" + std::to_string(p) + ")");
  }
  if (min_node_size == 0) min_node_size = cls ? 1 : 5;
  if (min_node_size < 1) throw UsageError("--min-node-size must be at least 1");
  if (max_depth < 0) throw UsageError("--max-depth must be 0 (unlimited) or more");
  if (sample_fraction == 0) sample_fraction = replace ? 1.0 : 0.632;
  if (!(sample_fraction > 0 && sample_fraction <= 1)) throw UsageError("--sample-fraction must be in (0, 1]");
}

std::int64_t Tree::depth() const {
  if (nodes.empty()) return 0;
  std::int64_t best = 0;
  std::vector<std::pair<std::int32_t, std::int64_t>> stack{{0, 0}};
  while (!stack.empty()) {
    const auto [i, d] = stack.back();
    stack.pop_back();
    best = std::max(best, d);
    const Node& nd = nodes[static_cast<std::size_t>(i)];
    if (nd.feature >= 0) {
      stack.emplace_back(nd.left, d + 1);
      stack.emplace_back(nd.right, d + 1);
    }
  }
  return best;
}

std::vector<double> class_weights(const Labels& y, const std::vector<std::int64_t>& rows, bool balanced) {
  std::vector<double> w(static_cast<std::size_t>(std::max(1, y.n_classes)), 1.0);
  if (!balanced || y.task != Task::kClassification) return w;
  std::vector<std::int64_t> n(w.size(), 0);
  for (const auto r : rows) ++n[static_cast<std::size_t>(y.code[static_cast<std::size_t>(r)])];
  for (std::size_t k = 0; k < w.size(); ++k) {
    if (n[k]) w[k] = static_cast<double>(rows.size()) / (static_cast<double>(w.size()) * static_cast<double>(n[k]));
  }
  return w;
}

namespace {

/// The best split found so far at a node.
struct Split {
  double score = -std::numeric_limits<double>::infinity();
  std::int32_t feature = -1;
  int threshold = 0;
  bool missing_left = false;
  std::int64_t n_left = 0;
};

/// The tree renumbered as depth-first growth numbers it: a split node's two children get the next
/// two numbers when it splits, the left subtree is grown before the right, and leaves take their
/// values in the order they are made.
/// `renumber` (when given) receives each old node's new number.
Tree canonical_order(const Tree& t, std::vector<std::int32_t>* renumber = nullptr) {
  Tree out;
  if (renumber) renumber->assign(t.nodes.size(), -1);
  out.width = t.width;
  out.nodes.emplace_back();
  std::vector<std::pair<std::int32_t, std::int32_t>> stack{{0, 0}};  // (old number, new number)
  while (!stack.empty()) {
    const auto [o, nw] = stack.back();
    stack.pop_back();
    if (renumber) (*renumber)[static_cast<std::size_t>(o)] = nw;
    const Node& nd = t.nodes[static_cast<std::size_t>(o)];
    if (nd.feature < 0) {
      Node& leaf = out.nodes[static_cast<std::size_t>(nw)];
      leaf.feature = -1;
      leaf.left = static_cast<std::int32_t>(out.leaf_values.size());
      const auto* v = t.leaf_values.data() + nd.left;
      out.leaf_values.insert(out.leaf_values.end(), v, v + t.width);
      continue;
    }
    const auto l = static_cast<std::int32_t>(out.nodes.size());
    Node& split = out.nodes[static_cast<std::size_t>(nw)];
    split.feature = nd.feature;
    split.threshold = nd.threshold;
    split.missing_left = nd.missing_left;
    split.left = l;
    split.right = l + 1;
    out.nodes.emplace_back();
    out.nodes.emplace_back();
    stack.emplace_back(nd.right, l + 1);
    stack.emplace_back(nd.left, l);
  }
  return out;
}

/// A split's impurity decrease: its feature, node (numbered as depth-first growth numbers it) and value.
struct Decrease {
  std::int32_t feature;
  std::int32_t node;
  double value;
};

/// Nodes with at most this many distinct samples prefetch their features' lines.
constexpr std::int64_t kSmallNode = 256;

/// Grows one tree; holds the node's sample range buffers.
class Grower {
 public:
  /// A node to grow: its number in the tree, its samples [begin, end), depth and key.
  struct Work {
    std::int32_t node;
    std::int64_t begin, end, depth;
    std::uint64_t key;
  };

  Grower(const FeatureMatrix& x, const Labels& y, const ForestParams& p, std::vector<double> weights)
      : x_(x), y_(y), p_(p), w_(std::move(weights)), cls_(p.task == Task::kClassification),
        k_(cls_ ? y.n_classes : 1) {
    features_.resize(static_cast<std::size_t>(p.mtry));
    drawn_.assign((static_cast<std::size_t>(x.cols()) + 63) / 64, 0);
    counts_.resize(static_cast<std::size_t>(256 * k_));
    sums_.resize(256);
  }

  /// Draws the node's mtry features into features_, in draw order: Floyd's sampling of distinct
  /// features from a generator seeded by the node's key.
  void draw_features(std::uint64_t key) {
    Rng r(key);
    const auto p = static_cast<std::uint64_t>(x_.cols());
    const auto m = static_cast<std::uint64_t>(p_.mtry);
    std::size_t n = 0;
    for (std::uint64_t j = p - m; j < p; ++j) {
      auto t = r.below(j + 1);
      if (drawn_[t >> 6] >> (t & 63) & 1) t = j;
      drawn_[t >> 6] |= std::uint64_t{1} << (t & 63);
      features_[n++] = static_cast<std::int32_t>(t);
    }
    for (std::size_t i = 0; i < n; ++i) {
      const auto f = static_cast<std::uint64_t>(features_[i]);
      drawn_[f >> 6] &= ~(std::uint64_t{1} << (f & 63));
    }
  }

  Tree grow(std::vector<std::int64_t> samples, std::uint64_t root_key) {
    setup(std::move(samples));
    return grow_depth_first(root_key);
  }

  /// Takes the tree's bootstrap rows. A bootstrap draws rows more than once: each row is kept
  /// once with its count, which weighs it in every count below. The same tree as one entry per
  /// draw, with about a third fewer entries.
  void setup(std::vector<std::int64_t> samples) {
    std::sort(samples.begin(), samples.end());
    samples_.clear();
    wt_.clear();
    for (const auto r : samples) {
      if (!samples_.empty() && samples_.back() == r) {
        ++wt_.back();
      } else {
        samples_.push_back(r);
        wt_.push_back(1);
      }
    }
    max_wt_ = *std::max_element(wt_.begin(), wt_.end());
    fast_binary_ = cls_ && k_ == 2 && max_wt_ <= 255;
    if (cls_) {
      ycode_.resize(samples_.size());
      for (std::size_t i = 0; i < samples_.size(); ++i) ycode_[i] = y_.code[static_cast<std::size_t>(samples_[i])];
    } else {
      yval_.resize(samples_.size());
      for (std::size_t i = 0; i < samples_.size(); ++i) yval_[i] = y_.value[static_cast<std::size_t>(samples_[i])];
    }
  }

  /// The tree, node after node, depth first (numbering and leaf order as canonical_order gives).
  Tree grow_depth_first(std::uint64_t root_key) {
    Tree t;
    t.width = k_;
    t.nodes.emplace_back();
    std::vector<Work> stack{{0, 0, static_cast<std::int64_t>(samples_.size()), 0, root_key}};
    root_weight_ = -1;
    while (!stack.empty()) {
      const Work wk = stack.back();
      stack.pop_back();
      Split s;
      double parent_score = 0;
      const bool can_split = node_stats(wk.begin, wk.end, wk.depth, parent_score);
      if (root_weight_ < 0) root_weight_ = node_weight_;
      if (can_split) s = find_split(wk.begin, wk.end, wk.key);
      if (s.feature < 0) {
        make_leaf(t, wk.node);
        continue;
      }
      const auto [left, right] = apply_split(t, wk, s, parent_score);
      // Right first so the left subtree is grown (and numbered) first.
      stack.push_back(right);
      stack.push_back(left);
    }
    return t;
  }

  /// Splits node wk of t on s: importance, partition of its samples, its two children (numbered
  /// next in t). Returns the children's work.
  std::pair<Work, Work> apply_split(Tree& t, const Work& wk, const Split& s, double parent_score) {
    impurity_.push_back({s.feature, wk.node, (s.score - parent_score) / root_weight_});
    const std::int64_t mid = partition(wk.begin, wk.end, s);
    Node& nd = t.nodes[static_cast<std::size_t>(wk.node)];
    nd.feature = s.feature;
    nd.threshold = static_cast<std::uint8_t>(s.threshold);
    nd.missing_left = s.missing_left;
    nd.left = static_cast<std::int32_t>(t.nodes.size());
    nd.right = nd.left + 1;
    const std::int32_t l = nd.left, r = nd.right;
    t.nodes.emplace_back();
    t.nodes.emplace_back();
    return {Work{l, wk.begin, mid, wk.depth + 1, child_key(wk.key, 0)},
            Work{r, mid, wk.end, wk.depth + 1, child_key(wk.key, 1)}};
  }

  /// The weighted impurity decrease / root weight of each split.
  std::vector<Decrease>& impurity() { return impurity_; }

  // ---- level by level, several trees together (see grow_batch) --------------------------------
  /// One feature to try at one node of the current level: the node's draw position j.
  struct Request {
    std::int32_t feature, tree, node, j;
  };

  /// Whether this tree grows faster level by level: two classes, counts of at most 255 per row.
  [[nodiscard]] bool levelled() const noexcept { return fast_binary_; }

  void start_levels(std::uint64_t root_key) {
    tree_ = Tree{};
    tree_.width = k_;
    tree_.nodes.emplace_back();
    level_.assign(1, Work{0, 0, static_cast<std::int64_t>(samples_.size()), 0, root_key});
    root_weight_ = -1;
  }

  /// Makes leaves of the level's nodes that cannot split; for the others, lays out their lanes and
  /// appends their feature draws to `requests` (as tree `tree`).
  void prepare_level(std::int32_t tree, std::vector<Request>& requests) {
    open_.clear();
    lane_off_.clear();
    lane_shift_.clear();
    lane_inc_.clear();
    for (const Work& wk : level_) {
      double parent_score = 0;
      const bool can_split = node_stats(wk.begin, wk.end, wk.depth, parent_score);
      if (root_weight_ < 0) root_weight_ = node_weight_;
      if (!can_split) {
        make_leaf(tree_, wk.node);
        continue;
      }
      Open o{wk, parent_score, leaf_, lane_off_.size(), Split{}, 0, node_n_};
      if (fast_binary_) append_lanes(wk.begin, wk.end, lane_off_, lane_shift_, lane_inc_);
      draw_features(wk.key);
      const auto node = static_cast<std::int32_t>(open_.size());
      for (std::int32_t j = 0; j < static_cast<std::int32_t>(p_.mtry); ++j) {
        requests.push_back({features_[static_cast<std::size_t>(j)], tree, node, j});
      }
      open_.push_back(o);
    }
    lane_off_.resize(lane_off_.size() + kLookahead, 0);  // prefetched past the last node, never read
  }

  /// Tries feature f (draw position j) at open node i. The node keeps the best score, the
  /// earliest draw on ties: what trying its features in draw order keeps.
  void evaluate(std::int32_t i, std::int32_t f, std::int32_t j) {
    Open& o = open_[static_cast<std::size_t>(i)];
    Split local;
    if (fast_binary_ && x_.packed(f)) {
      std::int64_t n[4][2] = {};
      count_binary(f, lane_off_.data() + o.lanes, lane_shift_.data() + o.lanes, lane_inc_.data() + o.lanes,
                   o.work.end - o.work.begin, n);
      best_binary_split(f, n, local);
    } else if (cls_) {
      node_n_ = o.n;
      evaluate_class(f, o.work.begin, o.work.end, local);
    } else {
      node_n_ = o.n;
      evaluate_regression(f, o.work.begin, o.work.end, local);
    }
    if (local.feature >= 0 && (local.score > o.best.score || (local.score == o.best.score && j < o.best_j))) {
      o.best = local;
      o.best_j = j;
    }
  }

  /// The level's nodes that may split, and the best split each has found (Sharding: to agree on).
  [[nodiscard]] std::size_t n_open() const noexcept { return open_.size(); }
  [[nodiscard]] const Split& best(std::size_t i) const { return open_[i].best; }
  [[nodiscard]] std::int32_t best_draw(std::size_t i) const { return open_[i].best_j; }
  void set_best(std::size_t i, const Split& s, std::int32_t j) {
    open_[i].best = s;
    open_[i].best_j = j;
  }
  /// Bytes of open node i's partition bitmap.
  [[nodiscard]] std::size_t open_bytes(std::size_t i) const {
    return static_cast<std::size_t>((open_[i].work.end - open_[i].work.begin + 7) / 8);
  }
  /// Open node i's partition on its best split: a bit per sample of the node (in node order), set
  /// for those going left, appended to `out` (whole bytes).
  void left_bits(std::size_t i, std::vector<std::uint8_t>& out) const {
    const Open& o = open_[i];
    const Split& s = o.best;
    const int bins = x_.bins(s.feature);
    const std::size_t at = out.size();
    out.resize(at + static_cast<std::size_t>((o.work.end - o.work.begin + 7) / 8), 0);
    for (std::int64_t q = o.work.begin; q < o.work.end; ++q) {
      const int c = x_.code(s.feature, samples_[static_cast<std::size_t>(q)]);
      if (c == bins ? s.missing_left : c <= s.threshold) {
        const auto b = static_cast<std::size_t>(q - o.work.begin);
        out[at + b / 8] |= static_cast<std::uint8_t>(1u << (b % 8));
      }
    }
  }

  /// Splits the level's nodes on their best features; their children make the next level.
  /// `bits`: each open node's partition (left_bits) where the split's column is held elsewhere.
  /// False when no node is left to grow.
  bool finish_level(const std::vector<const std::uint8_t*>* bits = nullptr) {
    next_.clear();
    for (std::size_t i = 0; i < open_.size(); ++i) {
      const Open& o = open_[i];
      const Work& wk = o.work;
      if (o.best.feature < 0) {
        leaf_ = o.leaf;
        make_leaf(tree_, wk.node);
        continue;
      }
      left_ = bits ? (*bits)[i] : nullptr;
      const auto [left, right] = apply_split(tree_, wk, o.best, o.parent_score);
      left_ = nullptr;
      next_.push_back(left);
      next_.push_back(right);
    }
    level_.swap(next_);
    return !level_.empty();
  }

  /// The tree grown level by level, renumbered as depth-first growth numbers it.
  Tree take_levelled_tree() {
    std::vector<std::int32_t> renumber;
    Tree t = canonical_order(tree_, &renumber);
    for (auto& d : impurity_) d.node = renumber[static_cast<std::size_t>(d.node)];
    return t;
  }

 private:
  /// Computes the node's totals (and leaf values); false when the node must be a leaf.
  bool node_stats(std::int64_t b, std::int64_t e, std::int64_t depth, double& parent_score) {
    std::int64_t n = 0;  // drawn samples, repeats counted
    for (std::int64_t i = b; i < e; ++i) n += wt_[static_cast<std::size_t>(i)];
    node_n_ = n;
    leaf_.assign(static_cast<std::size_t>(k_), 0.0);
    bool pure = true;
    if (cls_) {
      std::vector<std::int64_t> c(static_cast<std::size_t>(k_), 0);
      for (std::int64_t i = b; i < e; ++i) {
        c[static_cast<std::size_t>(ycode_[static_cast<std::size_t>(i)])] += wt_[static_cast<std::size_t>(i)];
      }
      double w = 0, sq = 0, ent = 0;
      int present = 0;
      for (int k = 0; k < k_; ++k) {
        const double wk = static_cast<double>(c[static_cast<std::size_t>(k)]) * w_[static_cast<std::size_t>(k)];
        leaf_[static_cast<std::size_t>(k)] = wk;
        w += wk;
        sq += wk * wk;
        ent += xlogx(wk);
        present += c[static_cast<std::size_t>(k)] > 0;
      }
      for (auto& v : leaf_) v = w > 0 ? v / w : 0;
      node_weight_ = w;
      pure = present <= 1;
      parent_score = p_.criterion == Criterion::kEntropy ? ent - xlogx(w) : (w > 0 ? sq / w : 0);
    } else {
      double s = 0;
      for (std::int64_t i = b; i < e; ++i) s += yval_[static_cast<std::size_t>(i)] * wt_[static_cast<std::size_t>(i)];
      const double mean = n ? s / static_cast<double>(n) : 0;
      leaf_[0] = mean;
      for (std::int64_t i = b; i < e && pure; ++i) pure = yval_[static_cast<std::size_t>(i)] == yval_[static_cast<std::size_t>(b)];
      node_weight_ = static_cast<double>(n);
      parent_score = n ? s * s / static_cast<double>(n) : 0;
    }
    if (n < 2 || n <= p_.min_node_size || pure) return false;
    if (p_.max_depth > 0 && depth >= p_.max_depth) return false;
    return true;
  }

  void make_leaf(Tree& t, std::int32_t node) {
    Node& nd = t.nodes[static_cast<std::size_t>(node)];
    nd.feature = -1;
    nd.left = static_cast<std::int32_t>(t.leaf_values.size());
    for (double v : leaf_) t.leaf_values.push_back(static_cast<float>(v));
  }

  Split find_split(std::int64_t b, std::int64_t e, std::uint64_t key) {
    Split best;
    const auto mtry = static_cast<std::size_t>(p_.mtry);
    draw_features(key);
    if (fast_binary_) node_lanes(b, e);
    // A small node reads one cache line per sample of each feature, lines the hardware cannot
    // guess: they are asked for kAhead features in advance, so that the misses overlap.
    constexpr std::size_t kAhead = 2;
    const bool small = e - b <= kSmallNode;
    auto prefetch = [&](std::size_t i) {
      const std::int32_t f = features_[i];
      const std::uint8_t* d = x_.data(f);
      const std::int64_t* s = samples_.data();
      if (fast_binary_ && x_.packed(f)) {
        const std::uint32_t* off = off_.data();
        for (std::int64_t q = 0, m = e - b; q < m; ++q) __builtin_prefetch(d + off[q]);
      } else if (x_.packed(f)) {
        for (std::int64_t q = b; q < e; ++q) __builtin_prefetch(d + (s[q] >> 2));
      } else {
        for (std::int64_t q = b; q < e; ++q) __builtin_prefetch(d + s[q]);
      }
    };
    if (small) {
      for (std::size_t i = 0; i < std::min(kAhead, mtry); ++i) prefetch(i);
    }
    for (std::size_t i = 0; i < mtry; ++i) {
      if (small && i + kAhead < mtry) prefetch(i + kAhead);
      const std::int32_t f = features_[i];
      if (cls_) {
        evaluate_class(f, b, e, best);
      } else {
        evaluate_regression(f, b, e, best);
      }
    }
    return best;
  }

  /// Counts samples of [b, e) per (code, class) of feature f into counts_.
  void count_classes(std::int32_t f, std::int64_t b, std::int64_t e, int codes) {
    std::fill(counts_.begin(), counts_.begin() + static_cast<std::ptrdiff_t>(codes * k_), 0);
    const std::uint8_t* d = x_.data(f);
    const std::int64_t* s = samples_.data();
    const std::int32_t* y = ycode_.data();
    const std::uint32_t* w = wt_.data();
    std::int32_t* c = counts_.data();
    const int k = k_;
    if (x_.packed(f)) {
      for (std::int64_t i = b; i < e; ++i) {
        const std::int64_t r = s[i];
        c[((d[r >> 2] >> ((r & 3) << 1)) & 3) * k + y[i]] += static_cast<std::int32_t>(w[i]);
      }
    } else {
      for (std::int64_t i = b; i < e; ++i) c[d[s[i]] * k + y[i]] += static_cast<std::int32_t>(w[i]);
    }
  }

  /// Two classes, genotype columns only, and counts of at most 255 per row: a node's samples
  /// are counted in 8-bit lanes of one register, lane 8·code + 32·class (no histogram in memory,
  /// whose repeated increments of the same few counters stall on store forwarding), from
  /// per-node arrays that hold all each visit needs: the byte, the shift and the increment.
  void node_lanes(std::int64_t b, std::int64_t e) {
    off_.clear();
    shift_.clear();
    inc_.clear();
    append_lanes(b, e, off_, shift_, inc_);
    off_.resize(off_.size() + kLookahead, 0);  // the padding is prefetched, never read
  }

  /// Appends the lanes of samples [b, e): the byte of each in a column, its shift in the byte
  /// and its increment (weight << 32·class).
  void append_lanes(std::int64_t b, std::int64_t e, std::vector<std::uint32_t>& off, std::vector<std::uint8_t>& shift,
                    std::vector<std::uint64_t>& inc) const {
    for (std::int64_t i = b; i < e; ++i) {
      const auto ui = static_cast<std::size_t>(i);
      const std::int64_t r = samples_[ui];
      off.push_back(static_cast<std::uint32_t>(r >> 2));
      shift.push_back(static_cast<std::uint8_t>((r & 3) << 1));
      inc.push_back(std::uint64_t{wt_[ui]} << (ycode_[ui] ? 32 : 0));
    }
  }

  /// Counts (code, class) of the node's samples (node_lanes) in genotype column f into n.
  void count_binary(std::int32_t f, std::int64_t m, std::int64_t (&n)[4][2]) const {
    count_binary(f, off_.data(), shift_.data(), inc_.data(), m, n);
  }
  /// The same over lanes given explicitly (m entries, off padded by kLookahead).
  void count_binary(std::int32_t f, const std::uint32_t* off, const std::uint8_t* sh, const std::uint64_t* inc,
                    std::int64_t m, std::int64_t (&n)[4][2]) const {
    const std::uint8_t* d = x_.data(f);
    const std::int64_t chunk = 255 / max_wt_;  // a lane holds at most 255
    for (std::int64_t j0 = 0; j0 < m; j0 += chunk) {
      const std::int64_t j1 = std::min(m, j0 + chunk);
      std::uint64_t a = 0;
      for (std::int64_t j = j0; j < j1; ++j) {
        // Deep nodes touch a new cache line per sample: ask for it well ahead.
        __builtin_prefetch(d + off[j + kLookahead]);
        a += inc[j] << (((d[off[j]] >> sh[j]) & 3) << 3);
      }
      for (int c = 0; c < 4; ++c) {
        n[c][0] += static_cast<std::int64_t>((a >> (8 * c)) & 0xFF);
        n[c][1] += static_cast<std::int64_t>((a >> (32 + 8 * c)) & 0xFF);
      }
    }
  }

  /// Two classes and a genotype column: the four candidate splits in closed form.
  void evaluate_binary_genotypes(std::int32_t f, std::int64_t b, std::int64_t e, Split& best) {
    std::int64_t n[4][2] = {};
    count_binary(f, e - b, n);
    best_binary_split(f, n, best);
  }

  /// The four candidate splits of genotype column f from its (code, class) counts.
  void best_binary_split(std::int32_t f, const std::int64_t (&n)[4][2], Split& best) const {
    const double w0 = w_[0], w1 = w_[1];
    const bool entropy = p_.criterion == Criterion::kEntropy;
    auto side = [&](double c0, double c1) {
      const double w = c0 + c1;
      if (entropy) return xlogx(c0) + xlogx(c1) - xlogx(w);
      return w > 0 ? (c0 * c0 + c1 * c1) / w : 0.0;
    };
    const std::int64_t nm = n[3][0] + n[3][1];
    const double m0 = static_cast<double>(n[3][0]) * w0, m1 = static_cast<double>(n[3][1]) * w1;
    for (int t = 0; t < 2; ++t) {
      std::int64_t nl = 0, nr = 0;
      double l0 = 0, l1 = 0, r0 = 0, r1 = 0;
      for (int c = 0; c < 3; ++c) {
        const double c0 = static_cast<double>(n[c][0]) * w0, c1 = static_cast<double>(n[c][1]) * w1;
        if (c <= t) {
          l0 += c0, l1 += c1, nl += n[c][0] + n[c][1];
        } else {
          r0 += c0, r1 += c1, nr += n[c][0] + n[c][1];
        }
      }
      for (int ml = 0; ml < (nm ? 2 : 1); ++ml) {
        const std::int64_t a = nl + (ml ? nm : 0), z = nr + (ml ? 0 : nm);
        if (a == 0 || z == 0) continue;
        const double sc = ml ? side(l0 + m0, l1 + m1) + side(r0, r1) : side(l0, l1) + side(r0 + m0, r1 + m1);
        if (sc > best.score) best = Split{sc, f, t, ml == 1, a};
      }
    }
  }

  void evaluate_class(std::int32_t f, std::int64_t b, std::int64_t e, Split& best) {
    if (fast_binary_ && x_.packed(f)) {
      evaluate_binary_genotypes(f, b, e, best);
      return;
    }
    const int bins = x_.bins(f);
    const int codes = bins + 1;
    count_classes(f, b, e, codes);
    const int k = k_;
    // Weighted totals per code, and the missing code's.
    double tot[256], left[256], miss[256];
    std::int64_t n_code[256];
    for (int kk = 0; kk < k; ++kk) tot[kk] = left[kk] = miss[kk] = 0;
    for (int c = 0; c < codes; ++c) {
      std::int64_t n = 0;
      for (int kk = 0; kk < k; ++kk) {
        const std::int32_t v = counts_[static_cast<std::size_t>(c * k + kk)];
        n += v;
        const double wv = v * w_[static_cast<std::size_t>(kk)];
        tot[kk] += wv;
        if (c == bins) miss[kk] = wv;
      }
      n_code[c] = n;
    }
    const std::int64_t n_all = node_n_, n_miss = n_code[bins];
    const bool entropy = p_.criterion == Criterion::kEntropy;
    auto side_score = [&](const double* v, double extra_sign, const double* m) {
      // Score of a side holding v (+ m when extra_sign > 0).
      double w = 0, s = 0;
      for (int kk = 0; kk < k; ++kk) {
        const double x = v[kk] + (extra_sign > 0 ? m[kk] : 0.0);
        w += x;
        s += entropy ? xlogx(x) : x * x;
      }
      return entropy ? s - xlogx(w) : (w > 0 ? s / w : 0.0);
    };
    double right[256];
    std::int64_t n_left = 0;
    for (int t = 0; t + 1 < bins; ++t) {
      for (int kk = 0; kk < k; ++kk) left[kk] += counts_[static_cast<std::size_t>(t * k + kk)] * w_[static_cast<std::size_t>(kk)];
      n_left += n_code[t];
      for (int kk = 0; kk < k; ++kk) right[kk] = tot[kk] - left[kk] - miss[kk];
      const std::int64_t n_right = n_all - n_left - n_miss;
      for (int ml = 0; ml < (n_miss ? 2 : 1); ++ml) {
        const std::int64_t nl = n_left + (ml ? n_miss : 0), nr = n_right + (ml ? 0 : n_miss);
        if (nl == 0 || nr == 0) continue;
        const double sc = side_score(left, ml, miss) + side_score(right, 1 - ml, miss);
        if (sc > best.score) best = Split{sc, f, t, ml == 1, nl};
      }
    }
  }

  void evaluate_regression(std::int32_t f, std::int64_t b, std::int64_t e, Split& best) {
    const int bins = x_.bins(f);
    const int codes = bins + 1;
    std::fill(counts_.begin(), counts_.begin() + codes, 0);
    std::fill(sums_.begin(), sums_.begin() + codes, 0.0);
    for (std::int64_t i = b; i < e; ++i) {
      const auto ui = static_cast<std::size_t>(i);
      const int c = x_.code(f, samples_[ui]);
      counts_[static_cast<std::size_t>(c)] += static_cast<std::int32_t>(wt_[ui]);
      sums_[static_cast<std::size_t>(c)] += yval_[ui] * wt_[ui];
    }
    double total = 0;
    for (int c = 0; c < codes; ++c) total += sums_[static_cast<std::size_t>(c)];
    const std::int64_t n_all = node_n_, n_miss = counts_[static_cast<std::size_t>(bins)];
    const double s_miss = sums_[static_cast<std::size_t>(bins)];
    double s_left = 0;
    std::int64_t n_left = 0;
    for (int t = 0; t + 1 < bins; ++t) {
      s_left += sums_[static_cast<std::size_t>(t)];
      n_left += counts_[static_cast<std::size_t>(t)];
      for (int ml = 0; ml < (n_miss ? 2 : 1); ++ml) {
        const std::int64_t nl = n_left + (ml ? n_miss : 0), nr = n_all - nl;
        if (nl == 0 || nr == 0) continue;
        const double sl = s_left + (ml ? s_miss : 0), sr = total - sl;
        const double sc = sl * sl / static_cast<double>(nl) + sr * sr / static_cast<double>(nr);
        if (sc > best.score) best = Split{sc, f, t, ml == 1, nl};
      }
    }
  }

  /// Stable partition of [b, e): left samples first. Samples stay in increasing row order (the
  /// root's list is sorted), so a node's reads of a column move forward through memory.
  std::int64_t partition(std::int64_t b, std::int64_t e, const Split& s) {
    const int bins = x_.bins(s.feature);
    std::int64_t out = b, n_left = 0;
    right_samples_.clear();
    right_wt_.clear();
    right_codes_.clear();
    right_values_.clear();
    for (std::int64_t i = b; i < e; ++i) {
      const auto ui = static_cast<std::size_t>(i);
      bool goes_left;
      if (left_) {
        goes_left = (left_[(i - b) / 8] >> ((i - b) % 8)) & 1;
      } else {
        const int c = x_.code(s.feature, samples_[ui]);
        goes_left = c == bins ? s.missing_left : c <= s.threshold;
      }
      if (goes_left) {
        const auto uo = static_cast<std::size_t>(out++);
        samples_[uo] = samples_[ui];
        wt_[uo] = wt_[ui];
        n_left += wt_[ui];
        if (cls_) ycode_[uo] = ycode_[ui];
        else yval_[uo] = yval_[ui];
      } else {
        right_samples_.push_back(samples_[ui]);
        right_wt_.push_back(wt_[ui]);
        if (cls_) right_codes_.push_back(ycode_[ui]);
        else right_values_.push_back(yval_[ui]);
      }
    }
    if (n_left != s.n_left) throw InternalError("tree growth: split counts disagree with the partition");
    std::copy(right_samples_.begin(), right_samples_.end(), samples_.begin() + out);
    std::copy(right_wt_.begin(), right_wt_.end(), wt_.begin() + out);
    if (cls_) std::copy(right_codes_.begin(), right_codes_.end(), ycode_.begin() + out);
    else std::copy(right_values_.begin(), right_values_.end(), yval_.begin() + out);
    return out;
  }

  const FeatureMatrix& x_;
  const Labels& y_;
  const ForestParams& p_;
  std::vector<double> w_;
  bool cls_;
  int k_;
  std::vector<std::int32_t> features_;  // the node's drawn features, in draw order
  std::vector<std::uint64_t> drawn_;    // draw_features: a bit per feature, all clear between nodes
  std::vector<std::int64_t> samples_;  // the tree's rows, each once, in node order
  std::vector<std::uint32_t> wt_;       // times each was drawn
  std::uint32_t max_wt_ = 1;
  std::int64_t node_n_ = 0;             // drawn samples of the node being split
  bool fast_binary_ = false;            // count_binary applies to genotype columns
  static constexpr std::size_t kLookahead = 16;
  std::vector<std::uint32_t> off_;      // node_lanes: byte of each sample in a column
  std::vector<std::uint8_t> shift_;     // its shift in the byte
  std::vector<std::uint64_t> inc_;      // its increment: count << 32·class
  std::vector<std::int32_t> ycode_;
  std::vector<double> yval_;
  std::vector<std::int32_t> counts_;
  std::vector<double> sums_;
  std::vector<Decrease> impurity_;
  std::vector<double> leaf_;
  const std::uint8_t* left_ = nullptr;  // set: the partition of the node being split, as bits
  std::vector<std::int64_t> right_samples_;
  std::vector<std::uint32_t> right_wt_;
  std::vector<std::int32_t> right_codes_;
  std::vector<double> right_values_;
  double node_weight_ = 0;
  double root_weight_ = -1;
  // Level-by-level growth.
  struct Open {  // a node of the level that may split
    Work work;
    double parent_score;
    std::vector<double> leaf;
    std::size_t lanes;  // start of its lanes in lane_*
    Split best;
    std::int32_t best_j;
    std::int64_t n;  // drawn samples, repeats counted
  };
  Tree tree_;
  std::vector<Work> level_, next_;
  std::vector<Open> open_;
  std::vector<std::uint32_t> lane_off_;
  std::vector<std::uint8_t> lane_shift_;
  std::vector<std::uint64_t> lane_inc_;
};

/// Index of the largest value (the first on ties).
int argmax(const float* v, int k) {
  int best = 0;
  for (int i = 1; i < k; ++i)
    if (v[i] > v[best]) best = i;
  return best;
}

}  // namespace

namespace {

/// A tree's bootstrap (or subsample) rows, and how often each training position was drawn.
struct Drawn {
  std::vector<std::int64_t> samples;
  std::vector<std::int32_t> inbag;
};

Drawn draw_rows(const std::vector<std::int64_t>& rows, const ForestParams& params, std::uint64_t seed) {
  Rng rng(seed);
  const auto n = static_cast<std::int64_t>(rows.size());
  const std::int64_t draw = std::max<std::int64_t>(1, std::llround(params.sample_fraction * static_cast<double>(n)));
  Drawn d;
  d.inbag.assign(static_cast<std::size_t>(n), 0);
  d.samples.reserve(static_cast<std::size_t>(draw));
  if (params.replace) {
    for (std::int64_t k = 0; k < draw; ++k) {
      const auto j = static_cast<std::size_t>(rng.below(static_cast<std::uint64_t>(n)));
      ++d.inbag[j];
      d.samples.push_back(rows[j]);
    }
  } else {
    std::vector<std::int64_t> perm(static_cast<std::size_t>(n));
    std::iota(perm.begin(), perm.end(), 0);
    for (std::int64_t k = 0; k < draw; ++k) {
      const auto j = static_cast<std::size_t>(k) + rng.below(static_cast<std::uint64_t>(n - k));
      std::swap(perm[static_cast<std::size_t>(k)], perm[j]);
      ++d.inbag[static_cast<std::size_t>(perm[static_cast<std::size_t>(k)])];
      d.samples.push_back(rows[static_cast<std::size_t>(perm[static_cast<std::size_t>(k)])]);
    }
  }
  return d;
}

/// A row to route down a tree: matrix row `row`, with feature `feature`'s code taken from row
/// `donor` (feature -1: none), through tree `tree` of a batch.
struct Query {
  std::int32_t tree;
  std::int32_t feature;
  std::int64_t row;
  std::int64_t donor;
};

/// Whether query q goes left at internal node nd.
bool goes_left(const Node& nd, const FeatureMatrix& x, const Query& q) {
  const int c = x.code(nd.feature, nd.feature == q.feature ? q.donor : q.row);
  return c == x.bins(nd.feature) ? nd.missing_left != 0 : c <= nd.threshold;
}

/// The leaf each query reaches. With a sharding, one exchange per level: each rank says which
/// way the queries standing at a node whose feature it holds go (a bit each, in query order).
std::vector<std::int32_t> route(const std::vector<const Tree*>& trees, const std::vector<Query>& queries,
                                const FeatureMatrix& x, const Sharding* shard) {
  std::vector<std::int32_t> at(queries.size(), 0);
  auto node_of = [&](std::size_t q) -> const Node& {
    return trees[static_cast<std::size_t>(queries[q].tree)]->nodes[static_cast<std::size_t>(at[q])];
  };
  if (!shard) {
    for (std::size_t q = 0; q < queries.size(); ++q) {
      for (;;) {
        const Node& nd = node_of(q);
        if (nd.feature < 0) break;
        at[q] = goes_left(nd, x, queries[q]) ? nd.left : nd.right;
      }
    }
    return at;
  }
  const int ranks = shard->comm->size();
  std::vector<std::size_t> moving(queries.size()), still;
  std::iota(moving.begin(), moving.end(), std::size_t{0});
  std::vector<std::uint8_t> mine;
  std::vector<int> owner;
  std::vector<std::size_t> cursor(static_cast<std::size_t>(ranks));
  while (!moving.empty()) {
    mine.clear();
    std::size_t n_mine = 0;
    owner.resize(moving.size());
    for (std::size_t m = 0; m < moving.size(); ++m) {
      const Node& nd = node_of(moving[m]);
      owner[m] = shard->owner(nd.feature);
      if (!shard->owns(nd.feature)) continue;
      if (n_mine % 8 == 0) mine.push_back(0);
      if (goes_left(nd, x, queries[moving[m]])) mine.back() |= static_cast<std::uint8_t>(1u << (n_mine % 8));
      ++n_mine;
    }
    const auto all = shard->comm->all_gather(mine);
    std::fill(cursor.begin(), cursor.end(), 0);
    still.clear();
    for (std::size_t m = 0; m < moving.size(); ++m) {
      const auto r = static_cast<std::size_t>(owner[m]);
      const std::size_t b = cursor[r]++;
      const bool left = (all[r][b / 8] >> (b % 8)) & 1;
      const Node& nd = node_of(moving[m]);
      at[moving[m]] = left ? nd.left : nd.right;
      if (node_of(moving[m]).feature >= 0) still.push_back(moving[m]);
    }
    moving.swap(still);
  }
  return at;
}

/// A grown tree and what its growth left: impurity decreases, how often each row was drawn.
struct Grown {
  Tree tree;
  std::vector<Decrease> impurity;
  std::vector<std::int32_t> inbag;
};

/// The grown trees' results: impurity importances, out-of-bag predictions and permutation
/// importances as `options` ask, the rows routed through all trees together.
std::vector<TreeResult> finish_trees(std::vector<Grown>& grown, const FeatureMatrix& x, const Labels& y,
                                     const std::vector<std::int64_t>& rows, const ForestParams& params,
                                     const std::vector<std::uint64_t>& seeds, const TreeOptions& options,
                                     const Sharding* shard) {
  const auto n = static_cast<std::int64_t>(rows.size());
  const bool cls = params.task == Task::kClassification;
  std::vector<TreeResult> out(grown.size());
  std::vector<const Tree*> trees;
  for (std::size_t i = 0; i < grown.size(); ++i) {
    out[i].tree = std::move(grown[i].tree);
    trees.push_back(&out[i].tree);
    if (options.impurity_importance) {
      // Summed per feature in node order: the same sums however the tree was grown.
      auto& imp = grown[i].impurity;
      std::sort(imp.begin(), imp.end(), [](const Decrease& a, const Decrease& b) {
        return a.feature != b.feature ? a.feature < b.feature : a.node < b.node;
      });
      for (std::size_t a = 0; a < imp.size();) {
        double v = 0;
        std::size_t z = a;
        for (; z < imp.size() && imp[z].feature == imp[a].feature; ++z) v += imp[z].value;
        if (v != 0) {
          out[i].impurity_features.push_back(imp[a].feature);
          out[i].impurity_values.push_back(v);
        }
        a = z;
      }
    }
  }
  if (!options.oob && !options.permutation_importance) return out;

  std::vector<Query> queries;
  for (std::size_t i = 0; i < grown.size(); ++i) {
    for (std::int64_t j = 0; j < n; ++j) {
      if (grown[i].inbag[static_cast<std::size_t>(j)]) continue;
      out[i].oob_rows.push_back(j);
      queries.push_back({static_cast<std::int32_t>(i), -1, rows[static_cast<std::size_t>(j)], 0});
    }
  }
  const auto leaves = route(trees, queries, x, shard);
  std::vector<std::size_t> first(grown.size() + 1, 0);  // each tree's first query
  for (std::size_t i = 0; i < grown.size(); ++i) first[i + 1] = first[i] + out[i].oob_rows.size();
  for (std::size_t i = 0; i < grown.size(); ++i) {
    const Tree& t = out[i].tree;
    for (std::size_t q = first[i]; q < first[i + 1]; ++q) {
      const float* v = t.leaf_values.data() + t.nodes[static_cast<std::size_t>(leaves[q])].left;
      out[i].oob_values.insert(out[i].oob_values.end(), v, v + t.width);
    }
  }
  if (!options.permutation_importance) return out;

  // OOB permutation importance of every feature a tree splits on: only samples whose path meets
  // the feature can change prediction, so only those are predicted again, with the feature's
  // code of another OOB sample (a permutation per tree and feature).
  struct Group {  // the re-predictions of one tree and feature: queries [begin, end)
    std::size_t tree, begin, end;
    std::int32_t feature;
  };
  std::vector<Group> groups;
  std::vector<Query> again;
  std::vector<std::vector<double>> base(grown.size());
  std::vector<std::uint32_t> meets_q;  // per re-prediction: its OOB position in its tree
  // The re-predictions are routed some trees at a time (at most about kMaxQueries), which bounds
  // their memory (about 50 bytes each); every rank cuts the same batches.
  constexpr std::size_t kMaxQueries = std::size_t{1} << 18;
  auto flush = [&] {
    const auto moved = route(trees, again, x, shard);
    for (const Group& g : groups) {
      TreeResult& r = out[g.tree];
      const Tree& t = r.tree;
      const int k = t.width;
      double delta = 0;
      for (std::size_t m = g.begin; m < g.end; ++m) {
        const std::uint32_t q = meets_q[m];
        const float* v = t.leaf_values.data() + t.nodes[static_cast<std::size_t>(moved[m])].left;
        const auto row = static_cast<std::size_t>(rows[static_cast<std::size_t>(r.oob_rows[q])]);
        double l;
        if (cls) {
          l = argmax(v, k) == y.code[row] ? 0.0 : 1.0;
        } else {
          const double d = v[0] - y.value[row];
          l = d * d;
        }
        delta += l - base[g.tree][q];
      }
      r.perm_features.push_back(g.feature);
      r.perm_values.push_back(delta / static_cast<double>(r.oob_rows.size()));
    }
    for (const Group& g : groups) std::vector<double>().swap(base[g.tree]);
    groups.clear();
    again.clear();
    meets_q.clear();
  };
  for (std::size_t i = 0; i < grown.size(); ++i) {
    const Tree& t = out[i].tree;
    const int k = t.width;
    const std::size_t n_oob = out[i].oob_rows.size();
    if (n_oob == 0) continue;
    auto loss = [&](std::size_t q, const float* v) {  // 1 - correct, or squared error
      const auto r = static_cast<std::size_t>(rows[static_cast<std::size_t>(out[i].oob_rows[q])]);
      if (cls) return argmax(v, k) == y.code[r] ? 0.0 : 1.0;
      const double d = v[0] - y.value[r];
      return d * d;
    };
    std::vector<std::int32_t> parent(t.nodes.size(), -1);
    for (std::size_t a = 0; a < t.nodes.size(); ++a) {
      if (t.nodes[a].feature < 0) continue;
      parent[static_cast<std::size_t>(t.nodes[a].left)] = static_cast<std::int32_t>(a);
      parent[static_cast<std::size_t>(t.nodes[a].right)] = static_cast<std::int32_t>(a);
    }
    base[i].resize(n_oob);
    std::vector<std::pair<std::int32_t, std::uint32_t>> meets;  // (feature, oob position)
    std::vector<std::int32_t> path;
    for (std::size_t q = 0; q < n_oob; ++q) {
      base[i][q] = loss(q, out[i].oob_values.data() + q * static_cast<std::size_t>(k));
      path.clear();
      for (std::int32_t a = parent[static_cast<std::size_t>(leaves[first[i] + q])]; a >= 0; a = parent[static_cast<std::size_t>(a)]) {
        path.push_back(t.nodes[static_cast<std::size_t>(a)].feature);
      }
      std::sort(path.begin(), path.end());
      path.erase(std::unique(path.begin(), path.end()), path.end());
      for (const auto f : path) meets.emplace_back(f, static_cast<std::uint32_t>(q));
    }
    std::sort(meets.begin(), meets.end());
    std::vector<std::uint32_t> perm(n_oob);
    for (std::size_t a = 0; a < meets.size();) {
      const std::int32_t f = meets[a].first;
      std::size_t z = a;
      while (z < meets.size() && meets[z].first == f) ++z;
      std::iota(perm.begin(), perm.end(), 0u);
      Rng prng(task_seed(seeds[i], kPermutationStream, static_cast<std::uint64_t>(f)));
      prng.shuffle(std::span<std::uint32_t>(perm));
      groups.push_back({i, again.size(), again.size() + (z - a), f});
      for (std::size_t m = a; m < z; ++m) {
        const std::uint32_t q = meets[m].second;
        again.push_back({static_cast<std::int32_t>(i), f, rows[static_cast<std::size_t>(out[i].oob_rows[q])],
                         rows[static_cast<std::size_t>(out[i].oob_rows[perm[q]])]});
        meets_q.push_back(q);
      }
      a = z;
    }
    if (again.size() >= kMaxQueries) flush();
  }
  flush();
  return out;
}

/// One rank's candidate split for an open node, as all_reduce moves it: score, n_left, feature,
/// draw, threshold, missing_left (feature -1: none).
constexpr std::size_t kCandidate = 8 + 8 + 4 + 4 + 1 + 1;

/// The better of two candidates: the best score, the earliest draw on ties (the single-copy rule).
/// A total order (a draw belongs to one feature, held by one rank), so any reduction tree agrees.
void keep_better(const std::uint8_t* a, std::uint8_t* b) {
  std::int32_t fa, fb, ja, jb;
  std::memcpy(&fa, a + 16, 4);
  std::memcpy(&fb, b + 16, 4);
  if (fa < 0) return;
  if (fb >= 0) {
    double sa, sb;
    std::memcpy(&sa, a, 8);
    std::memcpy(&sb, b, 8);
    std::memcpy(&ja, a + 20, 4);
    std::memcpy(&jb, b + 20, 4);
    if (!(sa > sb || (sa == sb && ja < jb))) return;
  }
  std::memcpy(b, a, kCandidate);
}

/// Agrees on each open node's best split over the ranks of a sharding: every rank offers its
/// candidate per node (the best among the features it holds) and an all-reduce keeps the best
/// score, the earliest draw on ties.
void agree_on_splits(std::vector<std::unique_ptr<Grower>>& growers, const std::vector<std::int32_t>& active,
                     const Sharding& shard) {
  std::vector<std::uint8_t> all;
  for (const auto t : active) {
    const Grower& g = *growers[static_cast<std::size_t>(t)];
    for (std::size_t i = 0; i < g.n_open(); ++i) {
      const Split& s = g.best(i);
      const std::int32_t j = g.best_draw(i);
      const std::size_t at = all.size();
      all.resize(at + kCandidate);
      std::uint8_t* p = all.data() + at;
      std::memcpy(p, &s.score, 8);
      std::memcpy(p + 8, &s.n_left, 8);
      std::memcpy(p + 16, &s.feature, 4);
      std::memcpy(p + 20, &j, 4);
      p[24] = static_cast<std::uint8_t>(s.threshold);
      p[25] = static_cast<std::uint8_t>(s.missing_left);
    }
  }
  shard.comm->all_reduce(all, kCandidate, keep_better);
  std::size_t at = 0;
  for (const auto t : active) {
    Grower& g = *growers[static_cast<std::size_t>(t)];
    for (std::size_t i = 0; i < g.n_open(); ++i, at += kCandidate) {
      const std::uint8_t* p = all.data() + at;
      Split best;
      std::int32_t j;
      std::memcpy(&best.score, p, 8);
      std::memcpy(&best.n_left, p + 8, 8);
      std::memcpy(&best.feature, p + 16, 4);
      std::memcpy(&j, p + 20, 4);
      best.threshold = p[24];
      best.missing_left = p[25] != 0;
      if (best.feature < 0) {
        g.set_best(i, Split{}, 0);
      } else {
        g.set_best(i, best, j);
      }
    }
  }
}

/// Each open node's partition on its agreed split, from the rank holding the split's column:
/// bitmaps (Grower::left_bits) sent to all; `held` keeps the bytes `bits` points into.
void share_partitions(std::vector<std::unique_ptr<Grower>>& growers, const std::vector<std::int32_t>& active,
                      const Sharding& shard, std::vector<std::vector<std::uint8_t>>& held,
                      std::vector<std::vector<const std::uint8_t*>>& bits) {
  std::vector<std::uint8_t> mine;
  for (const auto t : active) {
    const Grower& g = *growers[static_cast<std::size_t>(t)];
    for (std::size_t i = 0; i < g.n_open(); ++i) {
      if (g.best(i).feature >= 0 && shard.owns(g.best(i).feature)) g.left_bits(i, mine);
    }
  }
  held = shard.comm->all_gather(mine);
  std::vector<std::size_t> cursor(held.size(), 0);
  bits.assign(growers.size(), {});
  for (const auto t : active) {
    const Grower& g = *growers[static_cast<std::size_t>(t)];
    auto& b = bits[static_cast<std::size_t>(t)];
    b.assign(g.n_open(), nullptr);
    for (std::size_t i = 0; i < g.n_open(); ++i) {
      if (g.best(i).feature < 0) continue;
      const auto r = static_cast<std::size_t>(shard.owner(g.best(i).feature));
      b[i] = held[r].data() + cursor[r];
      cursor[r] += g.open_bytes(i);
    }
  }
}

}  // namespace

int Sharding::owner(std::int64_t f) const {
  const auto it = std::upper_bound(bounds.begin(), bounds.end(), f);
  return static_cast<int>(it - bounds.begin()) - 1;
}

std::vector<std::int64_t> Sharding::balanced(const std::vector<std::size_t>& col_bytes, int ranks) {
  // Rank r's block ends at the column boundary whose running total of bytes is nearest to
  // (r + 1) / ranks of the whole.
  std::vector<double> prefix{0};
  for (const auto b : col_bytes) prefix.push_back(prefix.back() + static_cast<double>(b));
  const auto p = static_cast<std::int64_t>(col_bytes.size());
  std::vector<std::int64_t> bounds{0};
  for (int r = 1; r < ranks; ++r) {
    const double target = prefix.back() * r / ranks;
    auto i = static_cast<std::int64_t>(std::lower_bound(prefix.begin(), prefix.end(), target) - prefix.begin());
    if (i > 0 && target - prefix[static_cast<std::size_t>(i - 1)] < prefix[static_cast<std::size_t>(std::min(i, p))] - target) --i;
    bounds.push_back(std::clamp<std::int64_t>(i, bounds.back(), p));
  }
  bounds.push_back(p);
  return bounds;
}

std::vector<TreeResult> grow_trees(const FeatureMatrix& x, const Labels& y, const std::vector<std::int64_t>& rows,
                                   const ForestParams& params, const std::vector<std::uint64_t>& seeds,
                                   const TreeOptions& options, const Sharding* shard) {
  if (rows.empty()) throw DataError("no training sample");
  if (shard && (shard->bounds.size() != static_cast<std::size_t>(shard->comm->size()) + 1 ||
                shard->bounds.front() != 0 || shard->bounds.back() != x.cols())) {
    throw InternalError("grow_trees: the sharding does not cover the matrix's columns");
  }
  const auto weights = class_weights(y, rows, params.balanced);
  bool genotypes_only = true;
  for (std::int64_t f = 0; f < x.cols() && genotypes_only; ++f) genotypes_only = x.packed(f);
  const auto root_key = [](std::uint64_t seed) { return task_seed(seed, kNodeStream, 0); };

  std::vector<Grown> grown(seeds.size());
  std::vector<std::unique_ptr<Grower>> growers(seeds.size());
  std::vector<std::int32_t> levelled;
  for (std::size_t i = 0; i < seeds.size(); ++i) {
    Drawn d = draw_rows(rows, params, seeds[i]);
    grown[i].inbag = std::move(d.inbag);
    auto g = std::make_unique<Grower>(x, y, params, weights);
    g->setup(std::move(d.samples));
    // Sharded, every tree grows level by level: a level's splits are agreed on together.
    if (shard || (options.level_by_level && genotypes_only && g->levelled())) {
      g->start_levels(root_key(seeds[i]));
      levelled.push_back(static_cast<std::int32_t>(i));
      growers[i] = std::move(g);
    } else {
      grown[i].tree = g->grow_depth_first(root_key(seeds[i]));
      grown[i].impurity = std::move(g->impurity());
    }
  }

  // The trees that can grow level by level grow together: each level's (node, feature) trials
  // of all of them are taken feature by feature, so that a column is read from memory once for
  // every node that tries it. A node's draws depend only on its key and ties go to the earliest
  // draw, so each tree is the one depth-first growth gives, whatever trees share its batch.
  std::vector<Grower::Request> requests, by_feature;
  std::vector<std::size_t> start(static_cast<std::size_t>(x.cols()) + 1);
  std::vector<std::int32_t> active = levelled, still;
  std::vector<std::vector<std::uint8_t>> held;
  std::vector<std::vector<const std::uint8_t*>> bits;
  while (!active.empty()) {
    requests.clear();
    for (const auto t : active) {
      const std::size_t from = requests.size();
      growers[static_cast<std::size_t>(t)]->prepare_level(t, requests);
      if (shard) {  // keep the trials of the features this rank holds: a level's list is large
        requests.erase(std::remove_if(requests.begin() + static_cast<std::ptrdiff_t>(from), requests.end(),
                                      [&](const Grower::Request& r) { return !shard->owns(r.feature); }),
                       requests.end());
      }
    }
    std::fill(start.begin(), start.end(), 0);
    for (const auto& r : requests) ++start[static_cast<std::size_t>(r.feature) + 1];
    for (std::size_t f = 1; f < start.size(); ++f) start[f] += start[f - 1];
    by_feature.resize(requests.size());
    for (const auto& r : requests) by_feature[start[static_cast<std::size_t>(r.feature)]++] = r;
    for (const auto& r : by_feature) growers[static_cast<std::size_t>(r.tree)]->evaluate(r.node, r.feature, r.j);
    if (shard) {
      agree_on_splits(growers, active, *shard);
      share_partitions(growers, active, *shard, held, bits);
    }
    still.clear();
    for (const auto t : active) {
      auto& g = *growers[static_cast<std::size_t>(t)];
      if (g.finish_level(shard ? &bits[static_cast<std::size_t>(t)] : nullptr)) still.push_back(t);
    }
    active.swap(still);
  }
  for (const auto t : levelled) {
    auto& g = growers[static_cast<std::size_t>(t)];
    const auto i = static_cast<std::size_t>(t);
    grown[i].tree = g->take_levelled_tree();
    grown[i].impurity = std::move(g->impurity());
    g.reset();
  }
  return finish_trees(grown, x, y, rows, params, seeds, options, shard);
}

std::vector<std::vector<float>> predict_rows(const std::vector<Tree>& trees, const FeatureMatrix& x,
                                             const std::vector<std::int64_t>& rows, const Sharding* shard) {
  std::vector<const Tree*> ptrs;
  std::vector<Query> queries;
  for (std::size_t t = 0; t < trees.size(); ++t) {
    ptrs.push_back(&trees[t]);
    for (const auto r : rows) queries.push_back({static_cast<std::int32_t>(t), -1, r, 0});
  }
  const auto leaves = route(ptrs, queries, x, shard);
  std::vector<std::vector<float>> out(trees.size());
  std::size_t q = 0;
  for (std::size_t t = 0; t < trees.size(); ++t) {
    const Tree& tr = trees[t];
    out[t].reserve(rows.size() * static_cast<std::size_t>(tr.width));
    for (std::size_t i = 0; i < rows.size(); ++i, ++q) {
      const float* v = tr.leaf_values.data() + tr.nodes[static_cast<std::size_t>(leaves[q])].left;
      out[t].insert(out[t].end(), v, v + tr.width);
    }
  }
  return out;
}

TreeResult grow_tree(const FeatureMatrix& x, const Labels& y, const std::vector<std::int64_t>& rows,
                     const ForestParams& params, std::uint64_t seed, const TreeOptions& options) {
  return std::move(grow_trees(x, y, rows, params, {seed}, options).front());
}

}  // namespace genoforest::ml
