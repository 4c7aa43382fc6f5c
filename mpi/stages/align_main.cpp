#include "cli.hpp"
#include "stages/align_stage.hpp"
#include "stages/stages.hpp"

namespace genoforest::mpi {

bool index_main(const Comm& comm, const StageCall& call) {
  IndexOptions o;
  StageSpec spec;
  spec.name = "index";
  spec.purpose =
      "Builds the BWA index (PREFIX.amb .ann .bwt .pac .sa, through the bwa library) and the .fai of a reference\n"
      "FASTA. Skips what is already up to date (newer than the FASTA). Runs on rank 0.";
  spec.usage = "[options] <ref.fa>";
  spec.renamed = {{'p', "prefix", "--prefix"}};
  po::options_description g("Index");
  g.add_options()                                                                                    //
      ("reference", po::value(&o.fasta)->value_name("FASTA"), "reference FASTA, plain or gzip (positional)")  //
      ("prefix", po::value(&o.prefix)->value_name("PREFIX"), "index prefix (default: the FASTA's path, as bwa index)")  //
      ("force", po::bool_switch(&o.force), "rebuild even when up to date");
  spec.groups.push_back(g);
  spec.positional.add("reference", 1);
  po::variables_map vm;
  if (!start_stage(spec, call, vm, comm)) return false;
  if (o.fasta.empty()) throw UsageError("a reference FASTA is required");
  run_index(comm, o);
  return true;
}

bool align_main(const Comm& comm, const StageCall& call) {
  AlignOptions o;
  bool no_qc = false, no_markdup = false, no_shared_index = false;
  StageSpec spec;
  spec.name = "align";
  spec.purpose =
      "QC and alignment of each sample's reads: 3' quality and adapter trimming, length/N/quality filters, then\n"
      "BWA-MEM through the bwa library in-process (pairs resolved as bwa mem does). Writes per sample a\n"
      "coordinate-sorted BAM (or CRAM) with @RG and @PG, its index, duplicates marked, and SAMPLE.qc.json.\n"
      "Samples and chunks of reads are handed to the ranks; the BAMs are identical for any rank count.";
  spec.usage = "[options] -S <sheet.tsv> -f <ref.fa> -o <dir>";
  spec.renamed = {{'s', "samples", "-S"}, {'r', "reference", "-f"}, {'t', "threads", "-@"}};
  po::options_description io("Input and output");
  io.add_options()  //
      ("samples,S", po::value(&o.samples)->value_name("FILE"),
       "sample sheet TSV: sample_id, fastq_1, fastq_2 (empty: single-end)[, label, read_group, library, platform, "
       "platform_unit, center]")  //
      ("reference,f", po::value(&o.reference)->value_name("FASTA"), "reference FASTA, indexed by 'genoforest index'")  //
      ("index-prefix", po::value(&o.index_prefix)->value_name("PREFIX"), "bwa index prefix (default: the FASTA's path)")  //
      ("output-dir,o", po::value(&o.output_dir)->value_name("DIR"), "folder for SAMPLE.bam, SAMPLE.bam.bai, SAMPLE.qc.json")  //
      ("output-format", po::value(&o.format)->default_value("bam")->value_name("F"), "bam or cram")  //
      ("compression-level", po::value(&o.compression_level)->default_value(o.compression_level)->value_name("N"),
       "BAM compression level, 0-9: 0 stores; 1-3 are ISA-L igzip's fast levels (1: twice as fast as libdeflate's "
       "level 1, 4-6% larger); 4-9 are libdeflate's, as htslib (6: samtools' default, 6-13% smaller than 1, 4-7x the time)")  //
      ("no-markdup", po::bool_switch(&no_markdup), "do not mark duplicates");
  const align::QcOptions d;
  po::options_description qc("Read QC (before alignment)");
  qc.add_options()  //
      ("no-qc", po::bool_switch(&no_qc), "align the reads as they are: no trimming, no filters")  //
      ("trim-quality", po::value(&o.qc_options.trim_quality)->default_value(d.trim_quality)->value_name("Q"),
       "trim 3' tails below this quality (bwa -q / cutadapt -q algorithm; 0: off)")  //
      ("adapter", po::value(&o.qc_options.adapter)->default_value(d.adapter)->value_name("SEQ"),
       "3' adapter to trim (empty: off)")  //
      ("adapter-min-overlap", po::value(&o.qc_options.adapter_min_overlap)->default_value(d.adapter_min_overlap)->value_name("N"),
       "shortest adapter match trimmed at a read's end")  //
      ("adapter-error-rate", po::value(&o.qc_options.adapter_error_rate)->default_value(d.adapter_error_rate, "0.1")->value_name("F"),
       "mismatches allowed per adapter base")  //
      ("min-length", po::value(&o.qc_options.min_length)->default_value(d.min_length)->value_name("N"),
       "drop reads (pairs) shorter than N after trimming")  //
      ("max-n-fraction", po::value(&o.qc_options.max_n_fraction)->default_value(d.max_n_fraction, "0.1")->value_name("F"),
       "drop reads with a larger fraction of N")  //
      ("min-mean-quality", po::value(&o.qc_options.min_mean_quality)->default_value(d.min_mean_quality, "20")->value_name("Q"),
       "drop reads whose mean base quality is lower");
  po::options_description aln("Alignment (BWA-MEM)");
  aln.add_options()  //
      ("threads,@", po::value(&o.bwa.threads)->default_value(1)->value_name("N"), "bwa threads per rank (also CRAM compression threads)")  //
      ("batch-bases", po::value(&o.bwa.batch_bases)->default_value(o.bwa.batch_bases)->value_name("N"),
       "bases per bwa batch, as bwa mem -K (insert sizes are estimated per batch; fixes the output)")  //
      ("chunk-bases", po::value(&o.chunk_bases)->default_value(o.chunk_bases)->value_name("N"),
       "bases per task handed to a rank, rounded up to whole batches (does not change the output)")  //
      ("piece-records", po::value(&o.piece_records)->default_value(0)->value_name("N"),
       "records per merge task, in whole 64 kb bins (0: about 256 tasks in all, of 50,000 to 4 million records; "
       "does not change the output)")  //
      ("no-shared-index", po::bool_switch(&no_shared_index),
       "a copy of the bwa index per rank, on huge pages (default: one per node in shared memory, on huge pages only "
       "where the system allows them for shared memory)")  //
      ("min-seed-length", po::value(&o.bwa.min_seed_length)->default_value(o.bwa.min_seed_length)->value_name("N"), "bwa mem -k")  //
      ("min-score", po::value(&o.bwa.min_score)->default_value(o.bwa.min_score)->value_name("N"), "bwa mem -T: minimum score to output");
  spec.groups.push_back(io);
  spec.groups.push_back(qc);
  spec.groups.push_back(aln);
  po::variables_map vm;
  if (!start_stage(spec, call, vm, comm)) return false;
  o.qc = !no_qc;
  o.mark_duplicates = !no_markdup;
  o.share_index = !no_shared_index;
  o.command_line = call.command_line;
  o.validate();
  run_align(comm, o);
  return true;
}

}  // namespace genoforest::mpi
