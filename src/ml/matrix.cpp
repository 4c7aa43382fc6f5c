#include "genoforest/ml/matrix.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <new>

#include "genoforest/core/error.hpp"

namespace genoforest::ml {

namespace {
constexpr std::size_t kHugePage = std::size_t{2} << 20;
constexpr std::size_t kHugeFrom = std::size_t{8} << 20;  // below: operator new
std::size_t rounded(std::size_t n) { return (n + kHugePage - 1) / kHugePage * kHugePage; }
}  // namespace

void* allocate_matrix_bytes(std::size_t n) {
  if (n < kHugeFrom) return ::operator new(n);
  void* p = std::aligned_alloc(kHugePage, rounded(n));
  if (!p) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
  (void)madvise(p, rounded(n), MADV_HUGEPAGE);  // advice only: without huge pages, 4 KiB ones
#endif
  return p;
}

void free_matrix_bytes(void* p, std::size_t n) noexcept {
  if (n < kHugeFrom) {
    ::operator delete(p);
  } else {
    std::free(p);
  }
}


FeatureMatrix FeatureMatrix::view(Layout layout, const std::uint8_t* bytes) {
  FeatureMatrix m(layout.n_rows);
  for (const auto& c : layout.cols) {
    const auto width = c.packed ? static_cast<std::size_t>((layout.n_rows + 3) / 4) : static_cast<std::size_t>(layout.n_rows);
    if (c.offset + width > layout.bytes) throw InternalError("FeatureMatrix::view: a column beyond the bytes");
  }
  m.cols_ = std::move(layout.cols);
  m.view_ = bytes;
  m.view_size_ = layout.bytes;
  return m;
}

FeatureMatrix::FeatureMatrix(Layout layout, MatrixBytes bytes) : n_rows_(layout.n_rows) {
  if (bytes.size() != layout.bytes) throw InternalError("FeatureMatrix: bytes do not match the layout");
  cols_ = std::move(layout.cols);
  bytes_ = std::move(bytes);
}

FeatureMatrix::Layout FeatureMatrix::plan(std::int64_t n_rows, std::int64_t n_genotypes, const std::vector<int>& bins) {
  Layout l;
  l.n_rows = n_rows;
  const auto width = static_cast<std::size_t>((n_rows + 3) / 4);
  for (std::int64_t i = 0; i < n_genotypes; ++i) {
    l.cols.push_back(Column{l.bytes, 3, true});
    l.bytes += width;
  }
  for (int b : bins) {
    l.cols.push_back(Column{l.bytes, b, false});
    l.bytes += static_cast<std::size_t>(n_rows);
  }
  return l;
}

void pack_genotypes(const std::int8_t* dosage, std::int64_t n_rows, std::uint8_t* d) {
  std::fill(d, d + (n_rows + 3) / 4, 0);
  for (std::int64_t r = 0; r < n_rows; ++r) {
    d[r >> 2] = static_cast<std::uint8_t>(d[r >> 2] | (genotype_code(dosage[r]) << ((r & 3) << 1)));
  }
  // The unused codes of the last byte stay 0, as set_genotypes leaves them.
}

void FeatureMatrix::add_genotypes(const std::int8_t* dosage) {
  add_missing_genotypes(1);
  set_genotypes(cols() - 1, dosage);
}

void FeatureMatrix::add_missing_genotypes(std::int64_t n) {
  if (view_) throw InternalError("FeatureMatrix: a view is read-only");
  const auto width = static_cast<std::size_t>((n_rows_ + 3) / 4);
  for (std::int64_t i = 0; i < n; ++i) {
    Column col;
    col.offset = bytes_.size();
    bytes_.resize(bytes_.size() + width, 0xFF);  // code 3 everywhere
    cols_.push_back(col);
  }
}

void FeatureMatrix::set_genotypes(std::int64_t c, const std::int8_t* dosage) {
  const Column& col = cols_.at(static_cast<std::size_t>(c));
  if (!col.packed || view_) throw InternalError("FeatureMatrix::set_genotypes on a binned column or a view");
  pack_genotypes(dosage, n_rows_, bytes_.data() + col.offset);
}

void FeatureMatrix::add_binned(const std::vector<std::uint8_t>& codes, int n_bins) {
  if (view_ || static_cast<std::int64_t>(codes.size()) != n_rows_ || n_bins < 1 || n_bins > 255) {
    throw InternalError("FeatureMatrix::add_binned: bad column");
  }
  Column col;
  col.offset = bytes_.size();
  col.bins = n_bins;
  col.packed = false;
  bytes_.insert(bytes_.end(), codes.begin(), codes.end());
  cols_.push_back(col);
}

std::vector<double> quantile_edges(std::vector<double> values, int max_bins) {
  std::erase_if(values, [](double v) { return std::isnan(v); });
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  std::vector<double> edges;
  if (values.size() <= 1) return edges;
  if (static_cast<int>(values.size()) <= max_bins) {  // one bin per distinct value
    for (std::size_t i = 0; i + 1 < values.size(); ++i) edges.push_back((values[i] + values[i + 1]) / 2);
    return edges;
  }
  for (int b = 1; b < max_bins; ++b) {
    const std::size_t i = values.size() * static_cast<std::size_t>(b) / static_cast<std::size_t>(max_bins);
    const double e = (values[i - 1] + values[i]) / 2;
    if (edges.empty() || e > edges.back()) edges.push_back(e);
  }
  return edges;
}

std::vector<std::uint8_t> bin_values(const std::vector<double>& values, const std::vector<double>& edges) {
  std::vector<std::uint8_t> out(values.size());
  const auto missing = static_cast<std::uint8_t>(edges.size() + 1);
  for (std::size_t i = 0; i < values.size(); ++i) {
    out[i] = std::isnan(values[i]) ? missing
                                   : static_cast<std::uint8_t>(std::lower_bound(edges.begin(), edges.end(), values[i]) -
                                                               edges.begin());
  }
  return out;
}

}  // namespace genoforest::ml
