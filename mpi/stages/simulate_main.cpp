#include <chrono>

#include "cli.hpp"
#include "genoforest/core/log.hpp"
#include "genoforest/sim/cohort.hpp"
#include "stages/stages.hpp"

#include <unistd.h>

namespace genoforest::mpi {

bool simulate_main(const Comm& comm, const StageCall& call) {
  sim::CohortOptions o;
  std::string prefix, output_type = "z";
  int threads = 1;
  StageSpec spec;
  spec.name = "simulate";
  spec.purpose =
      "Simulates a cohort: genotypes of N samples at M sites in K sub-populations (Balding-Nichols, optional LD\n"
      "blocks), and a phenotype from causal variants. Writes PREFIX.vcf.gz (or .bcf) with its index,\n"
      "PREFIX.pheno.tsv (sample_id, label, population) and PREFIX.truth.tsv (the causal variants).\n"
      "Deterministic for a seed. Runs on rank 0 (other ranks wait).";
  spec.usage = "[options] -o PREFIX";
  po::options_description out("Output");
  out.add_options()                                                                                          //
      ("output,o", po::value(&prefix)->value_name("PREFIX"), "output prefix")                                //
      ("output-type,O", po::value(&output_type)->default_value("z")->value_name("z|b"), "z: bgzipped VCF + .tbi; b: BCF + .csi")  //
      ("threads,@", po::value(&threads)->default_value(1)->value_name("N"), "compression threads (same output for any N)");
  po::options_description cohort("Cohort");
  cohort.add_options()                                                                          //
      ("samples,n", po::value(&o.samples)->default_value(o.samples)->value_name("N"), "samples")  //
      ("variants,m", po::value(&o.variants)->default_value(o.variants)->value_name("M"), "sites")  //
      ("contigs", po::value(&o.contigs)->default_value(o.contigs)->value_name("C"), "contigs chr1..chrC")  //
      ("spacing", po::value(&o.mean_spacing)->default_value(o.mean_spacing)->value_name("BP"), "mean bp between sites")  //
      ("populations,k", po::value(&o.populations)->default_value(o.populations)->value_name("K"), "sub-populations")  //
      ("fst", po::value(&o.fst)->default_value(o.fst, "0.05")->value_name("F"), "Balding-Nichols Fst between sub-populations")  //
      ("ld-block", po::value(&o.ld_block)->default_value(o.ld_block)->value_name("B"), "sites per LD block (0: no LD)")  //
      ("founders", po::value(&o.founders)->default_value(o.founders)->value_name("H"), "founder haplotypes per LD block")  //
      ("min-af", po::value(&o.min_maf)->default_value(o.min_maf, "0.01")->value_name("F"), "lowest ancestral allele frequency")  //
      ("missing-rate", po::value(&o.missing_rate)->default_value(o.missing_rate, "0.01")->value_name("F"), "fraction of missing calls")  //
      ("multiallelic-rate", po::value(&o.multiallelic_rate)->default_value(o.multiallelic_rate, "0.01")->value_name("F"),
       "fraction of sites with two ALT alleles")  //
      ("indel-rate", po::value(&o.indel_rate)->default_value(o.indel_rate, "0.05")->value_name("F"), "fraction of indel sites")  //
      ("lowqual-rate", po::value(&o.lowqual_rate)->default_value(o.lowqual_rate, "0.01")->value_name("F"),
       "fraction of sites with FILTER=LowQual");
  po::options_description pheno("Phenotype");
  pheno.add_options()                                                                                 //
      ("trait", po::value(&o.trait)->default_value(o.trait)->value_name("T"), "binary (case/control) or quantitative")  //
      ("causal", po::value(&o.causal)->default_value(o.causal)->value_name("N"), "causal variants")  //
      ("heritability", po::value(&o.heritability)->default_value(o.heritability, "0.5")->value_name("H2"), "liability heritability")  //
      ("prevalence", po::value(&o.prevalence)->default_value(o.prevalence, "0.5")->value_name("F"), "fraction of cases")  //
      ("seed", po::value(&o.seed)->default_value(o.seed)->value_name("S"), "random seed");
  spec.groups.push_back(out);
  spec.groups.push_back(cohort);
  spec.groups.push_back(pheno);
  po::variables_map vm;
  if (!parse_stage_options(spec, call.args, vm, comm)) return false;
  apply_log_options(comm, spec.name, vm["verbosity"].as<std::string>(), vm["quiet"].as<bool>());
  if (prefix.empty()) throw UsageError("-o/--output PREFIX is required");
  if (output_type != "z" && output_type != "b") throw UsageError("-O/--output-type must be z or b");
  if (threads < 1) throw UsageError("-@/--threads must be at least 1");
  o.validate();
  comm.on_root([&] {
    const auto t0 = std::chrono::steady_clock::now();
    const std::string token = std::to_string(getpid());
    const auto f = sim::write_cohort(o, prefix, output_type == "b", threads, token, call.command_line);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    char buf[512];
    std::snprintf(buf, sizeof buf, "wrote %s (%lld samples x %lld sites), %s, %s in %.1f s", f.genotypes.c_str(),
                  static_cast<long long>(o.samples), static_cast<long long>(o.variants), f.phenotypes.c_str(),
                  f.truth.c_str(), s);
    log_info(buf);
  });
  return true;
}

}  // namespace genoforest::mpi
