#pragma once
/// @file store.hpp
/// The feature store: the HDF5 file `genoforest features` writes and later stages read.
/// Every name, type and shape of the schema is defined here, once; docs/feature-store.md
/// documents it for readers without our code (h5py, h5dump).
#include <hdf5.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "genoforest/features/sample_stats.hpp"
#include "genoforest/features/site.hpp"
#include "genoforest/io/h5.hpp"
#include "genoforest/io/phenotype.hpp"

namespace genoforest::features {

namespace schema {
inline constexpr const char* kFormat = "genoforest.features";
inline constexpr std::int64_t kVersion = 1;
inline constexpr const char* kDosage = "genotypes/dosage";  ///< int8 [samples x variants]
inline constexpr const char* kSampleStats = "sample_stats";
inline constexpr const char* kWindowMean = "sample_stats/window_mean";  ///< float32 [samples x windows]
inline constexpr const char* kWindowVar = "sample_stats/window_var";    ///< float32 [samples x windows]
/// int64 [samples] counts, in this order (see sample_stats.hpp for their meaning).
inline constexpr const char* kCountNames[] = {"n_called", "n_missing", "n_hom_ref", "n_het", "n_hom_alt",
                                              "n_snv", "n_indel", "n_transitions", "n_transversions"};
inline constexpr const char* kTiTv = "sample_stats/titv";  ///< float64 [samples]
inline constexpr const char* kCovariates = "covariates";
inline constexpr const char* kCovariateValues = "covariates/values";  ///< float64 [samples x covariates]; NaN missing
inline constexpr const char* kCovariateNames = "covariates/names";    ///< strings [covariates]
}  // namespace schema

/// Chunk shape and compression of the dosage matrix: square-ish chunks so that one sample's row
/// and one variant's column both touch few chunks.
struct StoreLayout {
  std::int64_t chunk_samples = 512;
  std::int64_t chunk_variants = 1024;
  int compression = 0;  ///< deflate level 0-9 after the 2-bit scale-offset packing (0: none)
  void validate() const;
};

/// Provenance recorded in /provenance (attributes).
struct Provenance {
  std::string command_line;
  std::string created;  ///< ISO 8601 UTC
  std::string filters;
  std::vector<std::string> inputs;  ///< "path\tsize\tmd5"
  std::string regions;              ///< requested regions, or "all"
  std::int64_t window_size = 0;
};

/// Creates the dosage dataset (0 columns, extendible) in an open file; collective in parallel.
[[nodiscard]] io::h5::Hid create_dosage_dataset(hid_t file, std::int64_t n_samples, const StoreLayout& layout);

/// Writes the small tables (variants, samples, labels, windows) and the attributes of a store, from
/// one process, into a file opened serially.
void write_store_metadata(hid_t file, const std::vector<VariantRow>& variants, const std::vector<std::string>& samples,
                          const io::EncodedLabels* labels, const WindowTable& windows, const Provenance& prov);

/// Writes /covariates (values aligned to the store's samples, names, the table's path), serially.
void write_covariates(hid_t file, const io::AlignedCovariates& covariates, const std::string& source);

/// A store's covariates: name and value per store row (none when it has no /covariates).
[[nodiscard]] std::vector<std::pair<std::string, std::vector<double>>> read_covariates(hid_t file);

/// A read-only view of a store for later stages and tests (serial).
class StoreReader {
 public:
  explicit StoreReader(const std::filesystem::path& path);
  [[nodiscard]] hid_t file() const noexcept { return file_.get(); }
  [[nodiscard]] std::int64_t n_samples() const noexcept { return n_samples_; }
  [[nodiscard]] std::int64_t n_variants() const noexcept { return n_variants_; }
  [[nodiscard]] std::vector<std::string> samples() const;
  /// Dosages of samples [row0, row0+n) over all variants, row-major.
  [[nodiscard]] std::vector<std::int8_t> rows(std::int64_t row0, std::int64_t n) const;
  /// Dosages of variant column `col` for all samples.
  [[nodiscard]] std::vector<std::int8_t> column(std::int64_t col) const;

 private:
  std::filesystem::path path_;
  io::h5::Hid file_;
  std::int64_t n_samples_ = 0;
  std::int64_t n_variants_ = 0;
};

}  // namespace genoforest::features
