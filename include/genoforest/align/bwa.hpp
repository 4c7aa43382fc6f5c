#pragma once
/// @file bwa.hpp
/// BWA-MEM through the bwa library, in-process. The only place that includes bwa's headers
/// (src/align/bwa.cpp): their kseq/khash/kstring clash with htslib's.
///
/// bwa's library calls exit() on a missing or short index file and prints to stderr; everything
/// here validates first and turns failures into genoforest errors, and bwa's messages are off.
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "genoforest/align/read_chunk.hpp"

namespace genoforest::align {

/// The five files of a bwa index with this prefix (.amb .ann .bwt .pac .sa).
[[nodiscard]] std::vector<std::filesystem::path> bwa_index_files(const std::filesystem::path& prefix);

/// True when every index file of `prefix` exists and is at least as new as `fasta`.
[[nodiscard]] bool bwa_index_up_to_date(const std::filesystem::path& fasta, const std::filesystem::path& prefix);

/// Builds the bwa index of `fasta` under `prefix` (as `bwa index -p PREFIX` does).
/// Throws InputError for an unreadable or empty FASTA.
void build_bwa_index(const std::filesystem::path& fasta, const std::filesystem::path& prefix);

/// Options of BWA-MEM that genoforest exposes; the rest are bwa's defaults (as `bwa mem`).
struct BwaOptions {
  int threads = 1;                   ///< bwa worker threads within a rank (output does not change)
  std::int64_t batch_bases = 10'000'000;  ///< bases per batch, as `bwa mem -K` (fixes the output)
  int min_seed_length = 19;          ///< -k
  int min_score = 30;                ///< -T
};

/// Text that bwa malloc'ed, freed with free().
struct CFree {
  void operator()(char* p) const noexcept { std::free(p); }
};
using SamText = std::unique_ptr<char, CFree>;

/// A loaded index. Movable, not copyable.
class BwaIndex {
 public:
  /// Loads the index of `prefix`. Throws InputError naming the missing or empty file.
  /// With `huge_pages`, its arrays go on transparent huge pages (2 MiB): the BWT lookups that
  /// dominate alignment are random reads over them, and with 4 KiB pages most miss the TLB
  /// (measured: alignment 5-10% faster on a 5 Mb reference). Best effort, same results.
  explicit BwaIndex(const std::filesystem::path& prefix, bool huge_pages = true);
  /// Moves the loaded index's arrays to huge pages (what the constructor's `huge_pages` does).
  void use_huge_pages();
  ~BwaIndex();
  BwaIndex(BwaIndex&&) noexcept;
  BwaIndex& operator=(BwaIndex&&) noexcept;
  BwaIndex(const BwaIndex&) = delete;
  BwaIndex& operator=(const BwaIndex&) = delete;

  [[nodiscard]] const std::vector<std::string>& contig_names() const noexcept { return names_; }
  [[nodiscard]] const std::vector<std::int64_t>& contig_lengths() const noexcept { return lengths_; }
  /// Bytes of memory the loaded index takes.
  [[nodiscard]] std::int64_t memory_bytes() const noexcept { return memory_; }

  /// Moves the index into one contiguous block (bwa_idx2mem) and returns it; this index goes on
  /// using it. The block can be copied to memory that other processes see (MPI-3 shared memory)
  /// and opened there with view().
  [[nodiscard]] std::span<const std::uint8_t> pack();
  /// An index over a block that pack() made, owned by someone else: nothing is copied, and the
  /// block must outlive the index.
  [[nodiscard]] static BwaIndex view(const std::uint8_t* mem, std::int64_t size);

  /// Aligns one batch of `reads` (for pairs: read 1, read 2 interleaved); bwa rewrites their bases
  /// in place. `first_read` is the batch's offset among all reads of the input (bwa hashes it to
  /// break ties). `read_group_id` goes on every record as RG:Z (empty: none). Returns, per read, its
  /// SAM lines as `bwa mem` prints them (one or more, '\n'-terminated). bwa's own messages (the
  /// insert-size estimate) are appended to `messages` when given, else dropped.
  [[nodiscard]] std::vector<SamText> align(std::span<const ReadRef> reads, bool paired, std::int64_t first_read,
                                           const std::string& read_group_id, const BwaOptions& opt,
                                           std::string* messages = nullptr) const;

 private:
  BwaIndex();
  void describe();
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::vector<std::string> names_;
  std::vector<std::int64_t> lengths_;
  std::int64_t memory_ = 0;
};

}  // namespace genoforest::align
