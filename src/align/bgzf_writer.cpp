#include "genoforest/align/bgzf_writer.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

#include <fcntl.h>
#include <unistd.h>

#include <isa-l/crc.h>
#include <isa-l/igzip_lib.h>
#include <libdeflate.h>

#include "genoforest/core/error.hpp"
#include "genoforest/core/files.hpp"

namespace genoforest::align {

namespace {

constexpr std::size_t kHeader = 18, kFooter = 8;
constexpr std::size_t kOutBuffer = std::size_t{4} << 20;

void put_u16(unsigned char* p, std::uint32_t v) {
  p[0] = static_cast<unsigned char>(v);
  p[1] = static_cast<unsigned char>(v >> 8);
}

void put_u32(unsigned char* p, std::uint32_t v) {
  put_u16(p, v);
  put_u16(p + 2, v >> 16);
}

std::size_t igzip_level_buffer(int level) {
  switch (level) {
    case 1: return ISAL_DEF_LVL1_DEFAULT;
    case 2: return ISAL_DEF_LVL2_DEFAULT;
    default: return ISAL_DEF_LVL3_DEFAULT;
  }
}

}  // namespace

BgzfWriter::BgzfWriter(const std::filesystem::path& path, int level)
    : path_(path), level_(level), block_(kBlockInput), out_(kOutBuffer) {
  if (level < 0 || level > kMaxLevel) throw UsageError("the compression level must be 0-9, not " + std::to_string(level));
  if (level >= 1 && level <= 3) level_buf_.resize(igzip_level_buffer(level));
  if (level >= 4) {
    deflate_ = libdeflate_alloc_compressor(level);
    if (!deflate_) throw InternalError("out of memory (libdeflate compressor)");
  }
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    if (deflate_) libdeflate_free_compressor(deflate_);
    throw IoError("cannot write " + path.string() + ": " + errno_text());
  }
}

BgzfWriter::~BgzfWriter() {
  if (fd_ >= 0) ::close(fd_);
  if (deflate_) libdeflate_free_compressor(deflate_);
}

std::size_t BgzfWriter::compress_block(const unsigned char* in, std::size_t n, unsigned char* out) {
  if (n > kBlockInput) throw InternalError("a BGZF block of " + std::to_string(n) + " bytes");
  unsigned char* const data = out + kHeader;
  const std::size_t room = kMaxBlock - kHeader - kFooter;
  std::size_t size = 0;  // of the deflate data; 0: store
  if (level_ >= 1 && level_ <= 3) {
    isal_zstream s;
    isal_deflate_stateless_init(&s);
    s.level = static_cast<std::uint32_t>(level_);
    s.level_buf = level_buf_.data();
    s.level_buf_size = static_cast<std::uint32_t>(level_buf_.size());
    s.end_of_stream = 1;
    s.flush = NO_FLUSH;
    s.next_in = const_cast<unsigned char*>(in);
    s.avail_in = static_cast<std::uint32_t>(n);
    s.next_out = data;
    s.avail_out = static_cast<std::uint32_t>(room);
    if (isal_deflate_stateless(&s) == COMP_OK) size = s.total_out;
  } else if (level_ >= 4) {
    size = libdeflate_deflate_compress(deflate_, in, n, data, room);
  }
  if (size == 0) {  // level 0, or the data does not shrink: one stored block (5 bytes of header)
    data[0] = 1;  // BFINAL, BTYPE 00
    put_u16(data + 1, static_cast<std::uint32_t>(n));
    put_u16(data + 3, static_cast<std::uint32_t>(~n & 0xffff));
    if (n > 0) std::memcpy(data + 5, in, n);
    size = n + 5;
  }
  const std::size_t total = kHeader + size + kFooter;
  static constexpr unsigned char kMagic[16] = {0x1f, 0x8b, 0x08, 0x04, 0, 0, 0, 0, 0, 0xff, 0x06, 0, 'B', 'C', 0x02, 0};
  std::memcpy(out, kMagic, sizeof kMagic);
  put_u16(out + 16, static_cast<std::uint32_t>(total - 1));
  put_u32(data + size, crc32_gzip_refl(0, in, n));
  put_u32(data + size + 4, static_cast<std::uint32_t>(n));
  return total;
}

void BgzfWriter::end_block() {
  if (used_ == 0) return;
  if (out_.size() - out_used_ < kMaxBlock) drain();
  const std::size_t size = compress_block(block_.data(), used_, out_.data() + out_used_);
  out_used_ += size;
  coffset_ += size;
  used_ = 0;
}

void BgzfWriter::drain() {
  const unsigned char* p = out_.data();
  std::size_t n = out_used_;
  while (n > 0) {
    const ssize_t w = ::write(fd_, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      throw IoError("cannot write " + path_.string() + ": " + errno_text());
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  out_used_ = 0;
}

void BgzfWriter::write(const void* data, std::size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  while (n > 0) {
    const std::size_t take = std::min(n, kBlockInput - used_);
    std::memcpy(block_.data() + used_, p, take);
    used_ += take;
    p += take;
    n -= take;
    if (used_ == kBlockInput) end_block();
  }
}

void BgzfWriter::flush() { end_block(); }

void BgzfWriter::flush_try(std::size_t n) {
  if (used_ + n > kBlockInput) end_block();
}

std::uint64_t BgzfWriter::close() {
  end_block();
  drain();
  const int fd = std::exchange(fd_, -1);
  if (::close(fd) != 0) throw IoError(failed_write(path_));
  return coffset_;
}

}  // namespace genoforest::align
