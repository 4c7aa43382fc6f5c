#pragma once
/// @file bgzf_writer.hpp
/// The BGZF writer of align's BAMs: blocks cut as htslib cuts them, compressed by ISA-L's igzip at
/// the fast levels (about twice libdeflate's speed for a BAM 1-5% larger) and by libdeflate, as
/// htslib does, at the others.
///
/// Levels: 0 stores the data (deflate's stored blocks); 1-3 are igzip's levels 1-3; 4-9 are
/// libdeflate's levels 4-9 (what htslib gives for `wb4`..`wb9`). A block holds at most
/// kBlockInput bytes of input, ends when full or at flush(), and is written as soon as it ends.
/// Virtual offsets (tell()) are bgzf_tell's: compressed offset of the block << 16 | offset in it.
/// The writer adds no end-of-file block (align concatenates pieces; the caller ends the file).
/// The compressed bytes are a function of the input and the level, for a given build of the
/// libraries on a given CPU family; the data they hold never depends on either.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <vector>

struct libdeflate_compressor;

namespace genoforest::align {

class BgzfWriter {
 public:
  static constexpr std::size_t kBlockInput = 0xff00;   ///< input bytes per block (htslib's BGZF_BLOCK_SIZE)
  static constexpr std::size_t kMaxBlock = 0x10000;    ///< a block's largest compressed size
  static constexpr int kMaxLevel = 9;

  /// Creates (truncates) `path`. Throws UsageError for a level outside 0-9, IoError when the file
  /// cannot be created.
  BgzfWriter(const std::filesystem::path& path, int level);
  /// Closes the file without flushing (a failed write); close() finishes it.
  ~BgzfWriter();
  BgzfWriter(const BgzfWriter&) = delete;
  BgzfWriter& operator=(const BgzfWriter&) = delete;

  /// Appends `n` bytes, ending a block each time it fills. Throws IoError.
  void write(const void* data, std::size_t n);
  /// Ends the current block, if it holds anything. Throws IoError.
  void flush();
  /// Ends the current block if `n` more bytes would not fit in it (keeps a record in one block
  /// when it can, as bgzf_flush_try). Throws IoError.
  void flush_try(std::size_t n);
  /// The virtual offset of the next byte written.
  [[nodiscard]] std::uint64_t tell() const noexcept { return coffset_ << 16 | static_cast<std::uint64_t>(used_); }
  /// Flushes and closes the file; returns its size in bytes. Throws IoError (a full disk shows here).
  std::uint64_t close();

  /// Compresses `n` <= kBlockInput bytes into one BGZF block at `out` (room for kMaxBlock bytes)
  /// with this writer's level; returns the block's size.
  std::size_t compress_block(const unsigned char* in, std::size_t n, unsigned char* out);

 private:
  void end_block();
  void drain();

  std::filesystem::path path_;
  int fd_ = -1;
  int level_ = 0;
  std::vector<unsigned char> block_;   ///< input of the current block
  std::size_t used_ = 0;               ///< bytes in block_
  std::vector<unsigned char> out_;     ///< compressed blocks waiting to be written
  std::size_t out_used_ = 0;
  std::uint64_t coffset_ = 0;          ///< compressed offset of the current block
  std::vector<unsigned char> level_buf_;       ///< igzip's working memory (levels 1-3)
  libdeflate_compressor* deflate_ = nullptr;   ///< libdeflate's compressor (levels 4-9)
};

}  // namespace genoforest::align
