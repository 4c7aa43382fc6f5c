#include "cli.hpp"
#include "stages/stages.hpp"
#include "stages/structure_stage.hpp"

namespace genoforest::mpi {

bool pca_main(const Comm& comm, const StageCall& call) {
  PcaOptions o;
  StageSpec spec;
  spec.name = "pca";
  spec.purpose =
      "Top principal components of the standardised genotype matrix of a feature store (as plink2 --pca:\n"
      "x = (g - 2p) / sqrt(2p(1-p)), missing calls mean-imputed), by randomized subspace iteration over\n"
      "variant slabs spread across the ranks; products are reduced exactly, so the output is identical for\n"
      "any rank count. Writes PREFIX.eigenvec (sample scores), PREFIX.eigenval and PREFIX.pca.h5.";
  spec.usage = "[options] <store.h5> -o PREFIX";
  po::options_description g("PCA");
  g.add_options()                                                                                       //
      ("input", po::value(&o.input)->value_name("FILE"), "feature store from 'genoforest features' (positional)")  //
      ("keep", po::value(&o.keep)->value_name("FILE"), "only the samples of this list (one ID, or FID IID, per line; plink2's --keep)")  //
      ("remove", po::value(&o.remove)->value_name("FILE"), "leave out the samples of this list (plink2's --remove)")  //
      ("extract", po::value(&o.extract)->value_name("FILE"),
       "only the variants of this list (one ID or CHROM:POS:REF:ALT per line) or BED file of ranges (plink2's --extract)")  //
      ("exclude", po::value(&o.exclude)->value_name("FILE"), "leave out the variants of this list or BED file (plink2's --exclude)")  //
      ("output,o", po::value(&o.output)->value_name("PREFIX"), "output prefix")                         //
      ("pcs", po::value(&o.pcs)->default_value(o.pcs)->value_name("K"), "principal components")        //
      ("oversample", po::value(&o.oversample)->default_value(o.oversample)->value_name("N"),
       "extra dimensions of the random subspace")  //
      ("iterations", po::value(&o.iterations)->default_value(o.iterations)->value_name("N"), "power iterations")  //
      ("seed", po::value(&o.seed)->default_value(o.seed)->value_name("N"), "seed of the random starting subspace");
  spec.groups.push_back(g);
  spec.positional.add("input", 1);
  po::variables_map vm;
  if (!start_stage(spec, call, vm, comm)) return false;
  o.command_line = call.command_line;
  run_pca(comm, o);
  return true;
}

bool cluster_main(const Comm& comm, const StageCall& call) {
  ClusterOptions o;
  StageSpec spec;
  spec.name = "cluster";
  spec.purpose =
      "Clusters the samples on their PCs (PREFIX.pca.h5 from genoforest pca) or their standardised genotypes (a\n"
      "feature store): k-means (k-means++ seeding, best of --n-init starts; distances reduced exactly over the\n"
      "ranks, so identical for any rank count) or hierarchical (average, complete or Ward linkage). Writes\n"
      "PREFIX.clusters.tsv and PREFIX.cluster.json with the silhouette and the adjusted Rand index against the\n"
      "populations and labels when known.";
  spec.usage = "[options] <store.h5|PREFIX.pca.h5> -k K -o PREFIX";
  po::options_description g("Clustering");
  g.add_options()                                                                                           //
      ("input", po::value(&o.input)->value_name("FILE"), "feature store, or PREFIX.pca.h5 (positional)")     //
      ("keep", po::value(&o.keep)->value_name("FILE"), "only the samples of this list (a feature store input; plink2's --keep)")  //
      ("remove", po::value(&o.remove)->value_name("FILE"), "leave out the samples of this list (a feature store input)")  //
      ("extract", po::value(&o.extract)->value_name("FILE"), "only the variants of this list or BED file (a feature store input)")  //
      ("exclude", po::value(&o.exclude)->value_name("FILE"), "leave out the variants of this list or BED file (a feature store input)")  //
      ("output,o", po::value(&o.output)->value_name("PREFIX"), "output prefix")                             //
      ("method", po::value(&o.method)->default_value(o.method)->value_name("M"), "kmeans or hierarchical")  //
      ("clusters,k", po::value(&o.k)->value_name("K"), "number of clusters")                                //
      ("linkage", po::value(&o.linkage)->default_value(o.linkage)->value_name("L"), "hierarchical: average, complete or ward")  //
      ("pcs", po::value(&o.pcs)->default_value(0)->value_name("N"), "with a .pca.h5: use the first N PCs (0: all)")  //
      ("n-init", po::value(&o.n_init)->default_value(o.n_init)->value_name("N"), "k-means: starts, the lowest inertia wins")  //
      ("max-iter", po::value(&o.max_iter)->default_value(o.max_iter)->value_name("N"), "k-means: iterations per start")  //
      ("seed", po::value(&o.seed)->default_value(o.seed)->value_name("N"), "k-means: seed of the k-means++ draws");
  spec.groups.push_back(g);
  spec.positional.add("input", 1);
  po::variables_map vm;
  if (!start_stage(spec, call, vm, comm)) return false;
  o.command_line = call.command_line;
  run_cluster(comm, o);
  return true;
}

}  // namespace genoforest::mpi
