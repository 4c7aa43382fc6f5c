#pragma once
/// @file scaleoffset.hpp
/// A fast codec for HDF5's built-in scale-offset filter (H5Z_FILTER_SCALEOFFSET, integer mode),
/// byte for byte the format libhdf5 writes, for 1-byte integers: the dosage matrix of the feature
/// store. libhdf5's own codec moves one bit at a time and took a third of `features`' time.
///
/// Format of one filtered chunk of n values (libhdf5's H5Zscaleoffset.c): a 21-byte header
/// (minbits as 4 bytes little-endian, the byte 8, minval as 8 bytes little-endian, 8 zero bytes),
/// then each value's code in minbits bits, most significant bit first, packed without gaps.
/// Codes are value − min; with a fill value defined, the fill value is the all-ones code and
/// min/max ignore it. minbits = ⌈log2(span + 1)⌉ with a fill value, ⌈log2(span)⌉ without,
/// span = max − min + 1; minbits = 8 stores the bytes as they are.
#include <hdf5.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace genoforest::io::h5 {

/// Parameters of the filter for one dataset of 1-byte integers.
struct ScaleOffsetParams {
  bool is_signed = true;
  bool fill_defined = false;
  std::uint8_t fill = 0;  ///< the fill value's byte
};

/// Encodes n values as libhdf5 does. The result's size is what HDF5 stores for the chunk.
[[nodiscard]] std::vector<std::uint8_t> scaleoffset_encode(const std::uint8_t* values, std::size_t n,
                                                           const ScaleOffsetParams& p);

/// Decodes a chunk of `len` bytes into n values. Returns false for a chunk too short for its
/// header's minbits, or with minbits above 8.
[[nodiscard]] bool scaleoffset_decode(const std::uint8_t* chunk, std::size_t len, std::size_t n,
                                      const ScaleOffsetParams& p, std::uint8_t* out);

/// Routes libhdf5's scale-offset filter through the codec above for 1-byte integer datasets
/// (other datasets keep libhdf5's own code). Files stay standard: any HDF5 reader decodes them.
/// libhdf5 has no public call to replace a built-in filter, so this goes through its exported
/// internal H5Z_find(), checked at run time; when absent or of another layout, or when the
/// environment sets GENOFOREST_H5_BUILTIN_SCALEOFFSET=1, libhdf5's codec stays. Idempotent.
/// Returns whether the fast codec is in use.
bool install_scaleoffset_codec();

/// Reads whole chunks of a 2-D dataset of 1-byte integers straight from the file
/// (H5Dread_chunk), with no HDF5 filter pipeline, chunk cache or copy into a selection, for a
/// caller that decodes the scale-offset stream itself (the forest's load turns its 2-bit codes
/// into the matrix's 2-bit columns without expanding them to bytes). Usable only for the pipeline
/// the feature store writes: scale-offset (integer) then Fletcher32, nothing else; the checksum is
/// verified with libhdf5's own function. A chunk it cannot take (an unallocated one, a skipped
/// filter, a failed checksum) gives nullptr: the caller then reads through HDF5, which decodes it
/// or reports the error in its usual words.
class DirectChunkReader {
 public:
  explicit DirectChunkReader(hid_t dataset);
  [[nodiscard]] bool usable() const noexcept { return usable_; }
  [[nodiscard]] std::uint64_t chunk_rows() const noexcept { return rows_; }
  [[nodiscard]] std::uint64_t chunk_cols() const noexcept { return cols_; }
  [[nodiscard]] const ScaleOffsetParams& params() const noexcept { return params_; }
  /// The scale-offset stream (21-byte header, then the codes) of the chunk whose first element
  /// is (row0, col0), checksum verified and removed: `len` bytes, valid until the next call.
  [[nodiscard]] const std::uint8_t* read(std::uint64_t row0, std::uint64_t col0, std::size_t& len);

 private:
  hid_t dataset_;
  bool usable_ = false;
  std::uint64_t rows_ = 0, cols_ = 0;
  ScaleOffsetParams params_;
  std::vector<std::uint8_t> raw_;
};

/// The header of a scale-offset stream: bits per code and the minimum (the code 0's value).
struct ScaleOffsetHeader {
  unsigned minbits = 0;
  std::uint64_t minval = 0;
};
/// False for a stream shorter than its header.
[[nodiscard]] bool scaleoffset_header(const std::uint8_t* chunk, std::size_t len, ScaleOffsetHeader& h);

}  // namespace genoforest::io::h5
