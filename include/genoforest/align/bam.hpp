#pragma once
/// @file bam.hpp
/// From bwa's SAM lines to one coordinate-sorted BAM/CRAM per sample, with duplicates marked.
///
/// A chunk of reads becomes one sorted temporary file of records (ChunkBuilder). Beside every
/// record it keeps two numbers that make the order total and independent of how reads were
/// chunked: the template's index in the sample and the line's index among the template's SAM
/// lines. Order: reference (unmapped last), position, strand, template, line - samtools sort's
/// order with ties broken by input order. write_piece() merges a run of bins from the chunks of a
/// sample and marks duplicates; assemble_bam() joins the pieces into the sample's file.
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
#include <map>
#include <string>
#include <vector>

#include <boost/serialization/map.hpp>

namespace genoforest::align {

/// What the aligned output holds; sums over chunks.
struct AlignCounts {
  std::int64_t records = 0, primary = 0, mapped = 0, properly_paired = 0, secondary = 0, supplementary = 0,
               duplicates = 0;
  /// Insert sizes (|TLEN|) of the properly paired primary read 1s that are not duplicates: size -> reads.
  std::map<std::int32_t, std::int64_t> insert_sizes;
  void add(const AlignCounts& o);
  /// Counts and fractions, and the median and mean insert size (null without proper pairs).
  [[nodiscard]] std::string to_json(int indent) const;
  template <class Archive>
  void serialize(Archive& ar, unsigned /*version*/) {
    ar & records & primary & mapped & properly_paired & secondary & supplementary & duplicates & insert_sizes;
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

/// The sorted output is cut into bins, in sort order: mapped and placed records by (reference,
/// position >> kBinShift), unplaced unmapped ones by (strand, template >> kBinShift). The BAM starts
/// a new BGZF block at every bin, so a run of whole bins can be compressed on its own, anywhere,
/// and the pieces concatenated give the same bytes as one writer: this is how several ranks write
/// one sample's BAM, and why the file does not depend on how it was cut.
inline constexpr int kBinShift = 16;
using BinKey = std::uint64_t;
/// The bin of a record of template `templ`.
[[nodiscard]] BinKey bin_of(const bam1_core_t& c, std::uint32_t templ);

/// Where a bin's records start in a sorted chunk, and how many there are.
struct ChunkBin {
  BinKey bin = 0;
  std::uint64_t offset = 0;  ///< byte offset of the bin's first record in the chunk's file
  std::uint64_t records = 0;
  template <class Archive>
  void serialize(Archive& ar, unsigned /*version*/) {
    ar & bin & offset & records;
  }
};

/// Collects the alignments of a chunk of templates, then writes them sorted.
class ChunkBuilder {
 public:
  explicit ChunkBuilder(const sam_hdr_t* hdr);
  ~ChunkBuilder();
  ChunkBuilder(const ChunkBuilder&) = delete;
  ChunkBuilder& operator=(const ChunkBuilder&) = delete;
  /// Adds template `templ`: the SAM lines bwa gave read 1 and, for a pair, read 2 (nullptr for
  /// single-end), parsed in place (the text is overwritten). Throws InternalError if a line does
  /// not parse.
  void add(std::uint32_t templ, char* sam1, char* sam2);
  /// Sorts and writes the chunk to `path` (a temporary format: per record its template, its line,
  /// htslib's record core and data, native order); returns where each bin starts. Throws IoError.
  std::vector<ChunkBin> write(const std::filesystem::path& path);
  [[nodiscard]] const std::vector<DupSignature>& signatures() const noexcept { return sigs_; }

 private:
  const sam_hdr_t* hdr_;
  bam1_t* b_;                           ///< the record being parsed
  std::string records_;                 ///< the records, as write() lays them out
  std::vector<std::size_t> offsets_;    ///< where each starts in records_
  std::vector<DupSignature> sigs_;
};

class BgzfWriter;

/// Appends one record to `out` in BAM's encoding, as htslib's bam_write1 does (a CIGAR of more than
/// 65535 operations goes to a CG:B,I tag), starting a new block first when the record would not
/// fit in the current one. Throws InputError when BAM cannot hold the record (a read name over 254
/// characters, a position beyond 2^31), IoError when the file cannot be written.
void write_bam_record(BgzfWriter& out, const bam1_t* b);
/// Appends a BAM header (magic, text, references), as htslib's bam_hdr_write does.
void write_bam_header(BgzfWriter& out, const sam_hdr_t* hdr);

/// One chunk's share of a piece: its file, and where the piece's first bin starts in it.
struct PieceInput {
  std::filesystem::path chunk;
  std::uint64_t offset = 0;
};

/// Merges the records of bins [bin_begin, bin_end) from sorted chunks into `out`: raw BGZF blocks
/// at compression `level` (0-9, see BgzfWriter), a new block at each bin, no header and no EOF block. Marks
/// duplicates from `dups` (decide_duplicates; empty: none). Writes to
/// `index_events` what the BAM index needs of each record (offsets relative to `out`), for
/// assemble_bam. Returns the counts. Throws InputError/IoError naming the file.
AlignCounts write_piece(const std::vector<PieceInput>& inputs, BinKey bin_begin, BinKey bin_end,
                        const std::vector<std::uint8_t>& dups, int level, const std::filesystem::path& out,
                        const std::filesystem::path& index_events);

/// Output container of assemble_bam.
enum class AlignFormat { kBam, kCram };

/// Writes the sample's file `out` from its header and its pieces (write_piece outputs, in bin
/// order): BAM is the header's blocks, the pieces' bytes and the EOF block, indexed from the
/// pieces' index events into `index_path` (.bai; .csi when a contig exceeds BAI's 512 Mbp); the
/// index is the one `samtools index` makes of the file. CRAM is converted from that BAM (`work`
/// holds it meanwhile) and needs `reference`, a FASTA with .fai; `threads` compress CRAM.
/// Throws InputError/IoError naming the file.
void assemble_bam(const sam_hdr_t* hdr, const std::vector<std::pair<std::filesystem::path, std::filesystem::path>>& pieces,
                  int level, const std::filesystem::path& out, const std::filesystem::path& index_path, AlignFormat format,
                  const std::filesystem::path& reference, const std::filesystem::path& work, int threads = 1);

}  // namespace genoforest::align
