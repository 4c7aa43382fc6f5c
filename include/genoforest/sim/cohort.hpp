#pragma once
/// @file cohort.hpp
/// A deterministic cohort generator for tests, benchmarks and the demo.
///
/// Model. Each variant has an ancestral allele frequency p, log-uniform in [min_maf, 0.5] (many rare
/// variants, as in real spectra). Each of K sub-populations draws its own frequency from
/// Balding-Nichols: Beta(p(1-F)/F, (1-p)(1-F)/F) with F = fst. Without LD, every haplotype's allele
/// is Bernoulli(p_k). With LD blocks of B variants, each population has `founders` founder
/// haplotypes per block (alleles Bernoulli(p_k)); each sample haplotype copies one founder for the
/// whole block, with a 1% per-site mutation, so nearby variants are correlated. Some sites become
/// indels, some tri-allelic, a few get FILTER=LowQual; a fraction of calls is set missing.
/// Phenotype: `causal` variants (common biallelic SNVs) get effects from N(0, 1); the genetic value
/// (true dosages) is standardised to variance h2, plus N(0, 1-h2) noise, gives a liability; cases
/// are the top `prevalence` fraction (binary), or the liability itself is the trait.
/// Every draw derives from (seed, purpose, index) through our own RNG: the same options give
/// byte-identical files on any machine and any thread count.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "genoforest/core/region.hpp"
#include "genoforest/features/extract.hpp"
#include "genoforest/sim/reference.hpp"

namespace genoforest::sim {

struct CohortOptions {
  std::int64_t samples = 1000;     ///< N
  std::int64_t variants = 10000;   ///< M sites (multi-allelic sites count once)
  int contigs = 1;                 ///< named chr1..chrC, variants split evenly
  int populations = 3;             ///< K
  double fst = 0.05;               ///< Balding-Nichols F; 0 means one homogeneous population
  std::int64_t ld_block = 0;       ///< variants per LD block; 0 = independent sites
  int founders = 8;                ///< founder haplotypes per block and population
  double min_maf = 0.01;           ///< lower end of the ancestral frequency spectrum
  double missing_rate = 0.01;      ///< fraction of calls set to ./.
  double multiallelic_rate = 0.01; ///< fraction of sites with two ALT alleles
  double indel_rate = 0.05;        ///< fraction of sites that are indels
  double lowqual_rate = 0.01;      ///< fraction of sites with FILTER=LowQual
  int causal = 10;                 ///< causal variants
  double heritability = 0.5;       ///< h2 of the liability
  double prevalence = 0.5;         ///< fraction of cases (binary trait)
  std::string trait = "binary";    ///< "binary" or "quantitative"
  std::int64_t mean_spacing = 1000;  ///< mean bp between sites
  std::uint64_t seed = 1;
  /// The first `planted_samples` samples get a truth VCF of their true, phased genotypes
  /// (PREFIX.planted.vcf.gz): what their simulated reads carry.
  std::int64_t planted_samples = 0;
  /// Throws UsageError naming the option.
  void validate() const;
};

/// One simulated site besides its record's site columns: every haplotype's true allele.
struct SiteDraw {
  std::vector<std::uint8_t> allele;   ///< 2N true alleles (0 REF, 1 or 2 ALT), sample after sample
  std::vector<std::uint8_t> missing;  ///< N: 1 where the call is set to ./.
  bool causal = false;
  double effect = 0;  ///< a causal site's effect per ALT copy
};

/// A causal variant, as PREFIX.truth.tsv lists it.
struct CausalVariant {
  std::int64_t site = 0;  ///< 0-based site index (ID v<site+1>)
  std::string chrom;
  std::int64_t pos = 0;
  std::string ref, alt;
  double effect = 0;
  double af = 0;  ///< ALT frequency among the true alleles
};

/// The phenotype: computed from the causal sites alone.
struct CohortPhenotype {
  std::vector<double> liability;
  std::vector<int> label;  ///< binary traits: 1 for the top `prevalence` of liabilities
  std::vector<CausalVariant> truth;
};

/// The cohort's model. Every site is drawn from its own seed (seed, site), so sites can be drawn
/// one at a time, in any order, on any rank, and give what one process writing them all gives.
class Cohort : public features::ColumnSource {
 public:
  /// Lays out the sites. With a `reference` as in write_cohort: an empty one is filled with a
  /// random genome (REF alleles are drawn; the writer plants them), a loaded one gives the
  /// contigs and the REF bases. `command_line` goes into the header. Throws UsageError.
  Cohort(const CohortOptions& o, Reference* reference, const std::string& command_line);
  Cohort(const Cohort&) = delete;
  Cohort& operator=(const Cohort&) = delete;
  ~Cohort() override;

  [[nodiscard]] const CohortOptions& options() const noexcept { return o_; }
  /// The VCF header: contigs, FILTER/INFO/FORMAT lines and samples S000001...
  [[nodiscard]] bcf_hdr_t* header() const noexcept { return hdr_; }
  [[nodiscard]] std::string name() const override { return "simulated cohort"; }
  [[nodiscard]] std::vector<std::string> samples() const override;
  [[nodiscard]] std::string contig_name(int c) const;
  /// Fills `rec`'s site columns (CHROM to INFO; no genotypes) and `draw` for site j.
  void draw_site(std::int64_t j, bcf1_t* rec, SiteDraw& draw) const;
  /// Sites [first, last) whose position lies in `region` (0-based, half-open).
  [[nodiscard]] std::pair<std::int64_t, std::int64_t> sites_in(const Region& region) const;
  /// Each contig cut into regions of at most `region_size` bp, in order; regions without a site
  /// left out (as features::plan_regions cuts the cohort's VCF).
  [[nodiscard]] std::vector<Region> plan_regions(std::int64_t region_size) const override;
  /// The phenotype and the truth table; draws only the causal sites.
  [[nodiscard]] CohortPhenotype phenotype() const;
  /// The dosage columns of the sites in `region`, as features::extract_region gives them from
  /// the cohort's VCF. Thread-compatible.
  [[nodiscard]] features::RegionColumns extract_region(const Region& region,
                                                       const features::FeatureFilters& filters) const override;

 private:
  CohortOptions o_;
  Reference* reference_;
  bool from_ref_ = false;
  std::vector<int> contig_;            // per site
  std::vector<std::int64_t> pos_;      // per site, 1-based
  std::vector<std::int64_t> length_;   // per contig
  std::vector<std::int64_t> first_;    // per contig: its first site; plus the total at the end
  std::vector<char> causal_;
  std::vector<int> pop_;
  bcf_hdr_t* hdr_ = nullptr;
  int pass_id_ = 0, lowqual_id_ = 0;
};

/// Writes PREFIX.pheno.tsv (sample_id, label, population) and PREFIX.truth.tsv, each under a
/// temporary name renamed when complete (suffix `token`). Returns their paths.
std::pair<std::filesystem::path, std::filesystem::path> write_phenotype_tables(const Cohort& cohort,
                                                                               const std::string& prefix,
                                                                               const std::string& token);

/// Where the cohort went.
struct CohortFiles {
  std::filesystem::path genotypes;   ///< PREFIX.vcf.gz or PREFIX.bcf
  std::filesystem::path index;       ///< .tbi or .csi
  std::filesystem::path phenotypes;  ///< PREFIX.pheno.tsv (sample_id, label, population)
  std::filesystem::path truth;       ///< PREFIX.truth.tsv (the causal variants)
  std::filesystem::path planted;     ///< PREFIX.planted.vcf.gz, when planted_samples > 0
};

/// Writes the cohort: genotypes (bgzipped VCF, or BCF when `bcf`), its index, the phenotype
/// table and the truth table, each under a temporary name renamed when complete (suffix
/// `token`). `threads` compress in parallel and do not change the bytes written.
///
/// With a `reference`, the variants sit on it. An empty one is filled with a random genome
/// (random_reference) of the contig lengths the layout needs, into which every REF allele is
/// planted; a loaded one gives its contigs (variants spread in proportion to their lengths, away
/// from N bases) and its bases become the REF alleles.
CohortFiles write_cohort(const CohortOptions& opt, const std::string& prefix, bool bcf, int threads,
                         const std::string& token, const std::string& command_line, Reference* reference = nullptr);

}  // namespace genoforest::sim
