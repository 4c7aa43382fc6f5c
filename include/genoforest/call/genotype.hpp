#pragma once
/// @file genotype.hpp
/// Diploid genotype likelihoods and joint (multi-sample) genotyping of one site.
///
/// Each read contributes P(read | allele a) for every allele of the site (relative values: only
/// their ratios matter). A sample's likelihood of genotype {j,k} is the product over its reads of
/// (P(read|j) + P(read|k)) / 2. The joint step estimates the allele frequencies across all samples
/// by EM under Hardy-Weinberg, then calls each sample from its posterior with that population prior
/// (the joint-calling advantage: a low-coverage sample's one alternative read weighs more at a site
/// where the allele is common in the cohort). No MPI, no I/O.
#include <cstdint>
#include <vector>

namespace genoforest::call {

/// VCF order of diploid genotypes: {j,k} with j <= k sits at k(k+1)/2 + j.
[[nodiscard]] constexpr int genotype_index(int j, int k) noexcept { return k * (k + 1) / 2 + j; }
[[nodiscard]] constexpr int genotype_count(int alleles) noexcept { return alleles * (alleles + 1) / 2; }

/// One sample's evidence at one site.
struct SampleEvidence {
  std::vector<double> log_gl;  ///< natural-log likelihood of each genotype (VCF order)
  std::vector<int> ad;         ///< reads that clearly support each allele
  int dp = 0;                  ///< reads used

  explicit SampleEvidence(int alleles = 0)
      : log_gl(static_cast<std::size_t>(genotype_count(alleles)), 0.0), ad(static_cast<std::size_t>(alleles), 0) {}
  [[nodiscard]] int alleles() const noexcept { return static_cast<int>(ad.size()); }
};

/// Adds one read: `p[a]` = P(read | allele a), a < alleles(), not all zero. The read counts in AD
/// for allele a when p[a] is at least `ad_margin` times every other allele's.
void add_read(SampleEvidence& ev, const double* p, double ad_margin = 4.0);

/// Keeps only the alleles listed (the first must be 0, the reference), in that order.
[[nodiscard]] SampleEvidence subset_alleles(const SampleEvidence& ev, const std::vector<int>& keep);

/// The joint call of one site.
struct JointCall {
  double qual = 0;             ///< phred probability that no sample carries a non-reference allele
  std::vector<double> af;      ///< EM allele frequencies, reference first
  std::vector<int> gt;         ///< per sample: two allele indices, -1 -1 when the sample has no reads
  std::vector<int> gq;         ///< per sample: phred(1 - posterior of the called genotype), capped at 99
  std::vector<int> pl;         ///< per sample: phred-scaled likelihoods, min 0, genotype_count() each
  std::vector<int> allele_count;  ///< per allele: copies among the called genotypes
};

/// Genotypes all samples jointly. `theta` is the population mutation rate per site (e.g. 1e-3 for
/// SNPs): the prior that a site varies among N samples with reads is theta * sum_{k<2N} 1/k
/// (Watterson), for QUAL. Samples with dp == 0 are left uncalled.
[[nodiscard]] JointCall genotype_jointly(const std::vector<SampleEvidence>& samples, double theta);

}  // namespace genoforest::call
