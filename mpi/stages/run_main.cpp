// genoforest run --config X.ini: the stages of a config in pipeline order, in one run folder,
// resumable (docs/running.md).
//
// The run folder holds genoforest-run.manifest: the config it belongs to, and for each finished
// stage a digest of its [section], the size and MD5 of every input file its section names and of
// every file it wrote. A rerun skips a stage whose section and inputs are unchanged and whose
// outputs are intact; the first stage that runs again makes every later one run again too. Inside a stage, task sets with pure results (call regions,
// trees, CV models) journal their finished tasks under .genoforest-run/, so a stage killed half-way
// redoes only the rest.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <set>

#include <boost/serialization/map.hpp>
#include <boost/serialization/string.hpp>
#include <boost/serialization/vector.hpp>

#include "cli.hpp"
#include "genoforest/core/error.hpp"
#include "genoforest/core/files.hpp"
#include "genoforest/core/log.hpp"
#include "genoforest/core/text.hpp"
#include "genoforest/core/version.hpp"
#include "journal.hpp"
#include "scheduler.hpp"
#include "stages/stages.hpp"

namespace genoforest::mpi {

namespace fs = std::filesystem;

namespace {

using StageFn = std::function<bool(const Comm&, const StageCall&)>;

/// The stages `run` knows, in pipeline order.
const std::vector<std::pair<std::string, StageFn>>& pipeline() {
  static const std::vector<std::pair<std::string, StageFn>> p = {
      {"simulate", simulate_main}, {"index", index_main}, {"align", align_main}, {"call", call_main},
      {"features", features_main}, {"summary", summary_main}, {"train", train_main}, {"cv", cv_main},
      {"predict", predict_main},   {"pca", pca_main},     {"cluster", cluster_main},
  };
  return p;
}

constexpr const char* kManifest = "genoforest-run.manifest";
constexpr const char* kStateDir = ".genoforest-run";

std::string hex_digest(const std::string& s) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(fnv1a64(s)));
  return buf;
}

struct FileRecord {
  std::uint64_t size = 0;
  std::string md5;
  template <class Ar>
  void serialize(Ar& ar, unsigned) {
    ar & size & md5;
  }
};

struct StageRecord {
  std::string digest;
  double seconds = 0;
  std::map<std::string, FileRecord> files;   // written by the stage
  std::map<std::string, FileRecord> inputs;  // named by its section, read by it
  template <class Ar>
  void serialize(Ar& ar, unsigned) {
    ar & digest & seconds & files & inputs;
  }
};

struct Manifest {
  std::string config;
  std::map<std::string, StageRecord> stages;
  std::vector<std::string> order;  // stages in the order they finished

  void load(const fs::path& path) {
    std::ifstream in(path);
    if (!in) return;
    std::string line;
    std::size_t lineno = 0;
    while (std::getline(in, line)) {
      ++lineno;
      const auto f = split(line, '\t');
      const std::string where = path.string() + " line " + std::to_string(lineno);
      if (f.size() == 2 && f[0] == "config") {
        config = std::string(f[1]);
      } else if (f.size() == 4 && f[0] == "stage") {
        auto& s = stages[std::string(f[1])];
        s.digest = std::string(f[2]);
        const auto v = parse_double(f[3]);
        if (!v) throw InputError(where, "malformed run manifest line (remove the file, or use --force, to start over)");
        s.seconds = *v;
        order.emplace_back(f[1]);
      } else if (f.size() == 5 && (f[0] == "file" || f[0] == "input")) {
        const auto size = parse_int(f[3]);
        if (!size || *size < 0) throw InputError(where, "malformed run manifest line (remove the file, or use --force, to start over)");
        auto& s = stages[std::string(f[1])];
        (f[0] == "file" ? s.files : s.inputs)[std::string(f[2])] = FileRecord{static_cast<std::uint64_t>(*size), std::string(f[4])};
      } else if (!line.empty() && line[0] != '#') {
        throw InputError(where, "malformed run manifest line (remove the file, or use --force, to start over)");
      }
    }
  }
  [[nodiscard]] std::string text() const {
    std::string t = "# genoforest run manifest: the stages finished in this folder, the files they read and wrote\nconfig\t" + config + "\n";
    for (const auto& name : order) {
      const auto& s = stages.at(name);
      char secs[32];
      std::snprintf(secs, sizeof secs, "%.3f", s.seconds);
      t += "stage\t" + name + "\t" + s.digest + "\t" + secs + "\n";
      for (const auto& [f, r] : s.inputs) t += "input\t" + name + "\t" + f + "\t" + std::to_string(r.size) + "\t" + r.md5 + "\n";
      for (const auto& [f, r] : s.files) t += "file\t" + name + "\t" + f + "\t" + std::to_string(r.size) + "\t" + r.md5 + "\n";
    }
    return t;
  }
};

/// Files under the run folder (run state excluded) with size and modification time.
std::map<std::string, std::pair<std::uint64_t, std::int64_t>> snapshot() {
  std::map<std::string, std::pair<std::uint64_t, std::int64_t>> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(".", ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const fs::path p = it->path().lexically_normal();
    const std::string s = p.string();
    if (s.rfind(kStateDir, 0) == 0 || s == kManifest || s == "genoforest-run.json" || s.find(".tmp.") != std::string::npos) {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file()) continue;
    struct stat st {};
    if (::stat(s.c_str(), &st) != 0) continue;
    out[s] = {static_cast<std::uint64_t>(st.st_size), static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec};
  }
  return out;
}

/// MD5s of the run's files, each computed once per (size, modification time): train and cv read
/// the store that features wrote, and each is checked at every rerun.
class DigestCache {
 public:
  FileRecord operator()(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) throw IoError("cannot read " + path + ": " + errno_text());
    const std::int64_t mtime = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec;
    auto& e = cache_[path];
    if (e.md5.empty() || e.size != static_cast<std::uint64_t>(st.st_size) || e.mtime != mtime) {
      const auto d = digest_file(path);
      e = Entry{d.size, mtime, d.md5};
    }
    return FileRecord{e.size, e.md5};
  }

 private:
  struct Entry {
    std::uint64_t size = 0;
    std::int64_t mtime = 0;
    std::string md5;
  };
  std::map<std::string, Entry> cache_;
};

/// The files a stage's section names: every value (or comma-separated item of one) that is the
/// path of an existing regular file, relative to the run folder. Outputs of an earlier run are
/// among them and are told apart by the caller.
std::set<std::string> named_files(const std::vector<std::string>& lines) {
  std::set<std::string> out;
  for (const auto& line : lines) {
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    for (const auto& item : split(std::string_view(line).substr(eq + 1), ',')) {
      const std::string_view v = trim(item);
      if (v.empty()) continue;
      std::error_code ec;
      const fs::path p = fs::path(v).lexically_normal();
      if (fs::is_regular_file(p, ec)) out.insert(p.string());
    }
  }
  return out;
}

bool outputs_intact(const StageRecord& s, DigestCache& digest) {
  for (const auto& [f, r] : s.files) {
    std::error_code ec;
    if (!fs::exists(f, ec) || fs::file_size(f, ec) != r.size || digest(f).md5 != r.md5) return false;
  }
  return true;
}

/// Why a finished stage's inputs are not those it read (empty when they are): a file its section
/// names (outputs of its last run aside) is new, gone, or has another size or MD5.
std::string inputs_changed(const StageRecord& s, const std::set<std::string>& named, DigestCache& digest) {
  for (const auto& [f, r] : s.inputs) {
    std::error_code ec;
    if (!fs::is_regular_file(f, ec)) return "input " + f + " is gone";
    const auto now = digest(f);
    if (now.size != r.size || now.md5 != r.md5) return "input " + f + " changed (size or MD5) since it last ran";
  }
  for (const auto& f : named) {
    if (!s.inputs.count(f) && !s.files.count(f)) return "its section names a file it did not read last time, " + f;
  }
  return {};
}

struct StageReport {
  std::string name, status;
  double seconds = 0;  // of this run, or of the run that finished it (up to date)
  std::vector<std::string> lines;  // the config's section: key = value
  std::int64_t tasks = 0, resumed = 0;
  std::vector<double> peak_rss;  // per rank, bytes (the process's peak so far)
};

}  // namespace

bool run_main(const Comm& comm, const StageCall& call) {
  std::string run_dir, stage_list, report_path, html_path;
  bool force = false;
  StageSpec spec;
  spec.name = "run";
  spec.purpose =
      "Runs the stages of a config file in pipeline order (simulate, index, align, call, features, summary, train,\n"
      "cv, predict, pca, cluster; each from its own [section]) in one run folder. Resumable: a rerun of the same\n"
      "command skips the stages already finished (section unchanged, outputs intact by MD5), and inside a stage the\n"
      "finished regions, trees and CV models are not redone. SIGTERM/SIGINT stop cleanly at a task boundary.";
  spec.usage = "--config <X.ini> [options]";
  po::options_description g("Run");
  g.add_options()  //
      ("run-dir", po::value(&run_dir)->default_value(".")->value_name("DIR"),
       "folder of the run: the stages work there (relative paths in the config are relative to it)")  //
      ("stages", po::value(&stage_list)->value_name("LIST"),
       "comma-separated stages to run, in pipeline order (default: every stage with a section in the config)")  //
      ("force", po::bool_switch(&force), "start over: forget what the run folder's manifest says was done")  //
      ("report", po::value(&report_path)->default_value("genoforest-run.json")->value_name("FILE"),
       "JSON run report (per stage: status, wall time, tasks run and resumed, peak memory per rank, options), in the run folder")  //
      ("html", po::value(&html_path)->default_value("genoforest-report.html")->value_name("FILE"),
       "HTML report written at the end (as 'genoforest report'), in the run folder; 'none' for none");
  spec.groups.push_back(g);
  po::variables_map vm;
  if (!start_stage(spec, call, vm, comm)) return false;
  if (!vm.count("config")) throw UsageError("--config FILE is required (the stages' options come from its sections)");
  const std::string verbosity = vm["verbosity"].as<std::string>();
  const bool quiet = vm["quiet"].as<bool>();
  const fs::path config = fs::absolute(vm["config"].as<std::string>()).lexically_normal();

  // Which stages, in pipeline order.
  std::set<std::string> in_config;
  for (const auto& [name, lines] : ini_sections(config.string())) in_config.insert(name);
  std::set<std::string> wanted;
  if (!stage_list.empty()) {
    for (const auto& s : split(stage_list, ',')) {
      const std::string name(trim(s));
      bool known = false;
      for (const auto& [n, f] : pipeline()) known = known || n == name;
      if (!known) throw UsageError("--stages: unknown stage '" + name + "'");
      if (!in_config.count(name)) throw UsageError("--stages: stage '" + name + "' has no [" + name + "] section in " + config.string());
      wanted.insert(name);
    }
  } else {
    for (const auto& [n, f] : pipeline()) {
      if (in_config.count(n)) wanted.insert(n);
    }
  }
  if (wanted.empty()) throw UsageError(config.string() + " has no stage section ([simulate], [align], [call], ...)");
  std::map<std::string, std::string> digests;
  std::map<std::string, std::vector<std::string>> section_lines;
  for (const auto& [name, lines] : ini_sections(config.string())) {
    std::string text = std::string(kVersion) + "\n";
    for (const auto& l : lines) text += l + "\n";
    digests[name] += text;
    section_lines[name].insert(section_lines[name].end(), lines.begin(), lines.end());
  }
  DigestCache digest_of;  // rank 0's

  // The run folder; every rank works in it.
  Manifest manifest;
  std::optional<FolderLock> lock;  // rank 0 holds the run folder for the whole run
  comm.on_root([&] {
    std::error_code ec;
    fs::create_directories(run_dir, ec);
    if (ec) throw IoError("cannot create the run folder " + run_dir + ": " + ec.message());
    lock.emplace(run_dir, ".genoforest-run.lock", "run folder");
    const fs::path mpath = fs::path(run_dir) / kManifest;
    if (force) {
      fs::remove(mpath, ec);
      fs::remove_all(fs::path(run_dir) / kStateDir, ec);
    }
    manifest.load(mpath);
    if (!manifest.config.empty() && manifest.config != config.string()) {
      throw InconsistentInputError(mpath.string(), "this run folder holds a run of " + manifest.config + ", not of " + config.string() +
                                                       "; use another --run-dir, or --force to start over here");
    }
    manifest.config = config.string();
    fs::create_directories(fs::path(run_dir) / kStateDir, ec);
    if (ec) throw IoError("cannot create " + (fs::path(run_dir) / kStateDir).string() + ": " + ec.message());
  });
  {
    std::exception_ptr failed;
    if (::chdir(run_dir.c_str()) != 0) failed = std::make_exception_ptr(IoError("cannot enter the run folder " + run_dir + ": " + errno_text()));
    comm.agree(failed);  // every rank works in the run folder, or the job stops once
  }
  log_info("run of " + config.string() + " in " + fs::current_path().string() + ", " + std::to_string(comm.size()) + " rank(s)");

  const auto t_run = std::chrono::steady_clock::now();
  std::vector<StageReport> reports;
  bool rerun_rest = false;
  auto write_report = [&](const std::string& status) {
    comm.on_root([&] {
      std::string j = "{\n  \"genoforest\": " + json_string(kVersion) + ",\n  \"config\": " + json_string(config.string()) +
                      ",\n  \"run_dir\": " + json_string(fs::current_path().string()) + ",\n  \"command_line\": " + json_string(call.command_line) +
                      ",\n  \"ranks\": " + std::to_string(comm.size()) +
                      ",\n  \"status\": " + json_string(status) + ",\n  \"wall_s\": " +
                      std::to_string(std::chrono::duration<double>(std::chrono::steady_clock::now() - t_run).count()) + ",\n  \"stages\": [";
      for (std::size_t i = 0; i < reports.size(); ++i) {
        const auto& r = reports[i];
        j += std::string(i ? "," : "") + "\n    {\"stage\": " + json_string(r.name) + ", \"status\": " + json_string(r.status) +
             ", \"wall_s\": " + std::to_string(r.seconds) + ", \"tasks_run\": " + std::to_string(r.tasks) +
             ", \"tasks_resumed\": " + std::to_string(r.resumed) + ", \"peak_rss_bytes_per_rank\": [";
        for (std::size_t k = 0; k < r.peak_rss.size(); ++k) j += (k ? ", " : "") + std::to_string(static_cast<long long>(r.peak_rss[k]));
        j += "], \"options\": [";
        bool first = true;
        for (const auto& line : r.lines) {
          const auto eq = line.find('=');
          if (eq == std::string::npos) continue;
          j += std::string(first ? "" : ", ") + "[" + json_string(trim(std::string_view(line).substr(0, eq))) + ", " +
               json_string(trim(std::string_view(line).substr(eq + 1))) + "]";
          first = false;
        }
        j += "]}";
      }
      j += "\n  ]\n}\n";
      write_atomically(report_path, j);
    });
  };

  for (const auto& stage : pipeline()) {
    const std::string& name = stage.first;  // a plain reference: lambdas below capture it (clang 14)
    const auto& fn = stage.second;
    if (!wanted.count(name)) continue;
    apply_log_options(comm, "run", verbosity, quiet);
    const std::string digest = hex_digest(digests[name]);
    int skip = 0;
    comm.on_root([&] {
      const auto it = manifest.stages.find(name);
      // Up to date: same section, outputs intact, and no earlier stage of the pipeline finished
      // after it (a job chain may have rerun one with --stages).
      bool fresh = !rerun_rest && it != manifest.stages.end() && it->second.digest == digest;
      const auto mine = std::find(manifest.order.begin(), manifest.order.end(), name);
      for (const auto& [earlier, f] : pipeline()) {
        if (earlier == name || !fresh) break;
        const auto e = std::find(manifest.order.begin(), manifest.order.end(), earlier);
        fresh = e == manifest.order.end() || e < mine;
      }
      if (fresh) {
        const std::string why = inputs_changed(it->second, named_files(section_lines[name]), digest_of);
        if (!why.empty()) log_info("stage " + name + ": " + why + "; running it again, and the stages after it");
        skip = why.empty() && outputs_intact(it->second, digest_of);
      }
    });
    comm.bcast(skip);
    StageReport rep;
    rep.name = name;
    rep.lines = section_lines[name];
    if (skip) {
      log_info("stage " + name + ": up to date (finished before, its outputs intact); skipped");
      rep.status = "up to date";
      comm.on_root([&] { rep.seconds = manifest.stages.at(name).seconds; });
      reports.push_back(rep);
      continue;
    }
    rerun_rest = true;
    if (stop_signal() != 0) throw JobError(ExitCode::kInterrupted, "interrupted before stage " + name + "; rerun the same command to resume");
    log_info("stage " + name);
    std::map<std::string, std::pair<std::uint64_t, std::int64_t>> before;
    std::map<std::string, FileRecord> inputs;
    comm.on_root([&] {
      before = snapshot();
      for (const auto& f : named_files(section_lines[name])) inputs[f] = digest_of(f);
      manifest.stages.erase(name);
      std::erase(manifest.order, name);
      write_atomically(kManifest, manifest.text());
    });
    const auto counts0 = task_counts();
    const auto t0 = std::chrono::steady_clock::now();
    set_journal_scope(kStateDir, digest);
    std::vector<std::string> args = {"--config", config.string(), "--verbosity", verbosity};
    if (quiet) args.push_back("--quiet");
    try {
      fn(comm, StageCall{args, call.command_line});
    } catch (const JobError& e) {
      set_journal_scope({}, {});
      apply_log_options(comm, "run", verbosity, quiet);
      rep.status = e.code() == ExitCode::kInterrupted ? "interrupted" : "failed";
      reports.push_back(rep);
      write_report(rep.status);
      throw JobError(e.code(), "stage " + name + ": " + e.what());
    } catch (const UsageError& e) {
      throw UsageError("stage " + name + ": " + e.what());
    }
    set_journal_scope({}, {});
    apply_log_options(comm, "run", verbosity, quiet);
    rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    rep.tasks = task_counts().run - counts0.run;
    rep.resumed = task_counts().resumed - counts0.resumed;
    rep.peak_rss = comm.allgather({static_cast<double>(peak_rss_bytes())});
    rep.status = "ran";
    comm.on_root([&] {
      StageRecord rec;
      rec.digest = digest;
      rec.seconds = rep.seconds;
      for (const auto& [f, st] : snapshot()) {
        const auto it = before.find(f);
        if (it == before.end() || it->second != st) rec.files[f] = digest_of(f);
      }
      for (const auto& [f, r] : inputs) {
        if (!rec.files.count(f)) rec.inputs[f] = r;  // an output of the stage's last run is not an input
      }
      manifest.stages[name] = rec;
      manifest.order.push_back(name);
      write_atomically(kManifest, manifest.text());
      std::error_code ec;
      for (const auto& entry : fs::directory_iterator(kStateDir, ec)) fs::remove(entry.path(), ec);  // journals of this stage
      char buf[200];
      std::snprintf(buf, sizeof buf, "stage %s finished in %.1f s (%lld tasks run, %lld resumed); %zu output file(s) recorded",
                    name.c_str(), rep.seconds, static_cast<long long>(rep.tasks), static_cast<long long>(rep.resumed), rec.files.size());
      log_info(buf);
    });
    reports.push_back(rep);
  }
  write_report("finished");
  log_info("run finished; report in " + (fs::current_path() / report_path).string());
  if (html_path != "none") {
    comm.on_root([&] {
      // The stages' results stand whatever happens here: a report that cannot be written is a
      // warning, and 'genoforest report' can write it again.
      try {
        write_html_report(".", html_path);
        log_info("HTML report: " + (fs::current_path() / html_path).lexically_normal().string());
      } catch (const std::exception& e) {
        log_warning(std::string("the HTML report was not written: ") + e.what() + " (rerun it with 'genoforest report " +
                    fs::current_path().string() + "')");
      }
    });
  }
  return true;
}

}  // namespace genoforest::mpi
