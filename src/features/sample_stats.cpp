#include "genoforest/features/sample_stats.hpp"

#include <limits>

#include "genoforest/core/error.hpp"

namespace genoforest::features {

WindowTable assign_windows(const std::vector<std::string>& chrom, const std::vector<std::int64_t>& pos,
                           std::int64_t window_size) {
  if (window_size < 1) throw UsageError("--window-size must be at least 1 bp");
  WindowTable w;
  w.window_size = window_size;
  w.column_window.resize(pos.size());
  for (std::size_t c = 0; c < pos.size(); ++c) {
    const std::int64_t bin = (pos[c] - 1) / window_size;
    const std::int64_t start = bin * window_size + 1;
    if (w.chrom.empty() || w.chrom.back() != chrom[c] || w.start.back() != start) {
      w.chrom.push_back(chrom[c]);
      w.start.push_back(start);
      w.end.push_back(start + window_size - 1);
      w.n_variants.push_back(0);
    }
    ++w.n_variants.back();
    w.column_window[c] = static_cast<std::int32_t>(w.chrom.size() - 1);
  }
  return w;
}

SampleStats compute_sample_stats(const std::int8_t* block, std::size_t n_rows, std::size_t n_cols,
                                 const std::vector<ColumnClass>& columns, const WindowTable& windows) {
  if (columns.size() != n_cols || windows.column_window.size() != n_cols) {
    throw InternalError("compute_sample_stats: column tables do not match the block");
  }
  SampleStats st;
  st.n_samples = n_rows;
  st.n_windows = windows.chrom.size();
  for (auto* v : {&st.n_called, &st.n_missing, &st.n_hom_ref, &st.n_het, &st.n_hom_alt, &st.n_snv, &st.n_indel,
                  &st.n_transitions, &st.n_transversions})
    v->assign(n_rows, 0);
  st.titv.assign(n_rows, 0.0);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  st.window_mean.assign(n_rows * st.n_windows, nan);
  st.window_var.assign(n_rows * st.n_windows, nan);

  // Column masks, so that the inner loop is branch-light.
  std::vector<std::uint8_t> is_snv(n_cols), is_indel(n_cols), is_ts(n_cols);
  for (std::size_t c = 0; c < n_cols; ++c) {
    is_snv[c] = columns[c].type == VariantType::kSnv;
    is_indel[c] = columns[c].type == VariantType::kIndel;
    is_ts[c] = columns[c].transition;
  }
  std::vector<std::int64_t> wn(st.n_windows), ws(st.n_windows), wss(st.n_windows);
  for (std::size_t r = 0; r < n_rows; ++r) {
    const std::int8_t* row = block + r * n_cols;
    std::int64_t called = 0, missing = 0, hom_ref = 0, het = 0, hom_alt = 0, snv = 0, indel = 0, ts = 0, tv = 0;
    std::fill(wn.begin(), wn.end(), 0);
    std::fill(ws.begin(), ws.end(), 0);
    std::fill(wss.begin(), wss.end(), 0);
    for (std::size_t c = 0; c < n_cols; ++c) {
      const int d = row[c];
      if (d < 0) {
        ++missing;
        continue;
      }
      ++called;
      hom_ref += d == 0;
      het += d == 1;
      hom_alt += d >= 2;
      const int carried = d >= 1;
      snv += carried & is_snv[c];
      indel += carried & is_indel[c];
      ts += carried & is_snv[c] & is_ts[c];
      tv += carried & is_snv[c] & !is_ts[c];
      const auto w = static_cast<std::size_t>(windows.column_window[c]);
      ++wn[w];
      ws[w] += d;
      wss[w] += d * d;
    }
    // A haploid ALT call (dosage 1 in a haploid record) cannot be told from a het here; the
    // dosage alone is the contract, so it counts as het.
    st.n_called[r] = called;
    st.n_missing[r] = missing;
    st.n_hom_ref[r] = hom_ref;
    st.n_het[r] = het;
    st.n_hom_alt[r] = hom_alt;
    st.n_snv[r] = snv;
    st.n_indel[r] = indel;
    st.n_transitions[r] = ts;
    st.n_transversions[r] = tv;
    st.titv[r] = tv ? static_cast<double>(ts) / static_cast<double>(tv) : std::numeric_limits<double>::quiet_NaN();
    for (std::size_t w = 0; w < st.n_windows; ++w) {
      if (!wn[w]) continue;
      // Exact integer sums, then one division: identical however samples are blocked.
      const double n = static_cast<double>(wn[w]);
      const double mean = static_cast<double>(ws[w]) / n;
      const double var = (static_cast<double>(wss[w]) - static_cast<double>(ws[w]) * mean) / n;
      st.window_mean[r * st.n_windows + w] = static_cast<float>(mean);
      st.window_var[r * st.n_windows + w] = static_cast<float>(var < 0 ? 0 : var);
    }
  }
  return st;
}

}  // namespace genoforest::features
