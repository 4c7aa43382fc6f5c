# Finds every third-party dependency and fails with one clear message naming the Debian package
# (scripts/install-deps.sh installs them all).

macro(gf_require found what package)
  if(NOT ${found})
    message(FATAL_ERROR
      "genoforest: ${what} was not found. Install it with scripts/install-deps.sh "
      "(Debian package: ${package}).")
  endif()
endmacro()

find_package(PkgConfig QUIET)
gf_require(PKG_CONFIG_FOUND "pkg-config" "pkg-config")

find_package(MPI COMPONENTS C CXX QUIET)
gf_require(MPI_CXX_FOUND "MPI (C++ bindings)" "libopenmpi-dev openmpi-bin")

# Parallel HDF5. Debian ships it as hdf5-openmpi.pc; the serial build would silently lose
# parallel I/O, so check H5_HAVE_PARALLEL in the headers we actually compile against.
pkg_check_modules(GF_HDF5 QUIET IMPORTED_TARGET hdf5-openmpi)
if(NOT GF_HDF5_FOUND)
  pkg_check_modules(GF_HDF5 QUIET IMPORTED_TARGET hdf5-mpi)
endif()
gf_require(GF_HDF5_FOUND "parallel HDF5 (hdf5-openmpi.pc)" "libhdf5-openmpi-dev")
find_file(GF_H5PUBCONF H5pubconf.h PATHS ${GF_HDF5_INCLUDE_DIRS} NO_DEFAULT_PATH)
if(NOT GF_H5PUBCONF)
  message(FATAL_ERROR "genoforest: H5pubconf.h not found in ${GF_HDF5_INCLUDE_DIRS}")
endif()
file(STRINGS ${GF_H5PUBCONF} GF_H5_PARALLEL REGEX "^#define H5_HAVE_PARALLEL 1")
if(NOT GF_H5_PARALLEL)
  message(FATAL_ERROR
    "genoforest: the HDF5 found (${GF_H5PUBCONF}) is the serial build; genoforest needs parallel "
    "HDF5 built with MPI. Install libhdf5-openmpi-dev (scripts/install-deps.sh).")
endif()
add_library(GF::hdf5 ALIAS PkgConfig::GF_HDF5)

pkg_check_modules(GF_HTSLIB QUIET IMPORTED_TARGET htslib>=1.13)
gf_require(GF_HTSLIB_FOUND "htslib >= 1.13" "libhts-dev")
add_library(GF::htslib ALIAS PkgConfig::GF_HTSLIB)

# align's BGZF writer: ISA-L's igzip at the fast levels, libdeflate (htslib's own) at the others.
pkg_check_modules(GF_ISAL QUIET IMPORTED_TARGET libisal)
gf_require(GF_ISAL_FOUND "ISA-L (libisal)" "libisal-dev")
add_library(GF::isal ALIAS PkgConfig::GF_ISAL)
pkg_check_modules(GF_DEFLATE QUIET IMPORTED_TARGET libdeflate)
gf_require(GF_DEFLATE_FOUND "libdeflate" "libdeflate-dev")
add_library(GF::deflate ALIAS PkgConfig::GF_DEFLATE)

# bwa ships a static library and its headers (include them as <bwa/...>: its kseq.h, khash.h and
# kstring.h must never shadow htslib's).
find_library(GF_BWA_LIBRARY NAMES libbwa.a bwa PATHS /usr/lib /usr/local/lib)
find_path(GF_BWA_INCLUDE bwa/bwamem.h)
if(NOT GF_BWA_LIBRARY OR NOT GF_BWA_INCLUDE)
  set(GF_BWA_FOUND FALSE)
else()
  set(GF_BWA_FOUND TRUE)
endif()
gf_require(GF_BWA_FOUND "the bwa library (libbwa.a, bwa/bwamem.h)" "libbwa-dev")
add_library(GF::bwa STATIC IMPORTED)
set_target_properties(GF::bwa PROPERTIES IMPORTED_LOCATION ${GF_BWA_LIBRARY}
                      INTERFACE_INCLUDE_DIRECTORIES ${GF_BWA_INCLUDE})
find_package(Threads REQUIRED)

find_package(Eigen3 3.3 QUIET NO_MODULE)
gf_require(Eigen3_FOUND "Eigen3" "libeigen3-dev")

find_package(Boost 1.74 QUIET COMPONENTS program_options serialization)
gf_require(Boost_FOUND "Boost.Program_options and Boost.Serialization" "libboost-program-options-dev libboost-serialization-dev")

find_package(nlohmann_json 3 QUIET)
gf_require(nlohmann_json_FOUND "nlohmann/json" "nlohmann-json3-dev")

# The plotting library `genoforest report` inlines (Vega, Vega-Lite), fetched from npm with pinned
# checksums by scripts/fetch-js.sh (which scripts/install-deps.sh runs) and embedded in the binary.
set(GF_JS_DIR ${CMAKE_SOURCE_DIR}/third_party/js)
set(GF_JS_FILES vega.min.js vega-lite.min.js vega.LICENSE vega-lite.LICENSE vega.version vega-lite.version)
foreach(f ${GF_JS_FILES})
  if(NOT EXISTS ${GF_JS_DIR}/${f})
    message(FATAL_ERROR "genoforest: ${GF_JS_DIR}/${f} is missing: the report's plotting library (Vega, Vega-Lite) "
                        "is fetched by scripts/install-deps.sh (scripts/fetch-js.sh).")
  endif()
  list(APPEND GF_JS_PATHS ${GF_JS_DIR}/${f})
endforeach()

find_package(ZLIB QUIET)
gf_require(ZLIB_FOUND "zlib" "zlib1g-dev")

if(GENOFOREST_BUILD_TESTS)
  find_package(GTest QUIET)
  gf_require(GTest_FOUND "GoogleTest" "libgtest-dev")
  find_program(GF_MPIEXEC NAMES mpiexec mpirun HINTS ${MPI_CXX_COMPILER_DIR})
  gf_require(GF_MPIEXEC "mpiexec" "openmpi-bin")
  find_program(GF_H5DIFF h5diff)
  gf_require(GF_H5DIFF "h5diff" "hdf5-tools")
endif()
