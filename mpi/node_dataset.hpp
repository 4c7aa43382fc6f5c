#pragma once
/// @file node_dataset.hpp
/// The training data of `train`, `cv` and the SVM: its packed matrix once per node, or spread
/// over all ranks by blocks of variants (the sharded mode) when one copy per node does not fit.
///
/// One copy per node: the first rank of each node reads the store's labels, names and statistics
/// and lays the matrix out (ml::plan_training_data); the node's ranks then fill it in MPI-3 shared
/// memory (MPI_Win_allocate_shared), each the genotype columns of its own slab of the store, and
/// read it in place. A node then holds one matrix, not one per rank, and reads the store once, in
/// parallel. Where the shared-memory folder (Open MPI's osc_sm_backing_directory, /dev/shm by
/// default) has no room for it, each rank of the node loads its own copy and a warning says so.
///
/// Sharded: rank 0 plans, every rank receives the labels and the layout and loads the columns of
/// its own block of whole 1024-variant chunks (about equal bytes per rank): the cluster holds the
/// matrix once, and the forest (ml::grow_trees with a Sharding) exchanges what its splits need.
#include <filesystem>
#include <memory>

#include "collectives_mpi.hpp"
#include "comm.hpp"
#include "genoforest/ml/dataset.hpp"
#include "genoforest/ml/forest.hpp"

namespace genoforest::mpi {

/// Where the matrix lives: --matrix and --memory-per-node.
struct MatrixPlacement {
  std::string mode = "auto";         ///< node, sharded or auto
  std::int64_t memory_per_node = 0;  ///< bytes; 0: the node's physical memory
  bool share = true;                 ///< node mode: one shared copy (false: a copy per rank)
  /// Throws UsageError for an unknown mode.
  void validate() const;
};

class NodeDataset {
 public:
  /// Collective over `comm`: the training data of `store` (ml::load_training_data), placed as
  /// `where` says. Throws JobError on every rank if it fails, or if the matrix does not fit.
  NodeDataset(const Comm& comm, const std::filesystem::path& store, ml::DataSelection extra, const MatrixPlacement& where = {});
  /// Collective (frees the shared window): every rank destroys it at the same point.
  ~NodeDataset();
  NodeDataset(const NodeDataset&) = delete;
  NodeDataset& operator=(const NodeDataset&) = delete;

  /// The data; sharded, x holds the bytes of this rank's columns only (sharding() says which).
  [[nodiscard]] ml::Dataset& get() noexcept { return ds_; }
  /// True when the ranks of this node read one shared matrix.
  [[nodiscard]] bool shared() const noexcept { return win_ != MPI_WIN_NULL; }
  [[nodiscard]] int ranks_on_node() const noexcept { return node_size_; }
  /// The column blocks of the sharded mode; nullptr in node mode.
  [[nodiscard]] const ml::Sharding* sharding() const noexcept { return sharded_ ? &shard_ : nullptr; }
  /// Bytes of the whole packed matrix (sharded: summed over the ranks).
  [[nodiscard]] std::int64_t matrix_bytes() const noexcept { return matrix_bytes_; }

 private:
  void load_node(const Comm& comm, const std::filesystem::path& store, ml::DataSelection extra, bool share, ml::TrainingPlan plan);
  void load_sharded(const Comm& comm, const std::filesystem::path& store, ml::TrainingPlan plan);
  MPI_Comm node_ = MPI_COMM_NULL;
  MPI_Win win_ = MPI_WIN_NULL;
  int node_size_ = 1;
  int node_rank_ = 0;
  ml::Dataset ds_;
  bool sharded_ = false;
  std::unique_ptr<MpiCollectives> coll_;
  ml::Sharding shard_;
  std::int64_t matrix_bytes_ = 0;
};

}  // namespace genoforest::mpi
