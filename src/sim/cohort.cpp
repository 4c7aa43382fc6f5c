#include "genoforest/sim/cohort.hpp"

#include <htslib/hts.h>
#include <htslib/vcf.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <numeric>

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
  if (mean_spacing < 2) throw UsageError("--spacing must be at least 2 bp");
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
                         const std::string& token, const std::string& command_line) {
  o.validate();
  CohortFiles files;
  files.genotypes = prefix + (bcf ? ".bcf" : ".vcf.gz");
  files.index = files.genotypes.string() + (bcf ? ".csi" : ".tbi");
  files.phenotypes = prefix + ".pheno.tsv";
  files.truth = prefix + ".truth.tsv";
  for (const auto& p : {files.genotypes, files.phenotypes, files.truth}) check_output_writable(p);

  const SiteLayout layout = make_layout(o);
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
  for (int c = 0; c < o.contigs; ++c) {
    add("##contig=<ID=chr" + std::to_string(c + 1) + ",length=" + std::to_string(layout.length[static_cast<std::size_t>(c)]) + ">");
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
    std::string ref(1, kBases[rng.below(4)]);
    std::string alt1, alt2;
    if (indel) {
      const auto len = 1 + static_cast<std::size_t>(rng.below(5));
      std::string extra;
      for (std::size_t k = 0; k < len; ++k) extra += kBases[rng.below(4)];
      if (rng.chance(0.5)) {
        alt1 = ref + extra;  // insertion
      } else {
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
      throw IoError("cannot write " + gt_out.tmp().string() + " (disk full?)");
    }
  }
  if (hts_close(fp.release()) != 0) throw IoError("cannot close " + gt_out.tmp().string() + " (disk full?)");
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
      out << "chr" << layout.contig[j] + 1 << '\t' << layout.pos[j] << "\tv" << j + 1 << '\t' << truth_ref[k] << '\t'
          << truth_alt[k] << '\t' << buf << '\n';
    }
    out.close();
    if (!out) throw IoError("cannot write " + tr_out.tmp().string());
  }
  gt_out.commit();
  idx_out.commit();
  ph_out.commit();
  tr_out.commit();
  return files;
}

}  // namespace genoforest::sim
