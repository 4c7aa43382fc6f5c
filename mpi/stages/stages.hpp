#pragma once
/// @file stages.hpp
/// Entry points of the stages: each parses its options (command line + INI) and runs on every
/// rank. They throw UsageError/JobError; main() turns those into the one error line and exit code.
#include <filesystem>
#include <string>
#include <vector>

#include "cli.hpp"
#include "comm.hpp"

namespace genoforest::mpi {

/// What every stage receives.
struct StageCall {
  std::vector<std::string> args;  ///< arguments after the stage name
  std::string command_line;       ///< the whole command, for provenance
};

/// Each returns false when it only printed its --help.
bool run_main(const Comm& comm, const StageCall& call);
bool simulate_main(const Comm& comm, const StageCall& call);
bool index_main(const Comm& comm, const StageCall& call);
bool align_main(const Comm& comm, const StageCall& call);
bool call_main(const Comm& comm, const StageCall& call);
bool features_main(const Comm& comm, const StageCall& call);
bool summary_main(const Comm& comm, const StageCall& call);
bool train_main(const Comm& comm, const StageCall& call);
bool cv_main(const Comm& comm, const StageCall& call);
bool predict_main(const Comm& comm, const StageCall& call);
bool model_main(const Comm& comm, const StageCall& call);
bool pca_main(const Comm& comm, const StageCall& call);
bool cluster_main(const Comm& comm, const StageCall& call);
bool report_main(const Comm& comm, const StageCall& call);
bool explain_main(const Comm& comm, const StageCall& call);

/// Writes the HTML report of a run folder to `output` (and its MultiQC tables beside it), from one
/// process. Throws as the report's sections do (InputError naming a malformed file).
void write_html_report(const std::filesystem::path& run_dir, const std::filesystem::path& output);

/// For stages that allocate and free buffers of many MB over and over (features: per region and
/// wave; align: per bwa batch): glibc would map each afresh and the kernel zero its pages (200,000
/// page faults on a 2,000 x 100,000 features run). Keeps freed blocks of up to `keep_mb` MB in the
/// heap for reuse; the peak memory does not change.
void keep_freed_buffers(int keep_mb);

/// Applies --verbosity/--quiet of a parsed stage to the logger.
void apply_log_options(const Comm& comm, const std::string& stage, const std::string& verbosity, bool quiet);

/// Parses a stage's options (command line + INI) into `vm` and applies its log options. Returns
/// false when only --help was printed. Throws UsageError.
bool start_stage(const StageSpec& spec, const StageCall& call, po::variables_map& vm, const Comm& comm);

}  // namespace genoforest::mpi
