#include "genoforest/io/h5.hpp"

#include <atomic>
#include <cerrno>
#include <algorithm>
#include <cstring>

#include "genoforest/core/error.hpp"

namespace genoforest::io::h5 {

void mute_hdf5_errors() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

namespace {
struct Stack {
  std::string innermost;
  bool checksum = false;  // a filtered chunk failed its Fletcher32 checksum
};
herr_t walk(unsigned n, const H5E_error2_t* e, void* data) {
  auto* out = static_cast<Stack*>(data);
  if (n == 0 && e->desc) out->innermost = e->desc;
  if (e->desc && std::strstr(e->desc, "Fletcher32")) out->checksum = true;
  return 0;
}
}  // namespace

void fail(const std::string& what) {
  // HDF5's messages do not say why a write failed; the system's reason is in errno.
  const int err = errno;
  const bool system = err == ENOSPC || err == EDQUOT || err == EIO || err == EFBIG || err == EROFS;
  Stack stack;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, walk, &stack);
  H5Eclear2(H5E_DEFAULT);
  if (stack.checksum) {
    throw InputError(what, "a stored chunk fails its Fletcher32 checksum: the file is damaged "
                           "(copy it again, or write it again with 'genoforest features')");
  }
  const std::string& detail = stack.innermost;
  throw IoError(what + (system ? ": " + std::string(std::strerror(err)) : "") +
                (detail.empty() ? "" : " (HDF5: " + detail + ")"));
}

Hid::Hid(hid_t id, const std::string& what) : id_(id) {
  if (id < 0) fail(what);
}

namespace {
herr_t close_id(hid_t id) {
  switch (H5Iget_type(id)) {
    case H5I_FILE: return H5Fclose(id);
    case H5I_GROUP: return H5Gclose(id);
    case H5I_DATASET: return H5Dclose(id);
    case H5I_DATASPACE: return H5Sclose(id);
    case H5I_DATATYPE: return H5Tclose(id);
    case H5I_ATTR: return H5Aclose(id);
    case H5I_GENPROP_LST: return H5Pclose(id);
    default: return H5Idec_ref(id);
  }
}
}  // namespace

void disable_hdf5_atexit() { H5dont_atexit(); }

namespace {
// Process state, as HDF5's own library state is: set once a handle was let go of.
std::atomic<bool> abandoned{false};
}  // namespace

void Hid::abandon() noexcept {
  if (id_ >= 0) abandoned = true;
  id_ = H5I_INVALID_HID;
}

bool handles_abandoned() noexcept { return abandoned; }

Hid::~Hid() {
  if (id_ >= 0) close_id(id_);  // errors already reported by an explicit close(); never throw
}

Hid& Hid::operator=(Hid&& o) noexcept {
  if (this != &o) {
    if (id_ >= 0) close_id(id_);
    id_ = o.id_;
    o.id_ = H5I_INVALID_HID;
  }
  return *this;
}

void Hid::close(const std::string& what) {
  if (id_ < 0) return;
  const hid_t id = id_;
  id_ = H5I_INVALID_HID;
  if (close_id(id) < 0) fail(what);
}

template <> hid_t native_type<std::int8_t>() { return H5T_NATIVE_INT8; }
template <> hid_t native_type<std::int16_t>() { return H5T_NATIVE_INT16; }
template <> hid_t native_type<std::int32_t>() { return H5T_NATIVE_INT32; }
template <> hid_t native_type<std::int64_t>() { return H5T_NATIVE_INT64; }
template <> hid_t native_type<std::uint8_t>() { return H5T_NATIVE_UINT8; }
template <> hid_t native_type<std::uint32_t>() { return H5T_NATIVE_UINT32; }
template <> hid_t native_type<std::uint64_t>() { return H5T_NATIVE_UINT64; }
template <> hid_t native_type<float>() { return H5T_NATIVE_FLOAT; }
template <> hid_t native_type<double>() { return H5T_NATIVE_DOUBLE; }

Hid string_type() {
  Hid t(H5Tcopy(H5T_C_S1), "cannot create a string type");
  check(H5Tset_size(t, H5T_VARIABLE), "cannot size a string type");
  check(H5Tset_cset(t, H5T_CSET_UTF8), "cannot set a string type's character set");
  return t;
}

Hid open_group(hid_t loc, const std::string& name) {
  return Hid(H5Gopen2(loc, name.c_str(), H5P_DEFAULT), "cannot open HDF5 group " + name);
}
Hid create_group(hid_t loc, const std::string& name) {
  return Hid(H5Gcreate2(loc, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), "cannot create HDF5 group " + name);
}

bool exists(hid_t loc, const std::string& path) {
  // Check each component, as H5Lexists requires.
  std::string prefix;
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t slash = path.find('/', start);
    const std::string part = path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (!part.empty()) {
      prefix += (prefix.empty() ? "" : "/") + part;
      const htri_t e = H5Lexists(loc, prefix.c_str(), H5P_DEFAULT);
      if (e <= 0) return false;
    }
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return true;
}

namespace {
template <class T>
void write_scalar_attr(hid_t loc, const std::string& name, hid_t type, const T& value) {
  if (H5Aexists(loc, name.c_str()) > 0) check(H5Adelete(loc, name.c_str()), "cannot replace attribute " + name);
  Hid space(H5Screate(H5S_SCALAR), "cannot create a dataspace");
  Hid a(H5Acreate2(loc, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT), "cannot create attribute " + name);
  check(H5Awrite(a, type, &value), "cannot write attribute " + name);
}
}  // namespace

void write_attr(hid_t loc, const std::string& name, const std::string& value) {
  Hid t = string_type();
  const char* p = value.c_str();
  write_scalar_attr(loc, name, t, p);
}
void write_attr(hid_t loc, const std::string& name, std::int64_t value) {
  write_scalar_attr(loc, name, H5T_NATIVE_INT64, value);
}
void write_attr(hid_t loc, const std::string& name, double value) {
  write_scalar_attr(loc, name, H5T_NATIVE_DOUBLE, value);
}
void write_attr(hid_t loc, const std::string& name, const std::vector<std::string>& values) {
  if (H5Aexists(loc, name.c_str()) > 0) check(H5Adelete(loc, name.c_str()), "cannot replace attribute " + name);
  Hid t = string_type();
  const hsize_t n = values.size();
  Hid space(H5Screate_simple(1, &n, nullptr), "cannot create a dataspace");
  Hid a(H5Acreate2(loc, name.c_str(), t, space, H5P_DEFAULT, H5P_DEFAULT), "cannot create attribute " + name);
  if (values.empty()) return;  // an empty attribute: nothing to write (HDF5 refuses a null buffer)
  std::vector<const char*> p;
  for (const auto& v : values) p.push_back(v.c_str());
  check(H5Awrite(a, t, p.data()), "cannot write attribute " + name);
}

std::string read_attr_string(hid_t loc, const std::string& name) {
  Hid a(H5Aopen(loc, name.c_str(), H5P_DEFAULT), "cannot open attribute " + name);
  Hid ft(H5Aget_type(a), "cannot read the type of attribute " + name);
  if (H5Tis_variable_str(ft) > 0) {
    Hid t = string_type();
    char* p = nullptr;
    check(H5Aread(a, t, &p), "cannot read attribute " + name);
    std::string s = p ? p : "";
    H5free_memory(p);
    return s;
  }
  const std::size_t n = H5Tget_size(ft);
  std::string s(n, '\0');
  check(H5Aread(a, ft, s.data()), "cannot read attribute " + name);
  return std::string(s.c_str());
}
std::int64_t read_attr_int(hid_t loc, const std::string& name) {
  Hid a(H5Aopen(loc, name.c_str(), H5P_DEFAULT), "cannot open attribute " + name);
  std::int64_t v = 0;
  check(H5Aread(a, H5T_NATIVE_INT64, &v), "cannot read attribute " + name);
  return v;
}
double read_attr_double(hid_t loc, const std::string& name) {
  Hid a(H5Aopen(loc, name.c_str(), H5P_DEFAULT), "cannot open attribute " + name);
  double v = 0;
  check(H5Aread(a, H5T_NATIVE_DOUBLE, &v), "cannot read attribute " + name);
  return v;
}

namespace {
constexpr hsize_t kVectorChunk = 1 << 16;  // elements per chunk of large 1-D datasets

/// `checksum`: Fletcher32 on each chunk (not for variable-length strings, which HDF5 refuses).
Hid vector_dcpl(hsize_t n, bool checksum) {
  Hid dcpl(H5Pcreate(H5P_DATASET_CREATE), "cannot create dataset properties");
  if (n > kVectorChunk) {
    check(H5Pset_chunk(dcpl, 1, &kVectorChunk), "cannot set chunking");
    // Byte shuffle, then the fastest deflate: tables of numbers (positions, frequencies) are
    // written at a fraction of level 4's time; the 2,000 x 100,000 feature store grew 0.6%.
    check(H5Pset_shuffle(dcpl), "cannot set the shuffle filter");
    check(H5Pset_deflate(dcpl, 1), "cannot set compression");
    if (checksum) check(H5Pset_fletcher32(dcpl), "cannot set the Fletcher32 checksum");
  }
  return dcpl;
}
}  // namespace

template <class T>
void write_vector(hid_t loc, const std::string& name, const std::vector<T>& values) {
  const hsize_t n = values.size();
  Hid space(H5Screate_simple(1, &n, nullptr), "cannot create a dataspace for " + name);
  Hid dcpl = vector_dcpl(n, true);
  Hid d(H5Dcreate2(loc, name.c_str(), native_type<T>(), space, H5P_DEFAULT, dcpl, H5P_DEFAULT),
        "cannot create dataset " + name);
  if (n) check(H5Dwrite(d, native_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), "cannot write dataset " + name);
}

void write_strings(hid_t loc, const std::string& name, const std::vector<std::string>& values) {
  const hsize_t n = values.size();
  Hid t = string_type();
  Hid space(H5Screate_simple(1, &n, nullptr), "cannot create a dataspace for " + name);
  Hid dcpl = vector_dcpl(n, false);
  Hid d(H5Dcreate2(loc, name.c_str(), t, space, H5P_DEFAULT, dcpl, H5P_DEFAULT), "cannot create dataset " + name);
  std::vector<const char*> p;
  p.reserve(values.size());
  for (const auto& v : values) p.push_back(v.c_str());
  if (n) check(H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, p.data()), "cannot write dataset " + name);
}

template <class T>
void write_array(hid_t loc, const std::string& name, const std::vector<hsize_t>& dims, const T* data) {
  hsize_t total = 1;
  for (auto d : dims) total *= d;
  Hid space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), "cannot create a dataspace for " + name);
  Hid dcpl(H5Pcreate(H5P_DATASET_CREATE), "cannot create a property list for " + name);
  if (total > 65536 && !dims.empty()) {
    // Chunks of whole trailing dimensions, about 1 MiB each.
    std::vector<hsize_t> chunk(dims);
    hsize_t row = 1;
    for (std::size_t i = 1; i < dims.size(); ++i) row *= dims[i];
    chunk[0] = std::max<hsize_t>(1, std::min<hsize_t>(dims[0], (hsize_t{1} << 20) / sizeof(T) / std::max<hsize_t>(row, 1)));
    check(H5Pset_chunk(dcpl, static_cast<int>(chunk.size()), chunk.data()), "cannot set the chunks of " + name);
    check(H5Pset_fletcher32(dcpl), "cannot set the checksum of " + name);
    check(H5Pset_deflate(dcpl, 4), "cannot set the compression of " + name);
  }
  Hid d(H5Dcreate2(loc, name.c_str(), native_type<T>(), space, H5P_DEFAULT, dcpl, H5P_DEFAULT), "cannot create dataset " + name);
  if (total) check(H5Dwrite(d, native_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, data), "cannot write dataset " + name);
}
template void write_array<float>(hid_t, const std::string&, const std::vector<hsize_t>&, const float*);
template void write_array<double>(hid_t, const std::string&, const std::vector<hsize_t>&, const double*);

std::vector<hsize_t> dims(hid_t loc, const std::string& name) {
  Hid d(H5Dopen2(loc, name.c_str(), H5P_DEFAULT), "cannot open dataset " + name);
  Hid s(H5Dget_space(d), "cannot read the shape of " + name);
  const int rank = H5Sget_simple_extent_ndims(s);
  if (rank < 0) fail("cannot read the shape of " + name);
  std::vector<hsize_t> out(static_cast<std::size_t>(rank));
  H5Sget_simple_extent_dims(s, out.data(), nullptr);
  return out;
}

template <class T>
std::vector<T> read_vector(hid_t loc, const std::string& name) {
  const auto d = dims(loc, name);
  hsize_t n = 1;
  for (auto x : d) n *= x;
  std::vector<T> out(n);
  Hid ds(H5Dopen2(loc, name.c_str(), H5P_DEFAULT), "cannot open dataset " + name);
  if (n) check(H5Dread(ds, native_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()), "cannot read dataset " + name);
  return out;
}

std::vector<std::string> read_strings(hid_t loc, const std::string& name) {
  const auto d = dims(loc, name);
  const hsize_t n = d.empty() ? 0 : d[0];
  Hid ds(H5Dopen2(loc, name.c_str(), H5P_DEFAULT), "cannot open dataset " + name);
  Hid t = string_type();
  std::vector<char*> p(n, nullptr);
  if (n) check(H5Dread(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, p.data()), "cannot read dataset " + name);
  std::vector<std::string> out;
  out.reserve(n);
  for (char* s : p) out.emplace_back(s ? s : "");
  if (n) {
    Hid space(H5Dget_space(ds), "cannot read the shape of " + name);
    H5Dvlen_reclaim(t, space, H5P_DEFAULT, p.data());
  }
  return out;
}

std::string object_name(hid_t obj) {
  std::string file(1024, '\0'), name(1024, '\0');
  const ssize_t nf = H5Fget_name(obj, file.data(), file.size());
  const ssize_t nn = H5Iget_name(obj, name.data(), name.size());
  file.resize(nf > 0 ? std::min<std::size_t>(static_cast<std::size_t>(nf), file.size() - 1) : 0);
  name.resize(nn > 0 ? std::min<std::size_t>(static_cast<std::size_t>(nn), name.size() - 1) : 0);
  H5Eclear2(H5E_DEFAULT);
  return (file.empty() ? std::string("a store") : file) + " dataset " + (name.empty() ? std::string("?") : name);
}

template <class T>
void read_block(hid_t dataset, hsize_t row0, hsize_t nrows, hsize_t col0, hsize_t ncols, T* out, hid_t dxpl) {
  Hid fspace(H5Dget_space(dataset), "cannot read a dataset's shape");
  const hsize_t start[2] = {row0, col0}, count[2] = {nrows, ncols};
  if (nrows == 0 || ncols == 0) {
    check(H5Sselect_none(fspace), "cannot select");
    Hid mspace(H5Screate(H5S_NULL), "cannot create a dataspace");
    check(H5Dread(dataset, native_type<T>(), mspace, fspace, dxpl, out), "cannot read a dataset block");
    return;
  }
  check(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, nullptr, count, nullptr), "cannot select a block");
  Hid mspace(H5Screate_simple(2, count, nullptr), "cannot create a dataspace");
  if (H5Dread(dataset, native_type<T>(), mspace, fspace, dxpl, out) < 0) {
    // Named after the failure only: the names cost a few calls into HDF5.
    const int err = errno;
    Stack stack;  // keep the error stack for fail(): object_name() clears it
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, walk, &stack);
    const hid_t saved = H5Eget_current_stack();
    const std::string where = object_name(dataset) + " rows " + std::to_string(row0 + 1) + "-" +
                              std::to_string(row0 + nrows) + ", columns " + std::to_string(col0 + 1) + "-" +
                              std::to_string(col0 + ncols);
    if (saved >= 0) H5Eset_current_stack(saved);
    errno = err;
    fail(stack.checksum ? where : "cannot read " + where);
  }
}

#define GF_INSTANTIATE(T)                                                                     \
  template void write_vector<T>(hid_t, const std::string&, const std::vector<T>&);            \
  template std::vector<T> read_vector<T>(hid_t, const std::string&);                          \
  template void read_block<T>(hid_t, hsize_t, hsize_t, hsize_t, hsize_t, T*, hid_t);
GF_INSTANTIATE(std::int8_t)
GF_INSTANTIATE(std::int32_t)
GF_INSTANTIATE(std::int64_t)
GF_INSTANTIATE(float)
GF_INSTANTIATE(double)
#undef GF_INSTANTIATE

}  // namespace genoforest::io::h5
