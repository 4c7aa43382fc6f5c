#pragma once
/// @file forest_stage.hpp
/// `genoforest train`, `cv` and `predict`: random forests whose trees (and CV folds) are tasks
/// handed to the ranks; results are merged on rank 0 in task order, so every output is the same
/// for any number of ranks.
#include <cstdint>
#include <string>

#include "comm.hpp"
#include "node_dataset.hpp"
#include "genoforest/ml/forest.hpp"
#include "genoforest/ml/gbt.hpp"

namespace genoforest::mpi {

struct ForestCommon {
  std::string input;          ///< feature store (HDF5)
  ml::DataSelection extra;     ///< --with-sample-stats, --with-covariates; --keep/--remove (read at load)
  std::string keep, remove;   ///< sample lists (plink2's --keep/--remove)
  std::string extract, exclude;  ///< variant lists or BED files (plink2's --extract/--exclude)
  std::string criterion = "gini";
  std::string class_weight = "none";
  bool no_replace = false;
  ml::ForestParams params;
  std::string model = "forest";  ///< forest, svm or gbt
  ml::GbtParams gbt;             ///< --model gbt (max depth, class weights and seed from the forest's options)
  double svm_c = 1.0;
  double svm_tol = 1e-4;
  int svm_max_iter = 1000;
  std::string command_line;
  MatrixPlacement placement;         ///< --matrix; memory_per_node from the text below
  std::string memory_per_node;       ///< --memory-per-node as given ("" : the node's memory)
  /// Copies the text options into params; throws UsageError.
  void apply();
};

struct TrainOptions {
  ForestCommon common;
  std::string output;             ///< model file
  std::string importance_output;  ///< TSV; default <output>.importance.tsv
  std::string importance = "permutation";  ///< permutation, impurity or none
};

struct CvOptions {
  ForestCommon common;
  std::string output;  ///< JSON report (optional)
  std::string assignments;  ///< TSV of each sample's fold (optional)
  std::string predictions;  ///< TSV of each sample's out-of-fold prediction (optional)
  int folds = 5;
  int repeats = 1;
};

struct PredictOptions {
  std::string model;
  std::string input;   ///< feature store (HDF5) or VCF/BCF
  std::string output;  ///< TSV ("-": standard output)
  double min_overlap = 0.5;  ///< the least fraction of the model's variants the input must have
  std::string covar;         ///< covariate table for a VCF/BCF input (plink2's --covar)
  std::string keep, remove;  ///< sample lists (plink2's --keep/--remove)
};

void run_train(const Comm& comm, TrainOptions opt);
void run_cv(const Comm& comm, CvOptions opt);
void run_predict(const Comm& comm, const PredictOptions& opt);

}  // namespace genoforest::mpi
