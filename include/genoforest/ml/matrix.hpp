#pragma once
/// @file matrix.hpp
/// The training matrix of the forest: every feature is a small integer code per sample.
///
/// Genotype columns hold the dosage 0, 1 or 2 (higher dosages count as 2) packed 4 samples per
/// byte, with code 3 for a missing call: a 5,000 x 50,000 matrix takes 62.5 MB. Continuous
/// features (the per-sample statistics) are cut into at most 32 quantile bins, one byte per sample,
/// with code n_bins for a missing value. Splits are "code <= t" for t < n_bins - 1, so a split
/// search only counts samples per code: no sorting.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace genoforest::ml {

/// Memory for a matrix's bytes, in transparent huge pages where the kernel offers them
/// (madvise): the first touch of a 241 MiB matrix took 0.8 s of page faults on 4 KiB pages in a
/// VM, 0.03 s on 2 MiB pages (measured, docs/scaling.md). Small blocks come from operator new.
void* allocate_matrix_bytes(std::size_t n);
void free_matrix_bytes(void* p, std::size_t n) noexcept;

template <class T>
struct MatrixAllocator {
  using value_type = T;
  MatrixAllocator() = default;
  template <class U>
  MatrixAllocator(const MatrixAllocator<U>&) noexcept {}  // NOLINT(google-explicit-constructor)
  T* allocate(std::size_t n) { return static_cast<T*>(allocate_matrix_bytes(n * sizeof(T))); }
  void deallocate(T* p, std::size_t n) noexcept { free_matrix_bytes(p, n * sizeof(T)); }
  template <class U>
  bool operator==(const MatrixAllocator<U>&) const noexcept { return true; }
};
using MatrixBytes = std::vector<std::uint8_t, MatrixAllocator<std::uint8_t>>;

class FeatureMatrix {
 public:
  explicit FeatureMatrix(std::int64_t n_rows = 0) : n_rows_(n_rows) {}

  /// Appends a genotype column from `n_rows` dosages (-1 missing).
  void add_genotypes(const std::int8_t* dosage);
  /// Appends `n` genotype columns, all missing, to be filled by set_genotypes().
  void add_missing_genotypes(std::int64_t n);
  /// Replaces genotype column c with `n_rows` dosages (-1 missing).
  void set_genotypes(std::int64_t c, const std::int8_t* dosage);
  /// Appends a binned column: codes in [0, n_bins], n_bins meaning missing.
  void add_binned(const std::vector<std::uint8_t>& codes, int n_bins);

  [[nodiscard]] std::int64_t rows() const noexcept { return n_rows_; }
  [[nodiscard]] std::int64_t cols() const noexcept { return static_cast<std::int64_t>(cols_.size()); }
  /// Number of non-missing codes of column c (its missing code).
  [[nodiscard]] int bins(std::int64_t c) const noexcept { return cols_[static_cast<std::size_t>(c)].bins; }
  [[nodiscard]] bool packed(std::int64_t c) const noexcept { return cols_[static_cast<std::size_t>(c)].packed; }
  /// Start of column c's bytes.
  [[nodiscard]] const std::uint8_t* data(std::int64_t c) const noexcept {
    return base() + cols_[static_cast<std::size_t>(c)].offset;
  }
  /// Code of row r in column c.
  [[nodiscard]] int code(std::int64_t c, std::int64_t r) const noexcept {
    const Column& col = cols_[static_cast<std::size_t>(c)];
    const std::uint8_t* d = base() + col.offset;
    return col.packed ? (d[r >> 2] >> ((r & 3) << 1)) & 3 : d[r];
  }
  /// Bytes held (the matrix's memory; a view's bytes are held elsewhere, once for several views).
  [[nodiscard]] std::size_t memory_bytes() const noexcept { return view_ ? view_size_ : bytes_.capacity(); }

  struct Column {
    std::size_t offset = 0;
    int bins = 3;
    bool packed = true;
  };
  /// Everything but the bytes: what a view needs besides them.
  struct Layout {
    std::int64_t n_rows = 0;
    std::vector<Column> cols;
    std::size_t bytes = 0;
  };
  [[nodiscard]] Layout layout() const { return {n_rows_, cols_, byte_size()}; }
  /// The matrix's bytes (layout().bytes of them), to copy elsewhere.
  [[nodiscard]] const std::uint8_t* bytes() const noexcept { return base(); }
  /// A read-only matrix over `bytes` held by someone else (one copy per node in shared memory),
  /// which must outlive it and hold layout.bytes bytes in the layout's order.
  static FeatureMatrix view(Layout layout, const std::uint8_t* bytes);
  /// A matrix that owns `bytes`, laid out as `layout` says.
  FeatureMatrix(Layout layout, MatrixBytes bytes);
  /// The layout of `n_rows` rows: `n_genotypes` packed columns, then binned ones of `bins` codes.
  static Layout plan(std::int64_t n_rows, std::int64_t n_genotypes, const std::vector<int>& bins);

 private:
  [[nodiscard]] const std::uint8_t* base() const noexcept { return view_ ? view_ : bytes_.data(); }
  [[nodiscard]] std::size_t byte_size() const noexcept { return view_ ? view_size_ : bytes_.size(); }
  std::int64_t n_rows_ = 0;
  std::vector<Column> cols_;
  MatrixBytes bytes_;
  const std::uint8_t* view_ = nullptr;  // set: the bytes are held elsewhere, and bytes_ is empty
  std::size_t view_size_ = 0;
};

/// The 2-bit code of a dosage: 0, 1, 2 (above 2 counts as 2), 3 for a missing call (negative).
[[nodiscard]] constexpr std::uint8_t genotype_code(std::int8_t dosage) noexcept {
  return dosage < 0 ? 3 : (dosage > 2 ? 2 : static_cast<std::uint8_t>(dosage));
}
/// Packs `n_rows` dosages (-1 missing; above 2 counts as 2) into a genotype column's bytes.
void pack_genotypes(const std::int8_t* dosage, std::int64_t n_rows, std::uint8_t* out);

/// Quantile bin edges of a continuous feature: at most `max_bins` bins; NaN values are ignored.
/// The bin of x is the first i with x <= edges[i], or edges.size() above every edge.
[[nodiscard]] std::vector<double> quantile_edges(std::vector<double> values, int max_bins);
/// Codes of `values` under `edges` (n_bins = edges.size() + 1; NaN -> n_bins).
[[nodiscard]] std::vector<std::uint8_t> bin_values(const std::vector<double>& values, const std::vector<double>& edges);

}  // namespace genoforest::ml
