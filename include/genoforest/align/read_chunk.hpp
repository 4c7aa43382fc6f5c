#pragma once
/// @file read_chunk.hpp
/// A chunk of checked reads in one block of memory: how QC hands reads to alignment.
/// No third-party headers here: bwa.cpp includes it beside bwa's (see bwa.hpp).
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace genoforest::align {

/// A read in a ReadChunk: NUL-terminated strings in the chunk's memory, writable (bwa rewrites
/// the bases in place). `qual` is nullptr when the read has no qualities.
struct ReadRef {
  char* name = nullptr;
  char* seq = nullptr;
  char* qual = nullptr;
  int length = 0;
};

/// Reads in one block of memory. QC writes each chunk of checked reads so (to a temporary file of
/// the same bytes), and alignment hands them to bwa in place: no second parse, no copy.
/// Per read: name length, sequence length, quality length (u32 each, native order), then the name,
/// the bases and the qualities, each followed by a NUL.
class ReadChunk {
 public:
  /// Appends a read (`qual` empty or as long as `seq`).
  void add(std::string_view name, std::string_view seq, std::string_view qual);
  [[nodiscard]] std::size_t size() const noexcept { return n_; }
  [[nodiscard]] bool empty() const noexcept { return n_ == 0; }
  void clear() noexcept;
  /// Writes the chunk to `path`. Throws IoError.
  void save(const std::filesystem::path& path) const;
  /// Reads a chunk that save() wrote. Throws InputError when it is unreadable or malformed.
  [[nodiscard]] static ReadChunk load(const std::filesystem::path& path);
  /// The reads, in order, pointing into this chunk (valid until it changes or goes).
  [[nodiscard]] std::vector<ReadRef> refs();

 private:
  std::vector<ReadRef> parse(const std::string& where);
  std::string bytes_;
  std::size_t n_ = 0;
  std::vector<ReadRef> refs_;         ///< parsed by load(); cleared by a change
  const char* refs_base_ = nullptr;   ///< bytes_.data() when refs_ was parsed
};

}  // namespace genoforest::align
