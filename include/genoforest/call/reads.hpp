#pragma once
/// @file reads.hpp
/// Aligned reads for variant calling: a compact decoded form, the filters a caller applies, and a
/// checked, indexed BAM/CRAM source of one sample's reads by region (htslib).
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace genoforest::call {

/// One aligned read, decoded. Positions are 0-based reference coordinates.
struct AlnRead {
  std::int64_t pos = 0;       ///< first aligned reference base
  std::int64_t end = 0;       ///< one past the last aligned (M/=/X/D/N) reference base
  std::int64_t clip_beg = 0;  ///< pos minus the leading soft clip: where query base 0 would sit
  std::int64_t clip_end = 0;  ///< end plus the trailing soft clip
  std::vector<std::uint32_t> cigar;  ///< BAM encoding (length << 4 | op)
  std::string seq;                   ///< bases, upper case, "ACGTN" only
  std::vector<std::uint8_t> qual;    ///< phred base qualities (30 where the BAM has none)
  std::vector<std::uint8_t> baq;     ///< qual capped by BAQ where computed (see BamSample::fetch), else qual
  std::uint64_t name_hash = 0;       ///< identifies the template: mates share it
  std::uint8_t mapq = 0;
  bool read1 = true;                 ///< first of a pair, or unpaired
};

/// The reference bases [beg, beg + seq.size()) of one contig, upper case ('N' elsewhere).
struct RefSpan {
  std::int64_t beg = 0;
  std::string seq;
  [[nodiscard]] char at(std::int64_t p) const noexcept {
    const std::int64_t i = p - beg;
    return i < 0 || i >= static_cast<std::int64_t>(seq.size()) ? 'N' : seq[static_cast<std::size_t>(i)];
  }
};

/// Which reads a caller uses (bcftools mpileup's defaults, with a mapping-quality floor).
struct ReadFilter {
  int min_mapq = 0;               ///< reads below are skipped (MAPQ 0 reads carry no weight anyway)
  bool skip_improper_pairs = false;  ///< skip paired reads not flagged as properly paired
  int cap_mapq = 0;                  ///< > 0: cap MAPQ of reads with many mismatches (samtools -C; needs the reference)
  // Always skipped: unmapped, secondary, QC-failed and duplicate reads.
};

/// Sorted reads of one sample over one region, filtered.
class ReadStream {
 public:
  virtual ~ReadStream() = default;
  /// Fills `r` with the next read (by position); false at the end.
  virtual bool next(AlnRead& r) = 0;
};

/// A contig of the reference: name and length, from its .fai.
struct RefContig {
  std::string name;
  std::int64_t length = 0;
};

/// The contigs of an indexed FASTA (its .fai, built if absent). Throws InputError naming the file.
[[nodiscard]] std::vector<RefContig> reference_contigs(const std::filesystem::path& fasta);

/// Upper-case bases [beg, end) of a contig of an indexed FASTA (clipped to the contig). Loads the
/// index once per object. Throws InputError naming the file and region.
class ReferenceReader {
 public:
  explicit ReferenceReader(const std::filesystem::path& fasta);
  ~ReferenceReader();
  ReferenceReader(const ReferenceReader&) = delete;
  ReferenceReader& operator=(const ReferenceReader&) = delete;
  [[nodiscard]] std::string fetch(const std::string& contig, std::int64_t beg, std::int64_t end) const;

 private:
  std::filesystem::path path_;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// One sample's coordinate-sorted, indexed BAM or CRAM.
///
/// Opening checks everything a run would otherwise trip over later: the file opens and is
/// complete (BGZF end-of-file marker), it has an index, every contig of the reference is in its
/// header with the same length, and its read groups name exactly one sample (SM). The message of
/// each InputError names the file and what to do.
class BamSample {
 public:
  /// `warn`: log the warnings of the checks (a file without @RG SM); off for a reopening.
  BamSample(const std::filesystem::path& path, const std::filesystem::path& reference, const std::vector<RefContig>& contigs,
            bool warn = true);
  ~BamSample();
  BamSample(BamSample&&) noexcept;
  BamSample& operator=(BamSample&&) noexcept;

  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }
  /// The sample name of the read groups (the file's stem when the BAM has no @RG SM).
  [[nodiscard]] const std::string& sample() const noexcept { return sample_; }
  /// Reads overlapping [beg, end) of `contig`, sorted by position, filtered. One stream at a time
  /// per object. Stream errors (a truncated block, a corrupt record) throw InputError naming the
  /// file and region. With `ref` (covering the reads), reads that may be misaligned locally (an
  /// indel, a soft clip, or two or more mismatches of quality >= 13) get BAQ-capped qualities in
  /// AlnRead::baq (htslib's sam_prob_realn, as bcftools mpileup); the rest keep theirs.
  [[nodiscard]] std::unique_ptr<ReadStream> fetch(const std::string& contig, std::int64_t beg, std::int64_t end,
                                                  const ReadFilter& filter, const RefSpan* ref = nullptr);

 private:
  std::filesystem::path path_;
  std::string sample_;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// A 64-bit hash of a read name (FNV-1a): mates share it.
[[nodiscard]] std::uint64_t hash_name(const char* name) noexcept;

}  // namespace genoforest::call
