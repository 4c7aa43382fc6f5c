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
