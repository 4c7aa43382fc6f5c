#include "shared_index.hpp"

#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "genoforest/core/error.hpp"

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

/// A number from the first line of `path`; 0 when absent or unlimited ("max").
std::int64_t read_limit(const std::string& path) {
  std::ifstream in(path);
  std::string text;
  if (!(in >> text) || text == "max") return 0;
  try {
    return std::stoll(text);
  } catch (const std::exception&) {
    return 0;
  }
}

/// Memory this process may use: physical memory, or its cgroup's limit (v2 or v1) when lower.
std::int64_t usable_memory() {
  std::int64_t bytes = static_cast<std::int64_t>(sysconf(_SC_PHYS_PAGES)) * static_cast<std::int64_t>(sysconf(_SC_PAGESIZE));
  std::ifstream cg("/proc/self/cgroup");
  for (std::string line; std::getline(cg, line);) {
    std::int64_t limit = 0;
    if (line.rfind("0::", 0) == 0) {
      limit = read_limit("/sys/fs/cgroup" + line.substr(3) + "/memory.max");
    } else if (const auto at = line.find(":memory:"); at != std::string::npos) {
      limit = read_limit("/sys/fs/cgroup/memory" + line.substr(at + 8) + "/memory.limit_in_bytes");
    }
    if (limit > 0) bytes = std::min(bytes, limit);
  }
  return bytes;
}

}  // namespace

IndexSharing parse_index_sharing(const std::string& text, const std::string& option) {
  if (text == "auto") return IndexSharing::kAuto;
  if (text == "always") return IndexSharing::kAlways;
  if (text == "never") return IndexSharing::kNever;
  throw UsageError(option + " must be auto, always or never (got '" + text + "')");
}

NodeBwaIndex::NodeBwaIndex(const Comm& comm, const std::filesystem::path& prefix, IndexSharing sharing) {
  MPI_Comm_split_type(comm.get(), MPI_COMM_TYPE_SHARED, comm.rank(), MPI_INFO_NULL, &node_);
  int node_rank = 0;
  MPI_Comm_rank(node_, &node_rank);
  MPI_Comm_size(node_, &node_size_);
  // The node's first rank loads the index and packs it, if it is to be shared.
  std::exception_ptr e;
  std::int64_t size = 0;
  if (node_rank == 0) {
    try {
      const std::int64_t copies = align::bwa_index_bytes(prefix) * node_size_;
      const bool share = node_size_ > 1 && (sharing == IndexSharing::kAlways ||
                                            (sharing == IndexSharing::kAuto && copies > usable_memory() / 8));
      index_.emplace(prefix, /*huge_pages=*/!share);
      if (share) {
        const std::int64_t need = index_->memory_bytes() + (64 << 20);
        const std::string dir = shared_memory_dir();
        const std::int64_t room = shared_memory_room(dir);
        if (room >= need) {
          size = static_cast<std::int64_t>(index_->pack().size());
        } else {
          log_warning("shared memory (" + dir + ", " + std::to_string(room >> 20) + " MiB free) cannot hold the bwa index (" +
                      std::to_string(need >> 20) + " MiB with a margin): each of this node's " + std::to_string(node_size_) +
                      " ranks loads its own copy");
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
