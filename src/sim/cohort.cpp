#include "genoforest/sim/cohort.hpp"

#include <htslib/hts.h>
#include <htslib/vcf.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
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

CohortFiles write_cohort(const CohortOptions& o, const std::string& prefix, bool bcf, int threads,
                         const std::string& token, const std::string& command_line, Reference* reference) {
  o.validate();
  // Where REF alleles come from: drawn (no reference), drawn and planted into a random genome,
  // or read from a loaded reference.
  const bool plant = reference && reference->seqs.empty();
  const bool from_ref = reference && !reference->seqs.empty();
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

  const SiteLayout layout = from_ref ? layout_on(o, *reference) : make_layout(o);
  if (plant) *reference = random_reference(layout.length, o.seed);
  auto contig_name = [&](int c) {
    return reference ? reference->names[static_cast<std::size_t>(c)] : "chr" + std::to_string(c + 1);
  };
  const std::vector<char> causal = pick_causal(o);
  const auto n = static_cast<std::size_t>(o.samples);
  std::vector<int> pop(n);
  for (std::size_t i = 0; i < n; ++i) pop[i] = population_of(static_cast<std::int64_t>(i), o);

  AtomicOutput gt_out(files.genotypes, token);
  AtomicOutput idx_out(files.index, token);
  io::BcfHdrPtr hdr(bcf_hdr_init("w"));
  if (!hdr) throw InternalError("cannot create a VCF header");
  auto add = [&](const std::string& line) {
    if (bcf_hdr_append(hdr.get(), line.c_str()) < 0) throw InternalError("bad header line " + line);
  };
  add("##source=genoforest simulate " + std::string(kVersion));
  add("##genoforest_simulateCommand=" + command_line);
  for (std::size_t c = 0; c < layout.length.size(); ++c) {
    add("##contig=<ID=" + contig_name(static_cast<int>(c)) + ",length=" + std::to_string(layout.length[c]) + ">");
  }
  add("##FILTER=<ID=LowQual,Description=\"Simulated low-quality site\">");
  add("##INFO=<ID=CAUSAL,Number=0,Type=Flag,Description=\"Causal variant of the simulated phenotype\">");
  add("##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">");
  char name[32];
  for (std::size_t i = 0; i < n; ++i) {
    std::snprintf(name, sizeof name, "S%06zu", i + 1);
    if (bcf_hdr_add_sample(hdr.get(), name) < 0) throw InternalError("cannot add a sample");
  }
  if (bcf_hdr_sync(hdr.get()) < 0) throw InternalError("cannot finish the VCF header");

  std::unique_ptr<htsFile, FileCloser> fp(hts_open(gt_out.tmp().c_str(), bcf ? "wb" : "wz"));
  if (!fp) throw IoError("cannot write " + gt_out.tmp().string() + ": " + errno_text());
  if (threads > 1) hts_set_threads(fp.get(), threads);
  if (bcf_hdr_write(fp.get(), hdr.get()) < 0) throw IoError("cannot write " + gt_out.tmp().string());

  // The planted truth: true phased genotypes of the first planted_samples samples, at the sites
  // where one of them carries an ALT allele.
  const auto n_planted = static_cast<std::size_t>(o.planted_samples);
  std::optional<AtomicOutput> planted_out, planted_idx_out;
  io::BcfHdrPtr planted_hdr;
  std::unique_ptr<htsFile, FileCloser> planted_fp;
  std::vector<int32_t> planted_gts(2 * n_planted);
  if (n_planted > 0) {
    planted_out.emplace(files.planted, token);
    planted_idx_out.emplace(files.planted.string() + ".tbi", token);
    planted_hdr.reset(bcf_hdr_subset(hdr.get(), 0, nullptr, nullptr));
    if (!planted_hdr) throw InternalError("cannot create a VCF header");
    if (bcf_hdr_append(planted_hdr.get(), "##genoforest_planted=true genotypes of the samples given simulated reads") < 0) {
      throw InternalError("cannot add a header line");
    }
    for (std::size_t i = 0; i < n_planted; ++i) {
      std::snprintf(name, sizeof name, "S%06zu", i + 1);
      if (bcf_hdr_add_sample(planted_hdr.get(), name) < 0) throw InternalError("cannot add a sample");
    }
    if (bcf_hdr_sync(planted_hdr.get()) < 0) throw InternalError("cannot finish the VCF header");
    planted_fp.reset(hts_open(planted_out->tmp().c_str(), "wz"));
    if (!planted_fp) throw IoError("cannot write " + planted_out->tmp().string() + ": " + errno_text());
    if (bcf_hdr_write(planted_fp.get(), planted_hdr.get()) < 0) throw IoError("cannot write " + planted_out->tmp().string());
  }

  io::Bcf1Ptr rec = io::make_record();
  std::vector<int32_t> gts(2 * n);
  std::vector<std::uint8_t> founder_allele(static_cast<std::size_t>(o.populations * o.founders));
  std::vector<std::uint8_t> allele(2 * n);  // true alleles, for the genetic value
  std::vector<double> genetic(n, 0.0);
  std::vector<std::int64_t> truth_idx;
  std::vector<double> truth_effect, truth_af;
  std::vector<std::string> truth_ref, truth_alt;
  const int pass_id = bcf_hdr_id2int(hdr.get(), BCF_DT_ID, "PASS");
  const int lowqual_id = bcf_hdr_id2int(hdr.get(), BCF_DT_ID, "LowQual");

  for (std::int64_t j = 0; j < o.variants; ++j) {
    Rng rng(task_seed(o.seed, kSite, static_cast<std::uint64_t>(j)));
    const bool is_causal = causal[static_cast<std::size_t>(j)];
    // Ancestral frequency: log-uniform in [min_maf, 0.5]; causal variants are kept common.
    const double lo = is_causal ? std::max(0.05, o.min_maf) : o.min_maf;
    const double p = lo * std::pow(0.5 / lo, rng.uniform());
    std::vector<double> pk(static_cast<std::size_t>(o.populations), p);
    if (o.fst > 0.0) {
      const double s = (1.0 - o.fst) / o.fst;
      for (auto& q : pk) q = std::clamp(rng.beta(p * s, (1.0 - p) * s), 1e-4, 1.0 - 1e-4);
    }
    const bool indel = !is_causal && rng.chance(o.indel_rate);
    const bool tri = !is_causal && rng.chance(o.multiallelic_rate);
    const bool lowqual = !is_causal && rng.chance(o.lowqual_rate);

    // Alleles.
    const std::string* contig_seq =
        reference ? &reference->seqs[static_cast<std::size_t>(layout.contig[static_cast<std::size_t>(j)])] : nullptr;
    const auto at = static_cast<std::size_t>(layout.pos[static_cast<std::size_t>(j)] - 1);
    std::string ref(1, kBases[rng.below(4)]);
    if (from_ref) ref[0] = (*contig_seq)[at];
    std::string alt1, alt2;
    if (indel) {
      const auto len = 1 + static_cast<std::size_t>(rng.below(5));
      std::string extra;
      for (std::size_t k = 0; k < len; ++k) extra += kBases[rng.below(4)];
      if (rng.chance(0.5)) {
        alt1 = ref + extra;  // insertion
      } else {
        if (from_ref) extra = contig_seq->substr(at + 1, len);
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

    if (plant) reference->seqs[static_cast<std::size_t>(layout.contig[static_cast<std::size_t>(j)])].replace(at, ref.size(), ref);

    // Haplotypes.
    const bool ld = o.ld_block > 0;
    const std::int64_t block = ld ? j / o.ld_block : 0;
    if (ld) {
      for (int k = 0; k < o.populations; ++k)
        for (int f = 0; f < o.founders; ++f)
          founder_allele[static_cast<std::size_t>(k * o.founders + f)] = rng.chance(pk[static_cast<std::size_t>(k)]);
    }
    const std::uint64_t pick_seed = task_seed(o.seed, kFounderPick, static_cast<std::uint64_t>(block));
    for (std::size_t h = 0; h < 2 * n; ++h) {
      const int k = pop[h / 2];
      std::uint8_t a;
      if (ld) {
        const auto f = static_cast<int>(mix64(pick_seed ^ mix64(h)) % static_cast<std::uint64_t>(o.founders));
        a = founder_allele[static_cast<std::size_t>(k * o.founders + f)];
        if (rng.chance(0.01)) a ^= 1;
      } else {
        a = rng.chance(pk[static_cast<std::size_t>(k)]);
      }
      if (a && tri && rng.chance(0.3)) a = 2;
      allele[h] = a;
    }
    // Calls, with missingness.
    for (std::size_t i = 0; i < n; ++i) {
      if (o.missing_rate > 0.0 && rng.chance(o.missing_rate)) {
        gts[2 * i] = gts[2 * i + 1] = bcf_gt_missing;
      } else {
        gts[2 * i] = bcf_gt_unphased(allele[2 * i]);
        gts[2 * i + 1] = bcf_gt_unphased(allele[2 * i + 1]);
      }
    }
    if (is_causal) {
      const double beta = rng.normal();
      double count = 0;
      for (std::size_t i = 0; i < n; ++i) {
        const int d = (allele[2 * i] == 1) + (allele[2 * i + 1] == 1);
        genetic[i] += beta * d;
        count += d;
      }
      truth_idx.push_back(j);
      truth_effect.push_back(beta);
      truth_af.push_back(count / (2.0 * static_cast<double>(n)));
      truth_ref.push_back(ref);
      truth_alt.push_back(alt1);
    }

    bcf_clear(rec.get());
    rec->rid = layout.contig[static_cast<std::size_t>(j)];
    rec->pos = layout.pos[static_cast<std::size_t>(j)] - 1;
    const std::string id = "v" + std::to_string(j + 1);
    bcf_update_id(hdr.get(), rec.get(), id.c_str());
    std::string alleles = ref + "," + alt1 + (tri ? "," + alt2 : "");
    bcf_update_alleles_str(hdr.get(), rec.get(), alleles.c_str());
    rec->qual = lowqual ? 10.0f : 60.0f;
    int flt = lowqual ? lowqual_id : pass_id;
    bcf_update_filter(hdr.get(), rec.get(), &flt, 1);
    if (is_causal) bcf_update_info_flag(hdr.get(), rec.get(), "CAUSAL", nullptr, 1);
    if (bcf_update_genotypes(hdr.get(), rec.get(), gts.data(), static_cast<int>(gts.size())) < 0) {
      throw InternalError("cannot set genotypes");
    }
    if (bcf_write(fp.get(), hdr.get(), rec.get()) < 0) {
      throw IoError(failed_write(gt_out.tmp()));
    }
    if (n_planted > 0 && std::any_of(allele.begin(), allele.begin() + static_cast<std::ptrdiff_t>(2 * n_planted),
                                     [](std::uint8_t a) { return a != 0; })) {
      for (std::size_t h = 0; h < 2 * n_planted; ++h) planted_gts[h] = bcf_gt_phased(allele[h]);
      for (std::size_t i = 0; i < n_planted; ++i) planted_gts[2 * i] = bcf_gt_unphased(allele[2 * i]);
      bcf_clear(rec.get());
      rec->rid = layout.contig[static_cast<std::size_t>(j)];
      rec->pos = layout.pos[static_cast<std::size_t>(j)] - 1;
      bcf_update_id(planted_hdr.get(), rec.get(), id.c_str());
      bcf_update_alleles_str(planted_hdr.get(), rec.get(), alleles.c_str());
      int pass = pass_id;
      bcf_update_filter(planted_hdr.get(), rec.get(), &pass, 1);
      if (bcf_update_genotypes(planted_hdr.get(), rec.get(), planted_gts.data(), static_cast<int>(planted_gts.size())) < 0) {
        throw InternalError("cannot set genotypes");
      }
      if (bcf_write(planted_fp.get(), planted_hdr.get(), rec.get()) < 0) {
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

  // Phenotype: standardised genetic value + noise.
  std::vector<double> liability(n);
  {
    double mean = 0, var = 0;
    for (double g : genetic) mean += g;
    mean /= static_cast<double>(n);
    for (double g : genetic) var += (g - mean) * (g - mean);
    var /= static_cast<double>(n);
    const double scale = var > 0 ? std::sqrt(o.heritability / var) : 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      Rng rng(task_seed(o.seed, kNoise, i));
      liability[i] = (genetic[i] - mean) * scale + std::sqrt(1.0 - o.heritability) * rng.normal();
    }
  }
  std::vector<int> label(n, 0);
  if (o.trait == "binary") {
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return liability[a] > liability[b]; });
    const auto cases = static_cast<std::size_t>(std::llround(o.prevalence * static_cast<double>(n)));
    for (std::size_t k = 0; k < cases && k < n; ++k) label[order[k]] = 1;
  }
  AtomicOutput ph_out(files.phenotypes, token);
  {
    std::ofstream out(ph_out.tmp());
    out << "sample_id\tlabel\tpopulation\n";
    char buf[64];
    for (std::size_t i = 0; i < n; ++i) {
      std::snprintf(name, sizeof name, "S%06zu", i + 1);
      if (o.trait == "binary") {
        std::snprintf(buf, sizeof buf, "%d", label[i]);
      } else {
        std::snprintf(buf, sizeof buf, "%.6f", liability[i]);
      }
      out << name << '\t' << buf << "\tPOP" << (pop[i] + 1) << '\n';
    }
    out.close();
    if (!out) throw IoError("cannot write " + ph_out.tmp().string());
  }
  AtomicOutput tr_out(files.truth, token);
  {
    std::ofstream out(tr_out.tmp());
    out << "chrom\tpos\tid\tref\talt\teffect\taf\n";
    char buf[64];
    for (std::size_t k = 0; k < truth_idx.size(); ++k) {
      const auto j = static_cast<std::size_t>(truth_idx[k]);
      std::snprintf(buf, sizeof buf, "%.6f\t%.6f", truth_effect[k], truth_af[k]);
      out << contig_name(layout.contig[j]) << '\t' << layout.pos[j] << "\tv" << j + 1 << '\t' << truth_ref[k] << '\t'
          << truth_alt[k] << '\t' << buf << '\n';
    }
    out.close();
    if (!out) throw IoError("cannot write " + tr_out.tmp().string());
  }
  gt_out.commit();
  idx_out.commit();
  ph_out.commit();
  tr_out.commit();
  if (planted_out) {
    planted_out->commit();
    planted_idx_out->commit();
  }
  return files;
}

}  // namespace genoforest::sim
