#include "genoforest/features/site.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <sstream>

#include "genoforest/core/error.hpp"

namespace genoforest::features {

void FeatureFilters::validate() const {
  if (!(min_maf >= 0.0 && min_maf <= 0.5)) throw UsageError("--min-maf must be in [0, 0.5]");
  if (!(max_missing >= 0.0 && max_missing <= 1.0)) throw UsageError("--max-missing must be in [0, 1]");
}

std::string FeatureFilters::describe() const {
  std::ostringstream s;
  s << "min-maf=" << min_maf << " max-missing=" << max_missing << " pass-only=" << pass_only
    << " snps-only=" << snps_only << " biallelic-only=" << biallelic_only;
  return s.str();
}

FilterCounts& FilterCounts::operator+=(const FilterCounts& o) {
  records += o.records;
  columns_seen += o.columns_seen;
  kept += o.kept;
  not_pass += o.not_pass;
  not_biallelic += o.not_biallelic;
  not_snv += o.not_snv;
  too_missing += o.too_missing;
  low_maf += o.low_maf;
  records_without_gt += o.records_without_gt;
  not_selected += o.not_selected;
  return *this;
}

namespace {
bool is_base(char c) noexcept {
  switch (c) {
    case 'A': case 'C': case 'G': case 'T': case 'a': case 'c': case 'g': case 't': return true;
    default: return false;
  }
}
bool is_sequence(const char* s) noexcept {
  if (!*s) return false;
  for (; *s; ++s)
    if (!is_base(*s) && *s != 'N' && *s != 'n') return false;
  return true;
}
int call_width(const std::int32_t* g, int ploidy) noexcept {
  int k = 0;
  while (k < ploidy && g[k] != bcf_int32_vector_end) ++k;
  return k;
}
char upper(char c) noexcept { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c; }
}  // namespace

VariantType classify(const char* ref, const char* alt) noexcept {
  const std::size_t lr = std::strlen(ref), la = std::strlen(alt);
  if (lr == 1 && la == 1 && is_base(ref[0]) && is_base(alt[0])) return VariantType::kSnv;
  if (is_sequence(ref) && is_sequence(alt) && lr != la) return VariantType::kIndel;
  return VariantType::kOther;
}

bool is_transition(char ref, char alt) noexcept {
  const char r = upper(ref), a = upper(alt);
  return (r == 'A' && a == 'G') || (r == 'G' && a == 'A') || (r == 'C' && a == 'T') || (r == 'T' && a == 'C');
}

SiteExtractor::SiteExtractor(const bcf_hdr_t* header, FeatureFilters filters)
    : hdr_(header), filters_(std::move(filters)),
      nsamples_(filters_.samples ? static_cast<int>(filters_.samples->size()) : bcf_hdr_nsamples(header)) {
  column_.resize(static_cast<std::size_t>(nsamples_));
}

std::size_t SiteExtractor::extract(bcf1_t* rec, const std::string& file, std::vector<VariantRow>& rows,
                                   std::vector<std::int8_t>& dosages) {
  io::get_genotypes(hdr_, rec, gt_, file + " record " + bcf_hdr_id2name(hdr_, rec->rid) + ":" + std::to_string(rec->pos + 1));
  return extract(rec, gt_, file, rows, dosages);
}

std::size_t SiteExtractor::extract(const bcf1_t* rec, const io::Genotypes& genotypes, const std::string& file,
                                   std::vector<VariantRow>& rows, std::vector<std::int8_t>& dosages) {
  ++counts_.records;
  const auto where = [&] { return file + " record " + bcf_hdr_id2name(hdr_, rec->rid) + ":" + std::to_string(rec->pos + 1); };
  const int n_alt = rec->n_allele - 1;
  if (n_alt < 1) return 0;  // monomorphic reference site: no ALT, no column
  // A gVCF's "any other allele" (GATK's <NON_REF>, bcftools' <*>) is not an allele: its blocks
  // would become dosage columns of reference calls.
  if (const char* last = rec->d.allele[n_alt]; last[0] == '<' && (std::strcmp(last, "<NON_REF>") == 0 || std::strcmp(last, "<*>") == 0)) {
    throw InputError(where(), std::string("a gVCF record (ALT ") + last +
                                  "): genotype the gVCFs jointly first (GATK GenotypeGVCFs, 'bcftools call' or "
                                  "'genoforest call' on the BAMs) and give the resulting VCF");
  }
  counts_.columns_seen += static_cast<std::uint64_t>(n_alt);

  bool pass = true;
  if (filters_.pass_only && rec->d.n_flt > 0) {
    pass = bcf_has_filter(const_cast<bcf_hdr_t*>(hdr_), const_cast<bcf1_t*>(rec), const_cast<char*>("PASS")) == 1;
  }
  if (!pass) {
    counts_.not_pass += static_cast<std::uint64_t>(n_alt);
    return 0;
  }
  if (filters_.biallelic_only && n_alt != 1) {
    counts_.not_biallelic += static_cast<std::uint64_t>(n_alt);
    return 0;
  }
  const io::Genotypes& g = filters_.samples ? subset(genotypes) : genotypes;
  if (g.has_biallelic_dosage) return extract_biallelic(rec, g.biallelic_dosage, rows, dosages);

  const int ploidy = g.ploidy;
  const bool has_gt = ploidy > 0;
  if (!has_gt) ++counts_.records_without_gt;
  const int ngt = ploidy * nsamples_;
  if (has_gt && g.values.size() != static_cast<std::size_t>(ngt)) {
    throw InternalError("SiteExtractor: genotype buffer does not match the sample count");
  }
  const std::int32_t* gt = g.values.data();
  // Validate allele indices once per record.
  if (has_gt) {
    for (int k = 0; k < ngt; ++k) {
      const int32_t v = gt[k];
      if (v == bcf_int32_vector_end || bcf_gt_is_missing(v)) continue;
      if (bcf_gt_allele(v) >= rec->n_allele || bcf_gt_allele(v) < 0) {
        throw InputError(where(), "sample " + std::string(hdr_->samples[column_of(k / ploidy)]) + " has GT allele index " +
                                    std::to_string(bcf_gt_allele(v)) + " but the record has " +
                                    std::to_string(rec->n_allele) + " alleles");
      }
    }
  }

  std::size_t appended = 0;
  const char* ref = rec->d.allele[0];
  for (int a = 1; a <= n_alt; ++a) {
    const char* alt = rec->d.allele[a];
    const VariantType type = classify(ref, alt);
    if (filters_.snps_only && type != VariantType::kSnv) {
      ++counts_.not_snv;
      continue;
    }
    // Dosages of allele a.
    std::int64_t alt_copies = 0, called_alleles = 0, missing = 0;
    std::int8_t* col = column_.data();
    if (!has_gt) {
      std::fill(column_.begin(), column_.end(), kMissingDosage);
      missing = nsamples_;
    } else if (ploidy == 2) {
      for (int s = 0; s < nsamples_; ++s) {
        const int32_t g0 = gt[2 * s], g1 = gt[2 * s + 1];
        if (bcf_gt_is_missing(g0) || g0 == bcf_int32_vector_end) {
          col[s] = kMissingDosage;
          ++missing;
        } else if (g1 == bcf_int32_vector_end) {  // haploid call in a diploid record
          const int d = bcf_gt_allele(g0) == a;
          col[s] = static_cast<std::int8_t>(d);
          alt_copies += d;
          called_alleles += 1;
        } else if (bcf_gt_is_missing(g1)) {
          col[s] = kMissingDosage;
          ++missing;
        } else {
          const int d = (bcf_gt_allele(g0) == a) + (bcf_gt_allele(g1) == a);
          col[s] = static_cast<std::int8_t>(d);
          alt_copies += d;
          called_alleles += 2;
        }
      }
    } else {
      for (int s = 0; s < nsamples_; ++s) {
        const int32_t* g = gt + static_cast<std::ptrdiff_t>(s) * ploidy;
        int d = 0, n = 0;
        bool miss = false;
        if (ploidy > 2 && g[2] != bcf_int32_vector_end) {
          throw InputError(where(), "sample " + std::string(hdr_->samples[column_of(s)]) + " has a call of " +
                                        std::to_string(call_width(g, ploidy)) +
                                        " alleles: only haploid and diploid calls become dosages "
                                        "(polyploid genotypes are not supported)");
        }
        for (int k = 0; k < ploidy; ++k) {
          if (g[k] == bcf_int32_vector_end) break;
          if (bcf_gt_is_missing(g[k])) {
            miss = true;
            break;
          }
          d += bcf_gt_allele(g[k]) == a;
          ++n;
        }
        if (miss || n == 0 || d > 127) {
          col[s] = kMissingDosage;
          ++missing;
        } else {
          col[s] = static_cast<std::int8_t>(d);
          alt_copies += d;
          called_alleles += n;
        }
      }
    }
    appended += keep_column(rec, a, type, alt_copies, called_alleles, missing, col, rows, dosages);
  }
  return appended;
}

const io::Genotypes& SiteExtractor::subset(const io::Genotypes& in) {
  const auto& keep = *filters_.samples;
  sub_.ploidy = in.ploidy;
  sub_.has_biallelic_dosage = in.has_biallelic_dosage;
  if (in.has_biallelic_dosage) {
    sub_.values.clear();
    sub_.biallelic_dosage.resize(keep.size());
    for (std::size_t i = 0; i < keep.size(); ++i) sub_.biallelic_dosage[i] = in.biallelic_dosage[static_cast<std::size_t>(keep[i])];
  } else {
    const auto p = static_cast<std::size_t>(std::max(in.ploidy, 0));
    sub_.values.resize(keep.size() * p);
    for (std::size_t i = 0; i < keep.size(); ++i)
      for (std::size_t k = 0; k < p; ++k) sub_.values[i * p + k] = in.values[static_cast<std::size_t>(keep[i]) * p + k];
  }
  return sub_;
}

bool SiteExtractor::keep_column(const bcf1_t* rec, int a, VariantType type, std::int64_t alt_copies,
                                std::int64_t called_alleles, std::int64_t missing, const std::int8_t* col,
                                std::vector<VariantRow>& rows, std::vector<std::int8_t>& dosages) {
  if (filters_.variants && !filters_.variants->kept(bcf_hdr_id2name(hdr_, rec->rid), rec->pos + 1, rec->d.id, rec->d.allele[0],
                                                    rec->d.allele[a])) {
    ++counts_.not_selected;
    return false;
  }
  const double call_rate = nsamples_ ? 1.0 - static_cast<double>(missing) / nsamples_ : 0.0;
  const double af = called_alleles ? static_cast<double>(alt_copies) / static_cast<double>(called_alleles)
                                   : std::numeric_limits<double>::quiet_NaN();
  if (1.0 - call_rate > filters_.max_missing) {
    ++counts_.too_missing;
    return false;
  }
  if (filters_.min_maf > 0.0 && !(std::min(af, 1.0 - af) >= filters_.min_maf)) {
    ++counts_.low_maf;
    return false;
  }
  const char* ref = rec->d.allele[0];
  const char* alt = rec->d.allele[a];
  VariantRow row;
  row.chrom = bcf_hdr_id2name(hdr_, rec->rid);
  row.pos = rec->pos + 1;
  row.id = rec->d.id ? rec->d.id : ".";
  row.ref = ref;
  row.alt = alt;
  row.qual = bcf_float_is_missing(rec->qual) ? std::numeric_limits<float>::quiet_NaN() : rec->qual;
  if (rec->d.n_flt == 0) {
    row.filter = ".";
  } else {
    for (int f = 0; f < rec->d.n_flt; ++f) {
      if (f) row.filter += ';';
      row.filter += bcf_hdr_int2id(hdr_, BCF_DT_ID, rec->d.flt[f]);
    }
  }
  row.allele_index = a;
  row.n_alleles = rec->n_allele;
  row.type = type;
  row.af = af;
  row.call_rate = call_rate;
  row.transition = type == VariantType::kSnv && is_transition(ref[0], alt[0]);
  rows.push_back(std::move(row));
  dosages.insert(dosages.end(), col, col + nsamples_);
  ++counts_.kept;
  return true;
}

std::size_t SiteExtractor::extract_biallelic(const bcf1_t* rec, const std::vector<std::int8_t>& dosage,
                                             std::vector<VariantRow>& rows, std::vector<std::int8_t>& dosages) {
  if (rec->n_allele != 2 || dosage.size() != static_cast<std::size_t>(nsamples_)) {
    throw InternalError("SiteExtractor: biallelic dosages for a record that is not biallelic");
  }
  const VariantType type = classify(rec->d.allele[0], rec->d.allele[1]);
  if (filters_.snps_only && type != VariantType::kSnv) {
    ++counts_.not_snv;
    return 0;
  }
  std::int64_t alt_copies = 0, missing = 0;
  for (const std::int8_t d : dosage) {
    missing += d < 0;
    alt_copies += d > 0 ? d : 0;
  }
  const std::int64_t called_alleles = 2 * (nsamples_ - missing);
  return keep_column(rec, 1, type, alt_copies, called_alleles, missing, dosage.data(), rows, dosages) ? 1 : 0;
}

}  // namespace genoforest::features
