#include "genoforest/align/read_chunk.hpp"

#include <cstdint>
#include <cstdio>
#include <cstring>

#include "genoforest/core/error.hpp"
#include "genoforest/core/files.hpp"

namespace genoforest::align {

namespace {

struct ReadHead {
  std::uint32_t name = 0, seq = 0, qual = 0;
};

}  // namespace

void ReadChunk::add(std::string_view name, std::string_view seq, std::string_view qual) {
  if (!qual.empty() && qual.size() != seq.size()) throw InternalError("ReadChunk::add: quality length differs from sequence length");
  const ReadHead h{static_cast<std::uint32_t>(name.size()), static_cast<std::uint32_t>(seq.size()), static_cast<std::uint32_t>(qual.size())};
  refs_.clear();
  bytes_.append(reinterpret_cast<const char*>(&h), sizeof h);
  for (std::string_view f : {name, seq, qual}) {
    bytes_.append(f);
    bytes_.push_back('\0');
  }
  ++n_;
}

void ReadChunk::clear() noexcept {
  bytes_.clear();
  refs_.clear();
  n_ = 0;
}

void ReadChunk::save(const std::filesystem::path& path) const {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) throw IoError("cannot write " + path.string() + ": " + errno_text());
  const bool ok = std::fwrite(bytes_.data(), 1, bytes_.size(), f) == bytes_.size();
  if (std::fclose(f) != 0 || !ok) throw IoError(failed_write(path));
}

ReadChunk ReadChunk::load(const std::filesystem::path& path) {
  ReadChunk c;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw InputError(path.string(), "cannot read the temporary chunk: " + errno_text());
  std::fseek(f, 0, SEEK_END);
  const long size = std::ftell(f);
  std::fseek(f, 0, SEEK_SET);
  c.bytes_.resize(size > 0 ? static_cast<std::size_t>(size) : 0);
  const bool ok = size >= 0 && std::fread(c.bytes_.data(), 1, c.bytes_.size(), f) == c.bytes_.size();
  std::fclose(f);
  if (!ok) throw InputError(path.string(), "cannot read the temporary chunk: " + errno_text());
  c.refs_ = c.parse(path.string());  // checks the layout
  c.refs_base_ = c.bytes_.data();
  c.n_ = c.refs_.size();
  return c;
}

std::vector<ReadRef> ReadChunk::refs() {
  // Parsed by load() unless the reads changed or moved since (a copy, a short chunk moved).
  if (refs_.size() != n_ || refs_base_ != bytes_.data()) {
    refs_ = parse("a read chunk");
    refs_base_ = bytes_.data();
  }
  return refs_;
}

std::vector<ReadRef> ReadChunk::parse(const std::string& where) {
  std::vector<ReadRef> v;
  v.reserve(n_);
  char* p = bytes_.data();
  char* const end = p + bytes_.size();
  auto corrupt = [&] { throw InputError(where, "corrupt temporary chunk of reads (read " + std::to_string(v.size() + 1) + ")"); };
  while (p < end) {
    ReadHead h;
    if (static_cast<std::size_t>(end - p) < sizeof h) corrupt();
    std::memcpy(&h, p, sizeof h);
    p += sizeof h;
    if (static_cast<std::size_t>(end - p) < std::size_t{h.name} + h.seq + h.qual + 3) corrupt();
    ReadRef r;
    r.name = p;
    p += h.name + 1;
    r.seq = p;
    p += h.seq + 1;
    r.qual = h.qual > 0 ? p : nullptr;
    p += h.qual + 1;
    r.length = static_cast<int>(h.seq);
    if (r.seq[-1] != '\0' || p[-1] != '\0' || (h.qual > 0 && h.qual != h.seq)) corrupt();
    v.push_back(r);
  }
  return v;
}

}  // namespace genoforest::align
