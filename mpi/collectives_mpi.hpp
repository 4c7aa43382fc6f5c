#pragma once
/// @file collectives_mpi.hpp
/// ml::Collectives over an MPI communicator: what the distributed algorithms of the library run on
/// under mpirun.
#include "comm.hpp"
#include "genoforest/ml/collectives.hpp"

namespace genoforest::mpi {

class MpiCollectives final : public ml::Collectives {
 public:
  explicit MpiCollectives(const Comm& comm) : comm_(comm) {}
  [[nodiscard]] int rank() const override { return comm_.rank(); }
  [[nodiscard]] int size() const override { return comm_.size(); }
  [[nodiscard]] std::vector<std::vector<std::uint8_t>> all_gather(std::span<const std::uint8_t> mine) override;
  void all_sum(std::span<std::int64_t> v) override;
  void reduce_scatter_sum(std::span<std::int64_t> v, std::span<const std::size_t> counts) override;
  void all_reduce(std::span<std::uint8_t> v, std::size_t record, Keep keep) override;
  void broadcast(std::vector<std::uint8_t>& bytes, int root) override;

 private:
  const Comm& comm_;
};

}  // namespace genoforest::mpi
