#include "genoforest/io/vcf.hpp"

#include <htslib/bgzf.h>
#include <htslib/hts_log.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <unordered_set>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "genoforest/core/error.hpp"

namespace genoforest::io {

namespace fs = std::filesystem;

Bcf1Ptr make_record() {
  Bcf1Ptr r(bcf_init());
  if (!r) throw InternalError("cannot allocate a VCF record");
  return r;
}

void quiet_htslib() { hts_set_log_level(HTS_LOG_OFF); }

VcfReader::VcfReader(const fs::path& path, bool require_index) : path_(path) {
  const std::string p = path.string();
  std::error_code ec;
  if (!fs::exists(path, ec)) throw IoError("cannot open " + p + ": no such file");
  if (fs::is_directory(path, ec)) throw IoError("cannot open " + p + ": it is a folder");
  fp_.reset(hts_open(p.c_str(), "r"));
  if (!fp_) throw IoError("cannot open " + p + ": " + errno_text());
  const htsFormat* fmt = hts_get_format(fp_.get());
  if (fmt->category != variant_data) {
    char* seen = hts_format_description(fmt);  // malloc'ed
    const std::string what = seen ? seen : "an unknown format";
    std::free(seen);
    throw InputError(p, "not a VCF or BCF file (htslib sees " + what + ")");
  }
  if (require_index && fmt->format == vcf && fmt->compression != bgzf) {
    throw InputError(p, "plain-text VCF cannot be indexed; compress it with 'bgzip' and index it with 'tabix -p vcf'");
  }
  if (fmt->compression == bgzf) {
    const int eof = hts_check_EOF(fp_.get());
    if (eof == 0) throw InputError(p, "the BGZF end-of-file marker is missing: the file is truncated");
    if (eof < 0) throw IoError("cannot check the end of " + p + ": " + errno_text());
  }
  hdr_.reset(bcf_hdr_read(fp_.get()));
  if (!hdr_) throw InputError(p, "cannot read the VCF header (malformed or truncated)");
  const auto header_contigs = contigs();
  declared_count_ = header_contigs.size();
  if (fmt->format == vcf) {
    // htslib adds to the header every contig that the .tbi lists and the text does not declare:
    // read the text's own ##contig lines to tell them apart.
    std::unordered_set<std::string> declared;
    BGZF* b = bgzf_open(p.c_str(), "r");
    if (!b) throw IoError("cannot open " + p + ": " + errno_text());
    kstring_t line{0, 0, nullptr};
    while (bgzf_getline(b, '\n', &line) >= 0 && line.l > 0 && line.s[0] == '#') {
      static constexpr std::string_view kContig = "##contig=<";
      const std::string_view text(line.s, line.l);
      if (!text.starts_with(kContig)) continue;
      const auto id = text.find("ID=", kContig.size());
      if (id == std::string_view::npos) continue;
      const auto from = id + 3, to = text.find_first_of(",>", from);
      declared.emplace(text.substr(from, to == std::string_view::npos ? std::string_view::npos : to - from));
    }
    free(line.s);
    bgzf_close(b);
    declared_count_ = declared.size();
    for (const auto& c : header_contigs)
      if (!declared.count(c.name)) undeclared_.push_back(c.name);
  }
  if (require_index) {
    if (fmt->format == bcf) {
      idx_.reset(bcf_index_load(p.c_str()));
    } else {
      tbx_.reset(tbx_index_load(p.c_str()));
    }
    if (idx_ || tbx_) {
      for (const char* ext : {".tbi", ".csi"}) {
        std::error_code e1, e2;
        const fs::path candidate = p + ext;
        if (!fs::exists(candidate, e1)) continue;
        index_path_ = candidate.string();
        const auto ti = fs::last_write_time(candidate, e1), tf = fs::last_write_time(path, e2);
        index_older_ = !e1 && !e2 && ti < tf;
        break;
      }
    }
    if (!idx_ && !tbx_) {
      throw InputError(p, std::string("no index found (looked for ") + p + ".tbi and " + p +
                              ".csi); build one with 'bcftools index " +
                              (fmt->format == bcf ? "" : "-t ") + p + "'");
    }
  }
}

VcfReader::~VcfReader() = default;

bool VcfReader::is_bcf() const noexcept { return hts_get_format(fp_.get())->format == bcf; }

std::vector<std::string> VcfReader::samples() const {
  std::vector<std::string> s;
  s.reserve(static_cast<std::size_t>(sample_count()));
  for (int i = 0; i < sample_count(); ++i) s.emplace_back(hdr_->samples[i]);
  return s;
}

std::vector<Contig> VcfReader::contigs() const {
  std::vector<Contig> out;
  int n = 0;
  const char** names = bcf_hdr_seqnames(hdr_.get(), &n);
  for (int i = 0; i < n; ++i) {
    Contig c{names[i], 0};
    const int rid = bcf_hdr_name2id(hdr_.get(), names[i]);
    const bcf_idinfo_t* info = rid >= 0 ? hdr_->id[BCF_DT_CTG][rid].val : nullptr;
    if (info) c.length = static_cast<std::int64_t>(info->info[0]);
    out.push_back(std::move(c));
  }
  free(names);
  return out;
}

std::vector<std::string> VcfReader::indexed_contigs() const {
  std::vector<std::string> out;
  int n = 0;
  const char** names = nullptr;
  if (idx_) names = bcf_index_seqnames(idx_.get(), hdr_.get(), &n);
  if (tbx_) names = tbx_seqnames(tbx_.get(), &n);
  for (int i = 0; i < n; ++i) out.emplace_back(names[i]);
  free(names);
  return out;
}

bool VcfReader::has_gt() const {
  return bcf_hdr_idinfo_exists(hdr_.get(), BCF_HL_FMT, bcf_hdr_id2int(hdr_.get(), BCF_DT_ID, "GT"));
}

void VcfReader::seek(const Region& region) {
  if (!idx_ && !tbx_) throw InternalError("VcfReader::seek without an index");
  const int rid = bcf_hdr_name2id(hdr_.get(), region.contig.c_str());
  if (rid < 0) {
    throw InconsistentInputError(path_.string(), "contig '" + region.contig + "' of region " + region.to_string() +
                                                     " is not in the file's header");
  }
  const hts_pos_t end = region.end == Region::kToContigEnd ? HTS_POS_MAX : region.end;
  itr_.reset();
  if (idx_) {
    itr_.reset(bcf_itr_queryi(idx_.get(), rid, region.beg, end));
  } else {
    const int tid = tbx_name2id(tbx_.get(), region.contig.c_str());
    if (tid < 0) {  // declared in the header but no record in the file: an empty region
      itr_.reset(hts_itr_query(tbx_->idx, HTS_IDX_NONE, 0, 0, tbx_readrec));
    } else {
      itr_.reset(tbx_itr_queryi(tbx_.get(), tid, region.beg, end));
    }
  }
  if (!itr_ && idx_) {  // bcf_itr_queryi returns null for a contig absent from the index
    itr_.reset(hts_itr_query(idx_.get(), HTS_IDX_NONE, 0, 0, bcf_readrec));
  }
  if (!itr_) throw IoError("cannot query region " + region.to_string() + " in " + path_.string());
  scan_ = Scan{};
  if (tbx_) {
    scan_.active = true;
    scan_.contig = region.contig;
    scan_.beg = region.beg;
    scan_.end = end;
    scan_.done = itr_->finished || itr_->n_off == 0;
    if (!scan_.done) scan_.start_offset = itr_->off[0].u;
  }
}

bool VcfReader::may_have_records(const Region& region) {
  seek(region);
  const bool some = itr_ && !itr_->finished && itr_->n_off > 0;
  itr_.reset();
  scan_ = Scan{};
  return some;
}

std::string VcfReader::where(const bcf1_t* rec) const {
  return path_.string() + " record " + bcf_hdr_id2name(hdr_.get(), rec->rid) + ":" + std::to_string(rec->pos + 1);
}

namespace {
std::string describe_errcode(int code) {
  std::string s;
  auto add = [&](const char* t) { s += s.empty() ? t : std::string("; ") + t; };
  if (code & BCF_ERR_CTG_UNDEF) add("contig not declared in the header");
  if (code & BCF_ERR_TAG_UNDEF) add("INFO/FORMAT tag not declared in the header");
  if (code & BCF_ERR_NCOLS) add("wrong number of columns (sample columns do not match the header)");
  if (code & BCF_ERR_LIMITS) add("a value exceeds htslib's limits");
  if (code & BCF_ERR_CHAR) add("invalid character");
  if (code & BCF_ERR_CTG_INVALID) add("invalid contig name");
  if (code & BCF_ERR_TAG_INVALID) add("invalid tag");
  return s.empty() ? "malformed record" : s;
}
}  // namespace

void VcfReader::check_record(bcf1_t* rec, int ret) {
  if (ret < 0 || rec->errcode) {
    throw InputError(where(rec), describe_errcode(rec->errcode));
  }
  if (rec->pos < 0) {
    throw InputError(where(rec), "POS is 0; VCF positions start at 1 (a telomere breakend, or a file "
                                 "converted from 0-based coordinates?)");
  }
  if (bcf_unpack(rec, BCF_UN_STR | BCF_UN_FLT | BCF_UN_FMT) < 0) throw InputError(where(rec), "cannot decode the record");
}

bool VcfReader::next(bcf1_t* rec) {
  int ret;
  if (!itr_) {
    ret = bcf_read(fp_.get(), hdr_.get(), rec);
    if (ret == -1) return false;
    if (ret < -1) {
      throw InputError(path_.string() + " after record " + std::to_string(nread_),
                       "cannot read the next record (truncated or corrupt file)");
    }
    check_record(rec, 0);
    ++nread_;
    return true;
  }
  if (idx_) {
    ret = bcf_itr_next(fp_.get(), itr_.get(), rec);
    if (ret == -1) return false;
    if (ret < -1) {
      throw InputError(path_.string() + " after record " + std::to_string(nread_),
                       "cannot read the next record (truncated or corrupt file)");
    }
    check_record(rec, 0);
    ++nread_;
    return true;
  }
  if (!next_line()) return false;
  parse_line(rec, line_.l);
  check_record(rec, 0);
  ++nread_;
  return true;
}

std::string VcfReader::index_hint() const {
  if (index_path_.empty()) return "truncated or corrupt file";
  if (index_older_) {
    return "its index " + index_path_ + " is older than the file and likely stale: rebuild it with 'bcftools index -f " +
           (tbx_ ? "-t " : "") + path_.string() + "'; or the file is corrupt";
  }
  return "truncated or corrupt file, or an index " + index_path_ + " that does not match it";
}

void VcfReader::stale_index(const std::string& what) const {
  throw InconsistentInputError(index_path_, "does not match " + path_.string() + ": " + what +
                                                "; the index is stale: rebuild it with 'bcftools index -f " +
                                                (tbx_ ? "-t " : "") + path_.string() + "'");
}

bool VcfReader::refill() {
  constexpr std::size_t kPiece = 256 * 1024;  // a few BGZF blocks: little read past a region's end
  if (scan_eof_) return false;
  if (scan_beg_ > 0) {
    std::memmove(scan_buf_.data(), scan_buf_.data() + scan_beg_, scan_end_ - scan_beg_);
    scan_end_ -= scan_beg_;
    scan_beg_ = 0;
  }
  if (scan_buf_.size() < scan_end_ + kPiece + 1) scan_buf_.resize(std::max(2 * scan_buf_.size(), scan_end_ + kPiece + 1));
  const auto n = bgzf_read(fp_->fp.bgzf, scan_buf_.data() + scan_end_, kPiece);
  if (n < 0) {
    throw InputError(path_.string() + " after record " + std::to_string(nread_),
                     "cannot read the next line (" + index_hint() + ")");
  }
  if (n == 0) scan_eof_ = true;
  scan_end_ += static_cast<std::size_t>(n);
  return n > 0;
}

bool VcfReader::next_line() {
  if (!scan_.active) throw InternalError("VcfReader::next_line without a region");
  if (scan_.done) return false;
  if (!scan_.started) {
    // The index points at the start of a line of the region's contig; a stale one (the file
    // rewritten since) points anywhere. Check the byte before (within the same block).
    const auto offset = static_cast<std::int64_t>(scan_.start_offset);
    const bool check_previous = (offset & 0xffff) > 0;
    if (bgzf_seek(fp_->fp.bgzf, check_previous ? offset - 1 : offset, SEEK_SET) < 0) {
      throw InputError(path_.string(), "cannot seek to a record of " + scan_.contig + " (" + index_hint() + ")");
    }
    if (check_previous) {
      char before = 0;
      if (bgzf_read(fp_->fp.bgzf, &before, 1) != 1 || before != '\n') {
        stale_index("it points into the middle of a line (contig " + scan_.contig + ")");
      }
    }
    scan_.check_first = true;
    scan_beg_ = scan_end_ = 0;
    scan_eof_ = false;
    scan_.started = true;
  }
  for (;;) {
    // The next line: up to a newline, or the end of the file.
    char* s = scan_buf_.data() + scan_beg_;
    auto* nl = scan_end_ > scan_beg_ ? static_cast<char*>(std::memchr(s, '\n', scan_end_ - scan_beg_)) : nullptr;
    std::size_t len;
    if (nl) {
      len = static_cast<std::size_t>(nl - s);
      scan_beg_ += len + 1;
    } else if (refill()) {
      continue;
    } else if (scan_end_ > scan_beg_) {  // a last line without a newline (room for a NUL: refill)
      s = scan_buf_.data() + scan_beg_;
      len = scan_end_ - scan_beg_;
      scan_beg_ = scan_end_;
    } else {
      scan_.done = true;
      return false;
    }
    if (len && s[len - 1] == '\r') --len;
    if (len == 0 || s[0] == '#') continue;
    line_ = {s, len};
    // CHROM and POS decide whether the line belongs to the region; htslib checks them fully later.
    const char* e = s + len;
    const char* tab = static_cast<const char*>(std::memchr(s, '\t', len));
    if (!tab) return true;  // malformed: let the parser name it
    if (scan_.check_first) {
      scan_.check_first = false;
      const std::string_view chrom(s, static_cast<std::size_t>(tab - s));
      if (chrom != scan_.contig) {
        stale_index("it gives a record of " + std::string(chrom.substr(0, 100)) + " as the first of " + scan_.contig);
      }
    }
    if (std::string_view(s, static_cast<std::size_t>(tab - s)) != scan_.contig) {
      if (scan_.seen_contig) {  // the contig's records are contiguous (the index requires it)
        scan_.done = true;
        return false;
      }
      continue;
    }
    scan_.seen_contig = true;
    std::int64_t pos = 0;
    const char* q = tab + 1;
    for (; q < e && *q >= '0' && *q <= '9'; ++q) pos = pos * 10 + (*q - '0');
    if (q == tab + 1 || q == e || *q != '\t') return true;  // malformed POS: let the parser name it
    if (pos == 0 && scan_.beg == 0) return true;             // invalid: check_record names it
    if (pos - 1 >= scan_.end) {
      scan_.done = true;
      return false;
    }
    if (pos - 1 < scan_.beg) continue;  // starts before the region
    return true;
  }
}

void VcfReader::parse_line(bcf1_t* rec, std::size_t len) {
  rec->errcode = 0;
  // line_ lies inside scan_buf_ with at least one byte after it (its newline, or spare room).
  const char saved = line_.s[len];
  line_.s[len] = '\0';
  kstring_t view{len, len + 1, line_.s};  // htslib splits it in place, never reallocates it
  const int pr = vcf_parse1(&view, hdr_.get(), rec);
  if (pr < 0 || rec->errcode) {
    // Name the record from the text: the parsed fields may be incomplete.
    // vcf_parse splits the line in place (tabs become NULs): undo that for the message.
    std::string text(line_.s, std::min<std::size_t>(len, 200));
    for (char& ch : text)
      if (ch == '\0') ch = '\t';
    const auto t1 = text.find('\t');
    const auto t2 = t1 == std::string::npos ? t1 : text.find('\t', t1 + 1);
    std::string loc = t2 == std::string::npos ? text.substr(0, 40) : text.substr(0, t2);
    for (char& c : loc)
      if (c == '\t') c = ':';
    throw InputError(path_.string() + " record " + loc, describe_errcode(rec->errcode));
  }
  line_.s[len] = saved;
}

bool VcfReader::next(bcf1_t* rec, Genotypes& gt) {
  if (itr_ && !idx_) {
    if (!next_line()) return false;
    // Columns 1-8 are the site; column 9 is FORMAT.
    const char* s = line_.s;
    const char* end = s + line_.l;
    const char* p = s;
    for (int tabs = 0; tabs < 8 && p; ++tabs) {
      p = static_cast<const char*>(std::memchr(p, '\t', static_cast<std::size_t>(end - p)));
      if (p) ++p;
    }
    if (p && end - p >= 3 && p[0] == 'G' && p[1] == 'T' && (p[2] == '\t' || p[2] == ':')) {
      const char* samples = static_cast<const char*>(std::memchr(p, '\t', static_cast<std::size_t>(end - p)));
      parse_line(rec, static_cast<std::size_t>(p - 1 - s));
      check_record(rec, 0);
      ++nread_;
      const char* first = samples ? samples + 1 : end;
      if (rec->n_allele == 2) {
        gt.biallelic_dosage.resize(static_cast<std::size_t>(sample_count()));
        if (parse_biallelic_dosages(first, end, sample_count(), gt.biallelic_dosage.data())) {
          gt.has_biallelic_dosage = true;
          gt.values.clear();
          gt.ploidy = 2;
          return true;
        }
      }
      gt.has_biallelic_dosage = false;
      parse_gt_columns(first, end, sample_count(), gt, where(rec));
      return true;
    }
    gt.has_biallelic_dosage = false;
    parse_line(rec, line_.l);
    check_record(rec, 0);
    ++nread_;
    get_genotypes(hdr_.get(), rec, gt, where(rec));
    return true;
  }
  if (!next(rec)) return false;
  if (rec->n_allele == 2) {
    gt.biallelic_dosage.resize(static_cast<std::size_t>(sample_count()));
    if (record_biallelic_dosages(hdr_.get(), rec, gt.biallelic_dosage.data())) {
      gt.has_biallelic_dosage = true;
      gt.values.clear();
      gt.ploidy = 2;
      return true;
    }
  }
  gt.has_biallelic_dosage = false;
  get_genotypes(hdr_.get(), rec, gt, where(rec));
  return true;
}

bool record_biallelic_dosages(const bcf_hdr_t* hdr, bcf1_t* rec, std::int8_t* dosage) {
  if (rec->n_allele != 2) return false;
  const int n = bcf_hdr_nsamples(hdr);
  const bcf_fmt_t* fmt = bcf_get_fmt(hdr, rec, "GT");
  if (!fmt || fmt->type != BCF_BT_INT8 || fmt->n != 2 || n <= 0 ||
      fmt->p_len < static_cast<std::uint32_t>(2 * n)) {
    return false;
  }
  // Per BCF value ((allele + 1) << 1 | phased, 0/1 missing): allele 0 -> 0, allele 1 -> 1,
  // missing -> 4, anything else (other alleles, vector end) 8.
  static constexpr auto kCode = [] {
    std::array<std::uint8_t, 256> t{};
    t.fill(8);
    t[0] = t[1] = 4;
    t[2] = t[3] = 0;
    t[4] = t[5] = 1;
    return t;
  }();
  const std::uint8_t* g = fmt->p;
  std::uint8_t bad = 0;
  int s = 0;
#ifdef __SSE2__
  // Eight samples (16 bytes) at a time: allele index + 1 = value >> 1, which must be 0 (missing),
  // 1 (REF) or 2 (ALT).
  {
    const __m128i low7 = _mm_set1_epi8(0x7f), two = _mm_set1_epi8(2);
    __m128i any_bad = _mm_setzero_si128();
    for (; s + 8 <= n; s += 8) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(g + 2 * s));
      const __m128i h = _mm_and_si128(_mm_srli_epi16(v, 1), low7);
      any_bad = _mm_or_si128(any_bad, _mm_cmpgt_epi8(h, two));
      const __m128i alt = _mm_and_si128(_mm_cmpeq_epi8(h, two), _mm_set1_epi8(1));
      const __m128i miss = _mm_cmpeq_epi8(h, _mm_setzero_si128());
      // Per sample (16-bit lane): ALT count of its two bytes, or 0xff when either is missing.
      const __m128i count = _mm_add_epi16(_mm_and_si128(alt, _mm_set1_epi16(0xff)), _mm_srli_epi16(alt, 8));
      const __m128i lane_miss = _mm_cmpeq_epi16(miss, _mm_setzero_si128());  // all ones: none missing
      const __m128i d = _mm_or_si128(_mm_and_si128(lane_miss, count), _mm_andnot_si128(lane_miss, _mm_set1_epi16(0xff)));
      _mm_storel_epi64(reinterpret_cast<__m128i*>(dosage + s), _mm_packus_epi16(d, d));
    }
    if (_mm_movemask_epi8(any_bad)) return false;
  }
#endif
  for (; s < n; ++s) {
    const unsigned a = kCode[g[2 * s]], b = kCode[g[2 * s + 1]];
    bad |= static_cast<std::uint8_t>((a | b) & 8);
    dosage[s] = (a | b) & 4 ? std::int8_t{-1} : static_cast<std::int8_t>(a + b);
  }
  return !bad;
}

namespace {
// Per character: '0' -> 0, '1' -> 1, '.' -> 4 (missing), anything else 8 (not the fast form).
constexpr auto kAlleleCode = [] {
  std::array<std::uint8_t, 256> t{};
  t.fill(8);
  t['0'] = 0;
  t['1'] = 1;
  t['.'] = 4;
  return t;
}();

/// One sample column at p (not past end); false when it is not the fast form. Leaves p on the
/// next column (or at the end after the last one).
inline bool parse_one_biallelic(const char*& p, const char* end, bool last, std::int8_t& out) {
  if (end - p < 3 || (p[1] != '/' && p[1] != '|')) return false;
  const unsigned a = kAlleleCode[static_cast<unsigned char>(p[0])], b = kAlleleCode[static_cast<unsigned char>(p[2])];
  if ((a | b) & 8) return false;
  out = (a | b) & 4 ? std::int8_t{-1} : static_cast<std::int8_t>(a + b);
  p += 3;
  if (p < end && *p == ':') {
    p = static_cast<const char*>(std::memchr(p, '\t', static_cast<std::size_t>(end - p)));
    if (!p) p = end;
  }
  if (!last) {
    if (p >= end || *p != '\t') return false;
    ++p;
  } else if (p != end) {
    return false;
  }
  return true;
}

#ifdef __SSE2__
/// Four "a/b\t" columns (16 bytes) at once; false (nothing written) unless all four are exactly
/// that: alleles among 0, 1 and '.', separator '/' or '|', then a tab.
inline bool parse_four_biallelic(const char* p, std::int8_t* out) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i tab = _mm_cmpeq_epi8(v, _mm_set1_epi8('\t'));
  const __m128i sep = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('/')), _mm_cmpeq_epi8(v, _mm_set1_epi8('|')));
  const __m128i one = _mm_cmpeq_epi8(v, _mm_set1_epi8('1'));
  const __m128i dot = _mm_cmpeq_epi8(v, _mm_set1_epi8('.'));
  const __m128i allele = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('0')), one), dot);
  // Byte k of each 4-byte column: 0 and 2 alleles, 1 the separator, 3 the tab.
  const __m128i at_allele = _mm_set1_epi32(0x00ff00ff), at_sep = _mm_set1_epi32(0x0000ff00),
                at_tab = _mm_set1_epi32(static_cast<int>(0xff000000u));
  const __m128i ok = _mm_or_si128(_mm_or_si128(_mm_and_si128(allele, at_allele), _mm_and_si128(sep, at_sep)),
                                  _mm_and_si128(tab, at_tab));
  if (_mm_movemask_epi8(ok) != 0xffff) return false;
  __m128i count = _mm_and_si128(one, _mm_set1_epi32(0x00010001));  // 1 per ALT allele
  count = _mm_and_si128(_mm_add_epi32(count, _mm_srli_epi32(count, 16)), _mm_set1_epi32(0xff));
  const __m128i missing = _mm_cmpeq_epi32(_mm_and_si128(dot, at_allele), _mm_setzero_si128());  // all ones: none
  const __m128i d = _mm_or_si128(_mm_and_si128(missing, count), _mm_andnot_si128(missing, _mm_set1_epi32(0xff)));
  const __m128i packed = _mm_packus_epi16(_mm_packs_epi32(d, d), _mm_setzero_si128());
  const int four = _mm_cvtsi128_si32(packed);
  std::memcpy(out, &four, 4);
  return true;
}
#endif
}  // namespace

bool parse_biallelic_dosages(const char* begin, const char* end, int n_samples, std::int8_t* dosage) {
  const char* p = begin;
  int s = 0;
  while (s < n_samples) {
#ifdef __SSE2__
    // Four at a time while they are the plain 4-byte form and not the line's last column.
    while (s + 4 < n_samples && end - p >= 16 && parse_four_biallelic(p, dosage + s)) {
      p += 16;
      s += 4;
    }
#endif
    const int stop = std::min(n_samples, s + 4);
    for (; s < stop; ++s) {
      if (!parse_one_biallelic(p, end, s + 1 == n_samples, dosage[s])) return false;
    }
  }
  return n_samples > 0;
}

void get_genotypes(const bcf_hdr_t* hdr, bcf1_t* rec, Genotypes& gt, const std::string& where) {
  const int n = bcf_hdr_nsamples(hdr);
  int32_t* buf = nullptr;
  int cap = 0;
  const int ngt = bcf_get_genotypes(hdr, rec, &buf, &cap);
  if (ngt <= 0 || n == 0) {
    std::free(buf);
    gt.values.clear();
    gt.ploidy = 0;
    return;
  }
  gt.values.assign(buf, buf + ngt);
  std::free(buf);
  gt.ploidy = ngt / n;
  if (gt.ploidy * n != ngt) {
    throw InputError(where, "GT has " + std::to_string(ngt) + " values for " + std::to_string(n) + " samples");
  }
}

void parse_gt_columns(const char* begin, const char* end, int n_samples, Genotypes& gt, const std::string& where) {
  int ploidy = 2;
  gt.values.resize(static_cast<std::size_t>(n_samples) * 2);
  const char* p = begin;
  int s = 0;
  int max_k = 0;
  bool line_left = begin < end;
  auto bad = [&](const std::string& why) {
    throw InputError(where, "sample column " + std::to_string(s + 1) + ": " + why);
  };
  // Steps over the tab after a sample column; the line must end after the last one.
  auto next_column = [&] {
    if (p >= end) {
      line_left = false;
      return;
    }
    ++p;
    if (s + 1 == n_samples) {
      throw InputError(where, "wrong number of columns (more sample columns than the header's " +
                                  std::to_string(n_samples) + ")");
    }
  };
  for (; s < n_samples; ++s) {
    if (!line_left) {
      throw InputError(where, "wrong number of columns (" + std::to_string(s) + " sample columns, the header has " +
                                  std::to_string(n_samples) + ")");
    }
    std::int32_t* out = gt.values.data() + static_cast<std::ptrdiff_t>(s) * ploidy;
    // The common call, "d/d" or "d|d" with one-digit alleles and nothing after it.
    if (ploidy == 2 && end - p >= 3 && static_cast<unsigned>(p[0] - '0') < 10 && (p[1] == '/' || p[1] == '|') &&
        static_cast<unsigned>(p[2] - '0') < 10 && (end - p == 3 || p[3] == '\t')) {
      out[0] = (p[0] - '0' + 1) << 1;
      out[1] = ((p[2] - '0' + 1) << 1) | (p[1] == '|');
      max_k = 2;
      p += 3;
      next_column();
      continue;
    }
    int k = 0;
    int phased = 0;
    for (;;) {
      std::int32_t v;
      if (*p == '.') {
        v = bcf_gt_missing | phased;
        ++p;
      } else if (*p >= '0' && *p <= '9') {
        std::int32_t a = 0;
        do {
          a = a * 10 + (*p - '0');
          if (a > (1 << 20)) bad("GT allele index too large");
          ++p;
        } while (p < end && *p >= '0' && *p <= '9');
        v = ((a + 1) << 1) | phased;
      } else {
        bad(p < end && *p != '\t' && *p != ':' ? std::string("invalid GT character '") + *p + "'" : "empty GT");
      }
      if (k == ploidy) {  // a call with more alleles than any before: widen every sample
        const int wider = ploidy + 1;
        std::vector<std::int32_t> grown(static_cast<std::size_t>(n_samples) * wider, bcf_int32_vector_end);
        for (int t = 0; t <= s; ++t)
          for (int j = 0; j < ploidy; ++j)
            grown[static_cast<std::size_t>(t) * wider + j] = gt.values[static_cast<std::size_t>(t) * ploidy + j];
        gt.values.swap(grown);
        ploidy = wider;
        out = gt.values.data() + static_cast<std::ptrdiff_t>(s) * ploidy;
      }
      out[k++] = v;
      if (p < end && (*p == '/' || *p == '|')) {
        phased = *p == '|';
        ++p;
        continue;
      }
      break;
    }
    for (int j = k; j < ploidy; ++j) out[j] = bcf_int32_vector_end;
    max_k = std::max(max_k, k);
    if (p < end && *p == ':') {
      p = static_cast<const char*>(std::memchr(p, '\t', static_cast<std::size_t>(end - p)));
      if (!p) p = end;
    }
    if (p < end && *p != '\t') bad(std::string("invalid GT character '") + *p + "'");
    next_column();
  }
  if (max_k == 1 && ploidy == 2) {  // every call haploid: one value per sample, as htslib gives
    for (int t = 0; t < n_samples; ++t) gt.values[static_cast<std::size_t>(t)] = gt.values[static_cast<std::size_t>(t) * 2];
    ploidy = 1;
  }
  gt.values.resize(static_cast<std::size_t>(n_samples) * ploidy);
  gt.ploidy = ploidy;
}

void build_index(const fs::path& vcf_path, const fs::path& index_path, bool csi, int threads) {
  const std::string p = vcf_path.string();
  const std::string ip = index_path.string();
  int ret;
  // For VCF.gz, min_shift 0 gives .tbi; 14 gives .csi. BCF needs CSI.
  const int min_shift = csi ? 14 : 0;
  ret = bcf_index_build3(p.c_str(), ip.c_str(), min_shift, threads);
  if (ret == -2) throw InputError(p, "cannot be indexed: it is not bgzip-compressed");
  if (ret == -3) throw InputError(p, "cannot be indexed: not a VCF or BCF file");
  if (ret < 0) throw IoError("cannot build the index " + ip + " of " + p + " (unsorted records or an unwritable folder)");
}

}  // namespace genoforest::io
