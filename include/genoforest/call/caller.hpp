#pragma once
/// @file caller.hpp
/// Joint variant calling of one region of one contig from the reads of many samples.
///
/// 1. Candidates, judged per sample: a SNP allele or an indel (left-normalised in each read) is a
///    candidate where one sample has at least `min_alt_reads` reads with it making at least
///    `min_alt_fraction` of its depth, or where the pooled reads of all samples pass
///    `min_pooled_alt_reads` (common alleles at low coverage). Per-sample judging keeps a variant
///    carried by one sample of many (pooled thresholds lose it).
/// 2. Evidence: an isolated SNP is scored from the bases over it (base quality, mapping quality).
///    An indel, and a SNP within `indel_context` bp of an indel candidate, is scored on local
///    haplotypes: every combination of the alleles of the site and of the indel candidates around
///    it is built from the reference, and each read is compared base by base (quality-weighted)
///    with each haplotype at the placements its alignment allows; a read supports the allele of
///    its best haplotype. This recovers indels that bwa soft-clipped or turned into mismatches
///    near read ends, and keeps those mismatches from becoming false SNPs.
/// 3. Genotypes: diploid likelihoods per sample, allele frequencies by EM across samples, calls
///    from posteriors with that population prior (genotype.hpp). Alleles no sample carries are
///    dropped.
///
/// Every site depends only on the reads within a few hundred bp of it, never on where a region
/// starts or ends, so the calls are identical for any region size and rank count.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "genoforest/call/reads.hpp"

namespace genoforest::call {

/// How far beyond a region the reference and the reads handed to call_region() must reach.
inline constexpr std::int64_t kRegionPad = 1000;

struct CallOptions {
  ReadFilter filter;
  int min_baseq = 13;              ///< bases below are not counted for SNPs (bcftools -Q)
  int min_alt_reads = 2;           ///< per-sample candidate threshold: reads with the allele
  double min_alt_fraction = 0.05;  ///< ... and their share of that sample's depth
  int min_pooled_alt_reads = 3;    ///< pooled candidate threshold over all samples
  double min_pooled_alt_fraction = 0.01;
  double snp_theta = 1e-3;         ///< prior probability of a SNP site (QUAL)
  double indel_theta = 1e-4;       ///< prior probability of an indel site
  double min_qual = 3;             ///< sites below are not written
  double low_qual = 10;            ///< FILTER LowQual below this QUAL
  int max_alt_snp = 3;             ///< alternative alleles kept per SNP site (by support)
  int max_alt_indel = 4;           ///< ... per indel site
  int indel_context = 20;          ///< bp around an indel whose candidates are scored with it
  /// Repeat slippage: a read shows another length of a repeat of L bases with probability
  /// 10^(-Q/10), Q = min(40, tandem_qual * |indel length| / L) (bcftools --tandem-qual).
  double tandem_qual = 200;
  /// Throws UsageError naming the option.
  void validate() const;
};

/// One called site, ready for the VCF writer. Positions 0-based.
struct SiteCall {
  std::int64_t pos = 0;
  std::vector<std::string> alleles;  ///< REF first
  bool indel = false;
  double qual = 0;
  int dp = 0;          ///< reads used, all samples
  double mq = 0;       ///< RMS mapping quality of those reads
  std::vector<int> gt;         ///< 2 per sample (-1: missing)
  std::vector<int> gq;         ///< per sample (-1: missing)
  std::vector<int> pl;         ///< genotype_count(alleles) per sample (-1: missing)
  std::vector<int> sample_dp;  ///< per sample
  std::vector<int> ad;         ///< alleles.size() per sample

  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & pos & alleles & indel & qual & dp & mq & gt & gq & pl & sample_dp & ad;
  }
};


/// Calls the sites whose POS lies in [beg, end). `ref` must cover [beg - kRegionPad, end +
/// kRegionPad) (clipped to the contig); `reads[s]` yields sample s's filtered reads overlapping
/// that same span, by position. Returns the calls by position (a SNP before an indel at the same
/// POS).
[[nodiscard]] std::vector<SiteCall> call_region(const RefSpan& ref, std::int64_t beg, std::int64_t end,
                                                std::vector<std::unique_ptr<ReadStream>>& reads, const CallOptions& opt);

}  // namespace genoforest::call
