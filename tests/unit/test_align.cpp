// Reads to alignments: QC trimming and filters, FASTQ parsing, the sample sheet, duplicate
// marking, the simulated reference and reads, and BWA-MEM through the library.
#include <gtest/gtest.h>
#include <htslib/vcf.h>

#include <fstream>

#include "genoforest/align/bam.hpp"
#include "genoforest/align/bwa.hpp"
#include "genoforest/align/fastq.hpp"
#include "genoforest/align/qc.hpp"
#include "genoforest/align/read_chunk.hpp"
#include "genoforest/align/sample_sheet.hpp"
#include "genoforest/core/error.hpp"
#include "genoforest/sim/reads.hpp"
#include "genoforest/sim/reference.hpp"
#include "temp_dir.hpp"

namespace gf = genoforest;
using namespace genoforest::align;

namespace {
std::string quals(std::initializer_list<int> q) {
  std::string s;
  for (int v : q) s += static_cast<char>(33 + v);
  return s;
}
void write(const std::filesystem::path& p, const std::string& text) { std::ofstream(p) << text; }
}  // namespace

TEST(QualityTrim, CutsWhereTheTailSumIsLargest) {
  // Cutoff 20, tail 5, 30, 5, 5: sums from the end 15, 30, 20, 35 -> cut before the first 5 (a
  // good base inside a bad tail goes too, as in bwa -q).
  EXPECT_EQ(quality_trim_length(quals({40, 40, 40, 5, 30, 5, 5}), 20), 3u);
  // Tail 10, 30, 5, 5: sums 15, 30, 20, 30 -> the first maximum wins: only the two 5s go.
  EXPECT_EQ(quality_trim_length(quals({40, 40, 40, 10, 30, 5, 5}), 20), 5u);
  EXPECT_EQ(quality_trim_length(quals({40, 40, 40, 40}), 20), 4u);  // nothing to trim
  EXPECT_EQ(quality_trim_length(quals({2, 2, 2}), 20), 0u);          // all of it
  EXPECT_EQ(quality_trim_length(quals({2, 2, 2}), 0), 3u);           // disabled
}

TEST(AdapterTrim, FindsWholeAndPartialAdaptersWithMismatches) {
  const std::string a = "AGATCGGAAGAGC";
  EXPECT_EQ(adapter_start("ACGTTGCAACGT" + a + "ACACG", a, 3, 0.1), 12u);
  EXPECT_EQ(adapter_start("ACGTTGCAACGTAGATCG", a, 3, 0.1), 12u);             // partial at the end
  EXPECT_EQ(adapter_start("ACGTTGCAACGTAGTTCGGAAGAGC", a, 3, 0.1), 12u);      // 1 mismatch in 13
  EXPECT_EQ(adapter_start("ACGTTGCAACGTAGTTCGGTAGAGC", a, 3, 0.1), 25u);      // 2 mismatches: none
  EXPECT_EQ(adapter_start("ACGTTGCAACGTACA", a, 3, 0.1), 15u);                // no 3-base match at the end
  EXPECT_EQ(adapter_start("ACGTTGCAACGTAGA", a, 3, 0.1), 12u);                // exactly 3
  EXPECT_EQ(adapter_start("ACGT", "", 3, 0.1), 4u);
}

TEST(QcFilters, ReportTheReasonAndCount) {
  QcOptions o;
  o.min_length = 5;
  QcCounts c;
  FastqRecord r{"r", "ACGTACGTAC", quals({30, 30, 30, 30, 30, 30, 30, 30, 30, 30})};
  EXPECT_EQ(trim_and_check(r, o, c), QcFail::kNone);
  FastqRecord shortr{"r", "ACGTACGTAC", quals({30, 30, 30, 2, 2, 2, 2, 2, 2, 2})};
  EXPECT_EQ(trim_and_check(shortr, o, c), QcFail::kTooShort);
  EXPECT_EQ(shortr.seq, "ACG");
  EXPECT_EQ(c.quality_trimmed_bases, 7);
  FastqRecord n{"r", "ANNNNCGTAC", quals({30, 30, 30, 30, 30, 30, 30, 30, 30, 30})};
  EXPECT_EQ(trim_and_check(n, o, c), QcFail::kTooManyN);
  o.trim_quality = 0;
  FastqRecord low{"r", "ACGTACGTAC", quals({21, 21, 21, 21, 21, 10, 10, 10, 10, 10})};
  EXPECT_EQ(trim_and_check(low, o, c), QcFail::kLowQuality);  // mean 15.5 < 20
}

TEST_F(TempDir, FastqReaderStripsMateSuffixAndNamesTheLineOfAnError) {
  write(dir_ / "a.fq", "@r1/1 comment\nacgtn\n+\nIIIII\n\n@r2\nAC.T\n+r2\nIIII\n");
  FastqReader in(dir_ / "a.fq");
  FastqRecord r;
  ASSERT_TRUE(in.next(r));
  EXPECT_EQ(r.name, "r1");
  EXPECT_EQ(r.seq, "ACGTN");
  ASSERT_TRUE(in.next(r));
  EXPECT_EQ(r.seq, "ACNT");
  EXPECT_FALSE(in.next(r));
  write(dir_ / "b.fq", "@r1\nACGT\n+\nIIII\n@r2\nAC-T\n+\nIIII\n");
  FastqReader bad(dir_ / "b.fq");
  ASSERT_TRUE(bad.next(r));
  try {
    bad.next(r);
    FAIL() << "no error";
  } catch (const gf::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("b.fq line 6: invalid base '-'"), std::string::npos) << e.what();
  }
  write(dir_ / "c.fq", "@r1\nACGT\n+\nIII");
  FastqReader cut(dir_ / "c.fq");
  EXPECT_THROW(cut.next(r), gf::InputError);
}

TEST_F(TempDir, FastqReaderReadsAcrossItsBufferAndLongLines) {
  // 20,000 records with CRLF endings (about 2 MB: lines cross the 1 MB buffer), then one read of
  // 3 MB (longer than the buffer), no newline at the end.
  std::string text;
  for (int i = 0; i < 20000; ++i) text += "@r" + std::to_string(i) + "\r\nACGTACGTAC\r\n+\r\nIIIIIIIIII\r\n";
  const std::string big(3 << 20, 'G');
  text += "@big\n" + big + "\n+\n" + std::string(big.size(), '5');
  write(dir_ / "long.fq", text);
  FastqReader in(dir_ / "long.fq");
  FastqRecord r;
  for (int i = 0; i < 20000; ++i) {
    ASSERT_TRUE(in.next(r)) << i;
    ASSERT_EQ(r.name, "r" + std::to_string(i));
    ASSERT_EQ(r.seq, "ACGTACGTAC");
    ASSERT_EQ(r.qual, "IIIIIIIIII");
  }
  ASSERT_TRUE(in.next(r));
  EXPECT_EQ(r.name, "big");
  EXPECT_EQ(r.seq, big);
  EXPECT_EQ(r.qual.size(), big.size());
  EXPECT_FALSE(in.next(r));
  EXPECT_EQ(in.records(), 20001);
  EXPECT_EQ(in.line(), 80004);
}

TEST_F(TempDir, ReadChunkRoundTripsThroughItsFileAndRejectsATruncatedOne) {
  ReadChunk c;
  c.add("r1", "ACGTN", "IIII#");
  c.add("r2", "", "");
  c.add("read_3", "GATTACA", "");  // no qualities
  EXPECT_EQ(c.size(), 3u);
  c.save(dir_ / "c.bin");
  ReadChunk back = ReadChunk::load(dir_ / "c.bin");
  const auto r = back.refs();
  ASSERT_EQ(r.size(), 3u);
  EXPECT_STREQ(r[0].name, "r1");
  EXPECT_STREQ(r[0].seq, "ACGTN");
  EXPECT_STREQ(r[0].qual, "IIII#");
  EXPECT_EQ(r[0].length, 5);
  EXPECT_STREQ(r[1].name, "r2");
  EXPECT_EQ(r[1].length, 0);
  EXPECT_STREQ(r[2].seq, "GATTACA");
  EXPECT_EQ(r[2].qual, nullptr);
  const auto size = std::filesystem::file_size(dir_ / "c.bin");
  std::filesystem::resize_file(dir_ / "c.bin", size - 3);
  try {
    (void)ReadChunk::load(dir_ / "c.bin");
    FAIL() << "no error";
  } catch (const gf::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("c.bin"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("read 3"), std::string::npos) << e.what();
  }
}

TEST_F(TempDir, SampleSheetResolvesPathsAndRejectsDuplicates) {
  write(dir_ / "s.tsv", "# comment\nsample_id\tfastq_1\tfastq_2\tlabel\tlibrary\nA\ta_1.fq\ta_2.fq\tcase\tlibA\nB\t/abs/b.fq\t\tcontrol\t\n");
  const auto s = read_sample_sheet(dir_ / "s.tsv");
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].fastq_1, dir_ / "a_1.fq");
  EXPECT_TRUE(s[0].paired());
  EXPECT_EQ(s[0].read_group_line(), "@RG\tID:A\tSM:A\tLB:libA\tPL:ILLUMINA");
  EXPECT_EQ(s[1].fastq_1, "/abs/b.fq");
  EXPECT_FALSE(s[1].paired());
  EXPECT_EQ(s[1].library, "B");
  write(dir_ / "d.tsv", "sample_id\tfastq_1\nA\ta.fq\nA\tb.fq\n");
  EXPECT_THROW((void)read_sample_sheet(dir_ / "d.tsv"), gf::InputError);
}

TEST(Duplicates, PicardRulesForPairsAndFragments) {
  auto pair = [](std::uint32_t t, int p1, int p2, int score) {
    DupSignature s;
    s.templ = t;
    s.tid1 = 0, s.pos1 = p1, s.rev1 = 0, s.tid2 = 0, s.pos2 = p2, s.rev2 = 1, s.score = score;
    return s;
  };
  auto frag = [](std::uint32_t t, int p, std::uint8_t rev, std::uint8_t mate, int score) {
    DupSignature s;
    s.templ = t, s.fragment = 1, s.tid1 = 0, s.pos1 = p, s.rev1 = rev, s.mate = mate, s.score = score;
    return s;
  };
  const auto d = decide_duplicates({pair(0, 100, 400, 50), pair(1, 100, 400, 90), pair(2, 100, 401, 10),
                                    frag(3, 100, 0, 1, 999),  // at a pair's end: duplicate
                                    frag(4, 700, 1, 0, 30), frag(5, 700, 1, 0, 30),  // tie: the earlier stays
                                    frag(6, 700, 0, 0, 5)},                          // other strand
                                   8);
  EXPECT_EQ(d, (std::vector<std::uint8_t>{3, 0, 0, 2, 0, 1, 0, 0}));
}

TEST_F(TempDir, RandomReferenceIsDeterministicAndRoundTrips) {
  const auto a = gf::sim::random_reference({50'000, 20'000}, 9);
  const auto b = gf::sim::random_reference({50'000, 20'000}, 9);
  EXPECT_EQ(a.seqs, b.seqs);
  EXPECT_NE(a.seqs, gf::sim::random_reference({50'000, 20'000}, 10).seqs);
  EXPECT_EQ(a.names, (std::vector<std::string>{"chr1", "chr2"}));
  EXPECT_EQ(a.seqs[0].size(), 50'000u);
  gf::sim::write_reference(a, dir_ / "r.fa", dir_ / "r.fa.fai");
  const auto c = gf::sim::load_reference(dir_ / "r.fa");
  EXPECT_EQ(c.names, a.names);
  EXPECT_EQ(c.seqs, a.seqs);
}

TEST_F(TempDir, ReadsCarryThePlantedAllelesAndBwaPlacesThem) {
  gf::sim::Reference ref = gf::sim::random_reference({30'000}, 3);
  // A homozygous SNP at position 15001 (1-based): every read over it carries the ALT base.
  const char refbase = ref.seqs[0][15000];
  const char alt = refbase == 'A' ? 'C' : 'A';
  gf::sim::write_reference(ref, dir_ / "r.fa", dir_ / "r.fa.fai");
  write(dir_ / "t.vcf", std::string("##fileformat=VCFv4.2\n##contig=<ID=chr1,length=30000>\n") +
                            "##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">\n" +
                            "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\n" + "chr1\t15001\t.\t" + refbase +
                            "\t" + alt + "\t.\tPASS\t.\tGT\t1|1\n");
  gf::sim::ReadOptions o;
  o.coverage = 40;
  o.error_5p = o.error_3p = 0.0;
  o.indel_error_rate = o.n_rate = 0.0;
  const auto n = gf::sim::simulate_reads(ref, dir_ / "t.vcf", "S1", o, 1, dir_ / "r_1.fq.gz", dir_ / "r_2.fq.gz");
  EXPECT_EQ(n.reads, 2 * 4000);  // 40x over 30 kb in 2 x 150 bp pairs
  build_bwa_index(dir_ / "r.fa", dir_ / "r.fa");
  EXPECT_TRUE(bwa_index_up_to_date(dir_ / "r.fa", dir_ / "r.fa"));
  BwaIndex index(dir_ / "r.fa");
  EXPECT_EQ(index.contig_names(), std::vector<std::string>{"chr1"});
  EXPECT_EQ(index.contig_lengths(), std::vector<std::int64_t>{30'000});
  FastqReader r1(dir_ / "r_1.fq.gz"), r2(dir_ / "r_2.fq.gz");
  ReadChunk chunk;
  FastqRecord a, b;
  while (r1.next(a) && r2.next(b)) {
    for (auto* r : {&a, &b}) chunk.add(r->name, r->seq, r->qual);
  }
  chunk.save(dir_ / "chunk");  // through the file, as QC hands reads to alignment
  ReadChunk loaded = ReadChunk::load(dir_ / "chunk");
  ASSERT_EQ(loaded.size(), chunk.size());
  const auto refs = loaded.refs();
  const auto sam = index.align(refs, true, 0, "S1", BwaOptions{});
  ASSERT_EQ(sam.size(), chunk.size());
  int proper = 0, with_snp = 0, alt_seen = 0;
  for (const auto& text : sam) {
    const std::string line(text.get());
    std::istringstream f(line);
    std::string qname, chrom, cigar, mrnm, seq;
    int flag = 0, mapq = 0;
    long pos = 0, mpos = 0, tlen = 0;
    f >> qname >> flag >> chrom >> pos >> mapq >> cigar >> mrnm >> mpos >> tlen >> seq;
    proper += (flag & 2) != 0;
    EXPECT_NE(line.find("RG:Z:S1"), std::string::npos);
    if (cigar == "150M" && pos <= 15001 && pos + 149 >= 15001) {
      ++with_snp;
      alt_seen += seq[static_cast<std::size_t>(15001 - pos)] == alt;
    }
  }
  EXPECT_GT(proper, static_cast<int>(0.98 * static_cast<double>(sam.size())));
  EXPECT_GT(with_snp, 20);
  EXPECT_EQ(alt_seen, with_snp);
  EXPECT_THROW(BwaIndex(dir_ / "absent"), gf::InputError);
}
