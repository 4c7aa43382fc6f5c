// genoforest: the program's entry point. Initialises MPI, dispatches to a stage, and turns every
// error into exactly one line on stderr and a documented exit code (docs/errors.md).
#include <sys/resource.h>

#include <chrono>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>

#include <hdf5.h>
#include <htslib/hts.h>
#include <mpi.h>

#include <Eigen/Core>
#include <boost/version.hpp>

#include "comm.hpp"
#include "journal.hpp"
#include "genoforest/core/log.hpp"
#include "genoforest/core/version.hpp"
#include "genoforest/io/h5.hpp"
#include "genoforest/io/scaleoffset.hpp"
#include "genoforest/io/vcf.hpp"
#include "stages/stages.hpp"

#include <malloc.h>

namespace gf = genoforest;
using gf::mpi::Comm;

namespace genoforest::mpi {
void keep_freed_buffers(int keep_mb) {
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, keep_mb << 20);
}

void apply_log_options(const Comm& comm, const std::string& stage, const std::string& verbosity, bool quiet) {
  LogLevel level;
  if (verbosity == "error") level = LogLevel::kError;
  else if (verbosity == "warning") level = LogLevel::kWarning;
  else if (verbosity == "info") level = LogLevel::kInfo;
  else if (verbosity == "debug") level = LogLevel::kDebug;
  else throw UsageError("--verbosity must be error, warning, info or debug (got '" + verbosity + "')");
  if (quiet) level = std::min(level, LogLevel::kWarning);
  configure_log(stage, level, comm.size() > 1 ? "rank " + std::to_string(comm.rank()) : "", comm.is_root());
}

bool start_stage(const StageSpec& spec, const StageCall& call, po::variables_map& vm, const Comm& comm) {
  std::vector<std::string> notes;
  const auto args = rewrite_renamed(spec, call.args, notes);
  if (!parse_stage_options(spec, args, vm, comm)) return false;
  apply_log_options(comm, spec.name, vm["verbosity"].as<std::string>(), vm["quiet"].as<bool>());
  if (comm.is_root())
    for (const auto& n : notes) log_warning(n);
  return true;
}
}  // namespace genoforest::mpi

namespace {

struct Stage {
  const char* summary;
  std::function<bool(const Comm&, const gf::mpi::StageCall&)> run;
};

const std::map<std::string, Stage>& stages() {
  static const std::map<std::string, Stage> s = {
      {"run", {"run the stages of a config file in order, in one run folder; resumes after an interruption", gf::mpi::run_main}},
      {"simulate", {"simulate a cohort: genotypes (VCF/BCF), phenotypes, causal variants", gf::mpi::simulate_main}},
      {"index", {"build the bwa index and .fai of a reference FASTA (skipped when up to date)", gf::mpi::index_main}},
      {"align", {"reads -> QC -> BWA-MEM (in-process) -> sorted, indexed, duplicate-marked BAM per sample", gf::mpi::align_main}},
      {"call", {"joint variant calling: BAMs of many samples -> one indexed VCF/BCF (regions over the ranks)", gf::mpi::call_main}},
      {"features", {"VCF/BCF (+ phenotypes) -> HDF5 feature store, written in parallel", gf::mpi::features_main}},
      {"summary", {"print what a feature store holds", gf::mpi::summary_main}},
      {"train", {"train a random forest (trees spread over the ranks); OOB error, importances", gf::mpi::train_main}},
      {"cv", {"stratified k-fold cross-validation of the forest (folds x trees over the ranks)", gf::mpi::cv_main}},
      {"pca", {"principal components of the genotypes (randomized, variant slabs over the ranks)", gf::mpi::pca_main}},
      {"cluster", {"k-means or hierarchical clustering of the samples on PCs or genotypes", gf::mpi::cluster_main}},
      {"predict", {"predict new samples (feature store or VCF/BCF) with a trained model", gf::mpi::predict_main}},
      {"explain", {"exact TreeSHAP values per sample and variant of a forest or boosted trees (HDF5 + mean |SHAP| TSV)", gf::mpi::explain_main}},
      {"report", {"one self-contained HTML report of a run folder (plots inlined; opens offline)", gf::mpi::report_main}},
      {"model", {"work on a trained model: 'model dump' writes it as JSON for other tools", gf::mpi::model_main}},
  };
  return s;
}

/// `call` keeps a BAM and its index open per sample: the soft limit on open files (often 1024)
/// goes up to the hard limit, which the system lets any process do.
void raise_open_file_limit() {
  struct rlimit r {};
  if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);  // best effort: an open that still fails names EMFILE
  }
}

void usage(std::FILE* out) {
  std::string s = "genoforest " + std::string(gf::kVersion) +
                  ": population-scale genomics and machine learning with MPI\n\n"
                  "Usage: [mpirun -n N] genoforest <stage> [options]\n\nStages:\n";
  for (const auto& [name, st] : stages()) {
    char line[200];
    std::snprintf(line, sizeof line, "  %-10s %s\n", name.c_str(), st.summary);
    s += line;
  }
  s += "\n'genoforest <stage> --help' lists a stage's options. 'genoforest --version' prints the version, the commit and the libraries it was built with.\n";
  std::fputs(s.c_str(), out);
}

/// `genoforest --version`: the version, the commit, and the libraries it was built with (and, where
/// they differ, runs with).
std::string version_text() {
  std::string s = "genoforest " + std::string(gf::kVersion) + " (git " + gf::kGitCommit + ")\n";
  char buf[512];
  const int hts = HTS_VERSION;
  std::snprintf(buf, sizeof buf, "htslib %d.%d (built with), %s (running)\n", hts / 100000, hts / 100 % 1000, hts_version());
  s += buf;
  unsigned maj = 0, min = 0, rel = 0;
  H5get_libversion(&maj, &min, &rel);
  std::snprintf(buf, sizeof buf, "HDF5 %d.%d.%d (built with, parallel), %u.%u.%u (running)\n", H5_VERS_MAJOR, H5_VERS_MINOR,
                H5_VERS_RELEASE, maj, min, rel);
  s += buf;
  char mpi[MPI_MAX_LIBRARY_VERSION_STRING] = "";
  int len = 0;
  MPI_Get_library_version(mpi, &len);
  std::string mpi_line(mpi, static_cast<std::size_t>(std::max(0, len)));
  if (const auto cut = mpi_line.find_first_of(",\n"); cut != std::string::npos) mpi_line.resize(cut);
#ifdef OMPI_MAJOR_VERSION
  std::snprintf(buf, sizeof buf, "Open MPI %d.%d.%d (built with), %s (running)\n", OMPI_MAJOR_VERSION, OMPI_MINOR_VERSION,
                OMPI_RELEASE_VERSION, mpi_line.c_str());
#else
  std::snprintf(buf, sizeof buf, "MPI: %s (running)\n", mpi_line.c_str());
#endif
  s += buf;
  s += "bwa " + std::string(gf::kBwaVersion) + " (libbwa-dev)\n";
  std::snprintf(buf, sizeof buf, "Eigen %d.%d.%d, Boost %d.%d.%d\n", EIGEN_WORLD_VERSION, EIGEN_MAJOR_VERSION,
                EIGEN_MINOR_VERSION, BOOST_VERSION / 100000, BOOST_VERSION / 100 % 1000, BOOST_VERSION % 100);
  s += buf;
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  gf::mpi::Environment env(argc, argv);
  const Comm world;
  gf::configure_log("", gf::LogLevel::kInfo, world.size() > 1 ? "rank " + std::to_string(world.rank()) : "",
                    world.is_root());
  gf::mpi::install_stop_handlers();
  raise_open_file_limit();
  gf::io::quiet_htslib();
  gf::io::h5::disable_hdf5_atexit();
  gf::io::h5::mute_hdf5_errors();
  gf::io::h5::install_scaleoffset_codec();

  std::string command_line = "genoforest";
  for (int i = 1; i < argc; ++i) command_line += std::string(" ") + argv[i];

  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
    if (world.is_root()) usage(argc < 2 ? stderr : stdout);
    env.finalize();
    return argc < 2 ? static_cast<int>(gf::ExitCode::kUsage) : 0;
  }
  const std::string name = argv[1];
  if (name == "--version" || name == "version") {
    if (world.is_root()) std::fputs(version_text().c_str(), stdout);
    env.finalize();
    return 0;
  }
  const auto it = stages().find(name);
  if (it == stages().end()) {
    if (world.is_root()) {
      std::fprintf(stderr, "genoforest: error: unknown stage '%s'\n", name.c_str());
      usage(stderr);
    }
    env.finalize();
    return static_cast<int>(gf::ExitCode::kUsage);
  }
  gf::configure_log(name, gf::LogLevel::kInfo, world.size() > 1 ? "rank " + std::to_string(world.rank()) : "",
                    world.is_root());
  gf::mpi::set_stop_line(name, world.is_root());

  const auto t0 = std::chrono::steady_clock::now();
  gf::mpi::StageCall call{std::vector<std::string>(argv + 2, argv + argc), command_line};
  try {
    if (!it->second.run(world, call)) {  // only --help
      env.finalize();
      return 0;
    }
  } catch (const gf::mpi::JobError& e) {
    // The job ends with this error: a SIGTERM that mpirun sends meanwhile (another rank has
    // exited with the code) must not add a second line.
    gf::mpi::set_stop_line(name, false);
    // Every rank knows: rank 0 reports once, everyone ends cleanly. An error only this rank knows
    // (the others are stuck) is reported here, and this rank ends without finalize: mpirun then
    // stops the others and exits with this code.
    if (world.is_root() || e.alone()) gf::log_error(e.what());
    if (e.alone() || gf::io::h5::handles_abandoned()) {
      // A parallel file left open after a failed write (every rank let go of it): MPI_Finalize
      // would close it through HDF5 and hang, so the ranks end here, with the agreed code.
      std::fflush(nullptr);
      std::_Exit(static_cast<int>(e.code()));
    }
    env.finalize();
    return static_cast<int>(e.code());
  } catch (const gf::UsageError& e) {
    gf::mpi::set_stop_line(name, false);
    // Option parsing is the same on every rank, so every rank is here.
    if (world.is_root()) gf::log_error(e.what());
    env.finalize();
    return static_cast<int>(e.code());
  } catch (...) {
    gf::mpi::set_stop_line(name, false);
    gf::ExitCode code;
    std::string msg;
    gf::mpi::describe_exception(std::current_exception(), code, msg);
    if (world.size() > 1) msg = "rank " + std::to_string(world.rank()) + ": " + msg;
    gf::log_error(msg);
    if (world.size() > 1) gf::mpi::Environment::abort(static_cast<int>(code));
    if (gf::io::h5::handles_abandoned()) {
      std::fflush(nullptr);
      std::_Exit(static_cast<int>(code));
    }
    env.finalize();
    return static_cast<int>(code);
  }
  // Run summary: wall time, CPU over all ranks, largest peak RSS of any rank.
  const auto cpu_ms = world.sum(static_cast<std::int64_t>(gf::cpu_seconds() * 1000.0));
  const auto rss = world.max(gf::peak_rss_bytes());
  if (world.is_root()) {
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    char buf[256];
    std::snprintf(buf, sizeof buf, "done: genoforest %s, %d rank(s), wall %.2f s, CPU %.2f s, peak RSS %s (largest rank)",
                  gf::kVersion, world.size(), wall, static_cast<double>(cpu_ms) / 1000.0,
                  gf::human_bytes(rss).c_str());
    gf::log_info(buf);
  }
  env.finalize();
  return 0;
}
