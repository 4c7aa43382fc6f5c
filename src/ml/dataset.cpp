#include "genoforest/ml/dataset.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <unordered_map>

#include "genoforest/core/error.hpp"
#include "genoforest/features/store.hpp"
#include "genoforest/io/scaleoffset.hpp"

namespace genoforest::ml {

namespace fs = std::filesystem;
namespace h5 = io::h5;
namespace schema = features::schema;

namespace {

constexpr int kMaxBins = 32;

std::vector<VariantKey> read_variant_keys(hid_t file) {
  const auto chrom = h5::read_strings(file, "variants/chrom");
  const auto pos = h5::read_vector<std::int64_t>(file, "variants/pos");
  const auto id = h5::read_strings(file, "variants/id");
  const auto ref = h5::read_strings(file, "variants/ref");
  const auto alt = h5::read_strings(file, "variants/alt");
  std::vector<VariantKey> out(chrom.size());
  for (std::size_t i = 0; i < chrom.size(); ++i) out[i] = {chrom[i], pos[i], id[i], ref[i], alt[i]};
  return out;
}

/// Fills genotype columns of `x` (rows = store rows `rows`): matrix column j takes store column
/// cols[j] (ascending reads by blocks of the chunk width; -1 leaves the column missing).
void read_genotypes(const features::StoreReader& store, const std::vector<std::int64_t>& rows,
                    const std::vector<std::int64_t>& cols, FeatureMatrix& x) {
  h5::Hid d(H5Dopen2(store.file(), schema::kDosage, H5P_DEFAULT), "cannot open the dosage matrix");
  constexpr std::int64_t kBlock = 1024;
  std::vector<std::pair<std::int64_t, std::int64_t>> order;  // (store column, matrix column)
  for (std::size_t j = 0; j < cols.size(); ++j)
    if (cols[j] >= 0) order.emplace_back(cols[j], static_cast<std::int64_t>(j));
  std::sort(order.begin(), order.end());
  std::vector<std::int8_t> block, column(rows.size());
  if (rows.empty()) return;
  // Only the rows' span of the store is read (a rank predicting its share of the samples).
  const std::int64_t r0 = *std::min_element(rows.begin(), rows.end());
  const std::int64_t r1 = *std::max_element(rows.begin(), rows.end()) + 1;
  for (std::size_t a = 0; a < order.size();) {
    const std::int64_t b0 = order[a].first / kBlock * kBlock;
    const std::int64_t width = std::min(kBlock, store.n_variants() - b0);
    block.resize(static_cast<std::size_t>((r1 - r0) * width));
    h5::read_block(d.get(), static_cast<hsize_t>(r0), static_cast<hsize_t>(r1 - r0), static_cast<hsize_t>(b0),
                   static_cast<hsize_t>(width), block.data());
    for (; a < order.size() && order[a].first < b0 + width; ++a) {
      const std::int64_t c = order[a].first - b0;
      for (std::size_t i = 0; i < rows.size(); ++i) column[i] = block[static_cast<std::size_t>((rows[i] - r0) * width + c)];
      x.set_genotypes(order[a].second, column.data());
    }
  }
}

/// Every per-sample statistic of a store: name and value per store row.
std::vector<std::pair<std::string, std::vector<double>>> read_stats(const features::StoreReader& store) {
  std::vector<std::pair<std::string, std::vector<double>>> out;
  const std::string base = std::string(schema::kSampleStats) + "/";
  if (!h5::exists(store.file(), schema::kSampleStats)) return out;
  for (const char* name : schema::kCountNames) out.emplace_back(base + name, h5::read_vector<double>(store.file(), base + name));
  out.emplace_back(schema::kTiTv, h5::read_vector<double>(store.file(), schema::kTiTv));
  const auto dims = h5::dims(store.file(), schema::kWindowMean);
  const auto n = static_cast<std::int64_t>(dims.at(0)), w = static_cast<std::int64_t>(dims.at(1));
  if (w > 0) {
    const auto wchrom = h5::read_strings(store.file(), "windows/chrom");
    const auto wstart = h5::read_vector<std::int64_t>(store.file(), "windows/start");
    const auto wend = h5::read_vector<std::int64_t>(store.file(), "windows/end");
    std::vector<float> m(static_cast<std::size_t>(n * w));
    h5::Hid d(H5Dopen2(store.file(), schema::kWindowMean, H5P_DEFAULT), "cannot open the window means");
    h5::read_block(d.get(), 0, static_cast<hsize_t>(n), 0, static_cast<hsize_t>(w), m.data());
    for (std::int64_t c = 0; c < w; ++c) {
      std::vector<double> v(static_cast<std::size_t>(n));
      for (std::int64_t r = 0; r < n; ++r) v[static_cast<std::size_t>(r)] = m[static_cast<std::size_t>(r * w + c)];
      const auto i = static_cast<std::size_t>(c);
      out.emplace_back(std::string(schema::kWindowMean) + " " + wchrom.at(i) + ":" + std::to_string(wstart.at(i)) + "-" +
                           std::to_string(wend.at(i)),
                       std::move(v));
    }
  }
  return out;
}

std::vector<double> pick(const std::vector<double>& v, const std::vector<std::int64_t>& rows) {
  std::vector<double> out(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) out[i] = v[static_cast<std::size_t>(rows[i])];
  return out;
}

}  // namespace

TrainingPlan plan_training_data(const fs::path& path, DataSelection extra) {
  features::StoreReader store(path);
  const std::string p = path.string();
  TrainingPlan plan;
  Dataset& ds = plan.meta;
  std::vector<std::int64_t>& rows = plan.rows;
  const std::string type = h5::exists(store.file(), "labels") ? h5::read_attr_string(h5::open_group(store.file(), "labels"), "type") : "none";
  const auto ids = store.samples();
  if (type == "class") {
    const auto code = h5::read_vector<std::int32_t>(store.file(), "labels/code");
    ds.classes = h5::read_strings(store.file(), "labels/classes");
    ds.y.task = Task::kClassification;
    if (static_cast<std::int64_t>(code.size()) != store.n_samples()) {
      throw InputError(p + " dataset labels/code", "has " + std::to_string(code.size()) + " entries for " +
                                                      std::to_string(store.n_samples()) + " samples (damaged store?)");
    }
    std::vector<std::int64_t> per_class(ds.classes.size(), 0);
    for (std::size_t i = 0; i < code.size(); ++i) {
      if (code[i] < -1 || code[i] >= static_cast<std::int32_t>(ds.classes.size())) {
        throw InputError(p + " dataset labels/code", "entry " + std::to_string(i) + " is " + std::to_string(code[i]) +
                                                        ", outside -1 (missing) .. " + std::to_string(ds.classes.size()) +
                                                        " - 1 (labels/classes has " + std::to_string(ds.classes.size()) +
                                                        " names; damaged store?)");
      }
      if (code[i] < 0) continue;
      if (!extra.samples.kept(ids[i])) {
        ++ds.not_kept;
        continue;
      }
      rows.push_back(static_cast<std::int64_t>(i));
      ds.y.code.push_back(code[i]);
      ++per_class[static_cast<std::size_t>(code[i])];
    }
    if (rows.empty() && extra.samples.active()) {
      throw DataError(p + ": " + extra.samples.describe(0, code.size()) + " with a label; check the IDs against the store's samples");
    }
    int present = 0;
    for (auto c : per_class) present += c > 0;
    if (present < 2) {
      throw DataError(p + ": only one class (" + (present ? ds.classes[static_cast<std::size_t>(
                                                                std::find_if(per_class.begin(), per_class.end(),
                                                                             [](auto c) { return c > 0; }) -
                                                                per_class.begin())]
                                                          : std::string("none")) +
                      ") among the " + std::to_string(rows.size()) + " labelled samples: a classifier needs two or more");
    }
    ds.y.n_classes = static_cast<int>(ds.classes.size());
  } else if (type == "quantitative") {
    const auto value = h5::read_vector<double>(store.file(), "labels/value");
    if (static_cast<std::int64_t>(value.size()) != store.n_samples()) {
      throw InputError(p + " dataset labels/value", "has " + std::to_string(value.size()) + " entries for " +
                                                       std::to_string(store.n_samples()) + " samples (damaged store?)");
    }
    ds.y.task = Task::kRegression;
    for (std::size_t i = 0; i < value.size(); ++i) {
      if (std::isnan(value[i])) continue;
      if (!extra.samples.kept(ids[i])) {
        ++ds.not_kept;
        continue;
      }
      rows.push_back(static_cast<std::int64_t>(i));
      ds.y.value.push_back(value[i]);
    }
    if (rows.size() < 2) throw DataError(p + ": fewer than two samples with a label");
  } else if (type != "none") {
    throw InputError(p + " group labels", "unknown label type '" + type + "' (expected class or quantitative)");
  } else {
    throw DataError(p + ": the feature store has no labels: build it with 'genoforest features --phenotypes FILE'");
  }
  ds.unlabelled = store.n_samples() - static_cast<std::int64_t>(rows.size()) - ds.not_kept;
  for (auto r : rows) ds.samples.push_back(ids[static_cast<std::size_t>(r)]);
  // Matrix rows are the labelled samples; labels are indexed by matrix row.
  ds.variants = read_variant_keys(store.file());
  plan.n_store_variants = store.n_variants();
  if (extra.variants.active()) {
    std::vector<VariantKey> kept;
    for (std::size_t i = 0; i < ds.variants.size(); ++i) {
      const auto& k = ds.variants[i];
      if (!extra.variants.kept(k.chrom, k.pos, k.id, k.ref, k.alt)) continue;
      plan.columns.push_back(static_cast<std::int64_t>(i));
      kept.push_back(k);
    }
    if (kept.empty()) {
      throw DataError(p + ": --extract/--exclude leave none of its " + std::to_string(ds.variants.size()) + " variants");
    }
    ds.not_selected = static_cast<std::int64_t>(ds.variants.size() - kept.size());
    ds.variants = std::move(kept);
  }
  plan.n_genotypes = static_cast<std::int64_t>(ds.variants.size());
  std::vector<int> bins;
  std::vector<std::pair<std::string, std::vector<double>>> columns;
  if (extra.sample_stats) {
    columns = read_stats(store);
    if (columns.empty()) throw DataError(p + ": the store has no per-sample statistics (/sample_stats)");
  }
  if (extra.covariates) {
    auto cov = features::read_covariates(store.file());
    if (cov.empty()) {
      throw DataError(p + ": the store has no covariates (--with-covariates): build it with 'genoforest features --covar FILE'");
    }
    for (auto& [name, values] : cov) columns.emplace_back(kCovariatePrefix + name, std::move(values));
  }
  for (const auto& [name, values] : columns) {
    const auto v = pick(values, rows);
    ExtraFeature f{name, quantile_edges(v, kMaxBins)};
    plan.extra_codes.push_back(bin_values(v, f.edges));
    bins.push_back(static_cast<int>(f.edges.size() + 1));
    ds.extras.push_back(std::move(f));
  }
  plan.layout = FeatureMatrix::plan(static_cast<std::int64_t>(rows.size()), plan.n_genotypes, bins);
  return plan;
}

/// Packs the `width` columns of `block` (store rows of `width` dosages each) for the matrix rows
/// `rows` (their store rows) into the columns' bytes out[c], as pack_genotypes() would: four rows
/// make one byte of each column, and columns go 64 at a time, so that a store row is read as
/// whole cache lines, not one byte a kilobyte apart (perf, one rank loading 5,000 x 200,000: the
/// column-by-column gather and pack took 54% of the load; this takes 13%).
static void pack_rows(const std::int8_t* block, std::int64_t width, const std::vector<std::int64_t>& rows, std::uint8_t* const* out) {
  constexpr std::int64_t kTile = 64;
  const auto n = static_cast<std::int64_t>(rows.size());
  for (std::int64_t c0 = 0; c0 < width; c0 += kTile) {
    const std::int64_t w = std::min(kTile, width - c0);
    for (std::int64_t i0 = 0; i0 < n; i0 += 4) {
      std::uint8_t acc[kTile] = {};
      for (std::int64_t k = 0; k < 4 && i0 + k < n; ++k) {
        const std::int8_t* src = block + rows[static_cast<std::size_t>(i0 + k)] * width + c0;
        const int shift = static_cast<int>(2 * k);
        // genotype_code() without branches, so that the loop vectorises: a negative dosage's byte
        // has its top bit set (code 3), others are capped at 2.
        for (std::int64_t c = 0; c < w; ++c) {
          const auto u = static_cast<std::uint8_t>(src[c]);
          const std::uint8_t code = (u & 0x80) ? 3 : (u > 2 ? 2 : u);
          acc[c] = static_cast<std::uint8_t>(acc[c] | (code << shift));
        }
      }
      for (std::int64_t c = 0; c < w; ++c) out[c0 + c][i0 / 4] = acc[c];
    }
  }
}

namespace {

/// Tables of the 2-bit transpose: byte b of row i of a group of four (codes of four columns, the
/// first in the top bits, as scale-offset packs them) -> its codes' bits in the four columns'
/// bytes (row i at bits 2i, as the matrix packs them), column j in byte j.
struct Transpose4 {
  std::array<std::array<std::uint32_t, 256>, 4> t{};
  Transpose4() {
    for (unsigned i = 0; i < 4; ++i)
      for (unsigned b = 0; b < 256; ++b)
        for (unsigned j = 0; j < 4; ++j) t[i][b] |= ((b >> (6 - 2 * j)) & 3u) << (2 * i + 8 * j);
  }
};

/// Turns one chunk's scale-offset stream (rows [r0, r0 + valid) of `ncols` columns, 2 bits per
/// code, row-major) into the matrix's columns out[c], bytes r0/4 onwards. Only for a stream
/// whose codes are the matrix's codes: 2 bits, minimum 0, missing (the fill value) all ones.
void transpose_chunk(const std::uint8_t* codes, std::int64_t ncols, std::int64_t r0, std::int64_t valid,
                     std::uint8_t* const* out) {
  static const Transpose4 tr;
  const std::int64_t row_bytes = ncols / 4;
  const std::int64_t groups = (valid + 3) / 4;
  for (std::int64_t k = 0; k < row_bytes; ++k) {
    std::uint8_t* o0 = out[4 * k] + r0 / 4;
    std::uint8_t* o1 = out[4 * k + 1] + r0 / 4;
    std::uint8_t* o2 = out[4 * k + 2] + r0 / 4;
    std::uint8_t* o3 = out[4 * k + 3] + r0 / 4;
    const std::uint8_t* in = codes + k;
    for (std::int64_t q = 0; q < groups; ++q) {
      const std::int64_t r = 4 * q;
      // Rows past the last valid one (a short final group) contribute nothing.
      std::uint32_t w = tr.t[0][in[r * row_bytes]];
      if (r + 1 < valid) w |= tr.t[1][in[(r + 1) * row_bytes]];
      if (r + 2 < valid) w |= tr.t[2][in[(r + 2) * row_bytes]];
      if (r + 3 < valid) w |= tr.t[3][in[(r + 3) * row_bytes]];
      o0[q] = static_cast<std::uint8_t>(w);
      o1[q] = static_cast<std::uint8_t>(w >> 8);
      o2[q] = static_cast<std::uint8_t>(w >> 16);
      o3[q] = static_cast<std::uint8_t>(w >> 24);
    }
  }
}

}  // namespace

void fill_training_genotypes(const fs::path& path, const TrainingPlan& plan, std::int64_t begin, std::int64_t end,
                             std::uint8_t* bytes) {
  if (begin >= end) return;
  features::StoreReader store(path);
  if (store.n_variants() != (plan.n_store_variants ? plan.n_store_variants : plan.n_genotypes)) {
    throw InconsistentInputError(path.string(), "changed while it was being read (its variant count differs)");
  }
  h5::Hid d(H5Dopen2(store.file(), schema::kDosage, H5P_DEFAULT), "cannot open the dosage matrix");
  const std::int64_t n_store = store.n_samples();
  constexpr std::int64_t kBlock = 1024;
  std::vector<std::int8_t> block;
  std::vector<std::uint8_t*> out;
  if (!plan.columns.empty()) {
    // A subset of the columns (--extract/--exclude): those of one chunk column at a time, read as
    // the span they cover, gathered, packed.
    std::vector<std::int8_t> gathered;
    for (std::int64_t m0 = begin; m0 < end;) {
      const auto col = [&](std::int64_t m) { return plan.columns[static_cast<std::size_t>(m)]; };
      std::int64_t m1 = m0 + 1;
      while (m1 < end && col(m1) / kBlock == col(m0) / kBlock) ++m1;
      const std::int64_t s0 = col(m0), span = col(m1 - 1) + 1 - s0, k = m1 - m0;
      block.resize(static_cast<std::size_t>(n_store * span));
      h5::read_block(d.get(), 0, static_cast<hsize_t>(n_store), static_cast<hsize_t>(s0), static_cast<hsize_t>(span), block.data());
      gathered.resize(static_cast<std::size_t>(n_store * k));
      for (std::int64_t r = 0; r < n_store; ++r)
        for (std::int64_t j = 0; j < k; ++j)
          gathered[static_cast<std::size_t>(r * k + j)] = block[static_cast<std::size_t>(r * span + col(m0 + j) - s0)];
      out.resize(static_cast<std::size_t>(k));
      for (std::int64_t j = 0; j < k; ++j) out[static_cast<std::size_t>(j)] = bytes + plan.layout.cols[static_cast<std::size_t>(m0 + j)].offset;
      pack_rows(gathered.data(), k, plan.rows, out.data());
      m0 = m1;
    }
    return;
  }
  // The fast path: every store row is a matrix row, in order, and a block is a whole chunk
  // column whose chunks hold 2-bit codes equal to the matrix's: the codes are transposed from the
  // chunks as read from the file (h5::DirectChunkReader), never expanded to bytes. Any other
  // block, or a chunk that does not qualify, goes through HDF5 and pack_rows.
  h5::DirectChunkReader direct(d.get());
  bool identity = static_cast<std::int64_t>(plan.rows.size()) == n_store;
  for (std::size_t i = 0; identity && i < plan.rows.size(); ++i) identity = plan.rows[i] == static_cast<std::int64_t>(i);
  const auto chunk_rows = static_cast<std::int64_t>(direct.chunk_rows());
  const bool direct_ok = identity && direct.usable() && direct.chunk_cols() == static_cast<std::uint64_t>(kBlock) &&
                         chunk_rows % 4 == 0 && direct.params().fill_defined && direct.params().fill == 0xff;
  auto transpose_block = [&](std::int64_t b0) {
    for (std::int64_t r0 = 0; r0 < n_store; r0 += chunk_rows) {
      std::size_t len = 0;
      const std::uint8_t* chunk = direct.read(static_cast<std::uint64_t>(r0), static_cast<std::uint64_t>(b0), len);
      h5::ScaleOffsetHeader h;
      if (!chunk || !h5::scaleoffset_header(chunk, len, h) || h.minbits != 2 || h.minval != 0 ||
          len < 21 + static_cast<std::size_t>(chunk_rows * kBlock / 4)) {
        return false;
      }
      transpose_chunk(chunk + 21, kBlock, r0, std::min(chunk_rows, n_store - r0), out.data());
    }
    return true;
  };
  for (std::int64_t b0 = begin; b0 < end;) {
    const std::int64_t width = std::min(kBlock - b0 % kBlock, end - b0);  // within one chunk column
    out.resize(static_cast<std::size_t>(width));
    for (std::int64_t c = 0; c < width; ++c) out[static_cast<std::size_t>(c)] = bytes + plan.layout.cols[static_cast<std::size_t>(b0 + c)].offset;
    if (!(direct_ok && b0 % kBlock == 0 && width == kBlock && transpose_block(b0))) {
      block.resize(static_cast<std::size_t>(n_store * width));
      h5::read_block(d.get(), 0, static_cast<hsize_t>(n_store), static_cast<hsize_t>(b0), static_cast<hsize_t>(width),
                     block.data());
      pack_rows(block.data(), width, plan.rows, out.data());
    }
    b0 += width;
  }
}

void fill_training_extras(const TrainingPlan& plan, std::uint8_t* bytes) {
  for (std::size_t e = 0; e < plan.extra_codes.size(); ++e) {
    const auto& col = plan.layout.cols[static_cast<std::size_t>(plan.n_genotypes) + e];
    std::copy(plan.extra_codes[e].begin(), plan.extra_codes[e].end(), bytes + col.offset);
  }
}

Dataset load_training_data(const fs::path& path, DataSelection extra) {
  return load_training_data(path, plan_training_data(path, extra));
}

Dataset load_training_data(const fs::path& path, TrainingPlan plan) {
  MatrixBytes bytes(plan.layout.bytes);
  fill_training_genotypes(path, plan, 0, plan.n_genotypes, bytes.data());
  fill_training_extras(plan, bytes.data());
  Dataset ds = std::move(plan.meta);
  ds.x = FeatureMatrix(std::move(plan.layout), std::move(bytes));
  return ds;
}


namespace {
/// Counts a model variant found as `found_chrom` in the input.
void note_found(ModelMatch& match, const std::string& model_chrom, const std::string& found_chrom) {
  if (found_chrom == model_chrom) return;
  if (match.aliased++ == 0) match.alias_example = model_chrom + " (model) is " + found_chrom + " (input)";
}
}  // namespace

Dataset load_for_model(const fs::path& path, const Model& m, ModelMatch& match, std::int64_t row_begin, std::int64_t row_end) {
  features::StoreReader store(path);
  Dataset ds;
  ds.samples = store.samples();
  const auto n_store = static_cast<std::int64_t>(ds.samples.size());
  if (row_end < 0 || row_end > n_store) row_end = n_store;
  row_begin = std::clamp<std::int64_t>(row_begin, 0, row_end);
  ds.samples = std::vector<std::string>(ds.samples.begin() + row_begin, ds.samples.begin() + row_end);
  std::vector<std::int64_t> rows(ds.samples.size());
  for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = row_begin + static_cast<std::int64_t>(i);
  const auto keys = read_variant_keys(store.file());
  std::unordered_map<std::string, std::int64_t> where;
  for (std::size_t i = 0; i < keys.size(); ++i) where.emplace(keys[i].match_key(), static_cast<std::int64_t>(i));
  std::vector<std::int64_t> cols(m.variants.size(), -1);
  match = ModelMatch{};
  for (std::size_t j = 0; j < m.variants.size(); ++j) {
    const auto it = where.find(m.variants[j].match_key());
    if (it != where.end()) {
      cols[j] = it->second;
      note_found(match, m.variants[j].chrom, keys[static_cast<std::size_t>(it->second)].chrom);
    } else {
      ++match.absent;
      match.absent_names.push_back(m.variants[j].name());
    }
  }
  ds.variants = m.variants;
  ds.extras = m.extras;
  ds.x = FeatureMatrix(static_cast<std::int64_t>(rows.size()));
  ds.x.add_missing_genotypes(static_cast<std::int64_t>(m.variants.size()));
  read_genotypes(store, rows, cols, ds.x);
  if (!m.extras.empty()) {
    auto stats = read_stats(store);
    for (auto& [name, values] : features::read_covariates(store.file())) stats.emplace_back(kCovariatePrefix + name, std::move(values));
    std::unordered_map<std::string, const std::vector<double>*> by_name;
    for (const auto& [name, values] : stats) by_name.emplace(name, &values);
    for (const auto& f : m.extras) {
      const auto it = by_name.find(f.name);
      if (it == by_name.end()) {
        const bool cov = f.name.starts_with(kCovariatePrefix);
        throw DataError(path.string() + ": the model uses the " + (cov ? "covariate " + f.name.substr(std::string(kCovariatePrefix).size())
                                                                       : "per-sample statistic " + f.name) +
                        ", which this store lacks (the model was trained with " + (cov ? "--with-covariates" : "--with-sample-stats") + ")");
      }
      const std::vector<double> mine(it->second->begin() + row_begin, it->second->begin() + row_end);
      ds.x.add_binned(bin_values(mine, f.edges), static_cast<int>(f.edges.size() + 1));
    }
  }
  return ds;
}

}  // namespace genoforest::ml

#include "genoforest/features/site.hpp"
#include "genoforest/io/vcf.hpp"

namespace genoforest::ml {

Dataset load_vcf_for_model(const fs::path& vcf, const Model& m, ModelMatch& match, const io::CovariateTable* covariates) {
  for (const auto& f : m.extras) {
    if (!f.name.starts_with(kCovariatePrefix)) {
      throw DataError("the model uses per-sample statistics (--with-sample-stats): predict from a feature store made by "
                      "'genoforest features', not from " + vcf.string());
    }
    const std::string name = f.name.substr(std::string(kCovariatePrefix).size());
    if (!covariates) {
      throw DataError("the model uses covariates (" + name + ", ...): give their table with --covar, or predict from a feature store "
                      "made with 'genoforest features --covar'");
    }
    if (std::find(covariates->names.begin(), covariates->names.end(), name) == covariates->names.end()) {
      throw DataError(covariates->path.string() + ": the model uses the covariate " + name + ", which this table lacks");
    }
  }
  io::VcfReader reader(vcf, false);
  if (!reader.has_gt()) throw InputError(vcf.string(), "the header declares no FORMAT/GT field");
  Dataset ds;
  ds.samples = reader.samples();
  const auto n = static_cast<std::int64_t>(ds.samples.size());
  ds.variants = m.variants;
  ds.x = FeatureMatrix(n);
  ds.x.add_missing_genotypes(static_cast<std::int64_t>(m.variants.size()));
  std::unordered_map<std::string, std::int64_t> want;
  for (std::size_t j = 0; j < m.variants.size(); ++j) want.emplace(m.variants[j].match_key(), static_cast<std::int64_t>(j));
  std::vector<bool> found(m.variants.size(), false);
  match = ModelMatch{};
  features::SiteExtractor ex(reader.header(), features::FeatureFilters{});
  auto rec = io::make_record();
  io::Genotypes gt;
  std::vector<features::VariantRow> rows;
  std::vector<std::int8_t> dos;
  while (reader.next(rec.get(), gt)) {
    rows.clear();
    dos.clear();
    ex.extract(rec.get(), gt, vcf.string(), rows, dos);
    for (std::size_t c = 0; c < rows.size(); ++c) {
      const VariantKey k{rows[c].chrom, rows[c].pos, rows[c].id, rows[c].ref, rows[c].alt};
      const auto it = want.find(k.match_key());
      if (it == want.end()) continue;
      ds.x.set_genotypes(it->second, dos.data() + static_cast<std::ptrdiff_t>(c) * n);
      if (!found[static_cast<std::size_t>(it->second)]) note_found(match, m.variants[static_cast<std::size_t>(it->second)].chrom, rows[c].chrom);
      found[static_cast<std::size_t>(it->second)] = true;
    }
  }
  for (std::size_t j = 0; j < found.size(); ++j) {
    if (found[j]) continue;
    ++match.absent;
    match.absent_names.push_back(m.variants[j].name());
  }
  if (!m.extras.empty()) {
    ds.extras = m.extras;
    const auto aligned = io::align_covariates(*covariates, ds.samples, vcf.string());
    for (const auto& f : m.extras) {
      const std::string name = f.name.substr(std::string(kCovariatePrefix).size());
      const auto c = static_cast<std::size_t>(std::find(aligned.names.begin(), aligned.names.end(), name) - aligned.names.begin());
      ds.x.add_binned(bin_values(aligned.values[c], f.edges), static_cast<int>(f.edges.size() + 1));
    }
  }
  return ds;
}

}  // namespace genoforest::ml
