#include "cli.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "genoforest/core/error.hpp"
#include "genoforest/core/text.hpp"

namespace genoforest::mpi {

const std::vector<std::string>& stage_names() {
  static const std::vector<std::string> names = {"run", "simulate", "index", "align", "call", "features", "summary", "train", "cv", "predict", "pca", "cluster"};
  return names;
}

po::options_description common_options() {
  po::options_description d("General");
  d.add_options()                                                                                   //
      ("config", po::value<std::string>()->value_name("FILE"), "read options from the [STAGE] section of an INI file")  //
      ("verbosity,v", po::value<std::string>()->default_value("info")->value_name("LEVEL"),
       "log level: error, warning, info, debug")                                                     //
      ("quiet,q", po::bool_switch(), "only warnings and errors (= --verbosity warning)")            //
      ("help,h", po::bool_switch(), "print this help and exit");
  return d;
}

namespace {
std::ifstream open_config(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw IoError("cannot read config file " + path + ": it is a folder");
  std::ifstream in(path);
  if (!in) throw IoError("cannot read config file " + path + ": " + errno_text());
  return in;
}
bool is_flag(const po::options_description& known, const std::string& key) {
  const auto* o = known.find_nothrow(key, false);
  return o && o->semantic()->max_tokens() == 0;
}
}  // namespace

std::vector<std::string> ini_section_as_args(const std::string& path, const std::string& section,
                                             const po::options_description& known) {
  std::ifstream in = open_config(path);
  std::vector<std::string> args;
  std::string line, current;
  std::size_t lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    const std::string where = path + " line " + std::to_string(lineno);
    std::string_view l = trim(line);
    if (l.empty() || l.front() == '#' || l.front() == ';') continue;
    if (l.front() == '[') {
      if (l.back() != ']') throw UsageError(where + ": malformed section header '" + std::string(l) + "'");
      current = std::string(trim(l.substr(1, l.size() - 2)));
      const auto& names = stage_names();
      if (std::find(names.begin(), names.end(), current) == names.end()) {
        std::string all;
        for (const auto& n : names) all += (all.empty() ? "" : ", ") + n;
        throw UsageError(where + ": unknown section [" + current + "] (sections are stage names: " + all + ")");
      }
      continue;
    }
    const auto eq = l.find('=');
    if (eq == std::string_view::npos) throw UsageError(where + ": expected 'key = value', got '" + std::string(l) + "'");
    if (current.empty()) throw UsageError(where + ": 'key = value' before any [section]");
    if (current != section) continue;
    const std::string key(trim(l.substr(0, eq)));
    std::string value(trim(l.substr(eq + 1)));
    // Strip an inline comment introduced by " #" or " ;".
    for (const char* c : {" #", " ;", "\t#", "\t;"}) {
      const auto p = value.find(c);
      if (p != std::string::npos) value = std::string(trim(value.substr(0, p)));
    }
    if (key.empty()) throw UsageError(where + ": a line '= value' without its key");
    if (key == "config" || key == "help") throw UsageError(where + ": '" + key + "' cannot be set in a config file");
    if (!known.find_nothrow(key, false)) {
      throw UsageError(path + " line " + std::to_string(lineno) + ": unknown key '" + key + "' in section [" + section +
                       "]; see 'genoforest " + section + " --help'");
    }
    if (is_flag(known, key)) {
      if (value == "true" || value == "1" || value == "yes" || value == "on") {
        args.push_back("--" + key);
      } else if (!(value == "false" || value == "0" || value == "no" || value == "off")) {
        throw UsageError(where + ": '" + key + "' is a switch: its value must be true or false, not '" + value + "'");
      }
      continue;
    }
    args.push_back("--" + key + "=" + value);
  }
  return args;
}

std::vector<std::pair<std::string, std::vector<std::string>>> ini_sections(const std::string& path) {
  std::ifstream in = open_config(path);
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  std::string line;
  while (std::getline(in, line)) {
    std::string_view l = trim(line);
    if (l.empty() || l.front() == '#' || l.front() == ';') continue;
    if (l.front() == '[' && l.back() == ']') {
      out.emplace_back(std::string(trim(l.substr(1, l.size() - 2))), std::vector<std::string>{});
    } else if (!out.empty()) {
      out.back().second.emplace_back(l);
    }
  }
  return out;
}

std::vector<std::string> rewrite_renamed(const StageSpec& spec, const std::vector<std::string>& args,
                                         std::vector<std::string>& notes) {
  std::vector<std::string> out;
  out.reserve(args.size());
  bool options_end = false;
  for (const auto& a : args) {
    const RenamedShort* r = nullptr;
    if (!options_end && a.size() >= 2 && a[0] == '-' && a[1] != '-') {
      for (const auto& x : spec.renamed)
        if (a[1] == x.letter) r = &x;
    }
    if (a == "--") options_end = true;
    if (!r) {
      out.push_back(a);
      continue;
    }
    out.push_back(a.size() == 2 ? "--" + r->long_name : "--" + r->long_name + "=" + a.substr(2));
    const std::string note = std::string("-") + r->letter + " (--" + r->long_name + ") is retired: write " + r->now +
                             " (a short option means one thing in every stage, docs/cli.md); -" + r->letter +
                             " will stop working in a later version";
    if (std::find(notes.begin(), notes.end(), note) == notes.end()) notes.push_back(note);
  }
  return out;
}

bool parse_stage_options(const StageSpec& spec, const std::vector<std::string>& args, po::variables_map& vm,
                         const Comm& comm) {
  po::options_description all;
  all.add(common_options());
  for (const auto& g : spec.groups) all.add(g);
  try {
    po::store(po::command_line_parser(args).options(all).positional(spec.positional).run(), vm);
    if (vm.count("config")) {
      const std::string cfg = vm["config"].as<std::string>();
      const auto file_args = ini_section_as_args(cfg, spec.name, all);
      try {
        po::store(po::command_line_parser(file_args).options(all).run(), vm);  // command line wins
      } catch (const po::error& e) {
        throw UsageError(cfg + " [" + spec.name + "]: " + e.what());
      }
    }
    po::notify(vm);
  } catch (const po::error& e) {
    throw UsageError(std::string(e.what()) + " (see 'genoforest " + spec.name + " --help')");
  }
  if (vm["help"].as<bool>()) {
    if (comm.is_root()) {
      std::ostringstream s;
      s << "Usage: genoforest " << spec.name << " " << spec.usage << "\n\n" << spec.purpose << "\n\n";
      for (const auto& g : spec.groups) s << g << "\n";
      s << common_options() << "\n"
        << "Every option can also be set in the [" << spec.name << "] section of an INI file given with --config\n"
        << "(same names, 'key = value'; switches take true/false). The command line wins over the file.\n";
      std::cout << s.str() << std::flush;
    }
    return false;
  }
  return true;
}

}  // namespace genoforest::mpi
