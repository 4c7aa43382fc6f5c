#include "stages/align_stage.hpp"
#include "stages/stages.hpp"

#include <htslib/faidx.h>
#include <htslib/hts.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <system_error>

#include <boost/serialization/vector.hpp>

#include "genoforest/align/bam.hpp"
#include "genoforest/align/fastq.hpp"
#include "genoforest/align/read_chunk.hpp"
#include "genoforest/align/sample_sheet.hpp"
#include "genoforest/core/error.hpp"
#include "genoforest/core/files.hpp"
#include "genoforest/core/log.hpp"
#include "genoforest/core/text.hpp"
#include "genoforest/core/version.hpp"
#include "genoforest/io/vcf.hpp"
#include "journal.hpp"
#include "scheduler.hpp"
#include "shared_index.hpp"

#include <unistd.h>

namespace genoforest::mpi {

namespace fs = std::filesystem;
using align::FastqReader;
using align::FastqRecord;
using align::QcCounts;
using align::SampleEntry;

namespace {

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
  fs::path chunk_reads(std::size_t s, std::size_t c) const {
    return tmp_dir / ("s" + std::to_string(s) + ".c" + std::to_string(c) + ".reads");
  }
  fs::path chunk_records(std::size_t s, std::size_t c) const {
    return tmp_dir / ("s" + std::to_string(s) + ".c" + std::to_string(c) + ".records");
  }
  fs::path chunk_dups(std::size_t s, std::size_t c) const {
    return tmp_dir / ("s" + std::to_string(s) + ".c" + std::to_string(c) + ".dup");
  }
  fs::path sample_dups(std::size_t s) const { return tmp_dir / ("s" + std::to_string(s) + ".dups"); }
  fs::path piece(std::size_t s, std::size_t p) const {
    return tmp_dir / ("s" + std::to_string(s) + ".p" + std::to_string(p) + ".bgzf");
  }
  fs::path piece_index(std::size_t s, std::size_t p) const {
    return tmp_dir / ("s" + std::to_string(s) + ".p" + std::to_string(p) + ".ix");
  }
};

/// Task 1: read, check and QC one sample's FASTQ; cut the kept reads into chunks of whole batches,
/// calling `chunk_done` as each chunk's file is complete.
SplitResult split_sample(const SampleEntry& e, std::size_t s, const AlignOptions& o, const Paths& paths,
                         const std::function<void(std::size_t, const ChunkInfo&)>& chunk_done) {
  SplitResult res;
  FastqReader r1(e.fastq_1);
  std::optional<FastqReader> r2;
  if (e.paired()) r2.emplace(e.fastq_2);
  FastqRecord a, b;
  const std::int64_t batches_per_chunk = std::max<std::int64_t>(1, (o.chunk_bases + o.bwa.batch_bases - 1) / o.bwa.batch_bases);
  align::ReadChunk out;
  ChunkInfo chunk;
  std::int64_t batch_bases = 0, batches = 0;
  auto close_chunk = [&] {
    out.save(paths.chunk_reads(s, res.chunks.size()));
    out.clear();
    chunk_done(res.chunks.size(), chunk);
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
    out.add(a.name, a.seq, a.qual);
    if (r2) out.add(b.name, b.seq, b.qual);
    ++chunk.templates;
    ++res.templates;
    if ((res.templates & 0xffff) == 0) serve_workers();
    batch_bases += static_cast<std::int64_t>(a.seq.size() + (r2 ? b.seq.size() : 0));
    if (batch_bases >= o.bwa.batch_bases) {  // bwa's rule: a batch ends at the pair that reaches K
      batch_bases = 0;
      if (++batches == batches_per_chunk) close_chunk();
    }
  }
  if (chunk.templates > 0) close_chunk();
  return res;
}

/// Task 2: align one chunk, batch by batch, into a sorted temporary BAM and its duplicate keys;
/// returns where the chunk's bins start.
std::vector<align::ChunkBin> align_chunk(const SampleEntry& e, std::size_t s, std::size_t c, const ChunkInfo& info, const align::BwaIndex& index,
                 const sam_hdr_t* hdr, const AlignOptions& o, const Paths& paths) {
  align::ReadChunk reads = align::ReadChunk::load(paths.chunk_reads(s, c));
  const auto refs = reads.refs();
  align::ChunkBuilder builder(hdr);
  const bool paired = e.paired();
  const std::size_t per = paired ? 2 : 1;
  if (refs.size() != static_cast<std::size_t>(info.templates) * per) {
    throw InternalError("chunk " + paths.chunk_reads(s, c).string() + " holds " + std::to_string(refs.size()) + " reads, expected " +
                        std::to_string(info.templates * static_cast<std::int64_t>(per)));
  }
  // Batches as bwa mem -K cuts them: a batch ends at the template that brings it to batch_bases.
  std::size_t first = 0;
  while (first < refs.size()) {
    std::size_t end = first;
    std::int64_t bases = 0;
    while (end < refs.size() && bases < o.bwa.batch_bases) {
      for (std::size_t k = 0; k < per; ++k) bases += refs[end + k].length;
      end += per;
    }
    const std::int64_t batch_first = info.first_template + static_cast<std::int64_t>(first / per);
    std::string messages;
    const auto sam = index.align(std::span(refs).subspan(first, end - first), paired, batch_first * static_cast<std::int64_t>(per),
                                 e.read_group, o.bwa, &messages);
    if (!messages.empty()) {
      log_debug("bwa, sample " + e.id + ", batch at read " + std::to_string(batch_first * static_cast<std::int64_t>(per)) + ":\n" + messages);
    }
    for (std::size_t i = 0; i < sam.size(); i += per) {
      builder.add(static_cast<std::uint32_t>(batch_first + static_cast<std::int64_t>(i / per)), sam[i].get(),
                  paired ? sam[i + 1].get() : nullptr);
    }
    first = end;
    serve_workers();  // on rank 0: hand out the chunks announced meanwhile
  }
  auto bins = builder.write(paths.chunk_records(s, c));
  write_atomically(paths.chunk_dups(s, c), to_bytes(builder.signatures()));
  return bins;
  // The chunk's reads are removed by the commit on rank 0 (after the task is journaled).
}

/// Task 4's unit: bins [bin_begin, bin_end) of one sample, and where they start in its chunks.
struct PiecePlan {
  std::size_t sample = 0;
  std::size_t index = 0;  ///< among the sample's pieces
  align::BinKey bin_begin = 0, bin_end = 0;
  std::vector<std::pair<std::size_t, std::uint64_t>> inputs;  ///< (chunk, byte offset)
  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & sample & index & bin_begin & bin_end & inputs;
  }
};

/// Cuts each sample's bins into pieces of about `target` records (whole bins, in order).
std::vector<PiecePlan> plan_pieces(const std::vector<std::vector<std::vector<align::ChunkBin>>>& chunk_bins, std::uint64_t target) {
  std::vector<PiecePlan> plan;
  for (std::size_t s = 0; s < chunk_bins.size(); ++s) {
    std::map<align::BinKey, std::uint64_t> count;
    for (const auto& bins : chunk_bins[s])
      for (const auto& b : bins) count[b.bin] += b.records;
    std::size_t n = 0;
    std::uint64_t in_piece = 0;
    align::BinKey first = 0;
    auto close = [&](align::BinKey end) {
      PiecePlan p{s, n++, first, end, {}};
      for (std::size_t c = 0; c < chunk_bins[s].size(); ++c) {
        const auto& bins = chunk_bins[s][c];
        const auto it = std::lower_bound(bins.begin(), bins.end(), first, [](const align::ChunkBin& b, align::BinKey k) { return b.bin < k; });
        if (it != bins.end() && it->bin < end) p.inputs.emplace_back(c, it->offset);
      }
      plan.push_back(std::move(p));
      in_piece = 0;
    };
    for (auto it = count.begin(); it != count.end(); ++it) {
      if (in_piece == 0) first = it->first;
      in_piece += it->second;
      const auto next = std::next(it);
      if (next == count.end()) {
        close(std::numeric_limits<align::BinKey>::max());
      } else if (in_piece >= target) {
        close(next->first);
      }
    }
    if (count.empty()) {  // no records at all: one empty piece keeps the file whole
      first = 0;
      close(std::numeric_limits<align::BinKey>::max());
    }
  }
  return plan;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw IoError("cannot read " + p.string() + ": " + errno_text());
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

namespace {
/// The first contig name that appears twice among a FASTA's '>' lines (plain or bgzipped), or "".
std::string duplicate_contig(const std::string& fasta) {
  io::HtsFilePtr fp(hts_open(fasta.c_str(), "r"));
  if (!fp) return {};  // unreadable: the index build names the problem
  kstring_t line{0, 0, nullptr};
  std::set<std::string> seen;
  std::string found;
  while (found.empty() && hts_getline(fp.get(), 2 /* KS_SEP_LINE */, &line) >= 0) {
    if (line.l == 0 || line.s[0] != '>') continue;
    std::string_view name(line.s + 1, line.l - 1);
    name = name.substr(0, name.find_first_of(" \t"));
    if (!seen.emplace(name).second) found = name;
  }
  free(line.s);
  return found;
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
    if (const std::string dup = duplicate_contig(o.fasta); !dup.empty()) {
      throw InputError(o.fasta, "the contig name '" + dup + "' appears twice (every sequence of a reference needs its own name)");
    }
    if (!bwa_ok) align::build_bwa_index(o.fasta, prefix);  // checks the FASTA first
    if (!fai_ok) {
      AtomicOutput fai(o.fasta + ".fai", temp_token());
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
  if (samples.empty()) throw UsageError("a sample sheet is required (-S/--samples FILE)");
  if (reference.empty()) throw UsageError("-f/--reference FASTA is required");
  if (output_dir.empty()) throw UsageError("-o/--output-dir DIR is required");
  if (format != "bam" && format != "cram") throw UsageError("--output-format must be bam or cram");
  if (bwa.threads < 1) throw UsageError("-@/--threads must be at least 1");
  if (bwa.batch_bases < 1000) throw UsageError("--batch-bases must be at least 1000");
  if (chunk_bases < 1) throw UsageError("--chunk-bases must be at least 1");
  if (compression_level < 0 || compression_level > 9) throw UsageError("--compression-level must be 0-9");
  if (piece_records < 0) throw UsageError("--piece-records must be >= 0");
  if (bwa.min_seed_length < 1) throw UsageError("--min-seed-length must be at least 1");
  if (bwa.min_score < 0) throw UsageError("--min-score must be >= 0");
  qc_options.validate();
}

void run_align(const Comm& comm, const AlignOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  keep_freed_buffers(256);  // every bwa batch frees tens of MB: reads, SAM text, records
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
    {
      std::error_code ec;
      const auto fasta_time = fs::last_write_time(o.reference, ec);
      for (const auto& f : align::bwa_index_files(prefix)) {
        if (!ec && fs::last_write_time(f, ec) < fasta_time && !ec) {
          throw InputError(f.string(), "this bwa index file is older than " + o.reference +
                                           " (the FASTA changed since it was indexed?): rebuild it with: genoforest index --force " +
                                           o.reference);
        }
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
    // No output may replace an input (a FASTQ, the reference or the sheet in the output folder).
    std::vector<NamedPath> inputs{{"the reference", o.reference}, {"-S/--samples", o.samples}}, outputs;
    for (const auto& e : sheet) {
      for (const auto& f : {e.fastq_1, e.fastq_2}) inputs.push_back({"the FASTQ of sample " + e.id, f});
      const fs::path out = fs::path(o.output_dir) / (e.id + (o.format == "cram" ? ".cram" : ".bam"));
      outputs.push_back({"the output of sample " + e.id, out});
      outputs.push_back({"the index of sample " + e.id, out.string() + (o.format == "cram" ? ".crai" : ".bai")});
      outputs.push_back({"the QC report of sample " + e.id, fs::path(o.output_dir) / (e.id + ".qc.json")});
    }
    outputs.push_back({"the list of the BAMs", fs::path(o.output_dir) / "bams.list"});
    std::error_code ec;
    fs::create_directories(o.output_dir, ec);
    if (ec) throw IoError("cannot create the output folder " + o.output_dir + ": " + ec.message());
    check_outputs(inputs, outputs);
    if (const auto stale = remove_stale_temporaries(o.output_dir, ".genoforest-align."); !stale.empty()) {
      std::string names;
      for (const auto& s : stale) names += (names.empty() ? "" : ", ") + s;
      log_info("removed " + std::to_string(stale.size()) + " temporary folder(s) of align runs that were killed: " + names);
    }
    // Under `genoforest run` (task journals on) the temporary folder has a stable name, kept when
    // the stage is interrupted, so that a rerun finds the chunks of the tasks it does not redo.
    token = resumable ? "run-" + std::to_string(fnv1a64(journal_key() + "\n" + o.output_dir) % 1000000007) : temp_token();
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
  std::optional<NodeBwaIndex> index;
  index.emplace(comm, prefix, o.share_index);
  std::vector<std::string> contig_names;
  std::vector<std::int64_t> contig_lengths;
  comm.on_root([&] {
    const align::BwaIndex& idx = index->get();
    contig_names = idx.contig_names();
    contig_lengths = idx.contig_lengths();
    char buf[512];
    std::int64_t total = 0;
    for (auto l : contig_lengths) total += l;
    const double mib = static_cast<double>(idx.memory_bytes()) / 1048576.0;
    if (index->shared()) {
      std::snprintf(buf, sizeof buf, "loaded the bwa index of %s: %zu contigs, %.2f Mbp, %.1f MiB, one copy shared by the %d ranks of each node",
                    o.reference.c_str(), contig_names.size(), static_cast<double>(total) / 1e6, mib, index->ranks_on_node());
    } else {
      std::snprintf(buf, sizeof buf, "loaded the bwa index of %s: %zu contigs, %.2f Mbp, %.1f MiB per rank%s", o.reference.c_str(),
                    contig_names.size(), static_cast<double>(total) / 1e6, mib,
                    index->ranks_on_node() > 1 ? " (--no-shared-index: a copy per rank, on huge pages)" : " (on huge pages)");
    }
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

  // 1-2. QC and alignment, as one growing task set: a sample's QC task announces each chunk as it
  // closes it, and the chunk is aligned (on any rank) while the sample is still being read. Keys:
  // sample << 32 for the QC task, (sample << 32) + chunk + 1 for a chunk.
  std::vector<SplitResult> split(n_samples);
  std::vector<std::vector<std::vector<align::ChunkBin>>> chunk_bins(n_samples);
  {
    auto sample_of = [](std::int64_t key) { return static_cast<std::size_t>(key >> 32); };
    auto chunk_of = [](std::int64_t key) { return static_cast<std::size_t>(key & 0xffffffff) - 1; };
    auto is_qc = [](std::int64_t key) { return (key & 0xffffffff) == 0; };
    auto chunk_key = [](std::size_t s, std::size_t c) { return static_cast<std::int64_t>(s) << 32 | static_cast<std::int64_t>(c + 1); };
    DynamicTaskSet t;
    for (std::size_t s = 0; s < n_samples; ++s) t.initial.emplace_back(static_cast<std::int64_t>(s) << 32, std::string());
    t.describe = [&](std::int64_t key) {
      const std::size_t s = sample_of(key);
      if (is_qc(key)) return "QC of sample " + sheet[s].id;
      return "alignment of sample " + sheet[s].id + " chunk " + std::to_string(chunk_of(key) + 1);
    };
    t.is_long = is_qc;
    t.run = [&](std::int64_t key, const std::string& payload, const Announce& announce) {
      const std::size_t s = sample_of(key);
      if (is_qc(key)) {
        return to_bytes(split_sample(sheet[s], s, o, paths, [&](std::size_t c, const ChunkInfo& info) {
          announce(chunk_key(s, c), to_bytes(info));
        }));
      }
      const std::size_t c = chunk_of(key);
      return to_bytes(align_chunk(sheet[s], s, c, from_bytes<ChunkInfo>(payload), index->get(), headers[s].get(), o, paths));
    };
    t.commit = [&](std::int64_t key, std::string&& bytes, const Announce& announce) {
      const std::size_t s = sample_of(key);
      if (is_qc(key)) {
        split[s] = from_bytes<SplitResult>(bytes);
        chunk_bins[s].resize(split[s].chunks.size());
        // What the run announced (a replayed QC task's chunks are announced here).
        for (std::size_t c = 0; c < split[s].chunks.size(); ++c) announce(chunk_key(s, c), to_bytes(split[s].chunks[c]));
        return;
      }
      const std::size_t c = chunk_of(key);
      chunk_bins[s].at(c) = from_bytes<std::vector<align::ChunkBin>>(bytes);
      std::error_code ec;
      fs::remove(paths.chunk_reads(s, c), ec);
    };
    t.journal = "align.reads";
    Progress progress(0, "QC and alignment tasks");
    t.progress = &progress;
    run_tasks(comm, t);
  }
  comm.bcast(split);
  index.reset();  // collective: every rank gets here (run_tasks agrees on failures)

  // 3. Duplicates, decided over each whole sample.
  if (o.mark_duplicates) {
    TaskSet t;
    t.begin = 0;
    t.end = static_cast<std::int64_t>(n_samples);
    t.describe = [&](std::int64_t s) { return "duplicates of sample " + sheet[static_cast<std::size_t>(s)].id; };
    t.run = [&](std::int64_t si) {
      const auto s = static_cast<std::size_t>(si);
      std::vector<align::DupSignature> sigs;
      for (std::size_t c = 0; c < split[s].chunks.size(); ++c) {
        auto part = from_bytes<std::vector<align::DupSignature>>(read_file(paths.chunk_dups(s, c)));
        sigs.insert(sigs.end(), part.begin(), part.end());
      }
      const auto dups = align::decide_duplicates(std::move(sigs), static_cast<std::size_t>(split[s].templates));
      write_atomically(paths.sample_dups(s), std::string(dups.begin(), dups.end()));
      return std::string();
    };
    t.commit = [&](std::int64_t s, std::string&&) {
      for (std::size_t c = 0; c < split[static_cast<std::size_t>(s)].chunks.size(); ++c) {
        std::error_code ec;
        fs::remove(paths.chunk_dups(static_cast<std::size_t>(s), c), ec);
      }
    };
    t.journal = "align.dups";
    run_tasks(comm, t);
  }

  // 4. Pieces: runs of whole bins of one sample, merged from its chunks and compressed; the bytes
  // do not depend on the cut. About 256 pieces in all, of 50,000 to 4 million records: enough for
  // many ranks, and the same cut for any rank count, so that a resumed run on another rank count
  // finds its journal (an output already written has removed its sample's chunks).
  comm.bcast(chunk_bins);
  std::uint64_t total_records = 0;
  for (const auto& sample : chunk_bins)
    for (const auto& bins : sample)
      for (const auto& b : bins) total_records += b.records;
  const std::uint64_t target = o.piece_records > 0 ? static_cast<std::uint64_t>(o.piece_records)
                                                   : std::clamp<std::uint64_t>(total_records / 256, 50'000, 4'000'000);
  const auto pieces = plan_pieces(chunk_bins, target);
  std::vector<std::size_t> pieces_of(n_samples, 0);
  for (const auto& p : pieces) ++pieces_of[p.sample];
  std::vector<align::AlignCounts> counts(n_samples);
  {
    std::vector<std::uint8_t> dups;
    std::size_t dups_sample = n_samples;
    TaskSet t;
    t.begin = 0;
    t.end = static_cast<std::int64_t>(pieces.size());
    t.describe = [&](std::int64_t k) {
      const auto& p = pieces[static_cast<std::size_t>(k)];
      return "merge of sample " + sheet[p.sample].id + " piece " + std::to_string(p.index + 1) + "/" + std::to_string(pieces_of[p.sample]);
    };
    t.run = [&](std::int64_t k) {
      const auto& p = pieces[static_cast<std::size_t>(k)];
      if (o.mark_duplicates && dups_sample != p.sample) {
        const std::string bytes = read_file(paths.sample_dups(p.sample));
        dups.assign(bytes.begin(), bytes.end());
        dups_sample = p.sample;
      }
      std::vector<align::PieceInput> inputs;
      for (const auto& [c, offset] : p.inputs) inputs.push_back({paths.chunk_records(p.sample, c), offset});
      return to_bytes(align::write_piece(inputs, p.bin_begin, p.bin_end, o.mark_duplicates ? dups : std::vector<std::uint8_t>{},
                                         o.compression_level, paths.piece(p.sample, p.index), paths.piece_index(p.sample, p.index)));
    };
    t.commit = [&](std::int64_t k, std::string&& bytes) {
      counts[pieces[static_cast<std::size_t>(k)].sample].add(from_bytes<align::AlignCounts>(bytes));
    };
    t.journal = "align.pieces." + std::to_string(target);
    Progress progress(static_cast<std::int64_t>(pieces.size()), "merge pieces");
    t.progress = &progress;
    run_tasks(comm, t);
  }
  comm.bcast(counts);

  // 5. Per sample: header + pieces into the final file, its index, the QC report.
  align::AlignCounts total;
  QcCounts qc_total;
  {
    TaskSet t;
    t.begin = 0;
    t.end = static_cast<std::int64_t>(n_samples);
    t.describe = [&](std::int64_t s) { return "output of sample " + sheet[static_cast<std::size_t>(s)].id; };
    t.run = [&](std::int64_t si) {
      const auto s = static_cast<std::size_t>(si);
      const SampleEntry& e = sheet[s];
      std::vector<std::pair<fs::path, fs::path>> parts;
      for (std::size_t p = 0; p < pieces_of[s]; ++p) parts.emplace_back(paths.piece(s, p), paths.piece_index(s, p));
      const bool cram = o.format == "cram";
      const fs::path out = fs::path(o.output_dir) / (e.id + (cram ? ".cram" : ".bam"));
      AtomicOutput file(out, token), idx(out.string() + (cram ? ".crai" : ".bai"), token);
      align::assemble_bam(headers[s].get(), parts, o.compression_level, file.tmp(), idx.tmp(),
                          cram ? align::AlignFormat::kCram : align::AlignFormat::kBam, o.reference,
                          paths.tmp_dir / ("s" + std::to_string(s) + ".bam"), o.bwa.threads);
      std::string json = "{\n  \"sample\": " + json_string(e.id) + ",\n  \"fastq_1\": " + json_string(e.fastq_1.string()) +
                         ",\n  \"fastq_2\": " + json_string(e.fastq_2.string()) + ",\n  \"qc_enabled\": " + (o.qc ? "true" : "false") +
                         ",\n  \"qc\": " + split[s].qc.to_json(2) + ",\n  \"alignment\": " + counts[s].to_json(2) + "\n}\n";
      write_atomically(fs::path(o.output_dir) / (e.id + ".qc.json"), json);
      file.commit();
      idx.commit();
      return std::string();
    };
    t.journal = "align.output";
    t.commit = [&](std::int64_t si, std::string&&) {
      const auto s = static_cast<std::size_t>(si);
      std::error_code ec;
      for (std::size_t c = 0; c < split[s].chunks.size(); ++c) fs::remove(paths.chunk_records(s, c), ec);
      for (std::size_t p = 0; p < pieces_of[s]; ++p) {
        fs::remove(paths.piece(s, p), ec);
        fs::remove(paths.piece_index(s, p), ec);
      }
      fs::remove(paths.sample_dups(s), ec);
      total.add(counts[s]);
      qc_total.add(split[s].qc);
    };
    Progress progress(static_cast<std::int64_t>(n_samples), "samples written");
    t.progress = &progress;
    run_tasks(comm, t);
  }
  cleanup.done = true;
  comm.on_root([&] {
    // The outputs in sheet order, one path per line: what `call -b` reads.
    std::string list;
    for (const auto& e : sheet) list += (fs::path(o.output_dir) / (e.id + (o.format == "cram" ? ".cram" : ".bam"))).string() + "\n";
    write_atomically(fs::path(o.output_dir) / "bams.list", list);
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
