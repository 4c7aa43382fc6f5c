#include "cli.hpp"
#include "stages/forest_stage.hpp"
#include "stages/stages.hpp"

namespace genoforest::mpi {

namespace {
po::options_description svm_options(ForestCommon& c) {
  po::options_description g("Linear SVM (--model svm; as scikit-learn's LinearSVC(loss='hinge'))");
  g.add_options()  //
      ("C", po::value(&c.svm_c)->default_value(1.0, "1")->value_name("C"), "penalty: larger fits the training data closer")  //
      ("tol", po::value(&c.svm_tol)->default_value(1e-4, "0.0001")->value_name("T"), "stopping tolerance of the dual coordinate descent")  //
      ("max-iter", po::value(&c.svm_max_iter)->default_value(1000)->value_name("N"), "passes over the data at most");
  return g;
}

po::options_description gbt_options(ForestCommon& c) {
  po::options_description g("Gradient-boosted trees (--model gbt; as XGBoost's, with --max-depth (default 6), --class-weight and --seed)");
  g.add_options()  //
      ("rounds", po::value(&c.gbt.rounds)->default_value(100)->value_name("N"), "boosting rounds (XGBoost's n_estimators)")  //
      ("eta", po::value(&c.gbt.eta)->default_value(0.3, "0.3")->value_name("F"), "learning rate")  //
      ("min-child-weight", po::value(&c.gbt.min_child_weight)->default_value(1.0, "1")->value_name("W"), "least hessian sum in a child")  //
      ("lambda", po::value(&c.gbt.lambda)->default_value(1.0, "1")->value_name("L"), "L2 penalty on the leaf weights")  //
      ("gamma", po::value(&c.gbt.gamma)->default_value(0.0, "0")->value_name("G"), "least loss reduction to split a node")  //
      ("subsample", po::value(&c.gbt.subsample)->default_value(1.0, "1")->value_name("F"), "fraction of the training samples drawn per round")  //
      ("colsample", po::value(&c.gbt.colsample)->default_value(1.0, "1")->value_name("F"), "fraction of the features drawn per tree (colsample_bytree)")  //
      ("early-stopping", po::value(&c.gbt.early_stopping)->default_value(0)->value_name("N"),
       "stop after N rounds without a lower validation loss, and keep the best round (0: never)")  //
      ("validation-fraction", po::value(&c.gbt.validation_fraction)->default_value(0.1, "0.1")->value_name("F"),
       "with --early-stopping: the fraction of the training samples held out (stratified)");
  return g;
}

po::options_description forest_options(ForestCommon& c) {
  po::options_description g("Forest (names as in ranger / scikit-learn)");
  g.add_options()  //
      ("model", po::value(&c.model)->default_value("forest")->value_name("M"),
       "forest, svm (a linear support vector machine) or gbt (gradient-boosted trees); --class-weight, --with-sample-stats, "
       "--with-covariates and --seed apply to all three")  //
      ("input", po::value(&c.input)->value_name("FILE"), "feature store (.h5) from 'genoforest features' (positional)")  //
      ("trees", po::value(&c.params.n_trees)->default_value(500)->value_name("N"), "number of trees")                    //
      ("mtry", po::value(&c.params.mtry)->default_value(0)->value_name("N"),
       "features tried per split (0: sqrt(p) for classes, p/3 for a quantitative label)")  //
      ("min-node-size", po::value(&c.params.min_node_size)->default_value(0)->value_name("N"),
       "nodes with at most N samples are not split (0: 1 for classes, 5 for a quantitative label)")  //
      ("max-depth", po::value(&c.params.max_depth)->default_value(0)->value_name("N"), "maximum tree depth (0: unlimited; 6 for --model gbt)")  //
      ("sample-fraction", po::value(&c.params.sample_fraction)->default_value(0.0, "auto")->value_name("F"),
       "fraction of the samples drawn per tree (auto: 1 with replacement, 0.632 without)")  //
      ("no-replace", po::bool_switch(&c.no_replace), "draw samples without replacement (subsampling) instead of bootstrap")  //
      ("class-weight", po::value(&c.class_weight)->default_value("none")->value_name("W"),
       "none, or balanced (weights n / (classes x class size), for case/control imbalance)")  //
      ("criterion", po::value(&c.criterion)->default_value("gini")->value_name("C"),
       "gini or entropy for classes (a quantitative label always uses variance)")  //
      ("seed", po::value(&c.params.seed)->default_value(1)->value_name("N"),
       "random seed: tree t uses a seed derived from (seed, t), whatever the rank count")  //
      ("keep", po::value(&c.keep)->value_name("FILE"), "only the samples of this list (one ID, or FID IID, per line; plink2's --keep)")  //
      ("remove", po::value(&c.remove)->value_name("FILE"), "leave out the samples of this list (plink2's --remove)")  //
      ("extract", po::value(&c.extract)->value_name("FILE"),
       "only the variants of this list (one ID or CHROM:POS:REF:ALT per line) or BED file of ranges (plink2's --extract)")  //
      ("exclude", po::value(&c.exclude)->value_name("FILE"), "leave out the variants of this list or BED file (plink2's --exclude)")  //
      ("with-sample-stats", po::bool_switch(&c.extra.sample_stats),
       "also use the per-sample statistics (counts, Ti/Tv, window means), binned into 32 quantiles")  //
      ("with-covariates", po::bool_switch(&c.extra.covariates),
       "also use the store's covariates (features --covar), binned into 32 quantiles; importances list them")  //
      ("matrix", po::value(&c.placement.mode)->default_value("auto")->value_name("WHERE"),
       "node: one copy of the packed matrix per node, in shared memory; sharded: spread by blocks of variants over "
       "all ranks, for a matrix larger than a node (the same trees, more communication); auto: sharded when one copy "
       "takes more than half of --memory-per-node")  //
      ("memory-per-node", po::value(&c.memory_per_node)->value_name("SIZE"),
       "memory a node may give the matrix, e.g. 64G (default: the node's physical memory)");
  return g;
}

/// --sample-fraction 0 stands for "auto" inside; given by the user, 0 is an error, not the default.
void check_explicit_sample_fraction(const po::variables_map& vm) {
  const auto& v = vm["sample-fraction"];
  if (!v.empty() && !v.defaulted() && v.as<double>() == 0.0) {
    throw UsageError("--sample-fraction must be in (0, 1] (got 0; leave it out for the default: 1 with replacement, 0.632 without)");
  }
}
}  // namespace

bool train_main(const Comm& comm, const StageCall& call) {
  TrainOptions o;
  StageSpec spec;
  spec.name = "train";
  spec.purpose =
      "Trains a random forest on a feature store's dosage matrix and labels (classes: Gini or entropy;\n"
      "quantitative label: variance). Trees are tasks handed to the ranks; the model, the out-of-bag\n"
      "error and the importances are identical for any number of ranks. Missing genotypes go, at each\n"
      "split, to the side that fits them best.";
  spec.usage = "[options] <store.h5> -o <model.gfm>";
  po::options_description out("Output");
  out.add_options()  //
      ("output,o", po::value(&o.output)->value_name("FILE"), "model file to write")  //
      ("importance", po::value(&o.importance)->default_value("permutation")->value_name("KIND"),
       "permutation (OOB accuracy decrease; also lists impurity), impurity or none")  //
      ("importance-output", po::value(&o.importance_output)->value_name("FILE"),
       "variant importance TSV, sorted (default: <model>.importance.tsv)");
  spec.groups.push_back(forest_options(o.common));
  spec.groups.push_back(svm_options(o.common));
  spec.groups.push_back(gbt_options(o.common));
  spec.groups.push_back(out);
  spec.positional.add("input", 1);
  po::variables_map vm;
  if (!start_stage(spec, call, vm, comm)) return false;
  check_explicit_sample_fraction(vm);
  o.common.command_line = call.command_line;
  run_train(comm, o);
  return true;
}

bool cv_main(const Comm& comm, const StageCall& call) {
  CvOptions o;
  StageSpec spec;
  spec.name = "cv";
  spec.purpose =
      "Stratified k-fold cross-validation of the random forest: every (fold, tree) is a task handed to\n"
      "the ranks. Prints per-fold and mean +- sd accuracy, precision, recall, F1 (macro), AUC-ROC and the\n"
      "confusion matrix (RMSE and R2 for a quantitative label); writes the full report as JSON.";
  spec.usage = "[options] <store.h5> [-o report.json]";
  po::options_description cvg("Cross-validation");
  cvg.add_options()  //
      ("folds,k", po::value(&o.folds)->default_value(5)->value_name("K"), "number of folds")  //
      ("repeats", po::value(&o.repeats)->default_value(1)->value_name("R"), "repeat with R different fold assignments")  //
      ("output,o", po::value(&o.output)->value_name("FILE"), "JSON report (per fold, per class, summary)")  //
      ("predictions", po::value(&o.predictions)->value_name("FILE"),
       "write each sample's out-of-fold prediction and class probabilities (TSV; as scikit-learn's cross_val_predict)")  //
      ("assignments", po::value(&o.assignments)->value_name("FILE"),
       "TSV of each labelled sample's fold (sample_id, repeat, fold), to reproduce the folds elsewhere");
  spec.groups.push_back(forest_options(o.common));
  spec.groups.push_back(svm_options(o.common));
  spec.groups.push_back(gbt_options(o.common));
  spec.groups.push_back(cvg);
  spec.positional.add("input", 1);
  po::variables_map vm;
  if (!start_stage(spec, call, vm, comm)) return false;
  check_explicit_sample_fraction(vm);
  o.common.command_line = call.command_line;
  run_cv(comm, o);
  return true;
}

bool predict_main(const Comm& comm, const StageCall& call) {
  PredictOptions o;
  StageSpec spec;
  spec.name = "predict";
  spec.purpose =
      "Predicts new samples with a trained model. Input: a feature store or a VCF/BCF; variants are\n"
      "matched to the model by chrom:pos:ref:alt ('chr1' and '1' alike), and those absent are reported and\n"
      "count as missing; fewer than --min-overlap of them found is an error.\n"
      "Writes a TSV: sample_id, predicted label (or value), class probabilities.";
  spec.usage = "-m <model.gfm> [options] <store.h5|in.vcf.gz> -o <predictions.tsv>";
  po::options_description g("Input and output");
  g.add_options()  //
      ("model,m", po::value(&o.model)->value_name("FILE"), "model from 'genoforest train'")  //
      ("input", po::value(&o.input)->value_name("FILE"), "feature store (.h5) or VCF/BCF of the new samples (positional)")  //
      ("output,o", po::value(&o.output)->value_name("FILE"), "predictions TSV to write ('-': standard output)")  //
      ("min-overlap", po::value(&o.min_overlap)->default_value(0.5, "0.5")->value_name("F"),
       "the least fraction of the model's variants the input must have (0 to 1)")  //
      ("keep", po::value(&o.keep)->value_name("FILE"), "predict only the samples of this list (one ID, or FID IID, per line; plink2's --keep)")  //
      ("remove", po::value(&o.remove)->value_name("FILE"), "leave out the samples of this list (plink2's --remove)")  //
      ("covar", po::value(&o.covar)->value_name("FILE"),
       "covariate table of the new samples, for a model trained --with-covariates and a VCF/BCF input "
       "(a feature store holds its own)");
  spec.groups.push_back(g);
  spec.positional.add("input", 1);
  po::variables_map vm;
  if (!start_stage(spec, call, vm, comm)) return false;
  run_predict(comm, o);
  return true;
}

}  // namespace genoforest::mpi
