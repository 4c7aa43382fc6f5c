#include "genoforest/ml/collectives.hpp"

#include <algorithm>
#include <barrier>

#include "genoforest/core/error.hpp"

namespace genoforest::ml {

namespace {

/// What the threads of a group share: one slot per rank, and a barrier that each operation
/// passes twice (slots written; slots read).
struct Shared {
  explicit Shared(int n) : slots(static_cast<std::size_t>(n)), sync(n) {}
  std::vector<std::vector<std::uint8_t>> slots;
  std::vector<std::vector<std::int64_t>> sums;
  std::barrier<> sync;
};

class ThreadCollectives final : public Collectives {
 public:
  ThreadCollectives(std::shared_ptr<Shared> s, int rank) : s_(std::move(s)), rank_(rank) {}
  [[nodiscard]] int rank() const override { return rank_; }
  [[nodiscard]] int size() const override { return static_cast<int>(s_->slots.size()); }

  std::vector<std::vector<std::uint8_t>> all_gather(std::span<const std::uint8_t> mine) override {
    s_->slots[static_cast<std::size_t>(rank_)].assign(mine.begin(), mine.end());
    s_->sync.arrive_and_wait();
    auto all = s_->slots;
    s_->sync.arrive_and_wait();
    for (int r = 0; r < size(); ++r) {
      if (r != rank_) bytes_moved_ += mine.size() + all[static_cast<std::size_t>(r)].size();
    }
    return all;
  }

  void all_sum(std::span<std::int64_t> v) override {
    std::vector<std::uint8_t> bytes(v.size_bytes());
    std::copy_n(reinterpret_cast<const std::uint8_t*>(v.data()), bytes.size(), bytes.data());
    const auto all = all_gather(bytes);
    std::fill(v.begin(), v.end(), 0);
    for (const auto& b : all) {
      if (b.size() != v.size_bytes()) throw InternalError("all_sum: vectors of different lengths");
      const auto* p = reinterpret_cast<const std::int64_t*>(b.data());
      for (std::size_t i = 0; i < v.size(); ++i) v[i] += p[i];
    }
  }

  /// The sums of this rank's part; the rest of `v` is overwritten with a marker, so that a caller
  /// reading what is not its part fails the tests instead of passing by luck.
  void reduce_scatter_sum(std::span<std::int64_t> v, std::span<const std::size_t> counts) override {
    all_sum(v);
    std::size_t at = 0;
    for (std::size_t r = 0; r < counts.size(); ++r) {
      if (static_cast<int>(r) != rank_) std::fill_n(v.begin() + static_cast<std::ptrdiff_t>(at), counts[r], std::int64_t{0x5a5a5a5a5a5a5a5a});
      at += counts[r];
    }
  }

  void broadcast(std::vector<std::uint8_t>& bytes, int root) override {
    if (rank_ == root) s_->slots[static_cast<std::size_t>(root)] = bytes;
    s_->sync.arrive_and_wait();
    if (rank_ != root) bytes = s_->slots[static_cast<std::size_t>(root)];
    bytes_moved_ += bytes.size();
    s_->sync.arrive_and_wait();
  }

 private:
  std::shared_ptr<Shared> s_;
  int rank_;
};

}  // namespace

void Collectives::all_reduce(std::span<std::uint8_t> v, std::size_t record, Keep keep) {
  if (record == 0 || v.size() % record != 0) throw InternalError("all_reduce: a buffer of partial records");
  auto all = all_gather(v);
  for (const auto& b : all) {
    if (b.size() != v.size()) throw InternalError("all_reduce: buffers of different lengths");
  }
  // Pairwise, as a tree: rank r takes r + step's records, step 1, 2, 4, ...
  for (std::size_t step = 1; step < all.size(); step *= 2) {
    for (std::size_t r = 0; r + step < all.size(); r += 2 * step) {
      for (std::size_t at = 0; at < v.size(); at += record) keep(all[r + step].data() + at, all[r].data() + at);
    }
  }
  std::copy(all[0].begin(), all[0].end(), v.begin());
}

std::vector<std::unique_ptr<Collectives>> thread_group(int n) {
  if (n < 1) throw InternalError("thread_group: at least one rank");
  auto s = std::make_shared<Shared>(n);
  std::vector<std::unique_ptr<Collectives>> out;
  for (int r = 0; r < n; ++r) out.push_back(std::make_unique<ThreadCollectives>(s, r));
  return out;
}

}  // namespace genoforest::ml
