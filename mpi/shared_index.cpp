#include "shared_index.hpp"

#include <sys/statvfs.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "genoforest/core/log.hpp"

namespace genoforest::mpi {

namespace {

/// The folder that backs Open MPI's shared windows.
std::string shared_memory_dir() {
  const char* dir = std::getenv("OMPI_MCA_osc_sm_backing_directory");
  return dir && *dir ? dir : "/dev/shm";
}

/// Free bytes in that folder (0 if it cannot be used).
std::int64_t shared_memory_room(const std::string& dir) {
  struct statvfs st {};
  if (statvfs(dir.c_str(), &st) != 0) return 0;
  return static_cast<std::int64_t>(st.f_bavail) * static_cast<std::int64_t>(st.f_frsize);
}

}  // namespace

NodeBwaIndex::NodeBwaIndex(const Comm& comm, const std::filesystem::path& prefix, bool share) {
  MPI_Comm_split_type(comm.get(), MPI_COMM_TYPE_SHARED, comm.rank(), MPI_INFO_NULL, &node_);
  int node_rank = 0;
  MPI_Comm_rank(node_, &node_rank);
  MPI_Comm_size(node_, &node_size_);
  // The node's first rank loads the index and packs it, if it is to be shared.
  std::exception_ptr e;
  std::int64_t size = 0;
  if (node_rank == 0) {
    try {
      const bool to_share = node_size_ > 1 && share;
      index_.emplace(prefix, /*huge_pages=*/!to_share);
      if (to_share) {
        const std::int64_t need = index_->memory_bytes() + (64 << 20);
        const std::string dir = shared_memory_dir();
        const std::int64_t room = shared_memory_room(dir);
        if (room >= need) {
          size = static_cast<std::int64_t>(index_->pack().size());
        } else {
          log_warning("shared memory (" + dir + ", " + std::to_string(room >> 20) + " MiB free) cannot hold the bwa index (" +
                      std::to_string(need >> 20) + " MiB with a margin): each of this node's " + std::to_string(node_size_) +
                      " ranks loads its own copy");
          index_->use_huge_pages();
        }
      }
    } catch (...) {
      e = std::current_exception();
    }
  }
  comm.agree(e);
  if (node_size_ == 1) return;
  MPI_Bcast(&size, 1, MPI_INT64_T, 0, node_);
  if (size == 0) {  // a copy per rank
    if (node_rank != 0) {
      try {
        index_.emplace(prefix, /*huge_pages=*/true);
      } catch (...) {
        e = std::current_exception();
      }
    }
    comm.agree(e);
    return;
  }
  void* base = nullptr;
  MPI_Win_allocate_shared(node_rank == 0 ? size : 0, 1, MPI_INFO_NULL, node_, &base, &win_);
  MPI_Win_fence(0, win_);
  if (node_rank == 0) {
    std::memcpy(base, index_->pack().data(), static_cast<std::size_t>(size));
    index_.reset();  // the private copy goes; rank 0 uses the shared one too
  }
  MPI_Win_fence(0, win_);
  MPI_Aint got = 0;
  int disp = 0;
  void* block = nullptr;
  MPI_Win_shared_query(win_, 0, &got, &disp, &block);
  index_.emplace(align::BwaIndex::view(static_cast<const std::uint8_t*>(block), size));
}

NodeBwaIndex::~NodeBwaIndex() {
  index_.reset();
  if (win_ != MPI_WIN_NULL) MPI_Win_free(&win_);
  if (node_ != MPI_COMM_NULL) MPI_Comm_free(&node_);
}

}  // namespace genoforest::mpi
