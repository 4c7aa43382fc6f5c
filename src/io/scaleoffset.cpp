#include "genoforest/io/scaleoffset.hpp"

#include <dlfcn.h>
#include <hdf5.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <utility>

namespace genoforest::io::h5 {

namespace {

constexpr std::size_t kHeader = 21;  // libhdf5's header: minbits (4), sizeof minval (1), minval (8), 8 zeros

/// ⌈log2(x)⌉, 0 for x <= 1 (libhdf5's H5Z__scaleoffset_log2).
unsigned ceil_log2(unsigned x) {
  unsigned v = 0;
  while ((1u << v) < x) ++v;
  return v;
}

/// Smallest and largest of the bytes x ^ flip (flip 0x80 orders signed bytes as unsigned ones),
/// the fill value left out when Skip; hi < lo when nothing is left. Unsigned byte min/max, so that
/// the compiler vectorises it with the baseline instruction set.
template <bool Skip>
std::pair<unsigned, unsigned> byte_range(const std::uint8_t* in, std::size_t n, std::uint8_t fill, std::uint8_t flip) {
  std::uint8_t lo = UINT8_MAX, hi = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const auto v = static_cast<std::uint8_t>(in[i] ^ flip);
    const auto m = static_cast<std::uint8_t>(Skip ? -static_cast<int>(in[i] == fill) : 0);  // 0xff at the fill value
    const auto a = static_cast<std::uint8_t>(v | m);
    const auto b = static_cast<std::uint8_t>(v & ~m);
    lo = a < lo ? a : lo;
    hi = b > hi ? b : hi;
  }
  return {lo, hi};
}

/// Encodes into `out` (room for kHeader + n + 1 bytes); returns the number of bytes HDF5 stores.
std::size_t encode_into(const std::uint8_t* in, std::size_t n, const ScaleOffsetParams& p, std::uint8_t* out) {
  // Minimum and maximum over the values other than the fill value, in loops the compiler
  // vectorises: the fill value is replaced by a value that cannot win. With nothing but fill
  // values, libhdf5 takes min = max = 0.
  int mn = 0, mx = 0;
  const bool skip = p.fill_defined;
  const std::uint8_t fill = p.fill;
  const std::uint8_t flip = p.is_signed ? 0x80 : 0;
  const auto [lo, hi] = skip ? byte_range<true>(in, n, fill, flip) : byte_range<false>(in, n, fill, flip);
  // hi < lo: nothing but fill values. (hi == lo == 0xff unsigned with fill 0xff also fits "nothing
  // left", so look for a value other than the fill value before taking it as a range.)
  const bool any = hi > lo || (hi == lo && (!skip || std::any_of(in, in + n, [&](std::uint8_t x) { return x != fill; })));
  if (any) {
    mn = p.is_signed ? static_cast<std::int8_t>(lo ^ 0x80) : static_cast<int>(lo);
    mx = p.is_signed ? static_cast<std::int8_t>(hi ^ 0x80) : static_cast<int>(hi);
  }
  // minbits and minval exactly as libhdf5 derives them, its early exits included.
  unsigned minbits;
  std::uint64_t minval;
  const auto as_minval = [&](int m) {
    return p.is_signed ? static_cast<std::uint64_t>(static_cast<std::int64_t>(m)) : static_cast<std::uint64_t>(m);
  };
  if (static_cast<std::uint8_t>(mx - mn) > 253) {
    minbits = 8;
    minval = p.is_signed && !p.fill_defined ? as_minval(mn) : 0;
  } else {
    const unsigned span = static_cast<std::uint8_t>(mx - mn + 1);
    minbits = ceil_log2(p.fill_defined ? span + 1 : span);
    minval = as_minval(mn);
  }
  for (unsigned k = 0; k < 4; ++k) out[k] = static_cast<std::uint8_t>(minbits >> (8 * k));
  out[4] = 8;
  for (unsigned k = 0; k < 8; ++k) out[5 + k] = static_cast<std::uint8_t>(minval >> (8 * k));
  std::memset(out + 13, 0, 8);
  std::uint8_t* body = out + kHeader;
  if (minbits == 8) {
    std::memcpy(body, in, n);
    return kHeader + n;
  }
  const std::size_t stored = kHeader + n * minbits / 8 + 1;
  std::memset(body, 0, stored - kHeader);
  if (minbits == 0) return stored;

  // Codes: value - min (the same byte arithmetic signed or not), the fill value all ones;
  // computed in blocks that stay in L1, then packed most significant bit first.
  const auto mask = static_cast<std::uint8_t>((1u << minbits) - 1);
  const auto base = static_cast<std::uint8_t>(mn);
  constexpr std::size_t kBlock = 4096;  // a multiple of 8: blocks start on a byte of output
  std::uint8_t code[kBlock];
  std::uint8_t* o = body;
  for (std::size_t b0 = 0; b0 < n; b0 += kBlock) {
    const std::size_t m = std::min(kBlock, n - b0);
    const std::uint8_t* x = in + b0;
    for (std::size_t i = 0; i < m; ++i) {
      code[i] = skip && x[i] == fill ? mask : static_cast<std::uint8_t>(x[i] - base);
    }
    std::size_t i = 0;
    if (minbits == 2) {
      for (; i + 4 <= m; i += 4) {
        std::uint32_t w;
        std::memcpy(&w, code + i, 4);  // c0 | c1 << 8 | c2 << 16 | c3 << 24, each below 4
        *o++ = static_cast<std::uint8_t>(w << 6 | w >> 4 | w >> 14 | w >> 24);
      }
    } else if (minbits == 1) {
      for (; i + 8 <= m; i += 8) {
        std::uint64_t w;
        std::memcpy(&w, code + i, 8);  // eight 0/1 bytes -> one byte, the first bit highest
        *o++ = static_cast<std::uint8_t>((w * 0x8040201008040201ULL) >> 56);
      }
    }
    // The rest (the end of the chunk, or other widths): a bit accumulator.
    std::uint64_t acc = 0;
    unsigned bits = 0;
    for (; i < m; ++i) {
      acc = acc << minbits | code[i];
      bits += minbits;
      if (bits >= 8) {
        bits -= 8;
        *o++ = static_cast<std::uint8_t>(acc >> bits);
      }
    }
    if (bits) {
      // Only the chunk's last block can end inside a byte (kBlock * minbits is a multiple of 8).
      *o = static_cast<std::uint8_t>(acc << (8 - bits));
    }
  }
  return stored;
}

}  // namespace

std::vector<std::uint8_t> scaleoffset_encode(const std::uint8_t* values, std::size_t n, const ScaleOffsetParams& p) {
  std::vector<std::uint8_t> out(kHeader + n + 1);
  out.resize(encode_into(values, n, p, out.data()));
  return out;
}

bool scaleoffset_decode(const std::uint8_t* chunk, std::size_t len, std::size_t n, const ScaleOffsetParams& p,
                        std::uint8_t* out) {
  if (len < kHeader) return false;
  std::uint32_t minbits = 0;
  for (unsigned k = 0; k < 4; ++k) minbits |= static_cast<std::uint32_t>(chunk[k]) << (8 * k);
  const unsigned minval_size = chunk[4] < 8 ? chunk[4] : 8;
  std::uint64_t minval = 0;
  for (unsigned k = 0; k < minval_size; ++k) minval |= static_cast<std::uint64_t>(chunk[5 + k]) << (8 * k);
  if (minbits > 8) return false;
  const std::uint8_t* body = chunk + kHeader;
  if (minbits == 8) {
    if (len < kHeader + n) return false;
    std::memcpy(out, body, n);
    return true;
  }
  if (len < kHeader + (n * minbits + 7) / 8) return false;
  // Value of each code: the fill value for all ones (when defined), else code + minval.
  const auto mask = static_cast<unsigned>((1u << minbits) - 1);
  std::array<std::uint8_t, 256> value{};
  for (unsigned c = 0; c <= mask; ++c) {
    value[c] = p.fill_defined && c == mask ? p.fill : static_cast<std::uint8_t>(c + minval);
  }
  if (minbits == 0) {
    std::memset(out, value[0], n);
    return true;
  }
  std::size_t i = 0, j = 0;
  if (minbits == 2) {
    std::array<std::uint32_t, 256> quad{};  // one packed byte -> its four values, in memory order
    for (unsigned b = 0; b < 256; ++b) {
      quad[b] = static_cast<std::uint32_t>(value[b >> 6]) | static_cast<std::uint32_t>(value[(b >> 4) & 3]) << 8 |
                static_cast<std::uint32_t>(value[(b >> 2) & 3]) << 16 | static_cast<std::uint32_t>(value[b & 3]) << 24;
    }
    for (; i + 4 <= n; i += 4, ++j) std::memcpy(out + i, &quad[body[j]], 4);
  }
  std::uint64_t acc = 0;
  unsigned bits = 0;
  for (; i < n; ++i) {
    while (bits < minbits) {
      acc = acc << 8 | body[j++];
      bits += 8;
    }
    bits -= minbits;
    out[i] = value[(acc >> bits) & mask];
  }
  return true;
}

namespace {

// cd_values of the scale-offset filter (libhdf5's H5Z_SCALEOFFSET_PARM_*).
enum : unsigned { kScaleType, kScaleFactor, kNelmts, kClass, kSize, kSign, kOrder, kFillAvail, kFillValue, kNParms = 20 };

H5Z_func_t g_builtin = nullptr;

size_t fast_filter(unsigned flags, size_t cd_nelmts, const unsigned cd[], size_t nbytes, size_t* buf_size, void** buf) {
  const bool ours = cd_nelmts == kNParms && cd[kScaleType] == H5Z_SO_INT && static_cast<int>(cd[kScaleFactor]) <= 0 &&
                    cd[kClass] == 0 /* integer */ && cd[kSize] == 1;
  if (!ours) return g_builtin(flags, cd_nelmts, cd, nbytes, buf_size, buf);
  const std::size_t n = cd[kNelmts];
  const ScaleOffsetParams p{cd[kSign] == 1, cd[kFillAvail] == 1, static_cast<std::uint8_t>(cd[kFillValue] & 0xff)};
  auto* in = static_cast<const std::uint8_t*>(*buf);
  if (flags & H5Z_FLAG_REVERSE) {
    auto* out = static_cast<std::uint8_t*>(H5allocate_memory(n ? n : 1, false));
    if (!out) return 0;
    if (!scaleoffset_decode(in, nbytes, n, p, out)) {
      H5free_memory(out);
      return 0;
    }
    H5free_memory(*buf);
    *buf = out;
    *buf_size = n;
    return n;
  }
  if (nbytes != n) return g_builtin(flags, cd_nelmts, cd, nbytes, buf_size, buf);
  const std::size_t room = kHeader + n + 1;
  auto* out = static_cast<std::uint8_t*>(H5allocate_memory(room, false));
  if (!out) return 0;
  const std::size_t stored = encode_into(in, n, p, out);
  H5free_memory(*buf);
  *buf = out;
  *buf_size = room;
  return stored;
}

bool install() {
  if (const char* e = std::getenv("GENOFOREST_H5_BUILTIN_SCALEOFFSET"); e && std::string_view(e) == "1") return false;
  if (H5open() < 0) return false;
  unsigned major = 0, minor = 0, release = 0;
  if (H5get_libversion(&major, &minor, &release) < 0 || major != 1 || minor < 10 || minor > 14) return false;
  using FindFn = H5Z_class2_t* (*)(H5Z_filter_t);
  auto find = reinterpret_cast<FindFn>(dlsym(RTLD_DEFAULT, "H5Z_find"));
  if (!find) return false;
  H5Z_class2_t* cls = find(H5Z_FILTER_SCALEOFFSET);
  if (!cls || cls->version != H5Z_CLASS_T_VERS || cls->id != H5Z_FILTER_SCALEOFFSET || !cls->filter || !cls->name ||
      std::string_view(cls->name) != "scaleoffset") {
    return false;
  }
  g_builtin = cls->filter;
  cls->filter = fast_filter;
  return true;
}

}  // namespace

bool scaleoffset_header(const std::uint8_t* chunk, std::size_t len, ScaleOffsetHeader& h) {
  if (len < kHeader) return false;
  h.minbits = 0;
  for (unsigned k = 0; k < 4; ++k) h.minbits |= static_cast<unsigned>(chunk[k]) << (8 * k);
  const unsigned minval_size = chunk[4] < 8 ? chunk[4] : 8;
  h.minval = 0;
  for (unsigned k = 0; k < minval_size; ++k) h.minval |= static_cast<std::uint64_t>(chunk[5 + k]) << (8 * k);
  return true;
}

namespace {
using Fletcher32Fn = std::uint32_t (*)(const void*, std::size_t);
Fletcher32Fn fletcher32() {
  static const auto fn = reinterpret_cast<Fletcher32Fn>(dlsym(RTLD_DEFAULT, "H5_checksum_fletcher32"));
  return fn;
}
}  // namespace

DirectChunkReader::DirectChunkReader(hid_t dataset) : dataset_(dataset) {
  if (!fletcher32()) return;
  const hid_t type = H5Dget_type(dataset);
  const bool byte_int = type >= 0 && H5Tget_class(type) == H5T_INTEGER && H5Tget_size(type) == 1;
  const bool is_signed = type >= 0 && H5Tget_sign(type) == H5T_SGN_2;
  if (type >= 0) H5Tclose(type);
  const hid_t space = H5Dget_space(dataset);
  const bool two_d = space >= 0 && H5Sget_simple_extent_ndims(space) == 2;
  if (space >= 0) H5Sclose(space);
  const hid_t dcpl = H5Dget_create_plist(dataset);
  if (dcpl < 0) return;
  hsize_t chunk[2] = {0, 0};
  bool ok = byte_int && two_d && H5Pget_layout(dcpl) == H5D_CHUNKED && H5Pget_chunk(dcpl, 2, chunk) == 2 &&
            H5Pget_nfilters(dcpl) == 2;
  unsigned cd[kNParms] = {};
  if (ok) {
    unsigned flags = 0;
    std::size_t n_cd = kNParms;
    ok = H5Pget_filter2(dcpl, 0, &flags, &n_cd, cd, 0, nullptr, nullptr) == H5Z_FILTER_SCALEOFFSET && n_cd == kNParms &&
         cd[kScaleType] == H5Z_SO_INT && static_cast<int>(cd[kScaleFactor]) <= 0 && cd[kSize] == 1;
    std::size_t n_cd2 = 0;
    ok = ok && H5Pget_filter2(dcpl, 1, &flags, &n_cd2, nullptr, 0, nullptr, nullptr) == H5Z_FILTER_FLETCHER32;
  }
  H5Pclose(dcpl);
  if (!ok) return;
  rows_ = chunk[0];
  cols_ = chunk[1];
  params_ = ScaleOffsetParams{is_signed, cd[kFillAvail] == 1, static_cast<std::uint8_t>(cd[kFillValue] & 0xff)};
  usable_ = rows_ > 0 && cols_ > 0;
}

const std::uint8_t* DirectChunkReader::read(std::uint64_t row0, std::uint64_t col0, std::size_t& len) {
  if (!usable_) return nullptr;
  const hsize_t offset[2] = {row0, col0};
  hsize_t stored = 0;
  // A failing call (an unallocated chunk) is left for the caller's read through HDF5 to report.
  H5E_auto2_t func = nullptr;
  void* data = nullptr;
  H5Eget_auto2(H5E_DEFAULT, &func, &data);
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  std::uint32_t mask = 0;
  bool ok = H5Dget_chunk_storage_size(dataset_, offset, &stored) >= 0 && stored > 4;
  if (ok) {
    raw_.resize(stored);
    ok = H5Dread_chunk(dataset_, H5P_DEFAULT, offset, &mask, raw_.data()) >= 0 && mask == 0;
  }
  H5Eclear2(H5E_DEFAULT);
  H5Eset_auto2(H5E_DEFAULT, func, data);
  if (!ok) return nullptr;
  // Fletcher32 (libhdf5's H5Z_filter_fletcher32): the checksum of the rest, little-endian, last;
  // files of HDF5 before 1.6.3 hold it with the bytes of each half swapped.
  const std::size_t body = stored - 4;
  std::uint32_t want = 0;
  for (unsigned k = 0; k < 4; ++k) want |= static_cast<std::uint32_t>(raw_[body + k]) << (8 * k);
  const std::uint32_t got = fletcher32()(raw_.data(), body);
  const std::uint32_t swapped = ((got & 0x00ff00ffu) << 8) | ((got & 0xff00ff00u) >> 8);
  if (want != got && want != swapped) return nullptr;
  len = body;
  return raw_.data();
}

bool install_scaleoffset_codec() {
  static const bool installed = install();
  return installed;
}

}  // namespace genoforest::io::h5
