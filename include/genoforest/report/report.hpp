#pragma once
/// @file report.hpp
/// `genoforest report`: one self-contained HTML file describing a run folder (docs/report.md).
///
/// The report is built from what the run left on disk, never from the run's memory: the run report
/// (genoforest-run.json, written by `genoforest run`) names the stages and their options, and the
/// options name the files each stage wrote. A section whose files are absent (a run without align
/// or call, a cv without --predictions) is left out, or keeps only what its files allow.
///
/// Plots are Vega-Lite specifications with their data inlined; the HTML carries Vega and Vega-Lite
/// (fetched from npm by scripts/fetch-js.sh, embedded in the binary at build time), so the file
/// opens offline, with no network and no other file. Everything here is serial and deterministic:
/// the same run folder gives the same bytes.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace genoforest::report {

/// A plot: a Vega-Lite (v5) specification, data inlined, rendered as SVG in the page.
struct Plot {
  std::string id;     ///< unique in the report ("reads-counts"): the element id and the tests' handle
  std::string title;  ///< caption shown above the plot
  std::string spec;   ///< the specification, as JSON text
};

/// One section of the report: HTML (tables and notes, escaped) and its plots.
struct Section {
  std::string id;     ///< anchor ("reads")
  std::string title;  ///< heading ("Reads: QC and alignment")
  std::string html;   ///< tables and notes, placed before the plots
  std::vector<Plot> plots;
  /// MultiQC custom content for the section's per-sample table (a `*_mqc.json` file: id, section
  /// name, plot type "table", data per sample), so MultiQC users can fold it in; empty when none.
  std::string multiqc;
};

/// One stage of the run, as genoforest-run.json records it.
struct StageEntry {
  std::string name, status;  ///< status: "ran", "up to date", "failed", "interrupted"
  double wall_s = 0;
  long long tasks_run = 0, tasks_resumed = 0;
  std::vector<double> peak_rss;                                ///< bytes, per rank (empty when skipped)
  std::vector<std::pair<std::string, std::string>> options;   ///< the section's key = value lines, in order
  /// The value of option `key` (the last one given), or "" when absent.
  [[nodiscard]] std::string option(const std::string& key) const;
  /// Every value of option `key` (repeatable options such as `bam`).
  [[nodiscard]] std::vector<std::string> options_of(const std::string& key) const;
};

/// A run folder as its run report describes it; paths are relative to `dir`.
struct RunInfo {
  std::filesystem::path dir;      ///< the run folder
  std::string version, config, command_line, status;
  int ranks = 0;
  double wall_s = 0;
  std::vector<StageEntry> stages;  ///< in pipeline order
  /// The stage named `name`, or nullptr when the run has none.
  [[nodiscard]] const StageEntry* stage(const std::string& name) const;
  /// `p` resolved against the run folder (absolute paths are kept).
  [[nodiscard]] std::filesystem::path path(const std::string& p) const;
};

/// Reads `dir`/genoforest-run.json. Throws InputError naming the file when it is absent ("not a
/// run folder of genoforest run") or malformed.
[[nodiscard]] RunInfo read_run(const std::filesystem::path& dir);

/// The sections; each returns nullopt when the run did not produce what it shows. They throw
/// InputError naming the file when a file the run wrote is unreadable or malformed.
[[nodiscard]] std::optional<Section> run_section(const RunInfo& run);
/// align: per-sample QC and alignment from OUTPUT-DIR/SAMPLE.qc.json.
[[nodiscard]] std::optional<Section> reads_section(const RunInfo& run);
/// call: per-sample depth, het/hom-alt counts and Ti/Tv; sites by type and FILTER (from the VCF/BCF).
[[nodiscard]] std::optional<Section> calls_section(const RunInfo& run);
/// features: allele-frequency spectrum, missingness per sample and per variant, per population.
[[nodiscard]] std::optional<Section> store_section(const RunInfo& run);
/// pca and cluster: PC scatters coloured by population and by cluster, scree plot.
[[nodiscard]] std::optional<Section> structure_section(const RunInfo& run);
/// cv and train: per-fold metrics, ROC curves (cv --predictions), confusion heatmap, importance
/// Manhattan plot and top variants; a quantitative label: predicted against observed.
[[nodiscard]] std::optional<Section> model_section(const RunInfo& run);

/// Every section the run produced, in report order.
[[nodiscard]] std::vector<Section> all_sections(const RunInfo& run);

/// The HTML page: sections, plots, Vega and Vega-Lite inlined, and a script that renders every plot
/// and records on <body> how many plots rendered (data-rendered) and the errors met (data-errors).
[[nodiscard]] std::string render_html(const RunInfo& run, const std::vector<Section>& sections);

/// Escapes & < > " ' for HTML text and attribute values.
[[nodiscard]] std::string html_escape(std::string_view s);

}  // namespace genoforest::report
