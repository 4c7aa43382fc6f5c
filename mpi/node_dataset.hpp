#pragma once
/// @file node_dataset.hpp
/// The training data of `train`, `cv` and the SVM, its packed matrix once per node.
///
/// The first rank of each node loads the store, then copies the matrix's bytes into MPI-3 shared
/// memory (MPI_Win_allocate_shared) and lets its own copy go; the node's other ranks receive the
/// rest (labels, sample and variant names, the matrix's layout) and read the matrix in place. A
/// node then holds one matrix, not one per rank, and the store is read once per node, not once
/// per rank. Where the shared-memory folder (Open MPI's osc_sm_backing_directory, /dev/shm by
/// default) has no room for it, each rank of the node loads its own copy and a warning says so.
#include <functional>

#include "comm.hpp"
#include "genoforest/ml/dataset.hpp"

namespace genoforest::mpi {

class NodeDataset {
 public:
  /// Collective over `comm`: `load` runs on the first rank of each node (or on every rank when
  /// `share` is false or shared memory has no room). Throws JobError on every rank if it fails.
  NodeDataset(const Comm& comm, const std::function<ml::Dataset()>& load, bool share = true);
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
