#include "genoforest/align/fastq.hpp"

#include <array>

#include "genoforest/core/error.hpp"

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

FastqReader::FastqReader(const std::filesystem::path& path) : path_(path), fp_(bgzf_open(path.c_str(), "r")) {
  if (!fp_) throw InputError(path.string(), "cannot open the FASTQ file: " + errno_text());
}

FastqReader::~FastqReader() { ks_free(&buf_); }

void FastqReader::fail(const std::string& reason) const {
  throw InputError(path_.string() + " line " + std::to_string(line_), reason);
}

bool FastqReader::getline() {
  const int r = bgzf_getline(fp_.get(), '\n', &buf_);
  if (r == -1) return false;
  ++line_;
  if (r < -1) fail("truncated or corrupt gzip data");
  if (buf_.l > 0 && buf_.s[buf_.l - 1] == '\r') buf_.s[--buf_.l] = '\0';
  return true;
}

bool FastqReader::next(FastqRecord& rec) {
  // Header; blank lines between or after records are tolerated.
  do {
    if (!getline()) return false;
  } while (buf_.l == 0);
  if (buf_.s[0] != '@') fail("expected a FASTQ header line starting with '@'");
  std::size_t end = 1;
  while (end < buf_.l && buf_.s[end] != ' ' && buf_.s[end] != '\t') ++end;
  rec.name.assign(buf_.s + 1, end - 1);
  if (rec.name.empty()) fail("a FASTQ record without a read name");
  if (rec.name.size() > 2 && rec.name[rec.name.size() - 2] == '/' &&
      (rec.name.back() == '1' || rec.name.back() == '2')) {
    rec.name.resize(rec.name.size() - 2);
  }
  if (!getline()) fail("the file ends inside a record (no sequence line)");
  rec.seq.assign(buf_.s, buf_.l);
  for (auto& c : rec.seq) {
    const char u = kBaseTable[static_cast<unsigned char>(c)];
    if (u == 0) fail(std::string("invalid base '") + c + "' in the sequence");
    c = u;
  }
  if (!getline()) fail("the file ends inside a record (no '+' line)");
  if (buf_.l == 0 || buf_.s[0] != '+') fail("expected the '+' separator line");
  if (!getline()) fail("the file ends inside a record (no quality line)");
  rec.qual.assign(buf_.s, buf_.l);
  if (rec.qual.size() != rec.seq.size()) {
    fail("quality length " + std::to_string(rec.qual.size()) + " differs from sequence length " + std::to_string(rec.seq.size()));
  }
  for (char c : rec.qual) {
    if (c < '!' || c > '~') fail("invalid quality character (code " + std::to_string(static_cast<int>(static_cast<unsigned char>(c))) + ")");
  }
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
  if (bgzf_write(fp_.get(), buf_.data(), buf_.size()) < 0) throw IoError("cannot write " + path_.string() + " (disk full?)");
}

void FastqWriter::close() {
  if (fp_ && bgzf_close(fp_.release()) != 0) throw IoError("cannot close " + path_.string() + " (disk full?)");
}

}  // namespace genoforest::align
