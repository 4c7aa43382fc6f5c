#include "cli.hpp"
#include "genoforest/core/text.hpp"
#include "stages/features_stage.hpp"
#include "stages/stages.hpp"

namespace genoforest::mpi {

bool features_main(const Comm& comm, const StageCall& call) {
  FeaturesOptions o;
  std::string covar_names;
  StageSpec spec;
  spec.name = "features";
  spec.purpose =
      "Turns an indexed, bgzipped VCF or BCF (and an optional phenotype table) into one HDF5 feature store:\n"
      "dosage matrix (samples x ALT alleles), variant table, labels and per-sample statistics.\n"
      "Regions are handed to the ranks dynamically; all ranks write the matrix with collective parallel HDF5.";
  spec.usage = "[options] <in.vcf.gz|in.bcf|in.bed> -o <out.h5>";
  po::options_description io("Input and output");
  io.add_options()                                                                                           //
      ("input", po::value(&o.input)->value_name("FILE"),
       "indexed (.tbi/.csi) bgzipped VCF or BCF, or a PLINK 1 fileset: PREFIX.bed (or PREFIX) with its .bim and .fam (positional)")  //
      ("output,o", po::value(&o.output)->value_name("FILE"), "HDF5 feature store to write")                 //
      ("phenotypes,p", po::value(&o.phenotypes)->value_name("FILE"),
       "phenotype table: sample_id, label[, population] (TSV, CSV, or plink's whitespace-separated .pheno)")  //
      ("pheno-name", po::value(&o.pheno_name)->value_name("COL"),
       "the label column of the phenotype table (default: 'label', or its only phenotype column)")  //
      ("covar", po::value(&o.covar)->value_name("FILE"),
       "covariate table stored beside the genotypes (plink's .cov, a .eigenvec of 'genoforest pca' or plink2, TSV, CSV): "
       "train, cv and predict use them with --with-covariates")  //
      ("covar-name", po::value(&covar_names)->value_name("LIST"),
       "the covariates to keep, comma-separated; ranges such as PC1-PC10 (default: every numeric column)")  //
      ("label-type", po::value(&o.label_type)->default_value("auto")->value_name("TYPE"),
       "auto, class or quantitative (auto: integers or words are classes)")  //
      ("keep", po::value(&o.keep)->value_name("FILE"), "only the samples of this list (one ID, or FID IID, per line; plink2's --keep)")  //
      ("remove", po::value(&o.remove)->value_name("FILE"), "leave out the samples of this list (plink2's --remove)")  //
      ("extract", po::value(&o.extract)->value_name("FILE"),
       "only the variants of this list (one ID or CHROM:POS:REF:ALT per line) or BED file of ranges (plink2's --extract)")  //
      ("exclude", po::value(&o.exclude)->value_name("FILE"), "leave out the variants of this list or BED file (plink2's --exclude)")  //
      ("regions,r", po::value(&o.regions)->value_name("LIST"), "only these regions: chr, chr:beg-end (1-based), comma-separated")  //
      ("regions-file,R", po::value(&o.regions_file)->value_name("FILE"), "only the regions of a BED file");
  po::options_description filt("Filters (per ALT column)");
  filt.add_options()                                                                                //
      ("min-maf", po::value(&o.filters.min_maf)->default_value(0.0, "0")->value_name("F"), "minimum minor allele frequency")  //
      ("max-missing", po::value(&o.filters.max_missing)->default_value(1.0, "1")->value_name("F"),
       "maximum fraction of missing calls")                                                           //
      ("pass-only", po::bool_switch(&o.filters.pass_only), "keep records with FILTER PASS or '.'")   //
      ("snps-only", po::bool_switch(&o.filters.snps_only), "keep SNV columns only")                 //
      ("biallelic-only", po::bool_switch(&o.filters.biallelic_only), "keep records with one ALT allele only");
  po::options_description perf("Work division and layout");
  perf.add_options()  //
      ("region-size", po::value(&o.region_size)->default_value(1'000'000)->value_name("BP"),
       "bp per task handed to a rank (does not change the output)")  //
      ("window-size", po::value(&o.window_size)->default_value(1'000'000)->value_name("BP"),
       "bp per window of the per-sample window statistics")  //
      ("chunk-samples", po::value(&o.layout.chunk_samples)->default_value(512)->value_name("N"),
       "dosage chunk height (samples)")  //
      ("chunk-variants", po::value(&o.layout.chunk_variants)->default_value(1024)->value_name("N"),
       "dosage chunk width (variants)")  //
      ("compression", po::value(&o.layout.compression)->default_value(0)->value_name("L"),
       "deflate level 0-9 on top of the 2-bit packing of the dosage matrix (0: packing only)");
  spec.groups.push_back(io);
  spec.groups.push_back(filt);
  spec.groups.push_back(perf);
  spec.positional.add("input", 1);
  po::variables_map vm;
  if (!start_stage(spec, call, vm, comm)) return false;
  o.command_line = call.command_line;
  for (const auto& n : split(covar_names, ',')) {
    if (!trim(n).empty()) o.covar_names.emplace_back(trim(n));
  }
  o.validate();
  run_features(comm, o);
  return true;
}

}  // namespace genoforest::mpi
