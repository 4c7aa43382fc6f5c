#include "genoforest/ml/model.hpp"

#include <boost/archive/binary_iarchive.hpp>
#include <boost/archive/binary_oarchive.hpp>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "genoforest/core/error.hpp"
#include "genoforest/core/files.hpp"
#include "genoforest/core/region.hpp"
#include "genoforest/core/text.hpp"
#include "genoforest/core/rng.hpp"

namespace genoforest::ml {

namespace fs = std::filesystem;

std::string VariantKey::match_key() const {
  return canonical_contig(chrom) + ':' + std::to_string(pos) + ':' + ref + ':' + alt;
}

namespace {
constexpr char kMagic[] = "genoforest-model\n";
constexpr std::size_t kMagicLen = sizeof(kMagic) - 1;

std::uint64_t checksum(const std::string& s) {
  std::uint64_t h = 0x243F6A8885A308D3ULL ^ s.size();
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    h = mix64(h ^ w);
  }
  std::uint64_t tail = 0;
  std::memcpy(&tail, s.data() + i, s.size() - i);
  return mix64(h ^ tail ^ (static_cast<std::uint64_t>(s.size() - i) << 56));
}

template <class T>
void put(std::string& out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out.append(b, sizeof(T));
}
template <class T>
T get(const std::string& in, std::size_t at) {
  T v;
  std::memcpy(&v, in.data() + at, sizeof(T));
  return v;
}
}  // namespace

std::string Model::feature_name(std::int64_t f) const {
  if (f < static_cast<std::int64_t>(variants.size())) {
    const auto& v = variants[static_cast<std::size_t>(f)];
    return v.chrom + ":" + std::to_string(v.pos) + ":" + v.ref + ":" + v.alt;
  }
  return extras[static_cast<std::size_t>(f - static_cast<std::int64_t>(variants.size()))].name;
}

void save_model(const Model& m, const std::filesystem::path& path) {
  std::ostringstream os(std::ios::binary);
  {
    boost::archive::binary_oarchive oa(os, boost::archive::no_header);
    oa << m;
  }
  const std::string payload = os.str();
  std::string head(kMagic, kMagicLen);
  put<std::uint32_t>(head, kModelFormatVersion);
  put<std::uint64_t>(head, payload.size());
  put<std::uint64_t>(head, checksum(payload));
  write_atomically(path, head + payload);
}

Model load_model(const std::filesystem::path& path) {
  const std::string p = path.string();
  std::error_code ec;
  if (fs::is_directory(path, ec)) throw InputError(p, "is a folder, not a model file (from 'genoforest train -o')");
  std::ifstream f(path, std::ios::binary);
  if (!f) throw IoError("cannot open " + p + ": " + errno_text());
  std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const std::size_t head = kMagicLen + 4 + 8 + 8;
  if (all.size() < kMagicLen || all.compare(0, kMagicLen, kMagic) != 0) {
    throw InputError(p, "not a genoforest model file (it does not start with 'genoforest-model')");
  }
  if (all.size() < head) throw InputError(p, "truncated model file (incomplete header)");
  const auto version = get<std::uint32_t>(all, kMagicLen);
  if (version != kModelFormatVersion) {
    throw InputError(p, "model format version " + std::to_string(version) + ", but this genoforest reads version " +
                            std::to_string(kModelFormatVersion) + ": train the model again with this version");
  }
  const auto size = get<std::uint64_t>(all, kMagicLen + 4);
  const auto sum = get<std::uint64_t>(all, kMagicLen + 12);
  if (all.size() - head != size) {
    throw InputError(p, "truncated or extended model file (" + std::to_string(all.size() - head) + " payload bytes, expected " +
                            std::to_string(size) + ")");
  }
  const std::string payload = all.substr(head);
  if (checksum(payload) != sum) throw InputError(p, "corrupt model file (checksum mismatch)");
  Model m;
  try {
    std::istringstream is(payload, std::ios::binary);
    boost::archive::binary_iarchive ia(is, boost::archive::no_header);
    ia >> m;
  } catch (const std::exception& e) {
    throw InputError(p, std::string("corrupt model file (") + e.what() + ")");
  }
  return m;
}

namespace {
std::string num(double v) {
  if (!std::isfinite(v)) return "null";
  char b[64];
  std::snprintf(b, sizeof b, "%.9g", v);
  return b;
}
}  // namespace

std::string model_to_json(const Model& m) {
  const bool cls = m.params.task == Task::kClassification;
  const auto n_var = static_cast<std::int64_t>(m.variants.size());
  // An internal node's feature and threshold: a variant's dosage, or a statistic's bin edge.
  auto split_json = [&](std::int32_t feature, std::uint8_t threshold) {
    std::string j = ", \"feature\": " + std::to_string(feature);
    if (feature < n_var) return j + ", \"dosage_le\": " + std::to_string(threshold);
    const auto& e = m.extras[static_cast<std::size_t>(feature - n_var)];
    return j + ", \"value_le\": " + num(threshold < e.edges.size() ? e.edges[threshold] : HUGE_VAL);
  };
  std::string s = "{\n  \"format\": \"genoforest.model.json\",\n  \"format_version\": 1,\n";
  s += "  \"kind\": " + json_string(m.kind) + ",\n";
  s += "  \"genoforest_version\": " + json_string(m.tool_version) + ",\n";
  s += "  \"training_data\": " + json_string(m.training_data) + ",\n";
  s += "  \"n_training_samples\": " + std::to_string(m.n_training_samples) + ",\n";
  s += std::string("  \"task\": \"") + (cls ? "classification" : "regression") + "\",\n";
  s += "  \"classes\": [";
  for (std::size_t c = 0; c < m.classes.size(); ++c) s += (c ? ", " : "") + json_string(m.classes[c]);
  s += "],\n";
  if (m.kind == "forest") {
    const char* crit[] = {"gini", "entropy", "variance"};
    s += "  \"params\": {\"trees\": " + std::to_string(m.params.n_trees) + ", \"mtry\": " + std::to_string(m.params.mtry) +
         ", \"min_node_size\": " + std::to_string(m.params.min_node_size) + ", \"max_depth\": " +
         std::to_string(m.params.max_depth) + ", \"sample_fraction\": " + num(m.params.sample_fraction) +
         ", \"replace\": " + (m.params.replace ? "true" : "false") + ", \"class_weight\": " +
         (m.params.balanced ? "\"balanced\"" : "null") + ", \"criterion\": \"" +
         crit[static_cast<int>(m.params.criterion)] + "\", \"seed\": " + std::to_string(m.params.seed) + "},\n";
    s += "  \"oob_error\": " + num(m.oob_error) + ",\n";
  }
  // Features: matrix columns in order; a node's "feature" is an index into this list.
  s += "  \"features\": [\n";
  for (std::int64_t f = 0; f < m.n_features(); ++f) {
    const auto uf = static_cast<std::size_t>(f);
    s += "    {\"index\": " + std::to_string(f);
    if (f < n_var) {
      const auto& v = m.variants[uf];
      s += ", \"type\": \"variant\", \"chrom\": " + json_string(v.chrom) + ", \"pos\": " + std::to_string(v.pos) +
           ", \"id\": " + json_string(v.id) + ", \"ref\": " + json_string(v.ref) + ", \"alt\": " + json_string(v.alt);
    } else {
      const auto& e = m.extras[static_cast<std::size_t>(f - n_var)];
      s += ", \"type\": \"statistic\", \"name\": " + json_string(e.name) + ", \"bin_edges\": [";
      for (std::size_t k = 0; k < e.edges.size(); ++k) s += (k ? ", " : "") + num(e.edges[k]);
      s += "]";
    }
    if (uf < m.importance_impurity.size()) s += ", \"importance_impurity\": " + num(m.importance_impurity[uf]);
    if (uf < m.importance_permutation.size()) s += ", \"importance_permutation\": " + num(m.importance_permutation[uf]);
    s += f + 1 < m.n_features() ? "},\n" : "}\n";
  }
  s += "  ],\n";
  if (m.kind == "svm") {
    // Decision value of problem q: sum_f w[f] x[f] + bias (x: dosage, a statistic's bin index,
    // a missing value replaced by fill[f]).
    s += "  \"svm\": {\"C\": " + num(m.svm_c) + ", \"fill\": [";
    for (std::size_t f = 0; f < m.svm_fill.size(); ++f) s += (f ? ", " : "") + num(m.svm_fill[f]);
    s += "], \"problems\": [\n";
    for (std::size_t q = 0; q < m.svm_weights.size(); ++q) {
      const auto& w = m.svm_weights[q];
      const std::string positive = m.svm_weights.size() == 1 && m.classes.size() > 1 ? m.classes[1]
                                   : q < m.classes.size()                          ? m.classes[q]
                                                                                   : "";
      s += "    {\"positive_class\": " + json_string(positive) + ", \"bias\": " + num(w.empty() ? 0.0 : w.back()) +
           ", \"weights\": [";
      for (std::size_t f = 0; f + 1 < w.size(); ++f) s += (f ? ", " : "") + num(w[f]);
      s += q + 1 < m.svm_weights.size() ? "]},\n" : "]}\n";
    }
    s += "  ]}\n}\n";
    return s;
  }
  if (m.kind == "gbt") {
    // Boosted trees, round after round ("groups" trees per round, one per class for softmax): the
    // margin of group g is base_margin[g] plus the leaf values ("value", learning rate included)
    // of its trees; probabilities are the logistic or softmax of the margins. Thresholds as below.
    const auto& g = m.gbt;
    s += "  \"gbt\": {\"objective\": " + json_string(g.objective) + ", \"groups\": " + std::to_string(g.groups) + ", \"rounds\": " +
         std::to_string(g.best_rounds) + ", \"eta\": " + num(m.gbt_params.eta) + ", \"base_margin\": [";
    for (std::size_t i = 0; i < g.base_margin.size(); ++i) s += (i ? ", " : "") + num(g.base_margin[i]);
    s += "], \"trees\": [\n";
    for (std::size_t t = 0; t < g.trees.size(); ++t) {
      const auto& tr = g.trees[t];
      s += "    {\"group\": " + std::to_string(t % static_cast<std::size_t>(std::max(g.groups, 1))) + ", \"nodes\": [";
      for (std::size_t i = 0; i < tr.nodes.size(); ++i) {
        const GbtNode& nd = tr.nodes[i];
        s += i ? ",\n      " : "\n      ";
        s += "{\"id\": " + std::to_string(i);
        if (nd.feature < 0) {
          s += ", \"value\": " + num(nd.value) + ", \"cover\": " + num(nd.cover) + "}";
          continue;
        }
        s += split_json(nd.feature, nd.threshold);
        s += std::string(", \"missing\": \"") + (nd.default_left ? "left" : "right") + "\", \"gain\": " + num(nd.value) +
             ", \"cover\": " + num(nd.cover) + ", \"left\": " + std::to_string(nd.left) + ", \"right\": " + std::to_string(nd.right) + "}";
      }
      s += t + 1 < g.trees.size() ? "\n    ]},\n" : "\n    ]}\n";
    }
    s += "  ]}\n}\n";
    return s;
  }
  // Trees: node 0 is the root. An internal node sends a sample left when its feature's value is
  // at most the threshold (a variant: the dosage 0/1/2; a statistic: its value, against the bin
  // edge), a missing value where "missing" says; a leaf holds the class probabilities (in
  // "classes" order) or the mean.
  s += "  \"trees\": [\n";
  for (std::size_t t = 0; t < m.trees.size(); ++t) {
    const Tree& tr = m.trees[t];
    s += "    {\"nodes\": [";
    for (std::size_t i = 0; i < tr.nodes.size(); ++i) {
      const Node& nd = tr.nodes[i];
      s += i ? ",\n      " : "\n      ";
      s += "{\"id\": " + std::to_string(i);
      if (nd.feature < 0) {
        s += ", \"leaf\": [";
        for (int k = 0; k < tr.width; ++k)
          s += (k ? ", " : "") + num(tr.leaf_values[static_cast<std::size_t>(nd.left + k)]);
        s += "]}";
        continue;
      }
      s += split_json(nd.feature, nd.threshold);
      s += std::string(", \"missing\": \"") + (nd.missing_left ? "left" : "right") + "\", \"left\": " +
           std::to_string(nd.left) + ", \"right\": " + std::to_string(nd.right) + "}";
    }
    s += t + 1 < m.trees.size() ? "\n    ]},\n" : "\n    ]}\n";
  }
  s += "  ]\n}\n";
  return s;
}

}  // namespace genoforest::ml
