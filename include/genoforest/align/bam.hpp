#pragma once
/// @file bam.hpp
/// From bwa's SAM lines to one coordinate-sorted BAM/CRAM per sample, with duplicates marked.
///
/// A chunk of reads becomes one sorted temporary BAM (ChunkBuilder). Every record carries two
/// temporary tags that make the order total and independent of how reads were chunked: xp (the
/// template's index in the sample) and xl (the line's index among the template's SAM lines).
/// Order: reference (unmapped last), position, strand, xp, xl - samtools sort's order with ties
/// broken by input order. merge_chunks() merges the chunks of a sample, marks duplicates and
/// drops the temporary tags.
///
/// Duplicates (Picard MarkDuplicates' rules): a template's key is the unclipped 5' end (reference,
/// position, strand) of each mapped primary read. Pairs with both mates mapped and the same two
/// ends are duplicates of the one with the highest sum of base qualities >= 15 (ties: the earlier
/// template). A mapped read whose mate is unmapped, or a single-end read, is a fragment: it is a
/// duplicate when a pair has an end at its position, else when a better fragment shares it.
/// Every record of a duplicate read (secondary and supplementary too) gets flag 0x400; unmapped
/// reads are never marked.
#include <htslib/sam.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace genoforest::align {

/// What the aligned output holds; sums over chunks.
struct AlignCounts {
  std::int64_t records = 0, primary = 0, mapped = 0, properly_paired = 0, secondary = 0, supplementary = 0,
               duplicates = 0;
  void add(const AlignCounts& o);
  [[nodiscard]] std::string to_json(int indent) const;
  template <class Archive>
  void serialize(Archive& ar, unsigned /*version*/) {
    ar & records & primary & mapped & properly_paired & secondary & supplementary & duplicates;
  }
};

/// One template's duplicate-marking key (see the file comment).
struct DupSignature {
  std::uint32_t templ = 0;
  std::int32_t tid1 = 0, pos1 = 0, tid2 = -1, pos2 = -1;
  std::uint8_t rev1 = 0, rev2 = 0;
  std::uint8_t fragment = 0;  ///< 1: a fragment (only end 1 is set)
  std::uint8_t mate = 0;      ///< for a fragment: 0 read 1 (or single-end), 1 read 2
  std::int32_t score = 0;
  template <class Archive>
  void serialize(Archive& ar, unsigned /*version*/) {
    ar & templ & tid1 & pos1 & tid2 & pos2 & rev1 & rev2 & fragment & mate & score;
  }
};

/// Per template, which reads are duplicates: bit 0 read 1 (or single-end), bit 1 read 2.
[[nodiscard]] std::vector<std::uint8_t> decide_duplicates(std::vector<DupSignature> sigs, std::size_t n_templates);

/// Parses a SAM header text; throws InternalError if htslib rejects it.
struct SamHdrDeleter {
  void operator()(sam_hdr_t* h) const noexcept { if (h) sam_hdr_destroy(h); }
};
using SamHdrPtr = std::unique_ptr<sam_hdr_t, SamHdrDeleter>;
[[nodiscard]] SamHdrPtr parse_header(const std::string& text);

/// Collects the alignments of a chunk of templates, then writes them sorted.
class ChunkBuilder {
 public:
  explicit ChunkBuilder(const sam_hdr_t* hdr);
  ~ChunkBuilder();
  ChunkBuilder(const ChunkBuilder&) = delete;
  ChunkBuilder& operator=(const ChunkBuilder&) = delete;
  /// Adds template `templ`: the SAM lines bwa gave read 1 and, for a pair, read 2 (nullptr for
  /// single-end). Throws InternalError if a line does not parse.
  void add(std::uint32_t templ, const std::string& sam1, const std::string* sam2);
  /// Sorts and writes the chunk as uncompressed BAM to `path`. Throws IoError.
  void write(const std::filesystem::path& path);
  [[nodiscard]] const std::vector<DupSignature>& signatures() const noexcept { return sigs_; }

 private:
  const sam_hdr_t* hdr_;
  std::vector<bam1_t*> recs_;
  std::vector<DupSignature> sigs_;
  kstring_t line_ = KS_INITIALIZE;
};

/// Output container of merge_chunks.
enum class AlignFormat { kBam, kCram };

/// Merges sorted chunk BAMs (in any order: the tags fix the order) into `out` with header `hdr`,
/// marking duplicates from `dups` (decide_duplicates), and indexes it into `index_path` (.bai,
/// or .crai for CRAM; CRAM needs `reference`, a FASTA with .fai; BAM is indexed while written, CSI
/// when a contig exceeds BAI's 512 Mbp). `threads` > 1 compresses with that many threads (the
/// bytes do not change). Returns the counts. Throws InputError/IoError naming the file.
AlignCounts merge_chunks(const std::vector<std::filesystem::path>& chunks, const sam_hdr_t* hdr,
                         const std::vector<std::uint8_t>& dups, const std::filesystem::path& out,
                         const std::filesystem::path& index_path, AlignFormat format, const std::filesystem::path& reference,
                         int threads = 1);

}  // namespace genoforest::align
