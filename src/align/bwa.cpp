// The one translation unit that includes bwa's headers (see bwa.hpp). libbwa.a also defines
// global kseq_* functions and ksprintf, which win over htslib's at link time; harmless as long as
// both use the same kstring layout (true for htslib 1.16 and bwa 0.7.17).
#include "genoforest/align/bwa.hpp"

#include <bwa/bwa.h>
#include <bwa/bwamem.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <system_error>

#include "genoforest/core/error.hpp"

namespace genoforest::align {

namespace fs = std::filesystem;

namespace {

constexpr const char* kIndexSuffixes[] = {".amb", ".ann", ".bwt", ".pac", ".sa"};

/// bwa exits the process on an unreadable input: check the FASTA opens and starts like one.
void check_fasta(const fs::path& fasta) {
  gzFile f = gzopen(fasta.c_str(), "rb");
  if (!f) throw InputError(fasta.string(), "cannot open the reference FASTA: " + errno_text());
  char buf[1];
  const int n = gzread(f, buf, 1);
  int err = 0;
  const char* msg = gzerror(f, &err);
  const std::string reason = err < 0 ? std::string(msg ? msg : "read error") : "";
  gzclose(f);
  if (n < 0 || err < 0) throw InputError(fasta.string(), "cannot read the reference FASTA: " + reason);
  if (n == 0) throw InputError(fasta.string(), "the reference FASTA is empty");
  if (buf[0] != '>') throw InputError(fasta.string(), "not a FASTA file (it does not start with '>')");
}

}  // namespace

std::vector<fs::path> bwa_index_files(const fs::path& prefix) {
  std::vector<fs::path> v;
  for (const char* s : kIndexSuffixes) v.emplace_back(prefix.string() + s);
  return v;
}

bool bwa_index_up_to_date(const fs::path& fasta, const fs::path& prefix) {
  std::error_code ec;
  const auto src = fs::last_write_time(fasta, ec);
  if (ec) return false;
  for (const auto& f : bwa_index_files(prefix)) {
    const auto t = fs::last_write_time(f, ec);
    if (ec || t < src) return false;
    if (fs::file_size(f, ec) == 0 || ec) return false;
  }
  return true;
}

void build_bwa_index(const fs::path& fasta, const fs::path& prefix) {
  check_fasta(fasta);
  bwa_verbose = 1;
  // Build under a temporary prefix, then rename: a killed run leaves no half index under the
  // final names.
  const std::string tmp = prefix.string() + ".tmp." + std::to_string(::getpid());
  // bwa prints its progress to stderr whatever bwa_verbose says: keep it off the user's log.
  char* text = nullptr;
  std::size_t text_size = 0;
  std::FILE* saved = stderr;
  std::FILE* capture = open_memstream(&text, &text_size);
  if (capture) stderr = capture;
  const int rc = bwa_idx_build(fasta.c_str(), tmp.c_str(), BWTALGO_AUTO, 10'000'000);
  if (capture) {
    stderr = saved;
    std::fclose(capture);
    std::free(text);
  }
  std::error_code ec;
  if (rc != 0) {
    for (const auto& f : bwa_index_files(tmp)) fs::remove(f, ec);
    throw InputError(fasta.string(), "bwa could not index this FASTA");
  }
  const auto from = bwa_index_files(tmp);
  const auto to = bwa_index_files(prefix);
  for (std::size_t i = 0; i < from.size(); ++i) {
    fs::rename(from[i], to[i], ec);
    if (ec) throw IoError("cannot rename " + from[i].string() + " to " + to[i].string() + ": " + ec.message());
  }
}

struct BwaIndex::Impl {
  bwaidx_t* idx = nullptr;
  ~Impl() {
    if (idx) bwa_idx_destroy(idx);
  }
};

BwaIndex::BwaIndex(const fs::path& prefix) : impl_(std::make_unique<Impl>()) {
  for (const auto& f : bwa_index_files(prefix)) {
    std::error_code ec;
    const auto size = fs::file_size(f, ec);
    if (ec) throw InputError(f.string(), "missing bwa index file (build it with genoforest index)");
    if (size == 0) throw InputError(f.string(), "empty bwa index file; rebuild the index");
    std::FILE* fp = std::fopen(f.c_str(), "rb");
    if (!fp) throw InputError(f.string(), "cannot read the bwa index file: " + errno_text());
    std::fclose(fp);
  }
  bwa_verbose = 1;
  impl_->idx = bwa_idx_load(prefix.c_str(), BWA_IDX_ALL);
  if (!impl_->idx) throw InputError(prefix.string(), "cannot load the bwa index");
  describe();
}

BwaIndex::BwaIndex() : impl_(std::make_unique<Impl>()) {}

void BwaIndex::describe() {
  names_.clear();
  lengths_.clear();
  const bntseq_t* bns = impl_->idx->bns;
  for (int i = 0; i < bns->n_seqs; ++i) {
    names_.emplace_back(bns->anns[i].name);
    lengths_.push_back(bns->anns[i].len);
  }
  const bwt_t* bwt = impl_->idx->bwt;
  memory_ = static_cast<std::int64_t>(bwt->bwt_size * 4 + bwt->n_sa * 8 + bns->l_pac / 4 + 1);
}

std::span<const std::uint8_t> BwaIndex::pack() {
  bwaidx_t* idx = impl_->idx;
  if (!idx->mem && bwa_idx2mem(idx) != 0) throw InternalError("bwa could not pack its index into one block");
  return {idx->mem, static_cast<std::size_t>(idx->l_mem)};
}

BwaIndex BwaIndex::view(const std::uint8_t* mem, std::int64_t size) {
  BwaIndex x;
  x.impl_->idx = static_cast<bwaidx_t*>(std::calloc(1, sizeof(bwaidx_t)));
  if (!x.impl_->idx) throw InternalError("out of memory");
  // bwa only reads the block (it copies the small headers out of it); is_shm keeps
  // bwa_idx_destroy from freeing it.
  x.impl_->idx->is_shm = 1;
  bwa_mem2idx(size, const_cast<std::uint8_t*>(mem), x.impl_->idx);
  x.describe();
  return x;
}

BwaIndex::~BwaIndex() = default;
BwaIndex::BwaIndex(BwaIndex&&) noexcept = default;
BwaIndex& BwaIndex::operator=(BwaIndex&&) noexcept = default;

std::vector<std::string> BwaIndex::align(const std::vector<std::string>& names, const std::vector<std::string>& seqs,
                                         const std::vector<std::string>& quals, bool paired, std::int64_t first_read,
                                         const std::string& read_group_id, const BwaOptions& o,
                                         std::string* messages) const {
  const std::size_t n = seqs.size();
  if (names.size() != n || quals.size() != n || (paired && n % 2 != 0)) {
    throw InternalError("BwaIndex::align: inconsistent batch");
  }
  if (read_group_id.size() >= sizeof bwa_rg_id) throw UsageError("read group ID longer than 255 characters: " + read_group_id);
  std::vector<std::string> sam(n);
  if (n == 0) return sam;
  struct OptFree {
    void operator()(mem_opt_t* p) const noexcept { std::free(p); }
  };
  std::unique_ptr<mem_opt_t, OptFree> opt(mem_opt_init());
  opt->n_threads = o.threads;
  opt->min_seed_len = o.min_seed_length;
  opt->T = o.min_score;
  if (paired) opt->flag |= MEM_F_PE;
  std::memset(bwa_rg_id, 0, sizeof bwa_rg_id);
  std::memcpy(bwa_rg_id, read_group_id.data(), read_group_id.size());

  // bwa takes malloc'ed strings and rewrites the bases in place; it allocates .sam.
  std::vector<bseq1_t> batch(n);
  for (std::size_t i = 0; i < n; ++i) {
    bseq1_t& s = batch[i];
    std::memset(&s, 0, sizeof s);
    s.id = static_cast<int>(i);
    s.l_seq = static_cast<int>(seqs[i].size());
    s.name = strdup(names[i].c_str());
    s.seq = strdup(seqs[i].c_str());
    s.qual = quals[i].empty() ? nullptr : strdup(quals[i].c_str());
  }
  // bwa 0.7.17 prints its insert-size estimates to stderr whatever bwa_verbose says. Catch them
  // (stderr is a plain global FILE* in C; nothing else of ours writes during the call) and hand
  // them to the caller, who logs them at debug level.
  char* text = nullptr;
  std::size_t text_size = 0;
  std::FILE* saved = stderr;
  std::FILE* capture = open_memstream(&text, &text_size);
  if (capture) stderr = capture;
  mem_process_seqs(opt.get(), impl_->idx->bwt, impl_->idx->bns, impl_->idx->pac, first_read, static_cast<int>(n), batch.data(),
                   nullptr);
  if (capture) {
    stderr = saved;
    std::fclose(capture);
    if (messages && text) messages->append(text, text_size);
    std::free(text);
  }
  for (std::size_t i = 0; i < n; ++i) {
    bseq1_t& s = batch[i];
    if (s.sam) sam[i] = s.sam;
    std::free(s.name);
    std::free(s.comment);
    std::free(s.seq);
    std::free(s.qual);
    std::free(s.sam);
  }
  return sam;
}

}  // namespace genoforest::align
