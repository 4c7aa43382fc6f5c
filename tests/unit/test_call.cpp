// Joint variant calling: genotype likelihoods, the joint (EM) genotyper, and the region caller on
// reads built by hand (a SNP, a deletion shown by some reads only as a soft clip, region
// boundaries).
#include <gtest/gtest.h>
#include <htslib/sam.h>

#include <algorithm>
#include <cmath>

#include "genoforest/call/caller.hpp"
#include "genoforest/call/genotype.hpp"
#include "genoforest/core/error.hpp"
#include "genoforest/core/rng.hpp"

namespace gf = genoforest;
using namespace genoforest::call;

namespace {

/// P(read | allele) for a read showing allele `a` with base error e.
std::vector<double> read_for(int a, int n_alleles, double e = 0.001) {
  std::vector<double> p(static_cast<std::size_t>(n_alleles), e / 3);
  p[static_cast<std::size_t>(a)] = 1 - e;
  return p;
}

SampleEvidence sample_with(int n_alleles, const std::vector<int>& reads) {
  SampleEvidence ev(n_alleles);
  for (int a : reads) add_read(ev, read_for(a, n_alleles).data());
  return ev;
}

std::vector<int> repeat(int a, int n) { return std::vector<int>(static_cast<std::size_t>(n), a); }
std::vector<int> concat(std::vector<int> a, const std::vector<int>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

}  // namespace

TEST(Genotype, VcfOrderOfDiploidGenotypes) {
  EXPECT_EQ(genotype_index(0, 0), 0);
  EXPECT_EQ(genotype_index(0, 1), 1);
  EXPECT_EQ(genotype_index(1, 1), 2);
  EXPECT_EQ(genotype_index(0, 2), 3);
  EXPECT_EQ(genotype_index(1, 2), 4);
  EXPECT_EQ(genotype_index(2, 2), 5);
  EXPECT_EQ(genotype_count(3), 6);
}

TEST(Genotype, LikelihoodsFollowTheReads) {
  const auto het = sample_with(2, concat(repeat(0, 10), repeat(1, 10)));
  EXPECT_GT(het.log_gl[1], het.log_gl[0]);
  EXPECT_GT(het.log_gl[1], het.log_gl[2]);
  EXPECT_EQ(het.ad, (std::vector<int>{10, 10}));
  EXPECT_EQ(het.dp, 20);
  const auto hom = sample_with(2, repeat(1, 8));
  EXPECT_GT(hom.log_gl[2], hom.log_gl[1]);
  // A read supporting no allele clearly counts in DP only.
  SampleEvidence ev(2);
  const double unclear[2] = {0.5, 0.4};
  add_read(ev, unclear);
  EXPECT_EQ(ev.dp, 1);
  EXPECT_EQ(ev.ad, (std::vector<int>{0, 0}));
}

TEST(Genotype, SubsetKeepsTheLikelihoodsOfTheKeptAlleles) {
  const auto ev = sample_with(3, concat(repeat(0, 4), repeat(2, 5)));
  const auto sub = subset_alleles(ev, {0, 2});
  ASSERT_EQ(sub.log_gl.size(), 3u);
  EXPECT_DOUBLE_EQ(sub.log_gl[0], ev.log_gl[static_cast<std::size_t>(genotype_index(0, 0))]);
  EXPECT_DOUBLE_EQ(sub.log_gl[1], ev.log_gl[static_cast<std::size_t>(genotype_index(0, 2))]);
  EXPECT_DOUBLE_EQ(sub.log_gl[2], ev.log_gl[static_cast<std::size_t>(genotype_index(2, 2))]);
  EXPECT_EQ(sub.ad, (std::vector<int>{4, 5}));
}

TEST(Genotype, JointCallOfClearSamples) {
  const std::vector<SampleEvidence> s = {sample_with(2, concat(repeat(0, 15), repeat(1, 15))), sample_with(2, repeat(1, 20)),
                                         sample_with(2, repeat(0, 20)), SampleEvidence(2)};
  const auto c = genotype_jointly(s, 1e-3);
  EXPECT_EQ(c.gt, (std::vector<int>{0, 1, 1, 1, 0, 0, -1, -1}));
  EXPECT_GT(c.qual, 100);
  EXPECT_EQ(c.allele_count, (std::vector<int>{3, 3}));
  EXPECT_NEAR(c.af[1], 0.5, 0.01);  // 3 of 6 called alleles
  EXPECT_EQ(c.gq[3], -1);
  EXPECT_EQ(c.pl[9], -1);  // the uncalled sample's PL is missing
  EXPECT_EQ(c.pl[1 * 3 + 2], 0);  // the hom-alt sample's best genotype has PL 0
  EXPECT_GE(c.gq[0], 90);
}

TEST(Genotype, NoVariantMeansLowQual) {
  const std::vector<SampleEvidence> s = {sample_with(2, repeat(0, 20)), sample_with(2, repeat(0, 25))};
  const auto c = genotype_jointly(s, 1e-3);
  EXPECT_LT(c.qual, 1);
  EXPECT_EQ(c.allele_count[1], 0);
}

TEST(Genotype, PopulationPriorHelpsALowCoverageSample) {
  // One read of each allele: alone, the prior on a rare site keeps the sample hom-ref or makes it
  // uncertain; among samples that clearly carry the allele, it becomes a confident het.
  const auto thin = sample_with(2, {0, 1});
  std::vector<SampleEvidence> cohort(10, sample_with(2, concat(repeat(0, 10), repeat(1, 10))));
  cohort.push_back(thin);
  std::vector<SampleEvidence> rare(10, sample_with(2, repeat(0, 20)));
  rare.push_back(thin);
  const auto common = genotype_jointly(cohort, 1e-3);
  const auto alone = genotype_jointly(rare, 1e-3);
  EXPECT_EQ(common.gt[20], 0);
  EXPECT_EQ(common.gt[21], 1);
  EXPECT_GT(common.gq[10], alone.gq[10]);
  EXPECT_LT(alone.qual, common.qual);
}

TEST(Genotype, MultiAllelicHet) {
  const std::vector<SampleEvidence> s = {sample_with(3, concat(repeat(1, 12), repeat(2, 12)))};
  const auto c = genotype_jointly(s, 1e-3);
  EXPECT_EQ(c.gt, (std::vector<int>{1, 2}));
}

// ---- the region caller on hand-made reads ----------------------------------------------------

namespace {

class VectorStream final : public ReadStream {
 public:
  explicit VectorStream(std::vector<AlnRead> reads) : reads_(std::move(reads)) {}
  bool next(AlnRead& r) override {
    if (i_ == reads_.size()) return false;
    r = reads_[i_++];
    return true;
  }

 private:
  std::vector<AlnRead> reads_;
  std::size_t i_ = 0;
};

std::string random_dna(std::size_t n, std::uint64_t seed) {
  gf::Rng rng(seed);
  std::string s(n, 'A');
  for (auto& c : s) c = "ACGT"[rng.below(4)];
  return s;
}

/// A read of `len` bases starting at reference position `pos` of a haplotype that is the
/// reference with ref[del_at, del_at + del_len) deleted (del_len 0: none) and base `snp_base` at
/// `snp_at` (-1: none). Reads whose end falls within `clip_near` bases after the deletion show it
/// as a soft clip, as bwa does.
AlnRead make_read(const std::string& ref, std::int64_t pos, int len, std::int64_t del_at, int del_len, std::int64_t snp_at, char snp_base,
                  std::uint64_t name, bool read1, int clip_near = 6) {
  AlnRead r;
  r.pos = pos;
  std::string seq;
  std::vector<std::uint32_t> cig;
  std::int64_t p = pos;
  int before = 0;
  while (static_cast<int>(seq.size()) < len && p < static_cast<std::int64_t>(ref.size())) {
    if (del_len > 0 && p == del_at) {
      p += del_len;
      continue;
    }
    seq.push_back(p == snp_at ? snp_base : ref[static_cast<std::size_t>(p)]);
    if (del_len > 0 && p < del_at) ++before;
    ++p;
  }
  const int after = static_cast<int>(seq.size()) - before;
  if (del_len > 0 && pos < del_at && p > del_at) {
    if (after <= clip_near) {
      cig = {bam_cigar_gen(before, BAM_CMATCH), bam_cigar_gen(after, BAM_CSOFT_CLIP)};
      r.end = pos + before;
    } else {
      cig = {bam_cigar_gen(before, BAM_CMATCH), bam_cigar_gen(del_len, BAM_CDEL), bam_cigar_gen(after, BAM_CMATCH)};
      r.end = p;
    }
  } else {
    cig = {bam_cigar_gen(static_cast<int>(seq.size()), BAM_CMATCH)};
    r.end = pos + static_cast<std::int64_t>(seq.size());
  }
  r.clip_beg = r.pos;
  r.clip_end = r.end + (bam_cigar_op(cig.back()) == BAM_CSOFT_CLIP ? bam_cigar_oplen(cig.back()) : 0);
  r.cigar = cig;
  r.seq = seq;
  r.qual.assign(seq.size(), 35);
  r.baq = r.qual;
  r.name_hash = name;
  r.read1 = read1;
  r.mapq = 60;
  return r;
}

struct Scenario {
  std::string ref;
  std::vector<std::vector<AlnRead>> samples;
};

/// Three samples on 6 kb: sample 0 het for a SNP at 2000 and a 3-bp deletion at 4001-4003,
/// sample 1 hom-alt for the SNP, sample 2 reference everywhere. Reads of 100 bp every 4 bp.
Scenario scenario() {
  Scenario s;
  s.ref = random_dna(6000, 7);
  s.ref[1999] = 'C';
  s.ref[2000] = 'A';
  const char alt = 'G';
  std::uint64_t name = 1;
  for (int sample = 0; sample < 3; ++sample) {
    std::vector<AlnRead> reads;
    int k = 0;
    for (std::int64_t pos = 0; pos + 100 <= 6000; pos += 4, ++k) {
      const bool hap_alt = (k % 2) == 1;
      std::int64_t snp = -1, del = 0;
      int del_len = 0;
      if (sample == 0 && hap_alt) {
        snp = 2000;
        del = 4001;
        del_len = 3;
      }
      if (sample == 1) snp = 2000;
      reads.push_back(make_read(s.ref, pos, 100, del, del_len, snp, alt, name++, true));
    }
    s.samples.push_back(std::move(reads));
  }
  return s;
}

std::vector<SiteCall> call(const Scenario& s, std::int64_t beg, std::int64_t end) {
  RefSpan ref;
  ref.beg = std::max<std::int64_t>(0, beg - kRegionPad);
  const std::int64_t to = std::min<std::int64_t>(static_cast<std::int64_t>(s.ref.size()), end + kRegionPad);
  ref.seq = s.ref.substr(static_cast<std::size_t>(ref.beg), static_cast<std::size_t>(to - ref.beg));
  std::vector<std::unique_ptr<ReadStream>> streams;
  for (const auto& reads : s.samples) {
    std::vector<AlnRead> in;
    for (const auto& r : reads) {
      if (r.clip_end > ref.beg && r.clip_beg < to) in.push_back(r);
    }
    streams.push_back(std::make_unique<VectorStream>(in));
  }
  CallOptions opt;
  return call_region(ref, beg, end, streams, opt);
}

}  // namespace

TEST(CallRegion, FindsTheSnpAndTheDeletionAndNothingElse) {
  const auto s = scenario();
  const auto calls = call(s, 0, 6000);
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].pos, 2000);
  EXPECT_FALSE(calls[0].indel);
  EXPECT_EQ(calls[0].alleles, (std::vector<std::string>{"A", "G"}));
  EXPECT_EQ(calls[0].gt, (std::vector<int>{0, 1, 1, 1, 0, 0}));
  EXPECT_GT(calls[0].qual, 100);
  // The deletion of ref[4001, 4004), left-normalised, anchored on the base before it.
  const auto& d = calls[1];
  EXPECT_TRUE(d.indel);
  EXPECT_EQ(d.pos, 4000);
  ASSERT_EQ(d.alleles.size(), 2u);
  EXPECT_EQ(d.alleles[0].size(), 4u);
  EXPECT_EQ(d.alleles[1].size(), 1u);
  EXPECT_EQ(d.gt, (std::vector<int>{0, 1, 0, 0, 0, 0}));
  // Reads that show the deletion only as a soft clip still count for it (AD of the alt allele
  // includes them: 25 reads carry it over the locus, some clipped).
  EXPECT_GE(d.ad[1], 12);
  EXPECT_EQ(d.ad[2 * 2 + 1], 0);
}

TEST(CallRegion, SameCallsForAnyRegionCut) {
  const auto s = scenario();
  const auto whole = call(s, 0, 6000);
  std::vector<SiteCall> pieces;
  const std::vector<std::int64_t> cuts = {0, 1999, 2001, 4000, 4001, 6000};
  for (std::size_t i = 0; i + 1 < cuts.size(); ++i) {
    auto part = call(s, cuts[i], cuts[i + 1]);
    pieces.insert(pieces.end(), part.begin(), part.end());
  }
  ASSERT_EQ(pieces.size(), whole.size());
  for (std::size_t i = 0; i < whole.size(); ++i) {
    EXPECT_EQ(pieces[i].pos, whole[i].pos);
    EXPECT_EQ(pieces[i].alleles, whole[i].alleles);
    EXPECT_EQ(pieces[i].gt, whole[i].gt);
    EXPECT_EQ(pieces[i].pl, whole[i].pl);
    EXPECT_EQ(pieces[i].ad, whole[i].ad);
    EXPECT_DOUBLE_EQ(pieces[i].qual, whole[i].qual);
  }
}

TEST(CallRegion, ReadsReachingTheSiteOnlyThroughASoftClipCount) {
  // Reads are sorted by position, not by where their soft clips begin: alt reads aligned at 4004
  // with the deletion's left flank soft-clipped (6S94M) come after a plain read at 4004 and must
  // still be scored for the deletion at 4000.
  auto s = scenario();
  const auto before = call(s, 0, 6000);
  std::string alt_hap = s.ref.substr(3995, 6) + s.ref.substr(4004, 94);  // ref 3995-4000, then 4004-4097
  auto& reads = s.samples[0];
  std::vector<AlnRead> extra;
  for (int k = 0; k < 5; ++k) {
    AlnRead r = make_read(s.ref, 4004, 94, 0, 0, -1, 'N', 900000 + static_cast<std::uint64_t>(k), true);
    r.seq = alt_hap;
    r.qual.assign(r.seq.size(), 35);
    r.baq = r.qual;
    r.cigar = {bam_cigar_gen(6, BAM_CSOFT_CLIP), bam_cigar_gen(94, BAM_CMATCH)};
    r.clip_beg = r.pos - 6;
    extra.push_back(r);
  }
  const auto at = std::find_if(reads.begin(), reads.end(), [](const AlnRead& r) { return r.pos > 4004; });
  reads.insert(at, extra.begin(), extra.end());
  const auto after = call(s, 0, 6000);
  ASSERT_EQ(before.size(), 2u);
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(after[1].ad[1], before[1].ad[1] + 5);
}

namespace {

/// One sample at 50x (100-bp reads every 2 bp) over 6 kb whose reference has a run of `run` A's
/// at 3000; `alt_per_20` reads in every 20 lack one base of the run (deletion at 3000).
Scenario homopolymer(int run, int alt_per_20) {
  Scenario s;
  s.ref = random_dna(6000, 11);
  for (int i = 0; i < run; ++i) s.ref[static_cast<std::size_t>(3000 + i)] = 'A';
  s.ref[2999] = 'C';
  s.ref[static_cast<std::size_t>(3000 + run)] = 'G';
  std::vector<AlnRead> reads;
  int k = 0;
  for (std::int64_t pos = 0; pos + 100 <= 6000; pos += 2, ++k) {
    const bool alt = k % 20 < alt_per_20;
    reads.push_back(make_read(s.ref, pos, 100, alt ? 3000 : 0, alt ? 1 : 0, -1, 'N', static_cast<std::uint64_t>(k + 1), true));
  }
  s.samples.push_back(std::move(reads));
  return s;
}

bool calls_deletion_at_run(const std::vector<SiteCall>& calls) {
  return std::any_of(calls.begin(), calls.end(), [](const SiteCall& c) { return c.indel && c.pos == 2999; });
}

}  // namespace

TEST(CallRegion, SlippageInALongRepeatIsNotAHeterozygote) {
  // 3 reads in 20 (15%) one base short in an (A)20 run: what PCR and sequencing slippage leave,
  // not a heterozygote (50%). The same share in an (A)3 run is a variant.
  EXPECT_FALSE(calls_deletion_at_run(call(homopolymer(20, 3), 0, 6000)));
  EXPECT_TRUE(calls_deletion_at_run(call(homopolymer(3, 3), 0, 6000)));
  // A real heterozygote in the long run is still called, as a heterozygote.
  const auto het = call(homopolymer(20, 10), 0, 6000);
  const auto d = std::find_if(het.begin(), het.end(), [](const SiteCall& c) { return c.indel && c.pos == 2999; });
  ASSERT_NE(d, het.end());
  EXPECT_EQ(d->gt, (std::vector<int>{0, 1}));
}

TEST(CallRegion, OptionsAreChecked) {
  CallOptions o;
  EXPECT_NO_THROW(o.validate());
  o.min_alt_fraction = 2;
  EXPECT_THROW(o.validate(), gf::UsageError);
}
