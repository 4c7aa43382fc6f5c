#pragma once
/// @file collectives.hpp
/// The few collective operations the distributed algorithms need, without MPI: the tree-growing
/// code is written against this interface, the MPI implementation lives in mpi/ and an in-process
/// one (ranks as threads) serves the unit tests. Every rank of a group calls each operation in
/// the same order, as with MPI collectives.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace genoforest::ml {

class Collectives {
 public:
  virtual ~Collectives() = default;
  [[nodiscard]] virtual int rank() const = 0;
  [[nodiscard]] virtual int size() const = 0;
  /// Every rank's `mine` (of any length), in rank order, on every rank.
  [[nodiscard]] virtual std::vector<std::vector<std::uint8_t>> all_gather(std::span<const std::uint8_t> mine) = 0;
  /// Element-wise sum over the ranks of `v` (the same length everywhere), on every rank. Integers:
  /// exact whatever the order.
  virtual void all_sum(std::span<std::int64_t> v) = 0;
  /// Element-wise sum over the ranks of `v` (the same length everywhere) of which each rank needs
  /// its part only: rank r's counts[r] entries, after those of the ranks before it. After the call
  /// this rank's part holds the sums and the rest of `v` is unspecified. Exact (integers). The
  /// default sums everything (all_sum); MPI's moves each part to its rank only (reduce-scatter:
  /// half the bytes of an all-reduce, as LightGBM's data-parallel histograms).
  virtual void reduce_scatter_sum(std::span<std::int64_t> v, std::span<const std::size_t> counts) {
    (void)counts;
    all_sum(v);
  }
  /// How all_reduce combines two records: overwrites `b` with whichever of `a` and `b` stays.
  using Keep = void (*)(const std::uint8_t* a, std::uint8_t* b);
  /// Element-wise reduction over the ranks of `v`, records of `record` bytes (the same count on
  /// every rank), on every rank. `keep` must be commutative and associative (a total order picks
  /// the same record for any rank count and any reduction tree). Each rank sends and receives
  /// O(v × log ranks) bytes, where all_gather moves v × ranks. The default reduces an all-gather
  /// pairwise, as a tree (for the in-process group); MPI's runs MPI_Allreduce.
  virtual void all_reduce(std::span<std::uint8_t> v, std::size_t record, Keep keep);
  /// Rank `root`'s bytes on every rank.
  virtual void broadcast(std::vector<std::uint8_t>& bytes, int root) = 0;
  /// Bytes this rank has sent to and received from the others so far.
  [[nodiscard]] std::uint64_t bytes_moved() const noexcept { return bytes_moved_; }

 protected:
  std::uint64_t bytes_moved_ = 0;
};

/// A group of one.
class SoloCollectives final : public Collectives {
 public:
  [[nodiscard]] int rank() const override { return 0; }
  [[nodiscard]] int size() const override { return 1; }
  [[nodiscard]] std::vector<std::vector<std::uint8_t>> all_gather(std::span<const std::uint8_t> mine) override {
    return {std::vector<std::uint8_t>(mine.begin(), mine.end())};
  }
  void all_sum(std::span<std::int64_t>) override {}
  void all_reduce(std::span<std::uint8_t>, std::size_t, Keep) override {}
  void broadcast(std::vector<std::uint8_t>&, int) override {}
};

/// `n` ranks of one process, one per thread (each thread uses its own member): for tests of the
/// distributed algorithms without mpirun.
[[nodiscard]] std::vector<std::unique_ptr<Collectives>> thread_group(int n);

}  // namespace genoforest::ml
