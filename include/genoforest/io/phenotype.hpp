#pragma once
/// @file phenotype.hpp
/// The phenotype table: one row per sample with its label and, optionally, its population.
///
/// Format: a header line naming the columns, then one line per sample; tab-separated (or
/// comma-separated when the header has no tab). Required columns `sample_id` and `label`; optional
/// `population`; other columns are ignored. A label of "", "NA", "na", "." or "-9" is missing.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace genoforest::io {

/// How labels are interpreted.
enum class LabelType {
  kAuto,          ///< integers or non-numeric strings → classes; other numbers → quantitative
  kClass,         ///< every distinct label is a class
  kQuantitative,  ///< every label must parse as a number
};

/// One row of the table, as read.
struct PhenotypeRow {
  std::string sample_id;
  std::string label;       ///< empty when missing
  std::string population;  ///< empty when absent
};

/// The parsed table.
struct PhenotypeTable {
  std::filesystem::path path;
  std::vector<PhenotypeRow> rows;  ///< file order
  bool has_population = false;
};

/// Reads the table. Throws InputError with the line number for a missing required column, a
/// line with fewer fields than the header, an empty sample ID or a duplicate sample ID
/// (naming both lines); IoError if unreadable.
[[nodiscard]] PhenotypeTable read_phenotypes(const std::filesystem::path& path);

/// Labels aligned to a list of samples (the VCF's), encoded.
struct EncodedLabels {
  bool quantitative = false;
  std::vector<std::string> classes;  ///< class names; code i means classes[i] (classification)
  std::vector<int> code;             ///< per sample: class code, -1 when missing (classification)
  std::vector<double> value;         ///< per sample: value, NaN when missing (quantitative)
  std::vector<std::string> population;  ///< per sample; empty when unknown
  std::vector<std::string> populations;  ///< distinct populations, sorted
  std::size_t samples_without_phenotype = 0;  ///< samples absent from the table
  std::size_t missing_labels = 0;             ///< samples whose label is missing (incl. absent)
};

/// Aligns `table` to `samples` and encodes the labels. Class order: numeric order when every
/// label is an integer, else lexicographic. Throws InconsistentInputError when samples of the
/// table are absent from `samples` (counting them and naming the first few), InputError when
/// `type` is quantitative and a label is not a number (with its line).
[[nodiscard]] EncodedLabels encode_labels(const PhenotypeTable& table, const std::vector<std::string>& samples,
                                          LabelType type, const std::string& samples_source);

/// Parses "auto", "class", "quantitative"; throws UsageError otherwise.
[[nodiscard]] LabelType parse_label_type(const std::string& s);

}  // namespace genoforest::io
