#include "genoforest/call/vcf_writer.hpp"

#include <htslib/hts.h>
#include <htslib/vcf.h>

#include <cmath>
#include <cstdio>

#include "genoforest/call/genotype.hpp"
#include "genoforest/core/error.hpp"
#include "genoforest/core/files.hpp"
#include "genoforest/core/version.hpp"

namespace genoforest::call {

namespace fs = std::filesystem;

struct CallWriter::Impl {
  htsFile* fp = nullptr;
  bcf_hdr_t* hdr = nullptr;
  bcf1_t* rec = nullptr;
  fs::path path, index_path;
  std::vector<int> rid;  // header id of each contig
  int pass = 0, low_qual_id = 0;
  double low_qual = 20;
  std::vector<std::int32_t> buf;
  std::vector<float> fbuf;
  ~Impl() {
    if (rec) bcf_destroy(rec);
    if (fp) hts_close(fp);
    if (hdr) bcf_hdr_destroy(hdr);
  }
};

CallWriter::CallWriter(const fs::path& path, const fs::path& index_path, bool bcf, const VcfHeaderFacts& f)
    : impl_(std::make_unique<Impl>()) {
  auto& m = *impl_;
  m.path = path;
  m.index_path = index_path;
  m.low_qual = f.low_qual;
  m.hdr = bcf_hdr_init("w");
  if (!m.hdr) throw InternalError("cannot allocate a VCF header");
  char lq[160];
  std::snprintf(lq, sizeof lq, "##FILTER=<ID=LowQual,Description=\"Site QUAL below %g\">", f.low_qual);
  std::vector<std::string> lines = {
      "##source=genoforest call " + std::string(kVersion),
      "##genoforest_version=" + std::string(kVersion),
      "##genoforest_callCommand=" + f.command_line + "; Date=" + now_iso8601(),
      "##reference=file://" + fs::absolute(f.reference).lexically_normal().string(),
      lq,
      "##INFO=<ID=DP,Number=1,Type=Integer,Description=\"Reads used at the site, all samples (one per template)\">",
      "##INFO=<ID=AC,Number=A,Type=Integer,Description=\"Allele count in the called genotypes, per alternative allele\">",
      "##INFO=<ID=AN,Number=1,Type=Integer,Description=\"Total number of alleles in the called genotypes\">",
      "##INFO=<ID=AF,Number=A,Type=Float,Description=\"Allele frequency in the called genotypes (AC/AN)\">",
      "##INFO=<ID=MQ,Number=1,Type=Float,Description=\"Root mean square mapping quality of the reads used\">",
      "##INFO=<ID=INDEL,Number=0,Type=Flag,Description=\"The site is an indel\">",
      "##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">",
      "##FORMAT=<ID=GQ,Number=1,Type=Integer,Description=\"Genotype quality: phred-scaled probability that the call is wrong\">",
      "##FORMAT=<ID=PL,Number=G,Type=Integer,Description=\"Phred-scaled genotype likelihoods, normalised to 0 for the most likely\">",
      "##FORMAT=<ID=DP,Number=1,Type=Integer,Description=\"Reads used for this sample (one per template)\">",
      "##FORMAT=<ID=AD,Number=R,Type=Integer,Description=\"Reads that clearly support each allele\">",
  };
  for (const auto& c : f.contigs) lines.push_back("##contig=<ID=" + c.name + ",length=" + std::to_string(c.length) + ">");
  for (const auto& l : lines) {
    if (bcf_hdr_append(m.hdr, l.c_str()) < 0) throw InternalError("bad VCF header line: " + l);
  }
  for (const auto& s : f.samples) {
    if (bcf_hdr_add_sample(m.hdr, s.c_str()) < 0) throw InternalError("cannot add sample " + s + " to the VCF header");
  }
  if (bcf_hdr_sync(m.hdr) < 0) throw InternalError("cannot finish the VCF header");
  for (const auto& c : f.contigs) m.rid.push_back(bcf_hdr_name2id(m.hdr, c.name.c_str()));
  m.pass = bcf_hdr_id2int(m.hdr, BCF_DT_ID, "PASS");
  m.low_qual_id = bcf_hdr_id2int(m.hdr, BCF_DT_ID, "LowQual");

  // No index: plain VCF text (standard output, "-").
  m.fp = hts_open(path.c_str(), index_path.empty() ? "w" : bcf ? "wb" : "wz");
  if (!m.fp) throw IoError("cannot create " + path.string() + ": " + errno_text());
  if (bcf_hdr_write(m.fp, m.hdr) < 0) throw IoError("cannot write " + path.string() + ": " + errno_text());
  if (!index_path.empty() && bcf_idx_init(m.fp, m.hdr, bcf ? 14 : 0, index_path.c_str()) < 0) {
    throw IoError("cannot start the index " + index_path.string());
  }
  m.rec = bcf_init();
}

CallWriter::~CallWriter() = default;

void CallWriter::write(std::size_t contig, const std::vector<SiteCall>& calls) {
  auto& m = *impl_;
  bcf1_t* rec = m.rec;
  const int n_samples = bcf_hdr_nsamples(m.hdr);
  for (const SiteCall& c : calls) {
    bcf_clear1(rec);
    rec->rid = m.rid[contig];
    rec->pos = c.pos;
    rec->qual = static_cast<float>(std::round(c.qual * 100) / 100);
    std::vector<const char*> alleles;
    for (const auto& a : c.alleles) alleles.push_back(a.c_str());
    const auto n_alleles = static_cast<int>(alleles.size());
    if (bcf_update_alleles(m.hdr, rec, alleles.data(), n_alleles) < 0) throw InternalError("cannot set the alleles");
    int filter = c.qual < m.low_qual ? m.low_qual_id : m.pass;
    bcf_update_filter(m.hdr, rec, &filter, 1);

    std::vector<std::int32_t> ac(static_cast<std::size_t>(n_alleles - 1), 0);
    std::int32_t an = 0;
    for (const int a : c.gt) {
      if (a < 0) continue;
      ++an;
      if (a > 0) ++ac[static_cast<std::size_t>(a - 1)];
    }
    std::vector<float> af;
    for (const auto v : ac) af.push_back(an > 0 ? static_cast<float>(v) / static_cast<float>(an) : 0.0f);
    const std::int32_t dp = c.dp;
    const float mq = static_cast<float>(std::round(c.mq * 100) / 100);
    bcf_update_info_int32(m.hdr, rec, "DP", &dp, 1);
    bcf_update_info_int32(m.hdr, rec, "AC", ac.data(), static_cast<int>(ac.size()));
    bcf_update_info_int32(m.hdr, rec, "AN", &an, 1);
    bcf_update_info_float(m.hdr, rec, "AF", af.data(), static_cast<int>(af.size()));
    bcf_update_info_float(m.hdr, rec, "MQ", &mq, 1);
    if (c.indel) bcf_update_info_flag(m.hdr, rec, "INDEL", nullptr, 1);

    auto& b = m.buf;
    b.clear();
    for (const int a : c.gt) b.push_back(a < 0 ? bcf_gt_missing : bcf_gt_unphased(a));
    if (bcf_update_genotypes(m.hdr, rec, b.data(), static_cast<int>(b.size())) < 0) throw InternalError("cannot set GT");
    auto put = [&](const char* key, const std::vector<int>& v) {
      b.assign(v.begin(), v.end());
      for (auto& x : b) x = x < 0 ? bcf_int32_missing : x;
      if (bcf_update_format_int32(m.hdr, rec, key, b.data(), static_cast<int>(b.size())) < 0) {
        throw InternalError(std::string("cannot set ") + key);
      }
    };
    put("GQ", c.gq);
    put("PL", c.pl);
    put("DP", c.sample_dp);
    put("AD", c.ad);
    (void)n_samples;
    if (bcf_write(m.fp, m.hdr, rec) < 0) throw IoError("cannot write " + m.path.string() + ": " + errno_text());
    ++records_;
  }
}

void CallWriter::close() {
  auto& m = *impl_;
  if (!m.fp) return;
  if (!m.index_path.empty() && bcf_idx_save(m.fp) < 0) throw IoError("cannot write the index " + m.index_path.string() + ": " + errno_text());
  const int ret = hts_close(m.fp);
  m.fp = nullptr;
  if (ret < 0) throw IoError("cannot finish " + m.path.string() + ": " + errno_text());
}

}  // namespace genoforest::call
