#include "node_dataset.hpp"

#include <sys/statvfs.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "genoforest/core/error.hpp"
#include "genoforest/core/log.hpp"
#include "genoforest/core/text.hpp"
#include "serialize.hpp"

namespace genoforest::mpi {

namespace {

/// The folder that backs Open MPI's shared windows, and its free bytes (0 if unusable).
std::string shared_memory_dir() {
  const char* dir = std::getenv("OMPI_MCA_osc_sm_backing_directory");
  return dir && *dir ? dir : "/dev/shm";
}
std::int64_t shared_memory_room(const std::string& dir) {
  struct statvfs st {};
  if (statvfs(dir.c_str(), &st) != 0) return 0;
  return static_cast<std::int64_t>(st.f_bavail) * static_cast<std::int64_t>(st.f_frsize);
}

/// A plan without its extras' codes (the first rank writes those) and without the variant table
/// (only rank 0 names variants): what the other ranks receive.
struct Shape {
  ml::FeatureMatrix::Layout layout;
  ml::Labels y;
  std::vector<std::string> samples, classes;
  std::vector<ml::ExtraFeature> extras;
  std::int64_t unlabelled = 0, not_kept = 0, not_selected = 0, n_genotypes = 0, n_store_variants = 0;
  std::vector<std::int64_t> columns;
  std::vector<std::int64_t> rows;
  std::vector<std::vector<std::uint8_t>> extra_codes;  // sharded mode only
  template <class Ar>
  void serialize(Ar& ar, unsigned) {
    ar & layout & y & samples & classes & extras & unlabelled & not_kept & not_selected & n_genotypes & n_store_variants & columns & rows &
        extra_codes;
  }
};

/// Rank `root`'s plan, its extras' codes too when `with_codes`, on every rank of `c`.
void share_plan(ml::TrainingPlan& plan, MPI_Comm c, int rank, bool with_codes);

/// This machine's physical memory (/proc/meminfo MemTotal), or 0.
std::int64_t physical_memory() {
  std::ifstream in("/proc/meminfo");
  std::string key, unit;
  std::int64_t kib = 0;
  while (in >> key >> kib) {
    std::getline(in, unit);
    if (key == "MemTotal:") return kib * 1024;
  }
  return 0;
}

void bcast_bytes(std::string& s, MPI_Comm c, int rank) {
  std::uint64_t n = s.size();
  MPI_Bcast(&n, 1, MPI_UINT64_T, 0, c);
  if (rank != 0) s.resize(n);
  for (std::uint64_t at = 0; at < n;) {  // counts are int: pieces of up to 1 GiB
    const auto piece = static_cast<int>(std::min<std::uint64_t>(n - at, std::uint64_t{1} << 30));
    MPI_Bcast(s.data() + at, piece, MPI_BYTE, 0, c);
    at += static_cast<std::uint64_t>(piece);
  }
}

void share_plan(ml::TrainingPlan& plan, MPI_Comm c, int rank, bool with_codes) {
  std::string shape_bytes;
  if (rank == 0) {
    // Not the variant table: only rank 0 (which planned) writes outputs that name variants.
    Shape s{plan.layout, plan.meta.y, plan.meta.samples, plan.meta.classes, plan.meta.extras,
            plan.meta.unlabelled, plan.meta.not_kept, plan.meta.not_selected, plan.n_genotypes, plan.n_store_variants, plan.columns,
            plan.rows, with_codes ? plan.extra_codes : decltype(plan.extra_codes){}};
    shape_bytes = to_bytes(s);
  }
  bcast_bytes(shape_bytes, c, rank);
  if (rank != 0) {
    auto s = from_bytes<Shape>(shape_bytes);
    plan.layout = std::move(s.layout);
    plan.meta.y = std::move(s.y);
    plan.meta.samples = std::move(s.samples);
    plan.meta.classes = std::move(s.classes);
    plan.meta.extras = std::move(s.extras);
    plan.meta.unlabelled = s.unlabelled;
    plan.meta.not_kept = s.not_kept;
    plan.meta.not_selected = s.not_selected;
    plan.n_store_variants = s.n_store_variants;
    plan.columns = std::move(s.columns);
    plan.n_genotypes = s.n_genotypes;
    plan.rows = std::move(s.rows);
    plan.extra_codes = std::move(s.extra_codes);
  }
}

}  // namespace

void MatrixPlacement::validate() const {
  if (mode != "auto" && mode != "node" && mode != "sharded") {
    throw UsageError("--matrix must be auto, node or sharded (got '" + mode + "')");
  }
}

NodeDataset::NodeDataset(const Comm& comm, const std::filesystem::path& store, ml::DataSelection extra,
                         const MatrixPlacement& where) {
  MPI_Comm_split_type(comm.get(), MPI_COMM_TYPE_SHARED, comm.rank(), MPI_INFO_NULL, &node_);
  MPI_Comm_rank(node_, &node_rank_);
  MPI_Comm_size(node_, &node_size_);
  // Rank 0 lays the matrix out and decides where it lives; every rank learns the decision.
  int most_on_a_node = node_size_;
  MPI_Allreduce(MPI_IN_PLACE, &most_on_a_node, 1, MPI_INT, MPI_MAX, comm.get());
  ml::TrainingPlan plan;
  std::int64_t decision[2] = {0, 0};  // sharded, matrix bytes
  std::exception_ptr e;
  if (comm.is_root()) {
    try {
      plan = ml::plan_training_data(store, extra);
      const auto bytes = static_cast<std::int64_t>(plan.layout.bytes);
      const bool given = where.memory_per_node > 0;
      const std::int64_t budget = given ? where.memory_per_node : physical_memory();
      const std::string budget_text = format_size(budget) + (given ? " (--memory-per-node)" : " (this node's memory; --memory-per-node sets it)");
      const std::int64_t per_rank_sharded = bytes / comm.size();
      bool sharded = where.mode == "sharded";
      if (where.mode == "node" && budget > 0 && bytes > budget) {
        throw UsageError("the packed matrix takes " + format_size(bytes) + ": one copy per node does not fit in " + budget_text +
                         ". Use --matrix sharded to spread it by variants over the ranks (" + format_size(per_rank_sharded) +
                         " per rank at " + std::to_string(comm.size()) + " ranks; add nodes to hold less per node)");
      }
      if (where.mode == "auto" && comm.size() > 1 && budget > 0 && bytes > budget / 2) {
        sharded = true;
        log_info("the packed matrix (" + format_size(bytes) + ") is more than half of " + budget_text +
                 ": it is spread by variants over the " + std::to_string(comm.size()) + " ranks (--matrix sharded)");
      }
      if (sharded && budget > 0 && per_rank_sharded * most_on_a_node > budget) {
        const std::int64_t per_rank_budget = std::max<std::int64_t>(1, budget / most_on_a_node);
        const std::int64_t ranks_needed = (bytes + per_rank_budget - 1) / per_rank_budget;
        throw UsageError("the packed matrix takes " + format_size(bytes) + ": even spread over " + std::to_string(comm.size()) +
                         " ranks, a node of " + std::to_string(most_on_a_node) + " ranks would hold " +
                         format_size(per_rank_sharded * most_on_a_node) + ", more than " + budget_text + ". Run on more nodes (at least " +
                         std::to_string((ranks_needed + most_on_a_node - 1) / most_on_a_node) + " of " +
                         std::to_string(most_on_a_node) + " ranks)");
      }
      decision[0] = sharded ? 1 : 0;
      decision[1] = bytes;
    } catch (...) {
      e = std::current_exception();
    }
  }
  comm.agree(e);
  MPI_Bcast(decision, 2, MPI_INT64_T, 0, comm.get());
  matrix_bytes_ = decision[1];
  if (decision[0]) {
    load_sharded(comm, store, std::move(plan));
  } else {
    load_node(comm, store, extra, where.share, std::move(plan));
  }
}

void NodeDataset::load_sharded(const Comm& comm, const std::filesystem::path& store, ml::TrainingPlan plan) {
  sharded_ = true;
  share_plan(plan, comm.get(), comm.rank(), true);
  const auto& cols = plan.layout.cols;
  const auto n_cols = static_cast<std::int64_t>(cols.size());
  auto end_of = [&](std::int64_t c) { return c < n_cols ? cols[static_cast<std::size_t>(c)].offset : plan.layout.bytes; };
  // Units: whole 1024-column chunks of the store, then the binned columns together.
  constexpr std::int64_t kChunk = 1024;
  const std::int64_t chunks = (plan.n_genotypes + kChunk - 1) / kChunk;
  std::vector<std::int64_t> unit_start;
  for (std::int64_t u = 0; u < chunks; ++u) unit_start.push_back(u * kChunk);
  if (n_cols > plan.n_genotypes) unit_start.push_back(plan.n_genotypes);
  unit_start.push_back(n_cols);
  std::vector<std::size_t> unit_bytes;
  for (std::size_t u = 0; u + 1 < unit_start.size(); ++u) {
    unit_bytes.push_back(end_of(unit_start[u + 1]) - end_of(unit_start[u]));
  }
  const auto unit_bounds = ml::Sharding::balanced(unit_bytes, comm.size());
  coll_ = std::make_unique<MpiCollectives>(comm);
  shard_.comm = coll_.get();
  shard_.bounds.clear();
  for (const auto u : unit_bounds) shard_.bounds.push_back(unit_start[static_cast<std::size_t>(u)]);
  const std::int64_t c0 = shard_.bounds[static_cast<std::size_t>(comm.rank())];
  const std::int64_t c1 = shard_.bounds[static_cast<std::size_t>(comm.rank()) + 1];
  // This rank's layout: its columns from offset 0, the others at 0 (never read).
  ml::FeatureMatrix::Layout local = plan.layout;
  const std::size_t base = end_of(c0);
  for (std::int64_t c = 0; c < n_cols; ++c) {
    auto& col = local.cols[static_cast<std::size_t>(c)];
    col.offset = c >= c0 && c < c1 ? col.offset - base : 0;
  }
  local.bytes = end_of(c1) - base;
  std::exception_ptr e;
  ml::MatrixBytes bytes;
  try {
    bytes.assign(local.bytes, 0);
    plan.layout = local;
    ml::fill_training_genotypes(store, plan, std::min(c0, plan.n_genotypes), std::min(c1, plan.n_genotypes), bytes.data());
    // The binned columns are one unit: the rank whose block holds the first of them has them all.
    if (c0 <= plan.n_genotypes && plan.n_genotypes < c1) ml::fill_training_extras(plan, bytes.data());
  } catch (...) {
    e = std::current_exception();
  }
  comm.agree(e);
  plan.extra_codes.clear();
  ds_ = std::move(plan.meta);
  ds_.x = ml::FeatureMatrix(std::move(local), std::move(bytes));
}

void NodeDataset::load_node(const Comm& comm, const std::filesystem::path& store, ml::DataSelection extra, bool share,
                            ml::TrainingPlan plan) {
  const int node_rank = node_rank_;
  auto load_own = [&] {
    std::exception_ptr e;
    try {
      // Rank 0 has planned already (the decision needed the layout).
      ds_ = comm.is_root() ? ml::load_training_data(store, std::move(plan)) : ml::load_training_data(store, extra);
    } catch (...) {
      e = std::current_exception();
    }
    comm.agree(e);
  };
  // Every node decides alike: shared when it has several ranks and room (its first rank looks).
  std::exception_ptr e;
  std::int64_t size = 0;  // > 0: shared, of that many bytes
  if (node_rank == 0 && node_size_ > 1 && share) {
    try {
      if (!comm.is_root()) plan = ml::plan_training_data(store, extra);  // rank 0 has planned
      const auto bytes = static_cast<std::int64_t>(plan.layout.bytes);
      const std::int64_t need = bytes + (64 << 20);
      const std::string dir = shared_memory_dir();
      const std::int64_t room = shared_memory_room(dir);
      if (room >= need) {
        size = std::max<std::int64_t>(bytes, 1);
      } else {
        log_warning("shared memory (" + dir + ", " + std::to_string(room >> 20) + " MiB free) cannot hold the matrix (" +
                    std::to_string(need >> 20) + " MiB with a margin): each of this node's " + std::to_string(node_size_) +
                    " ranks loads its own copy");
      }
    } catch (...) {
      e = std::current_exception();
    }
  }
  comm.agree(e);
  if (node_size_ > 1 && share) MPI_Bcast(&size, 1, MPI_INT64_T, 0, node_);
  if (size == 0) {  // a copy per rank
    load_own();
    return;
  }
  share_plan(plan, node_, node_rank, false);
  void* base = nullptr;
  MPI_Win_allocate_shared(node_rank == 0 ? size : 0, 1, MPI_INFO_NULL, node_, &base, &win_);
  MPI_Aint got = 0;
  int disp = 0;
  void* block = nullptr;
  MPI_Win_shared_query(win_, 0, &got, &disp, &block);
  auto* bytes = static_cast<std::uint8_t*>(block);
  // Slabs of whole 1024-column blocks (the store's default chunk width), one per node rank.
  const std::int64_t blocks = (plan.n_genotypes + 1023) / 1024;
  const std::int64_t b0 = blocks * node_rank / node_size_, b1 = blocks * (node_rank + 1) / node_size_;
  MPI_Win_fence(0, win_);
  try {
    ml::fill_training_genotypes(store, plan, std::min(b0 * 1024, plan.n_genotypes), std::min(b1 * 1024, plan.n_genotypes),
                                bytes);
    if (node_rank == 0) ml::fill_training_extras(plan, bytes);
  } catch (...) {
    e = std::current_exception();
  }
  MPI_Win_fence(0, win_);
  comm.agree(e);
  ds_ = std::move(plan.meta);
  ds_.x = ml::FeatureMatrix::view(std::move(plan.layout), bytes);
}

NodeDataset::~NodeDataset() {
  ds_.x = ml::FeatureMatrix();
  if (win_ != MPI_WIN_NULL) MPI_Win_free(&win_);
  if (node_ != MPI_COMM_NULL) MPI_Comm_free(&node_);
}

}  // namespace genoforest::mpi
