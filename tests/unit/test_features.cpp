#include <gtest/gtest.h>
#include <htslib/kstring.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "genoforest/core/error.hpp"
#include "genoforest/core/rng.hpp"
#include "genoforest/features/extract.hpp"
#include "genoforest/features/sample_stats.hpp"
#include "genoforest/io/scaleoffset.hpp"
#include "genoforest/features/site.hpp"
#include "genoforest/io/phenotype.hpp"
#include "genoforest/io/vcf.hpp"
#include "genoforest/sim/cohort.hpp"
#include "temp_dir.hpp"

namespace gf = genoforest;
namespace ft = genoforest::features;
namespace fs = std::filesystem;

namespace {
/// A header with three samples and a record parsed from VCF text, as htslib would read it.
class Records {
 public:
  explicit Records(bool samples = true) : hdr_(bcf_hdr_init("r")) {
    std::string text =
        "##fileformat=VCFv4.2\n##contig=<ID=chr1,length=1000>\n##FILTER=<ID=LowQual,Description=\"x\">\n"
        "##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">\n";
    text += samples ? "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tA\tB\tC\n"
                    : "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n";
    if (bcf_hdr_parse(hdr_.get(), text.data()) != 0) throw std::runtime_error("header");
  }
  bcf1_t* parse(const std::string& line) {
    rec_ = gf::io::make_record();
    kstring_t s{0, 0, nullptr};
    kputs(line.c_str(), &s);
    const int r = vcf_parse(&s, hdr_.get(), rec_.get());
    free(s.s);
    if (r < 0) throw std::runtime_error("parse");
    bcf_unpack(rec_.get(), BCF_UN_ALL);
    return rec_.get();
  }
  bcf_hdr_t* hdr() { return hdr_.get(); }

 private:
  gf::io::BcfHdrPtr hdr_;
  gf::io::Bcf1Ptr rec_;
};

std::vector<std::int8_t> col(const std::vector<std::int8_t>& d, std::size_t c, std::size_t n = 3) {
  return {d.begin() + static_cast<long>(c * n), d.begin() + static_cast<long>((c + 1) * n)};
}
}  // namespace

TEST(Classify, TellsSnvsIndelsAndOthers) {
  EXPECT_EQ(ft::classify("A", "G"), ft::VariantType::kSnv);
  EXPECT_EQ(ft::classify("a", "t"), ft::VariantType::kSnv);
  EXPECT_EQ(ft::classify("A", "AT"), ft::VariantType::kIndel);
  EXPECT_EQ(ft::classify("ATG", "A"), ft::VariantType::kIndel);
  EXPECT_EQ(ft::classify("AT", "GC"), ft::VariantType::kOther);
  EXPECT_EQ(ft::classify("A", "<DEL>"), ft::VariantType::kOther);
  EXPECT_EQ(ft::classify("A", "*"), ft::VariantType::kOther);
  EXPECT_TRUE(ft::is_transition('A', 'G'));
  EXPECT_TRUE(ft::is_transition('t', 'c'));
  EXPECT_FALSE(ft::is_transition('A', 'C'));
}

// Found by fuzz_vcf: a sites-only record (no sample) handed memset a null column (UBSan).
TEST(SiteExtractor, ASitesOnlyRecordGivesAnEmptyColumn) {
  Records r(false);
  ft::SiteExtractor ex(r.hdr(), {});
  std::vector<ft::VariantRow> rows;
  std::vector<std::int8_t> d;
  ex.extract(r.parse("chr1\t10\trs1\tA\tG\t50\tPASS\t."), "f", rows, d);
  EXPECT_TRUE(d.empty());
  EXPECT_EQ(ex.counts().records_without_gt, 1u);
}

TEST(SiteExtractor, DiploidPhasedUnphasedAndMissingCalls) {
  Records r;
  ft::SiteExtractor ex(r.hdr(), {});
  std::vector<ft::VariantRow> rows;
  std::vector<std::int8_t> d;
  ex.extract(r.parse("chr1\t10\trs1\tA\tG\t50\tPASS\t.\tGT\t0/1\t1|1\t./."), "f", rows, d);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(col(d, 0), (std::vector<std::int8_t>{1, 2, -1}));
  EXPECT_EQ(rows[0].pos, 10);
  EXPECT_EQ(rows[0].id, "rs1");
  EXPECT_EQ(rows[0].filter, "PASS");
  EXPECT_FLOAT_EQ(rows[0].qual, 50.0f);
  EXPECT_DOUBLE_EQ(rows[0].af, 3.0 / 4.0);  // 3 ALT of 4 called alleles
  EXPECT_DOUBLE_EQ(rows[0].call_rate, 2.0 / 3.0);
  EXPECT_TRUE(rows[0].transition);
}

TEST(SiteExtractor, PartiallyMissingCallIsMissingAndHaploidCountsOneCopy) {
  Records r;
  ft::SiteExtractor ex(r.hdr(), {});
  std::vector<ft::VariantRow> rows;
  std::vector<std::int8_t> d;
  ex.extract(r.parse("chr1\t10\t.\tC\tT\t.\t.\t.\tGT\t0/.\t1\t0"), "f", rows, d);
  EXPECT_EQ(col(d, 0), (std::vector<std::int8_t>{-1, 1, 0}));
  EXPECT_DOUBLE_EQ(rows[0].af, 0.5);  // haploid calls contribute one allele each
  EXPECT_EQ(rows[0].filter, ".");
  EXPECT_TRUE(std::isnan(rows[0].qual));
}

TEST(SiteExtractor, MultiAllelicSiteGivesOneColumnPerAlt) {
  Records r;
  ft::SiteExtractor ex(r.hdr(), {});
  std::vector<ft::VariantRow> rows;
  std::vector<std::int8_t> d;
  ex.extract(r.parse("chr1\t20\t.\tA\tC,AT\t.\tPASS\t.\tGT\t1/2\t2/2\t0/1"), "f", rows, d);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(col(d, 0), (std::vector<std::int8_t>{1, 0, 1}));
  EXPECT_EQ(col(d, 1), (std::vector<std::int8_t>{1, 2, 0}));
  EXPECT_EQ(rows[0].alt, "C");
  EXPECT_EQ(rows[1].alt, "AT");
  EXPECT_EQ(rows[1].type, ft::VariantType::kIndel);
  EXPECT_EQ(rows[1].allele_index, 2);
  EXPECT_EQ(rows[1].n_alleles, 3);
}

TEST(SiteExtractor, FiltersRemoveWhatTheySayAndCountIt) {
  Records r;
  ft::FeatureFilters f;
  f.snps_only = true;
  f.pass_only = true;
  f.min_maf = 0.2;
  f.max_missing = 0.34;
  ft::SiteExtractor ex(r.hdr(), f);
  std::vector<ft::VariantRow> rows;
  std::vector<std::int8_t> d;
  ex.extract(r.parse("chr1\t1\t.\tA\tG\t.\tLowQual\t.\tGT\t0/1\t0/1\t0/1"), "f", rows, d);  // not PASS
  ex.extract(r.parse("chr1\t2\t.\tA\tAT\t.\tPASS\t.\tGT\t0/1\t0/1\t0/1"), "f", rows, d);    // indel
  ex.extract(r.parse("chr1\t3\t.\tA\tG\t.\tPASS\t.\tGT\t0/0\t0/0\t0/1"), "f", rows, d);     // maf 1/6
  ex.extract(r.parse("chr1\t4\t.\tA\tG\t.\tPASS\t.\tGT\t./.\t./.\t0/1"), "f", rows, d);     // 2/3 missing
  ex.extract(r.parse("chr1\t5\t.\tA\tG\t.\t.\t.\tGT\t0/1\t0/0\t1/1"), "f", rows, d);        // kept ('.' = pass)
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].pos, 5);
  const auto& c = ex.counts();
  EXPECT_EQ(c.not_pass, 1u);
  EXPECT_EQ(c.not_snv, 1u);
  EXPECT_EQ(c.low_maf, 1u);
  EXPECT_EQ(c.too_missing, 1u);
  EXPECT_EQ(c.kept, 1u);

  ft::FeatureFilters bi;
  bi.biallelic_only = true;
  ft::SiteExtractor ex2(r.hdr(), bi);
  ex2.extract(r.parse("chr1\t6\t.\tA\tC,G\t.\tPASS\t.\tGT\t0/1\t0/2\t1/2"), "f", rows, d);
  EXPECT_EQ(ex2.counts().not_biallelic, 2u);
}

TEST(SiteExtractor, AlleleIndexBeyondTheAllelesIsAnInputErrorNamingTheRecord) {
  Records r;
  ft::SiteExtractor ex(r.hdr(), {});
  std::vector<ft::VariantRow> rows;
  std::vector<std::int8_t> d;
  try {
    ex.extract(r.parse("chr1\t77\t.\tA\tG\t.\tPASS\t.\tGT\t0/1\t0/3\t0/0"), "in.vcf.gz", rows, d);
    FAIL();
  } catch (const gf::InputError& e) {
    EXPECT_STREQ(e.what(), "in.vcf.gz record chr1:77: sample B has GT allele index 3 but the record has 2 alleles");
  }
}

// The text fast path must decode GT exactly as htslib does, for every shape of call.
TEST(ParseGtColumns, MatchesHtslibForEveryCallShape) {
  Records r;
  const std::vector<std::string> sample_parts = {
      "0/1\t1|1\t./.",         "0|0\t.|.\t1/0",        "1\t0\t.",              "0/1\t1\t./.",
      "0/1/2\t1\t0|1",         "10/2\t0/11\t.",        "0/1:35\t1|1:7\t./.:.", "0/.\t.|1\t.",
      "1/1:9:1,2\t0/0\t0/1:3", "0\t1/1/1/1\t0/1",
  };
  for (const auto& part : sample_parts) {
    SCOPED_TRACE(part);
    bcf1_t* rec = r.parse("chr1\t5\t.\tA\tC,G,T,AA,AC,AG,AT,CA,CC,CG,CT\t.\t.\t.\t" +
                          std::string(part.find(':') == std::string::npos ? "GT" : "GT:DP:AD") + "\t" + part);
    gf::io::Genotypes want, got;
    gf::io::get_genotypes(r.hdr(), rec, want, "w");
    gf::io::parse_gt_columns(part.data(), part.data() + part.size(), 3, got, "w");
    EXPECT_EQ(got.ploidy, want.ploidy);
    EXPECT_EQ(got.values, want.values);
  }
}

TEST(ParseGtColumns, RejectsMalformedCallsAndWrongColumnCounts) {
  gf::io::Genotypes gt;
  auto parse = [&](const std::string& text) { gf::io::parse_gt_columns(text.data(), text.data() + text.size(), 3, gt, "f.vcf.gz record chr1:5"); };
  auto message = [&](const std::string& text) {
    try {
      parse(text);
    } catch (const gf::InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message("0/1\t0/1"), "f.vcf.gz record chr1:5: wrong number of columns (2 sample columns, the header has 3)");
  EXPECT_EQ(message("0/1\t0/1\t0/0\t1/1"),
            "f.vcf.gz record chr1:5: wrong number of columns (more sample columns than the header's 3)");
  EXPECT_EQ(message("0/1\tA/1\t0/0"), "f.vcf.gz record chr1:5: sample column 2: invalid GT character 'A'");
  EXPECT_EQ(message("0/1\t\t0/0"), "f.vcf.gz record chr1:5: sample column 2: empty GT");
  EXPECT_EQ(message("0/1\t0/1\t0/x"), "f.vcf.gz record chr1:5: sample column 3: invalid GT character 'x'");
  EXPECT_EQ(message("0/1\t0/1\t0/0\t"), "f.vcf.gz record chr1:5: wrong number of columns (more sample columns than the header's 3)");
}

TEST(ParseGtColumns, BiallelicFastFormMatchesTheGeneralPath) {
  // Where the fast form accepts a record, its dosages are those the general path gives (through
  // htslib's own parse); everything else it declines, leaving it to the general path.
  Records r;
  const std::vector<std::pair<std::string, bool>> cases = {
      {"0/1\t1|1\t./.", true},      {"0|0\t.|.\t1/0", true},   {"0/.\t.|1\t1/1", true},
      {"0/1:35\t1|1:7\t./.:.", true}, {"1/1:9:1,2\t0/0\t0/1:3", true},
      {"1\t0\t.", false},           {"0/1\t1\t./.", false},    {"0/1/1\t1/1\t0|1", false},
      {"0/2\t0/0\t0/0", false},     {"0/1\t0/1", false},        {"0/1\t0/1\t0/0\t1/1", false},
      {"0/1\tA/1\t0/0", false},     {"0/1\t\t0/0", false},     {"0/1\t0/1\t0/0\t", false},
      {"00/1\t0/0\t0/0", false},
  };
  for (const auto& [part, accepted] : cases) {
    SCOPED_TRACE(part);
    std::int8_t d[3] = {9, 9, 9};
    ASSERT_EQ(gf::io::parse_biallelic_dosages(part.data(), part.data() + part.size(), 3, d), accepted);
    if (!accepted) continue;
    bcf1_t* rec = r.parse("chr1\t5\t.\tA\tC\t.\t.\t.\t" +
                          std::string(part.find(':') == std::string::npos ? "GT" : "GT:DP:AD") + "\t" + part);
    gf::io::Genotypes gt;
    gf::io::get_genotypes(r.hdr(), rec, gt, "w");
    ft::SiteExtractor ex(r.hdr(), ft::FeatureFilters{});
    std::vector<ft::VariantRow> rows;
    std::vector<std::int8_t> want;
    ASSERT_EQ(ex.extract(rec, gt, "w", rows, want), 1u);
    EXPECT_EQ(std::vector<std::int8_t>(d, d + 3), want);
    // The record (BCF) form of the same fast path.
    std::int8_t e[3] = {9, 9, 9};
    ASSERT_TRUE(gf::io::record_biallelic_dosages(r.hdr(), rec, e));
    EXPECT_EQ(std::vector<std::int8_t>(e, e + 3), want);
    // And the extractor's fast path gives the same row as its general one.
    gf::io::Genotypes fast;
    fast.biallelic_dosage.assign(d, d + 3);
    fast.has_biallelic_dosage = true;
    fast.ploidy = 2;
    std::vector<ft::VariantRow> rows2;
    std::vector<std::int8_t> got;
    ASSERT_EQ(ex.extract(rec, fast, "w", rows2, got), 1u);
    EXPECT_EQ(got, want);
    EXPECT_EQ(rows2[0].af, rows[0].af);
    EXPECT_EQ(rows2[0].call_rate, rows[0].call_rate);
    EXPECT_EQ(rows2[0].type, rows[0].type);
  }
}

TEST(ParseGtColumns, RecordFastFormDeclinesOtherShapes) {
  Records r;
  std::int8_t d[3];
  for (const std::string part : {"1\t0\t.", "0/1\t1\t./.", "0/1/1\t1/1/0\t0|1|1"}) {
    SCOPED_TRACE(part);
    bcf1_t* rec = r.parse("chr1\t5\t.\tA\tC\t.\t.\t.\tGT\t" + part);
    EXPECT_FALSE(gf::io::record_biallelic_dosages(r.hdr(), rec, d));
  }
  bcf1_t* multi = r.parse("chr1\t5\t.\tA\tC,G\t.\t.\t.\tGT\t0/1\t1/1\t0/0");
  EXPECT_FALSE(gf::io::record_biallelic_dosages(r.hdr(), multi, d));
  bcf1_t* no_gt = r.parse("chr1\t5\t.\tA\tC\t.\t.\t.");
  EXPECT_FALSE(gf::io::record_biallelic_dosages(r.hdr(), no_gt, d));
}

TEST(ParseGtColumns, RecordFastFormOnManySamples) {
  // 37 samples: the eight-at-a-time path and the rest, against the text form of the same calls.
  const int n = 37;
  std::string text = "##fileformat=VCFv4.2\n##contig=<ID=chr1,length=1000>\n"
                     "##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">\n"
                     "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT";
  for (int s = 0; s < n; ++s) text += "\tS" + std::to_string(s);
  text += "\n";
  gf::io::BcfHdrPtr hdr(bcf_hdr_init("r"));
  ASSERT_EQ(bcf_hdr_parse(hdr.get(), text.data()), 0);
  const char* calls[] = {"0/0", "0/1", "1/0", "1|1", "./.", "0/.", ".|1", "0|0"};
  gf::Rng rng(5);
  for (int line = 0; line < 300; ++line) {
    std::string gts;
    for (int s = 0; s < n; ++s) gts += std::string(s ? "\t" : "") + calls[rng.below(8)];
    const bool haploid = line % 7 == 0;  // one haploid call somewhere: declined
    if (haploid) {
      const auto at = 4 * static_cast<std::size_t>(rng.below(static_cast<std::uint64_t>(n)));
      gts.replace(at, 3, "1");
    }
    std::string rec_text = "chr1\t5\t.\tA\tC\t.\t.\t.\tGT\t" + gts;
    kstring_t ks{0, 0, nullptr};
    kputs(rec_text.c_str(), &ks);
    gf::io::Bcf1Ptr rec = gf::io::make_record();
    ASSERT_GE(vcf_parse(&ks, hdr.get(), rec.get()), 0);
    free(ks.s);
    bcf_unpack(rec.get(), BCF_UN_ALL);
    std::vector<std::int8_t> want(n), got(n);
    const bool text_ok = gf::io::parse_biallelic_dosages(gts.data(), gts.data() + gts.size(), n, want.data());
    ASSERT_EQ(text_ok, !haploid);
    ASSERT_EQ(gf::io::record_biallelic_dosages(hdr.get(), rec.get(), got.data()), !haploid) << gts;
    if (!haploid) {
      ASSERT_EQ(got, want) << gts;
    }
  }
}

TEST(ParseGtColumns, BiallelicFastFormOnLongLines) {
  // Lines long enough for the four-at-a-time path, plain columns mixed with sub-fields and, now
  // and then, a column of another form anywhere in the line (then the whole line is declined).
  struct Col {
    const char* text;
    int dosage;  // -1 missing; 9: not the fast form
  };
  const Col good[] = {{"0/0", 0}, {"0/1", 1}, {"1/0", 1}, {"1|1", 2}, {"./.", -1}, {"0/.", -1},
                      {".|1", -1}, {"0|0", 0}, {"0/1:12", 1}, {"1/1:3:4,5", 2}};
  const Col bad[] = {{"1", 9}, {"0/2", 9}, {"01/1", 9}, {"0/1/1", 9}, {"A/1", 9}, {"", 9}};
  gf::Rng rng(11);
  for (int line = 0; line < 2000; ++line) {
    const int n = 1 + static_cast<int>(rng.below(41));
    const bool subfields = line % 3 == 0, spoil = line % 5 == 0;
    std::string text;
    std::vector<std::int8_t> want;
    bool accepted = true;
    for (int s = 0; s < n; ++s) {
      const Col& c = spoil && rng.below(static_cast<std::uint64_t>(n)) == 0 ? bad[rng.below(6)]
                     : good[rng.below(subfields ? 10 : 8)];
      if (s) text += '\t';
      text += c.text;
      if (c.dosage == 9) accepted = false;
      want.push_back(static_cast<std::int8_t>(c.dosage));
    }
    std::vector<std::int8_t> got(static_cast<std::size_t>(n), 9);
    ASSERT_EQ(gf::io::parse_biallelic_dosages(text.data(), text.data() + text.size(), n, got.data()), accepted) << text;
    if (accepted) {
      ASSERT_EQ(got, want) << text;
    }
    // A line with one column too many or too few is declined.
    EXPECT_FALSE(gf::io::parse_biallelic_dosages(text.data(), text.data() + text.size(), n + 1, got.data()));
    if (n > 1) {
      EXPECT_FALSE(gf::io::parse_biallelic_dosages(text.data(), text.data() + text.size(), n - 1, got.data()));
    }
  }
}

TEST(ColumnsToRows, MatchesTheNaiveCopyForEveryShape) {
  // Shapes around the 16 x 16 tiles: whole tiles, ragged edges, a single row or column.
  gf::Rng rng(13);
  for (const auto& [n, cols] : {std::pair<std::int64_t, std::int64_t>{16, 16}, {37, 50}, {1, 33}, {40, 1}, {15, 15}, {64, 48}}) {
    SCOPED_TRACE(std::to_string(n) + " x " + std::to_string(cols));
    std::vector<std::int8_t> src(static_cast<std::size_t>(n * cols));
    for (auto& v : src) v = static_cast<std::int8_t>(static_cast<int>(rng.below(4)) - 1);
    const std::int64_t stride = cols + 3, offset = 2;  // rows wider than the columns copied
    std::vector<std::int8_t> dst(static_cast<std::size_t>(n * stride), 99);
    ft::columns_to_rows(src.data(), n, cols, dst.data() + offset, stride);
    for (std::int64_t r = 0; r < n; ++r) {
      for (std::int64_t c = 0; c < stride; ++c) {
        const bool inside = c >= offset && c < offset + cols;
        const std::int8_t want = inside ? src[static_cast<std::size_t>((c - offset) * n + r)] : std::int8_t{99};
        ASSERT_EQ(dst[static_cast<std::size_t>(r * stride + c)], want) << r << "," << c;
      }
    }
  }
}

TEST(SampleStats, MatchNaiveCountsAndDoNotDependOnBlocking) {
  const std::size_t n = 37, v = 211;
  gf::Rng rng(3);
  std::vector<std::int8_t> m(n * v);
  for (auto& x : m) x = static_cast<std::int8_t>(static_cast<int>(rng.below(4)) - 1);
  m[3] = 3;            // a triploid ALT/ALT/ALT call in sample 0, window 0
  m[7 * v + 150] = 4;  // and a tetraploid one in sample 7, on chr2
  std::vector<ft::ColumnClass> cls(v);
  std::vector<std::string> chrom(v);
  std::vector<std::int64_t> pos(v);
  for (std::size_t c = 0; c < v; ++c) {
    cls[c] = {static_cast<ft::VariantType>(rng.below(3)), rng.chance(0.6)};
    chrom[c] = c < 100 ? "chr1" : "chr2";
    pos[c] = static_cast<std::int64_t>((c % 100) * 37 + 1);
  }
  const auto w = ft::assign_windows(chrom, pos, 1000);
  const auto all = ft::compute_sample_stats(m.data(), n, v, cls, w);
  for (std::size_t s = 0; s < n; ++s) {
    std::int64_t het = 0, hom = 0, miss = 0, ts = 0, tv = 0, indel = 0;
    for (std::size_t c = 0; c < v; ++c) {
      const int d = m[s * v + c];
      miss += d < 0;
      het += d == 1;
      hom += d >= 2;
      if (d >= 1 && cls[c].type == ft::VariantType::kSnv) (cls[c].transition ? ts : tv)++;
      if (d >= 1 && cls[c].type == ft::VariantType::kIndel) ++indel;
    }
    EXPECT_EQ(all.n_het[s], het);
    EXPECT_EQ(all.n_hom_alt[s], hom);
    EXPECT_EQ(all.n_missing[s], miss);
    EXPECT_EQ(all.n_called[s] + all.n_missing[s], static_cast<std::int64_t>(v));
    EXPECT_EQ(all.n_transitions[s], ts);
    EXPECT_EQ(all.n_transversions[s], tv);
    EXPECT_EQ(all.n_indel[s], indel);
    EXPECT_DOUBLE_EQ(all.titv[s], static_cast<double>(ts) / static_cast<double>(tv));
  }
  // Every window of every sample by hand.
  for (std::size_t s = 0; s < n; ++s) {
    for (std::size_t win = 0; win < w.chrom.size(); ++win) {
      double sum = 0, ss = 0, k = 0;
      for (std::size_t c = 0; c < v; ++c) {
        const int d = m[s * v + c];
        if (static_cast<std::size_t>(w.column_window[c]) != win || d < 0) continue;
        sum += d;
        ss += d * d;
        ++k;
      }
      const std::size_t at = s * w.chrom.size() + win;
      if (k == 0) {
        EXPECT_TRUE(std::isnan(all.window_mean[at]));
        continue;
      }
      EXPECT_FLOAT_EQ(all.window_mean[at], static_cast<float>(sum / k)) << s << " " << win;
      EXPECT_NEAR(all.window_var[at], ss / k - (sum / k) * (sum / k), 1e-5) << s << " " << win;
    }
  }
  // Two blocks of rows give the same numbers as one.
  const auto top = ft::compute_sample_stats(m.data(), 20, v, cls, w);
  const auto bottom = ft::compute_sample_stats(m.data() + 20 * v, n - 20, v, cls, w);
  EXPECT_EQ(top.window_mean[5 * w.chrom.size() + 1], all.window_mean[5 * w.chrom.size() + 1]);
  EXPECT_EQ(bottom.n_het[0], all.n_het[20]);
}

TEST(Windows, GroupColumnsByContigAndBin) {
  const auto w = ft::assign_windows({"a", "a", "a", "b", "b"}, {1, 1000, 1001, 5, 2500}, 1000);
  ASSERT_EQ(w.chrom.size(), 4u);
  EXPECT_EQ(w.column_window, (std::vector<std::int32_t>{0, 0, 1, 2, 3}));
  EXPECT_EQ(w.start[1], 1001);
  EXPECT_EQ(w.end[1], 2000);
  EXPECT_EQ(w.n_variants[0], 2);
}

using Phenotypes = TempDir;
TEST_F(Phenotypes, TsvAndCsvWithClassesInNumericOrder) {
  std::ofstream(dir_ / "p.tsv") << "sample_id\tlabel\tpopulation\nA\t10\tX\nB\t2\tY\nC\tNA\tX\n";
  const auto t = gf::io::read_phenotypes(dir_ / "p.tsv");
  const auto e = gf::io::encode_labels(t, {"C", "B", "A", "D"}, gf::io::LabelType::kAuto, "v.vcf");
  EXPECT_FALSE(e.quantitative);
  EXPECT_EQ(e.classes, (std::vector<std::string>{"2", "10"}));
  EXPECT_EQ(e.code, (std::vector<int>{-1, 0, 1, -1}));
  EXPECT_EQ(e.samples_without_phenotype, 1u);
  EXPECT_EQ(e.missing_labels, 2u);
  EXPECT_EQ(e.population[2], "X");
  std::ofstream(dir_ / "p.csv") << "samples,score,label\nA,1.5,case\nB,2,control\n";
  const auto c = gf::io::encode_labels(gf::io::read_phenotypes(dir_ / "p.csv"), {"A", "B"}, gf::io::LabelType::kAuto, "v");
  EXPECT_EQ(c.classes, (std::vector<std::string>{"case", "control"}));
}

TEST_F(Phenotypes, NonIntegerNumbersAreQuantitative) {
  std::ofstream(dir_ / "q.tsv") << "sample_id\tlabel\nA\t1.25\nB\t-3\n";
  const auto e = gf::io::encode_labels(gf::io::read_phenotypes(dir_ / "q.tsv"), {"A", "B"}, gf::io::LabelType::kAuto, "v");
  EXPECT_TRUE(e.quantitative);
  EXPECT_DOUBLE_EQ(e.value[0], 1.25);
  EXPECT_DOUBLE_EQ(e.value[1], -3.0);
}

TEST_F(Phenotypes, BadTablesNameTheLine) {
  std::ofstream(dir_ / "d.tsv") << "sample_id\tlabel\nA\t1\nA\t0\n";
  try {
    (void)gf::io::read_phenotypes(dir_ / "d.tsv");
    FAIL();
  } catch (const gf::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("line 3: duplicate sample ID 'A' (first on line 2)"), std::string::npos);
  }
  std::ofstream(dir_ / "a.tsv") << "sample_id\tlabel\nZ\t1\n";
  EXPECT_THROW((void)gf::io::encode_labels(gf::io::read_phenotypes(dir_ / "a.tsv"), {"A"}, gf::io::LabelType::kAuto, "v"),
               gf::InconsistentInputError);
  std::ofstream(dir_ / "w.tsv") << "sample_id\tlabel\nA\tcase\n";
  EXPECT_THROW((void)gf::io::encode_labels(gf::io::read_phenotypes(dir_ / "w.tsv"), {"A"},
                                           gf::io::LabelType::kQuantitative, "v"),
               gf::InputError);
}

TEST_F(Phenotypes, PlinkRAndExcelTablesAsUsersHaveThem) {
  const auto read = [&](const std::string& name, const std::string& text, const std::string& col = "") {
    std::ofstream(dir_ / name) << text;
    return gf::io::read_phenotypes(dir_ / name, col);
  };
  // plink2's .pheno: FID IID and one phenotype column, blank-separated, -9 missing.
  auto t = read("a.pheno", "#FID IID case\nf1  A   2\nf2 B\t1\nf3 C -9\n");
  ASSERT_EQ(t.rows.size(), 3u);
  EXPECT_EQ(t.label_column, "case");
  EXPECT_EQ(t.rows[1].sample_id, "B");
  EXPECT_EQ(t.rows[1].label, "1");
  EXPECT_EQ(t.rows[2].label, "");
  // Several phenotype columns: --pheno-name picks one; without it, an error lists them.
  const std::string many = "FID IID SEX height bmi\nf A 1 1.80 22\nf B 2 1.65 NA\n";
  t = read("m.pheno", many, "bmi");
  EXPECT_EQ(t.rows[0].label, "22");
  EXPECT_EQ(t.rows[1].label, "");
  try {
    (void)read("m2.pheno", many);
    FAIL();
  } catch (const gf::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("pick the label among its columns with --pheno-name (height, bmi)"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW((void)read("m3.pheno", many, "weight"), gf::InputError);
  // plink 1's headerless FID IID PHENO1 PHENO2.
  t = read("h.pheno", "f1 A 1 5.5\nf2 B 2 6.5\n", "PHENO2");
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.rows[0].sample_id, "A");
  EXPECT_EQ(t.rows[1].label, "6.5");
  // R's write.csv: a quoted header with a row-name column, quoted fields, a quote inside.
  t = read("r.csv", "\xEF\xBB\xBF\"\",\"sample_id\",\"label\",\"note\"\r\n\"1\",\"A\",\"case\",\"a, \"\"b\"\"\"\r\n\"2\",\"B\",NA,\"\"\r\n");
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.rows[0].sample_id, "A");
  EXPECT_EQ(t.rows[0].label, "case");
  EXPECT_EQ(t.rows[1].label, "");
  // Tabs left at line ends.
  t = read("t.tsv", "sample_id\tlabel\t\nA\t1\t\t\nB\t0\n");
  EXPECT_EQ(t.rows.size(), 2u);
  EXPECT_THROW((void)read("q.csv", "sample_id,label\n\"A,1\n"), gf::InputError);  // a quote left open
  // Samples of the table that the genotypes lack: counted, not fatal; none in common: refused.
  const auto e = gf::io::encode_labels(read("x.tsv", "sample_id\tlabel\nA\t1\nZ\t0\nY\t0\n"), {"A", "B"},
                                       gf::io::LabelType::kAuto, "v.vcf");
  EXPECT_EQ(e.table_samples_not_in_input, 2u);
  EXPECT_EQ(e.absent_examples, "Z, Y");
  EXPECT_EQ(e.code, (std::vector<int>{0, -1}));
}

using Covariates = TempDir;
TEST_F(Covariates, PlinkCovEigenvecAndCsvWithMissingCodes) {
  // plink's .cov: FID IID, blanks; -9 and NA missing; a non-numeric column left out when none is named.
  std::ofstream(dir_ / "a.cov") << "FID IID AGE SEX site\n0 A 41.5 1 x\n0 B -9 2 y\n0 C NA 1 z\n";
  const auto t = gf::io::read_covariates(dir_ / "a.cov");
  EXPECT_EQ(t.names, (std::vector<std::string>{"AGE", "SEX"}));
  EXPECT_EQ(t.skipped, (std::vector<std::string>{"site"}));
  EXPECT_EQ(t.sample_ids, (std::vector<std::string>{"A", "B", "C"}));
  EXPECT_DOUBLE_EQ(t.values[0][0], 41.5);
  EXPECT_TRUE(std::isnan(t.values[0][1]));
  EXPECT_TRUE(std::isnan(t.values[0][2]));
  EXPECT_DOUBLE_EQ(t.values[1][1], 2.0);
  // A .eigenvec (genoforest pca's and plink2's), with a range as plink2's --covar-name.
  std::ofstream(dir_ / "p.eigenvec") << "#FID\tIID\tPC1\tPC2\tPC3\tPC4\n0\tA\t0.1\t0.2\t0.3\t0.4\n0\tB\t-0.1\t-0.2\t-0.3\t-0.4\n";
  const auto e = gf::io::read_covariates(dir_ / "p.eigenvec", {"PC2-PC3", "PC1"});
  EXPECT_EQ(e.names, (std::vector<std::string>{"PC2", "PC3", "PC1"}));
  EXPECT_DOUBLE_EQ(e.values[2][1], -0.1);
  // Headerless plink 1 .cov: COVAR1, COVAR2.
  std::ofstream(dir_ / "h.cov") << "F1 A 3 4\nF2 B 5 6\n";
  const auto h = gf::io::read_covariates(dir_ / "h.cov");
  EXPECT_EQ(h.names, (std::vector<std::string>{"COVAR1", "COVAR2"}));
  EXPECT_DOUBLE_EQ(h.values[1][1], 6.0);
  // R's write.csv: quoted names and a row-number column... with sample_id.
  std::ofstream(dir_ / "r.csv") << "\xEF\xBB\xBF\"sample_id\",\"bmi\"\n\"A\",22.5\n\"B\",\n";
  const auto r = gf::io::read_covariates(dir_ / "r.csv");
  EXPECT_EQ(r.names, (std::vector<std::string>{"bmi"}));
  EXPECT_TRUE(std::isnan(r.values[0][1]));
  // Aligned to the genotypes' samples: absent rows counted, absent samples missing.
  const auto a = gf::io::align_covariates(t, {"C", "A", "D"}, "v.vcf");
  EXPECT_DOUBLE_EQ(a.values[0][1], 41.5);
  EXPECT_TRUE(std::isnan(a.values[1][2]));
  EXPECT_EQ(a.samples_without_row, 1u);
  EXPECT_EQ(a.table_rows_not_in_samples, 1u);
  EXPECT_THROW((void)gf::io::align_covariates(t, {"X", "Y"}, "v.vcf"), gf::InconsistentInputError);
}

TEST_F(Covariates, NamedColumnsMustExistAndBeNumbers) {
  std::ofstream(dir_ / "a.cov") << "FID IID AGE site\n0 A 41 x\n0 B 50 y\n";
  auto message = [&](const std::vector<std::string>& names) {
    try {
      (void)gf::io::read_covariates(dir_ / "a.cov", names);
    } catch (const gf::InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message({"BMI"}).find("no column 'BMI' (--covar-name); its columns: AGE, site"), std::string::npos);
  EXPECT_NE(message({"site"}).find("a.cov line 2: covariate site is 'x', not a number"), std::string::npos);
  std::ofstream(dir_ / "d.cov") << "IID AGE\nA 1\nA 2\n";
  EXPECT_THROW((void)gf::io::read_covariates(dir_ / "d.cov"), gf::InputError);
  std::ofstream(dir_ / "s.cov") << "IID site\nA x\n";
  EXPECT_THROW((void)gf::io::read_covariates(dir_ / "s.cov"), gf::InputError);  // no numeric column
}

using VcfFiles = TempDir;
// Found by fuzz_vcf (a leak of htslib's format description on this path; the sanitizer run checks leaks).
TEST_F(VcfFiles, AFileOfAnotherFormatIsRefusedNamingWhatItIs) {
  std::ofstream(dir_ / "x.vcf") << "@read1\nACGT\n+\nIIII\n";
  try {
    gf::io::VcfReader r(dir_ / "x.vcf", false);
    FAIL();
  } catch (const gf::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("x.vcf: not a VCF or BCF file (htslib sees "), std::string::npos) << e.what();
  }
}

using Simulator = TempDir;
TEST_F(Simulator, HigherFstSeparatesPopulationsMore) {
  // Mean absolute allele-frequency difference between POP1 and POP2 grows with Fst.
  auto diff = [&](double fst, const std::string& name) {
    gf::sim::CohortOptions o;
    o.samples = 300;
    o.variants = 400;
    o.populations = 2;
    o.fst = fst;
    o.missing_rate = 0;
    o.multiallelic_rate = 0;
    o.indel_rate = 0;
    const auto files = gf::sim::write_cohort(o, (dir_ / name).string(), false, 1, "t", "test");
    gf::io::VcfReader r(files.genotypes, true);
    auto rec = gf::io::make_record();
    ft::SiteExtractor ex(r.header(), {});
    std::vector<ft::VariantRow> rows;
    std::vector<std::int8_t> d;
    while (r.next(rec.get())) ex.extract(rec.get(), "x", rows, d);
    double total = 0;
    for (std::size_t c = 0; c < rows.size(); ++c) {
      double a = 0, b = 0;
      for (std::size_t s = 0; s < 150; ++s) a += d[c * 300 + s];
      for (std::size_t s = 150; s < 300; ++s) b += d[c * 300 + s];
      total += std::fabs(a - b) / 300.0;
    }
    return total / static_cast<double>(rows.size());
  };
  EXPECT_GT(diff(0.2, "hi"), 2.0 * diff(0.01, "lo"));
}

TEST_F(Simulator, PlanCoversTheIndexedContigsInRegionsOfTheGivenSize) {
  gf::sim::CohortOptions o;
  o.samples = 5;
  o.variants = 300;
  o.contigs = 3;
  const auto files = gf::sim::write_cohort(o, (dir_ / "c").string(), true, 1, "t", "test");
  gf::io::VcfReader r(files.genotypes, true);
  const auto plan = ft::plan_regions(r, {}, 40000);
  ASSERT_FALSE(plan.empty());
  EXPECT_EQ(plan.front().contig, "chr1");
  EXPECT_EQ(plan.back().contig, "chr3");
  for (const auto& p : plan) EXPECT_LE(p.end - p.beg, 40000);
  std::size_t columns = 0;
  for (const auto& p : plan) columns += ft::extract_region(r, p, {}).rows.size();
  EXPECT_GE(columns, 300u);  // every site once (tri-allelic sites give two columns)
  const auto one = ft::plan_regions(r, {gf::parse_region("chr2:1-50000")}, 20000);
  ASSERT_EQ(one.size(), 3u);
  EXPECT_EQ(one[2], (gf::Region{"chr2", 40000, 50000}));
  EXPECT_THROW((void)ft::plan_regions(r, {gf::parse_region("chrZ")}, 1000), gf::InconsistentInputError);
}

TEST_F(Simulator, DrawnColumnsAreTheColumnsOfItsVcfRegionByRegion) {
  // simulate -O h extracts from the model what features would read from the VCF: the same plan,
  // rows and dosages for any region cut, with LD, tri-allelic sites, indels, LowQual and missing calls.
  gf::sim::CohortOptions o;
  o.samples = 37;
  o.variants = 900;
  o.contigs = 2;
  o.ld_block = 7;
  o.multiallelic_rate = 0.1;
  o.indel_rate = 0.2;
  o.lowqual_rate = 0.1;
  o.missing_rate = 0.05;
  const auto files = gf::sim::write_cohort(o, (dir_ / "m").string(), false, 1, "t", "test");
  const gf::sim::Cohort cohort(o, nullptr, "test");
  gf::io::VcfReader r(files.genotypes, true);
  EXPECT_EQ(cohort.samples(), r.samples());
  ft::FeatureFilters filters;
  filters.min_maf = 0.02;  // some columns dropped, the same ones
  for (const std::int64_t size : {std::int64_t{3000}, std::int64_t{77777}, std::int64_t{10'000'000}}) {
    const auto plan = cohort.plan_regions(size);
    EXPECT_EQ(plan, ft::plan_regions(r, {}, size)) << size;
    std::size_t columns = 0;
    for (const auto& region : plan) {
      const auto drawn = cohort.extract_region(region, filters);
      const auto read = ft::extract_region(r, region, filters);
      ASSERT_EQ(drawn.rows.size(), read.rows.size()) << region.to_string();
      for (std::size_t c = 0; c < drawn.rows.size(); ++c) {
        const auto& a = drawn.rows[c];
        const auto& b = read.rows[c];
        EXPECT_TRUE(a.chrom == b.chrom && a.pos == b.pos && a.id == b.id && a.ref == b.ref && a.alt == b.alt &&
                    a.qual == b.qual && a.filter == b.filter && a.allele_index == b.allele_index &&
                    a.n_alleles == b.n_alleles && a.type == b.type && a.af == b.af && a.call_rate == b.call_rate)
            << region.to_string() << " column " << c;
      }
      EXPECT_EQ(drawn.dosages, read.dosages) << region.to_string();
      EXPECT_EQ(drawn.counts.low_maf, read.counts.low_maf);
      EXPECT_EQ(drawn.counts.records, read.counts.records);
      columns += drawn.rows.size();
    }
    EXPECT_GT(columns, 500u);  // of ~990 ALT columns, some below --min-maf
  }
  // A region between two sites holds none.
  const auto [lo, hi] = cohort.sites_in(gf::Region{"chr1", 0, 1});
  EXPECT_EQ(lo, hi);
  EXPECT_EQ(cohort.sites_in(gf::Region{"chrX", 0, 100}), (std::pair<std::int64_t, std::int64_t>{0, 0}));
}

// ---- the scale-offset codec (byte-compatibility with libhdf5 is tested in cli/scaleoffset_codec.sh)
TEST(ScaleOffset, HandWorkedChunk) {
  // Dosages 0, 1, 2 and the fill value -1: min 0, span 3, one code kept for the fill value ->
  // minbits = ceil(log2(4)) = 2; codes 0,1,2,3 -> 0b00011011. 21-byte header + 4*2/8 + 1 bytes.
  const std::uint8_t v[4] = {0, 1, 2, 0xff};
  const gf::io::h5::ScaleOffsetParams p{true, true, 0xff};
  const auto c = gf::io::h5::scaleoffset_encode(v, 4, p);
  ASSERT_EQ(c.size(), 23u);
  EXPECT_EQ(c[0], 2);  // minbits, little-endian
  EXPECT_EQ(c[1] | c[2] | c[3], 0);
  EXPECT_EQ(c[4], 8);  // sizeof minval
  for (int k = 5; k < 21; ++k) EXPECT_EQ(c[static_cast<std::size_t>(k)], 0) << k;  // minval 0, then padding
  EXPECT_EQ(c[21], 0x1b);
  EXPECT_EQ(c[22], 0);
  // Negative minimum without a fill value: minval is -3 sign-extended, codes value + 3.
  const std::uint8_t w[3] = {0xfd, 0x00, 0x01};  // -3, 0, 1: span 5 -> minbits 3
  const auto d = gf::io::h5::scaleoffset_encode(w, 3, {true, false, 0});
  ASSERT_EQ(d.size(), 21u + 3 * 3 / 8 + 1);
  EXPECT_EQ(d[0], 3);
  EXPECT_EQ(d[5], 0xfd);  // -3, little-endian two's complement over 8 bytes
  for (int k = 6; k < 13; ++k) EXPECT_EQ(d[static_cast<std::size_t>(k)], 0xff) << k;
  EXPECT_EQ(d[21], 0b00001110);  // codes 000 011 10|0
  EXPECT_EQ(d[22], 0b00000000);
}

TEST(ScaleOffset, RoundTripsEveryWidthAndLength) {
  gf::Rng rng(7);
  for (int trial = 0; trial < 400; ++trial) {
    const std::size_t n = 1 + rng.below(701);
    const bool is_signed = trial % 2 == 0, fill_defined = trial % 3 != 0;
    const int width = static_cast<int>(rng.below(9));  // values span 2^width - 1 above a base
    const int base = static_cast<int>(rng.below(256));
    const std::uint8_t fill = fill_defined ? static_cast<std::uint8_t>(rng.below(256)) : 0;
    std::vector<std::uint8_t> v(n), back(n, 0x55);
    for (auto& x : v) {
      x = static_cast<std::uint8_t>(base + static_cast<int>(rng.below(1u << width)));
      if (fill_defined && rng.below(10) == 0) x = fill;
    }
    const gf::io::h5::ScaleOffsetParams p{is_signed, fill_defined, fill};
    const auto c = gf::io::h5::scaleoffset_encode(v.data(), n, p);
    ASSERT_TRUE(gf::io::h5::scaleoffset_decode(c.data(), c.size(), n, p, back.data()));
    ASSERT_EQ(back, v) << "trial " << trial << " n " << n << " width " << width;
    // A chunk cut short is refused, not read past its end.
    if (c.size() > 23) {
      EXPECT_FALSE(gf::io::h5::scaleoffset_decode(c.data(), 21 + (c.size() - 22) / 2, n, p, back.data()));
    }
  }
}
