#include "collectives_mpi.hpp"

#include <limits>

#include "genoforest/core/error.hpp"

namespace genoforest::mpi {

namespace {
int as_count(std::uint64_t n) {
  if (n > static_cast<std::uint64_t>(std::numeric_limits<int>::max())) {
    throw InternalError("a collective message of " + std::to_string(n) + " bytes (more than MPI's int counts)");
  }
  return static_cast<int>(n);
}
}  // namespace

std::vector<std::vector<std::uint8_t>> MpiCollectives::all_gather(std::span<const std::uint8_t> mine) {
  const int n = size();
  std::uint64_t len = mine.size();
  std::vector<std::uint64_t> lens(static_cast<std::size_t>(n));
  MPI_Allgather(&len, 1, MPI_UINT64_T, lens.data(), 1, MPI_UINT64_T, comm_.get());
  std::vector<int> counts(static_cast<std::size_t>(n)), displs(static_cast<std::size_t>(n));
  std::uint64_t total = 0;
  for (int r = 0; r < n; ++r) {
    counts[static_cast<std::size_t>(r)] = as_count(lens[static_cast<std::size_t>(r)]);
    displs[static_cast<std::size_t>(r)] = as_count(total);
    total += lens[static_cast<std::size_t>(r)];
  }
  std::vector<std::uint8_t> all(total);
  MPI_Allgatherv(mine.data(), counts[static_cast<std::size_t>(rank())], MPI_BYTE, all.data(), counts.data(),
                 displs.data(), MPI_BYTE, comm_.get());
  std::vector<std::vector<std::uint8_t>> out(static_cast<std::size_t>(n));
  for (int r = 0; r < n; ++r) {
    const auto* p = all.data() + displs[static_cast<std::size_t>(r)];
    out[static_cast<std::size_t>(r)].assign(p, p + counts[static_cast<std::size_t>(r)]);
  }
  bytes_moved_ += (total - len) + len * static_cast<std::uint64_t>(n - 1) + 8 * static_cast<std::uint64_t>(n - 1);
  return out;
}

void MpiCollectives::all_sum(std::span<std::int64_t> v) {
  MPI_Allreduce(MPI_IN_PLACE, v.data(), as_count(v.size()), MPI_INT64_T, MPI_SUM, comm_.get());
  bytes_moved_ += 2 * v.size_bytes();
}

void MpiCollectives::broadcast(std::vector<std::uint8_t>& bytes, int root) {
  std::uint64_t n = bytes.size();
  MPI_Bcast(&n, 1, MPI_UINT64_T, root, comm_.get());
  bytes.resize(n);
  MPI_Bcast(bytes.data(), as_count(n), MPI_BYTE, root, comm_.get());
  bytes_moved_ += n;
}

}  // namespace genoforest::mpi
