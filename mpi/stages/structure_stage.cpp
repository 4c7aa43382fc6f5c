#include "stages/structure_stage.hpp"

#include <hdf5.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <algorithm>
#include <limits>
#include <map>
#include <optional>

#include "genoforest/core/error.hpp"
#include "genoforest/core/files.hpp"
#include "genoforest/core/log.hpp"
#include "genoforest/core/subset.hpp"
#include "genoforest/core/text.hpp"
#include "genoforest/core/version.hpp"
#include "genoforest/features/store.hpp"
#include "genoforest/io/h5.hpp"
#include "genoforest/ml/cluster.hpp"
#include "genoforest/ml/pca.hpp"

#include <unistd.h>

namespace genoforest::mpi {

namespace fs = std::filesystem;
namespace h5 = io::h5;

namespace {

constexpr std::int64_t kSlabWidth = 1024;
constexpr const char* kPcaFormat = "genoforest.pca";
enum Stream : std::uint64_t { kKmeansInit = 311 };

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

/// What every rank knows of the samples, and the slabs this rank holds.
struct Data {
  std::int64_t n = 0;
  std::vector<std::string> samples;
  std::vector<std::string> population;  ///< empty strings when unknown
  std::vector<std::string> label;       ///< class name per sample ("" when missing or not a class)
  std::vector<ml::GenotypeSlab> slabs;  ///< genotype mode: this rank's slabs
  std::optional<Eigen::MatrixXf> pcs;   ///< PC mode: the scores (held by rank 0 only)
  std::int64_t n_slabs_total = 0;
  std::int64_t features = 0;            ///< columns used over all ranks
  [[nodiscard]] std::size_t local() const { return pcs ? 1 : slabs.size(); }
  [[nodiscard]] Eigen::MatrixXf matrix(std::size_t i) const {
    if (pcs) return *pcs;
    return slabs[i].matrix();
  }
};

std::vector<std::string> sample_annotations(hid_t file, std::int64_t n, const char* what) {
  std::vector<std::string> out(static_cast<std::size_t>(n));
  if (std::string(what) == "population") {
    if (h5::exists(file, "samples/population")) out = h5::read_strings(file, "samples/population");
    return out;
  }
  if (h5::exists(file, "samples/label")) return h5::read_strings(file, "samples/label");  // a .pca.h5
  if (h5::exists(file, "labels/code") && h5::exists(file, "labels/classes")) {
    const auto code = h5::read_vector<std::int32_t>(file, "labels/code");
    const auto classes = h5::read_strings(file, "labels/classes");
    for (std::size_t i = 0; i < out.size() && i < code.size(); ++i)
      if (code[i] >= 0 && static_cast<std::size_t>(code[i]) < classes.size()) out[i] = classes[static_cast<std::size_t>(code[i])];
  }
  return out;
}

/// Genotype slabs of a feature store: slab s on rank s mod size. No collective call: see load().
/// Store columns `cols` (ascending) of all store rows into `out` (n_store x cols.size(),
/// row-major), read a chunk column's span at a time.
void read_columns(hid_t ds, std::int64_t n_store, const std::int64_t* cols, std::int64_t k, std::vector<std::int8_t>& out) {
  out.resize(static_cast<std::size_t>(n_store * k));
  std::vector<std::int8_t> block;
  for (std::int64_t a = 0; a < k;) {
    std::int64_t b = a + 1;
    while (b < k && cols[b] / 1024 == cols[a] / 1024) ++b;
    const std::int64_t s0 = cols[a], span = cols[b - 1] + 1 - s0;
    block.resize(static_cast<std::size_t>(n_store * span));
    h5::read_block(ds, 0, static_cast<hsize_t>(n_store), static_cast<hsize_t>(s0), static_cast<hsize_t>(span), block.data());
    for (std::int64_t r = 0; r < n_store; ++r)
      for (std::int64_t j = a; j < b; ++j)
        out[static_cast<std::size_t>(r * k + j)] = block[static_cast<std::size_t>(r * span + cols[j] - s0)];
    a = b;
  }
}

Data load_genotypes(const Comm& comm, const std::string& path, const SampleSubset& subset, const VariantSubset& variants) {
  Data d;
  features::StoreReader store(path);
  const std::int64_t n_store = store.n_samples();
  d.samples = store.samples();
  d.population = sample_annotations(store.file(), n_store, "population");
  d.label = sample_annotations(store.file(), n_store, "label");
  std::vector<std::int64_t> rows;  // kept store rows (--keep/--remove); empty: all
  if (subset.active()) {
    rows = subset.select(d.samples, path);
    auto pick = [&](std::vector<std::string>& v) {
      std::vector<std::string> out;
      for (const auto r : rows) out.push_back(v[static_cast<std::size_t>(r)]);
      v = std::move(out);
    };
    pick(d.samples);
    pick(d.population);
    pick(d.label);
    if (comm.is_root()) log_info(subset.describe(rows.size(), static_cast<std::size_t>(n_store)));
  }
  d.n = static_cast<std::int64_t>(d.samples.size());
  // --extract/--exclude: the slabs cut the kept columns, numbered as a store of those alone numbers
  // them (the random start draws by column), so the PCs are those of a subset store.
  std::vector<std::int64_t> cols;
  if (variants.active()) {
    const auto chrom = h5::read_strings(store.file(), "variants/chrom");
    const auto pos = h5::read_vector<std::int64_t>(store.file(), "variants/pos");
    const auto id = h5::read_strings(store.file(), "variants/id");
    const auto ref = h5::read_strings(store.file(), "variants/ref");
    const auto alt = h5::read_strings(store.file(), "variants/alt");
    for (std::size_t i = 0; i < chrom.size(); ++i)
      if (variants.kept(chrom[i], pos[i], id[i], ref[i], alt[i])) cols.push_back(static_cast<std::int64_t>(i));
    if (cols.empty()) throw DataError(path + ": --extract/--exclude leave none of its " + std::to_string(chrom.size()) + " variants");
    if (comm.is_root()) log_info("--extract/--exclude: " + std::to_string(cols.size()) + " of " + std::to_string(chrom.size()) + " variants kept");
  }
  const std::int64_t m = cols.empty() ? store.n_variants() : static_cast<std::int64_t>(cols.size());
  d.n_slabs_total = (m + kSlabWidth - 1) / kSlabWidth;
  h5::Hid ds(H5Dopen2(store.file(), features::schema::kDosage, H5P_DEFAULT), "cannot open the dosage matrix of " + path);
  std::int64_t used = 0;
  for (std::int64_t s = comm.rank(); s < d.n_slabs_total; s += comm.size()) {
    ml::GenotypeSlab slab;
    slab.col0 = s * kSlabWidth;
    slab.width = std::min(kSlabWidth, m - slab.col0);
    slab.n = d.n;
    if (cols.empty()) {
      slab.g.resize(static_cast<std::size_t>(n_store * slab.width));
      h5::read_block(ds.get(), 0, static_cast<hsize_t>(n_store), static_cast<hsize_t>(slab.col0), static_cast<hsize_t>(slab.width),
                     slab.g.data());
    } else {
      read_columns(ds.get(), n_store, cols.data() + slab.col0, slab.width, slab.g);
    }
    if (!rows.empty()) {  // the kept rows, in order (row-major: each row's width values move up)
      const auto w = static_cast<std::size_t>(slab.width);
      for (std::size_t i = 0; i < rows.size(); ++i)
        std::copy_n(slab.g.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(rows[i]) * w), w,
                    slab.g.begin() + static_cast<std::ptrdiff_t>(i * w));
      slab.g.resize(rows.size() * w);
    }
    slab.standardise();
    used += slab.used();
    d.slabs.push_back(std::move(slab));
  }
  d.features = used;  // this rank's; load() sums over the ranks
  return d;
}

/// The PC scores of a .pca.h5 (first `pcs` of them; 0: all), on rank 0.
Data load_pcs(const Comm& comm, const std::string& path, int pcs) {
  Data d;
  h5::Hid f(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), "cannot open " + path);
  d.samples = h5::read_strings(f, "samples/id");
  d.n = static_cast<std::int64_t>(d.samples.size());
  d.population = sample_annotations(f, d.n, "population");
  d.label = sample_annotations(f, d.n, "label");
  const auto dims = h5::dims(f, "pca/scores");
  const auto k = static_cast<std::int64_t>(dims.at(1));
  if (pcs > k) throw UsageError("--pcs " + std::to_string(pcs) + " is more than the " + std::to_string(k) + " PCs in " + path);
  const std::int64_t use = pcs > 0 ? pcs : k;
  d.features = use;
  d.n_slabs_total = 1;
  if (comm.is_root()) {
    std::vector<double> all(static_cast<std::size_t>(d.n * k));
    h5::Hid ds(H5Dopen2(f, "pca/scores", H5P_DEFAULT), "cannot open pca/scores in " + path);
    h5::check(H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, all.data()), "cannot read pca/scores in " + path);
    Eigen::MatrixXf x(d.n, use);
    for (std::int64_t i = 0; i < d.n; ++i)
      for (std::int64_t c = 0; c < use; ++c) x(i, c) = static_cast<float>(all[static_cast<std::size_t>(i * k + c)]);
    d.pcs = std::move(x);
  }
  return d;
}

/// Loads on every rank; a failure on any rank ends the job once (agree), never a hang.
Data load(const Comm& comm, const std::string& path, bool pcs, int n_pcs, const std::string& keep, const std::string& remove,
          const std::string& extract, const std::string& exclude) {
  Data d;
  std::exception_ptr e;
  try {
    const auto subset = SampleSubset::from_files(keep, remove);
    const auto variants = VariantSubset::from_files(extract, exclude);
    if (pcs && (subset.active() || variants.active())) {
      throw UsageError("--keep/--remove/--extract/--exclude apply to a feature store, not to PC scores (" + path + ")");
    }
    d = pcs ? load_pcs(comm, path, n_pcs) : load_genotypes(comm, path, subset, variants);
  } catch (...) {
    e = std::current_exception();
  }
  comm.agree(e);
  if (!pcs) {
    d.features = comm.sum(d.features);
    if (d.features == 0) {
      comm.agree(std::make_exception_ptr(DataError(path + ": no polymorphic variant (every column is constant or missing)")));
    }
  }
  return d;
}

bool is_pca_file(const std::string& path) {
  h5::mute_hdf5_errors();
  if (H5Fis_hdf5(path.c_str()) <= 0) return false;
  h5::Hid f(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), "cannot open " + path);
  return H5Aexists(f, "format") > 0 && h5::read_attr_string(f, "format") == kPcaFormat;
}

void write_matrix(hid_t file, const std::string& name, const Eigen::MatrixXd& m) {
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> r = m;
  const hsize_t dims[2] = {static_cast<hsize_t>(m.rows()), static_cast<hsize_t>(m.cols())};
  h5::Hid space(H5Screate_simple(2, dims, nullptr), "cannot create a dataspace");
  h5::Hid ds(H5Dcreate2(file, name.c_str(), H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), "cannot create " + name);
  h5::check(H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, r.data()), "cannot write " + name);
}

std::string fmt(double v, const char* f = "%.6g") {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

/// Squared Euclidean distances between all samples, summed exactly over the slabs.
Eigen::MatrixXd pairwise_sq_distances(const Comm& comm, const Data& d) {
  const auto n = static_cast<std::size_t>(d.n);
  ExactSum acc(n * (n - 1) / 2);
  for (std::size_t s = 0; s < d.local(); ++s) ml::add_pairwise_sq_distances(d.matrix(s), acc);
  comm.sum_exact(acc);
  return ml::pairs_to_matrix(acc, d.n);
}

/// Squared distances of every sample to the centres (per local slab: k x width), reduced exactly.
Eigen::MatrixXd distances_to(const Comm& comm, const Data& d, const std::vector<Eigen::MatrixXd>& centres, int k) {
  ExactSum acc(static_cast<std::size_t>(d.n * k));
  for (std::size_t s = 0; s < d.local(); ++s) ml::add_matrix(acc, ml::slab_sq_distances(d.matrix(s), centres[s]));
  comm.sum_exact(acc);
  return ml::to_matrix(acc, d.n, k);
}

struct KmeansResult {
  std::vector<int> cluster;
  double inertia = 0;
  int iterations = 0;
};

KmeansResult kmeans(const Comm& comm, const Data& d, const ClusterOptions& o) {
  std::optional<KmeansResult> best;
  for (int init = 0; init < o.n_init; ++init) {
    Rng rng(task_seed(o.seed, kKmeansInit, static_cast<std::uint64_t>(init)));
    std::vector<Eigen::MatrixXd> centres(d.local());
    std::vector<Eigen::MatrixXf> mats;
    for (std::size_t s = 0; s < d.local(); ++s) {
      mats.push_back(d.matrix(s));
      centres[s] = Eigen::MatrixXd::Zero(o.k, mats[s].cols());
    }
    auto set_centre = [&](int c, std::int64_t row) {
      for (std::size_t s = 0; s < d.local(); ++s) centres[s].row(c) = mats[s].row(row).cast<double>();
    };
    // k-means++ seeding: each new centre drawn with probability proportional to D^2.
    set_centre(0, static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(d.n))));
    std::vector<double> d2min(static_cast<std::size_t>(d.n), std::numeric_limits<double>::infinity());
    for (int c = 1; c <= o.k; ++c) {
      std::vector<Eigen::MatrixXd> one(d.local());
      for (std::size_t s = 0; s < d.local(); ++s) one[s] = centres[s].row(c - 1);
      const Eigen::MatrixXd dc = distances_to(comm, d, one, 1);
      for (std::int64_t i = 0; i < d.n; ++i) d2min[static_cast<std::size_t>(i)] = std::min(d2min[static_cast<std::size_t>(i)], dc(i, 0));
      if (c < o.k) set_centre(c, ml::kmeanspp_draw(d2min, rng));
    }
    KmeansResult r;
    for (r.iterations = 1; r.iterations <= o.max_iter; ++r.iterations) {
      const Eigen::MatrixXd dist = distances_to(comm, d, centres, o.k);
      auto cluster = ml::nearest(dist, r.inertia);
      const bool same = cluster == r.cluster;
      r.cluster = std::move(cluster);
      if (same) break;
      for (std::size_t s = 0; s < d.local(); ++s) centres[s] = ml::slab_centroids(mats[s], r.cluster, o.k, centres[s]);
    }
    r.iterations = std::min(r.iterations, o.max_iter);
    log_debug("k-means start " + std::to_string(init + 1) + ": inertia " + fmt(r.inertia) + " after " + std::to_string(r.iterations) + " iterations");
    if (!best || r.inertia < best->inertia) best = std::move(r);
  }
  return *best;
}

std::vector<int> codes_of(const std::vector<std::string>& names) {
  std::map<std::string, int> id;
  std::vector<int> out;
  for (const auto& s : names) {
    if (s.empty()) {
      out.push_back(-1);
      continue;
    }
    out.push_back(id.emplace(s, static_cast<int>(id.size())).first->second);
  }
  return out;
}

bool any_known(const std::vector<std::string>& v) {
  return std::any_of(v.begin(), v.end(), [](const std::string& s) { return !s.empty(); });
}

}  // namespace

void run_pca(const Comm& comm, const PcaOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  if (o.input.empty()) throw UsageError("a feature store is required (positional)");
  if (o.output.empty()) throw UsageError("-o/--output PREFIX is required");
  if (o.pcs < 1) throw UsageError("--pcs must be at least 1");
  if (o.oversample < 0 || o.iterations < 0) throw UsageError("--oversample and --iterations must be >= 0");
  comm.on_root([&] {
    std::vector<NamedPath> outputs;
    for (const char* ext : {".eigenvec", ".eigenval", ".pca.h5"}) outputs.push_back({"-o/--output", o.output + ext});
    check_outputs({{"the input", o.input}, {"--keep", o.keep}, {"--remove", o.remove}, {"--extract", o.extract}, {"--exclude", o.exclude}}, outputs);
  });
  const Data d = load(comm, o.input, false, 0, o.keep, o.remove, o.extract, o.exclude);
  if (o.pcs >= d.n) throw UsageError("--pcs " + std::to_string(o.pcs) + " must be smaller than the number of samples (" + std::to_string(d.n) + ")");
  if (o.pcs > d.features) throw UsageError("--pcs " + std::to_string(o.pcs) + " is more than the " + std::to_string(d.features) + " polymorphic variants");
  const int l = static_cast<int>(std::min<std::int64_t>({o.pcs + o.oversample, d.n, d.features}));
  comm.on_root([&] {
    log_info(std::to_string(d.n) + " samples x " + std::to_string(d.features) + " polymorphic variants in " + std::to_string(d.n_slabs_total) +
             " slabs over " + std::to_string(comm.size()) + " rank(s); " + std::to_string(o.pcs) + " PCs, subspace " + std::to_string(l) + ", " +
             std::to_string(o.iterations) + " power iterations");
  });
  ExactSum acc(static_cast<std::size_t>(d.n * l));
  for (const auto& s : d.slabs) ml::add_random_projection(s, l, o.seed, acc);
  comm.sum_exact(acc);
  Eigen::MatrixXd y = ml::to_matrix(acc, d.n, l);
  for (int it = 0; it < o.iterations; ++it) {
    const Eigen::MatrixXd q = ml::orthonormalize(y);
    acc.resize(static_cast<std::size_t>(d.n * l));
    for (const auto& s : d.slabs) ml::add_power_step(s, q, acc);
    comm.sum_exact(acc);
    y = ml::to_matrix(acc, d.n, l);
  }
  const Eigen::MatrixXd q = ml::orthonormalize(y);
  ExactSum tacc(static_cast<std::size_t>(l * l));
  for (const auto& s : d.slabs) ml::add_projected_gram(s, q, tacc);
  comm.sum_exact(tacc);
  const ml::PcaResult r = ml::finish_pca(q, ml::to_matrix(tacc, l, l), o.pcs, d.features);

  comm.on_root([&] {
    const std::string token = temp_token();
    std::string vec = "#IID\tpopulation";
    for (int c = 0; c < o.pcs; ++c) vec += "\tPC" + std::to_string(c + 1);
    vec += "\n";
    for (std::int64_t i = 0; i < d.n; ++i) {
      vec += d.samples[static_cast<std::size_t>(i)] + "\t" + (d.population[static_cast<std::size_t>(i)].empty() ? "NA" : d.population[static_cast<std::size_t>(i)]);
      for (int c = 0; c < o.pcs; ++c) vec += "\t" + fmt(r.scores(i, c), "%.8g");
      vec += "\n";
    }
    std::string val;
    for (double e : r.eigenvalues) val += fmt(e, "%.8g") + "\n";
    AtomicOutput h5out(o.output + ".pca.h5", token);
    {
      h5::Hid f(H5Fcreate(h5out.tmp().c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), "cannot create " + h5out.tmp().string());
      h5::write_attr(f, "format", std::string(kPcaFormat));
      h5::write_attr(f, "genoforest_version", std::string(kVersion));
      h5::write_attr(f, "command_line", o.command_line);
      h5::write_attr(f, "source", o.input);
      h5::write_attr(f, "variants_used", r.variants_used);
      h5::create_group(f, "samples");
      h5::write_strings(f, "samples/id", d.samples);
      h5::write_strings(f, "samples/population", d.population);
      h5::write_strings(f, "samples/label", d.label);
      h5::create_group(f, "pca");
      write_matrix(f, "pca/scores", r.scores);
      h5::write_vector(f, "pca/eigenvalues", r.eigenvalues);
    }
    write_atomically(o.output + ".eigenvec", vec);
    write_atomically(o.output + ".eigenval", val);
    h5out.commit();
    std::string top;
    for (std::size_t c = 0; c < std::min<std::size_t>(5, r.eigenvalues.size()); ++c) top += (c ? ", " : "") + fmt(r.eigenvalues[c], "%.4g");
    log_info("eigenvalues " + top + (r.eigenvalues.size() > 5 ? ", ..." : "") + "; wrote " + o.output + ".eigenvec, .eigenval, .pca.h5 in " +
             fmt(seconds_since(t0), "%.1f") + " s");
  });
}

void run_cluster(const Comm& comm, const ClusterOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  if (o.input.empty()) throw UsageError("an input is required: a feature store, or PREFIX.pca.h5 from genoforest pca");
  if (o.output.empty()) throw UsageError("-o/--output PREFIX is required");
  if (o.method != "kmeans" && o.method != "hierarchical") throw UsageError("--method must be kmeans or hierarchical");
  const ml::Linkage linkage = ml::parse_linkage(o.linkage);
  if (o.k < 1) throw UsageError("-k/--clusters is required (at least 1)");
  if (o.n_init < 1 || o.max_iter < 1) throw UsageError("--n-init and --max-iter must be at least 1");
  if (!fs::exists(o.input)) throw IoError("cannot open " + o.input + ": no such file");
  comm.on_root([&] {
    check_outputs({{"the input", o.input}, {"--keep", o.keep}, {"--remove", o.remove}, {"--extract", o.extract}, {"--exclude", o.exclude}},
                  {{"-o/--output", o.output + ".clusters.tsv"}, {"-o/--output", o.output + ".cluster.json"}});
  });
  const bool pcs = is_pca_file(o.input);
  const Data d = load(comm, o.input, pcs, o.pcs, o.keep, o.remove, o.extract, o.exclude);
  if (o.k > d.n) {
    throw UsageError("-k " + std::to_string(o.k) + " is larger than the number of samples (" + std::to_string(d.n) + ")");
  }
  const std::string space = pcs ? std::to_string(d.features) + " PCs" : std::to_string(d.features) + " standardised genotypes";
  comm.on_root([&] { log_info(o.method + " clustering of " + std::to_string(d.n) + " samples on " + space + ", k = " + std::to_string(o.k)); });

  // Pairwise distances: needed by hierarchical clustering and the silhouette (n x n doubles).
  constexpr std::int64_t kMaxPairwise = 20'000;
  std::optional<Eigen::MatrixXd> d2;
  if (o.method == "hierarchical" || d.n <= kMaxPairwise) {
    if (d.n > kMaxPairwise) {
      comm.agree(std::make_exception_ptr(DataError("hierarchical clustering of " + std::to_string(d.n) + " samples needs a " + std::to_string(d.n) + " x " +
                      std::to_string(d.n) + " distance matrix; use --method kmeans beyond " + std::to_string(kMaxPairwise) + " samples")));
    }
    d2 = pairwise_sq_distances(comm, d);
  }
  std::vector<int> cluster;
  double inertia = std::numeric_limits<double>::quiet_NaN();
  int iterations = 0;
  if (o.method == "kmeans") {
    auto r = kmeans(comm, d, o);
    cluster = ml::canonical_labels(r.cluster);
    inertia = r.inertia;
    iterations = r.iterations;
  } else {
    std::exception_ptr e;
    if (comm.is_root()) {
      try {
        cluster = ml::hierarchical(*d2, linkage, o.k);
      } catch (...) {
        e = std::current_exception();
      }
    }
    comm.agree(e);
  }
  comm.on_root([&] {
    const double sil = d2 ? ml::silhouette(*d2, cluster) : std::numeric_limits<double>::quiet_NaN();
    const bool has_pop = any_known(d.population), has_label = any_known(d.label);
    const double ari_pop = has_pop ? ml::adjusted_rand_index(cluster, codes_of(d.population)) : std::nan("");
    const double ari_label = has_label ? ml::adjusted_rand_index(cluster, codes_of(d.label)) : std::nan("");
    std::vector<std::int64_t> sizes(static_cast<std::size_t>(o.k), 0);
    for (int c : cluster) ++sizes[static_cast<std::size_t>(c)];
    std::string tsv = "sample_id\tcluster\tpopulation\tlabel\n";
    for (std::int64_t i = 0; i < d.n; ++i) {
      const auto u = static_cast<std::size_t>(i);
      tsv += d.samples[u] + "\t" + std::to_string(cluster[u] + 1) + "\t" + (d.population[u].empty() ? "NA" : d.population[u]) + "\t" +
             (d.label[u].empty() ? "NA" : d.label[u]) + "\n";
    }
    auto jnum = [](double v) { return std::isfinite(v) ? fmt(v, "%.10g") : std::string("null"); };
    std::string json = "{\n  \"tool\": \"genoforest " + std::string(kVersion) + "\",\n  \"input\": " + json_string(o.input) +
                       ",\n  \"space\": " + json_string(space) + ",\n  \"method\": " + json_string(o.method) +
                       (o.method == "hierarchical" ? ",\n  \"linkage\": " + json_string(o.linkage) : "") + ",\n  \"k\": " + std::to_string(o.k) +
                       ",\n  \"sizes\": [";
    for (std::size_t c = 0; c < sizes.size(); ++c) json += (c ? ", " : "") + std::to_string(sizes[c]);
    json += "],\n  \"silhouette\": " + jnum(sil) + ",\n  \"ari_population\": " + jnum(ari_pop) + ",\n  \"ari_label\": " + jnum(ari_label);
    if (o.method == "kmeans") json += ",\n  \"inertia\": " + jnum(inertia) + ",\n  \"iterations\": " + std::to_string(iterations);
    json += "\n}\n";
    write_atomically(o.output + ".clusters.tsv", tsv);
    write_atomically(o.output + ".cluster.json", json);
    std::string msg = "cluster sizes";
    for (auto s : sizes) msg += " " + std::to_string(s);
    msg += "; silhouette " + (std::isfinite(sil) ? fmt(sil, "%.4f") : std::string("n/a"));
    if (has_pop) msg += ", ARI vs populations " + fmt(ari_pop, "%.4f");
    if (has_label) msg += ", ARI vs labels " + fmt(ari_label, "%.4f");
    if (o.method == "kmeans") msg += ", inertia " + fmt(inertia);
    log_info(msg);
    log_info("wrote " + o.output + ".clusters.tsv and .cluster.json in " + fmt(seconds_since(t0), "%.1f") + " s");
  });
}

}  // namespace genoforest::mpi
