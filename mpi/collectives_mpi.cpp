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

void MpiCollectives::reduce_scatter_sum(std::span<std::int64_t> v, std::span<const std::size_t> counts) {
  const auto n = static_cast<std::size_t>(size());
  if (counts.size() != n) throw InternalError("reduce_scatter_sum: a count per rank is needed");
  std::vector<int> c(n);
  std::size_t before = 0, total = 0;
  for (std::size_t r = 0; r < n; ++r) {
    if (counts[r] > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
      all_sum(v);  // parts too large for MPI's int counts: every rank gets everything
      return;
    }
    c[r] = static_cast<int>(counts[r]);
    if (r < static_cast<std::size_t>(rank())) before += counts[r];
    total += counts[r];
  }
  if (total != v.size()) throw InternalError("reduce_scatter_sum: the counts do not add up to the vector");
  std::vector<std::int64_t> mine(counts[static_cast<std::size_t>(rank())]);
  MPI_Reduce_scatter(v.data(), mine.data(), c.data(), MPI_INT64_T, MPI_SUM, comm_.get());
  std::copy(mine.begin(), mine.end(), v.begin() + static_cast<std::ptrdiff_t>(before));
  bytes_moved_ += v.size_bytes() + mine.size() * sizeof(std::int64_t);
}

namespace {
// The record combiner of the all_reduce in progress (MPI's user operations are plain functions).
thread_local ml::Collectives::Keep g_keep = nullptr;
thread_local std::size_t g_record = 0;
void reduce_records(void* in, void* inout, int* len, MPI_Datatype*) {
  const auto* a = static_cast<const std::uint8_t*>(in);
  auto* b = static_cast<std::uint8_t*>(inout);
  for (int i = 0; i < *len; ++i) g_keep(a + static_cast<std::size_t>(i) * g_record, b + static_cast<std::size_t>(i) * g_record);
}
}  // namespace

void MpiCollectives::all_reduce(std::span<std::uint8_t> v, std::size_t record, Keep keep) {
  if (record == 0 || v.size() % record != 0) throw InternalError("all_reduce: a buffer of partial records");
  if (size() == 1 || v.empty()) return;
  MPI_Datatype type;
  MPI_Type_contiguous(as_count(record), MPI_BYTE, &type);
  MPI_Type_commit(&type);
  MPI_Op op;
  MPI_Op_create(reduce_records, 1 /* commutative */, &op);
  g_keep = keep;
  g_record = record;
  MPI_Allreduce(MPI_IN_PLACE, v.data(), as_count(v.size() / record), type, op, comm_.get());
  MPI_Op_free(&op);
  MPI_Type_free(&type);
  // Recursive doubling: log2(ranks) rounds, each sending and receiving the buffer.
  int rounds = 0;
  while ((1 << rounds) < size()) ++rounds;
  bytes_moved_ += 2 * v.size() * static_cast<std::uint64_t>(rounds);
}

void MpiCollectives::broadcast(std::vector<std::uint8_t>& bytes, int root) {
  std::uint64_t n = bytes.size();
  MPI_Bcast(&n, 1, MPI_UINT64_T, root, comm_.get());
  bytes.resize(n);
  MPI_Bcast(bytes.data(), as_count(n), MPI_BYTE, root, comm_.get());
  bytes_moved_ += n;
}

}  // namespace genoforest::mpi
