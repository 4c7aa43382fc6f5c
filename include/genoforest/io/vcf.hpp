#pragma once
/// @file vcf.hpp
/// Reading indexed VCF/BCF files through htslib, strictly: a truncated file, an unreadable index or
/// a malformed record is an error naming the file and the record, never a silent end of data.
#include <htslib/hts.h>
#include <htslib/tbx.h>
#include <htslib/vcf.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "genoforest/core/region.hpp"

namespace genoforest::io {

/// Deleters so htslib handles can live in std::unique_ptr.
struct HtsDeleter {
  void operator()(htsFile* p) const noexcept { if (p) hts_close(p); }
  void operator()(bcf_hdr_t* p) const noexcept { if (p) bcf_hdr_destroy(p); }
  void operator()(bcf1_t* p) const noexcept { if (p) bcf_destroy(p); }
  void operator()(hts_idx_t* p) const noexcept { if (p) hts_idx_destroy(p); }
  void operator()(tbx_t* p) const noexcept { if (p) tbx_destroy(p); }
  void operator()(hts_itr_t* p) const noexcept { if (p) hts_itr_destroy(p); }
};
using HtsFilePtr = std::unique_ptr<htsFile, HtsDeleter>;
using BcfHdrPtr = std::unique_ptr<bcf_hdr_t, HtsDeleter>;
using Bcf1Ptr = std::unique_ptr<bcf1_t, HtsDeleter>;
using HtsIdxPtr = std::unique_ptr<hts_idx_t, HtsDeleter>;
using TbxPtr = std::unique_ptr<tbx_t, HtsDeleter>;
using HtsItrPtr = std::unique_ptr<hts_itr_t, HtsDeleter>;

/// Allocates an empty record; throws on allocation failure.
[[nodiscard]] Bcf1Ptr make_record();

/// The GT values of one record in htslib's bcf_gt encoding, as bcf_get_genotypes() gives them:
/// `ploidy` values per sample, sample after sample; a call with fewer alleles than the record's
/// ploidy is padded with bcf_int32_vector_end; a missing allele is bcf_gt_missing.
struct Genotypes {
  std::vector<std::int32_t> values;
  int ploidy = 0;  ///< 0 when the record has no GT
  /// Instead of `values` (VcfReader::next(rec, gt), bgzipped VCF): for a biallelic record whose
  /// calls are all diploid with one-character alleles ("0/1", "1|1", "./.", ...), per sample the
  /// ALT allele count 0/1/2, or -1 when either allele is missing. `values` is then empty.
  std::vector<std::int8_t> biallelic_dosage;
  bool has_biallelic_dosage = false;
};

/// Fills `gt` from an unpacked record through htslib. Throws InputError (naming `where`) when the
/// GT values do not divide evenly among the samples.
void get_genotypes(const bcf_hdr_t* hdr, bcf1_t* rec, Genotypes& gt, const std::string& where);

/// The fast form of parse_gt_columns for a biallelic record: fills `dosage` (n_samples) when every
/// sample column's GT is two one-character alleles among '0', '1', '.' ("0/1", "1|0", "./."),
/// optionally followed by ':' and other sub-fields. Returns false, leaving `dosage` unspecified,
/// for anything else (haploid calls, other alleles, a malformed column): the caller then takes
/// parse_gt_columns, which decodes or reports it.
[[nodiscard]] bool parse_biallelic_dosages(const char* begin, const char* end, int n_samples, std::int8_t* dosage);

/// The same fast form for a record in memory (a BCF record, unpacked up to FORMAT): fills `dosage`
/// when the record is biallelic and GT holds two 1-byte values per sample, each allele 0, 1 or
/// missing. Returns false for anything else (no GT, haploid or mixed ploidy, wider types).
[[nodiscard]] bool record_biallelic_dosages(const bcf_hdr_t* hdr, bcf1_t* rec, std::int8_t* dosage);

/// Decodes the GT sub-fields of the sample columns of a VCF text line, [begin, end): tab-separated
/// columns, each starting with GT ("0/1", "1|0", "./.", ".", "2", ...) optionally followed by ':'
/// and other sub-fields. Produces exactly what htslib's parser gives. Throws InputError (naming
/// `where`) for a malformed GT or a column count other than `n_samples`.
void parse_gt_columns(const char* begin, const char* end, int n_samples, Genotypes& gt, const std::string& where);

/// A contig as declared in the header. `length` is 0 when the header gives none.
struct Contig {
  std::string name;
  std::int64_t length = 0;
};

/// An opened VCF or BCF file (bgzipped VCF or BCF) with its header and, optionally, its index.
///
/// Thread-compatible: one reader per thread. All errors are thrown as InputError/IoError whose
/// message starts with the file name.
class VcfReader {
 public:
  /// Opens `path` and reads its header. With `require_index`, loads the .tbi/.csi index next to it
  /// and fails with a message telling how to build one when absent. Fails on a file that is not
  /// VCF/BCF, that is plain (not bgzipped) VCF when an index is required, or whose BGZF end-of-file
  /// marker is missing (a truncated file).
  VcfReader(const std::filesystem::path& path, bool require_index);

  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }
  [[nodiscard]] bcf_hdr_t* header() const noexcept { return hdr_.get(); }
  [[nodiscard]] int sample_count() const noexcept { return bcf_hdr_nsamples(hdr_.get()); }
  [[nodiscard]] std::vector<std::string> samples() const;
  /// Contigs in header order.
  [[nodiscard]] std::vector<Contig> contigs() const;
  /// Names of the contigs that have records according to the index, in index order.
  [[nodiscard]] std::vector<std::string> indexed_contigs() const;
  /// Contigs of a VCF's header that its text does not declare (no `##contig` line): htslib adds
  /// those the index lists when it reads the header. Empty for BCF.
  [[nodiscard]] const std::vector<std::string>& undeclared_contigs() const noexcept { return undeclared_; }
  /// Number of `##contig` lines in the header's text (for a BCF, of the header's contigs).
  [[nodiscard]] std::size_t declared_contig_count() const noexcept { return declared_count_; }
  /// True if the header declares FORMAT/GT.
  [[nodiscard]] bool has_gt() const;
  [[nodiscard]] bool is_bcf() const noexcept;

  /// Positions the reader on the records of `region` (needs the index): every record that starts
  /// in it, and possibly records starting before it that overlap it (callers that want records by
  /// start filter on POS). A bgzipped VCF is then read as one stream from the region's first
  /// indexed block, lines told apart by their own CHROM and POS (no per-line index test). A
  /// contig that the header declares but the index does not hold simply yields no record. Throws
  /// InconsistentInputError for a contig the header does not declare.
  void seek(const Region& region);
  /// False when the index shows that no record overlaps `region` (needs the index); true when
  /// some may. Cheap: the index is in memory.
  [[nodiscard]] bool may_have_records(const Region& region);
  /// Reads the next record of the current region (after seek) or of the file (without seek)
  /// into `rec`, unpacked (alleles, filters, FORMAT). Returns false at the end; throws InputError naming the
  /// record ("chr:pos") and the reason on a malformed record, IoError on a read error.
  bool next(bcf1_t* rec);
  /// Like next(), and decodes the record's genotypes into `gt`. For a bgzipped VCF whose FORMAT
  /// starts with GT, only the site columns go through htslib's parser and GT is decoded straight
  /// from the text (the other FORMAT fields are then not parsed, and rec holds no FORMAT data):
  /// the fast path of `features`.
  bool next(bcf1_t* rec, Genotypes& gt);
  /// Number of records returned by next() so far.
  [[nodiscard]] std::uint64_t records_read() const noexcept { return nread_; }

  /// "path record chr:pos" for messages about `rec`.
  [[nodiscard]] std::string where(const bcf1_t* rec) const;

 private:
  void check_record(bcf1_t* rec, int ret);
  /// Points line_ at the next line of the current region (in scan_buf_); false at the end.
  bool next_line();
  /// Parses line_[0, len) into rec with htslib, naming the record in errors.
  void parse_line(bcf1_t* rec, std::size_t len);

  std::filesystem::path path_;
  HtsFilePtr fp_;
  BcfHdrPtr hdr_;
  HtsIdxPtr idx_;  // BCF index
  TbxPtr tbx_;     // VCF.gz index
  HtsItrPtr itr_;
  // The current region of a bgzipped VCF, read as a stream (see seek()).
  struct Scan {
    bool active = false, started = false, done = false, seen_contig = false, check_first = false;
    std::string contig;
    std::int64_t beg = 0, end = 0;
    std::uint64_t start_offset = 0;
  } scan_;
  // The region's decompressed text, read in pieces; line_ views one line of it.
  std::vector<char> scan_buf_;
  std::size_t scan_beg_ = 0, scan_end_ = 0;
  bool scan_eof_ = false;
  struct Line {
    char* s = nullptr;
    std::size_t l = 0;
  } line_;
  /// Reads more of the file into scan_buf_, keeping [scan_beg_, scan_end_); false at the end.
  bool refill();
  std::uint64_t nread_ = 0;
  std::vector<std::string> undeclared_;
  std::size_t declared_count_ = 0;
  std::string index_path_;     // the index loaded (empty without one)
  bool index_older_ = false;   // its modification time is before the file's
  /// What a stale index would explain, for errors met while reading through it.
  [[nodiscard]] std::string index_hint() const;
  /// Throws InconsistentInputError naming the index: it does not match the file.
  [[noreturn]] void stale_index(const std::string& what) const;

 public:
  ~VcfReader();
  VcfReader(const VcfReader&) = delete;
  VcfReader& operator=(const VcfReader&) = delete;
};

/// Builds the index of a bgzipped VCF (.tbi, or .csi when `csi`) or BCF (.csi) at `index_path`.
/// Throws IoError/InputError naming the file on failure.
void build_index(const std::filesystem::path& vcf_path, const std::filesystem::path& index_path, bool csi,
                 int threads);

/// Sets htslib's own log level so that its lines do not duplicate ours (errors are reported by us).
void quiet_htslib();

}  // namespace genoforest::io
