#include "h5_parallel.hpp"

namespace genoforest::mpi {

using io::h5::Hid;
using io::h5::check;

namespace {
Hid mpio_fapl(const Comm& comm) {
  Hid fapl(H5Pcreate(H5P_FILE_ACCESS), "cannot create file access properties");
  MPI_Info info = MPI_INFO_NULL;
  check(H5Pset_fapl_mpio(fapl, comm.get(), info), "cannot select the MPI-IO driver");
  check(H5Pset_all_coll_metadata_ops(fapl, true), "cannot set collective metadata reads");
  check(H5Pset_coll_metadata_write(fapl, true), "cannot set collective metadata writes");
  return fapl;
}
}  // namespace

Hid create_parallel_file(const Comm& comm, const std::filesystem::path& path) {
  Hid fapl = mpio_fapl(comm);
  return Hid(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl), "cannot create " + path.string());
}

Hid open_parallel_file(const Comm& comm, const std::filesystem::path& path) {
  Hid fapl = mpio_fapl(comm);
  return Hid(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl), "cannot open " + path.string());
}

Hid collective_transfer() {
  Hid dxpl(H5Pcreate(H5P_DATASET_XFER), "cannot create transfer properties");
  check(H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE), "cannot set collective transfer");
  return dxpl;
}

bool last_io_was_collective(hid_t dxpl) {
  H5D_mpio_actual_io_mode_t mode;
  if (H5Pget_mpio_actual_io_mode(dxpl, &mode) < 0) return false;
  return mode != H5D_MPIO_NO_COLLECTIVE;
}

}  // namespace genoforest::mpi
