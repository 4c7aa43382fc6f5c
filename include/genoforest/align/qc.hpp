#pragma once
/// @file qc.hpp
/// Read QC before alignment: 3' quality trimming, adapter trimming, and filters.
///
/// Per read, in this order (as cutadapt and bwa -q do):
///  1. quality trimming of the 3' tail: the cut that maximises sum(cutoff - q) over the removed
///     tail (bwa's and cutadapt's algorithm);
///  2. adapter trimming: the leftmost position where the adapter's prefix matches the rest of the
///     read with at most `adapter_error_rate` mismatches per base (N matches anything), over at
///     least `adapter_min_overlap` bases; the read is cut there;
///  3. filters on what remains: length < min_length, N fraction > max_n_fraction, mean quality
///     < min_mean_quality. A pair fails when either mate fails, and is counted under the first
///     reason of read 1, else of read 2.
#include <cstdint>
#include <string>

#include "genoforest/align/fastq.hpp"

namespace genoforest::align {

struct QcOptions {
  int trim_quality = 20;                 ///< 0 disables quality trimming
  std::string adapter = "AGATCGGAAGAGC";  ///< Illumina TruSeq; empty disables adapter trimming
  int adapter_min_overlap = 3;
  double adapter_error_rate = 0.1;
  int min_length = 30;                   ///< 0 disables
  double max_n_fraction = 0.1;           ///< 1 disables
  double min_mean_quality = 20.0;        ///< 0 disables
  /// Throws UsageError naming the option.
  void validate() const;
};

enum class QcFail : std::uint8_t { kNone = 0, kTooShort, kTooManyN, kLowQuality };

/// Counts for the QC report; sums exactly over chunks.
struct QcCounts {
  std::int64_t reads_in = 0, bases_in = 0, q30_bases_in = 0, quality_sum_in = 0;
  std::int64_t reads_out = 0, bases_out = 0, q30_bases_out = 0, quality_sum_out = 0;
  std::int64_t quality_trimmed_bases = 0;
  std::int64_t adapter_trimmed_reads = 0, adapter_trimmed_bases = 0;
  std::int64_t too_short = 0, too_many_n = 0, low_quality = 0;  ///< reads removed, by reason
  void add(const QcCounts& o);
  /// The counts and the derived fractions as a JSON object (no trailing newline).
  [[nodiscard]] std::string to_json(int indent) const;

  template <class Archive>
  void serialize(Archive& ar, unsigned /*version*/) {
    ar & reads_in & bases_in & q30_bases_in & quality_sum_in & reads_out & bases_out & q30_bases_out & quality_sum_out &
        quality_trimmed_bases & adapter_trimmed_reads & adapter_trimmed_bases & too_short & too_many_n & low_quality;
  }
};

/// Trims `rec` in place and returns why it fails the filters (kNone: it passes). Counts the
/// trimming; the caller counts reads in/out through `account`.
QcFail trim_and_check(FastqRecord& rec, const QcOptions& opt, QcCounts& counts);

/// Counts a read as input (before trimming).
void account_input(const FastqRecord& rec, QcCounts& counts);
/// Counts a read as output (after trimming, passing).
void account_output(const FastqRecord& rec, QcCounts& counts);
/// Counts a removed read under its reason.
void account_removed(QcFail reason, QcCounts& counts);

/// The 3' quality-trimming cut: the length to keep.
[[nodiscard]] std::size_t quality_trim_length(const std::string& qual, int cutoff);
/// Where the adapter starts in `seq` (seq.size() when absent).
[[nodiscard]] std::size_t adapter_start(const std::string& seq, const std::string& adapter, int min_overlap, double error_rate);

}  // namespace genoforest::align
