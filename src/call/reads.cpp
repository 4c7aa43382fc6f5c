#include "genoforest/call/reads.hpp"

#include <htslib/faidx.h>
#include <htslib/hts.h>
#include <htslib/sam.h>

#include <algorithm>
#include <cerrno>
#include <set>

#include "genoforest/core/error.hpp"
#include "genoforest/core/log.hpp"
#include "genoforest/core/text.hpp"

namespace genoforest::call {

namespace fs = std::filesystem;

std::uint64_t hash_name(const char* name) noexcept { return fnv1a64(name); }

namespace {

/// The open-file limit reached: the BAM and its index are there, the system refused to open them.
[[noreturn]] void throw_too_many_files(const std::string& where) {
  throw IoError("cannot open " + where + " or its index: too many open files (" + errno_text() +
                "); each sample holds a BAM and its index open: raise the limit (ulimit -n) or call fewer samples at once");
}

struct FaiCloser {
  void operator()(faidx_t* p) const noexcept { if (p) fai_destroy(p); }
};
using FaiPtr = std::unique_ptr<faidx_t, FaiCloser>;

FaiPtr load_fai(const fs::path& fasta) {
  if (!fs::exists(fasta)) throw InputError(fasta.string(), "reference FASTA not found");
  FaiPtr fai(fai_load3(fasta.c_str(), nullptr, nullptr, FAI_CREATE));
  if (!fai) {
    throw InputError(fasta.string(), "cannot load or build the FASTA index (.fai): the FASTA must be plain or bgzip-compressed "
                                     "(not gzip) and readable; build the index with 'genoforest index' or 'samtools faidx'");
  }
  return fai;
}

}  // namespace

std::vector<RefContig> reference_contigs(const fs::path& fasta) {
  const auto fai = load_fai(fasta);
  std::vector<RefContig> out;
  const int n = faidx_nseq(fai.get());
  for (int i = 0; i < n; ++i) {
    const char* name = faidx_iseq(fai.get(), i);
    out.push_back({name, faidx_seq_len(fai.get(), name)});
  }
  if (out.empty()) throw InputError(fasta.string(), "the reference has no sequences");
  return out;
}

struct ReferenceReader::Impl {
  FaiPtr fai;
};

ReferenceReader::ReferenceReader(const fs::path& fasta) : path_(fasta), impl_(std::make_unique<Impl>()) {
  impl_->fai = load_fai(fasta);
}
ReferenceReader::~ReferenceReader() = default;

std::string ReferenceReader::fetch(const std::string& contig, std::int64_t beg, std::int64_t end) const {
  const std::int64_t len = faidx_seq_len(impl_->fai.get(), contig.c_str());
  if (len < 0) throw InputError(path_.string(), "contig '" + contig + "' is not in the reference");
  beg = std::max<std::int64_t>(0, beg);
  end = std::min(end, len);
  if (end <= beg) return {};
  hts_pos_t got = 0;
  char* s = faidx_fetch_seq64(impl_->fai.get(), contig.c_str(), beg, end - 1, &got);
  if (!s || got != end - beg) {
    std::free(s);
    throw InputError(path_.string(), "cannot read " + contig + ":" + std::to_string(beg + 1) + "-" + std::to_string(end) +
                                         " (truncated or corrupt FASTA?)");
  }
  std::string out(s, static_cast<std::size_t>(got));
  std::free(s);
  for (char& c : out) {
    c = static_cast<char>(c & ~0x20);  // upper case
    if (c != 'A' && c != 'C' && c != 'G' && c != 'T') c = 'N';
  }
  return out;
}

struct BamSample::Impl {
  htsFile* fp = nullptr;
  sam_hdr_t* hdr = nullptr;
  hts_idx_t* idx = nullptr;
  ~Impl() {
    if (idx) hts_idx_destroy(idx);
    if (hdr) sam_hdr_destroy(hdr);
    if (fp) hts_close(fp);
  }
};

BamSample::BamSample(const fs::path& path, const fs::path& reference, const std::vector<RefContig>& contigs, bool warn)
    : path_(path), impl_(std::make_unique<Impl>()) {
  const std::string where = path.string();
  if (!fs::exists(path)) throw InputError(where, "alignment file not found");
  errno = 0;
  impl_->fp = hts_open(path.c_str(), "r");
  if (!impl_->fp && (errno == EMFILE || errno == ENFILE)) throw_too_many_files(where);
  if (!impl_->fp) throw InputError(where, "cannot open (unreadable, or not BAM/CRAM/SAM)");
  const htsFormat* fmt = hts_get_format(impl_->fp);
  if (fmt->category != sequence_data || (fmt->format != bam && fmt->format != cram)) {
    throw InputError(where, "not a BAM or CRAM file (calling needs a sorted, indexed BAM or CRAM)");
  }
  if (fmt->format == cram && hts_set_fai_filename(impl_->fp, reference.c_str()) != 0) {
    throw InputError(where, "cannot use the reference " + reference.string() + " to decode this CRAM");
  }
  if (fmt->format == bam && hts_check_EOF(impl_->fp) == 0) {
    throw InputError(where, "truncated: the BGZF end-of-file marker is missing (was the file copied or written completely?)");
  }
  impl_->hdr = sam_hdr_read(impl_->fp);
  if (!impl_->hdr) throw InputError(where, "cannot read the header (truncated or corrupt file)");
  errno = 0;
  impl_->idx = sam_index_load(impl_->fp, path.c_str());
  if (!impl_->idx && (errno == EMFILE || errno == ENFILE)) throw_too_many_files(where);
  if (!impl_->idx) throw InputError(where, "has no index (.bai, .csi or .crai); build one with 'samtools index " + where + "'");

  for (const auto& c : contigs) {
    const int tid = sam_hdr_name2tid(impl_->hdr, c.name.c_str());
    if (tid < 0) {
      throw InconsistentInputError(where, "contig '" + c.name + "' of the reference " + reference.string() +
                                              " is not in the BAM header: was it aligned to another reference?");
    }
    const auto len = static_cast<std::int64_t>(sam_hdr_tid2len(impl_->hdr, tid));
    if (len != c.length) {
      throw InconsistentInputError(where, "contig '" + c.name + "' has length " + std::to_string(len) + " in the BAM header but " +
                                              std::to_string(c.length) + " in the reference " + reference.string() +
                                              ": was it aligned to another reference?");
    }
  }

  std::set<std::string> names;
  const int n_rg = sam_hdr_count_lines(impl_->hdr, "RG");
  kstring_t ks = KS_INITIALIZE;
  for (int i = 0; i < n_rg; ++i) {
    if (sam_hdr_find_tag_pos(impl_->hdr, "RG", i, "SM", &ks) == 0) names.insert(ks.s);
  }
  ks_free(&ks);
  if (names.size() > 1) {
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
    throw InputError(where, "its read groups name several samples (" + list + "); give one BAM per sample");
  }
  if (names.empty()) {
    sample_ = path.stem().string();
    if (warn) log_warning(where + " has no @RG line with SM: its sample is named '" + sample_ + "' after the file");
  } else {
    sample_ = *names.begin();
  }
}

BamSample::~BamSample() = default;
BamSample::BamSample(BamSample&&) noexcept = default;
BamSample& BamSample::operator=(BamSample&&) noexcept = default;

namespace {

class BamStream final : public ReadStream {
 public:
  BamStream(htsFile* fp, hts_itr_t* itr, std::string where, const ReadFilter& filter, const RefSpan* ref)
      : fp_(fp), itr_(itr), b_(bam_init1()), where_(std::move(where)), filter_(filter), ref_(ref) {}
  ~BamStream() override {
    bam_destroy1(b_);
    hts_itr_destroy(itr_);
  }
  BamStream(const BamStream&) = delete;
  BamStream& operator=(const BamStream&) = delete;

  bool next(AlnRead& r) override {
    while (true) {
      const int ret = sam_itr_next(fp_, itr_, b_);
      if (ret == -1) return false;
      if (ret < -1) throw InputError(where_, "cannot read a record (truncated or corrupt file)");
      if (decode(r)) return true;
    }
  }

 private:
  bool decode(AlnRead& r) {
    const auto& c = b_->core;
    if (c.flag & (BAM_FUNMAP | BAM_FSECONDARY | BAM_FQCFAIL | BAM_FDUP)) return false;
    if (c.qual < filter_.min_mapq || c.n_cigar == 0) return false;
    if (filter_.skip_improper_pairs && (c.flag & BAM_FPAIRED) && !(c.flag & BAM_FPROPER_PAIR)) return false;
    const std::uint32_t* cig = bam_get_cigar(b_);
    r.cigar.assign(cig, cig + c.n_cigar);
    r.pos = c.pos;
    r.end = bam_endpos(b_);
    const auto lead = bam_cigar_op(cig[0]) == BAM_CSOFT_CLIP ? bam_cigar_oplen(cig[0]) : 0;
    const auto last = cig[c.n_cigar - 1];
    const auto trail = c.n_cigar > 1 && bam_cigar_op(last) == BAM_CSOFT_CLIP ? bam_cigar_oplen(last) : 0;
    r.clip_beg = r.pos - lead;
    r.clip_end = r.end + trail;
    const auto n = static_cast<std::size_t>(c.l_qseq);
    r.seq.resize(n);
    r.qual.resize(n);
    const std::uint8_t* s = bam_get_seq(b_);
    const std::uint8_t* q = bam_get_qual(b_);
    static constexpr char kBase[16] = {'N', 'A', 'C', 'N', 'G', 'N', 'N', 'N', 'T', 'N', 'N', 'N', 'N', 'N', 'N', 'N'};
    for (std::size_t i = 0; i < n; ++i) {
      r.seq[i] = kBase[bam_seqi(s, i)];
      r.qual[i] = q[0] == 0xff ? 30 : q[i];
    }
    if (n == 0) return false;  // no sequence stored: nothing to call from
    r.baq = r.qual;
    if (ref_ && at_risk(r)) apply_baq(r);
    r.name_hash = hash_name(bam_get_qname(b_));
    r.mapq = c.qual;
    if (ref_ && filter_.cap_mapq > 0) {
      const hts_pos_t saved = b_->core.pos;
      b_->core.pos -= ref_->beg;
      const int q = sam_cap_mapq(b_, ref_->seq.data(), static_cast<hts_pos_t>(ref_->seq.size()), filter_.cap_mapq);
      b_->core.pos = saved;
      if (q < 0) return false;
      r.mapq = static_cast<std::uint8_t>(std::min<int>(r.mapq, q));
    }
    r.read1 = !(c.flag & BAM_FPAIRED) || (c.flag & BAM_FREAD1);
    return true;
  }

  /// Whether the read may be misaligned locally: an indel, a soft clip or two good mismatches.
  bool at_risk(const AlnRead& r) const {
    std::int64_t rp = r.pos;
    std::size_t qp = 0;
    int mismatches = 0;
    for (const auto c : r.cigar) {
      const int op = bam_cigar_op(c);
      const auto len = bam_cigar_oplen(c);
      if (op == BAM_CINS || op == BAM_CDEL || op == BAM_CSOFT_CLIP || op == BAM_CREF_SKIP) return true;
      if (op == BAM_CMATCH || op == BAM_CEQUAL || op == BAM_CDIFF) {
        for (std::uint32_t i = 0; i < len; ++i) {
          const char b = r.seq[qp + i];
          if (b != 'N' && r.qual[qp + i] >= 13 && b != ref_->at(rp + i) && ++mismatches >= 2) return true;
        }
        rp += len;
        qp += len;
      }
    }
    return false;
  }

  /// BAQ through htslib, on the record shifted into the reference span's coordinates.
  void apply_baq(AlnRead& r) {
    const hts_pos_t saved = b_->core.pos;
    b_->core.pos -= ref_->beg;
    const int ret = sam_prob_realn(b_, ref_->seq.data(), static_cast<hts_pos_t>(ref_->seq.size()), BAQ_APPLY | BAQ_REDO);
    b_->core.pos = saved;
    if (ret != 0) return;  // not computable (no M, outside the span): keep the qualities
    const std::uint8_t* q = bam_get_qual(b_);
    for (std::size_t i = 0; i < r.baq.size(); ++i) r.baq[i] = std::min(r.qual[i], q[i]);
  }

  htsFile* fp_;
  hts_itr_t* itr_;
  bam1_t* b_;
  std::string where_;
  ReadFilter filter_;
  const RefSpan* ref_;
};

}  // namespace

std::unique_ptr<ReadStream> BamSample::fetch(const std::string& contig, std::int64_t beg, std::int64_t end, const ReadFilter& filter,
                                             const RefSpan* ref) {
  const int tid = sam_hdr_name2tid(impl_->hdr, contig.c_str());
  if (tid < 0) throw InputError(path_.string(), "contig '" + contig + "' is not in the BAM header");
  hts_itr_t* itr = sam_itr_queryi(impl_->idx, tid, std::max<std::int64_t>(0, beg), end);
  if (!itr) throw InputError(path_.string(), "cannot query " + contig + ":" + std::to_string(beg + 1) + "-" + std::to_string(end) + " through the index");
  return std::make_unique<BamStream>(impl_->fp, itr, path_.string() + " (" + contig + ":" + std::to_string(beg + 1) + "-" + std::to_string(end) + ")",
                                     filter, ref);
}

}  // namespace genoforest::call
