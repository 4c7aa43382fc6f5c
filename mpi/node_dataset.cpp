#include "node_dataset.hpp"

#include <sys/statvfs.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "genoforest/core/log.hpp"
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

/// A plan without its extras' codes (the first rank writes those): what the node's other ranks receive.
struct Shape {
  ml::FeatureMatrix::Layout layout;
  ml::Labels y;
  std::vector<std::string> samples, classes;
  std::vector<ml::VariantKey> variants;
  std::vector<ml::ExtraFeature> extras;
  std::int64_t unlabelled = 0, n_genotypes = 0;
  std::vector<std::int64_t> rows;
  template <class Ar>
  void serialize(Ar& ar, unsigned) {
    ar & layout & y & samples & classes & variants & extras & unlabelled & n_genotypes & rows;
  }
};

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

}  // namespace

NodeDataset::NodeDataset(const Comm& comm, const std::filesystem::path& store, bool with_stats, bool share) {
  MPI_Comm_split_type(comm.get(), MPI_COMM_TYPE_SHARED, comm.rank(), MPI_INFO_NULL, &node_);
  int node_rank = 0;
  MPI_Comm_rank(node_, &node_rank);
  MPI_Comm_size(node_, &node_size_);
  auto load_own = [&] {
    std::exception_ptr e;
    try {
      ds_ = ml::load_training_data(store, with_stats);
    } catch (...) {
      e = std::current_exception();
    }
    comm.agree(e);
  };
  // Every node decides alike: shared when it has several ranks and room (its first rank looks).
  std::exception_ptr e;
  std::int64_t size = 0;  // > 0: shared, of that many bytes
  ml::TrainingPlan plan;
  if (node_rank == 0 && node_size_ > 1 && share) {
    try {
      plan = ml::plan_training_data(store, with_stats);
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
  std::string shape_bytes;
  if (node_rank == 0) {
    Shape s{plan.layout, plan.meta.y, plan.meta.samples, plan.meta.classes, plan.meta.variants, plan.meta.extras,
            plan.meta.unlabelled, plan.n_genotypes, plan.rows};
    shape_bytes = to_bytes(s);
  }
  bcast_bytes(shape_bytes, node_, node_rank);
  if (node_rank != 0) {
    auto s = from_bytes<Shape>(shape_bytes);
    plan.layout = std::move(s.layout);
    plan.meta.y = std::move(s.y);
    plan.meta.samples = std::move(s.samples);
    plan.meta.classes = std::move(s.classes);
    plan.meta.variants = std::move(s.variants);
    plan.meta.extras = std::move(s.extras);
    plan.meta.unlabelled = s.unlabelled;
    plan.n_genotypes = s.n_genotypes;
    plan.rows = std::move(s.rows);
  }
  shape_bytes = std::string();
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
