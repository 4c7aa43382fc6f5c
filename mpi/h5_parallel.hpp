#pragma once
/// @file h5_parallel.hpp
/// Parallel HDF5 (MPI-IO driver) file access and transfer properties.
#include "comm.hpp"
#include "genoforest/io/h5.hpp"

#include <filesystem>

namespace genoforest::mpi {

/// Creates (truncating) `path` for collective access by every rank of `comm`. Collective.
[[nodiscard]] io::h5::Hid create_parallel_file(const Comm& comm, const std::filesystem::path& path);
/// Opens `path` read-only for every rank of `comm`. Collective.
[[nodiscard]] io::h5::Hid open_parallel_file(const Comm& comm, const std::filesystem::path& path);
/// Transfer properties for collective I/O (required for writes to compressed datasets).
[[nodiscard]] io::h5::Hid collective_transfer();
/// True if HDF5 performed the last H5Dwrite/H5Dread with `dxpl` collectively.
[[nodiscard]] bool last_io_was_collective(hid_t dxpl);

}  // namespace genoforest::mpi
