#include "stages/align_stage.hpp"

#include <htslib/faidx.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <optional>
#include <system_error>

#include <boost/serialization/vector.hpp>

#include "genoforest/align/bam.hpp"
#include "genoforest/align/fastq.hpp"
#include "genoforest/align/sample_sheet.hpp"
#include "genoforest/core/error.hpp"
#include "genoforest/core/files.hpp"
#include "genoforest/core/log.hpp"
#include "genoforest/core/text.hpp"
#include "genoforest/core/version.hpp"
#include "journal.hpp"
#include "scheduler.hpp"

#include <unistd.h>

namespace genoforest::mpi {

namespace fs = std::filesystem;
using align::FastqReader;
using align::FastqRecord;
using align::QcCounts;
using align::SampleEntry;

namespace {

std::string make_token() {
  return std::to_string(getpid()) + "-" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 1000000007);
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

bool fai_up_to_date(const fs::path& fasta) {
  std::error_code ec;
  const fs::path fai = fasta.string() + ".fai";
  const auto a = fs::last_write_time(fasta, ec);
  if (ec) return false;
  const auto b = fs::last_write_time(fai, ec);
  return !ec && b >= a && fs::file_size(fai, ec) > 0;
}

/// One chunk of a sample's kept reads: whole batches.
struct ChunkInfo {
  std::int64_t first_template = 0;
  std::int64_t templates = 0;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & first_template & templates;
  }
};

struct SplitResult {
  QcCounts qc;
  std::vector<ChunkInfo> chunks;
  std::int64_t templates = 0;
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & qc & chunks & templates;
  }
};

struct Paths {
  fs::path tmp_dir;
  fs::path chunk_fastq(std::size_t s, std::size_t c) const {
    return tmp_dir / ("s" + std::to_string(s) + ".c" + std::to_string(c) + ".fq");
  }
  fs::path chunk_bam(std::size_t s, std::size_t c) const {
    return tmp_dir / ("s" + std::to_string(s) + ".c" + std::to_string(c) + ".bam");
  }
  fs::path chunk_dups(std::size_t s, std::size_t c) const {
    return tmp_dir / ("s" + std::to_string(s) + ".c" + std::to_string(c) + ".dup");
  }
};

/// Task 1: read, check and QC one sample's FASTQ; cut the kept reads into chunks of whole batches.
SplitResult split_sample(const SampleEntry& e, std::size_t s, const AlignOptions& o, const Paths& paths) {
  SplitResult res;
  FastqReader r1(e.fastq_1);
  std::optional<FastqReader> r2;
  if (e.paired()) r2.emplace(e.fastq_2);
  FastqRecord a, b;
  const std::int64_t batches_per_chunk = std::max<std::int64_t>(1, (o.chunk_bases + o.bwa.batch_bases - 1) / o.bwa.batch_bases);
  std::optional<align::FastqWriter> out;
  ChunkInfo chunk;
  std::int64_t batch_bases = 0, batches = 0;
  auto close_chunk = [&] {
    out->close();
    out.reset();
    res.chunks.push_back(chunk);
    chunk.first_template += chunk.templates;
    chunk.templates = 0;
    batches = 0;
  };
  while (true) {
    const bool has1 = r1.next(a);
    const bool has2 = r2 ? r2->next(b) : false;
    if (r2 && has1 != has2) {
      const FastqReader& longer = has1 ? r1 : *r2;
      const FastqReader& shorter = has1 ? *r2 : r1;
      throw InputError(shorter.path().string(), "mates differ in number: this file ends after " + std::to_string(shorter.records()) +
                                                    " records while " + longer.path().string() + " has more");
    }
    if (!has1) break;
    if (r2 && a.name != b.name) {
      throw InputError(r2->path().string() + " line " + std::to_string(r2->line() - 3),
                       "mate names differ at record " + std::to_string(r2->records()) + ": '" + a.name + "' in " +
                           r1.path().string() + ", '" + b.name + "' here");
    }
    align::account_input(a, res.qc);
    if (r2) align::account_input(b, res.qc);
    if (o.qc) {
      const auto fa = align::trim_and_check(a, o.qc_options, res.qc);
      const auto fb = r2 ? align::trim_and_check(b, o.qc_options, res.qc) : align::QcFail::kNone;
      if (fa != align::QcFail::kNone || fb != align::QcFail::kNone) {
        const auto why = fa != align::QcFail::kNone ? fa : fb;
        align::account_removed(why, res.qc);
        if (r2) align::account_removed(why, res.qc);
        continue;
      }
    }
    align::account_output(a, res.qc);
    if (r2) align::account_output(b, res.qc);
    if (!out) out.emplace(paths.chunk_fastq(s, res.chunks.size()), -1);
    out->write(a.name, a.seq, a.qual);
    if (r2) out->write(b.name, b.seq, b.qual);
    ++chunk.templates;
    ++res.templates;
    batch_bases += static_cast<std::int64_t>(a.seq.size() + (r2 ? b.seq.size() : 0));
    if (batch_bases >= o.bwa.batch_bases) {  // bwa's rule: a batch ends at the pair that reaches K
      batch_bases = 0;
      if (++batches == batches_per_chunk) close_chunk();
    }
  }
  if (out) close_chunk();
  return res;
}

/// Task 2: align one chunk, batch by batch, into a sorted temporary BAM and its duplicate keys.
void align_chunk(const SampleEntry& e, std::size_t s, std::size_t c, const ChunkInfo& info, const align::BwaIndex& index,
                 const sam_hdr_t* hdr, const AlignOptions& o, const Paths& paths) {
  FastqReader in(paths.chunk_fastq(s, c));
  align::ChunkBuilder builder(hdr);
  std::vector<std::string> names, seqs, quals;
  const bool paired = e.paired();
  const std::size_t per = paired ? 2 : 1;
  std::int64_t templ = info.first_template, batch_first = info.first_template, bases = 0;
  auto flush = [&] {
    if (seqs.empty()) return;
    std::string messages;
    const auto sam =
        index.align(names, seqs, quals, paired, batch_first * static_cast<std::int64_t>(per), e.read_group, o.bwa, &messages);
    if (!messages.empty()) log_debug("bwa, sample " + e.id + ", batch at read " + std::to_string(batch_first * static_cast<std::int64_t>(per)) + ":\n" + messages);
    for (std::size_t i = 0; i < sam.size(); i += per) {
      builder.add(static_cast<std::uint32_t>(batch_first + static_cast<std::int64_t>(i / per)), sam[i], paired ? &sam[i + 1] : nullptr);
    }
    names.clear();
    seqs.clear();
    quals.clear();
    batch_first = templ;
    bases = 0;
  };
  FastqRecord r;
  std::int64_t n = 0;
  while (in.next(r)) {
    bases += static_cast<std::int64_t>(r.seq.size());
    names.push_back(std::move(r.name));
    seqs.push_back(std::move(r.seq));
    quals.push_back(std::move(r.qual));
    if (++n % static_cast<std::int64_t>(per) != 0) continue;
    ++templ;
    if (bases >= o.bwa.batch_bases) flush();
  }
  flush();
  if (templ != info.first_template + info.templates) {
    throw InternalError("chunk " + paths.chunk_fastq(s, c).string() + " holds " + std::to_string(templ - info.first_template) +
                        " templates, expected " + std::to_string(info.templates));
  }
  builder.write(paths.chunk_bam(s, c));
  write_atomically(paths.chunk_dups(s, c), to_bytes(builder.signatures()));
  // The chunk's FASTQ is removed by the commit on rank 0 (after the task is journaled).
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw IoError("cannot read " + p.string() + ": " + errno_text());
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

void run_index(const Comm& comm, const IndexOptions& o) {
  comm.on_root([&] {
    const auto t0 = std::chrono::steady_clock::now();
    const fs::path prefix = o.prefix.empty() ? o.fasta : o.prefix;
    if (!fs::exists(o.fasta)) throw InputError(o.fasta, "no such reference FASTA");
    const bool bwa_ok = !o.force && align::bwa_index_up_to_date(o.fasta, prefix);
    const bool fai_ok = !o.force && fai_up_to_date(o.fasta);
    if (bwa_ok && fai_ok) {
      log_info("the index of " + o.fasta + " is up to date (" + prefix.string() + ".bwt, .fai); nothing to do (--force rebuilds)");
      return;
    }
    if (!bwa_ok) align::build_bwa_index(o.fasta, prefix);  // checks the FASTA first
    if (!fai_ok) {
      AtomicOutput fai(o.fasta + ".fai", std::to_string(getpid()));
      if (fai_build3(o.fasta.c_str(), fai.tmp().c_str(), nullptr) != 0) {
        throw InputError(o.fasta, "cannot build the .fai of this FASTA (a compressed FASTA must be bgzipped, not gzipped)");
      }
      fai.commit();
    }
    char buf[256];
    std::snprintf(buf, sizeof buf, " in %.1f s", seconds_since(t0));
    log_info("indexed " + o.fasta + " (bwa index " + prefix.string() + ".{amb,ann,bwt,pac,sa}, " + o.fasta + ".fai)" + buf);
  });
}

void AlignOptions::validate() const {
  if (samples.empty()) throw UsageError("a sample sheet is required (--samples FILE)");
  if (reference.empty()) throw UsageError("--reference FASTA is required");
  if (output_dir.empty()) throw UsageError("-o/--output-dir DIR is required");
  if (format != "bam" && format != "cram") throw UsageError("--output-format must be bam or cram");
  if (bwa.threads < 1) throw UsageError("--threads must be at least 1");
  if (bwa.batch_bases < 1000) throw UsageError("--batch-bases must be at least 1000");
  if (chunk_bases < 1) throw UsageError("--chunk-bases must be at least 1");
  if (bwa.min_seed_length < 1) throw UsageError("--min-seed-length must be at least 1");
  if (bwa.min_score < 0) throw UsageError("--min-score must be >= 0");
  qc_options.validate();
}

void run_align(const Comm& comm, const AlignOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  const fs::path prefix = o.index_prefix.empty() ? o.reference : o.index_prefix;
  std::string token;
  const bool resumable = !journal_dir().empty();
  // Rank 0 checks every input before any work starts.
  comm.on_root([&] {
    if (!fs::exists(o.reference)) throw InputError(o.reference, "no such reference FASTA");
    for (const auto& f : align::bwa_index_files(prefix)) {
      if (!fs::exists(f)) {
        throw InputError(f.string(), "missing bwa index file; build it with: genoforest index " + o.reference);
      }
    }
    if (o.format == "cram" && !fs::exists(o.reference + ".fai")) {
      throw InputError(o.reference + ".fai", "CRAM output needs the reference's .fai; build it with: genoforest index " + o.reference);
    }
    const auto sheet = align::read_sample_sheet(o.samples);
    for (const auto& e : sheet) {
      for (const auto& f : {e.fastq_1, e.fastq_2}) {
        if (f.empty()) continue;
        std::ifstream probe(f);
        if (!probe) throw InputError(f.string(), "cannot read the FASTQ of sample " + e.id + ": " + errno_text());
      }
    }
    std::error_code ec;
    fs::create_directories(o.output_dir, ec);
    if (ec) throw IoError("cannot create the output folder " + o.output_dir + ": " + ec.message());
    // Under `genoforest run` (task journals on) the temporary folder has a stable name, kept when
    // the stage is interrupted, so that a rerun finds the chunks of the tasks it does not redo.
    token = resumable ? "run-" + std::to_string(fnv1a64(journal_key() + "\n" + o.output_dir) % 1000000007) : make_token();
    const fs::path tmp = fs::path(o.output_dir) / (".genoforest-align." + token);
    fs::create_directory(tmp, ec);
    if (ec) throw IoError("cannot create " + tmp.string() + ": " + ec.message());
  });
  comm.bcast(token);
  Paths paths{fs::path(o.output_dir) / (".genoforest-align." + token)};
  struct TmpCleanup {
    const Comm& comm;
    fs::path dir;
    bool keep;
    bool done = false;
    ~TmpCleanup() {
      std::error_code ec;
      if (comm.is_root() && (done || !keep)) fs::remove_all(dir, ec);
    }
  } cleanup{comm, paths.tmp_dir, resumable};
  const auto sheet = align::read_sample_sheet(o.samples);
  const std::size_t n_samples = sheet.size();

  // The header: contigs from the index, one read group per sample, our @PG.
  std::optional<align::BwaIndex> index;
  std::vector<std::string> contig_names;
  std::vector<std::int64_t> contig_lengths;
  comm.on_root([&] {
    index.emplace(prefix);
    contig_names = index->contig_names();
    contig_lengths = index->contig_lengths();
    char buf[512];
    std::int64_t total = 0;
    for (auto l : contig_lengths) total += l;
    std::snprintf(buf, sizeof buf, "loaded the bwa index of %s: %zu contigs, %.2f Mbp, %.1f MiB per rank", o.reference.c_str(),
                  contig_names.size(), static_cast<double>(total) / 1e6, static_cast<double>(index->memory_bytes()) / 1048576.0);
    log_info(buf);
  });
  comm.bcast(contig_names);
  comm.bcast(contig_lengths);
  std::string sq;
  for (std::size_t i = 0; i < contig_names.size(); ++i) {
    sq += "@SQ\tSN:" + contig_names[i] + "\tLN:" + std::to_string(contig_lengths[i]) + "\n";
  }
  std::string pg = "@PG\tID:genoforest\tPN:genoforest\tVN:" + std::string(kVersion) +
                   "\tDS:BWA-MEM through the bwa library, in-process\tCL:" + o.command_line + "\n";
  std::vector<align::SamHdrPtr> headers;
  for (const auto& e : sheet) headers.push_back(align::parse_header("@HD\tVN:1.6\tSO:coordinate\n" + sq + e.read_group_line() + "\n" + pg));

  // 1. Split.
  std::vector<SplitResult> split(n_samples);
  {
    TaskSet t;
    t.begin = 0;
    t.end = static_cast<std::int64_t>(n_samples);
    t.describe = [&](std::int64_t s) { return "QC of sample " + sheet[static_cast<std::size_t>(s)].id; };
    t.run = [&](std::int64_t s) { return to_bytes(split_sample(sheet[static_cast<std::size_t>(s)], static_cast<std::size_t>(s), o, paths)); };
    t.commit = [&](std::int64_t s, std::string&& bytes) { split[static_cast<std::size_t>(s)] = from_bytes<SplitResult>(bytes); };
    t.journal = "align.qc";
    Progress progress(static_cast<std::int64_t>(n_samples), "QC tasks");
    t.progress = &progress;
    run_tasks(comm, t);
  }
  comm.bcast(split);

  // 2. Align, one task per chunk.
  std::vector<std::pair<std::size_t, std::size_t>> chunks;
  for (std::size_t s = 0; s < n_samples; ++s) {
    for (std::size_t c = 0; c < split[s].chunks.size(); ++c) chunks.emplace_back(s, c);
  }
  {
    TaskSet t;
    t.begin = 0;
    t.end = static_cast<std::int64_t>(chunks.size());
    t.describe = [&](std::int64_t k) {
      const auto [s, c] = chunks[static_cast<std::size_t>(k)];
      return "alignment of sample " + sheet[s].id + " chunk " + std::to_string(c + 1) + "/" + std::to_string(split[s].chunks.size());
    };
    t.run = [&](std::int64_t k) {
      const auto [s, c] = chunks[static_cast<std::size_t>(k)];
      if (!index) index.emplace(prefix);
      align_chunk(sheet[s], s, c, split[s].chunks[c], *index, headers[s].get(), o, paths);
      return std::string();
    };
    t.commit = [&](std::int64_t k, std::string&&) {
      const auto [s, c] = chunks[static_cast<std::size_t>(k)];
      std::error_code ec;
      fs::remove(paths.chunk_fastq(s, c), ec);
    };
    t.journal = "align.chunks";
    Progress chunk_progress(static_cast<std::int64_t>(chunks.size()), "alignment chunks");
    t.progress = &chunk_progress;
    run_tasks(comm, t);
  }
  index.reset();

  // 3. Merge, mark duplicates, index, report. With fewer samples than ranks, some ranks have no
  // merge to do and sleep: a merge may then use their cores to compress.
  const int spare_threads =
      o.bwa.threads * std::max(1, comm.size() / static_cast<int>(std::max<std::size_t>(1, n_samples)));
  align::AlignCounts total;
  QcCounts qc_total;
  {
    TaskSet t;
    t.begin = 0;
    t.end = static_cast<std::int64_t>(n_samples);
    t.describe = [&](std::int64_t s) { return "merge of sample " + sheet[static_cast<std::size_t>(s)].id; };
    t.run = [&](std::int64_t si) {
      const auto s = static_cast<std::size_t>(si);
      const SampleEntry& e = sheet[s];
      std::vector<fs::path> bams;
      std::vector<align::DupSignature> sigs;
      for (std::size_t c = 0; c < split[s].chunks.size(); ++c) {
        bams.push_back(paths.chunk_bam(s, c));
        if (o.mark_duplicates) {
          auto part = from_bytes<std::vector<align::DupSignature>>(read_file(paths.chunk_dups(s, c)));
          sigs.insert(sigs.end(), part.begin(), part.end());
        }
      }
      const auto dups = align::decide_duplicates(std::move(sigs), static_cast<std::size_t>(split[s].templates));
      const bool cram = o.format == "cram";
      const fs::path out = fs::path(o.output_dir) / (e.id + (cram ? ".cram" : ".bam"));
      AtomicOutput bam(out, token), idx(out.string() + (cram ? ".crai" : ".bai"), token);
      const auto counts = align::merge_chunks(bams, headers[s].get(), dups, bam.tmp(), idx.tmp(),
                                              cram ? align::AlignFormat::kCram : align::AlignFormat::kBam, o.reference, spare_threads);
      std::string json = "{\n  \"sample\": " + json_string(e.id) + ",\n  \"fastq_1\": " + json_string(e.fastq_1.string()) +
                         ",\n  \"fastq_2\": " + json_string(e.fastq_2.string()) + ",\n  \"qc_enabled\": " + (o.qc ? "true" : "false") +
                         ",\n  \"qc\": " + split[s].qc.to_json(2) + ",\n  \"alignment\": " + counts.to_json(2) + "\n}\n";
      write_atomically(fs::path(o.output_dir) / (e.id + ".qc.json"), json);
      bam.commit();
      idx.commit();
      return to_bytes(counts);
    };
    t.journal = "align.merge";
    t.commit = [&](std::int64_t s, std::string&& bytes) {
      for (std::size_t c = 0; c < split[static_cast<std::size_t>(s)].chunks.size(); ++c) {
        std::error_code ec;
        fs::remove(paths.chunk_bam(static_cast<std::size_t>(s), c), ec);
        fs::remove(paths.chunk_dups(static_cast<std::size_t>(s), c), ec);
      }
      total.add(from_bytes<align::AlignCounts>(bytes));
      qc_total.add(split[static_cast<std::size_t>(s)].qc);
    };
    Progress progress(static_cast<std::int64_t>(n_samples), "merge tasks");
    t.progress = &progress;
    run_tasks(comm, t);
  }
  cleanup.done = true;
  comm.on_root([&] {
    const double wall = seconds_since(t0);
    char buf[512];
    auto pct = [](std::int64_t a, std::int64_t b) { return b > 0 ? 100.0 * static_cast<double>(a) / static_cast<double>(b) : 0.0; };
    std::snprintf(buf, sizeof buf,
                  "aligned %zu sample(s) into %s: %lld reads in, %lld kept after QC (%.2f%%), %.2f%% mapped, %.2f%% properly "
                  "paired, %.2f%% duplicates; %.1f s, %.0f reads/s",
                  n_samples, o.output_dir.c_str(), static_cast<long long>(qc_total.reads_in), static_cast<long long>(qc_total.reads_out),
                  pct(qc_total.reads_out, qc_total.reads_in), pct(total.mapped, total.primary), pct(total.properly_paired, total.primary),
                  pct(total.duplicates, total.primary), wall, static_cast<double>(qc_total.reads_out) / std::max(wall, 1e-9));
    log_info(buf);
  });
}

}  // namespace genoforest::mpi
