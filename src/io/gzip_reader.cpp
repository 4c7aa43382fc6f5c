#include "genoforest/io/gzip_reader.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>

#include <isa-l/igzip_lib.h>

#include "genoforest/core/error.hpp"

namespace genoforest::io {

namespace {
constexpr std::size_t kInput = std::size_t{1} << 20;
}  // namespace

GzipReader::GzipReader(const std::filesystem::path& path) : path_(path), in_(kInput) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) throw InputError(path.string(), "cannot open the file: " + errno_text());
  while (in_end_ < 2 && refill()) {
  }
  if (!error_.empty()) throw InputError(path.string(), error_);
  gzip_ = in_end_ >= 2 && in_[0] == 0x1f && in_[1] == 0x8b;
  if (gzip_) {
    state_ = std::make_unique<inflate_state>();
    isal_inflate_init(state_.get());
    state_->crc_flag = ISAL_GZIP;
  }
}

GzipReader::~GzipReader() {
  if (fd_ >= 0) ::close(fd_);
}

bool GzipReader::refill() {
  if (eof_) return false;
  if (in_begin_ > 0) {  // keep what is left at the front
    std::memmove(in_.data(), in_.data() + in_begin_, in_end_ - in_begin_);
    in_end_ -= in_begin_;
    in_begin_ = 0;
  }
  if (in_end_ == in_.size()) return true;  // full already
  for (;;) {
    const ssize_t got = ::read(fd_, in_.data() + in_end_, in_.size() - in_end_);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      error_ = "cannot read the file: " + errno_text();
      return false;
    }
    if (got == 0) {
      eof_ = true;
      return false;
    }
    in_end_ += static_cast<std::size_t>(got);
    return true;
  }
}

ssize_t GzipReader::fail(std::string why) {
  error_ = std::move(why);
  return -1;
}

ssize_t GzipReader::read(void* out, std::size_t n) {
  if (!error_.empty()) return -1;
  if (n == 0) return 0;
  if (!gzip_) {
    if (in_begin_ < in_end_) {  // what sniffing read
      const std::size_t take = std::min(n, in_end_ - in_begin_);
      std::memcpy(out, in_.data() + in_begin_, take);
      in_begin_ += take;
      return static_cast<ssize_t>(take);
    }
    if (eof_) return 0;
    for (;;) {
      const ssize_t got = ::read(fd_, out, n);
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) return fail("cannot read the file: " + errno_text());
      if (got == 0) eof_ = true;
      return got;
    }
  }
  inflate_state* st = state_.get();
  st->next_out = static_cast<std::uint8_t*>(out);
  st->avail_out = static_cast<std::uint32_t>(std::min<std::size_t>(n, UINT32_MAX));
  const std::uint32_t room = st->avail_out;
  while (st->avail_out == room) {  // until some data comes out
    if (in_begin_ == in_end_ && !refill()) {
      if (!error_.empty()) return -1;
      if (in_member_) return fail("truncated gzip data (the file ends inside a compressed member)");
      return 0;
    }
    if (!in_member_ && in_[in_begin_] == 0) {
      // Zero bytes after the last member (tape padding) end the data, as gzip -d accepts them.
      while (true) {
        while (in_begin_ < in_end_ && in_[in_begin_] == 0) ++in_begin_;
        if (in_begin_ < in_end_) return fail("corrupt gzip data (bytes after the end of a member that start no new member)");
        if (!refill()) return error_.empty() ? 0 : -1;
      }
    }
    if (!in_member_) {  // a member starts with gzip's magic bytes
      while (in_end_ - in_begin_ < 2 && refill()) {
      }
      if (!error_.empty()) return -1;
      if (in_end_ - in_begin_ < 2 || in_[in_begin_] != 0x1f || in_[in_begin_ + 1] != 0x8b) {
        return fail("corrupt gzip data (bytes after the end of a member that start no new member)");
      }
    }
    in_member_ = true;
    st->next_in = in_.data() + in_begin_;
    st->avail_in = static_cast<std::uint32_t>(in_end_ - in_begin_);
    const int r = isal_inflate(st);
    in_begin_ = in_end_ - st->avail_in;
    if (r != ISAL_DECOMP_OK) {
      return fail(r == ISAL_INCORRECT_CHECKSUM ? "corrupt gzip data (a member's CRC-32 or length does not match its data)"
                                               : "corrupt gzip data (invalid compressed block or gzip header)");
    }
    if (st->block_state == ISAL_BLOCK_FINISH) {  // a member ended, its CRC and length checked
      isal_inflate_reset(st);
      st->crc_flag = ISAL_GZIP;
      in_member_ = false;
    }
  }
  return static_cast<ssize_t>(room - st->avail_out);
}

}  // namespace genoforest::io
