#include "stages/features_stage.hpp"
#include "stages/stages.hpp"

#include <unistd.h>

#include <chrono>
#include <exception>
#include <cmath>
#include <future>
#include <ctime>
#include <map>
#include <memory>
#include <set>

#include <boost/serialization/map.hpp>
#include <boost/serialization/optional.hpp>
#include <boost/serialization/unordered_set.hpp>
#include <boost/serialization/utility.hpp>


#include "genoforest/core/files.hpp"
#include "genoforest/core/log.hpp"
#include "genoforest/core/region.hpp"
#include "genoforest/core/subset.hpp"
#include "genoforest/features/extract.hpp"
#include "genoforest/features/plink.hpp"
#include "genoforest/features/sample_stats.hpp"
#include "genoforest/io/phenotype.hpp"
#include "genoforest/io/vcf.hpp"
#include "h5_parallel.hpp"
#include "scheduler.hpp"
#include "serialize.hpp"

namespace genoforest::mpi {

namespace fs = std::filesystem;
namespace h5 = io::h5;
using features::RegionColumns;
using features::VariantRow;
using h5::Hid;

void FeaturesOptions::validate() const {
  if (input.empty() && !source) throw UsageError("no input: give an indexed VCF/BCF file (see 'genoforest features --help')");
  if (source && (!regions.empty() || !regions_file.empty() || !keep.empty() || !remove.empty() || !extract.empty() || !exclude.empty())) {
    throw InternalError("a drawn cohort is stored whole");
  }
  if (output.empty()) throw UsageError("-o/--output is required");
  if (region_size < 1) throw UsageError("--region-size must be at least 1 bp");
  if (window_size < 1) throw UsageError("--window-size must be at least 1 bp");
  if (!regions.empty() && !regions_file.empty()) throw UsageError("give -r/--regions or -R/--regions-file, not both");
  (void)io::parse_label_type(label_type);
  if (!pheno_name.empty() && phenotypes.empty()) throw UsageError("--pheno-name needs -p/--phenotypes");
  if (!covar_names.empty() && covar.empty()) throw UsageError("--covar-name needs --covar");
  filters.validate();
  layout.validate();
}

namespace {

/// What rank 0 decides before any work, broadcast to all ranks.
struct Plan {
  std::vector<Region> regions;
  std::string token;  // temporary-file suffix, the same on every rank
  std::int64_t n_samples = 0;
  std::vector<std::int64_t> keep;  // VCF columns of the kept samples (--keep/--remove); empty: all
  VariantSubset variants;          // --extract/--exclude
  template <class Ar>
  void serialize(Ar& ar, unsigned) {
    ar & regions & token & n_samples & keep & variants;
  }
};

/// Per-column facts the sample statistics need, broadcast after extraction.
struct ColumnFacts {
  std::vector<std::int8_t> type;
  std::vector<std::uint8_t> transition;
  std::vector<std::int32_t> window;
  std::int64_t n_windows = 0;
  template <class Ar>
  void serialize(Ar& ar, unsigned) {
    ar & type & transition & window & n_windows;
  }
};

/// The small part of a region's result that travels to rank 0.
struct RegionSummary {
  std::vector<VariantRow> rows;
  features::FilterCounts counts;
  int rank = 0;  // the rank that holds the region's dosages
  template <class Ar>
  void serialize(Ar& ar, unsigned) {
    ar & rows & counts & rank;
  }
};

/// Finds a duplicate sample name in a VCF's #CHROM line (htslib refuses such a header without
/// saying why once its log is muted). Empty when none found.
std::string find_duplicate_sample(const fs::path& path) {
  io::HtsFilePtr fp(hts_open(path.c_str(), "r"));
  if (!fp || hts_get_format(fp.get())->format != vcf) return {};
  kstring_t line{0, 0, nullptr};
  std::string found;
  while (hts_getline(fp.get(), 2 /* KS_SEP_LINE */, &line) >= 0) {
    if (line.l && line.s[0] != '#') break;
    if (std::string_view(line.s, line.l).starts_with("#CHROM")) {
      std::map<std::string, int> seen;
      int col = 0;
      std::string cur;
      const std::string text(line.s, line.l);
      std::size_t start = 0;
      for (;;) {
        const std::size_t tab = text.find('\t', start);
        const std::string f = text.substr(start, tab == std::string::npos ? std::string::npos : tab - start);
        ++col;
        if (col >= 10) {
          auto [it, ok] = seen.emplace(f, col);
          if (!ok && found.empty()) {
            found = "duplicate sample ID '" + f + "' in the #CHROM line (columns " + std::to_string(it->second) +
                    " and " + std::to_string(col) + ")";
          }
        }
        if (tab == std::string::npos) break;
        start = tab + 1;
      }
      break;
    }
  }
  free(line.s);
  return found;
}

std::unique_ptr<io::VcfReader> open_input(const fs::path& path) {
  try {
    return std::make_unique<io::VcfReader>(path, true);
  } catch (const InputError&) {
    const std::string dup = find_duplicate_sample(path);
    if (!dup.empty()) throw InputError(path.string(), dup);
    throw;
  }
}

std::string describe_counts(const features::FilterCounts& c) {
  std::string s = "kept " + std::to_string(c.kept) + " of " + std::to_string(c.columns_seen) + " ALT columns from " +
                  std::to_string(c.records) + " records";
  std::vector<std::string> why;
  auto add = [&](std::uint64_t n, const char* what) {
    if (n) why.push_back(std::to_string(n) + " " + what);
  };
  add(c.not_pass, "not PASS");
  add(c.not_biallelic, "multi-allelic");
  add(c.not_snv, "not SNV");
  add(c.too_missing, "above --max-missing");
  add(c.low_maf, "below --min-maf");
  add(c.not_selected, "left out by --extract/--exclude");
  if (!why.empty()) {
    s += "; removed";
    for (std::size_t i = 0; i < why.size(); ++i) s += (i ? ", " : " ") + why[i];
  }
  return s;
}

/// Writes `values` (row-major, rows [row0, row0+nrows) x all columns) into a 2-D or 1-D dataset
/// collectively; a rank with nrows == 0 takes part with an empty selection.
template <class T>
void write_rows(hid_t file, const std::string& name, std::int64_t row0, std::int64_t nrows, const std::vector<T>& values,
                hid_t dxpl) {
  Hid d(H5Dopen2(file, name.c_str(), H5P_DEFAULT), "cannot open " + name);
  Hid fs_(H5Dget_space(d), "cannot read the shape of " + name);
  const int rank = H5Sget_simple_extent_ndims(fs_);
  hsize_t dims[2] = {0, 1};
  H5Sget_simple_extent_dims(fs_, dims, nullptr);
  if (rank == 1) dims[1] = 1;
  Hid ms;
  if (nrows == 0 || dims[1] == 0) {
    h5::check(H5Sselect_none(fs_), "cannot select");
    const hsize_t one = 1;
    ms = Hid(H5Screate_simple(1, &one, nullptr), "cannot create a dataspace");
    h5::check(H5Sselect_none(ms), "cannot select");
  } else {
    const hsize_t start[2] = {static_cast<hsize_t>(row0), 0};
    const hsize_t count[2] = {static_cast<hsize_t>(nrows), dims[1]};
    h5::check(H5Sselect_hyperslab(fs_, H5S_SELECT_SET, start, nullptr, count, nullptr), "cannot select rows of " + name);
    ms = Hid(H5Screate_simple(rank, count, nullptr), "cannot create a dataspace");
  }
  h5::check(H5Dwrite(d, h5::native_type<T>(), ms, fs_, dxpl, values.empty() ? nullptr : values.data()),
            "cannot write " + name);
}

template <class T>
void create_stats_dataset(hid_t file, const std::string& name, hid_t type, std::int64_t n, std::int64_t cols,
                          std::int64_t chunk_rows) {
  Hid dcpl(H5Pcreate(H5P_DATASET_CREATE), "cannot create dataset properties");
  Hid space;
  if (cols < 0) {
    const hsize_t dims[1] = {static_cast<hsize_t>(n)};
    space = Hid(H5Screate_simple(1, dims, nullptr), "cannot create a dataspace");
  } else {
    const hsize_t dims[2] = {static_cast<hsize_t>(n), static_cast<hsize_t>(cols)};
    const hsize_t chunk[2] = {static_cast<hsize_t>(std::max<std::int64_t>(1, std::min(n, chunk_rows))),
                              static_cast<hsize_t>(std::max<std::int64_t>(1, std::min<std::int64_t>(cols, 1024)))};
    space = Hid(H5Screate_simple(2, dims, nullptr), "cannot create a dataspace");
    h5::check(H5Pset_chunk(dcpl, 2, chunk), "cannot set chunking");
    h5::check(H5Pset_deflate(dcpl, 4), "cannot set compression");
    h5::check(H5Pset_fletcher32(dcpl), "cannot set the Fletcher32 checksum");
    // Every value is written: no fill-value chunks to compress when the file space is allocated.
    h5::check(H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER), "cannot set the fill time");
  }
  Hid d(H5Dcreate2(file, name.c_str(), type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT), "cannot create " + name);
}

/// A region's columns that are not all written yet: global columns [first, first + cols), held
/// (column-major) by rank `owner`. Every rank keeps the same list.
struct Pending {
  std::int64_t task = 0, first = 0, cols = 0;
  int owner = 0;
};

/// Writes columns [from, upto) of the dosage matrix: rank r writes the r-th share of the chunk
/// columns in that range, after an all-to-all brings it the columns other ranks hold. `from` is a
/// multiple of `chunk_cols`; so is `upto` unless it is the matrix's end. Collective.
void write_aligned(const Comm& comm, const std::vector<Pending>& pending,
                   const std::map<std::int64_t, std::vector<std::int8_t>>& held, std::int64_t from, std::int64_t upto,
                   std::int64_t chunk_cols, std::int64_t n, hid_t dosage, hid_t dxpl, const std::string& file) {
  const std::int64_t blocks = (upto - from + chunk_cols - 1) / chunk_cols;
  auto range_of = [&](int r) {
    const std::int64_t lo = from + blocks * r / comm.size() * chunk_cols;
    const std::int64_t hi = from + blocks * (r + 1) / comm.size() * chunk_cols;
    return std::pair{std::min(lo, upto), std::min(hi, upto)};
  };
  // Send each other rank the parts of my regions that fall in its range, in column order.
  std::vector<std::string> send(static_cast<std::size_t>(comm.size()));
  for (const auto& p : pending) {
    if (p.owner != comm.rank()) continue;
    const auto& d = held.at(p.task);
    for (int q = 0; q < comm.size(); ++q) {
      if (q == comm.rank()) continue;  // my own columns are read where they are
      const auto [lo, hi] = range_of(q);
      const std::int64_t a = std::max(lo, p.first), b = std::min(hi, p.first + p.cols);
      if (a >= b) continue;
      send[static_cast<std::size_t>(q)].append(reinterpret_cast<const char*>(d.data() + (a - p.first) * n),
                                               static_cast<std::size_t>((b - a) * n));
    }
  }
  const auto recv = comm.exchange(send);
  const auto [lo, hi] = range_of(comm.rank());
  const std::int64_t width = hi - lo;
  std::vector<std::int8_t> block(static_cast<std::size_t>(n * width));  // row-major n x width
  std::vector<std::size_t> cursor(recv.size(), 0);
  for (const auto& p : pending) {
    const std::int64_t a = std::max(lo, p.first), b = std::min(hi, p.first + p.cols);
    if (a >= b) continue;
    const std::int8_t* piece;
    if (p.owner == comm.rank()) {
      piece = held.at(p.task).data() + (a - p.first) * n;
    } else {
      const auto& src = recv[static_cast<std::size_t>(p.owner)];
      std::size_t& at = cursor[static_cast<std::size_t>(p.owner)];
      if (at + static_cast<std::size_t>((b - a) * n) > src.size()) throw InternalError("write_aligned: short exchange");
      piece = reinterpret_cast<const std::int8_t*>(src.data() + at);
      at += static_cast<std::size_t>((b - a) * n);
    }
    features::columns_to_rows(piece, n, b - a, block.data() + (a - lo), width);
  }
  Hid fspace(H5Dget_space(dosage), "cannot read the dosage shape");
  Hid mspace;
  if (width > 0) {
    const hsize_t start[2] = {0, static_cast<hsize_t>(lo)};
    const hsize_t count[2] = {static_cast<hsize_t>(n), static_cast<hsize_t>(width)};
    h5::check(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, nullptr, count, nullptr), "cannot select columns");
    mspace = Hid(H5Screate_simple(2, count, nullptr), "cannot create a dataspace");
  } else {
    h5::check(H5Sselect_none(fspace), "cannot select");
    const hsize_t one = 1;
    mspace = Hid(H5Screate_simple(1, &one, nullptr), "cannot create a dataspace");
    h5::check(H5Sselect_none(mspace), "cannot select");
  }
  h5::check(H5Dwrite(dosage, H5T_NATIVE_INT8, mspace, fspace, dxpl, block.empty() ? nullptr : block.data()),
            "cannot write dosages to " + file);
}

}  // namespace

void run_features(const Comm& comm, const FeaturesOptions& opt) {
  const auto t0 = std::chrono::steady_clock::now();
  keep_freed_buffers(128);  // buffers of a few MB per region and wave: a fifth off the CPU time
  const fs::path out_path(opt.output);
  Plan plan;
  std::vector<std::string> samples;
  std::unique_ptr<io::EncodedLabels> labels;
  std::unique_ptr<io::AlignedCovariates> covariates;  // rank 0
  features::Provenance prov;
  std::future<std::vector<std::string>> input_digests;  // rank 0
  std::string requested_text = "all";
  // A PLINK 1 fileset is read through the same interface as a drawn cohort; each rank opens it.
  std::unique_ptr<features::PlinkBedSource> plink;
  const features::ColumnSource* source = opt.source;
  if (!source && features::is_plink_input(opt.input)) {
    std::exception_ptr e;
    try {
      plink = std::make_unique<features::PlinkBedSource>(opt.input);
    } catch (...) {
      e = std::current_exception();
    }
    comm.agree(e);
    source = plink.get();
  }
  const std::string input_name = source ? source->name() : opt.input;
  std::unique_ptr<io::VcfReader> reader;  // each rank's own handle on the input

  // ---- 1. rank 0 checks every input and plans ------------------------------------------------
  comm.on_root([&] {
    opt.validate();
    if (source) {
      if (!opt.regions.empty() || !opt.regions_file.empty()) {
        throw UsageError("-r/-R select regions of an indexed VCF/BCF; of " + input_name + " select variants with --extract FILE.bed");
      }
      std::vector<NamedPath> inputs{{"-p/--phenotypes", opt.phenotypes}, {"--covar", opt.covar}, {"--keep", opt.keep},
                                    {"--remove", opt.remove}, {"--extract", opt.extract}, {"--exclude", opt.exclude}};
      for (const auto& f : source->input_files()) inputs.push_back({"the input", f});
      check_outputs(inputs, {{"-o/--output", out_path}});
      samples = source->samples();
    } else {
      check_outputs({{"the input", opt.input}, {"the input's index", opt.input + ".tbi"},
                     {"the input's index", opt.input + ".csi"}, {"-p/--phenotypes", opt.phenotypes}, {"--covar", opt.covar},
                     {"-R/--regions-file", opt.regions_file}, {"--keep", opt.keep}, {"--remove", opt.remove},
                     {"--extract", opt.extract}, {"--exclude", opt.exclude}},
                    {{"-o/--output", out_path}});
      reader = open_input(opt.input);
      if (!reader->has_gt()) {
        throw InputError(opt.input, "the header declares no FORMAT/GT field: genotypes are needed for dosages");
      }
      if (reader->sample_count() == 0) throw InputError(opt.input, "the file has no sample columns");
      samples = reader->samples();
    }
    // Sample and variant subsets (plink2's --keep/--remove, --extract/--exclude).
    const auto subset = SampleSubset::from_files(opt.keep, opt.remove);
    std::string samples_source = input_name;
    if (subset.active()) {
      const auto all = samples;
      plan.keep = subset.select(all, input_name);
      samples.clear();
      for (const auto i : plan.keep) samples.push_back(all[static_cast<std::size_t>(i)]);
      log_info(subset.describe(samples.size(), all.size()));
      samples_source = "the samples kept from " + input_name;
    }
    plan.variants = VariantSubset::from_files(opt.extract, opt.exclude);
    for (const bool ex : {true, false}) {
      if (!(ex ? plan.variants.has_extract : plan.variants.has_exclude)) continue;
      const auto& l = ex ? plan.variants.extract : plan.variants.exclude;
      log_info((ex ? "--extract " : "--exclude ") + l.file + ": " +
               (l.ranges.empty() ? std::to_string(l.ids.size()) + " variant ID(s)" : "BED ranges on " + std::to_string(l.ranges.size()) + " contig(s)"));
    }
    std::vector<Region> requested;
    if (!opt.regions.empty()) {
      requested = parse_region_list(opt.regions);
      requested_text = opt.regions;
    } else if (!opt.regions_file.empty()) {
      requested = read_bed(opt.regions_file);
      requested_text = opt.regions_file;
      if (requested.empty()) throw InputError(opt.regions_file, "no region in the BED file");
    }
    std::string label_column;  // the phenotype table's label column
    std::optional<io::PhenotypeTable> own_labels;
    if (opt.phenotypes.empty() && source) own_labels = source->phenotypes();
    if (!opt.phenotypes.empty() || own_labels) {
      const auto table = own_labels ? *own_labels : io::read_phenotypes(opt.phenotypes, opt.pheno_name);
      label_column = table.label_column;
      if (own_labels) log_info("labels from the PHENOTYPE column of " + table.path.string() + " (no -p/--phenotypes given)");
      labels = std::make_unique<io::EncodedLabels>(
          io::encode_labels(table, samples, io::parse_label_type(opt.label_type), samples_source));
      if (!own_labels && table.label_column != "label") log_info("labels from column '" + table.label_column + "' of " + opt.phenotypes);
      if (labels->table_samples_not_in_input) {
        log_warning(std::to_string(labels->table_samples_not_in_input) + " of " + std::to_string(table.rows.size()) +
                    " samples of " + opt.phenotypes + " are not " + (samples_source == input_name ? "in " : "among ") + samples_source + " (" + labels->absent_examples +
                    "): left out");
      }
      if (labels->samples_without_phenotype) {
        log_warning(std::to_string(labels->samples_without_phenotype) + " of " + std::to_string(samples.size()) +
                    " samples of " + input_name + " have no row in " + opt.phenotypes + ": their label is missing");
      }
    }
    if (!opt.covar.empty()) {
      auto table = io::read_covariates(opt.covar, opt.covar_names);
      // The phenotype table as the covariate table (plink users keep both in one file): its label
      // column is the answer, not a covariate, unless named.
      std::error_code ec;
      if (!opt.phenotypes.empty() && opt.covar_names.empty() && fs::equivalent(opt.covar, opt.phenotypes, ec) && !label_column.empty()) {
        for (std::size_t c = 0; c < table.names.size(); ++c) {
          if (table.names[c] != label_column) continue;
          table.names.erase(table.names.begin() + static_cast<std::ptrdiff_t>(c));
          table.values.erase(table.values.begin() + static_cast<std::ptrdiff_t>(c));
          log_info("covariates: left out the label column " + label_column + " of " + opt.covar + " (it is the phenotype)");
          break;
        }
        if (table.names.empty()) throw InputError(opt.covar, "no covariate column besides the label " + label_column);
      }
      if (!table.skipped.empty()) {
        std::string l;
        for (const auto& c : table.skipped) l += (l.empty() ? "" : ", ") + c;
        log_info("covariates: left out the columns of " + opt.covar + " that are not numbers (" + l + ")");
      }
      covariates = std::make_unique<io::AlignedCovariates>(io::align_covariates(table, samples, samples_source));
      std::string l;
      for (std::size_t i = 0; i < table.names.size() && i < 6; ++i) l += (i ? ", " : "") + table.names[i];
      if (table.names.size() > 6) l += ", ...";
      log_info(std::to_string(table.names.size()) + " covariate(s) from " + opt.covar + ": " + l);
      if (covariates->table_rows_not_in_samples) {
        log_warning(std::to_string(covariates->table_rows_not_in_samples) + " of " + std::to_string(table.sample_ids.size()) +
                    " samples of " + opt.covar + " are not " + (samples_source == input_name ? "in " : "among ") + samples_source + " (" + covariates->absent_examples + "): left out");
      }
      if (covariates->samples_without_row) {
        log_warning(std::to_string(covariates->samples_without_row) + " of " + std::to_string(samples.size()) + " samples of " +
                    input_name + " have no row in " + opt.covar + ": their covariates are missing");
      }
    }
    if (!source && !requested.empty()) {
      std::vector<std::string> names;
      for (const auto& c : reader->contigs()) names.push_back(c.name);
      match_region_contigs(requested, names, opt.regions.empty() ? opt.regions_file : "-r/--regions", input_name);
    }
    plan.regions = source ? source->plan_regions(opt.region_size)
                              : features::plan_regions(*reader, requested, opt.region_size);
    reader.reset();
    plan.n_samples = static_cast<std::int64_t>(samples.size());
    plan.token = temp_token();
    // The inputs' checksums (provenance) are read beside the extraction, on a core of their own
    // when there is one; they are needed only at the end.
    std::vector<std::string> digest_these = source ? source->input_files() : std::vector<std::string>{opt.input};
    for (const auto* f : {&opt.phenotypes, &opt.regions_file, &opt.covar, &opt.keep, &opt.remove, &opt.extract, &opt.exclude})
      digest_these.push_back(*f);
    input_digests = std::async(std::launch::async, [in = std::move(digest_these)] {
      std::vector<std::string> lines;
      for (const auto& f : in) {
        if (f.empty()) continue;
        const auto d = digest_file(f);
        lines.push_back(f + "\t" + std::to_string(d.size) + "\tmd5:" + d.md5);
      }
      return lines;
    });
    log_info(std::to_string(samples.size()) + " samples, " + std::to_string(plan.regions.size()) + " regions of up to " +
             std::to_string(opt.region_size) + " bp, " + std::to_string(comm.size()) + " rank(s)");
  });
  comm.bcast(plan);
  log_debug("plan done at " + std::to_string(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()) + " s");

  // Rank 0 owns the temporary file's cleanup; the others only write into it.
  AtomicOutput output(out_path, plan.token);
  if (!comm.is_root()) output.release();
  const std::int64_t n = plan.n_samples;
  const auto n_regions = static_cast<std::int64_t>(plan.regions.size());

  // ---- 2. collective creation of the file ----------------------------------------------------
  Hid file, dosage, dxpl;
  // Should anything fail from here on, the parallel file is let go of, not closed: after a failed
  // write its ranks' metadata caches differ, and the collective close would hang (Hid::abandon).
  struct AbandonOnFailure {
    std::vector<Hid*> ids;
    int uncaught = std::uncaught_exceptions();
    ~AbandonOnFailure() {
      if (std::uncaught_exceptions() > uncaught)
        for (Hid* h : ids) h->abandon();
    }
  } abandon_on_failure{{&file, &dosage, &dxpl}};
  {
    std::exception_ptr e;
    try {
      file = create_parallel_file(comm, output.tmp());
      dosage = features::create_dosage_dataset(file, n, opt.layout);
    } catch (const IoError& x) {
      e = std::make_exception_ptr(IoError(with_disk_full_note(x.what(), output.tmp())));
    } catch (...) {
      e = std::current_exception();
    }
    comm.agree(e, Comm::kAgreeSeconds);  // after collective HDF5 calls
  }
  dxpl = collective_transfer();

  // ---- 3. waves of regions: dynamic extraction, then chunk-aligned collective writes -----------
  // Ranks extract whole regions, whose columns do not line up with the dataset's chunks. Before
  // writing, columns move (all-to-all) so that each rank writes whole chunks as one regular
  // hyperslab: with a filtered dataset, a chunk written in pieces by several calls or ranks would
  // be decompressed and recompressed each time. Columns past the last complete chunk wait for
  // the next wave.
  std::map<std::int64_t, std::vector<std::int8_t>> held;  // task -> its dosages (column-major)
  std::vector<VariantRow> variants;                       // rank 0: the variant table, in order
  std::vector<std::int64_t> wave_info;  // per task of the wave: columns, then the rank holding them
  std::vector<Pending> pending;  // tasks with columns not yet written, in column order (all ranks)
  features::FilterCounts totals;
  std::int64_t total_columns = 0, written = 0;
  bool collective_ok = true;
  const std::int64_t wave = std::max<std::int64_t>(8, 4 * comm.size());
  const std::int64_t chunk_cols = opt.layout.chunk_variants;

  features::FeatureFilters filters = opt.filters;  // with the subsets of the plan
  if (!plan.keep.empty()) filters.samples = std::make_shared<const std::vector<std::int64_t>>(plan.keep);
  if (plan.variants.active()) filters.variants = std::make_shared<const VariantSubset>(plan.variants);

  Progress progress(n_regions, "regions");
  TaskSet ts;
  ts.progress = &progress;
  ts.describe = [&](std::int64_t t) { return "region " + plan.regions[static_cast<std::size_t>(t)].to_string(); };
  ts.run = [&](std::int64_t t) {
    const Region& region = plan.regions[static_cast<std::size_t>(t)];
    if (!source && !reader) reader = std::make_unique<io::VcfReader>(opt.input, true);
    RegionColumns rc = source ? source->extract_region(region, filters)
                                  : features::extract_region(*reader, region, filters);
    if (!rc.rows.empty()) held[t] = std::move(rc.dosages);
    RegionSummary s{std::move(rc.rows), rc.counts, comm.rank()};
    return to_bytes(s);
  };
  ts.commit = [&](std::int64_t t, std::string&& bytes) {
    auto s = from_bytes<RegionSummary>(bytes);
    const auto i = static_cast<std::size_t>(t - ts.begin);
    wave_info[2 * i] = static_cast<std::int64_t>(s.rows.size());
    wave_info[2 * i + 1] = s.rank;
    totals += s.counts;
    for (auto& r : s.rows) variants.push_back(std::move(r));
  };

  for (std::int64_t w0 = 0; w0 < n_regions; w0 += wave) {
    const std::int64_t w1 = std::min(n_regions, w0 + wave);
    ts.begin = w0;
    ts.end = w1;
    wave_info.assign(static_cast<std::size_t>(2 * (w1 - w0)), 0);
    run_tasks(comm, ts);
    comm.bcast(wave_info);

    std::exception_ptr e;
    try {
      for (std::int64_t t = w0; t < w1; ++t) {
        const auto i = static_cast<std::size_t>(t - w0);
        if (wave_info[2 * i] == 0) continue;
        pending.push_back({t, total_columns, wave_info[2 * i], static_cast<int>(wave_info[2 * i + 1])});
        total_columns += wave_info[2 * i];
      }
      const std::int64_t upto = w1 == n_regions ? total_columns : total_columns / chunk_cols * chunk_cols;
      if (upto > written) {
        const hsize_t dims[2] = {static_cast<hsize_t>(n), static_cast<hsize_t>(total_columns)};
        h5::check(H5Dset_extent(dosage, dims), "cannot extend the dosage matrix of " + output.tmp().string());
        write_aligned(comm, pending, held, written, upto, chunk_cols, n, dosage, dxpl, output.tmp().string());
        collective_ok = collective_ok && last_io_was_collective(dxpl);
        std::erase_if(pending, [&](const Pending& p) {
          if (p.first + p.cols > upto) return false;
          held.erase(p.task);
          return true;
        });
        written = upto;
      }
    } catch (const IoError& x) {
      e = std::make_exception_ptr(IoError(with_disk_full_note(x.what(), output.tmp())));
    } catch (...) {
      e = std::current_exception();
    }
    comm.agree(e, Comm::kAgreeSeconds);  // after collective HDF5 calls
  }

  const auto phase = [&](const char* what) {
    log_debug(std::string(what) + " done at " +
              std::to_string(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()) + " s");
  };
  phase("extraction and dosage writes");

  // ---- 4. the variant table decides the windows; every rank learns the column facts -----------
  ColumnFacts facts;
  features::WindowTable windows;
  comm.on_root([&] {
    log_info(describe_counts(totals));
    if (variants.empty()) {
      throw DataError("no variant column left in " + input_name + " (" + describe_counts(totals) +
                      "): relax the filters or the regions");
    }
    std::vector<std::string> chrom;
    std::vector<std::int64_t> pos;
    chrom.reserve(variants.size());
    pos.reserve(variants.size());
    for (const auto& v : variants) {
      chrom.push_back(v.chrom);
      pos.push_back(v.pos);
      facts.type.push_back(static_cast<std::int8_t>(v.type));
      facts.transition.push_back(v.transition);
    }
    windows = features::assign_windows(chrom, pos, opt.window_size);
    facts.window = windows.column_window;
    facts.n_windows = static_cast<std::int64_t>(windows.chrom.size());
  });
  comm.bcast(facts);

  // ---- 5. per-sample statistics: blocks of rows, read back and written collectively ----------
  {
    std::exception_ptr e;
    try {
      const std::int64_t v = total_columns;
      Hid(H5Gcreate2(file, features::schema::kSampleStats, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
          "cannot create group sample_stats")
          .close("cannot create group sample_stats");
      const std::string base = std::string(features::schema::kSampleStats) + "/";
      for (const char* name : features::schema::kCountNames) {
        create_stats_dataset<std::int64_t>(file, base + name, H5T_STD_I64LE, n, -1, 0);
      }
      create_stats_dataset<double>(file, features::schema::kTiTv, H5T_IEEE_F64LE, n, -1, 0);
      create_stats_dataset<float>(file, features::schema::kWindowMean, H5T_IEEE_F32LE, n, facts.n_windows,
                                  opt.layout.chunk_samples);
      create_stats_dataset<float>(file, features::schema::kWindowVar, H5T_IEEE_F32LE, n, facts.n_windows,
                                  opt.layout.chunk_samples);

      std::vector<features::ColumnClass> classes(static_cast<std::size_t>(v));
      for (std::int64_t c = 0; c < v; ++c) {
        classes[static_cast<std::size_t>(c)] = {static_cast<features::VariantType>(facts.type[static_cast<std::size_t>(c)]),
                                                facts.transition[static_cast<std::size_t>(c)] != 0};
      }
      features::WindowTable wt;
      wt.column_window = facts.window;
      wt.chrom.resize(static_cast<std::size_t>(facts.n_windows));

      const std::int64_t bsz = std::max<std::int64_t>(1, std::min(n, opt.layout.chunk_samples));
      const std::int64_t n_blocks = (n + bsz - 1) / bsz;
      const std::int64_t rounds = (n_blocks + comm.size() - 1) / comm.size();
      for (std::int64_t r = 0; r < rounds; ++r) {
        const std::int64_t b = r * comm.size() + comm.rank();
        const std::int64_t row0 = b < n_blocks ? b * bsz : 0;
        const std::int64_t nrows = b < n_blocks ? std::min(bsz, n - row0) : 0;
        std::vector<std::int8_t> rows(static_cast<std::size_t>(nrows * v));
        h5::read_block(dosage.get(), static_cast<hsize_t>(row0), static_cast<hsize_t>(nrows), 0,
                       static_cast<hsize_t>(nrows ? v : 0), rows.data(), dxpl);
        const auto st = features::compute_sample_stats(rows.data(), static_cast<std::size_t>(nrows),
                                                        static_cast<std::size_t>(v), classes, wt);
        const std::vector<std::int64_t>* counts[] = {&st.n_called, &st.n_missing, &st.n_hom_ref,
                                                     &st.n_het, &st.n_hom_alt, &st.n_snv,
                                                     &st.n_indel, &st.n_transitions, &st.n_transversions};
        for (std::size_t i = 0; i < std::size(features::schema::kCountNames); ++i) {
          write_rows(file, base + features::schema::kCountNames[i], row0, nrows, *counts[i], dxpl);
        }
        write_rows(file, features::schema::kTiTv, row0, nrows, st.titv, dxpl);
        write_rows(file, features::schema::kWindowMean, row0, nrows, st.window_mean, dxpl);
        write_rows(file, features::schema::kWindowVar, row0, nrows, st.window_var, dxpl);
      }
      dosage.close("cannot close the dosage matrix of " + output.tmp().string());
      dxpl.close("cannot close transfer properties");
      file.close("cannot close " + output.tmp().string());
    } catch (const IoError& x) {
      e = std::make_exception_ptr(IoError(with_disk_full_note(x.what(), output.tmp())));
    } catch (const InputError& x) {
      // Our own matrix, just written, read back damaged: a write was lost without an error (Open
      // MPI's OMPIO does not always report ENOSPC to HDF5), which the chunks' checksums catch.
      e = std::make_exception_ptr(IoError(with_disk_full_note(
          "cannot write " + output.tmp().string() + ": the dosages read back fail their checksum, so a write was lost",
          output.tmp())));
    } catch (...) {
      e = std::current_exception();
    }
    comm.agree(e, Comm::kAgreeSeconds);  // after collective HDF5 calls
  }

  phase("sample statistics");

  // ---- 6. rank 0 adds the small tables and provenance, then publishes the file ---------------
  comm.on_root([&] {
    prov.inputs = input_digests.get();
    prov.command_line = opt.command_line;
    prov.created = now_iso8601();
    prov.filters = opt.filters.describe();
    prov.regions = requested_text;
    prov.window_size = opt.window_size;
    {
      try {
        Hid f(H5Fopen(output.tmp().c_str(), H5F_ACC_RDWR, H5P_DEFAULT), "cannot reopen " + output.tmp().string());
        features::write_store_metadata(f, variants, samples, labels.get(), windows, prov);
        if (covariates) features::write_covariates(f, *covariates, opt.covar);
        phase("tables");
        f.close("cannot close " + output.tmp().string());
      } catch (const IoError& x) {
        throw IoError(with_disk_full_note(x.what(), output.tmp()));
      }
    }
    phase("close");
    output.commit();
    phase("commit");
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    char buf[256];
    std::snprintf(buf, sizeof buf, "wrote %s: %lld samples x %lld variants, %lld windows, in %.1f s%s",
                  opt.output.c_str(), static_cast<long long>(n), static_cast<long long>(total_columns),
                  static_cast<long long>(facts.n_windows), wall,
                  collective_ok ? "" : " (warning: HDF5 fell back to independent I/O)");
    log_info(buf);
  });
}

}  // namespace genoforest::mpi
