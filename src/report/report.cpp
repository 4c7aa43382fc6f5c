// genoforest report: sections built from a run folder's files (docs/report.md).
#include "genoforest/report/report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "genoforest/core/error.hpp"
#include "genoforest/core/text.hpp"
#include "genoforest/features/store.hpp"
#include "genoforest/io/h5.hpp"
#include "genoforest/io/vcf.hpp"
#include "assets.hpp"

namespace genoforest::report {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;
namespace h5 = io::h5;

namespace {

constexpr const char* kSchema = "https://vega.github.io/schema/vega-lite/v5.json";
/// Per-sample plots draw one bar per sample up to this many samples, and a distribution beyond.
constexpr std::size_t kMaxBars = 120;
/// Importance plots keep at most this many variants (the most important).
constexpr std::size_t kMaxManhattanPoints = 20000;
/// ROC curves keep at most this many points per curve (evenly thinned, ends kept).
constexpr std::size_t kMaxRocPoints = 400;
constexpr int kPlotWidth = 720;

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw IoError("cannot read " + p.string() + ": " + errno_text());
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) throw IoError("cannot read " + p.string() + ": " + errno_text());
  return s.str();
}

Json read_json(const fs::path& p) {
  try {
    return Json::parse(read_text(p));
  } catch (const Json::exception& e) {
    throw InputError(p.string(), std::string("malformed JSON: ") + e.what());
  }
}

/// Non-empty lines of a TSV, split on tabs (a header line stays the first row).
std::vector<std::vector<std::string>> read_tsv(const fs::path& p) {
  std::istringstream in(read_text(p));
  std::vector<std::vector<std::string>> rows;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::vector<std::string> row;
    for (const auto f : split(line, '\t')) row.emplace_back(f);
    rows.push_back(std::move(row));
  }
  return rows;
}

/// Runs `f`, reading what the run wrote to `file`: content of an unexpected shape (a JSON field of
/// another type, an index beyond a table) is an InputError naming the file, as a malformed file is.
template <class F>
auto from_file(const fs::path& file, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Json::exception& e) {
    throw InputError(file.string(), std::string("unexpected content: ") + e.what());
  } catch (const std::out_of_range& e) {
    throw InputError(file.string(), std::string("unexpected content: ") + e.what());
  }
}

bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

std::string fmt(double v, const char* f = "%.4g") {
  if (!std::isfinite(v)) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

/// A number for JSON: NaN and infinities become null (JSON has no NaN).
Json num(double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); }

/// Value of a numeric JSON field, NaN when absent or not a number.
double get_num(const Json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : std::nan("");
}

struct Table {
  std::vector<std::string> head;
  std::vector<std::vector<std::string>> rows;
  std::string caption;
  [[nodiscard]] std::string html() const {
    std::string s = "<div class=\"table\"><table>";
    if (!caption.empty()) s += "<caption>" + html_escape(caption) + "</caption>";
    s += "<thead><tr>";
    for (const auto& h : head) s += "<th>" + html_escape(h) + "</th>";
    s += "</tr></thead><tbody>";
    for (const auto& r : rows) {
      s += "<tr>";
      for (const auto& c : r) {
        const bool numeric = !c.empty() && (parse_double(c).has_value() || c == "n/a");
        s += std::string(numeric ? "<td class=\"num\">" : "<td>") + html_escape(c) + "</td>";
      }
      s += "</tr>";
    }
    return s + "</tbody></table></div>";
  }
};

Json base_spec(int height = 260) {
  Json s;
  s["$schema"] = kSchema;
  s["width"] = kPlotWidth;
  s["height"] = height;
  return s;
}

Plot make_plot(std::string id, std::string title, const Json& spec) { return Plot{std::move(id), std::move(title), spec.dump()}; }

/// Pre-binned histogram of `values` (NaNs skipped) over [lo, hi] in `bins` bins: rows of
/// bin_start, bin_end, count, so the page never carries one value per variant.
Json histogram(const std::vector<double>& values, double lo, double hi, int bins) {
  if (!(hi > lo)) hi = lo + 1;
  std::vector<long long> count(static_cast<std::size_t>(bins), 0);
  for (double v : values) {
    if (!std::isfinite(v)) continue;
    int b = static_cast<int>(std::floor((v - lo) / (hi - lo) * bins));
    ++count[static_cast<std::size_t>(std::clamp(b, 0, bins - 1))];
  }
  Json rows = Json::array();
  for (int b = 0; b < bins; ++b) {
    rows.push_back({{"bin_start", lo + (hi - lo) * b / bins}, {"bin_end", lo + (hi - lo) * (b + 1) / bins},
                    {"count", count[static_cast<std::size_t>(b)]}});
  }
  return rows;
}

Json histogram_spec(const Json& rows, const std::string& x_title, const std::string& y_title = "count") {
  Json s = base_spec(220);
  s["data"]["values"] = rows;
  s["mark"] = {{"type", "bar"}, {"tooltip", true}};
  s["encoding"]["x"] = {{"field", "bin_start"}, {"type", "quantitative"}, {"bin", {{"binned", true}}}, {"title", x_title}};
  s["encoding"]["x2"] = {{"field", "bin_end"}};
  s["encoding"]["y"] = {{"field", "count"}, {"type", "quantitative"}, {"title", y_title}};
  return s;
}

/// Per-sample values of one or more fields: stacked bars per sample up to kMaxBars samples, a
/// strip plot (one tick per sample, per field) beyond.
Json per_sample_spec(const Json& rows, const std::vector<std::pair<std::string, std::string>>& fields, const std::string& value_title,
                     bool stack) {
  Json s = base_spec(rows.size() > kMaxBars ? 36 * static_cast<int>(fields.size()) + 24 : 240);
  s["data"]["values"] = rows;
  Json fold_fields = Json::array(), as_names = Json::array();
  for (const auto& f : fields) fold_fields.push_back(f.first);
  Json transforms = Json::array();
  transforms.push_back({{"fold", fold_fields}, {"as", {"key", "value"}}});
  // Readable names for the folded fields.
  std::string expr = "datum.key";
  for (auto it = fields.rbegin(); it != fields.rend(); ++it) expr = "datum.key == " + Json(it->first).dump() + " ? " + Json(it->second).dump() + " : (" + expr + ")";
  transforms.push_back({{"calculate", expr}, {"as", "measure"}});
  s["transform"] = transforms;
  Json tooltip = Json::array({{{"field", "sample"}, {"type", "nominal"}}, {{"field", "measure"}, {"type", "nominal"}},
                              {{"field", "value"}, {"type", "quantitative"}, {"format", ".4~g"}}});
  if (rows.size() <= kMaxBars) {
    s["mark"] = stack ? Json{{"type", "bar"}} : Json{{"type", "point"}, {"filled", true}, {"size", 40}};
    s["encoding"]["x"] = {{"field", "sample"}, {"type", "nominal"}, {"sort", nullptr}, {"title", "sample"},
                          {"axis", {{"labels", rows.size() <= 60}, {"ticks", rows.size() <= 60}}}};
    s["encoding"]["y"] = {{"field", "value"}, {"type", "quantitative"}, {"title", value_title}};
    if (stack) s["encoding"]["y"]["stack"] = "zero";
  } else {
    s["mark"] = {{"type", "tick"}, {"opacity", 0.6}};
    s["encoding"]["x"] = {{"field", "value"}, {"type", "quantitative"}, {"title", value_title}};
    s["encoding"]["y"] = {{"field", "measure"}, {"type", "nominal"}, {"title", nullptr}};
  }
  s["encoding"]["color"] = {{"field", "measure"}, {"type", "nominal"}, {"title", nullptr}, {"sort", nullptr}};
  s["encoding"]["tooltip"] = tooltip;
  return s;
}

Json bar_spec(const Json& rows, const std::string& cat, const std::string& cat_title, const std::string& val, const std::string& val_title) {
  Json s = base_spec(std::max(60, 26 * static_cast<int>(rows.size())));
  s["data"]["values"] = rows;
  s["mark"] = {{"type", "bar"}, {"tooltip", true}};
  s["encoding"]["y"] = {{"field", cat}, {"type", "nominal"}, {"sort", nullptr}, {"title", cat_title}};
  s["encoding"]["x"] = {{"field", val}, {"type", "quantitative"}, {"title", val_title}};
  return s;
}

/// Natural order of contig names: chr2 before chr10, numbers before letters.
bool contig_less(const std::string& a, const std::string& b) {
  auto key = [](const std::string& c) {
    std::string s = c.rfind("chr", 0) == 0 ? c.substr(3) : c;
    const auto n = parse_int(s);
    return std::make_tuple(n ? 0 : 1, n.value_or(0), s);
  };
  return key(a) < key(b);
}

double fraction(double a, double b) { return b > 0 ? a / b : std::nan(""); }

/// MultiQC custom content: a table of `data` (sample -> column -> value) as a `*_mqc.json` file.
std::string multiqc_table(const std::string& id, const std::string& name, const std::string& description, const Json& data) {
  Json m;
  m["id"] = "genoforest_" + id;
  m["section_name"] = "genoforest: " + name;
  m["description"] = description;
  m["plot_type"] = "table";
  m["pconfig"] = {{"id", "genoforest_" + id + "_table"}, {"title", "genoforest: " + id}};
  m["data"] = data;
  return m.dump(2) + "\n";
}

}  // namespace

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string StageEntry::option(const std::string& key) const {
  std::string v;
  for (const auto& [k, val] : options)
    if (k == key) v = val;
  return v;
}

std::vector<std::string> StageEntry::options_of(const std::string& key) const {
  std::vector<std::string> v;
  for (const auto& [k, val] : options)
    if (k == key) v.push_back(val);
  return v;
}

const StageEntry* RunInfo::stage(const std::string& name) const {
  for (const auto& s : stages)
    if (s.name == name) return &s;
  return nullptr;
}

fs::path RunInfo::path(const std::string& p) const { return fs::path(p).is_absolute() ? fs::path(p) : dir / p; }

RunInfo read_run(const fs::path& dir) {
  const fs::path file = dir / "genoforest-run.json";
  if (!is_file(file)) {
    throw InputError(dir.string(), "not a run folder of 'genoforest run' (no genoforest-run.json); run the config with "
                                   "'genoforest run --config X.ini --run-dir " + dir.string() + "' first");
  }
  const Json j = read_json(file);
  RunInfo r;
  r.dir = dir;
  try {
    r.version = j.value("genoforest", "");
    r.config = j.value("config", "");
    r.command_line = j.value("command_line", "");
    r.status = j.value("status", "");
    r.ranks = j.value("ranks", 0);
    r.wall_s = j.value("wall_s", 0.0);
    for (const auto& s : j.at("stages")) {
      StageEntry e;
      e.name = s.at("stage").get<std::string>();
      e.status = s.value("status", "");
      e.wall_s = s.value("wall_s", 0.0);
      e.tasks_run = s.value("tasks_run", 0LL);
      e.tasks_resumed = s.value("tasks_resumed", 0LL);
      if (s.contains("peak_rss_bytes_per_rank"))
        for (const auto& v : s["peak_rss_bytes_per_rank"]) e.peak_rss.push_back(v.get<double>());
      if (s.contains("options"))
        for (const auto& o : s["options"]) e.options.emplace_back(o.at(0).get<std::string>(), o.at(1).get<std::string>());
      r.stages.push_back(std::move(e));
    }
  } catch (const Json::exception& e) {
    throw InputError(file.string(), std::string("not a genoforest run report: ") + e.what());
  }
  return r;
}

// ---- the run ------------------------------------------------------------------------------------

std::optional<Section> run_section(const RunInfo& run) {
  Section sec{"run", "Run", "", {}, ""};
  std::string h = "<p>genoforest " + html_escape(run.version) + ", " + std::to_string(run.ranks) + " rank(s), status <b>" +
                  html_escape(run.status) + "</b>, " + fmt(run.wall_s, "%.1f") + " s in all. Config <code>" + html_escape(run.config) +
                  "</code>.</p>";
  if (!run.command_line.empty()) h += "<pre class=\"cmd\">" + html_escape(run.command_line) + "</pre>";
  Table t;
  t.head = {"stage", "status", "wall time (s)", "tasks run", "tasks resumed", "ranks", "peak RSS, largest rank (MiB)"};
  Json wall = Json::array(), mem = Json::array();
  std::string cmds;
  for (const auto& s : run.stages) {
    double peak = 0;
    for (double v : s.peak_rss) peak = std::max(peak, v);
    t.rows.push_back({s.name, s.status, fmt(s.wall_s, "%.2f"), std::to_string(s.tasks_run), std::to_string(s.tasks_resumed),
                      s.peak_rss.empty() ? "" : std::to_string(s.peak_rss.size()), s.peak_rss.empty() ? "" : fmt(peak / 1048576.0, "%.1f")});
    wall.push_back({{"stage", s.name}, {"wall_s", s.wall_s}, {"status", s.status}});
    for (std::size_t k = 0; k < s.peak_rss.size(); ++k) mem.push_back({{"stage", s.name}, {"rank", std::to_string(k)}, {"peak_rss_mib", s.peak_rss[k] / 1048576.0}});
    // The stage's command: what `genoforest STAGE` would be given for its section.
    std::string c = "genoforest " + s.name;
    for (const auto& [k, v] : s.options) {
      const bool needs_quotes = v.empty() || v.find_first_of(" \t'\"$`\\;&|<>()") != std::string::npos;
      std::string q = v;
      if (needs_quotes) {
        q = "'";
        for (char ch : v) q += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
        q += "'";
      }
      c += " --" + k + (v == "true" ? std::string() : " " + q);
    }
    cmds += c + "\n";
  }
  h += t.html();
  h += "<details><summary>The stages' command lines (from the config's sections)</summary><pre class=\"cmd\">" + html_escape(cmds) + "</pre></details>";
  sec.html = h;
  {
    Json s = bar_spec(wall, "stage", "stage", "wall_s", "wall time (s)");
    s["encoding"]["color"] = {{"field", "status"}, {"type", "nominal"}};
    sec.plots.push_back(make_plot("run-wall", "Wall time per stage", s));
  }
  if (!mem.empty()) {
    Json s = base_spec(std::max(60, 26 * static_cast<int>(run.stages.size())));
    s["data"]["values"] = mem;
    s["mark"] = {{"type", "point"}, {"filled", true}, {"size", 60}, {"tooltip", true}};
    s["encoding"]["y"] = {{"field", "stage"}, {"type", "nominal"}, {"sort", nullptr}};
    s["encoding"]["x"] = {{"field", "peak_rss_mib"}, {"type", "quantitative"}, {"title", "peak RSS (MiB)"}};
    s["encoding"]["color"] = {{"field", "rank"}, {"type", "nominal"}};
    sec.plots.push_back(make_plot("run-memory", "Peak memory per rank (each process's peak so far: it never falls from one stage to the next)", s));
  }
  return sec;
}

// ---- reads: QC and alignment --------------------------------------------------------------------

std::optional<Section> reads_section(const RunInfo& run) {
  const StageEntry* align = run.stage("align");
  if (!align || align->option("output-dir").empty()) return std::nullopt;
  const fs::path out = run.path(align->option("output-dir"));
  // The samples in sheet order, from the BAM list align writes; else the QC files by name.
  std::vector<fs::path> files;
  if (is_file(out / "bams.list")) {
    for (const auto& row : read_tsv(out / "bams.list")) {
      fs::path b = fs::path(row.at(0)).filename();
      b.replace_extension(".qc.json");
      if (is_file(out / b)) files.push_back(out / b);
    }
  } else {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(out, ec))
      if (e.path().string().ends_with(".qc.json")) files.push_back(e.path());
    std::sort(files.begin(), files.end());
  }
  if (files.empty()) return std::nullopt;
  Section sec{"reads", "Reads: QC and alignment", "", {}, ""};
  Table t;
  t.head = {"sample", "reads in", "reads kept", "kept %", "Q30 % (in)", "trimmed bases", "mapped %", "properly paired %", "duplicates %", "insert size (median)"};
  Json rows = Json::array(), mqc = Json::object();
  for (const auto& f : files) from_file(f, [&] {
    const Json j = read_json(f);
    const std::string sample = j.value("sample", f.filename().string());
    const Json qc = j.value("qc", Json::object()), al = j.value("alignment", Json::object());
    const double in = get_num(qc, "reads_in"), kept = get_num(qc, "reads_out");
    const double trimmed = get_num(qc, "quality_trimmed_bases") + get_num(qc, "adapter_trimmed_bases");
    const double mapped = get_num(al, "mapped_fraction") * 100, paired = get_num(al, "properly_paired_fraction") * 100;
    const double dup = get_num(al, "duplicate_fraction") * 100, q30 = get_num(qc, "q30_fraction_in") * 100;
    const double insert = get_num(al, "insert_size_median");
    t.rows.push_back({sample, fmt(in, "%.0f"), fmt(kept, "%.0f"), fmt(100 * fraction(kept, in), "%.2f"), fmt(q30, "%.1f"), fmt(trimmed, "%.0f"),
                      fmt(mapped, "%.2f"), fmt(paired, "%.2f"), fmt(dup, "%.2f"), fmt(insert, "%.0f")});
    rows.push_back({{"sample", sample}, {"reads_kept", num(kept)}, {"reads_removed", num(in - kept)}, {"mapped_pct", num(mapped)},
                    {"paired_pct", num(paired)}, {"dup_pct", num(dup)}, {"trimmed_bases", num(trimmed)}, {"insert_median", num(insert)}});
    mqc[sample] = {{"reads_in", num(in)}, {"reads_kept", num(kept)}, {"q30_pct_in", num(q30)}, {"trimmed_bases", num(trimmed)},
                   {"mapped_pct", num(mapped)}, {"properly_paired_pct", num(paired)}, {"duplicates_pct", num(dup)},
                   {"insert_size_median", num(insert)}};
  });
  sec.html = "<p>" + std::to_string(files.size()) + " sample(s) aligned into <code>" + html_escape(align->option("output-dir")) +
             "</code> (per-sample JSON: <code>SAMPLE.qc.json</code>).</p>" + t.html();
  sec.plots.push_back(make_plot("reads-counts", "Reads per sample, kept and removed by QC",
                                per_sample_spec(rows, {{"reads_kept", "kept"}, {"reads_removed", "removed by QC"}}, "reads", true)));
  sec.plots.push_back(make_plot("reads-mapping", "Mapped, properly paired and duplicate reads (% of primary)",
                                per_sample_spec(rows, {{"mapped_pct", "mapped"}, {"paired_pct", "properly paired"}, {"dup_pct", "duplicates"}}, "% of reads", false)));
  bool has_insert = false;
  for (const auto& r : rows) has_insert = has_insert || !r["insert_median"].is_null();
  if (has_insert) {
    sec.plots.push_back(make_plot("reads-insert", "Median insert size of properly paired reads",
                                  per_sample_spec(rows, {{"insert_median", "insert size"}}, "bp", false)));
  }
  sec.multiqc = multiqc_table("reads", "reads QC and alignment", "per-sample QC and alignment from genoforest align (SAMPLE.qc.json)", mqc);
  return sec;
}

// ---- calls --------------------------------------------------------------------------------------

std::optional<Section> calls_section(const RunInfo& run) {
  const StageEntry* call = run.stage("call");
  if (!call || call->option("output").empty()) return std::nullopt;
  const fs::path vcf = run.path(call->option("output"));
  if (!is_file(vcf)) return std::nullopt;
  io::VcfReader reader(vcf, false);
  const auto samples = reader.samples();
  const std::size_t n = samples.size();
  struct PerSample {
    long long called = 0, missing = 0, het = 0, hom_alt = 0, ti = 0, tv = 0, dp_sites = 0;
    double dp_sum = 0;
  };
  std::vector<PerSample> ps(n);
  std::map<std::string, long long> by_type, by_filter;
  long long sites = 0;
  auto rec = io::make_record();
  int32_t* gt = nullptr;
  int32_t* dp = nullptr;
  int ngt = 0, ndp = 0;
  const bcf_hdr_t* hdr = reader.header();
  auto is_transition = [](char a, char b) {
    auto up = [](char c) { return static_cast<char>(c & ~0x20); };
    a = up(a);
    b = up(b);
    return (a == 'A' && b == 'G') || (a == 'G' && b == 'A') || (a == 'C' && b == 'T') || (a == 'T' && b == 'C');
  };
  try {
    while (reader.next(rec.get())) {
      bcf1_t* r = rec.get();
      ++sites;
      // Site type, as bcftools stats counts records: SNP, MNP, indel, other (mixed or symbolic).
      bool snv = r->n_allele > 1, indel = false, other = false, mnp = false;
      const std::size_t ref_len = std::strlen(r->d.allele[0]);
      for (int a = 1; a < r->n_allele; ++a) {
        const char* alt = r->d.allele[a];
        const std::size_t alen = std::strlen(alt);
        const bool symbolic = alt[0] == '<' || alt[0] == '*' || std::strchr(alt, '[') || std::strchr(alt, ']');
        if (symbolic) other = true;
        else if (alen != ref_len) indel = true;
        else if (alen > 1) mnp = true;
        if (symbolic || alen != 1 || ref_len != 1) snv = false;
      }
      const std::string type = r->n_allele < 2 ? "no ALT" : snv ? "SNV" : (indel && !mnp && !other) ? "indel" : (mnp && !indel && !other) ? "MNP" : "other";
      ++by_type[type];
      std::string filter;
      if (r->d.n_flt == 0) filter = ".";
      for (int k = 0; k < r->d.n_flt; ++k) filter += (k ? ";" : "") + std::string(bcf_hdr_int2id(hdr, BCF_DT_ID, r->d.flt[k]));
      ++by_filter[filter];
      const int g = bcf_get_genotypes(hdr, r, &gt, &ngt);
      const int d = bcf_get_format_int32(hdr, r, "DP", &dp, &ndp);
      if (g <= 0) continue;
      const int ploidy = g / static_cast<int>(n);
      for (std::size_t i = 0; i < n; ++i) {
        if (d > 0 && dp[i] != bcf_int32_missing && dp[i] != bcf_int32_vector_end) {
          ps[i].dp_sum += dp[i];
          ++ps[i].dp_sites;
        }
        const int32_t* a = gt + i * static_cast<std::size_t>(ploidy);
        int alleles = 0, alt_copies = 0, first_alt = -1;
        bool missing = false;
        for (int k = 0; k < ploidy && a[k] != bcf_int32_vector_end; ++k) {
          if (bcf_gt_is_missing(a[k])) {
            missing = true;
            continue;
          }
          ++alleles;
          const int al = bcf_gt_allele(a[k]);
          if (al > 0) {
            ++alt_copies;
            if (first_alt < 0) first_alt = al;
          }
        }
        if (missing || alleles == 0) {
          ++ps[i].missing;
          continue;
        }
        ++ps[i].called;
        if (alt_copies == 0) continue;
        (alt_copies == alleles ? ps[i].hom_alt : ps[i].het)++;
        if (snv && first_alt < r->n_allele) (is_transition(r->d.allele[0][0], r->d.allele[first_alt][0]) ? ps[i].ti : ps[i].tv)++;
      }
    }
  } catch (...) {
    std::free(gt);
    std::free(dp);
    throw;
  }
  std::free(gt);
  std::free(dp);
  Section sec{"calls", "Calls", "", {}, ""};
  Table t;
  t.head = {"sample", "mean depth", "called", "missing", "het", "hom-alt", "het/hom-alt", "Ti/Tv"};
  Json rows = Json::array(), mqc = Json::object();
  for (std::size_t i = 0; i < n; ++i) {
    const auto& p = ps[i];
    const double depth = p.dp_sites ? p.dp_sum / static_cast<double>(p.dp_sites) : std::nan("");
    const double titv = fraction(static_cast<double>(p.ti), static_cast<double>(p.tv));
    const double hh = fraction(static_cast<double>(p.het), static_cast<double>(p.hom_alt));
    t.rows.push_back({samples[i], fmt(depth, "%.2f"), std::to_string(p.called), std::to_string(p.missing), std::to_string(p.het),
                      std::to_string(p.hom_alt), fmt(hh, "%.3f"), fmt(titv, "%.3f")});
    rows.push_back({{"sample", samples[i]}, {"depth", num(depth)}, {"het", p.het}, {"hom_alt", p.hom_alt}, {"titv", num(titv)}});
    mqc[samples[i]] = {{"mean_depth", num(depth)}, {"called", p.called}, {"missing", p.missing}, {"het", p.het}, {"hom_alt", p.hom_alt},
                       {"het_hom_ratio", num(hh)}, {"titv", num(titv)}};
  }
  Table st;
  st.head = {"site type", "records"};
  Json types = Json::array(), filters = Json::array();
  for (const auto& [k, v] : by_type) {
    st.rows.push_back({k, std::to_string(v)});
    types.push_back({{"type", k}, {"records", v}});
  }
  Table ft;
  ft.head = {"FILTER", "records"};
  for (const auto& [k, v] : by_filter) {
    ft.rows.push_back({k, std::to_string(v)});
    filters.push_back({{"filter", k}, {"records", v}});
  }
  sec.html = "<p><code>" + html_escape(call->option("output")) + "</code>: " + std::to_string(sites) + " records, " + std::to_string(n) +
             " samples jointly called.</p><div class=\"row\">" + st.html() + ft.html() + "</div>" + t.html();
  sec.plots.push_back(make_plot("calls-depth", "Mean depth per sample (FORMAT/DP over the records)", per_sample_spec(rows, {{"depth", "mean depth"}}, "reads", false)));
  sec.plots.push_back(make_plot("calls-genotypes", "Heterozygous and homozygous-ALT calls per sample",
                                per_sample_spec(rows, {{"het", "het"}, {"hom_alt", "hom-alt"}}, "calls", true)));
  sec.plots.push_back(make_plot("calls-titv", "Ti/Tv of each sample's SNV calls", per_sample_spec(rows, {{"titv", "Ti/Tv"}}, "Ti/Tv", false)));
  sec.plots.push_back(make_plot("calls-types", "Records by type", bar_spec(types, "type", "type", "records", "records")));
  sec.plots.push_back(make_plot("calls-filter", "Records by FILTER", bar_spec(filters, "filter", "FILTER", "records", "records")));
  sec.multiqc = multiqc_table("calls", "calls", "per-sample statistics of the jointly called VCF/BCF (genoforest call)", mqc);
  return sec;
}

// ---- the feature store ---------------------------------------------------------------------------

std::optional<Section> store_section(const RunInfo& run) {
  const StageEntry* feat = run.stage("features");
  if (!feat || feat->option("output").empty()) return std::nullopt;
  const fs::path path = run.path(feat->option("output"));
  if (!is_file(path)) return std::nullopt;
  const features::StoreReader store(path);
  const hid_t f = store.file();
  const auto af = h5::read_vector<double>(f, "variants/af");
  const auto call_rate = h5::read_vector<double>(f, "variants/call_rate");
  const auto type = h5::read_vector<std::int8_t>(f, "variants/type");
  const auto called = h5::read_vector<std::int64_t>(f, "sample_stats/n_called");
  const auto missing = h5::read_vector<std::int64_t>(f, "sample_stats/n_missing");
  const auto het = h5::read_vector<std::int64_t>(f, "sample_stats/n_het");
  const auto hom = h5::read_vector<std::int64_t>(f, "sample_stats/n_hom_alt");
  const auto titv = h5::read_vector<double>(f, "sample_stats/titv");
  std::vector<std::string> pops;
  if (h5::exists(f, "samples/population")) pops = h5::read_strings(f, "samples/population");
  std::vector<std::string> label_of(static_cast<std::size_t>(store.n_samples()));
  {
    auto labels = h5::open_group(f, "labels");
    if (h5::read_attr_string(labels, "type") == "class") {
      const auto classes = h5::read_strings(labels, "classes");
      const auto code = h5::read_vector<std::int32_t>(labels, "code");
      for (std::size_t i = 0; i < code.size() && i < label_of.size(); ++i) {
        if (code[i] >= static_cast<std::int32_t>(classes.size())) throw InputError(path.string(), "label code " + std::to_string(code[i]) + " of sample " + std::to_string(i + 1) + " is beyond the " + std::to_string(classes.size()) + " classes");
        label_of[i] = code[i] >= 0 ? classes[static_cast<std::size_t>(code[i])] : "";
      }
    }
  }
  std::vector<double> maf, vmiss, smiss;
  for (std::size_t v = 0; v < af.size(); ++v) {
    maf.push_back(std::isfinite(af[v]) ? std::min(af[v], 1 - af[v]) : std::nan(""));
    vmiss.push_back(v < call_rate.size() ? 1 - call_rate[v] : std::nan(""));
  }
  double smax = 0, vmax = 0;
  for (std::size_t i = 0; i < called.size(); ++i) {
    smiss.push_back(fraction(static_cast<double>(missing[i]), static_cast<double>(called[i] + missing[i])));
    if (std::isfinite(smiss.back())) smax = std::max(smax, smiss.back());
  }
  for (double v : vmiss)
    if (std::isfinite(v)) vmax = std::max(vmax, v);
  long long by_type[3] = {0, 0, 0};
  for (auto t : type) ++by_type[std::clamp<int>(t, 0, 2)];
  Section sec{"store", "Feature store", "", {}, ""};
  std::string h = "<p><code>" + html_escape(feat->option("output")) + "</code>: " + std::to_string(store.n_samples()) + " samples × " +
                  std::to_string(store.n_variants()) + " variant columns (SNV " + std::to_string(by_type[0]) + ", indel " + std::to_string(by_type[1]) +
                  ", other " + std::to_string(by_type[2]) + "); filters: <code>" +
                  html_escape(h5::read_attr_string(h5::open_group(f, "provenance"), "filters")) + "</code>.</p>";
  // Per population, as `genoforest summary` prints it.
  struct Acc {
    long long n = 0;
    double het = 0, hom = 0, miss = 0, titv = 0;
    long long titv_n = 0;
    std::map<std::string, long long> labels;
  };
  std::map<std::string, Acc> by_pop;
  std::set<std::string> label_names;
  for (std::size_t i = 0; i < called.size(); ++i) {
    auto& a = by_pop[pops.empty() || pops[i].empty() ? "(all)" : pops[i]];
    ++a.n;
    if (called[i]) {
      a.het += static_cast<double>(het[i]) / static_cast<double>(called[i]);
      a.hom += static_cast<double>(hom[i]) / static_cast<double>(called[i]);
    }
    if (std::isfinite(smiss[i])) a.miss += smiss[i];
    if (std::isfinite(titv[i])) {
      a.titv += titv[i];
      ++a.titv_n;
    }
    if (!label_of[i].empty()) {
      ++a.labels[label_of[i]];
      label_names.insert(label_of[i]);
    }
  }
  Table t;
  t.head = {"population", "samples", "het rate", "hom-alt rate", "missing", "Ti/Tv"};
  for (const auto& l : label_names) t.head.push_back("label " + l);
  for (const auto& [p, a] : by_pop) {
    const double n = static_cast<double>(a.n);
    std::vector<std::string> row = {p, std::to_string(a.n), fmt(a.het / n, "%.4f"), fmt(a.hom / n, "%.4f"), fmt(a.miss / n, "%.4f"),
                                    fmt(a.titv_n ? a.titv / static_cast<double>(a.titv_n) : std::nan(""), "%.3f")};
    for (const auto& l : label_names) row.push_back(std::to_string(a.labels.count(l) ? a.labels.at(l) : 0));
    t.rows.push_back(row);
  }
  sec.html = h + t.html();
  sec.plots.push_back(make_plot("store-afs", "Allele-frequency spectrum (minor allele frequency of each column)",
                                histogram_spec(histogram(maf, 0, 0.5, 25), "minor allele frequency", "variant columns")));
  sec.plots.push_back(make_plot("store-sample-missing", "Missing calls per sample",
                                histogram_spec(histogram(smiss, 0, std::max(smax, 0.01), 25), "fraction of the sample's calls missing", "samples")));
  sec.plots.push_back(make_plot("store-variant-missing", "Missing calls per variant",
                                histogram_spec(histogram(vmiss, 0, std::max(vmax, 0.01), 25), "fraction of samples missing", "variant columns")));
  return sec;
}

// ---- population structure -------------------------------------------------------------------------

std::optional<Section> structure_section(const RunInfo& run) {
  const StageEntry* pca = run.stage("pca");
  if (!pca || pca->option("output").empty()) return std::nullopt;
  const std::string prefix = pca->option("output");
  const fs::path vec = run.path(prefix + ".eigenvec"), val = run.path(prefix + ".eigenval");
  if (!is_file(vec)) return std::nullopt;
  const auto rows = read_tsv(vec);
  if (rows.size() < 2) throw InputError(vec.string(), "no samples");
  const auto& head = rows[0];
  int pop_col = -1;
  std::vector<int> pc_cols;
  for (std::size_t c = 0; c < head.size(); ++c) {
    if (head[c] == "population") pop_col = static_cast<int>(c);
    if (head[c].rfind("PC", 0) == 0) pc_cols.push_back(static_cast<int>(c));
  }
  if (pc_cols.size() < 2) throw InputError(vec.string(), "fewer than 2 PC columns");
  // Clusters, when the run clustered these samples.
  std::map<std::string, std::string> cluster_of;
  if (const StageEntry* cl = run.stage("cluster"); cl && !cl->option("output").empty()) {
    const fs::path ct = run.path(cl->option("output") + ".clusters.tsv");
    if (is_file(ct)) {
      const auto c = read_tsv(ct);
      for (std::size_t i = 1; i < c.size(); ++i)
        if (c[i].size() >= 2) cluster_of[c[i][0]] = c[i][1];
    }
  }
  Json data = Json::array();
  for (std::size_t i = 1; i < rows.size(); ++i) {
    const auto& r = rows[i];
    Json d;
    d["sample"] = r.at(0);
    d["population"] = pop_col >= 0 && static_cast<std::size_t>(pop_col) < r.size() && !r[static_cast<std::size_t>(pop_col)].empty()
                          ? r[static_cast<std::size_t>(pop_col)]
                          : "(unknown)";
    if (!cluster_of.empty()) d["cluster"] = cluster_of.count(r[0]) ? cluster_of[r[0]] : "(none)";
    for (std::size_t k = 0; k < pc_cols.size() && k < 4; ++k) {
      const auto c = static_cast<std::size_t>(pc_cols[k]);
      d["PC" + std::to_string(k + 1)] = num(c < r.size() ? parse_double(r[c]).value_or(std::nan("")) : std::nan(""));
    }
    data.push_back(d);
  }
  Section sec{"structure", "Population structure", "", {}, ""};
  sec.html = "<p>PCA of <code>" + html_escape(pca->option("input")) + "</code>: " + std::to_string(rows.size() - 1) + " samples, " +
             std::to_string(pc_cols.size()) + " PCs" + (cluster_of.empty() ? "" : "; clusters from <code>cluster</code>") + ".</p>";
  auto scatter = [&](int a, int b, const std::string& by) {
    Json s = base_spec(360);
    s["width"] = 420;
    s["data"]["values"] = data;
    s["mark"] = {{"type", "point"}, {"filled", true}, {"size", 30}, {"opacity", 0.75}};
    s["encoding"]["x"] = {{"field", "PC" + std::to_string(a)}, {"type", "quantitative"}};
    s["encoding"]["y"] = {{"field", "PC" + std::to_string(b)}, {"type", "quantitative"}};
    s["encoding"]["color"] = {{"field", by}, {"type", "nominal"}};
    s["encoding"]["tooltip"] = Json::array({{{"field", "sample"}}, {{"field", "population"}}});
    if (!cluster_of.empty()) s["encoding"]["tooltip"].push_back({{"field", "cluster"}});
    return s;
  };
  for (int p = 1; p + 1 <= static_cast<int>(std::min<std::size_t>(pc_cols.size(), 4)); p += 2) {
    const std::string ab = "pc" + std::to_string(p) + "-pc" + std::to_string(p + 1);
    sec.plots.push_back(make_plot("pca-" + ab + "-population", "PC" + std::to_string(p) + " / PC" + std::to_string(p + 1) + " by population", scatter(p, p + 1, "population")));
    if (!cluster_of.empty())
      sec.plots.push_back(make_plot("pca-" + ab + "-cluster", "PC" + std::to_string(p) + " / PC" + std::to_string(p + 1) + " by cluster", scatter(p, p + 1, "cluster")));
  }
  if (is_file(val)) {
    Json ev = Json::array();
    int k = 0;
    for (const auto& r : read_tsv(val)) {
      const auto v = parse_double(r.at(0));
      if (!v) throw InputError(val.string(), "not a number: " + r.at(0));
      ev.push_back({{"PC", ++k}, {"eigenvalue", *v}});
    }
    Json s = base_spec(220);
    s["data"]["values"] = ev;
    s["layer"] = Json::array({{{"mark", {{"type", "bar"}, {"tooltip", true}}}}, {{"mark", {{"type", "line"}, {"point", true}, {"color", "#333"}}}}});
    s["encoding"]["x"] = {{"field", "PC"}, {"type", "ordinal"}};
    s["encoding"]["y"] = {{"field", "eigenvalue"}, {"type", "quantitative"}};
    sec.plots.push_back(make_plot("pca-scree", "Scree plot (eigenvalues)", s));
  }
  return sec;
}

// ---- the model ----------------------------------------------------------------------------------------

namespace {

/// ROC points (fpr, tpr) of scores against 0/1 truths, thresholds from high to low, ties together.
std::vector<std::pair<double, double>> roc_points(std::vector<std::pair<double, int>> s) {
  std::sort(s.begin(), s.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  double pos = 0, neg = 0;
  for (const auto& [x, y] : s) (y ? pos : neg) += 1;
  std::vector<std::pair<double, double>> pts = {{0, 0}};
  double tp = 0, fp = 0;
  for (std::size_t i = 0; i < s.size();) {
    std::size_t j = i;
    for (; j < s.size() && s[j].first == s[i].first; ++j) (s[j].second ? tp : fp) += 1;
    pts.emplace_back(neg > 0 ? fp / neg : 0, pos > 0 ? tp / pos : 0);
    i = j;
  }
  return pts;
}

double auc_of(const std::vector<std::pair<double, double>>& pts) {
  double a = 0;
  for (std::size_t i = 1; i < pts.size(); ++i) a += (pts[i].first - pts[i - 1].first) * (pts[i].second + pts[i - 1].second) / 2;
  return a;
}

/// TPR at `fpr` on a ROC curve (the highest TPR reached at that FPR, as scikit-learn's interp).
double tpr_at(const std::vector<std::pair<double, double>>& pts, double fpr) {
  for (std::size_t i = 1; i < pts.size(); ++i) {
    if (pts[i].first >= fpr) {
      const auto& [x0, y0] = pts[i - 1];
      const auto& [x1, y1] = pts[i];
      return x1 > x0 ? y0 + (y1 - y0) * (fpr - x0) / (x1 - x0) : y1;
    }
  }
  return 1;
}

}  // namespace

std::optional<Section> model_section(const RunInfo& run) {
  const StageEntry* cv = run.stage("cv");
  const StageEntry* train = run.stage("train");
  const fs::path cv_json = cv && !cv->option("output").empty() ? run.path(cv->option("output")) : fs::path();
  const fs::path preds = cv && !cv->option("predictions").empty() ? run.path(cv->option("predictions")) : fs::path();
  const fs::path imp = train && !train->option("output").empty() ? run.path(train->option("output") + ".importance.tsv") : fs::path();
  const bool has_cv = !cv_json.empty() && is_file(cv_json), has_imp = !imp.empty() && is_file(imp);
  if (!has_cv && !has_imp) return std::nullopt;
  Section sec{"model", "Model", "", {}, ""};
  std::string h;
  if (has_cv) from_file(cv_json, [&] {
    const Json j = read_json(cv_json);
    const std::string task = j.value("task", "");
    h += "<p>Cross-validation (<code>" + html_escape(cv->option("output")) + "</code>): " + html_escape(task) + ", " +
         std::to_string(j.value("folds", 0)) + " folds × " + std::to_string(j.value("repeats", 1)) + " repeat(s), " +
         std::to_string(j.value("samples", 0)) + " samples, " + std::to_string(j.value("features", 0)) + " features.</p>";
    // Per-fold metrics: every scalar field of the per-fold entries, in their order.
    Table t;
    std::vector<std::string> keys;
    if (j.contains("per_fold") && !j["per_fold"].empty()) {
      for (const auto& [k, v] : j["per_fold"][0].items())
        if (v.is_number()) keys.push_back(k);
      t.head = keys;
      for (const auto& fold : j["per_fold"]) {
        std::vector<std::string> row;
        for (const auto& k : keys) row.push_back(fold.contains(k) && fold[k].is_number() ? fmt(fold[k].get<double>(), "%.4g") : "n/a");
        t.rows.push_back(row);
      }
      if (j.contains("summary")) {
        std::vector<std::string> row;
        for (const auto& k : keys) {
          std::string name = k.rfind("macro_", 0) == 0 ? k.substr(6) : k;
          if (k == "repeat") row.push_back("mean ± sd");
          else if (j["summary"].contains(name)) row.push_back(fmt(get_num(j["summary"][name], "mean"), "%.4f") + " ± " + fmt(get_num(j["summary"][name], "sd"), "%.4f"));
          else row.push_back("");
        }
        t.rows.push_back(row);
      }
    }
    h += t.html();
    // Confusion matrix over all folds.
    if (j.contains("confusion") && j.contains("classes")) {
      const auto& classes = j["classes"];
      Json cells = Json::array();
      for (std::size_t a = 0; a < j["confusion"].size(); ++a)
        for (std::size_t b = 0; b < j["confusion"][a].size(); ++b)
          cells.push_back({{"truth", classes.at(a).get<std::string>()}, {"predicted", classes.at(b).get<std::string>()}, {"samples", j["confusion"][a][b]}});
      const int side = std::clamp(60 * static_cast<int>(classes.size()), 160, 480);
      Json s;
      s["$schema"] = kSchema;
      s["width"] = side;
      s["height"] = side;
      s["data"]["values"] = cells;
      s["encoding"]["x"] = {{"field", "predicted"}, {"type", "nominal"}, {"sort", nullptr}};
      s["encoding"]["y"] = {{"field", "truth"}, {"type", "nominal"}, {"sort", nullptr}};
      s["layer"] = Json::array({{{"mark", {{"type", "rect"}, {"tooltip", true}}}, {"encoding", {{"color", {{"field", "samples"}, {"type", "quantitative"}, {"scale", {{"scheme", "blues"}}}}}}}},
                                {{"mark", {{"type", "text"}, {"fontSize", 14}}}, {"encoding", {{"text", {{"field", "samples"}, {"type", "quantitative"}}}}}}});
      sec.plots.push_back(make_plot("model-confusion", "Confusion matrix over all folds (rows: true class)", s));
    }
    // ROC curves (classification) or predicted against observed (quantitative), from the
    // out-of-fold predictions.
    if (!preds.empty() && is_file(preds)) {
      const auto rows = read_tsv(preds);
      if (rows.empty()) throw InputError(preds.string(), "empty predictions table");
      const auto& ph = rows[0];
      std::vector<std::string> prob;
      for (std::size_t c = 5; c < ph.size(); ++c)
        if (ph[c].rfind("prob_", 0) == 0) prob.push_back(ph[c].substr(5));
      auto number = [&](std::size_t r, std::size_t c) {
        const auto v = c < rows[r].size() ? parse_double(rows[r][c]) : std::nullopt;
        if (!v) throw InputError(preds.string() + " line " + std::to_string(r + 1), "column " + std::to_string(c + 1) + " is not a number");
        return *v;
      };
      if (!prob.empty()) {
        Json curves = Json::array();
        // Binary: the second class is the positive one (scikit-learn's), one curve per fold of
        // the first repeat and their mean over a common FPR grid. More classes: one-vs-rest per
        // class, all folds of the first repeat pooled.
        std::map<std::string, std::vector<std::pair<double, int>>> groups;
        for (std::size_t r = 1; r < rows.size(); ++r) {
          if (rows[r].size() < 5 + prob.size() || rows[r][1] != "1") continue;
          if (prob.size() == 2) {
            groups["fold " + rows[r][2]].emplace_back(number(r, 6), rows[r][3] == prob[1] ? 1 : 0);
          } else {
            for (std::size_t c = 0; c < prob.size(); ++c) groups["class " + prob[c]].emplace_back(number(r, 5 + c), rows[r][3] == prob[c] ? 1 : 0);
          }
        }
        std::vector<double> grid;
        for (int g = 0; g <= 100; ++g) grid.push_back(g / 100.0);
        std::vector<double> mean_tpr(grid.size(), 0);
        std::vector<std::pair<std::string, int>> names;  // curves in natural order (fold 2 before fold 10)
        for (const auto& [name, v] : groups) names.emplace_back(name, static_cast<int>(parse_int(name.substr(name.find(' ') + 1)).value_or(0)));
        std::stable_sort(names.begin(), names.end(), [](const auto& a, const auto& b) { return a.second != b.second ? a.second < b.second : a.first < b.first; });
        for (const auto& [name, unused] : names) {
          const auto pts = roc_points(groups[name]);
          const double a = auc_of(pts);
          const std::string label = name + " (AUC " + fmt(a, "%.3f") + ")";
          const std::size_t step = pts.size() > kMaxRocPoints ? (pts.size() + kMaxRocPoints - 1) / kMaxRocPoints : 1;
          for (std::size_t i = 0; i < pts.size(); ++i)
            if (i % step == 0 || i + 1 == pts.size()) curves.push_back({{"curve", label}, {"fpr", pts[i].first}, {"tpr", pts[i].second}, {"order", i}});
          for (std::size_t g = 0; g < grid.size(); ++g) mean_tpr[g] += tpr_at(pts, grid[g]);
        }
        if (prob.size() == 2 && names.size() > 1) {
          std::vector<std::pair<double, double>> mean;
          for (std::size_t g = 0; g < grid.size(); ++g) mean.emplace_back(grid[g], g == 0 ? 0.0 : mean_tpr[g] / static_cast<double>(names.size()));
          const std::string label = "mean (AUC " + fmt(auc_of(mean), "%.3f") + ")";
          for (std::size_t g = 0; g < mean.size(); ++g) curves.push_back({{"curve", label}, {"fpr", mean[g].first}, {"tpr", mean[g].second}, {"order", g}});
        }
        Json s = base_spec(420);
        s["width"] = 480;
        s["layer"] = Json::array();
        Json diag;
        diag["data"]["values"] = Json::array({{{"fpr", 0}, {"tpr", 0}}, {{"fpr", 1}, {"tpr", 1}}});
        diag["mark"] = {{"type", "line"}, {"strokeDash", {4, 4}}, {"color", "#999"}};
        diag["encoding"]["x"] = {{"field", "fpr"}, {"type", "quantitative"}};
        diag["encoding"]["y"] = {{"field", "tpr"}, {"type", "quantitative"}};
        Json lines;
        lines["data"]["values"] = curves;
        lines["mark"] = {{"type", "line"}, {"interpolate", "linear"}};
        lines["encoding"]["x"] = {{"field", "fpr"}, {"type", "quantitative"}, {"title", "false positive rate"}};
        lines["encoding"]["y"] = {{"field", "tpr"}, {"type", "quantitative"}, {"title", "true positive rate"}};
        lines["encoding"]["order"] = {{"field", "order"}, {"type", "quantitative"}};
        lines["encoding"]["color"] = {{"field", "curve"}, {"type", "nominal"}, {"sort", nullptr}, {"title", nullptr}};
        lines["encoding"]["strokeWidth"] = {{"condition", {{"test", "indexof(datum.curve, 'mean') == 0"}, {"value", 3.5}}}, {"value", 1.5}};
        s["layer"].push_back(diag);
        s["layer"].push_back(lines);
        sec.plots.push_back(make_plot("model-roc", prob.size() == 2 ? "ROC curves per fold (positive class " + prob[1] + ") and their mean" : "ROC curves, one class against the rest (all folds)", s));
      } else {
        Json pts = Json::array();
        for (std::size_t r = 1; r < rows.size(); ++r) {
          if (rows[r].size() < 5 || rows[r][1] != "1") continue;
          pts.push_back({{"sample", rows[r][0]}, {"observed", number(r, 3)}, {"predicted", number(r, 4)}, {"fold", rows[r][2]}});
        }
        Json s = base_spec(400);
        s["width"] = 440;
        s["data"]["values"] = pts;
        s["mark"] = {{"type", "point"}, {"filled", true}, {"opacity", 0.7}, {"tooltip", true}};
        s["encoding"]["x"] = {{"field", "observed"}, {"type", "quantitative"}, {"scale", {{"zero", false}}}};
        s["encoding"]["y"] = {{"field", "predicted"}, {"type", "quantitative"}, {"scale", {{"zero", false}}}};
        s["encoding"]["color"] = {{"field", "fold"}, {"type", "nominal"}};
        sec.plots.push_back(make_plot("model-regression", "Out-of-fold predictions against the observed values", s));
      }
    } else {
      h += "<p class=\"note\">ROC curves need the out-of-fold predictions: give the cv section <code>predictions = FILE</code>.</p>";
    }
  });
  if (has_imp) {
    const auto rows = read_tsv(imp);
    if (rows.empty()) throw InputError(imp.string(), "empty importance table");
    const auto& ih = rows[0];
    auto col = [&](const std::string& name) {
      for (std::size_t c = 0; c < ih.size(); ++c)
        if (ih[c] == name) return static_cast<int>(c);
      return -1;
    };
    const int ci = col("importance") >= 0 ? col("importance") : col("impurity_importance");
    if (ci < 0 || col("chrom") < 0 || col("pos") < 0) throw InputError(imp.string(), "no chrom, pos and importance columns");
    struct Var {
      std::string chrom, id, ref, alt;
      std::int64_t pos = 0;
      double importance = 0;
      bool genomic = true;
    };
    std::vector<Var> vars;
    for (std::size_t r = 1; r < rows.size(); ++r) {
      const auto& row = rows[r];
      auto at = [&](int c) { return c >= 0 && static_cast<std::size_t>(c) < row.size() ? row[static_cast<std::size_t>(c)] : std::string(); };
      Var v;
      v.chrom = at(col("chrom"));
      v.id = at(col("id"));
      v.ref = at(col("ref"));
      v.alt = at(col("alt"));
      const auto p = parse_int(at(col("pos")));
      v.genomic = p.has_value();
      v.pos = p.value_or(0);
      v.importance = parse_double(at(ci)).value_or(std::nan(""));
      vars.push_back(v);
    }
    // The most important first (the file's order already), for the table and the thinning.
    std::stable_sort(vars.begin(), vars.end(), [](const Var& a, const Var& b) {
      const double x = std::isfinite(a.importance) ? a.importance : -INFINITY, y = std::isfinite(b.importance) ? b.importance : -INFINITY;
      return x > y;
    });
    auto name_of = [](const Var& v) { return v.genomic ? v.chrom + ":" + std::to_string(v.pos) + (v.id.empty() || v.id == "." ? "" : " " + v.id) : v.chrom + "/" + v.id; };
    Table t;
    t.head = {"rank", "variant", "ref", "alt", ih[static_cast<std::size_t>(ci)]};
    for (std::size_t i = 0; i < vars.size() && i < 20; ++i)
      t.rows.push_back({std::to_string(i + 1), name_of(vars[i]), vars[i].ref, vars[i].alt, fmt(vars[i].importance, "%.4g")});
    t.caption = "Top variants (" + imp.filename().string() + ")";
    h += t.html();
    // Manhattan plot: contigs end to end in natural order, alternating colours, top 10 labelled.
    std::map<std::string, std::int64_t, decltype(&contig_less)> length(&contig_less);
    std::size_t kept = 0;
    for (const auto& v : vars) {
      if (!v.genomic || !std::isfinite(v.importance)) continue;
      if (++kept > kMaxManhattanPoints) break;
      auto& l = length[v.chrom];
      l = std::max(l, v.pos);
    }
    std::map<std::string, std::pair<std::int64_t, int>> offset;  // contig -> (offset, index)
    std::int64_t total = 0;
    int index = 0;
    std::string label_expr = "''";
    std::vector<std::pair<double, std::string>> ticks;
    for (const auto& [c, l] : length) {
      offset[c] = {total, index++};
      ticks.emplace_back(static_cast<double>(total) + static_cast<double>(l) / 2, c);
      total += l + std::max<std::int64_t>(1, l / 50);
    }
    Json tick_values = Json::array();
    for (auto it = ticks.rbegin(); it != ticks.rend(); ++it) label_expr = "datum.value == " + Json(it->first).dump() + " ? " + Json(it->second).dump() + " : " + label_expr;
    for (const auto& t2 : ticks) tick_values.push_back(t2.first);
    Json pts = Json::array();
    kept = 0;
    int labelled = 0;
    for (const auto& v : vars) {
      if (!v.genomic || !std::isfinite(v.importance)) continue;
      if (++kept > kMaxManhattanPoints) break;
      const auto& [off, ix] = offset.at(v.chrom);
      pts.push_back({{"variant", name_of(v)}, {"x", off + v.pos}, {"importance", v.importance}, {"parity", ix % 2 ? "odd" : "even"},
                     {"label", labelled < 10 ? name_of(v) : ""}});
      ++labelled;
    }
    if (!pts.empty()) {
      Json s = base_spec(320);
      s["data"]["values"] = pts;
      Json points;
      points["mark"] = {{"type", "point"}, {"filled", true}, {"size", 22}, {"tooltip", true}};
      points["encoding"]["x"] = {{"field", "x"}, {"type", "quantitative"}, {"title", "position"}, {"scale", {{"domain", {0, total}}, {"nice", false}}},
                                 {"axis", {{"values", tick_values}, {"labelExpr", label_expr}, {"grid", false}}}};
      points["encoding"]["y"] = {{"field", "importance"}, {"type", "quantitative"}, {"title", ih[static_cast<std::size_t>(ci)]}};
      points["encoding"]["color"] = {{"field", "parity"}, {"type", "nominal"}, {"legend", nullptr}, {"scale", {{"domain", {"even", "odd"}}, {"range", {"#1f4e79", "#7fa7d9"}}}}};
      points["encoding"]["tooltip"] = Json::array({{{"field", "variant"}}, {{"field", "importance"}, {"format", ".4~g"}}});
      Json labels;
      labels["transform"] = Json::array({{{"filter", "datum.label != ''"}}});
      labels["mark"] = {{"type", "text"}, {"align", "left"}, {"dx", 4}, {"dy", -4}, {"fontSize", 10}, {"angle", 0}};
      labels["encoding"]["x"] = {{"field", "x"}, {"type", "quantitative"}};
      labels["encoding"]["y"] = {{"field", "importance"}, {"type", "quantitative"}};
      labels["encoding"]["text"] = {{"field", "label"}};
      s["layer"] = Json::array({points, labels});
      std::string title = "Importance along the genome (the 10 most important labelled)";
      if (kept > kMaxManhattanPoints) title += "; the " + std::to_string(kMaxManhattanPoints) + " most important of " + std::to_string(vars.size()) + " shown";
      sec.plots.push_back(make_plot("model-manhattan", title, s));
    }
  }
  sec.html = h;
  return sec;
}

std::vector<Section> all_sections(const RunInfo& run) {
  std::vector<Section> out;
  for (auto* fn : {run_section, reads_section, calls_section, store_section, structure_section, model_section}) {
    if (auto s = fn(run)) out.push_back(std::move(*s));
  }
  return out;
}

// ---- the page -------------------------------------------------------------------------------------------

namespace {

/// JSON inside <script>: every '<', '>' and '&' written as a JSON escape, so that no text of the
/// data ("</script>", "<!--" in a sample ID) can end the element or start markup.
std::string script_safe(const std::string& json) {
  std::string out;
  out.reserve(json.size());
  for (char c : json) {
    if (c == '<') out += "\\u003c";
    else if (c == '>') out += "\\u003e";
    else if (c == '&') out += "\\u0026";
    else out += c;
  }
  return out;
}

constexpr const char* kStyle = R"CSS(
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; color: #1b1f23; background: #fafbfc; }
header { background: #1f4e79; color: #fff; padding: 14px 28px; }
header h1 { margin: 0; font-size: 22px; }
header p { margin: 4px 0 0; opacity: 0.85; font-size: 13px; }
nav { position: sticky; top: 0; background: #fff; border-bottom: 1px solid #e1e4e8; padding: 8px 28px; z-index: 2; }
nav a { margin-right: 18px; color: #1f4e79; text-decoration: none; font-weight: 600; font-size: 14px; }
main { padding: 8px 28px 40px; max-width: 1200px; }
section { background: #fff; border: 1px solid #e1e4e8; border-radius: 6px; padding: 6px 20px 16px; margin: 18px 0; }
h2 { color: #1f4e79; border-bottom: 1px solid #e1e4e8; padding-bottom: 6px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
.table { max-height: 420px; overflow: auto; margin: 10px 0; display: inline-block; max-width: 100%; vertical-align: top; margin-right: 16px; }
table { border-collapse: collapse; font-size: 13px; }
caption { text-align: left; font-weight: 600; padding: 4px 0; }
th, td { padding: 3px 10px; border-bottom: 1px solid #eaecef; text-align: left; white-space: nowrap; }
th { background: #f6f8fa; position: sticky; top: 0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
pre.cmd { background: #f6f8fa; padding: 8px; overflow-x: auto; font-size: 12px; }
.figure { display: inline-block; vertical-align: top; margin-right: 24px; }
.plot { margin: 4px 0 14px; min-height: 40px; }
.note { color: #6a737d; font-size: 13px; }
.row { display: flex; flex-wrap: wrap; }
.gf-error { color: #b31d28; }
footer { color: #6a737d; font-size: 12px; padding: 0 28px 24px; }
)CSS";

/// Renders every plot from its JSON; counts the marks drawn into data-marks on the plot's element,
/// and on <body> the plots rendered (data-rendered) and the errors met (data-errors), for the
/// tests and for anyone who wonders why a plot is blank.
constexpr const char* kBoot = R"JS(
(function () {
  var errors = [];
  window.addEventListener('error', function (e) { errors.push(String(e.message)); });
  var plots = document.querySelectorAll('[data-plot]');
  var jobs = [];
  plots.forEach(function (el) {
    var id = el.getAttribute('data-plot');
    try {
      var spec = JSON.parse(document.getElementById('spec-' + id).textContent);
      var compiled = vegaLite.compile(spec).spec;
      var view = new vega.View(vega.parse(compiled), { renderer: 'svg', container: el, hover: true });
      jobs.push(view.runAsync().then(function () {
        el.setAttribute('data-marks', String(el.querySelectorAll('g.role-mark > path, g.role-mark > text, g.role-mark > line, g.role-mark > rect').length));
      }, function (e) { errors.push(id + ': ' + e); el.innerHTML = '<p class="gf-error">' + id + ': ' + e + '</p>'; }));
    } catch (e) {
      errors.push(id + ': ' + e);
      el.innerHTML = '<p class="gf-error">this plot could not be drawn: ' + String(e).replace(/</g, '&lt;') + '</p>';
    }
  });
  Promise.all(jobs).then(function () {
    document.body.setAttribute('data-rendered', String(jobs.length));
    document.body.setAttribute('data-errors', String(errors.length));
    if (errors.length) console.error('genoforest report: ' + errors.join('; '));
  });
})();
)JS";

/// The run folder as an absolute path without a trailing '/' ("." and "run/" name it as "run" does).
std::string folder_name(const fs::path& dir) {
  fs::path p = fs::absolute(dir).lexically_normal();
  if (p.filename().empty() && p.has_parent_path()) p = p.parent_path();
  return p.string();
}

}  // namespace

std::string render_html(const RunInfo& run, const std::vector<Section>& sections) {
  std::string title = "genoforest report: " + fs::path(run.config).filename().string();
  std::string page = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>" +
                     html_escape(title) + "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n<header><h1>" + html_escape(title) + "</h1><p>genoforest " +
                     html_escape(run.version) + " · " + std::to_string(run.ranks) + " rank(s) · run folder " + html_escape(folder_name(run.dir)) + "</p></header>\n<nav>";
  for (const auto& s : sections) page += "<a href=\"#" + html_escape(s.id) + "\">" + html_escape(s.title) + "</a>";
  page += "</nav>\n<main>\n";
  for (const auto& s : sections) {
    page += "<section id=\"" + html_escape(s.id) + "\">\n<h2>" + html_escape(s.title) + "</h2>\n" + s.html + "\n";
    for (const auto& p : s.plots) {
      page += "<div class=\"figure\"><h3>" + html_escape(p.title) + "</h3>\n<div class=\"plot\" id=\"plot-" + html_escape(p.id) + "\" data-plot=\"" + html_escape(p.id) + "\"></div>\n";
      page += "<script type=\"application/json\" id=\"spec-" + html_escape(p.id) + "\">" + script_safe(p.spec) + "</script></div>\n";
    }
    page += "</section>\n";
  }
  page += "</main>\n<footer>Plots drawn with Vega " + std::string(assets::vega_version()) + " and Vega-Lite " + std::string(assets::vega_lite_version()) +
          " (BSD-3-Clause, University of Washington Interactive Data Lab), inlined: this file needs no network.</footer>\n";
  page += "<!--\nVega:\n" + html_escape(assets::vega_license()) + "\nVega-Lite:\n" + html_escape(assets::vega_lite_license()) + "\n-->\n";
  page += "<script>" + std::string(assets::vega_js()) + "</script>\n<script>" + std::string(assets::vega_lite_js()) + "</script>\n<script>" + kBoot + "</script>\n</body>\n</html>\n";
  return page;
}

}  // namespace genoforest::report
