#pragma once
/// @file h5.hpp
/// Checked RAII access to the HDF5 C API (after HighFive's wrappers): every call that can fail is
/// checked, and a failure throws IoError carrying our text plus HDF5's own error stack. HDF5's
/// automatic stack printing is muted (mute_hdf5_errors). No MPI here: parallel file access
/// properties are made in mpi/.
#include <hdf5.h>

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

namespace genoforest::io::h5 {

/// Turns off HDF5's printing of error stacks; our exceptions carry them instead. Call once.
void mute_hdf5_errors();

/// Throws IoError: `what`, then HDF5's innermost error description.
[[noreturn]] void fail(const std::string& what);

/// An owned HDF5 identifier, closed with the right H5*close for its type. Move-only.
class Hid {
 public:
  Hid() = default;
  /// Takes ownership of `id`; throws IoError(`what`) when id < 0.
  Hid(hid_t id, const std::string& what);
  ~Hid();
  Hid(Hid&& o) noexcept : id_(o.id_) { o.id_ = H5I_INVALID_HID; }
  Hid& operator=(Hid&& o) noexcept;
  Hid(const Hid&) = delete;
  Hid& operator=(const Hid&) = delete;

  [[nodiscard]] hid_t get() const noexcept { return id_; }
  operator hid_t() const noexcept { return id_; }  // NOLINT: used as a handle
  /// Closes now and throws IoError(`what`) if HDF5 reports an error (a file's close is where
  /// write errors appear).
  void close(const std::string& what);
  /// Lets go of the handle without closing it. For a parallel file after a failed write: its
  /// ranks' metadata caches then differ, and closing it (a collective flush) would hang or crash;
  /// the process ends with the file open (see disable_hdf5_atexit), and the temporary is removed.
  void abandon() noexcept;

 private:
  hid_t id_ = H5I_INVALID_HID;
};

/// Stops HDF5 from closing the files left open at process exit (an abandoned parallel file would
/// make that close hang). Call before any other HDF5 call.
void disable_hdf5_atexit();

/// Whether this process let go of an open handle (Hid::abandon). Then it must end without
/// MPI_Finalize, where parallel HDF5 closes every open file (and would hang on that one).
[[nodiscard]] bool handles_abandoned() noexcept;

/// Checks an herr_t: throws IoError(`what`) when negative.
inline void check(herr_t status, const std::string& what) {
  if (status < 0) fail(what);
}

/// The native HDF5 type of T (int8..int64, uint8..uint64, float, double).
template <class T>
[[nodiscard]] hid_t native_type();

/// A variable-length UTF-8 string type (owned).
[[nodiscard]] Hid string_type();

Hid open_group(hid_t loc, const std::string& name);
Hid create_group(hid_t loc, const std::string& name);
[[nodiscard]] bool exists(hid_t loc, const std::string& path);

// ---- attributes -----------------------------------------------------------------------------
void write_attr(hid_t loc, const std::string& name, const std::string& value);
void write_attr(hid_t loc, const std::string& name, std::int64_t value);
void write_attr(hid_t loc, const std::string& name, double value);
void write_attr(hid_t loc, const std::string& name, const std::vector<std::string>& values);
[[nodiscard]] std::string read_attr_string(hid_t loc, const std::string& name);
[[nodiscard]] std::int64_t read_attr_int(hid_t loc, const std::string& name);
[[nodiscard]] double read_attr_double(hid_t loc, const std::string& name);

// ---- whole 1-D datasets (serial access, or one writer) -----------------------------------------
/// Writes a 1-D dataset of numbers, contiguous when small, else chunked and deflated.
template <class T>
void write_vector(hid_t loc, const std::string& name, const std::vector<T>& values);
/// Writes a 1-D dataset of variable-length UTF-8 strings.
void write_strings(hid_t loc, const std::string& name, const std::vector<std::string>& values);
/// Writes an N-dimensional dataset of shape `dims` (row-major `data`), chunked and deflated (level
/// 4) when it holds more than 64 Ki values, with HDF5's Fletcher32 checksum.
template <class T>
void write_array(hid_t loc, const std::string& name, const std::vector<hsize_t>& dims, const T* data);
template <class T>
[[nodiscard]] std::vector<T> read_vector(hid_t loc, const std::string& name);
[[nodiscard]] std::vector<std::string> read_strings(hid_t loc, const std::string& name);
/// Dimensions of a dataset.
[[nodiscard]] std::vector<hsize_t> dims(hid_t loc, const std::string& name);

/// Reads the 2-D hyperslab [row0, row0+nrows) x [col0, col0+ncols) of an int8/float dataset into
/// `out` (row-major), using the default transfer properties or `dxpl`.
template <class T>
void read_block(hid_t dataset, hsize_t row0, hsize_t nrows, hsize_t col0, hsize_t ncols, T* out,
                hid_t dxpl = H5P_DEFAULT);

}  // namespace genoforest::io::h5
