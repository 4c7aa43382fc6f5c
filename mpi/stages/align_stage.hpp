#pragma once
/// @file align_stage.hpp
/// `genoforest index` and `genoforest align`: reads to one sorted, indexed, duplicate-marked BAM
/// per sample.
///
/// align runs four task sets over the ranks (1 and 2 are one growing set: a sample's split task
/// announces each chunk as it writes it, and the chunk is aligned at once on any rank):
///  1. split (one task per sample): read the FASTQ files, check mates, QC, cut the kept reads into
///     batches of --batch-bases bases (bwa mem -K's rule) and chunks of whole batches, each a
///     temporary FASTQ;
///  2. align (one task per chunk): BWA-MEM batch by batch (pairs resolved, insert size estimated
///     per batch, the read offset passed in as bwa does), records sorted into a temporary BAM,
///     duplicate keys into a side file;
///  3. duplicates (one task per sample): decide them over the whole sample;
///  4. pieces (about 256 in all): a run of whole genome bins of one sample, merged from
///     its chunks, duplicates marked, compressed (align::write_piece);
///  5. output (one task per sample): header + pieces into SAMPLE.bam (or .cram), its index and
///     SAMPLE.qc.json.
/// Batches, not ranks or chunks, fix bwa's results, and the sort key is total: the output is
/// identical for any rank count and chunk size; the BAM starts a block at every bin, so its bytes
/// do not depend on how it was cut into pieces either.
#include <string>

#include "comm.hpp"
#include "genoforest/align/bwa.hpp"
#include "genoforest/align/qc.hpp"

namespace genoforest::mpi {

struct IndexOptions {
  std::string fasta;
  std::string prefix;  ///< default: the FASTA's path
  bool force = false;
};

void run_index(const Comm& comm, const IndexOptions& opt);

struct AlignOptions {
  std::string samples;    ///< sample sheet
  std::string reference;  ///< FASTA; its bwa index is at index_prefix
  std::string index_prefix;
  std::string output_dir;
  std::string format = "bam";
  bool qc = true;
  bool mark_duplicates = true;
  std::int64_t chunk_bases = 10'000'000;
  int compression_level = 1;  ///< BAM (BGZF) level, 0-9
  std::int64_t piece_records = 0;  ///< records per merge piece; 0: about 256 pieces in all
  bool share_index = true;  ///< one index per node in shared memory (see shared_index.hpp)
  align::QcOptions qc_options;
  align::BwaOptions bwa;
  std::string command_line;
  /// Throws UsageError naming the option.
  void validate() const;
};

void run_align(const Comm& comm, const AlignOptions& opt);

}  // namespace genoforest::mpi
