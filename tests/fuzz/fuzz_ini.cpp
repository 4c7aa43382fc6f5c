// The INI config of `genoforest run` and `--config`: the sections, and each stage's section read
// against that stage's options.
#include "cli.hpp"
#include "fuzz_common.hpp"

using namespace genoforest;
namespace po = boost::program_options;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = fuzz::as_file(data, size, ".ini");
  fuzz::expect_clean([&] {
    const auto sections = mpi::ini_sections(path.string());
    po::options_description known = mpi::common_options();
    known.add_options()("output,o", po::value<std::string>())("trees", po::value<int>())("min-maf", po::value<double>())(
        "pass-only", po::bool_switch());
    for (const auto& section : sections) {
      fuzz::expect_clean([&] { (void)mpi::ini_section_as_args(path.string(), section.first, known); });
    }
  });
  return 0;
}
