#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "genoforest/core/error.hpp"
#include "genoforest/core/files.hpp"
#include "genoforest/core/region.hpp"
#include "genoforest/core/rng.hpp"
#include "genoforest/core/subset.hpp"
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

TEST(Region, ContigAliasesMatchUcscAndEnsemblNamings) {
  EXPECT_EQ(gf::canonical_contig("chr1"), "1");
  EXPECT_EQ(gf::canonical_contig("CHRX"), "X");
  EXPECT_EQ(gf::canonical_contig("chrM"), "MT");
  EXPECT_EQ(gf::canonical_contig("M"), "MT");
  EXPECT_EQ(gf::canonical_contig("chr"), "chr");  // nothing after the prefix: not a prefix
  const std::vector<std::string> ens = {"1", "2", "X", "MT"}, ucsc = {"chr1", "chr2", "chrX", "chrM"};
  EXPECT_EQ(gf::match_contig("chr2", ens), "2");
  EXPECT_EQ(gf::match_contig("chrM", ens), "MT");
  EXPECT_EQ(gf::match_contig("MT", ucsc), "chrM");
  EXPECT_EQ(gf::match_contig("X", ucsc), "chrX");
  EXPECT_EQ(gf::match_contig("chr3", ens), "");
  EXPECT_EQ(gf::match_contig("1", {"chr1", "1"}), "1");                   // the exact name first
  EXPECT_EQ(gf::match_contig("M", std::vector<std::string>{"chrM", "MT"}), "");  // two candidates: none
  std::vector<gf::Region> r = {{"chr1", 0, 10}, {"2", 5, 9}, {"chr9", 0, 1}};
  gf::match_region_contigs(r, ens, "-r", "x.vcf.gz");
  EXPECT_EQ(r[0].contig, "1");
  EXPECT_EQ(r[1].contig, "2");
  EXPECT_EQ(r[2].contig, "chr9");  // not found: left for the caller to refuse
}

TEST(Subsets, SampleListsAndVariantListsAsPlink2ReadsThem) {
  const auto dir = std::filesystem::temp_directory_path() / ("gf-subset-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "k.txt") << "#FID IID\nF1 A\nF2 B\n\n";
  std::ofstream(dir / "r.txt") << "B\n";
  const auto s = gf::SampleSubset::from_files((dir / "k.txt").string(), (dir / "r.txt").string());
  EXPECT_EQ(s.select({"C", "B", "A"}, "x"), (std::vector<std::int64_t>{2}));
  EXPECT_THROW((void)s.select({"C"}, "x"), gf::DataError);
  std::ofstream(dir / "v.txt") << "rs1\nchr2:100:A:G\n";
  const auto v = gf::VariantList::read(dir / "v.txt");
  EXPECT_TRUE(v.contains("1", 5, "rs1", "A", "C"));
  EXPECT_TRUE(v.contains("chr2", 100, ".", "A", "G"));
  EXPECT_FALSE(v.contains("chr2", 100, ".", "A", "T"));
  std::ofstream(dir / "b.txt") << "chr1\t10\t20\n1\t15\t30\nchrX\t0\t5\n";  // BED by its columns; overlaps merged
  const auto b = gf::VariantList::read(dir / "b.txt");
  EXPECT_TRUE(b.contains("1", 11, ".", "A", "C"));     // 0-based 10 is in [10, 30)
  EXPECT_TRUE(b.contains("chr1", 30, ".", "A", "C"));  // 0-based 29
  EXPECT_FALSE(b.contains("1", 31, ".", "A", "C"));
  EXPECT_FALSE(b.contains("1", 10, ".", "A", "C"));
  EXPECT_TRUE(b.contains("X", 1, ".", "A", "C"));
  std::filesystem::remove_all(dir);
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

namespace {
/// A token as temp_token() makes, for a process that has ended (a child that exited).
std::string dead_token() {
  const pid_t child = fork();
  if (child == 0) _exit(0);
  int status = 0;
  waitpid(child, &status, 0);
  const std::string live = gf::temp_token();
  return std::to_string(child) + live.substr(live.find('-'));
}
}  // namespace

TEST_F(Atomic, StaleTemporariesOfDeadProcessesGoAndNothingElse) {
  const auto target = dir_ / "out.h5";
  const std::string dead = dead_token(), live = gf::temp_token();
  const std::string parent = std::to_string(getppid()) + live.substr(live.find('-'));
  const std::string other_host = dead.substr(0, dead.find('-')) + "-zzzzzzzz" + dead.substr(dead.rfind('-'));
  for (const std::string& t : {dead, live, parent, other_host, std::string("123"), std::string("run-77")}) {
    std::ofstream(dir_ / ("out.h5.tmp." + t)) << "x";
  }
  fs::create_directory(dir_ / (".genoforest-align." + dead));
  std::ofstream(dir_ / (".genoforest-align." + dead) / "chunk") << "x";
  std::ofstream(dir_ / "other.h5.tmp.x") << "x";

  const auto removed = gf::remove_stale_temporaries(dir_, "out.h5.tmp.");
  ASSERT_EQ(removed.size(), 1u);
  EXPECT_EQ(removed[0], "out.h5.tmp." + dead);
  EXPECT_FALSE(fs::exists(dir_ / ("out.h5.tmp." + dead)));
  for (const std::string& t : {live, parent, other_host, std::string("123"), std::string("run-77")}) {
    EXPECT_TRUE(fs::exists(dir_ / ("out.h5.tmp." + t))) << t;  // alive, elsewhere, or not ours
  }
  EXPECT_TRUE(fs::exists(dir_ / "other.h5.tmp.x"));
  // A folder (align's temporary) goes whole.
  EXPECT_EQ(gf::remove_stale_temporaries(dir_, ".genoforest-align.").size(), 1u);
  EXPECT_FALSE(fs::exists(dir_ / (".genoforest-align." + dead)));
  // Checking the outputs of a command cleans up too.
  std::ofstream(dir_ / ("out.h5.tmp." + dead)) << "x";
  gf::check_outputs({}, {{"-o", target}});
  EXPECT_FALSE(fs::exists(dir_ / ("out.h5.tmp." + dead)));
  EXPECT_TRUE(fs::exists(dir_ / ("out.h5.tmp." + live)));
}

TEST_F(Atomic, CommitNeverReplacesANonRegularFile) {
  fs::create_directory(dir_ / "d");
  gf::AtomicOutput o(dir_ / "d", "t3");
  std::ofstream(o.tmp()) << "x";
  EXPECT_THROW(o.commit(), gf::IoError);
  EXPECT_TRUE(fs::is_directory(dir_ / "d"));
}

TEST_F(Atomic, OutputsMustBeNewOrRegularAndNeverAnInputOrAnotherOutput) {
  std::ofstream(dir_ / "in.vcf") << "x";
  fs::create_hard_link(dir_ / "in.vcf", dir_ / "hard.vcf");
  fs::create_symlink(dir_ / "in.vcf", dir_ / "soft.vcf");
  const std::vector<gf::NamedPath> in{{"the input", dir_ / "in.vcf"}};
  auto message = [&](const std::vector<gf::NamedPath>& out) -> std::string {
    try {
      gf::check_outputs(in, out);
    } catch (const gf::UsageError& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_EQ(message({{"-o", dir_ / "new.h5"}}), "");
  for (const char* same : {"in.vcf", "hard.vcf", "soft.vcf", "sub/../in.vcf"}) {
    if (std::string(same).starts_with("sub")) fs::create_directories(dir_ / "sub");
    const std::string m = message({{"-o", dir_ / same}});
    EXPECT_NE(m.find("is the same file as the input"), std::string::npos) << same << ": " << m;
  }
  EXPECT_NE(message({{"-o", dir_ / "a.tsv"}, {"--other", dir_ / "." / "a.tsv"}}).find("give each output its own path"),
            std::string::npos);
  EXPECT_NE(message({{"-o", "/dev/null"}}).find("is a character device"), std::string::npos);
  EXPECT_NE(message({{"-o", "-"}}).find("cannot go to standard output"), std::string::npos);
  EXPECT_EQ(message({{"-o", "-", true}}), "");
  EXPECT_TRUE(gf::is_stdout_path("-"));
  EXPECT_TRUE(gf::is_stdout_path("/dev/stdout"));
  EXPECT_THROW(gf::check_outputs(in, {{"-o", dir_}}), gf::UsageError);  // a folder
}

TEST_F(Atomic, AFolderLockRefusesASecondHolderNamingTheFirst) {
  {
    gf::FolderLock first(dir_, ".lock", "run folder");
    const pid_t child = fork();
    if (child == 0) {  // another process: flock locks belong to the open file, so a new open competes
      try {
        gf::FolderLock second(dir_, ".lock", "run folder");
        _exit(1);
      } catch (const gf::UsageError& e) {
        _exit(std::string(e.what()).find("PID " + std::to_string(getppid())) != std::string::npos ? 0 : 2);
      }
    }
    int status = 0;
    waitpid(child, &status, 0);
    EXPECT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
  }
  EXPECT_NO_THROW(gf::FolderLock again(dir_, ".lock", "run folder"));  // released with its holder
}

TEST_F(Atomic, DigestIsTheMd5OfTheBytes) {
  std::ofstream(dir_ / "f") << "abc";
  const auto d = gf::digest_file(dir_ / "f");
  EXPECT_EQ(d.size, 3u);
  EXPECT_EQ(d.md5, "900150983cd24fb0d6963f7d28e17f72");  // RFC 1321 test vector
}

TEST(Text, SizesAsSlurmAndPlink2UsersWriteThem) {
  EXPECT_EQ(gf::parse_size("64G"), std::int64_t{64} << 30);
  EXPECT_EQ(gf::parse_size("512MiB"), std::int64_t{512} << 20);
  EXPECT_EQ(gf::parse_size("1.5t"), std::int64_t{3} << 39);
  EXPECT_EQ(gf::parse_size("100K"), 102400);
  EXPECT_EQ(gf::parse_size("2048"), 2048);
  EXPECT_EQ(gf::parse_size("2048B"), 2048);
  for (const char* bad : {"", "lots", "0", "-1G", "1X", "G", "1GG", "nanG", "1e30T"}) EXPECT_FALSE(gf::parse_size(bad)) << bad;
  EXPECT_EQ(gf::format_size(100), "100 B");
  EXPECT_EQ(gf::format_size(std::int64_t{3} << 29), "1.5 GiB");
}
