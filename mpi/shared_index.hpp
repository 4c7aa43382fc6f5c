#pragma once
/// @file shared_index.hpp
/// The bwa index, one copy per node or one per rank.
///
/// Shared: the first rank of each node loads it, packs it into one block and copies it into MPI-3
/// shared memory (MPI_Win_allocate_shared); every rank of the node aligns against that block in
/// place. A human index (~5.3 GB) is then paid once per node, not once per rank. Where the
/// shared-memory folder (Open MPI's osc_sm_backing_directory, /dev/shm by default) has no room for
/// it, each rank loads its own copy and a warning says so.
///
/// Or a copy per rank (`share` false, one rank on the node, or no room in shared memory), on transparent huge pages, which
/// align 5-10% faster; shared memory gets huge pages only where the system allows them for shmem,
/// rarely by default. Several ranks still share by default: their copies would compete for the
/// CPU's cache, and a large index would take the node's memory many times over.
#include <filesystem>
#include <optional>

#include "comm.hpp"
#include "genoforest/align/bwa.hpp"

namespace genoforest::mpi {

class NodeBwaIndex {
 public:
  /// Collective over `comm`. Throws JobError on every rank if the index cannot be loaded.
  NodeBwaIndex(const Comm& comm, const std::filesystem::path& prefix, bool share = true);
  /// Collective (frees the shared window): every rank destroys it at the same point.
  ~NodeBwaIndex();
  NodeBwaIndex(const NodeBwaIndex&) = delete;
  NodeBwaIndex& operator=(const NodeBwaIndex&) = delete;

  [[nodiscard]] const align::BwaIndex& get() const { return *index_; }
  /// True when the ranks of this node share one copy.
  [[nodiscard]] bool shared() const noexcept { return win_ != MPI_WIN_NULL; }
  [[nodiscard]] int ranks_on_node() const noexcept { return node_size_; }

 private:
  MPI_Comm node_ = MPI_COMM_NULL;
  MPI_Win win_ = MPI_WIN_NULL;
  int node_size_ = 1;
  std::optional<align::BwaIndex> index_;
};

}  // namespace genoforest::mpi
