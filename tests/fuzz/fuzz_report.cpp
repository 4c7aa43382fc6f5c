// The report's readers (`genoforest report`): a run report and the files of a run folder, any
// bytes, must give a report or a refusal with a line, never a crash. The first byte chooses what
// the rest is: the run report itself (odd), or the content of every file a fixed run report names
// (align's BAM list and QC JSON, the calls, the CV report and predictions, the importances, the
// PCA and cluster tables).
#include <filesystem>
#include <fstream>

#include "fuzz_common.hpp"
#include "genoforest/report/report.hpp"

using namespace genoforest;
namespace fs = std::filesystem;

namespace {
void write(const fs::path& p, const char* data, std::size_t size) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(data, static_cast<std::streamsize>(size));
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const fs::path dir = fs::temp_directory_path() / ("gf-fuzz-report-" + std::to_string(::getpid()));
  fs::create_directories(dir / "bams");
  const char* body = reinterpret_cast<const char*>(data) + 1;
  const std::size_t n = size - 1;
  if (data[0] & 1) {
    write(dir / "genoforest-run.json", body, n);
  } else {
    const std::string run = R"({"genoforest": "f", "config": "f.ini", "ranks": 1, "status": "finished", "wall_s": 1, "stages": [
      {"stage": "align", "status": "ran", "options": [["output-dir", "bams"]]},
      {"stage": "call", "status": "ran", "options": [["output", "calls.vcf"]]},
      {"stage": "train", "status": "ran", "options": [["output", "m.gfm"]]},
      {"stage": "cv", "status": "ran", "options": [["output", "cv.json"], ["predictions", "p.tsv"]]},
      {"stage": "pca", "status": "ran", "options": [["output", "p"]]},
      {"stage": "cluster", "status": "ran", "options": [["output", "p"]]}]})";
    write(dir / "genoforest-run.json", run.data(), run.size());
    for (const char* f : {"bams/A.qc.json", "calls.vcf", "cv.json", "p.tsv", "m.gfm.importance.tsv", "p.eigenvec", "p.eigenval", "p.clusters.tsv"})
      write(dir / f, body, n);
    write(dir / "bams/bams.list", "bams/A.bam\n", 11);
  }
  fuzz::expect_clean([&] {
    const auto run = report::read_run(dir);
    (void)report::render_html(run, report::all_sections(run));
  });
  return 0;
}
