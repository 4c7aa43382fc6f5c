#include "genoforest/io/vcf.hpp"

#include <htslib/hts_log.h>

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
    throw InputError(p, std::string("not a VCF or BCF file (htslib sees ") + hts_format_description(fmt) + ")");
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
  if (require_index) {
    if (fmt->format == bcf) {
      idx_.reset(bcf_index_load(p.c_str()));
    } else {
      tbx_.reset(tbx_index_load(p.c_str()));
    }
    if (!idx_ && !tbx_) {
      throw InputError(p, std::string("no index found (looked for ") + p + ".tbi and " + p +
                              ".csi); build one with 'bcftools index " +
                              (fmt->format == bcf ? "" : "-t ") + p + "'");
    }
  }
}

VcfReader::~VcfReader() { free(line_.s); }

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
  ret = tbx_itr_next(fp_.get(), tbx_.get(), itr_.get(), &line_);
  if (ret == -1) return false;
  if (ret < -1) {
    throw InputError(path_.string() + " after record " + std::to_string(nread_),
                     "cannot read the next line (truncated or corrupt file)");
  }
  rec->errcode = 0;
  const int pr = vcf_parse1(&line_, hdr_.get(), rec);
  if (pr < 0 || rec->errcode) {
    // Name the record from the text: the parsed fields may be incomplete.
    // vcf_parse splits the line in place (tabs become NULs): undo that for the message.
    std::string text(line_.s, std::min<std::size_t>(line_.l, 200));
    for (char& ch : text)
      if (ch == '\0') ch = '\t';
    const auto t1 = text.find('\t');
    const auto t2 = t1 == std::string::npos ? t1 : text.find('\t', t1 + 1);
    std::string loc = t2 == std::string::npos ? text.substr(0, 40) : text.substr(0, t2);
    for (char& c : loc)
      if (c == '\t') c = ':';
    throw InputError(path_.string() + " record " + loc, describe_errcode(rec->errcode));
  }
  check_record(rec, 0);
  ++nread_;
  return true;
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
