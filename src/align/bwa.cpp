// The one translation unit that includes bwa's headers (see bwa.hpp). libbwa.a also defines
// global kseq_* functions and ksprintf, which win over htslib's at link time; harmless as long as
// both use the same kstring layout (true for htslib 1.16 and bwa 0.7.17).
#include "genoforest/align/bwa.hpp"

#include <bwa/bwa.h>
#include <bwa/bwamem.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdio>
#include <cstdlib>
#include <cstdint>
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

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25  // Linux 6.1
#endif

constexpr std::size_t kHugePage = std::size_t{2} << 20;

/// Arrays up to this size are copied to huge pages; larger ones are collapsed in place (no copy).
constexpr std::size_t kCopyLimit = std::size_t{64} << 20;

/// Asks for the whole 2 MiB pages inside [p, p + bytes) to be huge pages: now (MADV_COLLAPSE,
/// Linux >= 6.1) where the kernel can, else as khugepaged gets to them. Best effort.
void advise_huge_pages(const void* p, std::size_t bytes) {
  const auto a = reinterpret_cast<std::uintptr_t>(p);
  const std::uintptr_t begin = (a + kHugePage - 1) & ~(kHugePage - 1), end = (a + bytes) & ~(kHugePage - 1);
  if (end <= begin) return;
  void* start = reinterpret_cast<void*>(begin);
  if (madvise(start, end - begin, MADV_HUGEPAGE) == 0) (void)madvise(start, end - begin, MADV_COLLAPSE);
}

/// Puts a malloc'ed array of the index on huge pages: a small one is moved into 2 MiB-aligned
/// memory (so that all of it is), a large one is advised in place. Keeps it where it is if memory
/// is short.
template <class T>
void move_to_huge_pages(T*& array, std::size_t bytes) {
  if (!array || bytes < kHugePage / 2) return;
  if (bytes > kCopyLimit) {
    advise_huge_pages(array, bytes);
    return;
  }
  const std::size_t size = (bytes + kHugePage - 1) / kHugePage * kHugePage;
  void* p = nullptr;
  if (posix_memalign(&p, kHugePage, size) != 0) return;
  (void)madvise(p, size, MADV_HUGEPAGE);  // before the first touch: the faults then take huge pages
  std::memcpy(p, array, bytes);
  std::free(array);
  array = static_cast<T*>(p);
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

BwaIndex::BwaIndex(const fs::path& prefix, bool huge_pages) : impl_(std::make_unique<Impl>()) {
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
  if (huge_pages) use_huge_pages();
  describe();
}

void BwaIndex::use_huge_pages() {
  bwaidx_t* idx = impl_->idx;
  if (idx->is_shm || idx->mem) return;  // a packed or viewed block is not ours to move
  move_to_huge_pages(idx->bwt->bwt, static_cast<std::size_t>(idx->bwt->bwt_size) * 4);
  move_to_huge_pages(idx->bwt->sa, static_cast<std::size_t>(idx->bwt->n_sa) * sizeof(bwtint_t));
  move_to_huge_pages(idx->pac, static_cast<std::size_t>(idx->bns->l_pac / 4 + 1));
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
  advise_huge_pages(mem, static_cast<std::size_t>(size));  // shared memory: only where shmem THP is allowed
  x.describe();
  return x;
}

BwaIndex::~BwaIndex() = default;
BwaIndex::BwaIndex(BwaIndex&&) noexcept = default;
BwaIndex& BwaIndex::operator=(BwaIndex&&) noexcept = default;

std::vector<SamText> BwaIndex::align(std::span<const ReadRef> reads, bool paired, std::int64_t first_read,
                                     const std::string& read_group_id, const BwaOptions& o, std::string* messages) const {
  const std::size_t n = reads.size();
  if (paired && n % 2 != 0) throw InternalError("BwaIndex::align: a batch of pairs with an odd number of reads");
  if (read_group_id.size() >= sizeof bwa_rg_id) throw UsageError("read group ID longer than 255 characters: " + read_group_id);
  std::vector<SamText> sam(n);
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

  // bwa reads the strings where they are (it rewrites the bases in place) and mallocs .sam.
  std::vector<bseq1_t> batch(n);
  for (std::size_t i = 0; i < n; ++i) {
    bseq1_t& s = batch[i];
    std::memset(&s, 0, sizeof s);
    s.id = static_cast<int>(i);
    s.l_seq = reads[i].length;
    s.name = reads[i].name;
    s.seq = reads[i].seq;
    s.qual = reads[i].qual;
  }
  // bwa 0.7.17 prints its insert-size estimates to stderr whatever bwa_verbose says. Catch them
  // (stderr is a plain global FILE* in C; nothing else of ours writes during the call) and hand
  // them to the caller, who logs them at debug level.
  char* text = nullptr;
  std::size_t text_size = 0;
  std::FILE* saved = stderr;
  std::FILE* capture = open_memstream(&text, &text_size);
  if (capture) stderr = capture;
  bwa_verbose = messages ? 3 : 1;  // 3: bwa also reports the batch's CPU and real time
  mem_process_seqs(opt.get(), impl_->idx->bwt, impl_->idx->bns, impl_->idx->pac, first_read, static_cast<int>(n), batch.data(),
                   nullptr);
  if (capture) {
    stderr = saved;
    std::fclose(capture);
    if (messages && text) messages->append(text, text_size);
    std::free(text);
  }
  bwa_verbose = 1;
  for (std::size_t i = 0; i < n; ++i) sam[i].reset(batch[i].sam);
  return sam;
}

}  // namespace genoforest::align
