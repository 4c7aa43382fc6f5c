#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "genoforest/core/error.hpp"
#include "genoforest/core/files.hpp"
#include "genoforest/core/region.hpp"
#include "genoforest/core/rng.hpp"
#include "genoforest/core/text.hpp"
#include "temp_dir.hpp"

namespace gf = genoforest;
namespace fs = std::filesystem;

TEST(Rng, SameSeedGivesSameSequenceAndOtherSeedsDiffer) {
  gf::Rng a(42), b(42), c(43);
  for (int i = 0; i < 100; ++i) {
    const auto x = a.next();
    EXPECT_EQ(x, b.next());
    EXPECT_NE(x, c.next());
  }
}

TEST(Rng, TaskSeedsAreNotLinearInTheRunSeed) {
  // ranger's (i+1)*seed makes runs with seeds 1 and 2 share trees; ours must not.
  std::set<std::uint64_t> seen;
  for (std::uint64_t run : {1, 2}) {
    for (std::uint64_t t = 0; t < 1000; ++t) seen.insert(gf::task_seed(run, 7, t));
  }
  EXPECT_EQ(seen.size(), 2000u);
}

TEST(Rng, BelowStaysInRangeAndHitsEveryValue) {
  gf::Rng r(1);
  std::vector<int> hits(7, 0);
  for (int i = 0; i < 7000; ++i) {
    const auto v = r.below(7);
    ASSERT_LT(v, 7u);
    ++hits[v];
  }
  for (int h : hits) EXPECT_GT(h, 800);
}

TEST(Rng, DistributionsHaveTheirMeans) {
  gf::Rng r(5);
  double u = 0, z = 0, z2 = 0, b = 0, g = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    u += r.uniform();
    const double x = r.normal();
    z += x;
    z2 += x * x;
    b += r.beta(2.0, 6.0);
    g += r.gamma(0.5);
  }
  EXPECT_NEAR(u / n, 0.5, 0.01);
  EXPECT_NEAR(z / n, 0.0, 0.01);
  EXPECT_NEAR(z2 / n, 1.0, 0.02);
  EXPECT_NEAR(b / n, 0.25, 0.005);  // a / (a + b)
  EXPECT_NEAR(g / n, 0.5, 0.01);
}

TEST(Text, ParsersRejectTrailingGarbage) {
  EXPECT_EQ(gf::parse_int("123"), 123);
  EXPECT_EQ(gf::parse_int("-5"), -5);
  EXPECT_FALSE(gf::parse_int("12x"));
  EXPECT_FALSE(gf::parse_int(""));
  EXPECT_EQ(gf::parse_int("1,000,000", true), 1000000);
  EXPECT_FALSE(gf::parse_int("1,000"));
  EXPECT_DOUBLE_EQ(*gf::parse_double("0.25"), 0.25);
  EXPECT_FALSE(gf::parse_double("0.25a"));
  EXPECT_EQ(gf::split("a\t\tb", '\t').size(), 3u);
  EXPECT_EQ(gf::trim("  x \r\n"), "x");
}

TEST(Region, ParsesOneBasedClosedIntoZeroBasedHalfOpen) {
  const auto r = gf::parse_region("chr1:1,001-2,000");
  EXPECT_EQ(r.contig, "chr1");
  EXPECT_EQ(r.beg, 1000);
  EXPECT_EQ(r.end, 2000);
  EXPECT_EQ(r.to_string(), "chr1:1001-2000");
  const auto whole = gf::parse_region("chrX");
  EXPECT_EQ(whole.beg, 0);
  EXPECT_EQ(whole.end, gf::Region::kToContigEnd);
  const auto open = gf::parse_region("2:500");
  EXPECT_EQ(open.contig, "2");
  EXPECT_EQ(open.beg, 499);
  EXPECT_EQ(open.end, gf::Region::kToContigEnd);
  EXPECT_EQ(gf::parse_region("HLA-A*01:01:1-100").contig, "HLA-A*01:01");
  EXPECT_EQ(gf::parse_region("HLA-A*01:01:1-100").end, 100);
  EXPECT_THROW(gf::parse_region("chr1:0-10"), gf::UsageError);
  EXPECT_THROW(gf::parse_region("chr1:20-10"), gf::UsageError);
}

TEST(Region, ListsSplitOnCommasButNotInsideNumbers) {
  const auto l = gf::parse_region_list("chr1:1,000-2,000,chr2,3:5-9");
  ASSERT_EQ(l.size(), 3u);
  EXPECT_EQ(l[0].end, 2000);
  EXPECT_EQ(l[1].contig, "chr2");
  EXPECT_EQ(l[2].contig, "3");
  EXPECT_EQ(gf::parse_region_list("2:1-100,4:1-100").size(), 2u);
}

TEST(Region, NormaliseSortsByContigRankAndMergesOverlaps) {
  std::vector<gf::Region> v = {{"b", 10, 20}, {"a", 5, 8}, {"b", 0, 12}, {"b", 30, 40}};
  const auto out = gf::normalise_regions(v, [](const std::string& c) { return c == "b" ? 0 : 1; });
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0], (gf::Region{"b", 0, 20}));
  EXPECT_EQ(out[1], (gf::Region{"b", 30, 40}));
  EXPECT_EQ(out[2], (gf::Region{"a", 5, 8}));
}

using Bed = TempDir;
TEST_F(Bed, ReadsZeroBasedIntervalsAndNamesTheBadLine) {
  std::ofstream(dir_ / "a.bed") << "track name=x\n# c\nchr1\t0\t100\textra\nchr2\t5\t6\n";
  const auto r = gf::read_bed(dir_ / "a.bed");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0], (gf::Region{"chr1", 0, 100}));
  std::ofstream(dir_ / "b.bed") << "chr1\t0\t100\nchr1\t50\t40\n";
  try {
    (void)gf::read_bed(dir_ / "b.bed");
    FAIL();
  } catch (const gf::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("b.bed line 2"), std::string::npos);
  }
}

using Atomic = TempDir;
TEST_F(Atomic, UncommittedOutputLeavesTheEarlierFileAndNoTemporary) {
  const auto target = dir_ / "out.txt";
  std::ofstream(target) << "old";
  {
    gf::AtomicOutput o(target, "t1");
    std::ofstream(o.tmp()) << "half";
  }  // an error unwinds: no commit
  std::ifstream in(target);
  std::string s;
  in >> s;
  EXPECT_EQ(s, "old");
  EXPECT_FALSE(fs::exists(dir_ / "out.txt.tmp.t1"));
}

TEST_F(Atomic, CommitReplacesTheFile) {
  const auto target = dir_ / "out.txt";
  std::ofstream(target) << "old";
  gf::AtomicOutput o(target, "t2");
  std::ofstream(o.tmp()) << "new";
  o.commit();
  std::ifstream in(target);
  std::string s;
  in >> s;
  EXPECT_EQ(s, "new");
}

TEST_F(Atomic, UnwritableFolderIsAnIoError) {
  EXPECT_THROW(gf::check_output_writable(dir_ / "missing" / "x.h5"), gf::IoError);
  EXPECT_NO_THROW(gf::check_output_writable(dir_ / "x.h5"));
  EXPECT_THROW(gf::check_output_writable(dir_), gf::IoError);
}

TEST_F(Atomic, DigestIsTheMd5OfTheBytes) {
  std::ofstream(dir_ / "f") << "abc";
  const auto d = gf::digest_file(dir_ / "f");
  EXPECT_EQ(d.size, 3u);
  EXPECT_EQ(d.md5, "900150983cd24fb0d6963f7d28e17f72");  // RFC 1321 test vector
}
