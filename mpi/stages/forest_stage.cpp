#include "stages/forest_stage.hpp"

#include <boost/serialization/vector.hpp>

#include <hdf5.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <memory>
#include <numeric>
#include <optional>

#include "genoforest/core/error.hpp"
#include "genoforest/core/files.hpp"
#include "genoforest/core/text.hpp"
#include "genoforest/features/store.hpp"
#include "genoforest/ml/svm.hpp"
#include "genoforest/core/log.hpp"
#include "genoforest/core/subset.hpp"
#include "genoforest/core/rng.hpp"
#include "genoforest/core/version.hpp"
#include "genoforest/ml/dataset.hpp"
#include "genoforest/ml/metrics.hpp"
#include "genoforest/ml/model.hpp"
#include "node_dataset.hpp"
#include "scheduler.hpp"

namespace genoforest::mpi {

namespace fs = std::filesystem;
using ml::Task;

namespace {

constexpr std::uint64_t kTreeStream = 0x74726565ULL;  // "tree"
/// How many trees one task grows together (ml::grow_trees): more share each read of the matrix
/// (32 trees take 40% less time than one by one on 5,000 x 50,000), and at least four tasks per
/// rank keep the ranks balanced. Results do not depend on it.
std::int64_t trees_per_task(std::int64_t n_trees, int ranks) {
  return std::clamp<std::int64_t>((n_trees + 4 * ranks - 1) / (4 * ranks), 1, 32);
}
constexpr std::uint64_t kFoldStream = 0x666f6c64ULL;  // "fold"
constexpr std::uint64_t kCvStream = 0x63767472ULL;    // "cvtr"

std::string fmt(double v, const char* f = "%.4f") {
  if (std::isnan(v)) return "NA";
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  char b[64];
  std::snprintf(b, sizeof b, "%.10g", v);
  return b;
}

template <class T, class F>
std::string json_array(const std::vector<T>& v, F&& f) {
  std::string o = "[";
  for (std::size_t i = 0; i < v.size(); ++i) o += (i ? ", " : "") + f(v[i]);
  return o + "]";
}

/// Every rank loads the training data itself (serial HDF5 reads) and resolves the parameters.
/// The training data, its matrix once per node (NodeDataset): loaded by each node's first rank.
std::unique_ptr<NodeDataset> load_on_nodes(const Comm& comm, ForestCommon& c) {
  const auto t0 = std::chrono::steady_clock::now();
  {
    std::exception_ptr e;
    try {
      c.extra.samples = SampleSubset::from_files(c.keep, c.remove);  // small lists: every rank reads them
      c.extra.variants = VariantSubset::from_files(c.extract, c.exclude);
    } catch (...) {
      e = std::current_exception();
    }
    comm.agree(e);
  }
  auto node = std::make_unique<NodeDataset>(comm, c.input, c.extra, c.placement);
  const ml::Dataset& ds = node->get();
  std::exception_ptr e;
  try {
    c.params.task = ds.y.task;
    c.params.resolve(ds.x.cols());
  } catch (...) {
    e = std::current_exception();
  }
  comm.agree(e);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::string what = std::to_string(ds.x.rows()) + " labelled samples x " + std::to_string(ds.x.cols()) + " features (" +
                     fmt(static_cast<double>(ds.x.memory_bytes()) / (1 << 20), "%.1f") + " MiB packed, loaded in " +
                     fmt(s, "%.1f") + " s";
  if (node->shared()) what += "; one copy shared by the " + std::to_string(node->ranks_on_node()) + " ranks of each node";
  if (const auto* sh = node->sharding()) {
    what = std::to_string(ds.x.rows()) + " labelled samples x " + std::to_string(ds.x.cols()) + " features (" +
           format_size(node->matrix_bytes()) + " packed, sharded by variants over " + std::to_string(comm.size()) +
           (comm.size() == 1 ? " rank" : " ranks") + ": this rank holds " + std::to_string(sh->bounds[1] - sh->bounds[0]) + " columns, " +
           format_size(static_cast<std::int64_t>(ds.x.memory_bytes())) + "; loaded in " + fmt(s, "%.1f") + " s";
  }
  what += ")";
  if (ds.y.task == Task::kClassification) {
    what += ", " + std::to_string(ds.classes.size()) + " classes";
  } else {
    what += ", quantitative label";
  }
  if (ds.unlabelled) what += "; " + std::to_string(ds.unlabelled) + " samples without a label left out";
  if (ds.not_kept) what += "; " + std::to_string(ds.not_kept) + " left out by --keep/--remove";
  if (ds.not_selected) what += "; " + std::to_string(ds.not_selected) + " variants left out by --extract/--exclude";
  log_info(what);
  return node;
}

std::string describe_params(const ml::ForestParams& p) {
  const char* crit[] = {"gini", "entropy", "variance"};
  return std::to_string(p.n_trees) + " trees, mtry " + std::to_string(p.mtry) + ", min node size " +
         std::to_string(p.min_node_size) + ", " + (p.max_depth ? "max depth " + std::to_string(p.max_depth) : "no depth limit") +
         ", sample fraction " + fmt(p.sample_fraction, "%.3g") + (p.replace ? " with" : " without") + " replacement, " +
         crit[static_cast<int>(p.criterion)] + (p.balanced ? ", balanced class weights" : "") + ", seed " +
         std::to_string(p.seed);
}

std::string describe_gbt(const ml::GbtParams& p) {
  return std::to_string(p.rounds) + " rounds, eta " + fmt(p.eta, "%g") + ", max depth " + std::to_string(p.max_depth) + ", min child weight " +
         fmt(p.min_child_weight, "%g") + ", lambda " + fmt(p.lambda, "%g") + ", gamma " + fmt(p.gamma, "%g") + ", subsample " +
         fmt(p.subsample, "%g") + ", colsample " + fmt(p.colsample, "%g") +
         (p.early_stopping ? ", early stopping after " + std::to_string(p.early_stopping) + " rounds on " + fmt(p.validation_fraction, "%g") + " held out" : "") +
         (p.balanced ? ", balanced class weights" : "") + ", seed " + std::to_string(p.seed);
}

}  // namespace

void ForestCommon::apply() {
  if (input.empty()) throw UsageError("no input: give a feature store (.h5) made by 'genoforest features'");
  if (criterion == "gini") params.criterion = ml::Criterion::kGini;
  else if (criterion == "entropy") params.criterion = ml::Criterion::kEntropy;
  else if (criterion == "variance") params.criterion = ml::Criterion::kVariance;
  else throw UsageError("--criterion must be gini, entropy or variance (got '" + criterion + "')");
  if (class_weight == "balanced") params.balanced = true;
  else if (class_weight == "none") params.balanced = false;
  else throw UsageError("--class-weight must be none or balanced (got '" + class_weight + "')");
  params.replace = !no_replace;
  if (model != "forest" && model != "svm" && model != "gbt") throw UsageError("--model must be forest, svm or gbt (got '" + model + "')");
  placement.validate();
  if (!memory_per_node.empty()) {
    const auto b = parse_size(memory_per_node);
    if (!b) throw UsageError("--memory-per-node must be a size such as 64G, 512M or 1.5T (got '" + memory_per_node + "')");
    placement.memory_per_node = *b;
  }
  if ((model == "svm" || model == "gbt") && placement.mode == "sharded") {
    throw UsageError("--model " + model + " needs the whole matrix on every node: leave out --matrix sharded");
  }
  if (model == "svm" || model == "gbt") placement.mode = "node";
  if (model == "gbt") {
    gbt.max_depth = params.max_depth > 0 ? params.max_depth : 6;
    gbt.balanced = params.balanced;
    gbt.seed = params.seed;
    gbt.validate();
  }
  if (model == "svm") {
    if (!(svm_c > 0.0)) throw UsageError("--C must be > 0");
    if (!(svm_tol > 0.0)) throw UsageError("--tol must be > 0");
    if (svm_max_iter < 1) throw UsageError("--max-iter must be at least 1");
  }
}

namespace {

enum SvmStream : std::uint64_t { kSvmStream = 41 };

/// The binary problems of a linear SVM: one for two classes (class 1 positive), else one per class.
int svm_problems(int k) { return k == 2 ? 1 : k; }

/// Trains problem `c` on `rows`; returns its weights (p + 1).
std::vector<double> train_svm_problem(const ml::DenseRows& x, const ml::Dataset& ds, const std::vector<std::int64_t>& rows, int c,
                                      const ForestCommon& o, std::uint64_t seed) {
  const int k = ds.y.n_classes;
  const int positive_class = k == 2 ? 1 : c;
  const auto w = ml::class_weights(ds.y, rows, o.params.balanced);
  std::vector<bool> positive;
  std::vector<double> weight;
  for (const auto r : rows) {
    const auto code = ds.y.code[static_cast<std::size_t>(r)];
    positive.push_back(code == positive_class);
    weight.push_back(w[static_cast<std::size_t>(code)]);
  }
  ml::SvmParams prm;
  prm.c = o.svm_c;
  prm.tol = o.svm_tol;
  prm.max_iter = o.svm_max_iter;
  prm.seed = seed;
  auto fit = ml::train_binary_svm(x, rows, positive, weight, prm);
  if (!fit.converged) {
    log_warning("linear SVM problem " + std::to_string(c + 1) + " did not converge in " + std::to_string(o.svm_max_iter) +
                " passes (--max-iter); its weights are used as they are");
  }
  return std::move(fit.w);
}

/// On every rank: stops the job once unless the store's labels are classes.
void require_classes(const Comm& comm, const ml::Dataset& ds) {
  std::exception_ptr e;
  if (ds.y.task != Task::kClassification) {
    e = std::make_exception_ptr(UsageError("--model svm needs class labels; this store's label is quantitative"));
  }
  comm.agree(e);
}

/// The importance TSV: chrom pos id ref alt importance [impurity_importance], sorted by `imp`.
/// A model's provenance and features, the same for every kind: the tool, the date, the store,
/// the options, the classes and the extra columns. The variants are left to the caller, which
/// moves them in once it no longer needs the dataset's (a large table: never copied).
ml::Model trained_model(const ForestCommon& c, const ml::Dataset& ds) {
  ml::Model model;
  model.tool_version = kVersion;
  model.created = now_iso8601();
  model.training_data = c.input;
  model.params = c.params;
  model.classes = ds.classes;
  model.extras = ds.extras;
  model.n_training_samples = ds.x.rows();
  return model;
}

void write_importance(const ml::Model& model, const std::vector<double>& imp, const std::vector<double>* impurity,
                      const std::string& path) {
  std::vector<std::int64_t> order(imp.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return imp[static_cast<std::size_t>(a)] > imp[static_cast<std::size_t>(b)]; });
  std::string tsv = std::string("chrom\tpos\tid\tref\talt\timportance") + (impurity ? "\timpurity_importance" : "") + "\n";
  for (const auto f : order) {
    const auto uf = static_cast<std::size_t>(f);
    if (uf < model.variants.size()) {
      const auto& v = model.variants[uf];
      tsv += v.chrom + "\t" + std::to_string(v.pos) + "\t" + v.id + "\t" + v.ref + "\t" + v.alt;
    } else {
      tsv += ".\t0\t" + model.extras[uf - model.variants.size()].name + "\t.\t.";
    }
    tsv += "\t" + fmt(imp[uf], "%.6g");
    if (impurity) tsv += "\t" + fmt((*impurity)[uf], "%.6g");
    tsv += "\n";
  }
  write_atomically(path, tsv);
}

}  // namespace

// ---- train ------------------------------------------------------------------------------------

/// train --model svm: one task per binary problem; the weights are the model, |weight| the
/// variant importance.
void run_train_svm(const Comm& comm, const TrainOptions& opt, const ml::Dataset& ds) {
  require_classes(comm, ds);
  const auto t0 = std::chrono::steady_clock::now();
  ml::DenseRows x = ml::dense_rows(ds.x);
  x.compute_fill();
  const int k = ds.y.n_classes, problems = svm_problems(k);
  log_info("linear SVM (hinge loss, L2, C " + fmt(opt.common.svm_c, "%g") + (opt.common.params.balanced ? ", balanced class weights" : "") +
           "), " + std::to_string(problems) + " problem(s) over " + std::to_string(comm.size()) + " rank(s)");
  std::vector<std::int64_t> rows(static_cast<std::size_t>(ds.x.rows()));
  std::iota(rows.begin(), rows.end(), 0);
  std::vector<std::vector<double>> weights(static_cast<std::size_t>(problems));
  TaskSet ts;
  ts.begin = 0;
  ts.end = problems;
  ts.describe = [&](std::int64_t c) { return "SVM problem " + std::to_string(c + 1); };
  ts.run = [&](std::int64_t c) {
    return to_bytes(train_svm_problem(x, ds, rows, static_cast<int>(c), opt.common,
                                      task_seed(opt.common.params.seed, kSvmStream, static_cast<std::uint64_t>(c))));
  };
  ts.commit = [&](std::int64_t c, std::string&& bytes) { weights[static_cast<std::size_t>(c)] = from_bytes<std::vector<double>>(bytes); };
  run_tasks(comm, ts);
  comm.on_root([&] {
    ml::Model model = trained_model(opt.common, ds);
    model.variants = std::move(ds.variants);  // not needed after: no copy of a large table
    model.oob_error = std::nan("");
    model.kind = "svm";
    model.svm_c = opt.common.svm_c;
    model.svm_weights = weights;
    model.svm_fill = x.fill;
    // Training fit, and |weight| (summed over the problems) as the importance.
    std::vector<double> dec;
    for (std::int64_t i = 0; i < x.n; ++i)
      for (const auto& w : weights) dec.push_back(x.dot(i, w));
    const auto prob = ml::svm_probabilities(dec, x.n, problems, k);
    const auto met = ml::classification_metrics(ds.y.code, prob, k);
    const auto p = ds.x.cols();
    model.importance_impurity.assign(static_cast<std::size_t>(p), 0.0);
    for (const auto& w : weights)
      for (std::int64_t f = 0; f < p; ++f) model.importance_impurity[static_cast<std::size_t>(f)] += std::fabs(w[static_cast<std::size_t>(f)]);
    ml::save_model(model, opt.output);
    if (opt.importance != "none") write_importance(model, model.importance_impurity, nullptr, opt.importance_output);
    log_info("trained in " + fmt(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), "%.2f") +
             " s; training accuracy " + fmt(met.accuracy) + " (use genoforest cv for an honest estimate)");
    log_info("wrote " + opt.output + (opt.importance != "none" ? " and " + opt.importance_output + " (|weight| per variant)" : ""));
  });
}

/// train --model gbt: all ranks boost together (data-parallel, exact sums); rank 0 writes the
/// model and the importances (permutation on the held-out rows, or the training rows; gain).
void run_train_gbt(const Comm& comm, const TrainOptions& opt, ml::Dataset& ds) {
  const auto& gp = opt.common.gbt;
  log_info("gradient-boosted trees (" + describe_gbt(gp) + "), data-parallel over " + std::to_string(comm.size()) + " rank(s)");
  const auto t0 = std::chrono::steady_clock::now();
  MpiCollectives coll(comm);
  std::vector<std::int64_t> rows(static_cast<std::size_t>(ds.x.rows()));
  std::iota(rows.begin(), rows.end(), 0);
  ml::GbtResult res;
  {
    std::exception_ptr failed;
    try {
      res = ml::train_gbt(ds.x, ds.y, rows, gp, coll);
    } catch (const Error&) {
      failed = std::current_exception();  // a refusal of the data: every rank meets it alike
    }
    comm.agree(failed);
  }
  const double train_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // Permutation importance on the rows held out for early stopping, else on the training rows.
  std::vector<double> perm;
  if (opt.importance == "permutation") {
    perm = ml::gbt_permutation_importance(res.model, ds.x, ds.y, res.validation_rows.empty() ? rows : res.validation_rows, gp.seed, coll);
  }
  comm.on_root([&] {
    const bool cls = ds.y.task == Task::kClassification;
    const int k = cls ? ds.y.n_classes : 1;
    ml::Model model = trained_model(opt.common, ds);
    model.kind = "gbt";
    model.gbt_params = gp;
    model.gbt = std::move(res.model);
    model.importance_impurity = res.gain;
    model.importance_permutation = perm;
    // The fit on the training samples (cv gives the honest estimate).
    std::vector<double> pred(static_cast<std::size_t>(ds.x.rows() * k));
    for (std::int64_t r = 0; r < ds.x.rows(); ++r) ml::gbt_predict(model.gbt, ds.x, r, pred.data() + r * k);
    std::string fit;
    if (cls) {
      fit = "training accuracy " + fmt(ml::classification_metrics(ds.y.code, pred, k).accuracy);
    } else {
      fit = "training RMSE " + fmt(ml::regression_metrics(ds.y.value, pred).rmse, "%.4g");
    }
    model.oob_error = std::nan("");
    model.variants = std::move(ds.variants);  // not needed after: no copy of a large table
    ml::save_model(model, opt.output);
    if (opt.importance != "none") {
      write_importance(model, opt.importance == "permutation" ? model.importance_permutation : model.importance_impurity,
                       &model.importance_impurity, opt.importance_output);
    }
    const auto& g = model.gbt;
    log_info("boosted " + std::to_string(g.trees.size()) + " trees (" + std::to_string(g.best_rounds) + " rounds" +
             (gp.early_stopping ? ", the best of " + std::to_string(g.validation_loss.size()) + " by the loss on " +
                                      std::to_string(res.validation_rows.size()) + " held-out samples: " +
                                      fmt(g.validation_loss[static_cast<std::size_t>(std::max(g.best_rounds, 1) - 1)], "%.4f")
                                : std::string()) +
             ") in " + fmt(train_s, "%.2f") + " s; " + fit + " (use genoforest cv for an honest estimate)");
    log_info("wrote " + opt.output + (opt.importance != "none" ? " and " + opt.importance_output + " (" +
                                                                   (opt.importance == "permutation" ? "permutation importance, " : "") +
                                                                   "total gain per variant)"
                                                             : ""));
  });
}

void run_train(const Comm& comm, TrainOptions opt) {
  comm.on_root([&] {
    opt.common.apply();
    if (opt.output.empty()) throw UsageError("-o/--output (the model file) is required");
    if (opt.importance != "permutation" && opt.importance != "impurity" && opt.importance != "none") {
      throw UsageError("--importance must be permutation, impurity or none (got '" + opt.importance + "')");
    }
    if (opt.importance_output.empty()) opt.importance_output = opt.output + ".importance.tsv";
    check_outputs({{"the input", opt.common.input}, {"--keep", opt.common.keep}, {"--remove", opt.common.remove},
                   {"--extract", opt.common.extract}, {"--exclude", opt.common.exclude}},
                  {{"-o/--output", opt.output},
                   {"--importance-output", opt.importance == "none" ? std::string() : opt.importance_output, true}});
  });
  opt.common.apply();
  if (opt.importance_output.empty()) opt.importance_output = opt.output + ".importance.tsv";
  auto& params = opt.common.params;
  const auto node_data = load_on_nodes(comm, opt.common);
  ml::Dataset& ds = node_data->get();
  if (opt.common.model == "svm") {
    run_train_svm(comm, opt, ds);
    return;
  }
  if (opt.common.model == "gbt") {
    run_train_gbt(comm, opt, ds);
    return;
  }
  log_info(describe_params(params) + ", " + std::to_string(comm.size()) + " rank(s)");

  const auto n = ds.x.rows();
  const auto p = ds.x.cols();
  std::vector<std::int64_t> rows(static_cast<std::size_t>(n));
  std::iota(rows.begin(), rows.end(), 0);
  ml::TreeOptions to;
  to.oob = true;
  to.permutation_importance = opt.importance == "permutation";
  to.impurity_importance = true;

  const bool cls = params.task == Task::kClassification;
  const int k = cls ? ds.y.n_classes : 1;
  ml::Model model;
  std::vector<double> oob_sum, imp_sum, perm_sum;
  std::vector<std::int64_t> oob_n;
  if (comm.is_root()) {
    oob_sum.assign(static_cast<std::size_t>(n * k), 0.0);
    oob_n.assign(static_cast<std::size_t>(n), 0);
    imp_sum.assign(static_cast<std::size_t>(p), 0.0);
    if (to.permutation_importance) perm_sum.assign(static_cast<std::size_t>(p), 0.0);
    model.trees.reserve(static_cast<std::size_t>(params.n_trees));
  }
  const auto t0 = std::chrono::steady_clock::now();
  // A task grows a group of trees together (ml::grow_trees: the same trees as one by one, with
  // fewer reads of the matrix). The groups do not depend on the rank count.
  // Sharded, every rank takes part in every tree: larger groups, fewer exchanges per tree.
  const std::int64_t group = node_data->sharding() ? std::min<std::int64_t>(params.n_trees, 32)
                                                   : trees_per_task(params.n_trees, comm.size());
  const std::int64_t n_groups = (params.n_trees + group - 1) / group;
  Progress progress(n_groups, "groups of " + std::to_string(group) + " trees");
  TaskSet ts;
  ts.begin = 0;
  ts.end = n_groups;
  ts.progress = &progress;
  ts.describe = [&](std::int64_t g) {
    return "trees " + std::to_string(g * group + 1) + "-" + std::to_string(std::min(params.n_trees, (g + 1) * group));
  };
  ts.journal = "train.trees" + std::to_string(group);  // a rerun with other groups starts afresh
  auto group_seeds = [&](std::int64_t g) {  // tree t's seed derives from (seed, t) alone
    std::vector<std::uint64_t> seeds;
    for (std::int64_t t = g * group; t < std::min(params.n_trees, (g + 1) * group); ++t) {
      seeds.push_back(task_seed(params.seed, kTreeStream, static_cast<std::uint64_t>(t)));
    }
    return seeds;
  };
  ts.run = [&](std::int64_t g) { return to_bytes(ml::grow_trees(ds.x, ds.y, rows, params, group_seeds(g), to)); };
  ts.commit = [&](std::int64_t, std::string&& bytes) {
    for (auto& r : from_bytes<std::vector<ml::TreeResult>>(bytes)) {
      for (std::size_t i = 0; i < r.oob_rows.size(); ++i) {
        const auto row = static_cast<std::size_t>(r.oob_rows[i]);
        for (int c = 0; c < k; ++c) oob_sum[row * static_cast<std::size_t>(k) + static_cast<std::size_t>(c)] += r.oob_values[i * static_cast<std::size_t>(k) + static_cast<std::size_t>(c)];
        ++oob_n[row];
      }
      for (std::size_t i = 0; i < r.impurity_features.size(); ++i) imp_sum[static_cast<std::size_t>(r.impurity_features[i])] += r.impurity_values[i];
      for (std::size_t i = 0; i < r.perm_features.size(); ++i) perm_sum[static_cast<std::size_t>(r.perm_features[i])] += r.perm_values[i];
      model.trees.push_back(std::move(r.tree));
    }
  };
  std::uint64_t moved = 0;
  if (const ml::Sharding* sh = node_data->sharding()) {
    // Sharded: every rank takes part in every tree (each holds some of the columns), group
    // after group; rank 0 keeps the results, in the same order as the tasks would commit them.
    ts.journal = "train.sharded.trees" + std::to_string(group);
    ts.run = [&](std::int64_t g) {
      auto r = ml::grow_trees(ds.x, ds.y, rows, params, group_seeds(g), to, sh);
      return comm.is_root() ? to_bytes(r) : std::string();
    };
    run_collective_tasks(comm, ts);
    moved = sh->comm->bytes_moved();
  } else {
    run_tasks(comm, ts);
  }
  const double train_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto moved_all = static_cast<std::uint64_t>(comm.sum(static_cast<std::int64_t>(moved)));

  comm.on_root([&] {
    const auto nt = static_cast<double>(params.n_trees);
    auto trees = std::move(model.trees);  // committed tree by tree above
    model = trained_model(opt.common, ds);
    model.trees = std::move(trees);
    model.variants = std::move(ds.variants);  // not needed after: no copy of a large table
    model.importance_impurity.resize(static_cast<std::size_t>(p));
    for (std::int64_t f = 0; f < p; ++f) model.importance_impurity[static_cast<std::size_t>(f)] = imp_sum[static_cast<std::size_t>(f)] / nt;
    if (to.permutation_importance) {
      model.importance_permutation.resize(static_cast<std::size_t>(p));
      for (std::int64_t f = 0; f < p; ++f) model.importance_permutation[static_cast<std::size_t>(f)] = perm_sum[static_cast<std::size_t>(f)] / nt;
    }
    // Out-of-bag: each sample predicted by the trees that did not see it.
    std::string oob_line;
    std::vector<std::int32_t> truth;
    std::vector<double> prob, yv, pv;
    for (std::int64_t i = 0; i < n; ++i) {
      const auto m = oob_n[static_cast<std::size_t>(i)];
      if (!m) continue;
      if (cls) {
        truth.push_back(ds.y.code[static_cast<std::size_t>(i)]);
        for (int c = 0; c < k; ++c) prob.push_back(oob_sum[static_cast<std::size_t>(i * k + c)] / static_cast<double>(m));
      } else {
        yv.push_back(ds.y.value[static_cast<std::size_t>(i)]);
        pv.push_back(oob_sum[static_cast<std::size_t>(i)] / static_cast<double>(m));
      }
    }
    if (cls) {
      const auto met = ml::classification_metrics(truth, prob, k);
      model.oob_error = truth.empty() ? std::nan("") : 1.0 - met.accuracy;
      oob_line = "OOB error " + fmt(model.oob_error) + " (accuracy " + fmt(met.accuracy) + ", AUC " + fmt(met.auc) +
                 ", macro F1 " + fmt(met.macro_f1) + ") over " + std::to_string(truth.size()) + " samples";
    } else {
      const auto met = ml::regression_metrics(yv, pv);
      model.oob_error = yv.empty() ? std::nan("") : met.rmse * met.rmse;
      oob_line = "OOB MSE " + fmt(model.oob_error) + " (RMSE " + fmt(met.rmse) + ", R2 " + fmt(met.r2) + ") over " +
                 std::to_string(yv.size()) + " samples";
    }
    ml::save_model(model, opt.output);
    if (opt.importance != "none") {
      const bool both = opt.importance == "permutation";
      write_importance(model, both ? model.importance_permutation : model.importance_impurity,
                       both ? &model.importance_impurity : nullptr, opt.importance_output);
    }
    std::int64_t depth = 0, nodes = 0;
    for (const auto& t : model.trees) {
      depth = std::max(depth, t.depth());
      nodes += static_cast<std::int64_t>(t.nodes.size());
    }
    log_info("grew " + std::to_string(params.n_trees) + " trees in " + fmt(train_s, "%.2f") + " s (" +
             fmt(static_cast<double>(nodes) / nt, "%.0f") + " nodes per tree, deepest " + std::to_string(depth) +
             (node_data->sharding() ? "; the ranks exchanged " + format_size(static_cast<std::int64_t>(moved_all / 2)) + ", " +
                                          format_size(static_cast<std::int64_t>(moved_all / 2 / static_cast<std::uint64_t>(params.n_trees))) + " per tree"
                                    : std::string()) +
             ")");
    log_info(oob_line);
    log_info("wrote " + opt.output + (opt.importance != "none" ? " and " + opt.importance_output : ""));
  });
}

// ---- cross-validation ---------------------------------------------------------------------------

void run_cv(const Comm& comm, CvOptions opt) {
  comm.on_root([&] {
    opt.common.apply();
    if (opt.folds < 2) throw UsageError("--folds must be at least 2");
    if (opt.repeats < 1 || opt.repeats > 1000) throw UsageError("--repeats must be between 1 and 1000");
    if (opt.folds > 1'000'000) throw UsageError("--folds must be at most 1000000");
    check_outputs({{"the input", opt.common.input}, {"--keep", opt.common.keep}, {"--remove", opt.common.remove},
                   {"--extract", opt.common.extract}, {"--exclude", opt.common.exclude}},
                  {{"-o/--output", opt.output, true},
                   {"--assignments", opt.assignments, true},
                   {"--predictions", opt.predictions, true}});
  });
  opt.common.apply();
  auto& params = opt.common.params;
  const auto node_data = load_on_nodes(comm, opt.common);
  ml::Dataset& ds = node_data->get();
  const bool cls = params.task == Task::kClassification;
  const int k = cls ? ds.y.n_classes : 1;
  const auto n = ds.x.rows();
  const int folds = opt.folds, repeats = opt.repeats;
  std::vector<std::vector<std::int32_t>> fold_of(static_cast<std::size_t>(repeats));
  {
    std::exception_ptr e;
    try {
      for (int r = 0; r < repeats; ++r) {
        fold_of[static_cast<std::size_t>(r)] = ml::assign_folds(cls ? ds.y.code : std::vector<std::int32_t>{}, n, folds,
                                                                task_seed(params.seed, kFoldStream, static_cast<std::uint64_t>(r)), ds.classes);
      }
    } catch (...) {
      e = std::current_exception();
    }
    comm.agree(e);
  }
  log_info(std::to_string(folds) + "-fold cross-validation" + (repeats > 1 ? " x " + std::to_string(repeats) + " repeats" : "") + ", " +
           (opt.common.model == "svm"   ? "linear SVM (hinge loss, L2, C " + fmt(opt.common.svm_c, "%g") + ")"
            : opt.common.model == "gbt" ? "gradient-boosted trees (" + describe_gbt(opt.common.gbt) + ")"
                                        : describe_params(params)) +
           ", " + std::to_string(comm.size()) + " rank(s)");
  const std::int64_t n_models = static_cast<std::int64_t>(folds) * repeats;
  auto split = [&](std::int64_t m, bool test) {
    const auto& f = fold_of[static_cast<std::size_t>(m / folds)];
    std::vector<std::int64_t> rows;
    for (std::int64_t i = 0; i < n; ++i)
      if ((f[static_cast<std::size_t>(i)] == m % folds) == test) rows.push_back(i);
    return rows;
  };
  std::vector<std::vector<double>> sums(static_cast<std::size_t>(n_models));
  const bool svm = opt.common.model == "svm";
  if (svm) require_classes(comm, ds);
  ml::DenseRows dense;
  const int problems = svm ? svm_problems(k) : 0;
  // A forest's task is a (fold, tree); an SVM's a (fold, problem), and its "sum" the probabilities.
  const std::int64_t per_model = svm ? problems : params.n_trees;
  std::vector<std::vector<double>> decisions(svm ? static_cast<std::size_t>(n_models) : 0);
  if (svm) {
    dense = ml::dense_rows(ds.x);
  }
  ml::TreeOptions to;
  to.oob = false;
  to.impurity_importance = false;
  to.permutation_importance = false;
  std::int64_t cached_m = -1;
  std::vector<std::int64_t> train_rows, test_rows;
  // Tree t of fold model m: its seed derives from (seed, m, t) alone, whoever grows it.
  auto tree_seed = [&](std::int64_t m, std::int64_t t) {
    return task_seed(task_seed(params.seed, kCvStream, static_cast<std::uint64_t>(m)), kTreeStream, static_cast<std::uint64_t>(t));
  };
  const auto t0 = std::chrono::steady_clock::now();
  Progress progress(n_models * per_model, svm ? "SVM problems" : "trees");
  TaskSet ts;
  ts.begin = 0;
  ts.end = n_models * per_model;
  ts.progress = &progress;
  ts.journal = "cv.models";
  ts.describe = [&](std::int64_t t) {
    const std::int64_t m = t / per_model;
    return "fold " + std::to_string(m % folds + 1) + (repeats > 1 ? " of repeat " + std::to_string(m / folds + 1) : "") +
           (svm ? ", SVM problem " : ", tree ") + std::to_string(t % per_model + 1);
  };
  ts.run = [&](std::int64_t t) {
    const std::int64_t m = t / per_model;
    if (m != cached_m) {
      train_rows = split(m, false);
      test_rows = split(m, true);
      cached_m = m;
      if (svm) {
        // Missing values take the training fold's column means.
        ml::DenseRows fold_rows;
        fold_rows.n = static_cast<std::int64_t>(train_rows.size());
        fold_rows.p = dense.p;
        for (const auto r : train_rows) fold_rows.g.insert(fold_rows.g.end(), dense.g.begin() + r * dense.p, dense.g.begin() + (r + 1) * dense.p);
        fold_rows.compute_fill();
        dense.fill = fold_rows.fill;
      }
    }
    if (svm) {
      const int c = static_cast<int>(t % per_model);
      const auto w = train_svm_problem(dense, ds, train_rows, c, opt.common,
                                       task_seed(task_seed(params.seed, kCvStream, static_cast<std::uint64_t>(m)), kSvmStream, static_cast<std::uint64_t>(c)));
      std::vector<double> values;
      for (const auto row : test_rows) values.push_back(dense.dot(row, w));
      return to_bytes(values);
    }
    const auto r = ml::grow_tree(ds.x, ds.y, train_rows, params, tree_seed(m, t % params.n_trees), to);
    std::vector<float> values;
    values.reserve(test_rows.size() * static_cast<std::size_t>(k));
    for (const auto row : test_rows) {
      const float* v = r.tree.predict(ds.x, row);
      values.insert(values.end(), v, v + k);
    }
    return to_bytes(values);
  };
  ts.commit = [&](std::int64_t t, std::string&& bytes) {
    if (svm) {
      // Decision values, test sample after test sample, problem after problem.
      const auto values = from_bytes<std::vector<double>>(bytes);
      auto& d = decisions[static_cast<std::size_t>(t / per_model)];
      const auto c = static_cast<std::size_t>(t % per_model);
      if (d.empty()) d.assign(values.size() * static_cast<std::size_t>(problems), 0.0);
      for (std::size_t i = 0; i < values.size(); ++i) d[i * static_cast<std::size_t>(problems) + c] = values[i];
      if (c + 1 == static_cast<std::size_t>(problems)) {
        sums[static_cast<std::size_t>(t / per_model)] = ml::svm_probabilities(d, static_cast<std::int64_t>(values.size()), problems, k);
      }
      return;
    }
    const auto values = from_bytes<std::vector<float>>(bytes);
    auto& s = sums[static_cast<std::size_t>(t / params.n_trees)];
    if (s.empty()) s.assign(values.size(), 0.0);
    for (std::size_t i = 0; i < values.size(); ++i) s[i] += values[i];
  };
  const bool gbt = opt.common.model == "gbt";
  if (gbt) {
    // Boosted trees: each fold's model is trained by all ranks together (data-parallel, exact
    // sums), folds one after the other; a task is a fold, journaled under `genoforest run`.
    MpiCollectives coll(comm);
    Progress gp(n_models, "folds");
    TaskSet gs;
    gs.begin = 0;
    gs.end = n_models;
    gs.journal = "cv.gbt.folds";
    gs.progress = &gp;
    gs.describe = [&](std::int64_t m) {
      return "fold " + std::to_string(m % folds + 1) + (repeats > 1 ? " of repeat " + std::to_string(m / folds + 1) : "");
    };
    gs.run = [&](std::int64_t m) {
      const auto train = split(m, false), test = split(m, true);
      ml::GbtParams gp2 = opt.common.gbt;
      gp2.seed = task_seed(params.seed, kCvStream, static_cast<std::uint64_t>(m));
      const auto res = ml::train_gbt(ds.x, ds.y, train, gp2, coll);
      std::vector<double> values(test.size() * static_cast<std::size_t>(k));
      for (std::size_t i = 0; i < test.size(); ++i) ml::gbt_predict(res.model, ds.x, test[i], values.data() + i * static_cast<std::size_t>(k));
      return comm.is_root() ? to_bytes(values) : std::string();
    };
    gs.commit = [&](std::int64_t m, std::string&& bytes) { sums[static_cast<std::size_t>(m)] = from_bytes<std::vector<double>>(bytes); };
    run_collective_tasks(comm, gs);
  } else if (const ml::Sharding* sh = node_data->sharding(); sh && !svm) {
    // Sharded: all ranks grow each fold's trees together, in groups, and route the test samples
    // down them; rank 0 sums the predictions in tree order, as the tasks would commit them.
    // A task is a group of a fold's trees, journaled under `genoforest run` as train's are.
    const std::int64_t group = std::min<std::int64_t>(params.n_trees, 32);
    const std::int64_t per_fold = (params.n_trees + group - 1) / group;
    TaskSet gs;
    gs.begin = 0;
    gs.end = n_models * per_fold;
    gs.journal = "cv.sharded.trees" + std::to_string(group);
    gs.describe = [&](std::int64_t t) {
      const std::int64_t m = t / per_fold, g0 = t % per_fold * group;
      return "fold " + std::to_string(m % folds + 1) + (repeats > 1 ? " of repeat " + std::to_string(m / folds + 1) : "") +
             ", trees " + std::to_string(g0 + 1) + "-" + std::to_string(std::min(params.n_trees, g0 + group));
    };
    gs.run = [&](std::int64_t t) {
      const std::int64_t m = t / per_fold, g0 = t % per_fold * group;
      if (m != cached_m) {
        train_rows = split(m, false);
        test_rows = split(m, true);
        cached_m = m;
      }
      std::vector<std::uint64_t> seeds;
      for (std::int64_t i = g0; i < std::min(params.n_trees, g0 + group); ++i) seeds.push_back(tree_seed(m, i));
      auto grown = ml::grow_trees(ds.x, ds.y, train_rows, params, seeds, to, sh);
      std::vector<ml::Tree> trees;
      for (auto& r : grown) trees.push_back(std::move(r.tree));
      auto values = ml::predict_rows(trees, ds.x, test_rows, sh);
      return comm.is_root() ? to_bytes(values) : std::string();
    };
    gs.commit = [&](std::int64_t t, std::string&& bytes) {
      const std::int64_t m = t / per_fold, g0 = t % per_fold * group;
      const auto values = from_bytes<std::vector<std::vector<float>>>(bytes);
      for (std::size_t i = 0; i < values.size(); ++i) {
        ts.commit(m * per_model + g0 + static_cast<std::int64_t>(i), to_bytes(values[i]));
        progress.tick();
      }
    };
    run_collective_tasks(comm, gs);
  } else {
    run_tasks(comm, ts);
  }
  const double cv_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  comm.on_root([&] {
    if (!opt.assignments.empty()) {
      std::string tsv = "sample_id\trepeat\tfold\n";
      for (int r = 0; r < repeats; ++r)
        for (std::int64_t i = 0; i < n; ++i)
          tsv += ds.samples[static_cast<std::size_t>(i)] + "\t" + std::to_string(r + 1) + "\t" +
                 std::to_string(fold_of[static_cast<std::size_t>(r)][static_cast<std::size_t>(i)] + 1) + "\n";
      write_atomically(opt.assignments, tsv);
    }
    const auto nt = svm || gbt ? 1.0 : static_cast<double>(params.n_trees);
    if (!opt.predictions.empty()) {
      // Each sample's prediction by the model of the fold that held it out, repeat by repeat, in
      // sample order: the mean of the trees' class probabilities (or values), and the class
      // with the highest (the first on ties, as the metrics count it).
      std::string tsv = "sample_id\trepeat\tfold\ttruth\tpredicted";
      if (cls)
        for (const auto& c : ds.classes) tsv += "\tprob_" + c;
      tsv += "\n";
      char buf[64];
      for (int r = 0; r < repeats; ++r) {
        std::vector<std::pair<std::int64_t, std::size_t>> where(static_cast<std::size_t>(n));  // (model, index in its test rows)
        for (int f = 0; f < folds; ++f) {
          const std::int64_t m = static_cast<std::int64_t>(r) * folds + f;
          const auto test = split(m, true);
          for (std::size_t i = 0; i < test.size(); ++i) where[static_cast<std::size_t>(test[i])] = {m, i};
        }
        for (std::int64_t i = 0; i < n; ++i) {
          const auto [m, at] = where[static_cast<std::size_t>(i)];
          const auto& s = sums[static_cast<std::size_t>(m)];
          tsv += ds.samples[static_cast<std::size_t>(i)] + "\t" + std::to_string(r + 1) + "\t" + std::to_string(m % folds + 1) + "\t";
          if (cls) {
            const double* p = s.data() + at * static_cast<std::size_t>(k);
            int best = 0;
            for (int c = 1; c < k; ++c)
              if (p[c] > p[best]) best = c;
            tsv += ds.classes[static_cast<std::size_t>(ds.y.code[static_cast<std::size_t>(i)])] + "\t" +
                   ds.classes[static_cast<std::size_t>(best)];
            for (int c = 0; c < k; ++c) {
              std::snprintf(buf, sizeof buf, "\t%.6g", p[c] / nt);
              tsv += buf;
            }
          } else {
            std::snprintf(buf, sizeof buf, "%.6g\t%.6g", ds.y.value[static_cast<std::size_t>(i)], s[at] / nt);
            tsv += buf;
          }
          tsv += "\n";
        }
      }
      write_atomically(opt.predictions, tsv);
    }
    std::string table, json_folds;
    std::vector<std::vector<double>> cols;  // per metric, per fold
    std::vector<std::string> names;
    std::vector<std::vector<std::int64_t>> confusion(static_cast<std::size_t>(k), std::vector<std::int64_t>(static_cast<std::size_t>(k), 0));
    if (cls) {
      names = {"accuracy", "precision", "recall", "f1", "auc"};
    } else {
      names = {"rmse", "r2"};
    }
    cols.resize(names.size());
    char line[512];
    std::snprintf(line, sizeof line, "%-8s %-6s %7s", "repeat", "fold", "n_test");
    table += line;
    for (const auto& nm : names) {
      std::snprintf(line, sizeof line, " %10s", nm.c_str());
      table += line;
    }
    table += "\n";
    for (std::int64_t m = 0; m < n_models; ++m) {
      const auto test = split(m, true);
      const auto& s = sums[static_cast<std::size_t>(m)];
      std::vector<double> vals;
      std::string jf = "{\"repeat\": " + std::to_string(m / folds + 1) + ", \"fold\": " + std::to_string(m % folds + 1) +
                       ", \"n_test\": " + std::to_string(test.size());
      if (cls) {
        std::vector<std::int32_t> truth;
        std::vector<double> prob(s.size());
        for (const auto r : test) truth.push_back(ds.y.code[static_cast<std::size_t>(r)]);
        for (std::size_t i = 0; i < s.size(); ++i) prob[i] = s[i] / nt;
        const auto met = ml::classification_metrics(truth, prob, k);
        vals = {met.accuracy, met.macro_precision, met.macro_recall, met.macro_f1, met.auc};
        for (int a = 0; a < k; ++a)
          for (int b = 0; b < k; ++b) confusion[static_cast<std::size_t>(a)][static_cast<std::size_t>(b)] += met.confusion[static_cast<std::size_t>(a)][static_cast<std::size_t>(b)];
        jf += ", \"accuracy\": " + json_number(met.accuracy) + ", \"macro_precision\": " + json_number(met.macro_precision) +
              ", \"macro_recall\": " + json_number(met.macro_recall) + ", \"macro_f1\": " + json_number(met.macro_f1) +
              ", \"auc\": " + json_number(met.auc) + ", \"per_class\": {";
        for (int c = 0; c < k; ++c) {
          const auto uc = static_cast<std::size_t>(c);
          jf += (c ? ", " : "") + json_string(ds.classes[uc]) + ": {\"precision\": " + json_number(met.precision[uc]) +
                ", \"recall\": " + json_number(met.recall[uc]) + ", \"f1\": " + json_number(met.f1[uc]) + "}";
        }
        jf += "}, \"confusion\": " + json_array(met.confusion, [](const std::vector<std::int64_t>& row) {
          return json_array(row, [](std::int64_t v) { return std::to_string(v); });
        });
      } else {
        std::vector<double> truth, pred;
        for (std::size_t i = 0; i < test.size(); ++i) {
          truth.push_back(ds.y.value[static_cast<std::size_t>(test[i])]);
          pred.push_back(s[i] / nt);
        }
        const auto met = ml::regression_metrics(truth, pred);
        vals = {met.rmse, met.r2};
        jf += ", \"rmse\": " + json_number(met.rmse) + ", \"r2\": " + json_number(met.r2);
      }
      json_folds += (m ? ",\n    " : "") + jf + "}";
      std::snprintf(line, sizeof line, "%-8lld %-6lld %7zu", static_cast<long long>(m / folds + 1),
                    static_cast<long long>(m % folds + 1), test.size());
      table += line;
      for (std::size_t i = 0; i < vals.size(); ++i) {
        cols[i].push_back(vals[i]);
        std::snprintf(line, sizeof line, " %10s", fmt(vals[i]).c_str());
        table += line;
      }
      table += "\n";
    }
    std::string json_summary;
    std::snprintf(line, sizeof line, "%-8s %-6s %7s", "mean", "", "");
    std::string mean_row = line, sd_row;
    std::snprintf(line, sizeof line, "%-8s %-6s %7s", "sd", "", "");
    sd_row = line;
    for (std::size_t i = 0; i < names.size(); ++i) {
      double s = 0, ss = 0;
      int c = 0;
      for (double v : cols[i])
        if (!std::isnan(v)) {
          s += v;
          ++c;
        }
      const double mean = c ? s / c : std::nan("");
      for (double v : cols[i])
        if (!std::isnan(v)) ss += (v - mean) * (v - mean);
      const double sd = c > 1 ? std::sqrt(ss / (c - 1)) : std::nan("");
      std::snprintf(line, sizeof line, " %10s", fmt(mean).c_str());
      mean_row += line;
      std::snprintf(line, sizeof line, " %10s", fmt(sd).c_str());
      sd_row += line;
      json_summary += (i ? ", " : "") + json_string(names[i]) + ": {\"mean\": " + json_number(mean) + ", \"sd\": " + json_number(sd) + "}";
    }
    table += mean_row + "\n" + sd_row + "\n";
    if (cls) {
      table += "\nconfusion matrix over all folds (rows: true class, columns: predicted)\n";
      std::snprintf(line, sizeof line, "%-12s", "");
      table += line;
      for (const auto& c : ds.classes) {
        std::snprintf(line, sizeof line, " %10s", c.c_str());
        table += line;
      }
      table += "\n";
      for (int a = 0; a < k; ++a) {
        std::snprintf(line, sizeof line, "%-12s", ds.classes[static_cast<std::size_t>(a)].c_str());
        table += line;
        for (int b = 0; b < k; ++b) {
          std::snprintf(line, sizeof line, " %10lld", static_cast<long long>(confusion[static_cast<std::size_t>(a)][static_cast<std::size_t>(b)]));
          table += line;
        }
        table += "\n";
      }
    }
    // The table goes to standard output, unless a report streams there (then to standard error).
    std::fputs(table.c_str(),
               is_stdout_path(opt.output) || is_stdout_path(opt.assignments) || is_stdout_path(opt.predictions) ? stderr : stdout);
    std::fflush(stdout);
    if (!opt.output.empty()) {
      const char* crit[] = {"gini", "entropy", "variance"};
      std::string json = "{\n  \"tool\": \"genoforest " + std::string(kVersion) + "\",\n  \"input\": " + json_string(opt.common.input) +
                         ",\n  \"task\": " + (cls ? "\"classification\"" : "\"regression\"") +
                         ",\n  \"folds\": " + std::to_string(folds) + ", \"repeats\": " + std::to_string(repeats) +
                         ",\n  \"samples\": " + std::to_string(n) + ", \"features\": " + std::to_string(ds.x.cols()) +
                         ",\n  \"params\": {\"trees\": " + std::to_string(params.n_trees) + ", \"mtry\": " + std::to_string(params.mtry) +
                         ", \"min_node_size\": " + std::to_string(params.min_node_size) + ", \"max_depth\": " + std::to_string(params.max_depth) +
                         ", \"sample_fraction\": " + json_number(params.sample_fraction) + ", \"replace\": " + (params.replace ? "true" : "false") +
                         ", \"criterion\": \"" + crit[static_cast<int>(params.criterion)] + "\", \"class_weight\": \"" +
                         (params.balanced ? "balanced" : "none") + "\", \"seed\": " + std::to_string(params.seed) + "}";
      if (cls) json += ",\n  \"classes\": " + json_array(ds.classes, json_string);
      json += ",\n  \"summary\": {" + json_summary + "}";
      if (cls) {
        json += ",\n  \"confusion\": " + json_array(confusion, [](const std::vector<std::int64_t>& row) {
          return json_array(row, [](std::int64_t v) { return std::to_string(v); });
        });
      }
      json += ",\n  \"per_fold\": [\n    " + json_folds + "\n  ]\n}\n";
      write_atomically(opt.output, json);
    }
    log_info("cross-validated " + std::to_string(n_models) + " forests in " + fmt(cv_s, "%.1f") + " s" +
             (opt.output.empty() ? "" : "; wrote " + opt.output));
  });
}

// ---- predict ------------------------------------------------------------------------------------

namespace {

/// Refuses an input that holds too few of the model's variants; warns about the absent ones.
void check_overlap(const PredictOptions& opt, const ml::Model& model, const ml::ModelMatch& match) {
  const std::int64_t absent = match.absent;
  const auto& absent_names = match.absent_names;
  if (match.aliased) {
    log_info(std::to_string(match.aliased) + " of the model's variants found under another naming of their contig (contig alias: " +
             match.alias_example + ")");
  }
  const auto n_model = static_cast<std::int64_t>(model.variants.size());
  if (n_model > 0 && static_cast<double>(n_model - absent) < opt.min_overlap * static_cast<double>(n_model)) {
    throw InconsistentInputError(
        opt.input, "only " + std::to_string(n_model - absent) + " of the model's " + std::to_string(n_model) +
                       " variants are in this file (--min-overlap " + fmt(opt.min_overlap, "%g") +
                       "): another genome build, other variants, or a contig naming that is neither 'chr1' nor '1'? "
                       "The model's first variant is " + model.variants.front().name() +
                       "; lower --min-overlap to predict anyway");
  }
  if (absent) {
    std::string first;
    for (std::size_t i = 0; i < absent_names.size() && i < 5; ++i) first += (i ? ", " : "") + absent_names[i];
    log_warning(std::to_string(absent) + " of the model's " + std::to_string(model.variants.size()) + " variants are absent from " +
                opt.input + " and count as missing genotypes (" + first + (absent > 5 ? ", ..." : "") + ")");
  }
}

/// The predictions TSV's header line.
std::string prediction_header(const ml::Model& model) {
  std::string tsv = "sample_id\tpredicted";
  if (model.params.task == Task::kClassification)
    for (const auto& c : model.classes) tsv += "\tprob_" + c;
  return tsv + "\n";
}

/// The predictions TSV's lines for the samples of `ds`.
std::string prediction_lines(const ml::Model& model, const ml::Dataset& ds, const SampleSubset& subset) {
  const bool cls = model.params.task == Task::kClassification;
  const int k = cls ? static_cast<int>(model.classes.size()) : 1;
  std::string tsv;
  std::vector<double> acc(static_cast<std::size_t>(k));
  std::vector<double> svm_prob;
  if (model.kind == "svm") {
    ml::DenseRows x = ml::dense_rows(ds.x);
    x.fill = model.svm_fill;
    std::vector<double> dec;
    for (std::int64_t i = 0; i < x.n; ++i)
      for (const auto& w : model.svm_weights) dec.push_back(x.dot(i, w));
    svm_prob = ml::svm_probabilities(dec, x.n, static_cast<int>(model.svm_weights.size()), k);
  }
  for (std::int64_t r = 0; r < ds.x.rows(); ++r) {
    if (!subset.kept(ds.samples[static_cast<std::size_t>(r)])) continue;
    std::fill(acc.begin(), acc.end(), 0.0);
    if (model.kind == "svm") {
      std::copy_n(svm_prob.begin() + r * k, k, acc.begin());
    } else if (model.kind == "gbt") {
      ml::gbt_predict(model.gbt, ds.x, r, acc.data());
    } else {
      for (const auto& t : model.trees) {
        const float* v = t.predict(ds.x, r);
        for (int c = 0; c < k; ++c) acc[static_cast<std::size_t>(c)] += v[c];
      }
      for (auto& a : acc) a /= static_cast<double>(model.trees.size());
    }
    tsv += ds.samples[static_cast<std::size_t>(r)] + "\t";
    if (cls) {
      const auto best = std::max_element(acc.begin(), acc.end()) - acc.begin();
      tsv += model.classes[static_cast<std::size_t>(best)];
      for (double a : acc) tsv += "\t" + fmt(a, "%.6f");
    } else {
      tsv += fmt(acc[0], "%.6g");
    }
    tsv += "\n";
  }
  return tsv;
}

}  // namespace

void run_predict(const Comm& comm, const PredictOptions& opt) {
  bool is_h5 = false;
  comm.on_root([&] {
    if (opt.model.empty()) throw UsageError("-m/--model is required");
    if (opt.input.empty()) throw UsageError("no input: give a feature store (.h5) or a VCF/BCF of the new samples");
    if (opt.output.empty()) throw UsageError("-o/--output (the predictions TSV) is required");
    if (!(opt.min_overlap >= 0 && opt.min_overlap <= 1)) throw UsageError("--min-overlap must be in [0, 1]");
    check_outputs({{"-m/--model", opt.model}, {"the input", opt.input}, {"the input's index", opt.input + ".tbi"},
                   {"the input's index", opt.input + ".csi"}, {"--covar", opt.covar}, {"--keep", opt.keep}, {"--remove", opt.remove}},
                  {{"-o/--output", opt.output, true}});
    std::error_code ec;
    if (!fs::exists(opt.input, ec)) throw IoError("cannot open " + opt.input + ": no such file");
    is_h5 = H5Fis_hdf5(opt.input.c_str()) > 0;
    if (is_h5 && !opt.covar.empty()) {
      throw UsageError("--covar is for a VCF/BCF input: the feature store " + opt.input + " holds its own covariates (features --covar)");
    }
  });
  comm.bcast(is_h5);
  auto finish = [&](const ml::Model& model, std::int64_t n, const std::string& tsv) {
    write_atomically(opt.output, tsv);
    log_info("predicted " + std::to_string(n) + " samples with " +
             (model.kind == "svm"   ? std::string("a linear SVM")
              : model.kind == "gbt" ? std::to_string(model.gbt.trees.size()) + " boosted trees"
                                    : std::to_string(model.trees.size()) + " trees") +
             (comm.size() > 1 && is_h5 ? ", their rows spread over " + std::to_string(comm.size()) + " ranks" : std::string()) +
             "; wrote " + (is_stdout_path(opt.output) ? std::string("them to standard output") : opt.output));
  };
  if (!is_h5 || comm.size() == 1) {
    // A VCF/BCF is read from start to end by rank 0; the other ranks wait.
    comm.on_root([&] {
      const ml::Model model = ml::load_model(opt.model);
      const auto subset = SampleSubset::from_files(opt.keep, opt.remove);
      ml::ModelMatch match;
      std::optional<io::CovariateTable> covariates;
      if (!opt.covar.empty()) {
        std::vector<std::string> names;
        for (const auto& f : model.extras)
          if (f.name.starts_with(ml::kCovariatePrefix)) names.push_back(f.name.substr(std::string(ml::kCovariatePrefix).size()));
        if (names.empty()) log_warning("--covar " + opt.covar + ": the model uses no covariates; the table is not read");
        else covariates = io::read_covariates(opt.covar, names);
      }
      const ml::Dataset ds = is_h5 ? ml::load_for_model(opt.input, model, match)
                                   : ml::load_vcf_for_model(opt.input, model, match, covariates ? &*covariates : nullptr);
      check_overlap(opt, model, match);
      const auto kept = subset.select(ds.samples, opt.input);
      if (subset.active()) log_info(subset.describe(kept.size(), ds.samples.size()));
      finish(model, static_cast<std::int64_t>(kept.size()), prediction_header(model) + prediction_lines(model, ds, subset));
    });
    return;
  }
  // A feature store: each rank reads and predicts its own block of samples (rows), rank 0 writes
  // the lines in sample order.
  ml::Model model;
  std::int64_t n = 0, n_kept = 0;
  ml::ModelMatch match;
  SampleSubset subset;
  std::string lines;
  std::exception_ptr e;
  try {
    model = ml::load_model(opt.model);
    subset = SampleSubset::from_files(opt.keep, opt.remove);
    const auto all = features::StoreReader(opt.input).samples();
    n = static_cast<std::int64_t>(all.size());
    if (subset.active()) {
      const auto kept = subset.select(all, opt.input);
      if (comm.is_root()) log_info(subset.describe(kept.size(), all.size()));
      n_kept = static_cast<std::int64_t>(kept.size());
    } else {
      n_kept = n;
    }
    const std::int64_t b = n * comm.rank() / comm.size(), end = n * (comm.rank() + 1) / comm.size();
    const ml::Dataset ds = ml::load_for_model(opt.input, model, match, b, end);
    if (comm.is_root()) check_overlap(opt, model, match);
    lines = prediction_lines(model, ds, subset);
  } catch (...) {
    e = std::current_exception();
  }
  comm.agree(e);
  std::vector<std::string> send(static_cast<std::size_t>(comm.size()));
  send[0] = std::move(lines);
  auto got = comm.exchange(send);
  comm.on_root([&] {
    std::string tsv = prediction_header(model);
    for (auto& part : got) tsv += part;
    finish(model, n_kept, tsv);
  });
}

}  // namespace genoforest::mpi
