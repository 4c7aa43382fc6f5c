#include "genoforest/features/store.hpp"

#include <unistd.h>

#include <cmath>

#include "genoforest/core/error.hpp"
#include "genoforest/core/version.hpp"

namespace genoforest::features {

using io::h5::Hid;
namespace h5 = io::h5;

void StoreLayout::validate() const {
  if (chunk_samples < 1) throw UsageError("--chunk-samples must be at least 1");
  if (chunk_variants < 1) throw UsageError("--chunk-variants must be at least 1");
  if (chunk_samples * chunk_variants > (std::int64_t{1} << 30)) {
    throw UsageError("--chunk-samples x --chunk-variants must stay under 1 GiB per chunk");
  }
  if (compression < 0 || compression > 9) throw UsageError("--compression must be in 0-9");
}

Hid create_dosage_dataset(hid_t file, std::int64_t n_samples, const StoreLayout& layout) {
  Hid g(H5Gcreate2(file, "genotypes", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), "cannot create group /genotypes");
  const hsize_t dims[2] = {static_cast<hsize_t>(n_samples), 0};
  const hsize_t maxdims[2] = {static_cast<hsize_t>(n_samples), H5S_UNLIMITED};
  const hsize_t chunk[2] = {static_cast<hsize_t>(std::max<std::int64_t>(1, std::min(n_samples, layout.chunk_samples))),
                            static_cast<hsize_t>(layout.chunk_variants)};
  Hid space(H5Screate_simple(2, dims, maxdims), "cannot create the dosage dataspace");
  Hid dcpl(H5Pcreate(H5P_DATASET_CREATE), "cannot create dataset properties");
  h5::check(H5Pset_chunk(dcpl, 2, chunk), "cannot set the dosage chunk shape");
  // Scale-offset packs each chunk's values (-1..2) into 2 bits: 4x smaller, far faster than
  // deflate, and a built-in HDF5 filter that every reader (h5py, h5dump) decodes.
  h5::check(H5Pset_scaleoffset(dcpl, H5Z_SO_INT, H5Z_SO_INT_MINBITS_DEFAULT), "cannot set scale-offset packing");
  if (layout.compression > 0) h5::check(H5Pset_deflate(dcpl, static_cast<unsigned>(layout.compression)), "cannot set compression");
  // Last in the pipeline: a Fletcher32 checksum of each stored chunk, checked by HDF5 on every
  // read (any reader), so that a damaged chunk is an error, never changed dosages.
  h5::check(H5Pset_fletcher32(dcpl), "cannot set the Fletcher32 checksum");
  const std::int8_t fill = kMissingDosage;
  h5::check(H5Pset_fill_value(dcpl, H5T_NATIVE_INT8, &fill), "cannot set the fill value");
  Hid d(H5Dcreate2(file, schema::kDosage, H5T_STD_I8LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT),
        "cannot create dataset /genotypes/dosage");
  return d;
}

void write_covariates(hid_t file, const io::AlignedCovariates& cov, const std::string& source) {
  Hid g = h5::create_group(file, schema::kCovariates);
  const std::size_t k = cov.names.size(), n = k ? cov.values[0].size() : 0;
  std::vector<double> rows(n * k);  // row-major samples x covariates
  for (std::size_t c = 0; c < k; ++c)
    for (std::size_t i = 0; i < n; ++i) rows[i * k + c] = cov.values[c][i];
  const hsize_t dims[2] = {static_cast<hsize_t>(n), static_cast<hsize_t>(k)};
  Hid space(H5Screate_simple(2, dims, nullptr), "cannot create a dataspace");
  Hid d(H5Dcreate2(file, schema::kCovariateValues, H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
        "cannot create /covariates/values");
  if (n * k > 0) h5::check(H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows.data()), "cannot write /covariates/values");
  h5::write_attr(d, "dimensions", std::vector<std::string>{"sample", "covariate"});
  h5::write_attr(d, "missing_value", std::string("NaN"));
  h5::write_strings(g, "names", cov.names);
  h5::write_attr(g, "source", source);
}

std::vector<std::pair<std::string, std::vector<double>>> read_covariates(hid_t file) {
  std::vector<std::pair<std::string, std::vector<double>>> out;
  if (!h5::exists(file, schema::kCovariates)) return out;
  const auto names = h5::read_strings(file, schema::kCovariateNames);
  const auto dims = h5::dims(file, schema::kCovariateValues);
  if (dims.size() != 2 || dims[1] != names.size()) {
    throw InputError(std::string("dataset /") + schema::kCovariateValues, "its shape does not match /covariates/names (damaged store?)");
  }
  const std::size_t n = dims[0], k = dims[1];
  std::vector<double> rows(n * k);
  if (n * k > 0) {
    Hid d(H5Dopen2(file, schema::kCovariateValues, H5P_DEFAULT), "cannot open /covariates/values");
    h5::check(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows.data()), "cannot read /covariates/values");
  }
  for (std::size_t c = 0; c < k; ++c) {
    std::vector<double> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = rows[i * k + c];
    out.emplace_back(names[c], std::move(v));
  }
  return out;
}

void write_store_metadata(hid_t file, const std::vector<VariantRow>& variants, const std::vector<std::string>& samples,
                          const io::EncodedLabels* labels, const WindowTable& windows, const Provenance& prov) {
  h5::write_attr(file, "format", std::string(schema::kFormat));
  h5::write_attr(file, "schema_version", schema::kVersion);
  h5::write_attr(file, "n_samples", static_cast<std::int64_t>(samples.size()));
  h5::write_attr(file, "n_variants", static_cast<std::int64_t>(variants.size()));
  {
    Hid d(H5Dopen2(file, schema::kDosage, H5P_DEFAULT), "cannot open /genotypes/dosage");
    h5::write_attr(d, "missing_value", std::int64_t{kMissingDosage});
    h5::write_attr(d, "encoding", std::string("count of the column's ALT allele in the call (0/1/2; haploid 0/1); -1 missing"));
    h5::write_attr(d, "dimensions", std::vector<std::string>{"sample", "variant"});
  }
  {
    Hid g = h5::create_group(file, "samples");
    h5::write_strings(g, "id", samples);
    if (labels) {
      h5::write_strings(g, "population", labels->population);
    }
  }
  {
    Hid g = h5::create_group(file, "labels");
    if (!labels) {
      h5::write_attr(g, "type", std::string("none"));
    } else if (labels->quantitative) {
      h5::write_attr(g, "type", std::string("quantitative"));
      h5::write_vector(g, "value", labels->value);
      h5::write_attr(g, "n_missing", static_cast<std::int64_t>(labels->missing_labels));
    } else {
      h5::write_attr(g, "type", std::string("class"));
      std::vector<std::int32_t> code(labels->code.begin(), labels->code.end());
      h5::write_vector(g, "code", code);
      h5::write_strings(g, "classes", labels->classes);
      h5::write_attr(g, "missing_code", std::int64_t{-1});
      h5::write_attr(g, "n_missing", static_cast<std::int64_t>(labels->missing_labels));
    }
    if (labels) h5::write_attr(g, "populations", labels->populations);
  }
  {
    Hid g = h5::create_group(file, "variants");
    const std::size_t n = variants.size();
    std::vector<std::string> chrom(n), id(n), ref(n), alt(n), filter(n);
    std::vector<std::int64_t> pos(n);
    std::vector<float> qual(n);
    std::vector<std::int32_t> allele_index(n), n_alleles(n);
    std::vector<std::int8_t> type(n);
    std::vector<double> af(n), call_rate(n);
    for (std::size_t i = 0; i < n; ++i) {
      const auto& v = variants[i];
      chrom[i] = v.chrom;
      pos[i] = v.pos;
      id[i] = v.id;
      ref[i] = v.ref;
      alt[i] = v.alt;
      qual[i] = v.qual;
      filter[i] = v.filter;
      allele_index[i] = v.allele_index;
      n_alleles[i] = v.n_alleles;
      type[i] = static_cast<std::int8_t>(v.type);
      af[i] = v.af;
      call_rate[i] = v.call_rate;
    }
    h5::write_strings(g, "chrom", chrom);
    h5::write_vector(g, "pos", pos);
    h5::write_strings(g, "id", id);
    h5::write_strings(g, "ref", ref);
    h5::write_strings(g, "alt", alt);
    h5::write_vector(g, "qual", qual);
    h5::write_strings(g, "filter", filter);
    h5::write_vector(g, "allele_index", allele_index);
    h5::write_vector(g, "n_alleles", n_alleles);
    h5::write_vector(g, "type", type);
    h5::write_attr(g, "type_codes", std::vector<std::string>{"0=snv", "1=indel", "2=other"});
    h5::write_vector(g, "af", af);
    h5::write_vector(g, "call_rate", call_rate);
  }
  {
    Hid g = h5::create_group(file, "windows");
    h5::write_attr(g, "window_size", windows.window_size);
    h5::write_strings(g, "chrom", windows.chrom);
    h5::write_vector(g, "start", windows.start);
    h5::write_vector(g, "end", windows.end);
    h5::write_vector(g, "n_variants", windows.n_variants);
  }
  {
    Hid g = h5::create_group(file, "provenance");
    h5::write_attr(g, "genoforest_version", std::string(kVersion));
    h5::write_attr(g, "stage", std::string("features"));
    h5::write_attr(g, "command_line", prov.command_line);
    h5::write_attr(g, "created", prov.created);
    h5::write_attr(g, "filters", prov.filters);
    h5::write_attr(g, "inputs", prov.inputs);
    h5::write_attr(g, "regions", prov.regions);
    h5::write_attr(g, "window_size", prov.window_size);
  }
}

StoreReader::StoreReader(const std::filesystem::path& path) : path_(path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw IoError("cannot open " + path.string() + ": no such file");
  const htri_t is = H5Fis_hdf5(path.c_str());
  if (is <= 0) throw InputError(path.string(), "not an HDF5 file");
  const hid_t id = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (id < 0 && access(path.c_str(), R_OK) == 0) {
    // The system lets us read it: what HDF5 refuses is the content (a cut or damaged file).
    H5Eclear2(H5E_DEFAULT);
    throw InputError(path.string(), "an HDF5 file that cannot be opened: truncated or damaged (copied in part?)");
  }
  file_ = Hid(id, "cannot open " + path.string());  // an unreadable file: the system's reason
  if (!H5Aexists(file_, "format") || h5::read_attr_string(file_, "format") != schema::kFormat) {
    throw InputError(path.string(), "not a genoforest feature store (no format=genoforest.features attribute)");
  }
  const auto version = h5::read_attr_int(file_, "schema_version");
  if (version != schema::kVersion) {
    throw InputError(path.string(), "feature-store schema version " + std::to_string(version) + " (this genoforest reads " +
                                        std::to_string(schema::kVersion) + ")");
  }
  const auto d = h5::dims(file_, schema::kDosage);
  n_samples_ = static_cast<std::int64_t>(d.at(0));
  n_variants_ = static_cast<std::int64_t>(d.at(1));
}

std::vector<std::string> StoreReader::samples() const { return h5::read_strings(file_, "samples/id"); }

std::vector<std::int8_t> StoreReader::rows(std::int64_t row0, std::int64_t n) const {
  Hid d(H5Dopen2(file_, schema::kDosage, H5P_DEFAULT), "cannot open the dosage matrix");
  std::vector<std::int8_t> out(static_cast<std::size_t>(n * n_variants_));
  h5::read_block(d.get(), static_cast<hsize_t>(row0), static_cast<hsize_t>(n), 0, static_cast<hsize_t>(n_variants_),
                 out.data());
  return out;
}

std::vector<std::int8_t> StoreReader::column(std::int64_t col) const {
  Hid d(H5Dopen2(file_, schema::kDosage, H5P_DEFAULT), "cannot open the dosage matrix");
  std::vector<std::int8_t> out(static_cast<std::size_t>(n_samples_));
  h5::read_block(d.get(), 0, static_cast<hsize_t>(n_samples_), static_cast<hsize_t>(col), 1, out.data());
  return out;
}

}  // namespace genoforest::features
