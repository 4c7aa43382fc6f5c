#pragma once
/// @file exact_sum.hpp
/// Sums of floating-point values whose result does not depend on the order of the terms.
///
/// Distributed linear algebra adds per-block contributions on whichever rank holds the block; a
/// plain double sum would change in its last bits with the rank count. Here every contribution
/// is rounded once to a fixed-point grid of 2^-60 (as if computed to that precision) and
/// accumulated as a 128-bit integer, so sums are associative: the same bits for any grouping, any
/// rank count. Range: |total| < 2^66 (about 7e19); beyond, add() throws InternalError.
#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

#include "genoforest/core/error.hpp"

namespace genoforest {

class ExactSum {
 public:
  __extension__ typedef __int128 Int;  // __extension__: GCC and Clang have it; -Wpedantic would object
  static constexpr double kScale = 0x1p60;
  static constexpr double kLimit = 0x1p66;

  explicit ExactSum(std::size_t n = 0) : acc_(n, 0) {}
  void resize(std::size_t n) { acc_.assign(n, 0); }
  [[nodiscard]] std::size_t size() const noexcept { return acc_.size(); }
  /// Adds `x` to entry i.
  void add(std::size_t i, double x) {
    if (!(std::fabs(x) < kLimit)) throw InternalError("ExactSum: a term out of range (" + std::to_string(x) + ")");
    acc_[i] += static_cast<Int>(std::nearbyint(x * kScale));
  }
  /// Adds a whole vector, entry by entry.
  void add(std::span<const double> x) {
    for (std::size_t i = 0; i < x.size(); ++i) add(i, x[i]);
  }
  [[nodiscard]] double value(std::size_t i) const { return static_cast<double>(acc_[i]) / kScale; }
  [[nodiscard]] std::vector<double> values() const {
    std::vector<double> v(acc_.size());
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = value(i);
    return v;
  }
  /// The raw accumulators, for an exact reduction across processes (sum them as integers).
  [[nodiscard]] std::span<Int> raw() noexcept { return acc_; }

 private:
  std::vector<Int> acc_;
};

}  // namespace genoforest
