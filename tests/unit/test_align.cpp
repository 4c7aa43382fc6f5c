// Reads to alignments: QC trimming and filters, FASTQ parsing, the sample sheet, duplicate
// marking, the simulated reference and reads, and BWA-MEM through the library.
#include <gtest/gtest.h>
#include <htslib/vcf.h>

#include <htslib/bgzf.h>
#include <htslib/sam.h>

#include <zlib.h>

#include <fstream>
#include <random>

#include "genoforest/align/bam.hpp"
#include "genoforest/align/bgzf_writer.hpp"
#include "genoforest/align/bwa.hpp"
#include "genoforest/align/fastq.hpp"
#include "genoforest/align/qc.hpp"
#include "genoforest/align/read_chunk.hpp"
#include "genoforest/align/sample_sheet.hpp"
#include "genoforest/core/error.hpp"
#include "genoforest/io/gzip_reader.hpp"
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
  // BAM holds read names of up to 254 characters: 254 passes (its /1 stripped), 255 is refused.
  write(dir_ / "d.fq", "@" + std::string(254, 'n') + "/1\nA\n+\nI\n@" + std::string(255, 'n') + "\nA\n+\nI\n");
  FastqReader longname(dir_ / "d.fq");
  ASSERT_TRUE(longname.next(r));
  EXPECT_EQ(r.name.size(), 254u);
  try {
    longname.next(r);
    FAIL() << "no error";
  } catch (const gf::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("d.fq line 5: a read name of 255 characters"), std::string::npos) << e.what();
  }
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

namespace {
/// The whole uncompressed content of a BGZF file, read back by htslib.
std::string bgzf_content(const std::filesystem::path& p) {
  BGZF* fp = bgzf_open(p.c_str(), "r");
  EXPECT_NE(fp, nullptr) << p;
  if (!fp) return {};
  std::string all;
  char buf[1 << 16];
  ssize_t n = 0;
  while ((n = bgzf_read(fp, buf, sizeof buf)) > 0) all.append(buf, static_cast<std::size_t>(n));
  EXPECT_EQ(n, 0) << "read error in " << p;
  bgzf_close(fp);
  return all;
}
/// Appends the EOF block that BgzfWriter leaves to its caller.
void end_bgzf(const std::filesystem::path& p) {
  static const char eof[28] = {'\x1f', '\x8b', '\x08', '\x04', 0, 0, 0, 0, 0, '\xff', '\x06', 0, 'B', 'C', '\x02', 0, '\x1b', 0, '\x03', 0,
                               0, 0, 0, 0, 0, 0, 0, 0};
  std::ofstream(p, std::ios::app | std::ios::binary).write(eof, sizeof eof);
}
}  // namespace

namespace {
/// Everything a GzipReader gives, read in uneven steps; `error` gets its error (empty when none).
std::string read_all(const std::filesystem::path& p, std::string& error) {
  gf::io::GzipReader r(p);
  std::string all;
  std::vector<char> buf(100'003);
  for (;;) {
    const ssize_t n = r.read(buf.data(), buf.size() - all.size() % 7);
    if (n < 0) {
      error = r.error();
      return all;
    }
    if (n == 0) break;
    all.append(buf.data(), static_cast<std::size_t>(n));
  }
  error.clear();
  return all;
}
/// `data` as one gzip member (zlib's gzwrite).
void write_gzip(const std::filesystem::path& p, const std::string& data) {
  gzFile f = gzopen(p.c_str(), "wb6");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, data.data(), static_cast<unsigned>(data.size())), static_cast<int>(data.size()));
  ASSERT_EQ(gzclose(f), Z_OK);
}
std::string file_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}
}  // namespace

TEST_F(TempDir, GzipReaderReadsPlainAndOneOrManyGzipMembersAndNamesDamage) {
  std::string data;
  for (int i = 0; i < 400'000; ++i) data += "@read" + std::to_string(i) + "\nACGT\n+\nIIII\n";
  std::string err;
  write(dir_ / "plain.fq", data);
  EXPECT_EQ(read_all(dir_ / "plain.fq", err), data);
  EXPECT_EQ(err, "");
  write(dir_ / "empty.fq", "");
  EXPECT_EQ(read_all(dir_ / "empty.fq", err), "");
  EXPECT_EQ(err, "");
  write_gzip(dir_ / "one.gz", data);
  EXPECT_EQ(read_all(dir_ / "one.gz", err), data);
  EXPECT_EQ(err, "");
  // Members back to back (as `cat a.gz b.gz`), then zero padding.
  write_gzip(dir_ / "a.gz", data.substr(0, 1'000'001));
  write_gzip(dir_ / "b.gz", data.substr(1'000'001));
  write(dir_ / "two.gz", file_bytes(dir_ / "a.gz") + file_bytes(dir_ / "b.gz") + std::string(1000, '\0'));
  EXPECT_EQ(read_all(dir_ / "two.gz", err), data);
  EXPECT_EQ(err, "");
  // BGZF: many small members and the empty EOF member.
  {
    BgzfWriter w(dir_ / "b.bgz", 1);
    w.write(data.data(), data.size());
    w.close();
    end_bgzf(dir_ / "b.bgz");
  }
  EXPECT_EQ(read_all(dir_ / "b.bgz", err), data);
  EXPECT_EQ(err, "");
  // Damage: cut short; a CRC that does not match; bytes after the last member.
  const std::string one = file_bytes(dir_ / "one.gz");
  write(dir_ / "cut.gz", one.substr(0, one.size() / 2));
  const std::string got = read_all(dir_ / "cut.gz", err);
  EXPECT_EQ(data.compare(0, got.size(), got), 0) << "what comes before the cut is the data";
  EXPECT_NE(err.find("truncated gzip data"), std::string::npos) << err;
  std::string bad_crc = one;
  bad_crc[bad_crc.size() - 8] ^= 0x5a;
  write(dir_ / "crc.gz", bad_crc);
  (void)read_all(dir_ / "crc.gz", err);
  EXPECT_NE(err.find("corrupt gzip data (a member's CRC-32"), std::string::npos) << err;
  write(dir_ / "tail.gz", one + "tail");
  (void)read_all(dir_ / "tail.gz", err);
  EXPECT_NE(err.find("corrupt gzip data"), std::string::npos) << err;
  EXPECT_THROW(gf::io::GzipReader(dir_ / "missing.gz"), gf::InputError);
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


TEST_F(TempDir, BgzfWriterBlocksAndVirtualOffsetsReadBackThroughHtslibAtEveryLevel) {
  // Sequence-like text (compresses), random bytes (does not: stored blocks), and flush points.
  std::mt19937 rng(7);
  std::string text, noise;
  for (int i = 0; i < 300'000; ++i) text += "ACGT"[rng() % 4];
  for (int i = 0; i < 150'000; ++i) noise += static_cast<char>(rng());
  for (int level : {0, 1, 2, 3, 6}) {
    SCOPED_TRACE("level " + std::to_string(level));
    const auto path = dir_ / ("w" + std::to_string(level) + ".gz");
    std::vector<std::pair<std::uint64_t, std::string>> marks;  // (virtual offset, the bytes there)
    std::string all;
    {
      BgzfWriter w(path, level);
      EXPECT_EQ(w.tell(), 0u);
      for (std::size_t at = 0; at < text.size(); at += 70'001) {
        const std::string part = text.substr(at, 70'001) + noise.substr(at / 2, 30'000);
        marks.emplace_back(w.tell(), part.substr(0, 16));
        w.flush_try(part.size());
        w.write(part.data(), part.size());
        all += part;
        if (at % 140'002 == 0) w.flush();
      }
      const std::uint64_t size = w.close();
      EXPECT_EQ(size, std::filesystem::file_size(path));
    }
    end_bgzf(path);
    EXPECT_EQ(bgzf_content(path), all);
    BGZF* fp = bgzf_open(path.c_str(), "r");
    ASSERT_NE(fp, nullptr);
    for (const auto& [voffset, bytes] : marks) {
      ASSERT_EQ(bgzf_seek(fp, static_cast<std::int64_t>(voffset), SEEK_SET), 0);
      std::string got(bytes.size(), '\0');
      ASSERT_EQ(bgzf_read(fp, got.data(), got.size()), static_cast<ssize_t>(got.size()));
      EXPECT_EQ(got, bytes) << "at virtual offset " << voffset;
    }
    bgzf_close(fp);
  }
  EXPECT_LT(std::filesystem::file_size(dir_ / "w1.gz"), std::filesystem::file_size(dir_ / "w0.gz"));
  EXPECT_THROW(BgzfWriter(dir_ / "x.gz", 10), gf::UsageError);
  EXPECT_THROW(BgzfWriter(dir_ / "no/such/dir/x.gz", 1), gf::IoError);
}

TEST_F(TempDir, BamRecordsAndHeaderAreEncodedAsHtslibEncodesThem) {
  SamHdrPtr hdr = parse_header("@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:chr1\tLN:200000\n@SQ\tSN:chrM\tLN:16569\n@RG\tID:x\tSM:x\n");
  // A long CIGAR (over 65535 operations: htslib moves it into CG:B,I), a plain pair, an unmapped
  // read, and names whose lengths leave extra NULs for alignment.
  std::string seq, qual, cigar;
  for (int i = 0; i < 40'000; ++i) {
    seq += "AC";
    qual += "I#";
    cigar += "1M1I";
  }
  const std::vector<std::string> lines = {
      "r1\t99\tchr1\t101\t60\t5M\t=\t301\t205\tACGTA\tIIIII\tNM:i:0\tRG:Z:x",
      "read_two\t147\tchr1\t301\t60\t2S3M\t=\t101\t-205\tACGTA\t#####\tMD:Z:3",
      "u\t4\t*\t0\t0\t*\t*\t0\t0\tNNNN\t!!!!",
      "long\t0\tchrM\t10\t7\t" + cigar + "\t*\t0\t0\t" + seq + "\t" + qual + "\tAS:i:5",
  };
  const auto ours = dir_ / "ours.bam", theirs = dir_ / "theirs.bam";
  {
    BgzfWriter w(ours, 1);
    write_bam_header(w, hdr.get());
    BGZF* fp = bgzf_open(theirs.c_str(), "w1");
    ASSERT_NE(fp, nullptr);
    ASSERT_EQ(bam_hdr_write(fp, hdr.get()), 0);
    bam1_t* b = bam_init1();
    for (std::string line : lines) {
      kstring_t k = {line.size(), line.size() + 1, line.data()};
      ASSERT_GE(sam_parse1(&k, hdr.get(), b), 0) << line.substr(0, 40);
      write_bam_record(w, b);
      ASSERT_GE(bam_write1(fp, b), 0);
    }
    EXPECT_GT(b->core.n_cigar, 0xffffu);
    bam_destroy1(b);
    ASSERT_EQ(bgzf_close(fp), 0);
    w.close();
    end_bgzf(ours);
  }
  const std::string a = bgzf_content(ours), b = bgzf_content(theirs);
  EXPECT_GT(a.size(), 200'000u);
  EXPECT_TRUE(a == b) << "sizes " << a.size() << " and " << b.size();
  // And htslib reads ours back, the long CIGAR restored from its tag.
  samFile* in = sam_open(ours.c_str(), "r");
  ASSERT_NE(in, nullptr);
  sam_hdr_t* h = sam_hdr_read(in);
  ASSERT_NE(h, nullptr);
  bam1_t* r = bam_init1();
  int n = 0;
  while (sam_read1(in, h, r) >= 0) {
    ++n;
    if (std::string(bam_get_qname(r)) == "long") {
      EXPECT_EQ(r->core.n_cigar, 80'000u);
    }
  }
  EXPECT_EQ(n, 4);
  bam_destroy1(r);
  sam_hdr_destroy(h);
  sam_close(in);
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

TEST_F(TempDir, SampleIdsThatWouldNameFilesElsewhereAreRefusedWithTheLine) {
  using genoforest::align::sample_id_problem;
  for (const char* ok : {"NA12878", "HG00096", "S-1_a.b", "1000123", "s+1:2@x=y,z#%"}) EXPECT_EQ(sample_id_problem(ok), "") << ok;
  EXPECT_EQ(sample_id_problem("../S1"), "starts with '.'");
  EXPECT_EQ(sample_id_problem(".hidden"), "starts with '.'");
  EXPECT_EQ(sample_id_problem("-rf"), "starts with '-'");
  EXPECT_EQ(sample_id_problem("/tmp/x/precious"), "contains a path separator");
  EXPECT_EQ(sample_id_problem("a/b"), "contains a path separator");
  EXPECT_EQ(sample_id_problem("a\\b"), "contains a path separator");
  EXPECT_EQ(sample_id_problem("a b"), "contains a space");
  EXPECT_EQ(sample_id_problem("a*"), "contains the character '*'");
  EXPECT_EQ(sample_id_problem("a\x01"), "contains a control or non-ASCII character");
  EXPECT_EQ(sample_id_problem(std::string(201, 'a')), "is longer than 200 characters");
  write(dir_ / "p.tsv", "sample_id\tfastq_1\nA\ta.fq\n../S1\tb.fq\n");
  try {
    (void)read_sample_sheet(dir_ / "p.tsv");
    ADD_FAILURE() << "accepted ../S1";
  } catch (const gf::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("p.tsv line 3: sample_id '../S1' starts with '.'"), std::string::npos) << e.what();
  }
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
