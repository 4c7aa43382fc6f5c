// genoforest report [RUN_DIR] [-o FILE]: the HTML report of a run folder (docs/report.md).
#include <filesystem>

#include "cli.hpp"
#include "genoforest/core/error.hpp"
#include "genoforest/core/files.hpp"
#include "genoforest/core/log.hpp"
#include "genoforest/core/text.hpp"
#include "genoforest/report/report.hpp"
#include "stages/stages.hpp"

namespace genoforest::mpi {

namespace fs = std::filesystem;

void write_html_report(const fs::path& run_dir, const fs::path& output) {
  const auto run = report::read_run(run_dir);
  // No output may replace a file of the run.
  std::vector<NamedPath> inputs{{"the run report", run_dir / "genoforest-run.json"}};
  for (const auto& s : run.stages)
    for (const auto& [k, v] : s.options)
      if (k == "input" || k == "output" || k == "predictions" || k == "phenotypes") inputs.push_back({"[" + s.name + "] " + k, run.path(v)});
  const auto sections = report::all_sections(run);
  std::vector<NamedPath> outputs{{"-o/--output", output}};
  const std::string stem = output.extension() == ".html" ? output.stem().string() : output.filename().string();
  for (const auto& s : sections)
    if (!s.multiqc.empty()) outputs.push_back({"the MultiQC table of section " + s.id, output.parent_path() / (stem + "_" + s.id + "_mqc.json")});
  check_outputs(inputs, outputs);
  const std::string html = report::render_html(run, sections);
  std::size_t plots = 0;
  for (const auto& s : sections) plots += s.plots.size();
  for (std::size_t i = 1; i < outputs.size(); ++i) {
    for (const auto& s : sections)
      if (outputs[i].option == "the MultiQC table of section " + s.id) write_atomically(outputs[i].path, s.multiqc);
  }
  write_atomically(output, html);
  std::string names;
  for (const auto& s : sections) names += (names.empty() ? "" : ", ") + s.id;
  log_info("wrote " + output.string() + " (" + format_size(static_cast<std::int64_t>(html.size())) + ", sections: " + names + "; " +
           std::to_string(plots) + " plots; opens offline)" + (outputs.size() > 1 ? " and " + std::to_string(outputs.size() - 1) + " MultiQC table(s)" : ""));
}

bool report_main(const Comm& comm, const StageCall& call) {
  std::string run_dir, output;
  StageSpec spec;
  spec.name = "report";
  spec.purpose =
      "Writes one self-contained HTML report of a run folder of 'genoforest run' (stages, time and memory; reads QC\n"
      "and alignment; calls; the feature store; PCA and clusters; cross-validation, ROC, confusion matrix and the\n"
      "importance along the genome), from the files the run wrote. Sections the run did not produce are left out.\n"
      "The plots (Vega-Lite) and their library are inside the file: it opens offline. Also writes the per-sample\n"
      "tables of reads and calls as MultiQC custom content (*_mqc.json) beside it. 'run' writes it at its end.";
  spec.usage = "[RUN_DIR] [-o report.html]";
  po::options_description g("Report");
  g.add_options()  //
      ("run-dir", po::value(&run_dir)->default_value(".")->value_name("DIR"), "run folder (holds genoforest-run.json)")  //
      ("output,o", po::value(&output)->value_name("FILE"), "HTML file to write [RUN_DIR/genoforest-report.html]");
  spec.groups.push_back(g);
  spec.positional.add("run-dir", 1);
  po::variables_map vm;
  if (!start_stage(spec, call, vm, comm)) return false;
  if (output.empty()) output = (fs::path(run_dir) / "genoforest-report.html").string();
  comm.on_root([&] { write_html_report(run_dir, output); });
  return true;
}

}  // namespace genoforest::mpi
