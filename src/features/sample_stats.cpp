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

  // Each column's class: 0 other, 1 SNV transition, 2 SNV transversion, 3 indel; shifted left by
  // 2 so that class | (dosage & 3) indexes a 16-bin histogram (dosage -1 lands in bin 3).
  std::vector<std::uint8_t> cls4(n_cols);
  for (std::size_t c = 0; c < n_cols; ++c) {
    const auto t = columns[c].type;
    const unsigned k = t == VariantType::kSnv ? (columns[c].transition ? 1u : 2u) : t == VariantType::kIndel ? 3u : 0u;
    cls4[c] = static_cast<std::uint8_t>(k << 2);
  }
  // Windows are runs of consecutive columns, in order (as assign_windows makes them).
  std::vector<std::size_t> wbeg(st.n_windows + 1, n_cols);
  std::size_t next = 0;
  for (std::size_t c = 0; c < n_cols; ++c) {
    const auto w = static_cast<std::size_t>(windows.column_window[c]);
    if (w == next && next < st.n_windows) {
      wbeg[next++] = c;
    } else if (next == 0 || w != next - 1) {
      throw InternalError("compute_sample_stats: windows are not runs of consecutive columns");
    }
  }

  std::vector<std::int64_t> wn(st.n_windows), ws(st.n_windows), wss(st.n_windows);
  for (std::size_t r = 0; r < n_rows; ++r) {
    const std::int8_t* row = block + r * n_cols;
    std::int64_t total[16] = {};
    bool other_values = false;  // a dosage above 2 (polyploid calls): counted the slow way below
    for (std::size_t w = 0; w < st.n_windows; ++w) {
      // Four histograms, so that runs of equal values do not wait on one counter.
      std::uint32_t h[4][16] = {};
      std::uint8_t big = 0;
      std::size_t c = wbeg[w];
      const std::size_t e = wbeg[w + 1];
      for (; c + 4 <= e; c += 4) {
        const auto d0 = static_cast<std::uint8_t>(row[c]), d1 = static_cast<std::uint8_t>(row[c + 1]),
                   d2 = static_cast<std::uint8_t>(row[c + 2]), d3 = static_cast<std::uint8_t>(row[c + 3]);
        ++h[0][cls4[c] | (d0 & 3)];
        ++h[1][cls4[c + 1] | (d1 & 3)];
        ++h[2][cls4[c + 2] | (d2 & 3)];
        ++h[3][cls4[c + 3] | (d3 & 3)];
        big |= static_cast<std::uint8_t>((d0 + 1) | (d1 + 1) | (d2 + 1) | (d3 + 1)) & 0xfc;
      }
      for (; c < e; ++c) {
        const auto d = static_cast<std::uint8_t>(row[c]);
        ++h[0][cls4[c] | (d & 3)];
        big |= static_cast<std::uint8_t>(d + 1) & 0xfc;
      }
      if (big) {
        other_values = true;
        break;
      }
      std::int64_t b[4] = {};  // per dosage bin, over the classes
      for (unsigned k = 0; k < 16; ++k) {
        const std::int64_t x = std::int64_t{h[0][k]} + h[1][k] + h[2][k] + h[3][k];
        total[k] += x;
        b[k & 3] += x;
      }
      wn[w] = b[0] + b[1] + b[2];
      ws[w] = b[1] + 2 * b[2];
      wss[w] = b[1] + 4 * b[2];
    }
    std::int64_t called = 0, missing = 0, hom_ref = 0, het = 0, hom_alt = 0, snv = 0, indel = 0, ts = 0, tv = 0;
    if (!other_values) {
      auto carried = [&](unsigned k) { return total[k << 2 | 1] + total[k << 2 | 2]; };
      for (unsigned k = 0; k < 4; ++k) {
        hom_ref += total[k << 2];
        het += total[k << 2 | 1];
        hom_alt += total[k << 2 | 2];
        missing += total[k << 2 | 3];
      }
      called = hom_ref + het + hom_alt;
      ts = carried(1);
      tv = carried(2);
      snv = ts + tv;
      indel = carried(3);
    } else {
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
        const unsigned k = cls4[c] >> 2;
        if (d >= 1) {
          snv += k == 1 || k == 2;
          ts += k == 1;
          tv += k == 2;
          indel += k == 3;
        }
        const auto w = static_cast<std::size_t>(windows.column_window[c]);
        ++wn[w];
        ws[w] += d;
        wss[w] += d * d;
      }
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
