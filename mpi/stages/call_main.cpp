#include "cli.hpp"
#include "stages/call_stage.hpp"
#include "stages/stages.hpp"

namespace genoforest::mpi {

bool call_main(const Comm& comm, const StageCall& call) {
  CallStageOptions o;
  auto& c = o.caller;
  const call::CallOptions d;
  StageSpec spec;
  spec.name = "call";
  spec.purpose =
      "Joint variant calling: a multi-sample pileup of sorted, indexed BAM/CRAM files (one sample each, named by\n"
      "its @RG SM) over regions of the genome, per-sample genotype likelihoods (SNPs from base and mapping qualities,\n"
      "indels and SNPs next to them from reads realigned to local haplotypes), allele frequencies estimated jointly\n"
      "across samples, diploid genotypes. Candidates are judged per sample, so a variant of one sample among many is\n"
      "kept. Writes one bgzipped VCF (+ .tbi) or BCF (+ .csi) with GT:GQ:PL:DP:AD per sample and QUAL, DP, AC, AN, AF,\n"
      "MQ per site. Regions are handed to the ranks; the output is identical for any rank count and region size.";
  spec.usage = "[options] -f <ref.fa> -o <out.vcf.gz|out.bcf> <sample1.bam> [sample2.bam ...]";
  po::options_description io("Input and output");
  io.add_options()  //
      ("bam", po::value(&o.bams)->value_name("FILE"), "sorted, indexed BAM or CRAM, one per sample (positional, repeatable)")  //
      ("bam-list,b", po::value(&o.bam_list)->value_name("FILE"), "file with one BAM/CRAM path per line")  //
      ("reference,f", po::value(&o.reference)->value_name("FASTA"), "the reference the reads were aligned to (with its .fai)")  //
      ("output,o", po::value(&o.output)->value_name("FILE"), "OUT.vcf.gz (bgzipped VCF + .tbi), OUT.bcf (BCF + .csi), or - (plain VCF on standard output, no index)")  //
      ("samples,s", po::value(&o.samples)->value_name("LIST"),
       "only the BAMs of these samples (@RG SM), comma-separated; ^A,B: all but these (as bcftools)")  //
      ("samples-file,S", po::value(&o.samples_file)->value_name("FILE"),
       "only the samples of this list (one per line, or FID IID); ^FILE: all but these")  //
      ("regions,r", po::value(&o.regions)->value_name("LIST"), "only these regions: chr, chr:beg-end (1-based), comma-separated")  //
      ("regions-file,R", po::value(&o.regions_file)->value_name("FILE"), "only the regions of a BED file");
  po::options_description reads("Reads");
  reads.add_options()  //
      ("min-MQ", po::value(&c.filter.min_mapq)->default_value(d.filter.min_mapq)->value_name("Q"),
       "skip reads with a lower mapping quality (unmapped, secondary, QC-failed and duplicate reads are always skipped)")  //
      ("min-BQ", po::value(&c.min_baseq)->default_value(d.min_baseq)->value_name("Q"), "SNP evidence: skip bases with a lower base quality")  //
      ("skip-improper-pairs", po::bool_switch(&c.filter.skip_improper_pairs), "skip paired reads not flagged as properly paired")  //
      ("adjust-MQ", po::value(&c.filter.cap_mapq)->default_value(d.filter.cap_mapq)->value_name("C"),
       "cap the mapping quality of reads with many mismatches, as samtools/bcftools -C (50 for bwa; 0: off)");
  po::options_description cand("Candidate alleles (judged per sample, then pooled)");
  cand.add_options()  //
      ("min-alt-reads", po::value(&c.min_alt_reads)->default_value(d.min_alt_reads)->value_name("N"),
       "a sample with N reads of an allele ...")  //
      ("min-alt-fraction", po::value(&c.min_alt_fraction)->default_value(d.min_alt_fraction, "0.05")->value_name("F"),
       "... making at least this share of its depth makes it a candidate")  //
      ("min-pooled-alt-reads", po::value(&c.min_pooled_alt_reads)->default_value(d.min_pooled_alt_reads)->value_name("N"),
       "so do N reads pooled over all samples ...")  //
      ("min-pooled-alt-fraction", po::value(&c.min_pooled_alt_fraction)->default_value(d.min_pooled_alt_fraction, "0.01")->value_name("F"),
       "... making at least this share of the pooled depth")  //
      ("max-alt-snp", po::value(&c.max_alt_snp)->default_value(d.max_alt_snp)->value_name("N"), "alternative alleles kept per SNP site")  //
      ("max-alt-indel", po::value(&c.max_alt_indel)->default_value(d.max_alt_indel)->value_name("N"), "alternative alleles kept per indel site")  //
      ("indel-context", po::value(&c.indel_context)->default_value(d.indel_context)->value_name("BP"),
       "SNP and indel candidates this close to an indel are scored on haplotypes with it");
  po::options_description model("Model and output");
  model.add_options()  //
      ("snp-prior", po::value(&c.snp_theta)->default_value(d.snp_theta, "0.001")->value_name("P"), "prior probability of a SNP site (QUAL)")  //
      ("indel-prior", po::value(&c.indel_theta)->default_value(d.indel_theta, "0.0001")->value_name("P"), "prior probability of an indel site")  //
      ("tandem-qual", po::value(&c.tandem_qual)->default_value(d.tandem_qual, "200")->value_name("Q"),
       "repeat slippage: a read shows another length of an L-bp repeat with error quality min(40, Q * |indel length| / L)")  //
      ("min-qual", po::value(&c.min_qual)->default_value(d.min_qual, "3")->value_name("Q"), "do not write sites with a lower QUAL")  //
      ("low-qual", po::value(&c.low_qual)->default_value(d.low_qual, "10")->value_name("Q"), "FILTER LowQual below this QUAL (PASS above)");
  po::options_description perf("Work division");
  perf.add_options()  //
      ("region-size", po::value(&o.region_size)->default_value(o.region_size)->value_name("BP"),
       "bp per task handed to a rank (does not change the output)");
  spec.groups.push_back(io);
  spec.groups.push_back(reads);
  spec.groups.push_back(cand);
  spec.groups.push_back(model);
  spec.groups.push_back(perf);
  spec.positional.add("bam", -1);
  po::variables_map vm;
  if (!start_stage(spec, call, vm, comm)) return false;
  o.command_line = call.command_line;
  o.validate();
  run_call(comm, std::move(o));
  return true;
}

}  // namespace genoforest::mpi
