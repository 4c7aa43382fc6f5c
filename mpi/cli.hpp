#pragma once
/// @file cli.hpp
/// Command-line and INI-config handling shared by every stage.
///
/// One Boost.Program_options table per stage serves both: `--config X.ini` reads the `[stage]`
/// section, whose keys are the long option names (`min-maf = 0.01`, `pass-only = true`); the
/// command line overrides the file; an unknown key is an error naming the key and the file.
#include <boost/program_options.hpp>

#include <string>
#include <vector>

#include "comm.hpp"

namespace genoforest::mpi {

namespace po = boost::program_options;

/// What a stage declares: its name, one-line purpose, usage line, option groups, positionals.
/// A short option a stage had before the letters were made the same across stages (docs/cli.md):
/// still accepted, as its long option, with a warning.
struct RenamedShort {
  char letter;
  std::string long_name;  ///< the option it stands for
  std::string now;        ///< what to write instead ("-f", or "--prefix")
};

struct StageSpec {
  std::string name;
  std::string purpose;
  std::string usage;  ///< "[options] <in.vcf.gz>"
  std::vector<po::options_description> groups;
  po::positional_options_description positional;
  std::vector<RenamedShort> renamed;
};

/// `args` with the stage's renamed short options ("-t 4", "-t4") written as their long options;
/// `notes` gets one warning line per letter used.
[[nodiscard]] std::vector<std::string> rewrite_renamed(const StageSpec& spec, const std::vector<std::string>& args,
                                                       std::vector<std::string>& notes);

/// Parses `args` (after the stage name) plus an optional `--config` file into `vm`. Returns false
/// when --help was given (the help is printed on rank 0's stdout). Throws UsageError.
bool parse_stage_options(const StageSpec& spec, const std::vector<std::string>& args, po::variables_map& vm,
                         const Comm& comm);

/// The options every stage has (--config, --verbosity, --quiet, --help).
[[nodiscard]] po::options_description common_options();

/// Reads the `[section]` of an INI file as "--key=value" arguments (flags: "--key" when true).
/// Throws UsageError naming the file and line for a malformed line or an unknown section.
[[nodiscard]] std::vector<std::string> ini_section_as_args(const std::string& path, const std::string& section,
                                                           const po::options_description& known);

/// The sections of an INI file in file order, each with its "key=value" lines (trimmed, comments
/// dropped). Throws UsageError naming the file for an unreadable file.
[[nodiscard]] std::vector<std::pair<std::string, std::vector<std::string>>> ini_sections(const std::string& path);

/// Stage names accepted as INI sections.
[[nodiscard]] const std::vector<std::string>& stage_names();

}  // namespace genoforest::mpi
