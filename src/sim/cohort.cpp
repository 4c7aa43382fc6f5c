#include "genoforest/sim/cohort.hpp"

#include <htslib/hts.h>
#include <htslib/vcf.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <numeric>
#include <optional>

#include "genoforest/core/error.hpp"
#include "genoforest/core/files.hpp"
#include "genoforest/core/rng.hpp"
#include "genoforest/core/version.hpp"
#include "genoforest/io/vcf.hpp"

namespace genoforest::sim {

namespace fs = std::filesystem;

// RNG streams: each purpose draws from its own sequence.
enum Stream : std::uint64_t { kLayout = 1, kSite = 2, kFounderPick = 3, kCausal = 4, kNoise = 5 };

void CohortOptions::validate() const {
  if (samples < 1) throw UsageError("--samples must be at least 1");
  if (variants < 1) throw UsageError("--variants must be at least 1");
  if (contigs < 1 || contigs > variants) throw UsageError("--contigs must be in [1, --variants]");
  if (populations < 1) throw UsageError("--populations must be at least 1");
  if (!(fst >= 0.0 && fst < 1.0)) throw UsageError("--fst must be in [0, 1)");
  if (ld_block < 0) throw UsageError("--ld-block must be >= 0");
  if (founders < 1) throw UsageError("--founders must be at least 1");
  if (!(min_maf > 0.0 && min_maf <= 0.5)) throw UsageError("--min-af must be in (0, 0.5]");
  for (auto [v, name] : {std::pair{missing_rate, "--missing-rate"}, {multiallelic_rate, "--multiallelic-rate"},
                         {indel_rate, "--indel-rate"}, {lowqual_rate, "--lowqual-rate"}}) {
    if (!(v >= 0.0 && v <= 1.0)) throw UsageError(std::string(name) + " must be in [0, 1]");
  }
  if (causal < 0 || causal > variants) throw UsageError("--causal must be in [0, --variants]");
  if (!(heritability >= 0.0 && heritability <= 1.0)) throw UsageError("--heritability must be in [0, 1]");
  if (!(prevalence > 0.0 && prevalence < 1.0)) throw UsageError("--prevalence must be in (0, 1)");
  if (trait != "binary" && trait != "quantitative") throw UsageError("--trait must be binary or quantitative");
  if (mean_spacing < 8) throw UsageError("--spacing must be at least 8 bp");
  if (planted_samples < 0 || planted_samples > samples) throw UsageError("--read-samples must be in [0, --samples]");
}

namespace {

constexpr char kBases[] = "ACGT";

struct SiteLayout {
  std::vector<int> contig;           // per site
  std::vector<std::int64_t> pos;     // 1-based
  std::vector<std::int64_t> length;  // per contig
};

SiteLayout make_layout(const CohortOptions& o) {
  SiteLayout l;
  l.contig.resize(static_cast<std::size_t>(o.variants));
  l.pos.resize(static_cast<std::size_t>(o.variants));
  l.length.assign(static_cast<std::size_t>(o.contigs), 0);
  Rng rng(task_seed(o.seed, kLayout, 0));
  std::int64_t j = 0;
  for (int c = 0; c < o.contigs; ++c) {
    const std::int64_t count = o.variants / o.contigs + (c < o.variants % o.contigs ? 1 : 0);
    std::int64_t pos = 0;
    for (std::int64_t k = 0; k < count; ++k, ++j) {
      // Gaps >= 8 bp keep every indel (at most 6 bp of REF) clear of the next site.
      pos += 8 + static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(2 * o.mean_spacing - 15)));
      l.contig[static_cast<std::size_t>(j)] = c;
      l.pos[static_cast<std::size_t>(j)] = pos;
    }
    l.length[static_cast<std::size_t>(c)] = pos + o.mean_spacing;
  }
  return l;
}

bool acgt(char c) { return c == 'A' || c == 'C' || c == 'G' || c == 'T'; }

// Sites on a loaded reference: counts in proportion to contig lengths, each site's 7-bp window
// (the longest REF) on A/C/G/T only.
SiteLayout layout_on(const CohortOptions& o, const Reference& ref) {
  SiteLayout l;
  l.contig.resize(static_cast<std::size_t>(o.variants));
  l.pos.resize(static_cast<std::size_t>(o.variants));
  const double total = static_cast<double>(ref.total_length());
  Rng rng(task_seed(o.seed, kLayout, 0));
  std::int64_t j = 0;
  for (std::size_t c = 0; c < ref.seqs.size(); ++c) {
    const std::string& s = ref.seqs[c];
    const auto len = static_cast<std::int64_t>(s.size());
    l.length.push_back(len);
    const std::int64_t count = c + 1 == ref.seqs.size()
                                   ? o.variants - j
                                   : static_cast<std::int64_t>(static_cast<double>(o.variants) * static_cast<double>(len) / total);
    const std::int64_t spacing = count > 0 ? len / (count + 1) : len;
    if (count > 0 && spacing < 8) {
      throw UsageError("the reference is too short for " + std::to_string(o.variants) + " variants (contig " + ref.names[c] +
                       " would need sites closer than 8 bp)");
    }
    std::int64_t pos = 0;  // 1-based position of the previous site
    for (std::int64_t k = 0; k < count; ++k, ++j) {
      // Stratified: site k near (k + 1) * spacing, jittered by up to half a spacing, 8 bp apart at
      // least. (A random walk of gaps could run past the contig's end.)
      const std::int64_t half = std::max<std::int64_t>(1, spacing / 2 - 4);
      const std::int64_t jitter = static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(2 * half))) - half;
      pos = std::max(pos + 8, (k + 1) * spacing + jitter);
      auto clean = [&](std::int64_t p) {
        if (p + 6 > len) return false;
        for (std::int64_t q = p - 1; q < p + 6; ++q) if (!acgt(s[static_cast<std::size_t>(q)])) return false;
        return true;
      };
      while (pos + 6 <= len && !clean(pos)) ++pos;
      if (pos + 6 > len) {
        throw UsageError("the reference has too few A/C/G/T bases for " + std::to_string(o.variants) +
                         " variants at this density (contig " + ref.names[c] + "); ask for fewer --variants");
      }
      l.contig[static_cast<std::size_t>(j)] = static_cast<int>(c);
      l.pos[static_cast<std::size_t>(j)] = pos;
    }
  }
  return l;
}

std::vector<char> pick_causal(const CohortOptions& o) {
  std::vector<std::int64_t> idx(static_cast<std::size_t>(o.variants));
  std::iota(idx.begin(), idx.end(), 0);
  Rng rng(task_seed(o.seed, kCausal, 0));
  rng.shuffle(std::span<std::int64_t>(idx));
  std::vector<char> is(static_cast<std::size_t>(o.variants), 0);
  for (int k = 0; k < o.causal; ++k) is[static_cast<std::size_t>(idx[static_cast<std::size_t>(k)])] = 1;
  return is;
}

int population_of(std::int64_t i, const CohortOptions& o) {
  return static_cast<int>(i * o.populations / o.samples);
}

struct FileCloser {
  void operator()(htsFile* f) const noexcept { if (f) hts_close(f); }
};

}  // namespace

Cohort::Cohort(const CohortOptions& o, Reference* reference, const std::string& command_line)
    : o_(o), reference_(reference) {
  o_.validate();
  const bool plant = reference && reference->seqs.empty();
  from_ref_ = reference && !reference->seqs.empty();
  SiteLayout layout = from_ref_ ? layout_on(o_, *reference) : make_layout(o_);
  if (plant) *reference = random_reference(layout.length, o_.seed);
  contig_ = std::move(layout.contig);
  pos_ = std::move(layout.pos);
  length_ = std::move(layout.length);
  first_.assign(length_.size() + 1, 0);
  for (std::size_t j = 0, c = 0; c < length_.size(); ++c) {
    first_[c] = static_cast<std::int64_t>(j);
    while (j < contig_.size() && contig_[j] == static_cast<int>(c)) ++j;
    first_[c + 1] = static_cast<std::int64_t>(j);
  }
  causal_ = pick_causal(o_);
  const auto n = static_cast<std::size_t>(o_.samples);
  pop_.resize(n);
  for (std::size_t i = 0; i < n; ++i) pop_[i] = population_of(static_cast<std::int64_t>(i), o_);

  hdr_ = bcf_hdr_init("w");
  if (!hdr_) throw InternalError("cannot create a VCF header");
  try {
    auto add = [&](const std::string& line) {
      if (bcf_hdr_append(hdr_, line.c_str()) < 0) throw InternalError("bad header line " + line);
    };
    add("##source=genoforest simulate " + std::string(kVersion));
    add("##genoforest_simulateCommand=" + command_line);
    for (std::size_t c = 0; c < length_.size(); ++c) {
      add("##contig=<ID=" + contig_name(static_cast<int>(c)) + ",length=" + std::to_string(length_[c]) + ">");
    }
    add("##FILTER=<ID=LowQual,Description=\"Simulated low-quality site\">");
    add("##INFO=<ID=CAUSAL,Number=0,Type=Flag,Description=\"Causal variant of the simulated phenotype\">");
    add("##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">");
    for (const auto& name : samples()) {
      if (bcf_hdr_add_sample(hdr_, name.c_str()) < 0) throw InternalError("cannot add a sample");
    }
    if (bcf_hdr_sync(hdr_) < 0) throw InternalError("cannot finish the VCF header");
  } catch (...) {
    bcf_hdr_destroy(hdr_);
    throw;
  }
  pass_id_ = bcf_hdr_id2int(hdr_, BCF_DT_ID, "PASS");
  lowqual_id_ = bcf_hdr_id2int(hdr_, BCF_DT_ID, "LowQual");
}

Cohort::~Cohort() { bcf_hdr_destroy(hdr_); }

std::vector<std::string> Cohort::samples() const {
  std::vector<std::string> out(static_cast<std::size_t>(o_.samples));
  char name[32];
  for (std::size_t i = 0; i < out.size(); ++i) {
    std::snprintf(name, sizeof name, "S%06zu", i + 1);
    out[i] = name;
  }
  return out;
}

std::string Cohort::contig_name(int c) const {
  return reference_ ? reference_->names[static_cast<std::size_t>(c)] : "chr" + std::to_string(c + 1);
}

void Cohort::draw_site(std::int64_t j, bcf1_t* rec, SiteDraw& d) const {
  const CohortOptions& o = o_;
  const auto n = static_cast<std::size_t>(o.samples);
  d.allele.resize(2 * n);
  d.missing.resize(n);
  Rng rng(task_seed(o.seed, kSite, static_cast<std::uint64_t>(j)));
  const bool is_causal = causal_[static_cast<std::size_t>(j)];
  // Ancestral frequency: log-uniform in [min_maf, 0.5]; causal variants are kept common.
  const double lo = is_causal ? std::max(0.05, o.min_maf) : o.min_maf;
  const double p = lo * std::pow(0.5 / lo, rng.uniform());
  double pk[64];
  std::vector<double> pk_heap;
  double* pkp = pk;
  if (o.populations > 64) {
    pk_heap.resize(static_cast<std::size_t>(o.populations));
    pkp = pk_heap.data();
  }
  for (int k = 0; k < o.populations; ++k) pkp[k] = p;
  if (o.fst > 0.0) {
    const double s = (1.0 - o.fst) / o.fst;
    for (int k = 0; k < o.populations; ++k) pkp[k] = std::clamp(rng.beta(p * s, (1.0 - p) * s), 1e-4, 1.0 - 1e-4);
  }
  const bool indel = !is_causal && rng.chance(o.indel_rate);
  const bool tri = !is_causal && rng.chance(o.multiallelic_rate);
  const bool lowqual = !is_causal && rng.chance(o.lowqual_rate);

  // Alleles.
  const int contig = contig_[static_cast<std::size_t>(j)];
  const std::string* contig_seq = from_ref_ ? &reference_->seqs[static_cast<std::size_t>(contig)] : nullptr;
  const auto at = static_cast<std::size_t>(pos_[static_cast<std::size_t>(j)] - 1);
  std::string ref(1, kBases[rng.below(4)]);
  if (from_ref_) ref[0] = (*contig_seq)[at];
  std::string alt1, alt2;
  if (indel) {
    const auto len = 1 + static_cast<std::size_t>(rng.below(5));
    std::string extra;
    for (std::size_t k = 0; k < len; ++k) extra += kBases[rng.below(4)];
    if (rng.chance(0.5)) {
      alt1 = ref + extra;  // insertion
    } else {
      if (from_ref_) extra = contig_seq->substr(at + 1, len);
      alt1 = ref;
      ref += extra;  // deletion
    }
    if (tri) {
      do alt2 = alt1 + kBases[rng.below(4)]; while (alt2 == ref);
    }
  } else {
    const char r = ref[0];
    char a;
    do a = kBases[rng.below(4)]; while (a == r);
    alt1 = std::string(1, a);
    if (tri) {
      char b;
      do b = kBases[rng.below(4)]; while (b == r || b == a);
      alt2 = std::string(1, b);
    }
  }

  // Haplotypes.
  const bool ld = o.ld_block > 0;
  const std::int64_t block = ld ? j / o.ld_block : 0;
  std::uint8_t founder_stack[256];
  std::vector<std::uint8_t> founder_heap;
  std::uint8_t* founder_allele = founder_stack;
  const auto n_founders = static_cast<std::size_t>(o.populations) * static_cast<std::size_t>(o.founders);
  if (n_founders > sizeof founder_stack) {
    founder_heap.resize(n_founders);
    founder_allele = founder_heap.data();
  }
  if (ld) {
    for (int k = 0; k < o.populations; ++k)
      for (int f = 0; f < o.founders; ++f) founder_allele[static_cast<std::size_t>(k * o.founders + f)] = rng.chance(pkp[k]);
  }
  const std::uint64_t pick_seed = task_seed(o.seed, kFounderPick, static_cast<std::uint64_t>(block));
  // rng.chance(p) is uniform() < p, that is (next() >> 11) < p * 2^53: the same draws compared
  // as integers (this loop is most of `simulate -O h`).
  auto threshold = [](double q) { return static_cast<std::uint64_t>(std::ceil(q * 0x1.0p53)); };
  std::uint8_t* allele = d.allele.data();
  if (ld) {
    const std::uint64_t flip = threshold(0.01);
    for (std::size_t h = 0; h < 2 * n; ++h) {
      const int k = pop_[h / 2];
      const auto f = static_cast<int>(mix64(pick_seed ^ mix64(h)) % static_cast<std::uint64_t>(o.founders));
      std::uint8_t a = founder_allele[static_cast<std::size_t>(k * o.founders + f)];
      if ((rng.next() >> 11) < flip) a ^= 1;
      if (a && tri && rng.chance(0.3)) a = 2;
      allele[h] = a;
    }
  } else {
    // Samples come in population order: one threshold per run of a population.
    std::size_t i = 0;
    while (i < n) {
      const int k = pop_[i];
      std::size_t end = i;
      while (end < n && pop_[end] == k) ++end;
      const std::uint64_t t = threshold(pkp[k]);
      if (tri) {
        for (std::size_t h = 2 * i; h < 2 * end; ++h) {
          std::uint8_t a = (rng.next() >> 11) < t;
          if (a && rng.chance(0.3)) a = 2;
          allele[h] = a;
        }
      } else {
        for (std::size_t h = 2 * i; h < 2 * end; ++h) allele[h] = (rng.next() >> 11) < t;
      }
      i = end;
    }
  }
  // Calls, with missingness.
  if (o.missing_rate > 0.0) {
    const std::uint64_t t = threshold(o.missing_rate);
    for (std::size_t i = 0; i < n; ++i) d.missing[i] = (rng.next() >> 11) < t;
  } else {
    std::fill(d.missing.begin(), d.missing.end(), std::uint8_t{0});
  }
  d.causal = is_causal;
  d.effect = is_causal ? rng.normal() : 0.0;

  bcf_clear(rec);
  rec->rid = contig;
  rec->pos = pos_[static_cast<std::size_t>(j)] - 1;
  const std::string id = "v" + std::to_string(j + 1);
  bcf_update_id(hdr_, rec, id.c_str());
  const std::string alleles = ref + "," + alt1 + (tri ? "," + alt2 : "");
  bcf_update_alleles_str(hdr_, rec, alleles.c_str());
  rec->qual = lowqual ? 10.0f : 60.0f;
  int flt = lowqual ? lowqual_id_ : pass_id_;
  bcf_update_filter(hdr_, rec, &flt, 1);
  if (is_causal) bcf_update_info_flag(hdr_, rec, "CAUSAL", nullptr, 1);
}

std::pair<std::int64_t, std::int64_t> Cohort::sites_in(const Region& region) const {
  const int c = bcf_hdr_name2id(hdr_, region.contig.c_str());
  if (c < 0) return {0, 0};
  const auto b = pos_.begin() + first_[static_cast<std::size_t>(c)];
  const auto e = pos_.begin() + first_[static_cast<std::size_t>(c) + 1];
  // POS (1-based) in [beg + 1, end]: 0-based start in [beg, end).
  const auto lo = std::lower_bound(b, e, region.beg + 1);
  const auto hi = region.end == Region::kToContigEnd ? e : std::lower_bound(lo, e, region.end + 1);
  return {lo - pos_.begin(), hi - pos_.begin()};
}

std::vector<Region> Cohort::plan_regions(std::int64_t region_size) const {
  if (region_size < 1) throw UsageError("--region-size must be at least 1 bp");
  std::vector<Region> out;
  for (std::size_t c = 0; c < length_.size(); ++c) {
    for (std::int64_t b = 0; b < length_[c]; b += region_size) {
      Region piece{contig_name(static_cast<int>(c)), b, std::min(length_[c], b + region_size)};
      const auto [lo, hi] = sites_in(piece);
      if (hi > lo) out.push_back(std::move(piece));
    }
  }
  return out;
}

CohortPhenotype Cohort::phenotype() const {
  const auto n = static_cast<std::size_t>(o_.samples);
  CohortPhenotype ph;
  std::vector<double> genetic(n, 0.0);
  io::Bcf1Ptr rec = io::make_record();
  SiteDraw d;
  for (std::int64_t j = 0; j < o_.variants; ++j) {
    if (!causal_[static_cast<std::size_t>(j)]) continue;
    draw_site(j, rec.get(), d);
    double count = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const int dose = (d.allele[2 * i] == 1) + (d.allele[2 * i + 1] == 1);
      genetic[i] += d.effect * dose;
      count += dose;
    }
    bcf_unpack(rec.get(), BCF_UN_STR);
    ph.truth.push_back({j, contig_name(contig_[static_cast<std::size_t>(j)]), pos_[static_cast<std::size_t>(j)],
                        rec->d.allele[0], rec->d.allele[1], d.effect, count / (2.0 * static_cast<double>(n))});
  }
  // Standardised genetic value + noise.
  ph.liability.resize(n);
  double mean = 0, var = 0;
  for (double g : genetic) mean += g;
  mean /= static_cast<double>(n);
  for (double g : genetic) var += (g - mean) * (g - mean);
  var /= static_cast<double>(n);
  const double scale = var > 0 ? std::sqrt(o_.heritability / var) : 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    Rng rng(task_seed(o_.seed, kNoise, i));
    ph.liability[i] = (genetic[i] - mean) * scale + std::sqrt(1.0 - o_.heritability) * rng.normal();
  }
  ph.label.assign(n, 0);
  if (o_.trait == "binary") {
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return ph.liability[a] > ph.liability[b]; });
    const auto cases = static_cast<std::size_t>(std::llround(o_.prevalence * static_cast<double>(n)));
    for (std::size_t k = 0; k < cases && k < n; ++k) ph.label[order[k]] = 1;
  }
  return ph;
}

features::RegionColumns Cohort::extract_region(const Region& region, const features::FeatureFilters& filters) const {
  features::RegionColumns out;
  features::SiteExtractor ex(hdr_, filters);
  io::Bcf1Ptr rec = io::make_record();
  io::Genotypes gt;
  SiteDraw d;
  const auto n = static_cast<std::size_t>(o_.samples);
  const auto [lo, hi] = sites_in(region);
  const std::string name = "simulated cohort";
  for (std::int64_t j = lo; j < hi; ++j) {
    draw_site(j, rec.get(), d);
    // The genotypes as the VCF's reader decodes them: ALT counts for a biallelic site, GT values
    // otherwise (what bcf_get_genotypes gives for "a/b" and "./.").
    if (rec->n_allele == 2) {
      gt.has_biallelic_dosage = true;
      gt.values.clear();
      gt.ploidy = 2;
      gt.biallelic_dosage.resize(n);
      for (std::size_t i = 0; i < n; ++i) {
        gt.biallelic_dosage[i] = d.missing[i] ? features::kMissingDosage
                                              : static_cast<std::int8_t>(d.allele[2 * i] + d.allele[2 * i + 1]);
      }
    } else {
      gt.has_biallelic_dosage = false;
      gt.ploidy = 2;
      gt.values.resize(2 * n);
      for (std::size_t i = 0; i < n; ++i) {
        gt.values[2 * i] = d.missing[i] ? bcf_gt_missing : bcf_gt_unphased(d.allele[2 * i]);
        gt.values[2 * i + 1] = d.missing[i] ? bcf_gt_missing : bcf_gt_unphased(d.allele[2 * i + 1]);
      }
    }
    ex.extract(rec.get(), gt, name, out.rows, out.dosages);
  }
  out.counts = ex.counts();
  return out;
}

std::pair<fs::path, fs::path> write_phenotype_tables(const Cohort& cohort, const std::string& prefix,
                                                     const std::string& token) {
  const CohortOptions& o = cohort.options();
  const fs::path pheno_path = prefix + ".pheno.tsv", truth_path = prefix + ".truth.tsv";
  const CohortPhenotype ph = cohort.phenotype();
  const auto samples = cohort.samples();
  AtomicOutput ph_out(pheno_path, token);
  {
    std::ofstream out(ph_out.tmp());
    out << "sample_id\tlabel\tpopulation\n";
    char buf[64];
    for (std::size_t i = 0; i < samples.size(); ++i) {
      if (o.trait == "binary") {
        std::snprintf(buf, sizeof buf, "%d", ph.label[i]);
      } else {
        std::snprintf(buf, sizeof buf, "%.6f", ph.liability[i]);
      }
      out << samples[i] << '\t' << buf << "\tPOP" << (population_of(static_cast<std::int64_t>(i), o) + 1) << '\n';
    }
    out.close();
    if (!out) throw IoError(failed_write(ph_out.tmp()));
  }
  AtomicOutput tr_out(truth_path, token);
  {
    std::ofstream out(tr_out.tmp());
    out << "chrom\tpos\tid\tref\talt\teffect\taf\n";
    char buf[64];
    for (const auto& t : ph.truth) {
      std::snprintf(buf, sizeof buf, "%.6f\t%.6f", t.effect, t.af);
      out << t.chrom << '\t' << t.pos << "\tv" << t.site + 1 << '\t' << t.ref << '\t' << t.alt << '\t' << buf << '\n';
    }
    out.close();
    if (!out) throw IoError(failed_write(tr_out.tmp()));
  }
  ph_out.commit();
  tr_out.commit();
  return {pheno_path, truth_path};
}

CohortFiles write_cohort(const CohortOptions& o, const std::string& prefix, bool bcf, int threads,
                         const std::string& token, const std::string& command_line, Reference* reference) {
  o.validate();
  const bool plant = reference && reference->seqs.empty();
  CohortFiles files;
  files.genotypes = prefix + (bcf ? ".bcf" : ".vcf.gz");
  files.index = files.genotypes.string() + (bcf ? ".csi" : ".tbi");
  files.phenotypes = prefix + ".pheno.tsv";
  files.truth = prefix + ".truth.tsv";
  if (o.planted_samples > 0) files.planted = prefix + ".planted.vcf.gz";
  check_outputs({}, {{"-o/--output", files.genotypes},
                     {"-o/--output", files.index},
                     {"-o/--output", files.phenotypes},
                     {"-o/--output", files.truth},
                     {"-o/--output", files.planted}});

  const Cohort cohort(o, reference, command_line);
  bcf_hdr_t* hdr = cohort.header();
  const auto n = static_cast<std::size_t>(o.samples);

  AtomicOutput gt_out(files.genotypes, token);
  AtomicOutput idx_out(files.index, token);
  std::unique_ptr<htsFile, FileCloser> fp(hts_open(gt_out.tmp().c_str(), bcf ? "wb" : "wz"));
  if (!fp) throw IoError("cannot write " + gt_out.tmp().string() + ": " + errno_text());
  if (threads > 1) hts_set_threads(fp.get(), threads);
  if (bcf_hdr_write(fp.get(), hdr) < 0) throw IoError("cannot write " + gt_out.tmp().string());

  // The planted truth: true phased genotypes of the first planted_samples samples, at the sites
  // where one of them carries an ALT allele.
  const auto n_planted = static_cast<std::size_t>(o.planted_samples);
  std::optional<AtomicOutput> planted_out, planted_idx_out;
  io::BcfHdrPtr planted_hdr;
  std::unique_ptr<htsFile, FileCloser> planted_fp;
  std::vector<int32_t> planted_gts(2 * n_planted);
  const auto samples = cohort.samples();
  if (n_planted > 0) {
    planted_out.emplace(files.planted, token);
    planted_idx_out.emplace(files.planted.string() + ".tbi", token);
    planted_hdr.reset(bcf_hdr_subset(hdr, 0, nullptr, nullptr));
    if (!planted_hdr) throw InternalError("cannot create a VCF header");
    if (bcf_hdr_append(planted_hdr.get(), "##genoforest_planted=true genotypes of the samples given simulated reads") < 0) {
      throw InternalError("cannot add a header line");
    }
    for (std::size_t i = 0; i < n_planted; ++i) {
      if (bcf_hdr_add_sample(planted_hdr.get(), samples[i].c_str()) < 0) throw InternalError("cannot add a sample");
    }
    if (bcf_hdr_sync(planted_hdr.get()) < 0) throw InternalError("cannot finish the VCF header");
    planted_fp.reset(hts_open(planted_out->tmp().c_str(), "wz"));
    if (!planted_fp) throw IoError("cannot write " + planted_out->tmp().string() + ": " + errno_text());
    if (bcf_hdr_write(planted_fp.get(), planted_hdr.get()) < 0) throw IoError("cannot write " + planted_out->tmp().string());
  }

  io::Bcf1Ptr rec = io::make_record();
  io::Bcf1Ptr planted_rec = io::make_record();
  std::vector<int32_t> gts(2 * n);
  SiteDraw d;
  const int pass_id = bcf_hdr_id2int(hdr, BCF_DT_ID, "PASS");
  for (std::int64_t j = 0; j < o.variants; ++j) {
    cohort.draw_site(j, rec.get(), d);
    if (plant) {
      bcf_unpack(rec.get(), BCF_UN_STR);
      reference->seqs[static_cast<std::size_t>(rec->rid)].replace(static_cast<std::size_t>(rec->pos),
                                                                  std::strlen(rec->d.allele[0]), rec->d.allele[0]);
    }
    for (std::size_t i = 0; i < n; ++i) {
      if (d.missing[i]) {
        gts[2 * i] = gts[2 * i + 1] = bcf_gt_missing;
      } else {
        gts[2 * i] = bcf_gt_unphased(d.allele[2 * i]);
        gts[2 * i + 1] = bcf_gt_unphased(d.allele[2 * i + 1]);
      }
    }
    if (bcf_update_genotypes(hdr, rec.get(), gts.data(), static_cast<int>(gts.size())) < 0) {
      throw InternalError("cannot set genotypes");
    }
    if (bcf_write(fp.get(), hdr, rec.get()) < 0) throw IoError(failed_write(gt_out.tmp()));
    if (n_planted > 0 && std::any_of(d.allele.begin(), d.allele.begin() + static_cast<std::ptrdiff_t>(2 * n_planted),
                                     [](std::uint8_t a) { return a != 0; })) {
      for (std::size_t h = 0; h < 2 * n_planted; ++h) planted_gts[h] = bcf_gt_phased(d.allele[h]);
      for (std::size_t i = 0; i < n_planted; ++i) planted_gts[2 * i] = bcf_gt_unphased(d.allele[2 * i]);
      bcf_unpack(rec.get(), BCF_UN_STR);
      bcf_clear(planted_rec.get());
      planted_rec->rid = rec->rid;
      planted_rec->pos = rec->pos;
      bcf_update_id(planted_hdr.get(), planted_rec.get(), rec->d.id);
      std::string alleles;
      for (int a = 0; a < rec->n_allele; ++a) alleles += (a ? "," : "") + std::string(rec->d.allele[a]);
      bcf_update_alleles_str(planted_hdr.get(), planted_rec.get(), alleles.c_str());
      int pass = pass_id;
      bcf_update_filter(planted_hdr.get(), planted_rec.get(), &pass, 1);
      if (bcf_update_genotypes(planted_hdr.get(), planted_rec.get(), planted_gts.data(),
                               static_cast<int>(planted_gts.size())) < 0) {
        throw InternalError("cannot set genotypes");
      }
      if (bcf_write(planted_fp.get(), planted_hdr.get(), planted_rec.get()) < 0) {
        throw IoError(failed_write(planted_out->tmp()));
      }
    }
  }
  if (planted_fp) {
    if (hts_close(planted_fp.release()) != 0) throw IoError(failed_write(planted_out->tmp(), "cannot close"));
    io::build_index(planted_out->tmp(), planted_idx_out->tmp(), false, threads);
  }
  if (hts_close(fp.release()) != 0) throw IoError(failed_write(gt_out.tmp(), "cannot close"));
  io::build_index(gt_out.tmp(), idx_out.tmp(), bcf, threads);

  write_phenotype_tables(cohort, prefix, token);
  gt_out.commit();
  idx_out.commit();
  if (planted_out) {
    planted_out->commit();
    planted_idx_out->commit();
  }
  return files;
}

}  // namespace genoforest::sim
