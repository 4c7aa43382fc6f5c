#include "genoforest/features/plink.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <unordered_map>

#include "genoforest/core/error.hpp"
#include "genoforest/core/text.hpp"

namespace genoforest::features {

namespace fs = std::filesystem;

namespace {

/// The prefix of a fileset named by PREFIX.bed or PREFIX.
fs::path prefix_of(const std::string& input) {
  return input.ends_with(".bed") ? fs::path(input.substr(0, input.size() - 4)) : fs::path(input);
}

std::ifstream open_text(const fs::path& p, const char* what) {
  std::ifstream in(p);
  if (!in) throw IoError("cannot open " + p.string() + " (the PLINK fileset's " + what + "): " + errno_text());
  return in;
}

/// Dosage of A1 of the four samples of a .bed byte, low bits first.
constexpr std::array<std::array<std::int8_t, 4>, 256> make_decode() {
  std::array<std::array<std::int8_t, 4>, 256> t{};
  constexpr std::int8_t code[4] = {2, kMissingDosage, 1, 0};  // 00 hom A1, 01 missing, 10 het, 11 hom A2
  for (int b = 0; b < 256; ++b)
    for (int k = 0; k < 4; ++k) t[static_cast<std::size_t>(b)][static_cast<std::size_t>(k)] = code[(b >> (2 * k)) & 3];
  return t;
}
constexpr auto kDecode = make_decode();

bool missing_pheno(const std::string& v) { return v == "-9" || v == "0" || v == "NA" || v == "na" || v == "."; }

}  // namespace

bool is_plink_input(const std::string& input) {
  std::error_code ec;
  if (input.ends_with(".bed")) return true;
  return !input.empty() && !fs::exists(input, ec) && fs::exists(input + ".bed", ec);
}

PlinkBedSource::PlinkBedSource(const std::string& input) {
  const fs::path prefix = prefix_of(input);
  bed_ = prefix.string() + ".bed";
  bim_ = prefix.string() + ".bim";
  fam_ = prefix.string() + ".fam";
  std::string line;
  {
    auto in = open_text(fam_, ".fam");
    std::unordered_map<std::string, std::size_t> seen;
    std::size_t lineno = 0;
    while (std::getline(in, line)) {
      ++lineno;
      const auto f = split_blanks(line);
      if (f.empty()) continue;
      const std::string where = fam_.string() + " line " + std::to_string(lineno);
      if (f.size() != 6) throw InputError(where, "has " + std::to_string(f.size()) + " fields; a .fam line has 6 (FID IID PAT MAT SEX PHENOTYPE)");
      const auto [it, fresh] = seen.emplace(f[1], lineno);
      if (!fresh) throw InputError(where, "duplicate sample ID (IID) '" + f[1] + "' (first on line " + std::to_string(it->second) + ")");
      samples_.push_back(f[1]);
      fam_pheno_.push_back(f[5]);
    }
    if (samples_.empty()) throw InputError(fam_.string(), "no sample");
  }
  {
    auto in = open_text(bim_, ".bim");
    std::unordered_map<std::string, std::size_t> contig_index;
    std::size_t lineno = 0;
    while (std::getline(in, line)) {
      ++lineno;
      const auto f = split_blanks(line);
      if (f.empty()) continue;
      const std::string where = bim_.string() + " line " + std::to_string(lineno);
      if (f.size() != 6) throw InputError(where, "has " + std::to_string(f.size()) + " fields; a .bim line has 6 (CHROM ID CM POS A1 A2)");
      const auto pos = parse_int(f[3]);
      if (!pos || *pos < 1) throw InputError(where, "position '" + f[3] + "' is not a positive integer");
      const auto [it, fresh] = contig_index.emplace(f[0], contigs_.size());
      if (fresh) {
        contigs_.push_back(f[0]);
        first_.push_back(static_cast<std::int64_t>(variants_.size()));
        contig_end_.push_back(0);
      } else if (it->second + 1 != contigs_.size()) {
        throw InputError(where, "contig " + f[0] + " again after " + contigs_.back() +
                                    ": the variants must be grouped by contig and sorted (plink2 --sort-vars --make-bed)");
      }
      if (*pos < contig_end_.back()) {
        throw InputError(where, "position " + f[3] + " after " + std::to_string(contig_end_.back()) + " on " + f[0] +
                                    ": the variants must be sorted by position (plink2 --sort-vars --make-bed)");
      }
      contig_end_.back() = *pos;
      variants_.push_back(Variant{*pos, f[1], f[4], f[5]});
    }
    first_.push_back(static_cast<std::int64_t>(variants_.size()));
  }
  bytes_per_variant_ = (static_cast<std::int64_t>(samples_.size()) + 3) / 4;
  {
    std::ifstream in(bed_, std::ios::binary);
    if (!in) throw IoError("cannot open " + bed_.string() + ": " + errno_text());
    unsigned char magic[3] = {};
    in.read(reinterpret_cast<char*>(magic), 3);
    if (in.gcount() != 3 || magic[0] != 0x6c || magic[1] != 0x1b) {
      throw InputError(bed_.string(), "not a PLINK 1 .bed file (its first bytes are not 6c 1b)");
    }
    if (magic[2] != 0x01) {
      throw InputError(bed_.string(), "a sample-major .bed (plink 1.0's); convert it with 'plink --bfile PREFIX --make-bed'");
    }
    std::error_code ec;
    const auto size = static_cast<std::int64_t>(fs::file_size(bed_, ec));
    const std::int64_t want = 3 + bytes_per_variant_ * static_cast<std::int64_t>(variants_.size());
    if (size != want) {
      throw InputError(bed_.string(), std::to_string(size) + " bytes, but " + std::to_string(variants_.size()) + " variants (.bim) of " +
                                          std::to_string(samples_.size()) + " samples (.fam) take " + std::to_string(want) +
                                          ": truncated, or the .bim/.fam of another fileset");
    }
  }
  // A VCF header of the fileset, so that the VCF path's extractor (filters, subsets) reads it.
  hdr_.reset(bcf_hdr_init("w"));
  if (!hdr_) throw InternalError("cannot create a VCF header");
  for (std::size_t c = 0; c < contigs_.size(); ++c) {
    const std::string l = "##contig=<ID=" + contigs_[c] + ">";
    if (bcf_hdr_append(hdr_.get(), l.c_str()) < 0) throw InputError(bim_.string(), "contig name '" + contigs_[c] + "' cannot be a VCF contig");
  }
  if (bcf_hdr_append(hdr_.get(), "##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">") < 0) throw InternalError("GT header line");
  for (const auto& s : samples_) {
    if (bcf_hdr_add_sample(hdr_.get(), s.c_str()) < 0) throw InputError(fam_.string(), "sample '" + s + "' cannot be a VCF sample name");
  }
  if (bcf_hdr_sync(hdr_.get()) < 0) throw InternalError("cannot finish the VCF header");
}

std::pair<std::int64_t, std::int64_t> PlinkBedSource::variants_in(const Region& region) const {
  const auto it = std::find(contigs_.begin(), contigs_.end(), region.contig);
  if (it == contigs_.end()) return {0, 0};
  const auto c = static_cast<std::size_t>(it - contigs_.begin());
  const auto b = variants_.begin() + first_[c], e = variants_.begin() + first_[c + 1];
  auto by_pos = [](const Variant& v, std::int64_t p) { return v.pos < p; };
  const auto lo = std::lower_bound(b, e, region.beg + 1, by_pos);
  const auto hi = region.end == Region::kToContigEnd ? e : std::lower_bound(lo, e, region.end + 1, by_pos);
  return {lo - variants_.begin(), hi - variants_.begin()};
}

std::vector<Region> PlinkBedSource::plan_regions(std::int64_t region_size) const {
  if (region_size < 1) throw UsageError("--region-size must be at least 1 bp");
  std::vector<Region> out;
  for (std::size_t c = 0; c < contigs_.size(); ++c) {
    for (std::int64_t b = 0; b < contig_end_[c]; b += region_size) {
      Region piece{contigs_[c], b, std::min(contig_end_[c], b + region_size)};
      const auto [lo, hi] = variants_in(piece);
      if (hi > lo) out.push_back(std::move(piece));
    }
  }
  return out;
}

RegionColumns PlinkBedSource::extract_region(const Region& region, const FeatureFilters& filters) const {
  RegionColumns out;
  SiteExtractor ex(hdr_.get(), filters);
  const auto [lo, hi] = variants_in(region);
  if (hi > lo) {
    std::vector<unsigned char> bytes(static_cast<std::size_t>((hi - lo) * bytes_per_variant_));
    const int fd = ::open(bed_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw IoError("cannot open " + bed_.string() + ": " + errno_text());
    std::size_t got = 0;
    const off_t at = 3 + static_cast<off_t>(lo * bytes_per_variant_);
    while (got < bytes.size()) {
      const ssize_t r = ::pread(fd, bytes.data() + got, bytes.size() - got, at + static_cast<off_t>(got));
      if (r <= 0) {
        const std::string why = r == 0 ? std::string("the file ends early") : errno_text();
        ::close(fd);
        throw IoError("cannot read " + bed_.string() + ": " + why);
      }
      got += static_cast<std::size_t>(r);
    }
    ::close(fd);
    const auto n = samples_.size();
    io::Bcf1Ptr rec = io::make_record();
    io::Genotypes gt;
    gt.has_biallelic_dosage = true;
    gt.ploidy = 2;
    gt.biallelic_dosage.resize(n);
    const int rid = bcf_hdr_name2id(hdr_.get(), region.contig.c_str());
    for (std::int64_t j = lo; j < hi; ++j) {
      const Variant& v = variants_[static_cast<std::size_t>(j)];
      bcf_clear(rec.get());
      rec->rid = rid;
      rec->pos = v.pos - 1;
      bcf_float_set_missing(rec->qual);
      bcf_update_id(hdr_.get(), rec.get(), v.id.c_str());
      const bool monomorphic = v.a1 == "0" || v.a1 == v.a2;
      const std::string alleles = monomorphic ? v.a2 : v.a2 + "," + v.a1;  // REF = A2, ALT = A1
      if (bcf_update_alleles_str(hdr_.get(), rec.get(), alleles.c_str()) < 0) {
        throw InputError(bim_.string() + " variant " + v.id, "alleles '" + v.a1 + "' and '" + v.a2 + "' cannot be VCF alleles");
      }
      if (monomorphic) {
        ex.extract(rec.get(), io::Genotypes{}, bed_.string(), out.rows, out.dosages);  // no ALT: no column
        continue;
      }
      const unsigned char* b = bytes.data() + (j - lo) * bytes_per_variant_;
      std::size_t i = 0;
      for (; i + 4 <= n; i += 4) std::copy_n(kDecode[b[i / 4]].begin(), 4, gt.biallelic_dosage.begin() + static_cast<std::ptrdiff_t>(i));
      for (; i < n; ++i) gt.biallelic_dosage[i] = kDecode[b[i / 4]][i % 4];
      ex.extract(rec.get(), gt, bed_.string(), out.rows, out.dosages);
    }
  }
  out.counts = ex.counts();
  return out;
}

std::optional<io::PhenotypeTable> PlinkBedSource::phenotypes() const {
  // Case/control when every value is 1, 2 or a missing code (0 and -9 then missing); else
  // quantitative (-9 and NA missing, 0 a value), as plink reads a .fam.
  bool case_control = true;
  for (const auto& p : fam_pheno_) case_control = case_control && (p == "1" || p == "2" || missing_pheno(p));
  auto missing = [&](const std::string& p) { return case_control ? missing_pheno(p) : (p == "-9" || p == "NA" || p == "na"); };
  bool any = false;
  for (const auto& p : fam_pheno_) any = any || !missing(p);
  if (!any) return std::nullopt;
  io::PhenotypeTable t;
  t.path = fam_;
  t.label_column = "PHENOTYPE";
  for (std::size_t i = 0; i < samples_.size(); ++i) {
    io::PhenotypeRow r;
    r.sample_id = samples_[i];
    const auto& p = fam_pheno_[i];
    if (!missing(p)) r.label = case_control ? (p == "2" ? "case" : "control") : p;
    t.rows.push_back(std::move(r));
  }
  return t;
}

}  // namespace genoforest::features
