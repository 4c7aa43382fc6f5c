#pragma once
/// @file fastq.hpp
/// Strict FASTQ reading (plain, gzip or bgzip, decompressed by ISA-L: io::GzipReader) and writing
/// (BGZF, through htslib).
///
/// A malformed record, a truncated gzip stream or a read error is an InputError naming the file
/// and the line: never a silent end of data.
#include <htslib/bgzf.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "genoforest/io/gzip_reader.hpp"

namespace genoforest::align {

struct FastqRecord {
  std::string name;  ///< up to the first space or tab, without a trailing /1 or /2
  std::string seq;   ///< upper case
  std::string qual;  ///< Phred+33 characters, as long as seq
};

struct BgzfCloser {
  void operator()(BGZF* f) const noexcept { if (f) bgzf_close(f); }
};

class FastqReader {
 public:
  /// Throws InputError when the file cannot be opened.
  explicit FastqReader(const std::filesystem::path& path);
  ~FastqReader();
  FastqReader(const FastqReader&) = delete;
  FastqReader& operator=(const FastqReader&) = delete;
  /// Reads the next record; false at the end of the file.
  bool next(FastqRecord& rec);
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }
  /// Records read so far.
  [[nodiscard]] std::int64_t records() const noexcept { return records_; }
  /// Line number of the last line read (1-based).
  [[nodiscard]] std::int64_t line() const noexcept { return line_; }

 private:
  /// The next line (without its newline or a CR before it) into text_; false at the end.
  bool getline();
  [[noreturn]] void fail(const std::string& reason) const;
  std::filesystem::path path_;
  io::GzipReader in_;
  std::vector<char> buf_;       ///< decompressed bytes [begin_, end_) not yet returned
  std::size_t begin_ = 0, end_ = 0;
  bool at_end_ = false;
  std::string_view text_;  ///< the last line read
  std::int64_t records_ = 0;
  std::int64_t line_ = 0;
};

/// Writes FASTQ records, BGZF-compressed at `level` (gzip-compatible), or plain when `level` < 0.
/// Throws IoError.
class FastqWriter {
 public:
  FastqWriter(const std::filesystem::path& path, int level);
  void write(const std::string& name, const std::string& seq, const std::string& qual);
  /// Flushes and closes; a write error surfaces here.
  void close();

 private:
  std::filesystem::path path_;
  std::unique_ptr<BGZF, BgzfCloser> fp_;
  std::string buf_;
};

}  // namespace genoforest::align
