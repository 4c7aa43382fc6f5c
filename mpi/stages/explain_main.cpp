// genoforest explain -m MODEL STORE -o shap.h5: exact TreeSHAP values per sample and variant of a
// forest or boosted trees, samples over the ranks (docs/explain.md).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <numeric>

#include "cli.hpp"
#include "collectives_mpi.hpp"
#include "genoforest/core/error.hpp"
#include "genoforest/core/exact_sum.hpp"
#include "genoforest/core/files.hpp"
#include "genoforest/core/log.hpp"
#include "genoforest/core/subset.hpp"
#include "genoforest/core/version.hpp"
#include "genoforest/features/store.hpp"
#include "genoforest/io/h5.hpp"
#include "genoforest/ml/dataset.hpp"
#include "genoforest/ml/model.hpp"
#include "genoforest/ml/shap.hpp"
#include "stages/stages.hpp"

namespace genoforest::mpi {

namespace fs = std::filesystem;
namespace h5 = io::h5;

namespace {

constexpr const char* kShapFormat = "genoforest.shap";
/// A forest's covers are counts of the explained samples; each leaf also gets this pseudo-count,
/// so that a node none of them reaches keeps a weight (internal covers are their children's sums).
constexpr double kLeafPseudoCount = 1e-6;

std::string fmt(double v, const char* f) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

}  // namespace

bool explain_main(const Comm& comm, const StageCall& call) {
  std::string model_path, input, output, importance_output, interactions_output, keep, remove;
  int top_k = 10;
  StageSpec spec;
  spec.name = "explain";
  spec.purpose =
      "Exact TreeSHAP values (Lundberg et al. 2018, path-dependent) of a forest or of boosted trees: per sample,\n"
      "how much each variant moves the prediction away from the expected value. Writes them to an HDF5 file\n"
      "(samples x the variants the model splits on x outputs; docs/explain.md) and the mean |SHAP| per variant\n"
      "to a TSV. Boosted trees are explained in margin space (log-odds), as XGBoost's pred_contribs; a forest\n"
      "in probability (or value), with covers counted from the explained samples. Samples over the ranks; the\n"
      "same file for any rank count.";
  spec.usage = "-m <model.gfm> <store.h5> -o <shap.h5>";
  po::options_description g("Explain");
  g.add_options()  //
      ("model,m", po::value(&model_path)->value_name("FILE"), "model file from 'genoforest train' (a forest or --model gbt)")  //
      ("input", po::value(&input)->value_name("FILE"), "feature store of the samples to explain (positional)")  //
      ("output,o", po::value(&output)->value_name("FILE"), "HDF5 file of the SHAP values (.h5)")  //
      ("importance-output", po::value(&importance_output)->value_name("FILE"),
       "TSV of the mean |SHAP| per variant, most important first [OUTPUT.importance.tsv]")  //
      ("interactions", po::value(&top_k)->default_value(10)->value_name("K"),
       "SHAP interaction values of the K variants of highest mean |SHAP| with every variant the model splits on; "
       "the pairs of highest mean |interaction| go to OUTPUT.interactions.tsv (0: none)")  //
      ("keep", po::value(&keep)->value_name("FILE"), "only the samples of this list (plink2's --keep)")  //
      ("remove", po::value(&remove)->value_name("FILE"), "leave out the samples of this list (plink2's --remove)");
  spec.groups.push_back(g);
  spec.positional.add("input", 1);
  po::variables_map vm;
  if (!start_stage(spec, call, vm, comm)) return false;
  if (importance_output.empty() && !output.empty()) importance_output = output + ".importance.tsv";
  if (!output.empty()) interactions_output = output + ".interactions.tsv";
  comm.on_root([&] {
    if (model_path.empty()) throw UsageError("-m/--model is required");
    if (input.empty()) throw UsageError("no input: give the feature store (.h5) of the samples to explain");
    if (output.empty()) throw UsageError("-o/--output (the HDF5 file of SHAP values) is required");
    if (!output.ends_with(".h5")) throw UsageError("-o/--output must end in .h5 (an HDF5 file): " + output);
    if (top_k < 0) throw UsageError("--interactions must be >= 0");
    check_outputs({{"-m/--model", model_path}, {"the input", input}, {"--keep", keep}, {"--remove", remove}},
                  {{"-o/--output", output}, {"--importance-output", importance_output},
                   {"the interactions table", top_k > 0 ? interactions_output : std::string()}});
  });
  const auto t0 = std::chrono::steady_clock::now();
  ml::Model model;
  ml::Dataset ds;
  ml::ModelMatch match;
  SampleSubset subset;
  std::int64_t n_store = 0;
  {
    std::exception_ptr e;
    try {
      model = ml::load_model(model_path);
      if (model.kind == "svm") {
        throw UsageError("explain needs trees; " + model_path + " is a linear SVM, whose weights are its explanation ('genoforest model dump')");
      }
      subset = SampleSubset::from_files(keep, remove);
      n_store = static_cast<std::int64_t>(features::StoreReader(input).samples().size());
      const std::int64_t b = n_store * comm.rank() / comm.size(), end = n_store * (comm.rank() + 1) / comm.size();
      ds = ml::load_for_model(input, model, match, b, end);
    } catch (...) {
      e = std::current_exception();
    }
    comm.agree(e);
  }
  const bool gbt = model.kind == "gbt";
  const bool cls = model.params.task == ml::Task::kClassification;
  std::vector<std::int64_t> rows;
  for (std::int64_t r = 0; r < ds.x.rows(); ++r)
    if (subset.kept(ds.samples[static_cast<std::size_t>(r)])) rows.push_back(r);

  // The trees as TreeSHAP reads them.
  std::vector<ml::ShapTree> trees;
  std::vector<int> group;  // per tree: its output (boosted trees: the class of its round)
  int outputs = 1;
  double scale = 1.0;
  std::vector<double> base(1, 0.0);
  if (gbt) {
    outputs = model.gbt.groups;
    base = model.gbt.base_margin;
    for (std::size_t t = 0; t < model.gbt.trees.size(); ++t) {
      trees.push_back(ml::shap_tree(model.gbt.trees[t]));
      group.push_back(static_cast<int>(t % static_cast<std::size_t>(outputs)));
    }
  } else {
    // Covers: how many of the explained samples (all ranks) reach each node; exact integer sums.
    outputs = model.trees.empty() ? 1 : model.trees[0].width;
    base.assign(static_cast<std::size_t>(outputs), 0.0);
    scale = 1.0 / static_cast<double>(std::max<std::size_t>(model.trees.size(), 1));
    std::vector<std::size_t> first;
    std::size_t total = 0;
    for (const auto& t : model.trees) {
      first.push_back(total);
      total += t.nodes.size();
    }
    std::vector<std::int64_t> count(total, 0);
    for (std::size_t t = 0; t < model.trees.size(); ++t) ml::count_node_visits(model.trees[t], ds.x, rows, count.data() + first[t]);
    MpiCollectives coll(comm);
    coll.all_sum(count);
    for (std::size_t t = 0; t < model.trees.size(); ++t) {
      trees.push_back(ml::shap_tree(model.trees[t], ml::covers_from_counts(model.trees[t], count.data() + first[t], kLeafPseudoCount)));
      group.push_back(0);
    }
  }
  // The features the model splits on: the only ones with a non-zero value.
  const auto F = static_cast<std::size_t>(ds.x.cols());
  std::vector<char> used_flag(F, 0);
  for (const auto& t : trees)
    for (auto f : t.feature)
      if (f >= 0) used_flag[static_cast<std::size_t>(f)] = 1;
  std::vector<std::int32_t> used;
  for (std::size_t f = 0; f < F; ++f)
    if (used_flag[f]) used.push_back(static_cast<std::int32_t>(f));
  const std::size_t U = used.size(), K = static_cast<std::size_t>(outputs);
  // Per row: the values of every feature (boosted: per group), kept for the used ones.
  std::vector<float> values(rows.size() * U * K);
  // The expected value: the trees' cover-weighted mean leaves (no sample needed).
  std::vector<double> expected = base;
  for (std::size_t t = 0; t < trees.size(); ++t) {
    const auto e = ml::conditional_expectation(trees[t], ds.x, 0, std::vector<char>(F, 0));
    if (gbt) expected[static_cast<std::size_t>(group[t])] += e[0];
    else
      for (std::size_t k = 0; k < K; ++k) expected[k] += scale * e[k];
  }
  {
    std::vector<double> phi(F * K), tmp(F), bias(K);
    for (std::size_t i = 0; i < rows.size(); ++i) {
      std::fill(phi.begin(), phi.end(), 0.0);
      std::fill(bias.begin(), bias.end(), 0.0);
      for (std::size_t t = 0; t < trees.size(); ++t) {
        if (gbt) {
          std::fill(tmp.begin(), tmp.end(), 0.0);
          double b = 0;
          ml::tree_shap(trees[t], ds.x, rows[i], 1.0, tmp.data(), &b);
          const auto g = static_cast<std::size_t>(group[t]);
          for (auto f : used) phi[static_cast<std::size_t>(f) * K + g] += tmp[static_cast<std::size_t>(f)];
          bias[g] += b;
        } else {
          ml::tree_shap(trees[t], ds.x, rows[i], scale, phi.data(), bias.data());
        }
      }
      for (std::size_t u = 0; u < U; ++u)
        for (std::size_t k = 0; k < K; ++k) values[(i * U + u) * K + k] = static_cast<float>(phi[static_cast<std::size_t>(used[u]) * K + k]);
    }
  }
  // Mean |SHAP| per used feature over all samples (summed over the outputs), exact for any rank
  // count: it ranks the variants, here and for the interactions.
  std::vector<double> mean_abs(U, 0.0);
  std::int64_t n_rows_all = static_cast<std::int64_t>(rows.size());
  {
    ExactSum acc(U);
    for (std::size_t i = 0; i < rows.size(); ++i)
      for (std::size_t u = 0; u < U; ++u)
        for (std::size_t k = 0; k < K; ++k) acc.add(u, std::fabs(static_cast<double>(values[(i * U + u) * K + k])));
    comm.sum_exact(acc);
    std::vector<double> n{static_cast<double>(n_rows_all)};
    n_rows_all = 0;
    for (double v : comm.allgather(n)) n_rows_all += static_cast<std::int64_t>(v);
    for (std::size_t u = 0; u < U; ++u) mean_abs[u] = n_rows_all ? acc.value(u) / static_cast<double>(n_rows_all) : 0.0;
  }
  std::vector<std::size_t> order(U);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return mean_abs[a] > mean_abs[b]; });
  // Interactions: for each of the top K variants j, every used variant i: mean over the samples
  // of |(phi_i with j present - phi_i with j absent) / 2|, summed over the outputs.
  const std::size_t kk = std::min<std::size_t>(static_cast<std::size_t>(top_k), U);
  std::vector<double> inter(kk * U, 0.0);
  if (kk > 0) {
    ExactSum acc(kk * U);
    std::vector<double> on(F * K), off(F * K), tmp_on(F), tmp_off(F);
    for (const auto r : rows) {
      for (std::size_t a = 0; a < kk; ++a) {
        const std::int32_t j = used[order[a]];
        std::fill(on.begin(), on.end(), 0.0);
        std::fill(off.begin(), off.end(), 0.0);
        for (std::size_t t = 0; t < trees.size(); ++t) {
          if (gbt) {
            std::fill(tmp_on.begin(), tmp_on.end(), 0.0);
            std::fill(tmp_off.begin(), tmp_off.end(), 0.0);
            ml::tree_shap_conditioned(trees[t], ds.x, r, 1.0, j, true, tmp_on.data());
            ml::tree_shap_conditioned(trees[t], ds.x, r, 1.0, j, false, tmp_off.data());
            const auto g = static_cast<std::size_t>(group[t]);
            for (auto f : used) {
              on[static_cast<std::size_t>(f) * K + g] += tmp_on[static_cast<std::size_t>(f)];
              off[static_cast<std::size_t>(f) * K + g] += tmp_off[static_cast<std::size_t>(f)];
            }
          } else {
            ml::tree_shap_conditioned(trees[t], ds.x, r, scale, j, true, on.data());
            ml::tree_shap_conditioned(trees[t], ds.x, r, scale, j, false, off.data());
          }
        }
        for (std::size_t u = 0; u < U; ++u) {
          if (used[u] == j) continue;
          double s = 0;
          for (std::size_t k = 0; k < K; ++k) {
            const auto at = static_cast<std::size_t>(used[u]) * K + k;
            s += std::fabs(on[at] - off[at]) / 2;
          }
          acc.add(a * U + u, s);
        }
      }
    }
    comm.sum_exact(acc);
    for (std::size_t i = 0; i < kk * U; ++i) inter[i] = n_rows_all ? acc.value(i) / static_cast<double>(n_rows_all) : 0.0;
  }
  // Rank 0 gathers the rows in store order and writes.
  std::vector<std::string> send(static_cast<std::size_t>(comm.size()));
  {
    std::string ids;
    for (const auto r : rows) ids += ds.samples[static_cast<std::size_t>(r)] + '\n';
    std::string bytes(values.size() * sizeof(float), '\0');
    if (!values.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
    const std::string nrows = std::to_string(rows.size());
    send[0] = nrows + '\n' + ids + bytes;
  }
  const auto got = comm.exchange(send);
  comm.on_root([&] {
    std::vector<std::string> samples;
    std::vector<float> all;
    for (const auto& part : got) {
      std::size_t at = part.find('\n');
      const auto n = static_cast<std::size_t>(std::stoll(part.substr(0, at)));
      ++at;
      for (std::size_t i = 0; i < n; ++i) {
        const std::size_t nl = part.find('\n', at);
        samples.push_back(part.substr(at, nl - at));
        at = nl + 1;
      }
      const std::size_t nv = n * U * K;
      const std::size_t old = all.size();
      all.resize(old + nv);
      if (nv) std::memcpy(all.data() + old, part.data() + at, nv * sizeof(float));
    }
    if (samples.empty()) throw DataError("no sample to explain (--keep/--remove leave none of the " + std::to_string(n_store) + " samples of " + input + ")");
    // Names of the outputs and of the used features.
    std::vector<std::string> out_names;
    std::string space;
    if (gbt) {
      space = model.gbt.objective == "reg:squarederror" ? "value" : "margin";
      if (model.gbt.objective == "binary:logistic") out_names = {"log-odds of " + model.classes.at(1)};
      else if (model.gbt.objective == "multi:softprob")
        for (const auto& c : model.classes) out_names.push_back("margin of " + c);
      else out_names = {"value"};
    } else {
      space = cls ? "probability" : "value";
      if (cls) out_names = model.classes;
      else out_names = {"value"};
    }
    std::vector<std::string> chrom, id, ref, alt, name;
    std::vector<std::int64_t> pos;
    for (auto f : used) {
      const auto uf = static_cast<std::size_t>(f);
      if (uf < model.variants.size()) {
        const auto& v = model.variants[uf];
        chrom.push_back(v.chrom);
        pos.push_back(v.pos);
        id.push_back(v.id);
        ref.push_back(v.ref);
        alt.push_back(v.alt);
      } else {
        chrom.push_back(".");
        pos.push_back(0);
        id.push_back(model.extras[uf - model.variants.size()].name);
        ref.push_back(".");
        alt.push_back(".");
      }
      name.push_back(model.feature_name(f));
    }
    const std::string token = temp_token();
    AtomicOutput h5out(output, token);
    {
      h5::Hid f(H5Fcreate(h5out.tmp().c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), "cannot create " + h5out.tmp().string());
      h5::write_attr(f, "format", std::string(kShapFormat));
      h5::write_attr(f, "format_version", std::int64_t{1});
      h5::write_attr(f, "genoforest_version", std::string(kVersion));
      h5::write_attr(f, "model", model_path);
      h5::write_attr(f, "model_kind", model.kind);
      h5::write_attr(f, "source", input);
      h5::write_attr(f, "output_space", space);
      h5::create_group(f, "samples");
      h5::write_strings(f, "samples/id", samples);
      h5::create_group(f, "features");
      h5::write_strings(f, "features/chrom", chrom);
      h5::write_vector(f, "features/pos", pos);
      h5::write_strings(f, "features/id", id);
      h5::write_strings(f, "features/ref", ref);
      h5::write_strings(f, "features/alt", alt);
      h5::write_strings(f, "features/name", name);
      std::vector<std::int64_t> index(used.begin(), used.end());
      h5::write_vector(f, "features/model_index", index);
      h5::write_vector(f, "features/mean_abs_shap", mean_abs);
      h5::create_group(f, "shap");
      h5::write_strings(f, "shap/outputs", out_names);
      h5::write_vector(f, "shap/expected_value", expected);
      h5::write_array(f, "shap/values", {samples.size(), U, K}, all.data());
    }
    h5out.commit();
    std::string tsv = "chrom\tpos\tid\tref\talt\tmean_abs_shap\n";
    for (auto u : order) tsv += chrom[u] + "\t" + std::to_string(pos[u]) + "\t" + id[u] + "\t" + ref[u] + "\t" + alt[u] + "\t" + fmt(mean_abs[u], "%.6g") + "\n";
    write_atomically(importance_output, tsv);
    if (kk > 0) {
      // Pairs, each once (a top variant with another top one is listed from the higher-ranked
      // side), by mean |interaction|; at most 1,000 lines.
      struct Pair {
        std::size_t a, u;
        double v;
      };
      std::vector<Pair> pairs;
      std::vector<std::size_t> rank_of(U, U);
      for (std::size_t a = 0; a < kk; ++a) rank_of[order[a]] = a;
      for (std::size_t a = 0; a < kk; ++a)
        for (std::size_t u = 0; u < U; ++u)
          if (u != order[a] && !(rank_of[u] < a)) pairs.push_back({a, u, inter[a * U + u]});
      std::stable_sort(pairs.begin(), pairs.end(), [](const Pair& x, const Pair& y) { return x.v > y.v; });
      std::string it = "variant_a\tvariant_b\tmean_abs_interaction\tmean_abs_shap_a\tmean_abs_shap_b\n";
      for (std::size_t q = 0; q < pairs.size() && q < 1000; ++q) {
        const auto ua = order[pairs[q].a], ub = pairs[q].u;
        it += name[ua] + "\t" + name[ub] + "\t" + fmt(pairs[q].v, "%.6g") + "\t" + fmt(mean_abs[ua], "%.6g") + "\t" + fmt(mean_abs[ub], "%.6g") + "\n";
      }
      write_atomically(interactions_output, it);
      if (!pairs.empty())
        log_info("strongest interaction: " + name[order[pairs[0].a]] + " x " + name[pairs[0].u] + ", mean |SHAP interaction| " + fmt(pairs[0].v, "%.4g") +
                 " (" + interactions_output + ")");
    }
    std::string top;
    for (std::size_t i = 0; i < order.size() && i < 3; ++i) top += (i ? ", " : "") + name[order[i]] + " " + fmt(mean_abs[order[i]], "%.4g");
    log_info("explained " + std::to_string(samples.size()) + " samples x " + std::to_string(U) + " variants the model splits on (of " +
             std::to_string(F) + ") in " + fmt(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), "%.2f") + " s (" +
             space + "); wrote " + output + " and " + importance_output + "; top mean |SHAP|: " + top);
  });
  return true;
}

}  // namespace genoforest::mpi
