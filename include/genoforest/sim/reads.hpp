#pragma once
/// @file reads.hpp
/// Simulated sequencing reads of one sample: paired-end (or single-end) FASTQ from the sample's
/// two haplotypes, with an Illumina-like error model.
///
/// Haplotypes: the reference with the sample's phased genotypes of a truth VCF applied (SNPs,
/// insertions, deletions, multi-allelic sites). Fragments: a haplotype picked at random, a length
/// from N(insert_mean, insert_sd) (at least 50 bp), a start uniform along the contig, either
/// strand; read 1 from one end, read 2 reverse-complemented from the other; a fragment shorter than
/// the read runs into the Illumina adapter. Errors: substitutions with a probability that rises
/// with the fourth power of the position, from `error_5p` at the first base to `error_3p` at the last; base qualities are
/// that probability in Phred (±2), and 2-15 where an error was made; single-base insertions and
/// deletions at `indel_error_rate` per base; N (quality 2) at `n_rate`.
/// Deterministic for (seed, sample): the same files on any machine and any rank count.
#include <cstdint>
#include <filesystem>
#include <string>

#include "genoforest/sim/reference.hpp"

namespace genoforest::sim {

/// The 3' adapter of Illumina TruSeq libraries, which reads run into past a short fragment.
inline constexpr const char* kTruSeqAdapter = "AGATCGGAAGAGCACACGTCTGAACTCCAGTCAC";

struct ReadOptions {
  double coverage = 30.0;           ///< mean depth over the genome (both reads of a pair count)
  int read_length = 150;            ///< bases per read
  double insert_mean = 350.0;       ///< fragment length mean
  double insert_sd = 50.0;          ///< fragment length standard deviation
  double error_5p = 0.0002;         ///< substitution probability at a read's first base
  double error_3p = 0.01;           ///< ... and at its last base
  double indel_error_rate = 2e-5;   ///< per-base probability of a 1-bp insertion or deletion error
  double n_rate = 2e-4;             ///< per-base probability of an N call
  bool single_end = false;          ///< read 1 only
  /// Throws UsageError naming the option.
  void validate() const;
};

/// What simulate_reads wrote.
struct ReadCounts {
  std::int64_t reads = 0;  ///< sequences (a pair counts 2)
  std::int64_t bases = 0;
};

/// Writes the reads of `sample` (a sample of `truth_vcf`, whose contigs must be those of `ref`)
/// to gzip FASTQ `fastq_1` (and `fastq_2` unless single-end). Read names are SAMPLE.N.
/// Throws InputError/InconsistentInputError naming the file, IoError for a write failure.
ReadCounts simulate_reads(const Reference& ref, const std::filesystem::path& truth_vcf, const std::string& sample,
                          const ReadOptions& opt, std::uint64_t seed, const std::filesystem::path& fastq_1,
                          const std::filesystem::path& fastq_2);

}  // namespace genoforest::sim
