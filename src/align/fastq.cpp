#include "genoforest/align/fastq.hpp"

#include <array>
#include <cstdio>
#include <cstring>

#include "genoforest/core/error.hpp"
#include "genoforest/core/files.hpp"

namespace genoforest::align {

namespace {

/// Upper-cased base for every letter ('.' reads as N), 0 for anything else.
constexpr std::array<char, 256> kBaseTable = [] {
  std::array<char, 256> t{};
  for (int c = 'A'; c <= 'Z'; ++c) t[static_cast<std::size_t>(c)] = static_cast<char>(c);
  for (int c = 'a'; c <= 'z'; ++c) t[static_cast<std::size_t>(c)] = static_cast<char>(c - 'a' + 'A');
  t['.'] = 'N';
  return t;
}();

}  // namespace

FastqReader::FastqReader(const std::filesystem::path& path)
    : path_(path), in_(path), buf_(std::size_t{1} << 20) {}

FastqReader::~FastqReader() = default;

void FastqReader::fail(const std::string& reason) const {
  throw InputError(path_.string() + " line " + std::to_string(line_), reason);
}

bool FastqReader::getline() {
  while (true) {
    char* const data = buf_.data();
    if (const auto* nl = static_cast<const char*>(std::memchr(data + begin_, '\n', end_ - begin_))) {
      text_ = std::string_view(data + begin_, static_cast<std::size_t>(nl - (data + begin_)));
      begin_ = static_cast<std::size_t>(nl - data) + 1;
      break;
    }
    if (at_end_) {  // a last line without a newline
      if (begin_ == end_) return false;
      text_ = std::string_view(data + begin_, end_ - begin_);
      begin_ = end_;
      break;
    }
    // Keep the partial line, make room, read more.
    std::memmove(data, data + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
    if (end_ == buf_.size()) buf_.resize(2 * buf_.size());
    const ssize_t got = in_.read(buf_.data() + end_, buf_.size() - end_);
    if (got < 0) {
      ++line_;
      fail(in_.error());
    }
    if (got == 0) at_end_ = true;
    end_ += static_cast<std::size_t>(got);
  }
  ++line_;
  if (!text_.empty() && text_.back() == '\r') text_.remove_suffix(1);
  return true;
}

bool FastqReader::next(FastqRecord& rec) {
  // Header; blank lines between or after records are tolerated.
  do {
    if (!getline()) return false;
  } while (text_.empty());
  if (text_[0] != '@') fail("expected a FASTQ header line starting with '@'");
  std::size_t end = 1;
  while (end < text_.size() && text_[end] != ' ' && text_[end] != '\t') ++end;
  rec.name.assign(text_.data() + 1, end - 1);
  if (rec.name.empty()) fail("a FASTQ record without a read name");
  if (rec.name.size() > 2 && rec.name[rec.name.size() - 2] == '/' &&
      (rec.name.back() == '1' || rec.name.back() == '2')) {
    rec.name.resize(rec.name.size() - 2);
  }
  if (rec.name.size() > 254) fail("a read name of " + std::to_string(rec.name.size()) + " characters; BAM holds at most 254");
  if (!getline()) fail("the file ends inside a record (no sequence line)");
  rec.seq.resize(text_.size());
  unsigned char bad = 0;
  for (std::size_t i = 0; i < text_.size(); ++i) {
    const char u = kBaseTable[static_cast<unsigned char>(text_[i])];
    bad |= static_cast<unsigned char>(u == 0);
    rec.seq[i] = u;
  }
  if (bad) {
    for (char c : text_)
      if (kBaseTable[static_cast<unsigned char>(c)] == 0) fail(std::string("invalid base '") + c + "' in the sequence");
  }
  if (!getline()) fail("the file ends inside a record (no '+' line)");
  if (text_.empty() || text_[0] != '+') fail("expected the '+' separator line");
  if (!getline()) fail("the file ends inside a record (no quality line)");
  if (text_.size() != rec.seq.size()) {
    fail("quality length " + std::to_string(text_.size()) + " differs from sequence length " + std::to_string(rec.seq.size()));
  }
  bad = 0;
  for (char c : text_) bad |= static_cast<unsigned char>((c < '!') | (c > '~'));
  if (bad) {
    for (char c : text_)
      if (c < '!' || c > '~') fail("invalid quality character (code " + std::to_string(static_cast<int>(static_cast<unsigned char>(c))) + ")");
  }
  rec.qual.assign(text_.data(), text_.size());
  ++records_;
  return true;
}

FastqWriter::FastqWriter(const std::filesystem::path& path, int level)
    : path_(path), fp_(bgzf_open(path.c_str(), level < 0 ? "wu" : ("w" + std::to_string(level)).c_str())) {
  if (!fp_) throw IoError("cannot write " + path.string() + ": " + errno_text());
}

void FastqWriter::write(const std::string& name, const std::string& seq, const std::string& qual) {
  buf_.clear();
  buf_ += '@';
  buf_ += name;
  buf_ += '\n';
  buf_ += seq;
  buf_ += "\n+\n";
  buf_ += qual;
  buf_ += '\n';
  if (bgzf_write(fp_.get(), buf_.data(), buf_.size()) < 0) throw IoError(failed_write(path_));
}

void FastqWriter::close() {
  if (fp_ && bgzf_close(fp_.release()) != 0) throw IoError(failed_write(path_, "cannot close"));
}

}  // namespace genoforest::align
