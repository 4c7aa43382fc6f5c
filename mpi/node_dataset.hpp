#pragma once
/// @file node_dataset.hpp
/// The training data of `train`, `cv` and the SVM, its packed matrix once per node.
///
/// The first rank of each node reads the store's labels, names and statistics and lays the matrix
/// out (ml::plan_training_data); the node's ranks then fill it in MPI-3 shared memory
/// (MPI_Win_allocate_shared), each the genotype columns of its own slab of the store, and read it
/// in place. A node then holds one matrix, not one per rank, and reads the store once, in
/// parallel. Where the shared-memory folder (Open MPI's osc_sm_backing_directory, /dev/shm by
/// default) has no room for it, each rank of the node loads its own copy and a warning says so.
#include <filesystem>

#include "comm.hpp"
#include "genoforest/ml/dataset.hpp"

namespace genoforest::mpi {

class NodeDataset {
 public:
  /// Collective over `comm`: the training data of `store` (ml::load_training_data). Throws
  /// JobError on every rank if it fails.
  NodeDataset(const Comm& comm, const std::filesystem::path& store, bool with_stats, bool share = true);
  /// Collective (frees the shared window): every rank destroys it at the same point.
  ~NodeDataset();
  NodeDataset(const NodeDataset&) = delete;
  NodeDataset& operator=(const NodeDataset&) = delete;

  [[nodiscard]] ml::Dataset& get() noexcept { return ds_; }
  /// True when the ranks of this node read one shared matrix.
  [[nodiscard]] bool shared() const noexcept { return win_ != MPI_WIN_NULL; }
  [[nodiscard]] int ranks_on_node() const noexcept { return node_size_; }

 private:
  MPI_Comm node_ = MPI_COMM_NULL;
  MPI_Win win_ = MPI_WIN_NULL;
  int node_size_ = 1;
  ml::Dataset ds_;
};

}  // namespace genoforest::mpi
