#pragma once
/// @file call_stage.hpp
/// `genoforest call`: joint variant calling of many samples' BAM/CRAM files into one indexed VCF
/// or BCF.
///
/// Rank 0 checks every input (reference, each BAM's index, contigs and sample name), then splits
/// the genome (or the requested regions) into regions of --region-size bp. Regions are handed to
/// the ranks; each calls all samples over its region (call/caller.hpp) and sends the calls to
/// rank 0, which writes them in genome order into the output, indexed while written, under a
/// temporary name renamed at the end. A site depends only on the reads around it, so the output
/// is identical for any rank count and region size.
#include <string>
#include <vector>

#include "comm.hpp"
#include "genoforest/call/caller.hpp"

namespace genoforest::mpi {

struct CallStageOptions {
  std::vector<std::string> bams;  ///< one per sample
  std::string bam_list;           ///< file with one BAM path per line (added to bams)
  std::string reference;
  std::string output;             ///< .vcf.gz or .bcf
  std::string regions;            ///< "chr1:1-1000,chr2"
  std::string regions_file;       ///< BED
  std::string samples;       ///< -s: sample names (^ excludes)
  std::string samples_file;  ///< -S: sample list file (^ excludes)
  std::int64_t region_size = 500'000;
  call::CallOptions caller;
  std::string command_line;
  /// Throws UsageError naming the option.
  void validate() const;
};

void run_call(const Comm& comm, CallStageOptions opt);

}  // namespace genoforest::mpi
