#include "cli.hpp"
#include "genoforest/core/files.hpp"
#include "genoforest/core/log.hpp"
#include "genoforest/ml/model.hpp"
#include "stages/stages.hpp"

namespace genoforest::mpi {

bool model_main(const Comm& comm, const StageCall& call) {
  std::string action, input, output = "-";
  StageSpec spec;
  spec.name = "model";
  spec.purpose =
      "Works on a trained model. 'dump' writes it as JSON for other tools: its features (variants by\n"
      "chrom/pos/id/ref/alt, statistics with their bin edges) with their importances, and every tree's nodes\n"
      "(feature, threshold, where a missing value goes, children) and leaves, or the SVM's weights\n"
      "(format: docs/forest.md). Runs on rank 0.";
  spec.usage = "dump <model.gfm> [-o model.json]";
  po::options_description io("Input and output");
  io.add_options()                                                                   //
      ("action", po::value(&action)->value_name("ACTION"), "dump (positional)")      //
      ("input", po::value(&input)->value_name("FILE"), "a model written by train (positional)")  //
      ("output,o", po::value(&output)->default_value("-")->value_name("FILE"), "JSON file (-: standard output)");
  spec.groups.push_back(io);
  spec.positional.add("action", 1).add("input", 1);
  po::variables_map vm;
  if (!start_stage(spec, call, vm, comm)) return false;
  if (action != "dump") {
    throw UsageError(action.empty() ? "no action: 'genoforest model dump MODEL'" : "unknown action '" + action + "' (expected dump)");
  }
  if (input.empty()) throw UsageError("no model: 'genoforest model dump MODEL'");
  comm.on_root([&] {
    check_outputs({{"the model", input}}, {{"-o/--output", output, true}});
    const auto m = ml::load_model(input);
    write_atomically(output, ml::model_to_json(m));
    if (!is_stdout_path(output)) log_info("wrote " + output);
  });
  return true;
}

}  // namespace genoforest::mpi
