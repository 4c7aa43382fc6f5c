#pragma once
/// @file rng.hpp
/// Deterministic random numbers whose values are fixed by this code alone.
///
/// `std::*_distribution` results differ between standard libraries, so every draw that reaches an
/// output goes through these functions. Seeds for a task derive from (run seed, stream, index)
/// through a real mixer, never `seed * (i + 1)`.
#include <bit>
#include <cstdint>
#include <span>

namespace genoforest {

/// splitmix64 finaliser: a bijective 64-bit mixer.
[[nodiscard]] constexpr std::uint64_t mix64(std::uint64_t x) noexcept {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

/// The seed of task `index` of stream `stream` (a stage or purpose id) in a run seeded `run_seed`.
/// Independent of rank count and of the order tasks run in.
[[nodiscard]] constexpr std::uint64_t task_seed(std::uint64_t run_seed, std::uint64_t stream,
                                                std::uint64_t index) noexcept {
  return mix64(mix64(mix64(run_seed) ^ stream) + index);
}

/// xoshiro256** generator with our own distributions. Not thread-safe; one per task or thread.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) noexcept;

  /// Next raw 64-bit value. (Inline: the simulator draws a few per genotype.)
  std::uint64_t next() noexcept {
    const std::uint64_t result = std::rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = std::rotl(s_[3], 45);
    return result;
  }
  /// Uniform in [0, 1) with 53 random bits.
  double uniform() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  /// Uniform integer in [0, n), unbiased (Lemire's method). n must be > 0.
  std::uint64_t below(std::uint64_t n) noexcept;
  /// Standard normal (polar Box-Muller; the spare value is kept).
  double normal() noexcept;
  /// Gamma(shape, 1) by Marsaglia-Tsang; shape > 0.
  double gamma(double shape) noexcept;
  /// Beta(a, b) from two gammas; a, b > 0.
  double beta(double a, double b) noexcept;
  /// Bernoulli(p).
  bool chance(double p) noexcept { return uniform() < p; }
  /// Fisher-Yates shuffle of `v` with this generator.
  template <class T>
  void shuffle(std::span<T> v) noexcept {
    for (std::size_t i = v.size(); i > 1; --i) {
      const std::size_t j = below(i);
      T tmp = v[i - 1];
      v[i - 1] = v[j];
      v[j] = tmp;
    }
  }

 private:
  std::uint64_t s_[4];
  double spare_ = 0.0;
  bool has_spare_ = false;
};

}  // namespace genoforest
