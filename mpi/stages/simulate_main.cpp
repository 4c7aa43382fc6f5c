#include <chrono>
#include <optional>

#include <fstream>

#include "cli.hpp"
#include "genoforest/core/files.hpp"
#include "genoforest/core/log.hpp"
#include "genoforest/core/text.hpp"
#include "genoforest/sim/cohort.hpp"
#include "genoforest/sim/reads.hpp"
#include "scheduler.hpp"
#include "stages/features_stage.hpp"
#include "stages/stages.hpp"

#include <unistd.h>

namespace genoforest::mpi {

namespace {

std::string sample_name(std::int64_t i) {
  char name[32];
  std::snprintf(name, sizeof name, "S%06lld", static_cast<long long>(i + 1));
  return name;
}

/// One task per sample: its reads. Then rank 0 writes the sample sheet.
void simulate_reads_stage(const Comm& comm, const sim::CohortOptions& o, const sim::ReadOptions& ro,
                          const std::string& prefix, const std::string& ref_path, const std::string& token) {
  const auto t0 = std::chrono::steady_clock::now();
  const sim::Reference ref = sim::load_reference(ref_path);
  const std::string planted = prefix + ".planted.vcf.gz";
  auto fastq = [&](std::int64_t i, int mate) { return prefix + "." + sample_name(i) + "_" + std::to_string(mate) + ".fq.gz"; };
  std::int64_t reads = 0, bases = 0;
  Progress progress(o.planted_samples, "samples");
  TaskSet tasks;
  tasks.begin = 0;
  tasks.end = o.planted_samples;
  tasks.describe = [&](std::int64_t i) { return "reads of " + sample_name(i); };
  tasks.run = [&](std::int64_t i) {
    AtomicOutput f1(fastq(i, 1), token), f2(fastq(i, 2), token);
    const auto c = sim::simulate_reads(ref, planted, sample_name(i), ro, o.seed, f1.tmp(), f2.tmp());
    f1.commit();
    if (!ro.single_end) f2.commit();
    return std::to_string(c.reads) + " " + std::to_string(c.bases);
  };
  tasks.commit = [&](std::int64_t, std::string&& bytes) {
    const auto f = split(bytes, ' ');
    reads += parse_int(f.at(0)).value_or(0);
    bases += parse_int(f.at(1)).value_or(0);
  };
  tasks.progress = &progress;
  run_tasks(comm, tasks);
  comm.on_root([&] {
    // Labels from the phenotype table just written: sample_id, label, population.
    std::ifstream ph(prefix + ".pheno.tsv");
    std::string line;
    std::getline(ph, line);
    std::string sheet = "sample_id\tfastq_1\tfastq_2\tlabel\n";
    auto base = [](const std::string& p) { return std::filesystem::path(p).filename().string(); };
    for (std::int64_t i = 0; i < o.planted_samples && std::getline(ph, line); ++i) {
      const auto f = split(line, '\t');
      sheet += sample_name(i) + "\t" + base(fastq(i, 1)) + "\t" + (ro.single_end ? "" : base(fastq(i, 2))) + "\t" +
               std::string(f.size() > 1 ? f[1] : "") + "\n";
    }
    write_atomically(prefix + ".samples.tsv", sheet);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    char buf[512];
    std::snprintf(buf, sizeof buf, "wrote reads of %lld samples (%lld reads, %.1f Mbases) and %s.samples.tsv in %.1f s",
                  static_cast<long long>(o.planted_samples), static_cast<long long>(reads), static_cast<double>(bases) / 1e6,
                  prefix.c_str(), s);
    log_info(buf);
  });
}

/// -O h: every rank draws the same cohort model; rank 0 writes the phenotype and truth tables
/// (from the causal sites alone), then `features` runs on the drawn columns, regions spread over
/// the ranks as for a VCF.
void simulate_store(const Comm& comm, const sim::CohortOptions& o, const std::string& prefix,
                    const std::string& command_line) {
  const sim::Cohort cohort(o, nullptr, command_line);
  FeaturesOptions f;
  f.source = &cohort;
  f.output = prefix + ".h5";
  f.phenotypes = prefix + ".pheno.tsv";
  f.command_line = command_line;
  comm.on_root([&] {
    f.validate();
    check_outputs({}, {{"-o/--output", f.output}, {"-o/--output", f.phenotypes}, {"-o/--output", prefix + ".truth.tsv"}});
    std::string token = temp_token();
    sim::write_phenotype_tables(cohort, prefix, token);
    log_info("wrote " + prefix + ".pheno.tsv and " + prefix + ".truth.tsv; drawing " + std::to_string(o.samples) +
             " samples x " + std::to_string(o.variants) + " sites into " + f.output + " over " +
             std::to_string(comm.size()) + " rank(s)");
  });
  run_features(comm, f);
}

}  // namespace

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
      "With --reads, the variants sit on a reference (--reference, or a random genome with repeats written as\n"
      "PREFIX.ref.fa) and the first --read-samples samples get sequencing reads: PREFIX.SAMPLE_1.fq.gz and\n"
      "_2.fq.gz, PREFIX.planted.vcf.gz (their true genotypes) and PREFIX.samples.tsv (a sample sheet for align).\n"
      "With -O h, the genotypes go straight into a feature store, PREFIX.h5 (what 'features' would make of\n"
      "PREFIX.vcf.gz with PREFIX.pheno.tsv), drawn and written by all ranks in parallel: no VCF is written.\n"
      "Deterministic for a seed, for any rank count. A VCF/BCF is written by rank 0; samples' reads and a\n"
      "store's blocks of variants are spread over the ranks.";
  spec.usage = "[options] -o PREFIX";
  spec.renamed = {{'m', "variants", "--variants"}, {'k', "populations", "--populations"}};
  po::options_description out("Output");
  out.add_options()                                                                                          //
      ("output,o", po::value(&prefix)->value_name("PREFIX"), "output prefix")                                //
      ("output-type,O", po::value(&output_type)->default_value("z")->value_name("z|b|h"),
       "z: bgzipped VCF + .tbi; b: BCF + .csi; h: HDF5 feature store")  //
      ("threads,@", po::value(&threads)->default_value(1)->value_name("N"), "compression threads (same output for any N)");
  po::options_description cohort("Cohort");
  cohort.add_options()                                                                          //
      ("samples,n", po::value(&o.samples)->default_value(o.samples)->value_name("N"), "samples")  //
      ("variants", po::value(&o.variants)->default_value(o.variants)->value_name("M"), "sites")  //
      ("contigs", po::value(&o.contigs)->default_value(o.contigs)->value_name("C"), "contigs chr1..chrC")  //
      ("spacing", po::value(&o.mean_spacing)->default_value(o.mean_spacing)->value_name("BP"), "mean bp between sites")  //
      ("populations", po::value(&o.populations)->default_value(o.populations)->value_name("K"), "sub-populations")  //
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
  bool reads = false;
  std::string reference;
  sim::ReadOptions ro;
  po::options_description rd("Reads (with --reads)");
  rd.add_options()                                                                                    //
      ("reads", po::bool_switch(&reads), "also simulate sequencing reads")                            //
      ("reference", po::value(&reference)->value_name("FASTA"), "put the variants on this reference (default: a random genome)")  //
      ("read-samples", po::value(&o.planted_samples)->default_value(0)->value_name("N"),
       "samples that get reads, the first N (0: all)")  //
      ("coverage", po::value(&ro.coverage)->default_value(ro.coverage, "30")->value_name("X"), "mean depth")  //
      ("read-length", po::value(&ro.read_length)->default_value(ro.read_length)->value_name("BP"), "read length")  //
      ("insert-mean", po::value(&ro.insert_mean)->default_value(ro.insert_mean, "350")->value_name("BP"), "mean fragment length")  //
      ("insert-sd", po::value(&ro.insert_sd)->default_value(ro.insert_sd, "50")->value_name("BP"), "fragment length standard deviation")  //
      ("error-5p", po::value(&ro.error_5p)->default_value(ro.error_5p, "0.0002")->value_name("P"), "substitution rate at a read's first base")  //
      ("error-3p", po::value(&ro.error_3p)->default_value(ro.error_3p, "0.01")->value_name("P"), "substitution rate at its last base")  //
      ("indel-error-rate", po::value(&ro.indel_error_rate)->default_value(ro.indel_error_rate, "2e-05")->value_name("P"),
       "1-bp insertion/deletion errors per base")  //
      ("single-end", po::bool_switch(&ro.single_end), "read 1 only");
  spec.groups.push_back(out);
  spec.groups.push_back(cohort);
  spec.groups.push_back(pheno);
  spec.groups.push_back(rd);
  po::variables_map vm;
  if (!start_stage(spec, call, vm, comm)) return false;
  if (prefix.empty()) throw UsageError("-o/--output PREFIX is required");
  if (output_type != "z" && output_type != "b" && output_type != "h") throw UsageError("-O/--output-type must be z, b or h");
  if (output_type == "h" && reads) {
    throw UsageError("--reads needs the cohort as a VCF (its reads are drawn from PREFIX.planted.vcf.gz): drop -O h");
  }
  if (threads < 1) throw UsageError("-@/--threads must be at least 1");
  if (!reads && (!reference.empty() || !vm["read-samples"].defaulted())) {
    throw UsageError("--reference and --read-samples need --reads");
  }
  if (reads) {
    if (o.planted_samples == 0) o.planted_samples = o.samples;
    ro.validate();
  }
  o.validate();
  if (output_type == "h") {
    simulate_store(comm, o, prefix, call.command_line);
    return true;
  }
  std::string token = temp_token();
  comm.bcast(token);
  const std::string ref_path = reference.empty() ? prefix + ".ref.fa" : reference;
  comm.on_root([&] {
    const auto t0 = std::chrono::steady_clock::now();
    sim::Reference ref;
    if (!reference.empty()) ref = sim::load_reference(reference);
    std::optional<AtomicOutput> fa, fai;
    if (reads && reference.empty()) {
      fa.emplace(ref_path, token);
      fai.emplace(ref_path + ".fai", token);
    }
    const auto f = sim::write_cohort(o, prefix, output_type == "b", threads, token, call.command_line, reads ? &ref : nullptr);
    if (fa) {
      sim::write_reference(ref, fa->tmp(), fai->tmp());
      fa->commit();
      fai->commit();
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    char buf[512];
    std::snprintf(buf, sizeof buf, "wrote %s (%lld samples x %lld sites), %s, %s in %.1f s", f.genotypes.c_str(),
                  static_cast<long long>(o.samples), static_cast<long long>(o.variants), f.phenotypes.c_str(),
                  f.truth.c_str(), s);
    log_info(buf);
  });
  if (reads) simulate_reads_stage(comm, o, ro, prefix, ref_path, token);
  return true;
}

}  // namespace genoforest::mpi
