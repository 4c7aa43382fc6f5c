#pragma once
/// @file structure_stage.hpp
/// `genoforest pca` and `genoforest cluster`: population structure. Genotype columns are read in
/// slabs of 1024 variants, slab s on rank s mod ranks; every product over columns is reduced
/// exactly (ExactSum), so scores, clusters and metrics are identical for any rank count.
#include <cstdint>
#include <string>

#include "comm.hpp"

namespace genoforest::mpi {

struct PcaOptions {
  std::string input;   ///< feature store
  std::string output;  ///< prefix
  int pcs = 10;
  int oversample = 10;
  int iterations = 8;
  std::uint64_t seed = 1;
  std::string keep, remove;  ///< sample lists (plink2's --keep/--remove)
  std::string extract, exclude;  ///< variant lists or BED files (plink2's --extract/--exclude)
  std::string command_line;
};

struct ClusterOptions {
  std::string input;   ///< feature store (genotypes) or PREFIX.pca.h5 (PC scores)
  std::string output;  ///< prefix
  std::string method = "kmeans";
  std::string linkage = "ward";
  int k = 0;
  int pcs = 0;         ///< PCs used from a .pca.h5 (0: all)
  int n_init = 10;
  int max_iter = 300;
  std::uint64_t seed = 1;
  std::string keep, remove;  ///< sample lists (plink2's --keep/--remove)
  std::string extract, exclude;  ///< variant lists or BED files (plink2's --extract/--exclude)
  std::string command_line;
};

void run_pca(const Comm& comm, const PcaOptions& opt);
void run_cluster(const Comm& comm, const ClusterOptions& opt);

}  // namespace genoforest::mpi
